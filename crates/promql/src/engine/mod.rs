//! The PromQL evaluator (Prometheus's `promql/engine.go`).
//!
//! [`Engine::instant_query`] and [`Engine::range_query`] evaluate an expression against any
//! [`Queryable`]. Like Prometheus, an instant query is a range evaluation with one step; every
//! instant-vector-typed node evaluates to a [`Matrix`] holding one point per step.
//!
//! Design notes:
//! - Selection reads each series once per node: vector selectors walk a series' samples and
//!   the steps together; range-vector functions slide a window over the series' samples
//!   (Prometheus's `matrixIterSlice`), reusing one buffer per node.
//! - Step-invariant sub-expressions (everything under `@`, literals) are evaluated once and
//!   replicated, as Prometheus's `StepInvariantExpr` does.
//! - Delayed `__name__` removal: operators and functions set `drop_name`; names are removed
//!   when the query has finished ([`EngineOptions::enable_delayed_name_removal`]).
//! - The engine reads no clock: a host passes [`QueryOptions::interrupt`], polled between
//!   steps and series, to bound a query's run time.
//!
//! Architecture invariant: the engine knows storage only through `promplay_tsdb::Queryable`.

mod aggregation;
mod binop;
mod eval;
mod info;

use std::collections::HashSet;
use std::fmt;

use promplay_tsdb::Queryable;

use crate::ast::{Expr, StartOrEnd};
use crate::error::EvalError;
use crate::value::{Annotations, Value};

pub use eval::{createlabels_for_absent, AT_MODIFIER_UNSAFE_FUNCTIONS};

/// Engine-wide settings (Prometheus's `EngineOpts`).
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Lookback delta in ms (default 5m).
    pub lookback_delta_ms: i64,
    /// The maximum number of samples a query may hold in memory (default 50,000,000).
    pub max_samples: usize,
    pub enable_at_modifier: bool,
    pub enable_negative_offset: bool,
    pub enable_delayed_name_removal: bool,
    /// Step of subqueries written `[range:]`, in ms (default 1m).
    pub no_step_subquery_interval_ms: i64,
    /// Use the samples' start timestamps (Prometheus's `UseStartTimestamps`, off by default):
    /// `rate`/`increase`/`irate`/`resets` see them, `start_timestamp()` returns them.
    pub use_start_timestamps: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            enable_at_modifier: true,
            enable_negative_offset: true,
            // Prometheus's default: the `promql-delayed-name-removal` feature flag is off.
            enable_delayed_name_removal: false,
            no_step_subquery_interval_ms: 60 * 1000,
            use_start_timestamps: false,
        }
    }
}

/// Per-query settings.
#[derive(Default)]
pub struct QueryOptions<'a> {
    /// Overrides the engine's lookback delta when > 0.
    pub lookback_delta_ms: i64,
    /// Polled during evaluation; returning true aborts the query with
    /// `query timed out in expression evaluation` (the host's deadline or cancel button).
    pub interrupt: Option<&'a dyn Fn() -> bool>,
    /// The text the expression was parsed from, if known: error messages quote literals
    /// as written (a string with invalid UTF-8 escapes cannot be printed back otherwise).
    pub source: Option<&'a str>,
}

/// Statistics of one query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples read from storage.
    pub samples_touched: u64,
    /// The peak number of samples held at once.
    pub peak_samples: usize,
}

/// The result of a query: its value and the annotations raised while computing it.
#[derive(Clone, Debug)]
pub struct QueryResult {
    pub value: Value,
    pub annotations: Annotations,
    pub stats: QueryStats,
}

