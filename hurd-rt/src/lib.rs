//! The runtime of programs on the hurd-rs reference kernel.
//!
//! A program is a `#![no_std]`, `#![no_main]` binary built for
//! `x86_64-unknown-none` that depends on `hurd-rt` and names its main
//! function with [`entry!`]:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//!
//! hurd_rt::entry!(main);
//!
//! fn main() {
//!     let args = hurd_rt::env::args();
//!     hurd_rt::println!("hello from {}", args.first().copied().unwrap_or("?"));
//! }
//! ```
//!
//! `cargo build --release --target x86_64-unknown-none` makes it a program
//! the kernel and the exec server load: hurd-rt's build script applies its
//! own linker script to the link (no `.cargo/config.toml`, no build script of
//! the program's own), which places the program at 4 MiB into user space as
//! a static position-independent executable; the entry point relocates it
//! and calls `main`.
//!
//! What the runtime gives a program:
//!
//! - the entry point ([`entry!`]) and its exit status ([`Termination`]); a
//!   panic prints its message on the kernel console and ends the task with
//!   status 101;
//! - a heap for `alloc`, growing with `vm_allocate` ([`heap`]: wherever
//!   the kernel finds room, or in a range of the program's choosing);
//! - [`KernelIpc`]: hurd-ipc's [`UserIpc`](hurd_ipc::UserIpc) over the
//!   kernel's traps, so servers and clients written against it run here;
//! - [`thread`]: threads running closures on stacks the runtime owns;
//! - [`mod@env`]: arguments and environment; [`ports`]: the initial ports
//!   (standard input and output, auth, directories, proc, bootstrap);
//!   [`io`]: standard input, output and error, and the
//!   [`println!`]-family macros;
//! - [`exec`]: a program started in a new task from its ELF image, built
//!   through the task's port ([`mach`]: the kernel's task and thread calls);
//! - [`translator`]: what a translator's starter gave it, for hurd-trans's
//!   translator programs;
//! - [`time`]: the kernel's clock; [`vm`]: memory as owned values;
//!   [`msg`]: `mach_msg` on byte buffers; [`console`]: the kernel console;
//!   [`boot`]: the bootstrap task's boot information; [`task`]: the task's
//!   port and its end; [`entropy`]: a seed from the processor's random
//!   number instructions.
//!
//! The raw traps are private: every public function is safe to call with
//! any argument, and an address the kernel writes to is always a slice the
//! function borrows. Off the kernel (host builds, for tests and
//! documentation) the library compiles and every kernel call fails with
//! `KERN_FAILURE`.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

/// The `hurd-abi` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_abi;

/// The `hurd-trans` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_trans;

pub mod boot;
pub mod console;
pub mod entropy;
pub mod env;
pub mod exec;
pub mod heap;
pub mod io;
mod ipc;
pub mod mach;
pub mod msg;
pub mod ports;
pub mod task;
pub mod thread;
pub mod time;
pub mod translator;
mod trap;
pub mod vm;

pub use ipc::KernelIpc;

/// hurd-ipc, whose types this crate's interface speaks (ports, messages,
/// errors, [`UserIpc`](hurd_ipc::UserIpc)): re-exported, so a program
/// depending on hurd-rt alone names them as `hurd_rt::hurd_ipc::…`.
pub use hurd_ipc;

/// The status a program ends with when its `main` panicked.
pub const EXIT_PANIC: u64 = 101;

/// The status a program ends with when its image holds a relocation the
/// entry point cannot apply (only `R_X86_64_RELATIVE` is expected in a static
/// position-independent executable).
pub const EXIT_BAD_RELOCATION: u64 = 127;

/// What a program's `main` may return: its exit status.
pub trait Termination {
    /// The task's exit status.
    fn report(self) -> u64;
}

impl Termination for () {
    fn report(self) -> u64 {
        0
    }
}

impl Termination for u64 {
    fn report(self) -> u64 {
        self
    }
}

impl Termination for u8 {
    fn report(self) -> u64 {
        u64::from(self)
    }
}

impl Termination for i32 {
    /// Its low 8 bits, as `exit` keeps.
    fn report(self) -> u64 {
        u64::from(self as u8)
    }
}

