//! How a pager behaves: attributes it answers `init` with, and its
//! anti-starvation policy.

use hurd_vm::CopyStrategy;

/// A pager's settings.
///
/// # Anti-starvation: the minimum hold
///
/// A kernel that is granted a page needs a moment to use it: the faulting
/// thread retries its access after the supply arrives. If the page is taken
/// back at once because another kernel waits (as the seed's multi-client
/// libpager does), two writers can ping-pong a page forever without either
/// access completing. hurd-pager therefore lets every grant stand for at least
/// [`Config::min_hold`] (in the clock units given to
/// [`Coherence::handle`](crate::Coherence::handle); the hosted runtime uses
/// nanoseconds) before revoking it. Waiters are served strictly in FIFO order,
/// so every kernel gets its turn: with `k` kernels contending, a request waits
/// at most about `k` holds plus the message round trips. A hold is cut short
/// by nothing but the holder's own return of the page; zero restores the
/// seed's behaviour.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// `may_cache` answered to `init`.
    pub may_cache: bool,
    /// The copy strategy answered to `init`.
    pub copy_strategy: CopyStrategy,
    /// Supply pages precious, so kernels always return them (and the backend
    /// hears of evictions). libpager's `notify_on_evict`.
    pub precious: bool,
    /// The minimum time a grant stands before it is revoked.
    pub min_hold: u64,
}

impl Default for Config {
    /// Not cached, `MEMORY_OBJECT_COPY_DELAY`, not precious, a 200 µs hold
    /// (in nanoseconds).
    fn default() -> Self {
        Config {
            may_cache: false,
            copy_strategy: CopyStrategy::Delay,
            precious: false,
            min_hold: 200_000,
        }
    }
}
