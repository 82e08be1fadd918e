//! [`Ext2`]: a mounted file system — mounting, inodes, write-back and
//! unmounting. Allocation, block maps, directories, file data and
//! attributes are in the sibling modules, as more `impl` blocks.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::cache::BlockCache;
use super::device::BlockDevice;
use super::group::{DESC_SIZE, GroupDesc};
use super::inode::Inode;
use super::superblock::{
    MountError, STATE_ERROR, STATE_VALID, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, Superblock,
};
use crate::stat::TimeSpec;
use crate::statfs::{FSTYPE_EXT2FS, ST_RDONLY, Statfs};
use hurd_ipc::Errno;

/// When changes reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SyncPolicy {
    /// Every change is written before the call that made it returns
    /// (`--sync`).
    Synchronous,
    /// Changes are written at least every so many seconds (`--sync=N`;
    /// the Hurd's default is 30).
    Interval(u32),
    /// Only when asked (`--no-sync`, `sync`, `fsysopts --sync`).
    Never,
}

/// When reading updates a file's access time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AtimePolicy {
    /// Every read (`--atime`).
    Always,
    /// When the access time is older than the modification or change time,
    /// or a day old (`--relatime`, the default).
    Relative,
    /// Never (`--no-atime`).
    Never,
}

/// A wall clock: the time stamps new and changed files get.
pub type Clock = Box<dyn Fn() -> TimeSpec + Send>;

/// How to mount.
pub struct Options {
    /// Mount read-only.
    pub readonly: bool,
    /// Mount writable even if the file system was not cleanly unmounted
    /// (the Hurd's ext2fs then mounts read-only until `fsysopts
    /// --writable`).
    pub writable_unclean: bool,
    /// When changes reach the disk.
    pub sync: SyncPolicy,
    /// When reads update access times.
    pub atime: AtimePolicy,
    /// The metadata cache's size in bytes.
    pub cache_bytes: usize,
    /// The wall clock.
    pub clock: Clock,
}

impl Options {
    /// Mount options from a command line, as the Hurd's ext2fs takes them:
    /// `--readonly`/`-r`, `--writable`/`-w` (also a file system not cleanly
    /// unmounted), `--sync[=N]`/`-s`, `--no-sync`/`-n`, `--atime`,
    /// `--relatime`, `--no-atime`. Returns the options (with the default
    /// clock: set [`Options::clock`] to the host's) and the other
    /// arguments.
    ///
    /// # Errors
    ///
    /// The option not understood, or a bad sync interval.
    pub fn parse<'a>(args: &[&'a str]) -> Result<(Options, Vec<&'a str>), String> {
        let mut o = Options::default();
        let mut rest = Vec::new();
        for a in args {
            match *a {
                "--readonly" | "-r" => o.readonly = true,
                "--writable" | "-w" => {
                    o.readonly = false;
                    o.writable_unclean = true;
                }
                "--sync" | "-s" => o.sync = SyncPolicy::Synchronous,
                "--no-sync" | "-n" => o.sync = SyncPolicy::Never,
                "--atime" => o.atime = AtimePolicy::Always,
                "--relatime" => o.atime = AtimePolicy::Relative,
                "--no-atime" => o.atime = AtimePolicy::Never,
                s if s.starts_with("--sync=") => {
                    let n: u32 = s["--sync=".len()..]
                        .parse()
                        .map_err(|_| alloc::format!("bad sync interval: {s}"))?;
                    o.sync = if n == 0 {
                        SyncPolicy::Never
                    } else {
                        SyncPolicy::Interval(n)
                    };
                }
                s if s.starts_with('-') && s.len() > 1 => {
                    return Err(alloc::format!("unknown option {s}"));
                }
                s => rest.push(s),
            }
        }
        Ok((o, rest))
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            readonly: false,
            writable_unclean: false,
            sync: SyncPolicy::Interval(30),
            atime: AtimePolicy::Relative,
            cache_bytes: 16 << 20,
            clock: Box::new(TimeSpec::default),
        }
    }
}

