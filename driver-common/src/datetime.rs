//! `xsd:dateTime` as the drivers read and write it: [`Stamp`], a point in time (UTC) to the
//! nanosecond, read from the text a server sends ([`Stamp::parse`], zone offsets and
//! fractions included) and written back in UTC (its `Display`), and [`Civil`], the same time
//! broken down into a calendar date and a time of day (the CONTEXT ISO's dates, say).
//!
//! Dates are those of the proleptic Gregorian calendar, converted with Howard Hinnant's
//! days-from-civil algorithms (exact for every day of years 0000–9999 and far beyond). No
//! time crate: the drivers need no zone database, only UTC and numeric offsets.

use std::fmt;

/// A point in time to the nanosecond (UTC). Ordered as time; 12 bytes where the text is
/// about 30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    secs: i64,
    /// Nanoseconds within the second (below 1,000,000,000).
    nanos: u32,
}

/// A [`Stamp`] broken down in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// The year (proleptic Gregorian; 0 is 1 BC).
    pub year: i64,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
}

/// Why a text is not an `xsd:dateTime` [`Stamp::parse`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTimeError {
    /// Not of the form `YYYY-MM-DDThh:mm:ss` (four-digit year, two digits for the others).
    Shape,
    /// A month, day, hour, minute or second out of range (February 30th, hour 24, ...).
    Range,
    /// A `.` not followed by a digit.
    Fraction,
    /// Something after the time that is neither `Z` nor a `+hh:mm`/`-hh:mm` offset of at
    /// most 14 hours.
    Zone,
}

impl fmt::Display for DateTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateTimeError::Shape => "not an xsd:dateTime (YYYY-MM-DDThh:mm:ss)",
            DateTimeError::Range => "a date or time field out of range",
            DateTimeError::Fraction => "a fraction of a second without digits",
            DateTimeError::Zone => "not a time zone (Z, +hh:mm or -hh:mm up to 14:00)",
        })
    }
}

impl std::error::Error for DateTimeError {}

/// The value of `text` (ASCII digits only), or `None`.
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Whether `year` has a February 29th.
fn leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1–12) of `year`.
fn month_days(year: i64, month: i64) -> i64 {
    match month {
        2 if leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of the `days`th day after 1970-01-01: (year, month, day).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    // Both in range by construction (1..=31, 1..=12).
    (
        yoe + era * 400 + i64::from(month <= 2),
        month as u8,
        day as u8,
    )
}

/// Seconds east of UTC of a zone designator (`""` and `Z` are UTC).
fn zone_offset(zone: &str) -> Result<i64, DateTimeError> {
    if zone.is_empty() || zone == "Z" {
        return Ok(0);
    }
    let zb = zone.as_bytes();
    let sign = match zb.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(DateTimeError::Zone),
    };
    if zb.len() != 6 || zb[3] != b':' {
        return Err(DateTimeError::Zone);
    }
    let field = |r: std::ops::Range<usize>| zone.get(r).and_then(digits);
    let (Some(h), Some(m)) = (field(1..3), field(4..6)) else {
        return Err(DateTimeError::Zone);
    };
    if m > 59 || h * 60 + m > 14 * 60 {
        return Err(DateTimeError::Zone);
    }
    Ok(sign * (h * 3600 + m * 60))
}

impl Stamp {
    /// The time `secs` seconds and `nanos` nanoseconds after 1970-01-01T00:00:00Z (nanoseconds
    /// past a second carry into the seconds).
    pub fn from_unix(secs: i64, nanos: u32) -> Stamp {
        Stamp {
            secs: secs.saturating_add(i64::from(nanos / 1_000_000_000)),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Now, from the system clock (the epoch itself if the clock is set before it).
    pub fn now() -> Stamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Stamp::from_unix(
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            since.subsec_nanos(),
        )
    }

    /// Seconds since 1970-01-01T00:00:00Z (negative before it).
    pub fn unix_secs(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// The date and time of day in UTC.
    pub fn civil(&self) -> Civil {
        let (days, secs) = (self.secs.div_euclid(86_400), self.secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        // `secs` is in 0..86_400: every part fits a byte.
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
        }
    }

    /// Reads an `xsd:dateTime`: `YYYY-MM-DDThh:mm:ss`, then an optional fraction of a second
    /// (read to the nanosecond, further digits ignored), then an optional zone (`Z`,
    /// `+hh:mm` or `-hh:mm`, at most 14 hours; none is read as UTC). The date must exist
    /// (February 29th only in a leap year); a second of 60 (a leap second) is taken as the
    /// first second of the next minute. Years are four digits (0000–9999): a signed or
    /// longer year, and `24:00:00`, are refused. Any text gives a value or an error, never
    /// a panic.
    pub fn parse(text: &str) -> Result<Stamp, DateTimeError> {
        let b = text.as_bytes();
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return Err(DateTimeError::Shape);
        }
        if b[13] != b':' || b[16] != b':' {
            return Err(DateTimeError::Shape);
        }
        let field = |r: std::ops::Range<usize>| text.get(r).and_then(digits);
        let (Some(year), Some(month), Some(day)) = (field(0..4), field(5..7), field(8..10)) else {
            return Err(DateTimeError::Shape);
        };
        let (Some(hour), Some(minute), Some(second)) =
            (field(11..13), field(14..16), field(17..19))
        else {
            return Err(DateTimeError::Shape);
        };
        if !(1..=12).contains(&month) || !(1..=month_days(year, month)).contains(&day) {
            return Err(DateTimeError::Range);
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(DateTimeError::Range);
        }
        // Bytes 17 and 18 are ASCII digits: 19 is a character boundary.
        let mut rest = &text[19..];
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return Err(DateTimeError::Fraction);
            }
            for (k, d) in frac.bytes().take(n.min(9)).enumerate() {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - k as u32);
            }
            rest = &frac[n..];
        }
        let offset = zone_offset(rest)?;
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
        Ok(Stamp { secs, nanos })
    }
}

