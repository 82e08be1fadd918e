//! `mach_port_request_notification`.

use alloc::vec;

use super::IpcKernel;
use crate::kmsg::{Carried, KItem, PortRef};
use crate::notify::{NOTIFY_DEAD_NAME, NOTIFY_NO_SENDERS, NotifyKind};
use crate::port::DeadNameRequest;
use crate::space::SpaceId;
use crate::{Disposition, KernReturn, PortName, PortType};

impl IpcKernel {
    /// `mach_port_request_notification`: registers the send-once right made or
    /// moved from `notify` (with `notify_disp`, `MakeSendOnce` or `MoveSendOnce`)
    /// to receive `kind` about `name`, and returns the previously registered right,
    /// now named in `space` ([`PortName::NULL`] if none). A NULL `notify` cancels.
    ///
    /// - `NoSenders` (receive right): fires at once if no send rights exist and the
    ///   make-send count is at least `sync`, else when the last send right dies.
    /// - `PortDestroyed` (receive right, `sync` must be 0): the receive right is
    ///   handed back instead of being destroyed.
    /// - `DeadName` (send, send-once or receive): fires when the port dies. On a
    ///   name that is already dead it fires at once if `sync` is non-zero and is
    ///   `KERN_INVALID_ARGUMENT` otherwise.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (a right the notification does
    /// not apply to, or a bad `notify` right), `KERN_INVALID_VALUE` (a non-zero
    /// `sync` for port-destroyed), `KERN_INVALID_ARGUMENT` (see above),
    /// `KERN_INVALID_TASK`.
    pub fn request_notification(
        &mut self,
        space: SpaceId,
        name: PortName,
        kind: NotifyKind,
        sync: u32,
        notify: PortName,
        notify_disp: Disposition,
    ) -> Result<PortName, KernReturn> {
        let entry = self.lookup(space, name)?;
        if !notify.is_null()
            && !matches!(
                notify_disp,
                Disposition::MakeSendOnce | Disposition::MoveSendOnce
            )
        {
            return Err(KernReturn::InvalidCapability);
        }
        let rights = entry.rights();
        let port = entry.port();
        match kind {
            NotifyKind::PortDestroyed | NotifyKind::NoSenders => {
                if !rights.contains(PortType::RECEIVE) {
                    return Err(KernReturn::InvalidRight);
                }
                if kind == NotifyKind::PortDestroyed && sync != 0 {
                    return Err(KernReturn::InvalidValue);
                }
            }
            NotifyKind::DeadName => {
                if rights.contains(PortType::DEAD_NAME) {
                    if sync == 0 {
                        return Err(KernReturn::InvalidArgument);
                    }
                } else if !rights.intersects(PortType::PORT_RIGHTS) {
                    return Err(KernReturn::InvalidRight);
                }
            }
        }
        let new = self.take_notify(space, notify, notify_disp)?;
        let previous = match (kind, port) {
            (NotifyKind::DeadName, None) => {
                // Already a dead name: fire at once (+1 reference, as on death).
                if let Some(so) = new {
                    if let Some(e) = self.space_mut(space)?.get_mut(name) {
                        e.urefs = e.urefs.saturating_add(1);
                    }
                    self.notify(so, NOTIFY_DEAD_NAME, vec![KItem::U32(name.0)]);
                }
                None
            }
            (NotifyKind::DeadName, Some(p)) => {
                let previous = self.cancel_dnrequest(p, space, name, false);
                if let Some(so) = new
                    && let Some(port) = self.ports.get_mut(p)
                {
                    port.dnrequests.push(DeadNameRequest {
                        space,
                        name,
                        notify: so,
                    });
                }
                if let Some(e) = self.space_mut(space)?.get_mut(name) {
                    e.bits.set(PortType::DNREQUEST, new.is_some());
                }
                previous
            }
            (NotifyKind::PortDestroyed, Some(p)) => self
                .ports
                .get_mut(p)
                .and_then(|port| core::mem::replace(&mut port.pdrequest, new)),
            (NotifyKind::NoSenders, Some(p)) => {
                let Some(port) = self.ports.get_mut(p) else {
                    return Err(KernReturn::InvalidName);
                };
                let previous = port.nsrequest.take();
                match new {
                    Some(so) if port.srights == 0 && sync <= port.mscount => {
                        let mscount = port.mscount;
                        self.notify(so, NOTIFY_NO_SENDERS, vec![KItem::U32(mscount)]);
                    }
                    _ => port.nsrequest = new,
                }
                previous
            }
            (_, None) => None,
        };
        let out = match previous {
            Some(so) => self.copyout_right(space, Carried::SendOnce(so)),
            None => PortName::NULL,
        };
        self.settle();
        Ok(out)
    }

    fn take_notify(
        &mut self,
        space: SpaceId,
        notify: PortName,
        disp: Disposition,
    ) -> Result<Option<PortRef>, KernReturn> {
        if notify.is_null() {
            return Ok(None);
        }
        match self.take_checked(space, notify, disp)? {
            Carried::SendOnce(p) => Ok(Some(p)),
            other => {
                self.destroy_carried(other);
                Err(KernReturn::InvalidCapability)
            }
        }
    }
}
