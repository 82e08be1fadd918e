//! The coherence core against real hurd-vm kernels in a deterministic
//! world: the six invariants over random interleavings (with kernel deaths,
//! pageouts, unlock failures and syncs), and messages counted per fault.

mod sim;

use hurd_pager::{Call, Config, PageRange};
use proptest::prelude::*;
use sim::World;

#[derive(Clone, Debug)]
enum Step {
    Access { k: usize, page: u64, write: bool },
    Run(usize),
    ToPager(usize),
    ToKernel(usize),
    Backend,
    Advance(u64),
    Pageout { k: usize, page: u64 },
    Kill(usize),
    Unmap(usize),
    Sync,
    Return,
    Flush,
    Attributes,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..6usize, 0..4u64, any::<bool>()).prop_map(|(k, page, write)| Step::Access { k, page, write }),
        6 => (0..6usize).prop_map(Step::Run),
        10 => (0..6usize).prop_map(Step::ToPager),
        10 => (0..6usize).prop_map(Step::ToKernel),
        4 => Just(Step::Backend),
        2 => (1..4u64).prop_map(Step::Advance),
        1 => (0..6usize, 0..4u64).prop_map(|(k, page)| Step::Pageout { k, page }),
        1 => Just(Step::Sync),
        1 => Just(Step::Return),
        1 => Just(Step::Flush),
        1 => Just(Step::Attributes),
    ]
}

fn run(
    kernels: usize,
    pages: u64,
    hold: u64,
    locked: bool,
    read_only: usize,
    steps: &[Step],
    deaths: bool,
) -> World {
    let config = Config {
        min_hold: hold,
        ..Config::default()
    };
    let mut w = World::with_read_only(kernels, pages, config, read_only);
    w.write_locked = locked;
    for s in steps {
        let s = match s {
            Step::Access { k, .. }
            | Step::Run(k)
            | Step::ToPager(k)
            | Step::ToKernel(k)
            | Step::Pageout { k, .. }
            | Step::Kill(k)
            | Step::Unmap(k)
                if *k >= kernels =>
            {
                continue;
            }
            s => s.clone(),
        };
        match s {
            Step::Access { k, page, write } => {
                w.start(k, page, write);
            }
            Step::Run(k) => {
                w.run(k);
            }
            Step::ToPager(k) => {
                w.deliver_to_pager(k);
            }
            Step::ToKernel(k) => {
                w.deliver_to_kernel(k);
            }
            Step::Backend => {
                w.backend();
            }
            Step::Advance(d) => w.advance(d),
            Step::Pageout { k, page } => w.pageout(k, page),
            Step::Kill(k) => {
                if deaths && w.alive().len() > 1 {
                    w.kill(k);
                }
            }
            Step::Unmap(k) => {
                if deaths {
                    w.unmap(k);
                }
            }
            Step::Sync => {
                w.call(Call::Sync(PageRange::new(0, pages)));
            }
            Step::Return => {
                w.call(Call::Return(PageRange::new(0, pages)));
            }
            Step::Flush => {
                w.call(Call::Flush(PageRange::new(0, pages)));
            }
            Step::Attributes => {
                w.call(Call::ChangeAttributes {
                    may_cache: false,
                    copy_strategy: hurd_vm::CopyStrategy::Delay,
                });
            }
        }
        w.check_exclusive();
    }
    w.settle();
    w.check_settled();
    w
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Write exclusive, writes in order, no stale reads, every request and
    /// unlock answered, every requested lock reply arrives.
    #[test]
    fn invariants_hold_over_random_interleavings(
        kernels in 2..6usize,
        pages in 1..4u64,
        hold in 1..4u64,
        locked in any::<bool>(),
        read_only in 0..2usize,
        steps in prop::collection::vec(step(), 1..160),
    ) {
        let w = run(kernels, pages, hold, locked, read_only, &steps, false);
        prop_assert!(w.violations.is_empty(), "{:#?}", w.violations);
        prop_assert_eq!(w.core.stats().rejected, 0);
    }

    /// The same with kernels dying or unmapping (terminate) at random
    /// points: the others proceed.
    #[test]
    fn kernel_death_never_blocks_the_others(
        kernels in 2..6usize,
        pages in 1..4u64,
        hold in 1..4u64,
        steps in prop::collection::vec(
            prop_oneof![
                18 => step(),
                1 => (0..6usize).prop_map(Step::Kill),
                1 => (0..6usize).prop_map(Step::Unmap),
            ],
            1..160,
        ),
    ) {
        let w = run(kernels, pages, hold, false, 0, &steps, true);
        prop_assert!(w.violations.is_empty(), "{:#?}", w.violations);
    }
}

/// Messages on the wire for one fault, counted by the core.
fn messages(w: &World) -> u64 {
    let s = w.core.stats();
    s.messages_in + s.messages_out
}

