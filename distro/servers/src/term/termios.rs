//! Terminal settings: the `termios` flags and control characters the line
//! discipline honours, with the Hurd's (BSD) values.

use bitflags::bitflags;

bitflags! {
    /// Input modes (`c_iflag`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct InputFlags: u32 {
        /// Strip the eighth bit.
        const ISTRIP = 0x0000_0020;
        /// Map NL to CR on input.
        const INLCR = 0x0000_0040;
        /// Ignore CR.
        const IGNCR = 0x0000_0080;
        /// Map CR to NL on input.
        const ICRNL = 0x0000_0100;
    }
}

bitflags! {
    /// Output modes (`c_oflag`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct OutputFlags: u32 {
        /// Post-process output.
        const OPOST = 0x0000_0001;
        /// Map NL to CR-NL on output.
        const ONLCR = 0x0000_0002;
    }
}

bitflags! {
    /// Local modes (`c_lflag`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct LocalFlags: u32 {
        /// Visually erase with backspace-space-backspace.
        const ECHOE = 0x0000_0002;
        /// Echo NL after the kill character.
        const ECHOK = 0x0000_0004;
        /// Echo input.
        const ECHO = 0x0000_0008;
        /// Echo NL even when ECHO is off.
        const ECHONL = 0x0000_0010;
        /// Echo control characters as `^X`.
        const ECHOCTL = 0x0000_0040;
        /// Enable the signal characters (INTR, QUIT, SUSP).
        const ISIG = 0x0000_0080;
        /// Canonical input: line editing, lines delivered whole.
        const ICANON = 0x0000_0100;
        /// Enable the extended characters (WERASE, REPRINT, LNEXT).
        const IEXTEN = 0x0000_0400;
        /// Do not flush the queues after a signal character.
        const NOFLSH = 0x8000_0000;
    }
}

/// Indexes of the control characters (`c_cc`), with the Hurd's numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum Cc {
    /// End of file (`^D`).
    Eof = 0,
    /// Extra end of line.
    Eol = 1,
    /// Second extra end of line.
    Eol2 = 2,
    /// Erase one character (DEL).
    Erase = 3,
    /// Erase one word (`^W`).
    Werase = 4,
    /// Erase the line (`^U`).
    Kill = 5,
    /// Reprint the line (`^R`).
    Reprint = 6,
    /// Interrupt (`^C`): SIGINT.
    Intr = 8,
    /// Quit (`^\`): SIGQUIT.
    Quit = 9,
    /// Suspend (`^Z`): SIGTSTP.
    Susp = 10,
    /// Take the next character literally (`^V`).
    Lnext = 14,
    /// Minimum bytes for a non-canonical read.
    Min = 16,
    /// Timeout of a non-canonical read, in tenths of a second.
    Time = 17,
}

/// Number of control characters (`NCCS`).
pub const NCCS: usize = 20;

/// The value that disables a control character (`_POSIX_VDISABLE`).
pub const VDISABLE: u8 = 0xff;

/// A signal the line discipline asks the terminal server to send to the
/// foreground process group, with the Hurd's signal numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Signal {
    /// `SIGINT` (2), from the INTR character.
    Interrupt,
    /// `SIGQUIT` (3), from the QUIT character.
    Quit,
    /// `SIGTSTP` (18), from the SUSP character.
    Suspend,
}

impl Signal {
    /// The signal's number on the Hurd.
    pub fn number(self) -> u32 {
        match self {
            Signal::Interrupt => 2,
            Signal::Quit => 3,
            Signal::Suspend => 18,
        }
    }
}

/// A terminal's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termios {
    /// Input modes.
    pub iflag: InputFlags,
    /// Output modes.
    pub oflag: OutputFlags,
    /// Local modes.
    pub lflag: LocalFlags,
    /// Control characters, indexed by [`Cc`].
    pub cc: [u8; NCCS],
}

impl Default for Termios {
    /// A "sane" terminal: canonical, echoing, with signals and the usual keys.
    fn default() -> Self {
        let mut cc = [VDISABLE; NCCS];
        cc[Cc::Eof as usize] = 0x04;
        cc[Cc::Erase as usize] = 0x7f;
        cc[Cc::Werase as usize] = 0x17;
        cc[Cc::Kill as usize] = 0x15;
        cc[Cc::Reprint as usize] = 0x12;
        cc[Cc::Intr as usize] = 0x03;
        cc[Cc::Quit as usize] = 0x1c;
        cc[Cc::Susp as usize] = 0x1a;
        cc[Cc::Lnext as usize] = 0x16;
        cc[Cc::Min as usize] = 1;
        cc[Cc::Time as usize] = 0;
        Termios {
            iflag: InputFlags::ICRNL,
            oflag: OutputFlags::OPOST | OutputFlags::ONLCR,
            lflag: LocalFlags::ECHO
                | LocalFlags::ECHOE
                | LocalFlags::ECHOK
                | LocalFlags::ECHOCTL
                | LocalFlags::ISIG
                | LocalFlags::ICANON
                | LocalFlags::IEXTEN,
            cc,
        }
    }
}

impl Termios {
    /// Raw mode (`cfmakeraw`): no editing, echo, signals or processing.
    pub fn raw() -> Termios {
        Termios {
            iflag: InputFlags::empty(),
            oflag: OutputFlags::empty(),
            lflag: LocalFlags::empty(),
            ..Termios::default()
        }
    }

    /// Whether `byte` is the control character `which` (never when disabled).
    pub fn is(&self, which: Cc, byte: u8) -> bool {
        let c = self.cc[which as usize];
        c != VDISABLE && c == byte
    }
}
