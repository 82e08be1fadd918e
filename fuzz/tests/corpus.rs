//! Every fuzz target on stable: over its corpus (`fuzz/corpus/TARGET/`),
//! its regressions (`fuzz/regressions/TARGET/`, inputs that once failed),
//! the seeds made from the encoders (`fuzz_targets::seeds`), and a fixed
//! number of seeded mutations of all of them (`HURD_FUZZ_ITERATIONS`, 2,000 by default), so
//! `cargo xtask test` replays what fuzzing found without nightly. An input
//! that panics is written to the system's temporary directory, named in the
//! failure, to be kept under `fuzz/regressions/TARGET/` once fixed.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};

use fuzz_targets::{TARGETS, seeds};

fn dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(kind)
        .join(target)
}

/// The files of a directory (none when it does not exist), by name.
fn files(path: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(path) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| std::fs::read(&p).expect("read a corpus file"))
        .collect()
}

/// xorshift64*: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// A few changes of the kinds fuzzers make: bits flipped, bytes set to
/// edge values, bytes inserted or removed, the input cut short, a piece
/// repeated.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    const EDGES: [u8; 6] = [0, 1, 0x7f, 0x80, 0xfe, 0xff];
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len());
        match rng.below(6) {
            0 if !out.is_empty() => out[at] ^= 1 << rng.below(8),
            1 if !out.is_empty() => out[at] = EDGES[rng.below(EDGES.len())],
            2 => out.insert(at.min(out.len()), rng.next() as u8),
            3 if !out.is_empty() => {
                out.remove(at);
            }
            4 => out.truncate(at),
            _ if out.len() >= 4 => {
                let len = 1 + rng.below(out.len().min(64));
                let from = rng.below(out.len() - len + 1);
                let piece = out[from..from + len].to_vec();
                let to = rng.below(out.len());
                out.splice(to..to, piece);
            }
            _ => out.push(rng.next() as u8),
        }
    }
    out
}

/// Runs `f` on `input`; on a panic, saves the input and names it.
fn run_one(target: &str, f: fn(&[u8]), input: &[u8]) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(input))) {
        let path = std::env::temp_dir().join(format!(
            "fuzz-targets-{target}-{:016x}",
            input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })
        ));
        let _ = std::fs::write(&path, input);
        eprintln!("{target}: an input failed, saved as {}", path.display());
        resume_unwind(panic);
    }
}

#[test]
fn every_target_over_its_corpus_and_mutations() {
    let iterations: usize = std::env::var("HURD_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    for &(target, f) in TARGETS {
        let mut inputs = files(&dir("corpus", target));
        inputs.extend(files(&dir("regressions", target)));
        let seeds = seeds(target);
        assert!(!seeds.is_empty(), "{target} has no seeds");
        inputs.extend(seeds);
        let mut executions = 0;
        for input in &inputs {
            run_one(target, f, input);
            executions += 1;
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
        for _ in 0..iterations {
            let base = &inputs[rng.below(inputs.len())];
            let input = mutate(&mut rng, base);
            run_one(target, f, &input);
            executions += 1;
        }
        println!(
            "{target}: {executions} executions ({} corpus inputs)",
            inputs.len()
        );
    }
}

#[test]
fn every_target_has_a_fuzz_binary() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    for &(target, _) in TARGETS {
        assert!(
            manifest.contains(&format!("path = \"fuzz_targets/{target}.rs\"")),
            "{target} has no [[bin]] in fuzz/Cargo.toml"
        );
    }
}

/// The seeds are inputs the decoders accept, so the mutations start from
/// the inside of each format rather than its first check.
#[test]
fn the_seeds_are_accepted() {
    use hurd_ipc::wire::{self, Limits};
    for seed in seeds("ipc_wire") {
        wire::decode(&seed, &Limits::DEFAULT).expect("a message");
    }
    for seed in seeds("netmsg_frame") {
        hurd_netmsg::frame::decode(&seed, &Limits::DEFAULT).expect("a frame");
    }
    for seed in seeds("elf") {
        hurd_abi::elf::parse(&seed, 0x1000, 0x8000_0000_0000).expect("an executable");
    }
    for seed in seeds("manifest") {
        distro_image::Manifest::parse_bytes(&seed).expect("a manifest");
    }
    for seed in seeds("pager_replies") {
        // Steps of an operation, a length and that many bytes; operations
        // 0 and 1 carry a message for the control port.
        let mut rest = &seed[..];
        let mut messages = 0;
        while let [op, lo, hi, tail @ ..] = rest {
            let (chunk, tail) = tail.split_at(usize::from(u16::from_le_bytes([*lo, *hi])));
            if op % 4 < 2 {
                let msg = wire::decode(chunk, &Limits::DEFAULT).expect("a message");
                hurd_vm::ControlCall::decode(msg).expect("a memory_object call");
                messages += 1;
            }
            rest = tail;
        }
        assert!(rest.is_empty() && messages == 2);
    }
}
