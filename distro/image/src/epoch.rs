//! The date an image gives everything in it, so that two builds of the same
//! manifest are the same bytes.
//!
//! It is `SOURCE_DATE_EPOCH` when that is set (the convention of
//! <https://reproducible-builds.org/specs/source-date-epoch/>), else
//! [`Epoch::DEFAULT`], never the clock.

use std::fmt;

/// Seconds since 1970-01-01 00:00:00 UTC, the date of every file and of the
/// volume of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Epoch(u64);

/// The environment variable [`Epoch::from_env`] reads.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

impl Epoch {
    /// The date used when `SOURCE_DATE_EPOCH` is not set: 2000-01-01
    /// 00:00:00 UTC.
    pub const DEFAULT: Epoch = Epoch(946_684_800);

    /// The first second of the year 3000, which an ISO 9660 volume date
    /// (and GRUB's `--fs-uuid` made of it) cannot reach.
    pub const END: u64 = 32_503_680_000;

    /// The date `secs` seconds after 1970-01-01 00:00:00 UTC.
    ///
    /// # Errors
    ///
    /// `0`, which xorriso takes as "no date" (and would date the files
    /// with the clock), and dates from the year 3000 on.
    pub fn new(secs: u64) -> Result<Epoch, String> {
        if secs == 0 {
            return Err(
                "0 cannot date an ISO (xorriso takes it for no date); use 1 or later".into(),
            );
        }
        if secs >= Self::END {
            return Err(format!(
                "{secs} is after 2999, which an ISO 9660 volume date cannot hold"
            ));
        }
        Ok(Epoch(secs))
    }

    /// Parses a `SOURCE_DATE_EPOCH` value: decimal seconds.
    ///
    /// # Errors
    ///
    /// Anything but decimal digits, or a value [`Epoch::new`] refuses.
    pub fn parse(text: &str) -> Result<Epoch, String> {
        let t = text.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{SOURCE_DATE_EPOCH}=`{text}`: expected decimal seconds since 1970"
            ));
        }
        let secs: u64 = t
            .parse()
            .map_err(|_| format!("{SOURCE_DATE_EPOCH}=`{text}`: too large"))?;
        Epoch::new(secs).map_err(|e| format!("{SOURCE_DATE_EPOCH}={text}: {e}"))
    }

    /// `SOURCE_DATE_EPOCH` if it is set, else [`Epoch::DEFAULT`].
    ///
    /// # Errors
    ///
    /// A set but unusable value (see [`Epoch::parse`]).
    pub fn from_env() -> Result<Epoch, String> {
        match std::env::var_os(SOURCE_DATE_EPOCH) {
            None => Ok(Epoch::DEFAULT),
            Some(v) => match v.to_str() {
                Some(s) => Epoch::parse(s),
                None => Err(format!("{SOURCE_DATE_EPOCH} is not text")),
            },
        }
    }

    /// The seconds since 1970.
    pub fn secs(self) -> u64 {
        self.0
    }

    /// The date in ECMA-119's volume form, `YYYYMMDDhhmmsscc` (UTC, the
    /// hundredths zero): what `grub-mkrescue --modification-date` takes and
    /// GRUB's `search --fs-uuid` finds the volume by.
    pub fn ecma119(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}00")
    }

    /// (year, month, day, hour, minute, second) in UTC, from the count of
    /// days since 1970 in the proleptic Gregorian calendar.
    fn civil(self) -> (u64, u64, u64, u64, u64, u64) {
        let days = self.0 / 86_400;
        let rem = self.0 % 86_400;
        // Counting from 0000-03-01, so that the leap day ends a year: eras
        // of 400 years (146097 days), years of the era, days of the year.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z % 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        (year, month, day, rem / 3_600, rem % 3_600 / 60, rem % 60)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.civil();
        write!(f, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_ecma119_form() {
        assert_eq!(Epoch::DEFAULT.ecma119(), "2000010100000000");
        assert_eq!(Epoch::new(1).expect("epoch").ecma119(), "1970010100000100");
        // A leap day, and the last second before 3000.
        assert_eq!(
            Epoch::new(951_782_400).expect("epoch").ecma119(),
            "2000022900000000"
        );
        assert_eq!(
            Epoch::new(1_709_251_199).expect("epoch").ecma119(),
            "2024022923595900"
        );
        assert_eq!(
            Epoch::new(Epoch::END - 1).expect("epoch").ecma119(),
            "2999123123595900"
        );
        assert_eq!(Epoch::DEFAULT.to_string(), "2000-01-01 00:00:00 UTC");
    }

    #[test]
    fn unusable_dates_are_refused() {
        assert!(Epoch::new(0).is_err());
        assert!(Epoch::new(Epoch::END).is_err());
        assert_eq!(Epoch::parse(" 1700000000\n"), Ok(Epoch(1_700_000_000)));
        for bad in ["", "-1", "1.5", "0x10", "99999999999999999999999", "0"] {
            assert!(Epoch::parse(bad).is_err(), "{bad:?}");
        }
    }
}
