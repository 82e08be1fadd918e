//! The registry of blocked waiters: which [`WaiterToken`] waits where.
//!
//! Only a handful of threads wait at any moment in most systems, and every
//! blocking receive registers and every hand-off unregisters one, so the
//! table is a [`SmallMap`]. Tokens are arbitrary values chosen by the
//! embedder: both of its forms key on the whole token.

use super::WaitSite;
use crate::port::WaiterToken;
use crate::small_map::SmallMap;

/// Token → wait site.
pub(super) type Waiting = SmallMap<WaiterToken, WaitSite>;
