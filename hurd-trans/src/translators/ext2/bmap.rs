//! Block maps: a file's logical blocks to disk blocks through its 12
//! direct pointers and single, double and triple indirect blocks; mapping
//! with allocation (holes are filled as written) and truncation.

use alloc::vec::Vec;

use super::bytes::{get32, put32};
use super::device::BlockDevice;
use super::fs::Ext2;
use super::inode::{DIND, IND, Inode, TIND};
use hurd_ipc::Errno;

/// Where a logical block's pointer is: the inode slot, the index at each
/// indirect level, and how many levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockPath {
    pub slot: usize,
    pub index: [u32; 3],
    pub depth: usize,
}

impl<D: BlockDevice> Ext2<D> {
    /// 512-byte units per block (`i_blocks` counts in them).
    pub(crate) fn sectors_per_block(&self) -> u32 {
        (self.bs / 512) as u32
    }

    /// The most logical blocks a block map reaches.
    pub(crate) fn max_blocks(&self) -> u64 {
        let a = self.apb as u64;
        12 + a + a * a + a * a * a
    }

    /// Where `lblk`'s pointer is; `None` beyond the triple indirect
    /// block's reach.
    pub(crate) fn block_path(&self, lblk: u64) -> Option<BlockPath> {
        let a = self.apb as u64;
        if lblk < 12 {
            return Some(BlockPath {
                slot: lblk as usize,
                index: [0; 3],
                depth: 0,
            });
        }
        let l = lblk - 12;
        if l < a {
            return Some(BlockPath {
                slot: IND,
                index: [l as u32, 0, 0],
                depth: 1,
            });
        }
        let l = l - a;
        if l < a * a {
            return Some(BlockPath {
                slot: DIND,
                index: [(l / a) as u32, (l % a) as u32, 0],
                depth: 2,
            });
        }
        let l = l - a * a;
        if l < a * a * a {
            return Some(BlockPath {
                slot: TIND,
                index: [(l / (a * a)) as u32, ((l / a) % a) as u32, (l % a) as u32],
                depth: 3,
            });
        }
        None
    }

    /// The disk block of `inode`'s logical block `lblk` (0: a hole).
    ///
    /// # Errors
    ///
    /// `EIO` for a pointer out of range or an unreadable indirect block.
    pub(crate) fn bmap(&mut self, inode: &Inode, lblk: u64) -> Result<u32, Errno> {
        let Some(p) = self.block_path(lblk) else {
            return Ok(0);
        };
        let mut b = inode.block[p.slot];
        for level in 0..p.depth {
            if b == 0 {
                return Ok(0);
            }
            self.check_block(b)?;
            let blk = self.cache.get(&mut self.dev, b)?;
            b = get32(blk, p.index[level] as usize * 4);
        }
        if b != 0 {
            self.check_block(b)?;
        }
        Ok(b)
    }

    /// The disk blocks of `inode`'s logical blocks `lblk..lblk + n` (0 for
    /// holes), reading each indirect block once.
    pub(crate) fn bmap_range(
        &mut self,
        inode: &Inode,
        lblk: u64,
        n: usize,
    ) -> Result<Vec<u32>, Errno> {
        let mut out = Vec::with_capacity(n);
        let mut l = lblk;
        while out.len() < n {
            let Some(p) = self.block_path(l) else {
                out.resize(n, 0);
                break;
            };
            if p.depth == 0 {
                let b = inode.block[p.slot];
                if b != 0 {
                    self.check_block(b)?;
                }
                out.push(b);
                l += 1;
                continue;
            }
            // Walk to the last-level indirect block, then take what it
            // holds from this index on.
            let mut b = inode.block[p.slot];
            for level in 0..p.depth - 1 {
                if b == 0 {
                    break;
                }
                self.check_block(b)?;
                let blk = self.cache.get(&mut self.dev, b)?;
                b = get32(blk, p.index[level] as usize * 4);
            }
            let first = p.index[p.depth - 1] as usize;
            let take = (self.apb as usize - first).min(n - out.len());
            if b == 0 {
                out.resize(out.len() + take, 0);
            } else {
                self.check_block(b)?;
                let blk = self.cache.get(&mut self.dev, b)?;
                let got: Vec<u32> = (0..take).map(|i| get32(blk, (first + i) * 4)).collect();
                for &b in &got {
                    if b != 0 {
                        self.check_block(b)?;
                    }
                }
                out.extend_from_slice(&got);
            }
            l += take as u64;
        }
        Ok(out)
    }

