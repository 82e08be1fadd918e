//! Entry names as an extraction uses them.

use alloc::vec::Vec;

use super::error::Reason;

/// The components of an entry's name, as `tar -x` would create it: empty
/// components and `.` are dropped (so a leading `/`, `./` prefixes and a
/// trailing `/` vanish); the archive's root is no components at all.
///
/// # Errors
///
/// [`Reason::DotDot`] for a `..` component: a name that could climb out of
/// the directory the archive is read into.
pub fn components(path: &[u8]) -> Result<Vec<&[u8]>, Reason> {
    let mut out = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(Reason::DotDot),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_extracted() {
        let c = components;
        assert_eq!(c(b"./a/b/"), Ok(vec![&b"a"[..], b"b"]));
        assert_eq!(c(b"/abs//x/./y"), Ok(vec![&b"abs"[..], b"x", b"y"]));
        assert_eq!(c(b"./"), Ok(vec![]));
        assert_eq!(c(b"\xff\xfe/n"), Ok(vec![&b"\xff\xfe"[..], b"n"]));
        assert_eq!(c(b"a/../b"), Err(Reason::DotDot));
        assert_eq!(c(b".."), Err(Reason::DotDot));
        assert_eq!(c(b"a/..b"), Ok(vec![&b"a"[..], b"..b"]));
    }
}
