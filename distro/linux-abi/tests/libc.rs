//! Every number and layout in this crate against the host's C library (the
//! `libc` crate on Linux x86_64): an outside judge of the ABI.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]
#![allow(clippy::unwrap_used)]

use core::mem::{offset_of, size_of};

use linux_abi::flags::*;
use linux_abi::layout::misc::*;
use linux_abi::layout::sigframe::{reg, uc_offset};
use linux_abi::layout::stat::stat_offset;
use linux_abi::layout::termios::{self as tio, HurdTermios, Termios, Winsize};
use linux_abi::layout::*;
use linux_abi::signal::{self, SigSet, WaitStatus};
use linux_abi::stack::*;
use linux_abi::{Errno, Sysno};

#[test]
fn system_call_numbers_are_linuxs() {
    assert_eq!(Sysno::Read.raw() as libc::c_long, libc::SYS_read);
    assert_eq!(Sysno::Write.raw() as libc::c_long, libc::SYS_write);
    assert_eq!(Sysno::Open.raw() as libc::c_long, libc::SYS_open);
    assert_eq!(Sysno::Close.raw() as libc::c_long, libc::SYS_close);
    assert_eq!(Sysno::Stat.raw() as libc::c_long, libc::SYS_stat);
    assert_eq!(Sysno::Fstat.raw() as libc::c_long, libc::SYS_fstat);
    assert_eq!(Sysno::Lstat.raw() as libc::c_long, libc::SYS_lstat);
    assert_eq!(Sysno::Poll.raw() as libc::c_long, libc::SYS_poll);
    assert_eq!(Sysno::Lseek.raw() as libc::c_long, libc::SYS_lseek);
    assert_eq!(Sysno::Mmap.raw() as libc::c_long, libc::SYS_mmap);
    assert_eq!(Sysno::Mprotect.raw() as libc::c_long, libc::SYS_mprotect);
    assert_eq!(Sysno::Munmap.raw() as libc::c_long, libc::SYS_munmap);
    assert_eq!(Sysno::Brk.raw() as libc::c_long, libc::SYS_brk);
    assert_eq!(
        Sysno::RtSigaction.raw() as libc::c_long,
        libc::SYS_rt_sigaction
    );
    assert_eq!(
        Sysno::RtSigprocmask.raw() as libc::c_long,
        libc::SYS_rt_sigprocmask
    );
    assert_eq!(
        Sysno::RtSigreturn.raw() as libc::c_long,
        libc::SYS_rt_sigreturn
    );
    assert_eq!(Sysno::Ioctl.raw() as libc::c_long, libc::SYS_ioctl);
    assert_eq!(Sysno::Pread64.raw() as libc::c_long, libc::SYS_pread64);
    assert_eq!(Sysno::Pwrite64.raw() as libc::c_long, libc::SYS_pwrite64);
    assert_eq!(Sysno::Readv.raw() as libc::c_long, libc::SYS_readv);
    assert_eq!(Sysno::Writev.raw() as libc::c_long, libc::SYS_writev);
    assert_eq!(Sysno::Access.raw() as libc::c_long, libc::SYS_access);
    assert_eq!(Sysno::Pipe.raw() as libc::c_long, libc::SYS_pipe);
    assert_eq!(Sysno::Select.raw() as libc::c_long, libc::SYS_select);
    assert_eq!(
        Sysno::SchedYield.raw() as libc::c_long,
        libc::SYS_sched_yield
    );
    assert_eq!(Sysno::Mremap.raw() as libc::c_long, libc::SYS_mremap);
    assert_eq!(Sysno::Msync.raw() as libc::c_long, libc::SYS_msync);
    assert_eq!(Sysno::Mincore.raw() as libc::c_long, libc::SYS_mincore);
    assert_eq!(Sysno::Madvise.raw() as libc::c_long, libc::SYS_madvise);
    assert_eq!(Sysno::Shmget.raw() as libc::c_long, libc::SYS_shmget);
    assert_eq!(Sysno::Shmat.raw() as libc::c_long, libc::SYS_shmat);
    assert_eq!(Sysno::Shmctl.raw() as libc::c_long, libc::SYS_shmctl);
    assert_eq!(Sysno::Dup.raw() as libc::c_long, libc::SYS_dup);
    assert_eq!(Sysno::Dup2.raw() as libc::c_long, libc::SYS_dup2);
    assert_eq!(Sysno::Pause.raw() as libc::c_long, libc::SYS_pause);
    assert_eq!(Sysno::Nanosleep.raw() as libc::c_long, libc::SYS_nanosleep);
    assert_eq!(Sysno::Getitimer.raw() as libc::c_long, libc::SYS_getitimer);
    assert_eq!(Sysno::Alarm.raw() as libc::c_long, libc::SYS_alarm);
    assert_eq!(Sysno::Setitimer.raw() as libc::c_long, libc::SYS_setitimer);
    assert_eq!(Sysno::Getpid.raw() as libc::c_long, libc::SYS_getpid);
    assert_eq!(Sysno::Sendfile.raw() as libc::c_long, libc::SYS_sendfile);
    assert_eq!(Sysno::Socket.raw() as libc::c_long, libc::SYS_socket);
    assert_eq!(Sysno::Connect.raw() as libc::c_long, libc::SYS_connect);
    assert_eq!(Sysno::Accept.raw() as libc::c_long, libc::SYS_accept);
    assert_eq!(Sysno::Sendto.raw() as libc::c_long, libc::SYS_sendto);
    assert_eq!(Sysno::Recvfrom.raw() as libc::c_long, libc::SYS_recvfrom);
    assert_eq!(Sysno::Sendmsg.raw() as libc::c_long, libc::SYS_sendmsg);
    assert_eq!(Sysno::Recvmsg.raw() as libc::c_long, libc::SYS_recvmsg);
    assert_eq!(Sysno::Shutdown.raw() as libc::c_long, libc::SYS_shutdown);
    assert_eq!(Sysno::Bind.raw() as libc::c_long, libc::SYS_bind);
    assert_eq!(Sysno::Listen.raw() as libc::c_long, libc::SYS_listen);
    assert_eq!(
        Sysno::Getsockname.raw() as libc::c_long,
        libc::SYS_getsockname
    );
    assert_eq!(
        Sysno::Getpeername.raw() as libc::c_long,
        libc::SYS_getpeername
    );
    assert_eq!(
        Sysno::Socketpair.raw() as libc::c_long,
        libc::SYS_socketpair
    );
    assert_eq!(
        Sysno::Setsockopt.raw() as libc::c_long,
        libc::SYS_setsockopt
    );
    assert_eq!(
        Sysno::Getsockopt.raw() as libc::c_long,
        libc::SYS_getsockopt
    );
    assert_eq!(Sysno::Clone.raw() as libc::c_long, libc::SYS_clone);
    assert_eq!(Sysno::Fork.raw() as libc::c_long, libc::SYS_fork);
    assert_eq!(Sysno::Vfork.raw() as libc::c_long, libc::SYS_vfork);
    assert_eq!(Sysno::Execve.raw() as libc::c_long, libc::SYS_execve);
    assert_eq!(Sysno::Exit.raw() as libc::c_long, libc::SYS_exit);
    assert_eq!(Sysno::Wait4.raw() as libc::c_long, libc::SYS_wait4);
    assert_eq!(Sysno::Kill.raw() as libc::c_long, libc::SYS_kill);
    assert_eq!(Sysno::Uname.raw() as libc::c_long, libc::SYS_uname);
    assert_eq!(Sysno::Semget.raw() as libc::c_long, libc::SYS_semget);
    assert_eq!(Sysno::Semop.raw() as libc::c_long, libc::SYS_semop);
    assert_eq!(Sysno::Semctl.raw() as libc::c_long, libc::SYS_semctl);
    assert_eq!(Sysno::Shmdt.raw() as libc::c_long, libc::SYS_shmdt);
    assert_eq!(Sysno::Msgget.raw() as libc::c_long, libc::SYS_msgget);
    assert_eq!(Sysno::Msgsnd.raw() as libc::c_long, libc::SYS_msgsnd);
    assert_eq!(Sysno::Msgrcv.raw() as libc::c_long, libc::SYS_msgrcv);
    assert_eq!(Sysno::Msgctl.raw() as libc::c_long, libc::SYS_msgctl);
    assert_eq!(Sysno::Fcntl.raw() as libc::c_long, libc::SYS_fcntl);
    assert_eq!(Sysno::Flock.raw() as libc::c_long, libc::SYS_flock);
    assert_eq!(Sysno::Fsync.raw() as libc::c_long, libc::SYS_fsync);
    assert_eq!(Sysno::Fdatasync.raw() as libc::c_long, libc::SYS_fdatasync);
    assert_eq!(Sysno::Truncate.raw() as libc::c_long, libc::SYS_truncate);
    assert_eq!(Sysno::Ftruncate.raw() as libc::c_long, libc::SYS_ftruncate);
    assert_eq!(Sysno::Getdents.raw() as libc::c_long, libc::SYS_getdents);
    assert_eq!(Sysno::Getcwd.raw() as libc::c_long, libc::SYS_getcwd);
    assert_eq!(Sysno::Chdir.raw() as libc::c_long, libc::SYS_chdir);
    assert_eq!(Sysno::Fchdir.raw() as libc::c_long, libc::SYS_fchdir);
    assert_eq!(Sysno::Rename.raw() as libc::c_long, libc::SYS_rename);
    assert_eq!(Sysno::Mkdir.raw() as libc::c_long, libc::SYS_mkdir);
    assert_eq!(Sysno::Rmdir.raw() as libc::c_long, libc::SYS_rmdir);
    assert_eq!(Sysno::Creat.raw() as libc::c_long, libc::SYS_creat);
    assert_eq!(Sysno::Link.raw() as libc::c_long, libc::SYS_link);
    assert_eq!(Sysno::Unlink.raw() as libc::c_long, libc::SYS_unlink);
    assert_eq!(Sysno::Symlink.raw() as libc::c_long, libc::SYS_symlink);
    assert_eq!(Sysno::Readlink.raw() as libc::c_long, libc::SYS_readlink);
    assert_eq!(Sysno::Chmod.raw() as libc::c_long, libc::SYS_chmod);
    assert_eq!(Sysno::Fchmod.raw() as libc::c_long, libc::SYS_fchmod);
    assert_eq!(Sysno::Chown.raw() as libc::c_long, libc::SYS_chown);
    assert_eq!(Sysno::Fchown.raw() as libc::c_long, libc::SYS_fchown);
    assert_eq!(Sysno::Lchown.raw() as libc::c_long, libc::SYS_lchown);
    assert_eq!(Sysno::Umask.raw() as libc::c_long, libc::SYS_umask);
    assert_eq!(
        Sysno::Gettimeofday.raw() as libc::c_long,
        libc::SYS_gettimeofday
    );
    assert_eq!(Sysno::Getrlimit.raw() as libc::c_long, libc::SYS_getrlimit);
    assert_eq!(Sysno::Getrusage.raw() as libc::c_long, libc::SYS_getrusage);
    assert_eq!(Sysno::Sysinfo.raw() as libc::c_long, libc::SYS_sysinfo);
    assert_eq!(Sysno::Times.raw() as libc::c_long, libc::SYS_times);
    assert_eq!(Sysno::Ptrace.raw() as libc::c_long, libc::SYS_ptrace);
    assert_eq!(Sysno::Getuid.raw() as libc::c_long, libc::SYS_getuid);
    assert_eq!(Sysno::Syslog.raw() as libc::c_long, libc::SYS_syslog);
    assert_eq!(Sysno::Getgid.raw() as libc::c_long, libc::SYS_getgid);
    assert_eq!(Sysno::Setuid.raw() as libc::c_long, libc::SYS_setuid);
    assert_eq!(Sysno::Setgid.raw() as libc::c_long, libc::SYS_setgid);
    assert_eq!(Sysno::Geteuid.raw() as libc::c_long, libc::SYS_geteuid);
    assert_eq!(Sysno::Getegid.raw() as libc::c_long, libc::SYS_getegid);
    assert_eq!(Sysno::Setpgid.raw() as libc::c_long, libc::SYS_setpgid);
    assert_eq!(Sysno::Getppid.raw() as libc::c_long, libc::SYS_getppid);
    assert_eq!(Sysno::Getpgrp.raw() as libc::c_long, libc::SYS_getpgrp);
    assert_eq!(Sysno::Setsid.raw() as libc::c_long, libc::SYS_setsid);
    assert_eq!(Sysno::Setreuid.raw() as libc::c_long, libc::SYS_setreuid);
    assert_eq!(Sysno::Setregid.raw() as libc::c_long, libc::SYS_setregid);
    assert_eq!(Sysno::Getgroups.raw() as libc::c_long, libc::SYS_getgroups);
    assert_eq!(Sysno::Setgroups.raw() as libc::c_long, libc::SYS_setgroups);
    assert_eq!(Sysno::Setresuid.raw() as libc::c_long, libc::SYS_setresuid);
    assert_eq!(Sysno::Getresuid.raw() as libc::c_long, libc::SYS_getresuid);
    assert_eq!(Sysno::Setresgid.raw() as libc::c_long, libc::SYS_setresgid);
    assert_eq!(Sysno::Getresgid.raw() as libc::c_long, libc::SYS_getresgid);
    assert_eq!(Sysno::Getpgid.raw() as libc::c_long, libc::SYS_getpgid);
    assert_eq!(Sysno::Setfsuid.raw() as libc::c_long, libc::SYS_setfsuid);
    assert_eq!(Sysno::Setfsgid.raw() as libc::c_long, libc::SYS_setfsgid);
    assert_eq!(Sysno::Getsid.raw() as libc::c_long, libc::SYS_getsid);
    assert_eq!(Sysno::Capget.raw() as libc::c_long, libc::SYS_capget);
    assert_eq!(Sysno::Capset.raw() as libc::c_long, libc::SYS_capset);
    assert_eq!(
        Sysno::RtSigpending.raw() as libc::c_long,
        libc::SYS_rt_sigpending
    );
    assert_eq!(
        Sysno::RtSigtimedwait.raw() as libc::c_long,
        libc::SYS_rt_sigtimedwait
    );
    assert_eq!(
        Sysno::RtSigqueueinfo.raw() as libc::c_long,
        libc::SYS_rt_sigqueueinfo
    );
    assert_eq!(
        Sysno::RtSigsuspend.raw() as libc::c_long,
        libc::SYS_rt_sigsuspend
    );
    assert_eq!(
        Sysno::Sigaltstack.raw() as libc::c_long,
        libc::SYS_sigaltstack
    );
    assert_eq!(Sysno::Utime.raw() as libc::c_long, libc::SYS_utime);
    assert_eq!(Sysno::Mknod.raw() as libc::c_long, libc::SYS_mknod);
    assert_eq!(Sysno::Uselib.raw() as libc::c_long, libc::SYS_uselib);
    assert_eq!(
        Sysno::Personality.raw() as libc::c_long,
        libc::SYS_personality
    );
    assert_eq!(Sysno::Ustat.raw() as libc::c_long, libc::SYS_ustat);
    assert_eq!(Sysno::Statfs.raw() as libc::c_long, libc::SYS_statfs);
    assert_eq!(Sysno::Fstatfs.raw() as libc::c_long, libc::SYS_fstatfs);
    assert_eq!(Sysno::Sysfs.raw() as libc::c_long, libc::SYS_sysfs);
    assert_eq!(
        Sysno::Getpriority.raw() as libc::c_long,
        libc::SYS_getpriority
    );
    assert_eq!(
        Sysno::Setpriority.raw() as libc::c_long,
        libc::SYS_setpriority
    );
    assert_eq!(
        Sysno::SchedSetparam.raw() as libc::c_long,
        libc::SYS_sched_setparam
    );
    assert_eq!(
        Sysno::SchedGetparam.raw() as libc::c_long,
        libc::SYS_sched_getparam
    );
    assert_eq!(
        Sysno::SchedSetscheduler.raw() as libc::c_long,
        libc::SYS_sched_setscheduler
    );
    assert_eq!(
        Sysno::SchedGetscheduler.raw() as libc::c_long,
        libc::SYS_sched_getscheduler
    );
    assert_eq!(
        Sysno::SchedGetPriorityMax.raw() as libc::c_long,
        libc::SYS_sched_get_priority_max
    );
    assert_eq!(
        Sysno::SchedGetPriorityMin.raw() as libc::c_long,
        libc::SYS_sched_get_priority_min
    );
    assert_eq!(
        Sysno::SchedRrGetInterval.raw() as libc::c_long,
        libc::SYS_sched_rr_get_interval
    );
    assert_eq!(Sysno::Mlock.raw() as libc::c_long, libc::SYS_mlock);
    assert_eq!(Sysno::Munlock.raw() as libc::c_long, libc::SYS_munlock);
    assert_eq!(Sysno::Mlockall.raw() as libc::c_long, libc::SYS_mlockall);
    assert_eq!(
        Sysno::Munlockall.raw() as libc::c_long,
        libc::SYS_munlockall
    );
    assert_eq!(Sysno::Vhangup.raw() as libc::c_long, libc::SYS_vhangup);
    assert_eq!(Sysno::ModifyLdt.raw() as libc::c_long, libc::SYS_modify_ldt);
    assert_eq!(Sysno::PivotRoot.raw() as libc::c_long, libc::SYS_pivot_root);
    assert_eq!(Sysno::Sysctl.raw() as libc::c_long, libc::SYS__sysctl);
    assert_eq!(Sysno::Prctl.raw() as libc::c_long, libc::SYS_prctl);
    assert_eq!(Sysno::ArchPrctl.raw() as libc::c_long, libc::SYS_arch_prctl);
    assert_eq!(Sysno::Adjtimex.raw() as libc::c_long, libc::SYS_adjtimex);
    assert_eq!(Sysno::Setrlimit.raw() as libc::c_long, libc::SYS_setrlimit);
    assert_eq!(Sysno::Chroot.raw() as libc::c_long, libc::SYS_chroot);
    assert_eq!(Sysno::Sync.raw() as libc::c_long, libc::SYS_sync);
    assert_eq!(Sysno::Acct.raw() as libc::c_long, libc::SYS_acct);
    assert_eq!(
        Sysno::Settimeofday.raw() as libc::c_long,
        libc::SYS_settimeofday
    );
    assert_eq!(Sysno::Mount.raw() as libc::c_long, libc::SYS_mount);
    assert_eq!(Sysno::Umount2.raw() as libc::c_long, libc::SYS_umount2);
    assert_eq!(Sysno::Swapon.raw() as libc::c_long, libc::SYS_swapon);
    assert_eq!(Sysno::Swapoff.raw() as libc::c_long, libc::SYS_swapoff);
    assert_eq!(Sysno::Reboot.raw() as libc::c_long, libc::SYS_reboot);
    assert_eq!(
        Sysno::Sethostname.raw() as libc::c_long,
        libc::SYS_sethostname
    );
    assert_eq!(
        Sysno::Setdomainname.raw() as libc::c_long,
        libc::SYS_setdomainname
    );
    assert_eq!(Sysno::Iopl.raw() as libc::c_long, libc::SYS_iopl);
    assert_eq!(Sysno::Ioperm.raw() as libc::c_long, libc::SYS_ioperm);
    assert_eq!(
        Sysno::InitModule.raw() as libc::c_long,
        libc::SYS_init_module
    );
    assert_eq!(
        Sysno::DeleteModule.raw() as libc::c_long,
        libc::SYS_delete_module
    );
    assert_eq!(Sysno::Quotactl.raw() as libc::c_long, libc::SYS_quotactl);
    assert_eq!(
        Sysno::Nfsservctl.raw() as libc::c_long,
        libc::SYS_nfsservctl
    );
    assert_eq!(Sysno::Getpmsg.raw() as libc::c_long, libc::SYS_getpmsg);
    assert_eq!(Sysno::Putpmsg.raw() as libc::c_long, libc::SYS_putpmsg);
    assert_eq!(
        Sysno::AfsSyscall.raw() as libc::c_long,
        libc::SYS_afs_syscall
    );
    assert_eq!(Sysno::Tuxcall.raw() as libc::c_long, libc::SYS_tuxcall);
    assert_eq!(Sysno::Security.raw() as libc::c_long, libc::SYS_security);
    assert_eq!(Sysno::Gettid.raw() as libc::c_long, libc::SYS_gettid);
    assert_eq!(Sysno::Readahead.raw() as libc::c_long, libc::SYS_readahead);
    assert_eq!(Sysno::Setxattr.raw() as libc::c_long, libc::SYS_setxattr);
    assert_eq!(Sysno::Lsetxattr.raw() as libc::c_long, libc::SYS_lsetxattr);
    assert_eq!(Sysno::Fsetxattr.raw() as libc::c_long, libc::SYS_fsetxattr);
    assert_eq!(Sysno::Getxattr.raw() as libc::c_long, libc::SYS_getxattr);
    assert_eq!(Sysno::Lgetxattr.raw() as libc::c_long, libc::SYS_lgetxattr);
    assert_eq!(Sysno::Fgetxattr.raw() as libc::c_long, libc::SYS_fgetxattr);
    assert_eq!(Sysno::Listxattr.raw() as libc::c_long, libc::SYS_listxattr);
    assert_eq!(
        Sysno::Llistxattr.raw() as libc::c_long,
        libc::SYS_llistxattr
    );
    assert_eq!(
        Sysno::Flistxattr.raw() as libc::c_long,
        libc::SYS_flistxattr
    );
    assert_eq!(
        Sysno::Removexattr.raw() as libc::c_long,
        libc::SYS_removexattr
    );
    assert_eq!(
        Sysno::Lremovexattr.raw() as libc::c_long,
        libc::SYS_lremovexattr
    );
    assert_eq!(
        Sysno::Fremovexattr.raw() as libc::c_long,
        libc::SYS_fremovexattr
    );
    assert_eq!(Sysno::Tkill.raw() as libc::c_long, libc::SYS_tkill);
    assert_eq!(Sysno::Time.raw() as libc::c_long, libc::SYS_time);
    assert_eq!(Sysno::Futex.raw() as libc::c_long, libc::SYS_futex);
    assert_eq!(
        Sysno::SchedSetaffinity.raw() as libc::c_long,
        libc::SYS_sched_setaffinity
    );
    assert_eq!(
        Sysno::SchedGetaffinity.raw() as libc::c_long,
        libc::SYS_sched_getaffinity
    );
    assert_eq!(
        Sysno::SetThreadArea.raw() as libc::c_long,
        libc::SYS_set_thread_area
    );
    assert_eq!(Sysno::IoSetup.raw() as libc::c_long, libc::SYS_io_setup);
    assert_eq!(Sysno::IoDestroy.raw() as libc::c_long, libc::SYS_io_destroy);
    assert_eq!(
        Sysno::IoGetevents.raw() as libc::c_long,
        libc::SYS_io_getevents
    );
    assert_eq!(Sysno::IoSubmit.raw() as libc::c_long, libc::SYS_io_submit);
    assert_eq!(Sysno::IoCancel.raw() as libc::c_long, libc::SYS_io_cancel);
    assert_eq!(
        Sysno::GetThreadArea.raw() as libc::c_long,
        libc::SYS_get_thread_area
    );
    assert_eq!(
        Sysno::LookupDcookie.raw() as libc::c_long,
        libc::SYS_lookup_dcookie
    );
    assert_eq!(
        Sysno::EpollCreate.raw() as libc::c_long,
        libc::SYS_epoll_create
    );
    assert_eq!(
        Sysno::EpollCtlOld.raw() as libc::c_long,
        libc::SYS_epoll_ctl_old
    );
    assert_eq!(
        Sysno::EpollWaitOld.raw() as libc::c_long,
        libc::SYS_epoll_wait_old
    );
    assert_eq!(
        Sysno::RemapFilePages.raw() as libc::c_long,
        libc::SYS_remap_file_pages
    );
    assert_eq!(
        Sysno::Getdents64.raw() as libc::c_long,
        libc::SYS_getdents64
    );
    assert_eq!(
        Sysno::SetTidAddress.raw() as libc::c_long,
        libc::SYS_set_tid_address
    );
    assert_eq!(
        Sysno::RestartSyscall.raw() as libc::c_long,
        libc::SYS_restart_syscall
    );
    assert_eq!(
        Sysno::Semtimedop.raw() as libc::c_long,
        libc::SYS_semtimedop
    );
    assert_eq!(Sysno::Fadvise64.raw() as libc::c_long, libc::SYS_fadvise64);
    assert_eq!(
        Sysno::TimerCreate.raw() as libc::c_long,
        libc::SYS_timer_create
    );
    assert_eq!(
        Sysno::TimerSettime.raw() as libc::c_long,
        libc::SYS_timer_settime
    );
    assert_eq!(
        Sysno::TimerGettime.raw() as libc::c_long,
        libc::SYS_timer_gettime
    );
    assert_eq!(
        Sysno::TimerGetoverrun.raw() as libc::c_long,
        libc::SYS_timer_getoverrun
    );
    assert_eq!(
        Sysno::TimerDelete.raw() as libc::c_long,
        libc::SYS_timer_delete
    );
    assert_eq!(
        Sysno::ClockSettime.raw() as libc::c_long,
        libc::SYS_clock_settime
    );
    assert_eq!(
        Sysno::ClockGettime.raw() as libc::c_long,
        libc::SYS_clock_gettime
    );
    assert_eq!(
        Sysno::ClockGetres.raw() as libc::c_long,
        libc::SYS_clock_getres
    );
    assert_eq!(
        Sysno::ClockNanosleep.raw() as libc::c_long,
        libc::SYS_clock_nanosleep
    );
    assert_eq!(Sysno::ExitGroup.raw() as libc::c_long, libc::SYS_exit_group);
    assert_eq!(Sysno::EpollWait.raw() as libc::c_long, libc::SYS_epoll_wait);
    assert_eq!(Sysno::EpollCtl.raw() as libc::c_long, libc::SYS_epoll_ctl);
    assert_eq!(Sysno::Tgkill.raw() as libc::c_long, libc::SYS_tgkill);
    assert_eq!(Sysno::Utimes.raw() as libc::c_long, libc::SYS_utimes);
    assert_eq!(Sysno::Vserver.raw() as libc::c_long, libc::SYS_vserver);
    assert_eq!(Sysno::Mbind.raw() as libc::c_long, libc::SYS_mbind);
    assert_eq!(
        Sysno::SetMempolicy.raw() as libc::c_long,
        libc::SYS_set_mempolicy
    );
    assert_eq!(
        Sysno::GetMempolicy.raw() as libc::c_long,
        libc::SYS_get_mempolicy
    );
    assert_eq!(Sysno::MqOpen.raw() as libc::c_long, libc::SYS_mq_open);
    assert_eq!(Sysno::MqUnlink.raw() as libc::c_long, libc::SYS_mq_unlink);
    assert_eq!(
        Sysno::MqTimedsend.raw() as libc::c_long,
        libc::SYS_mq_timedsend
    );
    assert_eq!(
        Sysno::MqTimedreceive.raw() as libc::c_long,
        libc::SYS_mq_timedreceive
    );
    assert_eq!(Sysno::MqNotify.raw() as libc::c_long, libc::SYS_mq_notify);
    assert_eq!(
        Sysno::MqGetsetattr.raw() as libc::c_long,
        libc::SYS_mq_getsetattr
    );
    assert_eq!(Sysno::KexecLoad.raw() as libc::c_long, libc::SYS_kexec_load);
    assert_eq!(Sysno::Waitid.raw() as libc::c_long, libc::SYS_waitid);
    assert_eq!(Sysno::AddKey.raw() as libc::c_long, libc::SYS_add_key);
    assert_eq!(
        Sysno::RequestKey.raw() as libc::c_long,
        libc::SYS_request_key
    );
    assert_eq!(Sysno::Keyctl.raw() as libc::c_long, libc::SYS_keyctl);
    assert_eq!(Sysno::IoprioSet.raw() as libc::c_long, libc::SYS_ioprio_set);
    assert_eq!(Sysno::IoprioGet.raw() as libc::c_long, libc::SYS_ioprio_get);
    assert_eq!(
        Sysno::InotifyInit.raw() as libc::c_long,
        libc::SYS_inotify_init
    );
    assert_eq!(
        Sysno::InotifyAddWatch.raw() as libc::c_long,
        libc::SYS_inotify_add_watch
    );
    assert_eq!(
        Sysno::InotifyRmWatch.raw() as libc::c_long,
        libc::SYS_inotify_rm_watch
    );
    assert_eq!(
        Sysno::MigratePages.raw() as libc::c_long,
        libc::SYS_migrate_pages
    );
    assert_eq!(Sysno::Openat.raw() as libc::c_long, libc::SYS_openat);
    assert_eq!(Sysno::Mkdirat.raw() as libc::c_long, libc::SYS_mkdirat);
    assert_eq!(Sysno::Mknodat.raw() as libc::c_long, libc::SYS_mknodat);
    assert_eq!(Sysno::Fchownat.raw() as libc::c_long, libc::SYS_fchownat);
    assert_eq!(Sysno::Futimesat.raw() as libc::c_long, libc::SYS_futimesat);
    assert_eq!(
        Sysno::Newfstatat.raw() as libc::c_long,
        libc::SYS_newfstatat
    );
    assert_eq!(Sysno::Unlinkat.raw() as libc::c_long, libc::SYS_unlinkat);
    assert_eq!(Sysno::Renameat.raw() as libc::c_long, libc::SYS_renameat);
    assert_eq!(Sysno::Linkat.raw() as libc::c_long, libc::SYS_linkat);
    assert_eq!(Sysno::Symlinkat.raw() as libc::c_long, libc::SYS_symlinkat);
    assert_eq!(
        Sysno::Readlinkat.raw() as libc::c_long,
        libc::SYS_readlinkat
    );
    assert_eq!(Sysno::Fchmodat.raw() as libc::c_long, libc::SYS_fchmodat);
    assert_eq!(Sysno::Faccessat.raw() as libc::c_long, libc::SYS_faccessat);
    assert_eq!(Sysno::Pselect6.raw() as libc::c_long, libc::SYS_pselect6);
    assert_eq!(Sysno::Ppoll.raw() as libc::c_long, libc::SYS_ppoll);
    assert_eq!(Sysno::Unshare.raw() as libc::c_long, libc::SYS_unshare);
    assert_eq!(
        Sysno::SetRobustList.raw() as libc::c_long,
        libc::SYS_set_robust_list
    );
    assert_eq!(
        Sysno::GetRobustList.raw() as libc::c_long,
        libc::SYS_get_robust_list
    );
    assert_eq!(Sysno::Splice.raw() as libc::c_long, libc::SYS_splice);
    assert_eq!(Sysno::Tee.raw() as libc::c_long, libc::SYS_tee);
    assert_eq!(
        Sysno::SyncFileRange.raw() as libc::c_long,
        libc::SYS_sync_file_range
    );
    assert_eq!(Sysno::Vmsplice.raw() as libc::c_long, libc::SYS_vmsplice);
    assert_eq!(Sysno::MovePages.raw() as libc::c_long, libc::SYS_move_pages);
    assert_eq!(Sysno::Utimensat.raw() as libc::c_long, libc::SYS_utimensat);
    assert_eq!(
        Sysno::EpollPwait.raw() as libc::c_long,
        libc::SYS_epoll_pwait
    );
    assert_eq!(Sysno::Signalfd.raw() as libc::c_long, libc::SYS_signalfd);
    assert_eq!(
        Sysno::TimerfdCreate.raw() as libc::c_long,
        libc::SYS_timerfd_create
    );
    assert_eq!(Sysno::Eventfd.raw() as libc::c_long, libc::SYS_eventfd);
    assert_eq!(Sysno::Fallocate.raw() as libc::c_long, libc::SYS_fallocate);
    assert_eq!(
        Sysno::TimerfdSettime.raw() as libc::c_long,
        libc::SYS_timerfd_settime
    );
    assert_eq!(
        Sysno::TimerfdGettime.raw() as libc::c_long,
        libc::SYS_timerfd_gettime
    );
    assert_eq!(Sysno::Accept4.raw() as libc::c_long, libc::SYS_accept4);
    assert_eq!(Sysno::Signalfd4.raw() as libc::c_long, libc::SYS_signalfd4);
    assert_eq!(Sysno::Eventfd2.raw() as libc::c_long, libc::SYS_eventfd2);
    assert_eq!(
        Sysno::EpollCreate1.raw() as libc::c_long,
        libc::SYS_epoll_create1
    );
    assert_eq!(Sysno::Dup3.raw() as libc::c_long, libc::SYS_dup3);
    assert_eq!(Sysno::Pipe2.raw() as libc::c_long, libc::SYS_pipe2);
    assert_eq!(
        Sysno::InotifyInit1.raw() as libc::c_long,
        libc::SYS_inotify_init1
    );
    assert_eq!(Sysno::Preadv.raw() as libc::c_long, libc::SYS_preadv);
    assert_eq!(Sysno::Pwritev.raw() as libc::c_long, libc::SYS_pwritev);
    assert_eq!(
        Sysno::RtTgsigqueueinfo.raw() as libc::c_long,
        libc::SYS_rt_tgsigqueueinfo
    );
    assert_eq!(
        Sysno::PerfEventOpen.raw() as libc::c_long,
        libc::SYS_perf_event_open
    );
    assert_eq!(Sysno::Recvmmsg.raw() as libc::c_long, libc::SYS_recvmmsg);
    assert_eq!(
        Sysno::FanotifyInit.raw() as libc::c_long,
        libc::SYS_fanotify_init
    );
    assert_eq!(
        Sysno::FanotifyMark.raw() as libc::c_long,
        libc::SYS_fanotify_mark
    );
    assert_eq!(Sysno::Prlimit64.raw() as libc::c_long, libc::SYS_prlimit64);
    assert_eq!(
        Sysno::NameToHandleAt.raw() as libc::c_long,
        libc::SYS_name_to_handle_at
    );
    assert_eq!(
        Sysno::OpenByHandleAt.raw() as libc::c_long,
        libc::SYS_open_by_handle_at
    );
    assert_eq!(
        Sysno::ClockAdjtime.raw() as libc::c_long,
        libc::SYS_clock_adjtime
    );
    assert_eq!(Sysno::Syncfs.raw() as libc::c_long, libc::SYS_syncfs);
    assert_eq!(Sysno::Sendmmsg.raw() as libc::c_long, libc::SYS_sendmmsg);
    assert_eq!(Sysno::Setns.raw() as libc::c_long, libc::SYS_setns);
    assert_eq!(Sysno::Getcpu.raw() as libc::c_long, libc::SYS_getcpu);
    assert_eq!(
        Sysno::ProcessVmReadv.raw() as libc::c_long,
        libc::SYS_process_vm_readv
    );
    assert_eq!(
        Sysno::ProcessVmWritev.raw() as libc::c_long,
        libc::SYS_process_vm_writev
    );
    assert_eq!(Sysno::Kcmp.raw() as libc::c_long, libc::SYS_kcmp);
    assert_eq!(
        Sysno::FinitModule.raw() as libc::c_long,
        libc::SYS_finit_module
    );
    assert_eq!(
        Sysno::SchedSetattr.raw() as libc::c_long,
        libc::SYS_sched_setattr
    );
    assert_eq!(
        Sysno::SchedGetattr.raw() as libc::c_long,
        libc::SYS_sched_getattr
    );
    assert_eq!(Sysno::Renameat2.raw() as libc::c_long, libc::SYS_renameat2);
    assert_eq!(Sysno::Seccomp.raw() as libc::c_long, libc::SYS_seccomp);
    assert_eq!(Sysno::Getrandom.raw() as libc::c_long, libc::SYS_getrandom);
    assert_eq!(
        Sysno::MemfdCreate.raw() as libc::c_long,
        libc::SYS_memfd_create
    );
    assert_eq!(
        Sysno::KexecFileLoad.raw() as libc::c_long,
        libc::SYS_kexec_file_load
    );
    assert_eq!(Sysno::Bpf.raw() as libc::c_long, libc::SYS_bpf);
    assert_eq!(Sysno::Execveat.raw() as libc::c_long, libc::SYS_execveat);
    assert_eq!(
        Sysno::Userfaultfd.raw() as libc::c_long,
        libc::SYS_userfaultfd
    );
    assert_eq!(
        Sysno::Membarrier.raw() as libc::c_long,
        libc::SYS_membarrier
    );
    assert_eq!(Sysno::Mlock2.raw() as libc::c_long, libc::SYS_mlock2);
    assert_eq!(
        Sysno::CopyFileRange.raw() as libc::c_long,
        libc::SYS_copy_file_range
    );
    assert_eq!(Sysno::Preadv2.raw() as libc::c_long, libc::SYS_preadv2);
    assert_eq!(Sysno::Pwritev2.raw() as libc::c_long, libc::SYS_pwritev2);
    assert_eq!(
        Sysno::PkeyMprotect.raw() as libc::c_long,
        libc::SYS_pkey_mprotect
    );
    assert_eq!(Sysno::PkeyAlloc.raw() as libc::c_long, libc::SYS_pkey_alloc);
    assert_eq!(Sysno::PkeyFree.raw() as libc::c_long, libc::SYS_pkey_free);
    assert_eq!(Sysno::Statx.raw() as libc::c_long, libc::SYS_statx);
    assert_eq!(Sysno::Rseq.raw() as libc::c_long, libc::SYS_rseq);
    assert_eq!(
        Sysno::PidfdSendSignal.raw() as libc::c_long,
        libc::SYS_pidfd_send_signal
    );
    assert_eq!(
        Sysno::IoUringSetup.raw() as libc::c_long,
        libc::SYS_io_uring_setup
    );
    assert_eq!(
        Sysno::IoUringEnter.raw() as libc::c_long,
        libc::SYS_io_uring_enter
    );
    assert_eq!(
        Sysno::IoUringRegister.raw() as libc::c_long,
        libc::SYS_io_uring_register
    );
    assert_eq!(Sysno::OpenTree.raw() as libc::c_long, libc::SYS_open_tree);
    assert_eq!(Sysno::MoveMount.raw() as libc::c_long, libc::SYS_move_mount);
    assert_eq!(Sysno::Fsopen.raw() as libc::c_long, libc::SYS_fsopen);
    assert_eq!(Sysno::Fsconfig.raw() as libc::c_long, libc::SYS_fsconfig);
    assert_eq!(Sysno::Fsmount.raw() as libc::c_long, libc::SYS_fsmount);
    assert_eq!(Sysno::Fspick.raw() as libc::c_long, libc::SYS_fspick);
    assert_eq!(Sysno::PidfdOpen.raw() as libc::c_long, libc::SYS_pidfd_open);
    assert_eq!(Sysno::Clone3.raw() as libc::c_long, libc::SYS_clone3);
    assert_eq!(
        Sysno::CloseRange.raw() as libc::c_long,
        libc::SYS_close_range
    );
    assert_eq!(Sysno::Openat2.raw() as libc::c_long, libc::SYS_openat2);
    assert_eq!(
        Sysno::PidfdGetfd.raw() as libc::c_long,
        libc::SYS_pidfd_getfd
    );
    assert_eq!(
        Sysno::Faccessat2.raw() as libc::c_long,
        libc::SYS_faccessat2
    );
    assert_eq!(
        Sysno::ProcessMadvise.raw() as libc::c_long,
        libc::SYS_process_madvise
    );
    assert_eq!(
        Sysno::EpollPwait2.raw() as libc::c_long,
        libc::SYS_epoll_pwait2
    );
    assert_eq!(
        Sysno::MountSetattr.raw() as libc::c_long,
        libc::SYS_mount_setattr
    );
    assert_eq!(
        Sysno::QuotactlFd.raw() as libc::c_long,
        libc::SYS_quotactl_fd
    );
    assert_eq!(
        Sysno::LandlockCreateRuleset.raw() as libc::c_long,
        libc::SYS_landlock_create_ruleset
    );
    assert_eq!(
        Sysno::LandlockAddRule.raw() as libc::c_long,
        libc::SYS_landlock_add_rule
    );
    assert_eq!(
        Sysno::LandlockRestrictSelf.raw() as libc::c_long,
        libc::SYS_landlock_restrict_self
    );
    assert_eq!(
        Sysno::MemfdSecret.raw() as libc::c_long,
        libc::SYS_memfd_secret
    );
    assert_eq!(
        Sysno::ProcessMrelease.raw() as libc::c_long,
        libc::SYS_process_mrelease
    );
    assert_eq!(
        Sysno::FutexWaitv.raw() as libc::c_long,
        libc::SYS_futex_waitv
    );
    assert_eq!(
        Sysno::SetMempolicyHomeNode.raw() as libc::c_long,
        libc::SYS_set_mempolicy_home_node
    );
    // Numbers the libc crate does not name (removed or new calls).
    assert_eq!(Sysno::CreateModule.raw(), 174);
    assert_eq!(Sysno::GetKernelSyms.raw(), 177);
    assert_eq!(Sysno::QueryModule.raw(), 178);
    assert_eq!(Sysno::IoPgetevents.raw(), 333);
    assert_eq!(Sysno::ALL.len(), 362);
    assert_eq!(Sysno::from_raw(39), Some(Sysno::Getpid));
    assert_eq!(Sysno::from_raw(9999), None);
    assert_eq!(Sysno::Newfstatat.name(), "newfstatat");
}

