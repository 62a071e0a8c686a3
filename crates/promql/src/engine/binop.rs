//! Binary operators: arithmetic, comparisons (filtering and `bool`), set operators and
//! vector matching (Prometheus's `VectorBinop`, `VectorscalarBinop`, `VectorAnd/Or/Unless`).

use std::collections::{HashMap, HashSet};

use promplay_model::{CounterResetHint, FloatHistogram, HistogramError, Labels};

use super::eval::{drop_metric_name, exec_err, mat_samples, push_point, Ctx, Rng};
use crate::ast::{BinaryExpr, BinaryOp, VectorMatchCardinality, VectorMatching};
use crate::error::EvalError;
use crate::value::{Matrix, Sample, Series, ValueType, Vector};

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
                if !op.is_set_operator() {
                    return self.eval_vector_matching(b, &m, r, &sigf);
                }
                self.range_eval(r, &args, Some(&sigf), &mut |v, ords, _, _| match op {
                    BinaryOp::And => Ok(vector_and(&v[0], &v[1], &ords[0], &ords[1])),
                    BinaryOp::Or => Ok(vector_or(&v[0], &v[1], &ords[0], &ords[1])),
                    _ => Ok(vector_unless(&v[0], &v[1], &ords[0], &ords[1])),
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

    /// An arithmetic or comparison operator between two instant vectors (Prometheus's
    /// `VectorBinop` at every step), with one-to-one, many-to-one/one-to-many matching and
    /// fill values. Output points go straight into output series found by the pair of
    /// input series they come from, so no label set is copied per step.
    fn eval_vector_matching(
        &self,
        b: &BinaryExpr,
        m: &VectorMatching,
        r: Rng,
        sigf: &dyn Fn(&Labels) -> Labels,
    ) -> Result<Matrix, EvalError> {
        const NONE: usize = usize::MAX;
        let orig = self.cur();
        let (op, return_bool) = (b.op, b.return_bool);
        let lm = self.eval(&b.lhs, r)?.into_mat();
        let rm = self.eval(&b.rhs, r)?.into_mat();
        let mut sigs: HashMap<Labels, usize> = HashMap::new();
        let mut ord = |l: &Labels| {
            let n = sigs.len();
            *sigs.entry(sigf(l)).or_insert(n)
        };
        let lo0: Vec<usize> = lm.iter().map(|s| ord(&s.metric)).collect();
        let ro0: Vec<usize> = rm.iter().map(|s| ord(&s.metric)).collect();
        let nsig = sigs.len();
        let one_to_many = m.card == VectorMatchCardinality::OneToMany;
        // After the swap, `ls` is the "many" side and `rs` the "one" side.
        let (ls, rs, lo, ro) = if one_to_many {
            (&rm, &lm, &ro0, &lo0)
        } else {
            (&lm, &rm, &lo0, &ro0)
        };
        let mut right_at = vec![NONE; nsig];
        let mut matched = vec![false; nsig];
        let mut matched_sets: HashMap<usize, Vec<usize>, FastHash> = HashMap::default();
        let mut pair_out: HashMap<(usize, usize), usize, FastHash> = HashMap::default();
        let mut rvals: Vec<(f64, Option<usize>)> = vec![(f64::NAN, None); rs.len()];
        let mut out: Matrix = Vec::new();
        let mut out_index: HashMap<Labels, usize> = HashMap::new();
        let mut last_ts: Vec<i64> = Vec::new();
        let mut lpos = vec![(0usize, 0usize); ls.len()];
        let mut rpos = vec![(0usize, 0usize); rs.len()];
        // Samples present at a step: (series, float value, index of the histogram point).
        type Present = Vec<(usize, f64, Option<usize>)>;
        let gather = |mat: &Matrix, pos: &mut [(usize, usize)], ts: i64, into: &mut Present| {
            into.clear();
            for (i, s) in mat.iter().enumerate() {
                let p = &mut pos[i];
                while p.0 < s.floats.len() && s.floats[p.0].t < ts {
                    p.0 += 1;
                }
                while p.1 < s.histograms.len() && s.histograms[p.1].t < ts {
                    p.1 += 1;
                }
                if p.0 < s.floats.len() && s.floats[p.0].t == ts {
                    into.push((i, s.floats[p.0].f, None));
                } else if p.1 < s.histograms.len() && s.histograms[p.1].t == ts {
                    into.push((i, 0.0, Some(p.1)));
                }
            }
        };
        let mut lp: Present = Vec::new();
        let mut rp: Present = Vec::new();
        let mut touched: Vec<usize> = Vec::new();
        let mut ts = r.start;
        while ts <= r.end {
            self.check_interrupt()?;
            gather(ls, &mut lpos, ts, &mut lp);
            gather(rs, &mut rpos, ts, &mut rp);
            self.add_samples(lp.len() + rp.len())?;
            let no_fill = m.fill.lhs.is_none() && m.fill.rhs.is_none();
            if (lp.is_empty() && rp.is_empty()) || ((lp.is_empty() || rp.is_empty()) && no_fill) {
                self.set_cur(self.cur() - lp.len() - rp.len());
                ts += r.interval;
                continue;
            }
            for &o in &touched {
                right_at[o] = NONE;
                matched[o] = false;
            }
            touched.clear();
            matched_sets.clear();
            for &(ri, _, _) in &rp {
                let o = ro[ri];
                if right_at[o] != NONE {
                    let side = if one_to_many { "left" } else { "right" };
                    let ml = match_labels(&rs[ri].metric, m.on, &m.matching_labels);
                    return Err(exec_err(format!(
                        "found duplicate series for the match group {ml} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                        rs[ri].metric, rs[right_at[o]].metric
                    )));
                }
                right_at[o] = ri;
                touched.push(o);
            }
            for &(i, f, h) in &rp {
                rvals[i] = (f, h);
            }
            // One element: `li`/`ri` are series indices, NONE for a fill value.
            let mut do_op = |li: usize,
                             lv: (f64, Option<usize>),
                             ri: usize,
                             rv: (f64, Option<usize>),
                             o: usize,
                             matched: &mut Vec<bool>,
                             touched: &mut Vec<usize>|
             -> Result<(), EvalError> {
                let (mut fl, mut fr) = (lv.0, rv.0);
                fn hist(mat: &Matrix, i: usize, k: Option<usize>) -> Option<&FloatHistogram> {
                    k.and_then(|k| mat.get(i)?.histograms.get(k)).map(|p| &*p.h)
                }
                let (mut hl, mut hr) = (hist(ls, li, lv.1), hist(rs, ri, rv.1));
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
                let key = (li, ri);
                let oi = match (li != NONE && ri != NONE)
                    .then(|| pair_out.get(&key))
                    .flatten()
                {
                    Some(&oi) => oi,
                    None => {
                        let ll = if li != NONE {
                            ls[li].metric.clone()
                        } else {
                            match_labels(&rs[ri].metric, m.on, &m.matching_labels)
                        };
                        let rl = if ri != NONE {
                            rs[ri].metric.clone()
                        } else {
                            match_labels(&ls[li].metric, m.on, &m.matching_labels)
                        };
                        let mut metric = result_metric(&ll, &rl, op, m);
                        if !self.opts.enable_delayed_name_removal && return_bool {
                            metric = drop_metric_name(&metric);
                        }
                        let oi = match out_index.get(&metric) {
                            Some(&oi) => oi,
                            None => {
                                let oi = out.len();
                                out_index.insert(metric.clone(), oi);
                                out.push(Series {
                                    metric,
                                    drop_name: return_bool,
                                    ..Default::default()
                                });
                                last_ts.push(i64::MIN);
                                oi
                            }
                        };
                        if li != NONE && ri != NONE {
                            pair_out.insert(key, oi);
                        }
                        oi
                    }
                };
                if m.card == VectorMatchCardinality::OneToOne {
                    if matched[o] {
                        return Err(exec_err(
                            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                        ));
                    }
                } else {
                    let set = matched_sets.entry(o).or_default();
                    if set.contains(&oi) {
                        return Err(exec_err(
                            "multiple matches for labels: grouping labels must ensure unique matches",
                        ));
                    }
                    set.push(oi);
                }
                if !matched[o] {
                    matched[o] = true;
                    touched.push(o);
                }
                if !keep && !return_bool {
                    return Ok(());
                }
                if last_ts[oi] == ts {
                    return Err(exec_err(
                        "vector cannot contain metrics with the same labelset",
                    ));
                }
                last_ts[oi] = ts;
                push_point(&mut out[oi], ts, f, h);
                Ok(())
            };
            for &(li, lf, lh) in &lp {
                let o = lo[li];
                let ri = right_at[o];
                if ri != NONE {
                    let rv = rvals[ri];
                    do_op(li, (lf, lh), ri, rv, o, &mut matched, &mut touched)?;
                } else if let Some(fill) = m.fill.rhs {
                    do_op(
                        li,
                        (lf, lh),
                        NONE,
                        (fill, None),
                        o,
                        &mut matched,
                        &mut touched,
                    )?;
                }
            }
            if let Some(fill) = m.fill.lhs {
                for &(ri, rf, rh) in &rp {
                    let o = ro[ri];
                    if matched[o] || right_at[o] != ri {
                        continue;
                    }
                    do_op(
                        NONE,
                        (fill, None),
                        ri,
                        (rf, rh),
                        o,
                        &mut matched,
                        &mut touched,
                    )?;
                }
            }
            self.set_cur(self.cur() - lp.len() - rp.len());
            ts += r.interval;
        }
        self.set_cur(orig + mat_samples(&out));
        if self.cur() > self.opts.max_samples {
            return Err(EvalError::TooManySamples {
                context: "query execution",
            });
        }
        Ok(out)
    }
}

/// A fast hasher for small integer keys (Fx-style multiply-rotate); not DoS-resistant, which
/// is fine for keys the engine derives itself.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

pub(crate) type FastHash = std::hash::BuildHasherDefault<FxHasher>;

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
