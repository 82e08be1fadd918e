//! A root file system archive applied to a running system: directories and
//! files with their modes and owners, and a passive translator record that
//! the first lookup starts.

use hurd_auth::IdSet;
use hurd_servers::hosted::{DEMO_ACCOUNTS, System};
use hurd_servers::rootfs::apply_archive;
use hurd_servers::tar::{Header, Kind, TRANSLATOR_KEYWORD, TarWriter};
use hurd_servers::untar::entries;
use hurd_trans::flags::OpenFlags;
use hurd_trans::protocol::io;

fn header(path: &str, kind: Kind, mode: u32, uid: u32) -> Header {
    Header {
        path: path.into(),
        kind,
        mode,
        uid,
        gid: 100,
        pax: Vec::new(),
    }
}

#[test]
fn an_archive_becomes_the_root_file_system() {
    let sys = System::boot(DEMO_ACCOUNTS).expect("boot");
    let task = sys.task();
    let root = sys.session_for(&task, IdSet::root()).expect("root");
    let mut w = TarWriter::new();
    w.append(&header("srv", Kind::Dir, 0o750, 1000), b"");
    w.append(&header("srv/data", Kind::File, 0o600, 1000), b"kept\n");
    // An existing directory is kept; an existing file replaced.
    w.append(&header("etc", Kind::Dir, 0o755, 0), b"");
    w.append(
        &header("etc/motd", Kind::File, 0o644, 0),
        b"From the archive.\n",
    );
    let mut greet = header("srv/greet", Kind::File, 0o644, 1000);
    greet.pax = vec![(
        TRANSLATOR_KEYWORD.into(),
        b"/hurd/hello\0from a record\0".to_vec(),
    )];
    w.append(&greet, b"");
    let archive = w.finish();
    let list = entries(&archive).expect("entries");
    assert_eq!(apply_archive(&root, &list), Ok(5));

    assert_eq!(root.read_file("/srv/data").expect("data"), b"kept\n");
    assert_eq!(
        root.read_file("/etc/motd").expect("motd"),
        b"From the archive.\n"
    );
    let data = root.open("/srv/data", OpenFlags::READ).expect("open");
    let st = io::Client::new(root.ipc, data).stat().expect("stat");
    root.release(data);
    assert_eq!((st.uid, st.mode & 0o7777), (1000, 0o600));
    // The record starts hello, as its owner, at the first lookup.
    assert_eq!(
        root.read_file("/srv/greet").expect("greet"),
        b"from a record"
    );
}