#[test]
fn error_numbers_are_linuxs() {
    assert_eq!(Errno::Perm.raw(), libc::EPERM);
    assert_eq!(Errno::Noent.raw(), libc::ENOENT);
    assert_eq!(Errno::Srch.raw(), libc::ESRCH);
    assert_eq!(Errno::Intr.raw(), libc::EINTR);
    assert_eq!(Errno::Io.raw(), libc::EIO);
    assert_eq!(Errno::Nxio.raw(), libc::ENXIO);
    assert_eq!(Errno::TooBig.raw(), libc::E2BIG);
    assert_eq!(Errno::Noexec.raw(), libc::ENOEXEC);
    assert_eq!(Errno::Badf.raw(), libc::EBADF);
    assert_eq!(Errno::Child.raw(), libc::ECHILD);
    assert_eq!(Errno::Again.raw(), libc::EAGAIN);
    assert_eq!(Errno::Nomem.raw(), libc::ENOMEM);
    assert_eq!(Errno::Acces.raw(), libc::EACCES);
    assert_eq!(Errno::Fault.raw(), libc::EFAULT);
    assert_eq!(Errno::Notblk.raw(), libc::ENOTBLK);
    assert_eq!(Errno::Busy.raw(), libc::EBUSY);
    assert_eq!(Errno::Exist.raw(), libc::EEXIST);
    assert_eq!(Errno::Xdev.raw(), libc::EXDEV);
    assert_eq!(Errno::Nodev.raw(), libc::ENODEV);
    assert_eq!(Errno::Notdir.raw(), libc::ENOTDIR);
    assert_eq!(Errno::Isdir.raw(), libc::EISDIR);
    assert_eq!(Errno::Inval.raw(), libc::EINVAL);
    assert_eq!(Errno::Nfile.raw(), libc::ENFILE);
    assert_eq!(Errno::Mfile.raw(), libc::EMFILE);
    assert_eq!(Errno::Notty.raw(), libc::ENOTTY);
    assert_eq!(Errno::Txtbsy.raw(), libc::ETXTBSY);
    assert_eq!(Errno::Fbig.raw(), libc::EFBIG);
    assert_eq!(Errno::Nospc.raw(), libc::ENOSPC);
    assert_eq!(Errno::Spipe.raw(), libc::ESPIPE);
    assert_eq!(Errno::Rofs.raw(), libc::EROFS);
    assert_eq!(Errno::Mlink.raw(), libc::EMLINK);
    assert_eq!(Errno::Pipe.raw(), libc::EPIPE);
    assert_eq!(Errno::Dom.raw(), libc::EDOM);
    assert_eq!(Errno::Range.raw(), libc::ERANGE);
    assert_eq!(Errno::Deadlk.raw(), libc::EDEADLK);
    assert_eq!(Errno::Nametoolong.raw(), libc::ENAMETOOLONG);
    assert_eq!(Errno::Nolck.raw(), libc::ENOLCK);
    assert_eq!(Errno::Nosys.raw(), libc::ENOSYS);
    assert_eq!(Errno::Notempty.raw(), libc::ENOTEMPTY);
    assert_eq!(Errno::Loop.raw(), libc::ELOOP);
    assert_eq!(Errno::Nomsg.raw(), libc::ENOMSG);
    assert_eq!(Errno::Idrm.raw(), libc::EIDRM);
    assert_eq!(Errno::Chrng.raw(), libc::ECHRNG);
    assert_eq!(Errno::L2nsync.raw(), libc::EL2NSYNC);
    assert_eq!(Errno::L3hlt.raw(), libc::EL3HLT);
    assert_eq!(Errno::L3rst.raw(), libc::EL3RST);
    assert_eq!(Errno::Lnrng.raw(), libc::ELNRNG);
    assert_eq!(Errno::Unatch.raw(), libc::EUNATCH);
    assert_eq!(Errno::Nocsi.raw(), libc::ENOCSI);
    assert_eq!(Errno::L2hlt.raw(), libc::EL2HLT);
    assert_eq!(Errno::Bade.raw(), libc::EBADE);
    assert_eq!(Errno::Badr.raw(), libc::EBADR);
    assert_eq!(Errno::Xfull.raw(), libc::EXFULL);
    assert_eq!(Errno::Noano.raw(), libc::ENOANO);
    assert_eq!(Errno::Badrqc.raw(), libc::EBADRQC);
    assert_eq!(Errno::Badslt.raw(), libc::EBADSLT);
    assert_eq!(Errno::Bfont.raw(), libc::EBFONT);
    assert_eq!(Errno::Nostr.raw(), libc::ENOSTR);
    assert_eq!(Errno::Nodata.raw(), libc::ENODATA);
    assert_eq!(Errno::Time.raw(), libc::ETIME);
    assert_eq!(Errno::Nosr.raw(), libc::ENOSR);
    assert_eq!(Errno::Nonet.raw(), libc::ENONET);
    assert_eq!(Errno::Nopkg.raw(), libc::ENOPKG);
    assert_eq!(Errno::Remote.raw(), libc::EREMOTE);
    assert_eq!(Errno::Nolink.raw(), libc::ENOLINK);
    assert_eq!(Errno::Adv.raw(), libc::EADV);
    assert_eq!(Errno::Srmnt.raw(), libc::ESRMNT);
    assert_eq!(Errno::Comm.raw(), libc::ECOMM);
    assert_eq!(Errno::Proto.raw(), libc::EPROTO);
    assert_eq!(Errno::Multihop.raw(), libc::EMULTIHOP);
    assert_eq!(Errno::Dotdot.raw(), libc::EDOTDOT);
    assert_eq!(Errno::Badmsg.raw(), libc::EBADMSG);
    assert_eq!(Errno::Overflow.raw(), libc::EOVERFLOW);
    assert_eq!(Errno::Notuniq.raw(), libc::ENOTUNIQ);
    assert_eq!(Errno::Badfd.raw(), libc::EBADFD);
    assert_eq!(Errno::Remchg.raw(), libc::EREMCHG);
    assert_eq!(Errno::Libacc.raw(), libc::ELIBACC);
    assert_eq!(Errno::Libbad.raw(), libc::ELIBBAD);
    assert_eq!(Errno::Libscn.raw(), libc::ELIBSCN);
    assert_eq!(Errno::Libmax.raw(), libc::ELIBMAX);
    assert_eq!(Errno::Libexec.raw(), libc::ELIBEXEC);
    assert_eq!(Errno::Ilseq.raw(), libc::EILSEQ);
    assert_eq!(Errno::Restart.raw(), libc::ERESTART);
    assert_eq!(Errno::Strpipe.raw(), libc::ESTRPIPE);
    assert_eq!(Errno::Users.raw(), libc::EUSERS);
    assert_eq!(Errno::Notsock.raw(), libc::ENOTSOCK);
    assert_eq!(Errno::Destaddrreq.raw(), libc::EDESTADDRREQ);
    assert_eq!(Errno::Msgsize.raw(), libc::EMSGSIZE);
    assert_eq!(Errno::Prototype.raw(), libc::EPROTOTYPE);
    assert_eq!(Errno::Noprotoopt.raw(), libc::ENOPROTOOPT);
    assert_eq!(Errno::Protonosupport.raw(), libc::EPROTONOSUPPORT);
    assert_eq!(Errno::Socktnosupport.raw(), libc::ESOCKTNOSUPPORT);
    assert_eq!(Errno::Opnotsupp.raw(), libc::EOPNOTSUPP);
    assert_eq!(Errno::Pfnosupport.raw(), libc::EPFNOSUPPORT);
    assert_eq!(Errno::Afnosupport.raw(), libc::EAFNOSUPPORT);
    assert_eq!(Errno::Addrinuse.raw(), libc::EADDRINUSE);
    assert_eq!(Errno::Addrnotavail.raw(), libc::EADDRNOTAVAIL);
    assert_eq!(Errno::Netdown.raw(), libc::ENETDOWN);
    assert_eq!(Errno::Netunreach.raw(), libc::ENETUNREACH);
    assert_eq!(Errno::Netreset.raw(), libc::ENETRESET);
    assert_eq!(Errno::Connaborted.raw(), libc::ECONNABORTED);
    assert_eq!(Errno::Connreset.raw(), libc::ECONNRESET);
    assert_eq!(Errno::Nobufs.raw(), libc::ENOBUFS);
    assert_eq!(Errno::Isconn.raw(), libc::EISCONN);
    assert_eq!(Errno::Notconn.raw(), libc::ENOTCONN);
    assert_eq!(Errno::Shutdown.raw(), libc::ESHUTDOWN);
    assert_eq!(Errno::Toomanyrefs.raw(), libc::ETOOMANYREFS);
    assert_eq!(Errno::Timedout.raw(), libc::ETIMEDOUT);
    assert_eq!(Errno::Connrefused.raw(), libc::ECONNREFUSED);
    assert_eq!(Errno::Hostdown.raw(), libc::EHOSTDOWN);
    assert_eq!(Errno::Hostunreach.raw(), libc::EHOSTUNREACH);
    assert_eq!(Errno::Already.raw(), libc::EALREADY);
    assert_eq!(Errno::Inprogress.raw(), libc::EINPROGRESS);
    assert_eq!(Errno::Stale.raw(), libc::ESTALE);
    assert_eq!(Errno::Uclean.raw(), libc::EUCLEAN);
    assert_eq!(Errno::Notnam.raw(), libc::ENOTNAM);
    assert_eq!(Errno::Navail.raw(), libc::ENAVAIL);
    assert_eq!(Errno::Isnam.raw(), libc::EISNAM);
    assert_eq!(Errno::Remoteio.raw(), libc::EREMOTEIO);
    assert_eq!(Errno::Dquot.raw(), libc::EDQUOT);
    assert_eq!(Errno::Nomedium.raw(), libc::ENOMEDIUM);
    assert_eq!(Errno::Mediumtype.raw(), libc::EMEDIUMTYPE);
    assert_eq!(Errno::Canceled.raw(), libc::ECANCELED);
    assert_eq!(Errno::Nokey.raw(), libc::ENOKEY);
    assert_eq!(Errno::Keyexpired.raw(), libc::EKEYEXPIRED);
    assert_eq!(Errno::Keyrevoked.raw(), libc::EKEYREVOKED);
    assert_eq!(Errno::Keyrejected.raw(), libc::EKEYREJECTED);
    assert_eq!(Errno::Ownerdead.raw(), libc::EOWNERDEAD);
    assert_eq!(Errno::Notrecoverable.raw(), libc::ENOTRECOVERABLE);
    assert_eq!(Errno::Rfkill.raw(), libc::ERFKILL);
    assert_eq!(Errno::Hwpoison.raw(), libc::EHWPOISON);
    assert_eq!(Errno::WOULDBLOCK.raw(), libc::EWOULDBLOCK);
    assert_eq!(Errno::NOTSUP.raw(), libc::ENOTSUP);
    assert_eq!(Errno::DEADLOCK.raw(), libc::EDEADLOCK);
}

