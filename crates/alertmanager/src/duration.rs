//! Prometheus's duration strings (`model.Duration`): `1y2w3d4h5m6s7ms`, units in that order,
//! a year being 365 days; `0` alone is zero.

/// Prometheus's `model.Duration`, the same type the Prometheus configuration uses.
pub use promplay_model::Duration;

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