    /// Counts `n` more blocks in `inode`'s `i_blocks`.
    fn charge(&mut self, inode: &mut Inode, n: u32) -> Result<(), Errno> {
        let add = n.checked_mul(self.sectors_per_block()).ok_or(Errno::FBig)?;
        inode.blocks = inode.blocks.checked_add(add).ok_or(Errno::FBig)?;
        Ok(())
    }

    /// The disk block of logical block `lblk`, allocating it (and the
    /// indirect blocks on the way) if it is a hole; `goal` is where to look
    /// first. Returns the block and whether it is new (its contents are
    /// whatever was on the disk). `inode` (its pointers and `i_blocks`) is
    /// changed in memory: the caller writes it back, on error too.
    ///
    /// # Errors
    ///
    /// `EFBIG` beyond the block map's reach, `ENOSPC`, `EIO`.
    pub(crate) fn bmap_alloc(
        &mut self,
        inode: &mut Inode,
        lblk: u64,
        goal: u32,
        privileged: bool,
    ) -> Result<(u32, bool), Errno> {
        self.bmap_place(inode, lblk, None, goal, privileged)
    }

    /// Makes logical block `lblk` (a hole) map to `block`, already
    /// allocated by the caller, allocating the indirect blocks on the way
    /// (after `block`) and counting `block` in `i_blocks`.
    ///
    /// # Errors
    ///
    /// `EFBIG`, `ENOSPC` for an indirect block, `EIO` (also if `lblk` is
    /// not a hole).
    pub(crate) fn bmap_set(
        &mut self,
        inode: &mut Inode,
        lblk: u64,
        block: u32,
        privileged: bool,
    ) -> Result<(), Errno> {
        match self.bmap_place(
            inode,
            lblk,
            Some(block),
            block.saturating_add(1),
            privileged,
        )? {
            (b, true) if b == block => Ok(()),
            _ => Err(Errno::Io),
        }
    }

    fn bmap_place(
        &mut self,
        inode: &mut Inode,
        lblk: u64,
        given: Option<u32>,
        goal: u32,
        privileged: bool,
    ) -> Result<(u32, bool), Errno> {
        let p = self.block_path(lblk).ok_or(Errno::FBig)?;
        let spb = self.sectors_per_block();
        if inode
            .blocks
            .checked_add(spb * (p.depth as u32 + 1))
            .is_none()
        {
            return Err(Errno::FBig);
        }
        let cur = inode.block[p.slot];
        if p.depth == 0 {
            if cur != 0 {
                return Ok((self.check_block(cur)?, false));
            }
            let b = match given {
                Some(b) => b,
                None => self.alloc_block(goal, privileged)?,
            };
            inode.block[p.slot] = b;
            self.charge(inode, 1)?;
            return Ok((b, true));
        }
        let mut parent = if cur == 0 {
            let b = self.alloc_block(goal, privileged)?;
            self.cache.zeroed(&mut self.dev, b)?;
            inode.block[p.slot] = b;
            self.charge(inode, 1)?;
            b
        } else {
            self.check_block(cur)?
        };
        for level in 0..p.depth {
            let at = p.index[level] as usize * 4;
            let entry = get32(self.cache.get(&mut self.dev, parent)?, at);
            let last = level == p.depth - 1;
            if entry != 0 {
                let e = self.check_block(entry)?;
                if last {
                    return Ok((e, false));
                }
                parent = e;
                continue;
            }
            let nb = match given {
                Some(b) if last => b,
                _ => self.alloc_block(goal.max(parent + 1), privileged)?,
            };
            if !last {
                self.cache.zeroed(&mut self.dev, nb)?;
            }
            put32(self.cache.get_mut(&mut self.dev, parent)?, at, nb);
            self.charge(inode, 1)?;
            if last {
                return Ok((nb, true));
            }
            parent = nb;
        }
        Err(Errno::Io)
    }

