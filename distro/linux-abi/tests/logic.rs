//! The logic: initial stacks, ELF checks, signal frames, error and flag
//! conversions, with property tests for untrusted input.
#![allow(clippy::unwrap_used)]

use hurd_ipc::{Error, MigReturn, MsgReturn};
use hurd_trans::flags::OpenFlags;
use linux_abi::elf::{ElfError, Kind, LinuxElf, PIE_BASE};
use linux_abi::flags::{self, CloneKind};
use linux_abi::layout::sigframe::{
    Delivery, FIX_EFLAGS, FPSTATE_SIZE, FrameError, RED_ZONE, USER_END,
};
use linux_abi::layout::{KSigaction, Regs, SigInfo, SignalFrame, StackT, UContext};
use linux_abi::signal::{self, SigSet, WaitStatus};
use linux_abi::stack::{self, InitialStack, ProgramInfo, StackError};
use linux_abi::{Errno, Sysno};
use proptest::prelude::*;

fn word(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap())
}

/// Reads the NUL-terminated string at `addr` in an image placed at `base`.
fn string_at(image: &[u8], base: u64, addr: u64) -> &[u8] {
    let start = (addr - base) as usize;
    let len = image[start..].iter().position(|&c| c == 0).unwrap();
    &image[start..start + len]
}

#[test]
fn the_initial_stack_is_what_a_libc_reads() {
    let info = ProgramInfo {
        phdr: 0x400040,
        phnum: 10,
        entry: 0x401000,
        ids: [1000, 1000, 100, 100],
        random: [7; 16],
        ..Default::default()
    };
    let argv: [&[u8]; 2] = [b"busybox", b"ls"];
    let envp: [&[u8]; 1] = [b"PATH=/bin"];
    let s = InitialStack {
        argv: &argv,
        envp: &envp,
        execfn: b"/bin/ls",
        info: &info,
    };
    let top = 0x7fff_ffff_e000;
    let img = s.build(top).unwrap();
    assert_eq!(img.rsp % 16, 0, "rsp is 16-byte aligned at the entry");
    assert_eq!(img.rsp + img.bytes.len() as u64, top);
    let b = &img.bytes;
    assert_eq!(word(b, 0), 2, "argc");
    assert_eq!(string_at(b, img.rsp, word(b, 1)), b"busybox");
    assert_eq!(string_at(b, img.rsp, word(b, 2)), b"ls");
    assert_eq!(word(b, 3), 0, "argv ends with NULL");
    assert_eq!(string_at(b, img.rsp, word(b, 4)), b"PATH=/bin");
    assert_eq!(word(b, 5), 0, "envp ends with NULL");
    let mut aux = std::collections::HashMap::new();
    let mut i = 6;
    loop {
        let (k, v) = (word(b, i), word(b, i + 1));
        i += 2;
        if k == stack::AT_NULL {
            break;
        }
        aux.insert(k, v);
    }
    assert_eq!(aux[&stack::AT_PHDR], 0x400040);
    assert_eq!(aux[&stack::AT_PHENT], 56);
    assert_eq!(aux[&stack::AT_PHNUM], 10);
    assert_eq!(aux[&stack::AT_PAGESZ], 4096);
    assert_eq!(aux[&stack::AT_ENTRY], 0x401000);
    assert_eq!(aux[&stack::AT_UID], 1000);
    assert_eq!(aux[&stack::AT_EGID], 100);
    let random = (aux[&stack::AT_RANDOM] - img.rsp) as usize;
    assert_eq!(&b[random..random + 16], &[7; 16]);
    assert_eq!(string_at(b, img.rsp, aux[&stack::AT_EXECFN]), b"/bin/ls");
    assert_eq!(string_at(b, img.rsp, aux[&stack::AT_PLATFORM]), b"x86_64");
    assert_eq!(s.build(top + 8), Err(StackError::BadTop));
    let nul: [&[u8]; 1] = [b"a\0b"];
    assert_eq!(
        InitialStack { argv: &nul, ..s }.build(top),
        Err(StackError::Nul)
    );
    let big = vec![b'x'; stack::ARG_MAX];
    let huge: [&[u8]; 1] = [&big];
    assert_eq!(
        InitialStack { argv: &huge, ..s }.build(top),
        Err(StackError::TooBig)
    );
    assert_eq!(
        s.build(64),
        Err(StackError::BadTop),
        "no room below the top"
    );
}

