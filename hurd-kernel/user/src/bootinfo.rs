//! What the kernel gives the bootstrap task (see
//! [`hurd_abi::BootstrapInfo`]): the command line and the boot
//! modules, mapped into its memory before it starts.

use alloc::vec::Vec;

use hurd_abi::{BOOTSTRAP_MAGIC, BootstrapInfo, BootstrapModule};

/// The boot information at `info` (the bootstrap task's argument).
#[derive(Debug, Clone)]
pub struct BootInfo {
    /// The kernel command line.
    pub cmdline: &'static str,
    /// The modules, in order: each one's string (the loader's module
    /// command line) and contents.
    pub modules: Vec<(&'static str, &'static [u8])>,
}

impl BootInfo {
    /// The module whose string's last path component is `name`.
    pub fn module(&self, name: &str) -> Option<&'static [u8]> {
        self.modules
            .iter()
            .find(|(n, _)| {
                n.split_whitespace()
                    .next()
                    .and_then(|p| p.rsplit('/').next())
                    == Some(name)
            })
            .map(|(_, data)| *data)
    }
}

/// Bytes of this task's memory the kernel filled in.
fn bytes(addr: u64, len: u64) -> &'static [u8] {
    // SAFETY: only called with ranges the kernel described in the boot
    // information: it mapped them into this task before starting it, and
    // nothing changes or unmaps them.
    unsafe { core::slice::from_raw_parts(addr as *const u8, len as usize) }
}

/// Reads the boot information at `info`; `None` when the task was not
/// started as the bootstrap task (no magic there).
///
/// Only the bootstrap task may call this, with the argument it was
/// started with: anything else at `info` is not boot information.
pub fn read(info: u64) -> Option<BootInfo> {
    if info == 0 {
        return None;
    }
    // SAFETY: the bootstrap task's argument is the address of the boot
    // information the kernel mapped (abi::BOOTSTRAP_INFO_ADDR).
    let head = unsafe { (info as *const BootstrapInfo).read() };
    if head.magic != BOOTSTRAP_MAGIC {
        return None;
    }
    let cmdline = core::str::from_utf8(bytes(head.cmdline_addr, head.cmdline_len)).unwrap_or("");
    let modules = (0..head.module_count)
        .map(|i| {
            let at = info
                + core::mem::size_of::<BootstrapInfo>() as u64
                + i * core::mem::size_of::<BootstrapModule>() as u64;
            // SAFETY: the module table follows the head (as above).
            let m = unsafe { (at as *const BootstrapModule).read() };
            let name = core::str::from_utf8(bytes(m.name_addr, m.name_len)).unwrap_or("?");
            (name, bytes(m.addr, m.size))
        })
        .collect();
    Some(BootInfo { cmdline, modules })
}
