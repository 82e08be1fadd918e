//! The terminal line discipline: editing, echo, signals, modes, limits.

use hurd_servers::term::{Cc, LineDiscipline, LocalFlags, Read, Signal, Termios};
use proptest::prelude::*;

/// Types `bytes`, returning the echo and the signals raised.
fn type_in(tty: &mut LineDiscipline, bytes: &[u8]) -> (Vec<u8>, Vec<Signal>) {
    let mut echo = Vec::new();
    let mut signals = Vec::new();
    for &b in bytes {
        if let Some(s) = tty.input(b, &mut echo) {
            signals.push(s);
        }
    }
    (echo, signals)
}

#[test]
fn canonical_lines_arrive_whole() {
    let mut tty = LineDiscipline::new();
    type_in(&mut tty, b"echo hi");
    assert_eq!(tty.read(100), Read::Empty, "no line before its end");
    type_in(&mut tty, b"\rls\n");
    assert_eq!(tty.read(100), Read::Data(b"echo hi\n".to_vec()));
    assert_eq!(tty.read(100), Read::Data(b"ls\n".to_vec()));
    assert_eq!(tty.read(100), Read::Empty);
}

#[test]
fn short_reads_take_the_rest_later() {
    let mut tty = LineDiscipline::new();
    type_in(&mut tty, b"abcdef\n");
    assert_eq!(tty.read(4), Read::Data(b"abcd".to_vec()));
    assert_eq!(tty.available(), 3);
    assert_eq!(tty.read(4), Read::Data(b"ef\n".to_vec()));
    assert_eq!(tty.read(0), Read::Data(Vec::new()));
}

#[test]
fn erase_kill_and_word_erase_edit_the_line() {
    let mut tty = LineDiscipline::new();
    let (echo, _) = type_in(&mut tty, b"abc\x7f\x7fd\n");
    assert_eq!(tty.read(100), Read::Data(b"ad\n".to_vec()));
    assert_eq!(echo, b"abc\x08 \x08\x08 \x08d\r\n");

    type_in(&mut tty, b"rm -rf /tmp\x17\x17 ok\n");
    assert_eq!(tty.read(100), Read::Data(b"rm  ok\n".to_vec()));

    type_in(&mut tty, b"oops\x15fine\n");
    assert_eq!(tty.read(100), Read::Data(b"fine\n".to_vec()));

    // Erasing past the start of the line does nothing.
    let (echo, _) = type_in(&mut tty, b"\x7f\x7fx\n");
    assert_eq!(tty.read(100), Read::Data(b"x\n".to_vec()));
    assert_eq!(echo, b"x\r\n");
}

#[test]
fn control_characters_echo_as_caret_and_erase_as_two_columns() {
    let mut tty = LineDiscipline::new();
    let (echo, _) = type_in(&mut tty, b"\x16\x01\x7f\n");
    assert_eq!(echo, b"^\x08^A\x08 \x08\x08 \x08\r\n");
    assert_eq!(tty.read(100), Read::Data(b"\n".to_vec()));
}

#[test]
fn eof_ends_a_line_or_the_file() {
    let mut tty = LineDiscipline::new();
    type_in(&mut tty, b"partial\x04\x04");
    assert_eq!(tty.read(100), Read::Data(b"partial".to_vec()));
    assert_eq!(tty.read(100), Read::Eof);
    assert_eq!(tty.read(100), Read::Empty);
}

#[test]
fn signal_characters_flush_and_signal() {
    let mut tty = LineDiscipline::new();
    type_in(&mut tty, b"queued\nhalf");
    let (echo, signals) = type_in(&mut tty, b"\x03");
    assert_eq!(signals, [Signal::Interrupt]);
    assert_eq!(echo, b"^C");
    assert_eq!(tty.read(100), Read::Empty, "INTR flushes input");
    let (_, signals) = type_in(&mut tty, b"\x1a\x1c");
    assert_eq!(signals, [Signal::Suspend, Signal::Quit]);
    assert_eq!(
        signals.iter().map(|s| s.number()).collect::<Vec<_>>(),
        [18, 3]
    );

    // NOFLSH keeps the input; without ISIG the character is data.
    let mut t = Termios::default();
    t.lflag |= LocalFlags::NOFLSH;
    tty.set_termios(t);
    type_in(&mut tty, b"keep\n\x03");
    assert_eq!(tty.read(100), Read::Data(b"keep\n".to_vec()));
    let mut t = Termios::default();
    t.lflag.remove(LocalFlags::ISIG);
    tty.set_termios(t);
    let (_, signals) = type_in(&mut tty, b"\x03\n");
    assert!(signals.is_empty());
    assert_eq!(tty.read(100), Read::Data(b"\x03\n".to_vec()));
}

