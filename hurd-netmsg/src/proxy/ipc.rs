//! Messages local tasks send to proxies (and the notifications of proxies
//! and exports), on their way out.

use super::*;

impl Proxies {
    /// A message the netmsg task received on its port set.
    pub(crate) fn outgoing(&mut self, msg: Message, out: &mut Vec<Action>) {
        let at = msg.header.local;
        let t = self.task.clone();
        if at == self.notify {
            if let Some(Notification::DeadName(name)) = Notification::parse(&msg)
                && let Some(&id) = self.by_name.get(&name)
                && self.ports.get(&id).is_some_and(|e| e.send == Some(name))
            {
                self.kill(id, out);
            }
            return;
        }
        if let Some(o) = self.once_in.remove(&at) {
            if let Ok(local) = t.port_id(at) {
                self.once_in_ids.remove(&local);
            }
            let _ = t.port_mod_refs(at, RightType::Receive, -1);
            let to = o.token.node();
            if msg.header.id == NOTIFY_SEND_ONCE
                && msg.body.is_empty()
                && !msg.header.remote.is_valid()
            {
                out.push(Action::Control {
                    peer: to,
                    bytes: encode(&Frame::OnceDestroyed {
                        id: o.token,
                        secret: o.secret,
                    }),
                });
                return;
            }
            log::debug!(
                "node {}: message {} to send-once {:#x} goes to {to}",
                self.node,
                msg.header.id,
                o.token.0
            );
            let dest = WireRight {
                kind: RightKind::SendOnce,
                id: o.token,
                secret: o.secret,
                order: o.order,
            };
            let bytes = self.export_message(msg, dest, to, out);
            out.push(Action::Port {
                peer: to,
                key: self.once_key(&dest),
                bytes,
                hold: None,
            });
            return;
        }
        let Some(&id) = self.by_name.get(&at) else {
            t.destroy_message(msg);
            return;
        };
        let Some(e) = self.ports.get(&id) else {
            t.destroy_message(msg);
            return;
        };
        if !e.proxies(at) {
            t.destroy_message(msg);
            return;
        }
        if let Some(Notification::NoSenders(_)) = Notification::parse(&msg)
            && !msg.header.remote.is_valid()
        {
            match t.port_get_receive_status(at) {
                Ok(st) if st.srights => {
                    let _ = t.request_notification(
                        at,
                        NotifyKind::NoSenders,
                        st.mscount,
                        at,
                        Disposition::MakeSendOnce,
                    );
                }
                _ => {
                    // No local senders: the proxy goes, and the hold with it.
                    self.by_name.remove(&at);
                    if let Some(e) = self.ports.get_mut(&id) {
                        if e.proxy == Some(at) {
                            e.proxy = None;
                        }
                        e.forwarders.retain(|&x| x != at);
                    }
                    let _ = t.port_mod_refs(at, RightType::Receive, -1);
                    self.settle(id, out);
                }
            }
            return;
        }
        if msg.wire_size() > u64::from(hurd_ipc::wire::Limits::DEFAULT.max_size) {
            // Larger than any node accepts: refused here, rights and all.
            log::warn!("node {}: message too large for the network", self.node);
            t.destroy_message(msg);
            return;
        }
        let dest = WireRight {
            kind: RightKind::Send,
            id,
            secret: e.secret,
            order: PortId(0),
        };
        match e.route {
            None => {
                // A proxy left behind when the port moved here: forward locally.
                if let Some(s) = e.send {
                    let reply_disp = msg.header.bits.remote();
                    let body_msg = Message {
                        header: msg.header,
                        body: msg.body,
                    };
                    out.push(Action::Deliver(Self::address(
                        body_msg,
                        s,
                        Disposition::CopySend,
                        reply_disp,
                    )));
                } else {
                    t.destroy_message(msg);
                }
            }
            Some(to) => {
                log::debug!(
                    "node {}: message {} to {:#x} goes to {to}",
                    self.node,
                    msg.header.id,
                    id.0
                );
                let bytes = self.export_message(msg, dest, to, out);
                out.push(Action::Port {
                    peer: to,
                    key: id,
                    bytes,
                    hold: Some(at),
                });
            }
        }
    }
}
