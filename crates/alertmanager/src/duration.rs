//! Prometheus's duration strings (`model.Duration`): `1y2w3d4h5m6s7ms`, units in that order,
//! a year being 365 days; `0` alone is zero.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration in milliseconds, parsed from and printed as Prometheus does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

impl Duration {
    pub const fn from_secs(s: i64) -> Self {
        Duration(s * 1000)
    }

    pub fn ms(self) -> i64 {
        self.0
    }

    /// `model.ParseDuration`.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let err = || format!("not a valid duration string: {s:?}");
        if s == "0" {
            return Ok(Duration(0));
        }
        if s.is_empty() {
            return Err(err());
        }
        let b = s.as_bytes();
        let mut i = 0;
        let mut next_unit = 0usize;
        let mut total: i64 = 0;
        while i < b.len() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if start == i {
                return Err(err());
            }
            let n: i64 = s[start..i].parse().map_err(|_| err())?;
            let ustart = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &s[ustart..i];
            let pos = UNITS[next_unit..]
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(err)?;
            let (_, mult) = UNITS[next_unit + pos];
            next_unit += pos + 1;
            total = n
                .checked_mul(mult)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| "duration out of range".to_string())?;
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// `model.Duration.String()`: the largest units first, `0s` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        if ms < 0 {
            f.write_str("-")?;
            ms = -ms;
        }
        for (u, mult) in UNITS {
            if ms >= mult {
                write!(f, "{}{}", ms / mult, u)?;
                ms %= mult;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        assert_eq!(Duration::parse("30s").unwrap().0, 30_000);
        assert_eq!(Duration::parse("1h30m").unwrap().0, 5_400_000);
        assert_eq!(Duration::parse("1d").unwrap().to_string(), "1d");
        assert_eq!(Duration::parse("90m").unwrap().to_string(), "1h30m");
        assert_eq!(Duration::parse("0").unwrap().to_string(), "0s");
        assert!(Duration::parse("5m1h").is_err());
        assert!(Duration::parse("").is_err());
        assert!(Duration::parse("1.5h").is_err());
        assert_eq!(
            Duration::parse("x").unwrap_err(),
            "not a valid duration string: \"x\""
        );
    }
}
