//! Float formatting and parsing as the exposition formats need them.
//!
//! prometheus_client (Python) prints sample values with `floatToGoString`: Python's `repr` of the
//! float, with Go's earlier switch to exponent notation for large positive values
//! (`1.7e+09`), and `+Inf`, `-Inf`, `NaN`. [`write_go_float`] reproduces it byte for byte.

use std::fmt::{self, Write};

/// A small stack buffer implementing `fmt::Write` (formatting a float needs no heap).
pub(crate) struct StackBuf {
    buf: [u8; 48],
    len: usize,
}

impl StackBuf {
    pub(crate) fn new() -> Self {
        StackBuf {
            buf: [0; 48],
            len: 0,
        }
    }
    pub(crate) fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Shortest round-trip decimal digits of a finite, non-zero `|x|` into `digits`, and its
/// decimal exponent `e` such that `x = d1.d2... * 10^e`.
fn shortest_digits(x: f64, digits: &mut StackBuf) -> i32 {
    let a = x.abs();
    if a < 1e15 && a.fract() == 0.0 {
        // An integer below 1e15 is exact, and no shorter decimal lands on it (doubles there
        // are at most 1/8 apart): its digits without the trailing zeros are the shortest.
        let mut n = a as u64;
        let mut rev = [0u8; 20];
        let mut len = 0;
        while n > 0 {
            rev[len] = b'0' + (n % 10) as u8;
            n /= 10;
            len += 1;
        }
        let exp = len as i32 - 1;
        let zeros = rev[..len].iter().take_while(|&&d| d == b'0').count();
        for &d in rev[zeros..len].iter().rev() {
            let _ = digits.write_char(d as char);
        }
        return exp;
    }
    // `{:e}` prints the shortest representation that round-trips: "1.795612490988606e9"
    // (at most 17 digits and a 4-character exponent: it fits).
    let mut sci = StackBuf::new();
    let _ = write!(sci, "{:e}", x.abs());
    let s = sci.as_str();
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    for c in mant.bytes() {
        if c.is_ascii_digit() {
            let _ = digits.write_char(c as char);
        }
    }
    exp.parse().unwrap_or(0)
}

/// Writes `x` as Python's `repr(float)` does: `1.0`, `0.0001`, `1e-05`, `1e+16`, `inf`, `nan`.
pub fn write_python_repr(out: &mut impl Write, x: f64) -> fmt::Result {
    if x.is_nan() {
        return out.write_str("nan");
    }
    if x.is_infinite() {
        return out.write_str(if x > 0.0 { "inf" } else { "-inf" });
    }
    if x.is_sign_negative() {
        out.write_char('-')?;
    }
    if x == 0.0 {
        return out.write_str("0.0");
    }
    let mut buf = StackBuf::new();
    let exp = shortest_digits(x, &mut buf);
    let digits = buf.as_str();
    let nd = digits.len() as i32;
    if !(-4..16).contains(&exp) {
        // d[.ddd]e[+-]XX
        out.write_str(&digits[..1])?;
        if nd > 1 {
            out.write_char('.')?;
            out.write_str(&digits[1..])?;
        }
        let sign = if exp < 0 { '-' } else { '+' };
        write!(out, "e{}{:02}", sign, exp.abs())
    } else if exp < 0 {
        out.write_str("0.")?;
        for _ in 0..(-exp - 1) {
            out.write_char('0')?;
        }
        out.write_str(digits)
    } else {
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            out.write_str(digits)?;
            for _ in digits.len()..int_len {
                out.write_char('0')?;
            }
            out.write_str(".0")
        } else {
            out.write_str(&digits[..int_len])?;
            out.write_char('.')?;
            out.write_str(&digits[int_len..])
        }
    }
}

/// Python's `repr(float)` as a `String`.
pub fn python_repr(x: f64) -> String {
    let mut s = String::new();
    let _ = write_python_repr(&mut s, x);
    s
}

/// Writes `x` as prometheus_client's `floatToGoString` does.
pub fn write_go_float(out: &mut impl Write, x: f64) -> fmt::Result {
    if x.is_nan() {
        return out.write_str("NaN");
    }
    if x == f64::INFINITY {
        return out.write_str("+Inf");
    }
    if x == f64::NEG_INFINITY {
        return out.write_str("-Inf");
    }
    let mut buf = StackBuf::new();
    write_python_repr(&mut buf, x)?;
    let s = buf.as_str();
    match s.find('.') {
        // Go switches to exponents sooner than Python (positive values only, as Python does).
        Some(dot) if x > 0.0 && dot > 6 => {
            let mut mantissa = StackBuf::new();
            mantissa.write_str(&s[..1])?;
            mantissa.write_char('.')?;
            mantissa.write_str(&s[1..dot])?;
            mantissa.write_str(&s[dot + 1..])?;
            let trimmed = mantissa.as_str().trim_end_matches(['0', '.']);
            // Python writes `e+0{dot - 1}`: "e+09", and "e+010" for ten digits.
            out.write_str(trimmed)?;
            write!(out, "e+0{}", dot - 1)
        }
        _ => out.write_str(s),
    }
}

