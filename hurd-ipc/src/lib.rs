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

pub mod message;
pub mod name;
pub mod return_code;
pub mod right;
pub mod wire;

pub use message::{Item, Message, MsgBits, MsgHeader, OolItem, PortItem};
pub use name::{PortId, PortName};
pub use return_code::{Error, KernReturn, MigReturn, MsgReturn};
pub use right::{Disposition, PortType, RightType, UREFS_MAX};
