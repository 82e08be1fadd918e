//! A notebook of pages with a quota of blocks: the hands-on exercise of
//! Part IV of the book. A `Backend` for hurd-pager, as a disk file
//! system writes one: a page never written is a hole, read as zeros and
//! handed out write-locked; writing it first takes a block from the quota.

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

// ANCHOR: backend
impl Backend for Notebook {
    fn read_page(&mut self, offset: u64) -> Result<PageRead, PagerError> {
        let pages = self.pages()?;
        let index = page_index(&pages, offset)?;
        Ok(match &pages.blocks[index] {
            Some(block) => PageRead {
                data: block.clone(),
                write_lock: false,
            },
            // A hole: zeros, and no write until a block is taken.
            None => PageRead {
                data: vec![0; PAGE_SIZE as usize],
                write_lock: true,
            },
        })
    }

    fn write_page(&mut self, offset: u64, data: &[u8]) -> Result<(), PagerError> {
        let mut pages = self.pages()?;
        let index = page_index(&pages, offset)?;
        match &mut pages.blocks[index] {
            Some(block) if data.len() == block.len() => {
                block.copy_from_slice(data);
                Ok(())
            }
            // Data for a hole, or not a page: the kernel never had write
            // access to it through this pager.
            _ => Err(PagerError::Io),
        }
    }

    fn unlock_page(&mut self, offset: u64) -> Result<(), PagerError> {
        let mut pages = self.pages()?;
        let index = page_index(&pages, offset)?;
        if pages.blocks[index].is_some() {
            return Ok(());
        }
        let taken = pages.blocks.iter().filter(|b| b.is_some()).count();
        if taken >= pages.quota {
            return Err(PagerError::NoSpace);
        }
        pages.blocks[index] = Some(vec![0; PAGE_SIZE as usize]);
        Ok(())
    }

    fn extent(&self) -> u64 {
        self.pages()
            .map_or(0, |pages| pages.blocks.len() as u64 * PAGE_SIZE)
    }
}
// ANCHOR_END: backend
