//! `promtool test rules`: the rule unit-test file format and its runner
//! (`cmd/promtool/unittest.go`), with promtool's output.
//!
//! No I/O here: the host reads files and expands globs through [`Files`], and prints the
//! [`Out`] lines in order (stdout and stderr interleaved as promtool writes them).

use promplay_model::civil::parse_rfc3339;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use promplay_model::labels::write_go_quoted;
use promplay_model::{FloatHistogram, Label, Labels};
use promplay_promql::engine::{Engine, EngineOptions};
use promplay_promql::promqltest::series::{parse_metric, parse_series_desc, parse_values};
use promplay_promql::promqltest::SeqValue;
use promplay_promql::value::{Sample, Value};
use promplay_tsdb::{Db, Options};
use regex::Regex;
use serde::Deserialize;

use crate::duration::{format_go_duration, format_model_duration, parse_duration};
use crate::group::{EvalContext, Group};
use crate::manager::build_groups;
use crate::rule::{AlertState, Rule};
use crate::rulefmt;
use crate::template::{format_e, format_g_shortest};

/// File access for the runner.
pub trait Files {
    fn read(&self, path: &str) -> Result<String, String>;
    /// Paths matching a glob pattern (`filepath.Glob`), sorted.
    fn glob(&self, pattern: &str) -> Result<Vec<String>, String>;
}

/// A line of output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    Stdout(String),
    Stderr(String),
}

/// Runner options (`--run`, `--ignore-unknown-fields`).
#[derive(Clone, Debug, Default)]
pub struct TestOptions {
    pub run: Option<Regex>,
    pub ignore_unknown_fields: bool,
    /// The host's current time (`2006-01-02T15:04:05`) for JUnit suites' `timestamp`.
    pub timestamp: String,
}

/// A JUnit test case: one test group (`unnamed#N` when it has no name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JunitCase {
    pub name: String,
    pub failures: Vec<String>,
    pub error: Option<String>,
}

/// A JUnit test suite: one unit-test file (promtool's `util/junitxml`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JunitSuite {
    pub name: String,
    pub tests: usize,
    pub failures: usize,
    pub errors: usize,
    pub timestamp: String,
    pub cases: Vec<JunitCase>,
}

impl JunitSuite {
    fn last_case(&mut self) -> &mut JunitCase {
        if self.cases.is_empty() {
            self.case("unknown");
        }
        let n = self.cases.len() - 1;
        &mut self.cases[n]
    }

    fn case(&mut self, name: &str) {
        self.cases.push(JunitCase {
            name: name.to_string(),
            ..Default::default()
        });
        self.tests += 1;
    }

    fn fail(&mut self, f: String) {
        self.failures += 1;
        self.last_case().failures.push(f);
    }

    fn abort(&mut self, e: &str) -> Vec<String> {
        self.errors += 1;
        self.last_case().error = Some(e.to_string());
        vec![e.to_string()]
    }
}

/// Go's `encoding/xml` escaping of text and attribute values.
fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\t' => o.push_str("&#x9;"),
            '\n' => o.push_str("&#xA;"),
            '\r' => o.push_str("&#xD;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// The JUnit XML promtool writes with `--junit` (Go's `xml.Encoder`, no indentation).
pub fn junit_xml(suites: &[JunitSuite]) -> String {
    let mut o = String::from("<testsuites>");
    for s in suites {
        o.push_str(&format!(
            "<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" timestamp=\"{}\">",
            xml_escape(&s.name),
            s.tests,
            s.failures,
            s.errors,
            xml_escape(&s.timestamp)
        ));
        for c in &s.cases {
            o.push_str(&format!("<testcase name=\"{}\">", xml_escape(&c.name)));
            for f in &c.failures {
                o.push_str(&format!("<failure>{}</failure>", xml_escape(f)));
            }
            if let Some(e) = &c.error {
                o.push_str(&format!("<error>{}</error>", xml_escape(e)));
            }
            o.push_str("</testcase>");
        }
        o.push_str("</testsuite>");
    }
    o.push_str("</testsuites>");
    o
}

/// A scalar read as text (YAML `1`, `0 1`, `"1x3"`).
#[derive(Clone, Debug, Default)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
        }
        // A string target gets the scalar's text as written (`0x10` stays `0x10`).
        d.deserialize_str(V)
    }
}

