//! The tar reader and tarfs under hostile input: random bytes, and the
//! archives GNU tar and bsdtar made in `tests/corpus/tar/` mutated — bytes
//! changed (with the header checksums made right again, so the damage gets
//! past the first check), numeric fields smashed, blocks repeated, dropped
//! or cut short. Nothing may panic, and what an entry makes the reader hold
//! stays within its limits. Every archive in the corpus directory (the
//! seeds, and any input that once found a bug) is read on every run.
//!
//! Fuzzing for longer (release build, for as many seconds as given; an
//! input that panics is saved as `tests/corpus/tar/crash-<hash>.tar`):
//!
//! ```text
//! TAR_FUZZ_SECONDS=600 cargo test --release -p hurd-trans --test tar_fuzz -- --ignored --nocapture
//! ```

use std::path::PathBuf;

use hurd_trans::netfs::Tree;
use hurd_trans::tar::{Limits, Reader};
use hurd_trans::translators::tarfs::Tarfs;
use proptest::prelude::*;

const BLOCK: usize = 512;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/tar")
}

/// The archives of the corpus directory, by name.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus/tar")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "tar"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read"))
        })
        .collect();
    out.sort();
    out
}

/// Small limits, so that hostile inputs reach them.
const SMALL: Limits = Limits {
    max_entries: 64,
    max_name: 512,
    max_extended: 8192,
    max_global: 1024,
    max_sparse: 64,
    max_index: 1 << 16,
};

/// Reads everything an archive holds every way there is; panics only if
/// something is wrong with the reader.
fn exercise(archive: &[u8]) {
    for limits in [SMALL, Limits::default()] {
        let mut r = Reader::with_limits(archive, limits);
        let mut count = 0;
        let mut buf = [0u8; 4096];
        while let Ok(Some(e)) = r.next_entry() {
            count += 1;
            assert!(count <= limits.max_entries, "entries beyond the limit");
            assert!(e.header.path.len() <= limits.max_name);
            assert!(e.header.link.len() <= limits.max_name);
            if let Some(s) = &e.data.sparse {
                assert!(s.len() <= limits.max_sparse);
            }
            let size = e.data.size;
            for at in [0, size / 2, size.saturating_sub(1), size, u64::MAX] {
                let _ = e.data.read(r.source_mut(), at, &mut buf);
            }
        }
    }
    if let Ok(mut t) = Tarfs::open_with_limits(archive.to_vec(), 0, 0, SMALL) {
        explore(&mut t);
    }
}

