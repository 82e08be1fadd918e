//! Network devices on the Mach device interface (GNU Mach's
//! `device/net_status.h`): the status flavors a network device answers,
//! the packet filters clients give it with `device_set_filter`, and the
//! frames it sends them as `net_rcv_msg` ([`crate::device::net_rcv`]).
//!
//! A client (pfinet, for instance) opens the device (`"eth0"`), learns its
//! hardware address with `device_get_status` of [`NET_ADDRESS`] and its
//! sizes with [`NET_STATUS`], sends frames with `device_write`, and asks
//! for the frames it wants with `device_set_filter(port, priority,
//! filter)`. Filters are BPF programs as Mach takes them: the first
//! instruction a header whose code is [`NETF_BPF`] with [`NETF_IN`] (frames
//! received) and/or [`NETF_OUT`] (frames sent), then classic BPF over the
//! whole frame (link header included); the program's return value is how
//! many bytes of the frame to deliver, 0 to refuse it. Filters run in
//! order of priority (highest first); a frame goes to every port whose
//! filter accepts it, except that an accepting filter of priority
//! [`NET_HI_PRI`] or more takes it alone (GNU Mach's `net_filter`).
//!
//! [`Filter`] validates a program (every jump inside it, loads from the
//! scratch memory in range, no constant division by zero, a return at the
//! end) and runs it; running never reads outside the frame (such a load
//! refuses the frame) and always ends (jumps go forward only).
//!
//! ```
//! use hurd_abi::net::{Filter, NETF_IN, accept_ethertypes};
//!
//! // ARP and IPv4, 1514 bytes at most.
//! let words = accept_ethertypes(NETF_IN, &[0x0806, 0x0800], 1514);
//! let filter = Filter::parse(&words).unwrap();
//! let mut arp = [0u8; 42];
//! arp[12..14].copy_from_slice(&[0x08, 0x06]);
//! assert_eq!(filter.run(&arp), 1514);
//! let mut ipv6 = [0u8; 60];
//! ipv6[12..14].copy_from_slice(&[0x86, 0xdd]);
//! assert_eq!(filter.run(&ipv6), 0);
//! ```

use alloc::vec::Vec;

/// `device_get_status` flavor `NET_STATUS`: [`NetStatus`] as
/// [`NET_STATUS_COUNT`] words.
pub const NET_STATUS: u32 = ((b'n' as u32) << 16) + 1;
/// `device_get_status` flavor `NET_ADDRESS`: the hardware address, its bytes
/// in network order in each word (see [`address_to_words`]).
pub const NET_ADDRESS: u32 = ((b'n' as u32) << 16) + 2;
/// Words in a [`NET_STATUS`] answer.
pub const NET_STATUS_COUNT: u32 = 7;
/// Header format `HDR_ETHERNET` (RFC 826's hardware type).
pub const HDR_ETHERNET: i32 = 1;
/// The Ethernet header's length.
pub const ETHER_HEADER: usize = 14;
/// The longest Ethernet frame without its checksum (1500 bytes of data).
pub const ETHER_MAX_FRAME: usize = 1514;
/// Interface flag: up (Linux's `IFF_UP`, as GNU Mach reports it).
pub const IFF_UP: i32 = 0x1;
/// Interface flag: broadcast works.
pub const IFF_BROADCAST: i32 = 0x2;
/// Interface flag: running.
pub const IFF_RUNNING: i32 = 0x40;

/// The most `filter_t` words a filter may have.
pub const NET_MAX_FILTER: usize = 128;
/// A filter's header flag: it sees the frames received.
pub const NETF_IN: u16 = 0x1;
/// A filter's header flag: it sees the frames sent.
pub const NETF_OUT: u16 = 0x2;
/// The bits of a filter's first word naming its kind.
pub const NETF_TYPE_MASK: u16 = 0x3f << 10;
/// The kind of a BPF filter.
pub const NETF_BPF: u16 = 1 << 10;
/// Filters of this priority or more take the frames they accept alone.
pub const NET_HI_PRI: i32 = 100;
/// The highest priority.
pub const NET_PRI_MAX: i32 = 255;
/// The most bytes of a frame's data (after the link header) in one
/// `net_rcv_msg`.
pub const NET_RCV_MAX: usize = 4095;

