//! A simulated kernel on hurd-ipc's hosted runtime (feature `std`).
//!
//! [`SimKernel`] is a [`Vm`] over the software MMU, owned by a kernel task of a
//! hosted [`Runtime`]. A thread of that task receives what pagers send on the
//! control ports (and dead-name notifications of pager ports) and feeds it to
//! the VM. Loads and stores fault through the page tables; a fault that needs
//! a pager sends the request and blocks until the pager answers, the pager
//! dies, or the timeout passes — never forever. Several `SimKernel`s may share
//! one runtime and one pager: each is a separate "node".

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::mig::{DecodeError, Dispatch};
use hurd_ipc::user::{PortSet, ReceiveRight};
use hurd_ipc::{
    Disposition, Error, KernReturn, Message, MigReturn, MsgOptions, Notification, NotifyKind,
    PortName, RightType, UserIpc,
};

use crate::error::VmError;
use crate::fault::{Ticket, TicketStatus};
use crate::inherit::VmInherit;
use crate::map::{MapId, RegionInfo};
use crate::prot::VmProt;
use crate::protocol::{ControlCall, control_attributes};
use crate::soft_mmu::{SoftMmu, SoftPhys};
use crate::{Stall, Vm};

/// The VM type of a simulated kernel.
pub type SimVm = Vm<SoftMmu, SoftPhys>;

struct Shared {
    vm: Mutex<SimVm>,
    changed: Condvar,
    task: Task,
    pset: PortName,
    notify: PortName,
    timeout: Duration,
    /// Messages to send, in order, and whether a thread is sending them.
    outq: Mutex<(std::collections::VecDeque<crate::Outgoing>, bool)>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, SimVm> {
        self.vm.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves what the VM queued to the send queue; called under the VM
    /// lock, so messages queue in the order the VM made them.
    fn enqueue(&self, vm: &mut SimVm) {
        let out = vm.take_outgoing();
        if !out.is_empty() {
            self.outq
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .0
                .extend(out);
        }
    }

    /// Sends the queued messages, outside the VM lock, in queue order: one
    /// thread at a time sends; the others leave their messages to it. (A
    /// pager serving several kernels relies on this order: a `data_return`
    /// made before a fault's `data_request` must arrive first.)
    fn flush(&self) {
        let opts = MsgOptions {
            send_timeout: Some(self.timeout),
            ..MsgOptions::default()
        };
        {
            let mut q = self.outq.lock().unwrap_or_else(PoisonError::into_inner);
            if q.1 || q.0.is_empty() {
                return;
            }
            q.1 = true;
        }
        loop {
            let next = {
                let mut q = self.outq.lock().unwrap_or_else(PoisonError::into_inner);
                match q.0.pop_front() {
                    Some(o) => o,
                    None => {
                        q.1 = false;
                        return;
                    }
                }
            };
            let to = next.to;
            let msg = next.into_message();
            if let Err(e) = self.task.mach_msg(Some(msg), None, &opts) {
                log::warn!("simulated kernel: cannot send to pager {to}: {e}");
                if let hurd_ipc::MachMsgError::Send(e) = e {
                    // Releases what it was to move (terminate's rights).
                    self.task.destroy_message(e.message);
                }
            }
        }
    }
}

/// A simulated kernel: a VM, a kernel task, and the thread that listens to
/// pagers.
pub struct SimKernel {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SimKernel {
    /// A kernel with `frames` frames of simulated memory in runtime `rt`.
    /// Faults give up waiting for a pager after 10 seconds.
    ///
    /// # Errors
    ///
    /// `KERN_RESOURCE_SHORTAGE` when its thread cannot start, or what
    /// allocating its ports returns.
    pub fn new(rt: &Runtime, frames: usize) -> Result<SimKernel, KernReturn> {
        SimKernel::with_timeout(rt, frames, Duration::from_secs(10))
    }

