//! The linker script's hurd-rs note says what hurd-abi says.

/// The script hurd-rt's build script applies to every program.
const SCRIPT: &str = include_str!("../hurd-rt.ld");

#[test]
fn the_note_names_this_abi() {
    use hurd_abi::elf::{ABI_VERSION, NOTE_OWNER, NT_HURD_RS_ABI};
    let note = SCRIPT
        .split(".note.hurd-rs :")
        .nth(1)
        .and_then(|rest| rest.split_once('{'))
        .and_then(|(_, body)| body.split('}').next())
        .expect("the script has a .note.hurd-rs section");
    let words: Vec<&str> = note
        .split_whitespace()
        .filter(|w| w.starts_with("LONG(") || w.starts_with("BYTE("))
        .collect();
    let value = |w: &str| {
        let inner = &w[5..w.len() - 1];
        match inner.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => inner.parse(),
        }
        .expect("a number")
    };
    let name_len = NOTE_OWNER.len() + 1;
    assert_eq!(words.len(), 3 + name_len + 1, "{words:?}");
    assert_eq!(value(words[0]) as usize, name_len);
    assert_eq!(value(words[1]), 4);
    assert_eq!(value(words[2]), NT_HURD_RS_ABI);
    let name: Vec<u8> = words[3..3 + name_len]
        .iter()
        .map(|w| value(w) as u8)
        .collect();
    assert_eq!(&name[..NOTE_OWNER.len()], NOTE_OWNER);
    assert_eq!(name[NOTE_OWNER.len()], 0);
    assert_eq!(value(words[3 + name_len]), ABI_VERSION);
}
