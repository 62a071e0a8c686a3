//! Literal decoding with Go's rules: numbers (`strconv.ParseInt(s, 0, 64)` then
//! `strconv.ParseFloat`), quoted strings (`strutil.Unquote`) and durations
//! (`model.ParseDuration`).

/// Parses a number token as Prometheus's parser does: as a Go integer literal with base prefix
/// (`0x`, `0o`, `0b`, leading `0` = octal) if possible, otherwise as a Go float.
pub fn parse_number(s: &str) -> Result<f64, String> {
    if let Some(i) = parse_go_int(s) {
        return Ok(i as f64);
    }
    match parse_go_float(s) {
        Some(v) if v.is_infinite() && !s.to_ascii_lowercase().contains("inf") => Err(format!(
            "strconv.ParseFloat: parsing {s:?}: value out of range"
        )),
        Some(v) => Ok(v),
        None => Err(format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
    }
}

fn parse_go_int(s: &str) -> Option<i64> {
    let (digits, radix) = if let Some(r) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        (r, 8)
    } else if let Some(r) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (r, 2)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || (radix == 10 && s.contains('_') && !underscores_ok(s)) {
        return None;
    }
    i64::from_str_radix(&clean, radix).ok()
}

/// Underscores must sit between digits.
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, c)| {
        *c != b'_'
            || (i > 0
                && i + 1 < b.len()
                && b[i - 1].is_ascii_alphanumeric()
                && b[i + 1].is_ascii_alphanumeric())
    })
}

fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if s.contains('_') && !underscores_ok(s) {
        return None;
    }
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    if let Some(hex) = clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        return parse_hex_float(hex);
    }
    // Go accepts the same decimal shapes as Rust here ("1.", ".5", "1e5"); Rust would also
    // accept "inf"/"nan" words, which were handled above.
    if clean
        .chars()
        .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
    {
        return None;
    }
    clean.parse::<f64>().ok()
}

/// `mantissa[.frac]p[+-]exp` in hex (the exponent is mandatory in Go).
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// Decodes a quoted string token (with its quotes), as Prometheus's `strutil.Unquote`: Go
/// escapes in `"…"` and `'…'` (single quotes may hold any number of characters), none in
/// `` `…` ``.
pub fn unquote(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    if bytes.len() < 2 {
        return Err("invalid syntax".into());
    }
    let quote = bytes[0];
    if bytes[bytes.len() - 1] != quote {
        return Err("invalid syntax".into());
    }
    let body = &s[1..s.len() - 1];
    if quote == b'`' {
        if body.contains('`') {
            return Err("invalid syntax".into());
        }
        return Ok(body.replace('\r', ""));
    }
    if quote != b'"' && quote != b'\'' {
        return Err("invalid syntax".into());
    }
    if !body.contains('\\') && !body.contains(quote as char) && !body.contains('\n') {
        return Ok(body.to_string());
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == quote as char || c == '\n' {
            return Err("invalid syntax".into());
        }
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err("invalid syntax".into());
        };
        let push_char = |out: &mut Vec<u8>, v: u32| -> Result<(), String> {
            let ch = char::from_u32(v).ok_or_else(|| "invalid syntax".to_string())?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            Ok(())
        };
        match e {
            'a' => out.push(0x07),
            'b' => out.push(0x08),
            'f' => out.push(0x0c),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(0x0b),
            '\\' => out.push(b'\\'),
            '\'' | '"' => {
                if e as u32 != quote as u32 {
                    return Err("invalid syntax".into());
                }
                out.push(e as u8);
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars
                        .next()
                        .and_then(|(_, c)| c.to_digit(8))
                        .ok_or_else(|| "invalid syntax".to_string())?;
                    v = v * 8 + d;
                }
                if v > 255 {
                    return Err("invalid syntax".into());
                }
                out.push(v as u8);
            }
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut v: u32 = 0;
                for _ in 0..n {
                    let d = chars
                        .next()
                        .and_then(|(_, c)| c.to_digit(16))
                        .ok_or_else(|| "invalid syntax".to_string())?;
                    v = v
                        .checked_mul(16)
                        .and_then(|v| v.checked_add(d))
                        .unwrap_or(u32::MAX);
                }
                if e == 'x' {
                    out.push(v as u8);
                } else {
                    push_char(&mut out, v)?;
                }
            }
            _ => return Err("invalid syntax".into()),
        }
    }
    // Go strings may hold any bytes; ours are UTF-8, so invalid sequences become U+FFFD.
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Prometheus's `model.ParseDuration` in milliseconds, with upstream's message as the error.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    promplay_model::parse_duration(s).map_err(|e| e.to_string())
}

pub use promplay_model::format_duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0x1F"), Ok(31.0));
        assert_eq!(parse_number("010"), Ok(8.0));
        assert_eq!(parse_number("08"), Ok(8.0));
        assert_eq!(parse_number("1e3"), Ok(1000.0));
        assert_eq!(parse_number(".5"), Ok(0.5));
        assert_eq!(parse_number("1_000"), Ok(1000.0));
        assert!(parse_number("Inf").unwrap().is_infinite());
        assert!(parse_number("nan").unwrap().is_nan());
        assert_eq!(parse_number("99999999999999999999"), Ok(1e20));
    }

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\n\"b""#).unwrap(), "a\n\"b");
        assert_eq!(unquote(r"'it\'s'").unwrap(), "it's");
        assert_eq!(unquote(r"`a\n`").unwrap(), "a\\n");
        assert_eq!(unquote(r#""\u00e9\x41\101""#).unwrap(), "éAA");
        assert_eq!(unquote(r#""\xc3\xa9""#).unwrap(), "é");
        assert!(unquote(r#""\q""#).is_err());
        assert!(unquote(r#""\'""#).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("5m1ms"), Ok(300_001));
        assert_eq!(parse_duration("0"), Ok(0));
        assert!(parse_duration("1m1h").is_err());
        assert_eq!(
            parse_duration("1.5m"),
            Err(r#"unknown unit "." in duration "1.5m""#.to_string())
        );
        assert_eq!(
            parse_duration("5y1hs"),
            Err(r#"unknown unit "hs" in duration "5y1hs""#.to_string())
        );
        assert_eq!(
            parse_duration("300y"),
            Err("duration out of range".to_string())
        );
        assert!(parse_duration("").is_err());
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(-300_000), "-5m");
        assert_eq!(format_duration(90_061_001), "1d1h1m1s1ms");
    }
}
