//! Binary operators: arithmetic, comparisons (filtering and `bool`), set operators and
//! vector matching (Prometheus's `VectorBinop`, `VectorscalarBinop`, `VectorAnd/Or/Unless`).

use std::collections::{HashMap, HashSet};

use promplay_model::{CounterResetHint, FloatHistogram, HistogramError, Labels};

use super::eval::{drop_metric_name, exec_err, mat_samples, push_point, Ctx, Rng};
use crate::ast::{BinaryExpr, BinaryOp, VectorMatchCardinality, VectorMatching};
use crate::error::EvalError;
use crate::value::{Matrix, Sample, ValueType, Vector};

fn btos(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Go's `math.Mod`: result has the sign of x.
fn go_mod(x: f64, y: f64) -> f64 {
    x % y
}

pub(crate) fn scalar_binop(op: BinaryOp, l: f64, r: f64) -> f64 {
    match op {
        BinaryOp::Add => l + r,
        BinaryOp::Sub => l - r,
        BinaryOp::Mul => l * r,
        BinaryOp::Div => l / r,
        BinaryOp::Pow => l.powf(r),
        BinaryOp::Mod => go_mod(l, r),
        BinaryOp::Eql => btos(l == r),
        BinaryOp::Neq => btos(l != r),
        BinaryOp::Gtr => btos(l > r),
        BinaryOp::Lss => btos(l < r),
        BinaryOp::Gte => btos(l >= r),
        BinaryOp::Lte => btos(l <= r),
        BinaryOp::Atan2 => l.atan2(r),
        _ => f64::NAN,
    }
}

fn changes_metric_schema(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Pow
            | BinaryOp::Mod
            | BinaryOp::Atan2
    )
}

/// The outcome of one element operation: value, histogram, keep, annotation (info or
/// warning text).
struct ElemResult {
    f: f64,
    h: Option<Box<FloatHistogram>>,
    keep: bool,
    info: Option<String>,
    /// Prometheus's `err` return: an annotation text that also aborts this element.
    err: Option<String>,
}

fn incompatible(l: &str, op: BinaryOp, r: &str) -> ElemResult {
    ElemResult {
        f: 0.0,
        h: None,
        keep: false,
        info: None,
        err: Some(format!(
            "PromQL info: incompatible sample types encountered for binary operator \"{}\": {l} {} {r}",
            op.as_str(),
            op.as_str()
        )),
    }
}

fn elem_binop(
    op: BinaryOp,
    l: f64,
    r: f64,
    hl: Option<&FloatHistogram>,
    hr: Option<&FloatHistogram>,
) -> ElemResult {
    let ok = |f: f64, keep: bool| ElemResult {
        f,
        h: None,
        keep,
        info: None,
        err: None,
    };
    match (hl, hr) {
        (None, None) => match op {
            BinaryOp::TrimUpper | BinaryOp::TrimLower => incompatible("float", op, "float"),
            BinaryOp::Eql => ok(l, l == r),
            BinaryOp::Neq => ok(l, l != r),
            BinaryOp::Gtr => ok(l, l > r),
            BinaryOp::Lss => ok(l, l < r),
            BinaryOp::Gte => ok(l, l >= r),
            BinaryOp::Lte => ok(l, l <= r),
            _ => ok(scalar_binop(op, l, r), true),
        },
        (None, Some(h)) => match op {
            BinaryOp::Mul => {
                let mut x = h.clone();
                x.mul(l);
                x.compact(0);
                ElemResult {
                    f: 0.0,
                    h: Some(Box::new(x)),
                    keep: true,
                    info: None,
                    err: None,
                }
            }
            _ => incompatible("float", op, "histogram"),
        },
        (Some(h), None) => match op {
            BinaryOp::TrimUpper | BinaryOp::TrimLower => {
                let mut x = h.clone();
                trim_histogram(&mut x, r, op == BinaryOp::TrimUpper);
                ElemResult {
                    f: 0.0,
                    h: Some(Box::new(x)),
                    keep: true,
                    info: None,
                    err: None,
                }
            }
            BinaryOp::Mul | BinaryOp::Div => {
                let mut x = h.clone();
                if op == BinaryOp::Mul {
                    x.mul(r);
                } else {
                    x.div(r);
                }
                x.compact(0);
                ElemResult {
                    f: 0.0,
                    h: Some(Box::new(x)),
                    keep: true,
                    info: None,
                    err: None,
                }
            }
            _ => incompatible("histogram", op, "float"),
        },
        (Some(a), Some(b)) => match op {
            BinaryOp::Add | BinaryOp::Sub => {
                let mut x = a.clone();
                let res = if op == BinaryOp::Add {
                    x.add(b)
                } else {
                    x.sub(b)
                };
                match res {
                    Err(HistogramError::IncompatibleSchema) | Err(_) => ElemResult {
                        f: 0.0,
                        h: None,
                        keep: false,
                        info: None,
                        err: Some(format!(
                            "PromQL warning: incompatible bucket layout encountered for binary operator {}",
                            op.as_str()
                        )),
                    },
                    Ok(o) => {
                        let opname = if op == BinaryOp::Add { "addition" } else { "subtraction" };
                        if op == BinaryOp::Sub {
                            x.counter_reset_hint = CounterResetHint::Gauge;
                        }
                        x.compact(0);
                        ElemResult {
                            f: 0.0,
                            h: Some(Box::new(x)),
                            keep: true,
                            info: o.nhcb_bounds_reconciled.then(|| {
                                format!("PromQL info: mismatched custom buckets were reconciled during {opname}")
                            }),
                            err: o.counter_reset_collision.then(|| {
                                format!("PromQL warning: conflicting counter resets during histogram {opname}")
                            }),
                        }
                    }
                }
            }
            BinaryOp::Eql | BinaryOp::Neq => {
                let eq = a.equals(b);
                ElemResult {
                    f: 0.0,
                    h: Some(Box::new(a.clone())),
                    keep: if op == BinaryOp::Eql { eq } else { !eq },
                    info: None,
                    err: None,
                }
            }
            _ => incompatible("histogram", op, "histogram"),
        },
    }
}

