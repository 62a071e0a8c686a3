//! The evaluator core: node dispatch, selection, `rangeEval`, subqueries and calls of
//! range-vector functions.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use promplay_model::{is_stale_nan, CounterResetHint, FloatHistogram, Labels};
use promplay_tsdb::{Querier, SelectHints, ValType};

use super::{at_time, unparen, EngineOptions, QueryStats};
use crate::ast::{Call, Expr, MatrixSelector, SubqueryExpr, UnaryOp, VectorSelector};
use crate::error::EvalError;
use crate::functions::{FnArg, FnCall, StartTimestamps};
use crate::value::{Annotations, FPoint, HPoint, Matrix, Sample, Series, ValueType, Vector};

/// Functions whose result depends on the evaluation time even with step-invariant
/// arguments (Prometheus's `AtModifierUnsafeFunctions`).
pub const AT_MODIFIER_UNSAFE_FUNCTIONS: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
];

const ANCHORED_SAFE: &[&str] = &["changes", "delta", "increase", "rate", "resets"];
const SMOOTHED_SAFE: &[&str] = &["delta", "increase", "rate"];
/// Range-vector functions that read start timestamps.
const ST_FUNCTIONS: &[&str] = &["rate", "increase", "irate", "resets"];

/// The per-step callback of [`Ctx::range_eval`]: the argument vectors at this step, their
/// matching-signature ordinals (when matching), the index of each sample's input series
/// (stable across steps), and the step time.
pub(crate) type StepFn<'f> =
    dyn FnMut(&[Vector], &[Vec<usize>], &[Vec<usize>], i64) -> Result<Vector, EvalError> + 'f;

/// The timestamps the evaluator works with stay within ±2^61 ms (±73 million years), so
/// that step arithmetic cannot overflow.
pub(crate) const TIME_MIN: i64 = -(1 << 61);
pub(crate) const TIME_MAX: i64 = 1 << 61;

/// The times of the whole query.
#[derive(Clone, Copy, Debug)]
pub struct QueryTimes {
    pub start: i64,
    pub end: i64,
    /// 0 for instant queries.
    pub step: i64,
    pub lookback: i64,
}

/// The steps one node is evaluated at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rng {
    pub start: i64,
    pub end: i64,
    pub interval: i64,
}

impl Rng {
    pub fn steps(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            ((self.end - self.start) / self.interval) as usize + 1
        }
    }
    fn is_instant(&self) -> bool {
        self.start == self.end
    }
}

/// A node's value: a matrix with one point per step (instant vectors and scalars, which are
/// one series with an empty label set) or a string.
#[derive(Clone, Debug)]
pub enum Val {
    Mat(Matrix),
    Str(String),
}

impl Val {
    pub(crate) fn into_mat(self) -> Matrix {
        match self {
            Val::Mat(m) => m,
            Val::Str(_) => Vec::new(),
        }
    }
}

pub struct Ctx<'a> {
    querier: &'a dyn Querier,
    pub(crate) opts: &'a EngineOptions,
    pub(crate) qt: QueryTimes,
    interrupt: Option<&'a dyn Fn() -> bool>,
    invariant: HashSet<*const Expr>,
    /// Selectors read as by Prometheus's `HistogramStatsIterator` (under `histogram_count`,
    /// `histogram_sum` or `histogram_avg`, with no subquery, `histogram_quantile` or
    /// `histogram_fraction` above): unknown counter-reset hints are resolved on the fly
    /// against the previous histogram read.
    stats_selectors: HashSet<*const VectorSelector>,
    source: Cell<Option<&'a str>>,
    cur_samples: Cell<usize>,
    peak: Cell<usize>,
    touched: Cell<u64>,
    ann: RefCell<Annotations>,
}

pub(crate) fn exec_err(m: impl Into<String>) -> EvalError {
    EvalError::exec(m)
}

/// Labels Prometheus drops with the metric name (`DropReserved(IsMetadataLabel)`).
pub(crate) fn drop_metric_name(l: &Labels) -> Labels {
    if !l.iter().any(|x| x.name.starts_with("__")) {
        return l.clone();
    }
    l.without(&["__name__", "__type__", "__unit__"])
}

/// `FloatHistogram.Size()` in 16-byte units plus the timestamp, as Prometheus counts
/// histogram samples against the limit.
pub(crate) fn hist_size(h: &FloatHistogram) -> usize {
    let sz = 168
        + 8 * (h.positive_spans.len()
            + h.negative_spans.len()
            + h.positive_buckets.len()
            + h.negative_buckets.len()
            + h.custom_values.len());
    (sz + 8) / 16
}

pub(crate) fn mat_samples(m: &Matrix) -> usize {
    m.iter()
        .map(|s| s.floats.len() + s.histograms.iter().map(|p| hist_size(&p.h)).sum::<usize>())
        .sum()
}

/// Prometheus's `cleanupMetricLabels` for a matrix: drops names marked for removal and
/// merges series that end up with one label set (failing on overlapping points).
pub fn cleanup_metric_labels(mut mat: Matrix) -> Result<Matrix, EvalError> {
    for s in mat.iter_mut() {
        if s.drop_name {
            s.metric = drop_metric_name(&s.metric);
            s.drop_name = false;
        }
    }
    merge_same_labelset(mat)
}

pub(crate) fn merge_same_labelset(mat: Matrix) -> Result<Matrix, EvalError> {
    if mat.len() <= 1 {
        return Ok(mat);
    }
    let mut seen: HashMap<&Labels, ()> = HashMap::with_capacity(mat.len());
    let mut dup = false;
    for s in &mat {
        if seen.insert(&s.metric, ()).is_some() {
            dup = true;
            break;
        }
    }
    drop(seen);
    if !dup {
        return Ok(mat);
    }
    let mut idx: HashMap<Labels, usize> = HashMap::new();
    let mut out: Matrix = Vec::new();
    for s in mat {
        match idx.get(&s.metric) {
            Some(&i) => {
                let b = &mut out[i];
                b.floats.extend(s.floats);
                b.histograms.extend(s.histograms);
            }
            None => {
                idx.insert(s.metric.clone(), out.len());
                out.push(s);
            }
        }
    }
    for s in out.iter_mut() {
        s.floats.sort_by_key(|p| p.t);
        s.histograms.sort_by_key(|p| p.t);
        if s.floats.windows(2).any(|w| w[0].t == w[1].t)
            || s.histograms.windows(2).any(|w| w[0].t == w[1].t)
        {
            return Err(exec_err(
                "vector cannot contain metrics with the same labelset",
            ));
        }
    }
    Ok(out)
}

/// Prometheus's `createLabelsForAbsentFunction`.
pub fn createlabels_for_absent(e: &Expr) -> Labels {
    let vs = match unparen(e) {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vector_selector,
        _ => return Labels::empty(),
    };
    let mut b = Labels::empty().builder();
    let mut has: HashSet<&str> = HashSet::new();
    for m in &vs.matchers {
        if m.name == "__name__" {
            continue;
        }
        if m.kind == promplay_model::MatchType::Equal && !has.contains(m.name.as_str()) {
            b.set(m.name.as_str(), m.value.as_str());
            has.insert(&m.name);
        } else {
            b.del(m.name.as_str());
        }
    }
    b.labels()
}

