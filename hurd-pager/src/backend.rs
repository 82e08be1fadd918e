//! What a pager serves pages from: the [`Backend`] trait, libpager's
//! callbacks, and an in-memory [`MemBackend`].

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use hurd_vm::PAGE_SIZE;

use crate::error::PagerError;
use crate::event::PageRead;

const PAGE: usize = PAGE_SIZE as usize;

/// The storage behind a pager (libpager's `pager_read_page`,
/// `pager_write_page`, `pager_unlock_page`, `pager_report_extent`,
/// `pager_notify_evict`). Offsets are byte offsets of whole pages.
///
/// The pager calls it from one thread at a time per pager, and writes pages
/// in the order their data came back from the kernels: a backend need not
/// order writes itself. If a write fails, the pager keeps the page's data
/// and serves it to readers (libpager instead fails later reads of the page
/// with `EIO`); the error is reported by `page_error` and by the sync that
/// waited for the write. Only [`PagerError::Io`], [`PagerError::NoSpace`] and
/// [`PagerError::Quota`] are meaningful errors (as in libpager); they reach
/// the faulting kernel as `data_error`.
///
/// The callbacks run on the pager's worker: they must not wait for a call on
/// the same pager (a `sync` with `wait`, say), which that worker completes.
pub trait Backend {
    /// Reads one page. `write_lock` in the result says writing it needs
    /// [`Backend::unlock_page`] first (say, no block is allocated yet).
    ///
    /// # Errors
    ///
    /// The backend's failure, as a [`PagerError`] (its code goes to the
    /// kernel in `memory_object_data_error`).
    fn read_page(&mut self, offset: u64) -> Result<PageRead, PagerError>;

    /// Writes one page.
    ///
    /// # Errors
    ///
    /// The backend's failure, as a [`PagerError`] (its code goes to the
    /// kernel in `memory_object_data_error`).
    fn write_page(&mut self, offset: u64, data: &[u8]) -> Result<(), PagerError>;

    /// Writes consecutive pages (`data` is a multiple of the page size). By
    /// default, one [`Backend::write_page`] each.
    ///
    /// # Errors
    ///
    /// The backend's failure, as a [`PagerError`] (its code goes to the
    /// kernel in `memory_object_data_error`); `EOPNOTSUPP` makes the caller
    /// fall back to one page at a time.
    fn write_pages(&mut self, offset: u64, data: &[u8]) -> Result<(), PagerError> {
        for (i, page) in data.chunks(PAGE).enumerate() {
            self.write_page(offset + (i * PAGE) as u64, page)?;
        }
        Ok(())
    }

    /// Makes a page writable (allocates backing for it). By default nothing
    /// needs doing.
    ///
    /// # Errors
    ///
    /// The backend's failure, as a [`PagerError`] (its code goes to the
    /// kernel in `memory_object_data_error`): `ENOSPC` or `EDQUOT` when no
    /// backing can be had.
    fn unlock_page(&mut self, offset: u64) -> Result<(), PagerError> {
        let _ = offset;
        Ok(())
    }

    /// The object's size in bytes: the range of whole-object calls (sync,
    /// return, flush, shutdown).
    fn extent(&self) -> u64;

    /// No kernel holds the page any more because it was evicted (pages are
    /// supplied precious when the pager's `precious` setting is on). By
    /// default, nothing.
    fn notify_evict(&mut self, offset: u64) {
        let _ = offset;
    }
}

/// Writes pages with [`Backend::write_pages`], falling back to one
/// [`Backend::write_page`] each if the backend answers `EOPNOTSUPP` (as
/// libpager does).
///
/// # Errors
///
/// The first write that fails.
pub fn write_all<B: Backend + ?Sized>(
    backend: &mut B,
    offset: u64,
    data: &[u8],
) -> Result<(), PagerError> {
    match backend.write_pages(offset, data) {
        Err(PagerError::NotSupported) => {
            for (i, page) in data.chunks(PAGE).enumerate() {
                backend.write_page(offset + (i * PAGE) as u64, page)?;
            }
            Ok(())
        }
        r => r,
    }
}

