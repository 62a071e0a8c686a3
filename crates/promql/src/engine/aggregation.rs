//! Aggregation operators (Prometheus's `rangeEvalAgg`, `aggregation`, `aggregationK`,
//! `aggregationCountValues`).

use std::collections::HashMap;

use promplay_model::histogram::kahan_sum_inc;
use promplay_model::{CounterResetHint, FloatHistogram, Labels};

use super::eval::{exec_err, hist_size, push_point, Ctx, Rng};
use crate::ast::{AggregateExpr, AggregateOp, Expr};
use crate::error::EvalError;
use crate::value::{Matrix, Sample, Series};

const MAX_INT64: f64 = 9223372036854774784.0;
const MIN_INT64: f64 = -9223372036854775808.0;

#[derive(Default)]
struct Group {
    seen: bool,
    f: f64,
    h: Option<FloatHistogram>,
    /// Kahan compensation of the histogram sum.
    hc: Option<FloatHistogram>,
    mean: f64,
    kahan_c: f64,
    count: f64,
    heap: Vec<Sample>,
    has_float: bool,
    has_hist: bool,
    incompatible: bool,
    complete: bool,
    incremental_mean: bool,
    hist_incremental: bool,
    reset_seen: bool,
    not_reset_seen: bool,
    drop_name: bool,
}

/// `vectorByValueHeap.Less`: NaN sorts first.
fn less(a: &Sample, b: &Sample) -> bool {
    if a.f.is_nan() {
        return true;
    }
    a.f < b.f
}

/// `vectorByReverseValueHeap.Less`.
fn rless(a: &Sample, b: &Sample) -> bool {
    if a.f.is_nan() {
        return true;
    }
    a.f > b.f
}

