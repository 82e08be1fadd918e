//! The system calls: one definition per trap, from which the kernel decodes
//! the registers of a `syscall` into a typed [`Trap`] and the runtime builds
//! them from a typed call.
//!
//! A task traps with `syscall`: the trap's number in `rax`, its arguments in
//! `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` in the order of the call's fields
//! (the Linux x86-64 convention). The kernel answers in `rax` with a Mach
//! return code (`KERN_*`; `MACH_MSG_*` / `MACH_SEND_*` / `MACH_RCV_*` for
//! [`MachMsg`]) and, on success, the call's [`Call::Value`] in `rdx`. `rcx`
//! and `r11` are clobbered by the instruction; every other register is
//! preserved.
//!
//! Trap numbers are negative, as GNU Mach's are on x86-64: the number is the
//! low half of `rax` as a signed 32-bit value ([`number_of`]). Where GNU Mach
//! has the same trap, it has GNU Mach's number (`mach_msg_trap` -25,
//! `mach_reply_port` -26, `mach_thread_self` -27, `mach_task_self` -28,
//! `swtch` -60); hurd-rs's own traps count down from -100. (GNU Mach's
//! `syscall_vm_allocate` and the like take a task port first; hurd-rs's act
//! on the caller's own task, so they have numbers of their own.) A
//! non-negative number is no hurd-rs trap at all: it is a Linux system call,
//! which the kernel leaves to a task's emulation, or answers with `-ENOSYS`
//! ([`BadTrap::Foreign`]).
//!
//! A negative number the kernel does not know, or an argument that is not a
//! value of its field's type (a boolean other than 0 or 1, an unknown right
//! type), is `KERN_INVALID_ARGUMENT`; nothing is done. A 32-bit argument is
//! the low half of its register (see [`Register`]). Every pointer and size is
//! checked by the kernel as well: a bad one is an error return, never a
//! kernel fault.
//!
//! ```
//! use hurd_abi::trap::{Call, PortAllocate, Trap};
//! use hurd_ipc::RightType;
//!
//! // What the runtime puts in the registers…
//! let call = PortAllocate { right: RightType::Receive };
//! let (number, registers) = (PortAllocate::NUMBER, call.to_registers());
//! // …is what the kernel decodes.
//! assert_eq!(Trap::decode(number, registers), Ok(Trap::PortAllocate(call)));
//! // A right type that does not exist is refused.
//! assert!(Trap::decode(number, [9, 0, 0, 0, 0, 0]).is_err());
//! ```

use hurd_ipc::{PortName, RightType};

/// A value carried in one register.
///
/// A 32-bit value (`u32`, a port name, a boolean, a right type) is the low
/// half of its register, as in the x86-64 C calling convention: the upper
/// half is not looked at.
pub trait Register: Sized {
    /// The value a register holds, or `None` when it is not a valid `Self`.
    fn from_register(raw: u64) -> Option<Self>;
    /// The register's contents for the value.
    fn into_register(self) -> u64;
}

impl Register for () {
    #[inline(always)]
    fn from_register(_: u64) -> Option<()> {
        Some(())
    }
    #[inline(always)]
    fn into_register(self) -> u64 {
        0
    }
}

impl Register for u64 {
    #[inline(always)]
    fn from_register(raw: u64) -> Option<u64> {
        Some(raw)
    }
    #[inline(always)]
    fn into_register(self) -> u64 {
        self
    }
}

impl Register for u32 {
    #[inline(always)]
    fn from_register(raw: u64) -> Option<u32> {
        Some(raw as u32)
    }
    #[inline(always)]
    fn into_register(self) -> u64 {
        u64::from(self)
    }
}

