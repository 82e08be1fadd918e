//! Signal delivery as Linux x86_64 lays it out: the kernel's `sigaction`,
//! `stack_t`, `siginfo_t`, `ucontext_t` with its `mcontext` (the kernel's
//! `struct sigcontext`), and the `rt_sigframe` a handler runs on.
//!
//! [`SignalFrame::build`] computes where the frame goes (below the red zone
//! of the interrupted stack, or on the alternate stack), its bytes, and the
//! registers the handler starts with; [`SignalFrame::restore`] reads a
//! frame back for `rt_sigreturn`, refusing what a program may not set
//! (a non-canonical `rip`, privileged flags).

use alloc::vec::Vec;

use crate::bytes::{i32_at, put_i32, put_u16, put_u32, put_u64, u64_at};
use crate::signal::{SA_NODEFER, SA_ONSTACK, SS_DISABLE, SS_ONSTACK, SigSet};

/// The kernel's `struct sigaction` for `rt_sigaction` (32 bytes; not libc's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KSigaction {
    /// `sa_handler` (or `sa_sigaction`): `SIG_DFL` 0, `SIG_IGN` 1, or an address.
    pub handler: u64,
    /// `sa_flags` (`SA_*`).
    pub flags: u64,
    /// `sa_restorer`: where the handler returns (it calls `rt_sigreturn`).
    pub restorer: u64,
    /// `sa_mask`: blocked while the handler runs.
    pub mask: SigSet,
}

impl KSigaction {
    /// Bytes of the kernel's `struct sigaction`.
    pub const SIZE: usize = 32;

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut b = [0; 32];
        put_u64(&mut b, 0, self.handler);
        put_u64(&mut b, 8, self.flags);
        put_u64(&mut b, 16, self.restorer);
        put_u64(&mut b, 24, self.mask.0);
        b
    }

    /// Reads one; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<KSigaction> {
        (b.len() >= 32).then(|| KSigaction {
            handler: u64_at(b, 0),
            flags: u64_at(b, 8),
            restorer: u64_at(b, 16),
            mask: SigSet(u64_at(b, 24)),
        })
    }
}

/// `stack_t` (24 bytes): an alternate signal stack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StackT {
    /// `ss_sp`: the lowest address.
    pub sp: u64,
    /// `ss_flags`: `SS_ONSTACK`, `SS_DISABLE`.
    pub flags: i32,
    /// `ss_size`.
    pub size: u64,
}

impl StackT {
    /// Bytes of `stack_t`.
    pub const SIZE: usize = 24;

    /// No alternate stack.
    pub const DISABLED: StackT = StackT {
        sp: 0,
        flags: SS_DISABLE,
        size: 0,
    };

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; 24] {
        let mut b = [0; 24];
        put_u64(&mut b, 0, self.sp);
        put_i32(&mut b, 8, self.flags);
        put_u64(&mut b, 16, self.size);
        b
    }

    /// Reads one; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<StackT> {
        (b.len() >= 24).then(|| StackT {
            sp: u64_at(b, 0),
            flags: i32_at(b, 8),
            size: u64_at(b, 16),
        })
    }

    /// Whether `rsp` lies on this stack (an enabled one).
    pub const fn holds(&self, rsp: u64) -> bool {
        self.flags & SS_DISABLE == 0 && rsp > self.sp && rsp - self.sp <= self.size
    }
}

/// `si_code` `SI_USER`: sent by `kill`.
pub const SI_USER: i32 = 0;
/// `si_code` `SI_KERNEL`.
pub const SI_KERNEL: i32 = 0x80;
/// `si_code` `SI_TKILL`: sent by `tkill`/`tgkill`.
pub const SI_TKILL: i32 = -6;
/// `si_code` `CLD_EXITED`.
pub const CLD_EXITED: i32 = 1;
/// `si_code` `CLD_KILLED`.
pub const CLD_KILLED: i32 = 2;
/// `si_code` `CLD_DUMPED`.
pub const CLD_DUMPED: i32 = 3;
/// `si_code` `CLD_STOPPED`.
pub const CLD_STOPPED: i32 = 5;
/// `si_code` `CLD_CONTINUED`.
pub const CLD_CONTINUED: i32 = 6;
/// `si_code` `SEGV_MAPERR`.
pub const SEGV_MAPERR: i32 = 1;
/// `si_code` `SEGV_ACCERR`.
pub const SEGV_ACCERR: i32 = 2;

