//! Time intervals (`timeinterval/timeinterval.go`): times of day, weekdays, days of the month,
//! months and years, each a list of inclusive ranges; an instant is in the interval when every
//! field that is given matches.
//!
//! Only the `UTC` location (or none, which means UTC) is supported: this crate has no time-zone
//! database. Any other `location` is refused when the configuration is loaded.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One `time_intervals` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeInterval {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<WeekdayRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days_of_month: Vec<DayOfMonthRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<MonthRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<YearRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// A time of day range, in minutes since midnight: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub start_minute: u32,
    pub end_minute: u32,
}

/// An inclusive range of integers (weekday 0 = Sunday, months 1–12, days ±1–31, years).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InclusiveRange {
    pub begin: i32,
    pub end: i32,
}

macro_rules! range_type {
    ($name:ident, $parse:path, $print:path) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(pub InclusiveRange);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = StrOrInt::deserialize(d)?.into_string();
                $parse(&s).map($name).map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&$print(self.0))
            }
        }
    };
}

range_type!(WeekdayRange, parse_weekdays, print_weekdays);
range_type!(DayOfMonthRange, parse_days_of_month, print_numbers);
range_type!(MonthRange, parse_months, print_months);
range_type!(YearRange, parse_years, print_numbers);

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrInt {
    S(String),
    I(i64),
}

impl StrOrInt {
    fn into_string(self) -> String {
        match self {
            StrOrInt::S(s) => s,
            StrOrInt::I(i) => i.to_string(),
        }
    }
}

/// The `location` of an interval; only UTC is supported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location(pub String);

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "UTC" || s.is_empty() {
            Ok(Location(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "location {s:?} is not supported: promplay knows only UTC"
            )))
        }
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn split_range(s: &str) -> Result<(&str, &str), String> {
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        [a] => Ok((a, a)),
        [a, b] => Ok((a, b)),
        _ => Err(format!("invalid range format: {s}")),
    }
}

fn parse_weekdays(s: &str) -> Result<InclusiveRange, String> {
    let (a, b) = split_range(s)?;
    let day = |x: &str| {
        WEEKDAYS
            .iter()
            .position(|d| *d == x.to_lowercase())
            .map(|p| p as i32)
            .ok_or_else(|| format!("{x} is not a valid weekday"))
    };
    let (begin, end) = (day(a)?, day(b)?);
    if begin > end {
        return Err("start day cannot be before end day".into());
    }
    Ok(InclusiveRange { begin, end })
}

fn print_weekdays(r: InclusiveRange) -> String {
    let n = |i: i32| WEEKDAYS.get(i as usize).copied().unwrap_or("?");
    if r.begin == r.end {
        n(r.begin).to_string()
    } else {
        format!("{}:{}", n(r.begin), n(r.end))
    }
}

fn print_numbers(r: InclusiveRange) -> String {
    if r.begin == r.end {
        r.begin.to_string()
    } else {
        format!("{}:{}", r.begin, r.end)
    }
}

fn parse_days_of_month(s: &str) -> Result<InclusiveRange, String> {
    let (a, b) = split_range(s)?;
    let day = |x: &str| -> Result<i32, String> {
        let v: i32 = x
            .trim()
            .parse()
            .map_err(|_| format!("invalid day of month: {x}"))?;
        if v == 0 || !(-31..=31).contains(&v) {
            return Err(format!("{v} is not a valid day of the month: out of range"));
        }
        Ok(v)
    };
    let (begin, end) = (day(a)?, day(b)?);
    // Alertmanager's checks (1:-1, the whole month, is allowed).
    if begin < 0 && end > 0 {
        return Err("end day must be negative if start day is negative".into());
    }
    let check = |d: i32| if d < 0 { 28 + d } else { d };
    if check(begin) > check(end) {
        return Err(format!("end day {end} is always before start day {begin}"));
    }
    Ok(InclusiveRange { begin, end })
}

fn parse_months(s: &str) -> Result<InclusiveRange, String> {
    let (a, b) = split_range(s)?;
    let month = |x: &str| -> Result<i32, String> {
        if let Ok(v) = x.trim().parse::<i32>() {
            // Alertmanager 0.25 accepts any number here (13 simply never matches).
            return Ok(v);
        }
        MONTHS
            .iter()
            .position(|m| *m == x.to_lowercase())
            .map(|p| p as i32 + 1)
            .ok_or_else(|| format!("{x} is not a valid month"))
    };
    let (begin, end) = (month(a)?, month(b)?);
    if begin > end {
        return Err(format!("end month {b} is before start month {a}"));
    }
    Ok(InclusiveRange { begin, end })
}

fn print_months(r: InclusiveRange) -> String {
    let n = |i: i32| {
        usize::try_from(i - 1)
            .ok()
            .and_then(|i| MONTHS.get(i))
            .map_or_else(|| i.to_string(), |m| m.to_string())
    };
    if r.begin == r.end {
        n(r.begin)
    } else {
        format!("{}:{}", n(r.begin), n(r.end))
    }
}

