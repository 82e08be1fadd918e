//! Lists a tar archive as the tar module reads it — kind, mode, owner,
//! size, modification time and name of every entry — and reads every
//! file's data (`cargo run -p hurd-trans --example tar_list ARCHIVE`).

use hurd_trans::tar::{EntryKind, FileSource, Reader, TarError};

fn list(file: std::fs::File) -> Result<u64, TarError> {
    let mut data = 0;
    // ANCHOR: read
    let mut reader = Reader::new(FileSource(file));
    while let Some(entry) = reader.next_entry()? {
        let h = &entry.header;
        println!(
            "{:?} {:o} {}/{} {} {}.{:09} {}{}{}",
            h.kind,
            h.mode,
            h.uid,
            h.gid,
            h.size,
            h.mtime.sec,
            h.mtime.nsec,
            String::from_utf8_lossy(&h.path),
            if h.link.is_empty() { "" } else { " -> " },
            String::from_utf8_lossy(&h.link),
        );
        if h.kind == EntryKind::File {
            // The data, a chunk at a time, from the archive.
            let mut buf = vec![0u8; 64 * 1024];
            let mut at = 0;
            while at < entry.data.size {
                let n = entry
                    .data
                    .read(reader.source_mut(), at, &mut buf)
                    .map_err(|e| TarError::new(entry.offset, &h.path, e.into()))?;
                at += n as u64;
                if n == 0 {
                    break;
                }
            }
            data += at;
        }
    }
    // ANCHOR_END: read
    Ok(data)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: tar_list ARCHIVE");
        std::process::exit(2);
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tar_list: {path}: {e}");
            std::process::exit(1);
        }
    };
    match list(file) {
        Ok(bytes) => eprintln!("{bytes} bytes of file data read"),
        Err(e) => {
            eprintln!("tar_list: {path}: {e}");
            std::process::exit(1);
        }
    }
}
