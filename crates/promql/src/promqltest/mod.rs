//! Prometheus's PromQL test-script language (`promql/promqltest`): `load`, `clear` and `eval`
//! commands, and a runner that executes a script against the engine and an in-memory TSDB,
//! comparing results the way upstream's runner does (including its extra checks on each
//! instant eval: step-invariance variants with `@` and a range-mode re-run).
//!
//! Entry point: [`run_script`], which returns one [`EvalOutcome`] per `eval` command.

pub mod compare;
pub mod script;
pub mod series;

use std::collections::BTreeMap;

use promplay_model::{FloatHistogram, Labels, Span};
use promplay_tsdb::{Db, Options};

use crate::ast::Expr;
use crate::engine::{Engine, EngineOptions, QueryOptions, AT_MODIFIER_UNSAFE_FUNCTIONS};
use crate::value::Value;
use compare::{assert_matrix_sorted, compare_result};
use script::{Command, EvalCmd, EvalKind, LoadCmd};
pub use series::SeqValue;

/// The outcome of one `eval` command.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOutcome {
    /// 1-based line of the `eval` command.
    pub line: usize,
    pub expr: String,
    /// `None` when the eval passed; otherwise why it failed.
    pub failure: Option<String>,
}

/// The engine settings upstream's runner uses for the corpus.
pub fn test_engine_options() -> EngineOptions {
    EngineOptions {
        lookback_delta_ms: 5 * 60 * 1000,
        max_samples: 10_000,
        enable_at_modifier: true,
        enable_negative_offset: true,
        enable_delayed_name_removal: true,
        no_step_subquery_interval_ms: 60 * 1000,
        use_start_timestamps: true,
    }
}

fn hist_add(a: &FloatHistogram, b: &FloatHistogram, sub: bool) -> Result<FloatHistogram, String> {
    let mut x = a.clone();
    let r = if sub { x.sub(b) } else { x.add(b) };
    r.map_err(|e| e.to_string())?;
    Ok(x)
}

fn parse_expr(s: &str) -> Result<Expr, String> {
    crate::parser::parse_with(s, &crate::parser::ParserOptions::all()).map_err(|e| e.to_string())
}

/// Number of `eval` commands in a script (for reporting a script that does not parse).
pub fn count_evals(input: &str) -> usize {
    input
        .lines()
        .filter(|l| l.trim_start().to_ascii_lowercase().starts_with("eval"))
        .count()
}

/// Runs a whole script. A script that does not parse yields `Err` (upstream fails the whole
/// file); otherwise one outcome per eval, in order.
pub fn run_script(input: &str) -> Result<Vec<EvalOutcome>, String> {
    let cmds = script::parse_script(input, &hist_add, &|e| parse_expr(e).map(|_| ()))
        .map_err(|e| format!("line {}: {}", e.line, e.message))?;
    let engine = Engine::new(test_engine_options());
    let mut db = Db::new(Options::default());
    let mut out = Vec::new();
    for c in &cmds {
        match c {
            Command::Clear => db = Db::new(Options::default()),
            Command::Load(l) => load(&db, l)?,
            Command::Eval(e) => {
                let failure = run_eval(&engine, &db, e).err();
                out.push(EvalOutcome {
                    line: e.line,
                    expr: e.expr.clone(),
                    failure,
                });
            }
        }
    }
    Ok(out)
}

