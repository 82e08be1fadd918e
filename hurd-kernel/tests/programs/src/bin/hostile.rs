//! A hostile task: for a fixed time, four threads issue seeded random
//! system calls and messages (bad names, bad pointers, wrong rights,
//! malformed and truncated messages, huge sizes, unknown traps, requests to
//! its own task port, to a child task's and to another task's port) and
//! take whatever the kernel answers. The kernel must never panic, other
//! tasks must keep running (the kernel test runs an echo pair beside it),
//! and every answer must be a return code: a Mach code (`KERN_*`, or a
//! `MACH_SEND_*` / `MACH_RCV_*` code of `mach_msg`), or `-ENOSYS` for a
//! Linux system call. Returns 0 when every thread got to the end of its
//! time and saw nothing else; 2 when a code was unknown, 3 when a thread
//! did not come back from the kernel.
//!
//! Its argument is the seed. Calls that would end the task or damage what
//! the program itself runs on are left out on purpose (`EXIT`,
//! `THREAD_EXIT`, a thread started at a random address, `task_terminate`,
//! `task_suspend`, `thread_suspend` and the like to its own task or
//! threads, `vm_deallocate` and `vm_protect` of its own code, stack or
//! heap, a receive larger than the buffer it gives): those are sent to a
//! child task made for the purpose, and the address ranges are kept to a
//! playground of its own or to ranges the kernel must refuse.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use hurd_abi::mach::id as mach_id;
use hurd_abi::msg_option::{RCV_MSG, RCV_TIMEOUT, SEND_MSG, SEND_TIMEOUT};
use hurd_abi::{CONSOLE_NOWAIT, SERVICE_PORT_NAME, USER_END, nr};
use hurd_ipc::wire::{self, Limits};
use hurd_ipc::{Disposition, Item, Message, PortName};
use hurd_rt::{env, heap, println, task, thread};
use kernel_test_programs::raw;

hurd_rt::entry!(main);

/// How long the threads run, in nanoseconds.
const RUN_NS: u64 = 6_000_000_000;
/// How long after that the main thread waits for the others.
const GRACE_NS: u64 = 20_000_000_000;
/// Threads besides the main one.
const OTHER_THREADS: u32 = 3;
/// The receive buffer each thread hands the kernel (never more than this).
const BUF: usize = 8192;

/// Where the program's own address-space games happen: fixed allocations,
/// deallocations and protections stay inside (nothing else of the program
/// is there), and it is emptied now and then.
const PLAY: u64 = 0x1000_0000;
const PLAY_END: u64 = 0x40_0000_0000;
/// Where memory objects are mapped (never touched, so no pager is waited
/// for); emptied with the playground.
const MAPS: u64 = 0x5000_0000_0000;
const MAPS_END: u64 = 0x5200_0000_0000;
/// The program's heap, placed away from both.
const HEAP: u64 = 0x6000_0000_0000;
const HEAP_END: u64 = 0x6000_4000_0000;

/// Addresses the kernel must refuse to read or write for a task.
const KERNEL: u64 = 0xffff_ffff_8010_0000;
const DIRECT_MAP: u64 = 0xffff_8000_0000_0000;
const NON_CANONICAL: u64 = 0x0000_8000_0000_0000;
const UNMAPPED: u64 = 0x7f00_0000_0000;

/// Requests that would stop, end or rewrite the task that receives them:
/// only ever sent to a child made for them.
const DANGEROUS: &[i32] = &[
    mach_id::task_terminate,
    mach_id::task_suspend,
    mach_id::thread_terminate,
    mach_id::thread_suspend,
    mach_id::thread_resume,
    mach_id::thread_abort,
    mach_id::thread_set_state,
    mach_id::thread_create,
    mach_id::vm_deallocate,
    mach_id::vm_protect,
    mach_id::vm_write,
    mach_id::task_set_emulation_vector,
    mach_id::task_set_emulation,
    hurd_abi::hurd_task::id::task_exited,
];

