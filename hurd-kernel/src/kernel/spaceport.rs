//! The `mach_port` calls on a task's IPC space (GNU Mach's
//! `mach_port.defs`, defined in [`hurd_abi::mach_port`]): one method each,
//! served as RPCs on the task's port by [`crate::rpc`]. Every argument is
//! checked: an unknown right type, disposition or notification is
//! `KERN_INVALID_VALUE`; nothing changes when a call fails, and rights a
//! call was given but did not keep are released.
//!
//! The `port_call` trap ([`Kernel::port_call`]) makes the few calls servers
//! make for every port they hand out on the caller's own space, without
//! the cost of an RPC (see `hurd_abi::port_call`).

use alloc::vec::Vec;

use hurd_abi::ReceiveStatus;
use hurd_abi::port_call as call;
use hurd_ipc::notify::{NOTIFY_DEAD_NAME, NOTIFY_NO_SENDERS, NOTIFY_PORT_DESTROYED};
use hurd_ipc::{Disposition, Item, KernReturn, NotifyKind, PortItem, PortName, RightType, SpaceId};

use crate::task::Kernel;

/// The right type numbered `raw` (`MACH_PORT_RIGHT_*`).
fn right(raw: u32) -> Result<RightType, KernReturn> {
    RightType::try_from(raw).map_err(|_| KernReturn::InvalidValue)
}

/// The disposition numbered `raw` (`MACH_MSG_TYPE_*`).
fn disposition(raw: u32) -> Result<Disposition, KernReturn> {
    u8::try_from(raw)
        .ok()
        .and_then(|d| Disposition::try_from(d).ok())
        .ok_or(KernReturn::InvalidValue)
}

/// The notification with message id `id` (`MACH_NOTIFY_*`).
fn notification(id: i32) -> Result<NotifyKind, KernReturn> {
    match id {
        NOTIFY_PORT_DESTROYED => Ok(NotifyKind::PortDestroyed),
        NOTIFY_NO_SENDERS => Ok(NotifyKind::NoSenders),
        NOTIFY_DEAD_NAME => Ok(NotifyKind::DeadName),
        _ => Err(KernReturn::InvalidValue),
    }
}

impl Kernel {
    /// `mach_port_names`: every name of `space`, in name order, and the
    /// type bits of each.
    pub fn space_names(&mut self, space: SpaceId) -> Result<(Vec<u32>, Vec<u32>), KernReturn> {
        let names = self.ipc.port_names(space)?;
        Ok(names.into_iter().map(|(n, t)| (n.0, t.bits())).unzip())
    }

    /// `mach_port_type`.
    pub fn space_type(&mut self, space: SpaceId, name: PortName) -> Result<u32, KernReturn> {
        Ok(self.ipc.port_type(space, name)?.bits())
    }

    /// `mach_port_allocate_name`.
    pub fn space_allocate_name(
        &mut self,
        space: SpaceId,
        right_type: u32,
        name: PortName,
    ) -> Result<(), KernReturn> {
        let right = right(right_type)?;
        self.room_for_names(space, 1)?;
        self.ipc.port_allocate_name(space, right, name)
    }

    /// `mach_port_allocate`: a receive right, port set or dead name.
    pub fn space_allocate(&mut self, space: SpaceId, right_type: u32) -> Result<u32, KernReturn> {
        let right = match right(right_type)? {
            r @ (RightType::Receive | RightType::PortSet | RightType::DeadName) => r,
            RightType::Send | RightType::SendOnce => return Err(KernReturn::InvalidValue),
        };
        self.room_for_names(space, 1)?;
        Ok(self.ipc.port_allocate(space, right)?.0)
    }

    /// `mach_port_get_refs`.
    pub fn space_get_refs(
        &mut self,
        space: SpaceId,
        name: PortName,
        right_type: u32,
    ) -> Result<u32, KernReturn> {
        Ok(u32::from(self.ipc.port_get_refs(
            space,
            name,
            right(right_type)?,
        )?))
    }

    /// `mach_port_mod_refs`.
    pub fn space_mod_refs(
        &mut self,
        space: SpaceId,
        name: PortName,
        right_type: u32,
        delta: i32,
    ) -> Result<(), KernReturn> {
        self.ipc
            .port_mod_refs(space, name, right(right_type)?, delta)
    }

    /// `mach_port_set_qlimit`.
    pub fn space_set_qlimit(
        &mut self,
        space: SpaceId,
        name: PortName,
        qlimit: u32,
    ) -> Result<(), KernReturn> {
        let qlimit = u16::try_from(qlimit).map_err(|_| KernReturn::InvalidValue)?;
        self.ipc.port_set_qlimit(space, name, qlimit)
    }

