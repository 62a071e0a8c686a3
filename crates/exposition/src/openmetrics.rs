//! The OpenMetrics 1.0 text parser.
//!
//! Design: lines are split on `\n`; a comment line is metadata (`HELP`, `TYPE`, `UNIT`) or the
//! final `# EOF`; any other line is a sample, read by a byte cursor in one pass (name, optional
//! label set, value, optional timestamp, optional exemplar). Samples are assigned to families
//! as the reference parser (prometheus_client's `openmetrics.parser`) does: a sample whose name
//! is not one the current family owns starts a new `unknown` family. In strict mode every
//! semantic rule that parser checks is checked too; see [`ParseOptions`].

use std::sync::Arc;

use promplay_model::labels::is_legacy_metric_name;
use promplay_model::{Label, Labels};

use crate::float::{go_float, parse_float};
use crate::parse::{
    attach_created, legacy_name_len, Interner, ParseError, ParseOptions, ParsedExemplar,
    ParsedFamily, ParsedSample,
};
use crate::snapshot::MetricType;

type Pairs = Vec<Label>;

/// Parses an OpenMetrics 1.0 exposition into families.
pub fn parse_openmetrics(
    input: &[u8],
    opts: ParseOptions,
) -> Result<Vec<ParsedFamily>, ParseError> {
    let mut families = run(input, opts, None)?;
    for f in families.iter_mut() {
        attach_created(f);
    }
    Ok(families)
}

/// The family a streamed sample belongs to. Its metadata is complete: OpenMetrics puts it
/// before the samples.
#[derive(Clone, Copy, Debug)]
pub struct FamilyInfo<'a> {
    pub name: &'a str,
    pub typ: MetricType,
    pub help: Option<&'a str>,
    pub unit: Option<&'a str>,
}

/// Parses an OpenMetrics exposition and hands each sample to `on_sample` as it is read,
/// keeping no samples: for imports of files too large to hold as families (the benchmark
/// dataset has 14.4 million samples). `_created` samples are passed on as they are.
/// On an error, the samples before it have already been handed over.
pub fn parse_openmetrics_with(
    input: &[u8],
    opts: ParseOptions,
    mut on_sample: impl FnMut(&FamilyInfo<'_>, ParsedSample),
) -> Result<(), ParseError> {
    run(input, opts, Some(&mut on_sample)).map(|_| ())
}

type SampleFn<'s> = &'s mut dyn FnMut(&FamilyInfo<'_>, ParsedSample);

fn run(
    input: &[u8],
    opts: ParseOptions,
    sink: Option<SampleFn<'_>>,
) -> Result<Vec<ParsedFamily>, ParseError> {
    if let Err(e) = std::str::from_utf8(input) {
        let (line, col) = position_of(input, e.valid_up_to());
        return Err(ParseError::new(line, col, "invalid UTF-8"));
    }
    let mut p = Parser {
        opts,
        interner: Interner::default(),
        families: Vec::new(),
        fam: None,
        seen_names: std::collections::HashSet::new(),
        sink,
    };
    let mut eof = false;
    let mut lineno = 0;
    let mut rest = input;
    while !rest.is_empty() {
        lineno += 1;
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if eof {
            return Err(ParseError::new(lineno, 1, "unexpected line after # EOF"));
        }
        if line.is_empty() {
            return Err(ParseError::new(lineno, 1, "unexpected blank line"));
        }
        if line == b"# EOF" {
            eof = true;
        } else if line[0] == b'#' {
            p.metadata(line, lineno)?;
        } else {
            p.sample_line(line, lineno)?;
        }
    }
    p.finish_family(lineno.max(1))?;
    if !eof {
        return Err(ParseError::new(lineno + 1, 1, "missing # EOF at end"));
    }
    Ok(p.families)
}

/// Line and column (1-based) of byte offset `at`.
pub(crate) fn position_of(input: &[u8], at: usize) -> (usize, usize) {
    let before = &input[..at.min(input.len())];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let col = at
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, col)
}

struct Parser<'s> {
    sink: Option<SampleFn<'s>>,
    opts: ParseOptions,
    interner: Interner,
    families: Vec<ParsedFamily>,
    fam: Option<FamilyState>,
    seen_names: std::collections::HashSet<String>,
}