/// `siginfo_t` (128 bytes), with the fields of the kinds this system sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SigInfo {
    /// `si_signo`.
    pub signo: i32,
    /// `si_errno`.
    pub errno: i32,
    /// `si_code`.
    pub code: i32,
    /// `si_pid` (kill, child): at offset 16.
    pub pid: i32,
    /// `si_uid` (kill, child): at offset 20.
    pub uid: u32,
    /// `si_status` (child): at offset 24.
    pub status: i32,
    /// `si_addr` (faults): at offset 16, instead of `pid`/`uid`.
    pub addr: Option<u64>,
}

impl SigInfo {
    /// Bytes of `siginfo_t`.
    pub const SIZE: usize = 128;

    /// A signal sent by process `pid` of user `uid` with `kill`.
    pub const fn user(signo: u32, pid: i32, uid: u32) -> SigInfo {
        SigInfo {
            signo: signo as i32,
            errno: 0,
            code: SI_USER,
            pid,
            uid,
            status: 0,
            addr: None,
        }
    }

    /// A fault (`SIGSEGV`, `SIGBUS`...) at `addr`.
    pub const fn fault(signo: u32, code: i32, addr: u64) -> SigInfo {
        SigInfo {
            signo: signo as i32,
            errno: 0,
            code,
            pid: 0,
            uid: 0,
            status: 0,
            addr: Some(addr),
        }
    }

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put_i32(&mut b, 0, self.signo);
        put_i32(&mut b, 4, self.errno);
        put_i32(&mut b, 8, self.code);
        match self.addr {
            Some(addr) => put_u64(&mut b, 16, addr),
            None => {
                put_i32(&mut b, 16, self.pid);
                put_u32(&mut b, 20, self.uid);
                put_i32(&mut b, 24, self.status);
            }
        }
        b
    }
}

/// The general registers a signal frame saves and restores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Regs {
    /// `r8`..`r15`.
    pub r: [u64; 8],
    /// `rdi`.
    pub rdi: u64,
    /// `rsi`.
    pub rsi: u64,
    /// `rbp`.
    pub rbp: u64,
    /// `rbx`.
    pub rbx: u64,
    /// `rdx`.
    pub rdx: u64,
    /// `rax`.
    pub rax: u64,
    /// `rcx`.
    pub rcx: u64,
    /// `rsp`.
    pub rsp: u64,
    /// `rip`.
    pub rip: u64,
    /// `rflags`.
    pub rflags: u64,
}

/// Offsets in `ucontext_t`.
pub mod uc_offset {
    /// `uc_flags`.
    pub const FLAGS: usize = 0;
    /// `uc_link`.
    pub const LINK: usize = 8;
    /// `uc_stack`.
    pub const STACK: usize = 16;
    /// `uc_mcontext` (the `gregs` come first).
    pub const MCONTEXT: usize = 40;
    /// `uc_mcontext.fpregs`: the FPU state's address.
    pub const FPSTATE: usize = MCONTEXT + 23 * 8;
    /// `uc_sigmask`.
    pub const SIGMASK: usize = 296;
}

/// The `gregs` slots, in `mcontext` order (`REG_R8` = 0 ... `REG_CR2` = 22).
pub mod reg {
    /// `REG_R8`; `r9`..`r15` follow.
    pub const R8: usize = 0;
    /// `REG_RDI`.
    pub const RDI: usize = 8;
    /// `REG_RSI`.
    pub const RSI: usize = 9;
    /// `REG_RBP`.
    pub const RBP: usize = 10;
    /// `REG_RBX`.
    pub const RBX: usize = 11;
    /// `REG_RDX`.
    pub const RDX: usize = 12;
    /// `REG_RAX`.
    pub const RAX: usize = 13;
    /// `REG_RCX`.
    pub const RCX: usize = 14;
    /// `REG_RSP`.
    pub const RSP: usize = 15;
    /// `REG_RIP`.
    pub const RIP: usize = 16;
    /// `REG_EFL`.
    pub const EFL: usize = 17;
    /// `REG_CSGSFS`.
    pub const CSGSFS: usize = 18;
    /// `REG_ERR`.
    pub const ERR: usize = 19;
    /// `REG_TRAPNO`.
    pub const TRAPNO: usize = 20;
    /// `REG_OLDMASK`.
    pub const OLDMASK: usize = 21;
    /// `REG_CR2`.
    pub const CR2: usize = 22;
}

/// The kernel's `ucontext_t` (304 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UContext {
    /// `uc_stack`: the alternate stack as it was.
    pub stack: StackT,
    /// The registers.
    pub regs: Regs,
    /// `REG_TRAPNO` (faults).
    pub trapno: u64,
    /// `REG_ERR` (faults).
    pub err: u64,
    /// `REG_CR2` (page faults).
    pub cr2: u64,
    /// The FPU state's address (0: none saved).
    pub fpstate: u64,
    /// `uc_sigmask`: the mask to restore.
    pub sigmask: SigSet,
}