#[test]
fn stat_matches_struct_stat() {
    assert_eq!(Stat::SIZE, size_of::<libc::stat>());
    assert_eq!(stat_offset::DEV, offset_of!(libc::stat, st_dev));
    assert_eq!(stat_offset::INO, offset_of!(libc::stat, st_ino));
    assert_eq!(stat_offset::NLINK, offset_of!(libc::stat, st_nlink));
    assert_eq!(stat_offset::MODE, offset_of!(libc::stat, st_mode));
    assert_eq!(stat_offset::UID, offset_of!(libc::stat, st_uid));
    assert_eq!(stat_offset::GID, offset_of!(libc::stat, st_gid));
    assert_eq!(stat_offset::RDEV, offset_of!(libc::stat, st_rdev));
    assert_eq!(stat_offset::SIZE, offset_of!(libc::stat, st_size));
    assert_eq!(stat_offset::BLKSIZE, offset_of!(libc::stat, st_blksize));
    assert_eq!(stat_offset::BLOCKS, offset_of!(libc::stat, st_blocks));
    assert_eq!(stat_offset::ATIME, offset_of!(libc::stat, st_atime));
    assert_eq!(
        stat_offset::ATIME + 8,
        offset_of!(libc::stat, st_atime_nsec)
    );
    assert_eq!(stat_offset::MTIME, offset_of!(libc::stat, st_mtime));
    assert_eq!(
        stat_offset::CTIME + 8,
        offset_of!(libc::stat, st_ctime_nsec)
    );

    // A real stat of a real file, re-encoded, is byte-for-byte what the
    // host's kernel wrote.
    let path = std::ffi::CString::new("/").unwrap();
    let mut st = core::mem::MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: a valid C string and a buffer the size of `struct stat`.
    assert_eq!(unsafe { libc::stat(path.as_ptr(), st.as_mut_ptr()) }, 0);
    // SAFETY: stat succeeded and filled the buffer.
    let st = unsafe { st.assume_init() };
    let ours = Stat {
        dev: st.st_dev,
        ino: st.st_ino,
        nlink: st.st_nlink,
        mode: st.st_mode,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: st.st_rdev,
        size: st.st_size,
        blksize: st.st_blksize,
        blocks: st.st_blocks,
        atime: (st.st_atime, st.st_atime_nsec),
        mtime: (st.st_mtime, st.st_mtime_nsec),
        ctime: (st.st_ctime, st.st_ctime_nsec),
    };
    // SAFETY: `libc::stat` is plain old data of `Stat::SIZE` bytes.
    let host: [u8; Stat::SIZE] = unsafe { core::mem::transmute(st) };
    assert_eq!(ours.to_bytes(), host);
}

