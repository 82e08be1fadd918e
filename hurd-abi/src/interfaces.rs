//! The kernel's RPCs on task and thread ports, defined once with
//! [`hurd_ipc::interface!`]: the subset of GNU Mach's `mach.defs`
//! (subsystem 2000) and `mach_port.defs` (subsystem 3200) the hurd-rs
//! kernel serves, with GNU Mach's ids and argument order, and hurd-rs's own
//! routines (subsystem 4000).
//!
//! The kernel decodes requests with the generated `Call` enums and answers
//! with the generated `Reply`s; programs call through the generated
//! `Client`s (or build a `Call` themselves). The target of a routine is the
//! port the request is sent to: a task port (`mach_task_self()`, or one
//! `task_create` or `thread_create` gave) or a thread port. The routines'
//! `skip` entries keep GNU Mach's numbering: their ids, like any id the
//! kernel does not serve, are answered with `MIG_BAD_ID`; a request whose
//! items do not match its routine with `MIG_BAD_ARGUMENTS`. Either way the
//! rights the request carried are released.
//!
//! ```
//! use hurd_abi::mach;
//!
//! assert_eq!(mach::id::task_create, 2007);
//! assert_eq!(mach::id::vm_allocate, 2021);
//! assert_eq!(mach::id::thread_resume, 2063);
//! assert_eq!(hurd_abi::mach_port::id::mach_port_insert_right, 3215);
//! assert_eq!(hurd_abi::hurd_task::id::task_notify_exit, 4000);
//! ```

use alloc::vec::Vec;

use arrayvec::ArrayVec;

use hurd_ipc::mig::MsgArg;
use hurd_ipc::{Item, OolItem, PortItem};

use crate::thread_state;

