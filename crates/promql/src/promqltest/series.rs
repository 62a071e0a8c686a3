//! Series descriptions (`metric{l="v"} 1+2x3 _ stale {{schema:0 sum:1}}`), durations and
//! numbers, as the promqltest script language writes them (Prometheus's `ParseSeriesDesc`).

use promplay_model::{CounterResetHint, FloatHistogram, Label, Labels, Span, STALE_NAN};

/// One item of a value sequence.
#[derive(Clone, Debug, PartialEq)]
pub enum SeqValue {
    /// `_`: no sample in this slot.
    Omitted,
    Float(f64),
    /// A histogram literal; the flag says whether it spelled `counter_reset_hint:`.
    Histogram(Box<FloatHistogram>, bool),
}

/// Parses a Prometheus duration (`1h30m`, `0`, `5m1ms`) into milliseconds; an unknown unit
/// reads as `not a valid duration string`.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    promplay_model::parse_duration(s).map_err(|e| e.unknown_unit_as_invalid().to_string())
}

/// Go's `strconv.ParseFloat` for the forms the corpus uses (decimal, exponent, Inf, NaN).
pub fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    if t.is_empty() {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" || lower == "nan" {
        let neg = s.starts_with('-');
        return Some(if lower == "nan" {
            f64::NAN
        } else if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if !t
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// The bare-number line of an eval block: Go's `ParseInt(s, 0, 64)`, else `ParseFloat`.
pub fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let int = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        i64::from_str_radix(b, 2).ok()
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()
    } else if !body.is_empty() && body.bytes().all(|c| c.is_ascii_digit()) {
        body.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(n) = int {
        return Some(if neg { -(n as f64) } else { n as f64 });
    }
    parse_float(s)
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.bump();
        }
    }
    fn eat(&mut self, p: &str) -> bool {
        if self.rest().starts_with(p) {
            self.pos += p.len();
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> &'a str {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            self.bump();
        }
        &self.s[start..self.pos]
    }
    /// A quoted string (`"…"`, `'…'` or `` `…` ``) with Go escapes.
    fn quoted(&mut self) -> Result<String, String> {
        let q = self.bump().ok_or("expected a quoted string")?;
        let mut out = String::new();
        loop {
            let c = self.bump().ok_or("unterminated quoted string")?;
            if c == q {
                return Ok(out);
            }
            if c == '\\' && q != '`' {
                let e = self.bump().ok_or("unterminated escape")?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{07}'),
                    'b' => out.push('\u{08}'),
                    'f' => out.push('\u{0c}'),
                    'v' => out.push('\u{0b}'),
                    '\\' | '"' | '\'' | '`' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let start = self.pos;
                        for _ in 0..n {
                            self.bump();
                        }
                        let code = u32::from_str_radix(&self.s[start..self.pos], 16)
                            .map_err(|_| "invalid escape")?;
                        out.push(char::from_u32(code).ok_or("invalid escape")?);
                    }
                    '0'..='7' => {
                        let start = self.pos - 1;
                        self.bump();
                        self.bump();
                        let code = u32::from_str_radix(&self.s[start..self.pos], 8)
                            .map_err(|_| "invalid escape")?;
                        out.push(char::from_u32(code).ok_or("invalid escape")?);
                    }
                    _ => return Err(format!("unknown escape sequence \\{e}")),
                }
            } else {
                out.push(c);
            }
        }
    }
    fn label_name(&mut self) -> Result<String, String> {
        match self.peek() {
            Some('"') | Some('\'') | Some('`') => self.quoted(),
            _ => {
                let id = self.ident();
                if id.is_empty() {
                    Err(format!(
                        "unexpected character in label matchers: {:?}",
                        self.rest()
                    ))
                } else {
                    Ok(id.to_string())
                }
            }
        }
    }
    /// Reads a token up to whitespace.
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if !c.is_whitespace()) {
            self.bump();
        }
        &self.s[start..self.pos]
    }
}

