//! The console: COM1 through `uart_16550`, `kprint!`/`kprintln!`, the
//! `log` logger that writes to it, and what arrives on it (the receive
//! interrupt fills a buffer that [`crate::console`] hands to readers).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::{Config, Uart16550Tty};
use x86_64::instructions::port::Port;

/// The first serial port's I/O base.
const COM1: u16 = 0x3f8;

/// COM1's interrupt line.
pub const IRQ: u64 = 4;

/// The most received bytes kept unread; more are dropped.
pub const INPUT_MAX: usize = 4096;

/// Bytes received and not yet read.
static INPUT: Mutex<VecDeque<u8>> = Mutex::new(VecDeque::new());

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

/// Turns on COM1's interrupt for received data (IER bit 0) and lets its
/// interrupts reach the PIC (MCR OUT2).
pub fn enable_input() {
    let _console = CONSOLE.lock();
    // SAFETY: COM1's interrupt-enable and modem-control registers; the
    // console lock keeps the port's other users out while they change.
    unsafe {
        Port::<u8>::new(COM1 + 1).write(0x01);
        let mut mcr = Port::<u8>::new(COM1 + 4);
        let value = mcr.read();
        mcr.write(value | 0x08);
    }
}

/// Moves every byte COM1 holds into the input buffer (the receive
/// interrupt); returns how many arrived.
pub fn receive() -> usize {
    let _console = CONSOLE.lock();
    let mut input = INPUT.lock();
    let mut n = 0;
    // SAFETY: reading COM1's line-status and receive registers; the
    // console lock keeps the port's other users out.
    unsafe {
        let mut lsr = Port::<u8>::new(COM1 + 5);
        let mut rbr = Port::<u8>::new(COM1);
        // At most a FIFO's worth and then some: a stuck line cannot hold
        // the kernel here.
        while n < 64 && lsr.read() & 1 != 0 {
            let byte = rbr.read();
            if input.len() < INPUT_MAX {
                input.push_back(byte);
            }
            n += 1;
        }
    }
    n
}

/// Whether received bytes wait to be read.
pub fn has_input() -> bool {
    !INPUT.lock().is_empty()
}

/// Up to `max` received bytes, without taking them.
pub fn peek_input(max: usize) -> Vec<u8> {
    INPUT.lock().iter().take(max).copied().collect()
}

/// Takes `n` received bytes (after a [`peek_input`] that returned them).
pub fn consume_input(n: usize) {
    let mut input = INPUT.lock();
    let n = n.min(input.len());
    input.drain(..n);
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
    ($($arg:tt)*) => ($crate::arch::serial::print(format_args!($($arg)*)));
}

/// Prints a line to the serial console.
#[macro_export]
macro_rules! kprintln {
    () => ($crate::kprint!("\n"));
    ($($arg:tt)*) => ($crate::arch::serial::print(format_args!("{}\n", format_args!($($arg)*))));
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
        #[cfg(feature = "trace")]
        trace_record(record);
    }

    fn flush(&self) {}
}

/// A log record on the trace line too (feature `trace`): formatted here
/// (the record's arguments are only known at run time), cut at 200 bytes,
/// and sent as a defmt frame of the record's level.
#[cfg(feature = "trace")]
fn trace_record(record: &log::Record<'_>) {
    let mut text = arrayvec::ArrayString::<200>::new();
    // A longer message is cut where the buffer fills.
    let _ = write!(Cut(&mut text), "{}", record.args());
    let (target, text) = (record.target(), text.as_str());
    match record.level() {
        log::Level::Error => defmt::error!("{=str}: {=str}", target, text),
        log::Level::Warn => defmt::warn!("{=str}: {=str}", target, text),
        log::Level::Info => defmt::info!("{=str}: {=str}", target, text),
        log::Level::Debug => defmt::debug!("{=str}: {=str}", target, text),
        log::Level::Trace => defmt::trace!("{=str}: {=str}", target, text),
    }
}

/// Writes into a fixed buffer as much as fits, on a character boundary.
#[cfg(feature = "trace")]
struct Cut<'a, const N: usize>(&'a mut arrayvec::ArrayString<N>);

#[cfg(feature = "trace")]
impl<const N: usize> Write for Cut<'_, N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.0.try_push(c).is_err() {
                break;
            }
        }
        Ok(())
    }
}