hurd_ipc::interface! {
    /// GNU Mach's `mach.defs` (subsystem 2000), as far as the hurd-rs
    /// kernel serves it. Task routines go to a task port, thread routines
    /// to a thread port (the other kind answers `KERN_INVALID_ARGUMENT`, as
    /// GNU Mach does for a port that is not the routine's kind).
    pub mod mach: subsystem 2000 {
        skip old_port_allocate();
        skip old_port_deallocate();
        skip old_port_enable();
        skip old_port_disable();
        skip old_port_select();
        skip old_port_set_backlog();
        skip old_port_status();
        /// `task_create(target_task, inherit_memory) → child_task`: a new
        /// task with an empty IPC space, and an empty address map or (when
        /// `inherit_memory`) a copy of the target's by its inheritance
        /// attributes; it has no threads. The reply carries a send right to
        /// its task port.
        routine task_create(inherit_memory: bool) -> (child_task: PortItem);
        /// `task_terminate(target_task)`: its threads stop, its ports die,
        /// its memory is freed; its end is reported with
        /// [`EXIT_TERMINATED`](crate::EXIT_TERMINATED).
        routine task_terminate();
        /// `task_get_emulation_vector(task) → vector_start,
        /// emulation_vector`: the task's emulation vector (see
        /// [`EmulationVector`]); an empty one at 0 when it has none.
        routine task_get_emulation_vector() -> (vector_start: i32, emulation_vector: EmulationVector);
        /// `task_set_emulation_vector(task, vector_start, emulation_vector)`:
        /// the handlers of the system calls `vector_start`,
        /// `vector_start + 1`, ... (0: that call is not emulated), merged
        /// into the task's vector, which grows to cover both ranges. A
        /// negative start, a handler outside user space, or a vector that
        /// would span more than [`EmulationVector::MAX`] calls is
        /// `KERN_INVALID_ARGUMENT` and changes nothing. A task made by
        /// `task_create` starts with its parent's vector.
        routine task_set_emulation_vector(vector_start: i32, emulation_vector: EmulationVector);
        skip task_threads();
        skip task_info();
        skip old_task_status();
        skip old_task_set_notify();
        skip old_thread_create();
        /// `thread_terminate(target_thread)`: the thread ends (its task
        /// does not, even if it was the last).
        routine thread_terminate();
        /// `thread_get_state(target_thread, flavor, old_stateCnt) →
        /// old_state`: `old_state_count` is how many 64-bit words the
        /// caller takes (at least [`thread_state::COUNT`]). A thread cannot
        /// get its own state this way (`KERN_INVALID_ARGUMENT`).
        routine thread_get_state(flavor: u32, old_state_count: u32) -> (old_state: ThreadState);
        /// `thread_set_state(target_thread, flavor, new_state)`: checked
        /// (user addresses only, arithmetic flags only); a thread waiting in
        /// the kernel stops waiting and resumes at the new state.
        routine thread_set_state(flavor: u32, new_state: ThreadState);
        skip thread_info();
        skip old_thread_mutate();
        /// `vm_allocate(target_task, address, size, anywhere) → address`:
        /// zero-filled memory in the target task's map, at `address` or
        /// (when `anywhere`) wherever there is room at or above it.
        routine vm_allocate(address: u64, size: u64, anywhere: bool) -> (address: u64);
        skip old_vm_allocate_with_pager();
        /// `vm_deallocate(target_task, address, size)`.
        routine vm_deallocate(address: u64, size: u64);
        /// `vm_protect(target_task, address, size, set_maximum,
        /// new_protection)` (read 1, write 2, execute 4).
        routine vm_protect(address: u64, size: u64, set_maximum: bool, new_protection: u32);
        skip vm_inherit();
        /// `vm_read(target_task, address, size) → data`: whole pages, at
        /// most [`VM_READ_MAX`](crate::VM_READ_MAX) bytes, out of line. A
        /// page only a pager can give is `KERN_MEMORY_ERROR` (the kernel
        /// answers at once and does not wait).
        routine vm_read(address: u64, size: u64) -> (data: OolItem);
        /// `vm_write(target_task, address, data)`: whole pages, all of them
        /// allocated and writable, or nothing is written.
        routine vm_write(address: u64, data: OolItem);
        skip vm_copy();
        skip vm_region();
        skip vm_statistics();
        skip old_task_by_unix_pid();
        skip old_vm_pageable();
        skip mach_ports_register();
        skip mach_ports_lookup();
        skip old_unix_pid();
        skip old_netipc_listen();
        skip old_netipc_ignore();
        skip old_memory_object_data_provided();
        skip memory_object_data_unavailable();
        skip memory_object_get_attributes();
        skip vm_set_default_memory_manager();
        skip old_pager_flush_request();
        skip old_memory_object_lock_request();
        skip memory_object_lock_request();
        skip old_task_get_emulation_vector_2();
        skip old_task_set_emulation_vector_2();
        skip old_host_info();
        skip old_slot_info();
        skip old_cpu_control();
        skip old_thread_statistics();
        skip old_task_statistics();
        skip old_netport_init();
        skip old_netport_enter();
        skip old_netport_remove();
        skip old_thread_set_priority();
        /// `task_suspend(target_task)`: one more suspension; no thread of
        /// the task runs while the count is not zero.
        routine task_suspend();
        /// `task_resume(target_task)`: one suspension less
        /// (`KERN_FAILURE` when there is none).
        routine task_resume();
        skip task_get_special_port();
        skip task_set_special_port();
        skip old_task_info();
        /// `thread_create(parent_task) → child_thread`: a new thread of the
        /// target task, suspended once, with a zero state; the reply carries
        /// a send right to its thread port.
        routine thread_create() -> (child_thread: PortItem);
        // ANCHOR: thread_suspend
        /// `thread_suspend(target_thread)`.
        routine thread_suspend();
        // ANCHOR_END: thread_suspend
        /// `thread_resume(target_thread)`: `KERN_FAILURE` when it is not
        /// suspended.
        routine thread_resume();
        /// `thread_abort(target_thread)`: what the thread waits for in the
        /// kernel is given up: a `mach_msg` send returns
        /// `MACH_SEND_INTERRUPTED`, a receive `MACH_RCV_INTERRUPTED`, a
        /// console read `KERN_ABORTED`; a system call waiting for a page
        /// from a pager is made again from the start, and a fault waiting
        /// for one is taken again. A received message already on its way is
        /// delivered. A thread not waiting is left alone.
        routine thread_abort();
        skip old_thread_get_state();
        skip old_thread_set_state();
        skip thread_get_special_port();
        skip thread_set_special_port();
        skip old_thread_info();
        /// `task_set_emulation(target_task, routine_entry_pt,
        /// routine_number)`: one entry of the emulation vector, as
        /// `task_set_emulation_vector(routine_number, [routine_entry_pt])`.
        routine task_set_emulation(routine_entry_pt: u64, routine_number: i32);
    }
}

