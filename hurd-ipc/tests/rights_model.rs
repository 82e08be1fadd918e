//! A state-machine property test of rights accounting: random sequences of
//! `mach_port_*` calls and messages over three spaces and a handful of ports are
//! run against [`IpcKernel`] and against a small model. After every operation the
//! kernel must agree with the model on every name's type and user references,
//! every port's queue, make-send count and send-right existence, and the exact
//! no-senders / send-once notifications delivered. Operations the model judges
//! invalid must fail and change nothing. At the end, destroying every space must
//! leave no port object behind.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};

use hurd_ipc::{
    Disposition, IpcKernel, Item, KernReturn, Message, MsgReturn, Notification, NotifyKind,
    PortName, PortType, QLIMIT_DEFAULT, RecvOptions, RightType, SpaceId,
};
use proptest::prelude::*;

/// Spaces the model's rights live in.
const SPACES: usize = 3;
/// Most ports allocated in one run.
const MAX_PORTS: usize = 7;

/// One step, with indices resolved against the state when it runs.
#[derive(Clone, Debug)]
enum Op {
    /// `mach_port_allocate` of a receive right in `space`.
    Alloc { space: u8 },
    /// `mach_port_extract_right(MAKE_SEND)` from the port's owner into `to`.
    MakeSend { port: u8, to: u8 },
    /// A message from `from` to `dest`, optionally carrying a send right for
    /// `carried` (moved or copied).
    Send {
        from: u8,
        dest: u8,
        carried: Option<u8>,
        moved: bool,
    },
    /// `mach_port_deallocate` of the name `space` uses for `port`.
    Dealloc { space: u8, port: u8 },
    /// `mach_port_mod_refs(SEND or DEAD_NAME, delta)`.
    ModRefs {
        space: u8,
        port: u8,
        delta: i8,
        dead_right: bool,
    },
    /// `mach_port_mod_refs(RECEIVE, -1)` by the owner.
    Destroy { port: u8 },
    /// A non-blocking receive by the owner.
    Receive { port: u8 },
    /// `mach_port_request_notification(NO_SENDERS, sync)` to the port's
    /// notification port.
    RequestNoSenders { port: u8, sync: u8 },
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let idx = || 0u8..64;
    prop_oneof![
        1 => idx().prop_map(|space| Op::Alloc { space }),
        3 => (idx(), idx()).prop_map(|(port, to)| Op::MakeSend { port, to }),
        4 => (idx(), idx(), proptest::option::weighted(0.8, idx()), any::<bool>())
            .prop_map(|(from, dest, carried, moved)| Op::Send { from, dest, carried, moved }),
        2 => (idx(), idx()).prop_map(|(space, port)| Op::Dealloc { space, port }),
        2 => (idx(), idx(), -3i8..=3, proptest::bool::weighted(0.2))
            .prop_map(|(space, port, delta, dead_right)| Op::ModRefs { space, port, delta, dead_right }),
        1 => idx().prop_map(|port| Op::Destroy { port }),
        3 => idx().prop_map(|port| Op::Receive { port }),
        2 => (idx(), 0u8..4).prop_map(|(port, sync)| Op::RequestNoSenders { port, sync }),
    ]
}

/// A right carried in a model message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MCarried {
    /// A send right for model port `.0`.
    Send(usize),
    /// `MACH_PORT_DEAD`.
    Dead,
}

#[derive(Clone, Debug)]
struct MMsg {
    id: i32,
    carried: Option<MCarried>,
}

#[derive(Debug)]
struct MPort {
    owner: usize,
    /// The receive right's name in the owner's space (kept after death, for
    /// calls that must now fail).
    name: PortName,
    alive: bool,
    mscount: u32,
    seqno: u32,
    /// Queue limit: the default, or 2 for every other port (so full queues and
    /// handed-back messages happen often).
    qlimit: u16,
    queue: VecDeque<MMsg>,
    ns_pending: bool,
    /// This port's notification port, a receive right in the test's space.
    notify: PortName,
    /// Notifications expected on `notify` since the last check.
    expected: Vec<Notification>,
}

