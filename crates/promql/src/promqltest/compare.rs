//! Result comparison of the promqltest runner (`compareResult`, `almost.Equal`,
//! `compareNativeHistogram`).

use std::collections::HashMap;

use promplay_model::{is_stale_nan, FloatHistogram, Labels, Span};

use super::script::EvalCmd;
use super::series::SeqValue;
use crate::value::{Sample, Value};

const EPSILON: f64 = 0.000001;

/// Prometheus's `almost.Equal`, with a stale marker equal only to a stale marker.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    crate::functions::quantile::almost_equal(a, b, epsilon)
}

/// Non-zero buckets by absolute index (what `Compact(0)` leaves, span layout aside).
fn bucket_map(spans: &[Span], buckets: &[f64]) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    let mut idx: i64 = 0;
    let mut bi = 0usize;
    for (si, s) in spans.iter().enumerate() {
        if si == 0 {
            idx = s.offset as i64;
        } else {
            idx += s.offset as i64;
        }
        for _ in 0..s.length {
            if let Some(&v) = buckets.get(bi) {
                if v != 0.0 {
                    out.push((idx, v));
                }
            }
            bi += 1;
            idx += 1;
        }
    }
    out
}

fn buckets_match(a: &[(i64, f64)], b: &[(i64, f64)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && almost_equal(x.1, y.1, EPSILON))
}

/// Prometheus's `compareNativeHistogram` on compacted histograms.
pub fn histograms_match(exp: &FloatHistogram, cur: &FloatHistogram, hint_set: bool) -> bool {
    if exp.schema != cur.schema
        || !almost_equal(exp.count, cur.count, EPSILON)
        || !almost_equal(exp.sum, cur.sum, EPSILON)
    {
        return false;
    }
    if exp.uses_custom_buckets() && !bounds_match(&exp.custom_values, &cur.custom_values) {
        return false;
    }
    if exp.zero_threshold != cur.zero_threshold
        || !almost_equal(exp.zero_count, cur.zero_count, EPSILON)
    {
        return false;
    }
    if !buckets_match(
        &bucket_map(&exp.negative_spans, &exp.negative_buckets),
        &bucket_map(&cur.negative_spans, &cur.negative_buckets),
    ) || !buckets_match(
        &bucket_map(&exp.positive_spans, &exp.positive_buckets),
        &bucket_map(&cur.positive_spans, &cur.positive_buckets),
    ) {
        return false;
    }
    !hint_set || exp.counter_reset_hint == cur.counter_reset_hint
}

fn bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Prometheus's `FloatHistogram.TestExpression`, for messages.
pub fn hist_expr(h: &FloatHistogram) -> String {
    let mut parts = Vec::new();
    if h.schema != 0 {
        parts.push(format!("schema:{}", h.schema));
    }
    if h.count != 0.0 {
        parts.push(format!("count:{}", h.count));
    }
    if h.sum != 0.0 {
        parts.push(format!("sum:{}", h.sum));
    }
    if h.zero_count != 0.0 {
        parts.push(format!("z_bucket:{}", h.zero_count));
    }
    if h.zero_threshold != 0.0 {
        parts.push(format!("z_bucket_w:{}", h.zero_threshold));
    }
    if !h.custom_values.is_empty() {
        parts.push(format!("custom_values:{:?}", h.custom_values));
    }
    let pos = bucket_map(&h.positive_spans, &h.positive_buckets);
    if !pos.is_empty() {
        parts.push(format!("buckets:{pos:?}"));
    }
    let neg = bucket_map(&h.negative_spans, &h.negative_buckets);
    if !neg.is_empty() {
        parts.push(format!("n_buckets:{neg:?}"));
    }
    match h.counter_reset_hint {
        promplay_model::CounterResetHint::Unknown => {}
        o => parts.push(format!("counter_reset_hint:{o:?}")),
    }
    format!("{{{{{}}}}}", parts.join(" "))
}

fn fmt_val(s: &Sample) -> String {
    match &s.h {
        Some(h) => hist_expr(h),
        None => format!("{}", s.f),
    }
}

fn fmt_seq(v: &SeqValue) -> String {
    match v {
        SeqValue::Omitted => "_".into(),
        SeqValue::Float(f) => format!("{f}"),
        SeqValue::Histogram(h, _) => hist_expr(h),
    }
}

