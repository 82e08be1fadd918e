//! Mach IPC semantics as a `no_std` + `alloc` crate.
//!
//! hurd-ipc holds the parts of Mach that every Hurd server speaks through:
//! ports and the rights that name them, IPC spaces, messages with typed bodies,
//! notifications, and MIG-style RPC interfaces defined with [`interface!`]. The
//! same code is the IPC subsystem of the hurd-rs kernel and, with feature `std`,
//! an in-process runtime in which tasks are handles and threads block in receive.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod arena;
pub mod errno;
#[cfg(feature = "std")]
pub mod hosted;
mod interface;
mod kernel;
mod kmsg;
pub mod message;
pub mod mig;
pub mod msgids;
pub mod name;
mod name_table;
pub mod notify;
pub mod port;
mod port_set;
pub mod return_code;
pub mod right;
mod small_map;
pub mod space;
pub mod user;
pub mod wire;

pub use errno::Errno;
pub use kernel::{
    Delivery, FastRpc, HeaderRpc, IpcKernel, IpcStats, RecvError, RecvOptions, SendError,
};
pub use message::{Item, Message, MsgBits, MsgHeader, OolItem, PortArray, PortItem};
pub use name::{PortId, PortName};
pub use notify::{Notification, NotifyKind};
pub use port::{PortStatus, QLIMIT_DEFAULT, QLIMIT_MAX, WaiterToken};
pub use return_code::{Error, KernReturn, MigReturn, MsgReturn};
pub use right::{Disposition, PortType, RightType, UREFS_MAX};
pub use space::SpaceId;
pub use user::{MachMsgError, MsgOptions, UserIpc};

#[doc(hidden)]
pub mod __private {
    //! Paths the `interface!` expansion uses, so it works in crates without `alloc`.
    pub use alloc::vec::Vec;
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