hurd_ipc::interface! {
    /// GNU Mach's `mach_port.defs` (subsystem 3200), sent to a task port:
    /// each call acts on that task's IPC space (the caller's own through
    /// `mach_task_self()`). Right types are `MACH_PORT_RIGHT_*` (send 0,
    /// receive 1, send-once 2, port set 3, dead name 4), names are the
    /// target space's. A thread port answers `KERN_INVALID_TASK`.
    pub mod mach_port: subsystem 3200 {
        /// `mach_port_names(task) → names, types`: every name in the space,
        /// in name order, with its type bits.
        routine mach_port_names() -> (names: Vec<u32>, types: Vec<u32>);
        /// `mach_port_type(task, name) → ptype`: the type bits of `name`.
        routine mach_port_type(name: u32) -> (ptype: u32);
        skip mach_port_rename();
        /// `mach_port_allocate_name(task, right, name)`: a receive right,
        /// port set or dead name under the name given.
        routine mach_port_allocate_name(right: u32, name: u32);
        /// `mach_port_allocate(task, right) → name`.
        routine mach_port_allocate(right: u32) -> (name: u32);
        /// `mach_port_destroy(task, name)`: every right under the name.
        routine mach_port_destroy(name: u32);
        /// `mach_port_deallocate(task, name)`: one user reference of a
        /// send, send-once or dead-name right.
        routine mach_port_deallocate(name: u32);
        /// `mach_port_get_refs(task, name, right) → refs`.
        routine mach_port_get_refs(name: u32, right: u32) -> (refs: u32);
        /// `mach_port_mod_refs(task, name, right, delta)`.
        routine mach_port_mod_refs(name: u32, right: u32, delta: i32);
        skip old_mach_port_get_receive_status();
        /// `mach_port_set_qlimit(task, name, qlimit)`.
        routine mach_port_set_qlimit(name: u32, qlimit: u32);
        /// `mach_port_set_mscount(task, name, mscount)`.
        routine mach_port_set_mscount(name: u32, mscount: u32);
        skip mach_port_get_set_status();
        /// `mach_port_move_member(task, member, after)`: into the port set
        /// `after`, or (0) out of its set.
        routine mach_port_move_member(member: u32, after: u32);
        /// `mach_port_request_notification(task, name, id, sync, notify) →
        /// previous`: `id` a `MACH_NOTIFY_*` message id; `notify` a
        /// send-once right (a null name cancels), `previous` the request it
        /// replaces (a null name when none), now the caller's.
        routine mach_port_request_notification(name: u32, id: i32, sync: u32, notify: PortItem) -> (previous: PortItem);
        /// `mach_port_insert_right(task, name, poly)`: the right the request
        /// carries goes into the space under `name` — how a task hands a new
        /// one its first ports. A name in use (for another port) or not
        /// valid is refused and the right released.
        routine mach_port_insert_right(name: u32, poly: PortItem);
        /// `mach_port_extract_right(task, name, msgt_name) → poly`: the
        /// right, taken out of the space (`msgt_name` a
        /// `MACH_MSG_TYPE_*`: move-receive, copy-send, make-send,
        /// move-send, make-send-once, move-send-once).
        routine mach_port_extract_right(name: u32, msgt_name: u32) -> (poly: PortItem);
        /// `mach_port_get_receive_status(task, name) → status`.
        routine mach_port_get_receive_status(name: u32) -> (status: ReceiveStatus);
        /// `mach_port_set_seqno(task, name, seqno)`.
        routine mach_port_set_seqno(name: u32, seqno: u32);
    }
}

