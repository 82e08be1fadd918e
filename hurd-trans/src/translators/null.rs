//! `null` and `zero`: `/dev/null` (reads are end of file, writes vanish;
//! with `full`, writes fail with `ENOSPC` as `/dev/full`'s do) and
//! `/dev/zero` (reads give zeros, writes vanish).

use alloc::vec;
use alloc::vec::Vec;
use hurd_ipc::Errno;

use crate::mode::S_IFCHR;
use crate::stat::Stat;
use crate::trivfs::TrivFs;

/// `/dev/null` (or `/dev/full`).
#[derive(Debug, Default)]
pub struct Null {
    /// Behave as `/dev/full`.
    pub full: bool,
}

impl TrivFs for Null {
    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFCHR | 0o666,
            ..Stat::default()
        }
    }
    fn read(&mut self, _offset: u64, _len: usize) -> Result<Vec<u8>, Errno> {
        Ok(Vec::new())
    }
    fn write(&mut self, _offset: u64, data: &[u8]) -> Result<usize, Errno> {
        if self.full {
            Err(Errno::NoSpc)
        } else {
            Ok(data.len())
        }
    }
    fn set_size(&mut self, _size: u64) -> Result<(), Errno> {
        Ok(())
    }
}

/// `/dev/zero`.
#[derive(Debug, Default)]
pub struct Zero;

impl TrivFs for Zero {
    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFCHR | 0o666,
            ..Stat::default()
        }
    }
    fn read(&mut self, _offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        Ok(vec![0; len])
    }
    fn write(&mut self, _offset: u64, data: &[u8]) -> Result<usize, Errno> {
        Ok(data.len())
    }
    fn set_size(&mut self, _size: u64) -> Result<(), Errno> {
        Ok(())
    }
}