/// A Prometheus duration (`model.Duration`) in ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Dur(i64);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = Text::deserialize(d)?;
        if t.0.is_empty() {
            return Ok(Dur(0));
        }
        parse_duration(&t.0)
            .map(Dur)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UnitTestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default)]
    evaluation_interval: Dur,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    fuzzy_compare: bool,
    #[serde(default)]
    tests: Vec<TestGroup>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    #[serde(default)]
    interval: Dur,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTestCase>,
    #[serde(default)]
    promql_expr_test: Vec<PromqlTestCase>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    external_url: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    start_timestamp: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    #[serde(default)]
    series: String,
    #[serde(default)]
    values: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTestCase {
    #[serde(default)]
    eval_time: Dur,
    #[serde(default)]
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromqlTestCase {
    #[serde(default)]
    expr: String,
    #[serde(default)]
    eval_time: Dur,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default)]
    labels: String,
    #[serde(default)]
    value: f64,
    #[serde(default)]
    histogram: String,
}

/// A YAML error worded as Go's yaml.v2 (`UnmarshalStrict`) words it where that is known.
fn go_yaml_error(e: &serde_yaml_ng::Error) -> String {
    let msg = e.to_string();
    let line = e.location().map(|l| l.line()).unwrap_or(0);
    if let Some(i) = msg.find("unknown field `") {
        let path = msg[..i].trim_end_matches([':', ' ']);
        let rest = &msg[i + "unknown field `".len()..];
        let field = rest.split('`').next().unwrap_or("");
        // The innermost collection named in the path gives the Go type.
        let last = path
            .rsplit('.')
            .next()
            .unwrap_or("")
            .split('[')
            .next()
            .unwrap_or("");
        let ty = match last {
            "" => "main.unitTestFile",
            "tests" => "main.testGroup",
            "input_series" => "main.series",
            "alert_rule_test" => "main.alertTestCase",
            "exp_alerts" => "main.alert",
            "promql_expr_test" => "main.promqlTestCase",
            "exp_samples" => "main.sample",
            _ => "main.unitTestFile",
        };
        return format!(
            "yaml: unmarshal errors:\n  line {line}: field {field} not found in type {ty}"
        );
    }
    let base = msg.split(" at line ").next().unwrap_or(&msg);
    if line > 0 {
        format!("yaml: line {line}: {base}")
    } else {
        format!("yaml: {base}")
    }
}

fn hist_add(a: &FloatHistogram, b: &FloatHistogram, sub: bool) -> Result<FloatHistogram, String> {
    let mut x = a.clone();
    let r = if sub { x.sub(b) } else { x.add(b) };
    r.map_err(|e| e.to_string())?;
    Ok(x)
}

fn go_quote(s: &str) -> String {
    let mut o = String::new();
    let _ = write_go_quoted(&mut o, s);
    o
}

/// Runs every file (`RulesUnitTest`): the output lines and the exit code (0 all passed, 1 not).
pub fn run_files(paths: &[String], files: &dyn Files, opts: &TestOptions) -> (Vec<Out>, i32) {
    let (out, code, _) = run_files_junit(paths, files, opts);
    (out, code)
}

/// [`run_files`], with the JUnit suites (one per file).
pub fn run_files_junit(
    paths: &[String],
    files: &dyn Files,
    opts: &TestOptions,
) -> (Vec<Out>, i32, Vec<JunitSuite>) {
    let mut out = Vec::new();
    let mut failed = false;
    let mut suites = Vec::new();
    for p in paths {
        out.push(Out::Stdout(format!("Unit Testing:  {p}")));
        let mut suite = JunitSuite {
            name: p.clone(),
            ..Default::default()
        };
        let errs = run_file(p, files, opts, &mut out, &mut suite);
        suites.push(suite);
        if errs.is_empty() {
            out.push(Out::Stdout("  SUCCESS".into()));
        } else {
            out.push(Out::Stderr("  FAILED:".into()));
            for e in errs {
                out.push(Out::Stderr(e));
                out.push(Out::Stdout(String::new()));
            }
            failed = true;
        }
        out.push(Out::Stdout(String::new()));
    }
    (out, i32::from(failed), suites)
}

fn parent_dir(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) => "/",
        Some(i) => &p[..i],
        None => ".",
    }
}

