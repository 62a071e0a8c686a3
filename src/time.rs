//! Virtual-clock time as people read it: UTC date-times and Prometheus durations.
//!
//! Plain Rust (no browser, no wall clock): the app and its native tests share it.

/// Formats a Unix time in milliseconds as `YYYY-MM-DD HH:MM:SS` UTC (proleptic Gregorian).
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
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
    if mo == 0 || d == 0 || d > days_in_month(y, mo) {
        return Err(bad());
    }
    let days = days_from_civil(y, mo, d);
    Ok(((days * 86_400) + h * 3600 + mi * 60 + sec) * 1000)
}

/// Parses a Prometheus duration (`model.ParseDuration`): units `y w d h m s ms`, each at most
/// once, largest first, e.g. `1h30m`, `5m`, `250ms`. Returns milliseconds; `0` is allowed.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    let bad = || format!("not a valid duration string: {s:?}");
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut last_unit = None::<usize>;
    let mut total: i64 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        let n: i64 = s[start..i].parse().map_err(|_| bad())?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ustart..i];
        let idx = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(bad)?;
        if last_unit.is_some_and(|l| idx <= l) {
            return Err(bad());
        }
        last_unit = Some(idx);
        total = n
            .checked_mul(UNITS[idx].1)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

/// Formats milliseconds as the shortest Prometheus duration (`1h30m`, `15s`, `0s`).
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = ms.unsigned_abs();
    if ms < 0 {
        out.push('-');
    }
    for (u, n) in [
        ("y", 365 * 86_400_000u64),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if rest >= n {
            out.push_str(&format!("{}{u}", rest / n));
            rest %= n;
        }
    }
    out
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's algorithms (days since 1970-01-01 <-> civil date).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
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