/// A network interface's status (`struct net_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetStatus {
    /// The shortest frame, header included.
    pub min_packet_size: i32,
    /// The longest frame, header included.
    pub max_packet_size: i32,
    /// The link header's format ([`HDR_ETHERNET`]).
    pub header_format: i32,
    /// The link header's length.
    pub header_size: i32,
    /// The hardware address's length.
    pub address_size: i32,
    /// `IFF_*` flags.
    pub flags: i32,
    /// Memory to map the device (0: not mappable).
    pub mapped_size: i32,
}

impl NetStatus {
    /// The [`NET_STATUS`] words.
    pub fn to_words(self) -> [u32; NET_STATUS_COUNT as usize] {
        [
            self.min_packet_size,
            self.max_packet_size,
            self.header_format,
            self.header_size,
            self.address_size,
            self.flags,
            self.mapped_size,
        ]
        .map(|w| w as u32)
    }

    /// The status from [`NET_STATUS`] words; `None` when there are fewer.
    pub fn from_words(words: &[u32]) -> Option<NetStatus> {
        let [a, b, c, d, e, f, g, ..] = *words else {
            return None;
        };
        let [a, b, c, d, e, f, g] = [a, b, c, d, e, f, g].map(|w| w as i32);
        Some(NetStatus {
            min_packet_size: a,
            max_packet_size: b,
            header_format: c,
            header_size: d,
            address_size: e,
            flags: f,
            mapped_size: g,
        })
    }
}

/// A hardware address as [`NET_ADDRESS`] words: four bytes a word, the
/// first byte in the high bits (GNU Mach `htonl`s each word), the last word
/// padded with zeros.
pub fn address_to_words(address: &[u8]) -> Vec<u32> {
    address
        .chunks(4)
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            u32::from_be_bytes(b)
        })
        .collect()
}

/// The first `len` bytes of an address given as [`NET_ADDRESS`] words;
/// `None` when the words hold fewer.
pub fn address_from_words(words: &[u32], len: usize) -> Option<Vec<u8>> {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    bytes.get(..len).map(<[u8]>::to_vec)
}

/// A frame as the two parts of a `net_rcv_msg`: the Ethernet header, and
/// Mach's `struct packet_header` (the part's length, host order; the
/// Ethernet type, network order) followed by the data. Only the first
/// `keep` bytes of the frame are delivered (a filter's answer), and at most
/// [`NET_RCV_MAX`] bytes of data. `None` for a frame shorter than its
/// header or a `keep` that does not cover it.
pub fn rcv_msg_parts(frame: &[u8], keep: usize) -> Option<(Vec<u8>, Vec<u8>)> {
    if frame.len() < ETHER_HEADER || keep < ETHER_HEADER {
        return None;
    }
    let (header, rest) = frame.split_at(ETHER_HEADER);
    let data = &rest[..rest.len().min(keep - ETHER_HEADER).min(NET_RCV_MAX)];
    let length = (data.len() + 4) as u16;
    let mut packet = Vec::with_capacity(data.len() + 4);
    packet.extend_from_slice(&length.to_le_bytes());
    packet.extend_from_slice(&header[12..14]);
    packet.extend_from_slice(data);
    Some((header.to_vec(), packet))
}

/// The frame a `net_rcv_msg` carries (its header, then the data after the
/// packet header); `None` when the parts are malformed (a header that is
/// not an Ethernet header, a packet shorter than its packet header, or a
/// packet header whose length or type disagree with the parts).
pub fn frame_of_rcv_msg(header: &[u8], packet: &[u8]) -> Option<Vec<u8>> {
    if header.len() != ETHER_HEADER || packet.len() < 4 {
        return None;
    }
    let length = usize::from(u16::from_le_bytes([packet[0], packet[1]]));
    if length != packet.len() || packet[2..4] != header[12..14] {
        return None;
    }
    let mut frame = Vec::with_capacity(header.len() + packet.len() - 4);
    frame.extend_from_slice(header);
    frame.extend_from_slice(&packet[4..]);
    Some(frame)
}

