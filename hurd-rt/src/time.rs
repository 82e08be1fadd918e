//! The kernel's clock: time since boot, as GNU Mach's `host_get_uptime64`
//! gives it, from the kernel's timer.
//!
//! [`Instant`] is a point on that clock, monotonic and shared by every task;
//! [`uptime_ms`] is the form hurd-auth's servers take for their deadlines
//! (`AuthServer::new(ipc, hurd_rt::time::uptime_ms, ..)`).

use core::ops::{Add, Sub};
use core::time::Duration;

use crate::trap;

/// Time since the kernel booted (zero off the kernel).
pub fn uptime() -> Duration {
    trap::call(hurd_abi::trap::Uptime {})
        .map(Duration::from_nanos)
        .unwrap_or(Duration::ZERO)
}

/// Milliseconds since the kernel booted: a monotonic clock for deadlines.
pub fn uptime_ms() -> u64 {
    u64::try_from(uptime().as_millis()).unwrap_or(u64::MAX)
}

/// A point in time on the kernel's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// Now.
    pub fn now() -> Instant {
        Instant(uptime())
    }

    /// The time from `earlier` to this instant (zero if `earlier` is later).
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// The time since this instant.
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// This instant plus `d`, if that can be represented.
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }

    /// Time since boot at this instant.
    pub fn since_boot(&self) -> Duration {
        self.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the largest instant.
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Zero if `earlier` is later.
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_subtract_without_going_negative() {
        let a = Instant(Duration::from_millis(5));
        let b = a + Duration::from_millis(10);
        assert_eq!(b - a, Duration::from_millis(10));
        assert_eq!(a - b, Duration::ZERO);
        assert_eq!(a.checked_add(Duration::MAX), None);
        // Off the kernel the clock stands at zero.
        assert_eq!(uptime(), Duration::ZERO);
        assert_eq!(Instant::now().elapsed(), Duration::ZERO);
    }
}
