//! The `mach_port_*` calls: allocating, counting, moving and destroying rights.

use alloc::vec::Vec;

use super::IpcKernel;
use crate::kmsg::{Carried, PortRef};
use crate::port::{Port, PortStatus, QLIMIT_MAX, Receiver};
use crate::port_set::PortSet;
use crate::right::add_urefs;
use crate::space::{Entry, Object, SpaceId};
use crate::{Disposition, KernReturn, PortId, PortName, PortType, RightType};

impl IpcKernel {
    /// `mach_port_allocate`: a new receive right (a new port), port set or dead name
    /// under a fresh name.
    ///
    /// # Errors
    ///
    /// `KERN_NO_SPACE` (no free name), `KERN_INVALID_VALUE` (a right type that
    /// cannot be allocated), `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_allocate(
        &mut self,
        space: SpaceId,
        right: RightType,
    ) -> Result<PortName, KernReturn> {
        self.space(space)?;
        let name = self.space_mut(space)?.alloc_name();
        self.place_new(space, name, right)?;
        Ok(name)
    }

    /// `mach_port_allocate_name`: like [`port_allocate`](Self::port_allocate) under
    /// a name the caller chooses.
    ///
    /// # Errors
    ///
    /// `KERN_NAME_EXISTS`, `KERN_INVALID_VALUE` (NULL or DEAD, or a right type
    /// that cannot be allocated), `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_allocate_name(
        &mut self,
        space: SpaceId,
        right: RightType,
        name: PortName,
    ) -> Result<(), KernReturn> {
        if !name.is_valid() {
            return Err(KernReturn::InvalidValue);
        }
        if self.space(space)?.get(name).is_some() {
            return Err(KernReturn::NameExists);
        }
        self.place_new(space, name, right)
    }

    fn place_new(
        &mut self,
        space: SpaceId,
        name: PortName,
        right: RightType,
    ) -> Result<(), KernReturn> {
        let entry = match right {
            RightType::Receive => {
                let id = self.new_port_id();
                let p = self
                    .ports
                    .insert(Port::new(id, Receiver::Space(space, name)))
                    .ok_or(KernReturn::ResourceShortage)?;
                self.space_mut(space)?.by_port.insert(p, name);
                Entry {
                    object: Object::Port(p),
                    bits: PortType::RECEIVE,
                    urefs: 0,
                }
            }
            RightType::PortSet => Entry {
                object: Object::PortSet(
                    self.psets
                        .insert(PortSet::new())
                        .ok_or(KernReturn::ResourceShortage)?,
                ),
                bits: PortType::PORT_SET,
                urefs: 0,
            },
            RightType::DeadName => Entry {
                object: Object::None,
                bits: PortType::DEAD_NAME,
                urefs: 1,
            },
            RightType::Send | RightType::SendOnce => return Err(KernReturn::InvalidValue),
        };
        self.space_mut(space)?.entries.insert(name, entry);
        Ok(())
    }

    /// `mach_reply_port`: a fresh receive right for replies.
    ///
    /// # Errors
    ///
    /// As [`port_allocate`](Self::port_allocate).
    pub fn reply_port(&mut self, space: SpaceId) -> Result<PortName, KernReturn> {
        self.port_allocate(space, RightType::Receive)
    }

    /// `mach_port_type`: which rights `name` denotes.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_type(&mut self, space: SpaceId, name: PortName) -> Result<PortType, KernReturn> {
        Ok(self.lookup(space, name)?.bits)
    }

    /// `mach_port_names`: every name in the space with its type.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_names(&mut self, space: SpaceId) -> Result<Vec<(PortName, PortType)>, KernReturn> {
        let names: Vec<PortName> = self.space(space)?.entries.iter().map(|(n, _)| n).collect();
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            out.push((n, self.lookup(space, n)?.bits));
        }
        out.sort_by_key(|(n, _)| *n);
        Ok(out)
    }

    /// The global identity of the port behind `name` (send, send-once or receive).
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (a dead name or port set),
    /// `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_id(&mut self, space: SpaceId, name: PortName) -> Result<PortId, KernReturn> {
        let entry = self.lookup(space, name)?;
        let p = entry.port().ok_or(KernReturn::InvalidRight)?;
        self.ports
            .get(p)
            .map(|port| port.id)
            .ok_or(KernReturn::InvalidName)
    }

    /// `mach_port_get_refs`: the user references `name` holds for `right`
    /// (0 when it holds no such right; 1 for receive, send-once and port sets).
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_get_refs(
        &mut self,
        space: SpaceId,
        name: PortName,
        right: RightType,
    ) -> Result<u16, KernReturn> {
        let entry = self.lookup(space, name)?;
        let held = entry.rights().contains(right.type_bit());
        Ok(match (right, held) {
            (_, false) => 0,
            (RightType::Send | RightType::DeadName, true) => entry.urefs,
            (_, true) => 1,
        })
    }

    /// `mach_port_deallocate`: releases one user reference of a send, send-once or
    /// dead-name right.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (not a send, send-once or
    /// dead-name right), `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_deallocate(&mut self, space: SpaceId, name: PortName) -> Result<(), KernReturn> {
        let entry = self.lookup(space, name)?;
        let rights = entry.rights();
        let right = if rights.contains(PortType::SEND_ONCE) {
            RightType::SendOnce
        } else if rights.contains(PortType::SEND) {
            RightType::Send
        } else if rights.contains(PortType::DEAD_NAME) {
            RightType::DeadName
        } else {
            return Err(KernReturn::InvalidRight);
        };
        self.port_mod_refs(space, name, right, -1)
    }

    /// `mach_port_mod_refs`: adds `delta` user references of `right` to `name`.
    /// Dropping a receive right (-1) destroys the port; dropping a port set (-1)
    /// destroys the set.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (no such right under the name),
    /// `KERN_INVALID_VALUE` (below zero, or not 0/±1 for a receive, send-once or
    /// port-set right), `KERN_UREFS_OVERFLOW`, `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_mod_refs(
        &mut self,
        space: SpaceId,
        name: PortName,
        right: RightType,
        delta: i32,
    ) -> Result<(), KernReturn> {
        let entry = self.lookup(space, name)?;
        if !entry.rights().contains(right.type_bit()) {
            return Err(KernReturn::InvalidRight);
        }
        match right {
            RightType::Send | RightType::DeadName => {
                let urefs = add_urefs(entry.urefs, delta)?;
                if urefs > 0 {
                    if let Some(e) = self.space_mut(space)?.get_mut(name) {
                        e.urefs = urefs;
                    }
                    return Ok(());
                }
                self.remove_rights(space, name, entry, right.type_bit());
            }
            RightType::SendOnce | RightType::Receive | RightType::PortSet => match delta {
                0 => return Ok(()),
                -1 => self.remove_rights(space, name, entry, right.type_bit()),
                _ => return Err(KernReturn::InvalidValue),
            },
        }
        self.settle();
        Ok(())
    }

    /// `mach_port_destroy`: removes every right `name` holds.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_destroy(&mut self, space: SpaceId, name: PortName) -> Result<(), KernReturn> {
        let entry = self.lookup(space, name)?;
        self.remove_rights(space, name, entry, entry.rights());
        self.settle();
        Ok(())
    }

    /// Removes `which` rights from a name, with each right's consequences; frees
    /// the name when nothing is left (a dead-name request then reports port-deleted).
    fn remove_rights(&mut self, space: SpaceId, name: PortName, entry: Entry, which: PortType) {
        let mut left = entry;
        left.bits.remove(which);
        if which.contains(PortType::SEND) || which.contains(PortType::DEAD_NAME) {
            left.urefs = 0;
        }
        let freed = left.rights().is_empty();
        if let Ok(s) = self.space_mut(space) {
            if freed {
                s.entries.remove(name);
            } else {
                s.entries.insert(name, left);
            }
            if let Object::Port(p) = entry.object
                && !left.rights().intersects(PortType::SEND_RECEIVE)
            {
                s.by_port.remove(&p);
            }
        }
        match entry.object {
            Object::Port(p) => {
                if freed && entry.bits.contains(PortType::DNREQUEST) {
                    self.cancel_dnrequest(p, space, name, true);
                }
                if which.contains(PortType::RECEIVE) {
                    if let Some(port) = self.ports.get_mut(p) {
                        port.receiver = Receiver::InTransit;
                    }
                    self.doomed.push(p);
                }
                if which.contains(PortType::SEND) {
                    self.release_send(p);
                }
                if which.contains(PortType::SEND_ONCE) {
                    self.destroy_send_once(p);
                }
            }
            Object::PortSet(s) if which.contains(PortType::PORT_SET) => self.destroy_pset(s),
            _ => {}
        }
    }

    /// Checks that `name` in `space` can give a right with `disp`, and takes it.
    pub(crate) fn take_checked(
        &mut self,
        space: SpaceId,
        name: PortName,
        disp: Disposition,
    ) -> Result<Carried, KernReturn> {
        let probe = crate::Message {
            header: crate::MsgHeader {
                bits: crate::MsgBits::new(disp, None),
                remote: name,
                ..Default::default()
            },
            body: Vec::new(),
        };
        if disp == Disposition::MoveReceive {
            let e = self.lookup(space, name)?;
            if !e.rights().contains(PortType::RECEIVE) {
                return Err(KernReturn::InvalidRight);
            }
        } else {
            self.check_copyin(space, &probe)
                .map_err(|_| KernReturn::InvalidCapability)?;
        }
        Ok(self.take_right(space, name, disp))
    }

    /// `mach_port_insert_right`: gives `target` the right `right` (taken from
    /// `caller`'s name `right_name` with `disp`) under the name `name`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME` or `KERN_INVALID_RIGHT` for `right_name` and `disp`,
    /// `KERN_NAME_EXISTS` or `KERN_RIGHT_EXISTS` when `name` or the port is
    /// already used otherwise in `target`, `KERN_UREFS_OVERFLOW`, `KERN_INVALID_TASK`.
    pub fn port_insert_right(
        &mut self,
        target: SpaceId,
        name: PortName,
        caller: SpaceId,
        right_name: PortName,
        disp: Disposition,
    ) -> Result<(), KernReturn> {
        if !name.is_valid() {
            return Err(KernReturn::InvalidValue);
        }
        self.space(target)?;
        // Find the port first to judge the target's names without taking anything.
        let src = self.lookup(caller, right_name)?;
        let p = src.port().ok_or(KernReturn::InvalidCapability)?;
        let kind = disp.carried_right();
        let existing = match self.space(target)?.get(name) {
            Some(_) => Some(self.lookup(target, name)?),
            None => None,
        };
        let other_name = self.space(target)?.by_port.get(&p).copied();
        match (kind, existing) {
            (RightType::SendOnce, Some(_)) => return Err(KernReturn::NameExists),
            // A name holds a send-once right alone.
            (_, Some(e)) if e.rights().contains(PortType::SEND_ONCE) => {
                return Err(KernReturn::NameExists);
            }
            (_, Some(e)) if e.object != Object::Port(p) => return Err(KernReturn::NameExists),
            (RightType::Send, Some(e)) if e.rights().contains(PortType::SEND) => {
                add_urefs(e.urefs, 1)?;
            }
            (RightType::Receive, Some(e)) if e.rights().contains(PortType::RECEIVE) => {
                return Err(KernReturn::RightExists);
            }
            _ => {}
        }
        if kind != RightType::SendOnce
            && let Some(o) = other_name
            && o != name
        {
            return Err(KernReturn::RightExists);
        }
        let carried = self.take_checked(caller, right_name, disp)?;
        self.place_named(target, name, carried);
        self.settle();
        Ok(())
    }

    /// Puts a carried right into `space` under `name` (checked by the caller).
    fn place_named(&mut self, space: SpaceId, name: PortName, carried: Carried) {
        let Some(p) = carried.port() else { return };
        let bit = match carried {
            Carried::Send(_) => PortType::SEND,
            Carried::SendOnce(_) => PortType::SEND_ONCE,
            _ => PortType::RECEIVE,
        };
        let Some(s) = self.spaces.get_mut(space.0) else {
            self.destroy_carried(carried);
            return;
        };
        let mut merged_send = false;
        let Some(entry) = s.entries.get_or_insert_with(name, || Entry {
            object: Object::Port(p),
            bits: PortType::empty(),
            urefs: 0,
        }) else {
            self.destroy_carried(carried);
            return;
        };
        if bit == PortType::SEND && entry.bits.contains(PortType::SEND) {
            entry.urefs = entry.urefs.saturating_add(1);
            merged_send = true;
        } else {
            entry.bits.insert(bit);
            if bit != PortType::RECEIVE {
                entry.urefs = 1;
            }
        }
        if bit != PortType::SEND_ONCE {
            s.by_port.insert(p, name);
        }
        if let Some(port) = self.ports.get_mut(p) {
            if merged_send {
                port.srights = port.srights.saturating_sub(1);
            }
            if bit == PortType::RECEIVE {
                port.receiver = Receiver::Space(space, name);
                port.transit_dest = None;
            }
        }
    }

    /// `mach_port_extract_right`: takes the right `name` in `target` gives with
    /// `disp`, and gives it to `caller`; returns its name there and what it is.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME` or `KERN_INVALID_RIGHT` for `name` and `disp`,
    /// `KERN_NO_SPACE` in `caller`, `KERN_UREFS_OVERFLOW`, `KERN_INVALID_TASK`.
    pub fn port_extract_right(
        &mut self,
        target: SpaceId,
        name: PortName,
        disp: Disposition,
        caller: SpaceId,
    ) -> Result<(PortName, Disposition), KernReturn> {
        self.space(caller)?;
        let carried = self.take_checked(target, name, disp)?;
        let received = carried.received(disp);
        let out = self.copyout_right(caller, carried);
        self.settle();
        Ok((out, received))
    }

    /// `mach_port_move_member`: puts the receive right `member` into the port set
    /// `pset`, or takes it out of its set when `pset` is [`PortName::NULL`].
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (`member` not a receive right,
    /// `pset` not a port set), `KERN_NOT_IN_SET`, `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_move_member(
        &mut self,
        space: SpaceId,
        member: PortName,
        pset: PortName,
    ) -> Result<(), KernReturn> {
        let m = self.receive_port(space, member)?;
        let target = if pset.is_null() {
            None
        } else {
            let e = self.lookup(space, pset)?;
            match e.object {
                Object::PortSet(s) => Some(s),
                _ => return Err(KernReturn::InvalidRight),
            }
        };
        let old = self.ports.get(m).and_then(|port| port.pset);
        if target.is_none() && old.is_none() {
            return Err(KernReturn::NotInSet);
        }
        if let Some(s) = old.and_then(|s| self.psets.get_mut(s)) {
            s.remove(m);
        }
        let (has_messages, direct_waiters) = match self.ports.get_mut(m) {
            Some(port) => {
                port.pset = target;
                (
                    !port.queue.is_empty(),
                    core::mem::take(&mut port.recv_waiters),
                )
            }
            None => (false, Default::default()),
        };
        // Threads receiving on the port itself must notice it joined a set.
        self.wake_all(direct_waiters);
        if let Some(s) = target {
            let waiter = self.psets.get_mut(s).and_then(|set| {
                set.members.insert(m);
                if has_messages {
                    set.ready.push_back(m);
                    set.recv_waiters.pop_front()
                } else {
                    None
                }
            });
            if let Some(t) = waiter {
                self.wake(t);
            }
        }
        Ok(())
    }

    pub(crate) fn receive_port(
        &mut self,
        space: SpaceId,
        name: PortName,
    ) -> Result<PortRef, KernReturn> {
        let e = self.lookup(space, name)?;
        match e.object {
            Object::Port(p) if e.rights().contains(PortType::RECEIVE) => Ok(p),
            _ => Err(KernReturn::InvalidRight),
        }
    }

    /// `mach_port_set_qlimit`: at most [`QLIMIT_MAX`]; raising it wakes blocked senders.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (not a receive right),
    /// `KERN_INVALID_VALUE` (above [`QLIMIT_MAX`]), `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_set_qlimit(
        &mut self,
        space: SpaceId,
        name: PortName,
        qlimit: u16,
    ) -> Result<(), KernReturn> {
        if qlimit > QLIMIT_MAX {
            return Err(KernReturn::InvalidValue);
        }
        let p = self.receive_port(space, name)?;
        let woken = match self.ports.get_mut(p) {
            Some(port) => {
                let raised = qlimit > port.qlimit;
                port.qlimit = qlimit;
                if raised {
                    core::mem::take(&mut port.send_waiters)
                } else {
                    Default::default()
                }
            }
            None => Default::default(),
        };
        self.wake_all(woken);
        Ok(())
    }

    /// `mach_port_set_mscount`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (not a receive right), `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_set_mscount(
        &mut self,
        space: SpaceId,
        name: PortName,
        mscount: u32,
    ) -> Result<(), KernReturn> {
        let p = self.receive_port(space, name)?;
        if let Some(port) = self.ports.get_mut(p) {
            port.mscount = mscount;
        }
        Ok(())
    }

    /// `mach_port_set_seqno`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (not a receive right), `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_set_seqno(
        &mut self,
        space: SpaceId,
        name: PortName,
        seqno: u32,
    ) -> Result<(), KernReturn> {
        let p = self.receive_port(space, name)?;
        if let Some(port) = self.ports.get_mut(p) {
            port.seqno = seqno;
        }
        Ok(())
    }

    /// `mach_port_get_receive_status`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (not a receive right), `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn port_get_receive_status(
        &mut self,
        space: SpaceId,
        name: PortName,
    ) -> Result<PortStatus, KernReturn> {
        let p = self.receive_port(space, name)?;
        let port = self.ports.get(p).ok_or(KernReturn::InvalidName)?;
        let pset = port
            .pset
            .and_then(|s| {
                self.space(space)
                    .ok()?
                    .entries
                    .iter()
                    .find_map(|(n, e)| (e.object == Object::PortSet(s)).then_some(n))
            })
            .unwrap_or(PortName::NULL);
        Ok(PortStatus {
            pset,
            seqno: port.seqno,
            mscount: port.mscount,
            qlimit: port.qlimit,
            msgcount: u32::try_from(port.queue.len()).unwrap_or(u32::MAX),
            sorights: port.sorights,
            srights: port.srights > 0,
            pdrequest: port.pdrequest.is_some(),
            nsrequest: port.nsrequest.is_some(),
            id: port.id,
        })
    }
}
