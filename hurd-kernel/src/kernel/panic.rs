//! The panic handler: a clear message on the console, then QEMU exits with
//! [`ExitCode::Panic`](crate::qemu::ExitCode::Panic). Never a silent hang.

use core::panic::PanicInfo;

use crate::qemu::{self, ExitCode};
use crate::serial;

// ANCHOR: panic
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    x86_64::instructions::interrupts::disable();
    serial::print_emergency(format_args!("\nKERNEL PANIC: {info}\n"));
    qemu::exit(ExitCode::Panic)
}
// ANCHOR_END: panic