/// A backend in memory: pages read as zeros until written; with
/// [`MemBackend::write_locked`] pages need an unlock before their first
/// write, as a file system's holes do.
#[derive(Clone, Debug, Default)]
pub struct MemBackend {
    pages: BTreeMap<u64, Vec<u8>>,
    size: u64,
    write_locked: bool,
    unlocked: BTreeMap<u64, ()>,
    writes: u64,
}

impl MemBackend {
    /// An object of `size` bytes of zeros.
    pub fn new(size: u64) -> MemBackend {
        MemBackend {
            size,
            ..MemBackend::default()
        }
    }

    /// The same, with pages write-locked until unlocked.
    pub fn write_locked(mut self) -> MemBackend {
        self.write_locked = true;
        self
    }

    /// A page's stored contents (`None`: never written).
    pub fn page(&self, offset: u64) -> Option<&[u8]> {
        self.pages.get(&offset).map(Vec::as_slice)
    }

    /// How many pages were written.
    pub fn writes(&self) -> u64 {
        self.writes
    }
}

impl Backend for MemBackend {
    fn read_page(&mut self, offset: u64) -> Result<PageRead, PagerError> {
        if offset >= self.size {
            return Err(PagerError::Io);
        }
        let data = self
            .pages
            .get(&offset)
            .cloned()
            .unwrap_or_else(|| vec![0; PAGE]);
        let write_lock = self.write_locked && !self.unlocked.contains_key(&offset);
        Ok(PageRead { data, write_lock })
    }

    fn write_page(&mut self, offset: u64, data: &[u8]) -> Result<(), PagerError> {
        if data.len() != PAGE || offset >= self.size {
            return Err(PagerError::Io);
        }
        self.writes += 1;
        self.pages.insert(offset, data.to_vec());
        Ok(())
    }

    fn unlock_page(&mut self, offset: u64) -> Result<(), PagerError> {
        if offset >= self.size {
            return Err(PagerError::NoSpace);
        }
        self.unlocked.insert(offset, ());
        Ok(())
    }

    fn extent(&self) -> u64 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_backend_reads_writes_and_unlocks() {
        let mut b = MemBackend::new(2 * PAGE_SIZE).write_locked();
        let r = b.read_page(0).expect("read");
        assert!(r.write_lock && r.data.iter().all(|&x| x == 0));
        b.unlock_page(0).expect("unlock");
        assert!(!b.read_page(0).expect("read").write_lock);
        b.write_pages(0, &[7; 2 * PAGE]).expect("write");
        assert_eq!(b.page(PAGE_SIZE).map(|p| p[0]), Some(7));
        assert_eq!(b.writes(), 2);
        assert_eq!(b.read_page(2 * PAGE_SIZE), Err(PagerError::Io));
        assert_eq!(b.unlock_page(9 * PAGE_SIZE), Err(PagerError::NoSpace));
    }

    #[test]
    fn multi_page_writes_fall_back_to_single_pages() {
        struct NoBatch(MemBackend);
        impl Backend for NoBatch {
            fn read_page(&mut self, o: u64) -> Result<PageRead, PagerError> {
                self.0.read_page(o)
            }
            fn write_page(&mut self, o: u64, d: &[u8]) -> Result<(), PagerError> {
                self.0.write_page(o, d)
            }
            fn write_pages(&mut self, _o: u64, _d: &[u8]) -> Result<(), PagerError> {
                Err(PagerError::NotSupported)
            }
            fn extent(&self) -> u64 {
                self.0.extent()
            }
        }
        let mut b = NoBatch(MemBackend::new(2 * PAGE_SIZE));
        write_all(&mut b, 0, &[3; 2 * PAGE]).expect("write");
        assert_eq!(b.0.writes(), 2);
    }
}
