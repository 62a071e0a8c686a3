//! A Go `text/template` engine (and the part of `html/template`'s contextual escaping that
//! notification templates need), enough for Alertmanager's `default.tmpl` and typical user
//! templates.
//!
//! Supported: text and `{{ }}` actions with `{{-`/`-}}` trimming and `{{/* comments */}}`;
//! `define`, `template`, `block`, `if`/`else if`/`else`, `range` (with `$i, $e :=`, `else`,
//! `break`, `continue`), `with`/`else`; pipelines with `|`, parenthesised pipelines, variables
//! (`$`, `$x := …`, `$x = …`), fields and methods (`.Labels.SortedPairs`, `.CommonLabels.Remove
//! .GroupLabels.Names`), map keys as fields, string/raw/char/number/bool/nil literals. Functions:
//! Go's builtins (`and or not len index eq ne lt le gt ge print printf println html urlquery js
//! slice`) and Alertmanager's (`toUpper toLower title join safeHtml reReplaceAll match
//! stringSlice trimSpace`). Missing map keys yield "" (Alertmanager sets `missingkey=zero`).
//!
//! HTML mode ([`Template::execute_html`]) tracks the HTML context of the literal text (text,
//! tag, attribute value, URL attribute and its query part), strips HTML comments from the text,
//! and escapes each action's output as `html/template` does in that context.
//!
//! The API is independent of Alertmanager's data: build a [`Value`] and execute a named
//! template, so other crates (rule annotations) can share the engine.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::sync::Arc;

use promplay_model::civil::{self, civil_from_ms};

/// Nesting of template calls and control structures is bounded (Go: "exceeded maximum
/// template depth").
pub const MAX_DEPTH: usize = 100;

/// A template error: Go's wording where it has one, prefixed `template: NAME:LINE:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

type Result<T> = std::result::Result<T, TemplateError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(TemplateError(msg.into()))
}

/// A value templates operate on.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    /// Text that HTML mode does not escape (`safeHtml`).
    SafeHtml(Arc<str>),
    List(Arc<Vec<Value>>),
    /// A struct: fields by name.
    Struct(Arc<BTreeMap<String, Value>>),
    /// Alertmanager's `template.KV` (labels, annotations): methods `SortedPairs`, `Names`,
    /// `Values`, `Remove`; keys are also fields.
    KV(Arc<BTreeMap<String, String>>),
    /// `template.Pairs`: a list of `{Name, Value}` with methods `Names`, `Values`.
    Pairs(Arc<Vec<(String, String)>>),
    /// `template.Alerts`: a list of alerts with methods `Firing`, `Resolved`.
    Alerts(Arc<Vec<Value>>),
    /// A `time.Time` in milliseconds since the epoch (UTC); `None` is Go's zero time.
    Time(Option<i64>),
}

impl Value {
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::Str(Arc::from(s.as_ref()))
    }

    pub fn kv<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
        Value::KV(Arc::new(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
    }

    pub fn structure(fields: Vec<(&str, Value)>) -> Value {
        Value::Struct(Arc::new(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ))
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) | Value::SafeHtml(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Struct(_) => "struct",
            Value::KV(_) => "template.KV",
            Value::Pairs(_) => "template.Pairs",
            Value::Alerts(_) => "template.Alerts",
            Value::Time(_) => "time.Time",
        }
    }

    /// Go's truth: false, 0, nil and empty strings, lists and maps are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) | Value::SafeHtml(s) => !s.is_empty(),
            Value::List(l) | Value::Alerts(l) => !l.is_empty(),
            Value::Struct(_) => true,
            Value::KV(m) => !m.is_empty(),
            Value::Pairs(p) => !p.is_empty(),
            Value::Time(_) => true,
        }
    }

    fn len(&self) -> Result<i64> {
        Ok(match self {
            Value::Str(s) | Value::SafeHtml(s) => s.len() as i64,
            Value::List(l) | Value::Alerts(l) => l.len() as i64,
            Value::KV(m) => m.len() as i64,
            Value::Pairs(p) => p.len() as i64,
            Value::Struct(m) => m.len() as i64,
            v => return err(format!("len of type {}", v.type_name())),
        })
    }

    fn items(&self) -> Result<Vec<(Value, Value)>> {
        Ok(match self {
            Value::List(l) | Value::Alerts(l) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                .collect(),
            Value::KV(m) => m
                .iter()
                .map(|(k, v)| (Value::str(k), Value::str(v)))
                .collect(),
            Value::Struct(m) => m.iter().map(|(k, v)| (Value::str(k), v.clone())).collect(),
            Value::Pairs(p) => p
                .iter()
                .enumerate()
                .map(|(i, (n, v))| (Value::Int(i as i64), pair(n, v)))
                .collect(),
            Value::Int(n) => (0..*n).map(|i| (Value::Int(i), Value::Int(i))).collect(),
            Value::Nil => Vec::new(),
            v => return err(format!("range can't iterate over {}", v.type_name())),
        })
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::SafeHtml(s) => Some(s),
            _ => None,
        }
    }

    fn string_list(&self) -> Result<Vec<String>> {
        match self {
            Value::List(l) => Ok(l.iter().map(|v| v.to_string()).collect()),
            Value::Nil => Ok(Vec::new()),
            v => err(format!("expected a list of strings, got {}", v.type_name())),
        }
    }
}

fn pair(n: &str, v: &str) -> Value {
    Value::structure(vec![("Name", Value::str(n)), ("Value", Value::str(v))])
}

fn strings(v: impl IntoIterator<Item = String>) -> Value {
    Value::List(Arc::new(
        v.into_iter().map(|s| Value::Str(Arc::from(s))).collect(),
    ))
}

/// Go's `time.Time.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`, in UTC.
pub fn go_time_string(ms: Option<i64>) -> String {
    match ms {
        None => "0001-01-01 00:00:00 +0000 UTC".to_string(),
        Some(ms) => {
            let c = civil_from_ms(ms);
            let mut s = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                c.year, c.month, c.day, c.hour, c.minute, c.second
            );
            if c.millis != 0 {
                let f = format!("{:03}", c.millis);
                s.push('.');
                s.push_str(f.trim_end_matches('0'));
            }
            s.push_str(" +0000 UTC");
            s
        }
    }
}

const WEEKDAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Go's `time.Time.Format` for the common layout elements, in UTC.
pub fn go_time_format(ms: Option<i64>, layout: &str) -> String {
    let c = match ms {
        Some(ms) => civil_from_ms(ms),
        None => civil::Civil {
            year: 1,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
            weekday: 1,
        },
    };
    let mut out = String::new();
    let mut rest = layout;
    // Longest tokens first.
    const TOKENS: [&str; 31] = [
        "January",
        "Monday",
        "2006",
        "-07:00",
        "Z07:00",
        "-0700",
        "Z0700",
        ".000000000",
        ".999999999",
        ".000000",
        ".999999",
        ".000",
        ".999",
        "Jan",
        "Mon",
        "MST",
        "002",
        "01",
        "02",
        "_2",
        "03",
        "04",
        "05",
        "06",
        "15",
        "PM",
        "pm",
        "-07",
        "1",
        "2",
        "3",
    ];
    while !rest.is_empty() {
        let Some(tok) = TOKENS.iter().find(|t| rest.starts_with(**t)) else {
            let ch = rest.chars().next().unwrap_or(' ');
            out.push(ch);
            rest = &rest[ch.len_utf8()..];
            continue;
        };
        let h12 = if c.hour % 12 == 0 { 12 } else { c.hour % 12 };
        match *tok {
            "January" => out.push_str(MONTH_NAMES[(c.month - 1) as usize]),
            "Jan" => out.push_str(&MONTH_NAMES[(c.month - 1) as usize][..3]),
            "Monday" => out.push_str(WEEKDAY_NAMES[c.weekday as usize]),
            "Mon" => out.push_str(&WEEKDAY_NAMES[c.weekday as usize][..3]),
            "2006" => {
                let _ = write!(out, "{:04}", c.year);
            }
            "06" => {
                let _ = write!(out, "{:02}", c.year.rem_euclid(100));
            }
            "01" => {
                let _ = write!(out, "{:02}", c.month);
            }
            "1" => {
                let _ = write!(out, "{}", c.month);
            }
            "02" => {
                let _ = write!(out, "{:02}", c.day);
            }
            "_2" => {
                let _ = write!(out, "{:>2}", c.day);
            }
            "2" => {
                let _ = write!(out, "{}", c.day);
            }
            "002" => {
                let _ = write!(out, "{:03}", c.day_of_year());
            }
            "15" => {
                let _ = write!(out, "{:02}", c.hour);
            }
            "03" => {
                let _ = write!(out, "{:02}", h12);
            }
            "3" => {
                let _ = write!(out, "{}", h12);
            }
            "04" => {
                let _ = write!(out, "{:02}", c.minute);
            }
            "05" => {
                let _ = write!(out, "{:02}", c.second);
            }
            "PM" => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
            "pm" => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
            "MST" => out.push_str("UTC"),
            "-0700" => out.push_str("+0000"),
            "-07:00" => out.push_str("+00:00"),
            "-07" => out.push_str("+00"),
            "Z07:00" | "Z0700" => out.push('Z'),
            t if t.starts_with(".0") => {
                let digits = t.len() - 1;
                let nanos = format!("{:09}", c.millis as u64 * 1_000_000);
                out.push('.');
                out.push_str(&nanos[..digits]);
            }
            t => {
                // ".999…": trailing zeros trimmed, omitted when zero
                let digits = t.len() - 1;
                let nanos = format!("{:09}", c.millis as u64 * 1_000_000);
                let f = nanos[..digits].trim_end_matches('0');
                if !f.is_empty() {
                    out.push('.');
                    out.push_str(f);
                }
            }
        }
        rest = &rest[tok.len()..];
    }
    out
}

fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e21).contains(&a) {
        let s = format!("{f:e}");
        // Go: 1e+21, 1.5e-05
        if let Some((m, e)) = s.split_once('e') {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            return format!("{m}e{sign}{digits:0>2}");
        }
        return s;
    }
    format!("{f}")
}

impl fmt::Display for Value {
    /// Go's `fmt.Print` of the value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("<no value>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float(*x)),
            Value::Str(s) | Value::SafeHtml(s) => f.write_str(s),
            Value::List(l) | Value::Alerts(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Pairs(p) => {
                f.write_str("[")?;
                for (i, (n, v)) in p.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{{{n} {v}}}")?;
                }
                f.write_str("]")
            }
            Value::KV(m) => {
                f.write_str("map[")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k}:{v}")?;
                }
                f.write_str("]")
            }
            Value::Struct(m) => {
                f.write_str("{")?;
                for (i, v) in m.values().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("}")
            }
            Value::Time(t) => f.write_str(&go_time_string(*t)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

#[derive(Clone, Debug)]
enum Node {
    Text(String),
    Action {
        line: usize,
        pipe: Pipeline,
    },
    If {
        line: usize,
        pipe: Pipeline,
        then: Vec<Node>,
        else_: Vec<Node>,
    },
    Range {
        line: usize,
        pipe: Pipeline,
        body: Vec<Node>,
        else_: Vec<Node>,
    },
    With {
        line: usize,
        pipe: Pipeline,
        body: Vec<Node>,
        else_: Vec<Node>,
    },
    Template {
        line: usize,
        name: String,
        pipe: Option<Pipeline>,
    },
    Break,
    Continue,
}

#[derive(Clone, Debug)]
struct Pipeline {
    decl: Vec<String>,
    assign: bool,
    cmds: Vec<Command>,
}

#[derive(Clone, Debug)]
struct Command {
    args: Vec<Arg>,
}

#[derive(Clone, Debug)]
enum Arg {
    Dot,
    /// `.A.B` on dot.
    Field(Vec<String>),
    /// `$x.A.B`.
    Var(String, Vec<String>),
    Ident(String),
    Lit(Value),
    /// `(pipeline).A.B`.
    Pipe(Box<Pipeline>, Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A field chain `.A.B`; `true` when attached to the preceding `)` or variable.
    Field(Vec<String>, bool),
    Dot,
    Var(String),
    Ident(String),
    Lit(Value),
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
}

const KNOWN_FUNCS: [&str; 33] = [
    "date",
    "tz",
    "and",
    "or",
    "not",
    "len",
    "index",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "print",
    "printf",
    "println",
    "html",
    "urlquery",
    "js",
    "slice",
    "call",
    "toUpper",
    "toLower",
    "title",
    "join",
    "safeHtml",
    "reReplaceAll",
    "match",
    "stringSlice",
    "trimSpace",
    "safeUrl",
    "urlUnescape",
    "toJson",
];

fn lex_action(src: &str, ctx: &str) -> Result<Vec<Tok>> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let ident_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'|' => {
                out.push(Tok::Pipe);
                i += 1
            }
            b'(' => {
                out.push(Tok::LParen);
                i += 1
            }
            b')' => {
                out.push(Tok::RParen);
                i += 1
            }
            b',' => {
                out.push(Tok::Comma);
                i += 1
            }
            b':' if b.get(i + 1) == Some(&b'=') => {
                out.push(Tok::Declare);
                i += 2
            }
            b'=' => {
                out.push(Tok::Assign);
                i += 1
            }
            b'.' if b
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                let attached = i > 0 && matches!(b[i - 1], b')');
                let mut chain = Vec::new();
                while i < b.len()
                    && b[i] == b'.'
                    && b.get(i + 1)
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                {
                    let s = i + 1;
                    i += 1;
                    while i < b.len() && ident_char(b[i]) {
                        i += 1;
                    }
                    chain.push(src[s..i].to_string());
                }
                out.push(Tok::Field(chain, attached));
            }
            b'.' if !b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) => {
                out.push(Tok::Dot);
                i += 1
            }
            b'$' => {
                let s = i;
                i += 1;
                while i < b.len() && ident_char(b[i]) {
                    i += 1;
                }
                out.push(Tok::Var(src[s..i].to_string()));
                if b.get(i) == Some(&b'.')
                    && b.get(i + 1)
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                {
                    let mut chain = Vec::new();
                    while i < b.len()
                        && b[i] == b'.'
                        && b.get(i + 1)
                            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                    {
                        let s = i + 1;
                        i += 1;
                        while i < b.len() && ident_char(b[i]) {
                            i += 1;
                        }
                        chain.push(src[s..i].to_string());
                    }
                    out.push(Tok::Field(chain, true));
                }
            }
            b'"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(&ch) = b.get(i) else {
                        return err(format!("{ctx}: unterminated quoted string"));
                    };
                    match ch {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\\' => {
                            let e = b.get(i + 1).copied().unwrap_or(b'\\');
                            match e {
                                b'n' => s.push('\n'),
                                b't' => s.push('\t'),
                                b'r' => s.push('\r'),
                                b'\\' => s.push('\\'),
                                b'"' => s.push('"'),
                                b'\'' => s.push('\''),
                                b'a' => s.push('\u{07}'),
                                b'b' => s.push('\u{08}'),
                                b'f' => s.push('\u{0c}'),
                                b'v' => s.push('\u{0b}'),
                                b'x' => {
                                    let h = src.get(i + 2..i + 4).unwrap_or("");
                                    let v = u8::from_str_radix(h, 16).map_err(|_| {
                                        TemplateError(format!("{ctx}: bad escape in string"))
                                    })?;
                                    s.push(v as char);
                                    i += 2;
                                }
                                b'u' => {
                                    let h = src.get(i + 2..i + 6).unwrap_or("");
                                    let v = u32::from_str_radix(h, 16)
                                        .ok()
                                        .and_then(char::from_u32)
                                        .ok_or_else(|| {
                                            TemplateError(format!("{ctx}: bad escape in string"))
                                        })?;
                                    s.push(v);
                                    i += 4;
                                }
                                _ => return err(format!("{ctx}: bad escape in string")),
                            }
                            i += 2;
                        }
                        _ => {
                            let rest = &src[i..];
                            let chr = rest.chars().next().unwrap_or(' ');
                            s.push(chr);
                            i += chr.len_utf8();
                        }
                    }
                }
                out.push(Tok::Lit(Value::str(s)));
            }
            b'`' => {
                let s = i + 1;
                let Some(end) = src[s..].find('`') else {
                    return err(format!("{ctx}: unterminated raw quoted string"));
                };
                out.push(Tok::Lit(Value::str(&src[s..s + end])));
                i = s + end + 1;
            }
            b'\'' => {
                let rest = &src[i + 1..];
                let mut chars = rest.chars();
                let ch = chars.next();
                let (v, used) = match ch {
                    Some('\\') => match chars.next() {
                        Some('n') => ('\n', 2),
                        Some('t') => ('\t', 2),
                        Some('\\') => ('\\', 2),
                        Some('\'') => ('\'', 2),
                        _ => return err(format!("{ctx}: bad character constant")),
                    },
                    Some(c) => (c, c.len_utf8()),
                    None => return err(format!("{ctx}: unterminated character constant")),
                };
                if !rest[used..].starts_with('\'') {
                    let end = rest.find('\'').map_or(rest.len(), |e| e + 1);
                    return err(format!(
                        "{ctx}: malformed character constant: '{}",
                        &rest[..end]
                    ));
                }
                out.push(Tok::Lit(Value::Int(v as i64)));
                i += 1 + used + 1;
            }
            c if c.is_ascii_digit()
                || ((c == b'-' || c == b'+' || c == b'.')
                    && b.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let s = i;
                i += 1;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'.'
                        || b[i] == b'_'
                        || ((b[i] == b'-' || b[i] == b'+') && matches!(b[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
                let t = src[s..i].replace('_', "");
                let v = if let Some(h) = t.strip_prefix("0x") {
                    i64::from_str_radix(h, 16).ok().map(Value::Int)
                } else {
                    t.parse::<i64>()
                        .map(Value::Int)
                        .ok()
                        .or_else(|| t.parse::<f64>().ok().map(Value::Float))
                };
                match v {
                    Some(v) => out.push(Tok::Lit(v)),
                    None => return err(format!("{ctx}: bad number syntax: {:?}", &src[s..i])),
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let s = i;
                while i < b.len() && ident_char(b[i]) {
                    i += 1;
                }
                let w = &src[s..i];
                out.push(match w {
                    "true" => Tok::Lit(Value::Bool(true)),
                    "false" => Tok::Lit(Value::Bool(false)),
                    "nil" => Tok::Lit(Value::Nil),
                    _ => Tok::Ident(w.to_string()),
                });
            }
            _ => {
                let chr = src[i..].chars().next().unwrap_or('?');
                return err(format!("{ctx}: unexpected {chr:?} in command"));
            }
        }
    }
    Ok(out)
}

struct TokParser<'a> {
    toks: &'a [Tok],
    pos: usize,
    ctx: &'a str,
    depth: usize,
    extra: &'a HashMap<String, Func>,
}

