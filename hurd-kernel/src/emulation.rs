//! A task's emulation vector, as the kernel keeps it: Mach's system-call
//! emulation (`task_set_emulation_vector`, `task_get_emulation_vector`,
//! `task_set_emulation`), for the system calls hurd-rs has no trap for.
//!
//! The vector maps the consecutive system-call numbers `start`,
//! `start + 1`, ... to handler addresses in the task (0: that number is not
//! emulated). Setting entries merges them into the vector, which grows to
//! the smallest range covering both the old entries and the new ones (as
//! GNU Mach's `task_set_emulation_vector_internal` does); hurd-rs bounds
//! that range to [`Emulation::MAX`] numbers, so the kernel's memory for it
//! stays bounded whatever a task asks.

use alloc::vec::Vec;

/// Why entries were not set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EmulationError {
    /// The start is negative (no hurd-rs trap is emulated).
    NegativeStart,
    /// The vector would cover more than [`Emulation::MAX`] numbers.
    TooLong,
    /// A handler is neither 0 nor a user address.
    BadHandler(u64),
}

/// A task's emulation vector (empty when it has none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Emulation {
    start: u64,
    handlers: Vec<u64>,
}

impl Emulation {
    /// The most numbers a vector covers.
    pub const MAX: usize = hurd_abi::EmulationVector::MAX;

    /// The handler of system call `number` (the whole of `rax`), if it has
    /// one.
    #[inline]
    pub fn handler(&self, number: u64) -> Option<u64> {
        let index = usize::try_from(number.checked_sub(self.start)?).ok()?;
        self.handlers.get(index).copied().filter(|&h| h != 0)
    }

    /// The first number the vector covers and its handlers (0 and none
    /// when the task has no vector).
    pub fn vector(&self) -> (u64, &[u64]) {
        (self.start, &self.handlers)
    }

