//! Traps: the saved register frame and the one Rust entry every interrupt,
//! exception and system call goes through.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::registers::control::{Cr2, Cr3};

use super::qemu::{self, ExitCode};
use super::serial;
use super::timer;

/// The registers of an interrupted context, as the entry stubs leave them on
/// the stack (lowest address first).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct TrapFrame {
    /// General registers, pushed by `trap_common`.
    pub r15: u64,
    #[allow(missing_docs)]
    pub r14: u64,
    #[allow(missing_docs)]
    pub r13: u64,
    #[allow(missing_docs)]
    pub r12: u64,
    #[allow(missing_docs)]
    pub r11: u64,
    #[allow(missing_docs)]
    pub r10: u64,
    #[allow(missing_docs)]
    pub r9: u64,
    #[allow(missing_docs)]
    pub r8: u64,
    #[allow(missing_docs)]
    pub rbp: u64,
    #[allow(missing_docs)]
    pub rdi: u64,
    #[allow(missing_docs)]
    pub rsi: u64,
    #[allow(missing_docs)]
    pub rdx: u64,
    #[allow(missing_docs)]
    pub rcx: u64,
    #[allow(missing_docs)]
    pub rbx: u64,
    #[allow(missing_docs)]
    pub rax: u64,
    /// The vector (or [`SYSCALL_VECTOR`]).
    pub vector: u64,
    /// The error code (0 when the processor pushes none).
    pub error: u64,
    /// Pushed by the processor (or the `syscall` entry).
    pub rip: u64,
    #[allow(missing_docs)]
    pub cs: u64,
    #[allow(missing_docs)]
    pub rflags: u64,
    #[allow(missing_docs)]
    pub rsp: u64,
    #[allow(missing_docs)]
    pub ss: u64,
}

impl TrapFrame {
    /// Whether the trap came from ring 3.
    pub fn is_user(&self) -> bool {
        self.cs & 3 == 3
    }
}

/// The vector number the `syscall` entry puts in its frames.
pub const SYSCALL_VECTOR: u64 = 0x100;

/// The first vector of the PIC's interrupts.
pub const IRQ_BASE: u64 = 32;

/// Where a kernel fault resumes, when a probe expects one (0: none).
static FAULT_RESUME: AtomicU64 = AtomicU64::new(0);
/// The vector of the last recovered kernel fault.
static RECOVERED_VECTOR: AtomicU64 = AtomicU64::new(u64::MAX);
/// The fault address (CR2) of the last recovered page fault.
static RECOVERED_ADDRESS: AtomicU64 = AtomicU64::new(0);

/// Reads the 8 bytes at `addr`, or returns the vector and fault address of
/// the exception the read raised (the kernel goes on).
pub fn probe_read(addr: u64) -> Result<u64, (u64, u64)> {
    RECOVERED_VECTOR.store(u64::MAX, Ordering::SeqCst);
    let value: u64;
    // SAFETY: the read may fault; if it does, the exception handler sees
    // FAULT_RESUME set and resumes at label 2 with `value` left as 0. The
    // asm touches only the named registers and FAULT_RESUME.
    unsafe {
        core::arch::asm!(
            "lea {tmp}, [rip + 2f]",
            "mov [{resume}], {tmp}",
            "xor {value}, {value}",
            "mov {value}, [{addr}]",
            "2:",
            "mov qword ptr [{resume}], 0",
            addr = in(reg) addr,
            resume = in(reg) FAULT_RESUME.as_ptr(),
            tmp = out(reg) _,
            value = out(reg) value,
            options(nostack),
        );
    }
    match RECOVERED_VECTOR.load(Ordering::SeqCst) {
        u64::MAX => Ok(value),
        vector => Err((vector, RECOVERED_ADDRESS.load(Ordering::SeqCst))),
    }
}

/// Executes `ud2` under a probe: returns the vector of the exception it
/// raised (the kernel goes on).
pub fn probe_invalid_opcode() -> Option<u64> {
    RECOVERED_VECTOR.store(u64::MAX, Ordering::SeqCst);
    // SAFETY: `ud2` raises #UD; the handler sees FAULT_RESUME set and resumes
    // at label 2. The asm touches only the named registers and FAULT_RESUME.
    unsafe {
        core::arch::asm!(
            "lea {tmp}, [rip + 2f]",
            "mov [{resume}], {tmp}",
            "ud2",
            "2:",
            "mov qword ptr [{resume}], 0",
            resume = in(reg) FAULT_RESUME.as_ptr(),
            tmp = out(reg) _,
            options(nostack),
        );
    }
    match RECOVERED_VECTOR.load(Ordering::SeqCst) {
        u64::MAX => None,
        vector => Some(vector),
    }
}

