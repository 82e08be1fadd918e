//! A diary only its owner reads: the hands-on exercise of Part II of the
//! book. The server learns who holds each of its ports from the auth
//! server, through the rendezvous, never from the client's word.
//!
//! Fill in the two methods marked TODO, then run
//! `cargo test -p diary-start --test diary`.

// The parameters, imports and fields are unused until the TODOs are done.
#![allow(unused_variables, unused_imports, dead_code)]

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

// ANCHOR: todo
impl diary::Server for Diary {
    fn reauthenticate(&self, _req: &Request, rendezvous: PortItem) {
        // TODO: make a new port (a receive right of `self.task`), and ask
        // the diary's own auth server who its holder is: `AuthClient`'s
        // `server_authenticate` with the rendezvous (moved: its send right
        // is the server's to give back) and a send right made from the new
        // port. Put the new port into the port set `self.ports` and
        // remember its ids in `self.users`; a handshake that failed leaves
        // the unknown user (no ids).
        todo!("reauthenticate")
    }

    fn read(&self, req: &Request) -> Result<Vec<u8>, Error> {
        // TODO: the text, if the port the request came in on (`req.port`)
        // stands for the owner or for root (an effective uid 0);
        // `Errno::Access` (EACCES) for anyone else.
        todo!("read")
    }
}
// ANCHOR_END: todo
