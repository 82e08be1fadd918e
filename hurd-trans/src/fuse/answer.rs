//! How each kind of FUSE reply carries a request's result: the value, or
//! the errno the translator's answer became.

use std::time::Duration;

use fuser::{FileAttr, ReplyAttr, ReplyData, ReplyEmpty, ReplyEntry};

/// A FUSE reply that can carry `Result<T, errno>`.
pub(super) trait Answer<T> {
    /// Sends `r`; attributes and entries are cached for `ttl`.
    fn answer(self, ttl: Duration, r: Result<T, i32>);
}

impl Answer<()> for ReplyEmpty {
    fn answer(self, _ttl: Duration, r: Result<(), i32>) {
        match r {
            Ok(()) => self.ok(),
            Err(e) => self.error(e),
        }
    }
}

/// An entry: the inode number (FUSE takes it from the attributes) and its
/// attributes.
impl Answer<(u64, FileAttr)> for ReplyEntry {
    fn answer(self, ttl: Duration, r: Result<(u64, FileAttr), i32>) {
        match r {
            Ok((_, a)) => self.entry(&ttl, &a, 0),
            Err(e) => self.error(e),
        }
    }
}

impl Answer<FileAttr> for ReplyAttr {
    fn answer(self, ttl: Duration, r: Result<FileAttr, i32>) {
        match r {
            Ok(a) => self.attr(&ttl, &a),
            Err(e) => self.error(e),
        }
    }
}

impl Answer<Vec<u8>> for ReplyData {
    fn answer(self, _ttl: Duration, r: Result<Vec<u8>, i32>) {
        match r {
            Ok(d) => self.data(&d),
            Err(e) => self.error(e),
        }
    }
}
