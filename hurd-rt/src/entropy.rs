//! Entropy for seeding a random number generator: the processor's own
//! generator where it has one, the timer's jitter where it has none.
//!
//! [`gather`] fills a seed from the best source the processor offers:
//!
//! 1. `RDSEED` (CPUID leaf 7, EBX bit 18): the processor's entropy source
//!    itself, meant for seeding;
//! 2. `RDRAND` (CPUID leaf 1, ECX bit 30): a generator the processor
//!    reseeds from that source — every x86-64 processor since 2012–2015
//!    has it, and QEMU gives it to a guest with `-cpu …,+rdrand`;
//! 3. otherwise the jitter of the time-stamp counter across calls into the
//!    kernel: weak, and said so by the [`Source`] it returns.
//!
//! Both instructions are unprivileged, so a program needs nobody's leave
//! to use them — the random translator (`/hurd/random`, behind
//! `/dev/random` and `/dev/urandom`) and the exec server (the `AT_RANDOM`
//! bytes of a Linux program) seed themselves here. Off x86-64 only the
//! jitter source exists.

/// Where [`gather`]'s bytes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The processor's entropy source (`RDSEED`).
    Rdseed,
    /// The processor's random number generator (`RDRAND`).
    Rdrand,
    /// The time-stamp counter's jitter (no processor generator): weak.
    Jitter,
}

impl Source {
    /// The source's name, as a console line shows it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Rdseed => "rdseed",
            Source::Rdrand => "rdrand",
            Source::Jitter => "timer jitter",
        }
    }

    /// Whether the source is the processor's (not only jitter).
    pub fn is_hardware(self) -> bool {
        self != Source::Jitter
    }
}

/// How many times a processor instruction is tried for one word before the
/// source counts as failing (Intel's guidance for `RDRAND` is ten).
const RETRIES: usize = 10;

/// Fills `seed` from the best source there is and says which. Every byte
/// of `seed` is written; a processor generator that stops answering part
/// way falls back to the next source for the rest (the answer names the
/// weakest source used).
pub fn gather(seed: &mut [u8]) -> Source {
    let features = cpu::features();
    let mut source = if features.rdseed {
        Source::Rdseed
    } else if features.rdrand {
        Source::Rdrand
    } else {
        Source::Jitter
    };
    for chunk in seed.chunks_mut(8) {
        let word = loop {
            let word = match source {
                Source::Rdseed => cpu::rdseed(),
                Source::Rdrand => cpu::rdrand(),
                Source::Jitter => Some(jitter_word()),
            };
            match word {
                Some(w) => break w,
                None if source == Source::Rdseed && features.rdrand => source = Source::Rdrand,
                None => source = Source::Jitter,
            }
        };
        chunk.copy_from_slice(&word.to_le_bytes()[..chunk.len()]);
    }
    source
}

/// One word of timer jitter: the low bits of the time-stamp counter around
/// 64 calls into the kernel, folded together (each round multiplies and
/// rotates, so every delta moves every bit).
fn jitter_word() -> u64 {
    let mut acc: u64 = cpu::timestamp();
    for _ in 0..64 {
        let before = cpu::timestamp();
        let _ = crate::time::uptime();
        let delta = cpu::timestamp().wrapping_sub(before);
        acc = (acc ^ delta)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(23);
    }
    acc
}

#[cfg(target_arch = "x86_64")]
mod cpu {
    use core::arch::asm;

    /// The processor's random number instructions.
    #[derive(Clone, Copy)]
    pub(super) struct Features {
        pub rdrand: bool,
        pub rdseed: bool,
    }

    /// `CPUID` for `leaf` and `subleaf`: EAX, EBX, ECX, EDX.
    fn cpuid(leaf: u32, subleaf: u32) -> [u32; 4] {
        let (eax, ebx, ecx, edx): (u32, u32, u32, u32);
        // SAFETY: CPUID only writes the four registers named here; RBX,
        // which the compiler keeps for itself, is saved in another
        // register and put back. Every x86-64 processor has CPUID.
        unsafe {
            asm!(
                "mov {saved:r}, rbx",
                "cpuid",
                "xchg {saved:r}, rbx",
                saved = out(reg) ebx,
                inout("eax") leaf => eax,
                inout("ecx") subleaf => ecx,
                out("edx") edx,
                options(nomem, nostack, preserves_flags),
            );
        }
        [eax, ebx, ecx, edx]
    }

    pub(super) fn features() -> Features {
        let max = cpuid(0, 0)[0];
        let rdrand = cpuid(1, 0)[2] & (1 << 30) != 0;
        let rdseed = max >= 7 && cpuid(7, 0)[1] & (1 << 18) != 0;
        Features { rdrand, rdseed }
    }

    /// One word from the processor instruction `$insn` (`rdrand` or
    /// `rdseed`), or `None` when it gave none in
    /// [`RETRIES`](super::RETRIES) tries (it sets the carry flag when the
    /// word is good).
    macro_rules! word_from {
        ($insn:literal) => {{
            let mut word = None;
            for _ in 0..super::RETRIES {
                let (value, ok): (u64, u8);
                // SAFETY: the instruction, which CPUID says this processor
                // has (its callers check), writes the register and the
                // carry flag; it touches no memory.
                unsafe {
                    asm!(
                        concat!($insn, " {value}"),
                        "setc {ok}",
                        value = out(reg) value,
                        ok = out(reg_byte) ok,
                        options(nomem, nostack),
                    );
                }
                if ok == 1 {
                    word = Some(value);
                    break;
                }
            }
            word
        }};
    }

    /// One `RDRAND` word (only called when CPUID lists it).
    pub(super) fn rdrand() -> Option<u64> {
        word_from!("rdrand")
    }

    /// One `RDSEED` word (only called when CPUID lists it).
    pub(super) fn rdseed() -> Option<u64> {
        word_from!("rdseed")
    }

    /// The time-stamp counter.
    pub(super) fn timestamp() -> u64 {
        let (lo, hi): (u32, u32);
        // SAFETY: RDTSC writes EDX:EAX; user mode may use it unless the
        // kernel sets CR4.TSD, which hurd-rs's does not.
        unsafe {
            asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags));
        }
        (u64::from(hi) << 32) | u64::from(lo)
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod cpu {
    #[derive(Clone, Copy)]
    pub(super) struct Features {
        pub rdrand: bool,
        pub rdseed: bool,
    }

    pub(super) fn features() -> Features {
        Features {
            rdrand: false,
            rdseed: false,
        }
    }

    pub(super) fn rdrand() -> Option<u64> {
        None
    }

    pub(super) fn rdseed() -> Option<u64> {
        None
    }

    /// The kernel's clock in nanoseconds, for want of a cycle counter.
    pub(super) fn timestamp() -> u64 {
        crate::time::uptime().as_nanos() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_is_written_and_two_seeds_differ() {
        let mut a = [0u8; 37];
        let mut b = [0u8; 37];
        let sa = gather(&mut a);
        let sb = gather(&mut b);
        assert_eq!(sa.is_hardware(), sb.is_hardware());
        assert_ne!(a, b, "two seeds from {} were equal", sa.name());
        assert!(a.iter().any(|&x| x != 0));
    }
}
