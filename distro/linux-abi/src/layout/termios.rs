//! Terminals: the kernel's `struct termios` that `TCGETS`/`TCSETS` move,
//! `struct winsize`, the ioctl numbers, and conversion to and from the
//! Hurd's terminal modes (BSD's flag values and control-character slots, as
//! `tioctl_tiocgeta` carries them: four mode words, `NCCS` = 20
//! characters, two speeds in bits per second).

use crate::bytes::{put_u16, put_u32, u16_at, u32_at};

/// `TCGETS`.
pub const TCGETS: u32 = 0x5401;
/// `TCSETS`.
pub const TCSETS: u32 = 0x5402;
/// `TCSETSW`: set after output drains.
pub const TCSETSW: u32 = 0x5403;
/// `TCSETSF`: drain output, flush input, then set.
pub const TCSETSF: u32 = 0x5404;
/// `TIOCSCTTY`.
pub const TIOCSCTTY: u32 = 0x540E;
/// `TIOCGPGRP`.
pub const TIOCGPGRP: u32 = 0x540F;
/// `TIOCSPGRP`.
pub const TIOCSPGRP: u32 = 0x5410;
/// `TIOCGWINSZ`.
pub const TIOCGWINSZ: u32 = 0x5413;
/// `TIOCSWINSZ`.
pub const TIOCSWINSZ: u32 = 0x5414;
/// `FIONREAD`.
pub const FIONREAD: u32 = 0x541B;
/// `FIONBIO`.
pub const FIONBIO: u32 = 0x5421;
/// `TIOCGSID`.
pub const TIOCGSID: u32 = 0x5429;
/// `FIOCLEX`.
pub const FIOCLEX: u32 = 0x5451;
/// `FIONCLEX`.
pub const FIONCLEX: u32 = 0x5450;

/// Control characters in the kernel's `struct termios`.
pub const LINUX_NCCS: usize = 19;
/// Control characters in the Hurd's.
pub const HURD_NCCS: usize = 20;
/// The Hurd's `_POSIX_VDISABLE` (Linux's is 0).
pub const HURD_VDISABLE: u8 = 0xff;

/// The kernel's `struct termios` (36 bytes: four flag words, `c_line`,
/// 19 control characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Termios {
    /// `c_iflag`.
    pub iflag: u32,
    /// `c_oflag`.
    pub oflag: u32,
    /// `c_cflag` (with the speed in `CBAUD`).
    pub cflag: u32,
    /// `c_lflag`.
    pub lflag: u32,
    /// `c_line`.
    pub line: u8,
    /// `c_cc`.
    pub cc: [u8; LINUX_NCCS],
}

/// Linux's `c_cc` slots.
pub mod cc {
    /// `VINTR`.
    pub const VINTR: usize = 0;
    /// `VQUIT`.
    pub const VQUIT: usize = 1;
    /// `VERASE`.
    pub const VERASE: usize = 2;
    /// `VKILL`.
    pub const VKILL: usize = 3;
    /// `VEOF`.
    pub const VEOF: usize = 4;
    /// `VTIME`.
    pub const VTIME: usize = 5;
    /// `VMIN`.
    pub const VMIN: usize = 6;
    /// `VSWTC`.
    pub const VSWTC: usize = 7;
    /// `VSTART`.
    pub const VSTART: usize = 8;
    /// `VSTOP`.
    pub const VSTOP: usize = 9;
    /// `VSUSP`.
    pub const VSUSP: usize = 10;
    /// `VEOL`.
    pub const VEOL: usize = 11;
    /// `VREPRINT`.
    pub const VREPRINT: usize = 12;
    /// `VDISCARD`.
    pub const VDISCARD: usize = 13;
    /// `VWERASE`.
    pub const VWERASE: usize = 14;
    /// `VLNEXT`.
    pub const VLNEXT: usize = 15;
    /// `VEOL2`.
    pub const VEOL2: usize = 16;
}

/// Linux `c_cc` slot → the Hurd's (BSD's), for the characters both have.
const CC_MAP: [(usize, usize); 16] = [
    (cc::VINTR, 8),
    (cc::VQUIT, 9),
    (cc::VERASE, 3),
    (cc::VKILL, 5),
    (cc::VEOF, 0),
    (cc::VTIME, 17),
    (cc::VMIN, 16),
    (cc::VSTART, 12),
    (cc::VSTOP, 13),
    (cc::VSUSP, 10),
    (cc::VEOL, 1),
    (cc::VREPRINT, 6),
    (cc::VDISCARD, 15),
    (cc::VWERASE, 4),
    (cc::VLNEXT, 14),
    (cc::VEOL2, 2),
];

