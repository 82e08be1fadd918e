//! Copying a message in: names in the sender's space become carried rights.
//!
//! Copyin is all-or-nothing. Every right the message names is first checked
//! against a simulation of the sender's entries (so a name used twice is judged
//! by its state after the first use); only when the whole message is valid are
//! the rights taken. A rejected message therefore leaves the sender exactly as it
//! was, and is handed back intact.

use alloc::vec::Vec;
use arrayvec::ArrayVec;
use hashbrown::HashMap;

use super::IpcKernel;
use crate::kmsg::{Carried, KItem, KMessage, PortRef};
use crate::port::Receiver;
use crate::space::{Entry, SpaceId};
use crate::{Disposition, Item, KernReturn, Message, MsgReturn, PortName, PortType};

/// Which part of the message names the right: selects Mach's error code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    Dest,
    Reply,
    Body,
}

impl Role {
    fn invalid(self) -> MsgReturn {
        match self {
            Role::Dest => MsgReturn::SendInvalidDest,
            Role::Reply => MsgReturn::SendInvalidReply,
            Role::Body => MsgReturn::SendInvalidRight,
        }
    }
}

/// What a transfer takes from an entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Take {
    Dead,
    /// A new send right split off (copy-send, or move-send leaving references).
    NewSend(PortRef),
    /// The entry's last send reference moves out.
    MovedSend(PortRef),
    MakeSend(PortRef),
    MakeSendOnce(PortRef),
    MovedSendOnce(PortRef),
    MovedReceive(PortRef),
}

/// The entry after taking `disp` from it (`None`: the name is freed), or `Err` if
/// the entry does not hold a right that allows it (Mach's `ipc_right_copyin`).
fn transition(entry: Entry, disp: Disposition) -> Result<(Option<Entry>, Take), ()> {
    let rights = entry.rights();
    let port = entry.port();
    let dead = rights.contains(PortType::DEAD_NAME);
    let without = |e: Entry, bit: PortType| {
        let mut e = e;
        e.bits.remove(bit);
        if e.rights().is_empty() { None } else { Some(e) }
    };
    match (disp, port) {
        (Disposition::MoveReceive, Some(p)) if rights.contains(PortType::RECEIVE) => {
            Ok((without(entry, PortType::RECEIVE), Take::MovedReceive(p)))
        }
        (Disposition::MakeSend, Some(p)) if rights.contains(PortType::RECEIVE) => {
            Ok((Some(entry), Take::MakeSend(p)))
        }
        (Disposition::MakeSendOnce, Some(p)) if rights.contains(PortType::RECEIVE) => {
            Ok((Some(entry), Take::MakeSendOnce(p)))
        }
        (Disposition::CopySend, Some(p)) if rights.contains(PortType::SEND) => {
            Ok((Some(entry), Take::NewSend(p)))
        }
        (Disposition::MoveSend, Some(p)) if rights.contains(PortType::SEND) => {
            if entry.urefs > 1 {
                let mut e = entry;
                e.urefs -= 1;
                Ok((Some(e), Take::NewSend(p)))
            } else {
                let mut e = entry;
                e.urefs = 0;
                Ok((without(e, PortType::SEND), Take::MovedSend(p)))
            }
        }
        (Disposition::MoveSendOnce, Some(p)) if rights.contains(PortType::SEND_ONCE) => {
            Ok((None, Take::MovedSendOnce(p)))
        }
        (Disposition::CopySend, None) if dead => Ok((Some(entry), Take::Dead)),
        (Disposition::MoveSend | Disposition::MoveSendOnce, None) if dead => {
            if entry.urefs > 1 {
                let mut e = entry;
                e.urefs -= 1;
                Ok((Some(e), Take::Dead))
            } else {
                Ok((None, Take::Dead))
            }
        }
        _ => Err(()),
    }
}

/// The simulated state of the names a message uses.
enum Sim {
    Small(ArrayVec<(PortName, Option<Entry>), 8>),
    Large(HashMap<PortName, Option<Entry>>),
}

impl Sim {
    fn get(&self, name: PortName) -> Option<Option<Entry>> {
        match self {
            Sim::Small(v) => v.iter().find(|(n, _)| *n == name).map(|(_, e)| *e),
            Sim::Large(m) => m.get(&name).copied(),
        }
    }

