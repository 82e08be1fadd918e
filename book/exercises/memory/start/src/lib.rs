//! A key-value store in simulated memory, with snapshots taken by
//! copy-on-write, as a server forks to save a consistent copy while it goes
//! on changing the original: the hands-on exercise of Part III of the book.
//!
//! Fill in the two methods marked TODO, then run
//! `cargo test -p snapshots-start --test snapshots`.

// The parameters are unused until the TODOs are done.
#![allow(unused_variables)]

use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{MapId, PAGE_SIZE, Stall, Vm, VmError, VmStats};

// ANCHOR: state
/// A slot: a length byte, then up to 255 bytes of value.
pub const SLOT: u64 = 256;
/// Pages of the table.
pub const PAGES: u64 = 16;
/// Keys are `0..KEYS`, `PAGE_SIZE / SLOT` of them on each page.
pub const KEYS: u64 = PAGES * (PAGE_SIZE / SLOT);

/// Why a request failed.
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// The key is not below [`KEYS`].
    NoSuchKey,
    /// The value is longer than a slot holds.
    TooLong,
    /// The VM refused the access or the call.
    Vm(VmError),
}

impl From<VmError> for Error {
    fn from(e: VmError) -> Error {
        Error::Vm(e)
    }
}

impl From<Stall> for Error {
    fn from(stall: Stall) -> Error {
        match stall {
            Stall::Error(e) => Error::Vm(e),
            // Anonymous memory without a default pager never waits for one.
            Stall::Wait(_) => Error::Vm(VmError::Failure),
        }
    }
}

/// The store: its own address space in a simulated kernel, holding the
/// table of slots and a scratch page where each request is put first.
pub struct Store {
    vm: Vm<SoftMmu, SoftPhys>,
    map: MapId,
    table: u64,
    scratch: u64,
}

/// A snapshot: another address space of the same kernel.
pub struct Snapshot {
    map: MapId,
}

impl Store {
    /// A store in a kernel with `frames` page frames.
    ///
    /// # Errors
    ///
    /// The VM's, if it has no room.
    pub fn new(frames: usize) -> Result<Store, Error> {
        let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(frames));
        let map = vm.create_map()?;
        let table = vm.allocate(map, 0, PAGES * PAGE_SIZE, true)?;
        let scratch = vm.allocate(map, 0, PAGE_SIZE, true)?;
        Ok(Store {
            vm,
            map,
            table,
            scratch,
        })
    }

    /// Sets `key` to `value`.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchKey`], [`Error::TooLong`], or the VM's.
    pub fn set(&mut self, key: u64, value: &[u8]) -> Result<(), Error> {
        let at = self.slot(key)?;
        let len = u8::try_from(value.len()).map_err(|_| Error::TooLong)?;
        self.vm.store(self.map, self.scratch, value)?;
        self.vm.store(self.map, at + 1, value)?;
        self.vm.store(self.map, at, &[len])?;
        Ok(())
    }

    /// The value of `key` now (empty if never set).
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchKey`], or the VM's.
    pub fn get(&mut self, key: u64) -> Result<Vec<u8>, Error> {
        self.read(self.map, key)
    }

    /// The value of `key` when `snapshot` was taken.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchKey`], or the VM's.
    pub fn get_from(&mut self, snapshot: &Snapshot, key: u64) -> Result<Vec<u8>, Error> {
        self.read(snapshot.map, key)
    }

    /// The first `n` bytes of the scratch page, as `snapshot` sees it.
    ///
    /// # Errors
    ///
    /// The VM's: `InvalidAddress` where nothing is mapped.
    pub fn scratch_in(&mut self, snapshot: &Snapshot, n: usize) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0; n.min(PAGE_SIZE as usize)];
        self.vm.load(snapshot.map, self.scratch, &mut buf)?;
        Ok(buf)
    }

    /// What the kernel did so far: faults, copies, shadow objects.
    pub fn stats(&self) -> VmStats {
        self.vm.stats()
    }

    /// Page frames still free.
    pub fn free_frames(&self) -> usize {
        self.vm.phys().free_frames()
    }

    fn slot(&self, key: u64) -> Result<u64, Error> {
        if key >= KEYS {
            return Err(Error::NoSuchKey);
        }
        Ok(self.table + key * SLOT)
    }

    fn read(&mut self, map: MapId, key: u64) -> Result<Vec<u8>, Error> {
        let at = self.slot(key)?;
        let mut len = [0u8];
        self.vm.load(map, at, &mut len)?;
        let mut value = vec![0; usize::from(len[0])];
        self.vm.load(map, at + 1, &mut value)?;
        Ok(value)
    }
}
// ANCHOR_END: state

// ANCHOR: todo
impl Store {
    /// A snapshot: the table as it is now, whatever changes after, without
    /// the scratch page.
    ///
    /// # Errors
    ///
    /// The VM's.
    pub fn snapshot(&mut self) -> Result<Snapshot, Error> {
        // TODO: a new address space that sees the table as it is now and
        // never the scratch page, without copying a page now.
        todo!("snapshot")
    }

    /// Gives back what `snapshot` holds.
    ///
    /// # Errors
    ///
    /// The VM's.
    pub fn release(&mut self, snapshot: Snapshot) -> Result<(), Error> {
        // TODO: the snapshot's address space and what only it holds.
        todo!("release")
    }
}
// ANCHOR_END: todo