/// A minimal ELF: header and program headers of the given kind.
fn elf(e_type: u16, phdrs: &[(u32, u32, u64, u64, u64, u64, u64)]) -> Vec<u8> {
    let mut b = vec![0u8; 64];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    b[16..18].copy_from_slice(&e_type.to_le_bytes());
    b[18..20].copy_from_slice(&62u16.to_le_bytes());
    b[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
    b[32..40].copy_from_slice(&64u64.to_le_bytes());
    b[54..56].copy_from_slice(&56u16.to_le_bytes());
    b[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
    for &(t, f, off, va, fsz, msz, al) in phdrs {
        for v in [
            u64::from(t) | (u64::from(f) << 32),
            off,
            va,
            va,
            fsz,
            msz,
            al,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b.resize(0x3000, 0);
    b
}

#[test]
fn static_programs_are_recognised() {
    let load = |va| (1, 5, 0, va, 0x2000, 0x3000, 0x1000);
    let e = elf(
        2,
        &[load(0x400000), (7, 4, 0x1000, 0x401000, 0x10, 0x40, 8)],
    );
    let x = LinuxElf::parse(&e, e.len() as u64).unwrap();
    assert_eq!(x.kind, Kind::Exec);
    assert_eq!(x.entry_addr(), 0x401000);
    assert_eq!(
        x.phdr_addr(),
        Some(0x400040),
        "the headers are mapped with the first segment"
    );
    assert_eq!(x.brk_start(), 0x403000);
    assert_eq!(x.tls.unwrap().memsz, 0x40);

    let pie = elf(3, &[(1, 5, 0, 0, 0x2000, 0x3000, 0x1000)]);
    let p = LinuxElf::parse(&pie, pie.len() as u64).unwrap();
    assert_eq!(p.kind, Kind::StaticPie);
    assert_eq!(p.entry_addr(), PIE_BASE + 0x401000);
    assert_eq!(p.phdr_addr(), Some(PIE_BASE + 64));

    let dynamic = elf(3, &[(3, 4, 0x200, 0x200, 0x1c, 0x1c, 1), load(0x400000)]);
    assert_eq!(LinuxElf::parse(&dynamic, 0x3000), Err(ElfError::Dynamic));
    assert_eq!(
        LinuxElf::parse(&elf(1, &[load(0x400000)]), 0x3000),
        Err(ElfError::BadType(1))
    );
    assert_eq!(LinuxElf::parse(b"#!/bin/sh\n", 10), Err(ElfError::NotElf));
    let low = elf(2, &[load(0x1000)]);
    assert_eq!(
        LinuxElf::parse(&low, 0x3000),
        Err(ElfError::BadSegment),
        "below mmap_min_addr"
    );
    let high = elf(2, &[load(USER_END - 0x1000)]);
    assert_eq!(LinuxElf::parse(&high, 0x3000), Err(ElfError::BadSegment));
    let overlap = elf(2, &[load(0x400000), load(0x401000)]);
    assert_eq!(LinuxElf::parse(&overlap, 0x3000), Err(ElfError::BadSegment));
    let past_end = elf(2, &[(1, 5, 0x2000, 0x402000, 0x2000, 0x2000, 0x1000)]);
    assert_eq!(
        LinuxElf::parse(&past_end, 0x3000),
        Err(ElfError::BadSegment),
        "file bytes past the file's end"
    );
    let none = elf(2, &[]);
    assert_eq!(LinuxElf::parse(&none, 0x3000), Err(ElfError::BadHeaders));
}

#[test]
fn program_header_addresses_near_the_top_do_not_wrap() {
    // A static-pie whose PT_PHDR names an address that wraps when the load
    // base is added: no address for the headers, not an overflow.
    let pie = elf(
        3,
        &[
            (6, 4, 64, u64::MAX - 8, 56, 56, 8),
            (1, 5, 0, 0, 0x2000, 0x3000, 0x1000),
        ],
    );
    let p = LinuxElf::parse(&pie, pie.len() as u64).unwrap();
    assert_eq!(p.phdr_addr(), None);
    // A fixed-address program keeps what PT_PHDR says.
    let exec = elf(
        2,
        &[
            (6, 4, 64, 0x400040, 112, 112, 8),
            (1, 5, 0, 0x400000, 0x2000, 0x3000, 0x1000),
        ],
    );
    let x = LinuxElf::parse(&exec, exec.len() as u64).unwrap();
    assert_eq!(x.phdr_addr(), Some(0x400040));
}

#[test]
fn real_programs_on_this_host() {
    // Debian's dynamically linked programs are refused.
    let ls = std::fs::read("/bin/ls").unwrap();
    assert_eq!(
        LinuxElf::parse(&ls, ls.len() as u64),
        Err(ElfError::Dynamic)
    );
    // busybox-static (installed by `cargo xtask` for the image) is a static
    // glibc ET_EXEC at 0x400000 with thread-local storage.
    if let Ok(bb) = std::fs::read("/bin/busybox") {
        let x = LinuxElf::parse(&bb, bb.len() as u64).unwrap();
        assert_eq!(x.kind, Kind::Exec);
        assert!(x.segments[0].vaddr >= 0x400000);
        assert!(x.tls.is_some());
        assert!(x.phdr_addr().is_some());
        assert!(!x.exec_stack);
    } else {
        eprintln!("note: /bin/busybox (busybox-static) is not installed; that case is skipped");
    }
}

fn delivery(fp: &[u8; FPSTATE_SIZE]) -> Delivery<'_> {
    Delivery {
        sig: signal::SIGINT,
        regs: Regs {
            rsp: 0x7fff_0000_1008,
            rip: 0x401234,
            rax: 0xffff_ffff_ffff_fffc,
            rflags: 0x246 | 0x400,
            r: [8, 9, 10, 11, 12, 13, 14, 15],
            ..Default::default()
        },
        mask: SigSet::of(signal::SIGUSR1),
        action: KSigaction {
            handler: 0x402000,
            flags: signal::SA_SIGINFO | signal::SA_RESTORER,
            restorer: 0x403000,
            mask: SigSet::of(signal::SIGTERM),
        },
        altstack: StackT::DISABLED,
        info: SigInfo::user(signal::SIGINT, 5, 0),
        fpstate: fp,
    }
}

#[test]
fn signal_frames_are_linuxs() {
    let fp = [0xab; FPSTATE_SIZE];
    let d = delivery(&fp);
    let f = SignalFrame::build(&d).unwrap();
    assert_eq!(
        (f.addr + 8) % 16,
        0,
        "rsp + 8 is 16-aligned, as after a call"
    );
    assert!(
        f.addr + f.bytes.len() as u64 <= d.regs.rsp - RED_ZONE,
        "the red zone is untouched"
    );
    assert_eq!(
        u64::from_le_bytes(f.bytes[..8].try_into().unwrap()),
        0x403000,
        "returns to the restorer"
    );
    assert_eq!(f.regs.rip, 0x402000);
    assert_eq!(f.regs.rsp, f.addr);
    assert_eq!(f.regs.rdi, u64::from(signal::SIGINT));
    assert_eq!(f.regs.rdx, f.addr + 8, "the ucontext");
    assert_eq!(
        f.regs.rsi,
        f.addr + 8 + UContext::SIZE as u64,
        "the siginfo"
    );
    assert_eq!(f.regs.rflags & 0x400, 0, "DF is clear in the handler");
    assert_eq!(
        f.mask,
        SigSet::of(signal::SIGUSR1)
            .with(signal::SIGTERM)
            .with(signal::SIGINT)
    );
    let uc = UContext::from_bytes(&f.bytes[8..]).unwrap();
    assert_eq!(uc.fpstate % 64, 0);
    let fp_at = (uc.fpstate - f.addr) as usize;
    assert_eq!(&f.bytes[fp_at..fp_at + FPSTATE_SIZE], &fp[..]);
    // The handler returns; rt_sigreturn finds the ucontext at its rsp.
    let (regs, mask, _) = SignalFrame::restore(&f.bytes[8..], 0x202).unwrap();
    assert_eq!(
        regs,
        Regs {
            rflags: (0x202 & !FIX_EFLAGS) | ((0x246 | 0x400) & FIX_EFLAGS),
            ..d.regs
        }
    );
    assert_eq!(mask, d.mask);

    // SA_NODEFER leaves the signal unblocked; SA_ONSTACK uses the alternate stack.
    let alt = StackT {
        sp: 0x6000_0000,
        flags: 0,
        size: 0x4000,
    };
    let mut d2 = delivery(&fp);
    d2.action.flags |= signal::SA_NODEFER | signal::SA_ONSTACK;
    d2.altstack = alt;
    let f2 = SignalFrame::build(&d2).unwrap();
    assert!(!f2.mask.contains(signal::SIGINT));
    assert!(f2.addr > alt.sp && f2.addr + (f2.bytes.len() as u64) <= alt.sp + alt.size);
    let uc2 = UContext::from_bytes(&f2.bytes[8..]).unwrap();
    assert_eq!(uc2.stack.sp, alt.sp);

    // A forged frame cannot return into the kernel's half or set IOPL.
    let mut forged = UContext {
        regs: Regs {
            rip: 0xffff_8000_0000_0000,
            ..Default::default()
        },
        ..uc
    };
    assert_eq!(
        SignalFrame::restore(&forged.to_bytes(), 0x202),
        Err(FrameError::BadRip)
    );
    forged.regs.rip = 0x401000;
    forged.regs.rflags = 0x3000 | 0x200;
    let (r, _, _) = SignalFrame::restore(&forged.to_bytes(), 0x202).unwrap();
    assert_eq!(r.rflags, 0x202, "IOPL and IF come from the current flags");
    assert_eq!(SignalFrame::restore(&[0; 100], 0), Err(FrameError::Short));
    let mut low = delivery(&fp);
    low.regs.rsp = 100;
    assert_eq!(SignalFrame::build(&low), Err(FrameError::StackOverflow));
}

#[test]
fn hurd_errors_become_linuxs() {
    assert_eq!(Errno::from_hurd(0x4000_0023), Errno::Again, "BSD EAGAIN 35");
    assert_eq!(Errno::from_hurd(0x4000_003e), Errno::Loop, "BSD ELOOP 62");
    assert_eq!(
        Errno::from_hurd(0x4000_0042),
        Errno::Notempty,
        "BSD ENOTEMPTY 66"
    );
    assert_eq!(Errno::from_hurd(0x4000_004e), Errno::Nosys, "BSD ENOSYS 78");
    assert_eq!(Errno::from_hurd(0x4000_0019), Errno::Notty);
    assert_eq!(
        Errno::from_hurd(0x4000_0076),
        Errno::Opnotsupp,
        "the Hurd's ENOTSUP"
    );
    assert_eq!(
        Errno::from_hurd(0x4000_0065),
        Errno::Nxio,
        "EDIED: the translator died"
    );
    assert_eq!(Errno::from_hurd(7), Errno::Io, "not an errno");
    for e in [
        hurd_ipc::Errno::NoEnt,
        hurd_ipc::Errno::Access,
        hurd_ipc::Errno::Again,
        hurd_ipc::Errno::NotEmpty,
        hurd_ipc::Errno::TimedOut,
    ] {
        assert_eq!(
            Errno::from(e).raw(),
            e.linux(),
            "agrees with hurd-ipc's table for {e:?}"
        );
    }
    assert_eq!(
        Errno::from_rpc(Error::Msg(MsgReturn::SendInvalidDest)),
        Errno::Badf
    );
    assert_eq!(
        Errno::from_rpc(Error::Msg(MsgReturn::RcvInterrupted)),
        Errno::Intr
    );
    assert_eq!(
        Errno::from_rpc(Error::Mig(MigReturn::BadId)),
        Errno::Opnotsupp
    );
    assert_eq!(Errno::from_rpc(hurd_ipc::Errno::NoEnt.into()), Errno::Noent);
    assert_eq!(Errno::Noent.to_rax(), (-2i64) as u64);
    assert_eq!(Errno::from_rax((-2i64) as u64), Some(Errno::Noent));
    assert_eq!(Errno::from_rax(5), None);
    assert_eq!(Sysno::from_raw(u64::MAX), None);
}

#[test]
fn open_flags_become_the_hurds() {
    let r =
        flags::open_to_hurd(flags::O_WRONLY | flags::O_CREAT | flags::O_TRUNC | flags::O_CLOEXEC)
            .unwrap();
    assert_eq!(r.flags, OpenFlags::WRITE | OpenFlags::CREAT);
    assert!(r.trunc && r.cloexec && !r.path_only);
    let r = flags::open_to_hurd(
        flags::O_RDONLY | flags::O_TRUNC | flags::O_DIRECTORY | flags::O_NOFOLLOW,
    )
    .unwrap();
    assert_eq!(
        r.flags,
        OpenFlags::READ | OpenFlags::DIRECTORY | OpenFlags::NOFOLLOW
    );
    assert!(!r.trunc, "O_TRUNC without write access does nothing");
    assert_eq!(flags::open_to_hurd(3), Err(Errno::Inval));
    assert_eq!(
        flags::open_to_hurd(flags::O_TMPFILE | flags::O_RDWR),
        Err(Errno::Opnotsupp)
    );
    let p = flags::open_to_hurd(flags::O_PATH | flags::O_RDWR | flags::O_CREAT).unwrap();
    assert!(p.path_only);
    assert_eq!(p.flags, OpenFlags::empty());
    assert_eq!(
        flags::openmodes_to_linux(OpenFlags::READ | OpenFlags::WRITE | OpenFlags::APPEND),
        flags::O_RDWR | flags::O_APPEND | flags::O_LARGEFILE
    );
    assert_eq!(
        flags::setfl_to_hurd(flags::O_NONBLOCK | flags::O_RDWR),
        OpenFlags::NONBLOCK
    );
    assert_eq!(
        flags::access_to_hurd(4 | 1),
        Some(OpenFlags::READ | OpenFlags::EXEC)
    );
    assert_eq!(flags::access_to_hurd(8), None);
}

#[test]
fn clones_are_classified() {
    // Rust std and glibc threads.
    let thread = 0x3d0f00;
    assert_eq!(flags::classify_clone(thread), Ok(CloneKind::Thread));
    // busybox's fork: CHILD_SETTID | CHILD_CLEARTID | SIGCHLD.
    assert_eq!(
        flags::classify_clone(flags::CLONE_CHILD_SETTID | flags::CLONE_CHILD_CLEARTID | 17),
        Ok(CloneKind::Process {
            vfork: false,
            exit_signal: 17
        })
    );
    // musl's posix_spawn (Rust's Command).
    assert_eq!(
        flags::classify_clone(flags::CLONE_VM | flags::CLONE_VFORK | 17),
        Ok(CloneKind::Process {
            vfork: true,
            exit_signal: 17
        })
    );
    assert_eq!(
        flags::classify_clone(flags::CLONE_VM | 17),
        Err(Errno::Inval),
        "shared memory between processes"
    );
    assert_eq!(
        flags::classify_clone(flags::CLONE_THREAD | flags::CLONE_VM),
        Err(Errno::Inval)
    );
    assert_eq!(flags::classify_clone(flags::CLONE_NEWNS), Err(Errno::Inval));
    assert_eq!(flags::classify_clone(65), Err(Errno::Inval), "no signal 65");
}

#[test]
fn mmap_arguments_are_checked() {
    let r = flags::check_mmap(
        0,
        10,
        flags::PROT_READ,
        flags::MAP_PRIVATE | flags::MAP_ANONYMOUS,
        0,
    )
    .unwrap();
    assert_eq!(r.len, 4096);
    assert!(r.anonymous && !r.shared && !r.fixed);
    assert_eq!(
        flags::check_mmap(0, 0, 0, flags::MAP_PRIVATE, 0),
        Err(Errno::Inval)
    );
    assert_eq!(
        flags::check_mmap(0, 4096, 0, flags::MAP_PRIVATE, 1),
        Err(Errno::Inval)
    );
    assert_eq!(
        flags::check_mmap(0, 4096, 0, flags::MAP_ANONYMOUS, 0),
        Err(Errno::Inval),
        "neither shared nor private"
    );
    assert_eq!(
        flags::check_mmap(0x1001, 4096, 0, flags::MAP_PRIVATE | flags::MAP_FIXED, 0),
        Err(Errno::Inval)
    );
    assert_eq!(
        flags::check_mmap(0, u64::MAX, 0, flags::MAP_PRIVATE, 0),
        Err(Errno::Nomem)
    );
    assert_eq!(
        flags::check_mmap(0, 4096, 8, flags::MAP_PRIVATE, 0),
        Err(Errno::Inval)
    );
    assert_eq!(
        flags::check_mmap(0, 4096, 0, flags::MAP_SHARED_VALIDATE | 0x80_0000, 0),
        Err(Errno::Opnotsupp)
    );
}

#[test]
fn signal_defaults_and_sets() {
    use signal::DefaultAction::*;
    assert_eq!(signal::default_action(signal::SIGCHLD), Ignore);
    assert_eq!(signal::default_action(signal::SIGSEGV), Core);
    assert_eq!(signal::default_action(signal::SIGTSTP), Stop);
    assert_eq!(signal::default_action(signal::SIGCONT), Cont);
    assert_eq!(signal::default_action(signal::SIGRTMIN + 3), Term);
    let s = SigSet::EMPTY
        .apply(
            signal::SIG_BLOCK,
            SigSet::of(signal::SIGKILL).with(signal::SIGINT),
        )
        .unwrap();
    assert_eq!(s, SigSet::of(signal::SIGINT), "SIGKILL cannot be blocked");
    assert_eq!(s.apply(7, s), None);
    assert_eq!(SigSet::of(0), SigSet::EMPTY);
    assert_eq!(SigSet::of(65), SigSet::EMPTY);
    assert_eq!(SigSet::of(64).first(), Some(64));
}

proptest! {
    #[test]
    fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), len in any::<u64>()) {
        let _ = LinuxElf::parse(&bytes, len);
    }

    #[test]
    fn mutated_headers_parse_without_panic(idx in 0usize..176, val in any::<u8>(), idx2 in 0usize..176, val2 in any::<u8>()) {
        let mut e = elf(2, &[(1, 5, 0, 0x400000, 0x2000, 0x3000, 0x1000), (7, 4, 0x1000, 0x401000, 0x10, 0x40, 8)]);
        e[idx] = val;
        e[idx2] = val2;
        if let Ok(x) = LinuxElf::parse(&e, e.len() as u64) {
            let _ = (x.phdr_addr(), x.brk_start(), x.entry_addr());
        }
    }

    #[test]
    fn wait_statuses_round_trip(code in any::<u8>(), sig in 1u32..=64, core in any::<bool>()) {
        let s = WaitStatus::Exited(code);
        prop_assert_eq!(WaitStatus::from_hurd(s.to_hurd().unwrap()), Some(s));
        let k = WaitStatus::Signaled { sig, core };
        match k.to_hurd() {
            Some(h) => prop_assert_eq!(WaitStatus::from_hurd(h), Some(k)),
            None => prop_assert!(signal::to_hurd(sig).is_none()),
        }
    }

    #[test]
    fn masks_never_block_kill_or_stop(old in any::<u64>(), set in any::<u64>(), how in 0u32..4) {
        if let Some(m) = SigSet(old).apply(how, SigSet(set)) {
            prop_assert!(!m.contains(signal::SIGKILL) && !m.contains(signal::SIGSTOP));
        } else {
            prop_assert_eq!(how, 3);
        }
    }

    #[test]
    fn frames_round_trip(rsp in 0x10000u64..0x7fff_ffff_0000, rip in 0x10000u64..0x7fff_ffff_0000, mask in any::<u64>(), flags in any::<u64>()) {
        let fp = [1; FPSTATE_SIZE];
        let mut d = delivery(&fp);
        d.regs.rsp = rsp;
        d.regs.rip = rip;
        d.regs.rflags = flags;
        d.mask = SigSet(mask).blockable();
        let f = SignalFrame::build(&d).unwrap();
        prop_assert!(f.addr + f.bytes.len() as u64 <= rsp - RED_ZONE);
        let (regs, m, _) = SignalFrame::restore(&f.bytes[8..], 0x202).unwrap();
        prop_assert_eq!(regs.rip, rip);
        prop_assert_eq!(regs.rsp, rsp);
        prop_assert_eq!(m, d.mask);
    }

    #[test]
    fn any_open_flags_convert_without_panic(f in any::<u32>()) {
        if let Ok(r) = flags::open_to_hurd(f) {
            prop_assert!(!r.flags.contains(OpenFlags::TRUNC) && !r.flags.contains(OpenFlags::CLOEXEC));
        }
    }

    #[test]
    fn stacks_fit_below_their_top(args in proptest::collection::vec("[a-z]{0,20}", 0..20), top in 0x1000_0000u64..0x7fff_0000_0000) {
        let top = top & !15;
        let argv: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        let info = ProgramInfo::default();
        let img = InitialStack { argv: &argv, envp: &[], execfn: b"/x", info: &info }.build(top).unwrap();
        prop_assert_eq!(img.rsp % 16, 0);
        prop_assert_eq!(img.rsp + img.bytes.len() as u64, top);
        prop_assert_eq!(word(&img.bytes, 0), args.len() as u64);
    }
}