/// The filter words of a BPF program accepting frames whose Ethernet type
/// is one of `types` (up to `keep` bytes of each), refusing the rest;
/// `direction` is [`NETF_IN`] and/or [`NETF_OUT`]. At most 28 types (the
/// program must fit [`NET_MAX_FILTER`]).
pub fn accept_ethertypes(direction: u16, types: &[u16], keep: u32) -> Vec<u16> {
    let types = &types[..types.len().min(28)];
    let n = types.len();
    let mut program = Vec::with_capacity(n + 3);
    program.push(Insn::new(NETF_BPF | direction, 0, 0, 0));
    program.push(Insn::new(bpf::LD | bpf::H | bpf::ABS, 0, 0, 12));
    for (i, &t) in types.iter().enumerate() {
        // Equal: jump to the accepting return after the remaining tests.
        program.push(Insn::new(
            bpf::JMP | bpf::JEQ | bpf::K,
            (n - 1 - i) as u8,
            0,
            u32::from(t),
        ));
    }
    // No type matched: fall through the last test to the refusal.
    if let Some(last) = program.last_mut()
        && n > 0
    {
        last.jf = 1;
    }
    program.push(Insn::new(bpf::RET | bpf::K, 0, 0, keep));
    program.push(Insn::new(bpf::RET | bpf::K, 0, 0, 0));
    if n == 0 {
        // No type at all: refuse everything.
        program.truncate(1);
        program.push(Insn::new(bpf::RET | bpf::K, 0, 0, 0));
    }
    program.iter().flat_map(|i| i.to_words()).collect()
}

/// Classic BPF's opcodes (the parts of an instruction's code).
pub mod bpf {
    /// Load into the accumulator.
    pub const LD: u16 = 0x00;
    /// Load into the index register.
    pub const LDX: u16 = 0x01;
    /// Store the accumulator in scratch memory.
    pub const ST: u16 = 0x02;
    /// Store the index register in scratch memory.
    pub const STX: u16 = 0x03;
    /// Arithmetic on the accumulator.
    pub const ALU: u16 = 0x04;
    /// A jump.
    pub const JMP: u16 = 0x05;
    /// Return (the bytes to deliver).
    pub const RET: u16 = 0x06;
    /// Register transfers.
    pub const MISC: u16 = 0x07;
    /// A 32-bit load.
    pub const W: u16 = 0x00;
    /// A 16-bit load.
    pub const H: u16 = 0x08;
    /// An 8-bit load.
    pub const B: u16 = 0x10;
    /// Load the constant.
    pub const IMM: u16 = 0x00;
    /// Load from the frame at a constant offset.
    pub const ABS: u16 = 0x20;
    /// Load from the frame at X plus a constant.
    pub const IND: u16 = 0x40;
    /// Load from scratch memory.
    pub const MEM: u16 = 0x60;
    /// Load the frame's length.
    pub const LEN: u16 = 0x80;
    /// X = 4 * (the low nibble of a frame byte): an IPv4 header's length.
    pub const MSH: u16 = 0xa0;
    /// The operand is the constant.
    pub const K: u16 = 0x00;
    /// The operand is the index register.
    pub const X: u16 = 0x08;
    /// Return the accumulator.
    pub const A: u16 = 0x10;
    /// `+`.
    pub const ADD: u16 = 0x00;
    /// `-`.
    pub const SUB: u16 = 0x10;
    /// `*`.
    pub const MUL: u16 = 0x20;
    /// `/`.
    pub const DIV: u16 = 0x30;
    /// `|`.
    pub const OR: u16 = 0x40;
    /// `&`.
    pub const AND: u16 = 0x50;
    /// `<<`.
    pub const LSH: u16 = 0x60;
    /// `>>`.
    pub const RSH: u16 = 0x70;
    /// Negation.
    pub const NEG: u16 = 0x80;
    /// Always jump by the constant.
    pub const JA: u16 = 0x00;
    /// Jump if equal.
    pub const JEQ: u16 = 0x10;
    /// Jump if greater.
    pub const JGT: u16 = 0x20;
    /// Jump if greater or equal.
    pub const JGE: u16 = 0x30;
    /// Jump if any bit in common.
    pub const JSET: u16 = 0x40;
    /// A = X.
    pub const TXA: u16 = 0x80;
    /// X = A.
    pub const TAX: u16 = 0x00;
    /// Words of scratch memory.
    pub const MEMWORDS: u32 = 16;
}

