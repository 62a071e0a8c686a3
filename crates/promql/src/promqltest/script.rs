//! The promqltest script: `load`, `clear` and `eval` commands parsed from a file
//! (Prometheus's `promql/promqltest/test.go`, `parse`).

use std::collections::HashMap;

use promplay_model::{FloatHistogram, Labels};
use regex::Regex;

use super::series::{
    first_word, parse_duration, parse_metric, parse_number, parse_series_desc, parse_st_sequence,
    SeqValue,
};

/// Adds (or with `sub`, subtracts) two histograms; used by `{{a}}+{{b}}xN`.
pub type HistAdd = dyn Fn(&FloatHistogram, &FloatHistogram, bool) -> Result<FloatHistogram, String>;

#[derive(Clone, Debug)]
pub struct LoadSeries {
    pub labels: Labels,
    /// (timestamp, value, start timestamp) for each non-omitted slot.
    pub samples: Vec<(i64, SeqValue, Option<i64>)>,
}

#[derive(Clone, Debug)]
pub struct LoadCmd {
    pub interval_ms: i64,
    pub with_nhcb: bool,
    pub series: Vec<LoadSeries>,
}

/// How an `expect fail|warn|info` line matches a text.
#[derive(Clone, Debug)]
pub enum Expectation {
    Any,
    Message(String),
    Regex(Regex),
}

impl Expectation {
    pub fn matches(&self, s: &str) -> bool {
        match self {
            Expectation::Any => true,
            Expectation::Message(m) => m == s,
            Expectation::Regex(r) => r.is_match(s),
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Expectation::Any => "anything".into(),
            Expectation::Message(m) => format!("message {m:?}"),
            Expectation::Regex(r) => format!("pattern {:?}", r.as_str()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ExpectedSeries {
    pub labels: Labels,
    pub values: Vec<SeqValue>,
    /// 1-based position among the expected lines (for `expect ordered`).
    pub pos: usize,
}

#[derive(Clone, Debug)]
pub enum EvalKind {
    Instant { at: i64 },
    Range { start: i64, end: i64, step: i64 },
}

#[derive(Clone, Debug)]
pub struct EvalCmd {
    pub expr: String,
    /// 1-based line number of the `eval` line.
    pub line: usize,
    pub kind: EvalKind,
    pub ordered: bool,
    pub fail: bool,
    pub warn: bool,
    pub info: bool,
    pub fail_expect: Vec<Expectation>,
    pub warn_expect: Vec<Expectation>,
    pub info_expect: Vec<Expectation>,
    pub no_warn: bool,
    pub no_info: bool,
    pub expected_fail_message: Option<String>,
    pub expected_fail_regexp: Option<Regex>,
    /// `expect range vector from .. to .. step ..` (start, end, step).
    pub range_vector: Option<(i64, i64, i64)>,
    pub expected_string: Option<String>,
    pub exclude_from_range_query: bool,
    pub expect_scalar: Option<f64>,
    /// Expected series, de-duplicated by label set (a later line wins).
    pub expected: Vec<ExpectedSeries>,
}

impl EvalCmd {
    pub fn is_fail(&self) -> bool {
        self.fail || !self.fail_expect.is_empty()
    }
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }
}

#[derive(Clone, Debug)]
pub enum Command {
    Clear,
    Load(LoadCmd),
    Eval(Box<EvalCmd>),
}

/// A script error: line (1-based) and message.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

fn err(line: usize, message: impl Into<String>) -> ScriptError {
    ScriptError {
        line: line + 1,
        message: message.into(),
    }
}

fn lines_of(input: &str) -> Vec<String> {
    input
        .split('\n')
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') {
                String::new()
            } else {
                t.to_string()
            }
        })
        .collect()
}

