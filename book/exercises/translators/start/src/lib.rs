//! A message of the day: a translator serving one read-only file, whose
//! text is the translator's arguments. The hands-on exercise of Part VI of
//! the book.
//!
//! Fill in the two functions marked TODO, then run
//! `cargo test -p motd-start --test motd`.

// The parameters and the text are unused until the TODOs are done.
#![allow(unused_variables, unused_imports, dead_code)]

use hurd_ipc::Errno;
use hurd_trans::mode::S_IFREG;
use hurd_trans::stat::Stat;
use hurd_trans::translators::programs::{self, Host, Start};
use hurd_trans::trivfs::{Single, TrivFs};

// ANCHOR: todo
/// The file: its text, fixed when the translator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Motd {
    text: Vec<u8>,
}

impl Motd {
    /// The file holding `words` joined by spaces, and a newline.
    pub fn new(words: &[String]) -> Motd {
        // TODO: the text is the words with a space between each two, and
        // a newline at the end (`Hello from alice\n`).
        todo!("new")
    }
}

impl TrivFs for Motd {
    fn stat(&self) -> Stat {
        // A regular file anyone may read, as long as its text. The other
        // fields stay at their defaults: the server fills in the owner and
        // the inode.
        Stat {
            mode: S_IFREG | 0o444,
            size: self.text.len() as u64,
            ..Stat::default()
        }
    }

    fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        // TODO: at most `len` bytes of the text from `offset`; nothing (an
        // empty vector: end of file) at or past its end. Any `offset` may
        // come, even `u64::MAX`.
        todo!("read")
    }
}
// ANCHOR_END: todo

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