    /// `mach_port_request_notification`: `notify` a send-once right (or a
    /// null name, to cancel) in the kernel's space, moved into `space` for
    /// the request; the previous request's right, moved out to the
    /// kernel's space for the reply (a null name when none). `notify` is
    /// released when the request is refused.
    pub fn space_request_notification(
        &mut self,
        space: SpaceId,
        name: PortName,
        (id, sync): (i32, u32),
        notify: PortItem,
    ) -> Result<PortItem, KernReturn> {
        let kp = self.kport.ok_or(KernReturn::Failure)?;
        let checked = notification(id).and_then(|kind| {
            if notify.name.is_valid() && notify.disposition != Disposition::PORT_SEND_ONCE {
                return Err(KernReturn::InvalidCapability);
            }
            Ok(kind)
        });
        let kind = match checked {
            Ok(kind) => kind,
            Err(code) => {
                self.release_rights([Item::Port(notify)]);
                return Err(code);
            }
        };
        let notify_here = if notify.name.is_valid() {
            // The right arrived in the kernel's space: it moves on.
            let moved = self.ipc.port_extract_right(
                kp.space,
                notify.name,
                Disposition::MoveSendOnce,
                space,
            );
            match moved {
                Ok((here, _)) => here,
                Err(code) => {
                    self.release_rights([Item::Port(notify)]);
                    return Err(code);
                }
            }
        } else {
            PortName::NULL
        };
        let previous = match self.ipc.request_notification(
            space,
            name,
            kind,
            sync,
            notify_here,
            Disposition::MoveSendOnce,
        ) {
            Ok(previous) => previous,
            Err(code) => {
                if notify_here.is_valid() {
                    let _ = self.ipc.port_deallocate(space, notify_here);
                }
                return Err(code);
            }
        };
        let previous = if previous.is_valid() {
            self.ipc
                .port_extract_right(space, previous, Disposition::MoveSendOnce, kp.space)
                .map(|(name, _)| name)
                .unwrap_or(PortName::NULL)
        } else {
            PortName::NULL
        };
        Ok(PortItem {
            name: previous,
            disposition: Disposition::MoveSendOnce,
        })
    }

    /// `mach_port_insert_right`: the right `poly` (the kernel's, as
    /// received) goes into `space` under `name`; released when refused.
    pub fn space_insert_right(
        &mut self,
        space: SpaceId,
        name: PortName,
        poly: PortItem,
    ) -> Result<(), KernReturn> {
        let Some(kp) = self.kport else {
            return Err(KernReturn::Failure);
        };
        if !poly.name.is_valid() {
            return Err(KernReturn::InvalidCapability);
        }
        let result = self.room_for_names(space, 1).and_then(|()| {
            self.ipc
                .port_insert_right(space, name, kp.space, poly.name, poly.disposition)
        });
        if result.is_err() {
            self.release_rights([Item::Port(poly)]);
        }
        result
    }

    /// `mach_port_extract_right`: the right taken out of `space` into the
    /// kernel's, to be moved to the caller by the reply.
    pub fn space_extract_right(
        &mut self,
        space: SpaceId,
        name: PortName,
        msgt_name: u32,
    ) -> Result<PortItem, KernReturn> {
        let kp = self.kport.ok_or(KernReturn::Failure)?;
        let how = disposition(msgt_name)?;
        let (here, carried) = self.ipc.port_extract_right(space, name, how, kp.space)?;
        Ok(PortItem {
            name: here,
            disposition: carried,
        })
    }

    /// `mach_port_get_receive_status`.
    pub fn space_receive_status(
        &mut self,
        space: SpaceId,
        name: PortName,
    ) -> Result<ReceiveStatus, KernReturn> {
        Ok(self.ipc.port_get_receive_status(space, name)?.into())
    }

    /// The `port_call` trap: the `mach_port` call numbered `id` (one of
    /// `hurd_abi::port_call`) on the caller's own space, its value in `rdx`.
    ///
    /// # Errors
    ///
    /// The call's code; `KERN_INVALID_VALUE` for any other id or an
    /// argument out of its range.
    pub fn port_call(
        &mut self,
        space: SpaceId,
        [id, name, a, b, c, d]: [u64; 6],
    ) -> Result<u64, KernReturn> {
        let small = |v: u64| u32::try_from(v).map_err(|_| KernReturn::InvalidValue);
        let name = PortName(small(name)?);
        match id {
            call::MOD_REFS => {
                let delta = i32::try_from(b as i64).map_err(|_| KernReturn::InvalidValue)?;
                self.space_mod_refs(space, name, small(a)?, delta)
                    .map(|()| 0)
            }
            call::MOVE_MEMBER => self
                .ipc
                .port_move_member(space, name, PortName(small(a)?))
                .map(|()| 0),
            call::REQUEST_NOTIFICATION => {
                let kind = i32::try_from(a)
                    .map_err(|_| KernReturn::InvalidValue)
                    .and_then(notification)?;
                let notify = PortName(small(c)?);
                let disp = if notify.is_null() {
                    Disposition::MakeSendOnce
                } else {
                    disposition(small(d)?)?
                };
                let previous =
                    self.ipc
                        .request_notification(space, name, kind, small(b)?, notify, disp)?;
                Ok(u64::from(previous.0))
            }
            call::INSERT_RIGHT => {
                let how = disposition(small(b)?)?;
                self.room_for_names(space, 1)?;
                self.ipc
                    .port_insert_right(space, name, space, PortName(small(a)?), how)
                    .map(|()| 0)
            }
            _ => Err(KernReturn::InvalidValue),
        }
    }
}
