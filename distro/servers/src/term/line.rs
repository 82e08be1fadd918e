//! The line discipline's state machine.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::termios::{Cc, InputFlags, LocalFlags, OutputFlags, Signal, Termios};

/// The longest line canonical input edits (`MAX_CANON`); further characters
/// are dropped until the line ends.
pub const MAX_CANON: usize = 255;

/// The most input bytes queued for readers (`MAX_INPUT`); input beyond it is
/// dropped, so a device that floods the terminal cannot exhaust memory.
pub const MAX_INPUT: usize = 16 * 1024;

/// What a read finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// Bytes: in canonical mode at most one line (with its newline, unless it
    /// was ended by EOF), never more than asked for.
    Data(Vec<u8>),
    /// End of file: EOF typed at the start of a line (canonical mode only).
    Eof,
    /// Nothing yet; the reader waits.
    Empty,
}

/// A chunk of input ready for readers.
#[derive(Debug)]
enum Chunk {
    /// Bytes of one line (canonical) or any bytes (non-canonical).
    Bytes(Vec<u8>),
    /// An end-of-file mark.
    Eof,
}

/// A terminal's line discipline: settings, the line being edited, and the
/// input ready for readers.
#[derive(Debug, Default)]
pub struct LineDiscipline {
    termios: Termios,
    /// The line being edited (canonical mode).
    line: Vec<u8>,
    /// Input ready for readers, oldest first.
    ready: VecDeque<Chunk>,
    /// Bytes held in `ready`.
    queued: usize,
    /// The next character is taken literally (after LNEXT).
    literal: bool,
}

impl LineDiscipline {
    /// A terminal with the default ("sane") settings.
    pub fn new() -> LineDiscipline {
        LineDiscipline::default()
    }

    /// The current settings.
    pub fn termios(&self) -> &Termios {
        &self.termios
    }

    /// Changes the settings (`tcsetattr`). Leaving canonical mode hands the
    /// line being edited to readers as it is.
    pub fn set_termios(&mut self, t: Termios) {
        let was_canonical = self.canonical();
        self.termios = t;
        if was_canonical && !self.canonical() && !self.line.is_empty() {
            let line = core::mem::take(&mut self.line);
            self.push(Chunk::Bytes(line));
        }
    }

    /// Bytes ready for readers (`FIONREAD`).
    pub fn available(&self) -> usize {
        self.queued
    }

    /// Discards all input, edited and ready (`tcflush(TCIFLUSH)`).
    pub fn flush_input(&mut self) {
        self.line.clear();
        self.ready.clear();
        self.queued = 0;
        self.literal = false;
    }

    fn canonical(&self) -> bool {
        self.termios.lflag.contains(LocalFlags::ICANON)
    }

    fn lflag(&self, f: LocalFlags) -> bool {
        self.termios.lflag.contains(f)
    }

    /// One byte typed on the device. Writes what to echo into `echo` (already
    /// output-processed) and returns the signal to send to the foreground
    /// process group, if the byte is a signal character.
    pub fn input(&mut self, byte: u8, echo: &mut Vec<u8>) -> Option<Signal> {
        let t = &self.termios;
        let mut c = byte;
        if t.iflag.contains(InputFlags::ISTRIP) {
            c &= 0x7f;
        }
        if self.literal {
            self.literal = false;
            // Its echo overwrites the `^` shown while waiting.
            self.add(c, echo);
            return None;
        }
        let t = &self.termios;
        match c {
            b'\r' if t.iflag.contains(InputFlags::IGNCR) => return None,
            b'\r' if t.iflag.contains(InputFlags::ICRNL) => c = b'\n',
            b'\n' if t.iflag.contains(InputFlags::INLCR) => c = b'\r',
            _ => {}
        }
        let t = &self.termios;
        if t.lflag.contains(LocalFlags::ISIG) {
            let signal = if t.is(Cc::Intr, c) {
                Some(Signal::Interrupt)
            } else if t.is(Cc::Quit, c) {
                Some(Signal::Quit)
            } else if t.is(Cc::Susp, c) {
                Some(Signal::Suspend)
            } else {
                None
            };
            if let Some(s) = signal {
                if !self.lflag(LocalFlags::NOFLSH) {
                    self.flush_input();
                }
                self.echo_char(c, echo);
                return Some(s);
            }
        }
        let t = &self.termios;
        if t.lflag.contains(LocalFlags::IEXTEN) && t.is(Cc::Lnext, c) {
            self.literal = true;
            if self.lflag(LocalFlags::ECHO) {
                self.put_echo(b"^\x08", echo);
            }
            return None;
        }
        if !self.canonical() {
            self.echo_char(c, echo);
            self.push_raw(c);
            return None;
        }
        let t = &self.termios;
        if t.is(Cc::Erase, c) {
            self.erase_one(echo);
        } else if t.is(Cc::Kill, c) {
            self.kill_line(c, echo);
        } else if t.lflag.contains(LocalFlags::IEXTEN) && t.is(Cc::Werase, c) {
            self.erase_word(echo);
        } else if t.lflag.contains(LocalFlags::IEXTEN) && t.is(Cc::Reprint, c) {
            self.echo_char(c, echo);
            self.put_echo(b"\n", echo);
            let line = self.line.clone();
            for b in line {
                self.echo_char(b, echo);
            }
        } else if t.is(Cc::Eof, c) {
            // The line so far goes to readers without a newline; at the
            // start of a line that is end of file.
            let line = core::mem::take(&mut self.line);
            self.push(if line.is_empty() {
                Chunk::Eof
            } else {
                Chunk::Bytes(line)
            });
        } else {
            self.add(c, echo);
        }
        None
    }

