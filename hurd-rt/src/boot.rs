//! What the kernel gives the bootstrap task (its first task, as the Hurd's
//! first server is given the boot modules): the command line and the boot
//! modules, mapped into its memory before it starts (see
//! [`hurd_abi::BootstrapInfo`]).

use alloc::vec::Vec;

use hurd_abi::{BOOTSTRAP_INFO_ADDR, BOOTSTRAP_MAGIC, BootstrapInfo, BootstrapModule};

/// The boot information.
#[derive(Debug, Clone)]
pub struct BootInfo {
    /// The kernel command line.
    pub cmdline: &'static str,
    /// The modules, in order: each one's string (the loader's module
    /// command line) and contents.
    pub modules: Vec<(&'static str, &'static [u8])>,
}

impl BootInfo {
    /// The module whose string's first word's last path component is
    /// `name` (`/boot/modules/proc-server` is `proc-server`).
    pub fn module(&self, name: &str) -> Option<&'static [u8]> {
        self.modules
            .iter()
            .find(|(n, _)| module_name(n) == Some(name))
            .map(|(_, data)| *data)
    }

    /// Whether the command line holds the word `word`.
    pub fn has_word(&self, word: &str) -> bool {
        self.cmdline.split_whitespace().any(|w| w == word)
    }
}

/// A module string's name: its first word's last path component.
pub fn module_name(string: &str) -> Option<&str> {
    string
        .split_whitespace()
        .next()
        .and_then(|p| p.rsplit('/').next())
}

/// Bytes of this task's memory the kernel filled in.
fn bytes(addr: u64, len: u64) -> Option<&'static [u8]> {
    let len = usize::try_from(len).ok()?;
    if !hurd_abi::user_range_ok(addr, len as u64) {
        return None;
    }
    // SAFETY: only called with ranges the kernel described in the boot
    // information (checked to lie in user space): it mapped them into this
    // task before starting it, and nothing changes or unmaps them.
    Some(unsafe { core::slice::from_raw_parts(addr as *const u8, len) })
}

/// The boot information, when this task is the bootstrap task (the kernel
/// started it with [`BOOTSTRAP_INFO_ADDR`] as its argument, and the magic is
/// there); `None` for any other task.
pub fn info() -> Option<BootInfo> {
    if crate::env::start_arg() != BOOTSTRAP_INFO_ADDR {
        return None;
    }
    let info = BOOTSTRAP_INFO_ADDR;
    // SAFETY: the kernel starts the bootstrap task with the address of the
    // boot information it mapped there as its argument (hurd_abi's
    // contract); no other task is started with that address.
    let head = unsafe { (info as *const BootstrapInfo).read() };
    if head.magic != BOOTSTRAP_MAGIC {
        return None;
    }
    let cmdline = bytes(head.cmdline_addr, head.cmdline_len)
        .and_then(|b| core::str::from_utf8(b).ok())
        .unwrap_or("");
    let head_size = core::mem::size_of::<BootstrapInfo>() as u64;
    let entry_size = core::mem::size_of::<BootstrapModule>() as u64;
    let modules = (0..head.module_count)
        .filter_map(|i| {
            let at = info + head_size + i * entry_size;
            // SAFETY: the module table follows the head, in the memory the
            // kernel mapped (as above).
            let m = unsafe { (at as *const BootstrapModule).read() };
            let name = bytes(m.name_addr, m.name_len)
                .and_then(|b| core::str::from_utf8(b).ok())
                .unwrap_or("?");
            Some((name, bytes(m.addr, m.size)?))
        })
        .collect();
    Some(BootInfo { cmdline, modules })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_found_by_their_file_name() {
        let info = BootInfo {
            cmdline: "console=com1 bench",
            modules: alloc::vec![
                ("/boot/modules/hurd-init --verbose", &b"init"[..]),
                ("/boot/modules/proc-server", &b"proc"[..]),
            ],
        };
        assert_eq!(info.module("proc-server"), Some(&b"proc"[..]));
        assert_eq!(info.module("hurd-init"), Some(&b"init"[..]));
        assert_eq!(info.module("modules"), None);
        assert!(info.has_word("bench"));
        assert!(!info.has_word("console"));
        assert_eq!(module_name(""), None);
        // Off the kernel, nobody is the bootstrap task.
        assert!(super::info().is_none());
    }
}