fn parse_years(s: &str) -> Result<InclusiveRange, String> {
    let (a, b) = split_range(s)?;
    let year = |x: &str| -> Result<i32, String> {
        x.trim()
            .parse::<i32>()
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(|| format!("{x} is not a valid year"))
    };
    let (begin, end) = (year(a)?, year(b)?);
    if begin > end {
        return Err("end year must be greater than or equal to start year".into());
    }
    Ok(InclusiveRange { begin, end })
}

fn parse_hhmm(s: &str) -> Result<u32, String> {
    let bad = || format!("couldn't parse timestamp {s}, invalid format");
    if s == "24:00" {
        return Ok(24 * 60);
    }
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawTimeRange {
    #[serde(default)]
    start_time: String,
    #[serde(default)]
    end_time: String,
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawTimeRange::deserialize(d)?;
        fn e<E: serde::de::Error>(m: &str) -> E {
            E::custom(m)
        }
        if r.start_time.is_empty() || r.end_time.is_empty() {
            return Err(e("both start and end times must be provided"));
        }
        let start = parse_hhmm(&r.start_time).map_err(|m| e::<D::Error>(&m))?;
        let end = parse_hhmm(&r.end_time).map_err(|m| e::<D::Error>(&m))?;
        if start >= end {
            return Err(e("start time cannot be equal or greater than end time"));
        }
        Ok(TimeRange {
            start_minute: start,
            end_minute: end,
        })
    }
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        RawTimeRange {
            start_time: f(self.start_minute),
            end_time: f(self.end_minute),
        }
        .serialize(s)
    }
}

use promplay_model::civil::days_in_month;
pub use promplay_model::civil::{civil_from_ms, Civil};

impl TimeInterval {
    /// Whether the instant `ms` (Unix epoch, UTC) lies in this interval.
    pub fn contains(&self, ms: i64) -> bool {
        let t = civil_from_ms(ms);
        if !self.times.is_empty() {
            let m = t.hour * 60 + t.minute;
            if !self
                .times
                .iter()
                .any(|r| m >= r.start_minute && m < r.end_minute)
            {
                return false;
            }
        }
        if !self.days_of_month.is_empty() {
            let dim = days_in_month(t.year, t.month) as i32;
            let day = t.day as i32;
            let hit = self.days_of_month.iter().any(|r| {
                let begin = if r.0.begin < 0 {
                    dim + r.0.begin + 1
                } else {
                    r.0.begin
                };
                let end = if r.0.end < 0 {
                    dim + r.0.end + 1
                } else {
                    r.0.end
                };
                if begin > dim {
                    return false;
                }
                let begin = begin.clamp(-dim, dim);
                let end = end.clamp(-dim, dim);
                day >= begin && day <= end
            });
            if !hit {
                return false;
            }
        }
        fn within(rs: impl Iterator<Item = InclusiveRange>, v: i32) -> bool {
            let mut rs = rs;
            rs.any(|r| v >= r.begin && v <= r.end)
        }
        if !self.months.is_empty() && !within(self.months.iter().map(|r| r.0), t.month as i32) {
            return false;
        }
        if !self.weekdays.is_empty() && !within(self.weekdays.iter().map(|r| r.0), t.weekday as i32)
        {
            return false;
        }
        if !self.years.is_empty() && !within(self.years.iter().map(|r| r.0), t.year as i32) {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ti(yaml: &str) -> TimeInterval {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    // 2026-11-25T13:17:37Z is a Wednesday.
    const T: i64 = 1_795_612_657_000;

    #[test]
    fn civil_fields() {
        let c = civil_from_ms(T);
        assert_eq!(c.to_string(), "2026-11-25T13:17:37Z");
        assert_eq!(c.weekday, 3);
        assert_eq!(civil_from_ms(0).weekday, 4);
        assert_eq!(civil_from_ms(-1).to_string(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn weekdays_and_times() {
        let i =
            ti("times: [{start_time: '09:00', end_time: '17:00'}]\nweekdays: ['monday:friday']");
        assert!(i.contains(T));
        assert!(!i.contains(T + 4 * 3_600_000)); // 17:17
        assert!(!i.contains(T + 3 * 86_400_000)); // Saturday
        let w = ti("weekdays: [saturday, sunday]");
        assert!(!w.contains(T));
    }

    #[test]
    fn days_of_month_negative_and_months_years() {
        assert!(ti("days_of_month: ['-7:-1']").contains(T)); // 25th of a 30-day month
        assert!(!ti("days_of_month: ['1:7']").contains(T));
        assert!(ti("months: ['november']\nyears: ['2026']").contains(T));
        assert!(ti("months: ['10:12']").contains(T));
        assert!(!ti("years: ['2020:2025']").contains(T));
    }

    #[test]
    fn bad_inputs_are_errors() {
        for y in [
            "times: [{start_time: '10:00', end_time: '09:00'}]",
            "times: [{start_time: '25:00', end_time: '26:00'}]",
            "weekdays: ['funday']",
            "days_of_month: ['0']",
            "months: ['march:january']",
            "days_of_month: ['-1:5']",
            "location: 'Europe/Berlin'",
        ] {
            assert!(serde_yaml_ng::from_str::<TimeInterval>(y).is_err(), "{y}");
        }
    }
}
