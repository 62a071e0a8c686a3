//! The calendar functions (`year`, `month`, `day_of_month`, …), in UTC.

use super::{sample, FnCall};
use crate::error::EvalError;
use crate::value::Vector;
use promplay_model::civil::{civil_from_ms, days_in_month as days_in, Civil};
use promplay_model::Labels;

/// The UTC calendar fields of Unix seconds (`to_secs` keeps them within ±2^50, so the
/// milliseconds cannot overflow).
fn civil(secs: i64) -> Civil {
    civil_from_ms(secs.saturating_mul(1000))
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
        "day_of_year" => |t| t.day_of_year() as f64,
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
        assert_eq!((t.weekday, t.day_of_year()), (1, 2));
        assert_eq!(civil(0).weekday, 4);
        assert_eq!(civil(1230767999).year, 2008);
        assert_eq!(civil(1230768000).year, 2009);
        let t = civil(1456790399);
        assert_eq!((t.month, t.day), (2, 29));
        assert_eq!(civil(1483191420).day_of_year(), 366);
        assert_eq!(civil(1672493820).day_of_year(), 365);
        let t = civil(1454284800);
        assert_eq!(days_in(t.year, t.month), 29);
        let t = civil(1485907200);
        assert_eq!(days_in(t.year, t.month), 28);
    }
}
