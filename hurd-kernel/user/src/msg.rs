//! A message buffer in the wire form of `hurd_ipc::wire`: a 24-byte header,
//! then items (an 8-byte descriptor and a payload padded to 8 bytes).

/// `MACH_MSG_TYPE_MOVE_SEND_ONCE`.
pub const MOVE_SEND_ONCE: u32 = 18;
/// `MACH_MSG_TYPE_COPY_SEND`.
pub const COPY_SEND: u32 = 19;
/// `MACH_MSG_TYPE_MAKE_SEND`.
pub const MAKE_SEND: u32 = 20;
/// `MACH_MSG_TYPE_MAKE_SEND_ONCE`.
pub const MAKE_SEND_ONCE: u32 = 21;
/// `MACH_MSG_TYPE_MOVE_SEND`.
pub const MOVE_SEND: u32 = 17;
/// `MACH_MSGH_BITS_COMPLEX`.
pub const COMPLEX: u32 = 0x8000_0000;
/// `MACH_MSG_TYPE_INTEGER_32`.
const TYPE_INTEGER_32: u8 = 2;
/// `MACH_MSG_TYPE_BYTE`.
const TYPE_BYTE: u8 = 9;
/// `MACH_MSG_TYPE_INTEGER_64`.
const TYPE_INTEGER_64: u8 = 11;
/// The inline flag of an item descriptor.
const FLAG_INLINE: u8 = 1;

/// A message buffer of 8 KiB (room for a page of out-of-line data), 8-byte
/// aligned.
#[repr(C, align(8))]
pub struct MsgBuf {
    bytes: [u8; 8192],
    len: usize,
}

impl Default for MsgBuf {
    fn default() -> Self {
        MsgBuf::new()
    }
}

impl MsgBuf {
    /// The buffer's capacity (what to pass as `rcv_size`).
    pub const CAPACITY: u64 = 8192;

    /// An empty buffer.
    pub const fn new() -> MsgBuf {
        MsgBuf {
            bytes: [0; 8192],
            len: 0,
        }
    }

    /// The buffer, for `mach_msg`.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.bytes.as_mut_ptr()
    }

    fn put32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn get32(&self, at: usize) -> u32 {
        let mut w = [0; 4];
        w.copy_from_slice(&self.bytes[at..at + 4]);
        u32::from_le_bytes(w)
    }

    /// Starts a message: destination `remote` used with `remote_disp`, reply
    /// port `local` with `local_disp` (0 for none), id `id`, empty body.
    pub fn start(&mut self, remote: u32, remote_disp: u32, local: u32, local_disp: u32, id: i32) {
        self.bytes[..24].fill(0);
        self.put32(0, remote_disp | (local_disp << 8));
        self.put32(8, remote);
        self.put32(12, local);
        self.put32(20, id as u32);
        self.len = 24;
        self.put32(4, 24);
    }

    /// Appends a 32-bit integer item.
    pub fn push_u32(&mut self, v: u32) {
        let at = self.len;
        self.bytes[at..at + 16].fill(0);
        self.bytes[at] = TYPE_INTEGER_32;
        self.bytes[at + 1] = FLAG_INLINE;
        self.put32(at + 4, 1);
        self.put32(at + 8, v);
        self.len += 16;
        self.put32(4, self.len as u32);
    }

    /// Appends a 64-bit integer item.
    pub fn push_u64(&mut self, v: u64) {
        let at = self.len;
        self.bytes[at..at + 16].fill(0);
        self.bytes[at] = TYPE_INTEGER_64;
        self.bytes[at + 1] = FLAG_INLINE;
        self.put32(at + 4, 1);
        self.bytes[at + 8..at + 16].copy_from_slice(&v.to_le_bytes());
        self.len += 16;
        self.put32(4, self.len as u32);
    }

    /// Appends in-line bytes (`MACH_MSG_TYPE_BYTE`).
    pub fn push_bytes(&mut self, data: &[u8]) {
        let at = self.len;
        let padded = data.len().div_ceil(8) * 8;
        self.bytes[at..at + 8 + padded].fill(0);
        self.bytes[at] = TYPE_BYTE;
        self.bytes[at + 1] = FLAG_INLINE;
        self.put32(at + 4, data.len() as u32);
        self.bytes[at + 8..at + 8 + data.len()].copy_from_slice(data);
        self.len += 8 + padded;
        self.put32(4, self.len as u32);
    }

    /// The payload of an in-line bytes item that follows `index` 16-byte
    /// items.
    pub fn bytes_item(&self, index: usize) -> Option<&[u8]> {
        let at = 24 + 16 * index;
        let size = self.size() as usize;
        if at + 8 > size || self.bytes[at] != TYPE_BYTE {
            return None;
        }
        let len = self.get32(at + 4) as usize;
        self.bytes
            .get(at + 8..at + 8 + len)
            .filter(|_| at + 8 + len <= size)
    }

    /// Appends out-of-line bytes (carried by value in the wire form) and
    /// marks the message complex; `fill(i)` gives byte `i`.
    pub fn push_ool(&mut self, len: usize, fill: impl Fn(usize) -> u8) {
        let at = self.len;
        let padded = len.div_ceil(8) * 8;
        self.bytes[at..at + 8 + padded].fill(0);
        self.bytes[at] = TYPE_BYTE;
        self.put32(at + 4, len as u32);
        for i in 0..len {
            self.bytes[at + 8 + i] = fill(i);
        }
        self.len += 8 + padded;
        self.put32(4, self.len as u32);
        let bits = self.get32(0) | COMPLEX;
        self.put32(0, bits);
    }

    /// The 64-bit payload of the `index`-th item (every item 16 bytes).
    pub fn item_u64(&self, index: usize) -> Option<u64> {
        let at = 24 + 16 * index;
        if at + 16 > self.size() as usize {
            return None;
        }
        let mut w = [0; 8];
        w.copy_from_slice(&self.bytes[at + 8..at + 16]);
        Some(u64::from_le_bytes(w))
    }

    /// Appends a port right item (`disp` one of the `MOVE_*`/`COPY_*`/`MAKE_*`
    /// dispositions) and marks the message complex.
    pub fn push_port(&mut self, name: u32, disp: u32) {
        let at = self.len;
        self.bytes[at..at + 16].fill(0);
        self.bytes[at] = disp as u8;
        self.bytes[at + 1] = FLAG_INLINE;
        self.put32(at + 4, 1);
        self.put32(at + 8, name);
        self.len += 16;
        self.put32(4, self.len as u32);
        let bits = self.get32(0) | COMPLEX;
        self.put32(0, bits);
    }

    /// The size of the message (header field).
    pub fn size(&self) -> u32 {
        self.get32(4)
    }

    /// The header's remote port (received: the reply port).
    pub fn remote(&self) -> u32 {
        self.get32(8)
    }

    /// The header's local port (received: the port it arrived on).
    pub fn local(&self) -> u32 {
        self.get32(12)
    }

    /// The remote disposition (received: what the reply right is).
    pub fn remote_bits(&self) -> u32 {
        self.get32(0) & 0xff
    }

    /// The message id.
    pub fn id(&self) -> i32 {
        self.get32(20) as i32
    }

    /// The `index`-th item's first 32-bit payload word and its type byte, if
    /// the message is that long (every item here is 16 bytes).
    pub fn item(&self, index: usize) -> Option<(u8, u32)> {
        let at = 24 + 16 * index;
        if at + 16 > self.size() as usize {
            return None;
        }
        Some((self.bytes[at], self.get32(at + 8)))
    }
}