#[test]
fn stat_from_the_hurds() {
    let h = hurd_trans::stat::Stat {
        fsid: 7,
        ino: 42,
        mode: 0o100644 | hurd_trans::mode::S_IPTRANS,
        nlink: 2,
        uid: 1000,
        gid: 100,
        size: 12345,
        blksize: 4096,
        blocks: 24,
        mtime: hurd_trans::stat::TimeSpec {
            sec: 1_700_000_000,
            nsec: 5,
        },
        ..Default::default()
    };
    let s = Stat::from_hurd(&h);
    assert_eq!(s.mode, 0o100644, "the Hurd's translator bits are dropped");
    assert_eq!(
        (s.dev, s.ino, s.nlink, s.size, s.mtime),
        (7, 42, 2, 12345, (1_700_000_000, 5))
    );
    let x = Statx::from_hurd(&h);
    let b = x.to_bytes();
    assert_eq!(b.len(), size_of::<libc::statx>());
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    assert_eq!(
        u32_at(offset_of!(libc::statx, stx_mask)),
        linux_abi::layout::stat::STATX_BASIC_STATS
    );
    assert_eq!(u32_at(offset_of!(libc::statx, stx_uid)), 1000);
    assert_eq!(u32_at(offset_of!(libc::statx, stx_nlink)), 2);
    assert_eq!(u64_at(offset_of!(libc::statx, stx_ino)), 42);
    assert_eq!(u64_at(offset_of!(libc::statx, stx_size)), 12345);
    assert_eq!(u64_at(offset_of!(libc::statx, stx_blocks)), 24);
    assert_eq!(u64_at(offset_of!(libc::statx, stx_mtime)), 1_700_000_000);
    assert_eq!(u32_at(offset_of!(libc::statx, stx_mtime) + 8), 5);
    assert_eq!(offset_of!(libc::statx, stx_mode), 28);
    assert_eq!(offset_of!(libc::statx, stx_rdev_major), 128);
    assert_eq!(offset_of!(libc::statx, stx_dev_major), 136);
    assert_eq!(offset_of!(libc::statx, stx_ctime), 96);
    assert_eq!(offset_of!(libc::statx, stx_atime), 64);
    // The device numbers split as glibc's major()/minor() do.
    let dev = libc::makedev(259, 70000);
    assert_eq!(
        linux_abi::layout::stat::dev_split(dev),
        (libc::major(dev), libc::minor(dev))
    );
}