/// Calls made, calls the kernel carried out (code 0), threads done.
static CALLS: AtomicU64 = AtomicU64::new(0);
static SUCCEEDED: AtomicU64 = AtomicU64::new(0);
static DONE: AtomicU32 = AtomicU32::new(0);
/// The first code that was no return code (0: none).
static UNKNOWN: AtomicU64 = AtomicU64::new(0);

/// xorshift64*: the same calls for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// What one thread works with.
struct Hostile {
    rng: Rng,
    buf: Vec<u8>,
    /// Names worth trying: its task port, the other task's port, its own
    /// receive rights and port set, children, names seen in messages.
    names: Vec<u32>,
    /// The receive right its own calls await replies on.
    reply: u32,
    calls: u64,
    succeeded: u64,
}

/// Whether `code` is an answer a task may get: a Mach code, a `mach_msg`
/// code, or Linux's `-ENOSYS`.
fn is_return_code(code: u64) -> bool {
    code < 0x100
        || (0x1000_0000..0x1000_0100).contains(&code)
        || (0x1000_4000..0x1000_4100).contains(&code)
        || code == (-38i64) as u64
}

impl Hostile {
    fn new(seed: u64) -> Hostile {
        Hostile {
            rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            buf: vec![0; BUF],
            names: Vec::with_capacity(64),
            reply: 0,
            calls: 0,
            succeeded: 0,
        }
    }

