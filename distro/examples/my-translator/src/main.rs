//! `my-translator WORDS...`: a one-file translator of one's own. Reading
//! the file gives the words it was started with, and says whose identity
//! the translator runs with — its node's owner's, whoever reads it.
//!
//! ```text
//! $ settrans /srv/alice/greeting /bin/my-translator Hello from my own translator
//! $ cat /srv/alice/greeting
//! Hello from my own translator
//! (served by my-translator, running as uid 1000)
//! ```
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;

use hurd_rt::hurd_ipc::Errno;
use hurd_trans::mode::S_IFREG;
use hurd_trans::stat::Stat;
use hurd_trans::translators::programs;
use hurd_trans::trivfs::{Single, TrivFs};

// ANCHOR: file
/// The file the translator serves: read-only, its contents fixed at start.
struct Greeting {
    text: Vec<u8>,
}

impl TrivFs for Greeting {
    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o444,
            size: self.text.len() as u64,
            blksize: 4096,
            ..Stat::default()
        }
    }

    fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let start = usize::try_from(offset).map_or(self.text.len(), |o| o.min(self.text.len()));
        let end = start.saturating_add(len).min(self.text.len());
        Ok(self.text[start..end].to_vec())
    }
}
// ANCHOR_END: file

// ANCHOR: main
hurd_rt::entry!(main);

fn main() {
    // Its arguments, bootstrap port, auth handle and directories, as the
    // file system that started it gave them.
    let start = hurd_rt::translator::start();
    let (uid, gid) = programs::own_ids(&start.ipc, start.auth);
    let words = start.argv.get(1..).unwrap_or_default().join(" ");
    let text = format!("{words}\n(served by my-translator, running as uid {uid})\n");
    let file = Single::new(
        Greeting {
            text: text.into_bytes(),
        },
        uid,
        gid,
    );
    // fsys_startup on the bootstrap port, then serve until told to go away.
    programs::run(
        start.ipc,
        file,
        start.auth,
        start.bootstrap,
        "my-translator",
    );
}
// ANCHOR_END: main
