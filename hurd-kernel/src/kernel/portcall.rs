//! `port_call`: the `mach_port_*` calls of GNU Mach's `mach_port.defs` on
//! the caller's own IPC space, as one system call whose first argument is
//! the routine's id (see [`hurd_abi::port_call`]). Every argument is
//! checked: an unknown call, right type, disposition or notification is
//! `KERN_INVALID_VALUE`, a bad buffer `KERN_INVALID_ADDRESS`; nothing
//! changes when a call fails.

use alloc::vec::Vec;

use hurd_abi::port_call as call;
use hurd_ipc::notify::{NOTIFY_DEAD_NAME, NOTIFY_NO_SENDERS, NOTIFY_PORT_DESTROYED};
use hurd_ipc::{Disposition, KernReturn, NotifyKind, PortName, RightType, SpaceId};
use hurd_vm::MapId;

use crate::task::Kernel;
use crate::uaccess::{self, UserFault};

/// Why a call failed.
pub enum Failed {
    /// With this code.
    Code(KernReturn),
    /// A page of the caller's buffer must come from a pager (nothing was
    /// done: the call is made again).
    Pager(hurd_vm::Ticket),
}

impl From<KernReturn> for Failed {
    fn from(code: KernReturn) -> Failed {
        Failed::Code(code)
    }
}

fn right(raw: u64) -> Result<RightType, Failed> {
    u32::try_from(raw)
        .ok()
        .and_then(|r| RightType::try_from(r).ok())
        .ok_or(Failed::Code(KernReturn::InvalidValue))
}

fn u32_arg(raw: u64) -> Result<u32, Failed> {
    u32::try_from(raw).map_err(|_| Failed::Code(KernReturn::InvalidValue))
}

fn disposition(raw: u64) -> Result<Disposition, Failed> {
    u8::try_from(raw)
        .ok()
        .and_then(|d| Disposition::try_from(d).ok())
        .ok_or(Failed::Code(KernReturn::InvalidValue))
}

fn copy_out(k: &mut Kernel, map: MapId, addr: u64, bytes: &[u8]) -> Result<(), Failed> {
    uaccess::copy_out(&mut k.vm, map, addr, bytes).map_err(|fault| match fault {
        UserFault::Bad => Failed::Code(KernReturn::InvalidAddress),
        UserFault::Pager(ticket) => Failed::Pager(ticket),
    })
}

/// Carries out `port_call(id, name, args…)` for the space `space` (whose
/// task's map is `map`); the value it returns goes to `rdx`.
pub fn port_call(
    k: &mut Kernel,
    map: MapId,
    space: SpaceId,
    [id, name, a, b, c, d]: [u64; 6],
) -> Result<u64, Failed> {
    let name = PortName(u32_arg(name)?);
    let ipc = &mut k.ipc;
    match id {
        call::NAMES => {
            // `a`: a buffer of `b` (name, type) pairs of two u32s.
            let mut names = ipc.port_names(space)?;
            names.sort_by_key(|(n, _)| *n);
            let count = names.len() as u64;
            if count > b {
                // Too small: nothing written; the count tells how many.
                return Ok(count);
            }
            let mut bytes = Vec::with_capacity(names.len() * 8);
            for (n, t) in names {
                bytes.extend_from_slice(&n.0.to_le_bytes());
                bytes.extend_from_slice(&t.bits().to_le_bytes());
            }
            copy_out(k, map, a, &bytes)?;
            Ok(count)
        }
        call::TYPE => Ok(u64::from(ipc.port_type(space, name)?.bits())),
        call::ALLOCATE_NAME => {
            ipc.port_allocate_name(space, right(a)?, name)?;
            Ok(0)
        }
        call::GET_REFS => Ok(u64::from(ipc.port_get_refs(space, name, right(a)?)?)),
        call::MOD_REFS => {
            let delta = i32::try_from(b as i64).map_err(|_| KernReturn::InvalidValue)?;
            ipc.port_mod_refs(space, name, right(a)?, delta)?;
            Ok(0)
        }
        call::SET_QLIMIT => {
            let qlimit = u16::try_from(a).map_err(|_| KernReturn::InvalidValue)?;
            ipc.port_set_qlimit(space, name, qlimit)?;
            Ok(0)
        }
        call::SET_MSCOUNT => {
            ipc.port_set_mscount(space, name, u32_arg(a)?)?;
            Ok(0)
        }
        call::SET_SEQNO => {
            ipc.port_set_seqno(space, name, u32_arg(a)?)?;
            Ok(0)
        }
        call::MOVE_MEMBER => {
            ipc.port_move_member(space, name, PortName(u32_arg(a)?))?;
            Ok(0)
        }
        call::REQUEST_NOTIFICATION => {
            let kind = match i32::try_from(a).ok() {
                Some(NOTIFY_PORT_DESTROYED) => NotifyKind::PortDestroyed,
                Some(NOTIFY_NO_SENDERS) => NotifyKind::NoSenders,
                Some(NOTIFY_DEAD_NAME) => NotifyKind::DeadName,
                _ => return Err(Failed::Code(KernReturn::InvalidValue)),
            };
            let notify = PortName(u32_arg(c)?);
            let disp = if notify.is_null() {
                Disposition::MakeSendOnce
            } else {
                disposition(d)?
            };
            let previous =
                ipc.request_notification(space, name, kind, u32_arg(b)?, notify, disp)?;
            Ok(u64::from(previous.0))
        }
        call::INSERT_RIGHT => {
            ipc.port_insert_right(space, name, space, PortName(u32_arg(a)?), disposition(b)?)?;
            Ok(0)
        }
        call::GET_RECEIVE_STATUS => {
            let s = ipc.port_get_receive_status(space, name)?;
            let mut bytes = Vec::with_capacity(call::STATUS_SIZE);
            for word in [
                s.pset.0,
                s.seqno,
                s.mscount,
                u32::from(s.qlimit),
                s.msgcount,
                s.sorights,
                u32::from(s.srights),
                u32::from(s.pdrequest),
                u32::from(s.nsrequest),
                0,
            ] {
                bytes.extend_from_slice(&word.to_le_bytes());
            }
            bytes.extend_from_slice(&s.id.0.to_le_bytes());
            copy_out(k, map, a, &bytes)?;
            Ok(0)
        }
        call::PORT_ID => Ok(ipc.port_id(space, name)?.0),
        _ => Err(Failed::Code(KernReturn::InvalidValue)),
    }
}
