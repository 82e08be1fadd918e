//! Snapshots: what each sees, and what they cost.

use hurd_vm::VmError;
use snapshots::{Error, KEYS, Store};

/// One key on each page of the table.
const PER_PAGE: u64 = 16;

// ANCHOR: test
#[test]
fn a_snapshot_keeps_what_it_saw() -> Result<(), Error> {
    let mut store = Store::new(64)?;
    store.set(7, b"alice: 10")?;
    let snapshot = store.snapshot()?;
    store.set(7, b"alice: 0")?;
    store.set(8, b"bob: 10")?;
    assert_eq!(store.get(7)?, b"alice: 0");
    assert_eq!(store.get_from(&snapshot, 7)?, b"alice: 10");
    assert_eq!(store.get_from(&snapshot, 8)?, b"");
    Ok(())
}
// ANCHOR_END: test

#[test]
fn a_snapshot_copies_nothing_until_written() -> Result<(), Error> {
    let mut store = Store::new(64)?;
    for key in (0..KEYS).step_by(PER_PAGE as usize) {
        store.set(key, b"filled")?;
    }
    let free = store.free_frames();
    let snapshot = store.snapshot()?;
    assert_eq!(store.free_frames(), free, "the snapshot took frames");
    assert_eq!(store.stats().copy_ups, 0, "the snapshot copied pages");

    // A store into page 3 after the snapshot: that page, and only it, is
    // copied, into a shadow object in front of the table's.
    store.set(3 * PER_PAGE, b"changed")?;
    store.set(3 * PER_PAGE + 1, b"changed too")?;
    let stats = store.stats();
    assert_eq!((stats.copy_ups, stats.shadows), (1, 1));
    assert_eq!(store.free_frames(), free - 1);
    assert_eq!(store.get_from(&snapshot, 3 * PER_PAGE)?, b"filled");
    Ok(())
}

#[test]
fn the_scratch_page_stays_behind() -> Result<(), Error> {
    let mut store = Store::new(64)?;
    store.set(1, b"secret request")?;
    let snapshot = store.snapshot()?;
    assert_eq!(store.get_from(&snapshot, 1)?, b"secret request");
    assert_eq!(
        store.scratch_in(&snapshot, 14),
        Err(Error::Vm(VmError::InvalidAddress))
    );
    // The store itself still has it.
    store.set(2, b"next")?;
    Ok(())
}

#[test]
fn a_released_snapshot_gives_its_frames_back() -> Result<(), Error> {
    let mut store = Store::new(64)?;
    for key in (0..KEYS).step_by(PER_PAGE as usize) {
        store.set(key, b"filled")?;
    }
    let free = store.free_frames();
    let snapshot = store.snapshot()?;
    store.set(0, b"changed")?;
    store.set(5 * PER_PAGE, b"changed")?;
    assert_eq!(store.free_frames(), free - 2);
    store.release(snapshot)?;
    // The old copies of pages 0 and 5 are reachable from nothing now. The
    // next fault on the table walks its shadow chain and merges the object
    // nobody else uses into the shadow in front of it, dropping them.
    store.set(7 * PER_PAGE, b"changed")?;
    assert_eq!(store.stats().collapses, 1);
    assert_eq!(store.free_frames(), free, "the snapshot's pages were kept");
    assert_eq!(store.get(0)?, b"changed");
    assert_eq!(store.get(PER_PAGE)?, b"filled");
    Ok(())
}
