//! The tracing engine: wrapper ports in the tracer's space stand for the
//! traced task's rights; every message sent to one is printed and forwarded.
//!
//! As in the Hurd's rpctrace, each send right the traced task holds is a
//! send right to a *wrapper*, a port the tracer receives on, which forwards
//! to the real port. A request's reply right is replaced by a send-once
//! *reply wrapper*, so the reply passes through the tracer too and the send
//! rights it carries into the task are wrapped in their turn. Rights the
//! task passes on that are wrappers are unwrapped, so servers only ever see
//! real ports. The engine works on any [`UserIpc`]: the hosted runtime or a
//! task on the kernel.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::time::Duration;

use hurd_ipc::msgids::MsgIds;
use hurd_ipc::notify::{NOTIFY_DEAD_NAME, NOTIFY_FIRST};
use hurd_ipc::{
    Disposition, Item, KernReturn, MachMsgError, Message, MsgOptions, PortArray, PortItem,
    PortName, RightType, UserIpc,
};

use crate::format::{self, PortText, STRSIZE};

/// How long a forwarded message may wait for room in a full queue before it
/// is given up (and reported): the tracer never blocks for good on one
/// receiver.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// A wrapper for send rights: what the traced task calls `label`.
struct Sender {
    /// The real port (one send reference held by the tracer).
    forward: PortName,
    /// How the trace names it.
    label: String,
}

/// A reply wrapper: a request on its way, whose reply goes to `forward`.
struct Pending {
    /// The traced task's reply right (held by the tracer).
    forward: PortName,
    /// How that right is moved on (`MoveSendOnce`, or `MoveSend` for a
    /// reply port given as a send right).
    disposition: Disposition,
    /// The request's id.
    request: i32,
}

/// The tracer: wrappers, the requests waiting for replies, and the trace
/// written so far.
pub struct Tracer<'a, I: UserIpc + ?Sized> {
    ipc: &'a I,
    set: PortName,
    ids: MsgIds,
    senders: BTreeMap<PortName, Sender>,
    by_forward: BTreeMap<PortName, PortName>,
    replies: BTreeMap<PortName, Pending>,
    /// The reply wrapper of the request whose line is still open.
    open: Option<PortName>,
    out: String,
    strsize: usize,
}

impl<'a, I: UserIpc + ?Sized> Tracer<'a, I> {
    /// A tracer in `ipc`'s space naming messages with `ids`.
    ///
    /// # Errors
    ///
    /// The kernel's error allocating the port set the wrappers go in.
    pub fn new(ipc: &'a I, ids: MsgIds) -> Result<Self, KernReturn> {
        let set = ipc.port_allocate(RightType::PortSet)?;
        Ok(Tracer {
            ipc,
            set,
            ids,
            senders: BTreeMap::new(),
            by_forward: BTreeMap::new(),
            replies: BTreeMap::new(),
            open: None,
            out: String::new(),
            strsize: STRSIZE,
        })
    }

    /// Strings and byte arrays longer than `max` are cut (`-s`).
    pub fn set_strsize(&mut self, max: usize) {
        self.strsize = max;
    }

    /// The port set every wrapper is in: receive on it and give each
    /// message to [`handle`](Self::handle).
    pub fn port_set(&self) -> PortName {
        self.set
    }

    /// Wraps the send right `real` (one reference of which the tracer now
    /// owns) as `label`; gives the wrapper, a receive right of the tracer's:
    /// hand the traced task a send right made from it (`MakeSend`). A port
    /// wrapped already keeps its wrapper (and its label).
    ///
    /// # Errors
    ///
    /// The kernel's error making the wrapper; `real` is then released.
    pub fn wrap(&mut self, real: PortName, label: &str) -> Result<PortName, KernReturn> {
        self.wrap_send(real, Some(label))
    }

    /// Writes the end of the trace: an open request line is ended.
    pub fn finish(&mut self) {
        if let Some(w) = self.open.take() {
            let _ = writeln!(self.out, " ...{}", w.0);
        }
    }

    /// The trace written since the last call (whole lines, and an open
    /// request line that its reply will finish).
    pub fn take_output(&mut self) -> String {
        core::mem::take(&mut self.out)
    }

    /// Requests still waiting for their replies.
    pub fn pending(&self) -> usize {
        self.replies.len()
    }