#[test]
fn dirent64_matches() {
    assert_eq!(offset_of!(libc::dirent64, d_ino), 0);
    assert_eq!(offset_of!(libc::dirent64, d_off), 8);
    assert_eq!(offset_of!(libc::dirent64, d_reclen), 16);
    assert_eq!(offset_of!(libc::dirent64, d_type), 18);
    assert_eq!(offset_of!(libc::dirent64, d_name), dirent::HEADER);
    assert_eq!(dirent::DT_DIR, libc::DT_DIR);
    assert_eq!(dirent::DT_REG, libc::DT_REG);
    assert_eq!(dirent::DT_LNK, libc::DT_LNK);
    assert_eq!(dirent::DT_FIFO, libc::DT_FIFO);
    assert_eq!(dirent::DT_SOCK, libc::DT_SOCK);
    assert_eq!(dirent::DT_CHR, libc::DT_CHR);
    assert_eq!(dirent::DT_BLK, libc::DT_BLK);
    assert_eq!(dt_from_mode(libc::S_IFDIR | 0o755), libc::DT_DIR);
    assert_eq!(dt_from_mode(libc::S_IFLNK), libc::DT_LNK);
    assert_eq!(dt_from_mode(0), libc::DT_UNKNOWN);
    for (ours, theirs) in [
        (stat::S_IFMT, libc::S_IFMT),
        (stat::S_IFSOCK, libc::S_IFSOCK),
        (stat::S_IFLNK, libc::S_IFLNK),
        (stat::S_IFREG, libc::S_IFREG),
        (stat::S_IFBLK, libc::S_IFBLK),
        (stat::S_IFDIR, libc::S_IFDIR),
        (stat::S_IFCHR, libc::S_IFCHR),
        (stat::S_IFIFO, libc::S_IFIFO),
    ] {
        assert_eq!(ours, theirs);
    }

    let mut w = DirentWriter::new(64);
    assert!(w.push(2, 1, dirent::DT_DIR, b"."));
    assert!(w.push(1, 2, dirent::DT_DIR, b".."));
    assert!(
        !w.push(9, 3, dirent::DT_REG, b"a-name-too-long-for-what-is-left"),
        "no room: nothing written"
    );
    assert!(
        !w.push(9, 3, dirent::DT_REG, b"a/b"),
        "a slash is never a name"
    );
    let b = w.into_bytes();
    assert_eq!(b.len(), 48);
    assert_eq!(u16::from_le_bytes([b[16], b[17]]), 24);
    assert_eq!(b[19], b'.');
    assert_eq!(b[20], 0);
    assert_eq!(&b[24 + 19..24 + 22], b"..\0");
    assert_eq!(
        i64::from_le_bytes(b[24 + 8..24 + 16].try_into().unwrap()),
        2
    );
}