/// Parses a whole script. `check_expr` validates each eval's PromQL (a parse error fails
/// the file, as upstream).
pub fn parse_script(
    input: &str,
    add: &HistAdd,
    check_expr: &dyn Fn(&str) -> Result<(), String>,
) -> Result<Vec<Command>, ScriptError> {
    let lines = lines_of(input);
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let c = first_word(l).to_lowercase();
        if c == "clear" {
            cmds.push(Command::Clear);
        } else if c.starts_with("load") {
            let (ni, cmd) = parse_load(&lines, i, add)?;
            i = ni;
            cmds.push(Command::Load(cmd));
        } else if c.starts_with("eval") {
            let (ni, cmd) = parse_eval(&lines, i, add, check_expr)?;
            i = ni;
            cmds.push(Command::Eval(Box::new(cmd)));
        } else {
            return Err(err(i, format!("invalid command {l:?}")));
        }
        i += 1;
    }
    Ok(cmds)
}

fn is_st_line(l: &str) -> bool {
    match l.find([' ', '\t']) {
        Some(idx) => l[..idx].ends_with("@st"),
        None => false,
    }
}

fn parse_load(
    lines: &[String],
    mut i: usize,
    add: &HistAdd,
) -> Result<(usize, LoadCmd), ScriptError> {
    let re = Regex::new(r"^load(?:_(with_nhcb))?\s+(.+?)$").expect("static regex");
    let Some(caps) = re.captures(&lines[i]) else {
        return Err(err(
            i,
            "invalid load command. (load[_with_nhcb] <step:duration>)",
        ));
    };
    let with_nhcb = caps.get(1).is_some();
    let step = &caps[2];
    let interval_ms = parse_duration(step)
        .map_err(|e| err(i, format!("invalid step definition {step:?}: {e}")))?;
    let mut cmd = LoadCmd {
        interval_ms,
        with_nhcb,
        series: Vec::new(),
    };
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut pending_st: Option<(Labels, Vec<Option<i64>>, usize)> = None;
    let mut default_st: Option<Vec<Option<i64>>> = None;
    while i + 1 < lines.len() {
        i += 1;
        let def = &lines[i];
        if def.is_empty() {
            i -= 1;
            break;
        }
        if is_st_line(def) {
            if let Some((_, _, l)) = pending_st {
                return Err(err(l, "@st line has no following sample line"));
            }
            let idx = def.find([' ', '\t']).unwrap_or(def.len());
            let metric_part = def[..idx].trim_end_matches("@st");
            let vals = parse_st_sequence(def[idx..].trim())
                .map_err(|e| err(i, format!("invalid @st sequence: {e}")))?;
            if metric_part.is_empty() {
                default_st = Some(vals);
                continue;
            }
            let (m, rest) = parse_metric(metric_part).map_err(|e| err(i, e))?;
            if !rest.trim().is_empty() {
                return Err(err(i, format!("invalid @st line metric {metric_part:?}")));
            }
            pending_st = Some((m, vals, i));
            continue;
        }
        let (metric, vals) = parse_series_desc(def, add).map_err(|e| err(i, e))?;
        let st = match pending_st.take() {
            Some((m, v, l)) => {
                if m != metric {
                    return Err(err(
                        l,
                        "@st metric does not match the following sample line metric",
                    ));
                }
                if v.len() != vals.len() {
                    return Err(err(
                        l,
                        format!(
                            "@st line has {} values but sample line has {}",
                            v.len(),
                            vals.len()
                        ),
                    ));
                }
                Some(v)
            }
            None => None,
        };
        let mut samples = Vec::with_capacity(vals.len());
        for (k, v) in vals.into_iter().enumerate() {
            let t = k as i64 * interval_ms;
            if matches!(v, SeqValue::Omitted) {
                continue;
            }
            let st_off = match &st {
                Some(s) => s[k],
                None => match &default_st {
                    Some(d) if !d.is_empty() => d[k % d.len()],
                    _ => None,
                },
            };
            samples.push((t, v, st_off.map(|o| t + o)));
        }
        let s = LoadSeries {
            labels: metric.clone(),
            samples,
        };
        match index.get(&metric) {
            Some(&p) => cmd.series[p] = s,
            None => {
                index.insert(metric, cmd.series.len());
                cmd.series.push(s);
            }
        }
    }
    if let Some((_, _, l)) = pending_st {
        return Err(err(l, "@st line has no following sample line"));
    }
    Ok((i, cmd))
}