#[test]
fn messages_per_fault() {
    let mut w = World::new(4, 2, Config::default());
    // A read fault on a page nobody holds: data_request, data_supply.
    let before = messages(&w);
    w.start(0, 0, false);
    w.settle();
    assert_eq!(messages(&w) - before, 2, "read fault on an unheld page");
    // More readers: two messages each.
    for k in 1..3 {
        let before = messages(&w);
        w.start(k, 0, false);
        w.settle();
        assert_eq!(messages(&w) - before, 2, "read fault by kernel {k}");
    }
    // A write fault by kernel 3 with three readers to revoke: data_request,
    // a lock_request and its lock_completed per reader, data_supply.
    let before = messages(&w);
    w.start(3, 0, true);
    w.settle();
    assert_eq!(messages(&w) - before, 2 + 2 * 3, "write fault, 3 readers");
    // An upgrade by the only reader of page 1: data_request and supply for
    // the read, then data_unlock and the granting lock_request.
    w.start(0, 1, false);
    w.settle();
    let before = messages(&w);
    w.start(0, 1, true);
    w.settle();
    assert_eq!(messages(&w) - before, 2, "upgrade without other readers");
    // A write fault on a page another kernel writes: request, lock_request,
    // data_return of the dirty page, lock_completed, supply.
    let before = messages(&w);
    w.start(1, 1, true);
    w.settle();
    assert_eq!(messages(&w) - before, 5, "write fault on a written page");
    w.check_settled();
    assert!(w.violations.is_empty(), "{:#?}", w.violations);
}

#[test]
fn two_writers_ping_pong_and_both_progress() {
    let mut w = World::new(
        2,
        1,
        Config {
            min_hold: 2,
            ..Config::default()
        },
    );
    for _ in 0..50 {
        w.start(0, 0, true);
        w.start(1, 0, true);
        // Deliver in the worst order for the seed's pager: each grant's
        // revocation right behind it.
        for _ in 0..20 {
            w.deliver_to_pager(0);
            w.deliver_to_pager(1);
            w.deliver_to_kernel(0);
            w.deliver_to_kernel(1);
            w.run(0);
            w.run(1);
            w.backend();
            w.advance(1);
        }
    }
    w.settle();
    w.check_settled();
    assert!(w.violations.is_empty(), "{:#?}", w.violations);
    let done: Vec<u64> = w.nodes.iter().flatten().map(|n| n.completed).collect();
    assert!(done.iter().all(|&d| d >= 40), "completed {done:?}");
}

#[test]
fn unlock_error_is_reported_on_the_next_request() {
    let mut w = World::new(2, 1, Config::default());
    w.write_locked = true;
    w.fail_unlocks = 1;
    w.start(0, 0, false);
    w.settle();
    // The write needs an unlock, which fails: the kernel's copy is flushed
    // and its next data_request for the page gets data_error.
    w.start(0, 0, true);
    w.settle();
    let n = w.nodes[0].as_ref().expect("kernel 0");
    assert_eq!((n.completed, n.failed), (1, 1));
    // The next attempt unlocks for real.
    w.start(0, 0, true);
    w.settle();
    w.start(1, 0, false);
    w.settle();
    w.check_settled();
    assert!(w.violations.is_empty(), "{:#?}", w.violations);
    assert_eq!(w.nodes[0].as_ref().map(|n| n.completed), Some(2));
}

#[test]
fn a_dead_writer_does_not_block_readers() {
    let mut w = World::new(3, 1, Config::default());
    w.start(0, 0, true);
    w.settle();
    // Kernel 1 wants the page; the pager asks kernel 0 for it, and kernel 0
    // dies before answering.
    w.start(1, 0, false);
    w.advance(Config::default().min_hold);
    for _ in 0..4 {
        w.deliver_to_pager(1);
    }
    w.kill(0);
    w.start(2, 0, false);
    w.settle();
    w.check_settled();
    assert!(w.violations.is_empty(), "{:#?}", w.violations);
    assert!(w.core.holders(0).iter().all(|(k, _)| k.0 != 0));
}

/// Without a minimum hold (the seed's policy), delivering each grant with
/// its revocation right behind it starves everyone; with one, all finish.
#[test]
fn minimum_hold_prevents_livelock() {
    let stuck = |hold: u64| {
        let mut w = World::new(
            3,
            1,
            Config {
                min_hold: hold,
                ..Config::default()
            },
        );
        for k in 0..3 {
            w.start(k, 0, true);
        }
        w.settle();
        w.nodes
            .iter()
            .flatten()
            .filter(|n| n.thread.is_some())
            .count()
    };
    assert!(stuck(0) > 0, "without a hold the writers ping-pong forever");
    assert_eq!(stuck(1), 0);
}