/// Compares an instant vector with the expectation.
pub fn compare_vector(cmd: &EvalCmd, val: &[Sample]) -> Result<(), String> {
    if cmd.expect_scalar.is_some() {
        return Err(format!(
            "expected scalar result, but got vector of {} series",
            val.len()
        ));
    }
    let idx: HashMap<&Labels, usize> = cmd
        .expected
        .iter()
        .enumerate()
        .map(|(i, e)| (&e.labels, i))
        .collect();
    let mut seen = vec![false; cmd.expected.len()];
    for (pos, s) in val.iter().enumerate() {
        let Some(&i) = idx.get(&s.metric) else {
            return Err(format!(
                "unexpected metric {} in result, has value {}",
                s.metric,
                fmt_val(s)
            ));
        };
        let exp = &cmd.expected[i];
        if cmd.is_ordered() && exp.pos != pos + 1 {
            return Err(format!(
                "expected metric {} at position {} but was at {}",
                s.metric,
                exp.pos,
                pos + 1
            ));
        }
        let Some(e0) = exp.values.first() else {
            return Err(format!("expected metric {} with no value", s.metric));
        };
        match (e0, &s.h) {
            (SeqValue::Histogram(eh, set), Some(h)) => {
                if !histograms_match(eh, h, *set) {
                    return Err(format!(
                        "expected {} for {} but got {}",
                        hist_expr(eh),
                        s.metric,
                        hist_expr(h)
                    ));
                }
            }
            (SeqValue::Histogram(eh, _), None) => {
                return Err(format!(
                    "expected histogram {} for {} but got float value {}",
                    hist_expr(eh),
                    s.metric,
                    s.f
                ))
            }
            (e, Some(h)) => {
                return Err(format!(
                    "expected float value {} for {} but got histogram {}",
                    fmt_seq(e),
                    s.metric,
                    hist_expr(h)
                ))
            }
            (SeqValue::Float(f), None) => {
                if !almost_equal(*f, s.f, EPSILON) {
                    return Err(format!("expected {} for {} but got {}", f, s.metric, s.f));
                }
            }
            (SeqValue::Omitted, None) => {
                if !almost_equal(0.0, s.f, EPSILON) {
                    return Err(format!("expected {} for {} but got {}", 0, s.metric, s.f));
                }
            }
        }
        seen[i] = true;
    }
    for (i, e) in cmd.expected.iter().enumerate() {
        if !seen[i] {
            return Err(format!(
                "expected metric {} with [{}] not found",
                e.labels,
                e.values.iter().map(fmt_seq).collect::<Vec<_>>().join(" ")
            ));
        }
    }
    Ok(())
}

/// Checks that a matrix is sorted by label set.
pub fn assert_matrix_sorted(m: &[crate::value::Series]) -> Result<(), String> {
    for w in m.windows(2) {
        if w[0].metric > w[1].metric {
            return Err(format!(
                "matrix results should always be sorted by labels, but matrix is not sorted: {} sorts before {}",
                w[1].metric, w[0].metric
            ));
        }
    }
    Ok(())
}