hurd_ipc::interface! {
    /// hurd-rs's own routines on a task port (subsystem 4000): what the
    /// Hurd's servers need from the kernel that GNU Mach has no routine for.
    pub mod hurd_task: subsystem 4000 {
        /// `task_notify_exit(task, notify)`: when the task ends, the kernel
        /// sends [`task_exited`](Call::task_exited) through `notify` (a
        /// send-once right) with its exit status. Registered before the
        /// task's first thread runs, it cannot miss the end (on the Hurd,
        /// proc learns of a task's end this way).
        routine task_notify_exit(notify: PortItem);
        /// The notification `task_notify_exit` asks for: the status is what
        /// the task returned, [`EXIT_TERMINATED`](crate::EXIT_TERMINATED),
        /// or [`EXIT_EXCEPTION_BASE`](crate::EXIT_EXCEPTION_BASE) plus the
        /// vector of the exception it was killed for. Sent by the kernel,
        /// never to it.
        simpleroutine task_exited(status: u64);
        /// `mach_port_identity(task, name) → id`: the global identity of the
        /// port `name` names in the task's space (see `hurd_ipc::PortId`),
        /// the same in every space — how a server recognises a port it is
        /// handed again.
        routine mach_port_identity(name: u32) -> (id: u64);
    }
}

/// A thread state as `thread_get_state` / `thread_set_state` move it
/// (GNU Mach's `thread_state_t`): an array of 64-bit words, at most
/// [`ThreadState::MAX`], in-line little-endian bytes on the wire. Flavor
/// [`thread_state::FLAVOR`] is [`thread_state::COUNT`] words in the order of
/// [`thread_state::REGISTERS`]; a state of another length is refused by the
/// kernel with `KERN_INVALID_ARGUMENT`, as GNU Mach does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadState {
    words: ArrayVec<u64, { ThreadState::MAX }>,
}

impl ThreadState {
    /// The most words a state may have.
    pub const MAX: usize = 32;

    /// The state of flavor [`thread_state::FLAVOR`] holding `registers`.
    pub fn new(registers: [u64; thread_state::COUNT]) -> ThreadState {
        ThreadState {
            words: registers.into_iter().collect(),
        }
    }

    /// A state of any length up to [`ThreadState::MAX`] words (`None` when
    /// longer).
    pub fn from_words(words: &[u64]) -> Option<ThreadState> {
        let words = ArrayVec::try_from(words).ok()?;
        Some(ThreadState { words })
    }

    /// Its words.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The registers of flavor [`thread_state::FLAVOR`], when it has exactly
    /// [`thread_state::COUNT`] words.
    pub fn registers(&self) -> Option<[u64; thread_state::COUNT]> {
        self.words.as_slice().try_into().ok()
    }
}

impl MsgArg for ThreadState {
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Bytes(
            self.words.iter().flat_map(|w| w.to_le_bytes()).collect(),
        ));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Bytes(b) if b.len() % 8 == 0 && b.len() <= ThreadState::MAX * 8)
    }
    fn decode(item: Item) -> ThreadState {
        let mut state = ThreadState::default();
        if let Item::Bytes(bytes) = item {
            for chunk in bytes.chunks_exact(8).take(ThreadState::MAX) {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                state.words.push(u64::from_le_bytes(b));
            }
        }
        state
    }
}

