//! tarfs's memory is bounded by its index, not by the archive: a 9 GiB
//! archive (a sparse file on disk, so the test needs little of the disk)
//! is indexed and read while the process's peak resident memory grows by a
//! few MiB. Its own test binary, so no other test shares the process.
//!
//! By default one 4 MiB chunk in 64 is read (the marks at every GiB
//! among them); `TARFS_MEMORY_FULL=1` reads all 9 GiB.

use std::io::{Seek, SeekFrom, Write};

use hurd_trans::netfs::Tree;
use hurd_trans::tar::{FileSource, Header, Writer, padding};
use hurd_trans::translators::tarfs::Tarfs;

/// A `/proc/self/status` field in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn a_9_gib_archive_is_read_in_bounded_memory() {
    let Some(before) = status_kib("VmRSS:") else {
        eprintln!("SKIPPED: no /proc/self/status to measure with");
        return;
    };
    let path = std::env::temp_dir().join(format!("hurd-tarfs-9g-{}.tar", std::process::id()));
    let size: u64 = 9 << 30;
    {
        let mut f = std::fs::File::create(&path).expect("create");
        let mut h = Header::file("big", 0o644);
        h.size = size;
        f.write_all(&Writer::encode_header(&h).expect("header"))
            .expect("write");
        // The data: a hole but for a mark at every GiB.
        let start = f.stream_position().expect("pos");
        for g in 0..9u64 {
            f.seek(SeekFrom::Start(start + (g << 30))).expect("seek");
            f.write_all(&g.to_le_bytes()).expect("mark");
        }
        f.seek(SeekFrom::Start(start + size + padding(size) as u64))
            .expect("seek");
        let mut w = Writer::new();
        w.append(&Header::file("small", 0o644), b"after the big one\n")
            .expect("small");
        f.write_all(&w.finish()).expect("tail");
    }
    let file = std::fs::File::open(&path).expect("open");
    let mut t = Tarfs::open(FileSource(file), 0, 0).expect("index");
    let root = t.root();
    let big = t.lookup(root, b"big").expect("big");
    assert_eq!(t.stat(big).expect("stat").size, size);
    let full = std::env::var_os("TARFS_MEMORY_FULL").is_some();
    let chunk_size: u64 = 4 << 20;
    let (mut at, mut marks, mut read) = (0, 0, 0u64);
    while at < size {
        if full || (at / chunk_size).is_multiple_of(64) {
            let chunk = t.read(big, at, chunk_size as usize).expect("read");
            assert_eq!(chunk.len() as u64, chunk_size.min(size - at));
            if at % (1 << 30) == 0 {
                let mark = u64::from_le_bytes(chunk[..8].try_into().expect("8"));
                assert_eq!(mark, at >> 30);
                marks += 1;
            }
            read += chunk.len() as u64;
        }
        at += chunk_size;
    }
    assert_eq!(marks, 9);
    let small = t.lookup(root, b"small").expect("small");
    assert_eq!(t.read(small, 0, 100), Ok(b"after the big one\n".to_vec()));
    let peak = status_kib("VmHWM:").expect("VmHWM");
    let _ = std::fs::remove_file(&path);
    let grown = peak.saturating_sub(before);
    eprintln!(
        "tarfs, 9 GiB archive, {} MiB of it read: peak RSS {peak} KiB, {grown} KiB above the start",
        read >> 20
    );
    assert!(grown < 64 << 10, "peak RSS grew by {grown} KiB");
}