/// `MatchLabels(on, names)`.
fn match_labels(l: &Labels, on: bool, names: &[String]) -> Labels {
    if on {
        l.keep(names)
    } else {
        let mut n: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        n.push("__name__");
        l.without(&n)
    }
}

impl Ctx<'_> {
    fn annotate(&self, text: &str) {
        if text.starts_with("PromQL warning") {
            self.warn(text.to_string());
        } else {
            self.info(text.to_string());
        }
    }

    pub(crate) fn eval_binary(&self, b: &BinaryExpr, r: Rng) -> Result<Matrix, EvalError> {
        let lt = b.lhs.value_type();
        let rt = b.rhs.value_type();
        let op = b.op;
        let args = [&*b.lhs, &*b.rhs];
        match (lt, rt) {
            (ValueType::Scalar, ValueType::Scalar) => {
                self.range_eval(r, &args, None, &mut |v, _, _, _| {
                    let l = v[0].first().map(|s| s.f).unwrap_or(f64::NAN);
                    let rr = v[1].first().map(|s| s.f).unwrap_or(f64::NAN);
                    Ok(vec![Sample::float(
                        Labels::empty(),
                        0,
                        scalar_binop(op, l, rr),
                    )])
                })
            }
            (ValueType::Vector, ValueType::Vector) => {
                let default = VectorMatching {
                    card: if op.is_set_operator() {
                        VectorMatchCardinality::ManyToMany
                    } else {
                        VectorMatchCardinality::OneToOne
                    },
                    ..Default::default()
                };
                let m = b.matching.clone().unwrap_or(default);
                let names = m.matching_labels.clone();
                let on = m.on;
                let sigf = move |l: &Labels| -> Labels {
                    if on {
                        l.keep(&names)
                    } else {
                        let mut n: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
                        n.push("__name__");
                        l.without(&n)
                    }
                };
                let mut cache: HashMap<(usize, usize), Labels> = HashMap::new();
                self.range_eval(r, &args, Some(&sigf), &mut |v, ords, owners, _| match op {
                    BinaryOp::And => Ok(vector_and(&v[0], &v[1], &ords[0], &ords[1])),
                    BinaryOp::Or => Ok(vector_or(&v[0], &v[1], &ords[0], &ords[1])),
                    BinaryOp::Unless => Ok(vector_unless(&v[0], &v[1], &ords[0], &ords[1])),
                    _ => self.vector_binop(
                        op,
                        (&v[0], &v[1]),
                        &m,
                        b.return_bool,
                        (&ords[0], &ords[1]),
                        (&owners[0], &owners[1]),
                        &mut cache,
                    ),
                })
            }
            (ValueType::Vector, ValueType::Scalar) => self.eval_vector_scalar(b, r, false),
            (ValueType::Scalar, ValueType::Vector) => self.eval_vector_scalar(b, r, true),
            _ => Err(exec_err(format!(
                "binary operator {} not allowed between {} and {}",
                op.as_str(),
                lt,
                rt
            ))),
        }
    }

    /// A vector-scalar operation (Prometheus's `VectorscalarBinop` at every step). Each
    /// output point depends only on its input point and the scalar at that step, so the
    /// vector's series are transformed point by point, keeping their label sets (no
    /// per-step label copies).
    fn eval_vector_scalar(&self, b: &BinaryExpr, r: Rng, swap: bool) -> Result<Matrix, EvalError> {
        let orig = self.cur();
        let lhs = self.eval(&b.lhs, r)?.into_mat();
        let rhs = self.eval(&b.rhs, r)?.into_mat();
        let (vector, scalar) = if swap { (rhs, lhs) } else { (lhs, rhs) };
        let sv: &[crate::value::FPoint] =
            scalar.first().map(|s| s.floats.as_slice()).unwrap_or(&[]);
        let scalar_at = |t: i64| -> f64 {
            let i = ((t - r.start) / r.interval) as usize;
            match sv.get(i) {
                Some(p) if p.t == t => p.f,
                _ => match sv.binary_search_by_key(&t, |p| p.t) {
                    Ok(k) => sv[k].f,
                    Err(_) => f64::NAN,
                },
            }
        };
        let (op, return_bool) = (b.op, b.return_bool);
        let drops = changes_metric_schema(op) || return_bool;
        let mut out: Matrix = Vec::with_capacity(vector.len());
        for mut s in vector {
            self.check_interrupt()?;
            let floats = std::mem::take(&mut s.floats);
            let hists = std::mem::take(&mut s.histograms);
            for p in floats {
                if let Some((f, h)) = self.vs_elem(op, p.f, None, scalar_at(p.t), swap, return_bool)
                {
                    push_point(&mut s, p.t, f, h);
                }
            }
            for p in hists {
                if let Some((f, h)) =
                    self.vs_elem(op, 0.0, Some(&p.h), scalar_at(p.t), swap, return_bool)
                {
                    push_point(&mut s, p.t, f, h);
                }
            }
            if s.floats.is_empty() && s.histograms.is_empty() {
                continue;
            }
            s.floats.sort_by_key(|p| p.t);
            s.histograms.sort_by_key(|p| p.t);
            if drops {
                if !self.opts.enable_delayed_name_removal {
                    s.metric = drop_metric_name(&s.metric);
                }
                s.drop_name = true;
            }
            out.push(s);
        }
        if drops && !self.opts.enable_delayed_name_removal {
            for s in out.iter_mut() {
                s.drop_name = false;
            }
            out = super::eval::merge_same_labelset(out)?;
        }
        self.set_cur(orig + mat_samples(&out));
        if self.cur() > self.opts.max_samples {
            return Err(EvalError::TooManySamples {
                context: "query execution",
            });
        }
        Ok(out)
    }

    /// One element of a vector-scalar operation; `None` when the element is dropped.
    fn vs_elem(
        &self,
        op: BinaryOp,
        vf: f64,
        vh: Option<&FloatHistogram>,
        scalar: f64,
        swap: bool,
        return_bool: bool,
    ) -> Option<(f64, Option<Box<FloatHistogram>>)> {
        let (mut lf, mut rf) = (vf, scalar);
        let (mut lh, mut rh) = (vh, None);
        if swap {
            std::mem::swap(&mut lf, &mut rf);
            std::mem::swap(&mut lh, &mut rh);
        }
        let res = elem_binop(op, lf, rf, lh, rh);
        if let Some(e) = &res.err {
            self.annotate(e);
            if !e.starts_with("PromQL warning") {
                return None;
            }
        }
        let (mut f, mut h, mut keep) = (res.f, res.h, res.keep);
        if op.is_comparison() && swap {
            f = rf;
            h = rh.map(|x| Box::new(x.clone()));
        }
        if return_bool {
            f = btos(keep);
            h = None;
            keep = true;
        }
        keep.then_some((f, h))
    }

    #[allow(clippy::too_many_arguments)]
    fn vector_binop(
        &self,
        op: BinaryOp,
        (lhs, rhs): (&Vector, &Vector),
        m: &VectorMatching,
        return_bool: bool,
        (lo, ro): (&[usize], &[usize]),
        (lown, rown): (&[usize], &[usize]),
        cache: &mut HashMap<(usize, usize), Labels>,
    ) -> Result<Vector, EvalError> {
        if (lhs.is_empty() && rhs.is_empty())
            || ((lhs.is_empty() || rhs.is_empty()) && m.fill.lhs.is_none() && m.fill.rhs.is_none())
        {
            return Ok(Vec::new());
        }
        let one_to_many = m.card == VectorMatchCardinality::OneToMany;
        let (lhs, rhs, lo, ro, lown, rown) = if one_to_many {
            (rhs, lhs, ro, lo, rown, lown)
        } else {
            (lhs, rhs, lo, ro, lown, rown)
        };
        // Input series of a sample (usize::MAX for a fill value), for the label cache.
        const FILL: usize = usize::MAX;
        let mut right: HashMap<usize, (&Sample, usize)> = HashMap::with_capacity(rhs.len());
        let mut right_order: Vec<usize> = Vec::new();
        for (i, rs) in rhs.iter().enumerate() {
            let o = ro[i];
            if let Some((d, _)) = right.get(&o) {
                let side = if one_to_many { "left" } else { "right" };
                let ml = match_labels(&rs.metric, m.on, &m.matching_labels);
                return Err(exec_err(format!(
                    "found duplicate series for the match group {ml} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                    rs.metric, d.metric
                )));
            }
            right.insert(o, (rs, rown.get(i).copied().unwrap_or(FILL)));
            right_order.push(o);
        }
        let mut matched: HashMap<usize, Option<HashSet<Labels>>> = HashMap::new();
        let mut out = Vec::new();
        let do_op = |ls: &Sample,
                     rs: &Sample,
                     key: (usize, usize),
                     o: usize,
                     out: &mut Vector,
                     matched: &mut HashMap<usize, Option<HashSet<Labels>>>,
                     cache: &mut HashMap<(usize, usize), Labels>|
         -> Result<(), EvalError> {
            let (mut fl, mut fr) = (ls.f, rs.f);
            let (mut hl, mut hr) = (ls.h.as_deref(), rs.h.as_deref());
            if one_to_many {
                std::mem::swap(&mut fl, &mut fr);
                std::mem::swap(&mut hl, &mut hr);
            }
            let res = elem_binop(op, fl, fr, hl, hr);
            if let Some(e) = &res.err {
                self.annotate(e);
                return Ok(());
            }
            if let Some(i) = &res.info {
                self.annotate(i);
            }
            let (mut f, mut h) = (res.f, res.h);
            let keep = res.keep;
            if return_bool {
                h = None;
                f = btos(keep);
            }
            let mut metric = if key.0 == FILL || key.1 == FILL {
                result_metric(&ls.metric, &rs.metric, op, m)
            } else {
                match cache.get(&key) {
                    Some(x) => x.clone(),
                    None => {
                        let x = result_metric(&ls.metric, &rs.metric, op, m);
                        cache.insert(key, x.clone());
                        x
                    }
                }
            };
            if !self.opts.enable_delayed_name_removal && return_bool {
                metric = drop_metric_name(&metric);
            }
            if m.card == VectorMatchCardinality::OneToOne {
                if matched.contains_key(&o) {
                    return Err(exec_err(
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                    ));
                }
                matched.insert(o, None);
            } else {
                let e = matched.entry(o).or_insert_with(|| Some(HashSet::new()));
                let set = e.get_or_insert_with(HashSet::new);
                if !set.insert(metric.clone()) {
                    return Err(exec_err(
                        "multiple matches for labels: grouping labels must ensure unique matches",
                    ));
                }
            }
            if !keep && !return_bool {
                return Ok(());
            }
            out.push(Sample {
                metric,
                t: ls.t,
                f,
                h,
                drop_name: return_bool,
            });
            Ok(())
        };
        for (i, ls) in lhs.iter().enumerate() {
            let o = lo[i];
            let li = lown.get(i).copied().unwrap_or(FILL);
            match right.get(&o) {
                Some(&(rs, ri)) => do_op(ls, rs, (li, ri), o, &mut out, &mut matched, cache)?,
                None => {
                    let Some(fill) = m.fill.rhs else { continue };
                    let rs = Sample::float(
                        match_labels(&ls.metric, m.on, &m.matching_labels),
                        ls.t,
                        fill,
                    );
                    do_op(ls, &rs, (li, FILL), o, &mut out, &mut matched, cache)?;
                }
            }
        }
        if let Some(fill) = m.fill.lhs {
            for o in right_order {
                if matched.contains_key(&o) {
                    continue;
                }
                let Some(&(rs, ri)) = right.get(&o) else {
                    continue;
                };
                let ls = Sample::float(
                    match_labels(&rs.metric, m.on, &m.matching_labels),
                    rs.t,
                    fill,
                );
                do_op(&ls, rs, (FILL, ri), o, &mut out, &mut matched, cache)?;
            }
        }
        Ok(out)
    }
}