/// Written as an `xsd:dateTime` in UTC, the fraction without trailing zeros
/// (`2026-11-30T12:00:20.5Z`), which [`Stamp::parse`] reads back to the same value (for
/// years 0000–9999, the ones it reads).
impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )?;
        if self.nanos > 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Stamp {
        Stamp::parse(text).unwrap_or_else(|e| panic!("{text} should parse: {e}"))
    }

    #[test]
    fn reads_and_writes_utc_times() {
        let t = at("2026-11-29T21:46:10.60180256Z");
        assert_eq!(t.to_string(), "2026-11-29T21:46:10.60180256Z");
        assert_eq!(at("1970-01-01T00:00:00Z").unix_secs(), 0);
        assert_eq!(at("2000-03-01T00:00:00Z").unix_secs(), 951_868_800);
        assert_eq!(at("1969-12-31T23:59:59Z").unix_secs(), -1);
        assert_eq!(
            at("2026-01-01T00:00:20Z").to_string(),
            "2026-01-01T00:00:20Z"
        );
        // No zone: UTC.
        assert_eq!(at("2026-01-01T00:00:20"), at("2026-01-01T00:00:20Z"));
        assert_eq!(
            at("0000-01-01T00:00:00Z").to_string(),
            "0000-01-01T00:00:00Z"
        );
        assert_eq!(
            at("9999-12-31T23:59:59Z").to_string(),
            "9999-12-31T23:59:59Z"
        );
    }

    #[test]
    fn zone_offsets_move_the_time_to_utc() {
        assert_eq!(at("2026-01-01T01:00:20+01:00"), at("2026-01-01T00:00:20Z"));
        assert_eq!(at("2025-12-31T23:30:20-00:30"), at("2026-01-01T00:00:20"));
        assert_eq!(at("2026-01-01T00:00:20+00:00"), at("2026-01-01T00:00:20Z"));
        assert_eq!(at("2026-01-01T00:00:20-00:00"), at("2026-01-01T00:00:20Z"));
        // Across a day, a month and a year.
        assert_eq!(
            at("2026-03-01T05:45:00+14:00").to_string(),
            "2026-02-28T15:45:00Z"
        );
        assert_eq!(
            at("2026-12-31T20:00:00.25-14:00").to_string(),
            "2027-01-01T10:00:00.25Z"
        );
        assert_eq!(at("2026-01-01T00:00:00-05:30").civil().hour, 5);
    }

    #[test]
    fn fractions_to_the_nanosecond() {
        assert_eq!(
            at("2026-01-01T00:00:20.1234567891Z").subsec_nanos(),
            123_456_789
        );
        assert_eq!(at("2026-01-01T00:00:20.5Z").subsec_nanos(), 500_000_000);
        assert_eq!(at("2026-01-01T00:00:20.000000001Z").subsec_nanos(), 1);
        assert_eq!(at("2026-01-01T00:00:20.0Z"), at("2026-01-01T00:00:20Z"));
        assert_eq!(
            at("2026-01-01T00:00:20.5+01:00").subsec_nanos(),
            500_000_000
        );
        assert_eq!(
            at("2026-01-01T00:00:20.500Z").to_string(),
            "2026-01-01T00:00:20.5Z"
        );
        // Digits beyond the nanosecond, however many, are ignored.
        let long = format!("2026-01-01T00:00:20.{}Z", "9".repeat(400));
        assert_eq!(at(&long).subsec_nanos(), 999_999_999);
    }

    #[test]
    fn leap_days_and_leap_seconds() {
        assert_eq!(at("2024-02-29T12:00:00Z").civil().day, 29);
        assert_eq!(at("2000-02-29T00:00:00Z").civil().month, 2);
        assert_eq!(
            at("2024-02-28T23:59:59Z").unix_secs() + 1,
            at("2024-02-29T00:00:00Z").unix_secs()
        );
        assert_eq!(
            at("2024-02-29T23:59:59Z").unix_secs() + 1,
            at("2024-03-01T00:00:00Z").unix_secs()
        );
        for no_such_day in [
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-00T00:00:00Z",
        ] {
            assert_eq!(Stamp::parse(no_such_day), Err(DateTimeError::Range));
        }
        assert_eq!(at("2016-12-31T23:59:60Z"), at("2017-01-01T00:00:00Z"));
    }

    #[test]
    fn bad_input_is_an_error() {
        for (bad, why) in [
            ("", DateTimeError::Shape),
            ("garbage", DateTimeError::Shape),
            ("2026-01-01 00:00:20Z", DateTimeError::Shape),
            ("+026-01-01T00:00:20Z", DateTimeError::Shape),
            ("12026-01-01T00:00:20Z", DateTimeError::Shape),
            ("2026-1-01T00:00:20Z", DateTimeError::Shape),
            ("2026-01-01T00:00", DateTimeError::Shape),
            ("2026-01-01T0é:00:20Z", DateTimeError::Shape),
            ("2026-01-01T00:00:2é", DateTimeError::Shape),
            ("２０２６-01-01T00:00:20Z", DateTimeError::Shape),
            ("2026-13-01T00:00:20Z", DateTimeError::Range),
            ("2026-00-01T00:00:20Z", DateTimeError::Range),
            ("2026-01-01T24:00:00Z", DateTimeError::Range),
            ("2026-01-01T00:60:00Z", DateTimeError::Range),
            ("2026-01-01T00:00:61Z", DateTimeError::Range),
            ("2026-01-01T00:00:20.Z", DateTimeError::Fraction),
            ("2026-01-01T00:00:20.", DateTimeError::Fraction),
            ("2026-01-01T00:00:20+1:00", DateTimeError::Zone),
            ("2026-01-01T00:00:20+01:60", DateTimeError::Zone),
            ("2026-01-01T00:00:20+14:01", DateTimeError::Zone),
            ("2026-01-01T00:00:20+0100", DateTimeError::Zone),
            ("2026-01-01T00:00:20+01:0é", DateTimeError::Zone),
            ("2026-01-01T00:00:20Zjunk", DateTimeError::Zone),
            ("2026-01-01T00:00:20z", DateTimeError::Zone),
            ("2026-01-01T00:00:20.5 ", DateTimeError::Zone),
        ] {
            assert_eq!(Stamp::parse(bad), Err(why), "{bad}");
        }
        // Every prefix of a good value, with any byte after it: a value or an error.
        let good = "2026-11-29T21:46:10.601+05:30";
        for cut in 0..=good.len() {
            for tail in ["", "x", "é", "\u{0}", "9", ":", "-", "+99:99"] {
                let _ = Stamp::parse(&format!("{}{tail}", &good[..cut]));
            }
        }
    }

    #[test]
    fn compare_as_times() {
        assert!(at("2026-11-29T21:46:10.6Z") > at("2026-11-29T21:46:10.59Z"));
        assert_eq!(
            at("2026-11-29T21:46:10.60180256Z"),
            at("2026-11-29T21:46:10.601802560Z")
        );
        assert!(at("2026-11-29T21:46:10Z") < at("2026-11-29T21:46:20Z"));
        assert!(at("2027-01-01T00:00:00Z") > at("2026-12-31T23:59:59.999Z"));
        assert!(at("2026-01-01T00:30:00+01:00") < at("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn from_unix_and_civil() {
        assert_eq!(Stamp::from_unix(0, 0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Stamp::from_unix(5, 1_500_000_000),
            Stamp::from_unix(6, 500_000_000)
        );
        assert_eq!(
            Stamp::from_unix(-1, 0).civil(),
            Civil {
                year: 1969,
                month: 12,
                day: 31,
                hour: 23,
                minute: 59,
                second: 59
            }
        );
        let t = at("2026-11-30T16:09:21.25-02:00");
        assert_eq!(
            t.civil(),
            Civil {
                year: 2026,
                month: 11,
                day: 30,
                hour: 18,
                minute: 9,
                second: 21
            }
        );
        assert_eq!(Stamp::from_unix(t.unix_secs(), t.subsec_nanos()), t);
        assert!(Stamp::now() > at("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn every_day_round_trips() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
            assert!(i64::from(d) <= month_days(y, i64::from(m)));
        }
        // Every day of a leap and a common year, through the text.
        for (year, len) in [(2024, 366), (2026, 365)] {
            let first = at(&format!("{year}-01-01T00:00:00Z")).unix_secs();
            for k in 0..len {
                let s = Stamp::from_unix(first + k * 86_400, 0);
                assert_eq!(at(&s.to_string()), s);
                assert_eq!(s.civil().year, year);
            }
        }
    }
}
