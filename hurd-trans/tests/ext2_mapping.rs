//! ext2 files mapped through their file pagers (hurd-pager) by simulated
//! kernels: pages come from the blocks, holes are filled when a page is
//! unlocked, stores are written back to the disk, and `io_read`/`io_write`
//! agree with the mapping. The disk pager serves the device read-only.
//! Needs `mke2fs` (and `e2fsck` for the final check).

mod ext2_util;

use std::sync::{Arc, Mutex};

use ext2_util::*;
use hurd_auth::{IdSet, Limits};
use hurd_ipc::hosted::Runtime;
use hurd_ipc::{Disposition, PortName, UserIpc};
use hurd_pager::PAGE_SIZE;
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{self, NetFs, Options};
use hurd_trans::protocol::{fs, fsys, io};
use hurd_trans::translators::ext2::mapper::Ext2Mapper;
use hurd_trans::translators::ext2::{Ext2, Ext2Tree, FileDevice, Shared};
use hurd_vm::hosted::SimKernel;
use hurd_vm::{VmInherit, VmProt};

const PAGE: usize = PAGE_SIZE as usize;

#[test]
fn mapped_ext2_files_are_coherent_with_io() {
    require_tools!();
    let s = Scratch::new("map");
    let img = s.path("img");
    mkfs(&img, 32, &["-t", "ext2", "-b", "1024"], None);
    let fs = Ext2::mount(
        FileDevice::open(&img, false).expect("open"),
        hurd_trans::translators::ext2::Options {
            clock: hurd_trans::translators::ext2::hosted::system_clock(),
            ..Default::default()
        },
    )
    .expect("mount");
    let shared = Arc::new(Mutex::new(fs));

    let rt = Runtime::new();
    let (fs_task, client) = (rt.task(), rt.task());
    let h = hurd_auth::hosted::spawn(&rt, Limits::default(), &[&fs_task, &client]).expect("auth");
    let mapper = Ext2Mapper::new(shared.clone(), &fs_task).expect("pager server");
    let disk = mapper.disk_object().expect("disk pager");
    let server = NetFs::new(
        fs_task.clone(),
        Ext2Tree::shared(shared.clone()),
        h[0],
        None,
        Options::default(),
    )
    .expect("server")
    .with_mapper(Box::new(mapper));
    let control = fs_task
        .give_right(server.control(), Disposition::MakeSend, &client)
        .expect("control");
    let disk = fs_task
        .give_right(disk, Disposition::MakeSend, &client)
        .expect("disk");
    std::thread::spawn(move || server.serve());
    let root = netfs::getroot(&client, control, &IdSet::root(), OpenFlags::READ).expect("root");
    let lk = Lookup {
        ipc: &client,
        crdir: root,
        cwdir: root,
        auth: h[1],
        fds: &[],
        ctty: PortName::NULL,
    };

    // Three pages: data, a hole, data.
    let f = lk
        .open("mapped", OpenFlags::RDWR | OpenFlags::CREAT, 0o644)
        .expect("create");
    let io = io::Client::new(&client, f);
    let first = pattern(PAGE, 1);
    let third = pattern(PAGE, 3);
    io.write(first.clone(), 0).expect("write");
    io.write(third.clone(), 2 * PAGE_SIZE as i64)
        .expect("write");
    let (rd, wt) = io.map().expect("io_map");
    assert_eq!(rd.name, wt.name);
    let _ = client.port_deallocate(wt.name);
    let k = SimKernel::new(&rt, 64).expect("kernel");
    let obj = client
        .give_right(rd.name, Disposition::MoveSend, k.task())
        .expect("give");
    let map = k.create_map().expect("map");
    let addr = k
        .vm_map(
            map,
            3 * PAGE_SIZE,
            obj,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("vm_map");
    assert_eq!(k.load(map, addr, PAGE).expect("load"), first);
    assert_eq!(k.load(map, addr + PAGE_SIZE, 8).expect("load"), [0; 8]);
    assert_eq!(
        k.load(map, addr + 2 * PAGE_SIZE, PAGE).expect("load"),
        third
    );
    // A store into the hole: the page is unlocked (blocks allocated).
    k.store(map, addr + PAGE_SIZE + 7, b"IN-THE-HOLE")
        .expect("store");
    assert_eq!(
        io.read(PAGE_SIZE as i64 + 7, 11),
        Ok(b"IN-THE-HOLE".to_vec())
    );
    // io_write to a mapped page: the kernel sees it.
    assert_eq!(io.write(b"WRITTEN".to_vec(), 100), Ok(7));
    assert_eq!(k.load(map, addr + 100, 7).expect("load"), b"WRITTEN");
    k.store(map, addr + 5, b"KERN").expect("store");
    fs::Client::new(&client, f).file_sync(1, 0).expect("sync");
    assert_eq!(io.read(5, 4), Ok(b"KERN".to_vec()));
    assert_eq!(io.stat().expect("stat").size, 3 * PAGE_SIZE);

    // The disk pager: the superblock's magic number at byte 1080.
    let kd = SimKernel::new(&rt, 16).expect("kernel");
    let dobj = client
        .give_right(disk, Disposition::MoveSend, kd.task())
        .expect("give");
    let dmap = kd.create_map().expect("map");
    let daddr = kd
        .vm_map(
            dmap,
            PAGE_SIZE,
            dobj,
            0,
            false,
            VmProt::READ,
            VmProt::READ,
            VmInherit::Share,
        )
        .expect("vm_map disk");
    assert_eq!(kd.load(dmap, daddr + 1080, 2).expect("load"), [0x53, 0xef]);
    assert!(kd.store(dmap, daddr, b"x").is_err(), "read-only");

    // Everything reaches the image: unmount and check it.
    let _ = client.port_deallocate(f);
    drop(k);
    fsys::Client::new(&client, control)
        .syncfs(1, 0)
        .expect("syncfs");
    shared.with(|fs| fs.unmount()).expect("unmount");
    assert_clean(&img);
    let out = s.path("dump");
    let _ = debugfs(&img, &format!("dump /mapped {}", out.display()));
    let data = std::fs::read(&out).expect("dump");
    assert_eq!(&data[5..9], b"KERN");
    assert_eq!(&data[100..107], b"WRITTEN");
    assert_eq!(&data[PAGE + 7..PAGE + 18], b"IN-THE-HOLE");
    assert_eq!(&data[2 * PAGE..], &third[..]);
}
