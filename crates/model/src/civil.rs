//! UTC civil time from Unix milliseconds (no time zones): PromQL's calendar functions, the
//! template engine's time formatting and the Alertmanager's time intervals share it.

use std::fmt;

/// A UTC civil date and time broken out of a millisecond timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

/// Splits a Unix-epoch millisecond timestamp into UTC civil fields.
pub fn civil_from_ms(ms: i64) -> Civil {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = if m <= 2 { y + 1 } else { y };
    Civil {
        year,
        month: m,
        day: d,
        hour: (rem / 3_600_000) as u32,
        minute: (rem / 60_000 % 60) as u32,
        second: (rem / 1000 % 60) as u32,
        millis: (rem % 1000) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (`month` 1–12, `day` 1–31; Howard
/// Hinnant's `days_from_civil`). The inverse of the date part of [`civil_from_ms`].
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 time as Go writes and reads it (`2017-01-17T15:07:44.723715405+01:00`,
/// `…Z`; `t` or a space may stand for the `T`) into ms since the epoch, the fraction
/// truncated to milliseconds. Go's zero time (`0001-01-01T00:00:00Z`) comes out as a large
/// negative number; `None` for anything else that is not such a time.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let p = s.get(r)?;
        if p.bytes().all(|c| c.is_ascii_digit()) {
            p.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut ms = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let first3 = &frac[..n.min(3)];
        ms = first3.parse::<i64>().ok()? * 10i64.pow(3 - first3.len() as u32);
        rest = &frac[n..];
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        r if r.len() == 6 && (r.starts_with('+') || r.starts_with('-')) && &r[3..4] == ":" => {
            let oh = num_str(&r[1..3])?;
            let om = num_str(&r[4..6])?;
            let o = oh * 3600 + om * 60;
            if r.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset_s) * 1000 + ms)
}

fn num_str(p: &str) -> Option<i64> {
    if p.bytes().all(|c| c.is_ascii_digit()) {
        p.parse().ok()
    } else {
        None
    }
}

/// A Gregorian leap year.
pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` (1 to 12) of `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

impl Civil {
    /// The day of the year, 1 to 366.
    pub fn day_of_year(&self) -> u32 {
        const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let month = self.month.clamp(1, 12);
        CUM[(month - 1) as usize] + self.day + u32::from(is_leap(self.year) && month > 2)
    }
}

impl fmt::Display for Civil {
    /// RFC 3339 to the second: `2026-11-25T13:17:37Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_as_go_writes_it() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-01-01T00:00:00.5Z"),
            Some(1_767_225_600_500)
        );
        assert_eq!(
            parse_rfc3339("2026-11-25T13:18:37.796032145Z"),
            Some(1_795_612_717_796)
        );
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:01.5-00:30"),
            Some(1_801_500)
        );
        assert!(parse_rfc3339("0001-01-01T00:00:00Z").unwrap() < -62_000_000_000_000);
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+1:00",
            "2026-01-01T0a:00:00Z",
            "2026-01-01T00:00:00Zjunk",
            "2026-01-01T00:00:00\u{e9}",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fields_and_printing() {
        // 2026-11-25T13:17:37.250Z is a Wednesday.
        let c = civil_from_ms(1_795_612_657_250);
        assert_eq!(c.to_string(), "2026-11-25T13:17:37Z");
        assert_eq!((c.weekday, c.millis), (3, 250));
        assert_eq!(civil_from_ms(0).weekday, 4);
        assert_eq!(civil_from_ms(-1).to_string(), "1969-12-31T23:59:59Z");
        let leap = civil_from_ms(951_782_400_000);
        assert_eq!((leap.year, leap.month, leap.day), (2000, 2, 29));
        assert_eq!(leap.day_of_year(), 60);
        assert_eq!(civil_from_ms(1_483_191_420_000).day_of_year(), 366);
        assert_eq!(civil_from_ms(1_672_493_820_000).day_of_year(), 365);
        assert_eq!(days_in_month(2016, 2), 29);
        assert_eq!(days_in_month(2017, 2), 28);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2017, 4), 30);
    }
}