/// A mounted ext2 file system on a [`BlockDevice`].
///
/// Inode numbers are the node ids of its [`Tree`](crate::netfs::Tree)
/// implementation. Every method takes untrusted on-disk data: a block
/// number out of range, a directory entry running off its block, an
/// impossible size is `EIO` (and the file system is marked as having
/// errors), never a panic.
pub struct Ext2<D: BlockDevice> {
    pub(crate) dev: D,
    pub(crate) sb: Superblock,
    pub(crate) groups: Vec<GroupDesc>,
    pub(crate) groups_dirty: BTreeSet<u32>,
    pub(crate) sb_dirty: bool,
    pub(crate) cache: BlockCache,
    pub(crate) readonly: bool,
    /// Why the file system is read-only, if it was meant to be writable.
    pub(crate) readonly_reason: Option<&'static str>,
    pub(crate) clean_at_mount: bool,
    pub(crate) sync: SyncPolicy,
    pub(crate) atime: AtimePolicy,
    pub(crate) clock: Clock,
    pub(crate) last_sync: i64,
    pub(crate) next_generation: u32,
    /// Inodes with open ports (from the server's `node_opened`).
    pub(crate) open: BTreeSet<u32>,
    /// Open inodes with no names left: freed when released.
    pub(crate) orphans: BTreeSet<u32>,
    /// Corruption found since mounting.
    pub(crate) errors: u32,
    /// Indexes of large directories, by inode.
    pub(crate) dir_index: BTreeMap<u32, super::dirindex::DirIndex>,
    /// Names the indexes hold.
    pub(crate) indexed_names: usize,
    // Geometry.
    pub(crate) bs: usize,
    pub(crate) inode_size: usize,
    pub(crate) ipg: u32,
    pub(crate) ipb: u32,
    pub(crate) apb: u32,
    pub(crate) hurd: bool,
    pub(crate) filetype: bool,
}

impl<D: BlockDevice> Ext2<D> {
    /// Mounts the file system on `dev`.
    ///
    /// Incompatible features other than `filetype` are refused; unknown
    /// read-only-compatible ones, a file system not cleanly unmounted (or
    /// with errors recorded) and [`Options::readonly`] mount read-only.
    ///
    /// # Errors
    ///
    /// A [`MountError`] saying what is wrong with the image.
    pub fn mount(mut dev: D, opts: Options) -> Result<Ext2<D>, MountError> {
        let size = dev.size();
        if size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE as u64 {
            return Err(MountError::TooSmall);
        }
        let mut raw = vec![0u8; SUPERBLOCK_SIZE];
        dev.read_at(SUPERBLOCK_OFFSET, &mut raw)
            .map_err(MountError::Io)?;
        let sb = Superblock::parse(&raw, size)?;
        let bs = sb.block_size();
        let ngroups = sb.groups_count();
        let gdt_start = sb.first_data_block() as u64 + 1;
        let mut table = vec![0u8; sb.gdt_blocks() as usize * bs];
        dev.read_at(gdt_start * bs as u64, &mut table)
            .map_err(MountError::Io)?;
        let mut groups = Vec::with_capacity(ngroups as usize);
        for g in 0..ngroups {
            let d = GroupDesc::from_bytes(&table[g as usize * DESC_SIZE..]);
            d.check(&sb, g)?;
            groups.push(d);
        }
        let clean = sb.state() & STATE_VALID != 0 && sb.state() & STATE_ERROR == 0;
        let mut readonly_reason = None;
        if opts.readonly {
            readonly_reason = None;
        } else if sb.unwritable_features() != 0 {
            readonly_reason = Some("unsupported read-only-compatible features");
        } else if !clean && !opts.writable_unclean {
            readonly_reason = Some("not cleanly unmounted: run e2fsck, or mount --writable");
        }
        let readonly = opts.readonly || readonly_reason.is_some();
        if let Some(why) = readonly_reason {
            log::warn!("ext2: mounted read-only: {why}");
        }
        let cache_blocks = (opts.cache_bytes / bs).max(64);
        let now = (opts.clock)();
        let mut fs = Ext2 {
            hurd: sb.is_hurd(),
            filetype: sb.has_incompat(super::superblock::incompat::FILETYPE),
            inode_size: sb.inode_size(),
            ipg: sb.inodes_per_group(),
            ipb: sb.inodes_per_block() as u32,
            apb: (bs / 4) as u32,
            bs,
            dev,
            sb,
            groups,
            groups_dirty: BTreeSet::new(),
            sb_dirty: false,
            cache: BlockCache::new(bs, cache_blocks),
            readonly,
            readonly_reason,
            clean_at_mount: clean,
            sync: opts.sync,
            atime: opts.atime,
            clock: opts.clock,
            last_sync: now.sec,
            next_generation: now.sec as u32,
            open: BTreeSet::new(),
            orphans: BTreeSet::new(),
            errors: 0,
            dir_index: BTreeMap::new(),
            indexed_names: 0,
        };
        if !fs.readonly {
            fs.begin_writing().map_err(MountError::Io)?;
        }
        Ok(fs)
    }

