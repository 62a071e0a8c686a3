//! `histogram_*` functions over native histograms and classic (`le`-labelled) buckets.

use std::collections::HashMap;

use promplay_model::{kahan_sum_inc, FloatHistogram, Labels, METRIC_NAME};

use super::quantile::{
    bucket_fraction, bucket_quantile, histogram_fraction, histogram_quantile, ClassicBucket,
};
use super::{anno, metric_name, sample, FnCall};
use crate::error::EvalError;
use crate::value::{Annotations, Sample, Vector};

/// Classic bucket groups and native histograms of one input vector (`resetHistograms`).
struct Split<'a> {
    /// Native histogram samples; `None` marks one that conflicted with classic buckets.
    natives: Vec<(&'a Sample, Option<&'a FloatHistogram>)>,
    /// Classic groups in first-seen order: output labels and buckets.
    classic: Vec<(Labels, Vec<ClassicBucket>)>,
}

fn split<'a>(v: &'a Vector, ann: &mut Annotations) -> Split<'a> {
    let mut natives = Vec::new();
    let mut classic: Vec<(Labels, Vec<ClassicBucket>)> = Vec::new();
    let mut by_sig: HashMap<Labels, usize> = HashMap::new();
    for s in v {
        if let Some(h) = &s.h {
            natives.push((s, Some(&**h)));
            continue;
        }
        let le = s.metric.get_or_empty("le");
        let Some(upper) = parse_go_float(le) else {
            ann.warn(anno::bad_bucket_label(metric_name(&s.metric), le));
            continue;
        };
        let sig = s.metric.without(&["le"]);
        let idx = *by_sig.entry(sig).or_insert_with(|| {
            classic.push((
                s.metric
                    .without(&["le", METRIC_NAME, "__type__", "__unit__"]),
                Vec::new(),
            ));
            classic.len() - 1
        });
        classic[idx].1.push(ClassicBucket {
            upper_bound: upper,
            count: s.f,
        });
    }
    for n in natives.iter_mut() {
        if let Some(&idx) = by_sig.get(&n.0.metric) {
            if !classic[idx].1.is_empty() {
                ann.warn(anno::mixed_classic_native(metric_name(&n.0.metric)));
                classic[idx].1.clear();
                n.1 = None;
            }
        }
    }
    Split { natives, classic }
}

/// Go's `strconv.ParseFloat` as used on `le` values: decimal, exponent, hex floats,
/// `Inf`/`+Inf`/`-Inf`/`NaN` in any case, and `_` digit separators are not allowed.
fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    let lower = t.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if s.is_empty() || s.contains(char::is_whitespace) || lower.contains("inf") {
        return None;
    }
    if lower.starts_with("0x") {
        return None;
    }
    s.parse::<f64>().ok()
}

fn simple(v: &Vector, ts: i64, f: impl Fn(&FloatHistogram) -> f64) -> Vector {
    v.iter()
        .filter_map(|s| {
            s.h.as_ref()
                .map(|h| sample(s.metric.clone(), ts, f(h), true))
        })
        .collect()
}

fn variance(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let (mut var, mut c) = (0.0, 0.0);
    for b in h.all_buckets() {
        if b.count == 0.0 {
            continue;
        }
        let val = if h.uses_custom_buckets() {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let g = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 {
                -g
            } else {
                g
            }
        };
        let delta = val - mean;
        (var, c) = kahan_sum_inc(b.count * delta * delta, var, c);
    }
    (var + c) / h.count
}

fn invalid_quantile(q: f64) -> bool {
    q.is_nan() || !(0.0..=1.0).contains(&q)
}