/// The user code segment selector Linux reports in `REG_CSGSFS` (0x33).
pub const USER_CS: u16 = 0x33;

impl UContext {
    /// Bytes of the kernel's `ucontext_t`.
    pub const SIZE: usize = 304;

    fn greg(b: &mut [u8], slot: usize, v: u64) {
        put_u64(b, uc_offset::MCONTEXT + 8 * slot, v);
    }

    fn greg_at(b: &[u8], slot: usize) -> u64 {
        u64_at(b, uc_offset::MCONTEXT + 8 * slot)
    }

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        b[uc_offset::STACK..uc_offset::STACK + 24].copy_from_slice(&self.stack.to_bytes());
        let r = &self.regs;
        for (i, v) in r.r.iter().enumerate() {
            Self::greg(&mut b, reg::R8 + i, *v);
        }
        for (slot, v) in [
            (reg::RDI, r.rdi),
            (reg::RSI, r.rsi),
            (reg::RBP, r.rbp),
            (reg::RBX, r.rbx),
            (reg::RDX, r.rdx),
            (reg::RAX, r.rax),
            (reg::RCX, r.rcx),
            (reg::RSP, r.rsp),
            (reg::RIP, r.rip),
            (reg::EFL, r.rflags),
            (reg::ERR, self.err),
            (reg::TRAPNO, self.trapno),
            (reg::OLDMASK, self.sigmask.0),
            (reg::CR2, self.cr2),
        ] {
            Self::greg(&mut b, slot, v);
        }
        put_u16(&mut b, uc_offset::MCONTEXT + 8 * reg::CSGSFS, USER_CS);
        put_u64(&mut b, uc_offset::FPSTATE, self.fpstate);
        put_u64(&mut b, uc_offset::SIGMASK, self.sigmask.0);
        b
    }

    /// Reads one; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<UContext> {
        if b.len() < Self::SIZE {
            return None;
        }
        let g = |slot| Self::greg_at(b, slot);
        let mut r = [0; 8];
        for (i, v) in r.iter_mut().enumerate() {
            *v = g(reg::R8 + i);
        }
        Some(UContext {
            stack: StackT::from_bytes(&b[uc_offset::STACK..])?,
            regs: Regs {
                r,
                rdi: g(reg::RDI),
                rsi: g(reg::RSI),
                rbp: g(reg::RBP),
                rbx: g(reg::RBX),
                rdx: g(reg::RDX),
                rax: g(reg::RAX),
                rcx: g(reg::RCX),
                rsp: g(reg::RSP),
                rip: g(reg::RIP),
                rflags: g(reg::EFL),
            },
            trapno: g(reg::TRAPNO),
            err: g(reg::ERR),
            cr2: g(reg::CR2),
            fpstate: u64_at(b, uc_offset::FPSTATE),
            sigmask: SigSet(u64_at(b, uc_offset::SIGMASK)),
        })
    }
}

/// Bytes of the FXSAVE image saved with a frame.
pub const FPSTATE_SIZE: usize = 512;
/// The red zone below a stack pointer that a frame must not touch.
pub const RED_ZONE: u64 = 128;
/// Bytes of `rt_sigframe`: return address, `ucontext_t`, `siginfo_t`.
pub const FRAME_SIZE: usize = 8 + UContext::SIZE + SigInfo::SIZE;
/// The end of user space (`TASK_SIZE`); a `rip` at or above it is refused.
pub const USER_END: u64 = 0x7fff_ffff_f000;
/// The flags a frame may change (Linux's `FIX_EFLAGS`: AC, OF, DF, TF, SF,
/// ZF, AF, PF, CF, RF).
pub const FIX_EFLAGS: u64 = 0x0005_0dd5;
/// The flags cleared when a handler starts (DF, TF, RF, AC... as Linux:
/// `X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF | X86_EFLAGS_AC`).
pub const HANDLER_CLEARS: u64 = 0x0004_0000 | 0x0001_0000 | 0x0400 | 0x0100;

/// A signal frame ready to be written, and the handler's starting state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalFrame {
    /// Where the frame starts: the handler's `rsp`.
    pub addr: u64,
    /// The bytes from `addr` on: return address, `ucontext_t`,
    /// `siginfo_t`, padding, and the FXSAVE image (64-aligned).
    pub bytes: Vec<u8>,
    /// The registers the handler starts with.
    pub regs: Regs,
    /// The mask while the handler runs.
    pub mask: SigSet,
}

/// Why a frame could not be built or read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FrameError {
    /// The stack would wrap below address 0 (the program gets `SIGSEGV`).
    StackOverflow,
    /// A frame read back holds a `rip` a program may not return to.
    BadRip,
    /// The bytes are too short.
    Short,
}