    /// Receives and handles messages until `done()` holds and nothing is
    /// queued, giving the trace to `sink` as it grows.
    ///
    /// # Errors
    ///
    /// The receive's error other than a timeout (the port set is gone).
    pub fn serve(
        &mut self,
        done: impl Fn() -> bool,
        mut sink: impl FnMut(&str),
    ) -> Result<(), hurd_ipc::RecvError> {
        let poll = Duration::from_millis(20);
        loop {
            let finishing = done();
            let opts = MsgOptions {
                rcv_timeout: Some(if finishing { Duration::ZERO } else { poll }),
                ..MsgOptions::default()
            };
            match self.ipc.receive_with(self.set, &opts) {
                Ok(msg) => self.handle(msg),
                Err(e) if e.code == hurd_ipc::MsgReturn::RcvTimedOut => {
                    if finishing {
                        self.finish();
                        sink(&self.take_output());
                        return Ok(());
                    }
                }
                Err(e) => {
                    self.finish();
                    sink(&self.take_output());
                    return Err(e);
                }
            }
            let text = self.take_output();
            if !text.is_empty() {
                sink(&text);
            }
        }
    }

    /// Prints and forwards one message received on the port set. A message
    /// on no wrapper of this tracer is destroyed.
    pub fn handle(&mut self, msg: Message) {
        let on = msg.header.local;
        if let Some(pending) = self.replies.remove(&on) {
            self.reply(on, pending, msg);
        } else if let Some(sender) = self.senders.get(&on) {
            let (forward, label) = (sender.forward, sender.label.clone());
            self.request(forward, &label, msg);
        } else {
            self.ipc.destroy_message(msg);
        }
    }

    /// A message from the traced task through a send wrapper.
    fn request(&mut self, forward: PortName, label: &str, msg: Message) {
        let id = msg.header.id;
        let reply = msg.header.remote;
        let reply_wrapper = if reply.is_valid() {
            let disposition = msg
                .header
                .bits
                .remote()
                .unwrap_or(Disposition::MoveSendOnce);
            match self.reply_wrapper(reply, disposition, id) {
                Ok(w) => Some(w),
                Err(e) => {
                    self.note(&format!("no reply wrapper for message {id}: {e:?}"));
                    self.ipc.destroy_message(msg);
                    return;
                }
            }
        } else {
            None
        };
        let mut ports = Vec::new();
        let body: Vec<Item> = msg
            .body
            .into_iter()
            .map(|item| self.outgoing(item, &mut ports))
            .collect();

        self.end_open_line();
        let found = self.ids.request(id);
        let _ = write!(self.out, "{label:>4}->");
        match found {
            Some(f) => {
                let _ = write!(self.out, "{:>5} (", f.routine.name);
            }
            None => {
                let _ = write!(self.out, "{id:>5} (");
            }
        }
        let args = found.map_or(&[][..], |f| f.routine.args);
        format::items(&mut self.out, &body, args, &ports, self.strsize);
        match reply_wrapper {
            Some(w) => {
                self.out.push(')');
                self.open = Some(w);
            }
            None => self.out.push_str(");\n"),
        }

        let mut out = Message::new(id, forward, Disposition::CopySend);
        out.body = body;
        if let Some(w) = reply_wrapper {
            out = out.with_reply(w, Disposition::MakeSendOnce);
        }
        if let Err(code) = self.send(out)
            && let Some(w) = reply_wrapper
        {
            // The caller's reply right dies: it learns that no reply comes.
            self.note(&format!("{label}: {code:?}"));
            if let Some(p) = self.replies.remove(&w) {
                let _ = self.ipc.port_deallocate(p.forward);
            }
            let _ = self.ipc.port_mod_refs(w, RightType::Receive, -1);
        }
    }

