//! Parser output and errors shared by the OpenMetrics and classic text parsers.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use promplay_model::{Label, Labels, METRIC_NAME};

use crate::snapshot::MetricType;

/// A parse error: where (1-based line and byte column) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl ParseError {
    pub(crate) fn new(line: usize, col: usize, msg: impl Into<String>) -> ParseError {
        ParseError {
            line,
            col,
            msg: msg.into(),
        }
    }

    /// The message as Prometheus's `expfmt.TextParser` words it:
    /// `text format parsing error in line 3: unexpected end of input stream`.
    pub fn expfmt_string(&self) -> String {
        format!(
            "text format parsing error in line {}: {}",
            self.line, self.msg
        )
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: parse error: {}", self.line, self.col, self.msg)
    }
}

impl std::error::Error for ParseError {}

/// An exemplar as parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedExemplar {
    pub labels: Labels,
    pub value: f64,
    /// Milliseconds since the epoch.
    pub timestamp_ms: Option<i64>,
}

/// One sample line as parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedSample {
    /// The sample's own name (`x_total`, `x_bucket`, ...).
    pub name: Arc<str>,
    /// Its labels, without `__name__`. Empty values are dropped (Prometheus's "absent").
    pub labels: Labels,
    pub value: f64,
    /// Milliseconds since the epoch (OpenMetrics seconds are converted, rounded to the ms).
    pub timestamp_ms: Option<i64>,
    pub exemplar: Option<ParsedExemplar>,
    /// For counter, summary and histogram samples of a family with `_created` samples: the
    /// created timestamp of this sample's series, in milliseconds.
    pub created_ms: Option<i64>,
}

impl ParsedSample {
    /// The series labels a scrape stores: the labels plus `__name__`.
    pub fn series_labels(&self) -> Labels {
        let mut v: Vec<Label> = self.labels.iter().cloned().collect();
        v.push(Label::new(METRIC_NAME, self.name.clone()));
        Labels::new(v)
    }
}

/// One metric family as parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedFamily {
    pub name: String,
    /// `untyped` in the classic format is [`MetricType::Unknown`].
    pub typ: MetricType,
    pub help: Option<String>,
    pub unit: Option<String>,
    pub samples: Vec<ParsedSample>,
}

/// Parsing options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseOptions {
    /// OpenMetrics only. `true`: every rule of the OpenMetrics 1.0 specification that the
    /// reference parser checks (grouping, ordering, histogram structure, counter values, clashing
    /// names): what `promplay check metrics` uses. `false`: the syntax only, as Prometheus's
    /// scrape parser does (it accepts time-major files such as the benchmark dataset, where
    /// the series of one family interleave).
    pub strict: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { strict: true }
    }
}

/// FxHash: label strings are short, SipHash's DoS resistance buys nothing for a parser
/// whose table is bounded.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
        self.0 = h;
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Shares label name and value strings across samples: one allocation per distinct string.
#[derive(Default)]
pub(crate) struct Interner {
    set: HashSet<Arc<str>, std::hash::BuildHasherDefault<FxHasher>>,
}

impl Interner {
    pub(crate) fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        if self.set.len() < 1_000_000 {
            self.set.insert(a.clone());
        }
        a
    }
}

/// Go's `%q` of a byte string: invalid UTF-8 bytes as `\xNN`.
pub(crate) fn go_quote_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out.push('"');
    out
}

/// Attaches `_created` values to the samples of their series (counter, summary, histogram).
pub(crate) fn attach_created(fam: &mut ParsedFamily) {
    if !matches!(
        fam.typ,
        MetricType::Counter | MetricType::Summary | MetricType::Histogram
    ) {
        return;
    }
    let created_name = format!("{}_created", fam.name);
    let created: Vec<(Labels, i64)> = fam
        .samples
        .iter()
        .filter(|s| *s.name == *created_name)
        .map(|s| (s.labels.clone(), (s.value * 1000.0).round() as i64))
        .collect();
    if created.is_empty() {
        return;
    }
    for s in fam.samples.iter_mut() {
        if *s.name == *created_name {
            continue;
        }
        let group = s.labels.without(&["le", "quantile"]);
        s.created_ms = created.iter().find(|(l, _)| *l == group).map(|(_, ms)| *ms);
    }
}

/// The length of the legacy name at the start of `b`: `[a-zA-Z_:][a-zA-Z0-9_:]*` for a metric
/// name, `[a-zA-Z_][a-zA-Z0-9_]*` for a label name.
pub(crate) fn legacy_name_len(b: &[u8], metric: bool) -> usize {
    b.iter()
        .enumerate()
        .take_while(|&(i, &c)| {
            c.is_ascii_alphabetic()
                || c == b'_'
                || (metric && c == b':')
                || (i > 0 && c.is_ascii_digit())
        })
        .count()
}
