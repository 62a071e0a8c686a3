//! Quantile helpers (`promql/quantile.go`): the φ-quantile of plain values, of classic
//! histograms (buckets with an `le` upper bound and cumulative counts) and of native
//! histograms, and the fraction of observations between two bounds.

use std::cmp::Ordering;

use promplay_model::FloatHistogram;

use super::anno;

/// Relative deltas between classic buckets below this are taken for float noise.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;
const MIN_NORMAL: f64 = 2.2250738585072014e-308;

/// Prometheus's `almost.Equal`.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// Go's `math.Log2`: exact for powers of two.
pub(crate) fn go_log2(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        let (frac, exp) = frexp(x);
        if frac == 0.5 {
            return (exp - 1) as f64;
        }
        return frac.ln() * (1.0 / std::f64::consts::LN_2) + exp as f64;
    }
    x.log2()
}

fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let mut x = x;
    let mut e = 0;
    if x.abs() < MIN_NORMAL {
        x *= (1u64 << 52) as f64;
        e = -52;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, e)
}

/// The φ-quantile of `values` (the `quantile` aggregator and `quantile_over_time`): sorts
/// `values` (NaN first) and interpolates linearly between the two nearest ranks. Empty input
/// or NaN `q` gives NaN; `q < 0` gives -Inf, `q > 1` +Inf.
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (n - 1.0).min(lower + 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// One bucket of a classic histogram: upper bound and cumulative count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassicBucket {
    pub upper_bound: f64,
    pub count: f64,
}

fn sort_and_coalesce(buckets: &mut Vec<ClassicBucket>) {
    buckets.sort_by(|a, b| {
        a.upper_bound
            .partial_cmp(&b.upper_bound)
            .unwrap_or(Ordering::Equal)
    });
    let mut out: Vec<ClassicBucket> = Vec::with_capacity(buckets.len());
    for b in buckets.drain(..) {
        match out.last_mut() {
            Some(last) if last.upper_bound == b.upper_bound => last.count += b.count,
            _ => out.push(b),
        }
    }
    *buckets = out;
}

/// Ignores float-noise differences between neighbouring buckets and removes decreases
/// (`ensureMonotonicAndIgnoreSmallDeltas`). Returns (forced monotonicity, fixed precision).
fn ensure_monotonic(buckets: &mut [ClassicBucket], tolerance: f64) -> (bool, bool) {
    let (mut forced, mut fixed) = (false, false);
    let Some(first) = buckets.first() else {
        return (false, false);
    };
    let mut prev = first.count;
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, tolerance) {
            b.count = prev;
            fixed = true;
            continue;
        }
        if curr < prev {
            b.count = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    (forced, fixed)
}

/// `BucketQuantile`: the φ-quantile of a classic histogram, interpolating linearly within a
/// bucket (from 0 in the lowest bucket if its bound is positive). Returns the quantile and
/// whether monotonicity had to be forced. Sorts and coalesces `buckets` in place.
pub fn bucket_quantile(q: f64, buckets: &mut Vec<ClassicBucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    if buckets.is_empty() {
        return (f64::NAN, false);
    }
    sort_and_coalesce(buckets);
    if buckets.last().map(|b| b.upper_bound) != Some(f64::INFINITY) {
        return (f64::NAN, false);
    }
    let (forced, _) = ensure_monotonic(buckets, SMALL_DELTA_TOLERANCE);
    if buckets.len() < 2 {
        return (f64::NAN, forced);
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return (f64::NAN, forced);
    }
    let mut rank = q * observations;
    let n = buckets.len() - 1;
    let b = buckets[..n].partition_point(|x| x.count < rank);
    if b == n {
        return (buckets[n - 1].upper_bound, forced);
    }
    if b == 0 && buckets[0].upper_bound <= 0.0 {
        return (buckets[0].upper_bound, forced);
    }
    let mut start = 0.0;
    let end = buckets[b].upper_bound;
    let mut count = buckets[b].count;
    if b > 0 {
        start = buckets[b - 1].upper_bound;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    (start + (end - start) * (rank / count), forced)
}

/// `BucketFraction`: the fraction of a classic histogram's observations between `lower` and
/// `upper`, interpolating linearly within buckets.
pub fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<ClassicBucket>) -> f64 {
    if buckets.is_empty() {
        return f64::NAN;
    }
    sort_and_coalesce(buckets);
    if buckets.last().map(|b| b.upper_bound) != Some(f64::INFINITY) {
        return f64::NAN;
    }
    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if buckets[0].upper_bound <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, b) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets[i - 1].upper_bound;
        }
        let upper_bound = b.upper_bound;
        let interp = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                return b.count;
            }
            rank + (b.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interp(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interp(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = b.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

/// `HistogramQuantile`: the φ-quantile of a native histogram. Exponential buckets are
/// interpolated on a logarithmic scale, custom buckets and the zero bucket linearly. Returns
/// the value and any infos (NaN observations), named after `metric_name`.
pub fn histogram_quantile(q: f64, h: &FloatHistogram, metric_name: &str) -> (f64, Vec<String>) {
    let mut infos = Vec::new();
    if q < 0.0 {
        return (f64::NEG_INFINITY, infos);
    }
    if q > 1.0 {
        return (f64::INFINITY, infos);
    }
    if h.count == 0.0 || q.is_nan() {
        return (f64::NAN, infos);
    }
    let forward = h.sum.is_nan() || q < 0.5;
    let buckets = if forward {
        h.all_buckets()
    } else {
        h.all_reverse_buckets()
    };
    let mut rank = if forward {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };
    let mut count = 0.0;
    let mut bucket = promplay_model::Bucket::default();
    let mut pos = buckets.len();
    for (i, b) in buckets.iter().enumerate() {
        bucket = *b;
        if b.count == 0.0 {
            continue;
        }
        count += b.count;
        if count >= rank {
            pos = i;
            break;
        }
    }
    let custom = h.uses_custom_buckets();
    if !custom && bucket.lower < 0.0 && bucket.upper > 0.0 {
        if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
            bucket.lower = 0.0;
        } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
            bucket.upper = 0.0;
        }
    } else if custom {
        if bucket.lower == f64::NEG_INFINITY {
            if bucket.upper <= 0.0 {
                return (bucket.upper, infos);
            }
            bucket.lower = 0.0;
        } else if bucket.upper == f64::INFINITY {
            return (bucket.lower, infos);
        }
    }
    if count > h.count {
        count = h.count;
    }
    if count < rank {
        if h.sum.is_nan() {
            infos.push(anno::quantile_nan_result(metric_name));
            return (f64::NAN, infos);
        }
        return (bucket.upper, infos);
    }
    if forward {
        rank -= count - bucket.count;
    } else {
        rank = count - rank;
    }
    if h.sum.is_nan() {
        for b in buckets.iter().skip(pos + 1) {
            count += b.count;
        }
        if count < h.count {
            infos.push(anno::quantile_nan_skew(metric_name));
        }
    }
    let fraction = rank / bucket.count;
    if custom || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
        return (
            bucket.lower + (bucket.upper - bucket.lower) * fraction,
            infos,
        );
    }
    let log_lower = go_log2(bucket.lower.abs());
    let log_upper = go_log2(bucket.upper.abs());
    if bucket.lower > 0.0 {
        return (
            (log_lower + (log_upper - log_lower) * fraction).exp2(),
            infos,
        );
    }
    (
        -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2(),
        infos,
    )
}

