//! An index of large directories in memory: each name's block, so a
//! lookup reads one block instead of the whole directory, and where the
//! last name went, so adding one does not scan the full blocks before it.
//! Built on a directory's first lookup once it has a few blocks, kept up
//! to date by every change of names, bounded in total size (all indexes are
//! dropped past it, to be rebuilt on demand). Never written to disk; the
//! linear layout stays the truth, and an index that disagrees with a block
//! is dropped.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

use super::device::BlockDevice;
use super::dir;
use super::fs::Ext2;
use super::inode::Inode;
use hurd_ipc::Errno;

/// Directories with fewer blocks are scanned.
pub(crate) const MIN_BLOCKS: u64 = 4;
/// The most names all indexes hold together.
pub(crate) const MAX_NAMES: usize = 1 << 20;

/// One directory's index.
#[derive(Default)]
pub(crate) struct DirIndex {
    /// Each name's logical block.
    pub names: BTreeMap<Box<[u8]>, u64>,
    /// Where to start looking for room for a new name.
    pub room_from: u64,
}

impl<D: BlockDevice> Ext2<D> {
    /// The logical block holding `name` in directory `ino` (of `n` blocks)
    /// as its index says, building the index if the directory is large
    /// enough: `Some(None)` if the index says there is no such name,
    /// `None` if there is no index.
    pub(crate) fn index_lookup(
        &mut self,
        ino: u32,
        dir: &Inode,
        n: u64,
        name: &[u8],
    ) -> Result<Option<Option<u64>>, Errno> {
        if n < MIN_BLOCKS {
            return Ok(None);
        }
        if !self.dir_index.contains_key(&ino) && !self.build_index(ino, dir, n)? {
            return Ok(None);
        }
        Ok(self
            .dir_index
            .get(&ino)
            .map(|ix| ix.names.get(name).copied()))
    }

    /// Reads directory `ino` whole into an index. False if it is too
    /// large to index.
    fn build_index(&mut self, ino: u32, dir: &Inode, n: u64) -> Result<bool, Errno> {
        let mut ix = DirIndex::default();
        for lblk in 0..n {
            let block = match self.bmap(dir, lblk)? {
                0 => return Ok(false),
                b => b,
            };
            let data = self.cache.get(&mut self.dev, block)?;
            for e in dir::entries(data) {
                // A corrupt record: no index; the linear scan reports it.
                let Ok(e) = e else { return Ok(false) };
                if e.inode != 0 {
                    ix.names.insert(e.name.into(), lblk);
                }
            }
            if ix.names.len() > MAX_NAMES {
                return Ok(false);
            }
        }
        if self.indexed_names + ix.names.len() > MAX_NAMES {
            self.dir_index.clear();
            self.indexed_names = 0;
        }
        self.indexed_names += ix.names.len();
        self.dir_index.insert(ino, ix);
        Ok(true)
    }

    /// Where to start looking for room in directory `ino`.
    pub(crate) fn index_room_from(&self, ino: u32) -> u64 {
        self.dir_index.get(&ino).map_or(0, |ix| ix.room_from)
    }

    /// `name` was added to directory `ino` in logical block `lblk`.
    pub(crate) fn index_added(&mut self, ino: u32, name: &[u8], lblk: u64) {
        if let Some(ix) = self.dir_index.get_mut(&ino) {
            if ix.names.insert(name.into(), lblk).is_none() {
                self.indexed_names += 1;
            }
            ix.room_from = lblk;
        }
    }

    /// `name` was removed from directory `ino`'s logical block `lblk`.
    pub(crate) fn index_removed(&mut self, ino: u32, name: &[u8], lblk: u64) {
        if let Some(ix) = self.dir_index.get_mut(&ino) {
            if ix.names.remove(name).is_some() {
                self.indexed_names = self.indexed_names.saturating_sub(1);
            }
            ix.room_from = ix.room_from.min(lblk);
        }
    }

    /// Forgets directory `ino`'s index.
    pub(crate) fn index_drop(&mut self, ino: u32) {
        if let Some(ix) = self.dir_index.remove(&ino) {
            self.indexed_names = self.indexed_names.saturating_sub(ix.names.len());
        }
    }

    /// Forgets every index (the blocks changed behind them).
    pub(crate) fn index_drop_all(&mut self) {
        self.dir_index.clear();
        self.indexed_names = 0;
    }
}