impl TokParser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn pipeline(&mut self, allow_decl: bool) -> Result<Pipeline> {
        self.depth += 1;
        if self.depth > 100 {
            return err(format!("{}: expression nested too deeply", self.ctx));
        }
        let mut decl = Vec::new();
        let mut assign = false;
        if allow_decl {
            // $x := / $x = / $i, $e :=
            let save = self.pos;
            let mut vars = Vec::new();
            while let Some(Tok::Var(v)) = self.peek() {
                vars.push(v.clone());
                self.pos += 1;
                if self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    continue;
                }
                break;
            }
            match self.peek() {
                Some(Tok::Declare) if !vars.is_empty() => {
                    self.pos += 1;
                    decl = vars;
                }
                Some(Tok::Assign) if vars.len() == 1 => {
                    self.pos += 1;
                    decl = vars;
                    assign = true;
                }
                _ => self.pos = save,
            }
        }
        let mut cmds = Vec::new();
        loop {
            let mut args = Vec::new();
            while let Some(t) = self.peek() {
                if matches!(t, Tok::Pipe | Tok::RParen) {
                    break;
                }
                args.push(self.operand()?);
            }
            if args.is_empty() {
                // Go accepts a trailing `|` with nothing after it.
                if !cmds.is_empty() && self.peek().is_none() {
                    break;
                }
                return err(format!("{}: missing value for command", self.ctx));
            }
            cmds.push(Command { args });
            if self.peek() == Some(&Tok::Pipe) {
                self.pos += 1;
                continue;
            }
            break;
        }
        self.depth -= 1;
        Ok(Pipeline { decl, assign, cmds })
    }

    /// A field chain attached to the operand just read.
    fn fields(&mut self) -> Vec<String> {
        match self.peek() {
            Some(Tok::Field(n, true)) => {
                let f = n.clone();
                self.pos += 1;
                f
            }
            _ => Vec::new(),
        }
    }

    fn operand(&mut self) -> Result<Arg> {
        let Some(t) = self.peek().cloned() else {
            return err(format!("{}: missing operand", self.ctx));
        };
        self.pos += 1;
        Ok(match t {
            Tok::Dot => Arg::Dot,
            Tok::Field(n, _) => Arg::Field(n),
            Tok::Var(v) => {
                let f = self.fields();
                Arg::Var(v, f)
            }
            Tok::Ident(n) => {
                if !KNOWN_FUNCS.contains(&n.as_str()) && !self.extra.contains_key(&n) {
                    return err(format!("{}: function {n:?} not defined", self.ctx));
                }
                Arg::Ident(n)
            }
            Tok::Lit(v) => Arg::Lit(v),
            Tok::LParen => {
                let p = self.pipeline(false)?;
                if self.peek() != Some(&Tok::RParen) {
                    return err(format!("{}: unclosed left paren", self.ctx));
                }
                self.pos += 1;
                let f = self.fields();
                Arg::Pipe(Box::new(p), f)
            }
            t => return err(format!("{}: unexpected {t:?} in operand", self.ctx)),
        })
    }
}

fn parse_pipeline(
    src: &str,
    ctx: &str,
    allow_decl: bool,
    extra: &HashMap<String, Func>,
) -> Result<Pipeline> {
    let toks = lex_action(src, ctx)?;
    let mut p = TokParser {
        toks: &toks,
        pos: 0,
        ctx,
        depth: 0,
        extra,
    };
    let pipe = p.pipeline(allow_decl)?;
    if p.pos != toks.len() {
        return err(format!("{ctx}: unexpected {:?} in operand", toks[p.pos]));
    }
    Ok(pipe)
}

#[derive(Debug)]
enum Item {
    Text(String),
    Action { body: String, line: usize },
}

/// Splits source into text and actions, applying trim markers and dropping comments.
fn lex(name: &str, src: &str) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut rest = src;
    let mut line = 1;
    let mut trim_next = false;
    while !rest.is_empty() {
        let Some(start) = rest.find("{{") else {
            let mut t = rest;
            if trim_next {
                t = t.trim_start_matches([' ', '\t', '\r', '\n']);
            }
            items.push(Item::Text(t.to_string()));
            break;
        };
        let mut text = &rest[..start];
        line += text.matches('\n').count();
        let after = &rest[start + 2..];
        let trim_left = after.starts_with("- ")
            || after.starts_with("-\t")
            || after.starts_with("-\n")
            || after.starts_with("-\r");
        if trim_next {
            text = text.trim_start_matches([' ', '\t', '\r', '\n']);
        }
        if trim_left {
            text = text.trim_end_matches([' ', '\t', '\r', '\n']);
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        let inner_start = if trim_left { 1 } else { 0 };
        let body_src = &after[inner_start..];
        // A comment may contain "}}"; find its end first.
        let trimmed = body_src.trim_start();
        let close = if trimmed.starts_with("/*") {
            let off = body_src.len() - trimmed.len();
            match trimmed.find("*/") {
                Some(e) => {
                    let after_comment = &body_src[off + e + 2..];
                    let ws = after_comment.len() - after_comment.trim_start().len();
                    let rest_c = &after_comment[ws..];
                    if rest_c.starts_with("-}}") || rest_c.starts_with("}}") {
                        Some(off + e + 2 + ws)
                    } else {
                        return err(format!(
                            "template: {name}:{line}: comment ends before closing delimiter"
                        ));
                    }
                }
                None => return err(format!("template: {name}:{line}: unclosed comment")),
            }
        } else {
            match find_close(body_src) {
                Ok(c) => Some(c),
                Err(e) => return err(format!("template: {name}:{line}: {e}")),
            }
        };
        let Some(close) = close else {
            return err(format!("template: {name}:{line}: unclosed action"));
        };
        let mut body = &body_src[..close];
        let mut tail = &body_src[close..];
        trim_next = false;
        if tail.starts_with("-}}") {
            trim_next = true;
            tail = &tail[3..];
        } else if let Some(t) = tail.strip_prefix("}}") {
            tail = t;
        }
        if trim_next {
            body = body
                .strip_suffix(' ')
                .or(body.strip_suffix('\t'))
                .or(body.strip_suffix('\n'))
                .unwrap_or(body);
        }
        let is_comment = body.trim().starts_with("/*");
        if !is_comment {
            items.push(Item::Action {
                body: body.to_string(),
                line,
            });
        }
        line += body.matches('\n').count();
        rest = tail;
    }
    Ok(items)
}

/// Finds the closing `}}` (or ` -}}`) of an action, skipping quoted strings; the error is
/// Go's lexer's.
fn find_close(s: &str) -> std::result::Result<usize, &'static str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                loop {
                    match b.get(i) {
                        None | Some(b'\n') => {
                            return Err(if q == b'"' {
                                "unterminated quoted string"
                            } else {
                                "unterminated character constant"
                            })
                        }
                        Some(&c) if c == q => break,
                        Some(b'\\') => i += 2,
                        Some(_) => i += 1,
                    }
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                if i >= b.len() {
                    return Err("unterminated raw quoted string");
                }
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Ok(i),
            b'-' if s[i..].starts_with("-}}") && i > 0 && b[i - 1].is_ascii_whitespace() => {
                return Ok(i)
            }
            _ => {}
        }
        i += 1;
    }
    Err("unclosed action")
}

enum Stop {
    End,
    Else(String),
    Eof,
}

struct Parser<'a> {
    name: &'a str,
    items: Vec<Item>,
    pos: usize,
    defs: Vec<(String, Vec<Node>)>,
    depth: usize,
    extra: &'a HashMap<String, Func>,
    /// Variables in scope (Go checks them when parsing).
    vars: Vec<String>,
    /// The line of the last `{{end}}`/`{{else}}` seen.
    last_line: usize,
}

fn check_args(args: &[Arg], vars: &[String], ctx: &str) -> Result<()> {
    for a in args {
        match a {
            Arg::Var(v, _) if !vars.contains(v) => {
                return err(format!("{ctx}: undefined variable {v:?}"))
            }
            Arg::Pipe(p, _) => check_pipe(p, vars, ctx)?,
            _ => {}
        }
    }
    Ok(())
}

fn check_pipe(p: &Pipeline, vars: &[String], ctx: &str) -> Result<()> {
    for c in &p.cmds {
        check_args(&c.args, vars, ctx)?;
    }
    // Go checks `$x = …` only when executing.
    Ok(())
}

