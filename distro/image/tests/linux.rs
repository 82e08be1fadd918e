//! Static Linux programs in an image: told from hurd-rs programs as the
//! exec server tells them, the emulator required, a dynamically linked one
//! refused, each mistake naming its line and key.

use std::path::{Path, PathBuf};

use distro_image::linux::{LINUX_EMULATOR, ProgramKind, program_kind};
use distro_image::{Manifest, PathsOnly, root_fs};

/// `p_type` of a loadable segment, of the interpreter's name and of notes.
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;

/// An x86-64 executable of type `e_type` (2: `ET_EXEC`, 3: `ET_DYN`): one
/// loadable segment holding the whole file, its entry inside it, and the
/// `extra` program headers (type, offset, size) after it; `notes` are
/// appended to the file.
fn elf(e_type: u16, extra: &[(u32, u64, u64)], notes: &[u8]) -> Vec<u8> {
    let phnum = 1 + extra.len();
    let headers = 64 + 56 * phnum;
    let mut f = vec![0u8; headers];
    f[0..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // 64-bit
    f[5] = 1; // little-endian
    f[6] = 1; // version 1
    f[16..18].copy_from_slice(&e_type.to_le_bytes());
    f[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    let base: u64 = if e_type == 2 { 0x40_0000 } else { 0 };
    f[24..32].copy_from_slice(&(base + 64).to_le_bytes()); // entry
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes()); // ehsize
    f[54..56].copy_from_slice(&56u16.to_le_bytes()); // phentsize
    f[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
    f.extend_from_slice(notes);
    let len = f.len() as u64;
    let mut phdr = |i: usize, kind: u32, flags: u32, offset: u64, vaddr: u64, size: u64| {
        let at = 64 + 56 * i;
        f[at..at + 4].copy_from_slice(&kind.to_le_bytes());
        f[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
        f[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
        f[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
        f[at + 24..at + 32].copy_from_slice(&vaddr.to_le_bytes());
        f[at + 32..at + 40].copy_from_slice(&size.to_le_bytes());
        f[at + 40..at + 48].copy_from_slice(&size.to_le_bytes());
        f[at + 48..at + 56].copy_from_slice(&0x1000u64.to_le_bytes());
    };
    phdr(0, PT_LOAD, 5, 0, base, len); // read + execute
    for (i, &(kind, offset, size)) in extra.iter().enumerate() {
        phdr(i + 1, kind, 4, offset, base + offset, size);
    }
    f
}

/// The hurd-rs note (owner `hurd-rs`, type 1, ABI version 1).
fn hurd_rs_note() -> Vec<u8> {
    let mut n = Vec::new();
    n.extend_from_slice(&8u32.to_le_bytes()); // "hurd-rs\0"
    n.extend_from_slice(&4u32.to_le_bytes());
    n.extend_from_slice(&1u32.to_le_bytes());
    n.extend_from_slice(b"hurd-rs\0");
    n.extend_from_slice(&1u32.to_le_bytes());
    n
}

/// A hurd-rs program: the note in a `PT_NOTE` segment.
fn hurd_rs_program() -> Vec<u8> {
    let note = hurd_rs_note();
    let at = (64 + 56 * 2) as u64;
    elf(3, &[(PT_NOTE, at, note.len() as u64)], &note)
}

/// A dynamically linked Linux program: a `PT_INTERP` naming the dynamic
/// linker.
fn dynamic_program() -> Vec<u8> {
    let interp = b"/lib/ld-musl-x86_64.so.1\0";
    let at = (64 + 56 * 2) as u64;
    elf(3, &[(PT_INTERP, at, interp.len() as u64)], interp)
}

#[test]
fn programs_are_told_apart_as_the_exec_server_does() {
    assert_eq!(program_kind(&hurd_rs_program()), ProgramKind::HurdRs);
    // musl-gcc -static (ET_EXEC) and a static-pie (ET_DYN, no interpreter).
    assert_eq!(program_kind(&elf(2, &[], &[])), ProgramKind::Linux);
    assert_eq!(program_kind(&elf(3, &[], &[])), ProgramKind::Linux);
    assert_eq!(program_kind(&dynamic_program()), ProgramKind::LinuxDynamic);
    assert_eq!(program_kind(b"#!/bin/sh\necho hi\n"), ProgramKind::Other);
    assert_eq!(program_kind(b""), ProgramKind::Other);
    // Another machine's executable (e_machine 183, AArch64).
    let mut arm = elf(2, &[], &[]);
    arm[18..20].copy_from_slice(&183u16.to_le_bytes());
    assert_eq!(program_kind(&arm), ProgramKind::Other);
    // Every cut of a Linux program is something, not a panic.
    let whole = elf(2, &[], &[]);
    for len in 0..whole.len() {
        let _ = program_kind(&whole[..len]);
    }
}

/// A fresh directory holding `files`.
fn base(name: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for (path, data) in files {
        std::fs::write(dir.join(path), data).expect("write");
    }
    dir
}

/// A manifest installing `hello-linux` as `/bin/hello-linux` (line 11),
/// and the emulator when `emulator`.
fn manifest(emulator: bool) -> String {
    let mut text = String::from(
        "[image]\nname = \"linux\"\n\n[kernel]\npath = \"kernel\"\n\n\
         [[module]]\nname = \"init\"\nsource = \"init\"\n\n\
         [[program]]\npath = \"/bin/hello-linux\"\nsource = \"hello-linux\"\n",
    );
    if emulator {
        text.push_str(&format!(
            "\n[[program]]\npath = \"{LINUX_EMULATOR}\"\nsource = \"emulator\"\n"
        ));
    }
    text
}

#[test]
fn a_static_linux_program_is_installed_with_the_emulator() {
    let dir = base(
        "linux-with-emulator",
        &[
            ("hello-linux", elf(2, &[], &[])),
            ("emulator", hurd_rs_program()),
        ],
    );
    let m = Manifest::parse(&manifest(true)).expect("manifest");
    let fs = root_fs(&m, &dir, &mut PathsOnly { base: dir.clone() }).expect("root fs");
    let program = fs.get("/bin/hello-linux").expect("installed");
    assert_eq!(program.mode & 0o777, 0o755);
    assert!(fs.get(LINUX_EMULATOR).is_some());
}

#[test]
fn a_static_linux_program_needs_the_emulator() {
    let dir = base(
        "linux-without-emulator",
        &[("hello-linux", elf(2, &[], &[]))],
    );
    let m = Manifest::parse(&manifest(false)).expect("manifest");
    let e = root_fs(&m, &dir, &mut PathsOnly { base: dir.clone() }).expect_err("no emulator");
    assert_eq!(e.line, Some(11), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with("line 11: program.source: `/bin/hello-linux` is a static Linux program"),
        "{text}"
    );
    assert!(text.contains(LINUX_EMULATOR), "{text}");
    assert!(text.contains("linux-emulation"), "{text}");
}

#[test]
fn a_dynamically_linked_program_is_refused() {
    let dir = base(
        "linux-dynamic",
        &[
            ("hello-linux", dynamic_program()),
            ("emulator", hurd_rs_program()),
        ],
    );
    let m = Manifest::parse(&manifest(true)).expect("manifest");
    let e = root_fs(&m, &dir, &mut PathsOnly { base: dir.clone() }).expect_err("dynamic");
    assert_eq!(e.line, Some(11), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with("line 11: program.source: `/bin/hello-linux` is dynamically linked"),
        "{text}"
    );
    assert!(text.contains("-static"), "{text}");
}

#[test]
fn other_files_are_left_to_the_exec_server() {
    // A script and a hurd-rs program need no emulator.
    let dir = base(
        "linux-none",
        &[("hello-linux", b"#!/bin/sh\necho hi\n".to_vec())],
    );
    let m = Manifest::parse(&manifest(false)).expect("manifest");
    root_fs(&m, &dir, &mut PathsOnly { base: dir.clone() }).expect("a script");
    let dir = base("linux-native", &[("hello-linux", hurd_rs_program())]);
    root_fs(&m, &dir, &mut PathsOnly { base: dir.clone() }).expect("a hurd-rs program");
}

#[test]
fn a_linux_program_with_many_segments_is_still_one() {
    // Nine read+execute segments on pages of their own (a hurd-rs program
    // may have eight): no note, so a static Linux program.
    let mut f = vec![0u8; 0x9010];
    f[0..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    f[16..18].copy_from_slice(&2u16.to_le_bytes());
    f[18..20].copy_from_slice(&62u16.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&0x40_0008u64.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&9u16.to_le_bytes());
    for i in 0..9u64 {
        let at = 64 + 56 * i as usize;
        let offset = if i == 0 { 0 } else { 0x1000 * i };
        let vaddr = 0x40_0000 + 0x1000 * i;
        f[at..at + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        f[at + 4..at + 8].copy_from_slice(&5u32.to_le_bytes());
        f[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
        f[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
        f[at + 24..at + 32].copy_from_slice(&vaddr.to_le_bytes());
        let size: u64 = if i == 0 { 0x400 } else { 0x10 };
        f[at + 32..at + 40].copy_from_slice(&size.to_le_bytes());
        f[at + 40..at + 48].copy_from_slice(&size.to_le_bytes());
        f[at + 48..at + 56].copy_from_slice(&0x1000u64.to_le_bytes());
    }
    assert_eq!(program_kind(&f), ProgramKind::Linux);
}
