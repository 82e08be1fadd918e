//! The ways in from ring 3: the `syscall` entry, and exceptions in user
//! mode (page faults go to the VM).
//!
//! The entry switches to the running thread's kernel stack and builds the
//! same [`TrapFrame`] an interrupt from ring 3 would (vector
//! [`SYSCALL_VECTOR`]), so system calls, interrupts and exceptions share one
//! exit path, and a call that blocks simply returns another thread's frame.
//! The calls themselves are architecture-independent: [`crate::calls`].

use core::arch::global_asm;

use hurd_abi as abi;
use hurd_vm::VmProt;
use x86_64::registers::control::Cr2;
use x86_64::registers::model_specific::{LStar, Msr, SFMask};
use x86_64::registers::rflags::RFlags;

use super::trap::{SYSCALL_VECTOR, TrapFrame};
use crate::calls::Caller;
use crate::sched::{self, Reason};
use crate::task::Kernel;

// ANCHOR: entry
global_asm!(
    r#"
    .section .text.syscall, "ax"
    .global syscall_entry
syscall_entry:
    mov [rip + syscall_user_rsp], rsp
    mov rsp, [rip + SYSCALL_KERNEL_RSP]
    push {user_ds}
    push qword ptr [rip + syscall_user_rsp]
    push r11
    push {user_cs}
    push rcx
    push 0
    push {vector}
    jmp trap_common

    .section .bss.syscall, "aw", @nobits
    .balign 8
syscall_user_rsp:
    .skip 8
    "#,
    user_ds = const super::gdt::USER_DS as u64,
    user_cs = const super::gdt::USER_CS as u64,
    vector = const SYSCALL_VECTOR,
);
// ANCHOR_END: entry

unsafe extern "C" {
    fn syscall_entry();
}

/// Sets up `syscall`: the entry point, the segments (STAR) and the flags
/// cleared on entry (interrupts, direction, trap, alignment check).
pub fn init() {
    // STAR[47:32]: kernel CS (SS = CS + 8); STAR[63:48]: base of the user
    // selectors for sysret (SS = base + 8, CS = base + 16).
    let star = (u64::from(super::gdt::KERNEL_DS) << 48) | (u64::from(super::gdt::KERNEL_CS) << 32);
    // SAFETY: the selectors match the GDT (see gdt.rs); the entry point is
    // the stub above; EFER.SCE was set by the boot trampoline.
    unsafe {
        Msr::new(0xC000_0081).write(star);
    }
    LStar::write(x86_64::VirtAddr::new(syscall_entry as *const () as u64));
    SFMask::write(
        RFlags::INTERRUPT_FLAG
            | RFlags::DIRECTION_FLAG
            | RFlags::TRAP_FLAG
            | RFlags::ALIGNMENT_CHECK,
    );
}

/// A system call from ring 3 (or the boot thread's yield): handles it and
/// returns the frame to resume.
pub fn dispatch(frame: &mut TrapFrame) -> *mut TrapFrame {
    let mut guard = crate::task::KERNEL.lock();
    let Some(k) = guard.as_mut() else {
        super::trap::fatal(frame, "system call before the kernel state exists");
    };
    sched::reap(k);
    if let Some(next) = crate::fastpath::null_rpc(k, frame) {
        return next;
    }
    let reason = handle(k, frame);
    let ptr: *mut TrapFrame = frame;
    sched::finish(k, ptr, reason)
}

/// The boot thread's yield (vector 48).
pub fn boot_yield(frame: &mut TrapFrame) -> *mut TrapFrame {
    let mut guard = crate::task::KERNEL.lock();
    let Some(k) = guard.as_mut() else {
        return frame;
    };
    sched::reap(k);
    let ptr: *mut TrapFrame = frame;
    sched::schedule(k, ptr, Reason::Yield)
}

/// The running thread and its task.
fn current(k: &Kernel) -> Option<Caller> {
    let task = k.current_task()?;
    let t = k.tasks.get(&task)?;
    Some(Caller {
        task,
        thread: k.current,
        map: t.map,
        space: t.space,
    })
}

/// Carries out the call in `frame` (see [`crate::calls`]).
fn handle(k: &mut Kernel, frame: &mut TrapFrame) -> Reason {
    crate::calls::handle(k, frame)
}

/// An exception in ring 3: a page fault the VM can resolve is resolved and
/// the access retried; anything else kills the task (its ports die, the
/// kernel goes on).
pub fn user_exception(frame: &mut TrapFrame) -> *mut TrapFrame {
    let mut guard = crate::task::KERNEL.lock();
    let Some(k) = guard.as_mut() else {
        super::trap::fatal(frame, "user exception before the kernel state exists");
    };
    sched::reap(k);
    let Some(Caller { task, map, .. }) = current(k) else {
        super::trap::fatal(frame, "user exception in a thread with no task");
    };
    if frame.vector == 7 {
        // #NM: the thread's first x87/SSE instruction since it last ran
        // without the registers; it gets them and retries.
        let me = k.current;
        let mut mine = k.threads.get_mut(&me).and_then(|t| t.fpu.take());
        super::fpu::take(me, &mut mine, |owner| {
            k.threads
                .get_mut(&owner)
                .and_then(|t| t.fpu.as_deref_mut())
                .map(|area| area as *mut super::fpu::FpuArea)
        });
        if let Some(t) = k.threads.get_mut(&me) {
            t.fpu = mine;
        }
        let ptr: *mut TrapFrame = frame;
        return sched::schedule(k, ptr, Reason::Return);
    }
    // ANCHOR: user_fault
    if frame.vector == 14 {
        let addr = Cr2::read_raw();
        let access = if frame.error & 2 != 0 {
            VmProt::WRITE
        } else if frame.error & 16 != 0 {
            VmProt::EXECUTE
        } else {
            VmProt::READ
        };
        if abi::user_range_ok(addr, 1) {
            let action = k.vm.fault(map, addr, access);
            let ptr: *mut TrapFrame = frame;
            if action.is_resolved() {
                return sched::schedule(k, ptr, Reason::Return);
            }
            if let Some(ticket) = action.ticket() {
                // The page comes from a pager: wait, then retry the access.
                let id = k.current;
                k.wait_for_pager(id, ticket, None);
                return sched::schedule(k, ptr, Reason::Blocked);
            }
        }
        // ANCHOR_END: user_fault
        log::info!(
            "task {task} ({}), thread {}: {} at {addr:#x} (rip {:#x}): killed",
            k.tasks.get(&task).map_or("?", |t| t.name.as_str()),
            k.current,
            super::trap::exception_name(frame.vector),
            frame.rip
        );
    } else {
        log::info!(
            "task {task} ({}): {} (rip {:#x}): killed",
            k.tasks.get(&task).map_or("?", |t| t.name.as_str()),
            super::trap::exception_name(frame.vector),
            frame.rip
        );
    }
    k.terminate(task, abi::EXIT_EXCEPTION_BASE + frame.vector);
    let ptr: *mut TrapFrame = frame;
    sched::schedule(k, ptr, Reason::Blocked)
}
