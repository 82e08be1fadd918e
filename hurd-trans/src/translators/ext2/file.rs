//! File data: reading and writing through the block map (straight to the
//! device, in runs of neighbouring blocks), sparse files, growing and
//! truncating, large files; symlink targets.

use alloc::vec;
use alloc::vec::Vec;

use super::device::BlockDevice;
use super::fs::{AtimePolicy, Ext2};
use super::inode::{Inode, N_BLOCKS, flags};
use super::superblock::ro_compat;
use hurd_ipc::Errno;

/// The most bytes one read returns.
pub const MAX_READ: usize = 64 << 20;
/// Files up to this size need no `large_file` feature.
const SMALL_FILE_MAX: u64 = (1 << 31) - 1;

impl<D: BlockDevice> Ext2<D> {
    /// The largest file size: what the block map reaches and `i_blocks`
    /// (a 32-bit count of 512-byte units) can count.
    pub fn max_file_size(&self) -> u64 {
        let by_map = self.max_blocks().saturating_mul(self.bs as u64);
        let by_count = (u32::MAX as u64) * 512;
        by_map.min(by_count).min(i64::MAX as u64)
    }

    /// Whether `uid` may use the blocks reserved for root.
    pub(crate) fn privileged(&self, uid: u32, gid: u32) -> bool {
        uid == 0
            || uid == self.sb.def_resuid() as u32
            || (gid != 0 && gid == self.sb.def_resgid() as u32)
    }

    /// Reads up to `len` bytes of file `ino` at `offset` (fewer at the
    /// end, none beyond), and updates its access time as the atime policy
    /// says.
    ///
    /// # Errors
    ///
    /// `EISDIR`, `EINVAL` for nodes without data, `EIO`.
    pub fn read_file(&mut self, ino: u32, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let mut i = self.live_inode(ino)?;
        if i.is_dir() {
            return Err(Errno::IsDir);
        }
        if i.is_symlink() {
            let t = self.read_symlink(ino)?;
            let start = (offset.min(t.len() as u64)) as usize;
            let end = start.saturating_add(len).min(t.len());
            return Ok(t[start..end].to_vec());
        }
        if !i.is_reg() {
            return Err(Errno::Inval);
        }
        if offset >= i.size || len == 0 {
            return Ok(Vec::new());
        }
        let len = (len.min(MAX_READ) as u64).min(i.size - offset) as usize;
        let mut out = vec![0u8; len];
        self.read_blocks(&i, offset, &mut out)?;
        self.touch_atime(ino, &mut i)?;
        Ok(out)
    }

    /// Fills `out` with the file's bytes at `offset` (holes read as zeros).
    pub(crate) fn read_blocks(
        &mut self,
        i: &Inode,
        offset: u64,
        out: &mut [u8],
    ) -> Result<(), Errno> {
        if out.is_empty() {
            return Ok(());
        }
        let bs = self.bs as u64;
        let first = offset / bs;
        let last = (offset + out.len() as u64 - 1) / bs;
        let phys = self.bmap_range(i, first, (last - first + 1) as usize)?;
        let mut k = 0;
        while k < phys.len() {
            // A run of neighbouring blocks (or of holes).
            let mut n = 1;
            while k + n < phys.len()
                && ((phys[k] == 0 && phys[k + n] == 0)
                    || (phys[k] != 0 && phys[k + n] == phys[k] + n as u32))
            {
                n += 1;
            }
            let run_start = (first + k as u64) * bs;
            let lo = run_start.max(offset);
            let hi = (run_start + n as u64 * bs).min(offset + out.len() as u64);
            let dst = &mut out[(lo - offset) as usize..(hi - offset) as usize];
            if phys[k] == 0 {
                dst.fill(0);
            } else {
                let disk = phys[k] as u64 * bs + (lo - run_start);
                self.dev.read_at(disk, dst)?;
                // Blocks held as metadata (there should be none) win.
                for j in 0..n {
                    let b = phys[k] + j as u32;
                    if let Some(cached) = self.cache.peek(b) {
                        let bstart = (first + (k + j) as u64) * bs;
                        let s = bstart.max(lo);
                        let e = (bstart + bs).min(hi);
                        dst[(s - lo) as usize..(e - lo) as usize]
                            .copy_from_slice(&cached[(s - bstart) as usize..(e - bstart) as usize]);
                    }
                }
            }
            k += n;
        }
        Ok(())
    }

    fn touch_atime(&mut self, ino: u32, i: &mut Inode) -> Result<(), Errno> {
        if self.readonly || i.flags & flags::NOATIME != 0 {
            return Ok(());
        }
        let now = self.now();
        let due = match self.atime {
            AtimePolicy::Never => false,
            AtimePolicy::Always => true,
            AtimePolicy::Relative => {
                i.atime <= i.mtime || i.atime <= i.ctime || now.sec - i.atime.sec >= 24 * 3600
            }
        };
        if due {
            i.atime = now;
            self.write_inode(ino, i)?;
        }
        Ok(())
    }

