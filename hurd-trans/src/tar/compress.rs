//! Compressed archives, recognised by their magic numbers.

use core::fmt;

/// A compression format an archive may come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Compression {
    /// gzip (`.tar.gz`, `.tgz`).
    Gzip,
    /// bzip2 (`.tar.bz2`).
    Bzip2,
    /// xz (`.tar.xz`).
    Xz,
    /// Zstandard (`.tar.zst`).
    Zstd,
    /// lzip (`.tar.lz`).
    Lzip,
    /// LZ4 frames (`.tar.lz4`).
    Lz4,
    /// Unix `compress` (`.tar.Z`).
    Compress,
}

impl Compression {
    /// The compression whose magic number `start` begins with, if any.
    pub fn detect(start: &[u8]) -> Option<Compression> {
        const MAGIC: &[(&[u8], Compression)] = &[
            (&[0x1f, 0x8b], Compression::Gzip),
            (b"BZh", Compression::Bzip2),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0], Compression::Xz),
            (&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
            (b"LZIP", Compression::Lzip),
            (&[0x04, 0x22, 0x4d, 0x18], Compression::Lz4),
            (&[0x1f, 0x9d], Compression::Compress),
        ];
        MAGIC
            .iter()
            .find(|(m, _)| start.starts_with(m))
            .map(|&(_, c)| c)
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Lzip => "lzip",
            Compression::Lz4 => "lz4",
            Compression::Compress => "compress",
        })
    }
}
