//! A message of the day: a translator serving one read-only file, whose
//! text is the translator's arguments. The hands-on exercise of Part VI of
//! the book.

use hurd_ipc::Errno;
use hurd_trans::mode::S_IFREG;
use hurd_trans::stat::Stat;
use hurd_trans::translators::programs::{self, Host, Start};
use hurd_trans::trivfs::{Single, TrivFs};

/// The file: its text, fixed when the translator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Motd {
    text: Vec<u8>,
}

// ANCHOR: file
impl Motd {
    /// The file holding `words` joined by spaces, and a newline.
    pub fn new(words: &[String]) -> Motd {
        let mut text = words.join(" ").into_bytes();
        text.push(b'\n');
        Motd { text }
    }
}

impl TrivFs for Motd {
    fn stat(&self) -> Stat {
        // A regular file anyone may read, as long as its text.
        Stat {
            mode: S_IFREG | 0o444,
            size: self.text.len() as u64,
            ..Stat::default()
        }
    }

    fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        // At most `len` bytes from `offset`; nothing at or past the end.
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        let end = start.saturating_add(len).min(self.text.len());
        Ok(self.text[start..end].to_vec())
    }
}
// ANCHOR_END: file

// ANCHOR: program
/// The translator program, `motd WORD...`: serves a [`Motd`] of its
/// arguments on the node it was started on, with the ids of the node's
/// owner. Generic over the host, it runs as a thread of the hosted runtime
/// (as in the test) or as a task of its own on the hurd-rs kernel.
pub fn motd<I: Host>(start: Start<I>) {
    let (uid, gid) = programs::own_ids(&start.ipc, start.auth);
    let file = Single::new(Motd::new(start.argv.get(1..).unwrap_or(&[])), uid, gid);
    programs::run(start.ipc, file, start.auth, start.bootstrap, "motd");
}
// ANCHOR_END: program
