//! What a node knows about one port seen across nodes: where its messages go,
//! which peers it received send rights from (*sources*), and which peers it gave
//! send rights to (*dependents*).
//!
//! # Two-phase release
//!
//! Send rights to a remote port form a tree: the node holding the port
//! (the root) exports rights, and any node holding rights may pass them on;
//! each node counts the rights it sent to each peer, and the rights it received
//! from each peer. A node gives up its hold on a port only when it has no local
//! senders and no dependents; it then tells each source how many rights it had
//! received from it (`RELEASE count`). The source subtracts that count from
//! what it sent: if a right was in flight (the crossing case), the difference
//! stays positive and the source keeps its own hold; the answer (`RELEASED
//! count`) makes the releasing node subtract the same count from what it
//! received. Counts are subtracted, never reset, so a right that crosses a
//! release is always accounted for. The root deallocates its send right to the
//! real port only when every dependent has released, so the real receiver sees
//! no-senders only after the last remote send right died.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use hurd_ipc::PortName;

/// A node's record of one port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// The capability secret that goes with the port's id.
    pub secret: u64,
    /// A send right to the real port, held while the port lives on this node.
    pub send: Option<PortName>,
    /// The proxy port local tasks hold send rights to (receive right held here).
    pub proxy: Option<PortName>,
    /// Older proxies that forward like `proxy`: a port that came back after
    /// moving away leaves its senders on the ports they held.
    pub forwarders: Vec<PortName>,
    /// The peer messages go to; `None` when the real port is on this node.
    pub route: Option<u16>,
    /// Send rights received from each peer and not yet released.
    pub sources: BTreeMap<u16, u64>,
    /// Part of `sources` for which a release is in flight.
    pub releasing: BTreeMap<u16, u64>,
    /// Send rights given to each peer and not yet released by it.
    pub dependents: BTreeMap<u16, u64>,
    /// False while a receive right sent to `route` is not yet acknowledged:
    /// messages wait.
    pub ready: bool,
    /// The peer whose claim made this record, while the node that made the
    /// port's id has not confirmed its secret: a right to another node's
    /// port, passed on by a third node, cannot be checked when it arrives.
    pub unverified_from: Option<u16>,
}

impl Entry {
    /// Counts a send right sent to `peer`.
    pub fn sent(&mut self, peer: u16) {
        *self.dependents.entry(peer).or_default() += 1;
    }

    /// Counts a send right received from `peer`.
    pub fn received(&mut self, peer: u16) {
        *self.sources.entry(peer).or_default() += 1;
    }

    /// Counts a send right received from `peer` that is released at once (the
    /// port is already held through another source): the `RELEASED` answer
    /// then subtracts it like any other.
    pub fn received_released(&mut self, peer: u16) {
        self.received(peer);
        *self.releasing.entry(peer).or_default() += 1;
    }

    /// `peer` released `count` rights it had from us. Returns false when it
    /// claims more than we sent (the count is then clamped).
    pub fn release_from(&mut self, peer: u16, count: u64) -> bool {
        let held = self.dependents.get(&peer).copied().unwrap_or(0);
        let left = held.saturating_sub(count);
        if left == 0 {
            self.dependents.remove(&peer);
        } else {
            self.dependents.insert(peer, left);
        }
        count <= held
    }

    /// `peer` acknowledged our release of `count` rights.
    pub fn released_by(&mut self, peer: u16, count: u64) {
        for map in [&mut self.sources, &mut self.releasing] {
            let left = map.get(&peer).copied().unwrap_or(0).saturating_sub(count);
            if left == 0 {
                map.remove(&peer);
            } else {
                map.insert(peer, left);
            }
        }
        if self.route == Some(peer) && !self.sources.contains_key(&peer) {
            // Messages must go through a node that still holds the port for us.
            if let Some((&other, _)) = self.sources.iter().next() {
                self.route = Some(other);
            }
        }
    }

    /// A source that still holds the port for us (rights received and not
    /// being released).
    pub fn live_source(&self) -> Option<u16> {
        self.sources
            .iter()
            .find(|&(p, &c)| c > self.releasing.get(p).copied().unwrap_or(0))
            .map(|(&p, _)| p)
    }

    /// Whether nothing here needs the port any more.
    pub fn unused(&self) -> bool {
        self.proxy.is_none() && self.forwarders.is_empty() && self.dependents.is_empty()
    }

    /// The releases to send now: for each source, the rights received and not
    /// already being released. Marks them as being released.
    pub fn take_releases(&mut self) -> Vec<(u16, u64)> {
        if !self.unused() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (&peer, &count) in &self.sources {
            let pending = self.releasing.get(&peer).copied().unwrap_or(0);
            if count > pending {
                out.push((peer, count - pending));
                self.releasing.insert(peer, count);
            }
        }
        out
    }

    /// Whether `name` is this entry's proxy or one of its forwarders.
    pub fn proxies(&self, name: PortName) -> bool {
        self.proxy == Some(name) || self.forwarders.contains(&name)
    }

