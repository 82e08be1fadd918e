//! [`Clock`]: where servers get the time for deadlines and delays.

/// A monotonic clock in milliseconds. Servers are `no_std`, so the time comes
/// from the caller: [`StdClock`] hosted, a timer tick on the kernel, or a plain
/// closure (`|| ms`) in tests.
pub trait Clock {
    /// Milliseconds since some fixed point; never goes backwards.
    fn now_ms(&self) -> u64;
}

impl<F: Fn() -> u64> Clock for F {
    fn now_ms(&self) -> u64 {
        self()
    }
}

/// The wall of `std::time::Instant`, counted from the clock's creation.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug)]
pub struct StdClock {
    start: std::time::Instant,
}

#[cfg(feature = "std")]
impl StdClock {
    /// A clock starting at zero now.
    pub fn new() -> StdClock {
        StdClock {
            start: std::time::Instant::now(),
        }
    }
}

#[cfg(feature = "std")]
impl Default for StdClock {
    fn default() -> Self {
        StdClock::new()
    }
}

#[cfg(feature = "std")]
impl Clock for StdClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}
