//! The shell's commands about whole file systems — `df`, `sync` and
//! `fsysopts` — through the `fs` and `fsys` interfaces, as the Hurd's
//! programs of those names use them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use hurd_ipc::{Error, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::protocol::{fs, fsys};
use hurd_trans::statfs::{FSTYPE_EXT2FS, FSTYPE_MEMFS, Statfs};
use hurd_trans::transbox::{argv_to_argz, argz_words};

use super::Session;
use super::commands::complain;

/// `df [FILE...]`: the size, use and free space of the file system holding
/// each FILE (the root's by default), as `file_statfs` answers, in blocks
/// of 1 KiB: `Used` is what is not free, `Available` what an unprivileged
/// user may still take, `Use%` the used part of those two together,
/// rounded up (as GNU df counts it).
pub(super) fn df<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    args: &[String],
    printed: &mut Vec<u8>,
    err: &mut Vec<u8>,
) {
    let root = [String::from("/")];
    let files = if args.is_empty() { &root[..] } else { args };
    printed.extend_from_slice(b"Type      1K-blocks      Used Available Use% File\n");
    for f in files {
        match statfs(s, f) {
            Ok(st) => printed.extend_from_slice(df_line(&st, f).as_bytes()),
            Err(e) => complain(err, "df", f, e),
        }
    }
}

/// The `file_statfs` answer for the file system holding `path`.
fn statfs<I: UserIpc + ?Sized>(s: &Session<'_, I>, path: &str) -> Result<Statfs, Error> {
    let n = s.open(path, OpenFlags::empty())?;
    let r = fs::Client::new(s.ipc, n).file_statfs();
    s.release(n);
    r
}

/// The name `df` shows for a file system type (`f_type`).
fn type_name(fstype: u32) -> String {
    match fstype {
        FSTYPE_EXT2FS => String::from("ext2fs"),
        FSTYPE_MEMFS => String::from("memfs"),
        other => format!("{other:#x}"),
    }
}

/// One line of `df` for `st`, the file system of `file`. The counts come
/// from a server: any values give a line, never an overflow.
pub(super) fn df_line(st: &Statfs, file: &str) -> String {
    let unit = u128::from(if st.frsize != 0 { st.frsize } else { st.bsize });
    let kib = |blocks: u64| u128::from(blocks) * unit / 1024;
    let total = kib(st.blocks);
    let free = kib(st.bfree.min(st.blocks));
    let avail = kib(st.bavail.min(st.bfree).min(st.blocks));
    let used = total - free;
    let percent = match used + avail {
        0 => String::from("-"),
        all => format!("{}%", (used * 100).div_ceil(all)),
    };
    format!(
        "{:<9} {total:>9} {used:>9} {avail:>9} {percent:>4} {file}\n",
        type_name(st.fstype)
    )
}

/// `sync [FILE...]`: has the file system holding each FILE (the root's by
/// default) write everything it holds in memory back to its storage, and
/// waits for it (`file_syncfs`, asking it to do the same for the
/// translators below it, as glibc's `sync` asks the root).
pub(super) fn sync<I: UserIpc + ?Sized>(s: &Session<'_, I>, args: &[String], err: &mut Vec<u8>) {
    let root = [String::from("/")];
    let files = if args.is_empty() { &root[..] } else { args };
    for f in files {
        let r = s.open(f, OpenFlags::empty()).and_then(|n| {
            let r = fs::Client::new(s.ipc, n).file_syncfs(1, 1);
            s.release(n);
            r
        });
        if let Err(e) = r {
            complain(err, "sync", f, e);
        }
    }
}

/// `fsysopts FILE [OPTION...]`: alone, prints the options of the file
/// system holding FILE (`file_get_fs_options`: its server's name first);
/// with OPTIONs, sets them at run time through the file system's control
/// port (`file_getcontrol`, which only root may have: `EPERM`, then
/// `fsys_set_options`), as the Hurd's `fsysopts` does. An option the file
/// system does not know is `EINVAL`, and none applies.
pub(super) fn fsysopts<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    args: &[String],
    printed: &mut Vec<u8>,
    err: &mut Vec<u8>,
) {
    let [file, options @ ..] = args else {
        return err.extend_from_slice(b"usage: fsysopts FILE [OPTION...]\n");
    };
    let node = match s.open(file, OpenFlags::empty()) {
        Ok(n) => n,
        Err(e) => return complain(err, "fsysopts", file, e),
    };
    let r = if options.is_empty() {
        fs::Client::new(s.ipc, node)
            .file_get_fs_options()
            .map(|argz| {
                let words: Vec<String> = argz_words(&argz)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect();
                printed.extend_from_slice(words.join(" ").as_bytes());
                printed.push(b'\n');
            })
    } else {
        fs::Client::new(s.ipc, node)
            .file_getcontrol()
            .and_then(|control| {
                let r =
                    fsys::Client::new(s.ipc, control.name).set_options(argv_to_argz(options), 0);
                s.release(control.name);
                r
            })
    };
    s.release(node);
    if let Err(e) = r {
        complain(err, "fsysopts", file, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_counts_kibibytes_and_rounds_the_use_up() {
        let ext2 = Statfs {
            fstype: FSTYPE_EXT2FS,
            bsize: 1024,
            blocks: 32768,
            bfree: 30000,
            bavail: 28000,
            ..Statfs::default()
        };
        // 2768 used of 2768 + 28000: 8.99...%, shown as 9%.
        assert_eq!(
            df_line(&ext2, "/home"),
            "ext2fs        32768      2768     28000   9% /home\n"
        );
        let pages = Statfs {
            fstype: FSTYPE_MEMFS,
            bsize: 4096,
            frsize: 4096,
            blocks: 4096,
            bfree: 4096,
            bavail: 4096,
            ..Statfs::default()
        };
        assert_eq!(
            df_line(&pages, "/"),
            "memfs         16384         0     16384   0% /\n"
        );
    }

    #[test]
    fn df_takes_any_counts_a_server_sends() {
        let empty = Statfs::default();
        assert_eq!(
            df_line(&empty, "x"),
            "0x0               0         0         0    - x\n"
        );
        // More free than there is, the largest sizes: no overflow, no
        // panic, free never above the total.
        let wild = Statfs {
            fstype: 0xdead,
            bsize: u32::MAX,
            frsize: 0,
            blocks: u64::MAX,
            bfree: u64::MAX,
            bavail: u64::MAX,
            ..Statfs::default()
        };
        let line = df_line(&wild, "w");
        assert!(line.starts_with("0xdead "), "{line}");
        assert!(line.ends_with(" 0% w\n"), "{line}");
        let odd = Statfs {
            bsize: 512,
            blocks: 10,
            bfree: 20,
            bavail: 30,
            ..Statfs::default()
        };
        assert!(df_line(&odd, "o").contains("  5         0         5   0% o"));
    }
}