    /// Every local port standing for the port here.
    pub fn local_ports(&self) -> impl Iterator<Item = PortName> + '_ {
        self.proxy.iter().chain(self.forwarders.iter()).copied()
    }

    /// Whether the entry can be forgotten.
    pub fn finished(&self) -> bool {
        self.unused() && self.send.is_none() && self.sources.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    /// A model of one port shared by `N` nodes: node 0 holds the real port.
    /// Every node has a number of local senders; rights and releases travel as
    /// messages delivered in any order (per link, release and acknowledgement
    /// order does not matter because counts are subtracted).
    #[derive(Debug, Clone)]
    enum Op {
        /// Node `from` (holding a right) gives one to node `to`.
        Give(usize, usize),
        /// A local sender on a node drops its right.
        Drop(usize),
        /// Deliver the in-flight message at this index.
        Deliver(usize),
    }

    #[derive(Debug)]
    enum Wire {
        Right { from: usize, to: usize },
        Release { from: usize, to: usize, count: u64 },
        Released { from: usize, to: usize, count: u64 },
    }

    struct Model {
        entries: Vec<Entry>,
        senders: Vec<u64>,
        wire: VecDeque<Wire>,
        root_released: bool,
    }

    impl Model {
        fn new(n: usize) -> Model {
            let mut entries = vec![Entry::default(); n];
            entries[0].send = Some(PortName(1));
            for e in entries.iter_mut().skip(1) {
                e.route = Some(0);
            }
            let mut senders = vec![0; n];
            senders[0] = 1;
            Model {
                entries,
                senders,
                wire: VecDeque::new(),
                root_released: false,
            }
        }

        fn settle(&mut self, node: usize) {
            let e = &mut self.entries[node];
            if self.senders[node] == 0 && node != 0 {
                e.proxy = None;
            }
            for (peer, count) in e.take_releases() {
                self.wire.push_back(Wire::Release {
                    from: node,
                    to: peer as usize,
                    count,
                });
            }
            if node == 0 && self.senders[0] == 0 && e.dependents.is_empty() {
                self.root_released = true;
            }
        }

        fn step(&mut self, op: Op) {
            let n = self.entries.len();
            match op {
                Op::Give(from, to) => {
                    let (from, to) = (from % n, to % n);
                    if from == to || self.senders[from] == 0 || self.root_released {
                        return;
                    }
                    self.entries[from].sent(to as u16);
                    self.wire.push_back(Wire::Right { from, to });
                }
                Op::Drop(node) => {
                    let node = node % n;
                    if self.senders[node] > 0 {
                        self.senders[node] -= 1;
                        self.settle(node);
                    }
                }
                Op::Deliver(i) => {
                    if self.wire.is_empty() {
                        return;
                    }
                    let i = i % self.wire.len();
                    let Some(w) = self.wire.remove(i) else { return };
                    match w {
                        Wire::Right { from, to } => {
                            if to == 0 {
                                // Back at the root: a local right, released at once.
                                self.senders[0] += 1;
                                self.wire.push_back(Wire::Release {
                                    from: 0,
                                    to: from,
                                    count: 1,
                                });
                            } else if self.entries[to].live_source().is_some() {
                                // Already held through a source: settled at once,
                                // as the node does (no cycles of holds).
                                self.entries[to].proxy = Some(PortName(2));
                                self.entries[to].received_released(from as u16);
                                self.senders[to] += 1;
                                self.wire.push_back(Wire::Release {
                                    from: to,
                                    to: from,
                                    count: 1,
                                });
                            } else {
                                self.entries[to].received(from as u16);
                                self.entries[to].proxy = Some(PortName(2));
                                self.senders[to] += 1;
                            }
                        }
                        Wire::Release { from, to, count } => {
                            assert!(self.entries[to].release_from(from as u16, count));
                            self.wire.push_back(Wire::Released {
                                from: to,
                                to: from,
                                count,
                            });
                            self.settle(to);
                        }
                        Wire::Released { from, to, count } => {
                            self.entries[to].released_by(from as u16, count);
                            self.settle(to);
                        }
                    }
                }
            }
        }

        /// The safety property: while any node holds a sender or a right is in
        /// flight, the root still holds the real port.
        fn check(&self) {
            let live = self.senders.iter().any(|&s| s > 0)
                || self.wire.iter().any(|w| matches!(w, Wire::Right { .. }));
            if live {
                assert!(!self.root_released, "released while rights live");
            }
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..4, 0usize..4).prop_map(|(a, b)| Op::Give(a, b)),
            (0usize..4).prop_map(Op::Drop),
            (0usize..64).prop_map(Op::Deliver),
            (0usize..64).prop_map(Op::Deliver),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Rights given, dropped and released in any interleaving (crossings
        /// included): the root never lets go early, and once every sender is gone
        /// and every message delivered, every node has forgotten the port.
        #[test]
        fn release_is_never_early_and_always_completes(ops in proptest::collection::vec(op(), 1..120)) {
            let mut m = Model::new(4);
            for o in ops {
                m.step(o);
                m.check();
            }
            // Every sender lets go, including those made by rights still in flight.
            loop {
                for node in 0..4 {
                    while m.senders[node] > 0 {
                        m.step(Op::Drop(node));
                        m.check();
                    }
                }
                if m.wire.is_empty() {
                    break;
                }
                m.step(Op::Deliver(0));
                m.check();
            }
            prop_assert!(m.root_released);
            for e in m.entries.iter().skip(1) {
                prop_assert!(e.sources.is_empty() && e.dependents.is_empty(), "{:?}", e);
            }
        }
    }

    #[test]
    fn crossing_release_keeps_the_hold() {
        // Root sent 1 right; the holder drops it and releases while a second
        // right is in flight.
        let mut root = Entry {
            send: Some(PortName(1)),
            ..Entry::default()
        };
        let mut leaf = Entry {
            route: Some(0),
            ..Entry::default()
        };
        root.sent(1);
        leaf.received(0);
        root.sent(1); // in flight
        leaf.proxy = None;
        let rel = leaf.take_releases();
        assert_eq!(rel, vec![(0, 1)]);
        assert!(root.release_from(1, 1));
        assert_eq!(
            root.dependents.get(&1),
            Some(&1),
            "the crossing right holds"
        );
        leaf.received(0); // the crossing right arrives
        leaf.proxy = Some(PortName(9));
        leaf.released_by(0, 1);
        assert_eq!(leaf.sources.get(&0), Some(&1));
        assert!(!leaf.finished());
    }
}
