//! The kernel command line of an image (`image.cmdline`): only words that
//! the reference kernel or `hurd-init` act on, so that a word that would do
//! nothing (`console=com1`: the console is always the first serial port)
//! is an error rather than a silent no-op.

use toml::Spanned;

use super::check::Checker;
use super::error::ManifestError;

/// The words of the kernel command line and what each does. The kernel
/// gives the whole line to the bootstrap task too.
pub const WORDS: &[(&str, &str)] = &[
    (
        "test",
        "the kernel runs its test suite instead of booting, and exits QEMU",
    ),
    (
        "bench",
        "the kernel runs its benchmarks instead of booting, and exits QEMU",
    ),
    (
        "accel-probe",
        "the kernel checks that user mode works under this accelerator, and exits QEMU",
    ),
    (
        "panic-test",
        "the kernel panics (to check that a panic is reported)",
    ),
    (
        "fault-test",
        "the kernel reads unmapped memory (to check that a fault is reported)",
    ),
    (
        "bench-prompt",
        "hurd-init prints the time-stamp counter when the login prompt would show, and halts",
    ),
    (
        "bench-disk",
        "hurd-init reads /home/disk-bench from the disk, then a copy in /tmp, and prints the time-stamp counter's count for each",
    ),
];

impl Checker<'_> {
    /// `image.cmdline`: one line of known [`WORDS`] (empty when absent).
    pub(super) fn cmdline(&self, c: Option<Spanned<String>>) -> Result<String, ManifestError> {
        let Some(c) = c else {
            return Ok(String::new());
        };
        let span = c.span();
        let c = c.into_inner();
        if c.contains(['\n', '\r', '\0']) {
            return Err(self
                .lines
                .field_error(span, "image.cmdline: must be one line without NUL"));
        }
        if let Some(w) = c
            .split_whitespace()
            .find(|w| !WORDS.iter().any(|(k, _)| k == w))
        {
            let known: Vec<&str> = WORDS.iter().map(|(k, _)| *k).collect();
            let hint = if w.starts_with("console=") {
                "; the console is always the first serial port (COM1)"
            } else {
                ""
            };
            return Err(self.lines.field_error(
                span,
                format!(
                    "image.cmdline `{w}`: neither the kernel nor hurd-init knows this word \
                     (known: {}){hint}",
                    known.join(", ")
                ),
            ));
        }
        Ok(c)
    }
}