pub(super) fn call(c: &FnCall, ann: &mut Annotations) -> Result<Option<Vector>, EvalError> {
    let empty = Vector::new();
    let out = match c.name {
        "histogram_count" => simple(c.vector(0).unwrap_or(&empty), c.ts, |h| h.count),
        "histogram_sum" => simple(c.vector(0).unwrap_or(&empty), c.ts, |h| h.sum),
        "histogram_avg" => simple(c.vector(0).unwrap_or(&empty), c.ts, |h| h.sum / h.count),
        "histogram_stdvar" => simple(c.vector(0).unwrap_or(&empty), c.ts, variance),
        "histogram_stddev" => simple(c.vector(0).unwrap_or(&empty), c.ts, |h| variance(h).sqrt()),
        "histogram_fraction" => {
            let (Some(lower), Some(upper)) = (c.scalar(0), c.scalar(1)) else {
                return Ok(Some(Vec::new()));
            };
            let v = c.vector(2).unwrap_or(&empty);
            let sp = split(v, ann);
            let mut out = Vec::new();
            for (s, h) in &sp.natives {
                let Some(h) = h else { continue };
                let (f, infos) = histogram_fraction(lower, upper, h, metric_name(&s.metric));
                infos.into_iter().for_each(|i| ann.info(i));
                out.push(sample(s.metric.clone(), c.ts, f, true));
            }
            for (m, mut b) in sp.classic {
                if b.is_empty() {
                    continue;
                }
                out.push(sample(m, c.ts, bucket_fraction(lower, upper, &mut b), true));
            }
            out
        }
        "histogram_quantile" => {
            let Some(q) = c.scalar(0) else {
                return Ok(Some(Vec::new()));
            };
            if invalid_quantile(q) {
                ann.warn(anno::invalid_quantile(q));
            }
            let v = c.vector(1).unwrap_or(&empty);
            let sp = split(v, ann);
            let mut out = Vec::new();
            for (s, h) in &sp.natives {
                let Some(h) = h else { continue };
                let (f, infos) = histogram_quantile(q, h, metric_name(&s.metric));
                infos.into_iter().for_each(|i| ann.info(i));
                out.push(sample(s.metric.clone(), c.ts, f, true));
            }
            let names = classic_names(v);
            for (m, mut b) in sp.classic {
                if b.is_empty() {
                    continue;
                }
                let (f, forced) = bucket_quantile(q, &mut b);
                if forced {
                    ann.info(anno::forced_monotonicity(
                        names.get(&m).map(String::as_str).unwrap_or(""),
                    ));
                }
                out.push(sample(m, c.ts, f, true));
            }
            out
        }
        "histogram_quantiles" => {
            let v = c.vector(0).unwrap_or(&empty);
            let label = c.string(1).unwrap_or("");
            let qs: Vec<f64> = (2..c.args.len()).filter_map(|i| c.scalar(i)).collect();
            for &q in &qs {
                if invalid_quantile(q) {
                    ann.warn(anno::invalid_quantile(q));
                }
            }
            let sp = split(v, ann);
            let names = classic_names(v);
            let mut out = Vec::new();
            for &q in &qs {
                let qs_str = anno::format_openmetrics_float(q);
                let with_q = |m: &Labels| {
                    let mut b = m.builder();
                    b.set(label, qs_str.as_str());
                    b.labels()
                };
                for (s, h) in &sp.natives {
                    let Some(h) = h else { continue };
                    let (f, infos) = histogram_quantile(q, h, metric_name(&s.metric));
                    infos.into_iter().for_each(|i| ann.info(i));
                    out.push(sample(with_q(&s.metric), c.ts, f, true));
                }
                for (m, b) in &sp.classic {
                    if b.is_empty() {
                        continue;
                    }
                    let (f, forced) = bucket_quantile(q, &mut b.clone());
                    if forced {
                        ann.info(anno::forced_monotonicity(
                            names.get(m).map(String::as_str).unwrap_or(""),
                        ));
                    }
                    out.push(sample(with_q(m), c.ts, f, true));
                }
            }
            let mut seen = std::collections::HashSet::new();
            for s in &out {
                if !seen.insert(&s.metric) {
                    return Err(EvalError::exec(
                        "vector cannot contain metrics with the same labelset",
                    ));
                }
            }
            out
        }
        _ => return Ok(None),
    };
    Ok(Some(out))
}

/// The metric name of each classic group (for the monotonicity info).
fn classic_names(v: &Vector) -> HashMap<Labels, String> {
    let mut m = HashMap::new();
    for s in v {
        if s.h.is_none() {
            m.entry(
                s.metric
                    .without(&["le", METRIC_NAME, "__type__", "__unit__"]),
            )
            .or_insert_with(|| metric_name(&s.metric).to_string());
        }
    }
    m
}
