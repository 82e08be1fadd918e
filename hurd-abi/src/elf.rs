//! ELF64 executables as the kernel and the user-space loaders take them: the
//! entry point and the loadable segments, checked before anything is mapped.
//!
//! Both `ET_EXEC` executables and static position-independent ones
//! (`ET_DYN`, as a runtime's linker script makes them) are accepted; either
//! is mapped at the addresses its segments name (a PIE is loaded with no
//! bias and relocates itself, as Linux's static-pie start code does).
//!
//! A hurd-rs program says so with a note: a `PT_NOTE` segment holding a note
//! of owner [`NOTE_OWNER`] (`"hurd-rs"`) and type [`NT_HURD_RS_ABI`] whose
//! descriptor is the ABI version it was built for (a little-endian `u32`,
//! [`ABI_VERSION`] today). hurd-rt's linker script puts it in every program
//! (section `.note.hurd-rs`); [`Executable::abi`] is what the file says, so
//! a loader can tell a hurd-rs program from another x86-64 executable (a
//! static Linux program carries no such note).

/// One `PT_LOAD` segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Segment {
    /// Where it goes in the address space.
    pub vaddr: u64,
    /// Its size in memory (the part beyond `file_size` is zero).
    pub mem_size: u64,
    /// Where its bytes start in the file.
    pub offset: u64,
    /// How many bytes come from the file.
    pub file_size: u64,
    /// Readable (`PF_R`).
    pub read: bool,
    /// Writable (`PF_W`).
    pub write: bool,
    /// Executable (`PF_X`).
    pub execute: bool,
}

/// The most segments an executable may have.
pub const MAX_SEGMENTS: usize = 8;

/// A checked executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executable {
    /// The entry point.
    pub entry: u64,
    /// The loadable segments.
    pub segments: arrayvec::ArrayVec<Segment, MAX_SEGMENTS>,
    /// The ABI version its hurd-rs note names; `None` when it has none (not
    /// a hurd-rs program).
    pub abi: Option<u32>,
}

/// The owner (name) of the note that marks a hurd-rs program.
pub const NOTE_OWNER: &[u8] = b"hurd-rs";

/// The type of the hurd-rs note whose descriptor is the ABI version.
pub const NT_HURD_RS_ABI: u32 = 1;

/// The version of the contract between the kernel and its programs that
/// this crate describes, as programs' notes name it.
pub const ABI_VERSION: u32 = 1;

/// Why a file is not a loadable executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ElfError {
    /// Shorter than a header, or a table runs past the end.
    Truncated,
    /// Not ELF64, little-endian, x86-64, executable (`ET_EXEC` or `ET_DYN`).
    NotAnExecutable,
    /// More than [`MAX_SEGMENTS`] loadable segments.
    TooManySegments,
    /// A segment's file bytes lie outside the file, its file size exceeds its
    /// memory size, or its memory range wraps or lies outside the allowed range.
    BadSegment,
    /// The entry point is in no executable segment.
    BadEntry,
    /// A `PT_NOTE` segment lies outside the file, or a note in it runs past
    /// the segment's end.
    BadNote,
}

/// `e_type` of a fixed-address executable.
const ET_EXEC: u16 = 2;
/// `e_type` of a position-independent executable (or shared object).
const ET_DYN: u16 = 3;
/// `p_type` of a loadable segment.
const PT_LOAD: u32 = 1;
/// `p_type` of a segment of notes.
const PT_NOTE: u32 = 4;

/// Rounds a note field's end up to the 4-byte alignment of the next field.
fn align4(n: usize) -> Option<usize> {
    Some(n.checked_add(3)? & !3)
}

/// The ABI version in the hurd-rs note among `notes` (a `PT_NOTE`
/// segment's bytes: entries of `namesz`, `descsz`, `type`, then the name
/// and the descriptor, each padded to 4 bytes), if there is one.
fn hurd_rs_note(notes: &[u8]) -> Result<Option<u32>, ElfError> {
    let mut rest = notes;
    while !rest.is_empty() {
        let field = |at| u32_at(rest, at).map_err(|_| ElfError::BadNote);
        let namesz = usize::try_from(field(0)?).map_err(|_| ElfError::BadNote)?;
        let descsz = usize::try_from(field(4)?).map_err(|_| ElfError::BadNote)?;
        let kind = field(8)?;
        let name_end = 12usize.checked_add(namesz).ok_or(ElfError::BadNote)?;
        let desc_at = align4(name_end).ok_or(ElfError::BadNote)?;
        let desc_end = desc_at.checked_add(descsz).ok_or(ElfError::BadNote)?;
        let name = rest.get(12..name_end).ok_or(ElfError::BadNote)?;
        let desc = rest.get(desc_at..desc_end).ok_or(ElfError::BadNote)?;
        if kind == NT_HURD_RS_ABI && name.strip_suffix(b"\0") == Some(NOTE_OWNER) {
            return match desc {
                [a, b, c, d] => Ok(Some(u32::from_le_bytes([*a, *b, *c, *d]))),
                _ => Err(ElfError::BadNote),
            };
        }
        let next = align4(desc_end).ok_or(ElfError::BadNote)?;
        rest = rest.get(next..).unwrap_or_default();
    }
    Ok(None)
}