/// A task's emulation vector (`emulation_vector_t`): the user addresses of
/// the handlers of consecutive system-call numbers, 0 for a number that is
/// not emulated; at most [`EmulationVector::MAX`] entries, in-line
/// little-endian bytes on the wire.
///
/// When a thread of the task makes a system call whose number (`rax`,
/// non-negative: no hurd-rs trap) has a handler, the kernel returns to user
/// mode at the handler with every register as `syscall` left it (`rcx` the
/// address after the `syscall`, `r11` the flags); it writes no memory of the
/// task. A number without one returns `-ENOSYS` in `rax`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmulationVector {
    entries: Vec<u64>,
}

impl EmulationVector {
    /// The most entries a vector has (hurd-rs's bound).
    pub const MAX: usize = 1024;

    /// A vector of `entries` (`None` when there are more than
    /// [`EmulationVector::MAX`]).
    pub fn new(entries: &[u64]) -> Option<EmulationVector> {
        (entries.len() <= Self::MAX).then(|| EmulationVector {
            entries: entries.to_vec(),
        })
    }

    /// Its entries.
    pub fn entries(&self) -> &[u64] {
        &self.entries
    }
}

impl MsgArg for EmulationVector {
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Bytes(
            self.entries.iter().flat_map(|w| w.to_le_bytes()).collect(),
        ));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Bytes(b) if b.len() % 8 == 0 && b.len() <= EmulationVector::MAX * 8)
    }
    fn decode(item: Item) -> EmulationVector {
        let mut vector = EmulationVector::default();
        if let Item::Bytes(bytes) = item {
            vector.entries = bytes
                .chunks_exact(8)
                .take(EmulationVector::MAX)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect();
        }
        vector
    }
}

/// What `mach_port_get_receive_status` answers (GNU Mach's
/// `mach_port_status_t`, and the port's global identity).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiveStatus {
    /// The port set the port is in (a name of the target space; 0 when none).
    pub pset: u32,
    /// The sequence number the next message will carry.
    pub seqno: u32,
    /// The make-send count.
    pub mscount: u32,
    /// The queue limit.
    pub qlimit: u32,
    /// Messages queued.
    pub msgcount: u32,
    /// Send-once rights in existence.
    pub sorights: u32,
    /// Whether send rights exist.
    pub srights: bool,
    /// Whether a port-destroyed request is registered.
    pub pdrequest: bool,
    /// Whether a no-senders request is registered.
    pub nsrequest: bool,
    /// The port's global identity (see `hurd_ipc::PortId`).
    pub id: u64,
}

/// The bytes a [`ReceiveStatus`] takes: nine 32-bit words (GNU Mach's
/// `mach_port_status_t`), a zero word that aligns what follows, then the
/// 64-bit identity.
pub const RECEIVE_STATUS_SIZE: usize = 10 * 4 + 8;

impl ReceiveStatus {
    /// The status as the kernel writes it: [`RECEIVE_STATUS_SIZE`] bytes, the
    /// one layout both the RPC's reply and the `port_call` trap carry.
    pub fn to_bytes(self) -> [u8; RECEIVE_STATUS_SIZE] {
        let mut bytes = [0u8; RECEIVE_STATUS_SIZE];
        let words = [
            self.pset,
            self.seqno,
            self.mscount,
            self.qlimit,
            self.msgcount,
            self.sorights,
            u32::from(self.srights),
            u32::from(self.pdrequest),
            u32::from(self.nsrequest),
            0,
        ];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes[40..].copy_from_slice(&self.id.to_le_bytes());
        bytes
    }

    /// Reads what [`ReceiveStatus::to_bytes`] writes; `None` unless `bytes`
    /// is exactly that long, its flags are 0 or 1 and its padding is zero.
    pub fn from_bytes(bytes: &[u8]) -> Option<ReceiveStatus> {
        let bytes: &[u8; RECEIVE_STATUS_SIZE] = bytes.try_into().ok()?;
        let word = |i: usize| {
            u32::from_le_bytes([
                bytes[4 * i],
                bytes[4 * i + 1],
                bytes[4 * i + 2],
                bytes[4 * i + 3],
            ])
        };
        let flag = |i: usize| match word(i) {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        };
        if word(9) != 0 {
            return None;
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[40..]);
        Some(ReceiveStatus {
            pset: word(0),
            seqno: word(1),
            mscount: word(2),
            qlimit: word(3),
            msgcount: word(4),
            sorights: word(5),
            srights: flag(6)?,
            pdrequest: flag(7)?,
            nsrequest: flag(8)?,
            id: u64::from_le_bytes(id),
        })
    }
}

