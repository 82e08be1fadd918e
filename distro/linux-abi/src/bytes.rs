//! Little-endian field access on byte slices: every structure in this crate
//! is encoded and decoded through these, never by reinterpreting memory.

/// Writes `v` at `off` in `b` (which the caller sized for the structure).
pub(crate) fn put_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

/// Writes `v` at `off`.
pub(crate) fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// Writes `v` at `off`.
pub(crate) fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// Writes `v` at `off`.
pub(crate) fn put_i32(b: &mut [u8], off: usize, v: i32) {
    put_u32(b, off, v as u32);
}

/// Writes `v` at `off`.
pub(crate) fn put_i64(b: &mut [u8], off: usize, v: i64) {
    put_u64(b, off, v as u64);
}

/// Reads a `u16` at `off` of a slice at least `off + 2` long.
pub(crate) fn u16_at(b: &[u8], off: usize) -> u16 {
    let mut a = [0; 2];
    a.copy_from_slice(&b[off..off + 2]);
    u16::from_le_bytes(a)
}

/// Reads a `u32` at `off`.
pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}

/// Reads a `u64` at `off`.
pub(crate) fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

/// Reads an `i32` at `off`.
pub(crate) fn i32_at(b: &[u8], off: usize) -> i32 {
    u32_at(b, off) as i32
}

/// Reads an `i64` at `off`.
pub(crate) fn i64_at(b: &[u8], off: usize) -> i64 {
    u64_at(b, off) as i64
}

/// Writes `v` at `off`.
pub(crate) fn put_i16(b: &mut [u8], off: usize, v: i16) {
    put_u16(b, off, v as u16);
}

/// Reads an `i16` at `off`.
pub(crate) fn i16_at(b: &[u8], off: usize) -> i16 {
    u16_at(b, off) as i16
}