    /// Adds a character to the line (canonical) or the input (raw); a line
    /// ends at NL, EOL or EOL2.
    fn add(&mut self, c: u8, echo: &mut Vec<u8>) {
        if !self.canonical() {
            self.echo_char(c, echo);
            self.push_raw(c);
            return;
        }
        let t = &self.termios;
        let ends = c == b'\n' || t.is(Cc::Eol, c) || t.is(Cc::Eol2, c);
        if !ends && self.line.len() >= MAX_CANON - 1 {
            return; // Full: only an end of line fits.
        }
        if c == b'\n' && !self.lflag(LocalFlags::ECHO) && self.lflag(LocalFlags::ECHONL) {
            self.put_echo(b"\n", echo);
        } else {
            self.echo_char(c, echo);
        }
        self.line.push(c);
        if ends {
            let line = core::mem::take(&mut self.line);
            self.push(Chunk::Bytes(line));
        }
    }

    fn push_raw(&mut self, c: u8) {
        if self.queued >= MAX_INPUT {
            return;
        }
        match self.ready.back_mut() {
            Some(Chunk::Bytes(b)) => b.push(c),
            _ => self.ready.push_back(Chunk::Bytes(alloc::vec![c])),
        }
        self.queued += 1;
    }

    fn push(&mut self, chunk: Chunk) {
        let len = match &chunk {
            Chunk::Bytes(b) => b.len(),
            Chunk::Eof => 0,
        };
        if self.queued + len > MAX_INPUT {
            return;
        }
        self.queued += len;
        self.ready.push_back(chunk);
    }

    /// Takes up to `max` bytes of input for a reader.
    pub fn read(&mut self, max: usize) -> Read {
        if max == 0 {
            return Read::Data(Vec::new());
        }
        let canonical = self.canonical();
        let Some(front) = self.ready.front_mut() else {
            return Read::Empty;
        };
        match front {
            Chunk::Eof => {
                self.ready.pop_front();
                Read::Eof
            }
            Chunk::Bytes(b) => {
                let mut out: Vec<u8> = if b.len() <= max {
                    let all = core::mem::take(b);
                    self.ready.pop_front();
                    all
                } else {
                    let rest = b.split_off(max);
                    core::mem::replace(b, rest)
                };
                self.queued -= out.len();
                // Non-canonical reads take whatever is queued, up to `max`.
                while !canonical && out.len() < max {
                    match self.ready.front_mut() {
                        Some(Chunk::Bytes(b)) => {
                            let take = (max - out.len()).min(b.len());
                            out.extend(b.drain(..take));
                            self.queued -= take;
                            if b.is_empty() {
                                self.ready.pop_front();
                            }
                        }
                        _ => break,
                    }
                }
                Read::Data(out)
            }
        }
    }

    /// Output processing of what a process writes: with OPOST and ONLCR each
    /// NL becomes CR NL.
    pub fn output(&self, data: &[u8], out: &mut Vec<u8>) {
        let o = self.termios.oflag;
        if !o.contains(OutputFlags::OPOST | OutputFlags::ONLCR) {
            out.extend_from_slice(data);
            return;
        }
        for &b in data {
            if b == b'\n' {
                out.push(b'\r');
            }
            out.push(b);
        }
    }

    /// Echoes one input character (as `^X` for control characters with
    /// ECHOCTL), if ECHO is on.
    fn echo_char(&self, c: u8, echo: &mut Vec<u8>) {
        if !self.lflag(LocalFlags::ECHO) {
            return;
        }
        if needs_caret(c) && self.lflag(LocalFlags::ECHOCTL) {
            self.put_echo(&[b'^', c ^ 0x40], echo);
        } else {
            self.put_echo(&[c], echo);
        }
    }

    fn put_echo(&self, bytes: &[u8], echo: &mut Vec<u8>) {
        self.output(bytes, echo);
    }

    /// How many columns the echo of `c` took.
    fn width(&self, c: u8) -> usize {
        if needs_caret(c) && self.lflag(LocalFlags::ECHOCTL) {
            2
        } else {
            1
        }
    }

    fn erase_columns(&self, echo: &mut Vec<u8>, columns: usize) {
        if self.lflag(LocalFlags::ECHO) && self.lflag(LocalFlags::ECHOE) {
            for _ in 0..columns {
                echo.extend_from_slice(b"\x08 \x08");
            }
        }
    }

    fn erase_one(&mut self, echo: &mut Vec<u8>) {
        if let Some(c) = self.line.pop() {
            if self.lflag(LocalFlags::ECHOE) {
                self.erase_columns(echo, self.width(c));
            } else if let Some(&erase) = self.termios.cc.get(Cc::Erase as usize) {
                self.echo_char(erase, echo);
            }
        }
    }

    fn erase_word(&mut self, echo: &mut Vec<u8>) {
        while self.line.last().is_some_and(|c| c.is_ascii_whitespace()) {
            self.erase_one(echo);
        }
        while self.line.last().is_some_and(|c| !c.is_ascii_whitespace()) {
            self.erase_one(echo);
        }
    }

    fn kill_line(&mut self, kill: u8, echo: &mut Vec<u8>) {
        if self.lflag(LocalFlags::ECHOE) {
            while !self.line.is_empty() {
                self.erase_one(echo);
            }
        } else {
            self.line.clear();
            self.echo_char(kill, echo);
            if self.lflag(LocalFlags::ECHOK) && self.lflag(LocalFlags::ECHO) {
                self.put_echo(b"\n", echo);
            }
        }
    }
}

/// Control characters other than TAB and NL echo as `^X`.
fn needs_caret(c: u8) -> bool {
    (c < 0x20 && c != b'\t' && c != b'\n') || c == 0x7f
}