fn parse_expect(line: &str) -> Result<(String, Expectation), String> {
    let re =
        Regex::new(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
            .expect("static regex");
    let caps = re.captures(line.trim()).ok_or_else(|| {
        "invalid expect statement, must match `expect <type> <match_type>: <string>` format"
            .to_string()
    })?;
    let mode = caps[1].to_string();
    let e = match caps.get(2).map(|m| m.as_str()) {
        Some("msg") => Expectation::Message(caps[3].trim().to_string()),
        Some(_) => {
            let p = caps[3].trim();
            Expectation::Regex(Regex::new(p).map_err(|_| format!("invalid regex {p} for {mode}"))?)
        }
        None => Expectation::Any,
    };
    Ok((mode, e))
}

fn unquote_go(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return None;
    }
    let q = b[0];
    if b[b.len() - 1] != q || !(q == b'"' || q == b'`' || q == b'\'') {
        return None;
    }
    let (labels, _) = parse_metric(&format!("{{x={s}}}")).ok()?;
    Some(labels.get("x").unwrap_or("").to_string())
}

fn parse_eval(
    lines: &[String],
    mut i: usize,
    add: &HistAdd,
    check_expr: &dyn Fn(&str) -> Result<(), String>,
) -> Result<(usize, EvalCmd), ScriptError> {
    let re_instant =
        Regex::new(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$")
            .expect("static regex");
    let re_range = Regex::new(
        r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
    )
    .expect("static regex");
    let line = &lines[i];
    let inst = re_instant.captures(line);
    let rng = re_range.captures(line);
    let (modifier, expr, kind) = if let Some(c) = &inst {
        let at = c.get(2).map(|m| m.as_str()).unwrap_or("");
        let expr = c[3].to_string();
        let t = parse_duration(at).map_err(|e| {
            err(
                i,
                format!(
                    "error in eval {expr} (line {}): invalid timestamp definition {at:?}: {e}",
                    i + 1
                ),
            )
        })?;
        (
            c.get(1).map(|m| m.as_str().to_string()),
            expr,
            EvalKind::Instant { at: t },
        )
    } else if let Some(c) = &rng {
        let expr = c[5].to_string();
        let from = parse_duration(&c[2]).map_err(|e| {
            err(
                i,
                format!("invalid start timestamp definition {:?}: {e}", &c[2]),
            )
        })?;
        let to = parse_duration(&c[3]).map_err(|e| {
            err(
                i,
                format!("invalid end timestamp definition {:?}: {e}", &c[3]),
            )
        })?;
        if to < from {
            return Err(err(
                i,
                format!(
                    "invalid test definition, end timestamp ({}) is before start timestamp ({})",
                    &c[3], &c[2]
                ),
            ));
        }
        let step = parse_duration(&c[4])
            .map_err(|e| err(i, format!("invalid step definition {:?}: {e}", &c[4])))?;
        (
            c.get(1).map(|m| m.as_str().to_string()),
            expr,
            EvalKind::Range {
                start: from,
                end: to,
                step,
            },
        )
    } else {
        return Err(err(i, "invalid evaluation command. Must be either 'eval[_fail|_warn|_ordered] instant [at <offset:duration>] <query>' or 'eval[_fail|_warn] range from <from> to <to> step <step> <query>'"));
    };
    check_expr(&expr).map_err(|e| err(i, format!("{expr}: {e}")))?;
    let is_instant = matches!(kind, EvalKind::Instant { .. });
    let mut cmd = EvalCmd {
        expr,
        line: i + 1,
        kind,
        ordered: modifier.as_deref() == Some("ordered"),
        fail: modifier.as_deref() == Some("fail"),
        warn: modifier.as_deref() == Some("warn"),
        info: modifier.as_deref() == Some("info"),
        fail_expect: vec![],
        warn_expect: vec![],
        info_expect: vec![],
        no_warn: false,
        no_info: false,
        expected_fail_message: None,
        expected_fail_regexp: None,
        range_vector: None,
        expected_string: None,
        exclude_from_range_query: false,
        expect_scalar: None,
        expected: vec![],
    };
    let re = Regex::new(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
        .expect("static regex");
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut j = 1usize;
    while i + 1 < lines.len() {
        i += 1;
        let def = &lines[i];
        if def.is_empty() {
            i -= 1;
            break;
        }
        if cmd.fail {
            if let Some(r) = def.strip_prefix("expected_fail_message") {
                cmd.expected_fail_message = Some(r.trim().to_string());
                break;
            }
            if let Some(r) = def.strip_prefix("expected_fail_regexp") {
                let p = r.trim();
                cmd.expected_fail_regexp = Some(Regex::new(p).map_err(|e| {
                    err(
                        i,
                        format!("invalid regexp '{p}' for expected_fail_regexp: {e}"),
                    )
                })?);
                break;
            }
        }
        if def.starts_with("expect range vector") {
            let c = re
                .captures(def)
                .ok_or_else(|| err(i, format!("invalid range vector definition {def:?}")))?;
            let from = parse_duration(&c[1]).map_err(|e| err(i, e))?;
            let to = parse_duration(&c[2]).map_err(|e| err(i, e))?;
            let step = parse_duration(&c[3]).map_err(|e| err(i, e))?;
            if to < from {
                return Err(err(
                    i,
                    "invalid test definition, end timestamp is before start timestamp",
                ));
            }
            cmd.range_vector = Some((from, to, step));
            if let EvalKind::Instant { at } = &mut cmd.kind {
                *at = to;
            }
            cmd.exclude_from_range_query = true;
            j += 1;
            continue;
        }
        if def.starts_with("expect string") {
            let s = def
                .strip_prefix("expect string ")
                .and_then(unquote_go)
                .ok_or_else(|| err(i, "expected string literal not valid - check that the string is correctly quoted"))?;
            cmd.expected_string = Some(s);
            cmd.exclude_from_range_query = true;
            j += 1;
            continue;
        }
        if def.split(' ').next() == Some("expect") {
            let (mode, e) = parse_expect(def).map_err(|e| err(i, e))?;
            match mode.as_str() {
                "ordered" => cmd.ordered = true,
                "fail" => cmd.fail_expect.push(e),
                "warn" => cmd.warn_expect.push(e),
                "info" => cmd.info_expect.push(e),
                "no_warn" => cmd.no_warn = true,
                "no_info" => cmd.no_info = true,
                _ => {}
            }
            if (!cmd.info_expect.is_empty() && cmd.no_info)
                || (!cmd.warn_expect.is_empty() && cmd.no_warn)
                || cmd.fail_expect.len() > 1
            {
                return Err(err(i, "invalid expect lines"));
            }
            continue;
        }
        if let Some(f) = parse_number(def) {
            cmd.expect_scalar = Some(f);
            cmd.expected.clear();
            index.clear();
            break;
        }
        let (metric, vals) = parse_series_desc(def, add).map_err(|e| err(i, e))?;
        if vals.len() > 1 && is_instant && cmd.range_vector.is_none() {
            return Err(err(i, "expecting multiple values in instant evaluation not allowed. consider using 'expect range vector' directive to enable a range vector result for an instant query"));
        }
        cmd.expect_scalar = None;
        let e = ExpectedSeries {
            labels: metric.clone(),
            values: vals,
            pos: j,
        };
        match index.get(&metric) {
            Some(&p) => cmd.expected[p] = e,
            None => {
                index.insert(metric, cmd.expected.len());
                cmd.expected.push(e);
            }
        }
        j += 1;
    }
    Ok((i, cmd))
}