impl Parser<'_> {
    fn list(&mut self) -> Result<(Vec<Node>, Stop)> {
        let mark = self.vars.len();
        let r = self.list_inner();
        self.vars.truncate(mark);
        r
    }

    fn declare(&mut self, p: &Pipeline) {
        if !p.assign {
            self.vars.extend(p.decl.iter().cloned());
        }
    }

    fn list_inner(&mut self) -> Result<(Vec<Node>, Stop)> {
        self.depth += 1;
        if self.depth > 200 {
            return err(format!("template: {}: nesting too deep", self.name));
        }
        let mut nodes = Vec::new();
        while self.pos < self.items.len() {
            let idx = self.pos;
            self.pos += 1;
            let (body, line) = match &self.items[idx] {
                Item::Text(t) => {
                    nodes.push(Node::Text(t.clone()));
                    continue;
                }
                Item::Action { body, line } => (body.trim().to_string(), *line),
            };
            let ctx = format!("template: {}:{}", self.name, line);
            let (kw, rest) = match body.split_once(|c: char| c.is_whitespace()) {
                Some((k, r)) => (k, r.trim()),
                None => (body.as_str(), ""),
            };
            match kw {
                "end" => {
                    self.depth -= 1;
                    self.last_line = line;
                    return Ok((nodes, Stop::End));
                }
                "else" => {
                    self.depth -= 1;
                    self.last_line = line;
                    return Ok((nodes, Stop::Else(rest.to_string())));
                }
                "break" => nodes.push(Node::Break),
                "continue" => nodes.push(Node::Continue),
                "if" | "with" | "range" => {
                    if rest.is_empty() {
                        return err(format!("{ctx}: missing value for {kw}"));
                    }
                    let pipe = parse_pipeline(rest, &ctx, true, self.extra)?;
                    nodes.push(self.control(kw, pipe, line, &ctx)?);
                }
                "define" => {
                    let toks = lex_action(rest, &ctx)?;
                    let Some(Tok::Lit(Value::Str(n))) = toks.first() else {
                        return err(format!("{ctx}: unexpected \"}}}}\" in define clause"));
                    };
                    let n = n.to_string();
                    let saved = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
                    let r = self.list();
                    self.vars = saved;
                    let (body, stop) = r?;
                    if !matches!(stop, Stop::End) {
                        return err(format!("{ctx}: unexpected EOF in define"));
                    }
                    self.defs.push((n, body));
                }
                "template" | "block" => {
                    let toks = lex_action(rest, &ctx)?;
                    let Some(Tok::Lit(Value::Str(n))) = toks.first() else {
                        return err(format!("{ctx}: unexpected \"}}}}\" in {kw} clause"));
                    };
                    let n = n.to_string();
                    let pipe = if toks.len() > 1 {
                        let mut p = TokParser {
                            toks: &toks[1..],
                            pos: 0,
                            ctx: &ctx,
                            depth: 0,
                            extra: self.extra,
                        };
                        let pipe = p.pipeline(false)?;
                        if p.pos != toks.len() - 1 {
                            return err(format!("{ctx}: unexpected token in template clause"));
                        }
                        Some(pipe)
                    } else {
                        None
                    };
                    if let Some(p) = &pipe {
                        check_pipe(p, &self.vars, &ctx)?;
                    }
                    if kw == "block" {
                        let saved = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
                        let r = self.list();
                        self.vars = saved;
                        let (body, stop) = r?;
                        if !matches!(stop, Stop::End) {
                            return err(format!("{ctx}: unexpected EOF in block"));
                        }
                        self.defs.push((n.clone(), body));
                    }
                    nodes.push(Node::Template {
                        line,
                        name: n,
                        pipe,
                    });
                }
                _ => {
                    let pipe = parse_pipeline(&body, &ctx, true, self.extra)?;
                    check_pipe(&pipe, &self.vars, &ctx)?;
                    self.declare(&pipe);
                    nodes.push(Node::Action { line, pipe });
                }
            }
        }
        self.depth -= 1;
        Ok((nodes, Stop::Eof))
    }

    fn control(&mut self, kw: &str, pipe: Pipeline, line: usize, ctx: &str) -> Result<Node> {
        check_pipe(&pipe, &self.vars, ctx)?;
        let mark = self.vars.len();
        self.declare(&pipe);
        let r = self.control_inner(kw, pipe, line, ctx);
        self.vars.truncate(mark);
        r
    }

    fn control_inner(&mut self, kw: &str, pipe: Pipeline, line: usize, ctx: &str) -> Result<Node> {
        let (body, stop) = self.list()?;
        let else_ = match stop {
            Stop::End => Vec::new(),
            Stop::Eof => return err(format!("{ctx}: unexpected EOF")),
            Stop::Else(rest) => {
                let rest = rest.trim();
                if rest == "if" || rest == "with" {
                    return err(format!("{ctx}: missing value for {rest}"));
                }
                if let Some(cond) = rest
                    .strip_prefix("if ")
                    .or_else(|| rest.strip_prefix("with "))
                {
                    // else if / else with: a nested control node that consumes the {{end}}.
                    let sub_kw = if rest.starts_with("if") { "if" } else { "with" };
                    let p = parse_pipeline(cond, ctx, true, self.extra)?;
                    vec![self.control(sub_kw, p, line, ctx)?]
                } else if rest.is_empty() {
                    let (e, stop) = self.list()?;
                    if !matches!(stop, Stop::End) {
                        return err(format!("{ctx}: expected end; found else"));
                    }
                    e
                } else {
                    return err(format!("{ctx}: unexpected {rest:?} after else"));
                }
            }
        };
        Ok(match kw {
            "if" => Node::If {
                line,
                pipe,
                then: body,
                else_,
            },
            "with" => Node::With {
                line,
                pipe,
                body,
                else_,
            },
            _ => Node::Range {
                line,
                pipe,
                body,
                else_,
            },
        })
    }
}

/// A function a host adds to the template language (e.g. Prometheus's `humanize`): it gets the
/// evaluated arguments and returns a value or an error message.
pub type Func = Arc<dyn Fn(&[Value]) -> std::result::Result<Value, String> + Send + Sync>;

/// A set of named templates, as Go's `*template.Template` with its associated templates.
#[derive(Clone, Default)]
pub struct Template {
    defs: HashMap<String, Arc<Vec<Node>>>,
    funcs: HashMap<String, Func>,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.defs.keys().collect();
        names.sort();
        f.debug_struct("Template")
            .field("defs", &names)
            .field("funcs", &self.funcs.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Alertmanager's `default.tmpl` as shipped with Alertmanager 0.25.
pub const DEFAULT_TEMPLATE: &str = include_str!("default.tmpl");

impl Template {
    pub fn new() -> Self {
        Template::default()
    }

    /// A set holding Alertmanager's default templates.
    pub fn with_defaults() -> Self {
        let mut t = Template::new();
        // The embedded file is tested to parse.
        let _ = t.parse("default.tmpl", DEFAULT_TEMPLATE);
        t
    }

    /// Adds (or replaces) a function; register before parsing templates that use it. Added
    /// functions take precedence over the built-in ones of the same name.
    pub fn add_func(&mut self, name: &str, f: Func) {
        self.funcs.insert(name.to_string(), f);
    }

    /// Parses `src`, adding its `define`s and (when non-blank) its body under `name`.
    pub fn parse(&mut self, name: &str, src: &str) -> Result<()> {
        let items = lex(name, src)?;
        let mut p = Parser {
            name,
            items,
            pos: 0,
            defs: Vec::new(),
            depth: 0,
            extra: &self.funcs,
            vars: vec!["$".to_string()],
            last_line: 1,
        };
        let (body, stop) = p.list()?;
        match stop {
            Stop::Eof => {}
            Stop::End => {
                return err(format!(
                    "template: {name}:{}: unexpected {{{{end}}}}",
                    p.last_line
                ))
            }
            Stop::Else(_) => {
                return err(format!(
                    "template: {name}:{}: unexpected {{{{else}}}}",
                    p.last_line
                ))
            }
        }
        for (n, b) in p.defs {
            self.defs.insert(n, Arc::new(b));
        }
        let blank = body
            .iter()
            .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()));
        if !blank || !self.defs.contains_key(name) {
            self.defs.insert(name.to_string(), Arc::new(body));
        }
        Ok(())
    }

    pub fn has(&self, name: &str) -> bool {
        self.defs.contains_key(name)
    }

    /// Executes the named template as text.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String> {
        self.exec(name, data, false)
    }

    /// Executes the named template with `html/template`-like contextual escaping.
    pub fn execute_html(&self, name: &str, data: &Value) -> Result<String> {
        self.exec(name, data, true)
    }

    /// Alertmanager's `ExecuteTextString`: parses `text` against this set and executes it.
    pub fn execute_text_string(&self, text: &str, data: &Value) -> Result<String> {
        if text.is_empty() {
            return Ok(String::new());
        }
        let mut t = self.clone();
        t.parse("\u{0}inline", text)?;
        t.execute("\u{0}inline", data)
    }

    /// Alertmanager's `ExecuteHTMLString`.
    pub fn execute_html_string(&self, html: &str, data: &Value) -> Result<String> {
        if html.is_empty() {
            return Ok(String::new());
        }
        let mut t = self.clone();
        t.parse("\u{0}inline", html)?;
        t.execute_html("\u{0}inline", data)
    }

    fn exec(&self, name: &str, data: &Value, html: bool) -> Result<String> {
        let Some(body) = self.defs.get(name).cloned() else {
            return err(format!(
                "template: no template {name:?} associated with template"
            ));
        };
        let mut st = State {
            t: self,
            out: String::new(),
            html: if html { Some(HtmlCtx::default()) } else { None },
            vars: vec![("$".to_string(), data.clone())],
            depth: 0,
            name: name.trim_start_matches('\u{0}').to_string(),
        };
        st.walk(&body, data)?;
        Ok(st.out)
    }
}

// ---------------------------------------------------------------------------------------------
// Execution

enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'a> {
    t: &'a Template,
    out: String,
    html: Option<HtmlCtx>,
    vars: Vec<(String, Value)>,
    depth: usize,
    name: String,
}

