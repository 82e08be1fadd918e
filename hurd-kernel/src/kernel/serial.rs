//! The console: COM1 through `uart_16550`, `kprint!`/`kprintln!`, and the
//! `log` logger that writes to it.

use core::fmt::{self, Write};

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::{Config, Uart16550Tty};

/// The first serial port's I/O base.
const COM1: u16 = 0x3f8;

/// COM1, once [`init`] has set it up.
static CONSOLE: Mutex<Option<Uart16550Tty<PioBackend>>> = Mutex::new(None);

/// Initialises COM1 and installs the logger. Output before this is dropped.
pub fn init() {
    // SAFETY: 0x3f8..0x400 is COM1 on every PC and QEMU machine, and nothing
    // else in the kernel touches those ports.
    let port = unsafe { Uart16550Tty::new_port(COM1, Config::default()) };
    if let Ok(port) = port {
        *CONSOLE.lock() = Some(port);
    }
    // A second call (there is none) would fail harmlessly.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
}

/// Writes formatted text to the console.
pub fn print(args: fmt::Arguments<'_>) {
    if let Some(port) = CONSOLE.lock().as_mut() {
        let _ = port.write_fmt(args);
    }
}

/// Writes to the console even if the lock is held (by the code that
/// panicked): for the panic and fault reports only.
pub fn print_emergency(args: fmt::Arguments<'_>) {
    // SAFETY: the kernel runs on one processor with interrupts disabled, so
    // a held lock means its holder was interrupted by the failure being
    // reported and will never run again.
    unsafe { CONSOLE.force_unlock() };
    print(args);
}

/// Prints to the serial console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => ($crate::serial::print(format_args!($($arg)*)));
}

/// Prints a line to the serial console.
#[macro_export]
macro_rules! kprintln {
    () => ($crate::kprint!("\n"));
    ($($arg:tt)*) => ($crate::serial::print(format_args!("{}\n", format_args!($($arg)*))));
}

/// The `log` logger: one line per record on the console.
struct SerialLogger;

static LOGGER: SerialLogger = SerialLogger;

impl log::Log for SerialLogger {
    fn enabled(&self, _metadata: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        print(format_args!(
            "[{:<5} {}] {}\n",
            record.level(),
            record.target(),
            record.args()
        ));
    }

    fn flush(&self) {}
}