#[test]
fn termios_matches_the_kernels() {
    // The kernel's struct termios is termios2 without the two speeds.
    assert_eq!(Termios::SIZE, offset_of!(libc::termios2, c_ispeed));
    assert_eq!(17, offset_of!(libc::termios2, c_cc));
    assert_eq!(tio::LINUX_NCCS, 19);
    for (ours, theirs) in [
        (tio::TCGETS, libc::TCGETS),
        (tio::TCSETS, libc::TCSETS),
        (tio::TCSETSW, libc::TCSETSW),
        (tio::TCSETSF, libc::TCSETSF),
        (tio::TIOCGPGRP, libc::TIOCGPGRP),
        (tio::TIOCSPGRP, libc::TIOCSPGRP),
        (tio::TIOCGWINSZ, libc::TIOCGWINSZ),
        (tio::TIOCSWINSZ, libc::TIOCSWINSZ),
        (tio::FIONBIO, libc::FIONBIO),
        (tio::FIONREAD, libc::FIONREAD),
        (tio::TIOCSCTTY, libc::TIOCSCTTY),
        (tio::TIOCGSID, libc::TIOCGSID),
        (tio::FIOCLEX, libc::FIOCLEX),
        (tio::FIONCLEX, libc::FIONCLEX),
    ] {
        assert_eq!(u64::from(ours), theirs);
    }
    for (ours, theirs) in [
        (tio::cc::VINTR, libc::VINTR),
        (tio::cc::VQUIT, libc::VQUIT),
        (tio::cc::VERASE, libc::VERASE),
        (tio::cc::VKILL, libc::VKILL),
        (tio::cc::VEOF, libc::VEOF),
        (tio::cc::VTIME, libc::VTIME),
        (tio::cc::VMIN, libc::VMIN),
        (tio::cc::VSTART, libc::VSTART),
        (tio::cc::VSTOP, libc::VSTOP),
        (tio::cc::VSUSP, libc::VSUSP),
        (tio::cc::VEOL, libc::VEOL),
        (tio::cc::VREPRINT, libc::VREPRINT),
        (tio::cc::VDISCARD, libc::VDISCARD),
        (tio::cc::VWERASE, libc::VWERASE),
        (tio::cc::VLNEXT, libc::VLNEXT),
        (tio::cc::VEOL2, libc::VEOL2),
    ] {
        assert_eq!(ours, theirs);
    }
    assert_eq!(tio::CBAUD, libc::CBAUD);
    assert_eq!(tio::speed_from_code(libc::B115200), 115_200);
    assert_eq!(tio::code_from_speed(38400), libc::B38400);
    assert_eq!(tio::code_from_speed(9601), libc::B9600);
    assert_eq!(size_of::<libc::winsize>(), Winsize::SIZE);
    let ws = Winsize {
        rows: 24,
        cols: 80,
        xpixel: 1,
        ypixel: 2,
    };
    assert_eq!(Winsize::from_bytes(&ws.to_bytes()), Some(ws));
    assert_eq!(&ws.to_bytes()[..4], &[24, 0, 80, 0]);
}

#[test]
fn termios_to_the_hurds_and_back() {
    let mut cc = [0; tio::LINUX_NCCS];
    cc[libc::VINTR] = 3;
    cc[libc::VERASE] = 0x7f;
    cc[libc::VMIN] = 1;
    cc[libc::VSUSP] = 0x1a;
    let t = Termios {
        iflag: libc::ICRNL | libc::IXON,
        oflag: libc::OPOST | libc::ONLCR,
        cflag: libc::CS8 | libc::CREAD | libc::B38400,
        lflag: libc::ISIG | libc::ICANON | libc::ECHO | libc::ECHOE | libc::IEXTEN,
        line: 0,
        cc,
    };
    let base = HurdTermios {
        cc: [tio::HURD_VDISABLE; tio::HURD_NCCS],
        ..Default::default()
    };
    let h = t.to_hurd(&base);
    // BSD's values: ICRNL 0x100, IXON 0x200; OPOST 1, ONLCR 2; CS8 0x300,
    // CREAD 0x800; ISIG 0x80, ICANON 0x100, ECHO 8, ECHOE 2, IEXTEN 0x400.
    assert_eq!(h.modes, [0x300, 0x3, 0xb00, 0x58a]);
    assert_eq!(h.cc[8], 3, "VINTR is slot 8 on the Hurd");
    assert_eq!(h.cc[3], 0x7f, "VERASE is slot 3");
    assert_eq!(h.cc[10], 0x1a, "VSUSP is slot 10");
    assert_eq!(
        h.cc[0],
        tio::HURD_VDISABLE,
        "a disabled VEOF is the Hurd's 0xff"
    );
    assert_eq!(h.speeds, [38400, 38400]);
    assert_eq!(Termios::from_hurd(&h), t);
    assert_eq!(Termios::from_bytes(&t.to_bytes()), Some(t));
    assert_eq!(Termios::from_bytes(&[0; 35]), None);
}