impl MsgArg for ReceiveStatus {
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Bytes(self.to_bytes().to_vec()));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Bytes(b) if ReceiveStatus::from_bytes(b).is_some())
    }
    fn decode(item: Item) -> ReceiveStatus {
        match item {
            Item::Bytes(b) => ReceiveStatus::from_bytes(&b).unwrap_or_default(),
            _ => ReceiveStatus::default(),
        }
    }
}

impl From<hurd_ipc::PortStatus> for ReceiveStatus {
    fn from(s: hurd_ipc::PortStatus) -> ReceiveStatus {
        ReceiveStatus {
            pset: s.pset.0,
            seqno: s.seqno,
            mscount: s.mscount,
            qlimit: u32::from(s.qlimit),
            msgcount: s.msgcount,
            sorights: s.sorights,
            srights: s.srights,
            pdrequest: s.pdrequest,
            nsrequest: s.nsrequest,
            id: s.id.0,
        }
    }
}

impl From<ReceiveStatus> for hurd_ipc::PortStatus {
    /// The status as hurd-ipc holds it (a queue limit above `u16::MAX`, which
    /// no port has, is taken as `u16::MAX`).
    fn from(s: ReceiveStatus) -> hurd_ipc::PortStatus {
        hurd_ipc::PortStatus {
            pset: hurd_ipc::PortName(s.pset),
            seqno: s.seqno,
            mscount: s.mscount,
            qlimit: u16::try_from(s.qlimit).unwrap_or(u16::MAX),
            msgcount: s.msgcount,
            sorights: s.sorights,
            srights: s.srights,
            pdrequest: s.pdrequest,
            nsrequest: s.nsrequest,
            id: hurd_ipc::PortId(s.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_ipc::{Disposition, PortName};

    #[test]
    fn ids_are_gnu_machs() {
        assert_eq!(
            [
                mach::id::task_create,
                mach::id::task_terminate,
                mach::id::thread_terminate,
                mach::id::thread_get_state,
                mach::id::thread_set_state,
            ],
            [2007, 2008, 2016, 2017, 2018]
        );
        assert_eq!(
            [
                mach::id::vm_allocate,
                mach::id::vm_deallocate,
                mach::id::vm_protect,
                mach::id::vm_read,
                mach::id::vm_write,
            ],
            [2021, 2023, 2024, 2026, 2027]
        );
        assert_eq!(
            [
                mach::id::task_suspend,
                mach::id::task_resume,
                mach::id::thread_create,
                mach::id::thread_suspend,
                mach::id::thread_resume,
            ],
            [2056, 2057, 2061, 2062, 2063]
        );
        assert_eq!(
            [
                mach::id::task_get_emulation_vector,
                mach::id::task_set_emulation_vector,
                mach::id::thread_abort,
                mach::id::task_set_emulation,
            ],
            [2009, 2010, 2064, 2070]
        );
        assert_eq!(
            [
                mach_port::id::mach_port_names,
                mach_port::id::mach_port_allocate_name,
                mach_port::id::mach_port_get_refs,
                mach_port::id::mach_port_set_qlimit,
                mach_port::id::mach_port_move_member,
                mach_port::id::mach_port_insert_right,
                mach_port::id::mach_port_get_receive_status,
                mach_port::id::mach_port_set_seqno,
            ],
            [3200, 3203, 3207, 3210, 3213, 3215, 3217, 3218]
        );
        assert_eq!(
            [hurd_task::id::task_notify_exit, hurd_task::id::task_exited],
            [4000, 4001]
        );
    }

    #[test]
    fn an_emulation_vector_goes_through_a_message_and_is_bounded() {
        let entries: Vec<u64> = (0..EmulationVector::MAX as u64)
            .map(|i| 0x40_0000 + i)
            .collect();
        let vector = EmulationVector::new(&entries).expect("at the bound");
        let request = mach::Call::task_set_emulation_vector {
            vector_start: 3,
            emulation_vector: vector.clone(),
        }
        .encode(PortName(1), Disposition::CopySend);
        match mach::Call::decode(request).expect("a request").0 {
            mach::Call::task_set_emulation_vector {
                vector_start,
                emulation_vector,
            } => {
                assert_eq!(vector_start, 3);
                assert_eq!(emulation_vector, vector);
            }
            other => panic!("decoded {other:?}"),
        }
        assert!(EmulationVector::new(&[0; EmulationVector::MAX + 1]).is_none());
        // Too long, or not whole entries: not an emulation vector.
        let long = Item::Bytes(alloc::vec![0; (EmulationVector::MAX + 1) * 8]);
        assert!(!EmulationVector::matches(&long));
        assert!(!EmulationVector::matches(&Item::Bytes(alloc::vec![0; 12])));
        assert!(EmulationVector::matches(&Item::Bytes(Vec::new())));
    }

    #[test]
    fn a_receive_status_goes_through_a_message() {
        let status = ReceiveStatus {
            pset: 7,
            seqno: 3,
            mscount: 2,
            qlimit: 5,
            msgcount: 1,
            sorights: 4,
            srights: true,
            pdrequest: false,
            nsrequest: true,
            id: 0x1234_5678_9abc,
        };
        let request = mach_port::Call::mach_port_get_receive_status { name: 9 }
            .encode(PortName(1), Disposition::CopySend)
            .with_reply(PortName(2), Disposition::MakeSendOnce);
        let (_, request) = mach_port::Call::decode(request).expect("a request");
        let reply = mach_port::Reply::mach_port_get_receive_status(Ok(status)).encode(&request);
        assert_eq!(
            mach_port::Reply::decode(reply).expect("a reply"),
            mach_port::Reply::mach_port_get_receive_status(Ok(status))
        );
        let mut body = Vec::new();
        status.encode(&mut body);
        let Some(Item::Bytes(mut bytes)) = body.pop() else {
            panic!("one in-line item");
        };
        assert_eq!(bytes, status.to_bytes());
        assert_eq!(ReceiveStatus::from_bytes(&bytes), Some(status));
        assert_eq!(ReceiveStatus::from_bytes(&bytes[1..]), None);
        bytes[36] = 1; // the padding word is not zero
        assert_eq!(ReceiveStatus::from_bytes(&bytes), None);
        bytes[36] = 0;
        bytes[6 * 4] = 2; // srights neither 0 nor 1
        assert_eq!(ReceiveStatus::from_bytes(&bytes), None);
        assert!(!ReceiveStatus::matches(&Item::Bytes(bytes)));
    }

    #[test]
    fn a_thread_state_is_its_words() {
        let mut registers = [0u64; thread_state::COUNT];
        registers[thread_state::RIP] = 0x80_0040_0000;
        let state = ThreadState::new(registers);
        let mut body = Vec::new();
        state.clone().encode(&mut body);
        assert!(ThreadState::matches(&body[0]));
        let back = ThreadState::decode(body.remove(0));
        assert_eq!(back, state);
        assert_eq!(back.registers(), Some(registers));
        // A short state travels (the kernel refuses it), a ragged or an
        // oversized one does not.
        let short = ThreadState::from_words(&[1, 2, 3]).expect("short");
        assert_eq!(short.registers(), None);
        assert!(!ThreadState::matches(&Item::Bytes(alloc::vec![0; 12])));
        assert!(!ThreadState::matches(&Item::Bytes(alloc::vec![0; 8 * 33])));
        assert!(ThreadState::from_words(&[0; 33]).is_none());
    }
}