impl State<'_> {
    fn call(&self, f: &str, args: Vec<Value>, ctx: &str) -> Result<Value> {
        match self.t.funcs.get(f) {
            Some(func) => {
                func(&args).map_err(|e| TemplateError(format!("{ctx}: error calling {f}: {e}")))
            }
            None => call(f, args, ctx),
        }
    }

    fn ctx(&self, line: usize) -> String {
        format!("template: {}:{}", self.name, line)
    }

    fn emit_text(&mut self, t: &str) {
        match &mut self.html {
            Some(h) => h.text(t, &mut self.out),
            None => self.out.push_str(t),
        }
    }

    fn emit_value(&mut self, v: &Value, pre_escaped_for: Option<&str>) {
        let s = v.to_string();
        match &mut self.html {
            None => self.out.push_str(&s),
            Some(h) => {
                let safe = matches!(v, Value::SafeHtml(_));
                h.action(&s, safe, pre_escaped_for, &mut self.out)
            }
        }
    }

    fn walk(&mut self, nodes: &[Node], dot: &Value) -> Result<Flow> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(format!(
                "template: {}: exceeded maximum template depth ({MAX_DEPTH})",
                self.name
            ));
        }
        let mark = self.vars.len();
        let r = self.walk_inner(nodes, dot);
        self.vars.truncate(mark);
        self.depth -= 1;
        r
    }

    fn walk_inner(&mut self, nodes: &[Node], dot: &Value) -> Result<Flow> {
        for n in nodes {
            match n {
                Node::Text(t) => self.emit_text(t),
                Node::Action { line, pipe } => {
                    let ctx = self.ctx(*line);
                    // html/template merges a trailing `| urlquery` / `| html` with its own
                    // escaper for the context.
                    let mut pipe_ref = pipe;
                    let trimmed;
                    let mut pre = None;
                    if self.html.is_some() && pipe.decl.is_empty() && pipe.cmds.len() > 1 {
                        if let Some(Command { args }) = pipe.cmds.last() {
                            if let [Arg::Ident(f)] = args.as_slice() {
                                if f == "urlquery" || f == "html" {
                                    let mut p = pipe.clone();
                                    p.cmds.pop();
                                    trimmed = p;
                                    pipe_ref = &trimmed;
                                    pre = Some(if f == "urlquery" { "urlquery" } else { "html" });
                                }
                            }
                        }
                    }
                    let v = self.pipeline(pipe_ref, dot, &ctx)?;
                    if pipe.decl.is_empty() {
                        self.emit_value(&v, pre);
                    }
                }
                Node::If {
                    line,
                    pipe,
                    then,
                    else_,
                } => {
                    let ctx = self.ctx(*line);
                    let mark = self.vars.len();
                    let v = self.pipeline(pipe, dot, &ctx)?;
                    let f = if v.truthy() {
                        self.walk(then, dot)?
                    } else {
                        self.walk(else_, dot)?
                    };
                    self.vars.truncate(mark);
                    if !matches!(f, Flow::Normal) {
                        return Ok(f);
                    }
                }
                Node::With {
                    line,
                    pipe,
                    body,
                    else_,
                } => {
                    let ctx = self.ctx(*line);
                    let mark = self.vars.len();
                    let v = self.pipeline(pipe, dot, &ctx)?;
                    let f = if v.truthy() {
                        self.walk(body, &v)?
                    } else {
                        self.walk(else_, dot)?
                    };
                    self.vars.truncate(mark);
                    if !matches!(f, Flow::Normal) {
                        return Ok(f);
                    }
                }
                Node::Range {
                    line,
                    pipe,
                    body,
                    else_,
                } => {
                    let ctx = self.ctx(*line);
                    let mut p = pipe.clone();
                    let decl = std::mem::take(&mut p.decl);
                    let v = self.pipeline(&p, dot, &ctx)?;
                    let items = v
                        .items()
                        .map_err(|e| TemplateError(format!("{ctx}: {}", e.0)))?;
                    if items.is_empty() {
                        let f = self.walk(else_, dot)?;
                        if !matches!(f, Flow::Normal) {
                            return Ok(f);
                        }
                        continue;
                    }
                    for (k, e) in items {
                        let mark = self.vars.len();
                        match decl.as_slice() {
                            [one] => self.vars.push((one.clone(), e.clone())),
                            [a, b] => {
                                self.vars.push((a.clone(), k));
                                self.vars.push((b.clone(), e.clone()));
                            }
                            _ => {}
                        }
                        let f = self.walk(body, &e)?;
                        self.vars.truncate(mark);
                        if matches!(f, Flow::Break) {
                            break;
                        }
                    }
                }
                Node::Template { line, name, pipe } => {
                    let ctx = self.ctx(*line);
                    let v = match pipe {
                        Some(p) => self.pipeline(p, dot, &ctx)?,
                        None => Value::Nil,
                    };
                    let Some(body) = self.t.defs.get(name).cloned() else {
                        return err(format!("{ctx}: no such template {name:?}"));
                    };
                    let saved =
                        std::mem::replace(&mut self.vars, vec![("$".to_string(), v.clone())]);
                    let r = self.walk(&body, &v);
                    self.vars = saved;
                    r?;
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn lookup_var(&self, name: &str, ctx: &str) -> Result<Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| TemplateError(format!("{ctx}: undefined variable: {name}")))
    }

    fn pipeline(&mut self, p: &Pipeline, dot: &Value, ctx: &str) -> Result<Value> {
        let mut last: Option<Value> = None;
        for c in &p.cmds {
            last = Some(self.command(c, dot, last, ctx)?);
        }
        let v = last.unwrap_or(Value::Nil);
        if p.assign {
            if let Some(name) = p.decl.first() {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = v.clone(),
                    None => return err(format!("{ctx}: undefined variable: {name}")),
                }
            }
        } else if let Some(name) = p.decl.first() {
            self.vars.push((name.clone(), v.clone()));
        }
        Ok(v)
    }

    fn arg(&mut self, a: &Arg, dot: &Value, ctx: &str) -> Result<Value> {
        match a {
            Arg::Dot => Ok(dot.clone()),
            Arg::Lit(v) => Ok(v.clone()),
            Arg::Field(f) => fields(dot.clone(), f, &[], ctx),
            Arg::Var(v, f) => fields(self.lookup_var(v, ctx)?, f, &[], ctx),
            Arg::Pipe(p, f) => {
                let v = self.pipeline(p, dot, ctx)?;
                fields(v, f, &[], ctx)
            }
            Arg::Ident(f) => self.call(f, Vec::new(), ctx),
        }
    }

    fn command(
        &mut self,
        c: &Command,
        dot: &Value,
        fin: Option<Value>,
        ctx: &str,
    ) -> Result<Value> {
        let first = &c.args[0];
        // `and` and `or` short-circuit (Go 1.18+): later arguments are not evaluated.
        if let Arg::Ident(f) = first {
            if (f == "and" || f == "or") && !self.t.funcs.contains_key(f.as_str()) {
                let want = f == "or";
                let mut last = Value::Nil;
                let n = c.args.len() - 1 + usize::from(fin.is_some());
                if n == 0 {
                    return err(format!(
                        "{ctx}: wrong number of args for {f}: want at least 1 got 0"
                    ));
                }
                for a in &c.args[1..] {
                    last = self.arg(a, dot, ctx)?;
                    if last.truthy() == want {
                        return Ok(last);
                    }
                }
                if let Some(v) = fin {
                    last = v;
                }
                return Ok(last);
            }
        }
        let mut rest = Vec::with_capacity(c.args.len());
        for a in &c.args[1..] {
            rest.push(self.arg(a, dot, ctx)?);
        }
        if let Some(f) = fin {
            rest.push(f);
        }
        match first {
            Arg::Ident(f) => self.call(f, rest, ctx),
            Arg::Field(f) => fields(dot.clone(), f, &rest, ctx),
            Arg::Var(v, f) if !f.is_empty() => fields(self.lookup_var(v, ctx)?, f, &rest, ctx),
            Arg::Pipe(p, f) if !f.is_empty() => {
                let v = self.pipeline(p, dot, ctx)?;
                fields(v, f, &rest, ctx)
            }
            other => {
                if !rest.is_empty() {
                    return err(format!(
                        "{ctx}: can't give argument to non-function {other:?}"
                    ));
                }
                self.arg(other, dot, ctx)
            }
        }
    }
}

/// Evaluates a field chain; the last element receives `args` (a method call).
fn fields(mut v: Value, chain: &[String], args: &[Value], ctx: &str) -> Result<Value> {
    for (i, name) in chain.iter().enumerate() {
        let last = i + 1 == chain.len();
        let a: &[Value] = if last { args } else { &[] };
        v = field(&v, name, a, ctx)?;
    }
    if chain.is_empty() && !args.is_empty() {
        return err(format!("{ctx}: can't give argument to non-function"));
    }
    Ok(v)
}

fn no_args(name: &str, args: &[Value], ctx: &str) -> Result<()> {
    if args.is_empty() {
        Ok(())
    } else {
        err(format!(
            "{ctx}: wrong number of args for {name}: want 0 got {}",
            args.len()
        ))
    }
}

fn field(v: &Value, name: &str, args: &[Value], ctx: &str) -> Result<Value> {
    let nope = || {
        err(format!(
            "{ctx}: can't evaluate field {name} in type {}",
            v.type_name()
        ))
    };
    match v {
        Value::Struct(m) => match m.get(name) {
            Some(x) => {
                no_args(name, args, ctx)?;
                Ok(x.clone())
            }
            None => nope(),
        },
        Value::KV(m) => match name {
            "SortedPairs" => {
                no_args(name, args, ctx)?;
                Ok(Value::Pairs(Arc::new(
                    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                )))
            }
            "Names" => {
                no_args(name, args, ctx)?;
                Ok(strings(m.keys().cloned()))
            }
            "Values" => {
                no_args(name, args, ctx)?;
                Ok(strings(m.values().cloned()))
            }
            "Remove" => {
                let [keys] = args else {
                    return err(format!(
                        "{ctx}: wrong number of args for Remove: want 1 got {}",
                        args.len()
                    ));
                };
                let keys = keys.string_list()?;
                Ok(Value::KV(Arc::new(
                    m.iter()
                        .filter(|(k, _)| !keys.contains(k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )))
            }
            key => {
                no_args(name, args, ctx)?;
                Ok(Value::str(m.get(key).map(String::as_str).unwrap_or("")))
            }
        },
        Value::Pairs(p) => match name {
            "Names" => {
                no_args(name, args, ctx)?;
                Ok(strings(p.iter().map(|(n, _)| n.clone())))
            }
            "Values" => {
                no_args(name, args, ctx)?;
                Ok(strings(p.iter().map(|(_, v)| v.clone())))
            }
            _ => nope(),
        },
        Value::Alerts(a) => {
            let want = match name {
                "Firing" => "firing",
                "Resolved" => "resolved",
                _ => return nope(),
            };
            no_args(name, args, ctx)?;
            Ok(Value::Alerts(Arc::new(
                a.iter()
                    .filter(|al| {
                        matches!(al, Value::Struct(m) if m.get("Status").and_then(Value::as_str) == Some(want))
                    })
                    .cloned()
                    .collect(),
            )))
        }
        Value::Time(t) => match name {
            "Format" => {
                let [Value::Str(layout)] = args else {
                    return err(format!("{ctx}: Format wants one string argument"));
                };
                Ok(Value::str(go_time_format(*t, layout)))
            }
            "Unix" => Ok(Value::Int(
                t.map(|ms| ms.div_euclid(1000)).unwrap_or(-62_135_596_800),
            )),
            "UnixMilli" => Ok(Value::Int(t.unwrap_or(-62_135_596_800_000))),
            "UTC" | "Local" => Ok(v.clone()),
            "IsZero" => Ok(Value::Bool(t.is_none())),
            "String" => Ok(Value::str(go_time_string(*t))),
            _ => nope(),
        },
        Value::Nil => err(format!(
            "{ctx}: nil pointer evaluating interface {{}}.{name}"
        )),
        _ => nope(),
    }
}

fn cmp_values(a: &Value, b: &Value, ctx: &str) -> Result<std::cmp::Ordering> {
    use std::cmp::Ordering;
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)).unwrap_or(Ordering::Equal),
        (Value::Str(x) | Value::SafeHtml(x), Value::Str(y) | Value::SafeHtml(y)) => x.cmp(y),
        _ => {
            return err(format!(
                "{ctx}: incompatible types for comparison: {} and {}",
                a.type_name(),
                b.type_name()
            ))
        }
    })
}