/// A space's send right or dead name for a port.
#[derive(Clone, Copy, Debug)]
struct Holding {
    name: PortName,
    urefs: u16,
}

struct Harness {
    k: IpcKernel,
    spaces: Vec<SpaceId>,
    /// The test's own space, holding every notification port.
    tspace: SpaceId,
    ports: Vec<MPort>,
    /// Send rights (live port) or dead names (dead port), by (space, port).
    holdings: HashMap<(usize, usize), Holding>,
    next_id: i32,
}

/// A name no space ever hands out in these runs.
fn bogus(i: usize) -> PortName {
    PortName(0x4000_0000 + i as u32)
}

impl Harness {
    fn new() -> Harness {
        let mut k = IpcKernel::new(0);
        let spaces = (0..SPACES).map(|_| k.create_space()).collect();
        let tspace = k.create_space();
        let mut h = Harness {
            k,
            spaces,
            tspace,
            ports: Vec::new(),
            holdings: HashMap::new(),
            next_id: 1,
        };
        for s in 0..SPACES {
            h.alloc(s);
        }
        h
    }

    /// Resolves a raw index to a port. Three times in four it picks among the
    /// ports `useful` accepts (so most operations are valid and do something),
    /// otherwise among all ports (so invalid operations are tried too).
    fn pick(&self, i: u8, useful: impl Fn(usize) -> bool) -> Option<usize> {
        let all: Vec<usize> = (0..self.ports.len()).collect();
        let good: Vec<usize> = all.iter().copied().filter(|&j| useful(j)).collect();
        let from = if !i.is_multiple_of(4) && !good.is_empty() {
            good
        } else {
            all
        };
        (!from.is_empty()).then(|| from[usize::from(i / 4) % from.len()])
    }

    fn alive(&self, j: usize) -> bool {
        self.ports[j].alive
    }

    fn space_index(i: u8) -> usize {
        usize::from(i) % SPACES
    }

    /// Live send rights for port `j`: spaces holding one, rights carried in
    /// queued messages, and the destination rights of messages queued on it.
    fn live_sends(&self, j: usize) -> usize {
        if !self.ports[j].alive {
            return 0;
        }
        let held = self.holdings.keys().filter(|&&(_, p)| p == j).count();
        let carried = self
            .ports
            .iter()
            .flat_map(|p| p.queue.iter())
            .filter(|m| m.carried == Some(MCarried::Send(j)))
            .count();
        held + carried + self.ports[j].queue.len()
    }

    /// The name `space` uses for port `j`, if any: its send right or dead name,
    /// else the receive right's name if it owns the live port.
    fn name_of(&self, s: usize, j: usize) -> Option<PortName> {
        if let Some(h) = self.holdings.get(&(s, j)) {
            return Some(h.name);
        }
        let p = &self.ports[j];
        (p.alive && p.owner == s).then_some(p.name)
    }

    fn alloc(&mut self, s: usize) {
        if self.ports.len() >= MAX_PORTS {
            return;
        }
        let name = self
            .k
            .port_allocate(self.spaces[s], RightType::Receive)
            .unwrap();
        let notify = self
            .k
            .port_allocate(self.tspace, RightType::Receive)
            .unwrap();
        let qlimit = if self.ports.len() % 2 == 1 {
            self.k.port_set_qlimit(self.spaces[s], name, 2).unwrap();
            2
        } else {
            QLIMIT_DEFAULT
        };
        self.ports.push(MPort {
            owner: s,
            name,
            alive: true,
            mscount: 0,
            seqno: 0,
            qlimit,
            queue: VecDeque::new(),
            ns_pending: false,
            notify,
            expected: Vec::new(),
        });
    }

    /// Adds one send right for live port `j` to space `s`, named `name` by the
    /// kernel; checks the name against what the model expects.
    fn add_send(&mut self, s: usize, j: usize, name: PortName) {
        let expect = self.name_of(s, j);
        match self.holdings.get_mut(&(s, j)) {
            Some(h) => {
                assert_eq!(h.name, name, "send right did not merge into its name");
                h.urefs = h.urefs.saturating_add(1);
            }
            None => {
                if let Some(e) = expect {
                    assert_eq!(e, name, "send right did not join the receive name");
                } else {
                    // A fresh name: must not be one the space already uses.
                    for (&(s2, j2), h) in &self.holdings {
                        assert!(s2 != s || h.name != name, "name reused for port {j2}");
                    }
                    for p in &self.ports {
                        assert!(!(p.alive && p.owner == s && p.name == name));
                    }
                }
                self.holdings.insert((s, j), Holding { name, urefs: 1 });
            }
        }
    }

