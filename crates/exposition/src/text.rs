//! The classic Prometheus text format 0.0.4 parser, with the rules and error messages of
//! Prometheus's `expfmt.TextParser` (UTF-8 name validation, as Prometheus 3 scrapes).
//!
//! Families are keyed by name as expfmt keys them: `x_sum`, `x_count` and `x_bucket` samples
//! join a summary or histogram family `x` declared before them; any other sample name is a
//! family of its own, created on first sight (untyped unless a TYPE line came first).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use promplay_model::{Label, Labels};

use crate::float::parse_float;
use crate::parse::{
    attach_created, go_quote_bytes, legacy_name_len, Interner, ParseError, ParsedFamily,
    ParsedSample,
};
use crate::snapshot::MetricType;

struct Family {
    name: String,
    typ: Option<MetricType>,
    help: Option<String>,
    samples: Vec<ParsedSample>,
}

/// Parses the classic text format into families (in order of first appearance).
pub fn parse_text(input: &[u8]) -> Result<Vec<ParsedFamily>, ParseError> {
    parse_text_indexed(input).map(|(families, _)| families)
}

/// Where a sample line's sample went, for a scraper that remembers the shape of an exposition
/// (see [`parse_text_indexed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleLine {
    /// The 1-based line number.
    pub line: usize,
    /// The byte offset in the line where the value starts: everything before it (name, labels,
    /// blanks) determines the series.
    pub value_col: usize,
    /// Index of the family in the output, and of the sample in the family.
    pub family: usize,
    pub sample: usize,
}

/// [`parse_text`], and for every sample line (in input order) where its sample is.
pub fn parse_text_indexed(
    input: &[u8],
) -> Result<(Vec<ParsedFamily>, Vec<SampleLine>), ParseError> {
    let mut p = TextParser {
        families: Vec::new(),
        by_name: HashMap::default(),
        interner: Interner::default(),
        last_name: String::new(),
        last_family: None,
        lines: Vec::new(),
    };
    let mut lineno = 0;
    let mut rest = input;
    while !rest.is_empty() {
        lineno += 1;
        let (line, terminated, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], true, &rest[i + 1..]),
            None => (rest, false, &rest[rest.len()..]),
        };
        rest = next;
        let start = line.iter().position(|&b| b != b' ' && b != b'\t');
        let Some(start) = start else { continue };
        let res = if line[start] == b'#' {
            p.comment(line, start, lineno)
        } else {
            p.sample(line, start, lineno)
        };
        match res {
            // Running out of an unterminated last line is a premature end of the input.
            Err(e) if !terminated && e.col > line.len() => {
                return Err(ParseError::new(
                    lineno,
                    line.len() + 1,
                    "unexpected end of input stream",
                ))
            }
            Err(e) => return Err(e),
            Ok(()) if !terminated => {
                return Err(ParseError::new(
                    lineno,
                    line.len() + 1,
                    "unexpected end of input stream",
                ))
            }
            Ok(()) => {}
        }
    }
    let mut out = Vec::with_capacity(p.families.len());
    // Family indices in the output (families without anything are left out).
    let mut index = Vec::with_capacity(p.families.len());
    for f in p.families {
        index.push(out.len());
        if f.samples.is_empty() && f.typ.is_none() && f.help.is_none() {
            continue;
        }
        let mut fam = ParsedFamily {
            name: f.name,
            typ: f.typ.unwrap_or(MetricType::Unknown),
            help: f.help,
            unit: None,
            samples: f.samples,
        };
        attach_created(&mut fam);
        out.push(fam);
    }
    let mut lines = p.lines;
    for l in lines.iter_mut() {
        // A family with a sample is never left out.
        l.family = index[l.family];
    }
    Ok((out, lines))
}

/// Label pairs of a sample line, borrowed from the line unless they had escapes.
type Pairs<'l> = Vec<(Cow<'l, [u8]>, Cow<'l, [u8]>)>;