/// A series' samples loaded into memory (stale markers removed for windows).
#[derive(Default)]
struct Buf {
    floats: Vec<FPoint>,
    hists: Vec<HPoint>,
    /// With start timestamps: those of `floats` and `hists`, index by index (0 = unknown).
    /// Empty when the series has none or they are not wanted.
    fsts: Vec<i64>,
    hsts: Vec<i64>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        querier: &'a dyn Querier,
        opts: &'a EngineOptions,
        qt: QueryTimes,
        interrupt: Option<&'a dyn Fn() -> bool>,
        invariant: HashSet<*const Expr>,
        root: &Expr,
    ) -> Self {
        let mut stats_selectors = HashSet::new();
        collect_stats_selectors(root, false, &mut stats_selectors);
        Ctx {
            stats_selectors,
            querier,
            opts,
            qt,
            interrupt,
            invariant,
            source: Cell::new(None),
            cur_samples: Cell::new(0),
            peak: Cell::new(0),
            touched: Cell::new(0),
            ann: RefCell::new(Annotations::default()),
        }
    }

    pub fn set_source(&self, s: Option<&'a str>) {
        self.source.set(s);
    }

    /// The text of `span` in the query, if the query text is known.
    pub(crate) fn source_text(&self, span: crate::ast::Span) -> Option<&'a str> {
        self.source
            .get()
            .and_then(|s| s.get(span.start as usize..span.end as usize))
    }

    pub fn take_annotations(&self) -> Annotations {
        std::mem::take(&mut *self.ann.borrow_mut())
    }

    pub fn stats(&self) -> QueryStats {
        QueryStats {
            samples_touched: self.touched.get(),
            peak_samples: self.peak.get(),
        }
    }

    pub(crate) fn warn(&self, m: impl Into<String>) {
        self.ann.borrow_mut().warn(m);
    }
    pub(crate) fn info(&self, m: impl Into<String>) {
        self.ann.borrow_mut().info(m);
    }
    pub(crate) fn merge_ann(&self, a: Annotations) {
        self.ann.borrow_mut().merge(a);
    }

    pub(crate) fn check_interrupt(&self) -> Result<(), EvalError> {
        if let Some(f) = self.interrupt {
            if f() {
                return Err(EvalError::Timeout {
                    context: "expression evaluation",
                });
            }
        }
        Ok(())
    }

    /// Polls the host's interrupt every 4096 calls: for per-step loops, whose step count a
    /// query chooses (`x[1y:1ms]` has 3e10 steps) and which may add no sample for most of
    /// them, so neither the sample limit nor a per-series poll would stop them in time.
    pub(crate) fn poll_interrupt(&self, n: &mut u32) -> Result<(), EvalError> {
        *n = n.wrapping_add(1);
        if *n & 0xfff == 0 {
            self.check_interrupt()
        } else {
            Ok(())
        }
    }

    /// Adds `n` samples to the in-memory count, failing above the limit.
    pub(crate) fn add_samples(&self, n: usize) -> Result<(), EvalError> {
        let c = self.cur_samples.get() + n;
        self.cur_samples.set(c);
        if c > self.peak.get() {
            self.peak.set(c);
        }
        if c > self.opts.max_samples {
            return Err(EvalError::TooManySamples {
                context: "query execution",
            });
        }
        Ok(())
    }
    pub(crate) fn cur(&self) -> usize {
        self.cur_samples.get()
    }
    pub(crate) fn set_cur(&self, n: usize) {
        self.cur_samples.set(n);
        if n > self.peak.get() {
            self.peak.set(n);
        }
    }

    fn is_stats(&self, vs: &VectorSelector) -> bool {
        self.stats_selectors
            .contains(&(vs as *const VectorSelector))
    }

    /// A constant scalar as a one-series matrix (one point per step, counted against the
    /// sample limit).
    fn scalar_series(&self, r: Rng, v: f64) -> Result<Series, EvalError> {
        let steps = r.steps();
        self.add_samples(steps)?;
        let mut s = Series::default();
        s.floats.reserve(steps);
        let mut ts = r.start;
        while ts <= r.end {
            s.floats.push(FPoint { t: ts, f: v });
            ts += r.interval;
        }
        Ok(s)
    }

    /// Evaluates `e` at the steps of `r`.
    pub fn eval(&self, e: &Expr, r: Rng) -> Result<Val, EvalError> {
        self.check_interrupt()?;
        if r.end < r.start {
            return Ok(Val::Mat(Vec::new()));
        }
        if !r.is_instant() && self.invariant.contains(&(e as *const Expr)) {
            return self.eval_step_invariant(e, r);
        }
        match e {
            Expr::Paren(p) => self.eval(&p.expr, r),
            Expr::NumberLiteral(n) => Ok(Val::Mat(vec![self.scalar_series(r, n.val)?])),
            Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Expr::VectorSelector(vs) => self.eval_vector_selector(vs, r).map(Val::Mat),
            Expr::MatrixSelector(ms) => self.eval_matrix_selector(ms, r).map(Val::Mat),
            Expr::Subquery(sq) => self.eval_subquery(sq, r).map(Val::Mat),
            Expr::Unary(u) => {
                let mut mat = self.eval(&u.expr, r)?.into_mat();
                if u.op == UnaryOp::Neg {
                    for s in mat.iter_mut() {
                        if !self.opts.enable_delayed_name_removal {
                            s.metric = drop_metric_name(&s.metric);
                        }
                        s.drop_name = true;
                        for p in s.floats.iter_mut() {
                            p.f = -p.f;
                        }
                        for p in s.histograms.iter_mut() {
                            let mut h = (*p.h).clone();
                            h.mul(-1.0);
                            h.counter_reset_hint = CounterResetHint::Gauge;
                            *p.h = h;
                        }
                    }
                    if !self.opts.enable_delayed_name_removal {
                        mat = merge_same_labelset(mat)?;
                    }
                }
                Ok(Val::Mat(mat))
            }
            Expr::Binary(b) => self.eval_binary(b, r).map(Val::Mat),
            Expr::Aggregate(a) => self.eval_aggregate(a, r).map(Val::Mat),
            Expr::Call(c) => self.eval_call(c, r).map(Val::Mat),
        }
    }

    fn eval_step_invariant(&self, e: &Expr, r: Rng) -> Result<Val, EvalError> {
        let one = Rng {
            start: r.start,
            end: r.start,
            interval: r.interval,
        };
        // Evaluate without the invariant shortcut (the node is in the set).
        // `one` is a single step, so `eval` does not come back here for `e`.
        let v = self.eval(e, one)?;
        let inner = match e {
            Expr::Paren(p) => unparen(&p.expr),
            o => o,
        };
        if matches!(inner, Expr::MatrixSelector(_) | Expr::Subquery(_)) {
            return Ok(v);
        }
        let mut mat = match v {
            Val::Str(s) => return Ok(Val::Str(s)),
            Val::Mat(m) => m,
        };
        let steps = r.steps();
        for s in mat.iter_mut() {
            if let Some(p) = s.floats.first().copied() {
                s.floats.reserve(steps.min(4096));
                let mut ts = r.start + r.interval;
                let mut polled = 0u32;
                while ts <= r.end {
                    self.poll_interrupt(&mut polled)?;
                    s.floats.push(FPoint { t: ts, f: p.f });
                    ts += r.interval;
                }
                self.add_samples(steps - 1)?;
            } else if let Some(p) = s.histograms.first().cloned() {
                let sz = hist_size(&p.h);
                let mut ts = r.start + r.interval;
                let mut polled = 0u32;
                while ts <= r.end {
                    self.poll_interrupt(&mut polled)?;
                    s.histograms.push(HPoint {
                        t: ts,
                        h: p.h.clone(),
                    });
                    ts += r.interval;
                    self.add_samples(sz)?;
                }
            }
        }
        Ok(Val::Mat(mat))
    }

    // ---------------------------------------------------------------- selection

    fn select(
        &self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
        range: i64,
        func: &str,
    ) -> Result<Vec<promplay_tsdb::Series>, EvalError> {
        if vs.matchers.is_empty() {
            return Ok(Vec::new());
        }
        // The whole history up to `maxt`: reading histograms derives chunk counter-reset
        // hints from the series' beginning (see `HintTracker`); readers seek to `mint`.
        debug_assert!(mint <= maxt.saturating_add(1));
        let hints = SelectHints {
            start: i64::MIN / 4,
            end: maxt,
            step: self.qt.step,
            range,
            func: func.to_string(),
        };
        let set = self
            .querier
            .select(false, Some(&hints), &vs.matchers)
            .map_err(|e| exec_err(format!("expanding series: {e}")))?;
        for w in &set.warnings {
            self.warn(w.clone());
        }
        Ok(set.series)
    }

    pub(crate) fn querier_select(
        &self,
        hints: &SelectHints,
        ms: &[promplay_model::Matcher],
    ) -> Result<Vec<promplay_tsdb::Series>, promplay_tsdb::StorageError> {
        let set = self.querier.select(false, Some(hints), ms)?;
        for w in &set.warnings {
            self.warn(w.clone());
        }
        Ok(set.series)
    }

    /// The offset (ms) of a selector and its `@` time, if any.
    pub(crate) fn sel_times(&self, vs: &VectorSelector) -> Result<(i64, Option<i64>), EvalError> {
        let offset = vs
            .offset
            .resolve(self.qt.step, self.qt.end - self.qt.start)
            .map_err(|e| exec_err(e.to_string()))?;
        let at = at_time(vs.timestamp, vs.start_or_end, self.qt.start, self.qt.end);
        let ok = |t: i64| (TIME_MIN..=TIME_MAX).contains(&t);
        if !ok(offset) || !at.is_none_or(ok) {
            return Err(exec_err("selector time out of bounds"));
        }
        Ok((offset, at))
    }

    /// A range (of a matrix selector or subquery) in ms, within bounds.
    pub(crate) fn resolve_range(&self, d: &crate::ast::Duration) -> Result<i64, EvalError> {
        let v = d
            .resolve(self.qt.step, self.qt.end - self.qt.start)
            .map_err(|e| exec_err(e.to_string()))?;
        if !(TIME_MIN..=TIME_MAX).contains(&v) {
            return Err(exec_err("range out of bounds"));
        }
        Ok(v)
    }

    fn eval_vector_selector(&self, vs: &VectorSelector, r: Rng) -> Result<Matrix, EvalError> {
        let (offset, at) = self.sel_times(vs)?;
        let lb = self.qt.lookback;
        let ref_of = |ts: i64| at.unwrap_or(ts) - offset;
        let (r0, r1) = (ref_of(r.start), ref_of(r.end));
        if vs.smoothed {
            return self.eval_smoothed_selector(vs, r, offset, at);
        }
        let series = self.select(vs, r0 - lb + 1, r1, 0, "")?;
        let steps = r.steps();
        let mut out: Matrix = Vec::with_capacity(series.len());
        for s in &series {
            self.check_interrupt()?;
            let mut it = s.iter();
            let stats = self
                .stats_selectors
                .contains(&(vs as *const VectorSelector));
            let mut prev_read: Option<&FloatHistogram> = None;
            let mut tracker: Option<HintTracker> = None;
            let mut ss = Series {
                metric: s.labels().clone(),
                ..Default::default()
            };
            // The latest sample at or before the current reference time, and a look-ahead.
            let mut last: Option<(i64, f64, Option<&FloatHistogram>)> = None;
            let mut ahead: Option<(i64, f64, Option<&FloatHistogram>)> = None;
            let mut done = false;
            match it.seek(r0 - lb + 1) {
                ValType::None => done = true,
                ValType::Float => {
                    let (t, f) = it.at();
                    ahead = Some((t, f, None));
                }
                ValType::Histogram => {
                    if let Some((t, h)) = it.at_histogram() {
                        ahead = Some((t, f64::NAN, Some(h)));
                    }
                }
            }
            let mut ts = r.start;
            let mut polled = 0u32;
            while ts <= r.end {
                self.poll_interrupt(&mut polled)?;
                let rt = ref_of(ts);
                loop {
                    if ahead.is_none() && !done {
                        match it.next() {
                            ValType::None => {
                                if let Some(e) = it.err() {
                                    return Err(exec_err(e.to_string()));
                                }
                                done = true;
                            }
                            ValType::Float => {
                                let (t, f) = it.at();
                                ahead = Some((t, f, None));
                            }
                            ValType::Histogram => {
                                if let Some((t, h)) = it.at_histogram() {
                                    ahead = Some((t, f64::NAN, Some(h)));
                                }
                            }
                        }
                    }
                    match ahead {
                        Some(a) if a.0 <= rt => {
                            if let Some(l) = last {
                                prev_read = l.2;
                            }
                            last = Some(a);
                            ahead = None;
                            self.touched.set(self.touched.get() + 1);
                        }
                        _ => break,
                    }
                }
                if let Some((t, f, h)) = last {
                    if t > rt - lb {
                        match h {
                            None => {
                                if !is_stale_nan(f) {
                                    if ss.floats.is_empty() {
                                        ss.floats.reserve(steps.min(4096));
                                    }
                                    ss.floats.push(FPoint { t: ts, f });
                                    self.add_samples(1)?;
                                }
                            }
                            Some(h) => {
                                if !is_stale_nan(h.sum) {
                                    self.add_samples(hist_size(h))?;
                                    let mut h = Box::new(h.clone());
                                    h.counter_reset_hint =
                                        tracker.get_or_insert_with(|| HintTracker::new(s)).hint(t);
                                    if stats && h.counter_reset_hint == CounterResetHint::Unknown {
                                        if let Some(p) = prev_read {
                                            h.counter_reset_hint = if h.detect_reset(p) {
                                                CounterResetHint::CounterReset
                                            } else {
                                                CounterResetHint::NotCounterReset
                                            };
                                        }
                                    }
                                    ss.histograms.push(HPoint { t: ts, h });
                                }
                            }
                        }
                    }
                }
                ts += r.interval;
            }
            if !ss.floats.is_empty() || !ss.histograms.is_empty() {
                out.push(ss);
            }
        }
        Ok(out)
    }

    /// Loads the samples of `s` with `mint < t <= maxt` into `buf` (stale markers dropped).
    fn load_window_buf(
        &self,
        s: &promplay_tsdb::Series,
        mint: i64,
        maxt: i64,
        buf: &mut Buf,
        stats: bool,
        with_st: bool,
    ) -> Result<(), EvalError> {
        buf.floats.clear();
        buf.hists.clear();
        buf.fsts.clear();
        buf.hsts.clear();
        let want_st = with_st && s.has_start_timestamps();
        let mut it = s.iter();
        let mut tracker: Option<HintTracker> = None;
        let mut vt = it.seek(mint.saturating_add(1));
        loop {
            match vt {
                ValType::None => {
                    if let Some(e) = it.err() {
                        return Err(exec_err(e.to_string()));
                    }
                    break;
                }
                ValType::Float => {
                    let (t, f) = it.at();
                    if t > maxt {
                        break;
                    }
                    if t > mint && !is_stale_nan(f) {
                        buf.floats.push(FPoint { t, f });
                        if want_st {
                            buf.fsts.push(it.at_st().unwrap_or(0));
                        }
                    }
                }
                ValType::Histogram => {
                    if let Some((t, h)) = it.at_histogram() {
                        if t > maxt {
                            break;
                        }
                        if t > mint && !is_stale_nan(h.sum) {
                            let mut h = Box::new(h.clone());
                            h.counter_reset_hint =
                                tracker.get_or_insert_with(|| HintTracker::new(s)).hint(t);
                            if stats && h.counter_reset_hint == CounterResetHint::Unknown {
                                if let Some(p) = buf.hists.last() {
                                    h.counter_reset_hint = if h.detect_reset(&p.h) {
                                        CounterResetHint::CounterReset
                                    } else {
                                        CounterResetHint::NotCounterReset
                                    };
                                }
                            }
                            buf.hists.push(HPoint { t, h });
                            if want_st {
                                buf.hsts.push(it.at_st().unwrap_or(0));
                            }
                        }
                    }
                }
            }
            vt = it.next();
        }
        self.touched
            .set(self.touched.get() + (buf.floats.len() + buf.hists.len()) as u64);
        Ok(())
    }

    fn eval_matrix_selector(&self, ms: &MatrixSelector, r: Rng) -> Result<Matrix, EvalError> {
        let vs = &ms.vector_selector;
        let (offset, at) = self.sel_times(vs)?;
        let range = self.resolve_range(&ms.range)?;
        let maxt0 = at.unwrap_or(r.start) - offset;
        let mint0 = maxt0 - range;
        let (mut mint, mut maxt) = (mint0, maxt0);
        let lb = self.qt.lookback;
        if vs.anchored {
            mint -= lb;
        } else if vs.smoothed {
            mint -= lb;
            maxt += lb;
        }
        let series = self.select(vs, mint + 1, maxt, range, "")?;
        let mut out = Vec::with_capacity(series.len());
        let mut buf = Buf::default();
        for s in &series {
            self.check_interrupt()?;
            self.load_window_buf(s, mint, maxt, &mut buf, self.is_stats(vs), false)?;
            let mut floats = std::mem::take(&mut buf.floats);
            let hists = std::mem::take(&mut buf.hists);
            if vs.anchored || vs.smoothed {
                if !hists.is_empty() {
                    return Err(exec_err(
                        "anchored modifier is not supported with histograms",
                    ));
                }
                if floats.is_empty() {
                    continue;
                }
                floats = extend_floats(&floats, mint0, maxt0, vs.smoothed);
            }
            let n = floats.len() + hists.iter().map(|p| hist_size(&p.h)).sum::<usize>();
            if n > 0 {
                self.add_samples(n)?;
                out.push(Series {
                    metric: s.labels().clone(),
                    floats,
                    histograms: hists,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }

    fn eval_smoothed_selector(
        &self,
        vs: &VectorSelector,
        r: Rng,
        offset: i64,
        at: Option<i64>,
    ) -> Result<Matrix, EvalError> {
        let lb = self.qt.lookback;
        let ref_of = |ts: i64| at.unwrap_or(ts) - offset;
        let (r0, r1) = (ref_of(r.start), ref_of(r.end));
        let series = self.select(vs, r0 - lb + 1, r1 + lb, 0, "")?;
        let mut out = Vec::new();
        let mut buf = Buf::default();
        for s in &series {
            self.load_window_buf(s, r0 - lb - 1, r1 + lb, &mut buf, self.is_stats(vs), false)?;
            let mut ss = Series {
                metric: s.labels().clone(),
                ..Default::default()
            };
            let mut ts = r.start;
            let mut polled = 0u32;
            while ts <= r.end {
                self.poll_interrupt(&mut polled)?;
                let rt = ref_of(ts);
                let w: Vec<FPoint> = buf
                    .floats
                    .iter()
                    .copied()
                    .filter(|p| p.t > rt - lb && p.t <= rt + lb)
                    .collect();
                let wh: Vec<&HPoint> = buf
                    .hists
                    .iter()
                    .filter(|p| p.t > rt - lb && p.t <= rt + lb)
                    .collect();
                let name = s.labels().get_or_empty("__name__");
                if !wh.is_empty() && !w.is_empty() {
                    self.warn(format!(
                        "PromQL warning: encountered a mix of histograms and floats for metric name {}",
                        go_quote(name)
                    ));
                } else if !wh.is_empty() {
                    let i = wh.partition_point(|p| p.t < rt);
                    let h = if i < wh.len() && wh[i].t == rt {
                        Some((*wh[i].h).clone())
                    } else if i > 0 && i < wh.len() {
                        match interpolate_histogram(wh[i - 1], wh[i], rt) {
                            Ok(h) => Some(h),
                            Err(_) => {
                                self.warn(format!(
                                    "PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {}",
                                    go_quote(name)
                                ));
                                None
                            }
                        }
                    } else if i > 0 {
                        Some((*wh[i - 1].h).clone())
                    } else {
                        None
                    };
                    if let Some(h) = h {
                        self.add_samples(hist_size(&h))?;
                        ss.histograms.push(HPoint {
                            t: ts,
                            h: Box::new(h),
                        });
                    }
                } else if !w.is_empty() {
                    let i = w.partition_point(|p| p.t < rt);
                    if i < w.len() && w[i].t == rt {
                        ss.floats.push(FPoint { t: ts, f: w[i].f });
                    } else if i > 0 && i < w.len() {
                        let v = interpolate(w[i - 1], w[i], rt, false, false);
                        ss.floats.push(FPoint { t: ts, f: v });
                    } else if i > 0 {
                        ss.floats.push(FPoint {
                            t: ts,
                            f: w[i - 1].f,
                        });
                    }
                }
                ts += r.interval;
            }
            self.add_samples(ss.floats.len())?;
            if !ss.floats.is_empty() || !ss.histograms.is_empty() {
                out.push(ss);
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- subqueries

    /// Evaluates a subquery's inner expression; returns its matrix and the step range used.
    fn subquery_inner(
        &self,
        sq: &SubqueryExpr,
        r: Rng,
    ) -> Result<(Matrix, i64, Option<i64>), EvalError> {
        let span = self.qt.end - self.qt.start;
        let offset = self.resolve_range(&sq.offset)?;
        let range = self.resolve_range(&sq.range)?;
        let step = match &sq.step {
            Some(d) => d
                .resolve(self.qt.step, span)
                .map_err(|e| exec_err(e.to_string()))?,
            None => self.opts.no_step_subquery_interval_ms,
        };
        let step = if step <= 0 {
            self.opts.no_step_subquery_interval_ms
        } else {
            step
        };
        let at = at_time(sq.timestamp, sq.start_or_end, self.qt.start, self.qt.end);
        if at.is_some_and(|t| !(TIME_MIN..=TIME_MAX).contains(&t)) {
            return Err(exec_err("subquery time range out of bounds"));
        }
        let (rs, re) = match at {
            Some(t) => (t, t),
            None => (r.start, r.end),
        };
        let out_of_range = || exec_err("subquery time range out of bounds");
        let end = re.checked_sub(offset).ok_or_else(out_of_range)?;
        let base = rs
            .checked_sub(offset)
            .and_then(|x| x.checked_sub(range))
            .ok_or_else(out_of_range)?;
        let mut start = step * (base / step);
        if start <= base {
            start = start.checked_add(step).ok_or_else(out_of_range)?;
        }
        if !(TIME_MIN..=TIME_MAX).contains(&start) || !(TIME_MIN..=TIME_MAX).contains(&end) {
            return Err(out_of_range());
        }
        let inner = Rng {
            start,
            end,
            interval: step,
        };
        let mat = self.eval(&sq.expr, inner)?.into_mat();
        Ok((mat, range, at.map(|t| t - offset)))
    }

    fn eval_subquery(&self, sq: &SubqueryExpr, r: Rng) -> Result<Matrix, EvalError> {
        // A subquery at the top level (instant query): its points, as a range vector.
        let (mat, _, _) = self.subquery_inner(sq, r)?;
        Ok(mat)
    }

    // ---------------------------------------------------------------- rangeEval

    /// Evaluates `args` (non-string), then calls `f` for each step with the vectors at
    /// that step, assembling the output series (Prometheus's `rangeEval`).
    pub(crate) fn range_eval(
        &self,
        r: Rng,
        args: &[&Expr],
        sigs: Option<&dyn Fn(&Labels) -> Labels>,
        f: &mut StepFn,
    ) -> Result<Matrix, EvalError> {
        let orig = self.cur();
        let mut mats: Vec<Matrix> = Vec::with_capacity(args.len());
        for a in args {
            if a.value_type() == ValueType::String {
                mats.push(Vec::new());
            } else {
                mats.push(self.eval(a, r)?.into_mat());
            }
        }
        // Signature ordinals per series, when matching.
        let mut ords: Vec<Vec<usize>> = vec![Vec::new(); args.len()];
        if let Some(sigf) = sigs {
            let mut map: HashMap<Labels, usize> = HashMap::new();
            for (i, m) in mats.iter().enumerate() {
                for s in m {
                    let k = sigf(&s.metric);
                    let n = map.len();
                    let o = *map.entry(k).or_insert(n);
                    ords[i].push(o);
                }
            }
        }
        let mut pos: Vec<Vec<(usize, usize)>> = mats
            .iter()
            .map(|m| vec![(0usize, 0usize); m.len()])
            .collect();
        let mut vecs: Vec<Vector> = vec![Vec::new(); args.len()];
        let mut step_ords: Vec<Vec<usize>> = vec![Vec::new(); args.len()];
        // Which input series each gathered sample came from: a sample borrows its series'
        // labels for the step (moved out and back, so no label set is cloned per step).
        let mut owners: Vec<Vec<usize>> = vec![Vec::new(); args.len()];
        let mut out: Matrix = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut last_ts: Vec<i64> = Vec::new();
        let mut prev_order: Vec<usize> = Vec::new();
        let temp = self.cur();
        let mut ts = r.start;
        while ts <= r.end {
            self.check_interrupt()?;
            self.set_cur(temp);
            for (i, m) in mats.iter_mut().enumerate() {
                let v = &mut vecs[i];
                v.clear();
                step_ords[i].clear();
                owners[i].clear();
                for (si, s) in m.iter_mut().enumerate() {
                    let p = &mut pos[i][si];
                    let mut got = None;
                    while p.0 < s.floats.len() && s.floats[p.0].t < ts {
                        p.0 += 1;
                    }
                    while p.1 < s.histograms.len() && s.histograms[p.1].t < ts {
                        p.1 += 1;
                    }
                    if p.0 < s.floats.len() && s.floats[p.0].t == ts {
                        got = Some((s.floats[p.0].f, None));
                        p.0 += 1;
                    } else if p.1 < s.histograms.len() && s.histograms[p.1].t == ts {
                        got = Some((0.0, Some(s.histograms[p.1].h.clone())));
                        p.1 += 1;
                    }
                    if let Some((f, h)) = got {
                        v.push(Sample {
                            metric: std::mem::take(&mut s.metric),
                            t: ts,
                            f,
                            h,
                            drop_name: s.drop_name,
                        });
                        owners[i].push(si);
                        if sigs.is_some() {
                            step_ords[i].push(ords[i][si]);
                        }
                    }
                }
                self.add_samples(v.len())?;
            }
            let res = f(&vecs, &step_ords, &owners, ts);
            for (i, v) in vecs.iter_mut().enumerate() {
                for (k, smp) in v.iter_mut().enumerate() {
                    mats[i][owners[i][k]].metric = std::mem::take(&mut smp.metric);
                }
            }
            let mut res = res?;
            if !self.opts.enable_delayed_name_removal {
                // Without delayed removal, names go as soon as an operation drops them.
                for smp in res.iter_mut().filter(|x| x.drop_name) {
                    smp.metric = drop_metric_name(&smp.metric);
                    smp.drop_name = false;
                }
            }
            let n: usize = res
                .iter()
                .map(|s| s.h.as_ref().map(|h| hist_size(h)).unwrap_or(1))
                .sum();
            self.add_samples(n)?;
            if r.is_instant() {
                if !self.opts.enable_delayed_name_removal && contains_same_labelset(&res) {
                    return Err(exec_err(
                        "vector cannot contain metrics with the same labelset",
                    ));
                }
                let mat: Matrix = res.into_iter().map(|s| sample_to_series(s, ts)).collect();
                self.set_cur(orig + mat_samples(&mat));
                return Ok(mat);
            }
            // Output series of the k-th result sample: usually the same as at the previous
            // step, so check that before hashing the label set.
            let mut order: Vec<usize> = Vec::with_capacity(res.len());
            for (k, s) in res.into_iter().enumerate() {
                let cached = prev_order
                    .get(k)
                    .copied()
                    .filter(|&i| out[i].metric == s.metric);
                let found = match cached {
                    Some(i) => Some(i),
                    None => index.get(&s.metric).copied(),
                };
                match found {
                    Some(i) => {
                        if last_ts[i] == ts {
                            return Err(exec_err(
                                "vector cannot contain metrics with the same labelset",
                            ));
                        }
                        last_ts[i] = ts;
                        push_point(&mut out[i], ts, s.f, s.h);
                        order.push(i);
                    }
                    None => {
                        let i = out.len();
                        index.insert(s.metric.clone(), i);
                        last_ts.push(ts);
                        let mut ss = Series {
                            metric: s.metric,
                            drop_name: s.drop_name,
                            ..Default::default()
                        };
                        push_point(&mut ss, ts, s.f, s.h);
                        out.push(ss);
                        order.push(i);
                    }
                }
            }
            prev_order = order;
            ts += r.interval;
        }
        self.set_cur(orig + mat_samples(&out));
        Ok(out)
    }

    // ---------------------------------------------------------------- calls

    fn eval_call(&self, c: &Call, r: Rng) -> Result<Matrix, EvalError> {
        let name = c.func.name;
        let args: Vec<&Expr> = c.args.iter().map(unparen).collect();
        if name == "timestamp" {
            if let Some(Expr::VectorSelector(vs)) = args.first() {
                return self.eval_timestamp_over_selector(c, vs, r, false);
            }
        }
        if name == "start_timestamp" {
            return self.eval_start_timestamp(c, r);
        }
        if name == "info" {
            return super::info::eval_info(self, c, r);
        }
        let ctx_val = match name {
            "start" => Some(self.qt.start as f64 / 1000.0),
            "end" => Some(self.qt.end as f64 / 1000.0),
            "range" => Some((self.qt.end - self.qt.start) as f64 / 1000.0),
            "step" => Some(self.qt.step as f64 / 1000.0),
            _ => None,
        };
        if let Some(v) = ctx_val {
            return Ok(vec![self.scalar_series(r, v)?]);
        }
        if matches!(
            name,
            "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc"
        ) && self.qt.step != 0
        {
            self.warn("PromQL warning: sort is ineffective for range queries since results are always ordered by labels");
        }
        let margs = args
            .iter()
            .position(|a| matches!(a, Expr::MatrixSelector(_) | Expr::Subquery(_)));
        let Some(mi) = margs else {
            // No range-vector argument: call per step.
            let exprs = &c.args;
            let mut ann = Annotations::default();
            let res = self.range_eval(r, &args, None, &mut |vecs, _, _, ts| {
                let fargs: Vec<FnArg> = args
                    .iter()
                    .zip(vecs)
                    .map(|(a, v)| match a.value_type() {
                        ValueType::Scalar => {
                            FnArg::Scalar(v.first().map(|s| s.f).unwrap_or(f64::NAN))
                        }
                        ValueType::String => FnArg::String(match a {
                            Expr::StringLiteral(s) => s.val.as_str(),
                            _ => "",
                        }),
                        _ => FnArg::Vector(v),
                    })
                    .collect();
                let call = FnCall {
                    name,
                    ts,
                    args: &fargs,
                    exprs,
                    range_start: ts,
                    range_end: ts,
                };
                crate::functions::call(&call, &mut ann)
            });
            self.merge_ann(ann);
            return res;
        };
        self.eval_range_function(c, &args, mi, r)
    }

    /// `start_timestamp(v)`: the start timestamps of the samples a vector selector reads.
    /// (Kept out of `eval_call`, whose stack frame bounds the depth of nested calls.)
    #[inline(never)]
    fn eval_start_timestamp(&self, c: &Call, r: Rng) -> Result<Matrix, EvalError> {
        let arg = c.args.first().map(unparen);
        if let (Some(Expr::VectorSelector(vs)), true) = (arg, self.opts.use_start_timestamps) {
            return self.eval_timestamp_over_selector(c, vs, r, true);
        }
        // Start timestamps exist only for samples read straight from storage: the result of
        // an expression (or of a query without them enabled) has none.
        if let Some(a) = arg {
            self.eval(a, r)?;
        }
        Ok(Vec::new())
    }

    fn eval_timestamp_over_selector(
        &self,
        c: &Call,
        vs: &VectorSelector,
        r: Rng,
        start_ts: bool,
    ) -> Result<Matrix, EvalError> {
        // Like a vector selector, but each sample keeps its own timestamp (and, for
        // `start_timestamp()`, its start timestamp: 0 if unknown).
        let (offset, at) = self.sel_times(vs)?;
        let lb = self.qt.lookback;
        let ref_of = |ts: i64| at.unwrap_or(ts) - offset;
        let series = self.select(vs, ref_of(r.start) - lb + 1, ref_of(r.end), 0, "timestamp")?;
        // Per series: points (step ts, sample t, start timestamp).
        let st_of = |it: &promplay_tsdb::SeriesIterator| {
            if start_ts {
                it.at_st().unwrap_or(0)
            } else {
                0
            }
        };
        let mut per: Vec<Vec<(i64, i64, i64)>> = Vec::with_capacity(series.len());
        for s in &series {
            let mut it = s.iter();
            let mut pts: Vec<(i64, i64, i64)> = Vec::new();
            let mut last: Option<(i64, bool, i64)> = None;
            let mut ahead: Option<(i64, bool, i64)> = None;
            let mut done = false;
            match it.seek(ref_of(r.start) - lb + 1) {
                ValType::None => done = true,
                ValType::Float => {
                    let (t, f) = it.at();
                    ahead = Some((t, is_stale_nan(f), st_of(&it)));
                }
                ValType::Histogram => {
                    if let Some((t, h)) = it.at_histogram() {
                        ahead = Some((t, is_stale_nan(h.sum), st_of(&it)));
                    }
                }
            }
            let mut ts = r.start;
            let mut polled = 0u32;
            while ts <= r.end {
                self.poll_interrupt(&mut polled)?;
                let rt = ref_of(ts);
                loop {
                    if ahead.is_none() && !done {
                        match it.next() {
                            ValType::None => done = true,
                            ValType::Float => {
                                let (t, f) = it.at();
                                ahead = Some((t, is_stale_nan(f), st_of(&it)));
                            }
                            ValType::Histogram => {
                                if let Some((t, h)) = it.at_histogram() {
                                    ahead = Some((t, is_stale_nan(h.sum), st_of(&it)));
                                }
                            }
                        }
                    }
                    match ahead {
                        Some(a) if a.0 <= rt => {
                            last = Some(a);
                            ahead = None;
                        }
                        _ => break,
                    }
                }
                if let Some((t, stale, st)) = last {
                    if t > rt - lb && !stale {
                        pts.push((ts, t, st));
                    }
                }
                ts += r.interval;
            }
            per.push(pts);
        }
        let mut idx = vec![0usize; series.len()];
        let mut ann = Annotations::default();
        let exprs = &c.args;
        let empty: [&Expr; 0] = [];
        let res = self.range_eval(r, &empty, None, &mut |_, _, _, ts| {
            let mut v: Vector = Vec::new();
            for (i, s) in series.iter().enumerate() {
                let p = &per[i];
                while idx[i] < p.len() && p[idx[i]].0 < ts {
                    idx[i] += 1;
                }
                if idx[i] < p.len() && p[idx[i]].0 == ts && start_ts {
                    let metric = if self.opts.enable_delayed_name_removal {
                        s.labels().clone()
                    } else {
                        drop_metric_name(s.labels())
                    };
                    v.push(Sample {
                        metric,
                        t: ts,
                        f: p[idx[i]].2 as f64 / 1000.0,
                        h: None,
                        drop_name: true,
                    });
                } else if idx[i] < p.len() && p[idx[i]].0 == ts {
                    v.push(Sample {
                        metric: s.labels().clone(),
                        t: p[idx[i]].1,
                        f: 0.0,
                        h: None,
                        drop_name: false,
                    });
                }
            }
            self.add_samples(v.len())?;
            if start_ts {
                return Ok(v);
            }
            let fargs = [FnArg::Vector(&v)];
            let call = FnCall {
                name: "timestamp",
                ts,
                args: &fargs,
                exprs,
                range_start: ts,
                range_end: ts,
            };
            crate::functions::call(&call, &mut ann)
        });
        self.merge_ann(ann);
        res
    }

    /// A call with a range-vector argument: one series at a time, sliding the window over
    /// its samples step by step.
    fn eval_range_function(
        &self,
        c: &Call,
        args: &[&Expr],
        mi: usize,
        r: Rng,
    ) -> Result<Matrix, EvalError> {
        let name = c.func.name;
        // Other (scalar) arguments, evaluated for all steps.
        let mut scalars: Vec<Option<Matrix>> = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            if i == mi || a.value_type() == ValueType::String {
                scalars.push(None);
            } else {
                scalars.push(Some(self.eval(a, r)?.into_mat()));
            }
        }
        let lb = self.qt.lookback;
        // The source of series: storage or a subquery's result.
        enum Src {
            Store(Vec<promplay_tsdb::Series>),
            Sub(Matrix),
        }
        let (src, range, offset, at, anchored, smoothed) = match args[mi] {
            Expr::MatrixSelector(ms) => {
                let vs = &ms.vector_selector;
                if vs.anchored && !ANCHORED_SAFE.contains(&name) {
                    return Err(exec_err(format!(
                        "anchored modifier can only be used with: {} - not with {name}",
                        ANCHORED_SAFE.join(", ")
                    )));
                }
                if vs.smoothed && !SMOOTHED_SAFE.contains(&name) {
                    return Err(exec_err(format!(
                        "smoothed modifier can only be used with: {} - not with {name}",
                        SMOOTHED_SAFE.join(", ")
                    )));
                }
                let (offset, at) = self.sel_times(vs)?;
                let range = self.resolve_range(&ms.range)?;
                let ref0 = at.unwrap_or(r.start) - offset;
                let ref1 = at.unwrap_or(r.end) - offset;
                let mut mint = ref0 - range;
                let mut maxt = ref1;
                if vs.anchored {
                    mint -= lb;
                } else if vs.smoothed {
                    mint -= lb;
                    maxt += lb;
                }
                let series = self.select(vs, mint + 1, maxt, range, name)?;
                (
                    Src::Store(series),
                    range,
                    offset,
                    at,
                    vs.anchored,
                    vs.smoothed,
                )
            }
            Expr::Subquery(sq) => {
                let (mut mat, range, _) = self.subquery_inner(sq, r)?;
                for s in mat.iter_mut() {
                    for p in s.histograms.iter_mut() {
                        if matches!(
                            p.h.counter_reset_hint,
                            CounterResetHint::NotCounterReset | CounterResetHint::CounterReset
                        ) {
                            p.h.counter_reset_hint = CounterResetHint::Unknown;
                        }
                    }
                }
                let offset = self.resolve_range(&sq.offset)?;
                let at = at_time(sq.timestamp, sq.start_or_end, self.qt.start, self.qt.end);
                (Src::Sub(mat), range, offset, at, false, false)
            }
            _ => return Err(exec_err("unexpected range-vector argument")),
        };
        let stats_sel = match args[mi] {
            Expr::MatrixSelector(ms) => self.is_stats(&ms.vector_selector),
            _ => false,
        };
        let n_series = match &src {
            Src::Store(s) => s.len(),
            Src::Sub(m) => m.len(),
        };
        let drop_name = name != "last_over_time" && name != "first_over_time";
        let use_st = self.opts.use_start_timestamps && ST_FUNCTIONS.contains(&name);
        let mut out: Matrix = Vec::with_capacity(n_series);
        let mut buf = Buf::default();
        let mut window: Matrix = vec![Series::default()];
        let mut ann = Annotations::default();
        let steps = r.steps();
        for si in 0..n_series {
            self.check_interrupt()?;
            let labels: Labels = match &src {
                Src::Store(s) => s[si].labels().clone(),
                Src::Sub(m) => m[si].metric.clone(),
            };
            // The samples of this series over all windows.
            let ref0 = at.unwrap_or(r.start) - offset;
            let ref1 = at.unwrap_or(r.end) - offset;
            let (mut lo, mut hi) = (ref0 - range, ref1);
            if anchored {
                lo -= lb;
            } else if smoothed {
                lo -= lb;
                hi += lb;
            }
            match &src {
                Src::Store(s) => {
                    self.load_window_buf(&s[si], lo, hi, &mut buf, stats_sel, use_st)?
                }
                Src::Sub(m) => {
                    // Subqueries cut the propagation of start timestamps.
                    buf.floats.clear();
                    buf.hists.clear();
                    buf.fsts.clear();
                    buf.hsts.clear();
                    buf.floats.extend(
                        m[si]
                            .floats
                            .iter()
                            .copied()
                            .filter(|p| p.t > lo && p.t <= hi),
                    );
                    buf.hists.extend(
                        m[si]
                            .histograms
                            .iter()
                            .filter(|p| p.t > lo && p.t <= hi)
                            .cloned(),
                    );
                }
            }
            let mut ss = Series {
                metric: if !self.opts.enable_delayed_name_removal && drop_name {
                    drop_metric_name(&labels)
                } else {
                    labels.clone()
                },
                drop_name: drop_name || matches!(&src, Src::Sub(m) if m[si].drop_name),
                ..Default::default()
            };
            let (mut f0, mut f1, mut h0, mut h1) = (0usize, 0usize, 0usize, 0usize);
            let mut ts = r.start;
            let mut step = 0usize;
            let mut polled = 0u32;
            while ts <= r.end {
                self.poll_interrupt(&mut polled)?;
                let rend = at.unwrap_or(ts) - offset;
                let rstart = rend - range;
                let (mut wmin, mut wmax) = (rstart, rend);
                if anchored {
                    wmin -= lb;
                } else if smoothed {
                    wmin -= lb;
                    wmax += lb;
                }
                while f0 < buf.floats.len() && buf.floats[f0].t <= wmin {
                    f0 += 1;
                }
                if f1 < f0 {
                    f1 = f0;
                }
                while f1 < buf.floats.len() && buf.floats[f1].t <= wmax {
                    f1 += 1;
                }
                while h0 < buf.hists.len() && buf.hists[h0].t <= wmin {
                    h0 += 1;
                }
                if h1 < h0 {
                    h1 = h0;
                }
                while h1 < buf.hists.len() && buf.hists[h1].t <= wmax {
                    h1 += 1;
                }
                let fl = &buf.floats[f0..f1];
                let hl = &buf.hists[h0..h1];
                if fl.is_empty() && hl.is_empty() {
                    ts += r.interval;
                    step += 1;
                    continue;
                }
                let w = &mut window[0];
                w.floats.clear();
                w.floats.extend_from_slice(fl);
                w.histograms.clear();
                w.histograms.extend(hl.iter().cloned());
                let wn = fl.len() + hl.iter().map(|p| hist_size(&p.h)).sum::<usize>();
                self.add_samples(wn)?;
                // The window's labels matter to functions only for histogram annotations and
                // the start-time overlap warning; an empty label set spares a clone per call
                // on other float windows.
                if hl.is_empty() && buf.fsts.is_empty() {
                    if !w.metric.is_empty() {
                        w.metric = Labels::empty();
                    }
                } else if w.metric != labels {
                    w.metric = labels.clone();
                }
                let mut fbuf = [FnArg::Scalar(0.0); 8];
                let nargs = args.len().min(fbuf.len());
                for (i, slot) in fbuf.iter_mut().enumerate().take(nargs) {
                    *slot = if i == mi {
                        FnArg::Matrix(&window)
                    } else if let Some(m) = &scalars[i] {
                        FnArg::Scalar(
                            m.first()
                                .and_then(|s| s.floats.get(step))
                                .map(|p| p.f)
                                .unwrap_or(f64::NAN),
                        )
                    } else {
                        FnArg::String(match args[i] {
                            Expr::StringLiteral(s) => s.val.as_str(),
                            _ => "",
                        })
                    };
                }
                let fargs = &fbuf[..nargs];
                let call = FnCall {
                    name,
                    ts,
                    args: fargs,
                    exprs: &c.args,
                    range_start: rstart,
                    range_end: rend,
                };
                let res = if buf.fsts.is_empty() && buf.hsts.is_empty() {
                    crate::functions::call(&call, &mut ann)
                } else {
                    let sts = StartTimestamps {
                        floats: buf.fsts.get(f0..f1).unwrap_or(&[]),
                        histograms: buf.hsts.get(h0..h1).unwrap_or(&[]),
                    };
                    crate::functions::call_with_start_timestamps(&call, Some(&sts), &mut ann)
                };
                self.set_cur(self.cur() - wn);
                let res = res?;
                if let Some(s) = res.into_iter().next() {
                    if ss.floats.is_empty() && ss.histograms.is_empty() {
                        ss.floats.reserve(steps.min(1024));
                    }
                    push_point(&mut ss, ts, s.f, s.h);
                }
                ts += r.interval;
                step += 1;
            }
            let n = ss.floats.len() + ss.histograms.iter().map(|p| hist_size(&p.h)).sum::<usize>();
            if n > 0 {
                self.add_samples(n)?;
                if (name == "rate" || name == "increase") && !ss.floats.is_empty() {
                    let mname = labels.get_or_empty("__name__");
                    if !mname.is_empty()
                        && !mname.ends_with("_total")
                        && !mname.ends_with("_sum")
                        && !mname.ends_with("_count")
                        && !mname.ends_with("_bucket")
                    {
                        ann.info(format!(
                            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {}",
                            go_quote(mname)
                        ));
                    }
                }
                out.push(ss);
            }
        }
        self.merge_ann(ann);
        if name == "absent_over_time" {
            let steps = r.steps();
            if out
                .iter()
                .any(|s| s.floats.len() + s.histograms.len() == steps)
            {
                return Ok(Vec::new());
            }
            let mut found: HashSet<i64> = HashSet::new();
            for s in &out {
                found.extend(s.floats.iter().map(|p| p.t));
                found.extend(s.histograms.iter().map(|p| p.t));
            }
            let mut ss = Series {
                metric: createlabels_for_absent(args[mi]),
                drop_name,
                ..Default::default()
            };
            let mut ts = r.start;
            let mut polled = 0u32;
            while ts <= r.end {
                self.poll_interrupt(&mut polled)?;
                if !found.contains(&ts) {
                    ss.floats.push(FPoint { t: ts, f: 1.0 });
                }
                ts += r.interval;
            }
            if ss.floats.is_empty() {
                return Ok(Vec::new());
            }
            return Ok(vec![ss]);
        }
        if !self.opts.enable_delayed_name_removal {
            let mut seen = HashSet::new();
            if out.iter().any(|s| !seen.insert(&s.metric)) {
                return Err(exec_err(
                    "vector cannot contain metrics with the same labelset",
                ));
            }
        }
        Ok(out)
    }
}

pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::new();
    let _ = promplay_model::labels::write_go_quoted(&mut out, s);
    out
}

pub(crate) fn contains_same_labelset(v: &Vector) -> bool {
    if v.len() <= 1 {
        return false;
    }
    let mut seen = HashSet::with_capacity(v.len());
    v.iter().any(|s| !seen.insert(&s.metric))
}

pub(crate) fn push_point(ss: &mut Series, ts: i64, f: f64, h: Option<Box<FloatHistogram>>) {
    match h {
        None => ss.floats.push(FPoint { t: ts, f }),
        Some(h) => ss.histograms.push(HPoint { t: ts, h }),
    }
}

pub(crate) fn sample_to_series(s: Sample, ts: i64) -> Series {
    let mut ss = Series {
        metric: s.metric,
        drop_name: s.drop_name,
        ..Default::default()
    };
    push_point(&mut ss, ts, s.f, s.h);
    ss
}

/// Linear interpolation between two histogram samples; a counter that resets between them
/// is modelled as restarting from zero.
pub(crate) fn interpolate_histogram(
    p1: &HPoint,
    p2: &HPoint,
    t: i64,
) -> Result<FloatHistogram, promplay_model::HistogramError> {
    let frac = (t - p1.t) as f64 / (p2.t - p1.t) as f64;
    if p1.h.uses_custom_buckets() != p2.h.uses_custom_buckets() {
        return Err(promplay_model::HistogramError::IncompatibleSchema);
    }
    let counter = p2.h.counter_reset_hint != CounterResetHint::Gauge;
    if counter && p2.h.detect_reset(&p1.h) {
        let mut x = (*p2.h).clone();
        x.mul(frac);
        return Ok(x);
    }
    let mut d = (*p2.h).clone();
    d.sub(&p1.h)?;
    d.mul(frac);
    let mut x = (*p1.h).clone();
    x.add(&d)?;
    x.compact(0);
    Ok(x)
}

/// Prometheus's `interpolate` (linear, between two samples).
pub(crate) fn interpolate(
    p1: FPoint,
    p2: FPoint,
    t: i64,
    is_counter: bool,
    left_edge: bool,
) -> f64 {
    let mut y1 = p1.f;
    let y2 = p2.f;
    if is_counter && y2 < y1 {
        if left_edge {
            y1 = 0.0;
        } else {
            return y2;
        }
    }
    y1 + (y2 - y1) * ((t - p1.t) as f64 / (p2.t - p1.t) as f64)
}

fn pick_or_interpolate_left(
    floats: &[FPoint],
    first: usize,
    rstart: i64,
    smoothed: bool,
    is_counter: bool,
) -> f64 {
    if smoothed && floats[first].t < rstart && first + 1 < floats.len() {
        return interpolate(floats[first], floats[first + 1], rstart, is_counter, true);
    }
    floats[first].f
}

fn pick_or_interpolate_right(
    floats: &[FPoint],
    last: usize,
    rend: i64,
    smoothed: bool,
    is_counter: bool,
) -> f64 {
    if smoothed && last > 0 && floats[last].t > rend {
        return interpolate(floats[last - 1], floats[last], rend, is_counter, false);
    }
    floats[last].f
}

/// Prometheus's `extendFloats` for anchored/smoothed range selectors.
pub(crate) fn extend_floats(
    floats: &[FPoint],
    mint: i64,
    maxt: i64,
    smoothed: bool,
) -> Vec<FPoint> {
    if floats.is_empty() {
        return Vec::new();
    }
    let mut last = floats.len() - 1;
    let first = {
        // sort.Search(last, floats[i].T > mint) - 1, at least 0
        let n = last;
        let i = floats[..n].partition_point(|p| p.t <= mint);
        i.saturating_sub(1)
    };
    if smoothed {
        last = floats[..last].partition_point(|p| p.t < maxt);
    }
    if floats[last].t <= mint {
        return Vec::new();
    }
    let left = pick_or_interpolate_left(floats, first, mint, smoothed, false);
    let right = pick_or_interpolate_right(floats, last, maxt, smoothed, false);
    let mut fi = first as isize;
    let mut li = last as isize;
    if floats[first].t <= mint {
        fi += 1;
    }
    if floats[last].t >= maxt {
        li -= 1;
    }
    let mut out = Vec::with_capacity(floats.len() + 2);
    out.push(FPoint { t: mint, f: left });
    if fi <= li {
        out.extend_from_slice(&floats[fi as usize..=li as usize]);
    }
    out.push(FPoint { t: maxt, f: right });
    out
}

fn collect_stats_selectors(e: &Expr, stats: bool, out: &mut HashSet<*const VectorSelector>) {
    match e {
        Expr::VectorSelector(vs) => {
            if stats {
                out.insert(vs as *const VectorSelector);
            }
        }
        Expr::MatrixSelector(ms) => {
            if stats {
                out.insert(&ms.vector_selector as *const VectorSelector);
            }
        }
        Expr::Subquery(_) => {}
        Expr::Call(c) => {
            let s = match c.func.name {
                "histogram_count" | "histogram_sum" | "histogram_avg" => true,
                "histogram_quantile" | "histogram_fraction" => return,
                _ => stats,
            };
            for a in &c.args {
                collect_stats_selectors(a, s, out);
            }
        }
        _ => {
            for c in e.children() {
                collect_stats_selectors(c, stats, out);
            }
        }
    }
}

/// Samples per histogram chunk in Prometheus's head (a new chunk starts after this many).
const HISTOGRAMS_PER_CHUNK: usize = 120;

/// Derives the counter-reset hints Prometheus's histogram chunks yield on read.
///
/// Prometheus decides on append whether a histogram continues the current chunk; a counter
/// reset, a change of schema, zero threshold or custom bounds, a switch between gauge and
/// counter histograms, a float sample in between, or a full chunk starts a new one. On read,
/// a chunk's first sample carries `CounterReset` only when that was explicitly set, else
/// `Unknown`; every later sample of a counter chunk is `NotCounterReset`; gauge chunks yield
/// `Gauge`. promplay's TSDB stores histograms as appended, so the engine applies the same
/// rules when it reads them, walking the series from its beginning.
pub(crate) struct HintTracker<'s> {
    it: promplay_tsdb::SeriesIterator<'s>,
    prev: Option<&'s FloatHistogram>,
    run: usize,
    last: Option<(i64, CounterResetHint)>,
    done: bool,
}

impl<'s> HintTracker<'s> {
    pub(crate) fn new(s: &'s promplay_tsdb::Series) -> Self {
        HintTracker {
            it: s.iter(),
            prev: None,
            run: 0,
            last: None,
            done: false,
        }
    }

    fn chunk_hint(&mut self, h: &'s FloatHistogram) -> CounterResetHint {
        use CounterResetHint::*;
        if h.counter_reset_hint == Gauge {
            let cont = matches!(self.prev, Some(p) if p.counter_reset_hint == Gauge)
                && self.run < HISTOGRAMS_PER_CHUNK;
            self.run = if cont { self.run + 1 } else { 1 };
            self.prev = Some(h);
            return Gauge;
        }
        let new_chunk = match self.prev {
            None => true,
            Some(p) => {
                p.counter_reset_hint == Gauge
                    || self.run >= HISTOGRAMS_PER_CHUNK
                    || h.counter_reset_hint == CounterReset
                    || h.count < p.count
                    || h.schema != p.schema
                    || h.zero_threshold != p.zero_threshold
                    || (h.uses_custom_buckets() && h.custom_values != p.custom_values)
                    || h.zero_count < p.zero_count
                    || if h.counter_reset_hint == Unknown {
                        h.detect_reset(p)
                    } else {
                        // Appending ignores a `NotCounterReset` hint: detect for real.
                        let mut x = h.clone();
                        x.counter_reset_hint = Unknown;
                        x.detect_reset(p)
                    }
            }
        };
        self.prev = Some(h);
        if new_chunk {
            self.run = 1;
            if h.counter_reset_hint == CounterReset {
                CounterReset
            } else {
                Unknown
            }
        } else {
            self.run += 1;
            NotCounterReset
        }
    }

    /// The hint of the histogram sample at `t` (samples must be asked for in time order).
    pub(crate) fn hint(&mut self, t: i64) -> CounterResetHint {
        loop {
            if let Some((lt, lh)) = self.last {
                if lt == t {
                    return lh;
                }
                if lt > t {
                    return CounterResetHint::Unknown;
                }
            }
            if self.done {
                return CounterResetHint::Unknown;
            }
            match self.it.next() {
                ValType::None => self.done = true,
                ValType::Float => {
                    self.prev = None;
                    self.run = 0;
                    self.last = Some((self.it.at_t(), CounterResetHint::Unknown));
                }
                ValType::Histogram => {
                    if let Some((ht, h)) = self.it.at_histogram() {
                        if is_stale_nan(h.sum) {
                            self.prev = None;
                            self.run = 0;
                            self.last = Some((ht, CounterResetHint::Unknown));
                        } else {
                            let hint = self.chunk_hint(h);
                            self.last = Some((ht, hint));
                        }
                    }
                }
            }
        }
    }
}