    /// Removes `n` references from `(s, j)`'s holding, freeing it at zero.
    fn drop_refs(&mut self, s: usize, j: usize, n: u16) {
        let h = self.holdings.get_mut(&(s, j)).unwrap();
        h.urefs -= n;
        if h.urefs == 0 {
            self.holdings.remove(&(s, j));
        }
    }

    fn run(&mut self, op: &Op) {
        let before: Vec<usize> = (0..self.ports.len()).map(|j| self.live_sends(j)).collect();
        match *op {
            Op::Alloc { space } => self.alloc(Self::space_index(space)),
            Op::MakeSend { port, to } => {
                let Some(j) = self.pick(port, |j| self.alive(j)) else {
                    return;
                };
                let t = Self::space_index(to);
                let (owner, name, alive) = {
                    let p = &self.ports[j];
                    (p.owner, p.name, p.alive)
                };
                let r = self.k.port_extract_right(
                    self.spaces[owner],
                    name,
                    Disposition::MakeSend,
                    self.spaces[t],
                );
                if alive {
                    let (n, d) = r.unwrap();
                    assert_eq!(d, Disposition::PORT_SEND);
                    self.ports[j].mscount += 1;
                    self.add_send(t, j, n);
                } else {
                    assert!(r.is_err(), "make-send from a destroyed receive right");
                }
            }
            Op::Send {
                from,
                dest,
                carried,
                moved,
            } => self.send(from, dest, carried, moved),
            Op::Dealloc { space, port } => {
                let s = Self::space_index(space);
                let Some(j) = self.pick(port, |j| self.holdings.contains_key(&(s, j))) else {
                    return;
                };
                let name = self.name_of(s, j);
                let r = self
                    .k
                    .port_deallocate(self.spaces[s], name.unwrap_or(bogus(j)));
                if self.holdings.contains_key(&(s, j)) {
                    r.unwrap();
                    self.drop_refs(s, j, 1);
                } else if name.is_some() {
                    assert_eq!(r, Err(KernReturn::InvalidRight));
                } else {
                    assert_eq!(r, Err(KernReturn::InvalidName));
                }
            }
            Op::ModRefs {
                space,
                port,
                delta,
                dead_right,
            } => {
                let s = Self::space_index(space);
                let Some(j) = self.pick(port, |j| self.holdings.contains_key(&(s, j))) else {
                    return;
                };
                let name = self.name_of(s, j);
                let right = if dead_right {
                    RightType::DeadName
                } else {
                    RightType::Send
                };
                let delta = i32::from(delta);
                let r =
                    self.k
                        .port_mod_refs(self.spaces[s], name.unwrap_or(bogus(j)), right, delta);
                let alive = self.ports[j].alive;
                match self.holdings.get(&(s, j)).copied() {
                    Some(h) if dead_right != alive => {
                        let next = i32::from(h.urefs) + delta;
                        if next < 0 {
                            assert_eq!(r, Err(KernReturn::InvalidValue));
                        } else {
                            r.unwrap();
                            if next == 0 {
                                self.holdings.remove(&(s, j));
                            } else {
                                self.holdings.get_mut(&(s, j)).unwrap().urefs = next as u16;
                            }
                        }
                    }
                    Some(_) => assert_eq!(r, Err(KernReturn::InvalidRight)),
                    None if name.is_some() => assert_eq!(r, Err(KernReturn::InvalidRight)),
                    None => assert_eq!(r, Err(KernReturn::InvalidName)),
                }
            }
            Op::Destroy { port } => {
                let Some(j) = self.pick(port, |j| self.alive(j)) else {
                    return;
                };
                let (owner, name, alive) = {
                    let p = &self.ports[j];
                    (p.owner, p.name, p.alive)
                };
                let r = self
                    .k
                    .port_mod_refs(self.spaces[owner], name, RightType::Receive, -1);
                if !alive {
                    assert!(r.is_err());
                    return;
                }
                r.unwrap();
                let p = &mut self.ports[j];
                p.alive = false;
                p.queue.clear();
                if p.ns_pending {
                    p.ns_pending = false;
                    p.expected.push(Notification::SendOnce);
                }
                // Send rights held become dead names with the same references.
            }
            Op::Receive { port } => {
                let Some(j) = self.pick(port, |j| !self.ports[j].queue.is_empty()) else {
                    return;
                };
                let (owner, name, alive) = {
                    let p = &self.ports[j];
                    (p.owner, p.name, p.alive)
                };
                let r = self
                    .k
                    .receive(self.spaces[owner], name, RecvOptions::default(), None);
                if !alive {
                    assert_eq!(r.unwrap_err().code, MsgReturn::RcvInvalidName);
                    return;
                }
                let Some(want) = self.ports[j].queue.pop_front() else {
                    assert_eq!(r.unwrap_err().code, MsgReturn::RcvTimedOut);
                    return;
                };
                let m = r.unwrap();
                assert_eq!(m.header.id, want.id);
                assert_eq!(m.header.local, name);
                assert_eq!(m.header.seqno, self.ports[j].seqno);
                self.ports[j].seqno += 1;
                match want.carried {
                    None => assert!(m.body.is_empty()),
                    Some(c) => {
                        let [Item::Port(item)] = m.body.as_slice() else {
                            panic!("{m:?}")
                        };
                        assert_eq!(item.disposition, Disposition::PORT_SEND);
                        match c {
                            MCarried::Send(x) if self.ports[x].alive => {
                                self.add_send(owner, x, item.name);
                            }
                            _ => assert_eq!(item.name, PortName::DEAD),
                        }
                    }
                }
            }
            Op::RequestNoSenders { port, sync } => {
                let Some(j) = self.pick(port, |j| self.alive(j)) else {
                    return;
                };
                if !self.ports[j].alive {
                    return;
                }
                let (owner, name, notify) = {
                    let p = &self.ports[j];
                    (p.owner, p.name, p.notify)
                };
                let os = self.spaces[owner];
                let (so, _) = self
                    .k
                    .port_extract_right(self.tspace, notify, Disposition::MakeSendOnce, os)
                    .unwrap();
                let prev = self
                    .k
                    .request_notification(
                        os,
                        name,
                        NotifyKind::NoSenders,
                        u32::from(sync),
                        so,
                        Disposition::MoveSendOnce,
                    )
                    .unwrap();
                assert_eq!(self.k.port_type(os, so), Err(KernReturn::InvalidName));
                let live = self.live_sends(j);
                let p = &mut self.ports[j];
                assert_eq!(prev.is_valid(), p.ns_pending, "previous right");
                if live == 0 && u32::from(sync) <= p.mscount {
                    p.expected.push(Notification::NoSenders(p.mscount));
                    p.ns_pending = false;
                } else {
                    p.ns_pending = true;
                }
                if prev.is_valid() {
                    assert_eq!(self.k.port_type(os, prev).unwrap(), PortType::SEND_ONCE);
                    self.k.port_deallocate(os, prev).unwrap();
                    self.ports[j].expected.push(Notification::SendOnce);
                }
            }
        }
        // The last send right of a port with a request died during this step.
        for (j, &b) in before.iter().enumerate() {
            if b > 0 && self.live_sends(j) == 0 && self.ports[j].alive && self.ports[j].ns_pending {
                let p = &mut self.ports[j];
                p.ns_pending = false;
                p.expected.push(Notification::NoSenders(p.mscount));
            }
        }
    }

