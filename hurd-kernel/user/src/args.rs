//! A program's arguments and environment, as a loader
//! ([`crate::exec::spawn_elf`]) lays them out: one block at [`ARGS_ADDR`] in
//! the new task — the magic [`ARGS_MAGIC`], the argument and environment
//! counts and the block's length (four u64s), then every string
//! NUL-terminated, arguments first — whose address is the first thread's
//! argument.
//!
//! The block lies in the program's own memory, written by whoever started
//! it: [`read`] checks it (magic, counts, length, UTF-8, NULs) and gives
//! `None` for anything malformed.

use alloc::vec::Vec;

/// Where the block lies: below the first stack.
pub const ARGS_ADDR: u64 = hurd_abi::USER_STACK_TOP - hurd_abi::USER_STACK_SIZE - ARGS_MAX as u64;

/// The block's largest size (16 pages).
pub const ARGS_MAX: usize = 64 * 1024;

/// The block's first word.
pub const ARGS_MAGIC: u64 = u64::from_le_bytes(*b"HURDARGS");

/// A program's arguments and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args<'a> {
    /// `argv`, the program's name first.
    pub argv: Vec<&'a str>,
    /// `envp`: `NAME=value` strings.
    pub envp: Vec<&'a str>,
}

/// The block for `argv` and `envp`; `None` if it would pass [`ARGS_MAX`]
/// or a string holds a NUL.
pub fn encode(argv: &[&str], envp: &[&str]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for w in [ARGS_MAGIC, argv.len() as u64, envp.len() as u64, 0] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for s in argv.iter().chain(envp) {
        if s.as_bytes().contains(&0) {
            return None;
        }
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    let len = out.len() as u64;
    out[24..32].copy_from_slice(&len.to_le_bytes());
    (out.len() <= ARGS_MAX).then_some(out)
}

/// The block's length as its header gives it (`None` without the magic).
pub fn block_len(header: &[u8]) -> Option<usize> {
    let word = |i: usize| -> Option<u64> {
        let b = header.get(8 * i..8 * i + 8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    };
    (word(0)? == ARGS_MAGIC).then_some(usize::try_from(word(3)?).ok()?.min(ARGS_MAX))
}

/// Parses a block; `None` if it is malformed.
pub fn decode(block: &[u8]) -> Option<Args<'_>> {
    let word = |i: usize| -> Option<u64> {
        let b = block.get(8 * i..8 * i + 8)?;
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        Some(u64::from_le_bytes(w))
    };
    if word(0)? != ARGS_MAGIC {
        return None;
    }
    let (argc, envc, len) = (word(1)?, word(2)?, usize::try_from(word(3)?).ok()?);
    let body = block.get(32..len)?;
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

/// The arguments the loader gave this program, if `arg` (the first
/// thread's argument) points at a block.
pub fn read(arg: u64) -> Option<Args<'static>> {
    if arg != ARGS_ADDR {
        return None;
    }
    // SAFETY: the loader mapped ARGS_MAX bytes at ARGS_ADDR in this task
    // before starting it (that is what the address as the argument says;
    // decode checks what is there), and nothing unmaps them.
    let block = unsafe { core::slice::from_raw_parts(ARGS_ADDR as *const u8, ARGS_MAX) };
    decode(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak(v: Vec<u8>) -> &'static [u8] {
        alloc::boxed::Box::leak(v.into_boxed_slice())
    }

    #[test]
    fn round_trip_and_refusals() {
        let block = encode(&["args", "one", "two"], &["USER=alice"]).expect("fits");
        let args = decode(leak(block.clone())).expect("decodes");
        assert_eq!(args.argv, ["args", "one", "two"]);
        assert_eq!(args.envp, ["USER=alice"]);
        // Wrong magic, lying counts or length, truncation: None.
        let mut bad = block.clone();
        bad[0] ^= 1;
        assert_eq!(decode(leak(bad)), None);
        let mut lying = block.clone();
        lying[8] = 9;
        assert_eq!(decode(leak(lying)), None);
        let mut long = block.clone();
        long[24] = 0xff;
        assert_eq!(decode(leak(long)), None);
        assert_eq!(decode(leak(block[..20].to_vec())), None);
        assert_eq!(encode(&["a\0b"], &[]), None);
        let huge = "x".repeat(ARGS_MAX);
        assert_eq!(encode(&[huge.as_str()], &[]), None);
    }
}
