//! Points in time as the API writes them, without a date-time library.
//!
//! The database keeps milliseconds since the Unix epoch; the API writes them
//! as RFC 3339 in UTC, the text chrono writes for a `DateTime<Utc>`
//! (`2026-01-05T03:00:00.123Z`, the fraction only when it is not zero). The
//! browser only reads and shows them, and chrono's parser and calendar cost
//! its download 15 KB: the civil-calendar arithmetic below is all either side
//! needs (the backend's tests check it against chrono's text).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time, to the millisecond.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A timestamp's calendar fields in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeParts {
    /// The proleptic Gregorian year.
    pub year: i64,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
    /// 0..=23.
    pub hour: u32,
    /// 0..=59.
    pub minute: u32,
    /// 0..=59.
    pub second: u32,
    /// 0..=999.
    pub millisecond: u32,
}

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// (year, month, day) -> days since 1970-01-01 (`days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Timestamp {
    /// From milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The calendar fields in UTC.
    pub fn parts(self) -> DateTimeParts {
        let (year, month, day) = civil_from_days(self.0.div_euclid(MS_PER_DAY));
        let ms = self.0.rem_euclid(MS_PER_DAY);
        DateTimeParts {
            year,
            month,
            day,
            hour: (ms / 3_600_000) as u32,
            minute: (ms / 60_000 % 60) as u32,
            second: (ms / 1000 % 60) as u32,
            millisecond: (ms % 1000) as u32,
        }
    }

    /// Reads RFC 3339 (`2026-01-05T03:00:00.123Z`, or with an offset such
    /// as `+02:00`); digits beyond the millisecond are dropped.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not an RFC 3339 date-time");
        let b = text.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Result<u32, String> {
            let digits = b.get(range).ok_or_else(bad)?;
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            Ok(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
        };
        let sep = |at: usize, chars: &[u8]| -> Result<(), String> {
            match b.get(at) {
                Some(c) if chars.contains(c) => Ok(()),
                _ => Err(bad()),
            }
        };
        let year = i64::from(num(0..4)?);
        sep(4, b"-")?;
        let month = num(5..7)?;
        sep(7, b"-")?;
        let day = num(8..10)?;
        sep(10, b"Tt ")?;
        let hour = num(11..13)?;
        sep(13, b":")?;
        let minute = num(14..16)?;
        sep(16, b":")?;
        let second = num(17..19)?;
        let mut at = 19;
        let mut millisecond = 0;
        if b.get(at) == Some(&b'.') {
            let start = at + 1;
            at = start;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return Err(bad());
            }
            let digits = &b[start..at.min(start + 3)];
            millisecond = digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
                * 10u32.pow(3 - digits.len() as u32);
        }
        let offset_minutes = match b.get(at) {
            Some(b'Z' | b'z') if at + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if at + 6 == b.len() => {
                sep(at + 3, b":")?;
                let (h, m) = (num(at + 1..at + 3)?, num(at + 4..at + 6)?);
                if h > 23 || m > 59 {
                    return Err(bad());
                }
                let minutes = i64::from(h * 60 + m);
                if *sign == b'-' { -minutes } else { minutes }
            }
            _ => return Err(bad()),
        };
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(bad());
        }
        let ms = days_from_civil(year, month, day) * MS_PER_DAY
            + i64::from(hour) * 3_600_000
            + i64::from(minute) * 60_000
            + i64::from(second) * 1000
            + i64::from(millisecond)
            - offset_minutes * 60_000;
        Ok(Self(ms))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, as chrono writes a `DateTime<Utc>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.parts();
        if (0..=9999).contains(&p.year) {
            write!(f, "{:04}", p.year)?;
        } else {
            write!(f, "{:+05}", p.year)?;
        }
        write!(
            f,
            "-{:02}-{:02}T{:02}:{:02}:{:02}",
            p.month, p.day, p.hour, p.minute, p.second
        )?;
        if p.millisecond != 0 {
            write!(f, ".{:03}", p.millisecond)?;
        }
        f.write_str("Z")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// In the OpenAPI document: an RFC 3339 date-time string.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 in UTC, to the millisecond"))
            .examples(["2026-01-05T03:00:00.123Z"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Timestamp;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 date-time")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00Z"),
            (1, "1970-01-01T00:00:00.001Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00Z"),
            (1_767_582_000_120, "2026-01-05T03:00:00.120Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ] {
            let t = Timestamp::from_millis(ms);
            assert_eq!(t.to_string(), text);
            assert_eq!(Timestamp::parse(text), Ok(t), "{text}");
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        }
    }

    #[test]
    fn reads_offsets_and_long_fractions() {
        let utc = Timestamp::parse("2026-01-05T03:00:00.123Z").unwrap();
        assert_eq!(
            Timestamp::parse("2026-01-05T05:30:00.123456+02:30"),
            Ok(utc)
        );
        assert_eq!(
            Timestamp::parse("2026-01-04T22:00:00.1-05:00")
                .unwrap()
                .millis(),
            utc.millis() - 23
        );
    }

    #[test]
    fn refuses_what_is_not_a_date_time() {
        for bad in [
            "",
            "2026-01-05",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-01-05T24:00:00Z",
            "2026-01-05T03:00:00",
            "2026-01-05T03:00:00.Z",
            "2026-01-05T03:00:00+2:00",
            "2026-01-05T03:00:00Zjunk",
            "２026-01-05T03:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
