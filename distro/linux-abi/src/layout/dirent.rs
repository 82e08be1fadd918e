//! `struct linux_dirent64`, as `getdents64` packs directory entries.

use alloc::vec::Vec;

use crate::bytes::{put_i64, put_u16, put_u64};

/// `DT_UNKNOWN`.
pub const DT_UNKNOWN: u8 = 0;
/// `DT_FIFO`.
pub const DT_FIFO: u8 = 1;
/// `DT_CHR`.
pub const DT_CHR: u8 = 2;
/// `DT_DIR`.
pub const DT_DIR: u8 = 4;
/// `DT_BLK`.
pub const DT_BLK: u8 = 6;
/// `DT_REG`.
pub const DT_REG: u8 = 8;
/// `DT_LNK`.
pub const DT_LNK: u8 = 10;
/// `DT_SOCK`.
pub const DT_SOCK: u8 = 12;

/// The `d_type` of a file whose mode (or just its `S_IFMT` bits) is
/// `mode`: the type bits shifted down, as on Linux and the Hurd alike.
pub const fn dt_from_mode(mode: u32) -> u8 {
    match (mode >> 12) & 0xf {
        t @ (1 | 2 | 4 | 6 | 8 | 10 | 12) => t as u8,
        _ => DT_UNKNOWN,
    }
}

/// Bytes before `d_name`: `d_ino` (8), `d_off` (8), `d_reclen` (2),
/// `d_type` (1).
pub const HEADER: usize = 19;

/// The record length of an entry named `name`: header, name, NUL, rounded
/// up to 8.
pub const fn reclen(name_len: usize) -> usize {
    (HEADER + name_len + 1 + 7) & !7
}

/// Packs entries into a buffer of a program's size, as `getdents64` does.
#[derive(Debug)]
pub struct DirentWriter {
    buf: Vec<u8>,
    limit: usize,
}

impl DirentWriter {
    /// A writer for a program buffer of `limit` bytes (the kernel's answer
    /// never exceeds it).
    pub fn new(limit: usize) -> DirentWriter {
        DirentWriter {
            buf: Vec::new(),
            limit,
        }
    }

    /// Appends an entry; `false` (and nothing written) when it does not fit,
    /// or when the name is empty or holds a NUL or `/`. `off` is the
    /// position *after* this entry (what `lseek` takes to resume there).
    pub fn push(&mut self, ino: u64, off: i64, d_type: u8, name: &[u8]) -> bool {
        if name.is_empty() || name.contains(&0) || name.contains(&b'/') {
            return false;
        }
        let len = reclen(name.len());
        if len > u16::MAX as usize || self.buf.len() + len > self.limit {
            return false;
        }
        let at = self.buf.len();
        self.buf.resize(at + len, 0);
        let rec = &mut self.buf[at..];
        put_u64(rec, 0, ino);
        put_i64(rec, 8, off);
        put_u16(rec, 16, len as u16);
        rec[18] = d_type;
        rec[HEADER..HEADER + name.len()].copy_from_slice(name);
        true
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The packed entries.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}
