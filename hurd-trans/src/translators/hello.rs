//! `hello`: a one-file translator whose contents are a greeting (the Hurd's
//! classic first translator, on [`TrivFs`]).

use alloc::vec::Vec;
use hurd_ipc::Errno;

use crate::mode::S_IFREG;
use crate::stat::Stat;
use crate::trivfs::TrivFs;

/// The default contents.
pub const HELLO: &[u8] = b"Hello, world!\n";

// ANCHOR: hello
/// A read-only file holding `contents`.
pub struct Hello {
    contents: Vec<u8>,
}

impl Hello {
    /// A file holding `contents`.
    pub fn new(contents: &[u8]) -> Hello {
        Hello {
            contents: contents.to_vec(),
        }
    }
}

impl TrivFs for Hello {
    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o444,
            size: self.contents.len() as u64,
            blksize: 4096,
            ..Stat::default()
        }
    }

    fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let start =
            usize::try_from(offset).map_or(self.contents.len(), |o| o.min(self.contents.len()));
        let end = start.saturating_add(len).min(self.contents.len());
        Ok(self.contents[start..end].to_vec())
    }
}
// ANCHOR_END: hello