    /// Marks the disk in use (not clean) and recounts the superblock's free
    /// counts from the groups', as Linux does when mounting.
    fn begin_writing(&mut self) -> Result<(), Errno> {
        let free_blocks: u64 = self.groups.iter().map(|g| g.free_blocks() as u64).sum();
        let free_inodes: u64 = self.groups.iter().map(|g| g.free_inodes() as u64).sum();
        self.sb
            .set_free_blocks_count(free_blocks.min(u32::MAX as u64) as u32);
        self.sb
            .set_free_inodes_count(free_inodes.min(u32::MAX as u64) as u32);
        let state = self.sb.state();
        self.sb.set_state(state & !STATE_VALID);
        self.sb.set_mnt_count(self.sb.mnt_count().wrapping_add(1));
        let now = self.now().sec as u32;
        self.sb.set_mtime(now);
        self.sb.set_wtime(now);
        self.write_superblock()?;
        self.dev.flush()
    }

    /// The clock's time.
    pub(crate) fn now(&self) -> TimeSpec {
        (self.clock)()
    }

    /// A deleted inode's `i_dtime`: now, but never below the inode count
    /// (e2fsck reads a smaller one as a link of the orphan list).
    pub(crate) fn deletion_time(&self) -> u32 {
        let now = self.now().sec.clamp(0, u32::MAX as i64) as u32;
        now.max(self.sb.inodes_count().saturating_add(1))
    }

    /// A port to inode `ino` was opened: until [`Ext2::close_node`], it
    /// outlives its names (what the server's `node_opened` says).
    pub fn open_node(&mut self, ino: u32) {
        self.open.insert(ino);
    }

    /// The last port to inode `ino` is gone: if it has no names left it is
    /// freed now.
    ///
    /// # Errors
    ///
    /// Those of freeing it.
    pub fn close_node(&mut self, ino: u32) -> Result<(), Errno> {
        self.open.remove(&ino);
        if self.orphans.contains(&ino) {
            self.release_inode(ino)?;
            self.after_change()?;
        }
        Ok(())
    }

    /// The superblock.
    pub fn superblock(&self) -> &Superblock {
        &self.sb
    }

    /// The device (for inspection).
    pub fn device(&self) -> &D {
        &self.dev
    }

    /// The block size.
    pub fn block_size(&self) -> usize {
        self.bs
    }

    /// Whether the file system is mounted read-only.
    pub fn is_readonly(&self) -> bool {
        self.readonly
    }

    /// How many times corruption was found since mounting.
    pub fn errors(&self) -> u32 {
        self.errors
    }

    /// `EROFS` if read-only.
    pub(crate) fn writable(&self) -> Result<(), Errno> {
        if self.readonly {
            Err(Errno::RoFs)
        } else {
            Ok(())
        }
    }

    /// Records corruption: logs `what`, marks the superblock as having
    /// errors (written at the next sync), and gives `EIO`.
    pub(crate) fn corrupt(&mut self, what: &str) -> Errno {
        log::error!("ext2: corrupt file system: {what}");
        self.errors = self.errors.saturating_add(1);
        if !self.readonly {
            let state = self.sb.state();
            self.sb.set_state(state | STATE_ERROR);
            self.sb_dirty = true;
        }
        Errno::Io
    }

    /// `EIO` unless `b` is a block of the file system's data area (not its
    /// superblocks, descriptors, bitmaps or inode tables): what an inode or
    /// an indirect block may point to.
    pub(crate) fn check_block(&mut self, b: u32) -> Result<u32, Errno> {
        if b < self.sb.first_data_block() || b >= self.sb.blocks_count() {
            return Err(self.corrupt(&format!("block number {b} out of range")));
        }
        if self.is_metadata(b) {
            return Err(self.corrupt(&format!("block {b} is file system metadata")));
        }
        Ok(b)
    }

    // ---- inodes ----

    /// Where inode `ino` is: its table block and the byte offset in it.
    pub(crate) fn inode_location(&self, ino: u32) -> Result<(u32, usize), Errno> {
        if ino == 0 || ino > self.sb.inodes_count() {
            return Err(Errno::NoEnt);
        }
        let index = ino - 1;
        let g = (index / self.ipg) as usize;
        let within = index % self.ipg;
        let table = self.groups.get(g).ok_or(Errno::NoEnt)?.inode_table();
        let block = table + within / self.ipb;
        let offset = (within % self.ipb) as usize * self.inode_size;
        Ok((block, offset))
    }

