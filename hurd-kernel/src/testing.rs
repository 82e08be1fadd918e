//! The test protocol between the kernel and the tool that boots it.
//!
//! A test run prints one line per test (`test NAME ... ok` or
//! `test NAME ... FAILED: why`) and ends with the closing line
//! `N passed, M failed`, then leaves QEMU through `isa-debug-exit`. CI counts
//! the closing line; [`parse_summary`] reads it back.

use core::fmt;

/// The counts of a test run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Summary {
    /// Tests that passed.
    pub passed: u32,
    /// Tests that failed.
    pub failed: u32,
}

impl Summary {
    /// Counts one test's outcome.
    pub fn record(&mut self, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }

    /// Whether the run passed: at least one test and none failed.
    pub fn success(&self) -> bool {
        self.failed == 0 && self.passed > 0
    }
}

impl fmt::Display for Summary {
    /// The closing line (without its newline): `N passed, M failed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// Reads a closing line `N passed, M failed` (surrounding white space
/// allowed); `None` for any other line.
pub fn parse_summary(line: &str) -> Option<Summary> {
    let (passed, rest) = line.trim().split_once(" passed, ")?;
    let failed = rest.strip_suffix(" failed")?;
    Some(Summary {
        passed: passed.parse().ok()?,
        failed: failed.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn closing_line_round_trips() {
        let summary = Summary {
            passed: 12,
            failed: 1,
        };
        assert_eq!(summary.to_string(), "12 passed, 1 failed");
        assert_eq!(parse_summary("12 passed, 1 failed\r"), Some(summary));
    }

    #[test]
    fn other_lines_are_not_summaries() {
        for line in [
            "",
            "test x ... ok",
            "passed, failed",
            "1 passed, x failed",
            "-1 passed, 0 failed",
            "1 passed, 0 failed, 2 ignored",
        ] {
            assert_eq!(parse_summary(line), None, "{line:?}");
        }
    }

    #[test]
    fn success_needs_a_test_and_no_failure() {
        let mut summary = Summary::default();
        assert!(!summary.success());
        summary.record(true);
        assert!(summary.success());
        summary.record(false);
        assert!(!summary.success());
    }
}
