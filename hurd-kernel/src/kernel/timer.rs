//! The legacy interrupt controllers (`pic8259`) and the PIT as the clock.

use core::sync::atomic::{AtomicU64, Ordering};

use pic8259::ChainedPics;
use spin::Mutex;
use x86_64::instructions::port::Port;

use crate::trap::{IRQ_BASE, TrapFrame};

/// The PIT's interrupt line.
pub const IRQ: u64 = 0;

/// Timer interrupts per second.
pub const HZ: u64 = 100;

/// The PIT's input clock (Hz).
const PIT_CLOCK: u64 = 1_193_182;

static PICS: Mutex<ChainedPics> =
    // SAFETY: the offsets put the PIC vectors at 32..48, clear of the
    // exceptions; the ports are the standard PIC ports.
    Mutex::new(unsafe { ChainedPics::new(IRQ_BASE as u8, IRQ_BASE as u8 + 8) });

/// Timer interrupts since boot.
static TICKS: AtomicU64 = AtomicU64::new(0);

/// Remaps the PICs to vectors 32–47, masks every line but the timer's and
/// COM1's, and
/// starts the PIT at [`HZ`]. Interrupts stay disabled.
pub fn init() {
    let divisor = (PIT_CLOCK / HZ) as u16;
    let mut pics = PICS.lock();
    // SAFETY: the standard PIC and PIT ports; interrupts are disabled, and
    // nothing else programs these devices.
    unsafe {
        pics.initialize();
        // Only IRQ 0 (timer) and IRQ 4 (COM1) unmasked.
        pics.write_masks(0xEE, 0xFF);
        let mut command = Port::<u8>::new(0x43);
        let mut channel0 = Port::<u8>::new(0x40);
        // Channel 0, low then high byte, mode 2 (rate generator).
        command.write(0x34);
        channel0.write(divisor as u8);
        channel0.write((divisor >> 8) as u8);
    }
}

/// Timer interrupts since boot.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::SeqCst)
}

/// Acknowledges interrupt line `irq` at the PICs.
pub fn end_of_interrupt(irq: u8) {
    // SAFETY: `irq` is the line being serviced, so the EOI is the one the
    // PIC waits for.
    unsafe { PICS.lock().notify_end_of_interrupt(IRQ_BASE as u8 + irq) };
}

/// The timer interrupt: counts the tick and lets the scheduler preempt.
pub fn tick(frame: &mut TrapFrame) -> *mut TrapFrame {
    TICKS.fetch_add(1, Ordering::SeqCst);
    end_of_interrupt(IRQ as u8);
    crate::sched::preempt(frame)
}