/// The family being read and the reference parser's per-family bookkeeping.
struct FamilyState {
    name: String,
    typ: Option<MetricType>,
    help: Option<String>,
    unit: Option<String>,
    samples: Vec<ParsedSample>,
    /// Set when the family was started by a sample rather than metadata.
    implicit: bool,
    /// Set once a sample went to the streaming sink instead of `samples`.
    streamed: bool,
    group: Option<Labels>,
    group_ts: Option<f64>,
    seen_groups: std::collections::HashSet<Labels>,
    group_ts_series: Vec<(Arc<str>, Labels)>,
    hist: HistogramCheck,
}

impl FamilyState {
    fn new(name: String) -> FamilyState {
        FamilyState {
            name,
            typ: None,
            help: None,
            unit: None,
            samples: Vec::new(),
            implicit: false,
            streamed: false,
            group: None,
            group_ts: None,
            seen_groups: Default::default(),
            group_ts_series: Vec::new(),
            hist: HistogramCheck::default(),
        }
    }

    /// Whether a sample called `sample` belongs to this family.
    fn owns(&self, sample: &str) -> bool {
        if self.implicit {
            return sample == self.name;
        }
        let Some(rest) = sample.strip_prefix(self.name.as_str()) else {
            return false;
        };
        match self.typ {
            None | Some(MetricType::Gauge | MetricType::Unknown | MetricType::StateSet) => {
                rest.is_empty()
            }
            Some(MetricType::Summary) => matches!(rest, "" | "_count" | "_sum" | "_created"),
            Some(t) => t.suffixes().contains(&rest),
        }
    }
}

fn suffix_of<'a>(sample: &'a str, family: &str) -> &'a str {
    sample.strip_prefix(family).unwrap_or(sample)
}

