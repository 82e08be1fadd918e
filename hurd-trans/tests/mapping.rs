//! io_map on hurd-pager: a tmpfs file mapped by simulated kernels.

mod common;

use std::time::{Duration, Instant};

use common::World;
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, PortName, UserIpc};
use hurd_pager::PAGE_SIZE;
use hurd_trans::flags::OpenFlags;
use hurd_trans::protocol::{fs, io};
use hurd_vm::hosted::SimKernel;
use hurd_vm::{VmInherit, VmProt};

fn contents() -> Vec<u8> {
    (0..3 * PAGE_SIZE as usize)
        .map(|i| (i % 251) as u8)
        .collect()
}

#[test]
fn a_mapped_file_reads_its_contents_and_writes_back() {
    let w = World::new();
    let a = w.alice();
    let f = a
        .open("m", OpenFlags::RDWR | OpenFlags::CREAT)
        .expect("create");
    io::Client::new(&a.task, f)
        .write(contents(), 0)
        .expect("write");
    let (rd, wt) = io::Client::new(&a.task, f).map().expect("io_map");
    assert_eq!(rd.name, wt.name, "one object for a read/write open");
    let _ = a.task.port_deallocate(wt.name);
    let k1 = SimKernel::new(&w.rt, 64).expect("kernel");
    let obj = a
        .task
        .give_right(rd.name, Disposition::MoveSend, k1.task())
        .expect("give");
    let map = k1.create_map().expect("map");
    let addr = k1
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
    let want = contents();
    assert_eq!(k1.load(map, addr, 100).expect("load"), want[..100]);
    assert_eq!(
        k1.load(map, addr + 2 * PAGE_SIZE, 10).expect("load"),
        want[2 * PAGE_SIZE as usize..][..10]
    );
    // A second kernel maps the same file: coherent with the first.
    let (rd2, wt2) = io::Client::new(&a.task, f).map().expect("io_map again");
    let _ = a.task.port_deallocate(wt2.name);
    let k2 = SimKernel::new(&w.rt, 64).expect("kernel");
    let obj2 = a
        .task
        .give_right(rd2.name, Disposition::MoveSend, k2.task())
        .expect("give");
    let map2 = k2.create_map().expect("map");
    let addr2 = k2
        .vm_map(
            map2,
            3 * PAGE_SIZE,
            obj2,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("vm_map");
    k1.store(map, addr + 5, b"MAPPED").expect("store");
    assert_eq!(k2.load(map2, addr2 + 5, 6).expect("load"), b"MAPPED");
    // file_sync starts the write-back; the file then holds the stores.
    fs::Client::new(&a.task, f).file_sync(1, 0).expect("sync");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = io::Client::new(&a.task, f).read(5, 6).expect("read");
        if d == b"MAPPED" {
            break;
        }
        assert!(Instant::now() < deadline, "never written back");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The rest of the file is untouched and its size unchanged.
    assert_eq!(
        io::Client::new(&a.task, f).read(0, 5).expect("read"),
        want[..5]
    );
    assert_eq!(
        io::Client::new(&a.task, f).stat().expect("stat").size,
        3 * PAGE_SIZE
    );
}

#[test]
fn io_map_follows_the_open_modes() {
    let w = World::new();
    let a = w.alice();
    let f = a
        .open("m", OpenFlags::RDWR | OpenFlags::CREAT)
        .expect("create");
    io::Client::new(&a.task, f)
        .write(contents(), 0)
        .expect("write");
    let r = a.open("m", OpenFlags::READ).expect("open");
    let (rd, wt) = io::Client::new(&a.task, r).map().expect("map");
    assert!(rd.name.is_valid());
    assert_eq!(wt.name, PortName::NULL);
    // A kernel mapping the read-only object cannot write through it.
    let k = SimKernel::new(&w.rt, 64).expect("kernel");
    let obj = a
        .task
        .give_right(rd.name, Disposition::MoveSend, k.task())
        .expect("give");
    let map = k.create_map().expect("map");
    let addr = k
        .vm_map(
            map,
            PAGE_SIZE,
            obj,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("vm_map");
    assert_eq!(k.load(map, addr, 3).expect("load"), contents()[..3]);
    assert!(k.store(map, addr, b"x").is_err());
    // Not for directories, nor for ports opened for neither.
    assert_eq!(
        io::Client::new(&a.task, a.root).map().map(|_| ()),
        Err(Error::from(Errno::OpNotSupp))
    );
    let none = a.open("m", OpenFlags::empty()).expect("open");
    assert_eq!(
        io::Client::new(&a.task, none).map().map(|_| ()),
        Err(Error::from(Errno::BadF))
    );
}

#[test]
fn io_read_and_io_write_agree_with_a_mapping() {
    let w = World::new();
    let a = w.alice();
    let f = a
        .open("m", OpenFlags::RDWR | OpenFlags::CREAT)
        .expect("create");
    let io = io::Client::new(&a.task, f);
    io.write(contents(), 0).expect("write");
    let (rd, wt) = io.map().expect("io_map");
    let _ = a.task.port_deallocate(wt.name);
    let k = SimKernel::new(&w.rt, 64).expect("kernel");
    let obj = a
        .task
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
    let want = contents();
    assert_eq!(k.load(map, addr, 16).expect("load"), want[..16]);
    // An io_write to a page the kernel holds: the mapping sees it.
    assert_eq!(io.write(b"NEW".to_vec(), 10), Ok(3));
    assert_eq!(k.load(map, addr + 10, 3).expect("load"), b"NEW");
    // A store through the mapping: io_read sees it, no file_sync needed.
    k.store(map, addr + 100, b"KERN").expect("store");
    assert_eq!(io.read(100, 4), Ok(b"KERN".to_vec()));
    // A store and an io_write to other bytes of the same page both stay.
    k.store(map, addr + 200, b"AA").expect("store");
    assert_eq!(io.write(b"BB".to_vec(), 300), Ok(2));
    assert_eq!(io.read(200, 2), Ok(b"AA".to_vec()));
    assert_eq!(k.load(map, addr + 300, 2).expect("load"), b"BB");
    assert_eq!(k.load(map, addr + 200, 2).expect("load"), b"AA");
    // Through the file pointer too (the whole file is settled).
    k.store(map, addr + PAGE_SIZE, b"P2").expect("store");
    let seek = io.seek(PAGE_SIZE as i64, 0).expect("seek");
    assert_eq!(seek, PAGE_SIZE as i64);
    assert_eq!(io.read(-1, 2), Ok(b"P2".to_vec()));
    assert_eq!(io.write(b"FP".to_vec(), -1), Ok(2));
    assert_eq!(k.load(map, addr + PAGE_SIZE + 2, 2).expect("load"), b"FP");
    // The rest of the file is untouched, its size unchanged.
    assert_eq!(io.read(0, 10), Ok(want[..10].to_vec()));
    assert_eq!(io.stat().expect("stat").size, 3 * PAGE_SIZE);
}
