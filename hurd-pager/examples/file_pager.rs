//! Writing a pager: a file's bytes served to a kernel through a `Backend`.
//!
//! Run it with `cargo run -p hurd-pager --example file_pager`.

use std::sync::{Arc, Mutex};

use hurd_ipc::hosted::Runtime;
use hurd_pager::hosted::PagerServer;
use hurd_pager::{Backend, Config, PAGE_SIZE, PageRead, PagerError};
use hurd_vm::hosted::SimKernel;
use hurd_vm::{VmInherit, VmProt};

// ANCHOR: backend
/// A file in memory whose holes have no storage until written, as in a
/// disk file system: reading a hole gives zeros, writing one needs an
/// unlock that "allocates a block" first.
#[derive(Default)]
struct File {
    data: Vec<u8>,
    /// Which pages have storage.
    allocated: Vec<bool>,
    /// Block allocations, for the demonstration.
    log: Vec<String>,
}

/// The pager holds the backend; the file system keeps a handle too.
#[derive(Clone, Default)]
struct FileBackend(Arc<Mutex<File>>);

impl Backend for FileBackend {
    fn read_page(&mut self, offset: u64) -> Result<PageRead, PagerError> {
        let f = self.0.lock().map_err(|_| PagerError::Io)?;
        let at = offset as usize;
        let mut data = vec![0; PAGE_SIZE as usize];
        if let Some(bytes) = f.data.get(at..) {
            let n = bytes.len().min(data.len());
            data[..n].copy_from_slice(&bytes[..n]);
        }
        let page = (offset / PAGE_SIZE) as usize;
        let write_lock = !f.allocated.get(page).copied().unwrap_or(false);
        Ok(PageRead { data, write_lock })
    }

    fn write_page(&mut self, offset: u64, page: &[u8]) -> Result<(), PagerError> {
        let mut f = self.0.lock().map_err(|_| PagerError::Io)?;
        let end = offset as usize + page.len();
        if f.data.len() < end {
            f.data.resize(end, 0);
        }
        f.data[offset as usize..end].copy_from_slice(page);
        Ok(())
    }

    fn unlock_page(&mut self, offset: u64) -> Result<(), PagerError> {
        let mut f = self.0.lock().map_err(|_| PagerError::Io)?;
        let page = (offset / PAGE_SIZE) as usize;
        if page >= 16 {
            return Err(PagerError::NoSpace); // the "disk" is full
        }
        if f.allocated.len() <= page {
            f.allocated.resize(page + 1, false);
        }
        f.allocated[page] = true;
        f.log.push(format!("allocated a block for page {page}"));
        Ok(())
    }

    fn extent(&self) -> u64 {
        4 * PAGE_SIZE
    }
}
// ANCHOR_END: backend

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: server
    let rt = Runtime::new();
    let fs = rt.task(); // the file system's task
    let server = PagerServer::new(&fs)?; // its port bucket and worker threads
    let file = FileBackend::default();
    let pager = server.create(file.clone(), Config::default())?;
    // `pager.port()` is what io_map would return: a memory object port.
    // ANCHOR_END: server

    // ANCHOR: map
    let kernel = SimKernel::new(&rt, 64)?;
    let object = pager.send_right_for(kernel.task())?;
    let map = kernel.create_map()?;
    let addr = kernel.vm_map(
        map,
        4 * PAGE_SIZE,
        object,
        0,
        false,
        VmProt::DEFAULT,
        VmProt::ALL,
        VmInherit::Share,
    )?;
    // A read fault: data_request, read_page, data_supply (a hole: zeros).
    assert_eq!(kernel.load(map, addr, 5)?, [0; 5]);
    // A write: the page is write-locked, so the pager unlocks it in the
    // backend (a block is allocated) and grants write.
    kernel.store(map, addr, b"hello")?;
    // ANCHOR_END: map

    // ANCHOR: sync
    // pager_sync: the kernel returns the dirty page, the backend writes it.
    pager.sync(true)?;
    let f = file.0.lock().map_err(|_| "lock")?;
    assert_eq!(&f.data[..5], b"hello");
    println!("{}", f.log.join("\n"));
    drop(f);
    println!("{:?}", pager.stats());
    // ANCHOR_END: sync
    Ok(())
}