#[test]
fn signal_structures_match() {
    assert_eq!(size_of::<libc::siginfo_t>(), SigInfo::SIZE);
    assert_eq!(size_of::<libc::stack_t>(), StackT::SIZE);
    assert_eq!(offset_of!(libc::stack_t, ss_sp), 0);
    assert_eq!(offset_of!(libc::stack_t, ss_flags), 8);
    assert_eq!(offset_of!(libc::stack_t, ss_size), 16);
    assert_eq!(offset_of!(libc::ucontext_t, uc_flags), uc_offset::FLAGS);
    assert_eq!(offset_of!(libc::ucontext_t, uc_link), uc_offset::LINK);
    assert_eq!(offset_of!(libc::ucontext_t, uc_stack), uc_offset::STACK);
    assert_eq!(
        offset_of!(libc::ucontext_t, uc_mcontext),
        uc_offset::MCONTEXT
    );
    assert_eq!(
        offset_of!(libc::ucontext_t, uc_mcontext) + offset_of!(libc::mcontext_t, fpregs),
        uc_offset::FPSTATE
    );
    assert_eq!(offset_of!(libc::ucontext_t, uc_sigmask), uc_offset::SIGMASK);
    for (ours, theirs) in [
        (reg::R8, libc::REG_R8),
        (reg::RDI, libc::REG_RDI),
        (reg::RSI, libc::REG_RSI),
        (reg::RBP, libc::REG_RBP),
        (reg::RBX, libc::REG_RBX),
        (reg::RDX, libc::REG_RDX),
        (reg::RAX, libc::REG_RAX),
        (reg::RCX, libc::REG_RCX),
        (reg::RSP, libc::REG_RSP),
        (reg::RIP, libc::REG_RIP),
        (reg::EFL, libc::REG_EFL),
        (reg::CSGSFS, libc::REG_CSGSFS),
        (reg::ERR, libc::REG_ERR),
        (reg::TRAPNO, libc::REG_TRAPNO),
        (reg::OLDMASK, libc::REG_OLDMASK),
        (reg::CR2, libc::REG_CR2),
    ] {
        assert_eq!(ours as libc::c_int, theirs);
    }

    // A siginfo as we write it reads back through the C library's accessors.
    let info = SigInfo {
        status: 3,
        ..SigInfo::user(libc::SIGCHLD as u32, 77, 1000)
    };
    let bytes = info.to_bytes();
    // SAFETY: siginfo_t is plain old data of 128 bytes.
    let si: libc::siginfo_t = unsafe { core::mem::transmute(bytes) };
    assert_eq!(si.si_signo, libc::SIGCHLD);
    // SAFETY: the union holds the kill/child fields we wrote.
    unsafe {
        assert_eq!(si.si_pid(), 77);
        assert_eq!(si.si_uid(), 1000);
        assert_eq!(si.si_status(), 3);
    }
    let fault = SigInfo::fault(libc::SIGSEGV as u32, sigframe::SEGV_MAPERR, 0xdead_b000);
    // SAFETY: as above.
    let si: libc::siginfo_t = unsafe { core::mem::transmute(fault.to_bytes()) };
    // SAFETY: the union holds the fault address.
    assert_eq!(unsafe { si.si_addr() } as u64, 0xdead_b000);
    assert_eq!(si.si_code, 1, "SEGV_MAPERR");

    for (ours, theirs) in [
        (signal::SA_NOCLDSTOP, libc::SA_NOCLDSTOP),
        (signal::SA_NOCLDWAIT, libc::SA_NOCLDWAIT),
        (signal::SA_SIGINFO, libc::SA_SIGINFO),
        (signal::SA_ONSTACK, libc::SA_ONSTACK),
        (signal::SA_RESTART, libc::SA_RESTART),
        (signal::SA_NODEFER, libc::SA_NODEFER),
        (signal::SA_RESETHAND, libc::SA_RESETHAND),
        (signal::SA_RESTORER, 0x0400_0000),
    ] {
        assert_eq!(ours, u64::from(theirs as u32));
    }
    assert_eq!(signal::SS_ONSTACK, libc::SS_ONSTACK);
    assert_eq!(signal::SS_DISABLE, libc::SS_DISABLE);
    assert_eq!(signal::SIG_BLOCK, libc::SIG_BLOCK as u32);
    assert_eq!(signal::SIG_UNBLOCK, libc::SIG_UNBLOCK as u32);
    assert_eq!(signal::SIG_SETMASK, libc::SIG_SETMASK as u32);
    assert_eq!(signal::SIG_IGN, libc::SIG_IGN as u64);
}

#[test]
fn signal_numbers_are_linuxs() {
    for (ours, theirs) in [
        (signal::SIGHUP, libc::SIGHUP),
        (signal::SIGINT, libc::SIGINT),
        (signal::SIGQUIT, libc::SIGQUIT),
        (signal::SIGILL, libc::SIGILL),
        (signal::SIGTRAP, libc::SIGTRAP),
        (signal::SIGABRT, libc::SIGABRT),
        (signal::SIGBUS, libc::SIGBUS),
        (signal::SIGFPE, libc::SIGFPE),
        (signal::SIGKILL, libc::SIGKILL),
        (signal::SIGUSR1, libc::SIGUSR1),
        (signal::SIGSEGV, libc::SIGSEGV),
        (signal::SIGUSR2, libc::SIGUSR2),
        (signal::SIGPIPE, libc::SIGPIPE),
        (signal::SIGALRM, libc::SIGALRM),
        (signal::SIGTERM, libc::SIGTERM),
        (signal::SIGSTKFLT, libc::SIGSTKFLT),
        (signal::SIGCHLD, libc::SIGCHLD),
        (signal::SIGCONT, libc::SIGCONT),
        (signal::SIGSTOP, libc::SIGSTOP),
        (signal::SIGTSTP, libc::SIGTSTP),
        (signal::SIGTTIN, libc::SIGTTIN),
        (signal::SIGTTOU, libc::SIGTTOU),
        (signal::SIGURG, libc::SIGURG),
        (signal::SIGXCPU, libc::SIGXCPU),
        (signal::SIGXFSZ, libc::SIGXFSZ),
        (signal::SIGVTALRM, libc::SIGVTALRM),
        (signal::SIGPROF, libc::SIGPROF),
        (signal::SIGWINCH, libc::SIGWINCH),
        (signal::SIGIO, libc::SIGIO),
        (signal::SIGPWR, libc::SIGPWR),
        (signal::SIGSYS, libc::SIGSYS),
    ] {
        assert_eq!(ours as libc::c_int, theirs);
    }
    // The Hurd's numbers are BSD's; the servers here use them too.
    assert_eq!(signal::to_hurd(signal::SIGUSR1), Some(30));
    assert_eq!(
        signal::to_hurd(signal::SIGTSTP),
        Some(18),
        "the terminal's ^Z"
    );
    assert_eq!(
        signal::from_hurd(2),
        Some(signal::SIGINT),
        "the terminal's ^C"
    );
    assert_eq!(signal::to_hurd(signal::SIGPWR), None);
    assert_eq!(signal::to_hurd(signal::SIGRTMIN), None);
    for sig in 1..=signal::NSIG {
        if let Some(h) = signal::to_hurd(sig) {
            assert_eq!(signal::from_hurd(h), Some(sig));
        }
    }
}

#[test]
fn wait_statuses_decode_as_libc_does() {
    let exited = WaitStatus::Exited(3).raw();
    assert!(libc::WIFEXITED(exited));
    assert_eq!(libc::WEXITSTATUS(exited), 3);
    let killed = WaitStatus::Signaled {
        sig: signal::SIGTERM,
        core: false,
    }
    .raw();
    assert!(libc::WIFSIGNALED(killed));
    assert_eq!(libc::WTERMSIG(killed), libc::SIGTERM);
    let dumped = WaitStatus::Signaled {
        sig: signal::SIGSEGV,
        core: true,
    }
    .raw();
    assert!(libc::WCOREDUMP(dumped));
    let stopped = WaitStatus::Stopped(signal::SIGTSTP).raw();
    assert!(libc::WIFSTOPPED(stopped));
    assert_eq!(libc::WSTOPSIG(stopped), libc::SIGTSTP);
    assert!(libc::WIFCONTINUED(WaitStatus::Continued.raw()));
    // From the Hurd: SIGUSR1 is 30 there.
    assert_eq!(
        WaitStatus::from_hurd(30),
        Some(WaitStatus::Signaled {
            sig: signal::SIGUSR1,
            core: false
        })
    );
    assert_eq!(
        WaitStatus::from_hurd(18 << 8 | 0x7f),
        Some(WaitStatus::Stopped(signal::SIGTSTP))
    );
    assert_eq!(WaitStatus::from_hurd(0x7_0000), None);
    assert_eq!(
        signal::wait_options_to_hurd((libc::WNOHANG | libc::WUNTRACED) as u32),
        Some(3)
    );
    assert_eq!(
        signal::wait_options_to_hurd(libc::WCONTINUED as u32),
        Some(4)
    );
    assert_eq!(signal::wait_options_to_hurd(0x40), None);
    assert_eq!(signal::WNOHANG, libc::WNOHANG as u32);
    assert_eq!(signal::WUNTRACED, libc::WUNTRACED as u32);
    assert_eq!(signal::WCONTINUED, libc::WCONTINUED as u32);
}

