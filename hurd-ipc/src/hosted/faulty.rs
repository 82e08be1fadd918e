//! A task whose calls fail on demand, for testing error paths.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Task;
use crate::user::{MachMsgError, MsgOptions, UserIpc};
use crate::{
    Disposition, KernReturn, Message, MsgReturn, NotifyKind, PortId, PortName, PortStatus,
    PortType, RightType, SendError,
};

/// No limit.
const UNLIMITED: usize = usize::MAX;

#[derive(Default)]
struct Budgets {
    allocations: AtomicUsize,
    sends: AtomicUsize,
}

/// A [`Task`] whose allocations or sends start failing after a number of
/// successes: what a server's error paths meet when a space is full
/// (`KERN_NO_SPACE`) or a send finds no buffer (`MACH_SEND_NO_BUFFER`, the
/// message handed back intact). Every other call goes to the task as it is.
/// Clones share the budgets.
///
/// ```
/// use hurd_ipc::hosted::{FaultyTask, Runtime};
/// use hurd_ipc::{KernReturn, RightType, UserIpc};
///
/// let rt = Runtime::new();
/// let task = FaultyTask::new(rt.task());
/// task.fail_allocations_after(1);
/// let first = task.port_allocate(RightType::Receive).unwrap();
/// assert_eq!(task.port_allocate(RightType::Receive), Err(KernReturn::NoSpace));
/// task.heal();
/// assert!(task.port_allocate(RightType::Receive).is_ok());
/// # let _ = first;
/// ```
#[derive(Clone)]
pub struct FaultyTask {
    task: Task,
    budgets: Arc<Budgets>,
}

impl FaultyTask {
    /// `task`, failing nothing yet.
    pub fn new(task: Task) -> FaultyTask {
        let budgets = Budgets {
            allocations: AtomicUsize::new(UNLIMITED),
            sends: AtomicUsize::new(UNLIMITED),
        };
        FaultyTask {
            task,
            budgets: Arc::new(budgets),
        }
    }

    /// The task itself.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// Lets `n` more `mach_port_allocate` / `mach_port_allocate_name` calls
    /// succeed; later ones fail with `KERN_NO_SPACE`.
    pub fn fail_allocations_after(&self, n: usize) {
        self.budgets.allocations.store(n, Ordering::SeqCst);
    }

    /// Lets `n` more sends succeed; later ones fail with
    /// `MACH_SEND_NO_BUFFER` before anything is copied in, the message
    /// handed back intact.
    pub fn fail_sends_after(&self, n: usize) {
        self.budgets.sends.store(n, Ordering::SeqCst);
    }

    /// Fails nothing from now on.
    pub fn heal(&self) {
        self.budgets.allocations.store(UNLIMITED, Ordering::SeqCst);
        self.budgets.sends.store(UNLIMITED, Ordering::SeqCst);
    }

    fn spend(budget: &AtomicUsize) -> bool {
        budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match n {
                UNLIMITED => Some(UNLIMITED),
                0 => None,
                n => Some(n - 1),
            })
            .is_ok()
    }
}

impl UserIpc for FaultyTask {
    fn mach_msg(
        &self,
        send: Option<Message>,
        rcv: Option<PortName>,
        opts: &MsgOptions,
    ) -> Result<Option<Message>, MachMsgError> {
        if let Some(msg) = send {
            if !Self::spend(&self.budgets.sends) {
                return Err(MachMsgError::Send(SendError {
                    code: MsgReturn::SendNoBuffer,
                    message: msg,
                }));
            }
            return self.task.mach_msg(Some(msg), rcv, opts);
        }
        self.task.mach_msg(None, rcv, opts)
    }
    fn port_allocate(&self, right: RightType) -> Result<PortName, KernReturn> {
        if !Self::spend(&self.budgets.allocations) {
            return Err(KernReturn::NoSpace);
        }
        self.task.port_allocate(right)
    }
    fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn> {
        self.task.port_deallocate(name)
    }
    fn port_mod_refs(
        &self,
        name: PortName,
        right: RightType,
        delta: i32,
    ) -> Result<(), KernReturn> {
        self.task.port_mod_refs(name, right, delta)
    }
    fn port_get_refs(&self, name: PortName, right: RightType) -> Result<u16, KernReturn> {
        self.task.port_get_refs(name, right)
    }
    fn port_type(&self, name: PortName) -> Result<PortType, KernReturn> {
        self.task.port_type(name)
    }
    fn port_destroy(&self, name: PortName) -> Result<(), KernReturn> {
        self.task.port_destroy(name)
    }
    fn port_insert_right(
        &self,
        name: PortName,
        right: PortName,
        disp: Disposition,
    ) -> Result<(), KernReturn> {
        self.task.port_insert_right(name, right, disp)
    }
    fn port_move_member(&self, member: PortName, pset: PortName) -> Result<(), KernReturn> {
        self.task.port_move_member(member, pset)
    }
    fn port_set_qlimit(&self, name: PortName, qlimit: u16) -> Result<(), KernReturn> {
        self.task.port_set_qlimit(name, qlimit)
    }
    fn port_get_receive_status(&self, name: PortName) -> Result<PortStatus, KernReturn> {
        self.task.port_get_receive_status(name)
    }
    fn request_notification(
        &self,
        name: PortName,
        kind: NotifyKind,
        sync: u32,
        notify: PortName,
        notify_disp: Disposition,
    ) -> Result<PortName, KernReturn> {
        self.task
            .request_notification(name, kind, sync, notify, notify_disp)
    }
    fn port_id(&self, name: PortName) -> Result<PortId, KernReturn> {
        self.task.port_id(name)
    }
    fn port_allocate_name(&self, right: RightType, name: PortName) -> Result<(), KernReturn> {
        if !Self::spend(&self.budgets.allocations) {
            return Err(KernReturn::NoSpace);
        }
        self.task.port_allocate_name(right, name)
    }
    fn port_names(&self) -> Result<Vec<(PortName, PortType)>, KernReturn> {
        self.task.port_names()
    }
    fn port_set_mscount(&self, name: PortName, mscount: u32) -> Result<(), KernReturn> {
        self.task.port_set_mscount(name, mscount)
    }
    fn port_set_seqno(&self, name: PortName, seqno: u32) -> Result<(), KernReturn> {
        self.task.port_set_seqno(name, seqno)
    }
    // Reply ports come from the task's cache; a fresh one counts as an
    // allocation only when the cache is empty, which the task decides.
    fn reply_port(&self) -> Result<PortName, KernReturn> {
        self.task.reply_port()
    }
    fn release_reply_port(&self, name: PortName, ok: bool) {
        self.task.release_reply_port(name, ok);
    }
}