/// `c_iflag` bits: (Linux, Hurd).
const IFLAG_MAP: [(u32, u32); 14] = [
    (0o1, 0x1),        // IGNBRK
    (0o2, 0x2),        // BRKINT
    (0o4, 0x4),        // IGNPAR
    (0o10, 0x8),       // PARMRK
    (0o20, 0x10),      // INPCK
    (0o40, 0x20),      // ISTRIP
    (0o100, 0x40),     // INLCR
    (0o200, 0x80),     // IGNCR
    (0o400, 0x100),    // ICRNL
    (0o2000, 0x200),   // IXON
    (0o10000, 0x400),  // IXOFF
    (0o4000, 0x800),   // IXANY
    (0o20000, 0x2000), // IMAXBEL
    (0o40000, 0x4000), // IUTF8
];

/// `c_oflag` bits: (Linux, Hurd). Linux's `TAB3` is BSD's `OXTABS`.
const OFLAG_MAP: [(u32, u32); 5] = [
    (0o1, 0x1),   // OPOST
    (0o4, 0x2),   // ONLCR
    (0o10, 0x10), // OCRNL
    (0o20, 0x20), // ONOCR
    (0o40, 0x40), // ONLRET
];
/// Linux's `TAB3` (expand tabs).
const LINUX_TAB3: u32 = 0o14000;
/// BSD's `OXTABS`.
const HURD_OXTABS: u32 = 0x4;

/// `c_cflag` bits other than size and speed: (Linux, Hurd).
const CFLAG_MAP: [(u32, u32); 7] = [
    (0o100, 0x400),           // CSTOPB
    (0o200, 0x800),           // CREAD
    (0o400, 0x1000),          // PARENB
    (0o1000, 0x2000),         // PARODD
    (0o2000, 0x4000),         // HUPCL
    (0o4000, 0x8000),         // CLOCAL
    (0o20000000000, 0x10000), // CRTSCTS
];
/// Linux's `CSIZE` (CS5..CS8 = 0, 0o20, 0o40, 0o60).
const LINUX_CSIZE: u32 = 0o60;
/// BSD's `CSIZE` (CS5..CS8 = 0, 0x100, 0x200, 0x300).
const HURD_CSIZE: u32 = 0x300;
/// Linux's `CBAUD`.
pub const CBAUD: u32 = 0o10017;

/// `c_lflag` bits: (Linux, Hurd).
const LFLAG_MAP: [(u32, u32); 13] = [
    (0o1, 0x80),          // ISIG
    (0o2, 0x100),         // ICANON
    (0o10, 0x8),          // ECHO
    (0o20, 0x2),          // ECHOE
    (0o40, 0x4),          // ECHOK
    (0o100, 0x10),        // ECHONL
    (0o200, 0x8000_0000), // NOFLSH
    (0o400, 0x40_0000),   // TOSTOP
    (0o1000, 0x40),       // ECHOCTL
    (0o2000, 0x20),       // ECHOPRT
    (0o4000, 0x1),        // ECHOKE
    (0o10000, 0x80_0000), // FLUSHO
    (0o100000, 0x400),    // IEXTEN
];

/// Linux speed codes (`B0`..`B4000000` in `CBAUD`) and their bits per second.
const SPEEDS: [(u32, u32); 31] = [
    (0o0, 0),
    (0o1, 50),
    (0o2, 75),
    (0o3, 110),
    (0o4, 134),
    (0o5, 150),
    (0o6, 200),
    (0o7, 300),
    (0o10, 600),
    (0o11, 1200),
    (0o12, 1800),
    (0o13, 2400),
    (0o14, 4800),
    (0o15, 9600),
    (0o16, 19200),
    (0o17, 38400),
    (0o10001, 57600),
    (0o10002, 115_200),
    (0o10003, 230_400),
    (0o10004, 460_800),
    (0o10005, 500_000),
    (0o10006, 576_000),
    (0o10007, 921_600),
    (0o10010, 1_000_000),
    (0o10011, 1_152_000),
    (0o10012, 1_500_000),
    (0o10013, 2_000_000),
    (0o10014, 2_500_000),
    (0o10015, 3_000_000),
    (0o10016, 3_500_000),
    (0o10017, 4_000_000),
];

fn map_bits(v: u32, table: &[(u32, u32)], to_hurd: bool) -> u32 {
    table.iter().fold(0, |acc, &(l, h)| {
        let (from, to) = if to_hurd { (l, h) } else { (h, l) };
        if v & from != 0 { acc | to } else { acc }
    })
}

/// Bits per second for a Linux speed code (`B38400` → 38400); an unknown
/// code reads as 38400.
pub fn speed_from_code(code: u32) -> u32 {
    SPEEDS
        .iter()
        .find(|&&(c, _)| c == code & CBAUD)
        .map_or(38400, |&(_, s)| s)
}

/// The Linux speed code for `bps`, or the nearest lower one.
pub fn code_from_speed(bps: u32) -> u32 {
    SPEEDS
        .iter()
        .rev()
        .find(|&&(_, s)| s <= bps)
        .map_or(0, |&(c, _)| c)
}

