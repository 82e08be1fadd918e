//! The echo interface of hurd-ipc's hosted example, for the programs that
//! run an `interface!` server and client as tasks through
//! [`KernelIpc`](crate::ipc::KernelIpc).

use alloc::string::String;

hurd_ipc::interface! {
    /// The echo protocol.
    pub mod echo: subsystem 2400 {
        /// Returns the bytes it is given.
        routine echo(data: Vec<u8>) -> (data: Vec<u8>);
        /// Returns the text reversed.
        routine reverse(text: String) -> (reversed: String);
        /// How many calls and bytes the server has seen.
        routine stats() -> (calls: u32, bytes: u64);
        /// Asks the server to stop: it destroys its port. No reply.
        simpleroutine shutdown();
    }
}