fn result_metric(lhs: &Labels, rhs: &Labels, op: BinaryOp, m: &VectorMatching) -> Labels {
    let mut base = if changes_metric_schema(op) {
        lhs.without(&["__name__", "__type__", "__unit__"])
    } else {
        lhs.clone()
    };
    if m.card == VectorMatchCardinality::OneToOne {
        base = if m.on {
            base.keep(&m.matching_labels)
        } else {
            base.without(&m.matching_labels)
        };
    }
    if m.include.is_empty() {
        return base;
    }
    let mut b = base.builder();
    for ln in &m.include {
        match rhs.get(ln) {
            Some(v) => {
                b.set(ln.as_str(), v);
            }
            None => {
                b.del(ln.as_str());
            }
        }
    }
    b.labels()
}

fn vector_and(lhs: &Vector, rhs: &Vector, lo: &[usize], ro: &[usize]) -> Vector {
    if lhs.is_empty() || rhs.is_empty() {
        return Vec::new();
    }
    let present: HashSet<usize> = ro.iter().copied().collect();
    lhs.iter()
        .enumerate()
        .filter(|(i, _)| present.contains(&lo[*i]))
        .map(|(_, s)| s.clone())
        .collect()
}

fn vector_or(lhs: &Vector, rhs: &Vector, lo: &[usize], ro: &[usize]) -> Vector {
    if lhs.is_empty() {
        return rhs.clone();
    }
    if rhs.is_empty() {
        return lhs.clone();
    }
    let present: HashSet<usize> = lo.iter().copied().collect();
    let mut out = lhs.clone();
    out.extend(
        rhs.iter()
            .enumerate()
            .filter(|(i, _)| !present.contains(&ro[*i]))
            .map(|(_, s)| s.clone()),
    );
    out
}

