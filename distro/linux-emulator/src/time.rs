//! Clocks and sleeping: Linux's clock ids on the kernel's one clock.
//!
//! The kernel keeps one clock, the time since boot (GNU Mach's
//! `host_get_uptime64`; `hurd_rt::time::uptime`, read from the PIT in steps
//! of about 838 ns). Every Linux clock is read from it:
//!
//! - `CLOCK_MONOTONIC`, `CLOCK_MONOTONIC_RAW`, `CLOCK_MONOTONIC_COARSE`,
//!   `CLOCK_BOOTTIME` (and `_ALARM`): the time since boot (the machine
//!   never suspends, so boot time and monotonic time agree);
//! - `CLOCK_REALTIME`, `CLOCK_REALTIME_COARSE`, `CLOCK_TAI` (and
//!   `_ALARM`), `gettimeofday`, `time`: hurd-rs has no wall clock yet, so
//!   real time counts from the boot as if the machine had booted at the
//!   epoch (1970-01-01 00:00:00 UTC);
//! - `CLOCK_PROCESS_CPUTIME_ID`, `CLOCK_THREAD_CPUTIME_ID`: the kernel
//!   keeps no CPU time per task or thread yet, so these read the time since
//!   boot, an upper bound of the CPU time used.
//!
//! Any other id (10, the old `CLOCK_SGI_CYCLE`; ids from 12 up; the
//! negative ids of per-process and per-file clocks) is `EINVAL`.
//! `nanosleep` and `clock_nanosleep` wait with a receive that times out;
//! a thread's CPU clock cannot be slept on (`EINVAL`, as on Linux), nor,
//! here, the process's (`EOPNOTSUPP`).

use core::time::Duration;

use linux_abi::Errno;
use linux_abi::flags::TIMER_ABSTIME;
use linux_abi::layout::misc::Timespec;

/// A Linux clock, as hurd-rs reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Real time: `CLOCK_REALTIME` and its kin.
    Realtime,
    /// Time since boot: `CLOCK_MONOTONIC`, `CLOCK_BOOTTIME` and their kin.
    Monotonic,
    /// The process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`).
    ProcessCpu,
    /// The thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`).
    ThreadCpu,
}

/// How fine the clock is: one step of the PIT (1/1193182 s), rounded up.
pub const RESOLUTION: Timespec = Timespec { sec: 0, nsec: 839 };

/// How fine the `_COARSE` clocks are: one timer tick (the kernel's 100 Hz).
pub const COARSE_RESOLUTION: Timespec = Timespec {
    sec: 0,
    nsec: 10_000_000,
};

impl Clock {
    /// The clock Linux names `id`, and whether it is a `_COARSE` one.
    ///
    /// # Errors
    /// `EINVAL` for an id Linux does not know or hurd-rs does not have.
    pub fn from_id(id: i32) -> Result<(Clock, bool), Errno> {
        Ok(match id {
            0 | 8 | 11 => (Clock::Realtime, false),
            5 => (Clock::Realtime, true),
            1 | 4 | 7 | 9 => (Clock::Monotonic, false),
            6 => (Clock::Monotonic, true),
            2 => (Clock::ProcessCpu, false),
            3 => (Clock::ThreadCpu, false),
            _ => return Err(Errno::Inval),
        })
    }

    /// The clock's time when the time since boot is `uptime`.
    pub fn read(self, uptime: Duration) -> Timespec {
        let ns = u64::try_from(uptime.as_nanos()).unwrap_or(u64::MAX);
        Timespec::from_nanos(ns)
    }
}

/// `clock_getres` for clock `id`.
///
/// # Errors
/// As [`Clock::from_id`].
pub fn resolution(id: i32) -> Result<Timespec, Errno> {
    let (_, coarse) = Clock::from_id(id)?;
    Ok(if coarse {
        COARSE_RESOLUTION
    } else {
        RESOLUTION
    })
}

/// How long `clock_nanosleep(id, flags, req)` waits when the time since
/// boot is `uptime` (`nanosleep` is `id` = `CLOCK_MONOTONIC`, `flags` =
/// 0): `req` itself, or with `TIMER_ABSTIME` the time until the clock
/// reads `req` (zero if it already does). Flags other than `TIMER_ABSTIME`
/// are ignored, as Linux ignores them.
///
/// # Errors
/// `EINVAL` for a bad clock id, a thread CPU clock, or a `req` with a
/// negative second or a nanosecond outside `0..1e9`; `EOPNOTSUPP` for the
/// process CPU clock.
pub fn sleep_time(
    id: i32,
    flags: u32,
    req: &Timespec,
    uptime: Duration,
) -> Result<Duration, Errno> {
    let (clock, _) = Clock::from_id(id)?;
    match clock {
        Clock::ThreadCpu => return Err(Errno::Inval),
        Clock::ProcessCpu => return Err(Errno::Opnotsupp),
        Clock::Realtime | Clock::Monotonic => {}
    }
    let ns = req.as_nanos().ok_or(Errno::Inval)?;
    let wanted = Duration::from_nanos(ns);
    Ok(if flags & TIMER_ABSTIME != 0 {
        wanted.saturating_sub(uptime)
    } else {
        wanted
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_by_id() {
        assert_eq!(Clock::from_id(0), Ok((Clock::Realtime, false)));
        assert_eq!(Clock::from_id(1), Ok((Clock::Monotonic, false)));
        assert_eq!(Clock::from_id(6), Ok((Clock::Monotonic, true)));
        assert_eq!(Clock::from_id(2), Ok((Clock::ProcessCpu, false)));
        for bad in [10, 12, 100, -1, -6, i32::MIN] {
            assert_eq!(Clock::from_id(bad), Err(Errno::Inval), "{bad}");
        }
        assert_eq!(resolution(5), Ok(COARSE_RESOLUTION));
        assert_eq!(resolution(1), Ok(RESOLUTION));
        assert_eq!(resolution(10), Err(Errno::Inval));
        let t = Clock::Monotonic.read(Duration::new(3, 5));
        assert_eq!((t.sec, t.nsec), (3, 5));
        let far = Clock::Realtime.read(Duration::MAX);
        assert!(far.sec > 0 && far.nsec < 1_000_000_000);
    }

    #[test]
    fn sleeping() {
        let now = Duration::from_secs(10);
        let ts = |sec, nsec| Timespec { sec, nsec };
        assert_eq!(
            sleep_time(1, 0, &ts(1, 500), now),
            Ok(Duration::new(1, 500))
        );
        assert_eq!(
            sleep_time(1, TIMER_ABSTIME, &ts(12, 0), now),
            Ok(Duration::from_secs(2))
        );
        assert_eq!(
            sleep_time(0, TIMER_ABSTIME, &ts(3, 0), now),
            Ok(Duration::ZERO),
            "a time already past"
        );
        assert_eq!(sleep_time(1, 0x10, &ts(0, 1), now), Ok(Duration::new(0, 1)));
        assert_eq!(sleep_time(1, 0, &ts(-1, 0), now), Err(Errno::Inval));
        assert_eq!(sleep_time(1, 0, &ts(0, -1), now), Err(Errno::Inval));
        assert_eq!(
            sleep_time(1, 0, &ts(0, 1_000_000_000), now),
            Err(Errno::Inval)
        );
        assert_eq!(sleep_time(3, 0, &ts(0, 1), now), Err(Errno::Inval));
        assert_eq!(sleep_time(2, 0, &ts(0, 1), now), Err(Errno::Opnotsupp));
        assert_eq!(sleep_time(10, 0, &ts(0, 1), now), Err(Errno::Inval));
    }
}
