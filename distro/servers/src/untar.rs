//! A root file system that comes as a tar archive (the image's `rootfs`
//! boot module), read with [`hurd_trans::tar`] and written into the running
//! system's root.
//!
//! The archive is untrusted: [`entries`] refuses it whole (a
//! [`TarError`] naming the entry, its offset and why) for anything the
//! tar module refuses, a `..` in a name or hard link target, or a name that
//! is not UTF-8 (the file system protocols name files with strings).
//! Entry data is not copied: each [`Entry`] reads its bytes from the
//! archive when [`apply_archive`] writes them, in chunks, so applying an
//! archive holds no more than one chunk beyond the archive itself.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc};
use hurd_trans::flags::{FS_TRANS_SET, HURD_SYMLINK, OpenFlags};
use hurd_trans::protocol::{fs, io};
use hurd_trans::tar::{
    Data, EntryKind, Header, Reader, Reason, TRANSLATOR_KEYWORD, TarError, path,
};
use hurd_trans::transbox::argv_to_argz;

use crate::rootfs::{chmod, chown, mkdir};
use crate::shell::{Session, WRITE_CHUNK};

/// One entry of a root file system archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Its metadata, with [`Entry::path`] made relative and normalised.
    pub header: Header,
    /// The path inside the root: components joined by `/`, no leading `/`,
    /// no `.` or empty components.
    pub path: String,
    /// For a hard link, its target normalised the same way.
    pub link_path: String,
    /// Where its data lies in the archive.
    pub data: Data,
    archive: &'a [u8],
}

impl Entry<'_> {
    /// Reads the file's bytes at `offset` into `buf` (holes of a sparse file
    /// read as zeros); how many were read.
    ///
    /// # Errors
    ///
    /// `EIO` if the archive is shorter than its headers say.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut src = self.archive;
        self.data.read(&mut src, offset, buf)
    }

    /// The passive translator record (an argz) the entry carries, if any.
    pub fn translator(&self) -> Option<&[u8]> {
        self.header.extra(TRANSLATOR_KEYWORD)
    }
}

/// A name made relative and checked.
fn normalise(name: &[u8]) -> Result<String, Reason> {
    let parts = path::components(name)?;
    let mut out = String::new();
    for p in parts {
        let p = core::str::from_utf8(p).map_err(|_| Reason::NotUtf8)?;
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(p);
    }
    Ok(out)
}

/// Every entry of `archive`, in order (the root itself, `.`, omitted).
///
/// # Errors
///
/// The [`TarError`] of the first entry refused; nothing is returned for a
/// refused archive.
pub fn entries(archive: &[u8]) -> Result<Vec<Entry<'_>>, TarError> {
    let mut out = Vec::new();
    for e in Reader::new(archive) {
        let e = e?;
        let fail = |reason| TarError::new(e.offset, &e.header.path, reason);
        let path = normalise(&e.header.path).map_err(fail)?;
        let link_path = if e.header.kind == EntryKind::HardLink {
            normalise(&e.header.link).map_err(fail)?
        } else {
            String::new()
        };
        if e.header.kind == EntryKind::Symlink && core::str::from_utf8(&e.header.link).is_err() {
            return Err(fail(Reason::NotUtf8));
        }
        if path.is_empty() {
            continue;
        }
        out.push(Entry {
            header: e.header,
            path,
            link_path,
            data: e.data,
            archive,
        });
    }
    Ok(out)
}

fn null_port() -> PortItem {
    PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    }
}