/// One BPF instruction (`struct bpf_insn`: code, jump offsets if true and
/// false, constant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// The opcode.
    pub code: u16,
    /// Instructions to skip when a condition holds.
    pub jt: u8,
    /// Instructions to skip when it does not.
    pub jf: u8,
    /// The constant.
    pub k: u32,
}

impl Insn {
    /// An instruction.
    pub const fn new(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
        Insn { code, jt, jf, k }
    }

    /// Its four `filter_t` words, as it lies in memory on x86.
    pub fn to_words(self) -> [u16; 4] {
        [
            self.code,
            u16::from_le_bytes([self.jt, self.jf]),
            self.k as u16,
            (self.k >> 16) as u16,
        ]
    }

    /// The instruction in four words.
    pub fn from_words(w: [u16; 4]) -> Insn {
        let [jt, jf] = w[1].to_le_bytes();
        Insn {
            code: w[0],
            jt,
            jf,
            k: u32::from(w[2]) | (u32::from(w[3]) << 16),
        }
    }
}

/// Why a filter is refused (`device_set_filter` answers
/// `D_INVALID_OPERATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadFilter {
    /// No words, or more than [`NET_MAX_FILTER`].
    Size,
    /// The header names neither [`NETF_IN`] nor [`NETF_OUT`].
    NoDirection,
    /// Not a BPF filter (Mach's older stack-machine filters are not served).
    NotBpf,
    /// The words are not whole instructions, or there is no program.
    Truncated,
    /// Instruction `n` (counted from the program's first) has an unknown
    /// opcode.
    Opcode(usize),
    /// Instruction `n` jumps outside the program.
    Jump(usize),
    /// Instruction `n` names scratch memory past its 16 words.
    Memory(usize),
    /// Instruction `n` divides by the constant 0.
    DivideByZero(usize),
    /// The program's last instruction is no return.
    NoReturn,
}

/// A validated filter: its direction and program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    header: u16,
    program: Vec<Insn>,
}

impl Filter {
    /// Validates a filter as `device_set_filter` receives it.
    ///
    /// # Errors
    ///
    /// [`BadFilter`]: why the words are no filter this device runs.
    pub fn parse(words: &[u16]) -> Result<Filter, BadFilter> {
        let Some(&header) = words.first() else {
            return Err(BadFilter::Size);
        };
        if words.len() > NET_MAX_FILTER {
            return Err(BadFilter::Size);
        }
        if header & (NETF_IN | NETF_OUT) == 0 {
            return Err(BadFilter::NoDirection);
        }
        if header & NETF_TYPE_MASK != NETF_BPF {
            return Err(BadFilter::NotBpf);
        }
        if !words.len().is_multiple_of(4) || words.len() < 8 {
            return Err(BadFilter::Truncated);
        }
        let program: Vec<Insn> = words[4..]
            .chunks_exact(4)
            .map(|c| Insn::from_words([c[0], c[1], c[2], c[3]]))
            .collect();
        for (pc, insn) in program.iter().enumerate() {
            validate(&program, pc, insn)?;
        }
        match program.last() {
            Some(last) if last.code & 0x07 == bpf::RET => Ok(Filter { header, program }),
            _ => Err(BadFilter::NoReturn),
        }
    }