    /// Inode `ino` as on disk (whether in use or not).
    ///
    /// # Errors
    ///
    /// `ENOENT` for a number out of range, `EIO` if its table block cannot
    /// be read.
    pub fn read_inode(&mut self, ino: u32) -> Result<Inode, Errno> {
        let (block, offset) = self.inode_location(ino)?;
        let raw = self.cache.get(&mut self.dev, block)?;
        Ok(Inode::decode(
            &raw[offset..offset + self.inode_size],
            self.hurd,
        ))
    }

    /// Inode `ino`, which must be in use (a mode, links or an open port).
    pub(crate) fn live_inode(&mut self, ino: u32) -> Result<Inode, Errno> {
        let i = self.read_inode(ino)?;
        if i.mode & 0xffff == 0 || (i.links == 0 && !self.open.contains(&ino)) {
            return Err(Errno::NoEnt);
        }
        Ok(i)
    }

    /// Writes inode `ino` into its table block (in the cache).
    pub(crate) fn write_inode(&mut self, ino: u32, inode: &Inode) -> Result<(), Errno> {
        self.writable()?;
        let (block, offset) = self.inode_location(ino)?;
        let isz = self.inode_size;
        let hurd = self.hurd;
        let raw = self.cache.get_mut(&mut self.dev, block)?;
        inode.encode(&mut raw[offset..offset + isz], hurd);
        Ok(())
    }

    // ---- writing back ----

    fn write_superblock(&mut self) -> Result<(), Errno> {
        let raw = *self.sb.as_bytes();
        self.dev.write_at(SUPERBLOCK_OFFSET, &raw)?;
        self.sb_dirty = false;
        Ok(())
    }

    /// Puts changed group descriptors into the table's blocks.
    fn store_groups(&mut self) -> Result<(), Errno> {
        let per_block = (self.bs / DESC_SIZE) as u32;
        let first = self.sb.first_data_block() + 1;
        let dirty = core::mem::take(&mut self.groups_dirty);
        for g in dirty {
            let block = first + g / per_block;
            let off = (g % per_block) as usize * DESC_SIZE;
            let desc = *self.groups[g as usize].as_bytes();
            let raw = self.cache.get_mut(&mut self.dev, block)?;
            raw[off..off + DESC_SIZE].copy_from_slice(&desc);
        }
        Ok(())
    }

    /// Writes everything changed back and has the device make it durable
    /// (`sync`).
    ///
    /// # Errors
    ///
    /// The device's.
    pub fn sync_all(&mut self) -> Result<(), Errno> {
        if self.readonly {
            return Ok(());
        }
        self.store_groups()?;
        self.cache.flush(&mut self.dev)?;
        let now = self.now();
        self.sb.set_wtime(now.sec as u32);
        self.write_superblock()?;
        self.dev.flush()?;
        self.last_sync = now.sec;
        Ok(())
    }

