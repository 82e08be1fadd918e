//! `/hurd/random`: `/dev/random` and `/dev/urandom`.
//!
//! hurd-trans's program, run as a translator of its own: started by a file
//! system (a passive record, `settrans`) through the exec server, keyed
//! from the processor's random number instructions (`hurd_rt::entropy`).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

distro_programs::program!(main);

fn main() {
    hurd_trans::translators::programs::random(hurd_rt::translator::start());
}
