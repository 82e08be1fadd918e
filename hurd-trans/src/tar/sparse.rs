//! Sparse maps: checked and turned into [`Segment`]s, and the map GNU's pax
//! format 1.0 stores at the start of an entry's data.

use alloc::vec::Vec;

use super::entry::Segment;
use super::error::Reason;

/// The segments of `(offset, len)` pairs for a file of `size` bytes whose
/// archive stores `stored` bytes: in order, not overlapping, inside the
/// file, adding up to what is stored. Empty pairs (GNU ends its maps with
/// one at the file's size) are dropped.
pub(crate) fn segments(
    pairs: impl IntoIterator<Item = (u64, u64)>,
    size: u64,
    stored: u64,
) -> Result<Vec<Segment>, Reason> {
    let mut out: Vec<Segment> = Vec::new();
    let mut end = 0u64;
    let mut at = 0u64;
    for (offset, len) in pairs {
        let seg_end = offset.checked_add(len).ok_or(Reason::SparseMap)?;
        if offset < end || seg_end > size {
            return Err(Reason::SparseMap);
        }
        end = seg_end;
        if len == 0 {
            continue;
        }
        out.push(Segment { offset, len, at });
        at = at.checked_add(len).ok_or(Reason::SparseMap)?;
    }
    if at != stored {
        return Err(Reason::SparseMap);
    }
    Ok(out)
}

/// Reads the decimal lines of a pax 1.0 map: the count, then each offset
/// and length. Fed block by block.
pub(crate) struct MapParser {
    numbers: Vec<u64>,
    current: u64,
    digits: usize,
    count: Option<usize>,
    max: usize,
}

impl MapParser {
    pub fn new(max_segments: usize) -> MapParser {
        MapParser {
            numbers: Vec::new(),
            current: 0,
            digits: 0,
            count: None,
            max: max_segments,
        }
    }

    /// Consumes `block`; `Some(pairs)` once the whole map has been read.
    pub fn feed(&mut self, block: &[u8]) -> Result<Option<Vec<(u64, u64)>>, Reason> {
        for &b in block {
            if self.done() {
                break;
            }
            match b {
                b'0'..=b'9' => {
                    self.digits += 1;
                    self.current = self
                        .current
                        .checked_mul(10)
                        .and_then(|c| c.checked_add(u64::from(b - b'0')))
                        .ok_or(Reason::SparseMap)?;
                }
                b'\n' if self.digits > 0 => {
                    let n = core::mem::take(&mut self.current);
                    self.digits = 0;
                    match self.count {
                        None => {
                            let c = usize::try_from(n).map_err(|_| Reason::SparseTooLarge)?;
                            if c > self.max {
                                return Err(Reason::SparseTooLarge);
                            }
                            self.count = Some(c);
                        }
                        Some(_) => self.numbers.push(n),
                    }
                }
                _ => return Err(Reason::SparseMap),
            }
        }
        if !self.done() {
            return Ok(None);
        }
        Ok(Some(
            self.numbers.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
        ))
    }

    fn done(&self) -> bool {
        self.count.is_some_and(|c| self.numbers.len() == 2 * c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_checked() {
        let s = segments([(0, 10), (100, 5), (200, 0)], 200, 15).expect("good");
        assert_eq!(
            s,
            [
                Segment {
                    offset: 0,
                    len: 10,
                    at: 0
                },
                Segment {
                    offset: 100,
                    len: 5,
                    at: 10
                }
            ]
        );
        assert!(segments([(100, 5), (0, 10)], 200, 15).is_err(), "order");
        assert!(segments([(0, 10), (5, 10)], 200, 20).is_err(), "overlap");
        assert!(segments([(0, 300)], 200, 300).is_err(), "beyond");
        assert!(segments([(0, 10)], 200, 11).is_err(), "sum");
        assert!(segments([(u64::MAX, 2)], u64::MAX, 2).is_err(), "overflow");
        assert_eq!(segments([], 1 << 40, 0), Ok(Vec::new()));
    }

    #[test]
    fn the_map_in_the_data() {
        let mut p = MapParser::new(10);
        assert_eq!(p.feed(b"2\n0\n5\n"), Ok(None));
        assert_eq!(
            p.feed(b"100\n7\n\0\0\0garbage"),
            Ok(Some(vec![(0, 5), (100, 7)]))
        );
        assert!(MapParser::new(1).feed(b"2\n").is_err());
        assert!(MapParser::new(9).feed(b"1\nx\n").is_err());
        assert!(MapParser::new(9).feed(b"1\n\n").is_err());
        assert!(
            MapParser::new(9)
                .feed(b"1\n99999999999999999999999\n")
                .is_err()
        );
    }
}