fn vector_unless(lhs: &Vector, rhs: &Vector, lo: &[usize], ro: &[usize]) -> Vector {
    if lhs.is_empty() || rhs.is_empty() {
        return lhs.clone();
    }
    let present: HashSet<usize> = ro.iter().copied().collect();
    lhs.iter()
        .enumerate()
        .filter(|(i, _)| !present.contains(&lo[*i]))
        .map(|(_, s)| s.clone())
        .collect()
}

// ---------------------------------------------------------------- trim operators (</ and >/)

use promplay_model::histogram::Bucket;

/// Kept count and the midpoint of the kept part of one bucket.
fn trim_bucket(b: &Bucket, rhs: f64, upper_trim: bool, positive: bool, custom: bool) -> (f64, f64) {
    let (lo, hi) = (b.lower, b.upper);
    if lo == f64::NEG_INFINITY && hi == f64::INFINITY {
        let keep = if upper_trim {
            rhs == f64::INFINITY
        } else {
            rhs == f64::NEG_INFINITY
        };
        return if keep { (b.count, 0.0) } else { (0.0, 0.0) };
    }
    if lo == f64::NEG_INFINITY {
        if upper_trim {
            if rhs >= hi {
                return (b.count, if hi > 0.0 { hi / 2.0 } else { hi });
            }
            if hi > 0.0 {
                if rhs >= 0.0 {
                    return (b.count * rhs / hi, rhs / 2.0);
                }
                return (0.0, 0.0);
            }
            return (b.count, rhs);
        }
        if rhs == f64::NEG_INFINITY {
            return (b.count, if hi > 0.0 { hi / 2.0 } else { hi });
        }
        if rhs >= 0.0 && hi > rhs {
            return (b.count * (1.0 - rhs / hi), (rhs + hi) / 2.0);
        }
        return (0.0, 0.0);
    }
    if hi == f64::INFINITY {
        if upper_trim {
            return if rhs == f64::INFINITY {
                (b.count, lo)
            } else {
                (0.0, 0.0)
            };
        }
        return if rhs == f64::INFINITY {
            (0.0, 0.0)
        } else if rhs <= lo {
            (b.count, lo)
        } else {
            (b.count, rhs)
        };
    }
    // A finite bucket: the kept range and its count.
    let (klo, khi) = if upper_trim {
        (lo, hi.min(rhs))
    } else {
        (lo.max(rhs), hi)
    };
    if khi <= klo && !(khi == klo && rhs != klo) {
        return (0.0, 0.0);
    }
    let full = klo == lo && khi == hi;
    let count = if full {
        b.count
    } else if custom {
        b.count * (khi - klo) / (hi - lo)
    } else {
        let (ll, lu, lv) = (lo.abs().log2(), hi.abs().log2(), rhs.abs().log2());
        let below = if positive {
            (lv - ll) / (lu - ll)
        } else {
            1.0 - ((lv - lu) / (ll - lu))
        };
        let below = below.clamp(0.0, 1.0);
        if upper_trim {
            b.count * below
        } else {
            b.count * (1.0 - below)
        }
    };
    let mid = if custom {
        (klo + khi) / 2.0
    } else if positive {
        (klo.abs() * khi.abs()).sqrt()
    } else {
        -(klo.abs() * khi.abs()).sqrt()
    };
    (count, mid)
}