/// Runs one file (`ruleUnitTest`): the errors, each as promtool prints it.
pub fn run_file(
    path: &str,
    files: &dyn Files,
    opts: &TestOptions,
    out: &mut Vec<Out>,
    suite: &mut JunitSuite,
) -> Vec<String> {
    let content = match files.read(path) {
        Ok(c) => c,
        Err(e) => return suite.abort(&e),
    };
    let utf: UnitTestFile = if content.trim().is_empty() {
        UnitTestFile::default()
    } else {
        match serde_yaml_ng::from_str(&content) {
            Ok(u) => u,
            Err(e) => return suite.abort(&go_yaml_error(&e)),
        }
    };
    let base = parent_dir(path);
    let mut rule_files = Vec::new();
    for rf in &utf.rule_files {
        let full = if rf.is_empty() || rf.starts_with('/') || base == "." {
            rf.clone()
        } else {
            format!("{base}/{rf}")
        };
        match files.glob(&full) {
            Ok(m) => {
                if m.is_empty() {
                    out.push(Out::Stderr(format!(
                        "  WARNING: no file match pattern {full}"
                    )));
                }
                rule_files.extend(m);
            }
            Err(e) => return suite.abort(&e),
        }
    }
    suite.timestamp = opts.timestamp.clone();
    let eval_interval = if utf.evaluation_interval.0 == 0 {
        60_000
    } else {
        utf.evaluation_interval.0
    };
    let mut order: HashMap<String, usize> = HashMap::new();
    for (i, g) in utf.group_eval_order.iter().enumerate() {
        if order.insert(g.clone(), i).is_some() {
            return suite.abort(&format!("group name repeated in evaluation order: {g}"));
        }
    }
    let mut errs = Vec::new();
    for (i, tg) in utf.tests.iter().enumerate() {
        if let Some(r) = &opts.run {
            if !r.is_match(&tg.name) {
                continue;
            }
        }
        let name = if tg.name.is_empty() {
            format!("unnamed#{i}")
        } else {
            tg.name.clone()
        };
        suite.case(&name);
        let group_errs = run_group(
            tg,
            eval_interval,
            &order,
            utf.fuzzy_compare,
            &rule_files,
            files,
            opts,
        );
        for e in &group_errs {
            suite.fail(e.clone());
        }
        errs.extend(group_errs);
    }
    errs
}

/// Unix seconds or RFC 3339 → ms.
fn parse_start(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(0);
    }
    if let Ok(v) = s.parse::<f64>() {
        return Ok((v * 1000.0).round() as i64);
    }
    parse_rfc3339(s).ok_or_else(|| format!("cannot parse {s:?} as a timestamp"))
}

fn floats_equal(a: f64, b: f64, fuzzy: bool) -> bool {
    if a == b {
        return true;
    }
    if !fuzzy || a.is_nan() || b.is_nan() || a.is_sign_negative() != b.is_sign_negative() {
        return false;
    }
    a.to_bits().abs_diff(b.to_bits()) <= 1
}

/// One side of a compacted histogram: (offset, buckets) of its single span.
fn compact_side(spans: &[promplay_model::Span], buckets: &[f64]) -> Option<(i64, Vec<f64>)> {
    let mut abs = Vec::new();
    let mut idx: i64 = 0;
    let mut b = buckets.iter();
    // Each span's offset is relative to the end of the previous span.
    for s in spans {
        idx += s.offset as i64;
        for _ in 0..s.length {
            if let Some(v) = b.next() {
                abs.push((idx, *v));
            }
            idx += 1;
        }
    }
    let first = abs.iter().position(|(_, v)| *v != 0.0)?;
    let last = abs.iter().rposition(|(_, v)| *v != 0.0)?;
    let (start, end) = (abs[first].0, abs[last].0);
    let mut out = vec![0.0; (end - start + 1) as usize];
    for (i, v) in &abs[first..=last] {
        out[(i - start) as usize] = *v;
    }
    Some((start, out))
}