struct TextParser {
    families: Vec<Family>,
    by_name: HashMap<String, usize, std::hash::BuildHasherDefault<crate::parse::FxHasher>>,
    interner: Interner,
    /// The name [`TextParser::family_for`] resolved last, and its family.
    last_name: String,
    last_family: Option<usize>,
    /// Every sample line, in input order.
    lines: Vec<SampleLine>,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn skip_blanks(line: &[u8], mut pos: usize) -> usize {
    while pos < line.len() && is_blank(line[pos]) {
        pos += 1;
    }
    pos
}

fn token_end(line: &[u8], pos: usize) -> usize {
    line[pos..]
        .iter()
        .position(|&b| is_blank(b))
        .map_or(line.len(), |i| pos + i)
}

/// What a quoted string in a sample line is (for the "contains unescaped new-line" wording).
#[derive(Clone, Copy)]
enum Quoted {
    MetricName,
    LabelName,
    LabelValue,
}

/// Reads a quoted string starting after `"`, with the text format's escapes (`\\`, `\"`,
/// `\n`). Returns the unescaped bytes and the position after the closing quote.
fn read_quoted(
    line: &[u8],
    mut pos: usize,
    lineno: usize,
    what: Quoted,
) -> Result<(Cow<'_, [u8]>, usize), ParseError> {
    // Fast path: no escape before the closing quote.
    if let Some(i) = memchr::memchr2(b'"', b'\\', &line[pos.min(line.len())..]) {
        if line[pos + i] == b'"' {
            return Ok((Cow::Borrowed(&line[pos..pos + i]), pos + i + 1));
        }
    }
    let mut out = Vec::new();
    loop {
        match line.get(pos) {
            None => {
                let kind = match what {
                    Quoted::MetricName => "metric name",
                    Quoted::LabelName => "label name",
                    Quoted::LabelValue => "label value",
                };
                // The line ended inside the string: in the input, a new-line.
                return Err(ParseError::new(
                    lineno,
                    pos + 1,
                    format!(
                        "{kind} {} contains unescaped new-line",
                        go_quote_bytes(&out)
                    ),
                ));
            }
            Some(b'"') => return Ok((Cow::Owned(out), pos + 1)),
            Some(b'\\') => {
                match line.get(pos + 1) {
                    Some(b'\\') => out.push(b'\\'),
                    Some(b'"') => out.push(b'"'),
                    Some(b'n') => out.push(b'\n'),
                    Some(&o) => {
                        return Err(ParseError::new(
                            lineno,
                            pos + 1,
                            format!("invalid escape sequence '\\{}'", o as char),
                        ))
                    }
                    None => {
                        return Err(ParseError::new(
                            lineno,
                            pos + 2,
                            "unexpected end of input stream",
                        ))
                    }
                }
                pos += 2;
            }
            Some(&b) => {
                out.push(b);
                pos += 1;
            }
        }
    }
}

impl TextParser {
    /// expfmt's `setOrCreateCurrentMF`: the family a name belongs to, and whether the sample
    /// is a histogram `_bucket`.
    fn family_for(&mut self, name: &str) -> usize {
        // Consecutive samples mostly share a name. A name's family never changes once found:
        // the families it could resolve to by suffix have a type already, fixed for good.
        if self.last_name == name {
            if let Some(i) = self.last_family {
                return i;
            }
        }
        let i = self.resolve_family(name);
        self.last_name.clear();
        self.last_name.push_str(name);
        self.last_family = Some(i);
        i
    }

    fn resolve_family(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        for (suffixes, typ) in [
            (&["_sum", "_count"][..], MetricType::Summary),
            (&["_sum", "_count", "_bucket"][..], MetricType::Histogram),
        ] {
            for suffix in suffixes {
                if let Some(base) = name.strip_suffix(suffix) {
                    if let Some(&i) = self.by_name.get(base) {
                        let t = self.families[i].typ;
                        if t == Some(typ)
                            || (typ == MetricType::Histogram
                                && t == Some(MetricType::GaugeHistogram))
                        {
                            return i;
                        }
                    }
                }
            }
        }
        let i = self.families.len();
        self.families.push(Family {
            name: name.to_string(),
            typ: None,
            help: None,
            samples: Vec::new(),
        });
        self.by_name.insert(name.to_string(), i);
        i
    }

