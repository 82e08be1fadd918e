//! The kernel's trace line: building the kernel with its `trace` feature,
//! giving QEMU a second serial port (COM2) that writes to a file, and
//! decoding that file.
//!
//! The trace kernel writes its log and a trace of IPC events (`mach_msg`
//! sends, receives, RPCs, hand-offs) as defmt frames: the index of a format
//! string kept in the ELF's `.defmt` section, a timestamp (the time-stamp
//! counter) and the arguments in binary, each frame rzCOBS-encoded and ended
//! by a zero byte. [`decode`] turns the file back into text with
//! `defmt-decoder` and the ELF's table, one line `time level message` per
//! frame. A file cut in the middle of a frame (QEMU stopped while the kernel
//! wrote) and frames that do not decode (a corrupt file, or one from another
//! build) are counted and reported, never a panic.

use std::path::{Path, PathBuf};

use crate::kernel::PACKAGE;
use crate::setup;
use crate::workspace::Workspace;

/// The kernel's feature that turns the trace line on.
pub const FEATURE: &str = "trace";

/// The file name, in the bare-metal release directory, of the trace
/// build of the kernel (the normal build keeps the package's name).
pub const KERNEL_FILE: &str = "hurd-kernel-trace";

/// Builds the kernel with its `trace` feature and keeps the image as
/// [`KERNEL_FILE`] beside the normal one, which is then put back in place
/// (the two builds share a target directory and cargo keeps both: the
/// second is only a copy). Returns the trace build's path.
///
/// `DEFMT_LOG` (compile time) is `trace` unless set otherwise, from
/// `.cargo/config.toml`.
pub fn build_kernel(ws: &Workspace) -> Result<PathBuf, String> {
    let dir = ws
        .metadata()?
        .target_directory
        .join(setup::BARE_METAL_TARGET)
        .join("release");
    let cargo_build = |features: Option<&str>| {
        let features = features.map(|f| ["--features", f]);
        ws.cargo()
            .args(["build", "--quiet", "--release", "-p", PACKAGE])
            .args(features.iter().flatten())
            .arg("--target")
            .arg(setup::BARE_METAL_TARGET)
            .run()
    };
    cargo_build(Some(FEATURE))?;
    let traced = dir.join(KERNEL_FILE);
    std::fs::copy(dir.join(PACKAGE), &traced)
        .map_err(|e| format!("cannot copy the trace kernel to {}: {e}", traced.display()))?;
    cargo_build(None)?;
    Ok(traced)
}

/// QEMU's arguments for a second serial port (COM2) written to `file`
/// (which QEMU truncates first).
pub fn serial_args(file: &Path) -> Vec<String> {
    vec!["-serial".to_owned(), format!("file:{}", file.display())]
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `time level message`, as printed.
    pub text: String,
    /// The frame's message alone.
    pub message: String,
    /// Its size on the wire, the closing zero byte included.
    pub wire_bytes: usize,
}

/// A decoded trace file.
#[derive(Debug, Default)]
pub struct Decoded {
    /// The frames that decoded, in order.
    pub lines: Vec<Line>,
    /// Frames that did not (corrupt, or not of this kernel's table).
    pub corrupt: usize,
    /// Bytes after the last complete frame: a frame cut off at the end.
    pub cut_off: usize,
}

impl Decoded {
    /// A note on what did not decode, if anything did not.
    pub fn problems(&self) -> Option<String> {
        let mut notes = Vec::new();
        if self.corrupt > 0 {
            notes.push(format!(
                "{} frame(s) did not decode (a corrupt trace, or one from another kernel build)",
                self.corrupt
            ));
        }
        if self.cut_off > 0 {
            notes.push(format!(
                "the trace ends in the middle of a frame ({} byte(s) after the last whole one)",
                self.cut_off
            ));
        }
        (!notes.is_empty()).then(|| notes.join("; "))
    }

    /// The frames whose message starts with `event` (an event's name, such
    /// as `"mach_msg send:"`), and their mean size on the wire.
    pub fn event_size(&self, event: &str) -> Option<(usize, f64)> {
        let sizes: Vec<usize> = self
            .lines
            .iter()
            .filter(|l| l.message.starts_with(event))
            .map(|l| l.wire_bytes)
            .collect();
        if sizes.is_empty() {
            return None;
        }
        let total: usize = sizes.iter().sum();
        Some((sizes.len(), total as f64 / sizes.len() as f64))
    }
}

/// The most bytes of trace [`decode_files`] reads.
pub const MAX_TRACE_BYTES: u64 = 1 << 30;

/// Decodes the trace file `trace` written by the kernel image `elf`.
pub fn decode_files(elf: &Path, trace: &Path) -> Result<Decoded, String> {
    let image = std::fs::read(elf).map_err(|e| format!("cannot read {}: {e}", elf.display()))?;
    let size = std::fs::metadata(trace)
        .map_err(|e| format!("cannot read {}: {e}", trace.display()))?
        .len();
    if size > MAX_TRACE_BYTES {
        return Err(format!(
            "{} holds {size} bytes, more than the {MAX_TRACE_BYTES} the decoder reads",
            trace.display()
        ));
    }
    let wire = std::fs::read(trace).map_err(|e| format!("cannot read {}: {e}", trace.display()))?;
    let table = table(&image).map_err(|e| format!("{}: {e}", elf.display()))?;
    decode(&table, &wire)
}