    /// Frees every block of `inode` at or beyond logical block `keep`, and
    /// the indirect blocks left pointing at nothing; `i_blocks` follows.
    /// Pointers out of range are cleared (and reported), not followed.
    pub(crate) fn truncate_blocks(&mut self, inode: &mut Inode, keep: u64) -> Result<(), Errno> {
        let mut freed: Vec<u32> = Vec::new();
        for slot in 0..IND {
            if slot as u64 >= keep && inode.block[slot] != 0 {
                let b = inode.block[slot];
                inode.block[slot] = 0;
                if self.check_block(b).is_ok() {
                    freed.push(b);
                }
            }
        }
        let a = self.apb as u64;
        let tops = [
            (IND, 12u64, 1usize),
            (DIND, 12 + a, 2),
            (TIND, 12 + a + a * a, 3),
        ];
        for (slot, base, depth) in tops {
            let b = inode.block[slot];
            if b == 0 {
                continue;
            }
            let span = a.pow(depth as u32);
            if base + span <= keep {
                continue;
            }
            if self.check_block(b).is_err() {
                inode.block[slot] = 0;
                continue;
            }
            if self.free_tree(b, depth, base, keep, &mut freed)? {
                freed.push(b);
                inode.block[slot] = 0;
            }
        }
        let count = freed.len() as u32;
        freed.sort_unstable();
        let mut result = Ok(());
        let mut i = 0;
        while i < freed.len() {
            let start = freed[i];
            let mut n = 1;
            while i + n < freed.len() && freed[i + n] == start + n as u32 {
                n += 1;
            }
            if let Err(e) = self.free_blocks(start, n as u32) {
                result = Err(e);
            }
            i += n;
        }
        inode.blocks = inode
            .blocks
            .saturating_sub(count.saturating_mul(self.sectors_per_block()));
        result
    }

    /// Frees what indirect block `b` (at `depth`, mapping logical blocks
    /// from `base`) maps at or beyond `keep`. True if nothing is left in it
    /// (the caller frees `b` itself).
    fn free_tree(
        &mut self,
        b: u32,
        depth: usize,
        base: u64,
        keep: u64,
        freed: &mut Vec<u32>,
    ) -> Result<bool, Errno> {
        let a = self.apb as usize;
        let entries: Vec<u32> = {
            let blk = self.cache.get(&mut self.dev, b)?;
            (0..a).map(|i| get32(blk, i * 4)).collect()
        };
        let child_span = (self.apb as u64).pow(depth as u32 - 1);
        let mut left = false;
        let mut cleared: Vec<usize> = Vec::new();
        for (i, &e) in entries.iter().enumerate() {
            if e == 0 {
                continue;
            }
            let child_base = base + i as u64 * child_span;
            if child_base + child_span <= keep {
                left = true;
                continue;
            }
            if self.check_block(e).is_err() {
                cleared.push(i);
                continue;
            }
            // Data blocks go; an indirect block goes once nothing is left
            // in it.
            if depth == 1 || self.free_tree(e, depth - 1, child_base, keep, freed)? {
                freed.push(e);
                cleared.push(i);
            } else {
                left = true;
            }
        }
        if left && !cleared.is_empty() {
            let blk = self.cache.get_mut(&mut self.dev, b)?;
            for i in cleared {
                put32(blk, i * 4, 0);
            }
        }
        Ok(!left)
    }
}