/// The `</` (keep observations below `rhs`) and `>/` (keep those above) operators on a
/// native histogram: partial buckets are interpolated (exponentially for exponential
/// schemas, linearly for custom buckets and the zero bucket) and the sum is re-estimated
/// from the midpoints of what is kept. A trim that removes nothing returns the input.
pub(crate) fn trim_histogram(h: &mut FloatHistogram, rhs: f64, upper_trim: bool) {
    let custom = h.uses_custom_buckets();
    let pos = h.positive_bucket_list();
    let neg = h.negative_bucket_list();
    let mut changed = false;
    let mut count = 0.0;
    let mut sum = 0.0;
    let mut new_pos = h.positive_buckets.clone();
    let mut new_neg = h.negative_buckets.clone();
    let has_pos = pos.iter().any(|b| b.count != 0.0);
    let has_neg = neg.iter().any(|b| b.count != 0.0);
    for (list, out, positive) in [(&pos, &mut new_pos, true), (&neg, &mut new_neg, false)] {
        for (i, b) in list.iter().enumerate() {
            if b.count == 0.0 {
                continue;
            }
            let (k, mid) = trim_bucket(b, rhs, upper_trim, positive, custom);
            if k != b.count {
                changed = true;
            }
            if let Some(x) = out.get_mut(i) {
                *x = k;
            }
            count += k;
            if k != 0.0 {
                sum += k * mid;
            }
        }
    }
    let mut new_zero = h.zero_count;
    if h.zero_count > 0.0 {
        let zt = h.zero_threshold;
        let (zl, zu) = match (has_pos, has_neg) {
            (true, false) => (0.0, zt),
            (false, true) => (-zt, 0.0),
            _ => (-zt, zt),
        };
        let (klo, khi) = if upper_trim {
            (zl, zu.min(rhs))
        } else {
            (zl.max(rhs), zu)
        };
        let frac = if zu > zl {
            ((khi - klo) / (zu - zl)).clamp(0.0, 1.0)
        } else {
            1.0
        };
        new_zero = h.zero_count * frac;
        if new_zero != h.zero_count {
            changed = true;
        }
        count += new_zero;
        if new_zero != 0.0 {
            sum += new_zero * (klo + khi) / 2.0;
        }
    }
    if !changed {
        return;
    }
    h.positive_buckets = new_pos;
    h.negative_buckets = new_neg;
    h.zero_count = new_zero;
    h.count = count;
    h.sum = if count == 0.0 { 0.0 } else { sum };
    h.compact(0);
}