    /// Sets the handlers of `start`, `start + 1`, ... to `handlers`,
    /// keeping the other entries (no handlers: nothing changes).
    ///
    /// # Errors
    ///
    /// [`EmulationError`] when `start` is negative, a handler is neither 0
    /// nor inside user space ([`hurd_abi::user_range_ok`]), or the merged
    /// vector would cover more than [`Emulation::MAX`] numbers; the vector
    /// is then unchanged.
    pub fn set(&mut self, start: i32, handlers: &[u64]) -> Result<(), EmulationError> {
        let start = u64::try_from(start).map_err(|_| EmulationError::NegativeStart)?;
        if let Some(&bad) = handlers
            .iter()
            .find(|&&h| h != 0 && !hurd_abi::user_range_ok(h, 1))
        {
            return Err(EmulationError::BadHandler(bad));
        }
        if handlers.is_empty() {
            return Ok(());
        }
        if handlers.len() > Self::MAX {
            return Err(EmulationError::TooLong);
        }
        let end = start + handlers.len() as u64;
        let (low, high) = if self.handlers.is_empty() {
            (start, end)
        } else {
            let old_end = self.start + self.handlers.len() as u64;
            (start.min(self.start), end.max(old_end))
        };
        if high - low > Self::MAX as u64 {
            return Err(EmulationError::TooLong);
        }
        let mut merged = alloc::vec![0; (high - low) as usize];
        if !self.handlers.is_empty() {
            let old = (self.start - low) as usize;
            merged[old..old + self.handlers.len()].copy_from_slice(&self.handlers);
        }
        let new = (start - low) as usize;
        merged[new..new + handlers.len()].copy_from_slice(handlers);
        self.start = low;
        self.handlers = merged;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn handlers_are_found_by_number() {
        let mut e = Emulation::default();
        assert_eq!(e.handler(0), None);
        e.set(2, &[0x40_1000, 0, 0x40_2000]).expect("accepted");
        assert_eq!(e.handler(1), None);
        assert_eq!(e.handler(2), Some(0x40_1000));
        assert_eq!(e.handler(3), None, "0 is not emulated");
        assert_eq!(e.handler(4), Some(0x40_2000));
        assert_eq!(e.handler(5), None);
        assert_eq!(e.handler(u64::MAX), None);
        // The upper half of rax counts: 2 + 2^32 is another number.
        assert_eq!(e.handler(2 + (1 << 32)), None);
    }

    #[test]
    fn setting_merges_as_mach_does() {
        let mut e = Emulation::default();
        e.set(10, &[0x10_0000; 2]).expect("accepted");
        e.set(5, &[0x20_0000]).expect("accepted");
        assert_eq!(
            e.vector(),
            (5, &[0x20_0000, 0, 0, 0, 0, 0x10_0000, 0x10_0000][..])
        );
        e.set(13, &[0x30_0000]).expect("accepted");
        assert_eq!(e.vector().1.len(), 9);
        assert_eq!(e.handler(13), Some(0x30_0000));
        assert_eq!(e.handler(11), Some(0x10_0000));
        // Setting no entries changes nothing.
        let before = e.clone();
        e.set(2000, &[]).expect("accepted");
        assert_eq!(e, before);
        let mut fresh = Emulation::default();
        fresh.set(2000, &[]).expect("accepted");
        fresh.set(5, &[0x20_0000]).expect("accepted");
        assert_eq!(fresh.vector(), (5, &[0x20_0000][..]));
        // One entry, as task_set_emulation sets it: cleared with 0.
        e.set(11, &[0]).expect("accepted");
        assert_eq!(e.handler(11), None);
    }

    #[test]
    fn bad_requests_change_nothing() {
        let mut e = Emulation::default();
        e.set(0, &[0x40_0000; 4]).expect("accepted");
        let before = e.clone();
        assert_eq!(e.set(-1, &[0x40_0000]), Err(EmulationError::NegativeStart));
        let kernel = 0xffff_ffff_8010_0000;
        assert_eq!(e.set(1, &[kernel]), Err(EmulationError::BadHandler(kernel)));
        assert_eq!(e.set(1, &[8]), Err(EmulationError::BadHandler(8)));
        assert_eq!(
            e.set(Emulation::MAX as i32, &[0x40_0000]),
            Err(EmulationError::TooLong)
        );
        assert_eq!(
            e.set(0, &[0x40_0000; Emulation::MAX + 1]),
            Err(EmulationError::TooLong)
        );
        assert_eq!(e.set(i32::MAX, &[0x40_0000]), Err(EmulationError::TooLong));
        assert_eq!(e, before);
        assert!(e.set(Emulation::MAX as i32 - 1, &[0x40_0000]).is_ok());
    }

    proptest! {
        /// Against a map from number to handler: every set either fails
        /// and changes nothing, or sets exactly its entries; the vector
        /// never covers more than MAX numbers.
        #[test]
        fn behaves_like_a_map(
            ops in proptest::collection::vec(
                (0i32..3000, proptest::collection::vec(prop_oneof![Just(0u64), 0x1_0000u64..0x2_0000], 0..40)),
                0..30,
            )
        ) {
            let mut e = Emulation::default();
            let mut model = alloc::collections::BTreeMap::new();
            for (start, handlers) in ops {
                let before = e.clone();
                match e.set(start, &handlers) {
                    Ok(()) => {
                        for (i, &h) in handlers.iter().enumerate() {
                            model.insert(start as u64 + i as u64, h);
                        }
                    }
                    Err(_) => prop_assert_eq!(&e, &before),
                }
                prop_assert!(e.vector().1.len() <= Emulation::MAX);
                let sampled = (0..3100u64).step_by(7);
                for n in sampled.chain(model.keys().copied()) {
                    let want = model.get(&n).copied().filter(|&h| h != 0);
                    prop_assert_eq!(e.handler(n), want);
                }
            }
        }
    }
}