    /// Allows a size of `end` bytes: within the maximum, and with the
    /// `large_file` feature set if beyond 2 GiB.
    fn allow_size(&mut self, end: u64) -> Result<(), Errno> {
        if end > self.max_file_size() {
            return Err(Errno::FBig);
        }
        if end > SMALL_FILE_MAX && !self.sb.has_ro_compat(ro_compat::LARGE_FILE) {
            if self.sb.rev_level() == 0 {
                return Err(Errno::FBig);
            }
            let f = self.sb.feature_ro_compat();
            self.sb.set_feature_ro_compat(f | ro_compat::LARGE_FILE);
            self.sb_dirty = true;
        }
        Ok(())
    }

    /// Zeroes the bytes of the file's last block after `size` (when the
    /// file grows from there, they must read as zeros).
    fn zero_tail(&mut self, i: &Inode, size: u64, upto: u64) -> Result<(), Errno> {
        let bs = self.bs as u64;
        if size.is_multiple_of(bs) || upto <= size {
            return Ok(());
        }
        let lblk = size / bs;
        let end = upto.min((lblk + 1) * bs);
        let b = self.bmap(i, lblk)?;
        if b == 0 {
            return Ok(());
        }
        self.cache.discard(b);
        let zeros = vec![0u8; (end - size) as usize];
        self.dev.write_at(b as u64 * bs + size % bs, &zeros)
    }

    /// Writes `data` into file `ino` at `offset`, allocating blocks for
    /// holes and growing the file. Returns how much was written: less than
    /// asked only when the disk filled up part way.
    ///
    /// # Errors
    ///
    /// `EISDIR`, `EINVAL` for nodes without data, `EPERM` for an immutable
    /// file, `EFBIG`, `ENOSPC`, `EROFS`, `EIO`.
    pub fn write_file(&mut self, ino: u32, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.writable()?;
        let mut i = self.live_inode(ino)?;
        if i.is_dir() {
            return Err(Errno::IsDir);
        }
        if !i.is_reg() {
            return Err(Errno::Inval);
        }
        if i.flags & flags::IMMUTABLE != 0 {
            return Err(Errno::Perm);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::FBig)?;
        self.allow_size(end)?;
        let old_size = i.size;
        self.zero_tail(&i, old_size, offset)?;
        let r = self.write_data(ino, &mut i, offset, data);
        let written = match r {
            Ok(n) => n,
            Err(e) => {
                // Pointers and counts changed before the failure stay true.
                self.write_inode(ino, &i)?;
                return Err(e);
            }
        };
        let now = self.now();
        i.size = i.size.max(offset + written as u64);
        i.mtime = now;
        i.ctime = now;
        self.write_inode(ino, &i)?;
        self.after_change()?;
        Ok(written)
    }

