//! A program's arguments and environment, and the raw value its first
//! thread was started with.
//!
//! A loader (the distro's exec server, `hurd-init`) writes the arguments
//! and environment as one block ([`mod@block`]) at [`block::ARGS_ADDR`] in the new
//! task and starts its first thread with that address as its argument. A
//! program started otherwise (the kernel's tests, which pass a number; the
//! bootstrap task, which gets the boot information) has no block: [`args`]
//! and [`vars`] are empty, and [`start_arg`] is what it got.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

/// The first thread's argument, stored by the entry point.
static START_ARG: AtomicU64 = AtomicU64::new(0);

/// Records the first thread's argument (the entry point's first act).
pub(crate) fn set_start_arg(arg: u64) {
    START_ARG.store(arg, Ordering::Relaxed);
}

/// The value the program's first thread was started with (its `rdi`): the
/// arguments block's address, the boot information's, or a number a test
/// passed.
pub fn start_arg() -> u64 {
    START_ARG.load(Ordering::Relaxed)
}

/// The arguments block the loader gave this program, if it gave one.
pub fn args_block() -> Option<block::Args<'static>> {
    if start_arg() != block::ARGS_ADDR {
        return None;
    }
    // SAFETY: a loader that starts a program with ARGS_ADDR as its argument
    // has mapped ARGS_MAX bytes there (that is what the address as the
    // argument says; `decode` checks what is there), and nothing unmaps them:
    // the safe API cannot deallocate memory it does not own.
    let bytes =
        unsafe { core::slice::from_raw_parts(block::ARGS_ADDR as *const u8, block::ARGS_MAX) };
    block::decode(bytes)
}

/// The program's arguments, its name first (`argv`); empty when the loader
/// gave none.
pub fn args() -> Vec<&'static str> {
    args_block().map(|b| b.argv).unwrap_or_default()
}

/// The program's environment as (name, value) pairs, in order; a string
/// without `=` is a name with an empty value.
pub fn vars() -> Vec<(&'static str, &'static str)> {
    args_block()
        .map(|b| {
            b.envp
                .into_iter()
                .map(|e| e.split_once('=').unwrap_or((e, "")))
                .collect()
        })
        .unwrap_or_default()
}

/// The value of the environment variable `name` (the first one so named).
pub fn var(name: &str) -> Option<&'static str> {
    vars().into_iter().find(|(n, _)| *n == name).map(|(_, v)| v)
}

/// The arguments block: its place, its layout, and how to make and read it.
///
/// One block at [`ARGS_ADDR`](block::ARGS_ADDR): the magic
/// [`ARGS_MAGIC`](block::ARGS_MAGIC), the argument and environment counts
/// and the block's length (four little-endian u64s), then every string
/// NUL-terminated, arguments first. It lies in the program's own memory,
/// written by whoever started it: [`decode`](block::decode) checks it (magic,
/// counts, length, UTF-8, NULs) and gives `None` for anything malformed.
pub mod block {
    use alloc::vec::Vec;

    /// Where the block lies: right below the first thread's stack.
    pub const ARGS_ADDR: u64 =
        hurd_abi::USER_STACK_TOP - hurd_abi::USER_STACK_SIZE - ARGS_MAX as u64;

    /// The block's largest size (16 pages).
    pub const ARGS_MAX: usize = 64 * 1024;

    /// The block's first word.
    pub const ARGS_MAGIC: u64 = u64::from_le_bytes(*b"HURDARGS");