/// Prometheus's `FloatHistogram.TestExpression()` (compacted to one span per side).
pub fn test_expression(h: &FloatHistogram) -> String {
    use promplay_model::CounterResetHint as H;
    let g = format_g_shortest;
    let mut res = Vec::new();
    if h.schema != 0 {
        res.push(format!("schema:{}", h.schema));
    }
    if h.count != 0.0 {
        res.push(format!("count:{}", g(h.count)));
    }
    if h.sum != 0.0 {
        res.push(format!("sum:{}", g(h.sum)));
    }
    if h.zero_count != 0.0 {
        res.push(format!("z_bucket:{}", g(h.zero_count)));
    }
    if h.zero_threshold != 0.0 {
        res.push(format!("z_bucket_w:{}", g(h.zero_threshold)));
    }
    if h.schema == promplay_model::CUSTOM_BUCKETS_SCHEMA {
        let v: Vec<String> = h.custom_values.iter().map(|v| g(*v)).collect();
        res.push(format!("custom_values:[{}]", v.join(" ")));
    }
    match h.counter_reset_hint {
        H::Unknown => {}
        H::CounterReset => res.push("counter_reset_hint:reset".into()),
        H::NotCounterReset => res.push("counter_reset_hint:not_reset".into()),
        H::Gauge => res.push("counter_reset_hint:gauge".into()),
    }
    for (spans, buckets, bkey, okey) in [
        (&h.positive_spans, &h.positive_buckets, "buckets", "offset"),
        (
            &h.negative_spans,
            &h.negative_buckets,
            "n_buckets",
            "n_offset",
        ),
    ] {
        if let Some((off, b)) = compact_side(spans, buckets) {
            if off != 0 {
                res.push(format!("{okey}:{off}"));
            }
            let b: Vec<String> = b.iter().map(|v| g(*v)).collect();
            res.push(format!("{bkey}:[{}]", b.join(" ")));
        }
    }
    format!("{{{{{}}}}}", res.join(" "))
}

struct ParsedSample {
    labels: Labels,
    value: f64,
    /// The histogram's test expression, or empty for a float.
    histogram: String,
}

impl ParsedSample {
    fn render(&self) -> String {
        if self.histogram.is_empty() {
            format!("{} {}", self.labels, format_e(self.value))
        } else {
            format!("{} {}", self.labels, self.histogram)
        }
    }
}

fn samples_string(s: &[ParsedSample]) -> String {
    if s.is_empty() {
        return "nil".into();
    }
    s.iter().map(|s| s.render()).collect::<Vec<_>>().join(", ")
}

fn indent_lines(s: &str, indent: &str) -> String {
    s.split('\n')
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

type LabelsAndAnnotations = Vec<(Labels, Labels)>;

fn la_string(la: &LabelsAndAnnotations) -> String {
    if la.is_empty() {
        return "[]".into();
    }
    let mut s = String::from("[");
    for (i, (l, a)) in la.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("\n{i}:"));
        s.push_str(&indent_lines(
            &format!("\nLabels:{l}\nAnnotations:{a}"),
            "  ",
        ));
    }
    s.push_str("\n]");
    s
}

fn map_labels(m: &BTreeMap<String, String>) -> Labels {
    Labels::new(
        m.iter()
            .map(|(k, v)| Label::new(k.as_str(), v.as_str()))
            .collect(),
    )
}

/// The input series as (labels, time-ordered samples).
type Loaded = Vec<(Labels, Vec<(i64, SeqValue)>)>;

fn load_series(tg: &TestGroup, interval: i64, start: i64) -> Result<Loaded, String> {
    let mut out = Vec::new();
    for is in &tg.input_series {
        let line = format!("{} {}", is.series, is.values.0);
        let (labels, vals) = parse_series_desc(&line, &hist_add)
            .map_err(|e| format!("error parsing series {:?}: {e}", is.series))?;
        let samples = vals
            .into_iter()
            .enumerate()
            .filter(|(_, v)| !matches!(v, SeqValue::Omitted))
            .map(|(i, v)| (start + i as i64 * interval, v))
            .collect();
        out.push((labels, samples));
    }
    Ok(out)
}

/// Appends the loaded samples with timestamps up to `till` (`WithSamplesTill`).
fn append_till(db: &Db, series: &Loaded, cursor: &mut [usize], till: i64) -> Result<(), String> {
    let mut app = db.appender();
    for (i, (labels, samples)) in series.iter().enumerate() {
        while let Some((t, v)) = samples.get(cursor[i]) {
            if *t > till {
                break;
            }
            cursor[i] += 1;
            let r = match v {
                SeqValue::Float(f) => app.append(labels, *t, *f).map(|_| ()),
                SeqValue::Histogram(h, _) => app.append_histogram(labels, *t, h).map(|_| ()),
                SeqValue::Omitted => Ok(()),
            };
            r.map_err(|e| e.to_string())?;
        }
    }
    app.commit().map_err(|e| e.to_string())
}

