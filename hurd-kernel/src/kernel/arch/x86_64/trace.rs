//! The trace line (feature `trace`): defmt frames on the second serial
//! port, COM2.
//!
//! defmt sends an index into a table of format strings (kept by the linker
//! in the kernel ELF's `.defmt` section, which is never loaded) and the
//! arguments in binary, so an event costs a few bytes on the wire and no
//! formatting in the kernel. Each frame is rzCOBS-encoded (defmt's default
//! encoding) and ends with a zero byte: a reader that starts late, or loses
//! bytes, finds the next frame. The timestamp is the time-stamp counter
//! (under QEMU's `-icount`, guest instructions).
//!
//! `cargo xtask run --trace` boots this build with COM2 going to a file and
//! decodes the file against the kernel ELF with `defmt-decoder`. Without a
//! second serial port the frames go nowhere.

use arrayvec::ArrayVec;
use spin::Mutex;
use x86_64::instructions::port::Port;

/// The second serial port's I/O base.
const COM2: u16 = 0x2f8;

/// The transmit FIFO's size: once the line status register says the
/// transmitter is empty, this many bytes may be written without looking
/// again.
const FIFO: usize = 16;

/// The most times [`drain`] reads the line status before it writes anyway:
/// a transmitter that never empties loses bytes, the kernel never waits
/// for it forever.
const PATIENCE: u32 = 1 << 20;

/// COM2's state and the frame being encoded.
struct Line {
    /// Whether [`init`] found and set up COM2.
    present: bool,
    encoder: defmt::Encoder,
    /// Encoded bytes not yet written: a frame goes out in FIFO-sized bursts
    /// (one status read each) rather than byte by byte.
    pending: ArrayVec<u8, 64>,
}

static LINE: Mutex<Line> = Mutex::new(Line {
    present: false,
    encoder: defmt::Encoder::new(),
    pending: ArrayVec::new_const(),
});

/// Whether interrupts were enabled when the frame being written began (the
/// logger runs with them disabled).
static INTERRUPTS_WERE_ON: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// Sets up COM2 (115200 8N1, FIFOs on, no interrupts). Frames before this
/// are dropped; so is everything when the machine has no COM2.
pub fn init() {
    // SAFETY: 0x2f8..0x300 is COM2 on every PC and QEMU machine, and only
    // this module touches those ports.
    let port = unsafe { uart_16550::Uart16550::new_port(COM2) };
    if let Ok(mut port) = port
        && port.init(uart_16550::Config::default()).is_ok()
    {
        LINE.lock().present = true;
    }
}

/// Queues encoded bytes, writing the queue out whenever it fills.
fn queue(pending: &mut ArrayVec<u8, 64>, present: bool, bytes: &[u8]) {
    for &byte in bytes {
        if pending.is_full() {
            drain(pending, present);
        }
        pending.push(byte);
    }
}

/// Writes the queued bytes to COM2 (or drops them without it).
fn drain(pending: &mut ArrayVec<u8, 64>, present: bool) {
    if present {
        let mut status = Port::<u8>::new(COM2 + 5);
        let mut data = Port::<u8>::new(COM2);
        for burst in pending.chunks(FIFO) {
            let mut patience = PATIENCE;
            // SAFETY: reading COM2's line status register (bit 5: the
            // transmitter is empty); the line's lock keeps other users of
            // COM2 out.
            while unsafe { status.read() } & 0x20 == 0 && patience > 0 {
                patience -= 1;
            }
            for &byte in burst {
                // SAFETY: writing COM2's transmit register, with room for a
                // FIFO's worth of bytes (checked above).
                unsafe { data.write(byte) };
            }
        }
    }
    pending.clear();
}

/// The defmt logger: one frame at a time, with interrupts disabled from
/// `acquire` to `release` (the kernel runs on one processor, so nothing
/// else can write in between). A frame is queued as it is encoded and
/// written out when it ends (or the queue fills).
#[defmt::global_logger]
struct TraceLogger;

// SAFETY: `acquire` disables interrupts, so on the kernel's single
// processor no other frame can start before `release`; every call takes the
// line's lock only for its own duration.
unsafe impl defmt::Logger for TraceLogger {
    fn acquire() {
        let on = x86_64::instructions::interrupts::are_enabled();
        x86_64::instructions::interrupts::disable();
        INTERRUPTS_WERE_ON.store(on, core::sync::atomic::Ordering::Relaxed);
        let Line {
            present,
            encoder,
            pending,
        } = &mut *LINE.lock();
        encoder.start_frame(|bytes| queue(pending, *present, bytes));
    }

    unsafe fn flush() {}

    unsafe fn release() {
        {
            let Line {
                present,
                encoder,
                pending,
            } = &mut *LINE.lock();
            encoder.end_frame(|bytes| queue(pending, *present, bytes));
            drain(pending, *present);
        }
        if INTERRUPTS_WERE_ON.load(core::sync::atomic::Ordering::Relaxed) {
            x86_64::instructions::interrupts::enable();
        }
    }

    unsafe fn write(bytes: &[u8]) {
        let Line {
            present,
            encoder,
            pending,
        } = &mut *LINE.lock();
        encoder.write(bytes, |out| queue(pending, *present, out));
    }
}

defmt::timestamp!("{=u64}", super::context::read_tsc());
