//! Ports a server hands out, as libports' `ports_create_port` makes them.

use hurd_ipc::{Disposition, Error, NotifyKind, PortName, RightType, UserIpc};

/// A new receive right in `portset`, with a no-senders notification
/// requested to itself (sync 1: it fires once the first send right made
/// from it and every copy are gone). Nothing is left behind on failure.
pub(crate) fn served_port<I: UserIpc + ?Sized>(
    ipc: &I,
    portset: PortName,
) -> Result<PortName, Error> {
    let port = ipc.port_allocate(RightType::Receive)?;
    let ready = ipc.port_move_member(port, portset).and_then(|()| {
        ipc.request_notification(
            port,
            NotifyKind::NoSenders,
            1,
            port,
            Disposition::MakeSendOnce,
        )
    });
    match ready {
        Ok(_) => Ok(port),
        Err(e) => {
            let _ = ipc.port_mod_refs(port, RightType::Receive, -1);
            Err(e.into())
        }
    }
}
