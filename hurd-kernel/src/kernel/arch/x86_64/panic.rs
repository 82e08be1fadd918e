//! The panic handler: a clear message on the console, then QEMU exits with
//! [`ExitCode::Panic`](super::qemu::ExitCode::Panic). Never a silent hang.

use core::panic::PanicInfo;

use super::qemu::{self, ExitCode};
use super::serial;

// ANCHOR: panic
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    x86_64::instructions::interrupts::disable();
    serial::print_emergency(format_args!("\nKERNEL PANIC: {info}\n"));
    qemu::exit(ExitCode::Panic)
}
// ANCHOR_END: panic
