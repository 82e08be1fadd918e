//! pax extended header records: `LEN keyword=value\n`, read into the
//! overrides they make and written from a header.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::Reason;
use super::number;
use crate::stat::TimeSpec;

/// One record's keyword and value.
pub(crate) struct Record<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
}

/// Splits extended header data into records.
pub(crate) fn records(mut data: &[u8]) -> Result<Vec<Record<'_>>, Reason> {
    let mut out = Vec::new();
    // Some writers pad the data with NULs; nothing follows them.
    while data.first().is_some_and(|&b| b != 0) {
        let space = data
            .iter()
            .take(21)
            .position(|&b| b == b' ')
            .ok_or(Reason::PaxRecord)?;
        let len = number::decimal(&data[..space])
            .and_then(|l| usize::try_from(l).ok())
            .ok_or(Reason::PaxRecord)?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return Err(Reason::PaxRecord);
        }
        let record = &data[space + 1..len - 1];
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or(Reason::PaxRecord)?;
        if eq == 0 {
            return Err(Reason::PaxRecord);
        }
        out.push(Record {
            key: &record[..eq],
            value: &record[eq + 1..],
        });
        data = &data[len..];
    }
    Ok(out)
}

/// A pax time: decimal seconds, maybe negative, maybe with a fraction.
pub(crate) fn time(text: &[u8]) -> Option<TimeSpec> {
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (whole, frac) = match text.iter().position(|&b| b == b'.') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, &[][..]),
    };
    let sec = i64::try_from(number::decimal(whole)?).ok()?;
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nsec: u32 = 0;
    for i in 0..9 {
        nsec = nsec * 10 + frac.get(i).map_or(0, |d| u32::from(d - b'0'));
    }
    Some(if !negative {
        TimeSpec { sec, nsec }
    } else if nsec == 0 {
        TimeSpec { sec: -sec, nsec: 0 }
    } else {
        TimeSpec {
            sec: -sec - 1,
            nsec: 1_000_000_000 - nsec,
        }
    })
}

/// Writes a time as pax does.
pub(crate) fn format_time(t: TimeSpec) -> Vec<u8> {
    let mut out = Vec::new();
    let (sec, nsec) = if t.sec < 0 && t.nsec > 0 {
        // -1.5 s is sec -2, nsec 500_000_000.
        (t.sec + 1, 1_000_000_000 - t.nsec)
    } else {
        (t.sec, t.nsec)
    };
    if sec < 0 || (t.sec < 0 && t.nsec > 0) {
        out.push(b'-');
    }
    out.extend_from_slice(alloc::format!("{}", sec.unsigned_abs()).as_bytes());
    if nsec > 0 {
        let frac = alloc::format!("{nsec:09}");
        out.push(b'.');
        out.extend_from_slice(frac.trim_end_matches('0').as_bytes());
    }
    out
}

/// The GNU sparse records of an entry (pax formats 0.0, 0.1 and 1.0).
#[derive(Clone, Debug, Default)]
pub(crate) struct SparseRecords {
    /// `GNU.sparse.major` / `minor`.
    pub major: Option<u64>,
    pub minor: Option<u64>,
    /// `GNU.sparse.size` (0.x) or `GNU.sparse.realsize` (1.0).
    pub size: Option<u64>,
    /// `GNU.sparse.name`: the file's real name.
    pub name: Option<Vec<u8>>,
    /// Offsets and lengths, flat: from repeated `GNU.sparse.offset` /
    /// `numbytes` records (0.0) or `GNU.sparse.map` (0.1).
    pub map: Vec<u64>,
    /// Whether any map record came.
    pub has_map: bool,
}

impl SparseRecords {
    /// Whether the records make the entry a sparse file.
    pub fn any(&self) -> bool {
        self.major.is_some() || self.has_map
    }
}

/// What extended headers say about an entry (or, for global headers, about
/// every entry after them).
#[derive(Clone, Debug, Default)]
pub(crate) struct Overrides {
    pub path: Option<Vec<u8>>,
    pub link: Option<Vec<u8>>,
    pub uname: Option<Vec<u8>>,
    pub gname: Option<Vec<u8>>,
    pub size: Option<u64>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub mtime: Option<TimeSpec>,
    pub atime: Option<TimeSpec>,
    pub ctime: Option<TimeSpec>,
    pub devmajor: Option<u32>,
    pub devminor: Option<u32>,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    pub extra: Vec<(String, Vec<u8>)>,
    pub sparse: SparseRecords,
}