/// Removes what `path` names, unless it is a directory (a later entry of
/// the same name replaces an earlier one, as `tar -x` does).
fn remove_non_dir<I: UserIpc + ?Sized>(s: &Session<'_, I>, path: &str) -> Result<(), Error> {
    let (dir, name) = s.parent(path)?;
    let r = fs::Client::new(s.ipc, dir).dir_unlink(name.into());
    s.release(dir);
    match r {
        Err(e)
            if matches!(
                Errno::of(e),
                Some(Errno::NoEnt | Errno::IsDir | Errno::Perm)
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Writes a file's contents: whole, or a sparse file's segments and then
/// its size.
fn write_contents<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    e: &Entry<'_>,
    file: PortName,
) -> Result<(), Error> {
    let io = io::Client::new(s.ipc, file);
    let ranges: Vec<(u64, u64)> = match &e.data.sparse {
        None => vec![(0, e.data.size)],
        Some(segments) => segments.iter().map(|g| (g.offset, g.len)).collect(),
    };
    let mut buf = vec![0u8; WRITE_CHUNK];
    for (start, len) in ranges {
        let mut at = start;
        while at < start + len {
            let want =
                usize::try_from(start + len - at).map_or(WRITE_CHUNK, |r| r.min(WRITE_CHUNK));
            let n = e.read(at, &mut buf[..want])?;
            if n == 0 {
                return Err(Errno::Io.into());
            }
            let offset = i64::try_from(at).map_err(|_| Errno::FBig)?;
            let wrote = io.write(buf[..n].to_vec(), offset)?;
            if wrote == 0 {
                return Err(Errno::Io.into());
            }
            at += wrote.min(n as u64);
        }
    }
    if e.data.sparse.is_some() {
        let size = i64::try_from(e.data.size).map_err(|_| Errno::FBig)?;
        fs::Client::new(s.ipc, file).file_set_size(size)?;
    }
    Ok(())
}

fn set_translator<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    node: PortName,
    argz: Vec<u8>,
) -> Result<(), Error> {
    fs::Client::new(s.ipc, node).file_set_translator(FS_TRANS_SET as i32, 0, 0, argz, null_port())
}

/// Writes one entry.
fn apply<I: UserIpc + ?Sized>(root: &Session<'_, I>, e: &Entry<'_>) -> Result<bool, Error> {
    let h = &e.header;
    let path = format!("/{}", e.path);
    match h.kind {
        EntryKind::Dir => match mkdir(root, &path, h.mode) {
            Err(err) if Errno::of(err) == Some(Errno::Exist) => {}
            other => other?,
        },
        EntryKind::File => {
            remove_non_dir(root, &path)?;
            let f = root.open(
                &path,
                OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::NOTRANS,
            )?;
            let r = write_contents(root, e, f);
            root.release(f);
            r?;
        }
        EntryKind::Symlink => {
            remove_non_dir(root, &path)?;
            let f = root.open(
                &path,
                OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::NOTRANS,
            )?;
            // The Hurd's way: a symlink is a short-circuited translator.
            let target = core::str::from_utf8(&h.link).map_err(|_| Errno::Inval)?;
            let r = set_translator(root, f, argv_to_argz(&[HURD_SYMLINK, target]));
            root.release(f);
            r?;
            chown(root, &path, h.uid, h.gid)?;
            return Ok(true);
        }
        EntryKind::HardLink => {
            let target = root.open(&format!("/{}", e.link_path), OpenFlags::NOTRANS)?;
            let r = root.parent(&path).and_then(|(dir, name)| {
                let r = fs::Client::new(root.ipc, dir).dir_link(
                    PortItem {
                        disposition: Disposition::CopySend,
                        name: target,
                    },
                    name.into(),
                    0,
                );
                root.release(dir);
                r
            });
            root.release(target);
            r?;
            // The link shares its target's attributes.
            return Ok(true);
        }
        // Device nodes and FIFOs are translators on the Hurd: none is made.
        EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo => return Ok(false),
    }
    chmod(root, &path, h.mode)?;
    chown(root, &path, h.uid, h.gid)?;
    if let Some(argz) = e.translator() {
        let node = root.open(&path, OpenFlags::NOTRANS)?;
        let r = set_translator(root, node, argz.to_vec());
        root.release(node);
        r?;
    }
    Ok(true)
}

/// Writes the entries of a root file system archive through `root` (a
/// session holding uid 0): directories (existing ones kept), files
/// (replacing what is there; sparse files with their holes), symbolic and
/// hard links, their modes and owners, and passive translator records (pax
/// [`TRANSLATOR_KEYWORD`]). Device and FIFO entries are skipped (on the
/// Hurd they are translators). Returns how many entries were written.
///
/// # Errors
///
/// The first error writing an entry met.
pub fn apply_archive<I: UserIpc + ?Sized>(
    root: &Session<'_, I>,
    entries: &[Entry<'_>],
) -> Result<usize, Error> {
    let mut written = 0;
    for e in entries {
        if apply(root, e)? {
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_trans::tar::Writer;

    fn sample() -> Vec<u8> {
        let mut w = Writer::new();
        w.append(&Header::dir("./etc", 0o755), b"").expect("dir");
        let long = "d/".repeat(80) + "file";
        let mut file = Header::file(&long, 0o640);
        file.uid = 1000;
        file.gid = 100;
        file.extra = vec![(TRANSLATOR_KEYWORD.into(), b"/hurd/hello\0".to_vec())];
        w.append(&file, b"contents\n").expect("file");
        w.append(&Header::symlink("etc/l", "../x"), b"")
            .expect("symlink");
        w.append(&Header::hard_link("./etc/h", &long), b"")
            .expect("link");
        let mut big = Header::file("big-owner", 0o600);
        big.uid = 3_000_000;
        w.append(&big, b"").expect("big");
        w.finish()
    }

    #[test]
    fn reads_what_the_writer_wrote() {
        let archive = sample();
        let e = entries(&archive).expect("a good archive");
        assert_eq!(e.len(), 5);
        assert_eq!(e[0].path, "etc");
        assert_eq!(e[0].header.kind, EntryKind::Dir);
        assert_eq!(e[1].path, "d/".repeat(80) + "file");
        assert_eq!(e[1].header.mode, 0o640);
        assert_eq!((e[1].header.uid, e[1].header.gid), (1000, 100));
        let mut buf = [0u8; 32];
        let n = e[1].read(0, &mut buf).expect("read");
        assert_eq!(&buf[..n], b"contents\n");
        assert_eq!(e[1].translator(), Some(&b"/hurd/hello\0"[..]));
        assert_eq!(
            (e[2].header.kind, &e[2].header.link[..]),
            (EntryKind::Symlink, &b"../x"[..])
        );
        assert_eq!(e[3].link_path, e[1].path);
        assert_eq!(e[4].header.uid, 3_000_000);
    }

    #[test]
    fn hostile_archives_are_errors() {
        let good = sample();
        // Every truncation is an error or a shorter good prefix, never a panic.
        for n in 0..good.len() {
            let _ = entries(&good[..n]);
        }
        let mut bad = good.clone();
        bad[0] ^= 1;
        assert_eq!(
            entries(&bad).map(|_| ()).expect_err("checksum").reason,
            Reason::Checksum
        );
        let mut w = Writer::new();
        w.append(&Header::file("a/../../escape", 0o644), b"x")
            .expect("append");
        let err = entries(&w.finish()).expect_err("dotdot");
        assert_eq!(
            (err.reason, &err.entry[..]),
            (Reason::DotDot, &b"a/../../escape"[..])
        );
        let mut w = Writer::new();
        w.append(&Header::file(b"\xff", 0o644), b"x")
            .expect("append");
        assert_eq!(
            entries(&w.finish()).expect_err("utf-8").reason,
            Reason::NotUtf8
        );
        assert_eq!(entries(&[]), Ok(Vec::new()));
        assert_eq!(entries(&[0u8; 1024]), Ok(Vec::new()));
    }
}