fn eq_values(a: &Value, b: &Value, ctx: &str) -> Result<bool> {
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Nil, Value::Nil) => true,
        (Value::Time(x), Value::Time(y)) => x == y,
        (Value::Int(_) | Value::Float(_) | Value::Str(_) | Value::SafeHtml(_), _) => {
            cmp_values(a, b, ctx)? == std::cmp::Ordering::Equal
        }
        _ => {
            return err(format!(
                "{ctx}: incompatible types for comparison: {} and {}",
                a.type_name(),
                b.type_name()
            ))
        }
    })
}

fn want_args(f: &str, args: &[Value], n: usize, ctx: &str) -> Result<()> {
    if args.len() != n {
        return err(format!(
            "{ctx}: wrong number of args for {f}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn str_arg<'a>(f: &str, v: &'a Value, ctx: &str) -> Result<&'a str> {
    v.as_str().ok_or_else(|| {
        TemplateError(format!(
            "{ctx}: wrong type for value; expected string; got {} (in {f})",
            v.type_name()
        ))
    })
}

fn sprint(args: &[Value]) -> String {
    // fmt.Sprint: spaces between operands when neither is a string.
    let mut s = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            let prev_str = args[i - 1].as_str().is_some();
            if !prev_str && a.as_str().is_none() {
                s.push(' ');
            }
        }
        let _ = write!(s, "{a}");
    }
    s
}

fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut it = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // flags/width/precision
        let mut spec = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_digit() || matches!(n, '.' | '-' | '+' | ' ' | '#' | '0') {
                spec.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(a) = it.next() else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        let prec: Option<usize> = spec.split_once('.').and_then(|(_, p)| p.parse().ok());
        let width: usize = spec
            .split('.')
            .next()
            .unwrap_or("")
            .trim_start_matches(['-', '+', ' ', '#', '0'])
            .parse()
            .unwrap_or(0);
        let s = match (verb, a) {
            ('d', Value::Int(i)) => i.to_string(),
            ('d', Value::Float(f)) => format!("%!d(float64={})", format_float(*f)),
            ('f' | 'F', Value::Float(f)) => format!("{:.*}", prec.unwrap_or(6), f),
            ('f' | 'F', Value::Int(i)) => format!("%!f(int={i})"),
            ('e', Value::Float(f)) => format!("{:.*e}", prec.unwrap_or(6), f),
            ('g', Value::Float(f)) => format_float(*f),
            ('q', v) => format!("{:?}", v.to_string()),
            ('x', Value::Int(i)) => format!("{i:x}"),
            ('x', v) => v.to_string().bytes().map(|b| format!("{b:02x}")).collect(),
            ('t', Value::Bool(b)) => b.to_string(),
            (_, v) => v.to_string(),
        };
        if s.len() < width {
            if spec.starts_with('-') {
                out.push_str(&s);
                out.push_str(&" ".repeat(width - s.len()));
            } else {
                let pad = if spec.starts_with('0') { "0" } else { " " };
                out.push_str(&pad.repeat(width - s.len()));
                out.push_str(&s);
            }
        } else {
            out.push_str(&s);
        }
    }
    let extra: Vec<&Value> = it.collect();
    if !extra.is_empty() {
        out.push_str("%!(EXTRA ");
        let parts: Vec<String> = extra
            .iter()
            .map(|v| format!("{}={v}", v.type_name()))
            .collect();
        out.push_str(&parts.join(", "));
        out.push(')');
    }
    out
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if !prev_letter {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    out
}

fn call(f: &str, args: Vec<Value>, ctx: &str) -> Result<Value> {
    Ok(match f {
        "and" => {
            if args.is_empty() {
                return err(format!(
                    "{ctx}: wrong number of args for and: want at least 1 got 0"
                ));
            }
            args.iter()
                .find(|a| !a.truthy())
                .unwrap_or(&args[args.len() - 1])
                .clone()
        }
        "or" => {
            if args.is_empty() {
                return err(format!(
                    "{ctx}: wrong number of args for or: want at least 1 got 0"
                ));
            }
            args.iter()
                .find(|a| a.truthy())
                .unwrap_or(&args[args.len() - 1])
                .clone()
        }
        "not" => {
            want_args(f, &args, 1, ctx)?;
            Value::Bool(!args[0].truthy())
        }
        "len" => {
            want_args(f, &args, 1, ctx)?;
            Value::Int(
                args[0]
                    .len()
                    .map_err(|e| TemplateError(format!("{ctx}: error calling len: {}", e.0)))?,
            )
        }
        "index" => {
            let Some((first, keys)) = args.split_first() else {
                return err(format!(
                    "{ctx}: wrong number of args for index: want at least 1 got 0"
                ));
            };
            let mut v = first.clone();
            for k in keys {
                v = match (&v, k) {
                    (Value::KV(m), Value::Str(k)) => {
                        Value::str(m.get(&**k).map(String::as_str).unwrap_or(""))
                    }
                    (Value::Struct(m), Value::Str(k)) => m.get(&**k).cloned().unwrap_or(Value::Nil),
                    (Value::List(l) | Value::Alerts(l), Value::Int(i)) => {
                        match usize::try_from(*i).ok().and_then(|i| l.get(i)) {
                            Some(x) => x.clone(),
                            None => {
                                return err(format!(
                                    "{ctx}: error calling index: index out of range: {i}"
                                ))
                            }
                        }
                    }
                    (Value::Pairs(p), Value::Int(i)) => {
                        match usize::try_from(*i).ok().and_then(|i| p.get(i)) {
                            Some((n, v)) => pair(n, v),
                            None => {
                                return err(format!(
                                    "{ctx}: error calling index: index out of range: {i}"
                                ))
                            }
                        }
                    }
                    (Value::Nil, _) => {
                        return err(format!("{ctx}: error calling index: index of untyped nil"))
                    }
                    (a, b) => {
                        return err(format!(
                            "{ctx}: error calling index: cannot index {} with {}",
                            a.type_name(),
                            b.type_name()
                        ))
                    }
                };
            }
            v
        }
        "eq" => {
            if args.len() < 2 {
                return err(format!("{ctx}: missing argument for comparison"));
            }
            let mut any = false;
            for b in &args[1..] {
                if eq_values(&args[0], b, ctx)? {
                    any = true;
                }
            }
            Value::Bool(any)
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            want_args(f, &args, 2, ctx)?;
            if f == "ne" {
                return Ok(Value::Bool(!eq_values(&args[0], &args[1], ctx)?));
            }
            let o = cmp_values(&args[0], &args[1], ctx)?;
            use std::cmp::Ordering::*;
            Value::Bool(match f {
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            })
        }
        "print" => Value::str(sprint(&args)),
        "println" => {
            let parts: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            Value::str(parts.join(" ") + "\n")
        }
        "printf" => {
            let Some((fmt_v, rest)) = args.split_first() else {
                return err(format!(
                    "{ctx}: wrong number of args for printf: want at least 1 got 0"
                ));
            };
            Value::str(sprintf(str_arg(f, fmt_v, ctx)?, rest))
        }
        "html" => Value::str(html_escape(&sprint(&args))),
        "js" => Value::str(js_escape(&sprint(&args))),
        "urlquery" => Value::str(query_escape(&sprint(&args))),
        "toUpper" => {
            want_args(f, &args, 1, ctx)?;
            Value::str(str_arg(f, &args[0], ctx)?.to_uppercase())
        }
        "toLower" => {
            want_args(f, &args, 1, ctx)?;
            Value::str(str_arg(f, &args[0], ctx)?.to_lowercase())
        }
        "title" => {
            want_args(f, &args, 1, ctx)?;
            Value::str(title(str_arg(f, &args[0], ctx)?))
        }
        "trimSpace" => {
            want_args(f, &args, 1, ctx)?;
            Value::str(str_arg(f, &args[0], ctx)?.trim())
        }
        "join" => {
            want_args(f, &args, 2, ctx)?;
            let sep = str_arg(f, &args[0], ctx)?;
            Value::str(args[1].string_list()?.join(sep))
        }
        "safeHtml" => {
            want_args(f, &args, 1, ctx)?;
            Value::SafeHtml(Arc::from(str_arg(f, &args[0], ctx)?))
        }
        "safeUrl" => {
            want_args(f, &args, 1, ctx)?;
            Value::str(str_arg(f, &args[0], ctx)?)
        }
        "stringSlice" => strings(args.iter().map(|a| a.to_string())),
        "reReplaceAll" => {
            want_args(f, &args, 3, ctx)?;
            let re = regex::Regex::new(str_arg(f, &args[0], ctx)?)
                .map_err(|e| TemplateError(format!("{ctx}: error calling reReplaceAll: {e}")))?;
            let repl = go_replacement(str_arg(f, &args[1], ctx)?);
            Value::str(re.replace_all(str_arg(f, &args[2], ctx)?, repl.as_str()))
        }
        "match" => {
            want_args(f, &args, 2, ctx)?;
            let re = regex::Regex::new(str_arg(f, &args[0], ctx)?)
                .map_err(|e| TemplateError(format!("{ctx}: error calling match: {e}")))?;
            Value::Bool(re.is_match(str_arg(f, &args[1], ctx)?))
        }
        "urlUnescape" => {
            want_args(f, &args, 1, ctx)?;
            Value::str(percent_decode(str_arg(f, &args[0], ctx)?))
        }
        "toJson" => {
            want_args(f, &args, 1, ctx)?;
            Value::str(serde_json::Value::String(args[0].to_string()).to_string())
        }
        "date" => {
            want_args(f, &args, 2, ctx)?;
            let layout = str_arg(f, &args[0], ctx)?;
            match &args[1] {
                Value::Time(t) => Value::str(go_time_format(*t, layout)),
                v => {
                    return err(format!(
                        "{ctx}: error calling date: expected time.Time, got {}",
                        v.type_name()
                    ))
                }
            }
        }
        "tz" => {
            // Only UTC is known (no time-zone database in the engine).
            want_args(f, &args, 2, ctx)?;
            let name = str_arg(f, &args[0], ctx)?;
            if name != "UTC" {
                return err(format!(
                    "{ctx}: error calling tz: unknown time zone {name} (promplay knows only UTC)"
                ));
            }
            args[1].clone()
        }
        "slice" | "call" => {
            return err(format!(
                "{ctx}: function {f:?} is not supported by promplay"
            ))
        }
        _ => return err(format!("{ctx}: function {f:?} not defined")),
    })
}

/// Go's regexp replacement syntax (`$1`, `${name}`) mapped to the `regex` crate's (`${1}`).
fn go_replacement(s: &str) -> String {
    let mut out = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() && b[i + 1].is_ascii_alphanumeric() {
            let st = i + 1;
            let mut j = st;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let _ = write!(out, "${{{}}}", &s[st..j]);
            i = j;
        } else {
            let c = s[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(Ok(v)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `html/template`'s HTML escaper (text and quoted attribute values).
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => o.push('\u{FFFD}'),
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '&' => o.push_str("&amp;"),
            '+' => o.push_str("&#43;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            c => o.push(c),
        }
    }
    o
}

fn js_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            '"' => o.push_str("\\\""),
            '<' => o.push_str("\\u003C"),
            '>' => o.push_str("\\u003E"),
            '&' => o.push_str("\\u0026"),
            '=' => o.push_str("\\u003D"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c => o.push(c),
        }
    }
    o
}

/// Go's `url.QueryEscape` (text/template's `urlquery`): space becomes `+`.
pub fn query_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            b' ' => o.push('+'),
            b => {
                let _ = write!(o, "%{b:02X}");
            }
        }
    }
    o
}

