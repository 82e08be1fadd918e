//! Pages and the state the kernel keeps for each resident one.

use crate::mmu::Frame;
use crate::prot::VmProt;

/// The page size: 4 KiB, as on x86.
pub const PAGE_SIZE: u64 = 4096;
/// `PAGE_SIZE` as a `usize`.
pub const PAGE_BYTES: usize = 4096;

/// Rounds down to a page boundary.
pub const fn trunc_page(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

/// Rounds up to a page boundary (saturating at the last page).
pub const fn round_page(addr: u64) -> u64 {
    match addr.checked_add(PAGE_SIZE - 1) {
        Some(a) => a & !(PAGE_SIZE - 1),
        None => !(PAGE_SIZE - 1),
    }
}

/// Whether `addr` is page-aligned.
pub const fn is_page_aligned(addr: u64) -> bool {
    addr & (PAGE_SIZE - 1) == 0
}

/// Identifies one fetch (a `data_request`) or unlock (a `data_unlock`) in
/// flight, so waiters learn how *that* request ended.
pub type FetchId = u64;

/// Where a page of an object stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PageState {
    /// The data is in a frame.
    Resident(Frame),
    /// Being fetched from the pager (`data_request` sent): fault on it waits.
    Busy(FetchId),
    /// The pager said it has no data and the object has a shadow: look there.
    Absent,
}

/// A page of a VM object.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Page {
    /// Where the data is.
    pub state: PageState,
    /// The lock value: the accesses the pager withholds.
    pub lock: VmProt,
    /// Modified since it came from (or last went back to) the pager. The MMU's
    /// dirty bits are folded in when it matters.
    pub dirty: bool,
    /// The kernel must return the page to the pager rather than drop it.
    pub precious: bool,
    /// A `data_unlock` is outstanding for this page.
    pub unlock: Option<FetchId>,
}

impl Page {
    /// A resident page with no lock.
    pub const fn resident(frame: Frame) -> Page {
        Page {
            state: PageState::Resident(frame),
            lock: VmProt::NONE,
            dirty: false,
            precious: false,
            unlock: None,
        }
    }

    /// A page being fetched.
    pub const fn busy(id: FetchId) -> Page {
        Page {
            state: PageState::Busy(id),
            lock: VmProt::NONE,
            dirty: false,
            precious: false,
            unlock: None,
        }
    }

    /// The frame, if resident.
    pub const fn frame(&self) -> Option<Frame> {
        match self.state {
            PageState::Resident(f) => Some(f),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding() {
        assert_eq!(trunc_page(4097), 4096);
        assert_eq!(round_page(4097), 8192);
        assert_eq!(round_page(4096), 4096);
        assert_eq!(round_page(u64::MAX), !4095);
        assert!(is_page_aligned(8192));
        assert!(!is_page_aligned(1));
    }
}
