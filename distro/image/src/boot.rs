//! A staged image: the kernel and boot modules as files, and how QEMU and GRUB
//! load them.
//!
//! Each module's command line starts with its name (its `argv[0]`): GRUB is
//! told so explicitly, and under QEMU's direct boot the first word is the
//! module's file, whose last path component is the name. The bootstrap task
//! finds modules by that name; the root filesystem archive is the last module,
//! named [`ROOTFS_MODULE`](crate::ROOTFS_MODULE).

use std::path::{Path, PathBuf};

use crate::BootProtocol;

/// A boot module as staged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagedModule {
    /// Its name.
    pub name: String,
    /// The staged file (its last component is `name`).
    pub path: PathBuf,
    /// Its arguments after the name.
    pub args: Vec<String>,
}

/// An image laid out in a directory, ready to boot or to pack as an ISO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staged {
    /// The staging directory (the ISO's root).
    pub dir: PathBuf,
    /// The image's name.
    pub name: String,
    /// The staged kernel.
    pub kernel: PathBuf,
    /// The boot protocol GRUB uses.
    pub protocol: BootProtocol,
    /// The kernel command line.
    pub cmdline: String,
    /// The modules, in boot order (the root filesystem last).
    pub modules: Vec<StagedModule>,
    /// The tree of the manifest's disk (its entries below the mount point,
    /// re-rooted), if it has one: written by [`make_disk`](crate::make_disk).
    pub disk: Option<crate::RootFs>,
}

impl Staged {
    /// The QEMU options of a direct (multiboot v1) boot: `-kernel`, `-initrd`
    /// and `-append`. Fails if a staged path has a space (QEMU would split
    /// the module's command line there).
    ///
    /// # Errors
    ///
    /// When a staged path has a space in it.
    pub fn qemu_args(&self) -> Result<Vec<String>, String> {
        let mut initrd = Vec::new();
        for m in &self.modules {
            let path = m.path.to_string_lossy();
            if path.contains(' ') {
                return Err(format!(
                    "module path `{path}` has a space, which QEMU's -initrd cannot carry; \
                     stage the image in a directory without spaces"
                ));
            }
            let mut line = path.replace(',', ",,");
            for a in &m.args {
                line.push(' ');
                line.push_str(&a.replace(',', ",,"));
            }
            initrd.push(line);
        }
        Ok(vec![
            "-kernel".to_owned(),
            self.kernel.to_string_lossy().into_owned(),
            "-initrd".to_owned(),
            initrd.join(","),
            "-append".to_owned(),
            self.cmdline.clone(),
        ])
    }

    /// The `grub.cfg` that boots the image from the ISO, with the console on
    /// the first serial port.
    pub fn grub_cfg(&self) -> String {
        let (kernel_cmd, module_cmd) = match self.protocol {
            BootProtocol::Multiboot => ("multiboot", "module"),
            BootProtocol::Multiboot2 => ("multiboot2", "module2"),
        };
        let mut cfg = String::from(
            "set timeout=0\nset default=0\n\
             serial --unit=0 --speed=115200\n\
             terminal_input serial console\nterminal_output serial console\n\n",
        );
        cfg.push_str(&format!("menuentry {} {{\n", grub_quote(&self.name)));
        cfg.push_str(&format!(
            "    {kernel_cmd} {}",
            iso_path(&self.dir, &self.kernel)
        ));
        for w in self.cmdline.split_whitespace() {
            cfg.push(' ');
            cfg.push_str(&grub_quote(w));
        }
        cfg.push('\n');
        for m in &self.modules {
            cfg.push_str(&format!(
                "    {module_cmd} {} {}",
                iso_path(&self.dir, &m.path),
                grub_quote(&m.name)
            ));
            for a in &m.args {
                cfg.push(' ');
                cfg.push_str(&grub_quote(a));
            }
            cfg.push('\n');
        }
        cfg.push_str("    boot\n}\n");
        cfg
    }
}

/// `path` as seen from the ISO's root `dir`.
fn iso_path(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    format!("/{}", rel.to_string_lossy().trim_start_matches('/'))
}

/// Quotes a word for GRUB's script language: single quotes, with each `'`
/// written as `'\''`.
pub fn grub_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:+@%".contains(c))
    {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged() -> Staged {
        Staged {
            dir: PathBuf::from("/s"),
            name: "hurd-rs".into(),
            kernel: PathBuf::from("/s/boot/kernel"),
            protocol: BootProtocol::Multiboot2,
            cmdline: "console=com1 debug".into(),
            modules: vec![
                StagedModule {
                    name: "bootstrap".into(),
                    path: PathBuf::from("/s/boot/modules/bootstrap"),
                    args: vec!["a,b".into()],
                },
                StagedModule {
                    name: "rootfs".into(),
                    path: PathBuf::from("/s/boot/modules/rootfs"),
                    args: vec![],
                },
            ],
            disk: None,
        }
    }

    #[test]
    fn qemu_modules_escape_commas() {
        let args = staged().qemu_args().expect("args");
        assert_eq!(
            args[3],
            "/s/boot/modules/bootstrap a,,b,/s/boot/modules/rootfs"
        );
        assert_eq!(args[5], "console=com1 debug");
        let mut s = staged();
        s.modules[0].path = PathBuf::from("/a b/bootstrap");
        assert!(s.qemu_args().is_err());
    }

    #[test]
    fn grub_cfg_names_each_module() {
        let cfg = staged().grub_cfg();
        assert!(
            cfg.contains("multiboot2 /boot/kernel console=com1 debug\n"),
            "{cfg}"
        );
        assert!(
            cfg.contains("module2 /boot/modules/bootstrap bootstrap 'a,b'\n"),
            "{cfg}"
        );
        assert!(
            cfg.contains("module2 /boot/modules/rootfs rootfs\n"),
            "{cfg}"
        );
        assert_eq!(grub_quote("it's"), "'it'\\''s'");
    }
}
