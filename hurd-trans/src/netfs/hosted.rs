//! Running a [`NetFs`] on hurd-ipc's hosted runtime.

use alloc::boxed::Box;
use std::thread::JoinHandle;

use hurd_auth::IdSet;
use hurd_ipc::hosted::Task;
use hurd_ipc::{Disposition, Error, MsgReturn, PortItem, PortName, UserIpc};

use super::{NetFs, Options, Tree};
use crate::flags::OpenFlags;
use crate::protocol::fsys;
use crate::transbox::Starter;

/// Starts a server for `tree` on a new thread, as `task` (whose auth handle
/// is `auth`, named in `task`'s space). Returns the thread and a send right
/// to the control port in `holder`'s space: whoever holds it may get root
/// ports for any ids with [`getroot`].
///
/// # Errors
///
/// What making the server or starting its thread returns.
pub fn spawn<T: Tree + Send + 'static>(
    task: Task,
    tree: T,
    auth: PortName,
    starter: Option<Box<dyn Starter + Send>>,
    opts: Options,
    holder: &Task,
) -> Result<(JoinHandle<MsgReturn>, PortName), Error> {
    let fs = NetFs::new(task.clone(), tree, auth, starter, opts)?;
    let control = task.give_right(fs.control(), Disposition::MakeSend, holder)?;
    let name = std::format!("netfs-{}", fs.control());
    let handle = std::thread::Builder::new()
        .name(name)
        .spawn(move || fs.serve())
        .map_err(|_| Error::Kern(hurd_ipc::KernReturn::ResourceShortage))?;
    Ok((handle, control))
}

/// `fsys_getroot` on `control` for `user` with no parent: a port for the
/// root directory (a send right in `ipc`'s space), opened with `flags`.
///
/// # Errors
///
/// The failure of `fsys_getroot` (`EACCES`, `EOPNOTSUPP`).
pub fn getroot<I: UserIpc + ?Sized>(
    ipc: &I,
    control: PortName,
    user: &IdSet,
    flags: OpenFlags,
) -> Result<PortName, Error> {
    let (uids, _, gids, _) = user.clone().into_vecs();
    let dotdot = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    let (_, _, file) =
        fsys::Client::new(ipc, control).getroot(dotdot, uids, gids, flags.bits() as i32)?;
    Ok(file.name)
}
