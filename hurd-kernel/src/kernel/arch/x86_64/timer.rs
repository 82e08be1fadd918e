//! The legacy interrupt controllers (`pic8259`) and the PIT as the clock.

use core::sync::atomic::{AtomicU64, Ordering};

use pic8259::ChainedPics;
use spin::Mutex;
use x86_64::instructions::port::Port;

use super::trap::{IRQ_BASE, TrapFrame};

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

/// The latest [`uptime_ns`] answer (it never goes back).
static LAST_UPTIME: AtomicU64 = AtomicU64::new(0);

/// The time since the PIT started, in nanoseconds: the ticks, and the part
/// of the current tick read from the PIT's count. Never less than what it
/// returned before (a tick whose interrupt is not yet taken would otherwise
/// read as a step back).
pub fn uptime_ns() -> u64 {
    let divisor = PIT_CLOCK / HZ;
    let ticks = ticks();
    let mut command = Port::<u8>::new(0x43);
    let mut channel0 = Port::<u8>::new(0x40);
    // SAFETY: latching and reading channel 0's count (command 0: latch,
    // then low and high byte) changes nothing the PIT counts with.
    let count = unsafe {
        command.write(0x00);
        let low = channel0.read();
        let high = channel0.read();
        u64::from(u16::from_le_bytes([low, high]))
    };
    // Mode 2 counts down from the divisor.
    let into_tick = divisor.saturating_sub(count).min(divisor);
    let now = ticks * (1_000_000_000 / HZ) + into_tick * 1_000_000_000 / PIT_CLOCK;
    LAST_UPTIME.fetch_max(now, Ordering::SeqCst).max(now)
}

/// Acknowledges interrupt line `irq` at the PICs.
pub fn end_of_interrupt(irq: u8) {
    // SAFETY: `irq` is the line being serviced, so the EOI is the one the
    // PIC waits for.
    unsafe { PICS.lock().notify_end_of_interrupt(IRQ_BASE as u8 + irq) };
}

/// Masks (`true`) or unmasks interrupt line `irq` (0–15) at the PICs: a
/// device's line is masked from its interrupt until its driver
/// acknowledges it. The timer's and COM1's lines are never changed here.
pub fn set_line_masked(irq: u8, masked: bool) {
    if irq >= 16 || u64::from(irq) == IRQ || u64::from(irq) == super::serial::IRQ {
        return;
    }
    let mut pics = PICS.lock();
    // SAFETY: reading and writing the PICs' mask registers changes only
    // which lines interrupt; line 2 (the cascade) is unmasked whenever a
    // line of the second PIC is.
    unsafe {
        let [mut low, mut high] = pics.read_masks();
        let bit = 1u8 << (irq % 8);
        let mask = if irq < 8 { &mut low } else { &mut high };
        if masked {
            *mask |= bit;
        } else {
            *mask &= !bit;
        }
        if high != 0xff {
            low &= !(1 << 2);
        }
        pics.write_masks(low, high);
    }
}

/// The timer interrupt: counts the tick and lets the scheduler preempt.
pub fn tick(frame: &mut TrapFrame) -> *mut TrapFrame {
    TICKS.fetch_add(1, Ordering::SeqCst);
    end_of_interrupt(IRQ as u8);
    crate::sched::preempt(frame)
}
