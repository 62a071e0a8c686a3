//! Prometheus's duration strings (`model.Duration`): `1y2w3d4h5m6s7ms`, units in that order,
//! a year being 365 days; `0` alone is zero.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration in milliseconds, parsed from and printed as Prometheus does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

impl Duration {
    pub const fn from_secs(s: i64) -> Self {
        Duration(s * 1000)
    }

    pub fn ms(self) -> i64 {
        self.0
    }

    /// `model.ParseDuration`; an unknown unit reads as `not a valid duration string`.
    pub fn parse(s: &str) -> Result<Duration, String> {
        promplay_model::parse_duration(s)
            .map(Duration)
            .map_err(|e| e.unknown_unit_as_invalid().to_string())
    }
}

impl fmt::Display for Duration {
    /// `model.Duration.String()`: the largest units first, `0s` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&promplay_model::format_duration(self.0))
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