fn load(db: &Db, l: &LoadCmd) -> Result<(), String> {
    let mut app = db.appender();
    for s in &l.series {
        // Start timestamps (`@st` lines) are stored next to their samples (Prometheus's
        // `EnableSTStorage`); an unknown one is 0.
        for (t, v, st) in &s.samples {
            let st = st.unwrap_or(0);
            match v {
                SeqValue::Float(f) => {
                    app.append_with_st(&s.labels, st, *t, *f)
                        .map_err(|e| e.to_string())?;
                }
                SeqValue::Histogram(h, _) => {
                    app.append_histogram_with_st(&s.labels, st, *t, h)
                        .map_err(|e| e.to_string())?;
                }
                SeqValue::Omitted => {}
            }
        }
    }
    if l.with_nhcb {
        for (labels, samples) in nhcb_series(l)? {
            for (t, h) in samples {
                app.append_histogram(&labels, t, &h)
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    app.commit().map_err(|e| e.to_string())
}

#[derive(Default)]
struct TempHist {
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: f64,
}

/// `load_with_nhcb`: classic histogram series converted to native histograms with custom
/// buckets (Prometheus's `convertnhcb`).
/// Histogram samples of one series.
type HistSeries = (Labels, Vec<(i64, FloatHistogram)>);

fn nhcb_series(l: &LoadCmd) -> Result<Vec<HistSeries>, String> {
    let mut groups: BTreeMap<Labels, BTreeMap<i64, TempHist>> = BTreeMap::new();
    for s in &l.series {
        let name = s.labels.get_or_empty("__name__");
        let (base, kind) = if let Some(b) = name.strip_suffix("_bucket") {
            (b, 0)
        } else if let Some(b) = name.strip_suffix("_count") {
            (b, 1)
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, 2)
        } else {
            continue;
        };
        let le = if kind == 0 {
            let Some(le) = s.labels.get("le") else {
                return Err(format!("expected bucket label in metric {}", s.labels));
            };
            match series::parse_float(le) {
                Some(v) if !v.is_nan() => Some(v),
                _ => continue,
            }
        } else {
            None
        };
        let mut b = s.labels.builder();
        b.set("__name__", base);
        b.del("le");
        let m = b.labels();
        let g = groups.entry(m).or_default();
        for (t, v, _) in &s.samples {
            let SeqValue::Float(f) = v else { continue };
            let th = g.entry(*t).or_default();
            match kind {
                0 => th.buckets.push((le.unwrap_or(f64::INFINITY), *f)),
                1 => th.count = Some(*f),
                _ => th.sum = *f,
            }
        }
    }
    let mut out = Vec::new();
    for (m, by_t) in groups {
        let mut samples = Vec::new();
        for (t, mut th) in by_t {
            th.buckets
                .sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
            if th.buckets.is_empty() && th.count.is_none() {
                continue;
            }
            let mut custom = Vec::new();
            let mut counts = Vec::new();
            let mut prev = 0.0;
            let mut has_inf = false;
            for (le, c) in &th.buckets {
                if *c < prev {
                    return Err("histogram buckets are not cumulative".to_string());
                }
                if le.is_infinite() && *le > 0.0 {
                    has_inf = true;
                } else {
                    custom.push(*le);
                }
                counts.push(c - prev);
                prev = *c;
            }
            let count = th.count.unwrap_or(prev);
            if !has_inf {
                if count < prev {
                    return Err("histogram count is less than the highest bucket".to_string());
                }
                counts.push(count - prev);
            } else if th.count.is_some() && count != prev {
                return Err("histogram count does not match the +Inf bucket".to_string());
            }
            let h = FloatHistogram {
                schema: promplay_model::histogram::CUSTOM_BUCKETS_SCHEMA,
                count,
                sum: th.sum,
                positive_spans: vec![Span {
                    offset: 0,
                    length: counts.len() as u32,
                }],
                positive_buckets: counts,
                custom_values: custom,
                ..Default::default()
            };
            samples.push((t, h));
        }
        out.push((m, samples));
    }
    Ok(out)
}

/// Functions whose value depends on the evaluation time: upstream's
/// `AtModifierUnsafeFunctions` plus the ones reading the query's own range (`start`, `end`,
/// `range`, `step`).
fn step_unsafe(name: &str) -> bool {
    AT_MODIFIER_UNSAFE_FUNCTIONS.contains(&name)
        || ["start", "end", "range", "step"].contains(&name)
}

/// Sets `@ ts` on every selector and top-level subquery without one (upstream's
/// `atModifierTestCases`). Returns false if the expression calls a time-dependent function.
fn set_at(e: &mut Expr, ts: i64, under_at_subquery: bool) -> bool {
    let mut ok = true;
    match e {
        Expr::VectorSelector(vs) => {
            if !under_at_subquery && vs.timestamp.is_none() && vs.start_or_end.is_none() {
                vs.timestamp = Some(ts);
            }
        }
        Expr::MatrixSelector(ms) => {
            let vs = &mut ms.vector_selector;
            if !under_at_subquery && vs.timestamp.is_none() && vs.start_or_end.is_none() {
                vs.timestamp = Some(ts);
            }
        }
        Expr::Subquery(sq) => {
            let had = sq.timestamp.is_some() || sq.start_or_end.is_some();
            if !under_at_subquery && !had {
                sq.timestamp = Some(ts);
            }
            // The subquery now has an `@` (its own or the one just set): upstream leaves
            // everything below it untouched.
            ok &= set_at(&mut sq.expr, ts, true);
        }
        Expr::Call(c) => {
            if step_unsafe(c.func.name) {
                ok = false;
            }
            for a in c.args.iter_mut() {
                ok &= set_at(a, ts, under_at_subquery);
            }
        }
        Expr::Aggregate(a) => {
            if let Some(p) = a.param.as_mut() {
                ok &= set_at(p, ts, under_at_subquery);
            }
            ok &= set_at(&mut a.expr, ts, under_at_subquery);
        }
        Expr::Binary(b) => {
            ok &= set_at(&mut b.lhs, ts, under_at_subquery);
            ok &= set_at(&mut b.rhs, ts, under_at_subquery);
        }
        Expr::Paren(p) => ok &= set_at(&mut p.expr, ts, under_at_subquery),
        Expr::Unary(u) => ok &= set_at(&mut u.expr, ts, under_at_subquery),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
    }
    ok
}

fn uses_query_context(s: &str) -> bool {
    ["start()", "end()", "range()", "step()"]
        .iter()
        .any(|f| s.contains(f))
}

fn check_failure(cmd: &EvalCmd, msg: &str) -> Result<(), String> {
    if let Some(m) = &cmd.expected_fail_message {
        if m != msg {
            return Err(format!("expected error {m:?} but got: {msg}"));
        }
    }
    if let Some(r) = &cmd.expected_fail_regexp {
        if !r.is_match(msg) {
            return Err(format!(
                "expected error matching {:?} but got: {msg}",
                r.as_str()
            ));
        }
    }
    if let Some(e) = cmd.fail_expect.first() {
        if !e.matches(msg) {
            return Err(format!(
                "expected error matching {} but got: {msg}",
                e.describe()
            ));
        }
    }
    Ok(())
}

fn check_annotations(cmd: &EvalCmd, ann: &crate::value::Annotations) -> Result<(), String> {
    if cmd.warn && ann.warnings.is_empty() {
        return Err("expected warnings but got none".into());
    }
    if cmd.info && ann.infos.is_empty() {
        return Err("expected info annotations but got none".into());
    }
    for (kind, exp, actual) in [
        ("warn", &cmd.warn_expect, &ann.warnings),
        ("info", &cmd.info_expect, &ann.infos),
    ] {
        if exp.is_empty() {
            continue;
        }
        if actual.is_empty() {
            return Err(format!("expected {kind} annotations but none were found"));
        }
        for e in exp {
            if !actual.iter().any(|a| e.matches(a)) {
                return Err(format!(
                    "expected {kind} annotation matching {} but no matching annotation was found, found: {actual:?}",
                    e.describe()
                ));
            }
        }
        for a in actual {
            if !exp.iter().any(|e| e.matches(a)) {
                return Err(format!("unexpected {kind} annotation {a:?}"));
            }
        }
    }
    if cmd.no_warn && !ann.warnings.is_empty() {
        return Err(format!(
            "unexpected warning annotations: {:?}",
            ann.warnings
        ));
    }
    if cmd.no_info && !ann.infos.is_empty() {
        return Err(format!("unexpected info annotations: {:?}", ann.infos));
    }
    Ok(())
}

fn run_eval(engine: &Engine, db: &Db, cmd: &EvalCmd) -> Result<(), String> {
    let expr = parse_expr(&cmd.expr)?;
    let qo = QueryOptions {
        source: Some(&cmd.expr),
        ..Default::default()
    };
    match cmd.kind {
        EvalKind::Range { start, end, step } => {
            match engine.range_query_expr(db, &expr, start, end, step, &qo) {
                Err(e) => {
                    if cmd.is_fail() {
                        return check_failure(cmd, &e.to_string());
                    }
                    Err(format!("error evaluating query: {e}"))
                }
                Ok(res) => {
                    if cmd.is_fail() {
                        return Err("expected error evaluating query but got none".into());
                    }
                    check_annotations(cmd, &res.annotations)?;
                    compare_result(cmd, &res.value, Some((start, end, step)))
                }
            }
        }
        EvalKind::Instant { at } => {
            let mut queries: Vec<(Expr, i64)> = vec![(expr.clone(), at)];
            let mut variant = expr.clone();
            if set_at(&mut variant, at, false) {
                let times: Vec<i64> = if at == 0 {
                    vec![-1000, 0, 1000]
                } else {
                    vec![-10 * at, 0, at / 5, at, 10 * at]
                };
                for t in times {
                    queries.push((variant.clone(), t));
                }
            }
            for (q, t) in &queries {
                run_instant(engine, db, cmd, q, *t)?;
            }
            Ok(())
        }
    }
}

fn run_instant(engine: &Engine, db: &Db, cmd: &EvalCmd, expr: &Expr, t: i64) -> Result<(), String> {
    let qo = QueryOptions {
        source: Some(&cmd.expr),
        ..Default::default()
    };
    let res = match engine.instant_query_expr(db, expr, t, &qo) {
        Err(e) => {
            if cmd.is_fail() {
                return check_failure(cmd, &e.to_string());
            }
            return Err(format!("error evaluating query at {t}: {e}"));
        }
        Ok(r) => r,
    };
    if cmd.is_fail() {
        return Err("expected error evaluating query but got none".into());
    }
    check_annotations(cmd, &res.annotations)?;
    compare_result(cmd, &res.value, cmd.range_vector).map_err(|e| format!("at {t}: {e}"))?;
    if cmd.exclude_from_range_query || uses_query_context(&cmd.expr) {
        return Ok(());
    }
    let rr = engine
        .range_query_expr(db, expr, t - 60_000, t + 60_000, 60_000, &qo)
        .map_err(|e| format!("error evaluating query at {t} in range mode: {e}"))?;
    if cmd.is_ordered() {
        return Ok(());
    }
    let Value::Matrix(mat) = &rr.value else {
        return Err("range query did not return a matrix".into());
    };
    assert_matrix_sorted(mat)?;
    let mut vec = Vec::new();
    for s in mat {
        if let Some(p) = s.floats.iter().find(|p| p.t == t) {
            vec.push(crate::value::Sample::float(s.metric.clone(), t, p.f));
        }
        if let Some(p) = s.histograms.iter().find(|p| p.t == t) {
            vec.push(crate::value::Sample {
                metric: s.metric.clone(),
                t,
                f: 0.0,
                h: Some(p.h.clone()),
                drop_name: false,
            });
        }
    }
    let v = if matches!(res.value, Value::Scalar { .. }) {
        Value::Scalar {
            t,
            v: vec.first().map(|s| s.f).unwrap_or(f64::NAN),
        }
    } else {
        Value::Vector(vec)
    };
    compare_result(cmd, &v, None).map_err(|e| format!("at {t} range mode: {e}"))
}