    /// Takes note of what the kernel answered.
    fn answer(&mut self, code: u64) {
        self.calls += 1;
        if code == 0 {
            self.succeeded += 1;
        } else if !is_return_code(code) {
            UNKNOWN
                .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst)
                .ok();
        }
    }

    fn remember(&mut self, name: u32) {
        if name == 0 || self.names.contains(&name) {
            return;
        }
        if self.names.len() >= 48 {
            let at = 8 + self.rng.below(40) as usize;
            self.names[at] = name;
        } else {
            self.names.push(name);
        }
    }

    /// A name: mostly one it has, else anything.
    fn name(&mut self) -> u32 {
        match self.rng.below(8) {
            0 => 0,
            1 => u32::MAX,
            2 => self.rng.below(64) as u32,
            3 => self.rng.next() as u32,
            _ if !self.names.is_empty() => {
                let at = self.rng.below(self.names.len() as u64) as usize;
                self.names[at]
            }
            _ => SERVICE_PORT_NAME,
        }
    }

    /// An address for the kernel to read or write: one it must refuse, or
    /// one in the playground.
    fn address(&mut self) -> u64 {
        match self.rng.below(9) {
            0 => 0,
            1 => KERNEL + self.rng.below(1 << 20),
            2 => DIRECT_MAP + self.rng.below(1 << 30),
            3 => NON_CANONICAL + self.rng.below(1 << 30),
            4 => UNMAPPED + (self.rng.below(1 << 20) << 12),
            5 => USER_END - 4096 + self.rng.below(8192),
            6 => u64::MAX - self.rng.below(8192),
            _ => PLAY + self.rng.below(PLAY_END - PLAY),
        }
    }

    /// A size: small, odd, page-sized, huge, or wrapping.
    fn size(&mut self) -> u64 {
        match self.rng.below(10) {
            0 => 0,
            1 => 1 + self.rng.below(64),
            2 => 4096,
            3 => self.rng.below(1 << 16),
            4 => 1 << 20,
            5 => 1 << 40,
            6 => u64::MAX,
            7 => u64::MAX - 4095,
            8 => self.rng.next(),
            _ => (1 + self.rng.below(16)) << 12,
        }
    }

    /// A range the program may lose: inside the playground, or one the
    /// kernel must refuse (outside user space, or running past its end).
    fn disposable_range(&mut self) -> (u64, u64) {
        match self.rng.below(4) {
            0 => {
                let at = match self.rng.below(4) {
                    0 => KERNEL + self.rng.below(1 << 20),
                    1 => DIRECT_MAP + self.rng.below(1 << 30),
                    2 => NON_CANONICAL + self.rng.below(1 << 30),
                    _ => u64::MAX - self.rng.below(8192),
                };
                (at, self.size())
            }
            1 => (USER_END - 4096 * self.rng.below(4), self.size()),
            _ => {
                let at = PLAY + self.rng.below(PLAY_END - PLAY);
                let room = PLAY_END - at;
                let size = self.size() % room.max(1);
                (at, size)
            }
        }
    }

    fn trap(&mut self, n: u64, args: [u64; 6]) -> (u64, u64) {
        // SAFETY: every caller passes addresses the kernel must refuse, or
        // in the playground (which nothing of the program uses), or
        // `self.buf` with at most its length.
        let r = unsafe { raw::syscall(n, args) };
        self.answer(r.0);
        r
    }

    /// One random thing.
    fn step(&mut self) {
        match self.rng.below(100) {
            0..40 => self.message(),
            40..50 => self.vm_call(),
            50..62 => self.port_call(),
            62..72 => self.small_trap(),
            72..76 => self.unknown_trap(),
            76..78 => self.vm_map_call(),
            78 if self.rng.chance(4) => self.child(),
            _ => self.receive(),
        }
    }

    /// A message to a name, mostly well formed, sometimes damaged; sent,
    /// or sent and a reply received, always with timeouts.
    fn message(&mut self) {
        let dest = if self.rng.chance(3) {
            task::task_self().0
        } else {
            self.name()
        };
        let len = self.build(dest, false);
        self.send(len);
    }

    /// Builds a message to `dest` in the buffer: its length.
    fn build(&mut self, dest: u32, dangerous_allowed: bool) -> usize {
        let id = match self.rng.below(6) {
            0 => 2000 + self.rng.below(100) as i32,
            1 => 3200 + self.rng.below(32) as i32,
            2 => 4000 + self.rng.below(4) as i32,
            3 => self.rng.next() as i32,
            _ => [
                mach_id::task_create,
                mach_id::vm_allocate,
                mach_id::vm_read,
                mach_id::thread_get_state,
                mach_id::task_get_emulation_vector,
                2999,
            ][self.rng.below(6) as usize],
        };
        let remote_disp = match self.rng.below(8) {
            0 => self.rng.below(32) as u32,
            _ => 16 + self.rng.below(6) as u32,
        };
        let (local, local_disp) = match self.rng.below(4) {
            0 => (0, 0),
            1 => (self.name(), self.rng.below(32) as u32),
            _ => (self.name(), 21),
        };
        let mut at = 24;
        let mut complex = false;
        for _ in 0..self.rng.below(6) {
            if at + 64 > BUF {
                break;
            }
            let kind = self.rng.below(7);
            let put = |b: &mut Vec<u8>, at: &mut usize, bytes: &[u8]| {
                b[*at..*at + bytes.len()].copy_from_slice(bytes);
                *at += bytes.len();
            };
            match kind {
                0 => {
                    put(&mut self.buf, &mut at, &[2, 1, 0, 0, 1, 0, 0, 0]);
                    let v = self.rng.next();
                    put(&mut self.buf, &mut at, &v.to_le_bytes());
                }
                1 => {
                    put(&mut self.buf, &mut at, &[11, 1, 0, 0, 1, 0, 0, 0]);
                    let v = self.address();
                    put(&mut self.buf, &mut at, &v.to_le_bytes());
                }
                2 | 3 => {
                    let disp = 16 + self.rng.below(6) as u8;
                    let array = self.rng.chance(3);
                    let count = if array { self.rng.below(6) as u32 } else { 1 };
                    let flags = if array { 5 } else { 1 };
                    put(&mut self.buf, &mut at, &[disp, flags, 0, 0]);
                    put(&mut self.buf, &mut at, &count.to_le_bytes());
                    for _ in 0..count {
                        let n = self.name();
                        put(&mut self.buf, &mut at, &n.to_le_bytes());
                    }
                    if count % 2 == 1 {
                        put(&mut self.buf, &mut at, &[0; 4]);
                    }
                    complex = true;
                }
                _ => {
                    let ool = kind == 6;
                    let n = self.rng.below(40) as u32;
                    let flags = if ool { 2 * self.rng.below(2) as u8 } else { 1 };
                    put(&mut self.buf, &mut at, &[9, flags, 0, 0]);
                    put(&mut self.buf, &mut at, &n.to_le_bytes());
                    let padded = (n as usize).next_multiple_of(8);
                    for i in 0..padded {
                        let byte = if i < n as usize {
                            self.rng.next() as u8
                        } else {
                            0
                        };
                        put(&mut self.buf, &mut at, &[byte]);
                    }
                    complex |= ool;
                }
            }
        }
        if self.rng.chance(8) {
            complex = !complex;
        }
        let bits = remote_disp | (local_disp << 8) | if complex { 1 << 31 } else { 0 };
        let header = [bits, at as u32, dest, local, 0, id as u32];
        for (i, word) in header.iter().enumerate() {
            self.buf[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        // Damage: a few bytes changed, or a size that lies.
        if self.rng.chance(4) {
            for _ in 0..1 + self.rng.below(4) {
                let i = self.rng.below(at as u64) as usize;
                self.buf[i] = self.rng.next() as u8;
            }
        }
        if self.rng.chance(8) {
            let lie = self.rng.below(BUF as u64) as u32;
            self.buf[4..8].copy_from_slice(&lie.to_le_bytes());
        }
        // Whatever the damage did, nothing that would stop this task.
        let id = i32::from_le_bytes([self.buf[20], self.buf[21], self.buf[22], self.buf[23]]);
        if !dangerous_allowed && DANGEROUS.contains(&id) {
            self.buf[20..24].copy_from_slice(&2999i32.to_le_bytes());
        }
        at
    }

    /// Sends the `len` bytes built, perhaps receiving into the same buffer.
    fn send(&mut self, len: usize) {
        let mut option = match self.rng.below(4) {
            0 => SEND_MSG | RCV_MSG,
            _ => SEND_MSG,
        };
        if self.rng.chance(16) {
            option |= self.rng.next() & !0xff;
        }
        option |= SEND_TIMEOUT | RCV_TIMEOUT;
        let timeout = self.rng.below(3);
        let rcv_name = u64::from(self.name());
        let (buf, send_size, rcv_size) = match self.rng.below(10) {
            // The buffer, as built, or with a size that is not the message's.
            0..6 => (self.buf.as_mut_ptr() as u64, len as u64, BUF as u64),
            6 => (
                self.buf.as_mut_ptr() as u64,
                self.rng.below(BUF as u64),
                self.rng.below(BUF as u64 + 1),
            ),
            // Somewhere the kernel must refuse, or the playground, with
            // any sizes.
            _ => {
                let (at, size) = self.disposable_range();
                if at < USER_END {
                    // What user memory holds is not checked: it may be a
                    // request this task keeps from itself. Receive there
                    // only.
                    (at, 0, size)
                } else {
                    (at, size, self.size())
                }
            }
        };
        let (code, _) = self.trap(
            nr::MACH_MSG,
            [buf, option, send_size, rcv_size, rcv_name, timeout],
        );
        if code == 0 && option & RCV_MSG != 0 && buf == self.buf.as_ptr() as u64 {
            self.take_names();
        }
    }

    /// Receives from a name, with a timeout, into the buffer or a place
    /// the kernel must refuse.
    fn receive(&mut self) {
        let name = u64::from(self.name());
        let option = RCV_MSG | RCV_TIMEOUT;
        let timeout = self.rng.below(2);
        let (code, _) = if self.rng.chance(6) {
            let (at, size) = self.disposable_range();
            self.trap(nr::MACH_MSG, [at, option, 0, size, name, timeout])
        } else {
            let size = self.rng.below(BUF as u64 + 1);
            let at = self.buf.as_mut_ptr() as u64;
            self.trap(nr::MACH_MSG, [at, option, 0, size, name, timeout])
        };
        if code == 0 {
            self.take_names();
        }
    }

    /// Adds the names a received message brought to those tried.
    fn take_names(&mut self) {
        let word = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let local = word(&self.buf, 12);
        self.remember(local);
        let size = (word(&self.buf, 4) as usize).min(BUF);
        let mut at = 24;
        while at + 16 <= size {
            let name = self.buf[at];
            let number = word(&self.buf, at + 4) as usize;
            if (16..=21).contains(&name) && number == 1 {
                let n = word(&self.buf, at + 8);
                self.remember(n);
                at += 16;
            } else {
                break;
            }
        }
    }

    /// `vm_allocate`, `vm_deallocate`, `vm_protect` on the playground or
    /// on ranges the kernel must refuse.
    fn vm_call(&mut self) {
        match self.rng.below(3) {
            0 => {
                let anywhere = self.rng.below(3);
                let (at, size) = if anywhere == 1 {
                    (self.address(), self.size() % (64 << 20))
                } else {
                    (self.address(), self.size())
                };
                self.trap(nr::VM_ALLOCATE, [at, size, anywhere, 0, 0, 0]);
            }
            1 => {
                let (at, size) = self.disposable_range();
                self.trap(nr::VM_DEALLOCATE, [at, size, 0, 0, 0, 0]);
            }
            _ => {
                let (at, size) = self.disposable_range();
                let set_max = self.rng.below(3);
                let prot = self.rng.below(16);
                self.trap(nr::VM_PROTECT, [at, size, set_max, prot, 0, 0]);
            }
        }
    }

    /// `vm_map` of any name as a memory object, where nothing looks.
    fn vm_map_call(&mut self) {
        let pager = u64::from(self.name());
        let (at, size) = if self.rng.chance(4) {
            (self.address(), self.size())
        } else {
            (MAPS + self.rng.below(1 << 30), self.size() % (1 << 30))
        };
        let offset = self.size();
        self.trap(nr::VM_MAP, [at, size, pager, offset, 0, 0]);
    }

    /// The `mach_port_*` calls on its own space, with any arguments.
    fn port_call(&mut self) {
        match self.rng.below(4) {
            0 => {
                let right = self.rng.below(5);
                let (code, name) = self.trap(nr::PORT_ALLOCATE, [right, 0, 0, 0, 0, 0]);
                if code == 0 {
                    self.remember(name as u32);
                }
            }
            1 => {
                let name = u64::from(self.name());
                let n = if self.rng.chance(2) {
                    nr::PORT_DEALLOCATE
                } else {
                    nr::PORT_DESTROY
                };
                self.trap(n, [name, 0, 0, 0, 0, 0]);
            }
            _ => {
                let id = match self.rng.below(4) {
                    0 => self.rng.next() & 0xffff,
                    _ => 3200 + self.rng.below(32),
                };
                let name = u64::from(self.name());
                let args = [
                    self.rng.below(8),
                    u64::from(self.name()),
                    self.rng.below(40),
                    self.rng.next(),
                ];
                let (code, value) = self.trap(
                    nr::PORT_CALL,
                    [id, name, args[0], args[1], args[2], args[3]],
                );
                if code == 0 && value != 0 && value < u64::from(u32::MAX) {
                    self.remember(value as u32);
                }
            }
        }
    }

    /// The traps that take no address of the program's, and the console
    /// with addresses it must refuse.
    fn small_trap(&mut self) {
        match self.rng.below(9) {
            0 => {
                self.trap(nr::NULL, [0; 6]);
            }
            1 => {
                self.trap(nr::YIELD, [0; 6]);
            }
            2 => {
                self.trap(nr::READ_TSC, [0; 6]);
            }
            3 => {
                self.trap(nr::UPTIME, [0; 6]);
            }
            4 => {
                let (code, name) = self.trap(nr::REPLY_PORT, [0; 6]);
                if code == 0 {
                    self.remember(name as u32);
                }
            }
            5 => {
                self.trap(nr::TASK_SELF, [0; 6]);
            }
            6 => {
                self.trap(nr::THREAD_SELF, [0; 6]);
            }
            7 => {
                // Bytes the kernel must refuse to read (a length of zero
                // where memory may be).
                let (at, size) = self.disposable_range();
                let size = if at < USER_END { 0 } else { size };
                self.trap(nr::CONSOLE_WRITE, [at, size, 0, 0, 0, 0]);
            }
            _ => {
                let (at, size) = self.disposable_range();
                self.trap(nr::CONSOLE_READ, [at, size, CONSOLE_NOWAIT, 0, 0, 0]);
            }
        }
    }

    /// A trap number the kernel does not have, or a Linux system call;
    /// any high half of `rax` over a number left out on purpose.
    fn unknown_trap(&mut self) {
        let low = if self.rng.chance(2) {
            // Negative: below every trap, or between them.
            [-1i32, -24, -29, -59, -61, -99, -116, -200, i32::MIN][self.rng.below(9) as usize]
        } else {
            self.rng.below(1000) as i32
        };
        let high = self.rng.next() & !0xffff_ffff;
        let n = high | u64::from(low as u32);
        let args = [
            self.address(),
            self.size(),
            self.rng.next(),
            self.rng.next(),
            self.rng.next(),
            self.rng.next(),
        ];
        self.trap(n, args);
    }

    /// A call of a task or thread port's interface, well formed, with a
    /// reply awaited for a while: the first right the reply carries.
    fn rpc(&mut self, msg: Message) -> Option<PortName> {
        let msg = msg.with_reply(PortName(self.reply), Disposition::MakeSendOnce);
        let bytes = wire::encode(&msg).ok()?;
        self.buf[..bytes.len()].copy_from_slice(&bytes);
        let option = SEND_MSG | RCV_MSG | SEND_TIMEOUT | RCV_TIMEOUT;
        let at = self.buf.as_mut_ptr() as u64;
        let args = [
            at,
            option,
            bytes.len() as u64,
            BUF as u64,
            u64::from(self.reply),
            200,
        ];
        let (code, _) = self.trap(nr::MACH_MSG, args);
        if code != 0 {
            return None;
        }
        let size = (u32::from_le_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
            as usize)
            .min(BUF);
        let reply = wire::decode(&self.buf[..size], &Limits::DEFAULT).ok()?;
        reply.body.iter().find_map(|item| match item {
            Item::Port(p) => Some(p.name),
            _ => None,
        })
    }

    /// A child task, sent every request this task keeps from itself: the
    /// dangerous ones with random arguments, then a thread of its own with
    /// a random state set running, memory written at a random address, and
    /// perhaps its end.
    fn child(&mut self) {
        let me = task::task_self();
        let inherit = u32::from(self.rng.chance(2));
        let create = Message::new(mach_id::task_create, me, Disposition::CopySend)
            .with_item(Item::U32(inherit));
        let Some(child) = self.rpc(create) else {
            return;
        };
        for _ in 0..16 {
            let len = self.build(child.0, true);
            self.send(len);
        }
        let thread_create = Message::new(mach_id::thread_create, child, Disposition::CopySend);
        if let Some(thread) = self.rpc(thread_create) {
            let words: Vec<u8> = (0..8 * self.rng.below(24))
                .map(|_| self.rng.next() as u8)
                .collect();
            let flavor = 1 + self.rng.below(2) as u32 * 6;
            for msg in [
                Message::new(mach_id::thread_set_state, thread, Disposition::CopySend)
                    .with_item(Item::U32(flavor))
                    .with_item(Item::Bytes(words)),
                Message::new(mach_id::thread_resume, thread, Disposition::CopySend),
            ] {
                self.rpc(msg);
            }
            self.trap(nr::PORT_DESTROY, [u64::from(thread.0), 0, 0, 0, 0, 0]);
        }
        let data: Vec<u8> = (0..self.rng.below(64))
            .map(|_| self.rng.next() as u8)
            .collect();
        let write = Message::new(mach_id::vm_write, child, Disposition::CopySend)
            .with_item(Item::U64(self.address()))
            .with_item(Item::ool(data, false));
        self.rpc(write);
        if self.rng.chance(2) {
            self.rpc(Message::new(
                mach_id::task_terminate,
                child,
                Disposition::CopySend,
            ));
        }
        self.trap(nr::PORT_DESTROY, [u64::from(child.0), 0, 0, 0, 0, 0]);
    }

    /// Runs until `end` (the kernel's uptime), emptying the playground now
    /// and then.
    fn run(&mut self, end: u64) {
        let mut round = 0u64;
        while uptime() < end {
            self.step();
            round += 1;
            if round.is_multiple_of(256) {
                self.trap(nr::VM_DEALLOCATE, [PLAY, PLAY_END - PLAY, 0, 0, 0, 0]);
                self.trap(nr::VM_DEALLOCATE, [MAPS, MAPS_END - MAPS, 0, 0, 0, 0]);
            }
        }
        CALLS.fetch_add(self.calls, Ordering::SeqCst);
        SUCCEEDED.fetch_add(self.succeeded, Ordering::SeqCst);
    }
}

fn uptime() -> u64 {
    // SAFETY: UPTIME reads and writes no memory.
    unsafe { raw::syscall(nr::UPTIME, [0; 6]) }.1
}

/// Where each thread's run ends, and its seed.
static END: AtomicU64 = AtomicU64::new(0);
static SEED: AtomicU64 = AtomicU64::new(0);

/// A thread besides the main one: its own seed, its own names.
extern "C" fn other_thread(index: u64) -> ! {
    let mut hostile = Hostile::new(SEED.load(Ordering::SeqCst) + index);
    hostile.seed_names();
    hostile.run(END.load(Ordering::SeqCst));
    DONE.fetch_add(1, Ordering::SeqCst);
    raw::thread_exit()
}

impl Hostile {
    /// The names every thread starts from: its task port, the other task's
    /// port, a few receive rights and a port set of its own.
    fn seed_names(&mut self) {
        self.names.push(task::task_self().0);
        self.names.push(SERVICE_PORT_NAME);
        let (code, name) = self.trap(nr::PORT_ALLOCATE, [1, 0, 0, 0, 0, 0]);
        if code == 0 {
            self.reply = name as u32;
        }
        for right in [1u64, 1, 1, 3] {
            let (code, name) = self.trap(nr::PORT_ALLOCATE, [right, 0, 0, 0, 0, 0]);
            if code == 0 {
                self.names.push(name as u32);
            }
        }
    }
}

fn main() -> u64 {
    // The heap goes where nothing of this program's games reaches, and
    // takes its memory now.
    if heap::place(HEAP, HEAP_END).is_err() {
        println!("hostile: the heap could not be placed");
    }
    drop(Vec::<u8>::with_capacity(2 << 20));
    let seed = env::start_arg();
    SEED.store(seed, Ordering::SeqCst);
    let start = uptime();
    END.store(start + RUN_NS, Ordering::SeqCst);
    let mut stacks = Vec::new();
    for i in 1..=OTHER_THREADS {
        let stack = vec![0u8; 128 * 1024];
        let top = (stack.as_ptr() as u64 + stack.len() as u64) & !15;
        stacks.push(stack);
        // SAFETY: `top` is the end of a stack only this thread uses (kept
        // in `stacks` until the program ends); `other_thread` never returns.
        if let Err(code) = unsafe { raw::thread_spawn(other_thread, top, u64::from(i)) } {
            println!("hostile: thread {i} did not start: {code:#x}");
            return 1;
        }
    }
    let mut main = Hostile::new(seed);
    main.seed_names();
    main.run(start + RUN_NS);
    while DONE.load(Ordering::SeqCst) < OTHER_THREADS && uptime() < start + RUN_NS + GRACE_NS {
        thread::yield_now();
    }
    let (calls, ok) = (
        CALLS.load(Ordering::SeqCst),
        SUCCEEDED.load(Ordering::SeqCst),
    );
    println!(
        "hostile: seed {seed}: {calls} calls by {} threads in {} ms, {ok} carried out",
        OTHER_THREADS + 1,
        RUN_NS / 1_000_000,
    );
    let unknown = UNKNOWN.load(Ordering::SeqCst);
    if unknown != 0 {
        println!("hostile: answered {unknown:#x}, which is no return code");
        return 2;
    }
    if DONE.load(Ordering::SeqCst) < OTHER_THREADS {
        println!("hostile: a thread did not come back from the kernel");
        return 3;
    }
    0
}