// Go's container/heap, with a pluggable Less.
fn heap_up(h: &mut [Sample], mut j: usize, lt: fn(&Sample, &Sample) -> bool) {
    while j > 0 {
        let i = (j - 1) / 2;
        if i == j || !lt(&h[j], &h[i]) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

fn heap_down(h: &mut [Sample], i0: usize, n: usize, lt: fn(&Sample, &Sample) -> bool) -> bool {
    let mut i = i0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        let j2 = j1 + 1;
        if j2 < n && lt(&h[j2], &h[j1]) {
            j = j2;
        }
        if !lt(&h[j], &h[i]) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    i > i0
}

fn heap_push(h: &mut Vec<Sample>, s: Sample, lt: fn(&Sample, &Sample) -> bool) {
    h.push(s);
    let n = h.len() - 1;
    heap_up(h, n, lt);
}

fn heap_fix0(h: &mut [Sample], lt: fn(&Sample, &Sample) -> bool) {
    let n = h.len();
    if !heap_down(h, 0, n, lt) {
        heap_up(h, 0, lt);
    }
}

/// Prometheus's `quantile` over a set of values.
fn quantile(q: f64, mut values: Vec<f64>) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| {
        if a.is_nan() && !b.is_nan() {
            std::cmp::Ordering::Less
        } else if b.is_nan() && !a.is_nan() {
            std::cmp::Ordering::Greater
        } else {
            a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
        }
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (n - 1.0).min(lower + 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Prometheus's `labels.Hash` (xxhash64 of `name\xffvalue\xff...`), used by `limit_ratio`.
pub(crate) fn labels_hash(l: &Labels) -> u64 {
    let mut b: Vec<u8> = Vec::with_capacity(256);
    for x in l.iter() {
        b.extend_from_slice(x.name.as_bytes());
        b.push(0xff);
        b.extend_from_slice(x.value.as_bytes());
        b.push(0xff);
    }
    promplay_model::hash::xxhash64(&b)
}

fn add_ratio_sample(ratio: f64, s: &Sample) -> bool {
    let off = labels_hash(&s.metric) as f64 / u64::MAX as f64;
    (ratio >= 0.0 && off < ratio) || (ratio < 0.0 && off >= 1.0 + ratio)
}

/// The grouping key and output labels of a series.
fn group_labels(m: &Labels, grouping: &[String], without: bool) -> Labels {
    if without {
        let mut n: Vec<&str> = grouping.iter().map(|s| s.as_str()).collect();
        n.push("__name__");
        m.without(&n)
    } else if grouping.is_empty() {
        Labels::empty()
    } else {
        m.keep(grouping)
    }
}

fn mixed_agg_warning() -> String {
    "PromQL warning: encountered a mix of histograms and floats for aggregation".to_string()
}

fn ignored_info(op: &str) -> String {
    format!("PromQL info: ignored histogram in {op} aggregation")
}

impl Ctx<'_> {
    pub(crate) fn eval_aggregate(&self, a: &AggregateExpr, r: Rng) -> Result<Matrix, EvalError> {
        let mut grouping = a.grouping.clone();
        grouping.sort();
        let inner = super::unparen(&a.expr);
        if a.op == AggregateOp::CountValues {
            let (label, span) = match a.param.as_deref().map(super::unparen) {
                Some(Expr::StringLiteral(s)) => (s.val.clone(), s.span),
                _ => return Err(exec_err("count_values needs a string parameter")),
            };
            // A label name must be non-empty UTF-8; U+FFFD marks bytes that were not.
            if label.is_empty() || label.contains('\u{FFFD}') {
                let shown = self
                    .source_text(span)
                    .map(str::to_string)
                    .unwrap_or_else(|| super::eval::go_quote(&label));
                return Err(exec_err(format!("invalid label name {shown}")));
            }
            if !a.without {
                grouping.push(label.clone());
                grouping.sort();
            }
            let without = a.without;
            return self.range_eval(r, &[inner], None, &mut |v, _, _, ts| {
                let mut order: Vec<Labels> = Vec::new();
                let mut counts: HashMap<Labels, usize> = HashMap::new();
                for s in &v[0] {
                    let val = match &s.h {
                        None => go_format_float(s.f),
                        Some(h) => histogram_string(h),
                    };
                    let mut b = s.metric.builder();
                    b.set(label.as_str(), val);
                    let m = b.labels();
                    let g = group_labels(&m, &grouping, without);
                    match counts.get_mut(&g) {
                        Some(c) => *c += 1,
                        None => {
                            counts.insert(g.clone(), 1);
                            order.push(g);
                        }
                    }
                }
                Ok(order
                    .into_iter()
                    .map(|g| {
                        let c = counts[&g];
                        Sample::float(g, ts, c as f64)
                    })
                    .collect())
            });
        }
        let orig = self.cur();
        // The parameter, for all steps.
        let params: Option<Vec<f64>> = match a.param.as_deref() {
            Some(p) if p.value_type() != crate::value::ValueType::String => {
                let m = self.eval(p, r)?.into_mat();
                let steps = r.steps();
                let mut v = vec![f64::NAN; steps];
                if let Some(s) = m.first() {
                    for pt in &s.floats {
                        let i = ((pt.t - r.start) / r.interval) as usize;
                        if i < steps {
                            v[i] = pt.f;
                        }
                    }
                }
                Some(v)
            }
            _ => None,
        };
        let input = self.eval(inner, r)?.into_mat();
        let res = self.range_eval_agg(a, &grouping, input, params.as_deref(), r)?;
        self.set_cur(orig + super::eval::mat_samples(&res));
        Ok(res)
    }

    fn range_eval_agg(
        &self,
        a: &AggregateExpr,
        grouping: &[String],
        input: Matrix,
        params: Option<&[f64]>,
        r: Rng,
    ) -> Result<Matrix, EvalError> {
        let op = a.op;
        let is_k = matches!(
            op,
            AggregateOp::Topk
                | AggregateOp::Bottomk
                | AggregateOp::Limitk
                | AggregateOp::LimitRatio
        );
        let mut group_idx: HashMap<Labels, usize> = HashMap::new();
        let mut series_to_group = Vec::with_capacity(input.len());
        let mut result: Matrix = Vec::new();
        for s in &input {
            let g = group_labels(&s.metric, grouping, a.without);
            let n = group_idx.len();
            let i = *group_idx.entry(g.clone()).or_insert_with(|| {
                if !is_k {
                    result.push(Series {
                        metric: g,
                        ..Default::default()
                    });
                }
                n
            });
            series_to_group.push(i);
        }
        let ngroups = group_idx.len();
        let pmax = params.map(|p| p.iter().copied().fold(f64::NEG_INFINITY, go_max));
        let pmin = params.map(|p| p.iter().copied().fold(f64::INFINITY, go_min));
        let pnan = params.is_some_and(|p| p.iter().any(|x| x.is_nan()));
        match op {
            AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk => {
                if pmax.unwrap_or(f64::NAN) < 1.0 {
                    return Ok(Vec::new());
                }
                if pnan {
                    return Err(exec_err("Parameter value is NaN"));
                }
                if let Some(m) = pmin {
                    if m <= MIN_INT64 {
                        return Err(exec_err(format!(
                            "Scalar value {} underflows int64",
                            go_g(m)
                        )));
                    }
                }
                if let Some(m) = pmax {
                    if m >= MAX_INT64 {
                        return Err(exec_err(format!(
                            "Scalar value {} overflows int64",
                            go_g(m)
                        )));
                    }
                }
            }
            AggregateOp::LimitRatio => {
                if pmax == Some(0.0) && pmin == Some(0.0) {
                    return Ok(Vec::new());
                }
                if pnan {
                    return Err(exec_err("Ratio value is NaN"));
                }
                if let Some(m) = pmax {
                    if m > 1.0 {
                        self.warn(format!(
                            "PromQL warning: ratio value should be between -1 and 1, got {}, capping to 1",
                            go_g(m)
                        ));
                    }
                }
                if let Some(m) = pmin {
                    if m < -1.0 {
                        self.warn(format!(
                            "PromQL warning: ratio value should be between -1 and 1, got {}, capping to -1",
                            go_g(m)
                        ));
                    }
                }
            }
            AggregateOp::Quantile => {
                if pnan {
                    self.warn("PromQL warning: quantile value should be between 0 and 1, got NaN");
                }
                if let Some(m) = pmax {
                    if m > 1.0 {
                        self.warn(format!(
                            "PromQL warning: quantile value should be between 0 and 1, got {}",
                            go_g(m)
                        ));
                    }
                }
                if let Some(m) = pmin {
                    if m < 0.0 {
                        self.warn(format!(
                            "PromQL warning: quantile value should be between 0 and 1, got {}",
                            go_g(m)
                        ));
                    }
                }
            }
            _ => {}
        }
        let mut groups: Vec<Group> = (0..ngroups).map(|_| Group::default()).collect();
        let mut pos: Vec<(usize, usize)> = vec![(0, 0); input.len()];
        let mut kout: Matrix = Vec::new();
        let mut kidx: HashMap<Labels, usize> = HashMap::new();
        let temp = self.cur();
        let mut ts = r.start;
        let mut step = 0usize;
        while ts <= r.end {
            self.check_interrupt()?;
            self.set_cur(temp);
            let fparam = params.map(|p| p[step]).unwrap_or(f64::NAN);
            // The input values at this step.
            let mut vals: Vec<Option<(f64, Option<&FloatHistogram>)>> =
                Vec::with_capacity(input.len());
            for (si, s) in input.iter().enumerate() {
                let p = &mut pos[si];
                while p.0 < s.floats.len() && s.floats[p.0].t < ts {
                    p.0 += 1;
                }
                while p.1 < s.histograms.len() && s.histograms[p.1].t < ts {
                    p.1 += 1;
                }
                if p.0 < s.floats.len() && s.floats[p.0].t == ts {
                    vals.push(Some((s.floats[p.0].f, None)));
                } else if p.1 < s.histograms.len() && s.histograms[p.1].t == ts {
                    vals.push(Some((0.0, Some(&*s.histograms[p.1].h))));
                } else {
                    vals.push(None);
                }
            }
            if is_k {
                let out = self.aggregation_k(
                    a,
                    fparam,
                    &input,
                    &vals,
                    &series_to_group,
                    &mut groups,
                    ts,
                )?;
                if r.start == r.end {
                    return Ok(out);
                }
                for s in out {
                    match kidx.get(&s.metric) {
                        Some(&i) => {
                            kout[i].floats.extend(s.floats);
                            kout[i].histograms.extend(s.histograms);
                        }
                        None => {
                            kidx.insert(s.metric.clone(), kout.len());
                            kout.push(s);
                        }
                    }
                }
            } else {
                self.aggregation(
                    a,
                    fparam,
                    &input,
                    &vals,
                    &mut result,
                    &series_to_group,
                    &mut groups,
                    ts,
                )?;
            }
            ts += r.interval;
            step += 1;
        }
        if is_k {
            return Ok(kout);
        }
        result.retain(|s| !s.floats.is_empty() || !s.histograms.is_empty());
        Ok(result)
    }

    #[allow(clippy::too_many_arguments)]
    fn aggregation(
        &self,
        a: &AggregateExpr,
        q: f64,
        input: &Matrix,
        vals: &[Option<(f64, Option<&FloatHistogram>)>],
        out: &mut Matrix,
        s2g: &[usize],
        groups: &mut [Group],
        ts: i64,
    ) -> Result<(), EvalError> {
        let op = a.op;
        for g in groups.iter_mut() {
            g.seen = false;
        }
        for (si, v) in vals.iter().enumerate() {
            let Some((f, h)) = *v else { continue };
            let g = &mut groups[s2g[si]];
            if !g.seen {
                *g = Group {
                    seen: true,
                    f,
                    mean: f,
                    count: 1.0,
                    drop_name: input[si].drop_name,
                    ..Default::default()
                };
                match op {
                    AggregateOp::Avg | AggregateOp::Sum => match h {
                        None => g.has_float = true,
                        Some(h) => {
                            g.h = Some(h.clone());
                            g.has_hist = true;
                            match h.counter_reset_hint {
                                CounterResetHint::CounterReset => g.reset_seen = true,
                                CounterResetHint::NotCounterReset => g.not_reset_seen = true,
                                _ => {}
                            }
                        }
                    },
                    AggregateOp::Stdvar | AggregateOp::Stddev => {
                        if h.is_some() {
                            g.seen = false;
                            self.info(ignored_info(op.as_str()));
                        } else if f.is_nan() || f.is_infinite() {
                            g.f = f64::NAN;
                        } else {
                            g.f = 0.0;
                        }
                    }
                    AggregateOp::Quantile => {
                        if h.is_some() {
                            g.seen = false;
                            self.info(ignored_info("quantile"));
                        }
                        g.heap = vec![Sample::float(Labels::empty(), 0, f)];
                    }
                    AggregateOp::Group => g.f = 1.0,
                    AggregateOp::Min | AggregateOp::Max if h.is_some() => {
                        g.seen = false;
                        self.info(ignored_info(op.as_str()));
                    }
                    _ => {}
                }
                continue;
            }
            if g.incompatible {
                continue;
            }
            if input[si].drop_name {
                g.drop_name = true;
            }
            match op {
                AggregateOp::Sum => {
                    if let Some(h) = h {
                        g.has_hist = true;
                        if let Some(acc) = g.h.as_mut() {
                            match h.counter_reset_hint {
                                CounterResetHint::CounterReset => g.reset_seen = true,
                                CounterResetHint::NotCounterReset => g.not_reset_seen = true,
                                _ => {}
                            }
                            match acc.kahan_add(h, g.hc.take()) {
                                Err(_) => {
                                    self.warn(format!(
                                        "PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {}",
                                        super::eval::go_quote(input[si].metric.get_or_empty("__name__"))
                                    ));
                                    g.incompatible = true;
                                }
                                Ok((c, o)) => {
                                    g.hc = Some(c);
                                    if o.nhcb_bounds_reconciled {
                                        self.info("PromQL info: mismatched custom buckets were reconciled during aggregation");
                                    }
                                }
                            }
                        }
                    } else {
                        g.has_float = true;
                        let (s, c) = kahan_sum_inc(f, g.f, g.kahan_c);
                        g.f = s;
                        g.kahan_c = c;
                    }
                }
                AggregateOp::Avg => {
                    g.count += 1.0;
                    if let Some(h) = h {
                        g.has_hist = true;
                        if let Some(acc) = g.h.as_mut() {
                            match h.counter_reset_hint {
                                CounterResetHint::CounterReset => g.reset_seen = true,
                                CounterResetHint::NotCounterReset => g.not_reset_seen = true,
                                _ => {}
                            }
                            // Direct mean (Kahan sum, divided at the end) until the sum
                            // would overflow; incremental mean from then on, as for floats.
                            if !g.hist_incremental {
                                let mut tmp = acc.clone();
                                if tmp.kahan_add(h, g.hc.clone()).is_ok() && tmp.has_overflow() {
                                    g.hist_incremental = true;
                                    acc.div(g.count - 1.0);
                                    if let Some(c0) = g.hc.as_mut() {
                                        c0.div(g.count - 1.0);
                                    }
                                }
                            }
                            let h_in = if g.hist_incremental {
                                let qq = (g.count - 1.0) / g.count;
                                acc.mul(qq);
                                if let Some(c0) = g.hc.as_mut() {
                                    c0.mul(qq);
                                }
                                let mut x = h.clone();
                                x.div(g.count);
                                x
                            } else {
                                h.clone()
                            };
                            match acc.kahan_add(&h_in, g.hc.take()) {
                                Err(_) => {
                                    self.warn(format!(
                                        "PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {}",
                                        super::eval::go_quote(input[si].metric.get_or_empty("__name__"))
                                    ));
                                    g.incompatible = true;
                                    continue;
                                }
                                Ok((c, o)) => {
                                    g.hc = Some(c);
                                    if o.nhcb_bounds_reconciled {
                                        self.info("PromQL info: mismatched custom buckets were reconciled during aggregation");
                                    }
                                }
                            }
                        }
                    } else {
                        g.has_float = true;
                        if !g.incremental_mean {
                            let (nv, nc) = kahan_sum_inc(f, g.f, g.kahan_c);
                            if !nv.is_infinite() {
                                g.f = nv;
                                g.kahan_c = nc;
                                continue;
                            }
                            g.incremental_mean = true;
                            g.mean = g.f / (g.count - 1.0);
                            g.kahan_c /= g.count - 1.0;
                        }
                        let qq = (g.count - 1.0) / g.count;
                        let (m, c) = kahan_sum_inc(f / g.count, qq * g.mean, qq * g.kahan_c);
                        g.mean = m;
                        g.kahan_c = c;
                    }
                }
                AggregateOp::Group => {}
                AggregateOp::Max => {
                    if h.is_some() {
                        self.info(ignored_info("max"));
                        continue;
                    }
                    if g.f < f || g.f.is_nan() {
                        g.f = f;
                    }
                }
                AggregateOp::Min => {
                    if h.is_some() {
                        self.info(ignored_info("min"));
                        continue;
                    }
                    if g.f > f || g.f.is_nan() {
                        g.f = f;
                    }
                }
                AggregateOp::Count => g.count += 1.0,
                AggregateOp::Stdvar | AggregateOp::Stddev => {
                    if h.is_none() {
                        g.count += 1.0;
                        let delta = f - g.mean;
                        g.mean += delta / g.count;
                        g.f += delta * (f - g.mean);
                    } else {
                        self.info(ignored_info(op.as_str()));
                    }
                }
                AggregateOp::Quantile => {
                    if h.is_some() {
                        self.info(ignored_info("quantile"));
                        continue;
                    }
                    g.heap.push(Sample::float(Labels::empty(), 0, f));
                }
                _ => {
                    return Err(exec_err(format!(
                        "expected aggregation operator but got {}",
                        op.as_str()
                    )))
                }
            }
        }
        for (ri, g) in groups.iter_mut().enumerate() {
            if !g.seen {
                continue;
            }
            let mut hv: Option<Box<FloatHistogram>> = None;
            match op {
                AggregateOp::Avg | AggregateOp::Sum => {
                    if g.has_float && g.has_hist {
                        self.warn(mixed_agg_warning());
                        continue;
                    }
                    if g.incompatible {
                        continue;
                    }
                    if g.has_hist {
                        if let Some(mut h) = g.h.take() {
                            if let Some(c) = g.hc.take() {
                                let _ = h.add(&c);
                            }
                            if op == AggregateOp::Avg && !g.hist_incremental {
                                h.div(g.count);
                            }
                            h.compact(0);
                            hv = Some(Box::new(h));
                        }
                    } else if op == AggregateOp::Sum {
                        g.f += g.kahan_c;
                    } else if g.incremental_mean {
                        g.f = g.mean + g.kahan_c;
                    } else {
                        g.f = g.f / g.count + g.kahan_c / g.count;
                    }
                }
                AggregateOp::Count => g.f = g.count,
                AggregateOp::Stdvar => g.f /= g.count,
                AggregateOp::Stddev => g.f = (g.f / g.count).sqrt(),
                AggregateOp::Quantile => {
                    let v: Vec<f64> = g.heap.iter().map(|s| s.f).collect();
                    g.f = quantile(q, v);
                }
                _ => {}
            }
            if g.reset_seen && g.not_reset_seen {
                self.warn(
                    "PromQL warning: conflicting counter resets during histogram aggregation",
                );
            }
            let ss = &mut out[ri];
            let n = hv.as_ref().map(|h| hist_size(h)).unwrap_or(1);
            push_point(ss, ts, g.f, hv);
            ss.drop_name = g.drop_name;
            self.add_samples(n)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn aggregation_k(
        &self,
        a: &AggregateExpr,
        fparam: f64,
        input: &Matrix,
        vals: &[Option<(f64, Option<&FloatHistogram>)>],
        s2g: &[usize],
        groups: &mut [Group],
        ts: i64,
    ) -> Result<Matrix, EvalError> {
        let op = a.op;
        let mut remaining = groups.len();
        for g in groups.iter_mut() {
            g.seen = false;
            g.complete = false;
            g.heap.clear();
        }
        for (si, v) in vals.iter().enumerate() {
            let Some((f, h)) = *v else { continue };
            let s = Sample {
                metric: input[si].metric.clone(),
                t: ts,
                f,
                h: h.map(|x| Box::new(x.clone())),
                drop_name: input[si].drop_name,
            };
            let mut k: i64 = 0;
            let mut ratio = 0.0;
            match op {
                AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk => {
                    k = (fparam as i64).min(input.len() as i64);
                    if k < 1 {
                        return Ok(Vec::new());
                    }
                }
                AggregateOp::LimitRatio => {
                    if fparam == 0.0 {
                        return Ok(Vec::new());
                    }
                    ratio = fparam.clamp(-1.0, 1.0);
                }
                _ => {}
            }
            let g = &mut groups[s2g[si]];
            if !g.seen {
                g.seen = true;
                g.heap.clear();
                match op {
                    AggregateOp::LimitRatio if add_ratio_sample(ratio, &s) => {
                        heap_push(&mut g.heap, s, less);
                    }
                    AggregateOp::Limitk => g.heap.push(s),
                    AggregateOp::Topk | AggregateOp::Bottomk => {
                        if s.h.is_some() {
                            g.seen = false;
                            self.info(ignored_info(op.as_str()));
                        } else {
                            g.heap.push(s);
                        }
                    }
                    _ => {}
                }
                if op == AggregateOp::Limitk && k == 1 && !g.complete {
                    // handled below on the next sample; k==1 groups are complete already
                }
                continue;
            }
            match op {
                AggregateOp::Topk => {
                    if s.h.is_some() {
                        self.info(ignored_info("topk"));
                    } else if (g.heap.len() as i64) < k {
                        heap_push(&mut g.heap, s, less);
                    } else if g.heap[0].f < s.f || (g.heap[0].f.is_nan() && !s.f.is_nan()) {
                        g.heap[0] = s;
                        if k > 1 {
                            heap_fix0(&mut g.heap, less);
                        }
                    }
                }
                AggregateOp::Bottomk => {
                    if s.h.is_some() {
                        self.info(ignored_info("bottomk"));
                    } else if (g.heap.len() as i64) < k {
                        heap_push(&mut g.heap, s, rless);
                    } else if g.heap[0].f > s.f || (g.heap[0].f.is_nan() && !s.f.is_nan()) {
                        g.heap[0] = s;
                        if k > 1 {
                            heap_fix0(&mut g.heap, rless);
                        }
                    }
                }
                AggregateOp::Limitk => {
                    if (g.heap.len() as i64) < k {
                        heap_push(&mut g.heap, s, less);
                    }
                    if !g.complete && g.heap.len() as i64 == k {
                        g.complete = true;
                        remaining -= 1;
                        if remaining == 0 {
                            break;
                        }
                    }
                }
                AggregateOp::LimitRatio if add_ratio_sample(ratio, &s) => {
                    heap_push(&mut g.heap, s, less);
                }
                _ => {}
            }
        }
        let mut mat: Matrix = Vec::new();
        for g in groups.iter_mut() {
            if !g.seen {
                continue;
            }
            let mut heap = std::mem::take(&mut g.heap);
            match op {
                AggregateOp::Topk => {
                    // sort.Sort(sort.Reverse(heap)): descending by `less`
                    heap.sort_by(|x, y| {
                        if less(y, x) {
                            std::cmp::Ordering::Less
                        } else if less(x, y) {
                            std::cmp::Ordering::Greater
                        } else {
                            std::cmp::Ordering::Equal
                        }
                    });
                }
                AggregateOp::Bottomk => {
                    heap.sort_by(|x, y| {
                        if rless(y, x) {
                            std::cmp::Ordering::Less
                        } else if rless(x, y) {
                            std::cmp::Ordering::Greater
                        } else {
                            std::cmp::Ordering::Equal
                        }
                    });
                }
                _ => {}
            }
            for s in heap {
                let mut ss = Series {
                    metric: s.metric,
                    drop_name: s.drop_name,
                    ..Default::default()
                };
                let n = s.h.as_ref().map(|h| hist_size(h)).unwrap_or(1);
                push_point(&mut ss, ts, s.f, s.h);
                self.add_samples(n)?;
                mat.push(ss);
            }
        }
        Ok(mat)
    }
}

fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// Go's `%v`/`%g` of a float.
fn go_g(f: f64) -> String {
    crate::functions::go_fmt_g(f)
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
use promplay_model::gofmt::format_f as go_format_float;

/// Go's `FloatHistogram.String()`, as `count_values` prints histogram values.
fn histogram_string(h: &FloatHistogram) -> String {
    fn bucket(b: &promplay_model::histogram::Bucket) -> String {
        format!(
            "{}{},{}{}:{}",
            if b.lower_inclusive { '[' } else { '(' },
            go_g(b.lower),
            go_g(b.upper),
            if b.upper_inclusive { ']' } else { ')' },
            go_g(b.count)
        )
    }
    let mut s = format!("{{count:{}, sum:{}", go_g(h.count), go_g(h.sum));
    let neg: Vec<_> = h
        .negative_bucket_list()
        .into_iter()
        .filter(|b| b.count != 0.0)
        .collect();
    for b in neg.iter().rev() {
        s.push_str(", ");
        s.push_str(&bucket(b));
    }
    if h.zero_count != 0.0 {
        s.push_str(", ");
        s.push_str(&bucket(&h.zero_bucket()));
    }
    for b in h
        .positive_bucket_list()
        .into_iter()
        .filter(|b| b.count != 0.0)
    {
        s.push_str(", ");
        s.push_str(&bucket(&b));
    }
    s.push('}');
    s
}
