//! Copying a message out: carried rights become names in the receiver's space.

use alloc::vec::Vec;

use super::IpcKernel;
use crate::kmsg::{Carried, KItem, KMessage};
use crate::message::MsgHeader;
use crate::port::Receiver;
use crate::space::{Entry, Object, SpaceId};
use crate::{Disposition, Item, Message, MsgBits, PortArray, PortItem, PortName, PortType};

impl IpcKernel {
    /// Inserts a carried right into `space` and returns its name there
    /// (`ipc_object_copyout`). Send rights merge into the name the space already
    /// uses for the port; a right to a port that died in transit becomes
    /// [`PortName::DEAD`]. If the space is gone the right is destroyed.
    pub(crate) fn copyout_right(&mut self, space: SpaceId, right: Carried) -> PortName {
        if self.spaces.get(space.0).is_none() {
            self.destroy_carried(right);
            return PortName::DEAD;
        }
        match right {
            Carried::Null => PortName::NULL,
            Carried::Dead => PortName::DEAD,
            Carried::Send(p) => {
                if !self.ports.get(p).is_some_and(|port| port.active) {
                    self.release_send(p);
                    return PortName::DEAD;
                }
                let existing = self
                    .spaces
                    .get(space.0)
                    .and_then(|s| s.by_port.get(&p).copied());
                if let Some(name) = existing {
                    let merge = self
                        .spaces
                        .get_mut(space.0)
                        .and_then(|s| s.entries.get_mut(name))
                        .map(|e| {
                            if e.bits.contains(PortType::SEND) {
                                // Two send rights become one; a full count stays full.
                                e.urefs = e.urefs.saturating_add(1);
                                true
                            } else {
                                e.bits.insert(PortType::SEND);
                                e.urefs = 1;
                                false
                            }
                        });
                    if merge == Some(true)
                        && let Some(port) = self.ports.get_mut(p)
                    {
                        port.srights = port.srights.saturating_sub(1);
                    }
                    return name;
                }
                self.insert_new(space, p, PortType::SEND, 1, true)
            }
            Carried::SendOnce(p) => {
                if !self.ports.get(p).is_some_and(|port| port.active) {
                    self.consume_send_once(p);
                    return PortName::DEAD;
                }
                self.insert_new(space, p, PortType::SEND_ONCE, 1, false)
            }
            Carried::Receive(p) => {
                let existing = self
                    .spaces
                    .get(space.0)
                    .and_then(|s| s.by_port.get(&p).copied());
                let name = match existing {
                    Some(name) => {
                        if let Some(e) = self
                            .spaces
                            .get_mut(space.0)
                            .and_then(|s| s.entries.get_mut(name))
                        {
                            e.bits.insert(PortType::RECEIVE);
                        }
                        name
                    }
                    None => self.insert_new(space, p, PortType::RECEIVE, 0, true),
                };
                if let Some(port) = self.ports.get_mut(p) {
                    port.receiver = Receiver::Space(space, name);
                    port.transit_dest = None;
                }
                name
            }
        }
    }

    fn insert_new(
        &mut self,
        space: SpaceId,
        p: crate::kmsg::PortRef,
        bits: PortType,
        urefs: u16,
        index: bool,
    ) -> PortName {
        let Some(s) = self.spaces.get_mut(space.0) else {
            return PortName::DEAD;
        };
        let name = s.insert_fresh(Entry {
            object: Object::Port(p),
            bits,
            urefs,
        });
        if index {
            s.by_port.insert(p, name);
        }
        name
    }

    /// Turns a dequeued message into the receiver's form: the destination right is
    /// released (possibly firing no-senders), the reply right and body rights get
    /// names in `space`, and the header is swapped as Mach delivers it.
    /// `size` is `k.wire_size()`.
    pub(crate) fn copyout(
        &mut self,
        space: SpaceId,
        k: KMessage,
        local: PortName,
        seqno: u32,
        size: u64,
    ) -> Message {
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        let local_type = match k.dest {
            Carried::SendOnce(p) => {
                self.consume_send_once(p);
                Disposition::PORT_SEND_ONCE
            }
            Carried::Send(p) => {
                self.release_send(p);
                Disposition::PORT_SEND
            }
            _ => Disposition::PORT_SEND,
        };
        let reply_type = k.reply_disposition.map(|d| k.reply.received(d));
        let remote = self.copyout_right(space, k.reply);
        let complex = k
            .body
            .iter()
            .any(|i| matches!(i, KItem::Port { .. } | KItem::Ports { .. } | KItem::Ool(_)));
        let body = if k.body.is_empty() {
            Vec::new()
        } else {
            self.copyout_body(space, k.body)
        };
        let bits = match reply_type {
            Some(r) => MsgBits::new(r, Some(local_type)),
            None => MsgBits(u32::from(u8::from(local_type)) << 8),
        };
        Message {
            header: MsgHeader {
                bits: bits.with_complex(complex),
                size,
                remote,
                local,
                seqno,
                id: k.id,
            },
            body,
        }
    }

    /// The receiver's form of a non-empty body: carried rights get names in `space`.
    fn copyout_body(&mut self, space: SpaceId, kbody: Vec<KItem>) -> Vec<Item> {
        let mut body = Vec::with_capacity(kbody.len());
        for item in kbody {
            body.push(match item {
                KItem::U32(v) => Item::U32(v),
                KItem::U64(v) => Item::U64(v),
                KItem::Bytes(b) => Item::Bytes(b),
                KItem::Ool(o) => Item::Ool(o),
                KItem::Port { right, disposition } => Item::Port(PortItem {
                    disposition: right.received(disposition),
                    name: self.copyout_right(space, right),
                }),
                KItem::Ports {
                    rights,
                    disposition,
                } => Item::Ports(PortArray {
                    disposition: disposition.received(),
                    names: rights
                        .into_iter()
                        .map(|r| self.copyout_right(space, r))
                        .collect(),
                }),
            });
        }
        body
    }
}