const XATTR: &[u8] = b"SCHILY.xattr.";

/// Keywords read but not kept: character sets (names are bytes here
/// anyway), comments, GNU incremental and volume bookkeeping, and the
/// inode data `star` records.
fn ignored(key: &[u8]) -> bool {
    matches!(
        key,
        b"hdrcharset"
            | b"charset"
            | b"comment"
            | b"GNU.dumpdir"
            | b"GNU.sparse.numblocks"
            | b"SCHILY.dev"
            | b"SCHILY.ino"
            | b"SCHILY.nlink"
            | b"SCHILY.filetype"
            | b"SCHILY.fflags"
            | b"SCHILY.realsize"
    ) || key.starts_with(b"GNU.volume.")
        || key.starts_with(b"LIBARCHIVE.")
}

fn text(key: &'static str, value: &[u8]) -> Result<Vec<u8>, Reason> {
    if value.contains(&0) {
        return Err(Reason::PaxNul(key));
    }
    Ok(value.to_vec())
}

fn decimal(key: &'static str, value: &[u8]) -> Result<u64, Reason> {
    if value.contains(&0) {
        return Err(Reason::PaxNul(key));
    }
    number::decimal(value).ok_or(Reason::PaxValue(key))
}

fn id(key: &'static str, value: &[u8]) -> Result<u32, Reason> {
    u32::try_from(decimal(key, value)?).map_err(|_| Reason::PaxValue(key))
}

fn when(key: &'static str, value: &[u8]) -> Result<TimeSpec, Reason> {
    if value.contains(&0) {
        return Err(Reason::PaxNul(key));
    }
    time(value).ok_or(Reason::PaxValue(key))
}

impl Overrides {
    /// Applies one record. An empty value removes what the keyword set
    /// (for an entry's own records: the header's field counts again).
    pub fn apply(&mut self, r: &Record<'_>, max_sparse: usize) -> Result<(), Reason> {
        let v = r.value;
        let empty = v.is_empty();
        macro_rules! set {
            ($field:ident, $parse:expr) => {
                self.$field = if empty { None } else { Some($parse?) }
            };
        }
        match r.key {
            b"path" => set!(path, text("path", v)),
            b"linkpath" => set!(link, text("linkpath", v)),
            b"uname" => set!(uname, text("uname", v)),
            b"gname" => set!(gname, text("gname", v)),
            b"size" => set!(size, decimal("size", v)),
            b"uid" => set!(uid, id("uid", v)),
            b"gid" => set!(gid, id("gid", v)),
            b"mtime" => set!(mtime, when("mtime", v)),
            b"atime" => set!(atime, when("atime", v)),
            b"ctime" => set!(ctime, when("ctime", v)),
            b"SCHILY.devmajor" => set!(devmajor, id("SCHILY.devmajor", v)),
            b"SCHILY.devminor" => set!(devminor, id("SCHILY.devminor", v)),
            b"GNU.sparse.major" => self.sparse.major = Some(decimal("GNU.sparse.major", v)?),
            b"GNU.sparse.minor" => self.sparse.minor = Some(decimal("GNU.sparse.minor", v)?),
            b"GNU.sparse.size" => self.sparse.size = Some(decimal("GNU.sparse.size", v)?),
            b"GNU.sparse.realsize" => {
                self.sparse.size = Some(decimal("GNU.sparse.realsize", v)?);
            }
            b"GNU.sparse.name" => self.sparse.name = Some(text("GNU.sparse.name", v)?),
            b"GNU.sparse.offset" => {
                // 0.0: each offset starts a pair its numbytes completes.
                if !self.sparse.map.len().is_multiple_of(2) {
                    return Err(Reason::SparseMap);
                }
                self.push_sparse(decimal("GNU.sparse.offset", v)?, max_sparse)?;
            }
            b"GNU.sparse.numbytes" => {
                if self.sparse.map.len() % 2 != 1 {
                    return Err(Reason::SparseMap);
                }
                self.push_sparse(decimal("GNU.sparse.numbytes", v)?, max_sparse)?;
            }
            b"GNU.sparse.map" => {
                self.sparse.map.clear();
                self.sparse.has_map = true;
                if !empty {
                    for n in v.split(|&b| b == b',') {
                        self.push_sparse(decimal("GNU.sparse.map", n)?, max_sparse)?;
                    }
                }
                if !self.sparse.map.len().is_multiple_of(2) {
                    return Err(Reason::SparseMap);
                }
            }
            k if k.starts_with(XATTR) && k.len() > XATTR.len() => {
                let name = &k[XATTR.len()..];
                self.xattrs.retain(|(n, _)| n != name);
                if !empty {
                    self.xattrs.push((name.to_vec(), v.to_vec()));
                }
            }
            k if ignored(k) => {}
            k => {
                let key = String::from_utf8_lossy(k).into_owned();
                self.extra.retain(|(n, _)| *n != key);
                if !empty {
                    self.extra.push((key, v.to_vec()));
                }
            }
        }
        Ok(())
    }

