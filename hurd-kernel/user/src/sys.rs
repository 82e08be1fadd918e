//! System calls (see [`hurd_abi`]).

use core::arch::asm;

use hurd_abi::nr;

/// Traps into the kernel with call `n` and up to six arguments; returns
/// (`rax`, `rdx`).
#[inline(always)]
pub fn syscall(n: u64, args: [u64; 6]) -> (u64, u64) {
    let code: u64;
    let value: u64;
    // SAFETY: `syscall` enters the kernel, which validates every argument and
    // returns with all registers but rax, rdx, rcx and r11 preserved; memory
    // the arguments point at may be read or written by the kernel, so the
    // asm is not marked as not touching memory.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n => code,
            in("rdi") args[0],
            in("rsi") args[1],
            inlateout("rdx") args[2] => value,
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    (code, value)
}

/// The null system call (for measurements): returns its result code.
#[inline(always)]
pub fn null() -> u64 {
    syscall(nr::NULL, [0; 6]).0
}

/// Ends the task with `status`.
pub fn exit(status: u64) -> ! {
    syscall(nr::EXIT, [status, 0, 0, 0, 0, 0]);
    // The kernel does not return from EXIT.
    loop {
        core::hint::spin_loop();
    }
}

/// Writes `text` to the kernel console.
pub fn console_write(text: &[u8]) -> u64 {
    syscall(
        nr::CONSOLE_WRITE,
        [text.as_ptr() as u64, text.len() as u64, 0, 0, 0, 0],
    )
    .0
}

/// Lets other threads run.
pub fn yield_now() {
    syscall(nr::YIELD, [0; 6]);
}

/// `mach_msg` on `buf` (see [`crate::msg::MsgBuf`]).
#[inline(always)]
pub fn mach_msg(
    buf: *mut u8,
    option: u64,
    send_size: u64,
    rcv_size: u64,
    rcv_name: u32,
    timeout_ms: u64,
) -> u64 {
    syscall(
        nr::MACH_MSG,
        [
            buf as u64,
            option,
            send_size,
            rcv_size,
            u64::from(rcv_name),
            timeout_ms,
        ],
    )
    .0
}

/// `mach_port_allocate` of `right` (1: receive) → the name, or the code.
pub fn port_allocate(right: u64) -> Result<u32, u64> {
    match syscall(nr::PORT_ALLOCATE, [right, 0, 0, 0, 0, 0]) {
        (0, name) => Ok(name as u32),
        (code, _) => Err(code),
    }
}

/// `console_read`: bytes typed on the console into `buf` (at least one,
/// waiting for them unless `nowait`) → how many, or the code.
pub fn console_read(buf: &mut [u8], nowait: bool) -> Result<usize, u64> {
    let flags = if nowait { hurd_abi::CONSOLE_NOWAIT } else { 0 };
    match syscall(
        nr::CONSOLE_READ,
        [buf.as_mut_ptr() as u64, buf.len() as u64, flags, 0, 0, 0],
    ) {
        (0, n) => Ok(n as usize),
        (code, _) => Err(code),
    }
}

/// `port_call`: the `mach_port_*` call `id` on `name` with up to four more
/// arguments (see [`hurd_abi::port_call`]) → its value, or the code.
pub fn port_call(id: u64, name: u32, args: [u64; 4]) -> Result<u64, u64> {
    let [a, b, c, d] = args;
    match syscall(nr::PORT_CALL, [id, u64::from(name), a, b, c, d]) {
        (0, value) => Ok(value),
        (code, _) => Err(code),
    }
}

/// `mach_port_deallocate`: one user reference of `name` less.
pub fn port_deallocate(name: u32) -> u64 {
    syscall(nr::PORT_DEALLOCATE, [u64::from(name), 0, 0, 0, 0, 0]).0
}

/// `mach_port_destroy`.
pub fn port_destroy(name: u32) -> u64 {
    syscall(nr::PORT_DESTROY, [u64::from(name), 0, 0, 0, 0, 0]).0
}

/// `vm_allocate` → the address, or the code.
pub fn vm_allocate(addr: u64, size: u64, anywhere: bool) -> Result<u64, u64> {
    match syscall(nr::VM_ALLOCATE, [addr, size, u64::from(anywhere), 0, 0, 0]) {
        (0, addr) => Ok(addr),
        (code, _) => Err(code),
    }
}

/// `vm_deallocate`.
pub fn vm_deallocate(addr: u64, size: u64) -> u64 {
    syscall(nr::VM_DEALLOCATE, [addr, size, 0, 0, 0, 0]).0
}

/// `vm_map` of the memory object `pager` (a send right): `size` bytes from
/// `offset`, anywhere → the address, or the code.
pub fn vm_map(size: u64, pager: u32, offset: u64) -> Result<u64, u64> {
    match syscall(nr::VM_MAP, [0, size, u64::from(pager), offset, 0, 0]) {
        (0, addr) => Ok(addr),
        (code, _) => Err(code),
    }
}

/// Starts a thread of this task at `entry` with stack pointer `stack` and
/// `arg` as its argument → its id, or the code.
pub fn thread_spawn(entry: extern "C" fn(u64) -> !, stack: u64, arg: u64) -> Result<u64, u64> {
    match syscall(
        nr::THREAD_SPAWN,
        [entry as usize as u64, stack, arg, 0, 0, 0],
    ) {
        (0, id) => Ok(id),
        (code, _) => Err(code),
    }
}

/// Ends the calling thread (the task ends with its last thread).
pub fn thread_exit() -> ! {
    syscall(nr::THREAD_EXIT, [0; 6]);
    loop {
        core::hint::spin_loop();
    }
}

/// `mach_task_self()` → the name of a send right to this task's port.
pub fn task_self() -> u32 {
    syscall(nr::TASK_SELF, [0; 6]).1 as u32
}

/// `mach_thread_self()` → the name of a send right to this thread's port.
pub fn thread_self() -> u32 {
    syscall(nr::THREAD_SELF, [0; 6]).1 as u32
}

/// Reads the time-stamp counter through the kernel.
pub fn read_tsc() -> u64 {
    syscall(nr::READ_TSC, [0; 6]).1
}

/// A line of console output assembled with `write!` and written at once.
pub struct Line {
    buf: [u8; 200],
    len: usize,
}

impl Line {
    /// An empty line.
    pub fn new() -> Line {
        Line {
            buf: [0; 200],
            len: 0,
        }
    }

    /// Writes the line (with a newline) to the console and empties it.
    pub fn flush(&mut self) {
        let len = self.len.min(self.buf.len() - 1);
        self.buf[len] = b'\n';
        console_write(&self.buf[..=len]);
        self.len = 0;
    }
}

impl Default for Line {
    fn default() -> Self {
        Line::new()
    }
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if self.len < self.buf.len() - 1 {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// Prints a line on the kernel console.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        let mut line = $crate::sys::Line::new();
        let _ = core::fmt::Write::write_fmt(&mut line, format_args!($($arg)*));
        line.flush();
    }};
}
