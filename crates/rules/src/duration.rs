//! Durations as Prometheus writes them (`model.Duration`: `1h30m`, `100d`) and as Go's
//! `time.Duration.String` prints them (`1m0s`).

/// Parses a Prometheus duration into milliseconds (`not a valid duration string: "x"`).
pub fn parse_duration(s: &str) -> Result<i64, String> {
    promplay_promql::promqltest::series::parse_duration(s)
}

/// Go's `strconv.ParseFloat`.
pub fn parse_go_float(s: &str) -> Option<f64> {
    promplay_promql::promqltest::series::parse_float(s)
}

/// `model.Duration.String()`: `0s`, `5m`, `1d`, `1h30m`, `2w` (years and weeks only when exact).
pub fn format_model_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut ms = ms;
    if ms < 0 {
        out.push('-');
        ms = -ms;
    }
    let units: [(&str, i64, bool); 7] = [
        ("y", 365 * 86_400_000, true),
        ("w", 7 * 86_400_000, true),
        ("d", 86_400_000, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    for (u, mult, exact) in units {
        if exact && ms % mult != 0 {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            out.push_str(&format!("{v}{u}"));
            ms -= v * mult;
        }
    }
    out
}

/// Go's `time.Duration.String()` for a whole number of milliseconds: `0s`, `500ms`, `1.5s`,
/// `1m0s`, `2h0m0s`.
pub fn format_go_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let neg = ms < 0;
    let a = ms.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if a < 1000 {
        out.push_str(&format!("{a}ms"));
        return out;
    }
    let h = a / 3_600_000;
    let m = (a / 60_000) % 60;
    let s = (a / 1000) % 60;
    let frac = a % 1000;
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&s.to_string());
    if frac > 0 {
        let f = format!("{frac:03}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('s');
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
    }
}
