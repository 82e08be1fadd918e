//! A file of node 1's file system mapped by a kernel on node 2 and a kernel on
//! node 1: `io_map` answers with a memory object served by hurd-pager on node
//! 1, and both kernels see each other's stores.

mod common;

use common::{WAIT, pair};
use hurd_auth::{AuthClient, IdSet, Limits};
use hurd_ipc::{Disposition, PortItem, PortName, UserIpc};
use hurd_netmsg::registry;
use hurd_pager::PAGE_SIZE;
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::mapping::PagerMapper;
use hurd_trans::netfs::{self, NetFs, Options};
use hurd_trans::protocol::io;
use hurd_trans::translators::tmpfs::Tmpfs;
use hurd_vm::hosted::SimKernel;
use hurd_vm::{VmInherit, VmProt};

#[test]
fn a_file_on_node_1_is_mapped_coherently_on_both_nodes() {
    let (n1, n2) = pair();
    // Node 1: auth, and a tmpfs whose io_map is served by hurd-pager.
    let rt = n1.runtime();
    let (boot, fs_task) = (rt.task(), rt.task());
    let handles =
        hurd_auth::hosted::spawn(rt, Limits::default(), &[&boot, &fs_task]).expect("auth up");
    let mapper = PagerMapper::new(&fs_task).expect("pager server");
    let server = NetFs::new(
        fs_task.clone(),
        Tmpfs::new(0, 0, 0o777, 1 << 20),
        handles[1],
        None,
        Options::default(),
    )
    .expect("fs")
    .with_mapper(Box::new(mapper));
    let control = fs_task
        .give_right(server.control(), Disposition::MakeSend, &boot)
        .expect("control");
    std::thread::spawn(move || server.serve());
    let ids = IdSet::user(1000, &[100]);
    let root = netfs::getroot(&boot, control, &ids, OpenFlags::READ).expect("root");
    let auth = AuthClient::new(&boot, handles[0])
        .makeauth(&[], &ids)
        .expect("makeauth");
    let reg = n1.registry(&boot).expect("registry");
    for (name, port) in [("root", root), ("auth", auth)] {
        registry::Client::new(&boot, reg)
            .with_timeout(WAIT)
            .register(
                name.into(),
                PortItem {
                    disposition: Disposition::MoveSend,
                    name: port,
                },
            )
            .expect("register");
    }

    // Node 2: a task writes a file there and maps it into a kernel of node 2.
    let k2 = SimKernel::new(n2.runtime(), 64).expect("kernel 2");
    let t2 = k2.task().clone();
    let look = |name: &str| common::lookup(&n2, 1, &t2, name);
    let (root2, auth2) = (look("root"), look("auth"));
    let lookup = Lookup {
        ipc: &t2,
        crdir: root2,
        cwdir: root2,
        auth: auth2,
        fds: &[],
        ctty: PortName::NULL,
    };
    let f = lookup
        .open("m", OpenFlags::RDWR | OpenFlags::CREAT, 0o644)
        .expect("create");
    let contents: Vec<u8> = (0..2 * PAGE_SIZE as usize)
        .map(|i| (i % 251) as u8)
        .collect();
    io::Client::new(&t2, f)
        .write(contents.clone(), 0)
        .expect("write");
    let (obj2, wt) = io::Client::new(&t2, f).map().expect("io_map across nodes");
    let _ = t2.port_deallocate(wt.name);
    let map2 = k2.create_map().expect("map");
    let addr2 = k2
        .vm_map(
            map2,
            2 * PAGE_SIZE,
            obj2.name,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("vm_map on node 2");
    assert_eq!(k2.load(map2, addr2, 100).expect("load"), contents[..100]);

    // Node 1: a kernel maps the same file (its own lookup) and sees node 2's store.
    let k1 = SimKernel::new(n1.runtime(), 64).expect("kernel 1");
    let t1 = k1.task().clone();
    let root1 = common::lookup(&n1, 1, &t1, "root");
    let local = Lookup {
        ipc: &t1,
        crdir: root1,
        cwdir: root1,
        auth: PortName::NULL,
        fds: &[],
        ctty: PortName::NULL,
    };
    let f1 = local.open("m", OpenFlags::READ, 0).expect("open");
    let (obj1, wt1) = io::Client::new(&t1, f1).map().expect("io_map");
    if wt1.name.is_valid() {
        let _ = t1.port_deallocate(wt1.name);
    }
    let map1 = k1.create_map().expect("map");
    let addr1 = k1
        .vm_map(
            map1,
            2 * PAGE_SIZE,
            obj1.name,
            0,
            false,
            VmProt::READ,
            VmProt::READ,
            VmInherit::Share,
        )
        .expect("vm_map on node 1");
    k2.store(map2, addr2 + PAGE_SIZE + 7, b"from node 2")
        .expect("store");
    assert_eq!(
        k1.load(map1, addr1 + PAGE_SIZE + 7, 11).expect("load"),
        b"from node 2"
    );
}