#[test]
fn echo_off_shows_nothing_but_echonl_shows_newlines() {
    let mut tty = LineDiscipline::new();
    let mut t = Termios::default();
    t.lflag.remove(LocalFlags::ECHO);
    tty.set_termios(t.clone());
    let (echo, _) = type_in(&mut tty, b"secret\r");
    assert!(echo.is_empty());
    assert_eq!(tty.read(100), Read::Data(b"secret\n".to_vec()));
    t.lflag |= LocalFlags::ECHONL;
    tty.set_termios(t);
    let (echo, _) = type_in(&mut tty, b"pw\n");
    assert_eq!(echo, b"\r\n");
}

#[test]
fn raw_mode_passes_bytes_at_once() {
    let mut tty = LineDiscipline::new();
    type_in(&mut tty, b"half");
    tty.set_termios(Termios::raw());
    assert_eq!(
        tty.read(100),
        Read::Data(b"half".to_vec()),
        "the edited line is handed over"
    );
    let (echo, signals) = type_in(&mut tty, b"\x03\x7f\r");
    assert!(echo.is_empty() && signals.is_empty());
    assert_eq!(tty.read(2), Read::Data(b"\x03\x7f".to_vec()));
    assert_eq!(tty.read(100), Read::Data(b"\r".to_vec()));
}

#[test]
fn output_maps_newlines_unless_raw() {
    let mut tty = LineDiscipline::new();
    let mut out = Vec::new();
    tty.output(b"a\nb\n", &mut out);
    assert_eq!(out, b"a\r\nb\r\n");
    tty.set_termios(Termios::raw());
    let mut out = Vec::new();
    tty.output(b"a\n", &mut out);
    assert_eq!(out, b"a\n");
}

#[test]
fn lines_and_queues_are_bounded() {
    let mut tty = LineDiscipline::new();
    type_in(&mut tty, &[b'x'; 10_000]);
    type_in(&mut tty, b"\n");
    match tty.read(usize::MAX) {
        Read::Data(d) => assert_eq!(d.len(), 255, "MAX_CANON including the newline"),
        other => panic!("{other:?}"),
    }
    tty.set_termios(Termios::raw());
    type_in(&mut tty, &[b'y'; 100_000]);
    assert_eq!(tty.available(), 16 * 1024);
}

#[test]
fn disabled_control_characters_are_ordinary() {
    let mut tty = LineDiscipline::new();
    let mut t = Termios::default();
    t.cc[Cc::Erase as usize] = 0xff;
    tty.set_termios(t);
    type_in(&mut tty, b"a\x7f\n");
    assert_eq!(tty.read(100), Read::Data(b"a\x7f\n".to_vec()));
}

proptest! {
    /// Whatever is typed, in whatever mode: no panic, the byte count of ready
    /// input is exact, and canonical reads are whole or partial lines.
    #[test]
    fn any_input_keeps_the_invariants(
        input in proptest::collection::vec(any::<u8>(), 0..400),
        raw_at in proptest::option::of(0usize..400),
        reads in proptest::collection::vec(1usize..64, 0..20),
    ) {
        let mut tty = LineDiscipline::new();
        let mut echo = Vec::new();
        for (i, &b) in input.iter().enumerate() {
            if raw_at == Some(i) {
                tty.set_termios(Termios::raw());
            }
            tty.input(b, &mut echo);
        }
        let canonical = tty.termios().lflag.contains(LocalFlags::ICANON);
        let mut total = tty.available();
        for n in reads {
            match tty.read(n) {
                Read::Data(d) => {
                    prop_assert!(d.len() <= n);
                    total -= d.len();
                    if canonical {
                        let nl = d.iter().position(|&c| c == b'\n');
                        prop_assert!(nl.is_none_or(|i| i == d.len() - 1));
                    }
                }
                Read::Eof | Read::Empty => {}
            }
            prop_assert_eq!(tty.available(), total);
        }
    }
}
