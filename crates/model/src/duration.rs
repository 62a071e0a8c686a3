//! Prometheus's duration strings (prometheus/common `model.ParseDuration` and
//! `model.Duration.String`): `1y2w3d4h5m6s7ms`, units in that order and each at most once,
//! a year being 365 days; `0` alone is zero. Durations are carried as milliseconds.

use std::fmt;

const MS_PER_SECOND: i64 = 1000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;
const MS_PER_WEEK: i64 = 7 * MS_PER_DAY;
const MS_PER_YEAR: i64 = 365 * MS_PER_DAY;

/// The units, largest first, with their size in milliseconds.
const UNITS: [(&str, i64); 7] = [
    ("y", MS_PER_YEAR),
    ("w", MS_PER_WEEK),
    ("d", MS_PER_DAY),
    ("h", MS_PER_HOUR),
    ("m", MS_PER_MINUTE),
    ("s", MS_PER_SECOND),
    ("ms", 1),
];

/// The largest duration upstream accepts: it keeps nanoseconds in an `int64`, so at most
/// 2^63 ns (about 292 years), here in whole milliseconds.
pub const MAX_DURATION_MS: i64 = ((1u64 << 63) / 1_000_000) as i64;

/// Why `model.ParseDuration` rejected a string; `Display` gives upstream's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DurationError {
    /// `empty duration string`
    Empty,
    /// `not a valid duration string: "1m1h"`
    Invalid(String),
    /// `unknown unit "hs" in duration "5y1hs"`
    UnknownUnit { unit: String, input: String },
    /// `duration out of range`
    OutOfRange,
}

impl DurationError {
    /// The older prometheus/common wording, where a string with an unknown unit was simply
    /// `not a valid duration string: "1x"` (the config loaders keep it).
    pub fn unknown_unit_as_invalid(self) -> DurationError {
        match self {
            DurationError::UnknownUnit { input, .. } => DurationError::Invalid(input),
            other => other,
        }
    }
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => f.write_str("empty duration string"),
            DurationError::Invalid(s) => write!(f, "not a valid duration string: {s:?}"),
            DurationError::UnknownUnit { unit, input } => {
                write!(f, "unknown unit {unit:?} in duration {input:?}")
            }
            DurationError::OutOfRange => f.write_str("duration out of range"),
        }
    }
}

impl std::error::Error for DurationError {}

/// `model.ParseDuration`: `[0-9]+` + unit pairs, units `y w d h m s ms` in this order, each at
/// most once, or `0` alone. Returns milliseconds (never negative).
pub fn parse_duration(s: &str) -> Result<i64, DurationError> {
    match s {
        "0" => return Ok(0),
        "" => return Err(DurationError::Empty),
        _ => {}
    }
    let invalid = || DurationError::Invalid(s.to_string());
    let b = s.as_bytes();
    let mut i = 0;
    // Index into UNITS of the next unit allowed.
    let mut next_unit = 0;
    let mut total: i64 = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            return Err(invalid());
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let v: u64 = s[start..i].parse().map_err(|_| invalid())?;
        let ustart = i;
        while i < b.len() && !b[i].is_ascii_digit() {
            i += 1;
        }
        if i == ustart {
            return Err(invalid());
        }
        let u = &s[ustart..i];
        let Some(idx) = UNITS.iter().position(|(name, _)| *name == u) else {
            return Err(DurationError::UnknownUnit {
                unit: u.to_string(),
                input: s.to_string(),
            });
        };
        if idx < next_unit {
            return Err(invalid());
        }
        next_unit = idx + 1;
        let mult = UNITS[idx].1;
        if v > (MAX_DURATION_MS / mult) as u64 {
            return Err(DurationError::OutOfRange);
        }
        // v * mult <= MAX_DURATION_MS and total <= MAX_DURATION_MS: no i64 overflow.
        total += v as i64 * mult;
        if total > MAX_DURATION_MS {
            return Err(DurationError::OutOfRange);
        }
    }
    Ok(total)
}

