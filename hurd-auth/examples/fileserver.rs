//! A toy file server that knows nothing about its clients until the auth
//! server tells it: a client reauthenticates its port with the rendezvous
//! handshake, and the server then grants or refuses a read by uid.
//!
//! Run it with `cargo run -p hurd-auth --example fileserver`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc;

use hurd_auth::{AuthClient, AuthServer, IdSet, Limits, StdClock, reauthenticate};
use hurd_ipc::Errno;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Error, PortItem, PortName, RightType, UserIpc};

// ANCHOR: interface
hurd_ipc::interface! {
    /// The toy file protocol: one file, readable by its owner only.
    pub mod toyfs: subsystem 21000 {
        /// `io_reauthenticate`: a simpleroutine carrying the rendezvous right.
        simpleroutine reauthenticate(rendezvous: PortItem);
        /// Reads the file, if the port's user may.
        routine read() -> (data: Vec<u8>);
    }
}
// ANCHOR_END: interface

// ANCHOR: server
/// The file server: which ids each of its ports stands for.
struct FileServer {
    task: Task,
    /// Its own auth handle: the auth server *it* trusts.
    auth: PortName,
    /// The port set its ports are received on.
    ports: PortName,
    /// Ids per port; a fresh port is the unknown user (no ids).
    users: Mutex<HashMap<PortName, IdSet>>,
    owner: u32,
}

impl toyfs::Server for FileServer {
    fn reauthenticate(&self, _req: &Request, rendezvous: PortItem) {
        // A new port for the same file; the auth server tells us who holds it.
        let Ok(newport) = self.task.port_allocate(RightType::Receive) else {
            return;
        };
        let ids = AuthClient::new(&self.task, self.auth).server_authenticate(
            PortItem {
                disposition: Disposition::MoveSend,
                name: rendezvous.name,
            },
            PortItem {
                disposition: Disposition::MakeSend,
                name: newport,
            },
        );
        // A failed handshake leaves the unknown user, as the Hurd does.
        let ids = ids.unwrap_or_default();
        println!(
            "fileserver: new port {newport} is {:?}",
            ids.euids.as_slice()
        );
        let _ = self.task.port_move_member(newport, self.ports);
        if let Ok(mut users) = self.users.lock() {
            users.insert(newport, ids);
        }
    }

    fn read(&self, req: &Request) -> Result<Vec<u8>, Error> {
        let users = self.users.lock().map_err(|_| Error::from(Errno::Inval))?;
        match users.get(&req.port) {
            Some(ids) if ids.has_euid(self.owner) || ids.has_euid(0) => {
                Ok(b"the owner's secret".to_vec())
            }
            _ => Err(Errno::Access.into()),
        }
    }
}
// ANCHOR_END: server

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: boot
    let rt = Runtime::new();
    let (fs_task, alice, mallory) = (rt.task(), rt.task(), rt.task());
    // The auth server makes root's handle, and handles for alice and mallory
    // (in a real system: the password server's makeauth after a login).
    let (tx, rx) = mpsc::channel();
    let to = [fs_task.clone(), alice.clone(), mallory.clone()];
    rt.spawn("auth", move |task| {
        let server = AuthServer::new(task.clone(), StdClock::new(), Limits::default())?;
        let mut handles = Vec::new();
        for (ids, who) in [
            (IdSet::root(), &to[0]),
            (IdSet::user(1000, &[100]), &to[1]),
            (IdSet::user(666, &[666]), &to[2]),
        ] {
            let h = server.create_handle(ids)?;
            handles.push(task.give_right(h, Disposition::MoveSend, who)?);
        }
        let _ = tx.send(handles);
        server.run();
        Ok::<(), Error>(())
    })?;
    let handles = rx.recv()?;
    let (fs_auth, alice_auth, mallory_auth) = (handles[0], handles[1], handles[2]);
    // ANCHOR_END: boot

    // ANCHOR: serve
    let ports = fs_task.port_allocate(RightType::PortSet)?;
    let first = fs_task.port_allocate(RightType::Receive)?;
    fs_task.port_move_member(first, ports)?;
    let alice_file = fs_task.give_right(first, Disposition::MakeSend, &alice)?;
    let mallory_file = fs_task.give_right(first, Disposition::MakeSend, &mallory)?;
    let fs = FileServer {
        task: fs_task.clone(),
        auth: fs_auth,
        ports,
        users: Mutex::new(HashMap::from([(first, IdSet::empty())])),
        owner: 1000,
    };
    std::thread::spawn(move || toyfs::serve(&fs, &fs.task, ports));
    // ANCHOR_END: serve

    // ANCHOR: client
    // Unauthenticated, the port is the unknown user's: no access.
    let r = toyfs::Client::new(&alice, alice_file).read();
    println!("alice, before reauthenticating: {:?}", r.map_err(Errno::of));
    // Reauthenticate: the client never shows its auth handle to the server.
    let authed = reauthenticate(&alice, alice_auth, |rendezvous| {
        toyfs::Client::new(&alice, alice_file).reauthenticate(rendezvous)
    })?;
    let data = toyfs::Client::new(&alice, authed).read()?;
    println!(
        "alice, reauthenticated: {:?}",
        String::from_utf8_lossy(&data)
    );
    // ANCHOR_END: client

    // ANCHOR: mallory
    // Mallory reauthenticates too, but only as who she is: uid 666.
    let authed = reauthenticate(&mallory, mallory_auth, |rendezvous| {
        toyfs::Client::new(&mallory, mallory_file).reauthenticate(rendezvous)
    })?;
    let r = toyfs::Client::new(&mallory, authed).read();
    println!(
        "mallory, reauthenticated: {:?}",
        r.as_ref().map_err(|e| Errno::of(*e))
    );
    assert_eq!(r.err(), Some(Error::from(Errno::Access)));
    // Nor can she mint uid 1000 from her own handle.
    let mint = AuthClient::new(&mallory, mallory_auth).makeauth(&[], &IdSet::user(1000, &[100]));
    println!("mallory, makeauth uid 1000: {:?}", mint.map_err(Errno::of));
    // Nor by presenting, alongside her handle, a port of her own that claims
    // to be one: every element of `other_handles` must be a handle of this
    // auth server.
    let fake = mallory.port_allocate(RightType::Receive)?;
    let fake = mallory.give_right(fake, Disposition::MakeSend, &mallory)?;
    let mint = AuthClient::new(&mallory, mallory_auth)
        .makeauth(&[mallory_auth, fake], &IdSet::user(1000, &[100]));
    println!(
        "mallory, makeauth uid 1000 with a fake handle: {:?}",
        mint.as_ref().map_err(|e| Errno::of(*e))
    );
    assert_eq!(mint.err(), Some(Error::from(Errno::Inval)));
    // ANCHOR_END: mallory
    println!("fileserver demo: done");
    Ok(())
}