impl Parser<'_> {
    fn err<T>(&self, line: usize, col: usize, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::new(line, col, msg))
    }

    fn finish_family(&mut self, line: usize) -> Result<(), ParseError> {
        let Some(f) = self.fam.take() else {
            return Ok(());
        };
        let typ = f.typ.unwrap_or(MetricType::Unknown);
        if self.opts.strict {
            for suffix in std::iter::once("").chain(typ.suffixes().iter().copied()) {
                let full = format!("{}{}", f.name, suffix);
                if !self.seen_names.insert(full.clone()) {
                    return self.err(line, 1, format!("clashing name: {full}"));
                }
            }
            if typ == MetricType::Histogram || typ == MetricType::GaugeHistogram {
                f.hist.finish(&f.name, line)?;
            }
        }
        if let Some(unit) = f.unit.as_deref() {
            if !unit.is_empty() && !f.name.ends_with(&format!("_{unit}")) {
                return self.err(
                    line,
                    1,
                    format!("unit does not match metric name: {}", f.name),
                );
            }
            if !unit.is_empty() && matches!(typ, MetricType::Info | MetricType::StateSet) {
                return self.err(
                    line,
                    1,
                    format!("units not allowed for this metric type: {}", f.name),
                );
            }
        }
        if f.name.is_empty() {
            return self.err(line, 1, "empty metric name");
        }
        self.families.push(ParsedFamily {
            name: f.name,
            typ,
            help: f.help,
            unit: f.unit,
            samples: f.samples,
        });
        Ok(())
    }

    fn metadata(&mut self, line: &[u8], lineno: usize) -> Result<(), ParseError> {
        // "# KEYWORD name rest": three single spaces; the name may be quoted.
        let invalid = || {
            ParseError::new(
                lineno,
                1,
                format!("invalid line: {}", String::from_utf8_lossy(line)),
            )
        };
        let rest = line.strip_prefix(b"# ").ok_or_else(invalid)?;
        let sp = memchr::memchr(b' ', rest).ok_or_else(invalid)?;
        let keyword = &rest[..sp];
        let after = &rest[sp + 1..];
        let name_col = 3 + sp + 1;
        let (name, text) = if after.first() == Some(&b'"') {
            let mut c = Cursor { b: after, pos: 1 };
            let name = c.quoted(lineno, name_col)?;
            if c.peek() != Some(b' ') {
                return Err(invalid());
            }
            (name, &after[c.pos + 1..])
        } else {
            let sp = memchr::memchr(b' ', after).ok_or_else(invalid)?;
            let name = std::str::from_utf8(&after[..sp]).map_err(|_| invalid())?;
            if !is_legacy_metric_name(name) {
                return self.err(
                    lineno,
                    name_col,
                    format!("invalid metric name in comment: {name:?}"),
                );
            }
            (name.to_string(), &after[sp + 1..])
        };
        let text = std::str::from_utf8(text).map_err(|_| invalid())?;
        let text_col = line.len() - text.len() + 1;
        if !matches!(keyword, b"HELP" | b"TYPE" | b"UNIT") {
            return Err(invalid());
        }
        let same = self
            .fam
            .as_ref()
            .is_some_and(|f| f.name == name && !f.implicit);
        if self
            .fam
            .as_ref()
            .is_some_and(|f| f.name == name && !f.samples.is_empty())
        {
            return self.err(
                lineno,
                1,
                format!(
                    "received metadata after samples: {}",
                    String::from_utf8_lossy(line)
                ),
            );
        }
        if !same {
            self.finish_family(lineno)?;
            self.fam = Some(FamilyState::new(name));
        }
        let Some(fam) = self.fam.as_mut() else {
            return Err(invalid());
        };
        match keyword {
            b"HELP" => {
                if fam.help.is_some() {
                    return Err(ParseError::new(
                        lineno,
                        3,
                        format!("more than one HELP for metric: {}", fam.name),
                    ));
                }
                fam.help = Some(unescape_help(text));
            }
            b"TYPE" => {
                if fam.typ.is_some() {
                    return Err(ParseError::new(
                        lineno,
                        3,
                        format!("more than one TYPE for metric: {}", fam.name),
                    ));
                }
                match MetricType::from_openmetrics(text) {
                    Some(t) => fam.typ = Some(t),
                    None => {
                        return self.err(lineno, text_col, format!("invalid metric type {text:?}"))
                    }
                }
            }
            _ => {
                if fam.unit.is_some() {
                    return Err(ParseError::new(
                        lineno,
                        3,
                        format!("more than one UNIT for metric: {}", fam.name),
                    ));
                }
                fam.unit = Some(text.to_string());
            }
        }
        Ok(())
    }

    fn sample_line(&mut self, line: &[u8], lineno: usize) -> Result<(), ParseError> {
        let mut s = parse_sample(line, lineno, &mut self.interner)?;
        let owned = self.fam.as_ref().is_some_and(|f| f.owns(&s.name));
        if !owned {
            self.finish_family(lineno)?;
            let mut f = FamilyState::new(s.name.to_string());
            f.typ = Some(MetricType::Unknown);
            f.implicit = true;
            self.fam = Some(f);
        }
        let strict = self.opts.strict;
        let Some(fam) = self.fam.as_mut() else {
            return Ok(());
        };
        let typ = fam.typ.unwrap_or(MetricType::Unknown);
        let name_rc = s.name.clone();
        let suffix: &str = suffix_of(&name_rc, &fam.name);
        let get = |k: &str| s.labels.iter().find(|l| &*l.name == k).map(|l| &*l.value);
        let text = || String::from_utf8_lossy(line).into_owned();
        let fail = |msg: String| Err(ParseError::new(lineno, 1, msg));

        if strict {
            if typ == MetricType::StateSet && get(&fam.name).is_none() {
                return fail(format!("stateset missing label: {}", text()));
            }
            if suffix == "_bucket"
                && matches!(typ, MetricType::Histogram | MetricType::GaugeHistogram)
            {
                let le = get("le").unwrap_or("NaN");
                match parse_float(le.as_bytes()) {
                    Some(v) if !v.is_nan() && !uncanonical(le, v) => {}
                    _ => return fail(format!("invalid le label: {}", text())),
                }
                if s.value.fract() != 0.0 {
                    return fail(format!("bucket value must be an integer: {}", text()));
                }
            }
            if (suffix == "_count" || suffix == "_gcount") && s.value.fract() != 0.0 {
                return fail(format!("count value must be an integer: {}", text()));
            }
            if typ == MetricType::Summary && suffix.is_empty() {
                let q = get("quantile").unwrap_or("-1");
                match parse_float(q.as_bytes()) {
                    Some(v) if (0.0..=1.0).contains(&v) && !uncanonical(q, v) => {}
                    _ => return fail(format!("invalid quantile label: {}", text())),
                }
            }
        }

        let labels = Labels::new(std::mem::take(&mut s.labels));
        let ts = s.timestamp;
        let mut keep = true;
        if strict {
            let group = match typ {
                MetricType::Info => Labels::empty(),
                MetricType::Summary if suffix.is_empty() => labels.without(&["quantile"]),
                MetricType::StateSet => labels.without(&[fam.name.as_str()]),
                MetricType::Histogram | MetricType::GaugeHistogram if suffix == "_bucket" => {
                    labels.without(&["le"])
                }
                _ => labels.clone(),
            };
            let same_group = fam.group.as_ref() == Some(&group);
            if fam.group.is_some() && !same_group && fam.seen_groups.contains(&group) {
                return fail(format!("invalid metric grouping: {}", text()));
            }
            if same_group {
                if ts.is_none() != fam.group_ts.is_none() {
                    return fail(format!(
                        "mix of timestamp presence within a group: {}",
                        text()
                    ));
                }
                if let (Some(g), Some(t)) = (fam.group_ts, ts) {
                    if g > t && typ != MetricType::Info {
                        return fail(format!(
                            "timestamps went backwards within a group: {}",
                            text()
                        ));
                    }
                }
            } else {
                fam.group_ts_series.clear();
            }
            let seen = fam
                .group_ts_series
                .iter()
                .any(|(n, l)| *n == s.name && *l == labels);
            // Not a duplicate due to timestamp truncation.
            keep = ts != fam.group_ts || !seen;
            if !seen {
                fam.group_ts_series.push((s.name.clone(), labels.clone()));
            }
            if !same_group {
                fam.seen_groups.insert(group.clone());
                fam.group = Some(group);
            }
            fam.group_ts = ts;

            let v = s.value;
            if typ == MetricType::StateSet && v != 0.0 && v != 1.0 {
                return fail(format!(
                    "stateset samples can only have values zero and one: {}",
                    text()
                ));
            }
            if typ == MetricType::Info && v != 1.0 {
                return fail(format!("info samples can only have value one: {}", text()));
            }
            if typ == MetricType::Summary && suffix.is_empty() && v < 0.0 {
                return fail(format!("quantile values cannot be negative: {}", text()));
            }
            let counter_like = ["_total", "_sum", "_count", "_bucket", "_gcount", "_gsum"];
            if counter_like.contains(&suffix) && v.is_nan() {
                return fail(format!("counter-like samples cannot be NaN: {}", text()));
            }
            if counter_like[..5].contains(&suffix) && v < 0.0 {
                return fail(format!(
                    "counter-like samples cannot be negative: {}",
                    text()
                ));
            }
            if s.exemplar.is_some()
                && !((matches!(typ, MetricType::Histogram | MetricType::GaugeHistogram)
                    && s.name.ends_with("_bucket"))
                    || (typ == MetricType::Counter && s.name.ends_with("_total")))
            {
                return fail(format!(
                    "invalid line only histogram/gaugehistogram buckets and counters can have exemplars: {}",
                    text()
                ));
            }
            if matches!(typ, MetricType::Histogram | MetricType::GaugeHistogram)
                && !suffix.is_empty()
            {
                let group_key = if suffix == "_bucket" {
                    labels.without(&["le"])
                } else {
                    labels.clone()
                };
                let le = labels.get("le").and_then(|le| parse_float(le.as_bytes()));
                fam.hist
                    .observe(&fam.name, suffix, group_key, ts, le, v, lineno)?;
            }
        }
        if keep {
            let exemplar = s.exemplar.map(|(l, v, t)| ParsedExemplar {
                labels: Labels::new(l),
                value: v,
                timestamp_ms: t.map(seconds_to_ms),
            });
            let sample = ParsedSample {
                name: s.name,
                labels,
                value: s.value,
                timestamp_ms: ts.map(seconds_to_ms),
                exemplar,
                created_ms: None,
            };
            match self.sink.as_mut() {
                Some(sink) => {
                    fam.streamed = true;
                    let info = FamilyInfo {
                        name: &fam.name,
                        typ,
                        help: fam.help.as_deref(),
                        unit: fam.unit.as_deref(),
                    };
                    sink(&info, sample);
                }
                None => fam.samples.push(sample),
            }
        }
        Ok(())
    }
}

