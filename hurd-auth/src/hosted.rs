//! Starting an auth server on hurd-ipc's hosted runtime (feature `std`).
//!
//! Every hosted system begins the same way: an auth server in its own task,
//! and a root handle for each of the tasks that boot the rest (the boot task,
//! a file system, a password server…). [`spawn`] does that.
//!
//! ```
//! use hurd_auth::{AuthClient, IdSet, Limits};
//! use hurd_ipc::hosted::Runtime;
//!
//! let rt = Runtime::new();
//! let boot = rt.task();
//! let handles = hurd_auth::hosted::spawn(&rt, Limits::default(), &[&boot]).unwrap();
//! assert_eq!(AuthClient::new(&boot, handles[0]).getids(), Ok(IdSet::root()));
//! ```

use std::sync::mpsc;
use std::time::Duration;

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Error, PortName};

use crate::{AuthServer, IdSet, Limits, StdClock};
use hurd_ipc::Errno;

/// How long [`spawn`] waits for the new server to hand out its handles.
const STARTUP: Duration = Duration::from_secs(60);

/// Starts an auth server as a new task of `rt` (a thread named `auth`) and
/// gives each task of `root_for`, in order, a send right to a handle for
/// root's ids; returns those names (one per task, in its space).
///
/// Fails with `EAGAIN` if the thread cannot be started or the server fails
/// to start, and `ETIMEDOUT` if it does not answer in time.
///
/// # Errors
///
/// `EAGAIN` if the thread cannot be started or the server fails to start,
/// `ETIMEDOUT` if it does not answer in time.
pub fn spawn(rt: &Runtime, limits: Limits, root_for: &[&Task]) -> Result<Vec<PortName>, Error> {
    let (tx, rx) = mpsc::channel();
    let to: Vec<Task> = root_for.iter().map(|t| (*t).clone()).collect();
    rt.spawn("auth", move |task| {
        let server = AuthServer::new(task.clone(), StdClock::new(), limits)?;
        let mut handles = Vec::new();
        for who in &to {
            let h = server.create_handle(IdSet::root())?;
            handles.push(task.give_right(h, Disposition::MoveSend, who)?);
        }
        let _ = tx.send(handles);
        server.run();
        Ok::<(), Error>(())
    })
    .map_err(|_| Error::from(Errno::Again))?;
    rx.recv_timeout(STARTUP).map_err(|e| match e {
        mpsc::RecvTimeoutError::Timeout => Error::from(Errno::TimedOut),
        mpsc::RecvTimeoutError::Disconnected => Error::from(Errno::Again),
    })
}