    /// Whether it sees the frames received.
    pub fn incoming(&self) -> bool {
        self.header & NETF_IN != 0
    }

    /// Whether it sees the frames sent.
    pub fn outgoing(&self) -> bool {
        self.header & NETF_OUT != 0
    }

    /// Runs the program over `frame`: how many of its bytes to deliver
    /// (0: refused). A load outside the frame, or a division by a zero
    /// index register, refuses the frame.
    pub fn run(&self, frame: &[u8]) -> u32 {
        run(&self.program, frame).unwrap_or(0)
    }
}

/// Checks instruction `pc` of `program`.
fn validate(program: &[Insn], pc: usize, insn: &Insn) -> Result<(), BadFilter> {
    let code = insn.code;
    let bad = Err(BadFilter::Opcode(pc));
    let rest = program.len() - pc - 1;
    match code & 0x07 {
        bpf::LD | bpf::LDX => {
            let mode = code & 0xe0;
            let size = code & 0x18;
            let ok = if code & 0x07 == bpf::LD {
                match mode {
                    bpf::ABS | bpf::IND => matches!(size, bpf::W | bpf::H | bpf::B),
                    bpf::IMM | bpf::MEM | bpf::LEN => size == bpf::W,
                    _ => false,
                }
            } else {
                match mode {
                    bpf::IMM | bpf::MEM | bpf::LEN => size == bpf::W,
                    bpf::MSH => size == bpf::B,
                    _ => false,
                }
            };
            if !ok || code & 0xff00 != 0 {
                return bad;
            }
            if mode == bpf::MEM && insn.k >= bpf::MEMWORDS {
                return Err(BadFilter::Memory(pc));
            }
        }
        bpf::ST | bpf::STX => {
            if code != bpf::ST && code != bpf::STX {
                return bad;
            }
            if insn.k >= bpf::MEMWORDS {
                return Err(BadFilter::Memory(pc));
            }
        }
        bpf::ALU => {
            let op = code & 0xf0;
            if code & 0xff00 != 0 || code & 0x07 != bpf::ALU || op > bpf::NEG {
                return bad;
            }
            if op == bpf::NEG && code != bpf::ALU | bpf::NEG {
                return bad;
            }
            if op == bpf::DIV && code & bpf::X == 0 && insn.k == 0 {
                return Err(BadFilter::DivideByZero(pc));
            }
        }
        bpf::JMP => {
            let op = code & 0xf0;
            if code & 0xff00 != 0 || code & 0x07 != bpf::JMP || op > bpf::JSET {
                return bad;
            }
            if op == bpf::JA {
                if code & bpf::X != 0 || usize::try_from(insn.k).map_or(true, |k| k >= rest) {
                    return Err(BadFilter::Jump(pc));
                }
            } else if usize::from(insn.jt) >= rest || usize::from(insn.jf) >= rest {
                return Err(BadFilter::Jump(pc));
            }
        }
        bpf::RET => {
            if !matches!(code, 0x06 | 0x0e | 0x16) {
                return bad;
            }
        }
        _ => {
            if code != bpf::MISC | bpf::TAX && code != bpf::MISC | bpf::TXA {
                return bad;
            }
        }
    }
    Ok(())
}

/// Loads `size` bytes (1, 2 or 4) big-endian at `at`.
fn load(frame: &[u8], at: u32, size: usize) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    let bytes = frame.get(at..at.checked_add(size)?)?;
    Some(bytes.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b)))
}