fn seconds_to_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

/// Only +Inf has to be written canonically (`+Inf`) in `le` and `quantile`.
fn uncanonical(s: &str, v: f64) -> bool {
    v == f64::INFINITY && s != go_float(v)
}

/// The reference parser's `_check_histogram`, run incrementally over a family's samples.
#[derive(Default)]
struct HistogramCheck {
    group: Option<(Labels, Option<f64>)>,
    count: Option<f64>,
    bucket: Option<f64>,
    has_negative_buckets: bool,
    has_sum: bool,
    has_gsum: bool,
    has_negative_gsum: bool,
    value: f64,
}

impl HistogramCheck {
    #[allow(clippy::too_many_arguments)]
    fn observe(
        &mut self,
        name: &str,
        suffix: &str,
        group: Labels,
        ts: Option<f64>,
        le: Option<f64>,
        v: f64,
        lineno: usize,
    ) -> Result<(), ParseError> {
        let key = (group, ts);
        if self.group.as_ref() != Some(&key) {
            if self.group.is_some() {
                self.check(name, lineno)?;
            }
            *self = HistogramCheck {
                group: Some(key),
                ..HistogramCheck::default()
            };
        }
        match suffix {
            "_bucket" => {
                let b = le.unwrap_or(f64::NAN);
                if b < 0.0 {
                    self.has_negative_buckets = true;
                }
                if self.bucket.is_some_and(|prev| b <= prev) {
                    return Err(ParseError::new(
                        lineno,
                        1,
                        format!("buckets out of order: {name}"),
                    ));
                }
                if v < self.value {
                    return Err(ParseError::new(
                        lineno,
                        1,
                        format!("bucket values out of order: {name}"),
                    ));
                }
                self.bucket = Some(b);
                self.value = v;
            }
            "_count" | "_gcount" => self.count = Some(v),
            "_sum" => self.has_sum = true,
            "_gsum" => {
                self.has_gsum = true;
                if v < 0.0 {
                    self.has_negative_gsum = true;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check(&self, name: &str, lineno: usize) -> Result<(), ParseError> {
        let fail = |m: &str| Err(ParseError::new(lineno, 1, format!("{m}: {name}")));
        if self.bucket != Some(f64::INFINITY) {
            return fail("+Inf bucket missing");
        }
        if self.count.is_some_and(|c| c != self.value) {
            return fail("count does not match +Inf value");
        }
        if self.has_sum && self.count.is_none() {
            return fail("_count must be present if _sum is present");
        }
        if self.has_gsum && self.count.is_none() {
            return fail("_gcount must be present if _gsum is present");
        }
        if !(self.has_sum || self.has_gsum) && self.count.is_some() {
            return fail("_sum/_gsum must be present if _count is present");
        }
        if self.has_negative_buckets && self.has_sum {
            return fail("cannot have _sum with negative buckets");
        }
        if !self.has_negative_buckets && self.has_negative_gsum {
            return fail("cannot have negative _gsum with non-negative buckets");
        }
        Ok(())
    }

    fn finish(&self, name: &str, lineno: usize) -> Result<(), ParseError> {
        if self.group.is_some() {
            self.check(name, lineno)?;
        }
        Ok(())
    }
}

/// OpenMetrics HELP unescaping: `\\`, `\"`, `\n`; any other backslash stays.
fn unescape_help(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

struct LineSample {
    name: Arc<str>,
    labels: Pairs,
    value: f64,
    timestamp: Option<f64>,
    exemplar: Option<(Pairs, f64, Option<f64>)>,
}

pub(crate) struct Cursor<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Reads a double-quoted string whose opening quote was consumed; OpenMetrics escapes.
    fn quoted(&mut self, lineno: usize, col0: usize) -> Result<String, ParseError> {
        let start = self.pos;
        let mut has_escape = false;
        loop {
            match self.peek() {
                None => {
                    return Err(ParseError::new(
                        lineno,
                        col0 + self.pos,
                        "unterminated quoted string",
                    ))
                }
                Some(b'"') => break,
                Some(b'\\') => {
                    has_escape = true;
                    self.pos += 2;
                    if self.pos > self.b.len() {
                        return Err(ParseError::new(
                            lineno,
                            col0 + self.b.len(),
                            "unterminated quoted string",
                        ));
                    }
                }
                Some(_) => self.pos += 1,
            }
        }
        let raw = &self.b[start..self.pos];
        self.pos += 1;
        let raw = std::str::from_utf8(raw)
            .map_err(|_| ParseError::new(lineno, col0 + start, "invalid UTF-8 in quoted string"))?;
        Ok(if has_escape {
            unescape_help(raw)
        } else {
            raw.to_string()
        })
    }

    /// Reads a token up to the next space or the end of the line.
    fn token(&mut self) -> &'a [u8] {
        let start = self.pos;
        let end = memchr::memchr(b' ', &self.b[start..]).map_or(self.b.len(), |i| start + i);
        self.pos = end;
        &self.b[start..end]
    }
}

fn parse_sample(
    line: &[u8],
    lineno: usize,
    interner: &mut Interner,
) -> Result<LineSample, ParseError> {
    let err = |pos: usize, msg: &str| ParseError::new(lineno, pos + 1, msg.to_string());
    let mut c = Cursor { b: line, pos: 0 };
    let name_len = legacy_name_len(line, true);
    let mut name: Option<Arc<str>> = None;
    if name_len > 0 {
        // SAFETY of the conversion: legacy names are ASCII.
        let s =
            std::str::from_utf8(&line[..name_len]).map_err(|_| err(0, "invalid metric name"))?;
        name = Some(interner.intern(s));
        c.pos = name_len;
    }
    let mut labels: Pairs = Vec::new();
    match c.peek() {
        Some(b'{') => {
            c.pos += 1;
            parse_label_set(&mut c, lineno, interner, &mut labels, Some(&mut name))?;
            if c.peek() != Some(b' ') {
                return Err(err(c.pos, "expected a space after the label set"));
            }
        }
        Some(b' ') => {}
        None if name.is_some() => return Err(err(c.pos, "missing value")),
        _ => return Err(err(c.pos, "invalid metric name")),
    }
    let name = name.ok_or_else(|| err(0, "missing metric name"))?;
    if labels.iter().any(|l| &*l.name == "__name__") {
        return Err(err(0, "metric name specified more than once"));
    }
    c.pos += 1; // the space
    let vpos = c.pos;
    let value = parse_value(c.token()).ok_or_else(|| err(vpos, "invalid value"))?;
    let mut timestamp = None;
    let mut exemplar = None;
    if c.peek() == Some(b' ') {
        c.pos += 1;
        if c.peek() != Some(b'#') {
            let tpos = c.pos;
            timestamp =
                Some(parse_timestamp(c.token()).ok_or_else(|| err(tpos, "invalid timestamp"))?);
            if c.peek() == Some(b' ') {
                c.pos += 1;
                if c.peek() != Some(b'#') {
                    return Err(err(c.pos, "expected '#' before an exemplar"));
                }
            }
        }
        if c.peek() == Some(b'#') {
            c.pos += 1;
            if c.peek() != Some(b' ') {
                return Err(err(c.pos, "expected a space after '#'"));
            }
            c.pos += 1;
            if c.peek() != Some(b'{') {
                return Err(err(c.pos, "expected '{' to open the exemplar's label set"));
            }
            c.pos += 1;
            let mut ex_labels: Pairs = Vec::new();
            parse_label_set(&mut c, lineno, interner, &mut ex_labels, None)?;
            let runes: usize = ex_labels
                .iter()
                .map(|l| l.name.chars().count() + l.value.chars().count())
                .sum();
            if runes > 128 {
                return Err(err(c.pos, "exemplar labels are too long"));
            }
            if c.peek() != Some(b' ') {
                return Err(err(
                    c.pos,
                    "expected a space after the exemplar's label set",
                ));
            }
            c.pos += 1;
            let vpos = c.pos;
            let ex_value =
                parse_value(c.token()).ok_or_else(|| err(vpos, "invalid exemplar value"))?;
            let mut ex_ts = None;
            if c.peek() == Some(b' ') {
                c.pos += 1;
                let tpos = c.pos;
                let tok = &line[c.pos..];
                c.pos = line.len();
                ex_ts = Some(
                    parse_timestamp(tok).ok_or_else(|| err(tpos, "invalid exemplar timestamp"))?,
                );
            }
            exemplar = Some((ex_labels, ex_value, ex_ts));
        }
    }
    if c.pos != line.len() {
        return Err(err(c.pos, "unexpected text after the sample"));
    }
    Ok(LineSample {
        name,
        labels,
        value,
        timestamp,
        exemplar,
    })
}

/// Large label sets are checked for duplicate names once, sorted (small ones as they grow).
fn check_duplicates(out: &Pairs, lineno: usize, pos: usize) -> Result<(), ParseError> {
    if out.len() <= 16 {
        return Ok(());
    }
    let mut names: Vec<&str> = out.iter().map(|l| &*l.name).collect();
    names.sort_unstable();
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(ParseError::new(
            lineno,
            pos,
            format!("duplicate label name {:?}", w[0]),
        )),
        None => Ok(()),
    }
}

/// A value: an integer or a float, no underscores or surrounding whitespace.
fn parse_value(tok: &[u8]) -> Option<f64> {
    parse_float(tok)
}

/// A timestamp in seconds: finite.
fn parse_timestamp(tok: &[u8]) -> Option<f64> {
    parse_float(tok).filter(|t| t.is_finite())
}

/// Reads `name="value",...}` after the `{`. When `metric_name` is given, a first bare quoted
/// string is the metric name (`{"my.metric", a="b"}`).
fn parse_label_set(
    c: &mut Cursor<'_>,
    lineno: usize,
    interner: &mut Interner,
    out: &mut Pairs,
    mut metric_name: Option<&mut Option<Arc<str>>>,
) -> Result<(), ParseError> {
    let err = |pos: usize, msg: String| ParseError::new(lineno, pos + 1, msg);
    let mut first = true;
    loop {
        match c.peek() {
            Some(b'}') if first => {
                c.pos += 1;
                return Ok(());
            }
            None => return Err(err(c.pos, "unexpected end of label set".into())),
            _ => {}
        }
        let npos = c.pos;
        let lname: Arc<str> = if c.peek() == Some(b'"') {
            c.pos += 1;
            let q = c.quoted(lineno, 1)?;
            if c.peek() != Some(b'=') {
                // A bare quoted string: the metric name, first in the set only.
                match metric_name.as_deref_mut() {
                    Some(slot) if first && slot.is_none() => {
                        *slot = Some(interner.intern(&q));
                        first = false;
                        match c.peek() {
                            Some(b',') => {
                                c.pos += 1;
                                while c.peek() == Some(b' ') {
                                    c.pos += 1;
                                }
                                if c.peek() == Some(b'}') {
                                    return Err(err(c.pos, "unexpected '}' after ','".into()));
                                }
                                continue;
                            }
                            Some(b'}') => {
                                c.pos += 1;
                                return Ok(());
                            }
                            _ => {
                                return Err(err(
                                    c.pos,
                                    "expected ',' or '}' after the metric name".into(),
                                ))
                            }
                        }
                    }
                    Some(_) if !first => {
                        return Err(err(npos, "metric name specified more than once".into()))
                    }
                    _ => return Err(err(c.pos, "expected '=' after label name".into())),
                }
            }
            interner.intern(&q)
        } else {
            let n = legacy_name_len(&c.b[c.pos..], false);
            if n == 0 {
                return Err(err(c.pos, "invalid label name".into()));
            }
            let s = std::str::from_utf8(&c.b[c.pos..c.pos + n])
                .map_err(|_| err(c.pos, "invalid label name".into()))?;
            c.pos += n;
            interner.intern(s)
        };
        first = false;
        if c.peek() != Some(b'=') {
            return Err(err(c.pos, "expected '=' after label name".into()));
        }
        c.pos += 1;
        if c.peek() != Some(b'"') {
            return Err(err(c.pos, "expected '\"' to start the label value".into()));
        }
        c.pos += 1;
        let start = c.pos;
        let mut has_escape = false;
        loop {
            match c.peek() {
                None => return Err(err(c.pos, "unterminated label value".into())),
                Some(b'"') => break,
                Some(b'\\') => {
                    has_escape = true;
                    c.pos += 2;
                    if c.pos > c.b.len() {
                        return Err(err(c.b.len(), "unterminated label value".into()));
                    }
                }
                Some(_) => c.pos += 1,
            }
        }
        let raw = std::str::from_utf8(&c.b[start..c.pos])
            .map_err(|_| err(start, "invalid UTF-8 in label value".into()))?;
        c.pos += 1;
        let value = if has_escape {
            interner.intern(&unescape_help(raw))
        } else {
            interner.intern(raw)
        };
        if out.len() < 16 && out.iter().any(|l| l.name == lname) {
            return Err(err(npos, format!("duplicate label name {lname:?}")));
        }
        out.push(Label { name: lname, value });
        match c.peek() {
            Some(b',') => {
                c.pos += 1;
                if c.peek() == Some(b'}') {
                    return Err(err(c.pos, "unexpected '}' after ','".into()));
                }
            }
            Some(b'}') => {
                c.pos += 1;
                return check_duplicates(out, lineno, c.pos);
            }
            _ => return Err(err(c.pos, "expected ',' or '}' after label value".into())),
        }
    }
}
