//! Ports a server hands out, as libports' `ports_create_port` makes them.

use hurd_ipc::user::ReceiveRight;
use hurd_ipc::{Disposition, Error, NotifyKind, PortName, UserIpc};

/// A new receive right in `portset`, with a no-senders notification
/// requested to itself (sync 1: it fires once the first send right made
/// from it and every copy are gone). Nothing is left behind on failure.
pub(crate) fn served_port<I: UserIpc + ?Sized>(
    ipc: &I,
    portset: PortName,
) -> Result<PortName, Error> {
    let port = ReceiveRight::allocate(ipc)?;
    let name = port.name();
    ipc.port_move_member(name, portset)?;
    ipc.request_notification(
        name,
        NotifyKind::NoSenders,
        1,
        name,
        Disposition::MakeSendOnce,
    )?;
    Ok(port.into_raw())
}