impl<T: Termination, E: core::fmt::Debug> Termination for Result<T, E> {
    /// `Ok`'s status, or 1 after printing the error on standard error.
    fn report(self) -> u64 {
        match self {
            Ok(v) => v.report(),
            Err(e) => {
                eprintln!("Error: {e:?}");
                1
            }
        }
    }
}

/// Defines the program's entry point (`_start`) and names its main
/// function: `entry!(main)`, or `entry!(main, init = setup)` to call
/// `setup()` first (the distro's programs start their signal thread so).
///
/// `main` takes no arguments (see [`mod@env`] for them) and returns a
/// [`Termination`]: `()`, an exit status, or a `Result`. `_start` relocates
/// the image, records the first thread's argument ([`env::start_arg`]),
/// calls `main` and ends the task with its status.
///
/// The program is `#![no_main]` (and `#![no_std]` on the kernel). Built for
/// anything but `x86_64-unknown-none` (the host, where `cargo test` and
/// `cargo clippy` build a workspace's every target), it is a stub whose C
/// `main` says it runs on the hurd-rs kernel and fails.
#[macro_export]
macro_rules! entry {
    ($main:path $(, init = $init:path)? $(,)?) => {
        // Off the kernel the functions are not called, but used.
        #[cfg(not(target_os = "none"))]
        const _: () = {
            let _ = $main;
            $( let _ = $init; )?
        };

        /// The program's main function as the runtime calls it.
        #[cfg(target_os = "none")]
        extern "C" fn __hurd_rt_program_main() -> u64 {
            $( $init(); )?
            $crate::Termination::report($main())
        }

        #[cfg(target_os = "none")]
        ::core::arch::global_asm!(
            ".section .text.entry, \"ax\", @progbits",
            ".globl _start",
            ".type _start, @function",
            "_start:",
            "xor ebp, ebp",
            "mov r12, rdi",
            // How far the image was moved from its link address.
            "lea rdi, [rip + __hurd_rt_image_start]",
            "movabs rax, offset __hurd_rt_link_base",
            "sub rdi, rax",
            // Apply every R_X86_64_RELATIVE: *(bias + offset) = bias + addend.
            "lea rsi, [rip + __hurd_rt_rela_start]",
            "lea rdx, [rip + __hurd_rt_rela_end]",
            "2:",
            "cmp rsi, rdx",
            "jae 4f",
            "cmp dword ptr [rsi + 8], 8",
            "jne 3f",
            "mov rax, qword ptr [rsi + 16]",
            "add rax, rdi",
            "mov rcx, qword ptr [rsi]",
            "mov qword ptr [rcx + rdi], rax",
            "add rsi, 24",
            "jmp 2b",
            "3:",
            "mov edi, {bad_relocation}",
            "mov eax, {exit}",
            "syscall",
            "ud2",
            "4:",
            "and rsp, -16",
            "mov rdi, r12",
            "lea rsi, [rip + {main}]",
            "call {start}",
            "ud2",
            bad_relocation = const $crate::EXIT_BAD_RELOCATION,
            exit = const $crate::__private::EXIT,
            main = sym __hurd_rt_program_main,
            start = sym $crate::__private::start,
        );

        const _: () = {
            /// Off the kernel (the host, where `cargo test` and `cargo
            /// clippy` build every target; the crate is `#![no_main]` there
            /// too, with `std`): a C `main` that says where the program runs.
            #[cfg(not(target_os = "none"))]
            #[unsafe(no_mangle)]
            extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
                // A test build of the program (`cargo test` builds every
                // binary) has nothing to run.
                if cfg!(test) {
                    return 0;
                }
                ::std::eprintln!(
                    "this program runs on the hurd-rs kernel: build it with \
                     `cargo build --target x86_64-unknown-none`"
                );
                1
            }
        };
    };
}

/// What [`entry!`] expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    /// The `EXIT` trap's number.
    pub const EXIT: u64 = hurd_abi::nr::EXIT;

    /// The entry point after relocation: records `arg`, runs `main` and ends
    /// the task with its status.
    pub extern "C" fn start(arg: u64, main: extern "C" fn() -> u64) -> ! {
        crate::env::set_start_arg(arg);
        let status = main();
        crate::task::exit(status)
    }
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // No heap: the panic may have come from the allocator.
    let mut line = console::Line::new();
    let _ = core::fmt::Write::write_fmt(&mut line, format_args!("user panic: {info}"));
    line.flush();
    task::exit(EXIT_PANIC)
}