/// Parses the metric part of a series description; returns it and the rest of the line.
pub fn parse_metric(s: &str) -> Result<(Labels, &str), String> {
    let mut c = Cursor { s, pos: 0 };
    c.skip_ws();
    let mut pairs: Vec<Label> = Vec::new();
    let name = c.ident();
    if !name.is_empty() {
        pairs.push(Label::new("__name__", name));
    }
    if c.peek() == Some('{') {
        c.bump();
        loop {
            c.skip_ws();
            if c.eat("}") {
                break;
            }
            let is_quoted = matches!(c.peek(), Some('"') | Some('\'') | Some('`'));
            let lname = c.label_name()?;
            c.skip_ws();
            if c.eat("=") {
                c.skip_ws();
                if !matches!(c.peek(), Some('"') | Some('\'') | Some('`')) {
                    return Err(format!("unexpected label value in {s:?}"));
                }
                let v = c.quoted()?;
                pairs.push(Label::new(lname, v));
            } else if is_quoted {
                pairs.push(Label::new("__name__", lname));
            } else {
                return Err(format!("unexpected {:?} in label set", c.rest()));
            }
            c.skip_ws();
            if c.eat(",") {
                continue;
            }
            if c.eat("}") {
                break;
            }
            return Err(format!("unexpected {:?} in label set", c.rest()));
        }
    } else if name.is_empty() {
        return Err(format!("unexpected {s:?}: expected a metric"));
    }
    Ok((Labels::new(pairs), &s[c.pos..]))
}

/// Parses a full series description line: metric then value sequence.
pub fn parse_series_desc(
    s: &str,
    add: &dyn Fn(&FloatHistogram, &FloatHistogram, bool) -> Result<FloatHistogram, String>,
) -> Result<(Labels, Vec<SeqValue>), String> {
    let (labels, rest) = parse_metric(s)?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Err(format!("unexpected {rest:?} after metric"));
    }
    let vals = parse_values(rest, add)?;
    Ok((labels, vals))
}

fn parse_times(c: &mut Cursor) -> Result<Option<u64>, String> {
    if c.peek() == Some('x') {
        c.bump();
        let start = c.pos;
        while matches!(c.peek(), Some(ch) if ch.is_ascii_digit()) {
            c.bump();
        }
        let n: u64 = c.s[start..c.pos]
            .parse()
            .map_err(|_| format!("invalid repetition in series values: {:?}", c.rest()))?;
        return Ok(Some(n));
    }
    Ok(None)
}

/// Reads a float literal (optionally signed) at the cursor.
fn read_number(c: &mut Cursor, signed: bool) -> Result<f64, String> {
    let start = c.pos;
    if signed && matches!(c.peek(), Some('+') | Some('-')) {
        c.bump();
    }
    let body = c.rest();
    let lower: String = body
        .chars()
        .take(3)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower == "inf" || lower == "nan" {
        c.pos += 3;
        return parse_float(&c.s[start..c.pos]).ok_or_else(|| "bad number".into());
    }
    let mut prev = ' ';
    while let Some(ch) = c.peek() {
        let ok = ch.is_ascii_digit()
            || ch == '.'
            || ch == 'e'
            || ch == 'E'
            || ((ch == '+' || ch == '-') && (prev == 'e' || prev == 'E'));
        if !ok {
            break;
        }
        prev = ch;
        c.bump();
    }
    let t = &c.s[start..c.pos];
    parse_float(t).ok_or_else(|| format!("invalid number {t:?} in series values"))
}

pub fn parse_values(
    s: &str,
    add: &dyn Fn(&FloatHistogram, &FloatHistogram, bool) -> Result<FloatHistogram, String>,
) -> Result<Vec<SeqValue>, String> {
    let mut c = Cursor { s, pos: 0 };
    let mut out = Vec::new();
    loop {
        c.skip_ws();
        let Some(ch) = c.peek() else { break };
        if ch == '_' {
            c.bump();
            match parse_times(&mut c)? {
                Some(n) => out.extend((0..n).map(|_| SeqValue::Omitted)),
                None => out.push(SeqValue::Omitted),
            }
        } else if c.rest().starts_with("{{") {
            let (h, set) = parse_histogram(&mut c)?;
            if let Some(n) = parse_times(&mut c)? {
                for _ in 0..=n {
                    out.push(SeqValue::Histogram(Box::new(h.clone()), set));
                }
            } else if matches!(c.peek(), Some('+') | Some('-')) {
                let sub = c.bump() == Some('-');
                if !c.rest().starts_with("{{") {
                    return Err(format!("expected histogram after +/- in {s:?}"));
                }
                let (inc, _) = parse_histogram(&mut c)?;
                let n = parse_times(&mut c)?
                    .ok_or_else(|| format!("expected xN after histogram increment in {s:?}"))?;
                let mut cur = h;
                out.push(SeqValue::Histogram(Box::new(cur.clone()), set));
                for _ in 0..n {
                    cur = add(&cur, &inc, sub)?;
                    out.push(SeqValue::Histogram(Box::new(cur.clone()), set));
                }
            } else {
                out.push(SeqValue::Histogram(Box::new(h), set));
            }
        } else if c.rest().starts_with("stale") {
            c.pos += 5;
            out.push(SeqValue::Float(STALE_NAN));
            if let Some(n) = parse_times(&mut c)? {
                for _ in 0..n {
                    out.push(SeqValue::Float(STALE_NAN));
                }
            }
        } else {
            let v = read_number(&mut c, true)?;
            if let Some(n) = parse_times(&mut c)? {
                for _ in 0..=n {
                    out.push(SeqValue::Float(v));
                }
            } else if matches!(c.peek(), Some('+') | Some('-')) {
                let inc = read_number(&mut c, true)?;
                let n = parse_times(&mut c)?
                    .ok_or_else(|| format!("expected xN after increment in {s:?}"))?;
                let mut cur = v;
                out.push(SeqValue::Float(cur));
                for _ in 0..n {
                    cur += inc;
                    out.push(SeqValue::Float(cur));
                }
            } else {
                out.push(SeqValue::Float(v));
            }
        }
        match c.peek() {
            None => break,
            Some(ch) if ch.is_whitespace() => {}
            Some(_) => return Err(format!("unexpected {:?} in series values", c.rest())),
        }
    }
    Ok(out)
}

