//! Tells you when the notebook works: simulated kernels (hurd-vm's
//! `SimKernel`) map it through a hurd-pager server and fault on its pages.
//! A hole reads as zeros; a write takes a block, once; what a kernel wrote
//! reaches the notebook on sync and comes back after the kernel dropped
//! it; a write beyond the quota fails at the fault; two kernels see each
//! other's writes.

use std::time::Duration;

use hurd_ipc::hosted::Runtime;
use hurd_pager::hosted::{Pager, PagerServer};
use hurd_pager::{Config, PAGE_SIZE};
use hurd_vm::hosted::SimKernel;
use hurd_vm::{MapId, VmError, VmInherit, VmProt};
use notebook::Notebook;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// How long a kernel waits for the pager: a backend that panicked never
/// answers, and the fault fails after this long.
const WAIT: Duration = Duration::from_secs(2);

// ANCHOR: start
/// A pager server (its own task) serving `notebook`.
fn serve(rt: &Runtime, notebook: &Notebook) -> Result<(PagerServer, Pager)> {
    let server = PagerServer::new(&rt.task())?;
    let pager = server.create(notebook.clone(), Config::default())?;
    Ok((server, pager))
}

/// A simulated kernel with the whole notebook of `pages` pages mapped
/// read-write: the kernel, its map, and the address.
fn map(rt: &Runtime, pager: &Pager, pages: u64) -> Result<(SimKernel, MapId, u64)> {
    let kernel = SimKernel::with_timeout(rt, 64, WAIT)?;
    let object = pager.send_right_for(kernel.task())?;
    let map = kernel.create_map()?;
    let addr = kernel.vm_map(
        map,
        pages * PAGE_SIZE,
        object,
        0,
        false,
        VmProt::DEFAULT,
        VmProt::ALL,
        VmInherit::Share,
    )?;
    Ok((kernel, map, addr))
}
// ANCHOR_END: start

// ANCHOR: test
#[test]
fn a_hole_reads_as_zeros_and_a_write_takes_one_block() -> Result<()> {
    let rt = Runtime::new();
    let notebook = Notebook::new(4, 4);
    let (_server, pager) = serve(&rt, &notebook)?;
    let (kernel, map, addr) = map(&rt, &pager, 4)?;

    assert_eq!(kernel.load(map, addr, 5)?, [0; 5]);
    assert!(notebook.pages()?.blocks.iter().all(Option::is_none));
    kernel.store(map, addr, b"hello")?;
    kernel.store(map, addr + 100, b"again")?;
    // One block, taken before the first write; the data is the kernel's
    // until it writes it back.
    assert!(notebook.pages()?.blocks[0].is_some());
    assert_eq!(notebook.pages()?.blocks.iter().flatten().count(), 1);
    pager.sync(true)?;
    let pages = notebook.pages()?;
    let block = pages.blocks[0].as_deref().ok_or("no block")?;
    assert_eq!(&block[..5], b"hello");
    assert_eq!(&block[100..105], b"again");
    Ok(())
}
// ANCHOR_END: test

#[test]
fn what_a_kernel_wrote_comes_back_after_it_dropped_the_page() -> Result<()> {
    let rt = Runtime::new();
    let notebook = Notebook::new(4, 4);
    let (_server, pager) = serve(&rt, &notebook)?;
    let (kernel, map, addr) = map(&rt, &pager, 4)?;
    kernel.store(map, addr + 2 * PAGE_SIZE, b"page two")?;
    // The kernel writes the page back and forgets it; the next fault reads
    // it from the notebook.
    pager.return_all(true)?;
    assert_eq!(kernel.load(map, addr + 2 * PAGE_SIZE, 8)?, b"page two");
    assert_eq!(kernel.load(map, addr + PAGE_SIZE, 3)?, [0; 3]);
    Ok(())
}

#[test]
fn a_write_beyond_the_quota_fails_at_the_fault() -> Result<()> {
    let rt = Runtime::new();
    let notebook = Notebook::new(4, 1);
    let (_server, pager) = serve(&rt, &notebook)?;
    let (kernel, map, addr) = map(&rt, &pager, 4)?;
    kernel.store(map, addr, b"first")?;
    let second = kernel.store(map, addr + PAGE_SIZE, b"second");
    assert_eq!(second, Err(VmError::MemoryError));
    // Nothing was lost: the first page is written back, the second is
    // still a hole that reads as zeros.
    pager.sync(true)?;
    assert_eq!(notebook.pages()?.blocks.iter().flatten().count(), 1);
    assert_eq!(kernel.load(map, addr, 5)?, b"first");
    assert_eq!(kernel.load(map, addr + PAGE_SIZE, 6)?, [0; 6]);
    Ok(())
}

#[test]
fn two_kernels_see_each_others_writes() -> Result<()> {
    let rt = Runtime::new();
    let notebook = Notebook::new(2, 2);
    let (_server, pager) = serve(&rt, &notebook)?;
    let (one, map1, addr1) = map(&rt, &pager, 2)?;
    let (two, map2, addr2) = map(&rt, &pager, 2)?;
    one.store(map1, addr1, b"from one")?;
    // The pager takes the page back from the first kernel before it gives
    // it to the second.
    assert_eq!(two.load(map2, addr2, 8)?, b"from one");
    two.store(map2, addr2, b"and two!")?;
    assert_eq!(one.load(map1, addr1, 8)?, b"and two!");
    Ok(())
}