/// The Hurd's terminal modes, as `tioctl_tiocgeta`/`tiocseta` carry them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HurdTermios {
    /// `c_iflag`, `c_oflag`, `c_cflag`, `c_lflag` with BSD's values.
    pub modes: [u32; 4],
    /// `c_cc` in BSD's slots.
    pub cc: [u8; HURD_NCCS],
    /// Input and output speed, bits per second.
    pub speeds: [u32; 2],
}

impl Termios {
    /// Bytes of the kernel's `struct termios`.
    pub const SIZE: usize = 36;

    /// The bytes `TCGETS` writes.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put_u32(&mut b, 0, self.iflag);
        put_u32(&mut b, 4, self.oflag);
        put_u32(&mut b, 8, self.cflag);
        put_u32(&mut b, 12, self.lflag);
        b[16] = self.line;
        b[17..].copy_from_slice(&self.cc);
        b
    }

    /// Reads what `TCSETS` hands in; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<Termios> {
        if b.len() < Self::SIZE {
            return None;
        }
        let mut cc = [0; LINUX_NCCS];
        cc.copy_from_slice(&b[17..Self::SIZE]);
        Some(Termios {
            iflag: u32_at(b, 0),
            oflag: u32_at(b, 4),
            cflag: u32_at(b, 8),
            lflag: u32_at(b, 12),
            line: b[16],
            cc,
        })
    }

    /// The Linux view of the Hurd's modes. Flags Linux lacks are dropped;
    /// a disabled character (0xff) becomes Linux's 0.
    pub fn from_hurd(h: &HurdTermios) -> Termios {
        let [i, o, c, l] = h.modes;
        let mut oflag = map_bits(o, &OFLAG_MAP, false);
        if o & HURD_OXTABS != 0 {
            oflag |= LINUX_TAB3;
        }
        let size = ((c & HURD_CSIZE) >> 8) << 4;
        let cflag = map_bits(c, &CFLAG_MAP, false) | size | code_from_speed(h.speeds[1]);
        let mut cc = [0; LINUX_NCCS];
        for &(l_slot, h_slot) in &CC_MAP {
            let ch = h.cc[h_slot];
            let disabled = ch == HURD_VDISABLE && l_slot != cc::VMIN && l_slot != cc::VTIME;
            cc[l_slot] = if disabled { 0 } else { ch };
        }
        Termios {
            iflag: map_bits(i, &IFLAG_MAP, false),
            oflag,
            cflag,
            lflag: map_bits(l, &LFLAG_MAP, false),
            line: 0,
            cc,
        }
    }

    /// The Hurd's modes for these settings (what `TCSETS` sends); `base`
    /// supplies the characters Linux has no slot for.
    pub fn to_hurd(&self, base: &HurdTermios) -> HurdTermios {
        let mut o = map_bits(self.oflag, &OFLAG_MAP, true);
        if self.oflag & LINUX_TAB3 == LINUX_TAB3 {
            o |= HURD_OXTABS;
        }
        let size = ((self.cflag & LINUX_CSIZE) >> 4) << 8;
        let c = map_bits(self.cflag, &CFLAG_MAP, true) | size;
        let mut cc = base.cc;
        for &(l_slot, h_slot) in &CC_MAP {
            let ch = self.cc[l_slot];
            let disabled = ch == 0 && l_slot != cc::VMIN && l_slot != cc::VTIME;
            cc[h_slot] = if disabled { HURD_VDISABLE } else { ch };
        }
        let speed = speed_from_code(self.cflag);
        HurdTermios {
            modes: [
                map_bits(self.iflag, &IFLAG_MAP, true),
                o,
                c,
                map_bits(self.lflag, &LFLAG_MAP, true),
            ],
            cc,
            speeds: [speed, speed],
        }
    }
}

/// `struct winsize` (8 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Winsize {
    /// `ws_row`.
    pub rows: u16,
    /// `ws_col`.
    pub cols: u16,
    /// `ws_xpixel`.
    pub xpixel: u16,
    /// `ws_ypixel`.
    pub ypixel: u16,
}

impl Winsize {
    /// Bytes of `struct winsize`.
    pub const SIZE: usize = 8;

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; 8] {
        let mut b = [0; 8];
        put_u16(&mut b, 0, self.rows);
        put_u16(&mut b, 2, self.cols);
        put_u16(&mut b, 4, self.xpixel);
        put_u16(&mut b, 6, self.ypixel);
        b
    }

    /// Reads one; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<Winsize> {
        (b.len() >= 8).then(|| Winsize {
            rows: u16_at(b, 0),
            cols: u16_at(b, 2),
            xpixel: u16_at(b, 4),
            ypixel: u16_at(b, 6),
        })
    }
}
