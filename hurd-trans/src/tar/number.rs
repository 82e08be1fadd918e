//! Numeric header fields: octal text or GNU base-256, read and written.

/// Reads a numeric field.
///
/// Octal text may have leading spaces and ends at a space or NUL, after
/// which only spaces and NULs may follow (GNU tar writes `0000644\0`,
/// libarchive `000644 \0`, old tars ` 644 \0`); a field of nothing but
/// spaces and NULs is 0. When the first byte's high bit is set the field
/// is GNU base-256: a big-endian two's-complement number whose sign is
/// bit 6 of the first byte. `None` for anything else or a value beyond
/// `i64`.
pub(crate) fn parse(field: &[u8]) -> Option<i64> {
    match field.first() {
        Some(&b) if b & 0x80 != 0 => base256(field),
        _ => octal(field),
    }
}

fn octal(field: &[u8]) -> Option<i64> {
    let Some(start) = field.iter().position(|&b| b != b' ') else {
        return Some(0);
    };
    let rest = &field[start..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if !rest[digits..].iter().all(|&b| b == b' ' || b == 0) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in &rest[..digits] {
        if d > b'7' {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(i64::from(d - b'0'))?;
    }
    Some(v)
}

fn base256(field: &[u8]) -> Option<i64> {
    let (&first, rest) = field.split_first()?;
    // The low seven bits of the first byte, sign-extended from bit 6.
    let mut v = i128::from(first & 0x7f);
    if first & 0x40 != 0 {
        v -= 0x80;
    }
    for &b in rest {
        v = v.checked_mul(256)?.checked_add(i128::from(b))?;
    }
    i64::try_from(v).ok()
}

/// Writes `value` into `field` as zero-padded octal digits and a NUL, or,
/// when it does not fit (or is negative), as base-256. `false` if it fits
/// neither way.
pub(crate) fn write(field: &mut [u8], value: i64) -> bool {
    let digits = field.len() - 1;
    if value >= 0 && (digits >= 21 || value < 1i64 << (3 * digits)) {
        write_octal(field, value.unsigned_abs());
        return true;
    }
    // Base-256 holds 8 * len - 1 bits of two's complement (the marker bit
    // takes one).
    let bits = 8 * field.len() - 1;
    let fits = bits >= 64 || {
        let limit = 1i128 << (bits - 1);
        (-limit..limit).contains(&i128::from(value))
    };
    if !fits {
        return false;
    }
    let mut v = i128::from(value);
    for b in field.iter_mut().rev() {
        *b = (v & 0xff) as u8;
        v >>= 8;
    }
    field[0] = (field[0] & 0x7f) | 0x80;
    true
}

/// Whether `value` fits `field_len` bytes as octal (the form every reader
/// knows).
pub(crate) fn fits_octal(field_len: usize, value: i64) -> bool {
    let digits = field_len - 1;
    value >= 0 && (digits >= 21 || value < 1i64 << (3 * digits))
}

fn write_octal(field: &mut [u8], mut value: u64) {
    let digits = field.len() - 1;
    for b in field[..digits].iter_mut().rev() {
        *b = b'0' + (value & 7) as u8;
        value >>= 3;
    }
    field[digits] = 0;
}

/// A decimal number as pax writes it (no sign, no spaces).
pub(crate) fn decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in text {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_as_every_tool_writes_it() {
        assert_eq!(parse(b"0000644\0"), Some(0o644));
        assert_eq!(parse(b"000644 \0"), Some(0o644));
        assert_eq!(parse(b"   644 \0"), Some(0o644));
        assert_eq!(parse(b"644     "), Some(0o644));
        assert_eq!(parse(b"00000000017"), Some(0o17));
        assert_eq!(parse(b"\0\0\0\0\0\0\0\0"), Some(0));
        assert_eq!(parse(b"        "), Some(0));
        assert_eq!(parse(b"77777777777\0"), Some(0o77777777777));
        // A digit after the end, or something else, is not a number.
        assert_eq!(parse(b"64 4\0"), None);
        assert_eq!(parse(b"0000648\0"), None);
        assert_eq!(parse(b"-000001\0"), None);
        assert_eq!(parse(b"07x\0"), None);
    }

    #[test]
    fn base256_signed() {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[11] = 5;
        assert_eq!(parse(&f), Some(5));
        // -1: all ones.
        assert_eq!(parse(&[0xff; 12]), Some(-1));
        let mut f = [0xffu8; 12];
        f[11] = 0xfe;
        assert_eq!(parse(&f), Some(-2));
        // Beyond i64.
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[3] = 1;
        assert_eq!(parse(&f), None);
    }

    #[test]
    fn writes_read_back() {
        for (len, v) in [
            (12, 0i64),
            (12, 0o77777777777),
            (12, 1 << 33),
            (12, 9 << 30),
            (12, -1),
            (12, -(1 << 40)),
            (12, i64::MAX),
            (12, i64::MIN),
            (8, 2_097_151),
            (8, 2_097_152),
            (8, u32::MAX.into()),
            (8, -5),
        ] {
            let mut f = vec![0u8; len];
            assert!(write(&mut f, v), "{v} in {len}");
            assert_eq!(parse(&f), Some(v), "{v} in {len}: {f:?}");
        }
        assert!(fits_octal(8, 2_097_151));
        assert!(!fits_octal(8, 2_097_152));
        assert!(!fits_octal(12, -1));
        // 8 bytes of base-256 hold 62 bits and a sign.
        let mut f = [0u8; 8];
        assert!(!write(&mut f, i64::MAX));
        assert!(!write(&mut f, 1 << 62));
        assert!(write(&mut f, (1 << 62) - 1));
        assert!(write(&mut f, -(1 << 62)));
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal(b"0"), Some(0));
        assert_eq!(decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(decimal(b"18446744073709551616"), None);
        assert_eq!(decimal(b""), None);
        assert_eq!(decimal(b"1 "), None);
        assert_eq!(decimal(b"-1"), None);
    }
}