fn parse_float_list(c: &mut Cursor) -> Result<Vec<f64>, String> {
    if !c.eat("[") {
        return Err("expected '[' in histogram literal".into());
    }
    let mut v = Vec::new();
    loop {
        c.skip_ws();
        if c.eat("]") {
            return Ok(v);
        }
        v.push(read_number(c, true)?);
        c.skip_ws();
        let _ = c.eat(",");
    }
}

/// Parses `{{key:value ...}}` at the cursor.
fn parse_histogram(c: &mut Cursor) -> Result<(FloatHistogram, bool), String> {
    if !c.eat("{{") {
        return Err("expected '{{'".into());
    }
    let mut h = FloatHistogram::default();
    let mut hint_set = false;
    let mut buckets: Vec<f64> = Vec::new();
    let mut n_buckets: Vec<f64> = Vec::new();
    let mut offset = 0i32;
    let mut n_offset = 0i32;
    loop {
        c.skip_ws();
        if c.eat("}}") {
            break;
        }
        let start = c.pos;
        while matches!(c.peek(), Some(ch) if ch.is_ascii_alphanumeric() || ch == '_') {
            c.bump();
        }
        let key = c.s[start..c.pos].to_string();
        if key.is_empty() || !c.eat(":") {
            return Err(format!("bad histogram literal near {:?}", c.rest()));
        }
        c.skip_ws();
        match key.as_str() {
            "schema" => h.schema = read_number(c, true)? as i32,
            "sum" => h.sum = read_number(c, true)?,
            "count" => h.count = read_number(c, true)?,
            "z_bucket" => h.zero_count = read_number(c, true)?,
            "z_bucket_w" => h.zero_threshold = read_number(c, true)?,
            "offset" => offset = read_number(c, true)? as i32,
            "n_offset" => n_offset = read_number(c, true)? as i32,
            "buckets" => buckets = parse_float_list(c)?,
            "n_buckets" => n_buckets = parse_float_list(c)?,
            "custom_values" => h.custom_values = parse_float_list(c)?,
            "counter_reset_hint" => {
                hint_set = true;
                h.counter_reset_hint = match c.ident() {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::CounterReset,
                    "not_reset" => CounterResetHint::NotCounterReset,
                    "gauge" => CounterResetHint::Gauge,
                    o => return Err(format!("invalid counter reset hint {o:?}")),
                };
            }
            _ => return Err(format!("unknown histogram key {key:?}")),
        }
    }
    if !buckets.is_empty() {
        h.positive_spans = vec![Span {
            offset,
            length: buckets.len() as u32,
        }];
        h.positive_buckets = buckets;
    }
    if !n_buckets.is_empty() {
        h.negative_spans = vec![Span {
            offset: n_offset,
            length: n_buckets.len() as u32,
        }];
        h.negative_buckets = n_buckets;
    }
    Ok((h, hint_set))
}

