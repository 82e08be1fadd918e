//! Users and groups in a manifest become /etc/passwd, /etc/group and a
//! shadow file only root can read, which the password server's database
//! reads; mistakes name the line and the key.

use std::path::{Path, PathBuf};

use distro_image::{Manifest, PathsOnly, root_fs};
use hurd_auth::password::{Cost, Database, hash_password, verify_password};

/// A manifest with two groups and three users, `{HASH}` standing for
/// carol's password hash.
const MANIFEST: &str = r#"
[image]
name = "accounts"

[kernel]
path = "kernel.elf"

[[module]]
name = "init"
source = "init.elf"

[[group]]
name = "users"
gid = 100

[[group]]
name = "wheel"
gid = 10

[[user]]
name = "root"
uid = 0
groups = ["wheel"]
password = "{HASH}"

[[user]]
name = "carol"
uid = 1002
groups = ["users", "wheel"]
shell = "/bin/upcase"
password = "{HASH}"

[[user]]
name = "dave"
uid = 1003
groups = ["users"]
home = "/srv/dave"

[[file]]
path = "/home/carol/note"
text = "hello\n"
owner = 1002
"#;

fn manifest(hash: &str) -> String {
    MANIFEST.replace("{HASH}", hash)
}

fn hash(password: &str) -> String {
    hash_password(password.as_bytes(), b"saltsalt", Cost::TEST).expect("hash")
}

fn base() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

fn text(fs: &distro_image::RootFs, path: &str) -> (String, u32, u32) {
    let node = fs.get(path).unwrap_or_else(|| panic!("no {path}"));
    match &node.contents {
        distro_image::rootfs::NodeContents::File(d) => (
            String::from_utf8(d.clone()).expect("text"),
            node.mode,
            node.uid,
        ),
        other => panic!("{path}: {other:?}"),
    }
}

#[test]
fn accounts_become_the_password_servers_files() {
    let m = Manifest::parse(&manifest(&hash("sesame"))).expect("manifest");
    let fs = root_fs(&m, &base(), &mut PathsOnly { base: base() }).expect("tree");
    let (passwd, pmode, _) = text(&fs, "/etc/passwd");
    let (group, gmode, _) = text(&fs, "/etc/group");
    let (shadow, smode, suid) = text(&fs, "/etc/shadow");
    assert_eq!(
        passwd,
        "root:x:0:10::/root:/bin/sh\n\
         carol:x:1002:100::/home/carol:/bin/upcase\n\
         dave:x:1003:100::/srv/dave:/bin/sh\n"
    );
    assert_eq!(group, "users:x:100:\nwheel:x:10:carol\n");
    assert_eq!((pmode, gmode, smode, suid), (0o644, 0o644, 0o600, 0));
    assert!(!passwd.contains("argon2") && !group.contains("argon2"));
    // The password server's database reads them; carol's password works.
    let db = Database::parse(&passwd, &shadow, &group).expect("database");
    let carol = db.user_by_name("carol").expect("carol");
    assert_eq!((carol.uid, carol.gid), (1002, 100));
    let line = shadow
        .lines()
        .find(|l| l.starts_with("carol:"))
        .expect("carol");
    let phc = line.split(':').nth(1).expect("hash");
    assert!(verify_password(b"sesame", phc));
    assert!(!verify_password(b"open", phc));
    // dave has no password: `!`, no password login.
    assert!(shadow.contains("dave:!:"), "{shadow}");
    // Homes are their users'; a home the manifest implies too.
    let home = fs.get("/home/carol").expect("carol's home");
    assert_eq!((home.uid, home.gid), (1002, 100));
    assert_eq!(fs.get("/srv/dave").map(|n| n.uid), Some(1003));
}

fn rejects(from: &str, to: &str, key: &str, needle: &str) {
    let good = manifest(&hash("x"));
    assert!(good.contains(from), "test bug: {from}");
    let text = good.replacen(from, to, 1);
    let e = Manifest::parse(&text).expect_err("must be rejected");
    let line = 1 + good[..good.find(from).expect("found")]
        .matches('\n')
        .count();
    assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
    assert!(e.message.contains(needle), "`{needle}` not in {e}");
}

#[test]
fn account_mistakes_name_the_line_and_key() {
    rejects(
        "groups = [\"users\"]",
        "groups = [\"staff\"]",
        "user.groups",
        "no such [[group]]",
    );
    rejects(
        "groups = [\"users\"]",
        "groups = []",
        "user.groups",
        "at least one",
    );
    rejects(
        "uid = 1003",
        "uid = 1002",
        "user.uid",
        "already the uid of `carol`",
    );
    rejects(
        "gid = 10\n",
        "gid = 100\n",
        "group.gid",
        "already the gid of `users`",
    );
    rejects(
        "name = \"dave\"",
        "name = \"Dave\"",
        "user.name",
        "lowercase",
    );
    rejects(
        "name = \"dave\"",
        "name = \"carol\"",
        "user.name",
        "used twice",
    );
    rejects(
        "name = \"wheel\"",
        "name = \"users\"",
        "group.name",
        "used twice",
    );
    rejects(
        "home = \"/srv/dave\"",
        "home = \"srv/dave\"",
        "user.home",
        "absolute",
    );
    rejects(
        "shell = \"/bin/upcase\"",
        "shell = \"upcase\"",
        "user.shell",
        "absolute",
    );
    rejects("uid = 1003", "uid = -3", "user.uid", "");
    let good = manifest(&hash("x"));
    for bad in [
        "sesame",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ",
        "$6$salt$hash",
        "$argon2id$v=19$m=8:t=1$a$b",
    ] {
        let text = good.replacen(&hash("x"), bad, 1);
        let e = Manifest::parse(&text).expect_err(bad);
        assert_eq!(e.key, "user.password", "{e}");
        assert!(e.message.contains("cargo xtask passwd"), "{e}");
    }
    // The account files are made, not given.
    let text = good.replacen("path = \"/home/carol/note\"", "path = \"/etc/shadow\"", 1);
    let e = Manifest::parse(&text).expect_err("shadow given");
    assert_eq!(e.key, "file.path", "{e}");
    assert!(e.message.contains("[[user]]"), "{e}");
}

#[test]
fn an_image_without_accounts_has_no_account_files() {
    let text = r#"
[image]
name = "bare"
[kernel]
path = "k"
[[module]]
name = "init"
source = "i"
"#;
    let m = Manifest::parse(text).expect("manifest");
    let fs = root_fs(&m, Path::new("."), &mut PathsOnly { base: base() }).expect("tree");
    assert!(fs.get("/etc/passwd").is_none() && fs.get("/etc/shadow").is_none());
}
