//! Property test: any sequence of calls on a socket pair answers as a
//! plain model of two bounded byte queues says — the bytes read are the
//! bytes written, in order, none lost or made up; reads wait, find end of
//! file or fail exactly when the model says; `io_select` readiness agrees
//! with the call that follows; no buffer grows past its bound; nothing
//! panics.

use std::collections::VecDeque;

use pflocal::{
    BUFFER, Errno, PIPE_BUF, SELECT_READ, SELECT_WRITE, SHUT_RD, SHUT_WR, SOCK_STREAM, SocketId,
    Sockets,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Write(usize, usize),
    Read(usize, u64),
    Shutdown(usize, i32),
    Close(usize),
    NonBlocking(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let side = 0usize..2;
    prop_oneof![
        4 => (side.clone(), prop_oneof![0usize..=PIPE_BUF + 8, 0usize..=BUFFER + 8])
            .prop_map(|(s, n)| Op::Write(s, n)),
        4 => (side.clone(), prop_oneof![0u64..64, 0u64..=(BUFFER as u64 + 8), Just(u64::MAX)])
            .prop_map(|(s, n)| Op::Read(s, n)),
        1 => (side.clone(), -1i32..4).prop_map(|(s, d)| Op::Shutdown(s, d)),
        1 => side.clone().prop_map(Op::Close),
        1 => (side, any::<bool>()).prop_map(|(s, b)| Op::NonBlocking(s, b)),
    ]
}

#[derive(Default, Clone)]
struct Side {
    closed: bool,
    read_shut: bool,
    write_shut: bool,
    nonblocking: bool,
    /// What the other side wrote, for this one to read.
    incoming: VecDeque<u8>,
}

struct Model {
    sides: [Side; 2],
}

impl Model {
    fn at_end(&self, s: usize) -> bool {
        let (me, other) = (&self.sides[s], &self.sides[1 - s]);
        me.read_shut || other.closed || other.write_shut
    }

    fn broken(&self, s: usize) -> bool {
        let (me, other) = (&self.sides[s], &self.sides[1 - s]);
        me.write_shut || other.closed || other.read_shut
    }

    fn read(&mut self, s: usize, amount: u64) -> Result<Option<Vec<u8>>, Errno> {
        if self.sides[s].closed {
            return Err(Errno::BadF);
        }
        let at_end = self.at_end(s);
        let me = &mut self.sides[s];
        if amount == 0 {
            return Ok(Some(Vec::new()));
        }
        if !me.incoming.is_empty() {
            let n = (amount.min(me.incoming.len() as u64)) as usize;
            return Ok(Some(me.incoming.drain(..n).collect()));
        }
        if at_end {
            Ok(Some(Vec::new()))
        } else if me.nonblocking {
            Err(Errno::Again)
        } else {
            Ok(None)
        }
    }

    fn write(&mut self, s: usize, data: &[u8]) -> Result<Option<usize>, Errno> {
        if self.sides[s].closed {
            return Err(Errno::BadF);
        }
        if data.is_empty() {
            return Ok(Some(0));
        }
        if self.broken(s) {
            return Err(Errno::Pipe);
        }
        let nonblocking = self.sides[s].nonblocking;
        let other = &mut self.sides[1 - s];
        let room = BUFFER - other.incoming.len();
        let n = if data.len() <= PIPE_BUF {
            if data.len() <= room { data.len() } else { 0 }
        } else {
            data.len().min(room)
        };
        if n == 0 {
            return if nonblocking {
                Err(Errno::Again)
            } else {
                Ok(None)
            };
        }
        other.incoming.extend(&data[..n]);
        Ok(Some(n))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_pair_answers_as_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut t = Sockets::new();
        let a = t.create(SOCK_STREAM, 0).expect("create");
        let b = t.create(SOCK_STREAM, 0).expect("create");
        t.connect2(a, b).expect("connect2");
        let ids: [SocketId; 2] = [a, b];
        let mut m = Model { sides: [Side::default(), Side::default()] };
        let mut counter = 0u8;
        for op in ops {
            match op {
                Op::Write(s, n) => {
                    // Distinct bytes, so that a byte lost or repeated shows.
                    let data: Vec<u8> = (0..n).map(|i| counter.wrapping_add(i as u8)).collect();
                    counter = counter.wrapping_add(n as u8).wrapping_add(1);
                    prop_assert_eq!(t.write(ids[s], &data), m.write(s, &data));
                }
                Op::Read(s, n) => prop_assert_eq!(t.read(ids[s], n), m.read(s, n)),
                Op::Shutdown(s, d) => {
                    let expect = if m.sides[s].closed {
                        Err(Errno::BadF)
                    } else if !(0..=2).contains(&d) {
                        Err(Errno::Inval)
                    } else {
                        let me = &mut m.sides[s];
                        if d != SHUT_WR {
                            me.read_shut = true;
                            me.incoming.clear();
                        }
                        if d != SHUT_RD {
                            me.write_shut = true;
                        }
                        Ok(())
                    };
                    prop_assert_eq!(t.shutdown(ids[s], d), expect);
                }
                Op::Close(s) => {
                    t.close(ids[s]);
                    m.sides[s].closed = true;
                    m.sides[s].incoming.clear();
                }
                Op::NonBlocking(s, on) => {
                    let expect = if m.sides[s].closed { Err(Errno::BadF) } else { Ok(()) };
                    if expect.is_ok() {
                        m.sides[s].nonblocking = on;
                    }
                    prop_assert_eq!(t.set_nonblocking(ids[s], on), expect);
                }
            }
            // After every call: the bounds, and readiness against the model.
            for (s, &id) in ids.iter().enumerate() {
                if m.sides[s].closed {
                    prop_assert_eq!(t.ready(id, SELECT_READ | SELECT_WRITE), Err(Errno::BadF));
                    continue;
                }
                let pending = m.sides[s].incoming.len();
                prop_assert!(pending <= BUFFER);
                prop_assert_eq!(t.readable(id), Ok(pending));
                let readable = pending > 0 || m.at_end(s);
                let other_room = if m.sides[1 - s].closed {
                    0
                } else {
                    BUFFER - m.sides[1 - s].incoming.len()
                };
                let writable = other_room >= PIPE_BUF || m.broken(s);
                let expect = (if readable { SELECT_READ } else { 0 })
                    | (if writable { SELECT_WRITE } else { 0 });
                prop_assert_eq!(t.ready(id, SELECT_READ | SELECT_WRITE), Ok(expect));
                prop_assert_eq!(t.ready(id, SELECT_WRITE), Ok(expect & SELECT_WRITE));
                prop_assert_eq!(t.hung_up(id), Ok(m.at_end(s)));
            }
        }
        prop_assert_eq!(t.len(), m.sides.iter().filter(|s| !s.closed).count());
    }
}