#[test]
fn small_structures_match() {
    assert_eq!(size_of::<libc::timespec>(), Timespec::SIZE);
    assert_eq!(size_of::<libc::timeval>(), Timeval::SIZE);
    assert_eq!(size_of::<libc::iovec>(), Iovec::SIZE);
    assert_eq!(offset_of!(libc::iovec, iov_len), 8);
    assert_eq!(size_of::<libc::pollfd>(), PollFd::SIZE);
    assert_eq!(offset_of!(libc::pollfd, events), 4);
    assert_eq!(offset_of!(libc::pollfd, revents), 6);
    assert_eq!(size_of::<libc::utsname>(), Utsname::SIZE);
    assert_eq!(offset_of!(libc::utsname, machine), 4 * UTS_LEN);
    assert_eq!(size_of::<libc::rlimit>(), Rlimit::SIZE);
    assert_eq!(size_of::<libc::sysinfo>(), Sysinfo::SIZE);
    assert_eq!(offset_of!(libc::sysinfo, procs), 80);
    assert_eq!(offset_of!(libc::sysinfo, mem_unit), 104);
    assert_eq!(offset_of!(libc::sysinfo, totalram), 32);
    assert_eq!(size_of::<libc::rusage>(), Rusage::SIZE);
    assert_eq!(offset_of!(libc::rusage, ru_maxrss), 32);
    for (ours, theirs) in [
        (POLLIN, libc::POLLIN),
        (POLLPRI, libc::POLLPRI),
        (POLLOUT, libc::POLLOUT),
        (POLLERR, libc::POLLERR),
        (POLLHUP, libc::POLLHUP),
        (POLLNVAL, libc::POLLNVAL),
        (POLLRDNORM, libc::POLLRDNORM),
        (POLLRDBAND, libc::POLLRDBAND),
        (POLLWRNORM, libc::POLLWRNORM),
        (POLLWRBAND, libc::POLLWRBAND),
    ] {
        assert_eq!(ours, theirs);
    }
    assert_eq!(UTIME_NOW, libc::UTIME_NOW);
    assert_eq!(UTIME_OMIT, libc::UTIME_OMIT);
    assert_eq!(RLIM_INFINITY, libc::RLIM_INFINITY);

    let uts = Utsname {
        sysname: "GNU",
        machine: "x86_64",
        ..Default::default()
    }
    .to_bytes();
    assert_eq!(&uts[..4], b"GNU\0");
    assert_eq!(&uts[4 * UTS_LEN..4 * UTS_LEN + 7], b"x86_64\0");
    let p = PollFd {
        fd: 3,
        events: POLLIN | POLLOUT,
        revents: 0,
    };
    assert_eq!(p.select_type(), SELECT_READ | SELECT_WRITE);
    assert_eq!(p.revents_for(SELECT_WRITE), POLLOUT);
    assert_eq!(PollFd::from_bytes(&p.to_bytes()), Some(p));
    assert_eq!(
        Timespec {
            sec: 1,
            nsec: 1_000_000_000
        }
        .as_nanos(),
        None
    );
    assert_eq!(
        Timespec::from_nanos(1_500_000_000),
        Timespec {
            sec: 1,
            nsec: 500_000_000
        }
    );
}

#[test]
fn flags_are_linuxs() {
    for (ours, theirs) in [
        (O_WRONLY, libc::O_WRONLY),
        (O_RDWR, libc::O_RDWR),
        (O_CREAT, libc::O_CREAT),
        (O_EXCL, libc::O_EXCL),
        (O_NOCTTY, libc::O_NOCTTY),
        (O_TRUNC, libc::O_TRUNC),
        (O_APPEND, libc::O_APPEND),
        (O_NONBLOCK, libc::O_NONBLOCK),
        (O_DSYNC, libc::O_DSYNC),
        (O_ASYNC, libc::O_ASYNC),
        (O_DIRECT, libc::O_DIRECT),
        (O_LARGEFILE, 0o100000),
        (O_DIRECTORY, libc::O_DIRECTORY),
        (O_NOFOLLOW, libc::O_NOFOLLOW),
        (O_NOATIME, libc::O_NOATIME),
        (O_CLOEXEC, libc::O_CLOEXEC),
        (O_SYNC, libc::O_SYNC),
        (O_PATH, libc::O_PATH),
        (O_TMPFILE, libc::O_TMPFILE),
        (AT_SYMLINK_NOFOLLOW, libc::AT_SYMLINK_NOFOLLOW),
        (AT_REMOVEDIR, libc::AT_REMOVEDIR),
        (AT_EACCESS, libc::AT_EACCESS),
        (AT_SYMLINK_FOLLOW, libc::AT_SYMLINK_FOLLOW),
        (AT_NO_AUTOMOUNT, libc::AT_NO_AUTOMOUNT),
        (AT_EMPTY_PATH, libc::AT_EMPTY_PATH),
        (F_DUPFD, libc::F_DUPFD),
        (F_GETFD, libc::F_GETFD),
        (F_SETFD, libc::F_SETFD),
        (F_GETFL, libc::F_GETFL),
        (F_SETFL, libc::F_SETFL),
        (F_GETLK, libc::F_GETLK),
        (F_SETLK, libc::F_SETLK),
        (F_SETLKW, libc::F_SETLKW),
        (F_SETOWN, libc::F_SETOWN),
        (F_GETOWN, libc::F_GETOWN),
        (F_DUPFD_CLOEXEC, libc::F_DUPFD_CLOEXEC),
        (FD_CLOEXEC, libc::FD_CLOEXEC),
        (PROT_READ, libc::PROT_READ),
        (PROT_WRITE, libc::PROT_WRITE),
        (PROT_EXEC, libc::PROT_EXEC),
        (MAP_SHARED, libc::MAP_SHARED),
        (MAP_PRIVATE, libc::MAP_PRIVATE),
        (MAP_SHARED_VALIDATE, libc::MAP_SHARED_VALIDATE),
        (MAP_FIXED, libc::MAP_FIXED),
        (MAP_ANONYMOUS, libc::MAP_ANONYMOUS),
        (MAP_GROWSDOWN, libc::MAP_GROWSDOWN),
        (MAP_DENYWRITE, libc::MAP_DENYWRITE),
        (MAP_EXECUTABLE, libc::MAP_EXECUTABLE),
        (MAP_LOCKED, libc::MAP_LOCKED),
        (MAP_NORESERVE, libc::MAP_NORESERVE),
        (MAP_POPULATE, libc::MAP_POPULATE),
        (MAP_NONBLOCK, libc::MAP_NONBLOCK),
        (MAP_STACK, libc::MAP_STACK),
        (MAP_HUGETLB, libc::MAP_HUGETLB),
        (MAP_FIXED_NOREPLACE, libc::MAP_FIXED_NOREPLACE),
        (FUTEX_WAIT, libc::FUTEX_WAIT),
        (FUTEX_WAKE, libc::FUTEX_WAKE),
        (FUTEX_REQUEUE, libc::FUTEX_REQUEUE),
        (FUTEX_CMP_REQUEUE, libc::FUTEX_CMP_REQUEUE),
        (FUTEX_WAKE_OP, libc::FUTEX_WAKE_OP),
        (FUTEX_WAIT_BITSET, libc::FUTEX_WAIT_BITSET),
        (FUTEX_WAKE_BITSET, libc::FUTEX_WAKE_BITSET),
        (FUTEX_PRIVATE_FLAG, libc::FUTEX_PRIVATE_FLAG),
        (FUTEX_CLOCK_REALTIME, libc::FUTEX_CLOCK_REALTIME),
        (CLOCK_REALTIME, libc::CLOCK_REALTIME as u32 as libc::c_int),
        (CLOCK_MONOTONIC, libc::CLOCK_MONOTONIC),
        (CLOCK_PROCESS_CPUTIME_ID, libc::CLOCK_PROCESS_CPUTIME_ID),
        (CLOCK_THREAD_CPUTIME_ID, libc::CLOCK_THREAD_CPUTIME_ID),
        (CLOCK_MONOTONIC_RAW, libc::CLOCK_MONOTONIC_RAW),
        (CLOCK_REALTIME_COARSE, libc::CLOCK_REALTIME_COARSE),
        (CLOCK_MONOTONIC_COARSE, libc::CLOCK_MONOTONIC_COARSE),
        (CLOCK_BOOTTIME, libc::CLOCK_BOOTTIME),
        (TIMER_ABSTIME, libc::TIMER_ABSTIME),
        (GRND_NONBLOCK, libc::GRND_NONBLOCK as libc::c_int),
        (GRND_RANDOM, libc::GRND_RANDOM as libc::c_int),
        (GRND_INSECURE, libc::GRND_INSECURE as libc::c_int),
    ] {
        assert_eq!(ours as libc::c_int, theirs as libc::c_int);
    }
    assert_eq!(AT_FDCWD, libc::AT_FDCWD);
    for (ours, theirs) in [
        (CLONE_VM, libc::CLONE_VM),
        (CLONE_FS, libc::CLONE_FS),
        (CLONE_FILES, libc::CLONE_FILES),
        (CLONE_SIGHAND, libc::CLONE_SIGHAND),
        (CLONE_PIDFD, libc::CLONE_PIDFD),
        (CLONE_PTRACE, libc::CLONE_PTRACE),
        (CLONE_VFORK, libc::CLONE_VFORK),
        (CLONE_PARENT, libc::CLONE_PARENT),
        (CLONE_THREAD, libc::CLONE_THREAD),
        (CLONE_NEWNS, libc::CLONE_NEWNS),
        (CLONE_SYSVSEM, libc::CLONE_SYSVSEM),
        (CLONE_SETTLS, libc::CLONE_SETTLS),
        (CLONE_PARENT_SETTID, libc::CLONE_PARENT_SETTID),
        (CLONE_CHILD_CLEARTID, libc::CLONE_CHILD_CLEARTID),
        (CLONE_DETACHED, libc::CLONE_DETACHED),
        (CLONE_UNTRACED, libc::CLONE_UNTRACED),
        (CLONE_CHILD_SETTID, libc::CLONE_CHILD_SETTID),
    ] {
        assert_eq!(ours, theirs as u64);
    }
    for (ours, theirs) in [
        (AT_NULL, libc::AT_NULL),
        (AT_PHDR, libc::AT_PHDR),
        (AT_PHENT, libc::AT_PHENT),
        (AT_PHNUM, libc::AT_PHNUM),
        (AT_PAGESZ, libc::AT_PAGESZ),
        (AT_BASE, libc::AT_BASE),
        (AT_FLAGS, libc::AT_FLAGS),
        (AT_ENTRY, libc::AT_ENTRY),
        (AT_UID, libc::AT_UID),
        (AT_EUID, libc::AT_EUID),
        (AT_GID, libc::AT_GID),
        (AT_EGID, libc::AT_EGID),
        (AT_PLATFORM, libc::AT_PLATFORM),
        (AT_HWCAP, libc::AT_HWCAP),
        (AT_CLKTCK, libc::AT_CLKTCK),
        (AT_SECURE, libc::AT_SECURE),
        (AT_RANDOM, libc::AT_RANDOM),
        (AT_HWCAP2, libc::AT_HWCAP2),
        (AT_EXECFN, libc::AT_EXECFN),
        (AT_MINSIGSTKSZ, 51),
    ] {
        assert_eq!(ours, theirs);
    }
    assert_eq!(ARCH_SET_FS, 0x1002);
    assert_eq!(linux_abi::signal::MINSIGSTKSZ, libc::MINSIGSTKSZ as u64);
    let _ = SigSet::EMPTY;
}