    /// After a change: writes it back at once under
    /// [`SyncPolicy::Synchronous`], or everything when the interval has
    /// passed.
    pub(crate) fn after_change(&mut self) -> Result<(), Errno> {
        match self.sync {
            SyncPolicy::Synchronous => self.sync_all(),
            SyncPolicy::Interval(n) if n > 0 => {
                let now = self.now().sec;
                if now.saturating_sub(self.last_sync) >= n as i64 {
                    self.sync_all()
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Writes everything back if something waits and it is due: at once
    /// under [`SyncPolicy::Synchronous`], when the interval has passed
    /// under [`SyncPolicy::Interval`], never under [`SyncPolicy::Never`].
    /// What a host's timer calls, about once a second.
    ///
    /// # Errors
    ///
    /// What writing back met (`EIO`).
    pub fn write_back_due(&mut self) -> Result<(), Errno> {
        if self.is_dirty() {
            self.after_change()
        } else {
            Ok(())
        }
    }

    /// Whether anything is waiting to be written.
    pub fn is_dirty(&self) -> bool {
        self.sb_dirty || !self.groups_dirty.is_empty() || self.cache.is_dirty()
    }

    /// Unmounts cleanly: frees the files that were only kept for their
    /// open ports, writes everything back and marks the file system clean
    /// (unless it was not clean when mounted, or errors were found).
    ///
    /// # Errors
    ///
    /// The device's; the file system stays mounted.
    pub fn unmount(&mut self) -> Result<(), Errno> {
        if self.readonly {
            return Ok(());
        }
        self.open.clear();
        let orphans = core::mem::take(&mut self.orphans);
        for ino in orphans {
            self.release_inode(ino)?;
        }
        self.finish()
    }

    /// Writes everything back and marks the file system clean, if it was
    /// when mounted and no errors were found since.
    fn finish(&mut self) -> Result<(), Errno> {
        self.store_groups()?;
        self.cache.flush(&mut self.dev)?;
        if self.clean_at_mount && self.errors == 0 && self.sb.state() & STATE_ERROR == 0 {
            let state = self.sb.state();
            self.sb.set_state(state | STATE_VALID);
        }
        self.sync_all()
    }

    /// The file system's status for `statfs`.
    pub fn statfs(&self) -> Statfs {
        let free = self.sb.free_blocks_count() as u64;
        let reserved = self.sb.r_blocks_count() as u64;
        let ffree = self.sb.free_inodes_count() as u64;
        Statfs {
            fstype: FSTYPE_EXT2FS,
            bsize: self.bs as u32,
            blocks: self.sb.blocks_count() as u64,
            bfree: free,
            bavail: free.saturating_sub(reserved),
            files: self.sb.inodes_count() as u64,
            ffree,
            fsid: u64::from_le_bytes(self.sb.uuid()[..8].try_into().unwrap_or_default()),
            namelen: 255,
            favail: ffree,
            frsize: self.bs as u32,
            flag: if self.readonly { ST_RDONLY } else { 0 },
        }
    }

    /// The options as `fsys_get_options` shows them.
    pub fn options(&self) -> Vec<String> {
        let mut v = vec![String::from(if self.readonly {
            "--readonly"
        } else {
            "--writable"
        })];
        v.push(match self.sync {
            SyncPolicy::Synchronous => String::from("--sync"),
            SyncPolicy::Interval(n) => format!("--sync={n}"),
            SyncPolicy::Never => String::from("--no-sync"),
        });
        v.push(String::from(match self.atime {
            AtimePolicy::Always => "--atime",
            AtimePolicy::Relative => "--relatime",
            AtimePolicy::Never => "--no-atime",
        }));
        v
    }

    /// Applies run-time options, as `fsysopts` gives them: `--readonly`
    /// (`-r`), `--writable` (`-w`), `--sync[=N]` (`-s`), `--no-sync`
    /// (`-n`), `--atime`, `--relatime`, `--no-atime`, `--update` (`-u`,
    /// write everything back). All are checked before any applies.
    ///
    /// # Errors
    ///
    /// `EINVAL` for an unknown option; `EROFS` for `--writable` on a file
    /// system that cannot be written; the device's.
    pub fn set_options(&mut self, argv: &[&str]) -> Result<(), Errno> {
        let mut readonly = self.readonly;
        let mut sync = self.sync;
        let mut atime = self.atime;
        let mut update = false;
        for a in argv {
            match *a {
                "--readonly" | "-r" => readonly = true,
                "--writable" | "-w" => readonly = false,
                "--sync" | "-s" => sync = SyncPolicy::Synchronous,
                "--no-sync" | "-n" => sync = SyncPolicy::Never,
                "--atime" => atime = AtimePolicy::Always,
                "--relatime" => atime = AtimePolicy::Relative,
                "--no-atime" => atime = AtimePolicy::Never,
                "--update" | "-u" | "--remount" => update = true,
                _ => {
                    let n = a
                        .strip_prefix("--sync=")
                        .or_else(|| a.strip_prefix("-s"))
                        .and_then(|n| n.parse::<u32>().ok())
                        .ok_or(Errno::Inval)?;
                    sync = if n == 0 {
                        SyncPolicy::Never
                    } else {
                        SyncPolicy::Interval(n)
                    };
                }
            }
        }
        if !readonly && self.readonly {
            if self.sb.unwritable_features() != 0 {
                return Err(Errno::RoFs);
            }
            self.readonly = false;
            self.readonly_reason = None;
            self.begin_writing()?;
        } else if readonly && !self.readonly {
            self.finish()?;
            self.readonly = true;
        }
        self.atime = atime;
        // Going synchronous writes out what is pending, as the Hurd does.
        let was = self.sync;
        self.sync = sync;
        if update || (sync == SyncPolicy::Synchronous && was != sync) {
            self.sync_all()?;
        }
        Ok(())
    }
}