    /// The same with another timeout for waits on pagers (`Duration::MAX`
    /// waits as long as it takes).
    ///
    /// # Errors
    ///
    /// As [`SimKernel::new`].
    pub fn with_timeout(
        rt: &Runtime,
        frames: usize,
        timeout: Duration,
    ) -> Result<SimKernel, KernReturn> {
        let task = rt.task();
        // Owned until the kernel is running: a failure on the way releases
        // them (and the task's space goes with its last handle).
        let pset = PortSet::allocate(&task)?;
        let notify = ReceiveRight::allocate(&task)?;
        pset.insert(notify.name())?;
        let (pset, notify) = (pset.into_raw(), notify.into_raw());
        let shared = Arc::new(Shared {
            vm: Mutex::new(Vm::new(SoftMmu::new(), SoftPhys::new(frames))),
            changed: Condvar::new(),
            task,
            pset,
            notify,
            timeout,
            outq: Mutex::new((std::collections::VecDeque::new(), false)),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sim-kernel".into())
            .spawn(move || listen(&s))
            .map_err(|_| KernReturn::ResourceShortage)?;
        Ok(SimKernel {
            shared,
            thread: Some(thread),
        })
    }

    /// The kernel task: give it a send right to a pager's memory object port
    /// and pass that name to [`SimKernel::vm_map`].
    pub fn task(&self) -> &Task {
        &self.shared.task
    }

    /// Runs `f` on the VM under its lock (inspection, or calls not wrapped here).
    pub fn with_vm<R>(&self, f: impl FnOnce(&mut SimVm) -> R) -> R {
        let r = {
            let mut vm = self.shared.lock();
            let r = f(&mut vm);
            self.shared.enqueue(&mut vm);
            drop(vm);
            self.shared.flush();
            r
        };
        self.shared.changed.notify_all();
        r
    }

    /// A new, empty address map.
    ///
    /// # Errors
    ///
    /// As [`Vm::create_map`].
    pub fn create_map(&self) -> Result<MapId, VmError> {
        self.with_vm(|vm| vm.create_map())
    }

    /// `vm_allocate` anywhere.
    ///
    /// # Errors
    ///
    /// As [`Vm::allocate`].
    pub fn allocate(&self, map: MapId, size: u64) -> Result<u64, VmError> {
        self.with_vm(|vm| vm.allocate(map, 0, size, true))
    }

    /// `vm_deallocate`.
    ///
    /// # Errors
    ///
    /// As [`Vm::deallocate`].
    pub fn deallocate(&self, map: MapId, addr: u64, size: u64) -> Result<(), VmError> {
        self.with_vm(|vm| vm.deallocate(map, addr, size))
    }

    /// `vm_protect` of the current protection.
    ///
    /// # Errors
    ///
    /// As [`Vm::protect`].
    pub fn protect(&self, map: MapId, addr: u64, size: u64, prot: VmProt) -> Result<(), VmError> {
        self.with_vm(|vm| vm.protect(map, addr, size, false, prot))
    }

    /// Forks a map by inheritance.
    ///
    /// # Errors
    ///
    /// As [`Vm::fork`].
    pub fn fork(&self, map: MapId) -> Result<MapId, VmError> {
        self.with_vm(|vm| vm.fork(map))
    }

    /// `vm_region`.
    ///
    /// # Errors
    ///
    /// As [`Vm::region`].
    pub fn region(&self, map: MapId, addr: u64) -> Result<RegionInfo, VmError> {
        self.with_vm(|vm| vm.region(map, addr))
    }

    /// `vm_set_default_memory_manager`: `pager` is a send right in the
    /// kernel task (kept), where `memory_object_create` goes; `None` stops
    /// the paging out of anonymous memory.
    pub fn set_default_pager(&self, pager: Option<PortName>) {
        self.with_vm(|vm| vm.set_default_pager(pager));
    }

    /// Pages out what `[addr, addr + size)` of `map` has resident (see
    /// [`Vm::pageout_range`]): anonymous memory goes to the default pager,
    /// which gets a new memory object for it (`memory_object_create`) on its
    /// first pageout. Returns how many frames were freed.
    ///
    /// # Errors
    ///
    /// As [`Vm::pageout_range`].
    pub fn pageout(&self, map: MapId, addr: u64, size: u64) -> Result<usize, VmError> {
        let sh = &self.shared;
        let mut made: Vec<(PortName, PortName)> = Vec::new();
        let r = {
            let mut vm = sh.lock();
            let r = vm.pageout_range(map, addr, size, &mut || {
                let p = new_object_ports(sh)?;
                made.push(p);
                Some(p)
            });
            sh.enqueue(&mut vm);
            drop(vm);
            sh.flush();
            r
        };
        let used: Vec<bool> = {
            let vm = sh.lock();
            made.iter()
                .map(|(mo, _)| vm.object_for_pager(*mo).is_some())
                .collect()
        };
        for ((mo, ctl), used) in made.into_iter().zip(used) {
            if !used {
                // Made, then not taken (an error came first).
                let _ = sh.task.port_destroy(mo);
                let _ = sh.task.port_mod_refs(ctl, RightType::Receive, -1);
                continue;
            }
            // The receive right went to the default pager with the create
            // message: now watch for its death.
            if sh
                .task
                .request_notification(
                    mo,
                    NotifyKind::DeadName,
                    0,
                    sh.notify,
                    Disposition::MakeSendOnce,
                )
                .is_err()
            {
                let mut vm = sh.lock();
                vm.pager_died(mo);
                sh.enqueue(&mut vm);
                drop(vm);
                sh.flush();
            }
        }
        sh.changed.notify_all();
        r
    }

    /// `vm_attach`: gives the memory of `[addr, addr + size)` of `map` to the
    /// pager `pager` (a send right in the kernel task, which the call takes
    /// as [`SimKernel::vm_map`] does), at `offset` in
    /// its object; see [`Vm::attach`] for the semantics. Sends
    /// `memory_object_init` first if the pager is new to this kernel, and
    /// waits for whatever pager must answer first.
    ///
    /// # Errors
    ///
    /// As [`Vm::attach`], and `TimedOut` or the pager's failure while waiting.
    pub fn vm_attach(
        &self,
        map: MapId,
        addr: u64,
        size: u64,
        pager: PortName,
        offset: u64,
    ) -> Result<(), VmError> {
        let obj = self.pager_object(pager)?;
        self.access(|vm| vm.attach(map, addr, size, obj, offset))
    }

    /// The object of a pager, created (`init`, then waiting for `ready`) if
    /// the pager is new. `pager` is a send right in the kernel task.
    fn pager_object(&self, pager: PortName) -> Result<crate::ObjectId, VmError> {
        let sh = &self.shared;
        let existing = sh.lock().object_for_pager(pager);
        let (obj, ticket) = match existing {
            Some(obj) => {
                // The kernel holds one reference per pager.
                let _ = sh.task.port_deallocate(pager);
                let t = sh.lock().ready_ticket(obj);
                (obj, t)
            }
            None => {
                // Destroyed on every error path until the VM holds it.
                let control =
                    ReceiveRight::allocate(&sh.task).map_err(|_| VmError::ResourceShortage)?;
                let _ = sh
                    .task
                    .port_set_qlimit(control.name(), hurd_ipc::QLIMIT_MAX);
                sh.task
                    .port_move_member(control.name(), sh.pset)
                    .map_err(|_| VmError::Failure)?;
                sh.task
                    .request_notification(
                        pager,
                        NotifyKind::DeadName,
                        0,
                        sh.notify,
                        Disposition::MakeSendOnce,
                    )
                    .map_err(|_| VmError::InvalidArgument)?;
                let mut vm = sh.lock();
                let (obj, t) = vm.create_external_object(pager, control.name())?;
                control.into_raw();
                sh.enqueue(&mut vm);
                drop(vm);
                sh.flush();
                (obj, Some(t))
            }
        };
        if let Some(t) = ticket {
            self.wait(t)?;
        }
        Ok(obj)
    }

    /// `vm_map` of a pager's memory object, anywhere: `pager` is a send right
    /// in the kernel task (which this call keeps). The first mapping of a
    /// pager sends `memory_object_init` and blocks until `ready`.
    ///
    /// # Errors
    ///
    /// As [`Vm::map_object`], `InvalidArgument` when the pager cannot be
    /// watched, `TimedOut` or `MemoryFailure` when it does not answer `ready`.
    #[allow(clippy::too_many_arguments)]
    pub fn vm_map(
        &self,
        map: MapId,
        size: u64,
        pager: PortName,
        offset: u64,
        copy: bool,
        prot: VmProt,
        max_prot: VmProt,
        inherit: VmInherit,
    ) -> Result<u64, VmError> {
        let obj = self.pager_object(pager)?;
        self.with_vm(|vm| {
            vm.map_object(
                map, 0, size, true, obj, offset, copy, prot, max_prot, inherit,
            )
        })
    }

    /// Waits for a ticket to complete.
    fn wait(&self, t: Ticket) -> Result<(), VmError> {
        let sh = &self.shared;
        let deadline = deadline_after(sh.timeout);
        let mut vm = sh.lock();
        loop {
            match vm.ticket_status(&t) {
                TicketStatus::Done => return Ok(()),
                TicketStatus::Failed(e) => return Err(e),
                TicketStatus::Pending => {}
            }
            let now = Instant::now();
            if now >= deadline {
                vm.release_ticket(&t);
                return Err(VmError::TimedOut);
            }
            vm = sh
                .changed
                .wait_timeout(vm, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Runs an access until it completes, waiting for pagers as needed.
    fn access(&self, mut f: impl FnMut(&mut SimVm) -> Result<(), Stall>) -> Result<(), VmError> {
        loop {
            let mut vm = self.shared.lock();
            let r = f(&mut vm);
            self.shared.enqueue(&mut vm);
            drop(vm);
            self.shared.flush();
            match r {
                Ok(()) => return Ok(()),
                Err(Stall::Error(e)) => return Err(e),
                Err(Stall::Wait(t)) => self.wait(t)?,
            }
        }
    }

    /// Loads `len` bytes at `addr` of `map`, faulting through pagers.
    ///
    /// # Errors
    ///
    /// As [`Vm::load`] once pagers have answered: `TimedOut` when one does not
    /// in time.
    pub fn load(&self, map: MapId, addr: u64, len: usize) -> Result<Vec<u8>, VmError> {
        let mut buf = vec![0u8; len];
        self.access(|vm| vm.load(map, addr, &mut buf))?;
        Ok(buf)
    }

    /// Stores `data` at `addr` of `map`, faulting through pagers.
    ///
    /// # Errors
    ///
    /// As [`SimKernel::load`].
    pub fn store(&self, map: MapId, addr: u64, data: &[u8]) -> Result<(), VmError> {
        self.access(|vm| vm.store(map, addr, data))
    }

    /// Copies `len` bytes from one map to another (`vm_copy` across maps: a
    /// load and a store).
    ///
    /// # Errors
    ///
    /// As [`SimKernel::load`] and [`SimKernel::store`].
    pub fn copy(
        &self,
        from: MapId,
        from_addr: u64,
        len: usize,
        to: MapId,
        to_addr: u64,
    ) -> Result<(), VmError> {
        let data = self.load(from, from_addr, len)?;
        self.store(to, to_addr, &data)
    }
}

impl Drop for SimKernel {
    fn drop(&mut self) {
        self.shared.task.terminate();
        self.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A new internal object's ports: a memory object port (receive right, to
/// be moved to the default pager, plus a send right kept under the same name)
/// and a control port in the kernel's port set.
fn new_object_ports(sh: &Shared) -> Option<(PortName, PortName)> {
    let t = &sh.task;
    // All released if any step fails.
    let mo = ReceiveRight::allocate(t).ok()?;
    let mo_send = mo.make_send().ok()?;
    let ctl = ReceiveRight::allocate(t).ok()?;
    let _ = t.port_set_qlimit(ctl.name(), hurd_ipc::QLIMIT_MAX);
    t.port_move_member(ctl.name(), sh.pset).ok()?;
    mo_send.into_raw();
    Some((mo.into_raw(), ctl.into_raw()))
}

/// Answers what is not for the VM: `get_attributes` at once, anything else
/// `MIG_BAD_ID` or `MIG_BAD_ARGUMENTS`, destroying what the message carried.
fn answer_other(sh: &Shared, control: PortName, refused: DecodeError) {
    let decoded = match refused.code {
        MigReturn::BadId => control_attributes::Call::decode(refused.message),
        _ => Err(refused),
    };
    let reply = match decoded {
        Ok((control_attributes::Call::get_attributes {}, req)) => {
            let attrs = sh
                .lock()
                .object_attributes(control)
                .map_err(|e| Error::Kern(e.kern_return()));
            control_attributes::Reply::get_attributes(attrs).encode(&req)
        }
        Err(e) => {
            log::warn!(
                "simulated kernel: refused message {} on {control}: {}",
                e.message.header.id,
                e.code
            );
            match hurd_ipc::mig::reject(&sh.task, e.message, e.code) {
                Dispatch::Reply(r) => r,
                _ => return,
            }
        }
    };
    let _ = hurd_ipc::mig::send_reply(&sh.task, reply);
}

/// The kernel's listening thread.
fn listen(sh: &Shared) {
    loop {
        let msg: Message = match sh.task.receive(sh.pset) {
            Ok(m) => m,
            Err(_) => return,
        };
        let control = msg.header.local;
        if control == sh.notify {
            if let Some(Notification::DeadName(name)) = Notification::parse(&msg) {
                let mut vm = sh.lock();
                vm.pager_died(name);
                sh.enqueue(&mut vm);
                drop(vm);
                sh.flush();
                sh.changed.notify_all();
            }
            continue;
        }
        let call = match ControlCall::decode(msg) {
            Ok((call, _)) => call,
            Err(e) => {
                answer_other(sh, control, e);
                continue;
            }
        };
        let reply = call.reply_to();
        let mut vm = sh.lock();
        let r = vm.handle_pager_message(control, call);
        sh.enqueue(&mut vm);
        drop(vm);
        if r.is_err() && reply.is_valid() {
            // Nothing will answer through it.
            let _ = sh.task.port_deallocate(reply);
        }
        sh.flush();
        sh.changed.notify_all();
    }
}

/// The instant `timeout` from now; a timeout too long for the clock (such as
/// `Duration::MAX`) is a century, as good as waiting forever.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

/// A hundred years.
const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
