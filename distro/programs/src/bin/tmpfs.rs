//! `/hurd/tmpfs [LIMIT]`: an empty in-memory file system of LIMIT bytes.
//!
//! hurd-trans's program, run as a translator of its own: started by a file
//! system (a passive record, `settrans`) through the exec server, with its
//! bootstrap port, the node owner's auth handle and directories.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

distro_programs::program!(main);

fn main() {
    hurd_trans::translators::programs::tmpfs(hurd_rt::translator::start());
}