    fn send(&mut self, from: u8, dest: u8, carried: Option<u8>, moved: bool) {
        let f = Self::space_index(from);
        let Some(d) = self.pick(dest, |j| {
            self.alive(j) && (self.holdings.contains_key(&(f, j)) || self.ports[j].owner == f)
        }) else {
            return;
        };
        let fs = self.spaces[f];
        // The destination: a send right if held, else make one from the receive
        // right, else a name that cannot work.
        let d_alive = self.ports[d].alive;
        let d_holding = self.holdings.get(&(f, d)).copied();
        let (dest_name, dest_disp, dest_ok, makes_send) = match d_holding {
            Some(h) => (h.name, Disposition::CopySend, d_alive, false),
            None if d_alive && self.ports[d].owner == f => {
                (self.ports[d].name, Disposition::MakeSend, true, true)
            }
            None => (bogus(d), Disposition::CopySend, false, false),
        };
        let mut m = Message::new(self.next_id, dest_name, dest_disp);
        // The carried right.
        let mut carried_ok = true;
        let mut model_carried = None;
        if let Some(c) = carried.and_then(|c| self.pick(c, |j| self.holdings.contains_key(&(f, j))))
        {
            let disp = if moved {
                Disposition::MoveSend
            } else {
                Disposition::CopySend
            };
            let (cname, what) = match self.holdings.get(&(f, c)) {
                Some(h) if self.ports[c].alive => (h.name, Some(MCarried::Send(c))),
                Some(h) => (h.name, Some(MCarried::Dead)),
                None => (self.name_of(f, c).unwrap_or(bogus(c)), None),
            };
            carried_ok = what.is_some();
            model_carried = Some((c, what));
            m = m.with_item(Item::port(cname, disp));
        }
        let before_names = self.k.port_names(fs).unwrap();
        let r = self.k.send(fs, m.clone(), None);
        let full = d_alive && self.ports[d].queue.len() >= usize::from(self.ports[d].qlimit);
        let expect = if !dest_ok {
            Err(MsgReturn::SendInvalidDest)
        } else if !carried_ok {
            Err(MsgReturn::SendInvalidRight)
        } else if full {
            Err(MsgReturn::SendTimedOut)
        } else {
            Ok(())
        };
        match (&r, expect) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(code)) => {
                assert_eq!(e.code, code);
                assert_eq!(e.message, m, "message not handed back intact");
                assert_eq!(self.k.port_names(fs).unwrap(), before_names);
                return;
            }
            (r, expect) => panic!("send gave {r:?}, model expected {expect:?}"),
        }
        self.next_id += 1;
        if makes_send {
            self.ports[d].mscount += 1;
        }
        let carried = model_carried.map(|(c, what)| {
            if moved {
                self.drop_refs(f, c, 1);
            }
            what.unwrap()
        });
        self.ports[d].queue.push_back(MMsg {
            id: m.header.id,
            carried,
        });
    }

    /// Compares every observable against the model and drains notifications.
    fn check(&mut self) {
        // Names, types and references.
        for s in 0..SPACES {
            let sp = self.spaces[s];
            let mut want: Vec<(PortName, PortType)> = Vec::new();
            for (j, p) in self.ports.iter().enumerate() {
                let holding = self.holdings.get(&(s, j));
                let mut t = PortType::empty();
                if p.alive && p.owner == s {
                    t |= PortType::RECEIVE;
                }
                if let Some(h) = holding {
                    t |= if p.alive {
                        PortType::SEND
                    } else {
                        PortType::DEAD_NAME
                    };
                    let (send, dead) = if p.alive { (h.urefs, 0) } else { (0, h.urefs) };
                    assert_eq!(
                        self.k.port_get_refs(sp, h.name, RightType::Send).unwrap(),
                        send,
                        "send refs of port {j} in space {s}"
                    );
                    assert_eq!(
                        self.k
                            .port_get_refs(sp, h.name, RightType::DeadName)
                            .unwrap(),
                        dead,
                        "dead-name refs of port {j} in space {s}"
                    );
                }
                if !t.is_empty() {
                    let name = holding.map_or(p.name, |h| h.name);
                    want.push((name, t));
                }
            }
            want.sort_by_key(|(n, _)| *n);
            assert_eq!(
                self.k.space_name_count(sp),
                Ok(want.len()),
                "name count of space {s}"
            );
            assert_eq!(self.k.port_names(sp).unwrap(), want, "names of space {s}");
        }
        // Ports.
        let mut referenced_dead = 0;
        for j in 0..self.ports.len() {
            let live = self.live_sends(j);
            let p = &self.ports[j];
            if p.alive {
                let st = self
                    .k
                    .port_get_receive_status(self.spaces[p.owner], p.name)
                    .unwrap();
                assert_eq!(st.msgcount as usize, p.queue.len(), "queue of port {j}");
                assert_eq!(st.mscount, p.mscount, "mscount of port {j}");
                assert_eq!(st.seqno, p.seqno, "seqno of port {j}");
                assert_eq!(st.qlimit, p.qlimit, "qlimit of port {j}");
                assert_eq!(st.srights, live > 0, "srights of port {j}");
                assert_eq!(st.nsrequest, p.ns_pending, "nsrequest of port {j}");
                assert_eq!(st.sorights, 0, "sorights of port {j}");
            } else if self
                .ports
                .iter()
                .flat_map(|q| q.queue.iter())
                .any(|m| m.carried == Some(MCarried::Send(j)))
            {
                referenced_dead += 1;
            }
        }
        // Notifications.
        for j in 0..self.ports.len() {
            let notify = self.ports[j].notify;
            let mut got = Vec::new();
            loop {
                match self
                    .k
                    .receive(self.tspace, notify, RecvOptions::default(), None)
                {
                    Ok(m) => got.push(Notification::parse(&m).unwrap()),
                    Err(e) => {
                        assert_eq!(e.code, MsgReturn::RcvTimedOut);
                        break;
                    }
                }
            }
            let want = std::mem::take(&mut self.ports[j].expected);
            assert_eq!(got, want, "notifications for port {j}");
            // Once drained, the registered request is the notification port's
            // only send-once right.
            let st = self.k.port_get_receive_status(self.tspace, notify).unwrap();
            assert_eq!(
                st.sorights,
                u32::from(self.ports[j].ns_pending),
                "send-once rights for notification port {j}"
            );
        }
        // Port objects: live ports, notification ports, and dead ports still
        // named by a send right in a queued message.
        let alive = self.ports.iter().filter(|p| p.alive).count();
        assert_eq!(
            self.k.port_count(),
            alive + self.ports.len() + referenced_dead,
            "port objects"
        );
    }

    fn finish(mut self) {
        for s in self.spaces.clone() {
            self.k.destroy_space(s);
        }
        self.k.destroy_space(self.tspace);
        assert_eq!(self.k.space_count(), 0);
        assert_eq!(self.k.port_count(), 0, "port objects leaked");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn rights_follow_the_model(ops in proptest::collection::vec(op_strategy(), 1..40)) {
        let mut h = Harness::new();
        h.check();
        for op in &ops {
            h.run(op);
            h.check();
        }
        h.finish();
    }
}