    fn set(&mut self, name: PortName, e: Option<Entry>) {
        match self {
            Sim::Small(v) => {
                if let Some(slot) = v.iter_mut().find(|(n, _)| *n == name) {
                    slot.1 = e;
                } else if v.try_push((name, e)).is_err() {
                    let mut m: HashMap<PortName, Option<Entry>> = v.drain(..).collect();
                    m.insert(name, e);
                    *self = Sim::Large(m);
                }
            }
            Sim::Large(m) => {
                m.insert(name, e);
            }
        }
    }
}

/// The rights a message names, in copyin order.
fn rights_of(msg: &Message) -> impl Iterator<Item = (PortName, Option<Disposition>, Role)> + '_ {
    let header = [
        (msg.header.remote, msg.header.bits.remote(), Role::Dest),
        (msg.header.local, msg.header.bits.local(), Role::Reply),
    ];
    header.into_iter().chain(msg.body.iter().flat_map(|i| {
        let (names, disposition) = match i {
            Item::Port(p) => (core::slice::from_ref(&p.name), Some(p.disposition)),
            Item::Ports(a) => (a.names.as_slice(), Some(a.disposition)),
            _ => (&[][..], None),
        };
        names.iter().map(move |&n| (n, disposition, Role::Body))
    }))
}

impl IpcKernel {
    /// Checks the header fields that need no space lookup.
    fn check_header(msg: &Message) -> Result<(), MsgReturn> {
        let bits = msg.header.bits;
        if bits.has_unknown_bits() {
            return Err(MsgReturn::SendInvalidHeader);
        }
        match bits.remote() {
            None | Some(Disposition::MoveReceive) => return Err(MsgReturn::SendInvalidHeader),
            Some(_) => {}
        }
        match (bits.local_raw(), bits.local()) {
            (0, _) if msg.header.local.is_null() => {}
            (0, _) | (_, None) | (_, Some(Disposition::MoveReceive)) => {
                return Err(MsgReturn::SendInvalidHeader);
            }
            _ => {}
        }
        if !msg.header.remote.is_valid() {
            return Err(MsgReturn::SendInvalidDest);
        }
        Ok(())
    }

    /// Validates every right `msg` names against `space` without changing
    /// anything visible, and returns the destination port.
    pub(crate) fn check_copyin(
        &mut self,
        space: SpaceId,
        msg: &Message,
    ) -> Result<PortRef, MsgReturn> {
        Self::check_header(msg)?;
        let mut sim = Sim::Small(ArrayVec::new());
        let mut dest = None;
        for (name, disp, role) in rights_of(msg) {
            let Some(disp) = disp else { continue };
            if !name.is_valid() {
                continue; // NULL and DEAD travel as themselves (dest was checked above).
            }
            let entry = match sim.get(name) {
                Some(e) => e,
                None => match self.lookup(space, name) {
                    Ok(e) => Some(e),
                    Err(KernReturn::InvalidTask) => return Err(MsgReturn::SendInvalidDest),
                    Err(_) => None,
                },
            };
            let entry = entry.ok_or(role.invalid())?;
            let (next, take) = transition(entry, disp).map_err(|()| role.invalid())?;
            if role == Role::Dest {
                dest = Some(match take {
                    Take::Dead => return Err(MsgReturn::SendInvalidDest),
                    Take::NewSend(p)
                    | Take::MovedSend(p)
                    | Take::MakeSend(p)
                    | Take::MakeSendOnce(p)
                    | Take::MovedSendOnce(p)
                    | Take::MovedReceive(p) => p,
                });
            }
            sim.set(name, next);
        }
        dest.ok_or(MsgReturn::SendInvalidDest)
    }

