//! `random`: `/dev/random` and `/dev/urandom`, as the Hurd's random
//! translator serves them — a character device whose reads never end and
//! never block.
//!
//! The bytes come from ChaCha20 ([`rand_chacha`], RFC 8439's block
//! function as a generator) under a 256-bit key the translator's host
//! seeds ([`Host::entropy`](super::programs::Host::entropy): the
//! processor's `RDSEED`/`RDRAND` on the hurd-rs kernel, the host's
//! `/dev/urandom` in the hosted world). After every read the generator
//! takes a new key from its own output ("fast key erasure"), so a key
//! found later does not give away bytes already read. A write mixes the
//! written bytes into the key (each 32-byte piece XORed into a fresh key
//! drawn from the generator), as writing to Linux's `/dev/urandom` mixes
//! into its pool without crediting entropy: whoever writes learns nothing
//! of the key and cannot make it weaker.
//!
//! As on Linux since 5.6, `/dev/random` and `/dev/urandom` behave the same
//! once seeded, and a seed is there before the first read, so neither
//! blocks.

use alloc::vec;
use alloc::vec::Vec;

use hurd_ipc::Errno;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::mode::S_IFCHR;
use crate::stat::Stat;
use crate::trivfs::TrivFs;

/// The generator's key size.
pub const SEED_LEN: usize = 32;

/// The random device.
pub struct Random {
    rng: ChaCha20Rng,
}

impl core::fmt::Debug for Random {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("Random").finish_non_exhaustive()
    }
}

impl Random {
    /// A device keyed with `seed`.
    pub fn new(seed: [u8; SEED_LEN]) -> Random {
        Random {
            rng: ChaCha20Rng::from_seed(seed),
        }
    }

    /// `buf` filled with the generator's bytes, then a new key.
    pub fn fill(&mut self, buf: &mut [u8]) {
        self.rng.fill_bytes(buf);
        self.rekey(&[]);
    }

    /// A new key from the generator's output, with `mix` (at most
    /// [`SEED_LEN`] bytes) XORed in.
    fn rekey(&mut self, mix: &[u8]) {
        let mut key = [0u8; SEED_LEN];
        self.rng.fill_bytes(&mut key);
        for (k, m) in key.iter_mut().zip(mix) {
            *k ^= m;
        }
        self.rng = ChaCha20Rng::from_seed(key);
    }
}

impl TrivFs for Random {
    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFCHR | 0o666,
            ..Stat::default()
        }
    }

    fn read(&mut self, _offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let mut out = vec![0; len];
        self.fill(&mut out);
        Ok(out)
    }

    fn write(&mut self, _offset: u64, data: &[u8]) -> Result<usize, Errno> {
        for piece in data.chunks(SEED_LEN) {
            self.rekey(piece);
        }
        Ok(data.len())
    }

    /// `O_TRUNC` on open: nothing to cut.
    fn set_size(&mut self, _size: u64) -> Result<(), Errno> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(r: &mut Random, len: usize) -> Vec<u8> {
        r.read(0, len).expect("a read")
    }

    #[test]
    fn the_same_key_gives_the_same_bytes_and_another_key_others() {
        let mut a = Random::new([7; SEED_LEN]);
        let mut b = Random::new([7; SEED_LEN]);
        let mut c = Random::new([8; SEED_LEN]);
        let (x, y, z) = (read(&mut a, 64), read(&mut b, 64), read(&mut c, 64));
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn reads_are_full_and_never_repeat() {
        let mut r = Random::new([1; SEED_LEN]);
        let first = read(&mut r, 4096);
        let second = read(&mut r, 4096);
        assert_eq!(first.len(), 4096);
        assert_ne!(first, second);
        // A new key after each read: the second read is not the stream's
        // continuation.
        let mut same = Random::new([1; SEED_LEN]);
        let mut both = vec![0; 8192];
        same.rng.fill_bytes(&mut both);
        assert_eq!(both[..4096], first[..]);
        assert_ne!(both[4096..], second[..]);
        // Every byte value turns up in 64 KiB (a stuck or short generator
        // would miss some).
        let big = read(&mut r, 1 << 16);
        let mut seen = [false; 256];
        for b in big {
            seen[usize::from(b)] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert!(read(&mut r, 0).is_empty());
    }

    #[test]
    fn a_write_changes_the_key_and_is_taken_whole() {
        let mut a = Random::new([3; SEED_LEN]);
        let mut b = Random::new([3; SEED_LEN]);
        assert_eq!(a.write(0, &[0xaa; 100]), Ok(100));
        assert_eq!(a.write(0, &[]), Ok(0));
        assert_ne!(read(&mut a, 32), read(&mut b, 32));
    }

    #[test]
    fn it_is_a_character_device_everyone_reads_and_writes() {
        let r = Random::new([0; SEED_LEN]);
        assert_eq!(r.stat().mode, S_IFCHR | 0o666);
        assert_eq!(format!("{r:?}"), "Random { .. }");
    }
}
