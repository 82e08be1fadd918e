//! A diary only its owner reads: the hands-on exercise of Part II of the
//! book. The server learns who holds each of its ports from the auth
//! server, through the rendezvous, never from the client's word.

use std::collections::HashMap;
use std::sync::Mutex;

use hurd_auth::{AuthClient, IdSet};
use hurd_ipc::hosted::Task;
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Errno, Error, MsgReturn, PortItem, PortName, RightType, UserIpc};

// ANCHOR: interface
hurd_ipc::interface! {
    /// A diary: one text, read through a port that stands for a user.
    pub mod diary: subsystem 5100 {
        /// `io_reauthenticate`: the port's holder asks for a new port that
        /// stands for who it is; carries the rendezvous right.
        simpleroutine reauthenticate(rendezvous: PortItem);
        /// The text, if the port's user may read it.
        routine read() -> (text: Vec<u8>);
    }
}
// ANCHOR_END: interface

// ANCHOR: state
/// The diary server: its text, its owner, and who each of its ports
/// stands for.
pub struct Diary {
    task: Task,
    /// Its own auth handle: the auth server *it* trusts.
    auth: PortName,
    /// The port set its ports are received on.
    ports: PortName,
    /// The ids each port stands for; a port nobody vouched for has none
    /// (the unknown user).
    users: Mutex<HashMap<PortName, IdSet>>,
    owner: u32,
    text: Vec<u8>,
}

impl Diary {
    /// A diary of `owner`'s holding `text`, served by `task`, which trusts
    /// the auth server of its handle `auth`. Returns it and its first port
    /// (the unknown user's), a receive right of `task`.
    ///
    /// # Errors
    ///
    /// The port set or the port cannot be made.
    pub fn new(
        task: Task,
        auth: PortName,
        owner: u32,
        text: &[u8],
    ) -> Result<(Diary, PortName), Error> {
        let ports = task.port_allocate(RightType::PortSet)?;
        let first = task.port_allocate(RightType::Receive)?;
        task.port_move_member(first, ports)?;
        let diary = Diary {
            task,
            auth,
            ports,
            users: Mutex::new(HashMap::from([(first, IdSet::empty())])),
            owner,
            text: text.to_vec(),
        };
        Ok((diary, first))
    }

    /// Serves the diary's ports until the task ends.
    pub fn serve(&self) -> MsgReturn {
        diary::serve(self, &self.task, self.ports)
    }
}
// ANCHOR_END: state

// ANCHOR: server
impl diary::Server for Diary {
    fn reauthenticate(&self, _req: &Request, rendezvous: PortItem) {
        // A new port for the same diary: the auth server says who gets it.
        let Ok(new) = self.task.port_allocate(RightType::Receive) else {
            return;
        };
        let ids = AuthClient::new(&self.task, self.auth).server_authenticate(
            PortItem {
                disposition: Disposition::MoveSend,
                name: rendezvous.name,
            },
            PortItem {
                disposition: Disposition::MakeSend,
                name: new,
            },
        );
        // A handshake that failed leaves the unknown user, as the Hurd does.
        let ids = ids.unwrap_or_default();
        if self.task.port_move_member(new, self.ports).is_err() {
            return;
        }
        if let Ok(mut users) = self.users.lock() {
            users.insert(new, ids);
        }
    }

    fn read(&self, req: &Request) -> Result<Vec<u8>, Error> {
        let users = self.users.lock().map_err(|_| Errno::Inval)?;
        match users.get(&req.port) {
            Some(ids) if ids.has_euid(self.owner) || ids.has_euid(0) => Ok(self.text.clone()),
            _ => Err(Errno::Access.into()),
        }
    }
}
// ANCHOR_END: server
