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

/// A header right judged by [`IpcKernel::check_copyin`]: the entry as it will
/// be found when the right is taken, what it becomes, and what is taken. The
/// header's rights are taken first, so the judgement still holds at copyin and
/// the name need not be looked up again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Planned {
    entry: Entry,
    next: Option<Entry>,
    take: Take,
}

/// A message found valid by [`IpcKernel::check_copyin`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked {
    /// The destination port.
    pub(crate) dest: PortRef,
    /// The destination and reply rights, as judged (`None`: nothing to take,
    /// or a null or dead name, which travels as itself).
    header: [Option<Planned>; 2],
}

/// The entry after taking `disp` from it (`None`: the name is freed), or `Err` if
/// the entry does not hold a right that allows it (Mach's `ipc_right_copyin`).
#[inline(always)]
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

/// The rights a message's body names, in copyin order.
fn body_rights(msg: &Message) -> impl Iterator<Item = (PortName, Disposition)> + '_ {
    msg.body.iter().flat_map(|i| {
        let (names, disposition) = match i {
            Item::Port(p) => (core::slice::from_ref(&p.name), Some(p.disposition)),
            Item::Ports(a) => (a.names.as_slice(), Some(a.disposition)),
            _ => (&[][..], None),
        };
        names
            .iter()
            .filter_map(move |&n| disposition.map(|d| (n, d)))
    })
}

impl IpcKernel {
    /// Checks the header fields that need no space lookup.
    #[inline]
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

    /// Judges taking `disp` from `name`, whose entry is `entry` (`None`: the
    /// name holds nothing).
    #[inline(always)]
    fn judge(entry: Option<Entry>, disp: Disposition, role: Role) -> Result<Planned, MsgReturn> {
        let entry = entry.ok_or(role.invalid())?;
        let (next, take) = transition(entry, disp).map_err(|()| role.invalid())?;
        Ok(Planned { entry, next, take })
    }

    /// The entry of `name` in `space` for copyin (`None`: no such name).
    #[inline(always)]
    fn copyin_entry(&mut self, space: SpaceId, name: PortName) -> Result<Option<Entry>, MsgReturn> {
        match self.lookup(space, name) {
            Ok(e) => Ok(Some(e)),
            Err(KernReturn::InvalidTask) => Err(MsgReturn::SendInvalidDest),
            Err(_) => Ok(None),
        }
    }

    /// Validates every right `msg` names against `space` without changing
    /// anything visible, and returns the destination port with the judgement of
    /// the header's rights.
    #[inline(always)]
    pub(crate) fn check_copyin(
        &mut self,
        space: SpaceId,
        msg: &Message,
    ) -> Result<Checked, MsgReturn> {
        Self::check_header(msg)?;
        let h = &msg.header;
        // The destination: checked valid by `check_header`.
        let dest_disp = h.bits.remote().ok_or(MsgReturn::SendInvalidHeader)?;
        let dest_entry = self.copyin_entry(space, h.remote)?;
        let dest_plan = Self::judge(dest_entry, dest_disp, Role::Dest)?;
        let dest = match dest_plan.take {
            Take::Dead => return Err(MsgReturn::SendInvalidDest),
            Take::NewSend(p)
            | Take::MovedSend(p)
            | Take::MakeSend(p)
            | Take::MakeSendOnce(p)
            | Take::MovedSendOnce(p)
            | Take::MovedReceive(p) => p,
        };
        // The reply right, judged after the destination's is taken.
        let reply_plan = match h.bits.local() {
            Some(disp) if h.local.is_valid() => {
                let entry = if h.local == h.remote {
                    dest_plan.next
                } else {
                    self.copyin_entry(space, h.local)?
                };
                Some(Self::judge(entry, disp, Role::Reply)?)
            }
            // NULL and DEAD travel as themselves.
            _ => None,
        };
        let has_body_rights = msg
            .body
            .iter()
            .any(|i| matches!(i, Item::Port(_) | Item::Ports(_)));
        if has_body_rights {
            // Body rights are judged against the entries as the header's
            // transfers (and earlier body items) leave them.
            let mut sim = Sim::Small(ArrayVec::new());
            sim.set(h.remote, dest_plan.next);
            if let Some(plan) = reply_plan {
                sim.set(h.local, plan.next);
            }
            for (name, disp) in body_rights(msg) {
                if !name.is_valid() {
                    continue; // NULL and DEAD travel as themselves.
                }
                let entry = match sim.get(name) {
                    Some(e) => e,
                    None => self.copyin_entry(space, name)?,
                };
                let plan = Self::judge(entry, disp, Role::Body)?;
                sim.set(name, plan.next);
            }
        }
        Ok(Checked {
            dest,
            header: [Some(dest_plan), reply_plan],
        })
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
        self.apply(space, name, Planned { entry, next, take })
    }

    /// Carries out a judged transfer: updates the entry and the port's counts.
    #[inline(always)]
    fn apply(&mut self, space: SpaceId, name: PortName, plan: Planned) -> Carried {
        let Planned { entry, next, take } = plan;
        let freed = next.is_none();
        // Copy-send and the make dispositions leave the entry as it was.
        let changed = next != Some(entry);
        if changed && let Ok(s) = self.space_mut(space) {
            match next {
                Some(e) => {
                    s.entries.insert(name, e);
                }
                None => {
                    s.entries.remove(name);
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
    /// in-transit form. Must follow the [`check_copyin`](Self::check_copyin) that
    /// returned `checked`, with no change to `space` in between.
    #[inline(always)]
    pub(crate) fn copyin(&mut self, space: SpaceId, msg: Message, checked: Checked) -> KMessage {
        let Message { header, body } = msg;
        let [dest_plan, reply_plan] = checked.header;
        let dest = match dest_plan {
            Some(plan) => self.apply(space, header.remote, plan),
            None => self.take_right(
                space,
                header.remote,
                header.bits.remote().unwrap_or(Disposition::CopySend),
            ),
        };
        let reply_disposition = header.bits.local();
        let reply = match (reply_plan, reply_disposition) {
            (Some(plan), Some(_)) => self.apply(space, header.local, plan),
            (None, Some(d)) => self.take_right(space, header.local, d),
            (_, None) => Carried::Null,
        };
        let kbody = if body.is_empty() {
            Vec::new()
        } else {
            self.copyin_body(space, body)
        };
        KMessage {
            dest,
            reply,
            reply_disposition,
            id: header.id,
            body: kbody,
        }
    }

    /// Copies a checked non-empty body in (see [`copyin`](Self::copyin)).
    fn copyin_body(&mut self, space: SpaceId, body: Vec<Item>) -> Vec<KItem> {
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
        kbody
    }

    /// Whether queueing `k` on `dest` would make a receive right unreachable:
    /// the message carries the receive right of `dest` itself, or of a port whose
    /// in-transit chain leads to `dest` (GNU Mach's `ipc_port_check_circularity`).
    /// Mach accepts such a message and destroys it at once.
    pub(crate) fn is_circular(&self, k: &KMessage, dest: PortRef) -> bool {
        k.carries_receive_rights()
            && k.carried_receive_rights().any(|r| {
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