/// Everything [`SignalFrame::build`] needs.
#[derive(Clone, Debug)]
pub struct Delivery<'a> {
    /// The signal (Linux number).
    pub sig: u32,
    /// The registers of the interrupted code.
    pub regs: Regs,
    /// Its signal mask, restored by `rt_sigreturn`.
    pub mask: SigSet,
    /// The action (handler, flags, restorer, mask).
    pub action: KSigaction,
    /// The thread's alternate stack.
    pub altstack: StackT,
    /// The signal's information.
    pub info: SigInfo,
    /// The FXSAVE image of the interrupted code.
    pub fpstate: &'a [u8; FPSTATE_SIZE],
}

impl SignalFrame {
    /// Lays out the frame for `d` as Linux does: on the alternate stack if
    /// the action asks for it and the thread is not already on it, else
    /// below the interrupted stack's red zone; FXSAVE image 64-aligned at
    /// the top, `rt_sigframe` below it with `rsp + 8` 16-aligned.
    ///
    /// # Errors
    /// [`FrameError::StackOverflow`] if the addresses would wrap.
    pub fn build(d: &Delivery<'_>) -> Result<SignalFrame, FrameError> {
        let on_alt = d.altstack.holds(d.regs.rsp);
        let use_alt =
            d.action.flags & SA_ONSTACK != 0 && d.altstack.flags & SS_DISABLE == 0 && !on_alt;
        let top = if use_alt {
            d.altstack
                .sp
                .checked_add(d.altstack.size)
                .ok_or(FrameError::StackOverflow)?
        } else {
            d.regs
                .rsp
                .checked_sub(RED_ZONE)
                .ok_or(FrameError::StackOverflow)?
        };
        let fp = top
            .checked_sub(FPSTATE_SIZE as u64)
            .ok_or(FrameError::StackOverflow)?
            & !63;
        let frame = (fp
            .checked_sub(FRAME_SIZE as u64)
            .ok_or(FrameError::StackOverflow)?
            & !15)
            .checked_sub(8)
            .ok_or(FrameError::StackOverflow)?;
        let uc_addr = frame + 8;
        let info_addr = uc_addr + UContext::SIZE as u64;
        let mut stack = d.altstack;
        stack.flags = if on_alt {
            SS_ONSTACK
        } else {
            stack.flags & SS_DISABLE
        };
        let uc = UContext {
            stack,
            regs: d.regs,
            trapno: 0,
            err: 0,
            cr2: 0,
            fpstate: fp,
            sigmask: d.mask,
        };
        let len = (fp - frame) as usize + FPSTATE_SIZE;
        let mut bytes = alloc::vec![0; len];
        bytes[0..8].copy_from_slice(&d.action.restorer.to_le_bytes());
        bytes[8..8 + UContext::SIZE].copy_from_slice(&uc.to_bytes());
        let info_at = 8 + UContext::SIZE;
        bytes[info_at..info_at + SigInfo::SIZE].copy_from_slice(&d.info.to_bytes());
        let fp_at = (fp - frame) as usize;
        bytes[fp_at..].copy_from_slice(d.fpstate);
        let mut mask = SigSet(d.mask.0 | d.action.mask.0);
        if d.action.flags & SA_NODEFER == 0 {
            mask = mask.with(d.sig);
        }
        let regs = Regs {
            rip: d.action.handler,
            rsp: frame,
            rdi: u64::from(d.sig),
            rsi: info_addr,
            rdx: uc_addr,
            rax: 0,
            rflags: d.regs.rflags & !HANDLER_CLEARS,
            ..d.regs
        };
        Ok(SignalFrame {
            addr: frame,
            bytes,
            regs,
            mask: mask.blockable(),
        })
    }

    /// Reads back the `ucontext_t` that `rt_sigreturn` finds at `rsp`
    /// (the handler's `ret` popped the return address, so `rsp` points at
    /// it) and gives the registers and mask to resume with: `rflags` keeps
    /// `current_flags` outside [`FIX_EFLAGS`].
    ///
    /// # Errors
    /// [`FrameError::Short`] for fewer than [`UContext::SIZE`] bytes;
    /// [`FrameError::BadRip`] for a `rip` outside user space.
    pub fn restore(
        uc_bytes: &[u8],
        current_flags: u64,
    ) -> Result<(Regs, SigSet, UContext), FrameError> {
        let uc = UContext::from_bytes(uc_bytes).ok_or(FrameError::Short)?;
        if uc.regs.rip >= USER_END {
            return Err(FrameError::BadRip);
        }
        let mut regs = uc.regs;
        regs.rflags = (current_flags & !FIX_EFLAGS) | (uc.regs.rflags & FIX_EFLAGS);
        Ok((regs, uc.sigmask.blockable(), uc))
    }
}