    /// A message through a reply wrapper: the reply to a request of the
    /// traced task (or the notice that its reply right was destroyed).
    fn reply(&mut self, wrapper: PortName, pending: Pending, msg: Message) {
        let _ = self.ipc.port_mod_refs(wrapper, RightType::Receive, -1);
        let id = msg.header.id;
        if (NOTIFY_FIRST..=NOTIFY_DEAD_NAME).contains(&id) {
            // The server destroyed the reply right unused: so does the tracer
            // with the task's, and the task hears it the same way.
            self.reply_prefix(wrapper);
            self.out
                .push_str(" (no reply: the reply right was destroyed)\n");
            self.ipc.destroy_message(msg);
            let _ = self.ipc.port_deallocate(pending.forward);
            return;
        }
        if msg.header.remote.is_valid() {
            // A reply does not ask for one; the right is not passed on.
            let _ = self.ipc.port_deallocate(msg.header.remote);
        }
        let mut ports = Vec::new();
        let body: Vec<Item> = msg
            .body
            .into_iter()
            .map(|item| self.incoming(item, &mut ports))
            .collect();

        self.reply_prefix(wrapper);
        let expected = pending.request.wrapping_add(hurd_ipc::mig::REPLY_ID_OFFSET);
        if id == expected {
            self.out.push_str(" = ");
        } else {
            let _ = write!(self.out, " =({id} != {expected}) ");
        }
        match body.first() {
            Some(Item::U32(code)) => {
                format::return_code(&mut self.out, *code as i32);
                if body.len() > 1 {
                    self.out.push(' ');
                    let results = self.ids.reply(id).map_or(&[][..], |f| f.routine.results);
                    format::items(&mut self.out, &body[1..], results, &ports, self.strsize);
                }
            }
            _ => format::items(&mut self.out, &body, &[], &ports, self.strsize),
        }
        self.out.push('\n');

        let mut out = Message::new(id, pending.forward, pending.disposition);
        out.body = body;
        if let Err(code) = self.send(out) {
            self.note(&format!("reply {id}: {code:?}"));
        }
    }

    /// Starts a reply line: ends another open request line first.
    fn reply_prefix(&mut self, wrapper: PortName) {
        if self.open == Some(wrapper) {
            self.open = None;
            return;
        }
        self.end_open_line();
        let _ = write!(self.out, "{}...", wrapper.0);
    }

    fn end_open_line(&mut self) {
        if let Some(w) = self.open.take() {
            let _ = writeln!(self.out, " ...{}", w.0);
        }
    }

    /// A line of the tracer's own (a message it could not pass on).
    fn note(&mut self, text: &str) {
        self.end_open_line();
        let _ = writeln!(self.out, "rpctrace: {text}");
    }

    /// Sends a forwarded message; on failure destroys what it was to move.
    fn send(&self, msg: Message) -> Result<(), hurd_ipc::MsgReturn> {
        let opts = MsgOptions {
            send_timeout: Some(SEND_TIMEOUT),
            ..MsgOptions::default()
        };
        match self.ipc.mach_msg(Some(msg), None, &opts) {
            Ok(_) => Ok(()),
            Err(MachMsgError::Send(e)) => {
                let code = e.code;
                self.ipc.destroy_message(e.message);
                Err(code)
            }
            Err(MachMsgError::Receive(e)) => Err(e.code),
        }
    }

    fn reply_wrapper(
        &mut self,
        forward: PortName,
        disposition: Disposition,
        request: i32,
    ) -> Result<PortName, KernReturn> {
        let w = self.new_wrapper()?;
        self.replies.insert(
            w,
            Pending {
                forward,
                disposition,
                request,
            },
        );
        Ok(w)
    }

    fn new_wrapper(&self) -> Result<PortName, KernReturn> {
        let w = self.ipc.port_allocate(RightType::Receive)?;
        if let Err(e) = self.ipc.port_move_member(w, self.set) {
            let _ = self.ipc.port_mod_refs(w, RightType::Receive, -1);
            return Err(e);
        }
        Ok(w)
    }

    /// A send right coming into the traced task, by its wrapper.
    fn wrap_send(&mut self, real: PortName, label: Option<&str>) -> Result<PortName, KernReturn> {
        if self.senders.contains_key(&real) {
            // A send right to a wrapper: the task gets the wrapper again.
            let _ = self.ipc.port_deallocate(real);
            return Ok(real);
        }
        if let Some(&w) = self.by_forward.get(&real) {
            // One reference of the real port is enough.
            let _ = self.ipc.port_deallocate(real);
            return Ok(w);
        }
        let w = match self.new_wrapper() {
            Ok(w) => w,
            Err(e) => {
                let _ = self.ipc.port_deallocate(real);
                return Err(e);
            }
        };
        let label = match label {
            Some(l) => String::from(l),
            None => format!("{}<--{}", real.0, w.0),
        };
        self.senders.insert(
            w,
            Sender {
                forward: real,
                label,
            },
        );
        self.by_forward.insert(real, w);
        Ok(w)
    }