fn explore(t: &mut Tarfs<Vec<u8>>) {
    let mut todo = vec![t.root()];
    let mut seen = 0;
    while let Some(d) = todo.pop() {
        seen += 1;
        if seen > 1000 {
            break;
        }
        let Ok(entries) = t.readdir(d) else { continue };
        for e in entries.into_iter().skip(2) {
            let Ok(n) = t.lookup(d, e.name.as_bytes()) else {
                continue;
            };
            let Ok(st) = t.stat(n) else { continue };
            let _ = t.read(n, 0, 1 << 16);
            let _ = t.read(n, st.size.saturating_sub(10), 100);
            let _ = t.read(n, u64::MAX, 10);
            let _ = t.readlink(n);
            if e.kind == hurd_trans::mode::S_IFDIR {
                todo.push(n);
            }
        }
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn checksum_ok(h: &[u8]) -> bool {
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    let field = std::str::from_utf8(&h[148..156]).unwrap_or("");
    let digits: String = field.chars().filter(|c| c.is_ascii_digit()).collect();
    u64::from_str_radix(&digits, 8).ok() == Some(sum)
}

fn fix_checksum(h: &mut [u8]) {
    h[148..156].fill(b' ');
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
}

/// The header fields a mutation aims at (offset, length).
const FIELDS: &[(usize, usize)] = &[
    (0, 100),
    (100, 8),
    (108, 8),
    (116, 8),
    (124, 12),
    (136, 12),
    (156, 1),
    (157, 100),
    (257, 8),
    (329, 8),
    (345, 155),
    (386, 96),
    (482, 1),
    (483, 12),
];

/// Applies `n` random mutations to a copy of `seed`.
fn mutate(seed: &[u8], rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut a = seed.to_vec();
    let headers: Vec<usize> = (0..a.len() / BLOCK)
        .filter(|&i| checksum_ok(&a[i * BLOCK..(i + 1) * BLOCK]))
        .collect();
    for _ in 0..n {
        if a.is_empty() {
            break;
        }
        match rng.below(8) {
            0 | 1 => {
                let i = rng.below(a.len());
                a[i] = rng.next() as u8;
            }
            2 | 3 if !headers.is_empty() => {
                // A header field: random bytes, octal digits, base-256.
                let h = headers[rng.below(headers.len())] * BLOCK;
                let (off, len) = FIELDS[rng.below(FIELDS.len())];
                if h + off + len <= a.len() {
                    let f = &mut a[h + off..h + off + len];
                    match rng.below(4) {
                        0 => f.iter_mut().for_each(|b| *b = rng.next() as u8),
                        1 => f.iter_mut().for_each(|b| *b = b'0' + rng.below(8) as u8),
                        2 => {
                            f.iter_mut().for_each(|b| *b = rng.next() as u8);
                            f[0] |= 0x80;
                        }
                        _ => {
                            f[rng.below(len)] =
                                [b'x', b'g', b'L', b'K', b'S', b'1', b'5', b'D', b'M', 0]
                                    [rng.below(10)]
                        }
                    }
                }
            }
            4 => {
                // A pax record's text.
                if let Some(p) = a
                    .windows(5)
                    .position(|w| w == b"GNU.s" || w == b"path=" || w == b"size=")
                {
                    let i = p + rng.below(32);
                    if i < a.len() {
                        a[i] = b"0123456789 =\n,.-x\0"[rng.below(18)];
                    }
                }
            }
            5 => {
                let blocks = a.len() / BLOCK;
                if blocks > 1 {
                    let (from, to) = (rng.below(blocks), rng.below(blocks));
                    let src = a[from * BLOCK..(from + 1) * BLOCK].to_vec();
                    a[to * BLOCK..(to + 1) * BLOCK].copy_from_slice(&src);
                }
            }
            6 => {
                let blocks = a.len() / BLOCK;
                if blocks > 1 {
                    let i = rng.below(blocks);
                    a.drain(i * BLOCK..(i + 1) * BLOCK);
                }
            }
            _ => {
                let cut = rng.below(a.len() + 1);
                a.truncate(cut);
            }
        }
    }
    // Most mutations should get past the checksum.
    if rng.below(4) != 0 {
        for &h in &headers {
            if (h + 1) * BLOCK <= a.len() {
                fix_checksum(&mut a[h * BLOCK..(h + 1) * BLOCK]);
            }
        }
    }
    a
}

#[test]
fn the_corpus_reads_without_panic() {
    let corpus = corpus();
    assert!(
        corpus.len() >= 10,
        "the seed archives are in tests/corpus/tar"
    );
    for (name, archive) in &corpus {
        if name.starts_with("crash-") {
            exercise(archive);
            continue;
        }
        // Seeds are good archives: they read whole.
        let n = Reader::new(archive.as_slice())
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .len();
        assert!(n >= 5, "{name}: {n} entries");
        Tarfs::open(archive.clone(), 0, 0).unwrap_or_else(|e| panic!("{name}: {e}"));
        exercise(archive);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        exercise(&data);
    }

    #[test]
    fn mutated_archives_never_panic(seed in any::<u64>(), which in any::<usize>(), n in 1usize..12) {
        let corpus = corpus();
        let (_, archive) = &corpus[which % corpus.len()];
        let mut rng = Rng(seed | 1);
        exercise(&mutate(archive, &mut rng, n));
    }
}

/// Mutates for `TAR_FUZZ_SECONDS` (default 60) and saves what panics.
#[test]
#[ignore = "long: run by hand"]
fn fuzz_for_a_while() {
    let secs: u64 = std::env::var("TAR_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let corpus = corpus();
    let start = std::time::Instant::now();
    let mut rng = Rng(start.elapsed().as_nanos() as u64 | 0x9e37_79b9_7f4a_7c15);
    let mut runs = 0u64;
    let mut crashes = 0;
    std::panic::set_hook(Box::new(|_| {}));
    while start.elapsed().as_secs() < secs {
        let (_, seed) = &corpus[rng.below(corpus.len())];
        let n = 1 + rng.below(12);
        let input = mutate(seed, &mut rng, n);
        if std::panic::catch_unwind(|| exercise(&input)).is_err() {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for &b in &input {
                h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
            let path = corpus_dir().join(format!("crash-{h:016x}.tar"));
            std::fs::write(&path, &input).expect("save");
            eprintln!("panic: saved {}", path.display());
            crashes += 1;
        }
        runs += 1;
    }
    let _ = std::panic::take_hook();
    eprintln!("tar fuzz: {runs} inputs in {secs} s, {crashes} panicked");
    assert_eq!(crashes, 0);
}
