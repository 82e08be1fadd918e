//! Tells you when the translator works: alice attaches it to a node of
//! hers with its message, and reading the node gives the message, in small
//! reads as in one, with the size `stat` reports.

use hurd_auth::{AuthClient, IdSet, Limits};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, PortItem, PortName};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{self, Options};
use hurd_trans::protocol::{fs, io};
use hurd_trans::transbox::{ThreadStarter, argv_to_argz};
use hurd_trans::translators::programs;
use hurd_trans::translators::tmpfs::Tmpfs;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A root file system (a tmpfs whose translators include `/hurd/motd`) and
/// alice, logged in: her task and her directory port.
fn system(rt: &Runtime) -> Result<(Task, PortName, PortName), Box<dyn std::error::Error>> {
    let (boot, fs_task, alice) = (rt.task(), rt.task(), rt.task());
    let handles = hurd_auth::hosted::spawn(rt, Limits::default(), &[&boot, &fs_task])?;
    let starter = ThreadStarter::new(rt, &fs_task);
    starter.register("/hurd/motd", programs::hosted(motd::motd::<Task>));
    let tree = Tmpfs::new(0, 0, 0o777, 1 << 20);
    let (_, control) = netfs::spawn(
        fs_task,
        tree,
        handles[1],
        Some(Box::new(starter)),
        Options::default(),
        &boot,
    )?;
    let ids = IdSet::user(1000, &[100]);
    let handle = AuthClient::new(&boot, handles[0]).makeauth(&[], &ids)?;
    let auth = boot.give_right(handle, Disposition::MoveSend, &alice)?;
    let root = netfs::getroot(&boot, control, &ids, OpenFlags::READ)?;
    let root = boot.give_right(root, Disposition::MoveSend, &alice)?;
    Ok((alice, auth, root))
}

// ANCHOR: test
#[test]
fn the_node_reads_as_the_message() -> TestResult {
    let rt = Runtime::new();
    let (alice, auth, root) = system(&rt)?;
    let lookup = Lookup {
        ipc: &alice,
        crdir: root,
        cwdir: root,
        auth,
        fds: &[],
        ctty: PortName::NULL,
    };
    // `settrans motd /hurd/motd Hello from alice`
    lookup.open("motd", OpenFlags::WRITE | OpenFlags::CREAT, 0o644)?;
    let node = lookup.open("motd", OpenFlags::NOTRANS, 0)?;
    let no_active = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    let argz = argv_to_argz(&["/hurd/motd", "Hello", "from", "alice"]);
    fs::Client::new(&alice, node).file_set_translator(
        FS_TRANS_SET as i32,
        0,
        0,
        argz,
        no_active,
    )?;

    // `cat motd`: the lookup starts the translator.
    let file = lookup.open("motd", OpenFlags::READ, 0)?;
    let io = io::Client::new(&alice, file);
    assert_eq!(io.read(0, 100)?, b"Hello from alice\n");
    // Small reads, as a reader with a small buffer makes them.
    let mut text = Vec::new();
    loop {
        let chunk = io.read(text.len() as i64, 5)?;
        if chunk.is_empty() {
            break;
        }
        assert!(chunk.len() <= 5, "a read gave more than it was asked for");
        text.extend(chunk);
    }
    assert_eq!(text, b"Hello from alice\n");
    // Past the end, however far: end of file.
    assert_eq!(io.read(17, 10)?, b"");
    assert_eq!(io.read(i64::MAX, 10)?, b"");
    // `stat`: a regular file anyone may read, as long as the message.
    let st = io.stat()?;
    assert_eq!(st.mode & 0o170777, 0o100444);
    assert_eq!(st.size, 17);
    assert_eq!(st.uid, 1000, "the translator runs as the node's owner");
    Ok(())
}
// ANCHOR_END: test