/// Compares a matrix with the expectation; `start`/`end`/`step` give the points' times.
pub fn compare_matrix(
    cmd: &EvalCmd,
    val: &[crate::value::Series],
    start: i64,
    end: i64,
    step: i64,
) -> Result<(), String> {
    if cmd.is_ordered() {
        return Err("expected ordered result, but query returned a matrix".into());
    }
    if cmd.expect_scalar.is_some() {
        return Err("expected scalar result, but got matrix".into());
    }
    assert_matrix_sorted(val)?;
    let idx: HashMap<&Labels, usize> = cmd
        .expected
        .iter()
        .enumerate()
        .map(|(i, e)| (&e.labels, i))
        .collect();
    let mut seen = vec![false; cmd.expected.len()];
    for s in val {
        let Some(&i) = idx.get(&s.metric) else {
            return Err(format!(
                "unexpected metric {} in result, has {}",
                s.metric,
                fmt_series(s)
            ));
        };
        seen[i] = true;
        let exp = &cmd.expected[i];
        let mut ef: Vec<(i64, f64)> = Vec::new();
        let mut eh: Vec<(i64, &FloatHistogram, bool)> = Vec::new();
        for (k, e) in exp.values.iter().enumerate() {
            let t = start + k as i64 * step;
            if t > end {
                return Err(format!(
                    "expected {} points for {}, but query time range cannot return this many points",
                    exp.values.len(),
                    exp.labels
                ));
            }
            match e {
                SeqValue::Histogram(h, set) => eh.push((t, h, *set)),
                SeqValue::Float(f) => ef.push((t, *f)),
                SeqValue::Omitted => {}
            }
        }
        if ef.len() != s.floats.len() || eh.len() != s.histograms.len() {
            return Err(format!(
                "expected {} float points and {} histogram points for {}, but got {}",
                ef.len(),
                eh.len(),
                exp.labels,
                fmt_series(s)
            ));
        }
        for (k, (t, f)) in ef.iter().enumerate() {
            let a = s.floats[k];
            if a.t != *t {
                return Err(format!(
                    "expected float value at index {k} for {} to have timestamp {t}, but it had timestamp {} (result has {})",
                    exp.labels,
                    a.t,
                    fmt_series(s)
                ));
            }
            if !almost_equal(a.f, *f, EPSILON) {
                return Err(format!(
                    "expected float value at index {k} (t={t}) for {} to be {f}, but got {} (result has {})",
                    exp.labels,
                    a.f,
                    fmt_series(s)
                ));
            }
        }
        for (k, (t, h, set)) in eh.iter().enumerate() {
            let a = &s.histograms[k];
            if a.t != *t {
                return Err(format!(
                    "expected histogram value at index {k} for {} to have timestamp {t}, but it had timestamp {}",
                    exp.labels, a.t
                ));
            }
            if !histograms_match(h, &a.h, *set) {
                return Err(format!(
                    "expected histogram value at index {k} (t={t}) for {} to be {}, but got {}",
                    exp.labels,
                    hist_expr(h),
                    hist_expr(&a.h)
                ));
            }
        }
    }
    for (i, e) in cmd.expected.iter().enumerate() {
        if !seen[i] {
            return Err(format!("expected metric {} not found", e.labels));
        }
    }
    Ok(())
}

fn fmt_series(s: &crate::value::Series) -> String {
    let fl: Vec<String> = s
        .floats
        .iter()
        .map(|p| format!("{} @[{}]", p.f, p.t))
        .collect();
    let hl: Vec<String> = s
        .histograms
        .iter()
        .map(|p| format!("{} @[{}]", hist_expr(&p.h), p.t))
        .collect();
    format!(
        "{} float points [{}] and {} histogram points [{}]",
        s.floats.len(),
        fl.join(" "),
        s.histograms.len(),
        hl.join(" ")
    )
}

/// Compares any result value with the expectation of an eval command. `range` gives
/// (start, end, step) for matrices.
pub fn compare_result(
    cmd: &EvalCmd,
    val: &Value,
    range: Option<(i64, i64, i64)>,
) -> Result<(), String> {
    match val {
        Value::Matrix(m) => {
            let (s, e, st) = range.unwrap_or((0, 0, 1));
            compare_matrix(cmd, m, s, e, st)
        }
        Value::Vector(v) => compare_vector(cmd, v),
        Value::Scalar { v, .. } => match cmd.expect_scalar {
            None => Err(format!(
                "expected vector or matrix result, but got scalar {v}"
            )),
            Some(e) => {
                if almost_equal(e, *v, EPSILON) {
                    Ok(())
                } else {
                    Err(format!("expected scalar {e} but got {v}"))
                }
            }
        },
        Value::String { s, .. } => {
            let exp = cmd.expected_string.as_deref().unwrap_or("");
            if exp == s {
                Ok(())
            } else {
                Err(format!("expected string \"{exp}\" but got \"{s}\""))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn almost_equal_like_prometheus() {
        assert!(almost_equal(1.0, 1.0000001, EPSILON));
        assert!(!almost_equal(1.0, 1.00001, EPSILON));
        assert!(almost_equal(f64::NAN, f64::NAN, EPSILON));
        assert!(!almost_equal(f64::NAN, promplay_model::STALE_NAN, EPSILON));
        assert!(!almost_equal(0.0, 1e-300, EPSILON));
        assert!(!almost_equal(f64::INFINITY, f64::NEG_INFINITY, EPSILON));
    }
}
