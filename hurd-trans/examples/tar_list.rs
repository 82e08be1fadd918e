//! Lists a tar archive as the tar module reads it: kind, mode, owner, size,
//! modification time and name of every entry (`cargo run --example
//! tar_list ARCHIVE`).

use hurd_trans::tar::{FileSource, Reader};

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
    for entry in Reader::new(FileSource(file)) {
        match entry {
            Ok(e) => {
                let h = &e.header;
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
            }
            Err(e) => {
                eprintln!("tar_list: {path}: {e}");
                std::process::exit(1);
            }
        }
    }
}
