//! Virtual-clock time as people read it: UTC date-times and Prometheus durations.
//!
//! Plain Rust (no browser, no wall clock): the app and its native tests share it. The
//! calendar and duration arithmetic are `promplay_model`'s, shared with the engine.

use promplay_model::civil;

/// Formats a Unix time in milliseconds as `YYYY-MM-DD HH:MM:SS` UTC (proleptic Gregorian).
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let c = civil::civil_from_ms(days * 86_400_000);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year,
        c.month,
        c.day,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// `HH:MM` of a Unix time in milliseconds, UTC (graph axis labels).
pub fn format_hm(ms: i64) -> String {
    let sod = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}", sod / 3600, (sod / 60) % 60)
}

/// Parses `YYYY-MM-DD HH:MM[:SS]` (a `T` may replace the space, a trailing `Z` is allowed) as
/// UTC, or a plain number of Unix seconds (fraction allowed). Returns milliseconds.
pub fn parse_utc(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && secs.abs() < 1e13 {
            return Ok((secs * 1000.0).round() as i64);
        }
    }
    let bad =
        || format!("cannot parse {s:?} as a time: want YYYY-MM-DD HH:MM:SS (UTC) or Unix seconds");
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = s.split_once([' ', 'T']).ok_or_else(bad)?;
    let dp: Vec<&str> = date.split('-').collect();
    let tp: Vec<&str> = time.split(':').collect();
    if dp.len() != 3 || !(2..=3).contains(&tp.len()) {
        return Err(bad());
    }
    let num = |p: &str, max: i64| -> Result<i64, String> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 4 {
            return Err(bad());
        }
        let v: i64 = p.parse().map_err(|_| bad())?;
        if v > max {
            return Err(bad());
        }
        Ok(v)
    };
    let (y, mo, d) = (num(dp[0], 9999)?, num(dp[1], 12)?, num(dp[2], 31)?);
    let (h, mi) = (num(tp[0], 23)?, num(tp[1], 59)?);
    let sec = if tp.len() == 3 { num(tp[2], 59)? } else { 0 };
    if mo == 0 || d == 0 || d > i64::from(civil::days_in_month(y, mo as u32)) {
        return Err(bad());
    }
    let days = civil::days_from_civil(y, mo, d);
    Ok(((days * 86_400) + h * 3600 + mi * 60 + sec) * 1000)
}

/// Parses a Prometheus duration (`model.ParseDuration`): units `y w d h m s ms`, each at most
/// once, largest first, e.g. `1h30m`, `5m`, `250ms`. Returns milliseconds; `0` is allowed.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    promplay_model::duration::parse_duration(s).map_err(|e| e.to_string())
}

/// Formats milliseconds as Prometheus prints a duration (`1h30m`, `15s`, `0s`).
pub fn format_duration(ms: i64) -> String {
    promplay_model::duration::format_duration(ms)
}

/// A measured duration in seconds as the pages show it (`0.0123` → `12.300ms`, `2.5` →
/// `2.500s`, `0s` for nothing measured): scrape durations on Targets, evaluation times on Rules.
pub fn format_seconds(s: f64) -> String {
    if !s.is_finite() || s <= 0.0 {
        "0s".to_string()
    } else if s < 1.0 {
        format!("{:.3}ms", s * 1000.0)
    } else {
        format!("{s:.3}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_767_225_600_000), "2026-01-01 00:00:00");
        assert_eq!(
            format_utc(951_782_400_000 + 3_723_000),
            "2000-02-29 01:02:03"
        );
        assert_eq!(format_utc(-1000), "1969-12-31 23:59:59");
        assert_eq!(format_hm(1_767_225_600_000 + 90 * 60_000), "01:30");
    }

    #[test]
    fn parse_utc_round_trips_and_rejects_garbage() {
        for ms in [0, 1_767_225_600_000, 951_782_400_000 + 3_723_000] {
            assert_eq!(parse_utc(&format_utc(ms)), Ok(ms));
        }
        assert_eq!(parse_utc("2026-01-01T00:10Z"), Ok(1_767_226_200_000));
        assert_eq!(parse_utc("1767225600"), Ok(1_767_225_600_000));
        assert_eq!(parse_utc("1767225600.5"), Ok(1_767_225_600_500));
        for bad in [
            "",
            "yesterday",
            "2026-02-30 00:00",
            "2026-13-01 00:00",
            "2026-01-01 24:00",
        ] {
            assert!(parse_utc(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn durations_as_prometheus_parses_them() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert_eq!(parse_duration("1d"), Ok(86_400_000));
        assert_eq!(parse_duration("0"), Ok(0));
        for bad in [
            "",
            "h",
            "1",
            "5x",
            "30m1h",
            "1m1m",
            "-5m",
            "99999999999999999999y",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(15_000), "15s");
        assert_eq!(format_duration(0), "0s");
    }
}
