//! The file systems of a system's disks: what `hurd-init` mounts at boot,
//! as `/etc/fstab` lists them (fstab(5)'s format). The image builder
//! writes the file for a manifest's `[disk]` ([`to_text`]); `hurd-init`
//! reads it ([`parse`]). A line is one file system, its fields separated
//! by blanks:
//!
//! ```text
//! device:vd0  /home  ext2  defaults  0  2
//! ```
//!
//! The first field names the store as the Hurd's storage library does
//! (`TYPE:NAME`); only `device:` stores (a device a driver serves, opened
//! with `device_open`) are known. The third is the file system's type
//! (`ext2`, served by `/hurd/ext2fs`); the fourth its options, separated
//! by commas (`defaults`, `rw`, `ro`); the dump frequency and the check
//! pass are read and kept. Blank lines and lines starting with `#` are
//! skipped. Fields hold no blanks (fstab(5)'s `\040` is not read).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Where the file systems are listed in the root file system.
pub const FSTAB: &str = "/etc/fstab";

/// The most file systems a system mounts at boot.
pub const MAX_MOUNTS: usize = 16;

/// A file system to mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The device's name (`vd0` for `device:vd0`).
    pub device: String,
    /// Where it is mounted: an absolute path.
    pub dir: String,
    /// The file system's type (`ext2`).
    pub fs_type: String,
    /// Whether it is mounted read-only (`ro` among the options).
    pub readonly: bool,
    /// The dump frequency (fstab(5)'s fifth field).
    pub freq: u32,
    /// The check pass (fstab(5)'s sixth field).
    pub passno: u32,
}

impl Mount {
    /// The translator serving a file system of this type, if one is known:
    /// `/hurd/ext2fs` for `ext2`.
    pub fn program(&self) -> Option<&'static str> {
        match self.fs_type.as_str() {
            "ext2" => Some("/hurd/ext2fs"),
            _ => None,
        }
    }
}

/// What is wrong with the file: the line (from 1) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{FSTAB}: line {}: {}", self.line, self.message)
    }
}

impl core::error::Error for ParseError {}

/// Whether `word` may be a field: not empty, no blank, line break or NUL.
pub fn valid_field(word: &str) -> bool {
    !word.is_empty() && !word.contains([' ', '\t', '\n', '\r', '\0'])
}

/// The file listing `mounts` (their fields valid).
pub fn to_text(mounts: &[Mount]) -> String {
    let mut out = String::from(
        "# The file systems hurd-init mounts at boot (from the image's manifest):\n\
         # STORE, MOUNT POINT, TYPE, OPTIONS, DUMP, PASS.\n",
    );
    for m in mounts {
        let options = if m.readonly { "ro" } else { "defaults" };
        out.push_str(&alloc::format!(
            "device:{}\t{}\t{}\t{options}\t{}\t{}\n",
            m.device,
            m.dir,
            m.fs_type,
            m.freq,
            m.passno
        ));
    }
    out
}

/// The file systems `text` lists, in order.
///
/// # Errors
///
/// A [`ParseError`] naming the first bad line: fewer than four fields or
/// more than six, a store other than `device:NAME`, a relative mount point,
/// a mount point given twice, an option other than `defaults`, `rw`, `ro`,
/// `auto`, `noauto`, a number that is not one, or more than
/// [`MAX_MOUNTS`] lines.
pub fn parse(text: &str) -> Result<Vec<Mount>, ParseError> {
    let mut mounts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let err = |message| ParseError {
            line: i + 1,
            message,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if mounts.len() == MAX_MOUNTS {
            return Err(err("too many file systems"));
        }
        let fields: Vec<&str> = line.split_ascii_whitespace().take(7).collect();
        if !(4..=6).contains(&fields.len()) {
            return Err(err("not four to six fields"));
        }
        let device = fields[0]
            .strip_prefix("device:")
            .filter(|d| !d.is_empty())
            .ok_or(err("the store is not `device:NAME`"))?;
        if !fields[1].starts_with('/') {
            return Err(err("the mount point is not an absolute path"));
        }
        if mounts.iter().any(|m: &Mount| m.dir == fields[1]) {
            return Err(err("the mount point is given twice"));
        }
        let mut readonly = false;
        for option in fields[3].split(',') {
            match option {
                "defaults" | "rw" | "auto" | "noauto" => {}
                "ro" => readonly = true,
                _ => return Err(err("an option other than defaults, rw or ro")),
            }
        }
        let number = |i: usize| match fields.get(i) {
            None => Ok(0),
            Some(n) => n.parse::<u32>().map_err(|_| err("not a number")),
        };
        mounts.push(Mount {
            device: device.to_string(),
            dir: fields[1].to_string(),
            fs_type: fields[2].to_string(),
            readonly,
            freq: number(4)?,
            passno: number(5)?,
        });
    }
    Ok(mounts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn the_file_reads_back_as_written() {
        let list = vec![
            Mount {
                device: "vd0".into(),
                dir: "/home".into(),
                fs_type: "ext2".into(),
                readonly: false,
                freq: 0,
                passno: 2,
            },
            Mount {
                device: "vd1".into(),
                dir: "/srv/data".into(),
                fs_type: "ext2".into(),
                readonly: true,
                freq: 1,
                passno: 0,
            },
        ];
        let text = to_text(&list);
        assert!(text.contains("device:vd0\t/home\text2\tdefaults\t0\t2\n"));
        assert_eq!(parse(&text), Ok(list));
        assert_eq!(parse("# nothing\n\n"), Ok(Vec::new()));
        let short = parse("device:vd0 /home ext2 rw,auto").expect("four fields");
        assert_eq!((short[0].freq, short[0].passno), (0, 0));
        assert_eq!(short[0].program(), Some("/hurd/ext2fs"));
    }

    #[test]
    fn a_bad_line_is_named() {
        let bad = |text: &str, line: usize, message: &str| {
            assert_eq!(
                parse(text).map_err(|e| (e.line, e.message)),
                Err((line, message)),
                "{text:?}"
            );
        };
        bad("device:vd0 /home ext2\n", 1, "not four to six fields");
        bad("a b c d 0 0 x\n", 1, "not four to six fields");
        bad(
            "#\n/dev/vd0 /home ext2 defaults\n",
            2,
            "the store is not `device:NAME`",
        );
        bad(
            "device: /home ext2 defaults\n",
            1,
            "the store is not `device:NAME`",
        );
        bad(
            "device:vd0 home ext2 defaults\n",
            1,
            "the mount point is not an absolute path",
        );
        bad(
            "device:vd0 /home ext2 noexec\n",
            1,
            "an option other than defaults, rw or ro",
        );
        bad("device:vd0 /home ext2 ro x\n", 1, "not a number");
        bad(
            "device:vd0 / ext2 defaults\ndevice:vd1 / ext2 defaults\n",
            2,
            "the mount point is given twice",
        );
        let lots: String = (0..=MAX_MOUNTS)
            .map(|i| alloc::format!("device:vd{i} /m{i} ext2 defaults\n"))
            .collect();
        bad(&lots, MAX_MOUNTS + 1, "too many file systems");
        assert_eq!(
            parse("x /y z w").expect_err("bad").to_string(),
            "/etc/fstab: line 1: the store is not `device:NAME`"
        );
        let other = parse("device:vd0 /home xfs defaults").expect("a line");
        assert_eq!(other[0].program(), None);
    }
}