/// The `N` bytes at `at` in `b`; `at` may be any offset a file names (an
/// offset near `usize::MAX` is past the end, not a wrap).
fn bytes_at<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], ElfError> {
    let end = at.checked_add(N).ok_or(ElfError::Truncated)?;
    let bytes = b.get(at..end).ok_or(ElfError::Truncated)?;
    let mut word = [0; N];
    word.copy_from_slice(bytes);
    Ok(word)
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, ElfError> {
    bytes_at(b, at).map(u16::from_le_bytes)
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ElfError> {
    bytes_at(b, at).map(u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, ElfError> {
    bytes_at(b, at).map(u64::from_le_bytes)
}

/// The field `delta` bytes into the program header at `at`.
fn field(at: usize, delta: usize) -> Result<usize, ElfError> {
    at.checked_add(delta).ok_or(ElfError::Truncated)
}

/// The header of an x86-64 executable: its entry point and where its
/// program headers are (offset, entry size, count).
fn header(file: &[u8]) -> Result<(u64, usize, usize, usize), ElfError> {
    if file.len() < 64 {
        return Err(ElfError::Truncated);
    }
    // Magic, 64-bit, little-endian, version 1; type EXEC or DYN; machine
    // x86-64.
    if file[0..4] != *b"\x7fELF"
        || file[4] != 2
        || file[5] != 1
        || file[6] != 1
        || !matches!(u16_at(file, 16)?, ET_EXEC | ET_DYN)
        || u16_at(file, 18)? != 62
    {
        return Err(ElfError::NotAnExecutable);
    }
    let entry = u64_at(file, 24)?;
    let phoff = usize::try_from(u64_at(file, 32)?).map_err(|_| ElfError::Truncated)?;
    let phentsize = usize::from(u16_at(file, 54)?);
    let phnum = usize::from(u16_at(file, 56)?);
    if phentsize < 56 {
        return Err(ElfError::NotAnExecutable);
    }
    Ok((entry, phoff, phentsize, phnum))
}

/// Where program header `i` starts.
fn program_header(phoff: usize, phentsize: usize, i: usize) -> Result<usize, ElfError> {
    phentsize
        .checked_mul(i)
        .and_then(|o| o.checked_add(phoff))
        .ok_or(ElfError::Truncated)
}

/// The ABI version in the hurd-rs note of the `PT_NOTE` segment whose
/// program header starts at `at`, if it has one.
fn segment_note(file: &[u8], at: usize) -> Result<Option<u32>, ElfError> {
    let offset = usize::try_from(u64_at(file, field(at, 8)?)?).map_err(|_| ElfError::BadNote)?;
    let size = usize::try_from(u64_at(file, field(at, 32)?)?).map_err(|_| ElfError::BadNote)?;
    let notes = offset
        .checked_add(size)
        .and_then(|end| file.get(offset..end))
        .ok_or(ElfError::BadNote)?;
    hurd_rs_note(notes)
}

/// The ABI version the hurd-rs note of the x86-64 executable `file` names,
/// `None` when it has none — whatever its segments are. This tells a
/// hurd-rs program from another executable (a static Linux program with
/// more segments than [`parse`] takes is still no hurd-rs program);
/// [`parse`] checks the rest.
///
/// # Errors
///
/// As [`parse`] for the header and the notes.
pub fn note_abi(file: &[u8]) -> Result<Option<u32>, ElfError> {
    let (_, phoff, phentsize, phnum) = header(file)?;
    let mut abi = None;
    for i in 0..phnum {
        let at = program_header(phoff, phentsize, i)?;
        if u32_at(file, at)? == PT_NOTE
            && let Some(version) = segment_note(file, at)?
        {
            abi = Some(version);
        }
    }
    Ok(abi)
}

/// Parses `file`, accepting only segments inside `[min, max)`.
///
/// # Errors
///
/// An [`ElfError`] naming what is wrong: a truncated file, a file that is not
/// an x86-64 executable, or a segment outside `[min, max)`.
pub fn parse(file: &[u8], min: u64, max: u64) -> Result<Executable, ElfError> {
    let (entry, phoff, phentsize, phnum) = header(file)?;
    let mut segments = arrayvec::ArrayVec::new();
    let mut abi = None;
    for i in 0..phnum {
        let at = program_header(phoff, phentsize, i)?;
        let kind = u32_at(file, at)?;
        if kind == PT_NOTE {
            if let Some(version) = segment_note(file, at)? {
                abi = Some(version);
            }
            continue;
        }
        if kind != PT_LOAD {
            continue;
        }
        let flags = u32_at(file, field(at, 4)?)?;
        let segment = Segment {
            offset: u64_at(file, field(at, 8)?)?,
            vaddr: u64_at(file, field(at, 16)?)?,
            file_size: u64_at(file, field(at, 32)?)?,
            mem_size: u64_at(file, field(at, 40)?)?,
            execute: flags & 1 != 0,
            write: flags & 2 != 0,
            read: flags & 4 != 0,
        };
        let file_end = segment.offset.checked_add(segment.file_size);
        let mem_end = segment.vaddr.checked_add(segment.mem_size);
        let ok = file_end.is_some_and(|end| end <= file.len() as u64)
            && segment.file_size <= segment.mem_size
            && segment.vaddr >= min
            && mem_end.is_some_and(|end| end <= max);
        if !ok {
            return Err(ElfError::BadSegment);
        }
        if segment.mem_size == 0 {
            continue;
        }
        segments
            .try_push(segment)
            .map_err(|_| ElfError::TooManySegments)?;
    }
    let entry_ok = segments
        .iter()
        .any(|s| s.execute && s.vaddr <= entry && entry < s.vaddr + s.mem_size);
    if !entry_ok {
        return Err(ElfError::BadEntry);
    }
    Ok(Executable {
        entry,
        segments,
        abi,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const MIN: u64 = 0x1000_0000;
    const MAX: u64 = 0x2000_0000;

    /// An executable with the given (vaddr, offset, file_size, mem_size, flags)
    /// segments and `payload` bytes of file.
    fn build(entry: u64, segments: &[(u64, u64, u64, u64, u32)], len: usize) -> Vec<u8> {
        let mut f = vec![0u8; len.max(64 + 56 * segments.len())];
        f[0..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[16..18].copy_from_slice(&2u16.to_le_bytes());
        f[18..20].copy_from_slice(&62u16.to_le_bytes());
        f[24..32].copy_from_slice(&entry.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        for (i, &(vaddr, offset, file_size, mem_size, flags)) in segments.iter().enumerate() {
            let at = 64 + 56 * i;
            f[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
            f[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
            f[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
            f[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
            f[at + 32..at + 40].copy_from_slice(&file_size.to_le_bytes());
            f[at + 40..at + 48].copy_from_slice(&mem_size.to_le_bytes());
        }
        f
    }

    #[test]
    fn parses_segments_and_entry() {
        let f = build(
            MIN + 0x10,
            &[
                (MIN, 0, 0x200, 0x200, 5),
                (MIN + 0x1000, 0x200, 0x10, 0x2000, 6),
            ],
            0x400,
        );
        let exe = parse(&f, MIN, MAX).expect("valid");
        assert_eq!(exe.entry, MIN + 0x10);
        assert_eq!(exe.abi, None);
        assert_eq!(exe.segments.len(), 2);
        assert!(exe.segments[0].execute && !exe.segments[0].write);
        assert!(exe.segments[1].write && exe.segments[1].read);
        assert_eq!(exe.segments[1].mem_size, 0x2000);
    }

    #[test]
    fn rejects_what_is_not_an_executable() {
        assert_eq!(parse(b"short", MIN, MAX), Err(ElfError::Truncated));
        let mut f = build(MIN, &[(MIN, 0, 0x100, 0x100, 5)], 0x100);
        f[18] = 3; // i386
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::NotAnExecutable));
    }

    #[test]
    fn position_independent_executables_load_at_their_link_addresses() {
        let mut f = build(MIN + 0x10, &[(MIN, 0, 0x200, 0x200, 5)], 0x400);
        f[16..18].copy_from_slice(&ET_DYN.to_le_bytes());
        let exe = parse(&f, MIN, MAX).expect("valid");
        assert_eq!(exe.entry, MIN + 0x10);
        assert_eq!(exe.segments[0].vaddr, MIN);
        // A relocatable object is not an executable.
        f[16..18].copy_from_slice(&1u16.to_le_bytes());
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::NotAnExecutable));
    }

    #[test]
    fn rejects_bad_segments() {
        // File bytes beyond the end of the file.
        let f = build(MIN, &[(MIN, 0, 0x1000, 0x1000, 5)], 0x100);
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::BadSegment));
        // Outside the allowed range.
        let f = build(0x1000, &[(0x1000, 0, 0x10, 0x10, 5)], 0x100);
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::BadSegment));
        // Wrapping.
        let f = build(MIN, &[(u64::MAX - 4, 0, 0x10, 0x10, 5)], 0x100);
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::BadSegment));
        // File size larger than memory size.
        let f = build(MIN, &[(MIN, 0, 0x20, 0x10, 5)], 0x100);
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::BadSegment));
    }

    #[test]
    fn entry_must_be_in_an_executable_segment() {
        let f = build(
            MIN + 0x1000,
            &[(MIN, 0, 0x10, 0x10, 5), (MIN + 0x1000, 0, 0x10, 0x10, 6)],
            0x100,
        );
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::BadEntry));
    }

    /// An executable whose second program header is a `PT_NOTE` segment
    /// of `notes`, at file offset 0x200.
    fn with_notes(notes: &[u8]) -> Vec<u8> {
        let len = notes.len() as u64;
        let mut f = build(
            MIN,
            &[(MIN, 0, 0x10, 0x10, 5), (0, 0x200, len, len, 4)],
            0x200 + notes.len(),
        );
        f[64 + 56..64 + 60].copy_from_slice(&PT_NOTE.to_le_bytes());
        f[0x200..].copy_from_slice(notes);
        f
    }

    /// One note: owner `name` (NUL added), `kind`, descriptor `desc`.
    fn note(name: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut n = Vec::new();
        n.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
        n.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        n.extend_from_slice(&kind.to_le_bytes());
        n.extend_from_slice(name);
        n.push(0);
        n.resize(n.len().next_multiple_of(4), 0);
        n.extend_from_slice(desc);
        n.resize(n.len().next_multiple_of(4), 0);
        n
    }

    #[test]
    fn the_note_is_found_whatever_the_segments() {
        let nine: Vec<_> = (0..9u64)
            .map(|i| (MIN + i * 0x1000, 0, 0x10, 0x10, 5))
            .collect();
        let f = build(MIN, &nine, 0x400);
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::TooManySegments));
        assert_eq!(note_abi(&f), Ok(None));
        let notes = note(NOTE_OWNER, NT_HURD_RS_ABI, &3u32.to_le_bytes());
        assert_eq!(note_abi(&with_notes(&notes)), Ok(Some(3)));
        assert_eq!(note_abi(b"short"), Err(ElfError::Truncated));
    }

    #[test]
    fn the_hurd_rs_note_names_the_abi() {
        let mut notes = note(b"GNU", 3, &[1, 2, 3, 4, 5, 6, 7, 8]);
        notes.extend(note(NOTE_OWNER, NT_HURD_RS_ABI, &7u32.to_le_bytes()));
        let exe = parse(&with_notes(&notes), MIN, MAX).expect("valid");
        assert_eq!(exe.abi, Some(7));
        assert_eq!(exe.segments.len(), 1);
        // Another owner's note, or another type, is no hurd-rs note.
        let f = with_notes(&note(b"GNU", NT_HURD_RS_ABI, &1u32.to_le_bytes()));
        assert_eq!(parse(&f, MIN, MAX).expect("valid").abi, None);
        let f = with_notes(&note(NOTE_OWNER, 2, &1u32.to_le_bytes()));
        assert_eq!(parse(&f, MIN, MAX).expect("valid").abi, None);
    }

    #[test]
    fn bad_notes_are_errors() {
        // A descriptor that is not one u32.
        let f = with_notes(&note(NOTE_OWNER, NT_HURD_RS_ABI, &[1, 0]));
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::BadNote));
        // A name running past the segment.
        let mut n = note(NOTE_OWNER, NT_HURD_RS_ABI, &1u32.to_le_bytes());
        n[0..4].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(parse(&with_notes(&n), MIN, MAX), Err(ElfError::BadNote));
        // A header cut short.
        let f = with_notes(&[8, 0, 0, 0]);
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::BadNote));
        // A segment beyond the file.
        let mut f = with_notes(&note(NOTE_OWNER, NT_HURD_RS_ABI, &[1, 0, 0, 0]));
        f[64 + 56 + 32..64 + 56 + 40].copy_from_slice(&0x1000u64.to_le_bytes());
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::BadNote));
    }

    #[test]
    fn truncated_program_headers() {
        let mut f = build(MIN, &[(MIN, 0, 0x10, 0x10, 5)], 0x100);
        f[56..58].copy_from_slice(&1000u16.to_le_bytes());
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::Truncated));
    }

    #[test]
    fn program_header_offsets_near_the_end_of_the_address_space() {
        // A table offset at which a field's end would wrap past `usize::MAX`
        // is past the end of the file, not a wrap or an overflow.
        for phoff in [
            u64::MAX,
            u64::MAX - 2,
            u64::MAX - 7,
            u64::MAX - 40,
            u64::MAX - 56,
            u64::MAX / 2,
        ] {
            let mut f = build(MIN, &[(MIN, 0, 0x10, 0x10, 5)], 0x100);
            f[32..40].copy_from_slice(&phoff.to_le_bytes());
            assert_eq!(parse(&f, MIN, MAX), Err(ElfError::Truncated), "{phoff:#x}");
        }
        // A large entry size whose multiples wrap.
        let mut f = build(MIN, &[(MIN, 0, 0x10, 0x10, 5)], 0x100);
        f[54..56].copy_from_slice(&u16::MAX.to_le_bytes());
        f[56..58].copy_from_slice(&u16::MAX.to_le_bytes());
        f[32..40].copy_from_slice(&(u64::MAX - 0x1_0000).to_le_bytes());
        assert_eq!(parse(&f, MIN, MAX), Err(ElfError::Truncated));
    }

    /// Header values around the boundaries where arithmetic on them wraps.
    fn edgy_u64() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..0x400,
            (0u64..0x100).prop_map(|d| u64::MAX - d),
            (0u64..0x100).prop_map(|d| MIN + d),
            (0u64..0x100).prop_map(|d| MAX - d),
            any::<u64>(),
        ]
    }

    proptest! {
        /// A well-formed header over program headers of any values: never a
        /// panic, and what is accepted lies inside the range and the file.
        #[test]
        fn any_program_headers_never_panic(
            entry in edgy_u64(),
            phoff in prop_oneof![Just(64u64), (0u64..8).prop_map(|d| u64::MAX - d), edgy_u64()],
            phentsize in prop_oneof![Just(56u16), any::<u16>()],
            phnum in 0u16..12,
            fields in proptest::collection::vec((0u32..8, 0u32..8, edgy_u64(), edgy_u64(), edgy_u64(), edgy_u64()), 0..12),
            len in 64usize..0x500,
        ) {
            let mut f = build(entry, &[], len);
            f[32..40].copy_from_slice(&phoff.to_le_bytes());
            f[54..56].copy_from_slice(&phentsize.to_le_bytes());
            f[56..58].copy_from_slice(&phnum.to_le_bytes());
            for (i, &(kind, flags, offset, vaddr, file_size, mem_size)) in fields.iter().enumerate() {
                let at = 64 + 56 * i;
                if at + 56 > f.len() {
                    break;
                }
                f[at..at + 4].copy_from_slice(&kind.to_le_bytes());
                f[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
                f[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
                f[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
                f[at + 32..at + 40].copy_from_slice(&file_size.to_le_bytes());
                f[at + 40..at + 48].copy_from_slice(&mem_size.to_le_bytes());
            }
            if let Ok(exe) = parse(&f, MIN, MAX) {
                for s in &exe.segments {
                    prop_assert!(s.vaddr >= MIN && s.vaddr + s.mem_size <= MAX);
                    prop_assert!(s.offset + s.file_size <= f.len() as u64);
                    prop_assert!(s.file_size <= s.mem_size);
                }
                prop_assert!(exe
                    .segments
                    .iter()
                    .any(|s| s.execute && s.vaddr <= exe.entry && exe.entry < s.vaddr + s.mem_size));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if bytes.len() >= 64 {
                bytes[0..4].copy_from_slice(b"\x7fELF");
            }
            let _ = parse(&bytes, MIN, MAX);
        }
    }
}
