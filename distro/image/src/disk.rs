//! The disk image of a manifest's `[disk]`: a raw disk holding an ext2
//! file system made by `mke2fs` for the Hurd (`-o hurd`: creator OS Hurd,
//! so passive translators, authors and the high mode bits can be stored on
//! it), filled from the manifest's entries below the mount point (their
//! passive translator records among them) and the disk's `source`
//! directory.
//!
//! The image is reproducible, as the ISO is: its UUID and directory hash
//! seed come from the image's name, `mke2fs` is given the epoch as its
//! clock (`E2FSPROGS_FAKE_TIME`), and every inode's owner, mode and times
//! are set with `debugfs` after `mke2fs -d` copied the files (which would
//! take them from the host files). `mke2fs -d` reads directories in name
//! order.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::manifest::Disk;
use crate::rootfs::{NodeContents, RootFs};
use crate::{BuildError, Epoch};

/// The Debian package [`make_disk`] needs (`mke2fs`, `debugfs`).
pub const DISK_PACKAGES: &[&str] = &["e2fsprogs"];

/// The UUID of the disk of the image `name` (its file system's UUID and
/// directory hash seed): two 64-bit FNV-1a hashes of the name, shown as a
/// version-4 UUID. The same name gives the same UUID.
pub fn disk_uuid(name: &str) -> String {
    let fnv = |seed: u64| {
        name.bytes().chain(*b"/disk").fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let (a, b) = (fnv(0xcbf2_9ce4_8422_2325), fnv(0x84222325_cbf29ce4));
    let bytes: Vec<u8> = a.to_be_bytes().into_iter().chain(b.to_be_bytes()).collect();
    let mut u = [0u8; 16];
    u.copy_from_slice(&bytes);
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// What one inode of the disk gets: its path on the disk, and the mode
/// (with its type), owner and group from the manifest (`None`: a file of
/// the `source` directory, owned by root, its mode kept).
struct Inode {
    path: String,
    fields: Option<(u32, u32, u32)>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> BuildError {
    BuildError {
        line: None,
        message: format!("disk: {what} `{}`: {e}", path.display()),
    }
}

/// Makes the disk image `out` for `disk` of the image `name`: `tree` (the
/// manifest's entries below the mount point, re-rooted at `/`) and the
/// `source` directory (relative to `base`), staged in `out` + `.d` (removed
/// afterwards), on an ext2 file system of `disk.size` bytes, every inode
/// dated `epoch`.
///
/// # Errors
///
/// A [`BuildError`] naming the `[disk]` line: the source unreadable or
/// holding something other than directories, regular files and symbolic
/// links, a path `debugfs` cannot be given (a `"` or a line break in it),
/// the tree not fitting, or `mke2fs`/`debugfs` missing or failing (with
/// their message).
pub fn make_disk(
    disk: &Disk,
    tree: &RootFs,
    base: &Path,
    name: &str,
    out: &Path,
    epoch: Epoch,
) -> Result<(), BuildError> {
    let at = |message: String| BuildError::at(disk.line, message);
    let mut staged = out.as_os_str().to_owned();
    staged.push(".d");
    let stage = PathBuf::from(staged);
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| io("clearing", &stage, e))?;
    }
    std::fs::create_dir_all(&stage).map_err(|e| io("creating", &stage, e))?;
    let mut inodes = vec![
        Inode {
            path: "/".into(),
            fields: tree.get("/").map(|n| (0o040_000 | n.mode, n.uid, n.gid)),
        },
        Inode {
            path: "/lost+found".into(),
            fields: None,
        },
    ];
    if let Some(source) = &disk.source {
        let from = base.join(source);
        if !from.is_dir() {
            return Err(at(format!(
                "disk.source `{}`: not a directory",
                from.display()
            )));
        }
        copy_tree(&from, &stage, "", &mut inodes).map_err(|e| at(format!("disk.source: {e}")))?;
    }
    for (path, node) in tree.nodes().filter(|(p, _)| *p != "/") {
        let host = stage.join(path.trim_start_matches('/'));
        let kind = match &node.contents {
            NodeContents::Dir => {
                std::fs::create_dir_all(&host).map_err(|e| io("creating", &host, e))?;
                0o040_000
            }
            NodeContents::File(data) => {
                if host.is_dir() {
                    std::fs::remove_dir_all(&host).map_err(|e| io("replacing", &host, e))?;
                }
                std::fs::write(&host, data).map_err(|e| io("writing", &host, e))?;
                0o100_000
            }
        };
        inodes.retain(|i| i.path != path);
        inodes.push(Inode {
            path: path.to_owned(),
            fields: Some((kind | node.mode, node.uid, node.gid)),
        });
    }
    if let Some(bad) = inodes.iter().find(|i| i.path.contains(['"', '\n', '\r'])) {
        return Err(at(format!(
            "disk: `{}`: a path with a `\"` or a line break cannot go on the disk",
            bad.path
        )));
    }
    let file = std::fs::File::create(out).map_err(|e| io("creating", out, e))?;
    file.set_len(disk.size).map_err(|e| io("sizing", out, e))?;
    drop(file);
    let uuid = disk_uuid(name);
    let label: String = name.chars().take(16).collect();
    let secs = epoch.secs().to_string();
    run(Command::new("mke2fs")
        .env("E2FSPROGS_FAKE_TIME", &secs)
        .args([
            "-q", "-F", "-t", "ext2", "-o", "hurd", "-U", &uuid, "-L", &label,
        ])
        .arg("-E")
        .arg(format!("hash_seed={uuid}"))
        .arg("-d")
        .arg(&stage)
        .arg(out))
    .map_err(at)?;
    let mut script = String::new();
    for i in &inodes {
        let p = &i.path;
        for field in ["atime", "mtime", "ctime"] {
            script.push_str(&format!("sif \"{p}\" {field} @{secs}\n"));
        }
        let (mode, uid, gid) = i.fields.map_or((None, 0, 0), |(m, u, g)| (Some(m), u, g));
        if let Some(mode) = mode {
            script.push_str(&format!("sif \"{p}\" mode 0{mode:o}\n"));
        }
        script.push_str(&format!("sif \"{p}\" uid {uid}\nsif \"{p}\" gid {gid}\n"));
    }
    // Passive translator records, as the Hurd's ext2fs keeps them on a
    // file system with extended attributes: `gnu.translator`, the command
    // line as NUL-terminated words.
    for (n, (path, command)) in tree
        .nodes()
        .filter_map(|(p, node)| Some((p, node.translator.as_ref()?)))
        .enumerate()
    {
        let value = stage.join(format!(".translator-{n}"));
        if value.to_string_lossy().contains(['"', '\n', '\r']) {
            return Err(io(
                "naming",
                &value,
                std::io::Error::other("a path with a `\"` or a line break"),
            ));
        }
        std::fs::write(&value, crate::rootfs::argz(command))
            .map_err(|e| io("writing", &value, e))?;
        script.push_str(&format!(
            "ea_set -f \"{}\" \"{path}\" gnu.translator\n",
            value.display()
        ));
    }
    let script_file = stage.join(".debugfs");
    std::fs::write(&script_file, script).map_err(|e| io("writing", &script_file, e))?;
    let output = Command::new("debugfs")
        .env("E2FSPROGS_FAKE_TIME", &secs)
        .arg("-w")
        .arg("-f")
        .arg(&script_file)
        .arg(out)
        .output()
        .map_err(|e| at(format!("running debugfs: {e} (install e2fsprogs)")))?;
    // debugfs answers each command on standard output and complains on
    // standard error (its banner comes first there).
    let complaints: Vec<&str> = std::str::from_utf8(&output.stderr)
        .unwrap_or("")
        .lines()
        .filter(|l| !l.starts_with("debugfs ") && !l.trim().is_empty())
        .collect();
    if !output.status.success() || !complaints.is_empty() {
        return Err(at(format!(
            "debugfs setting owners, times and translator records failed: {}",
            complaints.join("; ")
        )));
    }
    std::fs::remove_dir_all(&stage).map_err(|e| io("removing", &stage, e))?;
    Ok(())
}

/// Runs `command`; its error output when it fails.
fn run(command: &mut Command) -> Result<(), String> {
    let name = command.get_program().to_string_lossy().into_owned();
    let output = command
        .output()
        .map_err(|e| format!("running {name}: {e} (install e2fsprogs)"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Copies the directory `from` into `to` (directories, regular files and
/// symbolic links), listing each entry's disk path (`prefix` + name).
fn copy_tree(from: &Path, to: &Path, prefix: &str, inodes: &mut Vec<Inode>) -> Result<(), String> {
    let what = |e: std::io::Error| format!("`{}`: {e}", from.display());
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .map_err(what)?
        .collect::<Result<_, _>>()
        .map_err(what)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(format!(
                "`{}`: a name that is not UTF-8",
                entry.path().display()
            ));
        };
        let (src, dst) = (entry.path(), to.join(name));
        let path = format!("{prefix}/{name}");
        let bad = |e: std::io::Error| format!("`{}`: {e}", src.display());
        let kind = entry.file_type().map_err(bad)?;
        if kind.is_dir() {
            std::fs::create_dir_all(&dst).map_err(bad)?;
            inodes.push(Inode {
                path: path.clone(),
                fields: None,
            });
            copy_tree(&src, &dst, &path, inodes)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(bad)?;
            inodes.push(Inode { path, fields: None });
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&src).map_err(bad)?;
            std::os::unix::fs::symlink(target, &dst).map_err(bad)?;
            inodes.push(Inode { path, fields: None });
        } else {
            return Err(format!(
                "`{}`: only directories, files and symbolic links go on a disk",
                src.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::disk_uuid;

    #[test]
    fn the_uuid_is_the_names() {
        let u = disk_uuid("hurd-rs");
        assert_eq!(u, disk_uuid("hurd-rs"));
        assert_ne!(u, disk_uuid("hurd-rt"));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(u.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