    /// A program's arguments and environment, borrowed from a block.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Args<'a> {
        /// `argv`, the program's name first.
        pub argv: Vec<&'a str>,
        /// `envp`: `NAME=value` strings.
        pub envp: Vec<&'a str>,
    }

    /// The block for `argv` and `envp`; `None` if it would pass
    /// [`ARGS_MAX`] or a string holds a NUL.
    pub fn encode(argv: &[&str], envp: &[&str]) -> Option<Vec<u8>> {
        let strings: usize = argv.iter().chain(envp).map(|s| s.len() + 1).sum();
        if 32 + strings > ARGS_MAX {
            return None;
        }
        let mut out = Vec::with_capacity(32 + strings);
        let len = (32 + strings) as u64;
        for w in [ARGS_MAGIC, argv.len() as u64, envp.len() as u64, len] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        for s in argv.iter().chain(envp) {
            if s.as_bytes().contains(&0) {
                return None;
            }
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        Some(out)
    }

    /// The `i`-th little-endian u64 of `bytes`.
    fn word(bytes: &[u8], i: usize) -> Option<u64> {
        let b = bytes.get(8 * i..8 * i + 8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    /// The block's length as its header gives it (at most [`ARGS_MAX`]);
    /// `None` without the magic.
    pub fn block_len(header: &[u8]) -> Option<usize> {
        (word(header, 0)? == ARGS_MAGIC)
            .then_some(usize::try_from(word(header, 3)?).ok()?.min(ARGS_MAX))
    }

    /// Parses a block; `None` if it is malformed.
    pub fn decode(block: &[u8]) -> Option<Args<'_>> {
        if word(block, 0)? != ARGS_MAGIC {
            return None;
        }
        let (argc, envc) = (word(block, 1)?, word(block, 2)?);
        let len = usize::try_from(word(block, 3)?).ok()?;
        let body = block.get(32..len)?;
        // Every string takes at least its NUL: counts beyond that are lies.
        if argc.checked_add(envc)? > body.len() as u64 {
            return None;
        }
        let mut strings = body.split(|&b| b == 0);
        let mut take = |n: u64| -> Option<Vec<&str>> {
            (0..n)
                .map(|_| core::str::from_utf8(strings.next()?).ok())
                .collect()
        };
        let argv = take(argc)?;
        let envp = take(envc)?;
        Some(Args { argv, envp })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trip_and_refusals() {
            let block = encode(&["args", "one", "two"], &["USER=alice"]).expect("fits");
            let args = decode(&block).expect("decodes");
            assert_eq!(args.argv, ["args", "one", "two"]);
            assert_eq!(args.envp, ["USER=alice"]);
            assert_eq!(block_len(&block), Some(block.len()));
            // Wrong magic, lying counts or length, truncation: None.
            let mut bad = block.clone();
            bad[0] ^= 1;
            assert_eq!(decode(&bad), None);
            assert_eq!(block_len(&bad), None);
            let mut lying = block.clone();
            lying[8] = 9;
            assert_eq!(decode(&lying), None);
            let mut huge_count = block.clone();
            huge_count[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
            assert_eq!(decode(&huge_count), None);
            let mut long = block.clone();
            long[24] = 0xff;
            assert_eq!(decode(&long), None);
            assert_eq!(decode(&block[..20]), None);
            let mut not_utf8 = block.clone();
            not_utf8[32] = 0xff;
            assert_eq!(decode(&not_utf8), None);
            assert_eq!(encode(&["a\0b"], &[]), None);
            let huge = "x".repeat(ARGS_MAX);
            assert_eq!(encode(&[huge.as_str()], &[]), None);
            assert_eq!(
                decode(&encode(&[], &[]).expect("fits")).map(|a| a.argv.len()),
                Some(0)
            );
        }

        #[test]
        fn the_block_lies_below_the_first_stack() {
            assert_eq!(
                ARGS_ADDR + ARGS_MAX as u64,
                hurd_abi::USER_STACK_TOP - hurd_abi::USER_STACK_SIZE
            );
            assert!(ARGS_ADDR.is_multiple_of(4096));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_block_there_is_nothing() {
        // The test harness never starts us at ARGS_ADDR.
        assert!(args_block().is_none());
        assert!(args().is_empty());
        assert!(vars().is_empty());
        assert_eq!(var("HOME"), None);
    }
}