/// Runs a validated program; `None` refuses the frame.
fn run(program: &[Insn], frame: &[u8]) -> Option<u32> {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; bpf::MEMWORDS as usize];
    let mut pc = 0usize;
    loop {
        let insn = program.get(pc)?;
        let k = insn.k;
        pc += 1;
        let size = match insn.code & 0x18 {
            bpf::H => 2,
            bpf::B => 1,
            _ => 4,
        };
        match insn.code & 0x07 {
            bpf::LD => {
                a = match insn.code & 0xe0 {
                    bpf::ABS => load(frame, k, size)?,
                    bpf::IND => load(frame, x.checked_add(k)?, size)?,
                    bpf::MEM => *mem.get(k as usize)?,
                    bpf::LEN => frame.len() as u32,
                    _ => k,
                }
            }
            bpf::LDX => {
                x = match insn.code & 0xe0 {
                    bpf::MEM => *mem.get(k as usize)?,
                    bpf::LEN => frame.len() as u32,
                    bpf::MSH => (load(frame, k, 1)? & 0xf) * 4,
                    _ => k,
                }
            }
            bpf::ST => *mem.get_mut(k as usize)? = a,
            bpf::STX => *mem.get_mut(k as usize)? = x,
            bpf::ALU => {
                let v = if insn.code & bpf::X != 0 { x } else { k };
                a = match insn.code & 0xf0 {
                    bpf::ADD => a.wrapping_add(v),
                    bpf::SUB => a.wrapping_sub(v),
                    bpf::MUL => a.wrapping_mul(v),
                    bpf::DIV => a.checked_div(v)?,
                    bpf::OR => a | v,
                    bpf::AND => a & v,
                    bpf::LSH => a.checked_shl(v).unwrap_or(0),
                    bpf::RSH => a.checked_shr(v).unwrap_or(0),
                    _ => a.wrapping_neg(),
                }
            }
            bpf::JMP => {
                let taken = match insn.code & 0xf0 {
                    bpf::JA => {
                        pc = pc.checked_add(usize::try_from(k).ok()?)?;
                        continue;
                    }
                    bpf::JEQ => a == if insn.code & bpf::X != 0 { x } else { k },
                    bpf::JGT => a > if insn.code & bpf::X != 0 { x } else { k },
                    bpf::JGE => a >= if insn.code & bpf::X != 0 { x } else { k },
                    _ => a & (if insn.code & bpf::X != 0 { x } else { k }) != 0,
                };
                pc += usize::from(if taken { insn.jt } else { insn.jf });
            }
            bpf::RET => {
                return Some(match insn.code & 0x18 {
                    bpf::X => x,
                    bpf::A => a,
                    _ => k,
                });
            }
            _ => {
                if insn.code & 0x80 != 0 {
                    a = x;
                } else {
                    x = a;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn words(program: &[Insn], header: u16) -> Vec<u16> {
        core::iter::once(Insn::new(header, 0, 0, 0))
            .chain(program.iter().copied())
            .flat_map(|i| i.to_words())
            .collect()
    }

    fn frame(ethertype: u16, len: usize) -> Vec<u8> {
        let mut f = vec![0u8; len];
        f[12..14].copy_from_slice(&ethertype.to_be_bytes());
        f
    }

    #[test]
    fn hurd_pfinet_filter() {
        // The filter the Hurd's pfinet gives its device.
        let w = words(
            &[
                Insn::new(bpf::LD | bpf::H | bpf::ABS, 0, 0, 12),
                Insn::new(bpf::JMP | bpf::JEQ | bpf::K, 2, 0, 0x0806),
                Insn::new(bpf::JMP | bpf::JEQ | bpf::K, 1, 0, 0x0800),
                Insn::new(bpf::JMP | bpf::JEQ | bpf::K, 0, 1, 0x86dd),
                Insn::new(bpf::RET | bpf::K, 0, 0, 1500),
                Insn::new(bpf::RET | bpf::K, 0, 0, 0),
            ],
            NETF_IN | NETF_BPF,
        );
        assert_eq!(w[0], 0x401);
        let f = Filter::parse(&w).expect("valid");
        assert!(f.incoming() && !f.outgoing());
        for t in [0x0806, 0x0800, 0x86dd] {
            assert_eq!(f.run(&frame(t, 60)), 1500);
        }
        assert_eq!(f.run(&frame(0x88cc, 60)), 0);
        // Too short to hold the type: refused, not read past.
        assert_eq!(f.run(&[0u8; 13]), 0);
        assert_eq!(
            Filter::parse(&accept_ethertypes(NETF_IN, &[0x0806, 0x0800, 0x86dd], 1500))
                .expect("valid")
                .run(&frame(0x0800, 60)),
            1500
        );
        let none = Filter::parse(&accept_ethertypes(NETF_OUT, &[], 1500)).expect("valid");
        assert!(none.outgoing() && !none.incoming());
        assert_eq!(none.run(&frame(0x0800, 60)), 0);
    }

    #[test]
    fn bad_filters() {
        let ret = Insn::new(bpf::RET | bpf::K, 0, 0, 1);
        let hdr = NETF_IN | NETF_BPF;
        assert_eq!(Filter::parse(&[]), Err(BadFilter::Size));
        assert_eq!(Filter::parse(&[hdr; 132]), Err(BadFilter::Size));
        assert_eq!(
            Filter::parse(&words(&[ret], NETF_BPF)),
            Err(BadFilter::NoDirection)
        );
        // Mach's older filters (NETF_PUSHLIT | NETF_NOP, 1 after a header).
        assert_eq!(Filter::parse(&[NETF_IN, 1, 1]), Err(BadFilter::NotBpf));
        assert_eq!(Filter::parse(&[hdr, 0, 0, 0]), Err(BadFilter::Truncated));
        assert_eq!(
            Filter::parse(&[hdr, 0, 0, 0, 6, 0]),
            Err(BadFilter::Truncated)
        );
        let cases = [
            (
                vec![Insn::new(bpf::LD | bpf::H | bpf::ABS, 0, 0, 12)],
                BadFilter::NoReturn,
            ),
            (vec![Insn::new(0x00ff, 0, 0, 0), ret], BadFilter::Opcode(0)),
            (
                vec![Insn::new(bpf::JMP | bpf::JEQ, 1, 0, 0), ret],
                BadFilter::Jump(0),
            ),
            (
                vec![Insn::new(bpf::JMP | bpf::JA, 0, 0, u32::MAX), ret],
                BadFilter::Jump(0),
            ),
            (
                vec![Insn::new(bpf::LD | bpf::MEM, 0, 0, 16), ret],
                BadFilter::Memory(0),
            ),
            (
                vec![Insn::new(bpf::ST, 0, 0, 99), ret],
                BadFilter::Memory(0),
            ),
            (
                vec![Insn::new(bpf::ALU | bpf::DIV | bpf::K, 0, 0, 0), ret],
                BadFilter::DivideByZero(0),
            ),
        ];
        for (program, why) in cases {
            assert_eq!(
                Filter::parse(&words(&program, hdr)),
                Err(why),
                "{program:?}"
            );
        }
    }

    #[test]
    fn arithmetic_memory_and_index() {
        use bpf::*;
        // X = IPv4 header length; A = the byte after it; keep A * 2 + 1
        // unless divided by X = 0.
        let p = [
            Insn::new(LDX | B | MSH, 0, 0, 14),
            Insn::new(LD | B | IND, 0, 0, 14),
            Insn::new(ST, 0, 0, 3),
            Insn::new(LD | MEM, 0, 0, 3),
            Insn::new(ALU | MUL | K, 0, 0, 2),
            Insn::new(ALU | ADD | K, 0, 0, 1),
            Insn::new(RET | A, 0, 0, 0),
        ];
        let f = Filter::parse(&words(&p, NETF_IN | NETF_BPF)).expect("valid");
        let mut fr = frame(0x0800, 64);
        fr[14] = 0x45;
        fr[14 + 20] = 7;
        assert_eq!(f.run(&fr), 15);
        // The index lands past the end: refused.
        fr[14] = 0x4f;
        assert_eq!(f.run(&fr[..70.min(fr.len())]), 0);
        let div = [
            Insn::new(LDX | IMM, 0, 0, 0),
            Insn::new(LD | LEN, 0, 0, 0),
            Insn::new(ALU | DIV | X, 0, 0, 0),
            Insn::new(RET | A, 0, 0, 0),
        ];
        let f = Filter::parse(&words(&div, NETF_IN | NETF_BPF)).expect("valid");
        assert_eq!(f.run(&fr), 0);
        let len = [
            Insn::new(LD | LEN, 0, 0, 0),
            Insn::new(MISC | TAX, 0, 0, 0),
            Insn::new(RET | X, 0, 0, 0),
        ];
        let f = Filter::parse(&words(&len, NETF_IN | NETF_BPF)).expect("valid");
        assert_eq!(f.run(&fr), 64);
    }

    #[test]
    fn status_address_and_messages() {
        let s = NetStatus {
            min_packet_size: 14,
            max_packet_size: 1514,
            header_format: HDR_ETHERNET,
            header_size: 14,
            address_size: 6,
            flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING,
            mapped_size: 0,
        };
        assert_eq!(NetStatus::from_words(&s.to_words()), Some(s));
        assert_eq!(NetStatus::from_words(&s.to_words()[..6]), None);
        assert_eq!(NET_STATUS, 0x6e_0001);
        assert_eq!(NET_ADDRESS, 0x6e_0002);
        let mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        let w = address_to_words(&mac);
        assert_eq!(w, [0x5254_0012, 0x3456_0000]);
        assert_eq!(address_from_words(&w, 6).as_deref(), Some(&mac[..]));
        assert_eq!(address_from_words(&w[..1], 6), None);

        let mut fr = frame(0x0806, 42);
        fr[41] = 9;
        let (h, p) = rcv_msg_parts(&fr, 1500).expect("valid");
        assert_eq!(h.len(), 14);
        assert_eq!(&p[..4], &[32, 0, 0x08, 0x06]);
        assert_eq!(frame_of_rcv_msg(&h, &p).as_deref(), Some(&fr[..]));
        let (_, cut) = rcv_msg_parts(&fr, 20).expect("valid");
        assert_eq!(cut.len(), 4 + 6);
        assert_eq!(rcv_msg_parts(&fr[..13], 1500), None);
        assert_eq!(rcv_msg_parts(&fr, 13), None);
        assert_eq!(frame_of_rcv_msg(&h, &p[..3]), None);
        assert_eq!(frame_of_rcv_msg(&h[..13], &p), None);
        let mut wrong = p.clone();
        wrong[0] = 31;
        assert_eq!(frame_of_rcv_msg(&h, &wrong), None);
        wrong = p.clone();
        wrong[3] = 0;
        assert_eq!(frame_of_rcv_msg(&h, &wrong), None);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any words: a clear refusal or a filter that runs over any frame
        /// without reading past it (bounded by its length: jumps go forward).
        #[test]
        fn any_words_parse_or_refuse(
            words in proptest::collection::vec(any::<u16>(), 0..140),
            frame in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            if let Ok(f) = Filter::parse(&words) {
                let _ = f.run(&frame);
            }
        }

        /// Programs of valid-looking instructions over any frame.
        #[test]
        fn programs_run_on_any_frame(
            insns in proptest::collection::vec(
                (prop::sample::select(alloc::vec![
                    0x00u16, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x80,
                    0x01, 0x61, 0x81, 0xb1, 0x02, 0x03,
                    0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c,
                    0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84,
                    0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d,
                    0x06, 0x0e, 0x16, 0x07, 0x87,
                ]), any::<u8>(), any::<u8>(), any::<u32>()),
                1..30,
            ),
            frame in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let mut words = Insn::new(NETF_IN | NETF_BPF, 0, 0, 0).to_words().to_vec();
            for (code, jt, jf, k) in insns {
                let k = if code & 0x60 == 0x60 || code & 0x07 == 0x02 || code & 0x07 == 0x03 {
                    k % 16
                } else {
                    k
                };
                words.extend(Insn::new(code, jt % 4, jf % 4, k % 128).to_words());
            }
            words.extend(Insn::new(bpf::RET | bpf::A, 0, 0, 0).to_words());
            if let Ok(f) = Filter::parse(&words) {
                let _ = f.run(&frame);
            }
        }
    }
}
