//! The accounts as the password server reads them on the kernel: from
//! `/etc/passwd`, `/etc/shadow` (root's alone) and `/etc/group` of the root
//! file system, each error named with its file (and line).

use hurd_auth::IdSet;
use hurd_auth::password::{Cost, ParseErrorKind, hash_password, verify_password};
use hurd_ipc::{Errno, Error};
use hurd_servers::hosted::{DEMO_ACCOUNTS, System};
use hurd_servers::rootfs::{
    AccountsError, PasswdEntry, chmod, hash_cost, passwd_entry, read_accounts,
};

const PASSWD: &str = "root:x:0:0::/root:/bin/sh\ncarol:x:1002:200::/home/carol:/bin/ash\n";
const GROUP: &str = "root:x:0:\nkeepers:x:200:\nusers:x:100:carol\n";

fn shadow(cost: Cost) -> String {
    let hash = hash_password(b"lighthouse", b"a salt of carol's", cost).expect("hash");
    format!("root:!:::::::\ncarol:{hash}:::::::\n")
}

#[test]
fn the_accounts_are_the_files_of_the_root_file_system() {
    let sys = System::boot(DEMO_ACCOUNTS).expect("boot");
    let task = sys.task();
    let root = sys.session_for(&task, IdSet::root()).expect("root");
    root.write_file("/etc/passwd", PASSWD.as_bytes(), false)
        .expect("passwd");
    root.write_file("/etc/group", GROUP.as_bytes(), false)
        .expect("group");
    let cost = Cost {
        m_kib: 64,
        t: 2,
        p: 1,
    };
    root.write_file("/etc/shadow", shadow(cost).as_bytes(), false)
        .expect("shadow");
    chmod(&root, "/etc/shadow", 0o600).expect("chmod");

    let db = read_accounts(&root).expect("accounts");
    let names: Vec<&str> = db.users().iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["root", "carol"]);
    let carol = db.user_by_name("carol").expect("carol");
    assert!(verify_password(
        b"lighthouse",
        carol.hash.as_deref().expect("hash")
    ));
    assert!(db.user_by_name("root").expect("root").hash.is_none());
    assert_eq!(db.login_ids(carol).egids.as_slice(), [200, 100]);
    // Unknown users cost what carol does.
    assert_eq!(hash_cost(&db), cost);

    // The hashes are root's alone.
    let alice = sys
        .session_for(&task, IdSet::user(1000, &[100]))
        .expect("alice");
    assert_eq!(
        read_accounts(&alice),
        Err(AccountsError::Read(
            "/etc/shadow",
            Error::from(Errno::Access)
        ))
    );
}

#[test]
fn missing_files_are_no_accounts_and_bad_ones_are_named() {
    let sys = System::boot(DEMO_ACCOUNTS).expect("boot");
    let task = sys.task();
    let root = sys.session_for(&task, IdSet::root()).expect("root");
    // The hosted system has /etc/passwd and /etc/group but no shadow file:
    // its users are known, but none logs in with a password.
    let db = read_accounts(&root).expect("accounts");
    assert_eq!(db.users().len(), DEMO_ACCOUNTS.len());
    assert!(db.users().iter().all(|u| u.hash.is_none()));
    assert_eq!(hash_cost(&db), Cost::TEST);

    root.write_file("/etc/shadow", b"root:!:::\nnobody:!:::\n", false)
        .expect("shadow");
    let e = read_accounts(&root).expect_err("unknown user");
    match e {
        AccountsError::Parse(p) => {
            assert_eq!(
                (p.file, p.line, p.kind),
                ("shadow", 2, ParseErrorKind::UnknownUser)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.to_string(), "/etc/shadow line 2: UnknownUser");

    root.write_file("/etc/shadow", b"root:\xff\n", false)
        .expect("shadow");
    assert_eq!(
        read_accounts(&root),
        Err(AccountsError::NotText("/etc/shadow"))
    );
}

#[test]
fn a_passwd_line_gives_home_and_shell() {
    assert_eq!(
        passwd_entry(PASSWD, "carol"),
        Some(PasswdEntry {
            name: "carol",
            uid: 1002,
            gid: 200,
            home: "/home/carol",
            shell: "/bin/ash",
        })
    );
    // Empty fields: `/` and `/bin/sh`; a short line or bad ids: none.
    let e = passwd_entry("dan:x:7:8::\r\n", "dan").expect("dan");
    assert_eq!((e.home, e.shell), ("/", "/bin/sh"));
    assert_eq!(
        passwd_entry("dan:x:7:8\n", "dan").map(|e| e.home),
        Some("/")
    );
    assert_eq!(passwd_entry("dan:x:7\n", "dan"), None);
    assert_eq!(passwd_entry("dan:x:seven:8::/:/bin/sh\n", "dan"), None);
    assert_eq!(passwd_entry(PASSWD, "car"), None);
    assert_eq!(passwd_entry(PASSWD, ""), None);
}
