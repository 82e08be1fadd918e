//! The `dir_lookup` retry triple: what the client does next.

use hurd_ipc::PortName;
use num_enum::{IntoPrimitive, TryFromPrimitive};

use crate::name::Name;

/// `enum retry_type` (`hurd_types.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum RetryType {
    /// `FS_RETRY_NORMAL`: an empty name means the port is the file; otherwise
    /// look the name up starting at the port.
    Normal = 1,
    /// `FS_RETRY_REAUTH`: reauthenticate the port first, then go on as for
    /// `Normal` (even with an empty name). Used when ".." leaves a
    /// translator's root.
    Reauth = 2,
    /// `FS_RETRY_MAGICAL`: the name is for the client to interpret: `/...`
    /// (start again at the root directory: absolute symlinks), `fd/N`, `tty`.
    Magical = 3,
}

/// A `dir_lookup` or `fsys_getroot` answer: retry type, retry name, and port
/// (a send right in the receiver's space; NULL for most magical retries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retry {
    /// What to do.
    pub kind: RetryType,
    /// The rest of the name.
    pub name: Name,
    /// The port to continue at (or the result).
    pub port: PortName,
}
