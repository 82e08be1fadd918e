//! `linux-hello-rs`: a small ordinary Rust `std` program, built for
//! `x86_64-unknown-linux-musl` (a static-pie), for the kernel's QEMU tests:
//! std's start (descriptors 0 to 2 polled, `SIGPIPE` ignored, the main
//! thread's alternate signal stack with its guard page), a `HashMap`
//! (whose keys std takes from `getrandom`), then `std::fs` on its working
//! directory (a copy of `tree/`) and the error of a failing call. It prints the same on Linux and on hurd-rs.

use std::io::Write;

fn main() -> std::io::Result<()> {
    println!("hello from Rust std");
    let mut counts = std::collections::HashMap::new();
    for word in "the cat saw the dog and the bird".split(' ') {
        *counts.entry(word).or_insert(0) += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort();
    println!("words: {counts:?}");
    print!("motd: {}", std::fs::read_to_string("motd")?);
    std::fs::create_dir("made")?;
    std::fs::write("made/note", "written with std::fs\n")?;
    let mut names = std::fs::read_dir(".")?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<Vec<_>>>()?;
    names.sort();
    println!("entries: {}", names.join(" "));
    println!("note: {:?}", std::fs::read_to_string("made/note")?);
    std::fs::rename("made/note", "made/kept")?;
    println!("kept: {} bytes", std::fs::metadata("made/kept")?.len());
    std::fs::remove_file("made/kept")?;
    std::fs::remove_dir("made")?;
    match std::fs::metadata("made") {
        Ok(_) => println!("made: still there"),
        Err(e) => println!(
            "made: {:?} (errno {})",
            e.kind(),
            e.raw_os_error().unwrap_or(0)
        ),
    }
    std::io::stdout().flush()
}