/// Why a query produced no value.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryError {
    /// The expression did not parse (the parser's message).
    Parse(String),
    /// The query was well-formed but could not be evaluated.
    Eval(EvalError),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Parse(m) => f.write_str(m),
            QueryError::Eval(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for QueryError {}

impl From<EvalError> for QueryError {
    fn from(e: EvalError) -> Self {
        QueryError::Eval(e)
    }
}

/// The PromQL engine. Cheap to create; holds only options.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        let mut opts = opts;
        if opts.lookback_delta_ms <= 0 {
            opts.lookback_delta_ms = EngineOptions::default().lookback_delta_ms;
        }
        if opts.no_step_subquery_interval_ms <= 0 {
            opts.no_step_subquery_interval_ms =
                EngineOptions::default().no_step_subquery_interval_ms;
        }
        Engine { opts }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Parses `query` with every experimental feature the corpus uses enabled.
    pub fn parse(&self, query: &str) -> Result<Expr, QueryError> {
        crate::parser::parse_with(query, &crate::parser::ParserOptions::all())
            .map_err(|e| QueryError::Parse(e.to_string()))
    }

    /// Evaluates `query` at `ts_ms`.
    pub fn instant_query<Q: Queryable + ?Sized>(
        &self,
        q: &Q,
        query: &str,
        ts_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        let expr = self.parse(query)?;
        let qo = QueryOptions {
            source: Some(query),
            ..Default::default()
        };
        self.instant_query_expr(q, &expr, ts_ms, &qo)
    }

    /// Evaluates `query` from `start_ms` to `end_ms` every `step_ms`; the result is a matrix
    /// sorted by label set.
    pub fn range_query<Q: Queryable + ?Sized>(
        &self,
        q: &Q,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        let expr = self.parse(query)?;
        self.range_query_expr(
            q,
            &expr,
            start_ms,
            end_ms,
            step_ms,
            &QueryOptions::default(),
        )
    }

    /// [`Engine::instant_query`] on a parsed expression.
    pub fn instant_query_expr<Q: Queryable + ?Sized>(
        &self,
        q: &Q,
        expr: &Expr,
        ts_ms: i64,
        qo: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        self.exec(q, expr, ts_ms, ts_ms, 0, qo)
    }

    /// [`Engine::range_query`] on a parsed expression.
    pub fn range_query_expr<Q: Queryable + ?Sized>(
        &self,
        q: &Q,
        expr: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        qo: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let t = expr.value_type();
        if t != crate::value::ValueType::Vector && t != crate::value::ValueType::Scalar {
            return Err(QueryError::Eval(EvalError::exec(format!(
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                documented_type(t)
            ))));
        }
        if step_ms <= 0 {
            return Err(QueryError::Eval(EvalError::exec(
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            )));
        }
        if end_ms < start_ms {
            return Err(QueryError::Eval(EvalError::exec(
                "end timestamp must not be before start time",
            )));
        }
        self.exec(q, expr, start_ms, end_ms, step_ms, qo)
    }

    fn validate(&self, expr: &Expr) -> Result<(), EvalError> {
        if self.opts.enable_at_modifier && self.opts.enable_negative_offset {
            return Ok(());
        }
        let mut err = None;
        walk(expr, &mut |e| {
            let (ts, soe, neg) = match e {
                Expr::VectorSelector(vs) => (
                    vs.timestamp,
                    vs.start_or_end,
                    vs.offset.as_millis().is_some_and(|o| o < 0),
                ),
                Expr::MatrixSelector(ms) => (
                    ms.vector_selector.timestamp,
                    ms.vector_selector.start_or_end,
                    ms.vector_selector.offset.as_millis().is_some_and(|o| o < 0),
                ),
                Expr::Subquery(s) => (
                    s.timestamp,
                    s.start_or_end,
                    s.offset.as_millis().is_some_and(|o| o < 0),
                ),
                _ => return,
            };
            if (ts.is_some() || soe.is_some()) && !self.opts.enable_at_modifier {
                err.get_or_insert(EvalError::exec("@ modifier is disabled"));
            }
            if neg && !self.opts.enable_negative_offset {
                err.get_or_insert(EvalError::exec("negative offset is disabled"));
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn exec<Q: Queryable + ?Sized>(
        &self,
        q: &Q,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
        qo: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        self.validate(expr)?;
        let in_range = |t: i64| (eval::TIME_MIN..=eval::TIME_MAX).contains(&t);
        if !in_range(start) || !in_range(end) || !(0..=eval::TIME_MAX).contains(&step) {
            return Err(QueryError::Eval(EvalError::exec(
                "query time range out of bounds",
            )));
        }
        let querier = q
            .querier(i64::MIN / 4, i64::MAX / 4)
            .map_err(|e| QueryError::Eval(EvalError::exec(e.to_string())))?;
        let lookback = if qo.lookback_delta_ms > 0 {
            qo.lookback_delta_ms
        } else {
            self.opts.lookback_delta_ms
        };
        let mut invariant = HashSet::new();
        let wrap_top = preprocess(expr, &mut invariant);
        if wrap_top {
            invariant.insert(expr as *const Expr);
        }
        let ctx = eval::Ctx::new(
            &*querier,
            &self.opts,
            eval::QueryTimes {
                start,
                end,
                step,
                lookback,
            },
            qo.interrupt,
            invariant,
            expr,
        );
        ctx.set_source(qo.source);
        let rng = eval::Rng {
            start,
            end,
            interval: if step == 0 { 1 } else { step },
        };
        let val = ctx.eval(expr, rng).map_err(QueryError::Eval);
        let mut annotations = ctx.take_annotations();
        let stats = ctx.stats();
        let val = val?;
        let value = match val {
            eval::Val::Str(s) => Value::String { t: start, s },
            eval::Val::Mat(mut mat) => {
                if self.opts.enable_delayed_name_removal {
                    mat = eval::cleanup_metric_labels(mat).map_err(QueryError::Eval)?;
                } else {
                    for s in mat.iter_mut() {
                        s.drop_name = false;
                    }
                }
                if step == 0 {
                    match expr.value_type() {
                        crate::value::ValueType::Vector => {
                            let v = mat
                                .into_iter()
                                .filter_map(|s| {
                                    if let Some(h) = s.histograms.into_iter().next() {
                                        Some(crate::value::Sample {
                                            metric: s.metric,
                                            t: start,
                                            f: 0.0,
                                            h: Some(h.h),
                                            drop_name: false,
                                        })
                                    } else {
                                        s.floats.first().map(|p| crate::value::Sample {
                                            metric: s.metric,
                                            t: start,
                                            f: p.f,
                                            h: None,
                                            drop_name: false,
                                        })
                                    }
                                })
                                .collect();
                            Value::Vector(v)
                        }
                        crate::value::ValueType::Scalar => Value::Scalar {
                            t: start,
                            v: mat
                                .first()
                                .and_then(|s| s.floats.first())
                                .map(|p| p.f)
                                .unwrap_or(f64::NAN),
                        },
                        _ => {
                            mat.sort_by(|a, b| a.metric.cmp(&b.metric));
                            Value::Matrix(mat)
                        }
                    }
                } else {
                    mat.sort_by(|a, b| a.metric.cmp(&b.metric));
                    Value::Matrix(mat)
                }
            }
        };
        annotations.warnings.retain(|_| true);
        Ok(QueryResult {
            value,
            annotations,
            stats,
        })
    }
}

/// Prometheus's `DocumentedType`.
fn documented_type(t: crate::value::ValueType) -> &'static str {
    match t {
        crate::value::ValueType::Vector => "vector",
        crate::value::ValueType::Scalar => "scalar",
        crate::value::ValueType::Matrix => "range vector",
        crate::value::ValueType::String => "string",
        crate::value::ValueType::None => "none",
    }
}

/// Visits every node (pre-order).
pub(crate) fn walk<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    match e {
        Expr::MatrixSelector(_) => {}
        _ => {
            for c in e.children() {
                walk(c, f);
            }
        }
    }
}

/// Prometheus's `preprocessExprHelper`: records the highest step-invariant sub-expressions
/// in `wrap`. Returns (is step invariant, should wrap).
fn preprocess_helper(e: &Expr, wrap: &mut HashSet<*const Expr>) -> (bool, bool) {
    match e {
        Expr::VectorSelector(vs) => {
            let inv = vs.timestamp.is_some() || vs.start_or_end.is_some();
            (inv, inv)
        }
        Expr::Aggregate(a) => preprocess_helper(unparen(&a.expr), wrap),
        Expr::Binary(b) => {
            let (il, wl) = preprocess_helper(&b.lhs, wrap);
            let (ir, wr) = preprocess_helper(&b.rhs, wrap);
            if il && ir {
                return (true, true);
            }
            if wl {
                wrap.insert(&*b.lhs as *const Expr);
            }
            if wr {
                wrap.insert(&*b.rhs as *const Expr);
            }
            (false, false)
        }
        Expr::Call(c) => {
            let mut inv =
                !AT_MODIFIER_UNSAFE_FUNCTIONS.contains(&c.func.name) && c.func.name != "info";
            let mut should: Vec<(bool, *const Expr)> = Vec::with_capacity(c.args.len());
            for a in &c.args {
                let a = unparen(a);
                let (ai, aw) = preprocess_helper(a, wrap);
                inv = inv && ai;
                should.push((aw, a as *const Expr));
            }
            if inv {
                return (true, true);
            }
            for (w, p) in should {
                if w {
                    wrap.insert(p);
                }
            }
            (false, false)
        }
        Expr::MatrixSelector(ms) => {
            let vs = &ms.vector_selector;
            (vs.timestamp.is_some() || vs.start_or_end.is_some(), false)
        }
        Expr::Subquery(s) => {
            let (inv, _) = preprocess_helper(&s.expr, wrap);
            if inv {
                wrap.insert(&*s.expr as *const Expr);
            }
            let i = s.timestamp.is_some() || s.start_or_end.is_some();
            (i, i)
        }
        Expr::Paren(p) => preprocess_helper(&p.expr, wrap),
        Expr::Unary(u) => preprocess_helper(&u.expr, wrap),
        Expr::StringLiteral(_) | Expr::NumberLiteral(_) => (true, false),
    }
}

fn preprocess(e: &Expr, wrap: &mut HashSet<*const Expr>) -> bool {
    preprocess_helper(e, wrap).1
}

/// Strips parentheses.
pub(crate) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Resolves `@ start()` / `@ end()` / `@ t`.
pub(crate) fn at_time(
    ts: Option<i64>,
    soe: Option<StartOrEnd>,
    start: i64,
    end: i64,
) -> Option<i64> {
    match soe {
        Some(StartOrEnd::Start) => Some(start),
        Some(StartOrEnd::End) => Some(end),
        None => ts,
    }
}
