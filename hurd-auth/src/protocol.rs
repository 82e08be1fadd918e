//! The wire protocols, defined with [`hurd_ipc::interface!`]: the auth
//! protocol (`auth.defs`, subsystem 25000) and the password protocol
//! (`password.defs`, subsystem 38000).
//!
//! Id arrays (`idarray_t`) travel as `Vec<u32>`; ports as
//! [`hurd_ipc::PortItem`]s whose disposition says how the right is
//! transferred.
//!
//! `auth_makeauth` takes `other_handles` as a port array (`portarray_t`,
//! [`hurd_ipc::PortArray`]), as in the Hurd: one call presents any number of
//! handles.

use alloc::string::String;
use hurd_ipc::interface;
use hurd_ipc::{PortArray, PortItem};

interface! {
    /// The auth protocol: `auth.defs`, subsystem 25000, in the Hurd's order.
    pub mod auth: subsystem 25000 prefix "auth_" {
        /// `auth_getids`: the ids the handle stands for.
        routine getids() -> (euids: Vec<u32>, auids: Vec<u32>, egids: Vec<u32>, agids: Vec<u32>);
        /// `auth_makeauth`: a new handle (a send right, `MAKE_SEND`) with the
        /// requested ids, if the handle together with `other_handles` (send
        /// rights, `COPY_SEND`, to other handles of the same server) holds them
        /// or holds uid 0. No ids at all asks for the union of them all. Every
        /// element must be a handle of this server (else `EINVAL`); the server
        /// releases the rights it received in the array whatever the outcome.
        routine makeauth(other_handles: PortArray, euids: Vec<u32>, auids: Vec<u32>, egids: Vec<u32>, agids: Vec<u32>)
            -> (newhandle: PortItem);
        /// `auth_user_authenticate`: the user's half of a rendezvous. Returns
        /// (`MOVE_SEND`) the port the server passed to its half.
        routine user_authenticate(rendezvous: PortItem) -> (newport: PortItem);
        /// `auth_server_authenticate`: the server's half of a rendezvous. Passes
        /// `newport` to the user and returns the user's ids.
        routine server_authenticate(rendezvous: PortItem, newport: PortItem)
            -> (euids: Vec<u32>, auids: Vec<u32>, egids: Vec<u32>, agids: Vec<u32>);
    }
}

interface! {
    /// The password protocol: `password.defs`, subsystem 38000. The first two
    /// routines are the Hurd's; `check_user_name` is a hurd-rs addition.
    pub mod password: subsystem 38000 prefix "password_" {
        /// `password_check_user`: an auth handle for `uid` if `password` is its
        /// password. Unknown uids and wrong passwords both get `EPERM`.
        routine check_user(uid: u32, password: String) -> (auth: PortItem);
        /// `password_check_group`: an auth handle holding `gid` if `password` is
        /// the group's password.
        routine check_group(gid: u32, password: String) -> (auth: PortItem);
        /// Like `check_user`, naming the user by login name.
        routine check_user_name(name: String, password: String) -> (auth: PortItem);
    }
}

/// The interfaces of this crate, for tools that name messages (see
/// [`hurd_ipc::msgids`]).
pub static INTERFACES: &[&hurd_ipc::msgids::Subsystem] =
    &[&auth::DESCRIPTION, &password::DESCRIPTION];

/// The routine ids, as the Hurd numbers them.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_hurds() {
        assert_eq!(auth::id::getids, 25000);
        assert_eq!(auth::id::makeauth, 25001);
        assert_eq!(auth::id::user_authenticate, 25002);
        assert_eq!(auth::id::server_authenticate, 25003);
        assert_eq!(auth::END, 25004);
        assert_eq!(password::id::check_user, 38000);
        assert_eq!(password::id::check_group, 38001);
    }
}
