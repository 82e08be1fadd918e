//! Fixed-size records as in-line message bytes: the reader both `stat` and
//! `statfs` parse with, and their `MsgArg` form.

/// Reads little-endian fields in order from a buffer whose length the caller
/// checked; past the end it reads zeros rather than panicking.
pub(crate) struct Fields<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    /// A reader at the start of `b`.
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Fields { b, at: 0 }
    }
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(s) = self
            .at
            .checked_add(N)
            .and_then(|end| self.b.get(self.at..end))
        {
            out.copy_from_slice(s);
        }
        self.at = self.at.saturating_add(N);
        out
    }
    /// The next `u32`.
    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    /// The next `u64`.
    pub(crate) fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    /// The next `i64`.
    pub(crate) fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.take())
    }
}

/// `MsgArg` for a record that travels as in-line bytes of exactly `$size`,
/// with `to_bytes` and `from_bytes` (a wrong size decodes as the default).
macro_rules! fixed_size_arg {
    ($ty:ty, $size:expr) => {
        impl hurd_ipc::mig::MsgArg for $ty {
            fn encode(self, body: &mut alloc::vec::Vec<hurd_ipc::Item>) {
                body.push(hurd_ipc::Item::Bytes(self.to_bytes()));
            }
            fn matches(item: &hurd_ipc::Item) -> bool {
                matches!(item, hurd_ipc::Item::Bytes(b) if b.len() == $size)
            }
            fn decode(item: hurd_ipc::Item) -> Self {
                match item {
                    hurd_ipc::Item::Bytes(b) => <$ty>::from_bytes(&b).unwrap_or_default(),
                    _ => <$ty>::default(),
                }
            }
        }
    };
}
pub(crate) use fixed_size_arg;