/// `model.Duration.String()` for a millisecond count: the largest units first, years and
/// weeks only when exact (`90d`, not `12w6d`), `0s` for zero, and a leading `-` for a
/// negative count.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (i, (name, mult)) in UNITS.into_iter().enumerate() {
        let mult = mult as u64;
        // y and w only when they divide the whole remainder.
        if i < 2 && !rest.is_multiple_of(mult) {
            continue;
        }
        let v = rest / mult;
        if v > 0 {
            out.push_str(&v.to_string());
            out.push_str(name);
            rest -= v * mult;
        }
    }
    out
}

/// A non-negative duration in milliseconds, written and read as Prometheus does
/// (`model.Duration`): the `scrape_interval`, `for`, `group_wait` … of every configuration
/// file. In YAML any scalar is read as its text (`10` and `"10"` both give
/// `not a valid duration string: "10"`), and a parse error carries the scalar's line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_millis(ms: i64) -> Self {
        Duration(ms)
    }
    pub const fn from_secs(s: i64) -> Self {
        Duration(s * 1000)
    }
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `model.ParseDuration`; an unknown unit reads as `not a valid duration string`.
    pub fn parse(s: &str) -> Result<Duration, String> {
        parse_duration(s)
            .map(Duration)
            .map_err(|e| e.unknown_unit_as_invalid().to_string())
    }
}

impl fmt::Display for Duration {
    /// `model.Duration.String()`: years and weeks only when exact, then d h m s ms.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl std::str::FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl serde::de::Visitor<'_> for ScalarVisitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration")
            }
            // Parsing inside the visitor lets the YAML deserializer attach the scalar's line.
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Duration, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(ScalarVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_model_parse_duration() {
        for (text, ms) in [
            ("0", 0),
            ("0s", 0),
            ("1h30m", 5_400_000),
            ("5m1ms", 300_001),
            ("1y", MS_PER_YEAR),
            ("2w", 2 * MS_PER_WEEK),
            (
                "1y2w3d4h5m6s7ms",
                MS_PER_YEAR + 2 * MS_PER_WEEK + 3 * MS_PER_DAY + 14_706_007,
            ),
            ("292y", 292 * MS_PER_YEAR),
        ] {
            assert_eq!(parse_duration(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn rejects_with_upstream_messages() {
        for (text, msg) in [
            ("", "empty duration string"),
            ("x", r#"not a valid duration string: "x""#),
            ("1m1h", r#"not a valid duration string: "1m1h""#),
            ("1m1m", r#"not a valid duration string: "1m1m""#),
            ("-1s", r#"not a valid duration string: "-1s""#),
            ("5", r#"not a valid duration string: "5""#),
            ("1.5m", r#"unknown unit "." in duration "1.5m""#),
            ("5y1hs", r#"unknown unit "hs" in duration "5y1hs""#),
            ("300y", "duration out of range"),
            (
                "99999999999999999999y",
                r#"not a valid duration string: "99999999999999999999y""#,
            ),
            ("106751d23h47m16s855ms", "duration out of range"),
        ] {
            assert_eq!(parse_duration(text).unwrap_err().to_string(), msg, "{text}");
        }
        assert_eq!(parse_duration("106751d23h47m16s854ms"), Ok(MAX_DURATION_MS));
        assert_eq!(
            parse_duration("1x")
                .unwrap_err()
                .unknown_unit_as_invalid()
                .to_string(),
            r#"not a valid duration string: "1x""#
        );
    }

    #[test]
    fn formats_like_model_duration_string() {
        for (ms, text) in [
            (0, "0s"),
            (300_000, "5m"),
            (5_400_000, "1h30m"),
            (MS_PER_DAY, "1d"),
            (14 * MS_PER_DAY, "2w"),
            (13 * MS_PER_DAY, "13d"),
            (90 * MS_PER_DAY, "90d"),
            (MS_PER_YEAR, "1y"),
            (179_999, "2m59s999ms"),
            (90_061_001, "1d1h1m1s1ms"),
            (-300_000, "-5m"),
            (i64::MIN, "-106751991167d7h12m55s808ms"),
        ] {
            assert_eq!(format_duration(ms), text, "{ms}");
        }
        for text in ["1h30m", "2w", "90d", "1y", "1d1h1m1s1ms"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}
