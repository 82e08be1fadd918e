//! The client side: [`AuthClient`] for calls on an auth handle, and
//! [`reauthenticate`], the whole `io_reauthenticate` flow for an I/O object.

use hurd_ipc::user::ReceiveRight;
use hurd_ipc::{Disposition, Error, PortArray, PortItem, PortName, UserIpc};

use crate::idset::IdSet;
use crate::protocol::auth;

/// Calls on one auth handle (a send right in the caller's space).
pub struct AuthClient<'a, I: UserIpc + ?Sized> {
    ipc: &'a I,
    handle: PortName,
}

impl<'a, I: UserIpc + ?Sized> AuthClient<'a, I> {
    /// Calls through the send right `handle` of `ipc`'s space.
    pub fn new(ipc: &'a I, handle: PortName) -> Self {
        AuthClient { ipc, handle }
    }

    /// The handle.
    pub fn handle(&self) -> PortName {
        self.handle
    }

    fn stub(&self) -> auth::Client<'a, I> {
        auth::Client::new(self.ipc, self.handle)
    }

    /// `auth_getids`: the ids the handle stands for.
    ///
    /// # Errors
    ///
    /// The RPC's failure (a send or receive error, a reply that does not match),
    /// or the server's code: `EOPNOTSUPP` when the handle is not one of its handles.
    pub fn getids(&self) -> Result<IdSet, Error> {
        let (e, a, eg, ag) = self.stub().getids()?;
        Ok(IdSet::from_vecs(e, a, eg, ag))
    }

    /// `auth_makeauth`: a new handle (a send right in the caller's space) with
    /// `ids`, presenting this handle and `others` (other handles of the same
    /// auth server) in one call. `others` travel as a port array of copied
    /// send rights, so the caller keeps its own rights to the presented
    /// handles. An empty `ids` asks for the union of the presented handles.
    ///
    /// # Errors
    ///
    /// The RPC's failure (a send or receive error, a reply that does not match),
    /// or the server's code: `EPERM` when the presented handles do not hold the ids
    /// asked for, `EINVAL` when an element of `others` is no handle of this
    /// server, `EAGAIN` when its handle table is full.
    pub fn makeauth(&self, others: &[PortName], ids: &IdSet) -> Result<PortName, Error> {
        let others = PortArray {
            disposition: Disposition::CopySend,
            names: others.to_vec(),
        };
        let (e, a, eg, ag) = ids.clone().into_vecs();
        Ok(self.stub().makeauth(others, e, a, eg, ag)?.name)
    }

    /// `auth_user_authenticate`: the user's half of a rendezvous. Returns the
    /// server's new port (a send right in the caller's space).
    ///
    /// # Errors
    ///
    /// The RPC's failure (a send or receive error, a reply that does not match),
    /// or the server's code: `EINVAL` when the rendezvous port is not a send right
    /// or dies, `EBUSY` when a user call already waits on it, `ETIMEDOUT` when
    /// the server side does not come in time.
    pub fn user_authenticate(&self, rendezvous: PortItem) -> Result<PortName, Error> {
        Ok(self.stub().user_authenticate(rendezvous)?.name)
    }

    /// `auth_server_authenticate`: the server's half. Passes `newport` to the
    /// user through the auth server and returns the user's ids.
    ///
    /// # Errors
    ///
    /// The RPC's failure (a send or receive error, a reply that does not match),
    /// or the server's code: as for [`AuthClient::user_authenticate`].
    pub fn server_authenticate(
        &self,
        rendezvous: PortItem,
        newport: PortItem,
    ) -> Result<IdSet, Error> {
        let (e, a, eg, ag) = self.stub().server_authenticate(rendezvous, newport)?;
        Ok(IdSet::from_vecs(e, a, eg, ag))
    }
}

/// The user's side of reauthentication (`io_reauthenticate` and the like):
/// makes a fresh rendezvous port, gives `send_reauth` a send right to it to
/// pass to the I/O server (with an `io_reauthenticate`-style simpleroutine),
/// then meets the server at the user's own auth server through `auth`.
///
/// Returns the I/O server's new port for the object, authenticated with the
/// ids of `auth` — a send right in `ipc`'s space. The user never shows its auth
/// handle to the I/O server, and the I/O server learns the ids only from the
/// auth server *it* trusts. The rendezvous port is destroyed on every path.
///
/// # Errors
///
/// `KERN_NO_SPACE` and the like when the rendezvous port cannot be made;
/// what `send_reauth` returns; the failure of `auth_user_authenticate`.
pub fn reauthenticate<I, F>(ipc: &I, auth: PortName, send_reauth: F) -> Result<PortName, Error>
where
    I: UserIpc + ?Sized,
    F: FnOnce(PortItem) -> Result<(), Error>,
{
    // Destroyed when this returns, whatever happened.
    let rendezvous = ReceiveRight::allocate(ipc)?;
    let make_send = rendezvous.make_send_item();
    send_reauth(make_send).and_then(|()| AuthClient::new(ipc, auth).user_authenticate(make_send))
}
