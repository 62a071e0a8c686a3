//! The calendar functions (`year`, `month`, `day_of_month`, …), in UTC.

use super::{sample, FnCall};
use crate::error::EvalError;
use crate::value::Vector;
use promplay_model::Labels;

/// A UTC calendar date and time of day.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    /// 0 = Sunday.
    weekday: i64,
    /// 1-based.
    yday: i64,
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap(year) {
                29
            } else {
                28
            }
        }
    }
}

/// Howard Hinnant's days-to-civil algorithm on Unix seconds.
fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let mut y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    if m <= 2 {
        y += 1;
    }
    let mut yday = d;
    for mm in 1..m {
        yday += days_in(y, mm);
    }
    Civil {
        year: y,
        month: m,
        day: d,
        hour: rem / 3600,
        minute: (rem % 3600) / 60,
        weekday: (days + 4).rem_euclid(7),
        yday,
    }
}

/// Go's `int64(f)` for the seconds of a sample value (out of range and NaN give MinInt64 on
/// amd64); clamped so the calendar arithmetic cannot overflow.
fn to_secs(f: f64) -> i64 {
    const LIM: i64 = 1 << 50;
    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        return -LIM;
    }
    (f as i64).clamp(-LIM, LIM)
}

pub(super) fn call(c: &FnCall) -> Result<Option<Vector>, EvalError> {
    let f: fn(&Civil) -> f64 = match c.name {
        "year" => |t| t.year as f64,
        "month" => |t| t.month as f64,
        "day_of_month" => |t| t.day as f64,
        "day_of_week" => |t| t.weekday as f64,
        "day_of_year" => |t| t.yday as f64,
        "hour" => |t| t.hour as f64,
        "minute" => |t| t.minute as f64,
        "days_in_month" => |t| days_in(t.year, t.month) as f64,
        _ => return Ok(None),
    };
    let Some(v) = c.vector(0) else {
        return Ok(Some(vec![sample(
            Labels::empty(),
            c.ts,
            f(&civil(c.ts / 1000)),
            false,
        )]));
    };
    Ok(Some(
        v.iter()
            .filter(|s| s.h.is_none())
            .map(|s| sample(s.metric.clone(), c.ts, f(&civil(to_secs(s.f))), true))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values from functions.test.
    #[test]
    fn calendar_fields() {
        let t = civil(1136239445);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute),
            (2006, 1, 2, 22, 4)
        );
        assert_eq!((t.weekday, t.yday), (1, 2));
        assert_eq!(civil(0).weekday, 4);
        assert_eq!(civil(1230767999).year, 2008);
        assert_eq!(civil(1230768000).year, 2009);
        let t = civil(1456790399);
        assert_eq!((t.month, t.day), (2, 29));
        assert_eq!(civil(1483191420).yday, 366);
        assert_eq!(civil(1672493820).yday, 365);
        let t = civil(1454284800);
        assert_eq!(days_in(t.year, t.month), 29);
        let t = civil(1485907200);
        assert_eq!(days_in(t.year, t.month), 28);
    }
}