    fn comment(&mut self, line: &[u8], start: usize, lineno: usize) -> Result<(), ParseError> {
        let pos = skip_blanks(line, start + 1);
        let end = token_end(line, pos);
        let keyword = &line[pos..end];
        if keyword != b"HELP" && keyword != b"TYPE" {
            return Ok(()); // an ordinary comment
        }
        let pos = skip_blanks(line, end);
        if pos == line.len() {
            return Ok(()); // "# HELP" alone: an ordinary comment
        }
        let (name, pos) = if line.get(pos) == Some(&b'"') {
            let (raw, after) = read_quoted(line, pos + 1, lineno, Quoted::MetricName)?;
            let name = String::from_utf8(raw.into_owned())
                .map_err(|_| ParseError::new(lineno, pos + 1, "invalid metric name in comment"))?;
            (name, after)
        } else {
            let n = legacy_name_len(&line[pos..], true);
            let next = line.get(pos + n).copied();
            if n == 0 || next.is_some_and(|b| !is_blank(b)) {
                return Err(ParseError::new(
                    lineno,
                    pos + 1,
                    "invalid metric name in comment",
                ));
            }
            (
                String::from_utf8_lossy(&line[pos..pos + n]).into_owned(),
                pos + n,
            )
        };
        if pos == line.len() {
            return Ok(()); // "# HELP name" with nothing after it: ignored, as expfmt does
        }
        let fi = self.family_for(&name);
        let text_start = skip_blanks(line, pos);
        if keyword == b"HELP" {
            if self.families[fi].help.is_some() {
                return Err(ParseError::new(
                    lineno,
                    start + 1,
                    format!(
                        "second HELP line for metric name {:?}",
                        self.families[fi].name
                    ),
                ));
            }
            let raw = &line[text_start..];
            let mut help = Vec::with_capacity(raw.len());
            let mut i = 0;
            while i < raw.len() {
                match (raw[i], raw.get(i + 1)) {
                    (b'\\', Some(b'\\')) => {
                        help.push(b'\\');
                        i += 2;
                    }
                    (b'\\', Some(b'n')) => {
                        help.push(b'\n');
                        i += 2;
                    }
                    (b, _) => {
                        help.push(b);
                        i += 1;
                    }
                }
            }
            let help = String::from_utf8(help).map_err(|_| {
                ParseError::new(lineno, text_start + 1, "invalid UTF-8 in help text")
            })?;
            self.families[fi].help = Some(help);
        } else {
            if self.families[fi].typ.is_some() {
                return Err(ParseError::new(
                    lineno,
                    start + 1,
                    format!(
                        "second TYPE line for metric name {:?}, or TYPE reported after samples",
                        self.families[fi].name
                    ),
                ));
            }
            let end = token_end(line, text_start);
            let t = String::from_utf8_lossy(&line[text_start..end]).to_ascii_uppercase();
            let typ = match t.as_str() {
                "COUNTER" => MetricType::Counter,
                "GAUGE" => MetricType::Gauge,
                "SUMMARY" => MetricType::Summary,
                "HISTOGRAM" => MetricType::Histogram,
                "UNTYPED" => MetricType::Unknown,
                "GAUGE_HISTOGRAM" | "GAUGEHISTOGRAM" => MetricType::GaugeHistogram,
                _ => {
                    return Err(ParseError::new(
                        lineno,
                        text_start + 1,
                        format!(
                            "unknown metric type {:?}",
                            String::from_utf8_lossy(&line[text_start..end])
                        ),
                    ))
                }
            };
            self.families[fi].typ = Some(typ);
        }
        Ok(())
    }

