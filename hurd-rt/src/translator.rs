//! The program side of a translator on the hurd-rs kernel: what its starter
//! (a file system starting a passive translator, through the exec server)
//! gave it, as the [`Start`] hurd-trans's translator programs take.
//!
//! ```ignore
//! hurd_rt::entry!(main);
//!
//! fn main() {
//!     hurd_trans::translators::programs::hello(hurd_rt::translator::start());
//! }
//! ```

use alloc::string::String;

use hurd_ipc::{PortName, RightType, UserIpc};
use hurd_trans::transbox::InitDirs;
use hurd_trans::translators::programs::{Host, Start};

use crate::{KernelIpc, env, ports};

/// A translator on the kernel maps no files' memory (its host has no
/// [`Mapper`](hurd_trans::netfs::Mapper)); its entropy is the processor's
/// ([`crate::entropy`]).
impl Host for KernelIpc {
    /// A processor without `RDSEED` or `RDRAND` leaves the timer's jitter
    /// alone, which is said on standard error (or the console).
    fn entropy(&self, seed: &mut [u8]) -> Option<&'static str> {
        let source = crate::entropy::gather(seed);
        if !source.is_hardware() {
            crate::eprintln!(
                "{}: no RDSEED or RDRAND on this processor: keyed from the timer's jitter alone",
                env::args().first().copied().unwrap_or("translator")
            );
        }
        Some(source.name())
    }
}

/// What this program's starter gave it: its arguments, its bootstrap port
/// ([`ports::BOOTSTRAP`]), its auth handle ([`ports::AUTH`]) and its
/// directories ([`ports::CRDIR`], [`ports::CWDIR`]; without a working
/// directory of its own, the root directory under a reference of its own).
/// A port the starter did not give is `PortName::NULL`.
pub fn start() -> Start<KernelIpc> {
    let ipc = KernelIpc::new();
    let held = |name| ports::held(name).unwrap_or(PortName::NULL);
    let crdir = held(ports::CRDIR);
    let mut cwdir = held(ports::CWDIR);
    if !cwdir.is_valid() && crdir.is_valid() && ipc.port_mod_refs(crdir, RightType::Send, 1).is_ok()
    {
        cwdir = crdir;
    }
    Start {
        ipc,
        argv: env::args().into_iter().map(String::from).collect(),
        bootstrap: held(ports::BOOTSTRAP),
        auth: held(ports::AUTH),
        dirs: InitDirs { crdir, cwdir },
    }
}
