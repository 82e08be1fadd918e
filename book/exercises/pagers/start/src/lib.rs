//! A notebook of pages with a quota of blocks: the hands-on exercise of
//! Part IV of the book. A `Backend` for hurd-pager, as a disk file
//! system writes one: a page never written is a hole, read as zeros and
//! handed out write-locked; writing it first takes a block from the quota.
//!
//! Fill in the three methods marked TODO, then run
//! `cargo test -p notebook-start --test notebook`.

// The parameters are unused until the TODOs are done.
#![allow(unused_variables, dead_code)]

use std::sync::{Arc, Mutex, MutexGuard};

use hurd_pager::{Backend, PAGE_SIZE, PageRead, PagerError};

// ANCHOR: state
/// What the notebook holds, shared by its pager and its owner.
#[derive(Debug)]
pub struct Pages {
    /// Each page's block, if it has one (`None`: a hole).
    pub blocks: Vec<Option<Vec<u8>>>,
    /// How many blocks may be taken in all.
    pub quota: usize,
}

/// The notebook: `pages` pages, at most `quota` of them with a block. The
/// pager holds one clone, the file system another.
#[derive(Debug, Clone)]
pub struct Notebook(Arc<Mutex<Pages>>);

impl Notebook {
    /// A notebook of `pages` holes, of which at most `quota` may be written.
    pub fn new(pages: usize, quota: usize) -> Notebook {
        Notebook(Arc::new(Mutex::new(Pages {
            blocks: vec![None; pages],
            quota,
        })))
    }

    /// What it holds now.
    ///
    /// # Errors
    ///
    /// `EIO` if a thread panicked while holding it.
    pub fn pages(&self) -> Result<MutexGuard<'_, Pages>, PagerError> {
        self.0.lock().map_err(|_| PagerError::Io)
    }
}

/// The page at `offset`, if `offset` is one of `pages`'s.
fn page_index(pages: &Pages, offset: u64) -> Result<usize, PagerError> {
    let index = usize::try_from(offset / PAGE_SIZE).map_err(|_| PagerError::InvalidArgument)?;
    if !offset.is_multiple_of(PAGE_SIZE) || index >= pages.blocks.len() {
        return Err(PagerError::InvalidArgument);
    }
    Ok(index)
}
// ANCHOR_END: state

// ANCHOR: todo
impl Backend for Notebook {
    fn read_page(&mut self, offset: u64) -> Result<PageRead, PagerError> {
        // TODO: the page at `offset` (`page_index` finds it, or refuses an
        // offset that is not one of the notebook's pages). A page with a
        // block is its block's bytes, writable; a hole is a page of zeros
        // with `write_lock: true`, so that writing it needs `unlock_page`
        // first.
        todo!("read_page")
    }

    fn write_page(&mut self, offset: u64, data: &[u8]) -> Result<(), PagerError> {
        // TODO: copy the page the kernel wrote back into its block. A page
        // without a block (or data that is not a page) is `PagerError::Io`:
        // no kernel got write access to it through this pager.
        todo!("write_page")
    }

    fn unlock_page(&mut self, offset: u64) -> Result<(), PagerError> {
        // TODO: give the page a block (of zeros) unless it has one. When
        // `quota` blocks are taken already, refuse with
        // `PagerError::NoSpace` (ENOSPC): the write fault fails now, rather
        // than the data being lost later.
        todo!("unlock_page")
    }

    fn extent(&self) -> u64 {
        self.pages()
            .map_or(0, |pages| pages.blocks.len() as u64 * PAGE_SIZE)
    }
}
// ANCHOR_END: todo