impl Register for bool {
    #[inline(always)]
    fn from_register(raw: u64) -> Option<bool> {
        match raw as u32 {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    #[inline(always)]
    fn into_register(self) -> u64 {
        u64::from(self)
    }
}

impl Register for PortName {
    #[inline(always)]
    fn from_register(raw: u64) -> Option<PortName> {
        Some(PortName(raw as u32))
    }
    #[inline(always)]
    fn into_register(self) -> u64 {
        u64::from(self.0)
    }
}

impl Register for RightType {
    #[inline(always)]
    fn from_register(raw: u64) -> Option<RightType> {
        RightType::try_from(raw as u32).ok()
    }
    #[inline(always)]
    fn into_register(self) -> u64 {
        u64::from(u32::from(self))
    }
}

/// One system call: its number, its arguments as fields, and what it
/// returns in `rdx`.
pub trait Call: Sized + Into<Trap> {
    /// What goes in `rax`: the trap's (negative) number, sign-extended.
    const NUMBER: u64;
    /// What `rdx` holds when the call succeeds (`()` when nothing).
    type Value: Register;
    /// The argument registers `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`.
    fn to_registers(self) -> [u64; 6];
    /// The call from its argument registers, `None` when one of them is not
    /// a valid value of its field.
    fn from_registers(registers: [u64; 6]) -> Option<Self>;
}

/// Why the registers of a `syscall` are not a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BadTrap {
    /// A negative number no trap has.
    UnknownNumber(i32),
    /// An argument of the trap with this number is not a value of its type.
    BadArgument(i32),
    /// A non-negative number: no hurd-rs trap but a Linux system call (the
    /// whole `rax`), for a task's emulation.
    Foreign(u64),
}

/// The trap number `rax` holds: its low half, as a signed 32-bit value (the
/// upper half is not looked at, as GNU Mach sign-extends `eax`).
#[inline(always)]
pub const fn number_of(rax: u64) -> i32 {
    rax as u32 as i32
}

/// What a trap number puts in `rax` (sign-extended).
#[inline(always)]
pub const fn rax_of(number: i32) -> u64 {
    number as i64 as u64
}

macro_rules! traps {
    // The fields from the registers, in order: each takes the next one.
    (@fields $name:ident [$r:ident $($rest:ident)*] [$($done:tt)*] $field:ident : $fty:ty, $($more:tt)*) => {
        traps!(@fields $name [$($rest)*] [$($done)* $field: <$fty as Register>::from_register($r)?,] $($more)*)
    };
    (@fields $name:ident [$($rest:ident)*] [$($done:tt)*]) => {
        Some($name { $($done)* })
    };
    (
        $(
            $(#[$meta:meta])*
            $konst:ident = $number:literal => fn $method:ident : $name:ident {
                $( $(#[$fmeta:meta])* $field:ident : $fty:ty ),* $(,)?
            } -> $value:ty;
        )*
    ) => {
        /// What `rax` holds for each trap (its number, sign-extended).
        pub mod nr {
            $(
                #[doc = concat!("`rax` for [`", stringify!($name), "`](super::", stringify!($name), "): ", stringify!($number), ", sign-extended.")]
                pub const $konst: u64 = super::rax_of($number);
            )*
        }

        $(
            $(#[$meta])*
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub struct $name {
                $( $(#[$fmeta])* pub $field: $fty, )*
            }

            impl Call for $name {
                const NUMBER: u64 = rax_of($number);
                type Value = $value;

                #[inline(always)]
                #[allow(unused_mut, unused_variables, unused_assignments)]
                fn to_registers(self) -> [u64; 6] {
                    const { assert!(<[&str]>::len(&[$(stringify!($field)),*]) <= 6, "at most six arguments") };
                    let mut registers = [0u64; 6];
                    let mut i = 0;
                    $(
                        registers[i] = Register::into_register(self.$field);
                        i += 1;
                    )*
                    registers
                }

                #[inline(always)]
                #[allow(unused_variables)]
                fn from_registers(registers: [u64; 6]) -> Option<Self> {
                    let [r0, r1, r2, r3, r4, r5] = registers;
                    traps!(@fields $name [r0 r1 r2 r3 r4 r5] [] $($field : $fty,)*)
                }
            }

            impl From<$name> for Trap {
                #[inline(always)]
                fn from(call: $name) -> Trap {
                    Trap::$name(call)
                }
            }
        )*

        /// A system call, decoded.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Trap {
            $(
                #[doc = concat!("See [`", stringify!($name), "`].")]
                $name($name),
            )*
        }

        /// Carries out system calls: one method per call, given the call
        /// already decoded (see [`dispatch`]), answering with what became of
        /// it for the call's value type; [`Handler::finish`] then puts that
        /// in the registers. Implemented by the kernel: a call added here is
        /// a compile error there until the kernel has its method.
        pub trait Handler {
            /// What a call came to, for a call whose value is `T`.
            type Flow<T: Register>;
            /// What [`dispatch`] returns.
            type Output;
            $(
                #[doc = concat!("Carries out [`", stringify!($name), "`].")]
                fn $method(&mut self, call: $name) -> Self::Flow<$value>;
            )*
            /// Returns what call `C` came to.
            fn finish<C: Call>(&mut self, flow: Self::Flow<C::Value>) -> Self::Output;
            /// Answers a `syscall` whose registers are no call.
            fn bad_trap(&mut self, error: BadTrap) -> Self::Output;
        }

        /// Decodes the registers of a `syscall` and hands the call to the
        /// handler's method for it: one dispatch on the number, as cheap as
        /// a `match` on raw registers.
        #[inline(always)]
        pub fn dispatch<H: Handler + ?Sized>(handler: &mut H, rax: u64, registers: [u64; 6]) -> H::Output {
            let number = number_of(rax);
            match number {
                $(
                    $number => match <$name as Call>::from_registers(registers) {
                        Some(call) => {
                            let flow = handler.$method(call);
                            handler.finish::<$name>(flow)
                        }
                        None => handler.bad_trap(BadTrap::BadArgument(number)),
                    },
                )*
                0.. => handler.bad_trap(BadTrap::Foreign(rax)),
                _ => handler.bad_trap(BadTrap::UnknownNumber(number)),
            }
        }

        impl Trap {
            /// The call the registers of a `syscall` make: the number from
            /// `rax` (see [`number_of`]), the arguments from `rdi`, `rsi`, `rdx`, `r10`, `r8`,
            /// `r9`.
            ///
            /// # Errors
            ///
            /// [`BadTrap`] when the number is unknown or an argument is not a
            /// value of its type.
            #[inline(always)]
            pub fn decode(rax: u64, registers: [u64; 6]) -> Result<Trap, BadTrap> {
                let number = number_of(rax);
                match number {
                    $(
                        $number => <$name as Call>::from_registers(registers)
                            .map(Trap::$name)
                            .ok_or(BadTrap::BadArgument(number)),
                    )*
                    0.. => Err(BadTrap::Foreign(rax)),
                    _ => Err(BadTrap::UnknownNumber(number)),
                }
            }

            /// What `rax` holds for this call.
            pub fn number(&self) -> u64 {
                match self {
                    $( Trap::$name(_) => rax_of($number), )*
                }
            }

            /// `rax` and the argument registers that make this call.
            pub fn encode(self) -> (u64, [u64; 6]) {
                match self {
                    $( Trap::$name(call) => (rax_of($number), call.to_registers()), )*
                }
            }
        }
    };
}

traps! {
    // GNU Mach's traps, with its numbers.

    /// `mach_msg`: a send, a receive, or both, on the message buffer `msg`.
    MACH_MSG = -25 => fn mach_msg: MachMsg {
        /// The message buffer.
        msg: u64,
        /// [`msg_option`](crate::msg_option) bits.
        option: u64,
        /// The size of the message to send.
        send_size: u64,
        /// The size of the buffer for the message received.
        rcv_size: u64,
        /// The port or port set to receive from.
        rcv_name: PortName,
        /// The timeout, in milliseconds, of a send or receive with
        /// `SEND_TIMEOUT` / `RCV_TIMEOUT`.
        timeout: u64,
    } -> ();

    /// `mach_reply_port()`: a new receive right in the caller's space, for
    /// replies.
    REPLY_PORT = -26 => fn mach_reply_port: MachReplyPort {} -> PortName;

    /// `mach_thread_self()`: a send right to the calling thread's port.
    THREAD_SELF = -27 => fn thread_self: ThreadSelf {} -> PortName;

    /// `mach_task_self()`: a send right to the caller's task port.
    TASK_SELF = -28 => fn task_self: TaskSelf {} -> PortName;

    /// `swtch`: lets other threads of the same or higher priority run.
    YIELD = -60 => fn yield_now: Yield {} -> ();

    // hurd-rs's own traps.

    /// Does nothing and returns `KERN_SUCCESS` (for measuring the trap).
    NULL = -100 => fn null: Null {} -> ();

    /// `task_terminate(mach_task_self())` with an exit status: does not
    /// return.
    EXIT = -101 => fn exit: Exit {
        /// What the task's end reports (`task_notify_exit`).
        status: u64,
    } -> ();

    /// `thread_create` + `thread_set_state` + `thread_resume` in one: a new
    /// thread of the caller's task → its id.
    THREAD_SPAWN = -102 => fn thread_spawn: ThreadSpawn {
        /// Where it starts.
        entry: u64,
        /// Its stack pointer.
        stack: u64,
        /// Its first argument (in `rdi`).
        arg: u64,
    } -> u64;

    /// `thread_terminate(mach_thread_self())`: does not return; the task
    /// ends with its last thread (status 0).
    THREAD_EXIT = -103 => fn thread_exit: ThreadExit {} -> ();

    /// `mach_port_allocate(mach_task_self(), right)` (receive, port set or
    /// dead name) → the new name.
    PORT_ALLOCATE = -104 => fn port_allocate: PortAllocate {
        /// The right to make.
        right: RightType,
    } -> PortName;

    /// `mach_port_deallocate(mach_task_self(), name)`: one user reference
    /// of a send, send-once or dead-name right less.
    PORT_DEALLOCATE = -105 => fn port_deallocate: PortDeallocate {
        /// The name.
        name: PortName,
    } -> ();

    /// `mach_port_destroy(mach_task_self(), name)`: every right under the
    /// name goes.
    PORT_DESTROY = -106 => fn port_destroy: PortDestroy {
        /// The name.
        name: PortName,
    } -> ();

    /// `vm_allocate(mach_task_self(), address, size, anywhere)` → the
    /// address of the zero-filled memory.
    VM_ALLOCATE = -107 => fn vm_allocate: VmAllocate {
        /// Where (or, with `anywhere`, the lowest address wanted).
        address: u64,
        /// How many bytes (rounded up to pages).
        size: u64,
        /// Whether any free place at or above `address` will do.
        anywhere: bool,
    } -> u64;

    /// `vm_deallocate(mach_task_self(), address, size)`.
    VM_DEALLOCATE = -108 => fn vm_deallocate: VmDeallocate {
        /// The start of the range.
        address: u64,
        /// Its size.
        size: u64,
    } -> ();

    /// `vm_protect(mach_task_self(), address, size, set_maximum,
    /// protection)`.
    VM_PROTECT = -109 => fn vm_protect: VmProtect {
        /// The start of the range.
        address: u64,
        /// Its size.
        size: u64,
        /// Whether the maximum protection is set (else the current one).
        set_maximum: bool,
        /// `VM_PROT_*` bits: read 1, write 2, execute 4.
        protection: u32,
    } -> ();

    /// `vm_map(mach_task_self(), address, size, 0, anywhere,
    /// memory_object, offset, copy = FALSE, read/write, all, share)` of a
    /// pager's memory object → the address. The first mapping of a pager
    /// sends it `memory_object_init`; pages come from it by `data_request` /
    /// `data_supply`.
    VM_MAP = -110 => fn vm_map: VmMap {
        /// The lowest address wanted.
        address: u64,
        /// How many bytes.
        size: u64,
        /// A send right of the caller's to the memory object.
        memory_object: PortName,
        /// Where in the object the mapping starts.
        offset: u64,
    } -> u64;

    /// Writes bytes of the caller's memory to the kernel console (a
    /// debugging aid; at most 4 KiB a call).
    CONSOLE_WRITE = -111 => fn console_write: ConsoleWrite {
        /// Where the bytes are.
        buf: u64,
        /// How many.
        len: u64,
    } -> ();

    /// Bytes typed on the console (COM1) → how many, at least one: the call
    /// waits for them unless `flags` has [`CONSOLE_NOWAIT`](crate::CONSOLE_NOWAIT)
    /// (then 0 when none are there). One waiting reader takes what arrives.
    CONSOLE_READ = -112 => fn console_read: ConsoleRead {
        /// Where the bytes go.
        buf: u64,
        /// The room there.
        len: u64,
        /// [`CONSOLE_NOWAIT`](crate::CONSOLE_NOWAIT) or 0.
        flags: u64,
    } -> u64;

    /// The time-stamp counter (for benchmarks: under QEMU's `-icount`, the
    /// guest instructions executed).
    READ_TSC = -113 => fn read_tsc: ReadTsc {} -> u64;

    /// The time since boot in nanoseconds (GNU Mach's
    /// `host_get_uptime64`, as a trap): monotonic, never going back.
    UPTIME = -114 => fn uptime: Uptime {} -> u64;

    /// One of the `mach_port_*` calls of
    /// [`port_call`](crate::port_call) on the caller's own space → its
    /// value. A trap, not only the RPC to the task port, because servers
    /// make these for every port they hand out: a send right made and
    /// released costs 1,616 guest instructions this way and 19,893 with the
    /// make-send as the RPC (`cargo xtask bench kernel`).
    PORT_CALL = -115 => fn port_call: PortCall {
        /// The routine's `mach_port.defs` id.
        id: u64,
        /// The name it acts on.
        name: PortName,
        /// Its further arguments, in the routine's order.
        a: u64,
        /// See `a`.
        b: u64,
        /// See `a`.
        c: u64,
        /// See `a`.
        d: u64,
    } -> u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_goes_through_the_registers_and_back() {
        let calls: [Trap; 5] = [
            Null {}.into(),
            MachMsg {
                msg: 0x80_0000_1000,
                option: 3,
                send_size: 24,
                rcv_size: 4096,
                rcv_name: PortName(7),
                timeout: 0,
            }
            .into(),
            VmAllocate {
                address: 0,
                size: 8192,
                anywhere: true,
            }
            .into(),
            PortAllocate {
                right: RightType::PortSet,
            }
            .into(),
            PortCall {
                id: 3208,
                name: PortName(5),
                a: 0,
                b: u64::MAX,
                c: 0,
                d: 0,
            }
            .into(),
        ];
        for call in calls {
            let (rax, registers) = call.encode();
            assert_eq!(rax, call.number());
            assert_eq!(Trap::decode(rax, registers), Ok(call));
        }
    }

    #[test]
    fn arguments_out_of_their_type_are_refused() {
        // A right type that does not exist.
        assert_eq!(
            Trap::decode(nr::PORT_ALLOCATE, [5, 0, 0, 0, 0, 0]),
            Err(BadTrap::BadArgument(-104))
        );
        // A boolean other than 0 or 1.
        assert_eq!(
            Trap::decode(nr::VM_ALLOCATE, [0, 4096, 2, 0, 0, 0]),
            Err(BadTrap::BadArgument(-107))
        );
        // A 32-bit argument is the low half of its register.
        assert_eq!(
            Trap::decode(nr::PORT_DEALLOCATE, [(1 << 32) | 9, 0, 0, 0, 0, 0]),
            Ok(Trap::PortDeallocate(PortDeallocate { name: PortName(9) }))
        );
    }

    #[test]
    fn numbers_are_negative_and_linux_calls_are_foreign() {
        // GNU Mach's numbers where it has the trap.
        assert_eq!(number_of(nr::MACH_MSG), -25);
        assert_eq!(number_of(nr::REPLY_PORT), -26);
        assert_eq!(number_of(nr::THREAD_SELF), -27);
        assert_eq!(number_of(nr::TASK_SELF), -28);
        assert_eq!(number_of(nr::YIELD), -60);
        assert_eq!(MachMsg::NUMBER, nr::MACH_MSG);
        // A negative number no trap has.
        assert_eq!(
            Trap::decode(rax_of(-99), [0; 6]),
            Err(BadTrap::UnknownNumber(-99))
        );
        // Linux's write(2) is no trap of ours.
        assert_eq!(Trap::decode(1, [0; 6]), Err(BadTrap::Foreign(1)));
        // The upper half of rax is not looked at.
        assert_eq!(
            Trap::decode(nr::NULL & 0xffff_ffff, [0; 6]),
            Ok(Trap::Null(Null {}))
        );
    }

    #[test]
    fn numbers_are_unique() {
        let all = [
            nr::MACH_MSG,
            nr::REPLY_PORT,
            nr::THREAD_SELF,
            nr::TASK_SELF,
            nr::YIELD,
            nr::NULL,
            nr::EXIT,
            nr::THREAD_SPAWN,
            nr::THREAD_EXIT,
            nr::PORT_ALLOCATE,
            nr::PORT_DEALLOCATE,
            nr::PORT_DESTROY,
            nr::VM_ALLOCATE,
            nr::VM_DEALLOCATE,
            nr::VM_PROTECT,
            nr::VM_MAP,
            nr::CONSOLE_WRITE,
            nr::CONSOLE_READ,
            nr::READ_TSC,
            nr::UPTIME,
            nr::PORT_CALL,
        ];
        for (i, n) in all.iter().enumerate() {
            assert!(number_of(*n) < 0);
            assert!(!all[..i].contains(n));
        }
    }
}