/// Parses a start-timestamp sequence (`_ _ -30s-1mx2 -1mx3`) into millisecond offsets.
pub fn parse_st_sequence(s: &str) -> Result<Vec<Option<i64>>, String> {
    let mut out: Vec<Option<i64>> = Vec::new();
    for item in s.split_whitespace() {
        let prev = out.iter().rev().find_map(|v| *v).unwrap_or(0);
        if item == "_" {
            out.push(None);
            continue;
        }
        if let Some(n) = item.strip_prefix("_x") {
            let n: u64 = n.parse().map_err(|_| "invalid repeat count")?;
            if n == 0 {
                return Err("invalid repeat count".into());
            }
            out.extend((0..n).map(|_| None));
            continue;
        }
        if item == "*" {
            out.push(Some(prev));
            continue;
        }
        if let Some(n) = item.strip_prefix("*x") {
            let n: u64 = n.parse().map_err(|_| "invalid repeat count")?;
            out.extend((0..=n).map(|_| Some(prev)));
            continue;
        }
        let (base, rest) = duration_prefix(item)?;
        if rest.is_empty() {
            out.push(Some(base));
            continue;
        }
        if let Some(n) = rest.strip_prefix('x') {
            let n: u64 = n.parse().map_err(|_| "invalid repeat count")?;
            out.extend((0..=n).map(|_| Some(base)));
            continue;
        }
        let neg = rest.starts_with('-');
        if !neg && !rest.starts_with('+') {
            return Err(format!("invalid ST item {item:?}"));
        }
        let (mut delta, rest2) = duration_prefix(&rest[1..])?;
        if neg {
            delta = -delta;
        }
        let n: u64 = rest2
            .strip_prefix('x')
            .ok_or("expected 'x<count>' after step duration")?
            .parse()
            .map_err(|_| "invalid repeat count")?;
        let mut off = base;
        for _ in 0..=n {
            out.push(Some(off));
            off += delta;
        }
    }
    Ok(out)
}

fn duration_prefix(s: &str) -> Result<(i64, &str), String> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut neg = false;
    match b.first() {
        Some(b'-') => {
            neg = true;
            i += 1
        }
        Some(b'+') => i += 1,
        None => return Err("empty duration".into()),
        _ => {}
    }
    let start = i;
    while i < b.len() && (b[i].is_ascii_digit() || (b[i].is_ascii_alphabetic() && b[i] != b'x')) {
        i += 1;
    }
    let d = parse_duration(&s[start..i])?;
    Ok((if neg { -d } else { d }, &s[i..]))
}

/// Words of a line split on the first run of whitespace.
pub fn first_word(s: &str) -> &str {
    let mut c = Cursor { s, pos: 0 };
    c.word()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_add(_: &FloatHistogram, _: &FloatHistogram, _: bool) -> Result<FloatHistogram, String> {
        Err("no add".into())
    }

    fn floats(s: &str) -> Vec<Option<f64>> {
        parse_values(s, &no_add)
            .unwrap()
            .into_iter()
            .map(|v| match v {
                SeqValue::Float(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn value_sequences_expand_like_prometheus() {
        assert_eq!(
            floats("0+10x3"),
            vec![Some(0.0), Some(10.0), Some(20.0), Some(30.0)]
        );
        assert_eq!(
            floats("1-1x3"),
            vec![Some(1.0), Some(0.0), Some(-1.0), Some(-2.0)]
        );
        assert_eq!(
            floats("-2+4x3 _x2 5x1"),
            vec![
                Some(-2.0),
                Some(2.0),
                Some(6.0),
                Some(10.0),
                None,
                None,
                Some(5.0),
                Some(5.0)
            ]
        );
        assert_eq!(floats("1e-3"), vec![Some(0.001)]);
        let v = parse_values("stale -Inf NaN", &no_add).unwrap();
        assert!(matches!(v[0], SeqValue::Float(f) if promplay_model::is_stale_nan(f)));
        assert!(matches!(v[1], SeqValue::Float(f) if f == f64::NEG_INFINITY));
    }

    #[test]
    fn metric_and_histogram_literal() {
        let (l, v) = parse_series_desc(
            r#"{__name__="a", b='c'} {{schema:1 sum:2 count:3 buckets:[1 2] offset:-1 counter_reset_hint:gauge}}x1"#,
            &no_add,
        )
        .unwrap();
        assert_eq!(l.to_string(), r#"{__name__="a", b="c"}"#);
        assert_eq!(v.len(), 2);
        let SeqValue::Histogram(h, set) = &v[0] else {
            panic!()
        };
        assert!(set);
        assert_eq!(
            h.positive_spans,
            vec![Span {
                offset: -1,
                length: 2
            }]
        );
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
    }

    #[test]
    fn durations_and_st_sequences() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration("5m1ms").unwrap(), 300_001);
        assert!(parse_duration("1m1h").is_err());
        assert_eq!(
            parse_st_sequence("_ -30s-1mx2").unwrap(),
            vec![None, Some(-30_000), Some(-90_000), Some(-150_000)]
        );
    }
}
