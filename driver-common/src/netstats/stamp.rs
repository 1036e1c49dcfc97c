//! Sample timestamps as numbers: the `xsd:dateTime` a server writes for a sample's end,
//! read into seconds since the epoch (UTC) and nanoseconds, so that they compare as times
//! and cost 12 bytes instead of a string each.

use std::fmt;

/// A point in time to the nanosecond (UTC). Ordered as time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    secs: i64,
    /// Nanoseconds within the second.
    nanos: u32,
}

/// The value of `text` (ASCII digits only), or `None`.
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
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
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

impl Stamp {
    /// Reads an `xsd:dateTime` (`2026-11-30T12:00:20.5Z`; a zone `Z`, `+hh:mm` or `-hh:mm`,
    /// or none, read as UTC; the fraction to the nanosecond, further digits ignored).
    /// `None` for anything else.
    pub fn parse(text: &str) -> Option<Stamp> {
        let b = text.as_bytes();
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let field = |r: std::ops::Range<usize>| text.get(r).and_then(digits);
        let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
        let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &text[19..];
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            for (k, d) in frac.bytes().take(9).take(n).enumerate() {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - k as u32);
            }
            rest = &frac[n..];
        }
        let offset = match rest {
            "" | "Z" => 0,
            zone => {
                let zb = zone.as_bytes();
                let sign = match zb.first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return None,
                };
                if zb.len() != 6 || zb[3] != b':' {
                    return None;
                }
                let (h, m) = (digits(&zone[1..3])?, digits(&zone[4..6])?);
                if h > 14 || m > 59 {
                    return None;
                }
                sign * (h * 3600 + m * 60)
            }
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
        Some(Stamp { secs, nanos })
    }
}

/// Written as an `xsd:dateTime` in UTC, the fraction without trailing zeros
/// (`2026-11-30T12:00:20.5Z`), which [`Stamp::parse`] reads back to the same value.
impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, secs) = (self.secs.div_euclid(86_400), self.secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
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
        Stamp::parse(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn reads_and_writes_utc_times() {
        let t = at("2026-11-29T21:46:10.60180256Z");
        assert_eq!(t.to_string(), "2026-11-29T21:46:10.60180256Z");
        assert_eq!(at("1970-01-01T00:00:00Z").secs, 0);
        assert_eq!(at("2000-03-01T00:00:00Z").secs, 951_868_800);
        assert_eq!(
            at("2026-01-01T00:00:20Z").to_string(),
            "2026-01-01T00:00:20Z"
        );
        assert_eq!(at("2026-01-01T01:00:20+01:00"), at("2026-01-01T00:00:20Z"));
        assert_eq!(at("2025-12-31T23:30:20-00:30"), at("2026-01-01T00:00:20"));
        assert_eq!(at("2026-01-01T00:00:20.1234567891Z").nanos, 123_456_789);
        for bad in [
            "",
            "garbage",
            "2026-13-01T00:00:20Z",
            "2026-01-01 00:00:20Z",
            "2026-01-01T00:00:20.Z",
            "2026-01-01T00:00:20+1:00",
            "+026-01-01T00:00:20Z",
            "2026-01-01T00:00:20Zjunk",
        ] {
            assert_eq!(Stamp::parse(bad), None, "{bad}");
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
    }

    #[test]
    fn every_day_round_trips() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