/// The defmt table of a kernel image: an error if it has none (not a
/// trace build) or it cannot be read.
pub fn table(elf: &[u8]) -> Result<defmt_decoder::Table, String> {
    // The parser reads an ELF file from outside: a failure of its own is
    // an error here, not the end of the program.
    let parsed = std::panic::catch_unwind(|| defmt_decoder::Table::parse(elf))
        .map_err(|_| "the defmt table parser failed on this file".to_owned())?;
    match parsed {
        Ok(Some(table)) => Ok(table),
        Ok(None) => Err(format!(
            "no .defmt section: not a kernel built with the `{FEATURE}` feature"
        )),
        Err(e) => Err(format!("cannot read its defmt table: {e:#}")),
    }
}

/// Decodes `wire` (rzCOBS frames, each ended by a zero byte) against
/// `table`, frame by frame.
pub fn decode(table: &defmt_decoder::Table, wire: &[u8]) -> Result<Decoded, String> {
    if table.encoding() != defmt_decoder::Encoding::Rzcobs {
        return Err(format!(
            "the kernel's frames are encoded as {:?}; the trace line uses rzCOBS",
            table.encoding()
        ));
    }
    let mut decoded = Decoded::default();
    let mut pieces = wire.split(|&b| b == 0).peekable();
    while let Some(piece) = pieces.next() {
        if pieces.peek().is_none() {
            // After the last zero byte: a frame not finished.
            decoded.cut_off = piece.len();
            break;
        }
        if piece.is_empty() {
            continue;
        }
        match decode_frame(table, piece) {
            Some((text, message)) => decoded.lines.push(Line {
                text,
                message,
                wire_bytes: piece.len() + 1,
            }),
            None => decoded.corrupt += 1,
        }
    }
    Ok(decoded)
}

/// One frame (without its closing zero) as `time level message` and the
/// message alone; `None` if it does not decode.
fn decode_frame(table: &defmt_decoder::Table, piece: &[u8]) -> Option<(String, String)> {
    // The decoder formats what the frame says: a frame it cannot make
    // sense of is a corrupt frame, even if it fails by panicking.
    std::panic::catch_unwind(|| {
        let mut stream = table.new_stream_decoder();
        stream.received(piece);
        stream.received(&[0]);
        let frame = stream.decode().ok()?;
        let message = frame.display_message().to_string();
        let time = frame
            .display_timestamp()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".to_owned());
        let level = frame.level().map_or("print", |l| l.as_str());
        Some((format!("{time} {level:<5} {message}"), message))
    })
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table as the kernel's could be (defmt-decoder reads one from an
    /// ELF; its serialised form is the quickest way to make one here).
    fn test_table() -> defmt_decoder::Table {
        let json = r#"{
            "timestamp": {"string": {"tag": "Timestamp", "string": "{=u64}"}, "raw_symbol": "t"},
            "entries": {
                "1": {"string": {"tag": "Trace", "string": "mach_msg send: thread {=u32} msgh_id {=i32}"}, "raw_symbol": "a"},
                "2": {"string": {"tag": "Info", "string": "{=str}: {=str}"}, "raw_symbol": "b"}
            },
            "bitflags": {},
            "encoding": "Rzcobs"
        }"#;
        serde_json::from_str(json).expect("the test table is valid")
    }

    #[test]
    fn a_file_that_is_not_an_elf_has_no_table() {
        assert!(table(b"").is_err());
        assert!(table(b"\x7fELF\x02\x01\x01garbage").is_err());
        assert!(table(&[0xffu8; 4096]).is_err());
    }

    #[test]
    fn an_empty_trace_is_empty() {
        let decoded = decode(&test_table(), &[]).expect("rzcobs table");
        assert!(decoded.lines.is_empty());
        assert_eq!(decoded.problems(), None);
    }

    #[test]
    fn a_cut_frame_is_reported() {
        let decoded = decode(&test_table(), &[0, 0, 0x12, 0x34]).expect("rzcobs table");
        assert!(decoded.lines.is_empty());
        assert_eq!(decoded.cut_off, 2);
        assert!(decoded.problems().is_some_and(|p| p.contains("middle")));
    }

    #[test]
    fn garbage_is_counted_never_a_panic() {
        let table = test_table();
        // Every short frame, then pseudo-random bytes of every density.
        for a in 1..=255u8 {
            for b in [1u8, 2, 0x7f, 0x80, 0xff] {
                let decoded = decode(&table, &[a, b, 0]).expect("rzcobs table");
                assert_eq!(decoded.lines.len() + decoded.corrupt, 1);
            }
        }
        let mut x: u32 = 0x1234_5678;
        for zeros in [2u32, 16, 64, 256] {
            let wire: Vec<u8> = (0..20_000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    if x.is_multiple_of(zeros) {
                        0
                    } else {
                        (x >> 8) as u8
                    }
                })
                .collect();
            let decoded = decode(&table, &wire).expect("rzcobs table");
            let frames = wire.split(|&b| b == 0).filter(|p| !p.is_empty()).count();
            assert!(decoded.lines.len() + decoded.corrupt <= frames);
        }
    }

    #[test]
    fn event_sizes() {
        let line = |message: &str, wire_bytes| Line {
            text: String::new(),
            message: message.to_owned(),
            wire_bytes,
        };
        let decoded = Decoded {
            lines: vec![
                line("mach_msg send: thread 3 msgh_id 1000", 12),
                line("hurd_kernel: booting", 30),
                line("mach_msg send: thread 4 msgh_id 1001", 14),
            ],
            ..Decoded::default()
        };
        assert_eq!(decoded.event_size("mach_msg send:"), Some((2, 13.0)));
        assert_eq!(decoded.event_size("hand-off:"), None);
    }
}
