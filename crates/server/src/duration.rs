//! Prometheus's duration syntax (`model.Duration`): `1y2w3d4h5m6s7ms`, and byte sizes
//! (`units.Base2Bytes`): `512MB`, `1GiB`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Prometheus's `model.Duration` (shared with the Alertmanager's configuration).
pub use promplay_model::Duration;

/// A size in bytes written as `units.Base2Bytes` (`KB`, `KiB` = 1024 …); 0 means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub fn parse(s: &str) -> Result<ByteSize, String> {
        let t = s.trim();
        if t == "0" {
            return Ok(ByteSize(0));
        }
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let mult: u64 = match unit {
            "B" => 1,
            "KB" | "KiB" => 1 << 10,
            "MB" | "MiB" => 1 << 20,
            "GB" | "GiB" => 1 << 30,
            "TB" | "TiB" => 1 << 40,
            "PB" | "PiB" => 1 << 50,
            "EB" | "EiB" => 1 << 60,
            _ => return Err(format!("units: unknown unit {unit} in {s}")),
        };
        let n: f64 = num
            .parse()
            .map_err(|_| format!("units: invalid number in {s}"))?;
        let v = n * mult as f64;
        if !v.is_finite() || v < 0.0 || v > u64::MAX as f64 {
            return Err(format!("units: value out of range in {s}"));
        }
        Ok(ByteSize(v as u64))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [
            ("EiB", 1u64 << 60),
            ("PiB", 1 << 50),
            ("TiB", 1 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
        ];
        if self.0 == 0 {
            return f.write_str("0B");
        }
        for (name, m) in units {
            if self.0.is_multiple_of(m) {
                return write!(f, "{}{name}", self.0 / m);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ParseVisitor(ByteSize::parse))
    }
}

/// Reads a scalar's text and parses it inside the visitor, so the YAML deserializer attaches
/// the scalar's own line to a parse error.
pub(crate) struct ParseVisitor<F>(pub F);

impl<T, F: FnOnce(&str) -> Result<T, String>> serde::de::Visitor<'_> for ParseVisitor<F> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
        (self.0)(&v.to_string()).map_err(E::custom)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
        (self.0)(&v.to_string()).map_err(E::custom)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
        (self.0)(&v.to_string()).map_err(E::custom)
    }
}

/// Any YAML scalar read as its text (YAML `10` and `"10"` both give "10").
pub(crate) struct ScalarString(pub String);

impl<'de> Deserialize<'de> for ScalarString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ScalarString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ScalarString, E> {
                Ok(ScalarString(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ScalarString, E> {
                Ok(ScalarString(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ScalarString, E> {
                Ok(ScalarString(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ScalarString, E> {
                Ok(ScalarString(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ScalarString, E> {
                Ok(ScalarString(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS_PER_MINUTE: i64 = 60_000;
    const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
    const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;
    const MS_PER_WEEK: i64 = 7 * MS_PER_DAY;
    const MS_PER_YEAR: i64 = 365 * MS_PER_DAY;

    #[test]
    fn parses_and_prints_like_model_duration() {
        for (text, ms, printed) in [
            ("1m30s", 90_000, "1m30s"),
            ("90s", 90_000, "1m30s"),
            ("0", 0, "0s"),
            ("0s", 0, "0s"),
            ("1y", MS_PER_YEAR, "1y"),
            ("2w", 2 * MS_PER_WEEK, "2w"),
            ("13d", 13 * MS_PER_DAY, "13d"),
            ("14d", 2 * MS_PER_WEEK, "2w"),
            ("500ms", 500, "500ms"),
            ("1h1ms", MS_PER_HOUR + 1, "1h1ms"),
        ] {
            let d = Duration::parse(text).unwrap();
            assert_eq!(d.0, ms, "{text}");
            assert_eq!(d.to_string(), printed, "{text}");
        }
    }

    #[test]
    fn rejects_what_prometheus_rejects() {
        assert_eq!(
            Duration::parse("1x").unwrap_err(),
            r#"not a valid duration string: "1x""#
        );
        assert!(Duration::parse("1s1m").is_err(), "units out of order");
        assert!(Duration::parse("1m1m").is_err(), "unit repeated");
        assert!(Duration::parse("-1s").is_err());
        assert!(Duration::parse("1.5s").is_err());
        assert_eq!(Duration::parse("").unwrap_err(), "empty duration string");
        assert!(Duration::parse("99999999999999999999y").is_err());
    }

    #[test]
    fn byte_sizes_are_base2() {
        assert_eq!(ByteSize::parse("1KB").unwrap().0, 1024);
        assert_eq!(ByteSize::parse("10MiB").unwrap().0, 10 << 20);
        // As alecthomas/units: a number needs a unit, except 0.
        assert_eq!(
            ByteSize::parse("100").unwrap_err(),
            "units: unknown unit  in 100"
        );
        assert_eq!(ByteSize::parse("0").unwrap().0, 0);
        assert!(ByteSize::parse("10XB").is_err());
        assert_eq!(ByteSize(10 << 20).to_string(), "10MiB");
    }
}