    fn push_sparse(&mut self, n: u64, max_sparse: usize) -> Result<(), Reason> {
        if self.sparse.map.len() >= max_sparse.saturating_mul(2) {
            return Err(Reason::SparseTooLarge);
        }
        self.sparse.has_map = true;
        self.sparse.map.push(n);
        Ok(())
    }
}

/// Appends one record, its length counting itself.
pub(crate) fn push_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    // " key=value\n" plus the digits of the whole length.
    let rest = key.len() + value.len() + 3;
    let mut len = rest + 1;
    while len != rest + digits(len) {
        len = rest + digits(len);
    }
    out.extend_from_slice(alloc::format!("{len}").as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lengths_count_themselves() {
        let mut r = Vec::new();
        push_record(&mut r, b"path", b"a");
        assert_eq!(r, b"9 path=a\n");
        for n in [0, 1, 89, 90, 91, 95, 990, 995, 1000, 99_990] {
            let mut r = Vec::new();
            push_record(&mut r, b"path", &alloc::vec![b'x'; n]);
            let parsed = records(&r).expect("parses");
            assert_eq!(parsed.len(), 1);
            assert_eq!(parsed[0].value.len(), n);
        }
    }

    #[test]
    fn malformed_records() {
        for bad in [
            &b"9 path=a"[..],
            b"11 path=a\n",
            b"x path=a\n",
            b"5 a\n",
            b"6 =ab\n",
            b"99999999999999999999999 a=b\n",
            b"3 \n",
        ] {
            assert!(records(bad).is_err(), "{bad:?}");
        }
        assert_eq!(records(b"9 path=a\n\0\0\0").map(|r| r.len()), Ok(1));
    }

    #[test]
    fn times() {
        let t = |s: &[u8]| time(s);
        assert_eq!(t(b"0"), Some(TimeSpec { sec: 0, nsec: 0 }));
        assert_eq!(
            t(b"1700000000.5"),
            Some(TimeSpec {
                sec: 1_700_000_000,
                nsec: 500_000_000
            })
        );
        assert_eq!(
            t(b"-1.25"),
            Some(TimeSpec {
                sec: -2,
                nsec: 750_000_000
            })
        );
        assert_eq!(t(b"-100"), Some(TimeSpec { sec: -100, nsec: 0 }));
        assert_eq!(t(b"1.0000000019"), Some(TimeSpec { sec: 1, nsec: 1 }));
        assert_eq!(t(b"1.x"), None);
        assert_eq!(t(b""), None);
        assert_eq!(t(b"--1"), None);
        for ts in [
            TimeSpec { sec: 0, nsec: 0 },
            TimeSpec {
                sec: -2,
                nsec: 750_000_000,
            },
            TimeSpec { sec: -1, nsec: 1 },
            TimeSpec { sec: 5, nsec: 10 },
            TimeSpec { sec: -7, nsec: 0 },
            TimeSpec {
                sec: i64::MAX,
                nsec: 999_999_999,
            },
        ] {
            assert_eq!(time(&format_time(ts)), Some(ts), "{ts:?}");
        }
    }
}