/// `html/template`'s URL processor: `norm` keeps reserved characters and existing escapes.
fn url_process(s: &str, norm: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = match b {
            b'!' | b'#' | b'$' | b'&' | b'*' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?'
            | b'@' | b'[' | b']' => norm,
            b'-' | b'.' | b'_' | b'~' => true,
            b'%' => norm,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => true,
            _ => false,
        };
        if keep {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02x}");
        }
    }
    o
}

/// `html/template`'s URL filter: only http, https and mailto schemes (or relative URLs) pass.
fn url_filter(s: &str) -> String {
    if let Some(i) = s.find(':') {
        if !s[..i].contains('/') {
            let scheme = s[..i].to_ascii_lowercase();
            if scheme != "http" && scheme != "https" && scheme != "mailto" {
                return "#ZgotmplZ".into();
            }
        }
    }
    s.to_string()
}

// ---------------------------------------------------------------------------------------------
// HTML context tracking

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum UrlPart {
    #[default]
    None,
    PreQuery,
    QueryOrFrag,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
enum HState {
    #[default]
    Text,
    Comment,
    TagName,
    InTag,
    AttrName,
    AfterAttrName,
    BeforeValue,
    AttrValue(Option<u8>),
    /// Inside `<script>`/`<style>`/`<title>`/`<textarea>` until the closing tag.
    Special(&'static str),
}

#[derive(Clone, Debug, Default)]
struct HtmlCtx {
    state: HState,
    tag: String,
    attr: String,
    url: UrlPart,
}

const URL_ATTRS: [&str; 9] = [
    "href",
    "src",
    "action",
    "cite",
    "data",
    "formaction",
    "poster",
    "background",
    "longdesc",
];

impl HtmlCtx {
    fn is_url_attr(&self) -> bool {
        URL_ATTRS.contains(&self.attr.to_ascii_lowercase().as_str())
    }

    fn end_tag(&mut self) {
        let t = self.tag.to_ascii_lowercase();
        self.state = match t.as_str() {
            "script" => HState::Special("</script"),
            "style" => HState::Special("</style"),
            "title" => HState::Special("</title"),
            "textarea" => HState::Special("</textarea"),
            _ => HState::Text,
        };
    }

    /// Feeds literal template text: tracks context, strips comments, appends to `out`.
    fn text(&mut self, s: &str, out: &mut String) {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            match self.state.clone() {
                HState::Comment => {
                    if b[i..].starts_with(b"-->") {
                        self.state = HState::Text;
                        i += 3;
                    } else {
                        // skip one whole UTF-8 character
                        i += s[i..].chars().next().map_or(1, char::len_utf8);
                    }
                    continue;
                }
                HState::Text => {
                    if s[i..].starts_with("<!--") {
                        self.state = HState::Comment;
                        i += 4;
                        continue;
                    }
                    if c == b'<'
                        && b.get(i + 1)
                            .is_some_and(|n| n.is_ascii_alphabetic() || *n == b'/' || *n == b'!')
                    {
                        self.state = HState::TagName;
                        self.tag.clear();
                    }
                }
                HState::Special(end) => {
                    let n = end.len();
                    if b.len() >= i + n && b[i..i + n].eq_ignore_ascii_case(end.as_bytes()) {
                        out.push_str(&s[i..i + n]);
                        i += n;
                        self.state = HState::InTag;
                        self.tag.clear();
                        continue;
                    }
                }
                HState::TagName => {
                    if c.is_ascii_whitespace() {
                        self.state = HState::InTag;
                    } else if c == b'>' {
                        self.end_tag();
                    } else if c != b'/' && c != b'<' {
                        self.tag.push(c as char);
                    }
                }
                HState::InTag => {
                    if c == b'>' {
                        self.end_tag();
                    } else if !c.is_ascii_whitespace() && c != b'/' {
                        self.state = HState::AttrName;
                        self.attr.clear();
                        self.attr.push(c as char);
                    }
                }
                HState::AttrName => {
                    if c == b'=' {
                        self.state = HState::BeforeValue;
                    } else if c.is_ascii_whitespace() {
                        self.state = HState::AfterAttrName;
                    } else if c == b'>' {
                        self.end_tag();
                    } else {
                        self.attr.push(c as char);
                    }
                }
                HState::AfterAttrName => {
                    if c == b'=' {
                        self.state = HState::BeforeValue;
                    } else if c == b'>' {
                        self.end_tag();
                    } else if !c.is_ascii_whitespace() {
                        self.state = HState::AttrName;
                        self.attr.clear();
                        self.attr.push(c as char);
                    }
                }
                HState::BeforeValue => {
                    if c == b'"' || c == b'\'' {
                        self.state = HState::AttrValue(Some(c));
                        self.url = UrlPart::None;
                    } else if c == b'>' {
                        self.end_tag();
                    } else if !c.is_ascii_whitespace() {
                        self.state = HState::AttrValue(None);
                        self.url = UrlPart::None;
                        self.url_char(c);
                    }
                }
                HState::AttrValue(q) => {
                    let closes = match q {
                        Some(q) => c == q,
                        None => c.is_ascii_whitespace() || c == b'>',
                    };
                    if closes {
                        if c == b'>' {
                            self.end_tag();
                        } else {
                            self.state = HState::InTag;
                        }
                    } else {
                        self.url_char(c);
                    }
                }
            }
            // copy one UTF-8 character
            let ch = s[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }

    fn url_char(&mut self, c: u8) {
        if c == b'?' || c == b'#' {
            self.url = UrlPart::QueryOrFrag;
        } else if self.url == UrlPart::None && !c.is_ascii_whitespace() {
            self.url = UrlPart::PreQuery;
        }
    }

    /// Appends an action's output, escaped for the current context.
    fn action(&mut self, s: &str, safe: bool, pre: Option<&str>, out: &mut String) {
        match self.state {
            HState::Comment => {}
            HState::BeforeValue | HState::AttrValue(_) => {
                if matches!(self.state, HState::BeforeValue) {
                    self.state = HState::AttrValue(None);
                    self.url = UrlPart::None;
                }
                let v = if self.is_url_attr() {
                    match self.url {
                        UrlPart::None => {
                            let v = url_process(&url_filter(s), true);
                            if !v.is_empty() {
                                self.url = if v.contains(['?', '#']) {
                                    UrlPart::QueryOrFrag
                                } else {
                                    UrlPart::PreQuery
                                };
                            }
                            v
                        }
                        UrlPart::PreQuery => url_process(s, true),
                        UrlPart::QueryOrFrag => url_process(s, false),
                    }
                } else {
                    s.to_string()
                };
                out.push_str(&html_escape(&v));
            }
            _ => {
                if safe || pre == Some("html") {
                    if pre == Some("html") {
                        out.push_str(&html_escape(s));
                    } else {
                        out.push_str(s);
                    }
                } else {
                    out.push_str(&html_escape(s));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, data: &Value) -> String {
        let mut t = Template::new();
        t.parse("t", src).unwrap();
        t.execute("t", data).unwrap()
    }

    fn data() -> Value {
        Value::structure(vec![
            ("Status", Value::str("firing")),
            ("Labels", Value::kv([("b", "2"), ("a", "1")])),
            ("Group", Value::kv([("a", "1")])),
            ("N", Value::Int(3)),
        ])
    }

    #[test]
    fn fields_methods_pipes() {
        let d = data();
        assert_eq!(run("{{ .Status | toUpper }}", &d), "FIRING");
        assert_eq!(
            run("{{ .Labels.SortedPairs.Values | join \" \" }}", &d),
            "1 2"
        );
        assert_eq!(
            run(
                "{{ with .Labels.Remove .Group.Names }}{{ .Values | join \",\" }}{{ end }}",
                &d
            ),
            "2"
        );
        assert_eq!(
            run(
                "{{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}",
                &d
            ),
            "a=1;b=2;"
        );
        assert_eq!(
            run(
                "{{ .Labels.a }}{{ .Labels.zz }}|{{ index .Labels \"b\" }}",
                &d
            ),
            "1|2"
        );
        assert_eq!(
            run(
                "{{ if gt (len .Labels) (len .Group) }}yes{{ else }}no{{ end }}",
                &d
            ),
            "yes"
        );
        assert_eq!(run("{{ if eq .Status \"x\" }}a{{ else if eq .Status \"firing\" }}b{{ else }}c{{ end }}", &d), "b");
    }

    #[test]
    fn trim_markers_comments_and_variables() {
        let d = data();
        assert_eq!(run("a  {{- /* c */ -}}  b", &d), "ab");
        assert_eq!(run("{{ $x := .N }}{{ $x = 7 }}{{ $x }}", &d), "7");
        assert_eq!(run("{{ range $i, $p := .Labels.SortedPairs }}{{ $i }}{{ $p.Name }}{{ $.Status }} {{ end }}", &d), "0afiring 1bfiring ");
        assert_eq!(
            run(
                "{{ range .Labels }}{{ if eq . \"1\" }}{{ continue }}{{ end }}{{ . }}{{ end }}",
                &d
            ),
            "2"
        );
        assert_eq!(
            run("{{ printf \"%s-%d-%.2f\" .Status .N 1.5 }}", &d),
            "firing-3-1.50"
        );
        assert_eq!(
            run("{{ reReplaceAll \"(a)(b)\" \"$2$1\" \"xaby\" }}", &d),
            "xbay"
        );
        assert_eq!(
            run(
                "{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" .N }}",
                &d
            ),
            "[3]"
        );
        // and/or short-circuit: the failing field is never evaluated
        assert_eq!(
            run("{{ or .N .Nope.X }}|{{ and false .Nope }}", &d),
            "3|false"
        );
    }

    #[test]
    fn errors_not_panics() {
        let mut t = Template::new();
        assert!(t
            .parse("t", "{{ nosuch . }}")
            .unwrap_err()
            .0
            .contains("function \"nosuch\" not defined"));
        assert!(t.parse("t", "{{ if . }}").is_err());
        assert!(t.parse("t", "{{ .A ").is_err());
        assert!(t.parse("t", "{{ end }}").is_err());
        t.parse("t", "{{ .Nope }}").unwrap();
        assert!(t
            .execute("t", &data())
            .unwrap_err()
            .0
            .contains("can't evaluate field Nope"));
        t.parse("r", "{{ template \"r\" . }}").unwrap();
        assert!(t
            .execute("r", &data())
            .unwrap_err()
            .0
            .contains("maximum template depth"));
    }

    #[test]
    fn html_contextual_escaping() {
        let d = Value::structure(vec![
            (
                "U",
                Value::str("http://h/graph?g0.expr=up+%3D%3D+0&g0.tab=1"),
            ),
            ("R", Value::str("a b")),
            ("T", Value::str("<b>'x' & y</b>")),
            ("J", Value::str("javascript:alert(1)")),
        ]);
        let mut t = Template::new();
        t.parse(
            "h",
            "<!-- gone --><a href=\"{{ .U }}\" title=\"{{ .T }}\">{{ .T }}</a><a href=\"http://x/?r={{ .R | urlquery }}\"></a><a href=\"{{ .J }}\"></a><title>{{ .T }}</title>",
        )
        .unwrap();
        assert_eq!(
            t.execute_html("h", &d).unwrap(),
            "<a href=\"http://h/graph?g0.expr=up&#43;%3D%3D&#43;0&amp;g0.tab=1\" title=\"&lt;b&gt;&#39;x&#39; &amp; y&lt;/b&gt;\">&lt;b&gt;&#39;x&#39; &amp; y&lt;/b&gt;</a><a href=\"http://x/?r=a%20b\"></a><a href=\"#ZgotmplZ\"></a><title>&lt;b&gt;&#39;x&#39; &amp; y&lt;/b&gt;</title>"
        );
    }

    #[test]
    fn time_formatting() {
        let t = Some(1_795_612_627_794);
        assert_eq!(go_time_string(t), "2026-11-25 13:17:07.794 +0000 UTC");
        assert_eq!(
            go_time_format(t, "Mon, 02 Jan 2006 15:04:05 -0700"),
            "Wed, 25 Nov 2026 13:17:07 +0000"
        );
        assert_eq!(
            go_time_format(t, "2006-01-02T15:04:05.999Z07:00"),
            "2026-11-25T13:17:07.794Z"
        );
    }

    #[test]
    fn arbitrary_input_never_panics() {
        // A deterministic generator over fragments that stress the lexer, parser and the HTML
        // context tracker (multi-byte characters inside comments, attributes, escapes).
        let frags = [
            "{{",
            "}}",
            "{{-",
            "-}}",
            " ",
            ".",
            ".A",
            "$",
            "$x",
            ":=",
            "=",
            "|",
            "(",
            ")",
            "\"",
            "`",
            "'",
            "\\",
            "if",
            "else",
            "end",
            "range",
            "with",
            "define",
            "template",
            "\"x\"",
            "len",
            "eq",
            "1",
            "-1",
            "0x",
            "/*",
            "*/",
            "<!--",
            "-->",
            "<a href=\"",
            "?",
            "é",
            "€",
            "<title>",
            "</title>",
            ">",
            "urlquery",
            "%",
            "%é",
            "printf",
            "\"%d\"",
            "break",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let data = Value::structure(vec![("A", Value::str("<&é>"))]);
        let base = Template::with_defaults();
        for _ in 0..3000 {
            let mut src = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                src.push_str(frags[(seed % frags.len() as u64) as usize]);
            }
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut t = base.clone();
            if t.parse("f", &src).is_ok() {
                let _ = t.execute("f", &data);
                let _ = t.execute_html("f", &data);
            }
            let _ = call("urlUnescape", vec![Value::str(&src)], "t");
        }
    }

    #[test]
    fn host_functions() {
        let mut t = Template::new();
        t.add_func(
            "humanize",
            Arc::new(|a: &[Value]| match a {
                [Value::Float(f)] if *f >= 1000.0 => Ok(Value::str(format!("{}k", f / 1000.0))),
                [v] => Ok(Value::str(v.to_string())),
                _ => Err("wrong number of args".into()),
            }),
        );
        t.parse("h", "{{ 1500.0 | humanize }} {{ humanize 2.0 }}")
            .unwrap();
        assert_eq!(t.execute("h", &Value::Nil).unwrap(), "1.5k 2");
        t.parse("e", "{{ humanize }}").unwrap();
        assert!(t
            .execute("e", &Value::Nil)
            .unwrap_err()
            .0
            .contains("error calling humanize: wrong number of args"));
        assert!(Template::new().parse("x", "{{ humanize 1 }}").is_err());
    }

    /// Parse errors exactly as `amtool check-config` 0.25 prints them for a template file.
    #[test]
    fn parse_errors_match_go() {
        let cases = [
            ("{{ if }}", "template: x.tmpl:1: missing value for if"),
            (
                "{{ nosuch . }}",
                "template: x.tmpl:1: function \"nosuch\" not defined",
            ),
            ("{{ .A ", "template: x.tmpl:1: unclosed action"),
            ("a\n{{ end }}", "template: x.tmpl:2: unexpected {{end}}"),
            ("{{ if .A }}", "template: x.tmpl:1: unexpected EOF"),
            ("{{ $x }}", "template: x.tmpl:1: undefined variable \"$x\""),
            ("{{ ( .A }}", "template: x.tmpl:1: unclosed left paren"),
            ("{{ else }}", "template: x.tmpl:1: unexpected {{else}}"),
            (
                "{{ \"x }}",
                "template: x.tmpl:1: unterminated quoted string",
            ),
            (
                "{{ range $i, $e := . }}{{ $i }}{{ end }}{{ $e }}",
                "template: x.tmpl:1: undefined variable \"$e\"",
            ),
            (
                "{{ $z := 1 }}{{ define \"d\" }}{{ $z }}{{ end }}",
                "template: x.tmpl:1: undefined variable \"$z\"",
            ),
            (
                "{{ 'ab' }}",
                "template: x.tmpl:1: malformed character constant: 'ab'",
            ),
            (
                "{{ `x }}",
                "template: x.tmpl:1: unterminated raw quoted string",
            ),
            (
                "{{ if 1 }}{{ else if }}{{ end }}",
                "template: x.tmpl:1: missing value for if",
            ),
            (
                "{{ template }}",
                "template: x.tmpl:1: unexpected \"}}\" in template clause",
            ),
        ];
        for (src, want) in cases {
            let got = Template::new().parse("x.tmpl", src).unwrap_err().0;
            assert_eq!(got, want, "{src}");
        }
        for ok in [
            "{{ .A | }}",
            "{{ with $x := . }}{{ $x }}{{ else }}{{ $x }}{{ end }}",
            "{{ $a := 1 }}{{ $a = 2 }}{{ $a }}",
            "{{ $a = 1 }}",
        ] {
            assert!(Template::new().parse("x.tmpl", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn default_template_parses() {
        let mut t = Template::new();
        t.parse("default.tmpl", DEFAULT_TEMPLATE).unwrap();
        assert!(t.has("email.default.html") && t.has("__subject"));
    }
}