/// A fixed sequence exercising moves, death in flight and no-senders (port
/// indices are multiples of 4, which `Harness::pick` maps to port `i / 4`).
#[test]
fn scripted_sequence() {
    let mut h = Harness::new();
    let ops = [
        Op::MakeSend { port: 0, to: 1 },
        Op::RequestNoSenders { port: 0, sync: 0 },
        Op::Send {
            from: 1,
            dest: 8,
            carried: Some(0),
            moved: true,
        },
        Op::MakeSend { port: 8, to: 1 },
        Op::Send {
            from: 1,
            dest: 8,
            carried: Some(0),
            moved: true,
        },
        Op::Receive { port: 8 },
        Op::Dealloc { space: 2, port: 0 },
        Op::RequestNoSenders { port: 0, sync: 1 },
        Op::Destroy { port: 0 },
        Op::MakeSend { port: 4, to: 0 },
        Op::Send {
            from: 0,
            dest: 4,
            carried: Some(4),
            moved: false,
        },
        Op::RequestNoSenders { port: 4, sync: 3 },
        Op::ModRefs {
            space: 0,
            port: 4,
            delta: -1,
            dead_right: false,
        },
        Op::Receive { port: 4 },
        Op::Dealloc { space: 1, port: 4 },
        Op::Destroy { port: 8 },
    ];
    h.check();
    for op in &ops {
        h.run(op);
        h.check();
    }
    h.finish();
}
