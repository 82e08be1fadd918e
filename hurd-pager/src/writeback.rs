//! Writes to the backend, one at a time and in order.
//!
//! Returned data is queued here; a newer copy of a page still waiting
//! replaces the older one in place (so a page's versions still reach the
//! backend in order). Consecutive queued pages go out as one multi-page
//! write. Each write gets a sequence number so that a sync can wait for the
//! writes queued before it.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use hurd_vm::PAGE_SIZE;

const PAGE: usize = PAGE_SIZE as usize;

/// The most pages one backend write carries.
pub(crate) const MAX_BATCH: usize = 16;

#[derive(Debug)]
struct Queued {
    seq: u64,
    page: u64,
    data: Vec<u8>,
}

/// A write handed to the backend.
#[derive(Debug)]
pub(crate) struct InFlight {
    /// The highest sequence number it carries.
    pub seq: u64,
    /// The first page.
    pub page: u64,
    /// Whole pages.
    pub data: Vec<u8>,
}

impl InFlight {
    /// The pages it covers.
    pub fn pages(&self) -> u64 {
        (self.data.len() / PAGE) as u64
    }

    /// Page `page`'s data in it.
    pub fn page_data(&self, page: u64) -> Option<&[u8]> {
        let i = page.checked_sub(self.page)?;
        if i >= self.pages() {
            return None;
        }
        let at = i as usize * PAGE;
        self.data.get(at..at + PAGE)
    }
}

/// The write queue.
#[derive(Debug, Default)]
pub(crate) struct WriteBack {
    queue: VecDeque<Queued>,
    in_flight: Option<InFlight>,
    last_seq: u64,
}

impl WriteBack {
    /// Queues a page's newest contents.
    pub fn push(&mut self, page: u64, data: Vec<u8>) {
        self.last_seq += 1;
        if let Some(q) = self.queue.iter_mut().find(|q| q.page == page) {
            q.data = data;
            return;
        }
        let seq = self.last_seq;
        self.queue.push_back(Queued { seq, page, data });
    }

    /// The newest contents of `page` not yet in the backend.
    pub fn latest(&self, page: u64) -> Option<&[u8]> {
        if let Some(q) = self.queue.iter().find(|q| q.page == page) {
            return Some(&q.data);
        }
        self.in_flight.as_ref().and_then(|w| w.page_data(page))
    }

    /// The next write to hand to the backend, if none is in flight.
    pub fn start(&mut self) -> Option<(u64, Vec<u8>)> {
        if self.in_flight.is_some() {
            return None;
        }
        let first = self.queue.pop_front()?;
        let (page, mut seq, mut data) = (first.page, first.seq, first.data);
        let mut n = 1;
        while n < MAX_BATCH {
            match self.queue.front() {
                Some(q) if q.page == page + n as u64 => {}
                _ => break,
            }
            let Some(q) = self.queue.pop_front() else {
                break;
            };
            seq = seq.max(q.seq);
            data.extend_from_slice(&q.data);
            n += 1;
        }
        self.in_flight = Some(InFlight {
            seq,
            page,
            data: data.clone(),
        });
        Some((page, data))
    }

    /// The write in flight finished; returns it.
    pub fn finish(&mut self) -> Option<InFlight> {
        self.in_flight.take()
    }

    /// The sequence number of the last queued write.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Whether every write queued up to `seq` has finished.
    pub fn done_upto(&self, seq: u64) -> bool {
        self.queue.iter().all(|q| q.seq > seq)
            && self.in_flight.as_ref().is_none_or(|w| w.seq > seq)
    }

    /// Whether nothing is queued or in flight.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(b: u8) -> Vec<u8> {
        alloc::vec![b; PAGE]
    }

    #[test]
    fn newer_copy_replaces_a_queued_one_and_runs_batch() {
        let mut w = WriteBack::default();
        w.push(3, page(1));
        w.push(4, page(2));
        w.push(3, page(9));
        w.push(7, page(5));
        assert_eq!(w.latest(3).map(|d| d[0]), Some(9));
        let (p, d) = w.start().expect("write");
        assert_eq!((p, d.len()), (3, 2 * PAGE));
        assert_eq!((d[0], d[PAGE]), (9, 2));
        assert!(w.start().is_none(), "one at a time");
        assert_eq!(w.latest(4).map(|d| d[0]), Some(2));
        assert!(!w.done_upto(2));
        w.finish();
        assert!(w.done_upto(3));
        assert!(!w.done_upto(4));
        let (p, _) = w.start().expect("write");
        assert_eq!(p, 7);
        w.finish();
        assert!(w.is_empty() && w.done_upto(w.last_seq()));
    }
}
