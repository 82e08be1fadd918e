//! The `[disk]` table of a manifest: a disk image holding an ext2 file
//! system that `hurd-init` mounts at boot.

use toml::Spanned;

use hurd_servers::fstab;

use super::check::Checker;
use super::entries::{Disk, File, Program};
use super::error::ManifestError;
use super::raw::RawDisk;

/// The smallest disk (`mke2fs` needs room for its tables).
pub const DISK_MIN: u64 = 1 << 20;

/// The largest disk (the image file is sparse; the driver and ext2 are
/// tested far below this).
pub const DISK_MAX: u64 = 64 << 30;

/// The programs a disk needs in the image: its driver and its file system.
pub const DISK_PROGRAMS: [&str; 2] = ["/hurd/virtio-blk", "/hurd/ext2fs"];

/// A size: a number of bytes, or a string of digits with a binary suffix
/// `K`, `M` or `G` (as `mke2fs` takes one).
fn parse_size(v: &toml::Value) -> Option<u64> {
    match v {
        toml::Value::Integer(n) => u64::try_from(*n).ok(),
        toml::Value::String(s) => {
            let (digits, shift) = match s.as_bytes().last()? {
                b'K' | b'k' => (&s[..s.len() - 1], 10),
                b'M' | b'm' => (&s[..s.len() - 1], 20),
                b'G' | b'g' => (&s[..s.len() - 1], 30),
                _ => (s.as_str(), 0),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<u64>().ok()?.checked_mul(1 << shift)
        }
        _ => None,
    }
}

impl Checker<'_> {
    /// The disk: a size in bounds, a mount point without blanks (`/`: the
    /// disk holds the root), the programs that serve it in the image, and
    /// no `/etc/fstab` of the manifest's own.
    pub(super) fn disk(
        &self,
        raw: Option<Spanned<RawDisk>>,
        (programs, files): (&[Program], &[File]),
    ) -> Result<Option<Disk>, ManifestError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let line = self.lines.at(raw.span().start).0;
        let table = raw.span();
        let d = raw.into_inner();
        let size_span = d.size.span();
        let size = parse_size(d.size.get_ref()).ok_or_else(|| {
            self.lines.field_error(
                size_span.clone(),
                "disk.size: a number of bytes, or digits with K, M or G (`64M`)",
            )
        })?;
        if !(DISK_MIN..=DISK_MAX).contains(&size) || size % 1024 != 0 {
            return Err(self.lines.field_error(
                size_span,
                format!(
                    "disk.size `{size}`: a multiple of 1 KiB from {}M to {}G",
                    DISK_MIN >> 20,
                    DISK_MAX >> 30
                ),
            ));
        }
        let mount_span = d.mount.span();
        let mount = self.abs_path("disk.mount", d.mount)?;
        if !fstab::valid_field(&mount) {
            return Err(self
                .lines
                .field_error(mount_span, format!("disk.mount `{mount}`: no blanks")));
        }
        let source = d
            .source
            .map(|s| self.nonempty("disk.source", s))
            .transpose()?;
        if let Some(missing) = DISK_PROGRAMS
            .iter()
            .find(|p| !programs.iter().any(|q| q.path == **p))
        {
            return Err(self.lines.field_error(
                table,
                format!(
                    "disk: needs the program `{missing}` in the image (a [[program]] with \
                     path = \"{missing}\")"
                ),
            ));
        }
        if let Some(f) = files.iter().find(|f| f.path == fstab::FSTAB) {
            return Err(ManifestError {
                file: None,
                line: f.line,
                column: 1,
                key: "file.path".to_owned(),
                message: format!("`{}` is made from the [disk] table", fstab::FSTAB),
            });
        }
        Ok(Some(Disk {
            size,
            mount,
            source,
            line,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        let s = |t: &str| parse_size(&toml::Value::String(t.into()));
        assert_eq!(s("64M"), Some(64 << 20));
        assert_eq!(s("2g"), Some(2 << 30));
        assert_eq!(s("1536K"), Some(1536 << 10));
        assert_eq!(s("4096"), Some(4096));
        for bad in ["", "M", "-1M", "1.5M", "1T", "99999999999999999999G", " 1M"] {
            assert_eq!(s(bad), None, "{bad:?}");
        }
        assert_eq!(parse_size(&toml::Value::Integer(1 << 20)), Some(1 << 20));
        assert_eq!(parse_size(&toml::Value::Integer(-1)), None);
        assert_eq!(parse_size(&toml::Value::Boolean(true)), None);
    }
}
