//! Durations as Prometheus writes them (`model.Duration`: `1h30m`, `100d`) and as Go's
//! `time.Duration.String` prints them (`1m0s`).

/// Parses a Prometheus duration into milliseconds (`not a valid duration string: "x"`).
pub fn parse_duration(s: &str) -> Result<i64, String> {
    promplay_model::parse_duration(s).map_err(|e| e.unknown_unit_as_invalid().to_string())
}

/// Go's `strconv.ParseFloat`.
pub fn parse_go_float(s: &str) -> Option<f64> {
    promplay_promql::promqltest::series::parse_float(s)
}

/// `model.Duration.String()`: `0s`, `5m`, `1d`, `1h30m`, `2w` (years and weeks only when exact).
pub use promplay_model::format_duration as format_model_duration;

/// Go's `time.Duration.String()` for a whole number of milliseconds: `0s`, `500ms`, `1.5s`,
/// `1m0s`, `2h0m0s`.
pub fn format_go_duration(ms: i64) -> String {
    format_go_duration_ns(ms as i128 * 1_000_000)
}

/// Go's `time.Duration.String()` (nanoseconds): `1.5µs`, `2.25ms`, `1h2m3.5s`.
pub fn format_go_duration_ns(ns: i128) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if ns < 0 {
        out.push('-');
    }
    let a = ns.unsigned_abs();
    let frac = |v: u128, unit: u128| -> String {
        let whole = v / unit;
        let rest = v % unit;
        if rest == 0 {
            return whole.to_string();
        }
        let digits = unit.to_string().len() - 1;
        let f = format!("{rest:0digits$}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    };
    if a < 1_000 {
        out.push_str(&format!("{a}ns"));
    } else if a < 1_000_000 {
        out.push_str(&format!("{}µs", frac(a, 1_000)));
    } else if a < 1_000_000_000 {
        out.push_str(&format!("{}ms", frac(a, 1_000_000)));
    } else {
        let h = a / 3_600_000_000_000;
        let m = (a / 60_000_000_000) % 60;
        let s = a % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&format!("{}s", frac(s, 1_000_000_000)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_durations() {
        assert_eq!(format_model_duration(0), "0s");
        assert_eq!(format_model_duration(300_000), "5m");
        assert_eq!(format_model_duration(86_400_000), "1d");
        assert_eq!(format_model_duration(5_400_000), "1h30m");
        assert_eq!(format_model_duration(14 * 86_400_000), "2w");
        assert_eq!(format_model_duration(90 * 86_400_000), "90d");
        assert_eq!(format_model_duration(179_999), "2m59s999ms");
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
    }

    #[test]
    fn go_durations() {
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(500), "500ms");
        assert_eq!(format_go_duration(1500), "1.5s");
        assert_eq!(format_go_duration(60_000), "1m0s");
        assert_eq!(format_go_duration(7_200_000), "2h0m0s");
        assert_eq!(format_go_duration(106_700 * 86_400_000), "2560800h0m0s");
        assert_eq!(format_go_duration_ns(1_500), "1.5µs");
        assert_eq!(format_go_duration_ns(2_250_000), "2.25ms");
        assert_eq!(format_go_duration_ns(3_723_500_000_000), "1h2m3.5s");
        assert_eq!(format_go_duration_ns(-90_000_000_000), "-1m30s");
    }
}