/// `HistogramFraction`: the fraction of a native histogram's observations between `lower`
/// and `upper` (the inverse of [`histogram_quantile`], with the same interpolation).
pub fn histogram_fraction(
    lower: f64,
    upper: f64,
    h: &FloatHistogram,
    metric_name: &str,
) -> (f64, Vec<String>) {
    let mut infos = Vec::new();
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return (f64::NAN, infos);
    }
    if lower >= upper {
        return (0.0, infos);
    }
    let buckets = h.all_buckets();
    let (mut count, mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let custom = h.uses_custom_buckets();
    let mut pos = buckets.len();
    for (i, b0) in buckets.iter().enumerate() {
        let mut b = *b0;
        count += b.count;
        let mut zero_bucket = false;
        if b.lower <= 0.0 && b.upper >= 0.0 {
            zero_bucket = true;
            if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
                b.lower = 0.0;
            } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
                b.upper = 0.0;
            }
        }
        let linear = |v: f64| {
            if b.lower == f64::NEG_INFINITY {
                return b.count;
            }
            rank + b.count * (v - b.lower) / (b.upper - b.lower)
        };
        let exponential = |v: f64| {
            let ll = go_log2(b.lower.abs());
            let lu = go_log2(b.upper.abs());
            let lv = go_log2(v.abs());
            let fraction = if v > 0.0 {
                (lv - ll) / (lu - ll)
            } else {
                1.0 - ((lv - lu) / (ll - lu))
            };
            rank + b.count * fraction
        };
        if !lower_set && b.lower >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && b.lower >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            pos = i;
            break;
        }
        if !lower_set && b.lower < lower && b.upper > lower {
            lower_rank = if custom || zero_bucket {
                linear(lower)
            } else {
                exponential(lower)
            };
            lower_set = true;
        }
        if !upper_set && b.lower < upper && b.upper > upper {
            upper_rank = if custom || zero_bucket {
                linear(upper)
            } else {
                exponential(upper)
            };
            upper_set = true;
        }
        if lower_set && upper_set {
            pos = i;
            break;
        }
        rank += b.count;
    }
    if h.sum.is_nan() {
        for b in buckets.iter().skip(pos + 1) {
            count += b.count;
        }
        if count < h.count {
            infos.push(anno::fraction_nans(metric_name));
        }
    } else {
        count = h.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    ((upper_rank - lower_rank) / h.count, infos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cb(pairs: &[(f64, f64)]) -> Vec<ClassicBucket> {
        pairs
            .iter()
            .map(|&(upper_bound, count)| ClassicBucket { upper_bound, count })
            .collect()
    }

    #[test]
    fn log2_is_exact_on_powers_of_two() {
        assert_eq!(go_log2(8.0), 3.0);
        assert_eq!(go_log2(0.25), -2.0);
    }

    // histograms.test: testhistogram3_bucket{start="positive"} at 50m has
    // le=0:0, 0.1:50, .2:70, 1e0:110, +Inf:110; histogram_quantiles expects
    // 0, 0.055, 0.125, 0.45, 1 for q = 0, 0.25, 0.5, 0.75, 1.
    #[test]
    fn classic_quantiles_from_corpus() {
        let b = cb(&[
            (0.0, 0.0),
            (0.1, 50.0),
            (0.2, 70.0),
            (1.0, 110.0),
            (f64::INFINITY, 110.0),
        ]);
        let q = |x| bucket_quantile(x, &mut b.clone()).0;
        assert_eq!(q(0.0), 0.0);
        assert!((q(0.25) - 0.055).abs() < 1e-12);
        assert!((q(0.5) - 0.125).abs() < 1e-12);
        assert!((q(0.75) - 0.45).abs() < 1e-12);
        assert_eq!(q(1.0), 1.0);
        assert_eq!(q(-0.1), f64::NEG_INFINITY);
    }

    #[test]
    fn quantile_of_values() {
        let mut v = vec![3.0, 1.0, 2.0, 4.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert!(quantile(0.5, &mut []).is_nan());
    }
}