    /// A body item of a reply going into the traced task: send rights are
    /// wrapped.
    fn incoming(&mut self, item: Item, ports: &mut Vec<PortText>) -> Item {
        match item {
            Item::Port(p) if p.disposition == Disposition::MoveSend && p.name.is_valid() => {
                match self.wrap_send(p.name, None) {
                    Ok(w) => {
                        ports.push(self.text(w, Disposition::MoveSend));
                        Item::port(w, Disposition::MakeSend)
                    }
                    Err(_) => {
                        ports.push(PortText {
                            label: String::from("DEAD"),
                            disposition: p.disposition,
                        });
                        Item::port(PortName::DEAD, Disposition::MoveSend)
                    }
                }
            }
            Item::Ports(a) if a.disposition == Disposition::MoveSend => {
                let names = a
                    .names
                    .into_iter()
                    .map(|n| {
                        if !n.is_valid() {
                            ports.push(self.text(n, Disposition::MoveSend));
                            return n;
                        }
                        let w = self.wrap_send(n, None).unwrap_or(PortName::DEAD);
                        ports.push(self.text(w, Disposition::MoveSend));
                        w
                    })
                    .collect();
                Item::Ports(PortArray {
                    disposition: Disposition::MakeSend,
                    names,
                })
            }
            other => {
                self.passing(&other, ports);
                other
            }
        }
    }

    /// A body item of a request from the traced task: wrappers are
    /// unwrapped, so the receiver gets the real port.
    fn outgoing(&mut self, item: Item, ports: &mut Vec<PortText>) -> Item {
        match item {
            Item::Port(p) if p.disposition == Disposition::MoveSend => {
                match self.senders.get(&p.name) {
                    Some(s) => {
                        let forward = s.forward;
                        ports.push(PortText {
                            label: s.label.clone(),
                            disposition: p.disposition,
                        });
                        let _ = self.ipc.port_deallocate(p.name);
                        Item::Port(PortItem {
                            disposition: Disposition::CopySend,
                            name: forward,
                        })
                    }
                    None => {
                        ports.push(self.text(p.name, p.disposition));
                        Item::Port(p)
                    }
                }
            }
            Item::Ports(a) if a.disposition == Disposition::MoveSend => {
                let names = a
                    .names
                    .into_iter()
                    .map(|n| match self.senders.get(&n) {
                        Some(s) => {
                            let forward = s.forward;
                            ports.push(PortText {
                                label: s.label.clone(),
                                disposition: a.disposition,
                            });
                            let _ = self.ipc.port_deallocate(n);
                            // The array moves every right: one more
                            // reference of the real port to move.
                            if self.ipc.port_mod_refs(forward, RightType::Send, 1).is_ok() {
                                forward
                            } else {
                                PortName::DEAD
                            }
                        }
                        None => {
                            ports.push(self.text(n, a.disposition));
                            n
                        }
                    })
                    .collect();
                Item::Ports(PortArray {
                    disposition: a.disposition,
                    names,
                })
            }
            other => {
                self.passing(&other, ports);
                other
            }
        }
    }

    /// The text of the rights an item carries as they pass unchanged.
    fn passing(&self, item: &Item, ports: &mut Vec<PortText>) {
        match item {
            Item::Port(p) => ports.push(self.text(p.name, p.disposition)),
            Item::Ports(a) => ports.extend(a.names.iter().map(|n| self.text(*n, a.disposition))),
            _ => {}
        }
    }

    fn text(&self, name: PortName, disposition: Disposition) -> PortText {
        let label = match self.senders.get(&name) {
            Some(s) => s.label.clone(),
            None => format!("{name}"),
        };
        PortText { label, disposition }
    }
}

impl<I: UserIpc + ?Sized> Drop for Tracer<'_, I> {
    /// Destroys every wrapper (the traced task's rights to them become dead
    /// names; its pending replies, send-once notifications) and releases
    /// the real ports.
    fn drop(&mut self) {
        for (w, s) in core::mem::take(&mut self.senders) {
            let _ = self.ipc.port_mod_refs(w, RightType::Receive, -1);
            let _ = self.ipc.port_deallocate(s.forward);
        }
        for (w, p) in core::mem::take(&mut self.replies) {
            let _ = self.ipc.port_mod_refs(w, RightType::Receive, -1);
            let _ = self.ipc.port_deallocate(p.forward);
        }
        let _ = self.ipc.port_mod_refs(self.set, RightType::PortSet, -1);
    }
}
