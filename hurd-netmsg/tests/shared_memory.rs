//! Coherent shared memory between nodes: a hurd-pager pager on node 1 serves
//! one memory object to a simulated kernel on node 1 and another on node 2;
//! the memory_object protocol (init/ready, data_request/data_supply,
//! lock_request/data_return) runs over netmsg, and each kernel sees the
//! other's writes.

mod common;

use common::{WAIT, pair};
use hurd_ipc::{Disposition, PortItem};
use hurd_netmsg::registry;
use hurd_pager::hosted::PagerServer;
use hurd_pager::{Config, MemBackend, PAGE_SIZE};
use hurd_vm::hosted::SimKernel;
use hurd_vm::{VmInherit, VmProt};

#[test]
fn two_nodes_map_one_object_coherently() {
    common::init_log();
    let (n1, n2) = pair();
    // ANCHOR: pager
    // Node 1: the pager, and the object published in node 1's registry.
    let boot = n1.runtime().task();
    let server = PagerServer::new(&n1.runtime().task()).expect("pager server");
    let pager = server
        .create(MemBackend::new(4 * PAGE_SIZE), Config::default())
        .expect("pager");
    let published = pager.send_right_for(&boot).expect("object right");
    let reg = n1.registry(&boot).expect("registry");
    registry::Client::new(&boot, reg)
        .with_timeout(WAIT)
        .register(
            "object".into(),
            PortItem {
                disposition: Disposition::MoveSend,
                name: published,
            },
        )
        .expect("register");

    // ANCHOR_END: pager
    // ANCHOR: kernels
    // A kernel on each node maps it.
    let k1 = SimKernel::new(n1.runtime(), 64).expect("kernel 1");
    let obj1 = pager.send_right_for(k1.task()).expect("object right");
    let k2 = SimKernel::new(n2.runtime(), 64).expect("kernel 2");
    let reg2 = n2.peer_registry(1, k2.task()).expect("node 1's registry");
    let obj2 = registry::Client::new(k2.task(), reg2)
        .with_timeout(WAIT)
        .lookup("object".into())
        .expect("lookup")
        .name;
    let mut maps = Vec::new();
    for (k, obj) in [(&k1, obj1), (&k2, obj2)] {
        let map = k.create_map().expect("map");
        // On node 2 this waits for memory_object_init/ready across the network.
        let addr = k
            .vm_map(
                map,
                4 * PAGE_SIZE,
                obj,
                0,
                false,
                VmProt::DEFAULT,
                VmProt::ALL,
                VmInherit::Share,
            )
            .expect("vm_map");
        maps.push((map, addr));
    }
    // ANCHOR_END: kernels
    // ANCHOR: coherent
    let [(m1, a1), (m2, a2)] = [maps[0], maps[1]];
    k1.store(m1, a1, b"from node 1").expect("store");
    assert_eq!(k2.load(m2, a2, 11).expect("load"), b"from node 1");
    k2.store(m2, a2 + PAGE_SIZE, b"node 2 here").expect("store");
    k2.store(m2, a2, b"node 2 wins").expect("store");
    assert_eq!(k1.load(m1, a1, 11).expect("load"), b"node 2 wins");
    assert_eq!(
        k1.load(m1, a1 + PAGE_SIZE, 11).expect("load"),
        b"node 2 here"
    );
    // ANCHOR_END: coherent
}