/// `floatToGoString` as a `String`.
pub fn go_float(x: f64) -> String {
    let mut s = String::new();
    let _ = write_go_float(&mut s, x);
    s
}

/// Parses a float the way both exposition formats accept one: an optional sign, then decimal
/// digits with an optional fraction and exponent, or `Inf`/`Infinity`/`NaN` in any case.
/// Rejects hex floats, underscores, surrounding whitespace and the empty string.
pub fn parse_float(s: &[u8]) -> Option<f64> {
    let body = match s.first()? {
        b'+' | b'-' => &s[1..],
        _ => s,
    };
    let first = *body.first()?;
    if first.is_ascii_digit() || first == b'.' {
        // Decimal: digits [. digits] [e [sign] digits]; Rust's parser accepts exactly this set
        // once letters other than e/E are excluded.
        if !body
            .iter()
            .all(|&b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
    } else if !(body.eq_ignore_ascii_case(b"inf")
        || body.eq_ignore_ascii_case(b"infinity")
        || body.eq_ignore_ascii_case(b"nan"))
    {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_digits_are_the_shortest_round_trip_digits() {
        let reference = |x: f64| -> (String, i32) {
            let s = format!("{:e}", x.abs());
            let (m, e) = s.split_once('e').unwrap();
            (m.replace('.', ""), e.parse().unwrap())
        };
        let mut xs: Vec<f64> = (1..=2000).map(f64::from).collect();
        let mut k = 1u64;
        for _ in 0..15 {
            xs.extend([k as f64, (k - 1) as f64, (k + 1) as f64, (k * 7) as f64]);
            k *= 10;
        }
        let mut r = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            xs.push((r % 1_000_000_000_000_000) as f64);
            xs.push(-((r >> 20) as f64));
        }
        xs.push(999_999_999_999_999.0);
        for x in xs.into_iter().filter(|&x| x != 0.0 && x.abs() < 1e15) {
            let mut d = StackBuf::new();
            let e = shortest_digits(x, &mut d);
            assert_eq!((d.as_str().to_string(), e), reference(x), "{x}");
        }
    }

    #[test]
    fn python_repr_matches_cpython() {
        for (x, want) in [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.23, "0.23"),
            (20000.0, "20000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (123456.789, "123456.789"),
            (1795612490.988606, "1795612490.988606"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
            (1e300, "1e+300"),
        ] {
            assert_eq!(python_repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn go_float_matches_prometheus_client() {
        for (x, want) in [
            (1.0, "1.0"),
            (50.0, "50.0"),
            (20000.0, "20000.0"),
            (181579776.0, "1.81579776e+08"),
            (24584192.0, "2.4584192e+07"),
            (1795612489.8, "1.7956124898e+09"),
            (1795612490.988606, "1.795612490988606e+09"),
            (1795612490.9886432, "1.7956124909886432e+09"),
            (18.14058010176256, "18.14058010176256"),
            (1000000.0, "1e+06"),
            (12345678901.0, "1.2345678901e+010"),
            (1700000000.0, "1.7e+09"),
            (-1795612490.0, "-1795612490.0"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (0.005, "0.005"),
            (2.5, "2.5"),
        ] {
            assert_eq!(go_float(x), want);
        }
    }

    #[test]
    fn parse_float_accepts_decimal_and_special_values_only() {
        assert_eq!(parse_float(b"1"), Some(1.0));
        assert_eq!(parse_float(b"-1.5e3"), Some(-1500.0));
        assert_eq!(parse_float(b".5"), Some(0.5));
        assert_eq!(parse_float(b"+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_float(b"-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_float(b"NaN").is_some_and(f64::is_nan));
        assert_eq!(
            parse_float(b"0000000000000000000000000000000000000000001.2e-1"),
            Some(0.12)
        );
        for bad in [
            &b""[..],
            b"0x1",
            b"0x1p-3",
            b"1_2",
            b"0b1",
            b"0o1",
            b" 1",
            b"1\t",
            b"a",
            b"1e",
            b"--1",
            b"+",
        ] {
            assert_eq!(parse_float(bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }
}