fn run_group(
    tg: &TestGroup,
    eval_interval: i64,
    order: &HashMap<String, usize>,
    fuzzy: bool,
    rule_files: &[String],
    files: &dyn Files,
    opts: &TestOptions,
) -> Vec<String> {
    let interval = if tg.interval.0 == 0 {
        eval_interval
    } else {
        tg.interval.0
    };
    let mint = match parse_start(&tg.start_timestamp.0) {
        Ok(t) => t,
        Err(e) => return vec![e],
    };
    let series = match load_series(tg, interval, mint) {
        Ok(s) => s,
        Err(e) => return vec![e],
    };
    let db = Rc::new(Db::new(Options::default()));
    let engine = Engine::new(EngineOptions {
        lookback_delta_ms: 5 * 60 * 1000,
        max_samples: 50_000_000,
        no_step_subquery_interval_ms: eval_interval,
        ..EngineOptions::default()
    });
    let query = crate::engine_query_func(engine.clone(), db.clone());

    // Rule files.
    let mut parsed = Vec::new();
    let mut errs = Vec::new();
    for f in rule_files {
        match files.read(f) {
            Err(e) => errs.push(e),
            Ok(c) => match rulefmt::parse_file(f, &c, opts.ignore_unknown_fields) {
                Ok(g) => parsed.push((f.clone(), g)),
                Err(e) => errs.extend(e.into_iter().map(|e| e.0)),
            },
        }
    }
    if !errs.is_empty() {
        return errs;
    }
    let ext = map_labels(&tg.external_labels);
    let mut groups: Vec<Group> = match build_groups(&parsed, interval, &ext, &tg.external_url) {
        Ok(g) => g,
        Err(e) => return e.into_iter().map(|e| e.0).collect(),
    };
    groups.sort_by_key(|g| order.get(&g.name).copied().unwrap_or(0));
    for g in groups.iter_mut() {
        g.set_restored();
    }

    let max_eval = tg
        .alert_rule_test
        .iter()
        .map(|a| a.eval_time.0)
        .chain(tg.promql_expr_test.iter().map(|p| p.eval_time.0))
        .max()
        .unwrap_or(0)
        .max(0);
    let maxt = mint + max_eval;

    let mut alert_tests: BTreeMap<i64, Vec<&AlertTestCase>> = BTreeMap::new();
    for a in &tg.alert_rule_test {
        if a.alertname.is_empty() {
            let in_group = if tg.name.is_empty() {
                String::new()
            } else {
                format!(" (in TestGroup {})", tg.name)
            };
            return vec![format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                format_model_duration(a.eval_time.0)
            )];
        }
        alert_tests.entry(a.eval_time.0).or_default().push(a);
    }
    let alert_times: Vec<i64> = alert_tests.keys().copied().collect();
    let mut curr = 0usize;

    let mut errs = Vec::new();
    let mut cursor = vec![0usize; series.len()];
    let ext_url = tg.external_url.clone();
    let mut ts = mint;
    let mut steps = 0u64;
    while ts <= maxt {
        steps += 1;
        if steps > 50_000_000 {
            break;
        }
        if let Err(e) = append_till(&db, &series, &mut cursor, ts) {
            errs.push(e);
        } else {
            let ctx = EvalContext {
                query: &query,
                db: &db,
                clock: None,
                resend_delay_ms: 60_000,
                default_query_offset_ms: 0,
                external_url: &ext_url,
                outage_tolerance_ms: 3_600_000,
                for_grace_period_ms: 600_000,
            };
            let mut eval_errs = Vec::new();
            for g in groups.iter_mut() {
                g.eval(ts, &ctx);
                for r in &g.rules {
                    if let Some(e) = &r.status().last_error {
                        eval_errs.push(format!(
                            "    rule: {}, time: {}, err: {e}",
                            r.name(),
                            format_go_duration(ts)
                        ));
                    }
                }
            }
            if !eval_errs.is_empty() {
                errs.extend(eval_errs);
                return errs;
            }
        }
        while curr < alert_times.len()
            && ts - mint <= alert_times[curr]
            && alert_times[curr] < ts + eval_interval - mint
        {
            let t = alert_times[curr];
            for tc in &alert_tests[&t] {
                let mut got: LabelsAndAnnotations = Vec::new();
                for g in &groups {
                    for r in &g.rules {
                        let Rule::Alerting(a) = r else { continue };
                        if a.name != tc.alertname {
                            continue;
                        }
                        for al in a.active_alerts() {
                            if al.state == AlertState::Firing {
                                got.push((al.labels.clone(), al.annotations.clone()));
                            }
                        }
                    }
                }
                let mut exp: LabelsAndAnnotations = tc
                    .exp_alerts
                    .iter()
                    .map(|a| {
                        let mut l = a.exp_labels.clone();
                        l.insert("alertname".into(), tc.alertname.clone());
                        (map_labels(&l), map_labels(&a.exp_annotations))
                    })
                    .collect();
                got.sort();
                exp.sort();
                if got != exp {
                    let name = if tg.name.is_empty() {
                        String::new()
                    } else {
                        format!("    name: {},\n", tg.name)
                    };
                    errs.push(format!(
                        "{name}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                        tc.alertname,
                        format_model_duration(t),
                        indent_lines(&la_string(&exp), "            "),
                        indent_lines(&la_string(&got), "            "),
                    ));
                }
            }
            curr += 1;
        }
        ts += eval_interval;
    }

    // PromQL expression tests.
    'outer: for tc in &tg.promql_expr_test {
        let t = mint + tc.eval_time.0;
        let when = format_model_duration(tc.eval_time.0);
        let got = match engine.instant_query(&*db, &tc.expr, t) {
            Err(e) => {
                errs.push(format!(
                    "    expr: {}, time: {when}, err: {e}",
                    go_quote(&tc.expr)
                ));
                continue;
            }
            Ok(r) => match r.value {
                Value::Vector(v) => v,
                Value::Scalar { t, v } => vec![Sample::float(Labels::default(), t, v)],
                _ => {
                    errs.push(format!(
                        "    expr: {}, time: {when}, err: rule result is not a vector or scalar",
                        go_quote(&tc.expr)
                    ));
                    continue;
                }
            },
        };
        let mut got: Vec<ParsedSample> = got
            .into_iter()
            .map(|s| ParsedSample {
                labels: s.metric,
                value: if s.h.is_some() { 0.0 } else { s.f },
                histogram: s.h.map(|h| test_expression(&h)).unwrap_or_default(),
            })
            .collect();
        let mut exp = Vec::new();
        for s in &tc.exp_samples {
            let labels = if s.labels.trim().is_empty() {
                Labels::default()
            } else {
                match parse_metric(&s.labels) {
                    Ok((l, rest)) if rest.trim().is_empty() => l,
                    Ok((_, rest)) => {
                        errs.push(format!(
                            "    expr: {}, time: {when}, err: labels {}: unexpected {:?}",
                            go_quote(&tc.expr),
                            go_quote(&s.labels),
                            rest.trim()
                        ));
                        continue 'outer;
                    }
                    Err(e) => {
                        errs.push(format!(
                            "    expr: {}, time: {when}, err: labels {}: {e}",
                            go_quote(&tc.expr),
                            go_quote(&s.labels)
                        ));
                        continue 'outer;
                    }
                }
            };
            let histogram = if s.histogram.is_empty() {
                String::new()
            } else {
                let parsed =
                    parse_values(&s.histogram, &hist_add).and_then(|v| match v.as_slice() {
                        [SeqValue::Histogram(h, _)] => Ok(test_expression(h)),
                        [_] => Err(format!("expected histogram, got {}", s.histogram)),
                        v => Err(format!("expected 1 value, got {}", v.len())),
                    });
                match parsed {
                    Ok(h) => h,
                    Err(e) => {
                        errs.push(format!(
                            "    expr: {}, time: {when}, err: labels {}: {e}",
                            go_quote(&tc.expr),
                            go_quote(&s.labels)
                        ));
                        continue 'outer;
                    }
                }
            };
            exp.push(ParsedSample {
                labels,
                value: s.value,
                histogram,
            });
        }
        exp.sort_by(|a, b| a.labels.cmp(&b.labels));
        got.sort_by(|a, b| a.labels.cmp(&b.labels));
        let equal = exp.len() == got.len()
            && exp.iter().zip(&got).all(|(e, g)| {
                e.labels == g.labels
                    && floats_equal(e.value, g.value, fuzzy)
                    && e.histogram == g.histogram
            });
        if !equal {
            errs.push(format!(
                "    expr: {}, time: {when},\n        exp: {}\n        got: {}",
                go_quote(&tc.expr),
                samples_string(&exp),
                samples_string(&got)
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_test_expressions_as_prometheus() {
        let h = |s: &str| match parse_values(s, &hist_add).unwrap().as_slice() {
            [SeqValue::Histogram(h, _)] => test_expression(h),
            _ => panic!(),
        };
        assert_eq!(
            h("{{schema:1 sum:-0.3 count:32.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 n_buckets:[4.1 5] n_offset:-5}}"),
            "{{schema:1 count:32.1 sum:-0.3 z_bucket:7.1 z_bucket_w:0.05 offset:-3 buckets:[5.1 10 7] n_offset:-5 n_buckets:[4.1 5]}}"
        );
        assert_eq!(
            h("{{count:2 sum:3 counter_reset_hint:not_reset buckets:[0 2 0 0 1 0]}}"),
            "{{count:2 sum:3 counter_reset_hint:not_reset offset:1 buckets:[2 0 0 1]}}"
        );
        assert_eq!(h("{{count:1e6}}"), "{{count:1e+06}}");
    }

    #[test]
    fn unknown_fields_worded_as_go() {
        let e = serde_yaml_ng::from_str::<UnitTestFile>(
            "tests:\n  - interval: 1m\n    input_series:\n      - series: up\n        extra: 2\n",
        )
        .err()
        .unwrap();
        assert_eq!(
            go_yaml_error(&e),
            "yaml: unmarshal errors:\n  line 5: field extra not found in type main.series"
        );
        let e = serde_yaml_ng::from_str::<UnitTestFile>("evaluation_intervl: 1m\n")
            .err()
            .unwrap();
        assert_eq!(
            go_yaml_error(&e),
            "yaml: unmarshal errors:\n  line 1: field evaluation_intervl not found in type main.unitTestFile"
        );
    }

    #[test]
    fn junit_suites_as_promtool() {
        struct One(&'static str);
        impl Files for One {
            fn read(&self, p: &str) -> Result<String, String> {
                if p == "t.yml" {
                    Ok(self.0.to_string())
                } else {
                    Err(format!("open {p}: no such file or directory"))
                }
            }
            fn glob(&self, _: &str) -> Result<Vec<String>, String> {
                Ok(vec![])
            }
        }
        let f = One("tests:\n- name: a\n  input_series: [{series: x, values: '1'}]\n  promql_expr_test: [{expr: x, eval_time: 0, exp_samples: [{labels: x, value: 2}]}]\n- input_series: []\n");
        let opts = TestOptions {
            timestamp: "2026-11-25T15:00:00".into(),
            ..Default::default()
        };
        let (_, code, suites) = run_files_junit(&["t.yml".into(), "missing.yml".into()], &f, &opts);
        assert_eq!(code, 1);
        assert_eq!(
            junit_xml(&suites),
            "<testsuites><testsuite name=\"t.yml\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" timestamp=\"2026-11-25T15:00:00\"><testcase name=\"a\"><failure>    expr: &#34;x&#34;, time: 0s,&#xA;        exp: {__name__=&#34;x&#34;} 2E+00&#xA;        got: {__name__=&#34;x&#34;} 1E+00</failure></testcase><testcase name=\"unnamed#1\"></testcase></testsuite><testsuite name=\"missing.yml\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" timestamp=\"\"><testcase name=\"unknown\"><error>open missing.yml: no such file or directory</error></testcase></testsuite></testsuites>"
        );
    }

    #[test]
    fn scalars_keep_their_text() {
        let s: InputSeries = serde_yaml_ng::from_str("series: up\nvalues: 0x10\n").unwrap();
        assert_eq!(s.values.0, "0x10");
        let s: InputSeries = serde_yaml_ng::from_str("series: up\nvalues: 1\n").unwrap();
        assert_eq!(s.values.0, "1");
    }

    #[test]
    fn timestamps_and_floats() {
        assert_eq!(parse_start("").unwrap(), 0);
        assert_eq!(parse_start("1700000000").unwrap(), 1_700_000_000_000);
        assert_eq!(
            parse_start("2023-11-14T22:13:20Z").unwrap(),
            1_700_000_000_000
        );
        assert_eq!(
            parse_start("2023-11-14T23:13:20.5+01:00").unwrap(),
            1_700_000_000_500
        );
        assert!(floats_equal(3.0, 3.0000000000000004, true));
        assert!(!floats_equal(3.0, 3.0000000000000004, false));
        assert!(!floats_equal(3.0, 3.0000000000000013, true));
        assert!(!floats_equal(f64::NAN, f64::NAN, true));
    }
}