/// The Rust side of every trap: returns the frame to resume (this one,
/// unless the scheduler switched threads).
///
/// # Safety
///
/// Called only by `trap_common` with a pointer to the frame it built.
#[unsafe(no_mangle)]
unsafe extern "C" fn trap_dispatch(frame: *mut TrapFrame) -> *mut TrapFrame {
    // SAFETY: the entry stub passes the frame it just pushed on this stack;
    // nothing else refers to it while the handler runs.
    let frame = unsafe { &mut *frame };
    match frame.vector {
        // System calls first: they are most of the traps.
        SYSCALL_VECTOR => super::entry::dispatch(frame),
        0..=31 => exception(frame),
        v if v == IRQ_BASE + timer::IRQ => timer::tick(frame),
        v if v == IRQ_BASE + super::serial::IRQ => crate::console::interrupt(frame),
        v if (IRQ_BASE..IRQ_BASE + 16).contains(&v) => {
            crate::device::interrupt(frame, (v - IRQ_BASE) as u8)
        }
        super::context::YIELD_VECTOR if !frame.is_user() => super::entry::boot_yield(frame),
        _ => fatal(frame, "trap with an unknown vector"),
    }
}

/// Exceptions: user faults, recovered kernel probes, and everything else
/// fatal.
fn exception(frame: &mut TrapFrame) -> *mut TrapFrame {
    if frame.is_user() {
        return super::entry::user_exception(frame);
    }
    let resume = FAULT_RESUME.swap(0, Ordering::SeqCst);
    if resume != 0 {
        RECOVERED_VECTOR.store(frame.vector, Ordering::SeqCst);
        RECOVERED_ADDRESS.store(Cr2::read_raw(), Ordering::SeqCst);
        frame.rip = resume;
        return frame;
    }
    fatal(frame, exception_name(frame.vector))
}

/// The exception's mnemonic and name.
pub fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "#DE divide error",
        1 => "#DB debug",
        2 => "NMI",
        3 => "#BP breakpoint",
        4 => "#OF overflow",
        5 => "#BR bound range exceeded",
        6 => "#UD invalid opcode",
        7 => "#NM device not available",
        8 => "#DF double fault",
        10 => "#TS invalid TSS",
        11 => "#NP segment not present",
        12 => "#SS stack-segment fault",
        13 => "#GP general protection fault",
        14 => "#PF page fault",
        16 => "#MF x87 floating-point error",
        17 => "#AC alignment check",
        18 => "#MC machine check",
        19 => "#XM SIMD floating-point error",
        20 => "#VE virtualization exception",
        21 => "#CP control protection",
        _ => "reserved exception",
    }
}

/// Reports an unrecoverable kernel trap with its registers and the words on
/// top of its stack, then leaves QEMU with the panic status.
pub fn fatal(frame: &TrapFrame, what: &str) -> ! {
    let f = frame;
    serial::print_emergency(format_args!(
        "\nKERNEL FAULT: {what} (vector {}, error {:#x})\n\
         rip {:#018x} cs {:#x} rflags {:#x} rsp {:#018x} ss {:#x}\n\
         cr2 {:#018x} cr3 {:#018x}\n\
         rax {:#018x} rbx {:#018x} rcx {:#018x} rdx {:#018x}\n\
         rsi {:#018x} rdi {:#018x} rbp {:#018x} r8  {:#018x}\n\
         r9  {:#018x} r10 {:#018x} r11 {:#018x} r12 {:#018x}\n\
         r13 {:#018x} r14 {:#018x} r15 {:#018x}\n",
        f.vector,
        f.error,
        f.rip,
        f.cs,
        f.rflags,
        f.rsp,
        f.ss,
        Cr2::read_raw(),
        Cr3::read_raw().0.start_address().as_u64(),
        f.rax,
        f.rbx,
        f.rcx,
        f.rdx,
        f.rsi,
        f.rdi,
        f.rbp,
        f.r8,
        f.r9,
        f.r10,
        f.r11,
        f.r12,
        f.r13,
        f.r14,
        f.r15,
    ));
    // The words on top of the faulting stack: return addresses among them
    // locate the callers (a backtrace without frame pointers).
    serial::print_emergency(format_args!("stack:"));
    for i in 0..16u64 {
        match probe_read(f.rsp.wrapping_add(i * 8)) {
            Ok(word) => serial::print_emergency(format_args!(" {word:#x}")),
            Err(_) => break,
        }
    }
    serial::print_emergency(format_args!("\n"));
    qemu::exit(ExitCode::Panic)
}