    fn sample(&mut self, line: &[u8], start: usize, lineno: usize) -> Result<(), ParseError> {
        let err = |pos: usize, msg: String| ParseError::new(lineno, pos + 1, msg);
        let n = legacy_name_len(&line[start..], true);
        let mut pos = start + n;
        // A legacy name is ASCII: valid UTF-8.
        let mut name: Option<Cow<'_, str>> = (n > 0).then(|| {
            std::str::from_utf8(&line[start..pos]).map_or_else(
                |_| String::from_utf8_lossy(&line[start..pos]),
                Cow::Borrowed,
            )
        });
        if n == 0 && line[start] != b'{' {
            return Err(err(start, "invalid metric name".into()));
        }
        pos = skip_blanks(line, pos);
        let mut pairs: Pairs<'_> = Vec::new();
        if line.get(pos) == Some(&b'{') {
            pos = skip_blanks(line, pos + 1);
            // A quoted metric name may open the set.
            if name.is_none() && line.get(pos) == Some(&b'"') {
                let (raw, after) = read_quoted(line, pos + 1, lineno, Quoted::MetricName)?;
                let after_blanks = skip_blanks(line, after);
                if line.get(after_blanks) != Some(&b'=') {
                    let s = String::from_utf8(raw.into_owned())
                        .map_err(|_| err(pos, "invalid metric name".into()))?;
                    name = Some(Cow::Owned(s));
                    pos = after_blanks;
                    match line.get(pos) {
                        Some(b',') => pos = skip_blanks(line, pos + 1),
                        Some(b'}') => {}
                        None => {
                            return Err(err(
                                line.len() + 1,
                                "unexpected end of input stream".into(),
                            ))
                        }
                        Some(_) => return Err(err(pos, "unexpected end of metric name".into())),
                    }
                } else {
                    pos = self.label_pair(
                        line,
                        pos,
                        lineno,
                        &mut name,
                        &mut pairs,
                        Some((raw, after_blanks)),
                    )?;
                }
            }
            loop {
                match line.get(pos) {
                    Some(b'}') => {
                        pos += 1;
                        break;
                    }
                    None => {
                        return Err(err(line.len() + 1, "unexpected end of input stream".into()))
                    }
                    _ => {}
                }
                pos = self.label_pair(line, pos, lineno, &mut name, &mut pairs, None)?;
            }
        }
        if pairs.len() > 16 {
            // Large sets: one sorted pass instead of a scan per label.
            let mut names: Vec<&[u8]> = pairs.iter().map(|(k, _)| &**k).collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                let m = go_quote_bytes(name.as_deref().unwrap_or("").as_bytes());
                return Err(err(start, format!("duplicate label names for metric {m}")));
            }
        }
        let Some(name) = name else {
            return Err(err(start, "invalid metric name".into()));
        };
        let fi = self.family_for(&name);
        let is_family_name = self.families[fi].name == *name;
        let typ = *self.families[fi].typ.get_or_insert(MetricType::Unknown);
        // Special labels.
        for (k, v) in &pairs {
            let check = |label: &str| -> Result<(), ParseError> {
                if parse_float(v).is_none() {
                    return Err(err(
                        start,
                        format!(
                            "expected float as value for '{label}' label, got {}",
                            go_quote_bytes(v)
                        ),
                    ));
                }
                Ok(())
            };
            if typ == MetricType::Summary && &**k == b"quantile" && is_family_name {
                check("quantile")?;
            }
            if matches!(typ, MetricType::Histogram | MetricType::GaugeHistogram)
                && &**k == b"le"
                && name.ends_with("_bucket")
            {
                check("le")?;
            }
        }
        pos = skip_blanks(line, pos);
        if pos >= line.len() {
            return Err(err(line.len() + 1, "unexpected end of input stream".into()));
        }
        let value_col = pos;
        let vend = token_end(line, pos);
        let value = parse_float(&line[pos..vend]).ok_or_else(|| {
            err(
                pos,
                format!(
                    "expected float as value, got {}",
                    go_quote_bytes(&line[pos..vend])
                ),
            )
        })?;
        pos = skip_blanks(line, vend);
        let mut timestamp_ms = None;
        if pos < line.len() {
            let tend = token_end(line, pos);
            let tok = &line[pos..tend];
            timestamp_ms = Some(
                std::str::from_utf8(tok)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(|| {
                        err(
                            pos,
                            format!("expected integer as timestamp, got {}", go_quote_bytes(tok)),
                        )
                    })?,
            );
            pos = skip_blanks(line, tend);
            if pos < line.len() {
                return Err(err(
                    pos,
                    format!(
                        "spurious string after timestamp: {}",
                        go_quote_bytes(&line[pos..token_end(line, pos)])
                    ),
                ));
            }
        }
        if typ == MetricType::Histogram {
            let fam_name = &self.families[fi].name;
            if name.ends_with("_count") && !is_family_name && value < 0.0 {
                return Err(err(
                    start,
                    format!("negative count for histogram {fam_name:?}"),
                ));
            }
            if name.ends_with("_bucket") && !is_family_name && value < 0.0 {
                return Err(err(
                    start,
                    format!("negative bucket population for histogram {fam_name:?}"),
                ));
            }
        }
        let labels = Labels::new(
            pairs
                .iter()
                .map(|(k, v)| {
                    // Validated as UTF-8 in label_pair.
                    let k = std::str::from_utf8(k).unwrap_or_default();
                    let v = std::str::from_utf8(v).unwrap_or_default();
                    Label {
                        name: self.interner.intern(k),
                        value: self.interner.intern(v),
                    }
                })
                .collect(),
        );
        let name: Arc<str> = self.interner.intern(&name);
        self.lines.push(SampleLine {
            line: lineno,
            value_col,
            family: fi,
            sample: self.families[fi].samples.len(),
        });
        self.families[fi].samples.push(ParsedSample {
            name,
            labels,
            value,
            timestamp_ms,
            exemplar: None,
            created_ms: None,
        });
        Ok(())
    }

    /// Reads one `name="value"` pair and the `,` or `}` after it (not consumed if `}`).
    #[allow(clippy::too_many_arguments)]
    fn label_pair<'l>(
        &mut self,
        line: &'l [u8],
        mut pos: usize,
        lineno: usize,
        metric: &mut Option<Cow<'l, str>>,
        pairs: &mut Pairs<'l>,
        prequoted: Option<(Cow<'l, [u8]>, usize)>,
    ) -> Result<usize, ParseError> {
        let err = |pos: usize, msg: String| ParseError::new(lineno, pos + 1, msg);
        let metric_q =
            |m: &Option<Cow<'_, str>>| go_quote_bytes(m.as_deref().unwrap_or("").as_bytes());
        let lname: Cow<'l, [u8]> = if let Some((raw, after)) = prequoted {
            pos = after;
            raw
        } else if line.get(pos) == Some(&b'"') {
            let (raw, after) = read_quoted(line, pos + 1, lineno, Quoted::LabelName)?;
            if line.get(skip_blanks(line, after)) != Some(&b'=') {
                if metric.is_some() {
                    return Err(err(pos, "multiple metric names".into()));
                }
                // The quoted metric name, later in the set.
                let name = String::from_utf8(raw.into_owned())
                    .map_err(|_| err(pos, "invalid metric name".into()))?;
                *metric = Some(Cow::Owned(name));
                pos = skip_blanks(line, after);
                return match line.get(pos) {
                    Some(b',') => Ok(skip_blanks(line, pos + 1)),
                    Some(b'}') => Ok(pos),
                    None => Err(err(line.len() + 1, "unexpected end of input stream".into())),
                    Some(_) => Err(err(pos, "unexpected end of metric name".into())),
                };
            }
            pos = skip_blanks(line, after);
            raw
        } else {
            let n = legacy_name_len(&line[pos..], false);
            if n == 0 {
                if pos >= line.len() {
                    return Err(err(line.len() + 1, "unexpected end of input stream".into()));
                }
                return Err(err(
                    pos,
                    format!("invalid label name for metric {}", metric_q(metric)),
                ));
            }
            let raw = Cow::Borrowed(&line[pos..pos + n]);
            pos = skip_blanks(line, pos + n);
            raw
        };
        if std::str::from_utf8(&lname).is_err() {
            return Err(err(
                pos,
                format!("invalid label name {}", go_quote_bytes(&lname)),
            ));
        }
        if *lname == *b"__name__" {
            return Err(err(pos, "label name \"__name__\" is reserved".into()));
        }
        match line.get(pos) {
            Some(b'=') => {}
            None => return Err(err(line.len() + 1, "unexpected end of input stream".into())),
            Some(&o) => {
                return Err(err(
                    pos,
                    format!("expected '=' after label name, found {:?}", o as char),
                ));
            }
        }
        pos = skip_blanks(line, pos + 1);
        match line.get(pos) {
            Some(b'"') => {}
            None => return Err(err(line.len() + 1, "unexpected end of input stream".into())),
            Some(&o) => {
                return Err(err(
                    pos,
                    format!(
                        "expected '\"' at start of label value, found {:?}",
                        o as char
                    ),
                ));
            }
        }
        let (value, after) = read_quoted(line, pos + 1, lineno, Quoted::LabelValue)?;
        if std::str::from_utf8(&value).is_err() {
            return Err(err(
                pos,
                format!("invalid label value {}", go_quote_bytes(&value)),
            ));
        }
        if pairs.len() < 16 && pairs.iter().any(|(k, _)| *k == lname) {
            return Err(err(
                pos,
                format!("duplicate label names for metric {}", metric_q(metric)),
            ));
        }
        pairs.push((lname, value.clone()));
        pos = skip_blanks(line, after);
        match line.get(pos) {
            Some(b',') => Ok(skip_blanks(line, pos + 1)),
            Some(b'}') => Ok(pos),
            None => Err(err(line.len() + 1, "unexpected end of input stream".into())),
            Some(_) => Err(err(
                pos,
                format!("unexpected end of label value {}", go_quote_bytes(&value)),
            )),
        }
    }
}