    /// Takes one right out of `space` (already validated by [`check_copyin`]).
    pub(crate) fn take_right(
        &mut self,
        space: SpaceId,
        name: PortName,
        disp: Disposition,
    ) -> Carried {
        if name.is_null() {
            return Carried::Null;
        }
        if name.is_dead() {
            return Carried::Dead;
        }
        let Ok(entry) = self.lookup(space, name) else {
            return Carried::Dead; // Unreachable after a successful check.
        };
        let Ok((next, take)) = transition(entry, disp) else {
            return Carried::Dead; // Unreachable after a successful check.
        };
        let freed = next.is_none();
        if let Ok(s) = self.space_mut(space) {
            match next {
                Some(e) => {
                    s.entries.insert(name, e);
                }
                None => {
                    s.entries.remove(&name);
                }
            }
            let keeps_send_or_receive =
                next.is_some_and(|e| e.rights().intersects(PortType::SEND_RECEIVE));
            if let Some(p) = entry.port()
                && !keeps_send_or_receive
                && entry.rights().intersects(PortType::SEND_RECEIVE)
            {
                s.by_port.remove(&p);
            }
        }
        if freed
            && entry.bits.contains(PortType::DNREQUEST)
            && let Some(p) = entry.port()
        {
            self.cancel_dnrequest(p, space, name, true);
        }
        match take {
            Take::Dead => Carried::Dead,
            Take::NewSend(p) => {
                if let Some(port) = self.ports.get_mut(p) {
                    port.srights += 1;
                }
                Carried::Send(p)
            }
            Take::MovedSend(p) => Carried::Send(p),
            Take::MakeSend(p) => {
                if let Some(port) = self.ports.get_mut(p) {
                    port.srights += 1;
                    port.mscount = port.mscount.wrapping_add(1);
                }
                Carried::Send(p)
            }
            Take::MakeSendOnce(p) => {
                if let Some(port) = self.ports.get_mut(p) {
                    port.sorights += 1;
                }
                Carried::SendOnce(p)
            }
            Take::MovedSendOnce(p) => Carried::SendOnce(p),
            Take::MovedReceive(p) => {
                let (pset, waiters) = match self.ports.get_mut(p) {
                    Some(port) => {
                        port.receiver = Receiver::InTransit;
                        port.mscount = 0;
                        port.seqno = 0;
                        (port.pset.take(), core::mem::take(&mut port.recv_waiters))
                    }
                    None => (None, Default::default()),
                };
                // Threads receiving on it in the old space must stop waiting.
                self.wake_all(waiters);
                if let Some(s) = pset.and_then(|s| self.psets.get_mut(s)) {
                    s.remove(p);
                }
                Carried::Receive(p)
            }
        }
    }

    /// Copies a checked message in: takes its rights from `space` and builds the
    /// in-transit form. Must follow a successful [`check_copyin`] with no change to
    /// `space` in between.
    pub(crate) fn copyin(&mut self, space: SpaceId, msg: Message) -> KMessage {
        let Message { header, body } = msg;
        let dest_disp = header.bits.remote().unwrap_or(Disposition::CopySend);
        let dest = self.take_right(space, header.remote, dest_disp);
        let reply_disposition = header.bits.local();
        let reply = match reply_disposition {
            Some(d) => self.take_right(space, header.local, d),
            None => Carried::Null,
        };
        let mut kbody = Vec::with_capacity(body.len());
        for item in body {
            kbody.push(match item {
                Item::Port(p) => KItem::Port {
                    right: self.take_right(space, p.name, p.disposition),
                    disposition: p.disposition,
                },
                Item::Ports(a) => KItem::Ports {
                    rights: a
                        .names
                        .into_iter()
                        .map(|n| self.take_right(space, n, a.disposition))
                        .collect(),
                    disposition: a.disposition,
                },
                other => KItem::from_plain(other),
            });
        }
        KMessage {
            dest,
            reply,
            reply_disposition,
            id: header.id,
            body: kbody,
        }
    }

    /// Whether queueing `k` on `dest` would make a receive right unreachable:
    /// the message carries the receive right of `dest` itself, or of a port whose
    /// in-transit chain leads to `dest` (GNU Mach's `ipc_port_check_circularity`).
    /// Mach accepts such a message and destroys it at once.
    pub(crate) fn is_circular(&self, k: &KMessage, dest: PortRef) -> bool {
        k.carried_receive_rights().any(|r| {
            let mut x = dest;
            // The chain is at most as long as there are ports.
            for _ in 0..=self.ports.len() {
                if x == r {
                    return true;
                }
                let Some(port) = self.ports.get(x) else {
                    return false;
                };
                match (port.receiver, port.transit_dest) {
                    (Receiver::InTransit, Some(next)) => x = next,
                    _ => return false,
                }
            }
            false
        })
    }
}
