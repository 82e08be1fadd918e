//! Kernels that died, waiting for what they sent before dying.
//!
//! A pager receives on a port set, which is not served in global arrival
//! order: when a kernel's control port dies, messages it sent earlier (the
//! `data_return` of a dirty page, say) may still be queued on the pager's
//! ports. Both runtimes therefore handle a death only after the messages
//! queued at that moment on each of the pager's ports have been handled.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use hurd_ipc::{PortName, UserIpc};

/// Deaths waiting for the messages queued before them; `T` says whose death
/// (a kernel, or a pager and a kernel).
#[derive(Debug)]
pub struct Deaths<T> {
    waiting: Vec<(T, BTreeMap<PortName, u32>)>,
}

impl<T> Default for Deaths<T> {
    fn default() -> Self {
        Deaths {
            waiting: Vec::new(),
        }
    }
}

impl<T> Deaths<T> {
    /// None waiting.
    pub fn new() -> Deaths<T> {
        Deaths::default()
    }

    /// Records the death of `who`, to be handled after the messages queued
    /// now on `ports` (the pager's receive rights, in `ipc`'s space). Gives
    /// `who` back when nothing is queued: handle it at once.
    pub fn died<I: UserIpc + ?Sized>(
        &mut self,
        ipc: &I,
        ports: impl IntoIterator<Item = PortName>,
        who: T,
    ) -> Option<T> {
        let before: BTreeMap<PortName, u32> = ports
            .into_iter()
            .filter_map(|port| {
                let n = ipc.port_get_receive_status(port).ok()?.msgcount;
                (n > 0).then_some((port, n))
            })
            .collect();
        if before.is_empty() {
            return Some(who);
        }
        self.waiting.push((who, before));
        None
    }

    /// One message received on `port` has been handled: the deaths now due,
    /// in the order they happened.
    pub fn handled(&mut self, port: PortName) -> Vec<T> {
        if self.waiting.is_empty() {
            return Vec::new();
        }
        for (_, before) in &mut self.waiting {
            if let Some(n) = before.get_mut(&port) {
                *n -= 1;
                if *n == 0 {
                    before.remove(&port);
                }
            }
        }
        let (due, rest): (Vec<_>, Vec<_>) = core::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|(_, before)| before.is_empty());
        self.waiting = rest;
        due.into_iter().map(|(who, _)| who).collect()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_ipc::hosted::Runtime;
    use hurd_ipc::{Disposition, Message, RightType};

    #[test]
    fn a_death_waits_for_what_was_queued_before_it() {
        let rt = Runtime::new();
        let task = rt.task();
        let a = task.port_allocate(RightType::Receive).expect("a");
        let b = task.port_allocate(RightType::Receive).expect("b");
        let mut deaths = Deaths::new();
        // Nothing queued: handle it now.
        assert_eq!(deaths.died(&task, [a, b], 1), Some(1));
        for _ in 0..2 {
            task.send(Message::new(0, a, Disposition::MakeSend))
                .expect("send");
        }
        task.send(Message::new(0, b, Disposition::MakeSend))
            .expect("send");
        assert_eq!(deaths.died(&task, [a, b], 2), None);
        assert!(deaths.handled(a).is_empty());
        assert!(deaths.handled(b).is_empty());
        assert_eq!(deaths.handled(a), [2]);
        assert!(deaths.is_empty());
    }
}