    /// Allocates and writes; returns the bytes written (a prefix of
    /// `data`). `i` is updated in memory.
    fn write_data(
        &mut self,
        _ino: u32,
        i: &mut Inode,
        offset: u64,
        data: &[u8],
    ) -> Result<usize, Errno> {
        let bs = self.bs as u64;
        let end = offset + data.len() as u64;
        let first = offset / bs;
        let last = (end - 1) / bs;
        let count = (last - first + 1) as usize;
        let mut phys = self.bmap_range(i, first, count)?;
        let mut fresh = vec![false; count];
        let privileged = self.privileged(i.uid, i.gid);
        let mut goal = match first {
            0 => self.inode_goal(_ino),
            f => match self.bmap(i, f - 1)? {
                0 => self.inode_goal(_ino),
                b => b + 1,
            },
        };
        // Holes get runs of neighbouring blocks, so the data stays together
        // (indirect blocks go after each run).
        let mut have = count;
        let mut k = 0;
        'fill: while k < count {
            if phys[k] != 0 {
                goal = phys[k] + 1;
                k += 1;
                continue;
            }
            let mut j = k;
            while j < count && phys[j] == 0 {
                j += 1;
            }
            let (start, n) = match self.alloc_blocks(goal, (j - k) as u32, privileged) {
                Ok(r) => r,
                Err(e) if k == 0 => return Err(e),
                Err(_) => {
                    have = k;
                    break;
                }
            };
            for x in 0..n {
                let at = k + x as usize;
                if let Err(e) = self.bmap_set(i, first + at as u64, start + x, privileged) {
                    // Give back the rest of the run; write what is placed.
                    let _ = self.free_blocks(start + x, n - x);
                    if at == 0 {
                        return Err(e);
                    }
                    have = at;
                    break 'fill;
                }
                phys[at] = start + x;
                fresh[at] = true;
            }
            goal = start + n;
            k += n as usize;
        }
        let stop = (first + have as u64) * bs;
        let end = end.min(stop);
        let mut k = 0;
        while k < have {
            let mut n = 1;
            while k + n < have && phys[k + n] == phys[k] + n as u32 {
                n += 1;
            }
            let run_start = (first + k as u64) * bs;
            let lo = run_start.max(offset);
            let hi = (run_start + n as u64 * bs).min(end);
            let src = &data[(lo - offset) as usize..(hi - offset) as usize];
            self.cache.discard_range(phys[k], n as u32);
            // New blocks written in part get zeros around the data.
            let pad_head = fresh[k] && lo > run_start;
            let pad_tail = fresh[k + n - 1] && hi < run_start + n as u64 * bs;
            let disk = phys[k] as u64 * bs;
            if pad_head || pad_tail {
                let from = if pad_head { run_start } else { lo };
                let to = if pad_tail {
                    run_start + n as u64 * bs
                } else {
                    hi
                };
                let mut buf = vec![0u8; (to - from) as usize];
                buf[(lo - from) as usize..(hi - from) as usize].copy_from_slice(src);
                self.dev.write_at(disk + (from - run_start), &buf)?;
            } else {
                self.dev.write_at(disk + (lo - run_start), src)?;
            }
            k += n;
        }
        Ok((end - offset) as usize)
    }

    /// Truncates or extends file `ino` to `size` bytes (extension makes a
    /// hole).
    ///
    /// # Errors
    ///
    /// `EISDIR`, `EINVAL` for nodes without data, `EPERM` (immutable or
    /// append-only), `EFBIG`, `EROFS`, `EIO`.
    pub fn set_size(&mut self, ino: u32, size: u64) -> Result<(), Errno> {
        self.writable()?;
        let mut i = self.live_inode(ino)?;
        if i.is_dir() {
            return Err(Errno::IsDir);
        }
        if !i.is_reg() {
            return Err(Errno::Inval);
        }
        if i.flags & (flags::IMMUTABLE | flags::APPEND) != 0 {
            return Err(Errno::Perm);
        }
        self.allow_size(size)?;
        let bs = self.bs as u64;
        let mut result = Ok(());
        if size < i.size {
            result = self.truncate_blocks(&mut i, size.div_ceil(bs));
            self.zero_tail(&i, size, size.next_multiple_of(bs))?;
        } else if size > i.size {
            let old = i.size;
            self.zero_tail(&i, old, size)?;
        }
        let now = self.now();
        i.size = size;
        i.mtime = now;
        i.ctime = now;
        self.write_inode(ino, &i)?;
        result?;
        self.after_change()
    }

    /// A symlink's target.
    ///
    /// # Errors
    ///
    /// `EINVAL` if `ino` is not a symlink, `EIO`.
    pub fn read_symlink(&mut self, ino: u32) -> Result<Vec<u8>, Errno> {
        let i = self.live_inode(ino)?;
        if !i.is_symlink() {
            return Err(Errno::Inval);
        }
        if i.is_fast_symlink(self.bs) {
            let mut raw = [0u8; N_BLOCKS * 4];
            for (k, b) in i.block.iter().enumerate() {
                raw[k * 4..k * 4 + 4].copy_from_slice(&b.to_le_bytes());
            }
            return Ok(raw[..i.size as usize].to_vec());
        }
        if i.size >= self.bs as u64 {
            return Err(self.corrupt(&alloc::format!("symlink {ino} of size {}", i.size)));
        }
        let b = self.bmap(&i, 0)?;
        if b == 0 {
            return Err(self.corrupt(&alloc::format!("symlink {ino} has no block")));
        }
        let data = self.cache.get(&mut self.dev, b)?;
        Ok(data[..i.size as usize].to_vec())
    }

    /// Stores a symlink's target in `i` (a symlink with no target yet): in
    /// the inode below 60 bytes, else in a block.
    pub(crate) fn store_symlink(
        &mut self,
        ino: u32,
        i: &mut Inode,
        target: &[u8],
    ) -> Result<(), Errno> {
        if target.is_empty() || target.contains(&0) {
            return Err(Errno::Inval);
        }
        if target.len() >= self.bs {
            return Err(Errno::NameTooLong);
        }
        if target.len() < N_BLOCKS * 4 {
            let mut raw = [0u8; N_BLOCKS * 4];
            raw[..target.len()].copy_from_slice(target);
            for (k, b) in i.block.iter_mut().enumerate() {
                *b = u32::from_le_bytes([
                    raw[k * 4],
                    raw[k * 4 + 1],
                    raw[k * 4 + 2],
                    raw[k * 4 + 3],
                ]);
            }
        } else {
            let goal = self.inode_goal(ino);
            let privileged = self.privileged(i.uid, i.gid);
            let (b, _) = self.bmap_alloc(i, 0, goal, privileged)?;
            let data = self.cache.zeroed(&mut self.dev, b)?;
            data[..target.len()].copy_from_slice(target);
        }
        i.size = target.len() as u64;
        Ok(())
    }
}
