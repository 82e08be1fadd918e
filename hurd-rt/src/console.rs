//! The kernel console: a debugging aid every task may write to and read
//! from (the serial line COM1). Programs given a standard output write there
//! instead (see [`crate::io`]); the terminal server reads the console.

use hurd_abi::CONSOLE_NOWAIT;
use hurd_abi::trap::{ConsoleRead, ConsoleWrite};
use hurd_ipc::KernReturn;

use crate::trap;

/// The most bytes one console write carries; [`write()`] splits longer text.
pub const MAX_WRITE: usize = 4096;

/// Writes `text` to the kernel console.
///
/// # Errors
///
/// The kernel's code if it refused the write (it never should for memory of
/// the program's own).
pub fn write(text: &[u8]) -> Result<(), KernReturn> {
    for chunk in text.chunks(MAX_WRITE) {
        let write = ConsoleWrite {
            buf: chunk.as_ptr() as u64,
            len: chunk.len() as u64,
        };
        // SAFETY: the kernel reads `chunk.len()` bytes at `chunk`, a slice
        // this function borrows for the call.
        unsafe { trap::trap(write) }.map_err(trap::kern_error)?;
    }
    Ok(())
}

/// Reads bytes typed on the console into `buf`: at least one, waiting for
/// them, or — with `nowait` — what is there now (possibly none). Returns how
/// many. One waiting reader gets each piece of input.
///
/// # Errors
///
/// The kernel's code (`KERN_INVALID_ARGUMENT` for an empty buffer).
pub fn read(buf: &mut [u8], nowait: bool) -> Result<usize, KernReturn> {
    let flags = if nowait { CONSOLE_NOWAIT } else { 0 };
    let read = ConsoleRead {
        buf: buf.as_mut_ptr() as u64,
        len: buf.len() as u64,
        flags,
    };
    // SAFETY: the kernel writes at most `buf.len()` bytes at `buf`, a slice
    // this function borrows mutably for the call.
    let n = unsafe { trap::trap(read) }.map_err(trap::kern_error)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX).min(buf.len()))
}

/// A line of console output assembled with `write!` in a fixed buffer (no
/// heap) and written at once: what the panic handler uses.
#[derive(Debug)]
pub struct Line {
    buf: [u8; 256],
    len: usize,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Line {
        Line {
            buf: [0; 256],
            len: 0,
        }
    }

    /// Writes the line with a newline (text past 255 bytes is cut) and
    /// empties it.
    pub fn flush(&mut self) {
        let len = self.len.min(self.buf.len() - 1);
        self.buf[len] = b'\n';
        let _ = write(&self.buf[..=len]);
        self.len = 0;
    }
}

impl Default for Line {
    fn default() -> Self {
        Line::new()
    }
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len() - 1 - self.len.min(self.buf.len() - 1);
        let take = s.len().min(room);
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write as _;

    #[test]
    fn a_line_keeps_what_fits() {
        let mut line = Line::new();
        let _ = write!(line, "{}", "x".repeat(300));
        assert_eq!(line.len, 255);
        let _ = write!(line, "more");
        assert_eq!(line.len, 255);
    }
}
