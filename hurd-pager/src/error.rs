//! Errors a pager reports: Hurd `errno` values, as libpager's callbacks
//! return them and as `memory_object_data_error` carries them.

use num_enum::{IntoPrimitive, TryFromPrimitive};

/// Why a page could not be read, written or unlocked, or a call failed.
///
/// The values are the Hurd's (`_HURD_ERRNO(n)` = `0x4000_0000 | n`), so a
/// `data_error` carries what a C pager would send.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(i32)]
pub enum PagerError {
    /// `EIO`: the backing store failed.
    Io = 0x4000_0005,
    /// `ENXIO`: the pager is shutting down; no more data.
    ShutDown = 0x4000_0006,
    /// `EINVAL`: a malformed request or call.
    InvalidArgument = 0x4000_0016,
    /// `ENOSPC`: no space to back the page.
    NoSpace = 0x4000_001c,
    /// `EROFS`: write access through a read-only port.
    ReadOnly = 0x4000_001e,
    /// `EOPNOTSUPP`: the backend does not do this (e.g. multi-page writes).
    NotSupported = 0x4000_002d,
    /// `ETIMEDOUT`: a library call waited longer than allowed.
    TimedOut = 0x4000_003c,
    /// `EDQUOT`: over quota.
    Quota = 0x4000_0045,
}

impl PagerError {
    /// The code as `memory_object_data_error` sends it.
    pub fn code(self) -> i32 {
        self.into()
    }
}

impl core::fmt::Display for PagerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = match self {
            PagerError::Io => "input/output error",
            PagerError::ShutDown => "pager shut down",
            PagerError::InvalidArgument => "invalid argument",
            PagerError::NoSpace => "no space left",
            PagerError::ReadOnly => "read-only",
            PagerError::NotSupported => "operation not supported",
            PagerError::TimedOut => "timed out",
            PagerError::Quota => "quota exceeded",
        };
        f.write_str(s)
    }
}

impl core::error::Error for PagerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hurd_errno_values() {
        assert_eq!(PagerError::Io.code(), 0x4000_0005);
        assert_eq!(PagerError::try_from(0x4000_001c), Ok(PagerError::NoSpace));
        assert!(PagerError::try_from(5).is_err());
    }
}
