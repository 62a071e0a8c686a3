//! Range-vector functions: `rate`/`increase`/`delta` (with the anchored and smoothed range
//! selectors), `irate`/`idelta`, the `*_over_time` family, `deriv`, `predict_linear`,
//! `resets`, `changes` and `double_exponential_smoothing`.

use promplay_model::{kahan_sum_inc, CounterResetHint, FloatHistogram, HistogramError};

use super::quantile::quantile;
use super::{anno, metric_name, FnCall, StartTimestamps};
use crate::error::EvalError;
use crate::value::{Annotations, FPoint, HPoint, Sample, Series, Vector};

/// The value one function call computes for one series.
enum Out {
    F(f64),
    H(FloatHistogram),
}

pub(super) fn call(
    c: &FnCall,
    st: Option<&StartTimestamps>,
    ann: &mut Annotations,
) -> Result<Option<Vector>, EvalError> {
    let name = c.name;
    let known = matches!(
        name,
        "rate"
            | "increase"
            | "delta"
            | "irate"
            | "idelta"
            | "avg_over_time"
            | "sum_over_time"
            | "count_over_time"
            | "min_over_time"
            | "max_over_time"
            | "ts_of_min_over_time"
            | "ts_of_max_over_time"
            | "first_over_time"
            | "last_over_time"
            | "ts_of_first_over_time"
            | "ts_of_last_over_time"
            | "mad_over_time"
            | "quantile_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "present_over_time"
            | "deriv"
            | "predict_linear"
            | "resets"
            | "changes"
            | "double_exponential_smoothing"
    );
    if !known {
        return Ok(None);
    }
    let Some(mi) = c.matrix_index() else {
        return Ok(Some(Vec::new()));
    };
    let m = c.matrix(mi).map(|m| m.as_slice()).unwrap_or(&[]);
    if name == "double_exponential_smoothing" {
        let sf = c.scalar(1).unwrap_or(f64::NAN);
        let tf = c.scalar(2).unwrap_or(f64::NAN);
        if !(sf > 0.0 && sf < 1.0) {
            return Err(EvalError::exec(format!(
                "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
            )));
        }
        if !(tf > 0.0 && tf < 1.0) {
            return Err(EvalError::exec(format!(
                "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
            )));
        }
    }
    let keep_name = matches!(name, "last_over_time" | "first_over_time");
    let mut out = Vec::with_capacity(m.len());
    let empty = StartTimestamps::default();
    for s in m {
        if s.floats.is_empty() && s.histograms.is_empty() {
            continue;
        }
        // Start timestamps describe a single series' points.
        let sts = match st {
            Some(st) if m.len() == 1 => st,
            _ => &empty,
        };
        let r = match name {
            "rate" => extrapolated_rate(c, s, sts, true, true, ann),
            "increase" => extrapolated_rate(c, s, sts, true, false, ann),
            "delta" => extrapolated_rate(c, s, sts, false, false, ann),
            "irate" => instant_value(s, sts, true, ann),
            "idelta" => instant_value(s, sts, false, ann),
            _ => over_time(c, s, sts, ann)?,
        };
        let Some(r) = r else { continue };
        let (f, h) = match r {
            Out::F(f) => (f, None),
            Out::H(h) => (0.0, Some(Box::new(h))),
        };
        out.push(Sample {
            metric: s.metric.clone(),
            t: c.ts,
            f,
            h,
            drop_name: s.drop_name || !keep_name,
        });
    }
    Ok(Some(out))
}

fn range_seconds(c: &FnCall) -> f64 {
    (c.range_end - c.range_start) as f64 / 1000.0
}

/// Index of the first element for which `pred` holds among the first `n` (`sort.Search`).
fn search(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

fn interpolate(p1: FPoint, p2: FPoint, t: i64, is_counter: bool) -> f64 {
    let mut y1 = p1.f;
    let y2 = p2.f;
    if is_counter && y2 < y1 {
        y1 = 0.0;
    }
    y1 + (y2 - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// `extendedRate`: rate/increase/delta over an anchored or smoothed range.
fn extended_rate(c: &FnCall, f: &[FPoint], is_counter: bool, is_rate: bool) -> Option<Out> {
    if f.is_empty() {
        return None;
    }
    let smoothed = c.smoothed();
    let (range_start, range_end) = (c.range_start, c.range_end);
    let mut last = f.len() - 1;
    let mut first = search(last, |i| f[i].t > range_start).saturating_sub(1);
    if smoothed {
        last = search(last, |i| f[i].t >= range_end);
    }
    if first > last || f[last].t <= range_start || f[first].t > range_end {
        return None;
    }
    let left = if smoothed && f[first].t < range_start && first + 1 < f.len() {
        interpolate(f[first], f[first + 1], range_start, is_counter)
    } else {
        f[first].f
    };
    let right = if smoothed && last > 0 && f[last].t > range_end {
        interpolate(f[last - 1], f[last], range_end, is_counter)
    } else {
        f[last].f
    };
    let mut result = right - left;
    if is_counter {
        if f[first].t <= range_start {
            first += 1;
        }
        let mut last_i = last as isize;
        if f[last].t >= range_end {
            last_i -= 1;
        }
        let inner: &[FPoint] = if (first as isize) <= last_i {
            &f[first..=last_i as usize]
        } else {
            &[]
        };
        let mut correction = 0.0;
        let mut prev = left;
        for p in inner {
            if p.f < prev {
                correction += prev;
            }
            prev = p.f;
        }
        if right < prev {
            correction += prev;
        }
        result += correction;
    }
    if is_rate {
        result /= range_seconds(c);
    }
    Some(Out::F(result))
}

/// Linear interpolation between two histograms at `t`. For a counter with a reset between
/// them, the counter is modelled as restarting from zero: `h2 × fraction` (keeping h2's
/// counter reset hint).
pub fn interpolate_histogram(
    p1: &HPoint,
    p2: &HPoint,
    t: i64,
    is_counter: bool,
) -> Result<FloatHistogram, HistogramError> {
    let frac = (t - p1.t) as f64 / (p2.t - p1.t) as f64;
    if is_counter && p2.h.detect_reset(&p1.h) {
        let mut r = (*p2.h).clone();
        r.mul(frac);
        return Ok(r);
    }
    let mut d = (*p2.h).clone();
    d.sub(&p1.h)?;
    d.mul(frac);
    let mut r = (*p1.h).clone();
    r.add(&d)?;
    r.counter_reset_hint = p1.h.counter_reset_hint;
    Ok(r)
}

/// `extendedRate` for native histograms: the difference between the (anchored or smoothed)
/// boundary values, corrected for counter resets between the samples in between.
fn extended_rate_histogram(
    c: &FnCall,
    h: &[HPoint],
    is_counter: bool,
    is_rate: bool,
    name: &str,
    ann: &mut Annotations,
) -> Option<Out> {
    let smoothed = c.smoothed();
    let (range_start, range_end) = (c.range_start, c.range_end);
    let mut last = h.len() - 1;
    let first = search(last, |i| h[i].t > range_start).saturating_sub(1);
    if smoothed {
        last = search(last, |i| h[i].t >= range_end);
    }
    if first > last || h[last].t <= range_start || h[first].t > range_end {
        return None;
    }
    let used = &h[first..=last];
    let custom = used[0].h.uses_custom_buckets();
    if used.iter().any(|p| p.h.uses_custom_buckets() != custom) {
        ann.warn(anno::mixed_exponential_custom(name));
        return None;
    }
    if is_counter {
        if used
            .iter()
            .any(|p| p.h.counter_reset_hint == CounterResetHint::Gauge)
        {
            ann.warn(anno::not_counter(name));
        }
    } else if h[first].h.counter_reset_hint != CounterResetHint::Gauge
        || h[last].h.counter_reset_hint != CounterResetHint::Gauge
    {
        ann.warn(anno::not_gauge(name));
    }
    let left_interp = smoothed && h[first].t < range_start && first < last;
    let right_interp = smoothed && last > 0 && h[last].t > range_end;
    let left = if left_interp {
        interpolate_histogram(&h[first], &h[first + 1], range_start, is_counter)
    } else {
        Ok((*h[first].h).clone())
    };
    let right = if right_interp {
        interpolate_histogram(&h[last - 1], &h[last], range_end, is_counter)
    } else {
        Ok((*h[last].h).clone())
    };
    let (Ok(left), Ok(mut result)) = (left, right) else {
        ann.warn(anno::mixed_exponential_custom(name));
        return None;
    };
    let mut fail = false;
    let mut note = |o: Result<promplay_model::AddOutcome, HistogramError>,
                    op: &str,
                    ann: &mut Annotations| match o {
        Ok(o) => {
            if o.nhcb_bounds_reconciled {
                ann.info(anno::mismatched_custom_buckets(op));
            }
        }
        Err(_) => fail = true,
    };
    note(result.sub(&left), "subtraction", ann);
    if is_counter {
        for i in first..last {
            if !h[i + 1].h.detect_reset(&h[i].h) {
                continue;
            }
            if left_interp && i == first {
                // The left interpolation already starts from zero after this reset (and
                // a right value in the same segment does too).
                continue;
            }
            note(result.add(&h[i].h), "addition", ann);
        }
    }
    if fail {
        ann.warn(anno::mixed_exponential_custom(name));
        return None;
    }
    result.counter_reset_hint = CounterResetHint::Gauge;
    result.compact(0);
    if is_rate {
        result.div(range_seconds(c));
    }
    Some(Out::H(result))
}

/// `isStartTimestampReset`: whether the start timestamps of two consecutive samples show a
/// counter reset between them. A start timestamp of 0 is unknown, one not before its sample's
/// time is invalid. A start time equal to the previous sample's time marks a delta sample
/// (a reset) only if the previous sample's own start time is known and valid.
pub fn is_start_timestamp_reset(prev_st: i64, prev_t: i64, curr_st: i64, curr_t: i64) -> bool {
    if curr_st == 0 || curr_st >= curr_t {
        return false;
    }
    if curr_st < prev_t {
        return false;
    }
    if curr_st > prev_t {
        return true;
    }
    prev_st != 0 && prev_st < prev_t
}

fn st_at(sts: &[i64], i: usize) -> i64 {
    sts.get(i).copied().unwrap_or(0)
}

/// The start-time overlap warning: a sample starting before the previous sample's time (and
/// not sharing its start time).
fn check_overlap(ts: &[i64], sts: &[i64], name: &str, ann: &mut Annotations) {
    for i in 1..ts.len() {
        let (prev_st, curr_st) = (st_at(sts, i - 1), st_at(sts, i));
        if curr_st != 0 && curr_st < ts[i - 1] && curr_st != prev_st {
            ann.warn(format!(
                "PromQL warning: sample has start time that overlaps with previous sample timestamp for metric {}",
                quoted(name)
            ));
            return;
        }
    }
}

fn quoted(s: &str) -> String {
    let mut out = String::new();
    let _ = promplay_model::labels::write_go_quoted(&mut out, s);
    out
}

/// `extrapolatedRate`: rate/increase/delta, extrapolating to the window's edges. With start
/// timestamps, a start time between the range start and the first sample replaces the left
/// extrapolation by a zero value at that start time.
fn extrapolated_rate(
    c: &FnCall,
    s: &Series,
    sts: &StartTimestamps,
    is_counter: bool,
    is_rate: bool,
    ann: &mut Annotations,
) -> Option<Out> {
    let name = metric_name(&s.metric);
    if c.anchored() || c.smoothed() {
        if !s.histograms.is_empty() {
            if !s.floats.is_empty() {
                ann.warn(anno::mixed_floats_histograms(name));
                return None;
            }
            return extended_rate_histogram(c, &s.histograms, is_counter, is_rate, name, ann);
        }
        return extended_rate(c, &s.floats, is_counter, is_rate);
    }
    if !s.histograms.is_empty() && !s.floats.is_empty() {
        ann.warn(anno::mixed_floats_histograms(name));
        return None;
    }
    let (range_start, range_end) = (c.range_start, c.range_end);
    let hist = !s.histograms.is_empty();
    let (ts, st_list): (Vec<i64>, &[i64]) = if hist {
        (s.histograms.iter().map(|p| p.t).collect(), sts.histograms)
    } else {
        (s.floats.iter().map(|p| p.t).collect(), sts.floats)
    };
    let n = ts.len();
    if is_counter {
        check_overlap(&ts, st_list, name, ann);
    }
    let first_st = st_at(st_list, 0);
    let zero_point = is_counter && first_st != 0 && first_st > range_start && first_st < ts[0];
    if n < 2 && !zero_point {
        return None;
    }
    let mut result_f = 0.0;
    let mut result_h: Option<FloatHistogram> = None;
    let (first_t, last_t) = (ts[0], ts[n - 1]);
    if hist {
        let mut h = if n > 1 {
            histogram_rate(&s.histograms, st_list, is_counter, name, ann)?
        } else {
            let mut h = (*s.histograms[0].h).clone();
            h.sub(&s.histograms[0].h).ok()?;
            h.counter_reset_hint = CounterResetHint::Gauge;
            h
        };
        if zero_point {
            h.add(&s.histograms[0].h).ok()?;
            h.counter_reset_hint = CounterResetHint::Gauge;
            h.compact(0);
        }
        result_h = Some(h);
    } else {
        result_f = s.floats[n - 1].f - s.floats[0].f;
        if is_counter {
            for i in 1..n {
                let (p, q) = (s.floats[i - 1], s.floats[i]);
                if q.f < p.f
                    || is_start_timestamp_reset(st_at(st_list, i - 1), p.t, st_at(st_list, i), q.t)
                {
                    result_f += p.f;
                }
            }
        }
        if zero_point {
            result_f += s.floats[0].f;
        }
    }
    let mut to_start = (first_t - range_start) as f64 / 1000.0;
    let mut to_end = (range_end - last_t) as f64 / 1000.0;
    let mut sampled = (last_t - first_t) as f64 / 1000.0;
    let avg = if n > 1 { sampled / (n - 1) as f64 } else { 0.0 };
    let threshold = avg * 1.1;
    if zero_point {
        to_start = 0.0;
        sampled = (last_t - first_st) as f64 / 1000.0;
    } else {
        if to_start >= threshold {
            to_start = avg / 2.0;
        }
        if is_counter {
            let mut to_zero = to_start;
            if result_f > 0.0 && !s.floats.is_empty() && s.floats[0].f >= 0.0 {
                to_zero = sampled * (s.floats[0].f / result_f);
            } else if let Some(h) = &result_h {
                if h.count > 0.0 && !s.histograms.is_empty() && s.histograms[0].h.count >= 0.0 {
                    to_zero = sampled * (s.histograms[0].h.count / h.count);
                }
            }
            if to_zero < to_start {
                to_start = to_zero;
            }
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= range_seconds(c);
    }
    match result_h {
        Some(mut h) => {
            h.mul(factor);
            Some(Out::H(h))
        }
        None => Some(Out::F(result_f * factor)),
    }
}

/// `histogramRate`: the (counter-reset-corrected) difference between the last and the first
/// histogram, at the lowest schema seen. `None` (with a warning) if the histograms cannot be
/// combined.
fn histogram_rate(
    points: &[HPoint],
    sts: &[i64],
    is_counter: bool,
    name: &str,
    ann: &mut Annotations,
) -> Option<FloatHistogram> {
    let first = &*points[0].h;
    let last = &*points[points.len() - 1].h;
    let mut prev: FloatHistogram = first.clone();
    let mut using_custom = prev.uses_custom_buckets();
    if is_counter
        && (prev.counter_reset_hint == CounterResetHint::Gauge
            || last.counter_reset_hint == CounterResetHint::Gauge)
    {
        ann.warn(anno::not_counter(name));
    }
    if is_counter && points.len() > 1 {
        let second = &*points[1].h;
        if is_start_timestamp_reset(st_at(sts, 0), points[0].t, st_at(sts, 1), points[1].t)
            || second.detect_reset(&prev)
        {
            prev = FloatHistogram {
                schema: second.schema,
                custom_values: second.custom_values.clone(),
                ..Default::default()
            };
            using_custom = second.uses_custom_buckets();
        }
    }
    if last.uses_custom_buckets() != using_custom {
        ann.warn(anno::mixed_exponential_custom(name));
        return None;
    }
    let mut min_schema = last.schema.min(prev.schema);
    for p in &points[1..points.len() - 1] {
        if !is_counter {
            continue;
        }
        let curr = &*p.h;
        if curr.counter_reset_hint == CounterResetHint::Gauge {
            ann.warn(anno::not_counter(name));
        }
        if curr.schema < min_schema {
            min_schema = curr.schema;
        }
        if curr.uses_custom_buckets() != using_custom {
            ann.warn(anno::mixed_exponential_custom(name));
            return None;
        }
    }
    let mut h = last.copy_to_schema(min_schema);
    match h.sub(&prev) {
        Err(_) => {
            ann.warn(anno::mixed_exponential_custom(name));
            return None;
        }
        Ok(o) => {
            if o.nhcb_bounds_reconciled {
                ann.info(anno::mismatched_custom_buckets("subtraction"));
            }
        }
    }
    if is_counter {
        let mut prev_ref: &FloatHistogram = &prev;
        for (i, p) in points.iter().enumerate().skip(1) {
            let curr = &*p.h;
            let st_reset =
                is_start_timestamp_reset(st_at(sts, i - 1), points[i - 1].t, st_at(sts, i), p.t);
            if st_reset || curr.detect_reset(prev_ref) {
                match h.add(prev_ref) {
                    Err(_) => {
                        ann.warn(anno::mixed_exponential_custom(name));
                        return None;
                    }
                    Ok(o) => {
                        if o.nhcb_bounds_reconciled {
                            ann.info(anno::mismatched_custom_buckets("addition"));
                        }
                    }
                }
            }
            prev_ref = curr;
        }
    } else if first.counter_reset_hint != CounterResetHint::Gauge
        || last.counter_reset_hint != CounterResetHint::Gauge
    {
        ann.warn(anno::not_gauge(name));
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    h.compact(0);
    Some(h)
}

/// `instantValue`: irate/idelta from the last two samples.
fn instant_value(
    s: &Series,
    sts: &StartTimestamps,
    is_rate: bool,
    ann: &mut Annotations,
) -> Option<Out> {
    if s.floats.len() + s.histograms.len() < 2 {
        return None;
    }
    #[derive(Clone, Copy)]
    struct P<'a> {
        t: i64,
        f: f64,
        h: Option<&'a FloatHistogram>,
        st: i64,
    }
    let mut ss: Vec<P> = Vec::with_capacity(2);
    for i in s.floats.len().saturating_sub(2)..s.floats.len() {
        let p = s.floats[i];
        ss.push(P {
            t: p.t,
            f: p.f,
            h: None,
            st: st_at(sts.floats, i),
        });
    }
    for i in s.histograms.len().saturating_sub(2)..s.histograms.len() {
        let p = &s.histograms[i];
        let x = P {
            t: p.t,
            f: 0.0,
            h: Some(&p.h),
            st: st_at(sts.histograms, i),
        };
        match ss.len() {
            0 => ss.push(x),
            1 => {
                if x.t < ss[0].t {
                    ss.insert(0, x);
                } else {
                    ss.push(x);
                }
            }
            _ => {
                if x.t < ss[0].t {
                } else if x.t > ss[1].t {
                    ss[0] = ss[1];
                    ss[1] = x;
                } else {
                    ss[0] = x;
                }
            }
        }
    }
    let (a, b) = (ss[0], ss[1]);
    let interval = b.t - a.t;
    if interval == 0 {
        return None;
    }
    let name = metric_name(&s.metric);
    let out = match (a.h, b.h) {
        (None, None) => {
            let mut r = b.f;
            let st_reset = is_start_timestamp_reset(a.st, a.t, b.st, b.t);
            if !is_rate || !(b.f < a.f || st_reset) {
                r = b.f - a.f;
            }
            if is_rate {
                r /= interval as f64 / 1000.0;
            }
            Out::F(r)
        }
        (Some(ha), Some(hb)) => {
            let mut r = hb.clone();
            if is_rate
                && (hb.counter_reset_hint == CounterResetHint::Gauge
                    || ha.counter_reset_hint == CounterResetHint::Gauge)
            {
                ann.warn(anno::not_counter(name));
            }
            if !is_rate
                && (hb.counter_reset_hint != CounterResetHint::Gauge
                    || ha.counter_reset_hint != CounterResetHint::Gauge)
            {
                ann.warn(anno::not_gauge(name));
            }
            if !is_rate || (!is_start_timestamp_reset(a.st, a.t, b.st, b.t) && !hb.detect_reset(ha))
            {
                match r.sub(ha) {
                    Err(_) => {
                        ann.warn(anno::mixed_exponential_custom(name));
                        return None;
                    }
                    Ok(o) => {
                        if o.nhcb_bounds_reconciled {
                            ann.info(anno::mismatched_custom_buckets("subtraction"));
                        }
                    }
                }
            }
            r.counter_reset_hint = CounterResetHint::Gauge;
            r.compact(0);
            if is_rate {
                r.div(interval as f64 / 1000.0);
            }
            Out::H(r)
        }
        _ => {
            ann.warn(anno::mixed_floats_histograms(name));
            return None;
        }
    };
    Some(out)
}

/// `linearRegression`: least-squares slope and the intercept at `intercept_time`.
fn linear_regression(samples: &[FPoint], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut cx, mut sum_y, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut cxy, mut sum_x2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = samples[0].f;
    let mut const_y = true;
    for (i, s) in samples.iter().enumerate() {
        if const_y && i > 0 && s.f != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (s.t - intercept_time) as f64 / 1e3;
        (sum_x, cx) = kahan_sum_inc(x, sum_x, cx);
        (sum_y, cy) = kahan_sum_inc(s.f, sum_y, cy);
        (sum_xy, cxy) = kahan_sum_inc(x * s.f, sum_xy, cxy);
        (sum_x2, cx2) = kahan_sum_inc(x * x, sum_x2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += cx;
    sum_y += cy;
    sum_xy += cxy;
    sum_x2 += cx2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// Tracks the counter reset hints of summed histograms.
#[derive(Default)]
struct HintTracker {
    reset: bool,
    not_reset: bool,
    reconciled: bool,
}

impl HintTracker {
    fn track(&mut self, h: &FloatHistogram) {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => self.reset = true,
            CounterResetHint::NotCounterReset => self.not_reset = true,
            _ => {}
        }
    }
    fn report(&self, ann: &mut Annotations) {
        if self.reset && self.not_reset {
            ann.warn(anno::counter_reset_collision("aggregation"));
        }
        if self.reconciled {
            ann.info(anno::mismatched_custom_buckets("aggregation"));
        }
    }
}

fn sum_histograms(hs: &[HPoint], tr: &mut HintTracker) -> Result<FloatHistogram, HistogramError> {
    let mut sum = (*hs[0].h).clone();
    tr.track(&sum);
    let mut comp: Option<FloatHistogram> = None;
    for p in &hs[1..] {
        tr.track(&p.h);
        let (c, o) = sum.kahan_add(&p.h, comp.take())?;
        tr.reconciled |= o.nhcb_bounds_reconciled;
        comp = Some(c);
    }
    if let Some(c) = comp {
        let o = sum.add(&c)?;
        tr.reconciled |= o.nhcb_bounds_reconciled;
    }
    Ok(sum)
}

fn avg_histograms(hs: &[HPoint], tr: &mut HintTracker) -> Result<FloatHistogram, HistogramError> {
    let mut sum = (*hs[0].h).clone();
    tr.track(&sum);
    let mut mean: Option<FloatHistogram> = None;
    let mut kc: Option<FloatHistogram> = None;
    let mut count = 1.0;
    let mut incremental = false;
    for (i, p) in hs[1..].iter().enumerate() {
        tr.track(&p.h);
        count = (i + 2) as f64;
        if !incremental {
            let mut sum_copy = sum.clone();
            let (c_copy, o) = sum_copy.kahan_add(&p.h, kc.clone())?;
            tr.reconciled |= o.nhcb_bounds_reconciled;
            if !sum_copy.has_overflow() {
                sum = sum_copy;
                kc = Some(c_copy);
                continue;
            }
            incremental = true;
            let mut m = sum.clone();
            m.div(count - 1.0);
            mean = Some(m);
            if let Some(k) = kc.as_mut() {
                k.div(count - 1.0);
            }
        }
        let q = (count - 1.0) / count;
        if let Some(k) = kc.as_mut() {
            k.mul(q);
        }
        let mut to_add = (*p.h).clone();
        to_add.div(count);
        let m = mean.get_or_insert_with(|| sum.clone());
        m.mul(q);
        let (c, o) = m.kahan_add(&to_add, kc.take())?;
        tr.reconciled |= o.nhcb_bounds_reconciled;
        kc = Some(c);
    }
    if incremental {
        let mut m = mean.unwrap_or(sum);
        if let Some(k) = kc {
            m.add(&k)?;
        }
        return Ok(m);
    }
    sum.div(count);
    if let Some(mut k) = kc {
        k.div(count);
        sum.add(&k)?;
    }
    Ok(sum)
}

fn over_time(
    c: &FnCall,
    s: &Series,
    sts: &StartTimestamps,
    ann: &mut Annotations,
) -> Result<Option<Out>, EvalError> {
    let name = metric_name(&s.metric);
    let fl = &s.floats;
    let has_h = !s.histograms.is_empty();
    let ignored_info = |ann: &mut Annotations| {
        if has_h {
            ann.info(anno::histogram_ignored_in_mixed_range(name));
        }
    };
    let r = match c.name {
        "count_over_time" => Out::F((fl.len() + s.histograms.len()) as f64),
        "present_over_time" => Out::F(1.0),
        "sum_over_time" | "avg_over_time" => {
            if !fl.is_empty() && has_h {
                ann.warn(anno::mixed_floats_histograms(name));
                return Ok(None);
            }
            if fl.is_empty() {
                let mut tr = HintTracker::default();
                let res = if c.name == "sum_over_time" {
                    sum_histograms(&s.histograms, &mut tr)
                } else {
                    avg_histograms(&s.histograms, &mut tr)
                };
                match res {
                    Ok(h) => {
                        tr.report(ann);
                        Out::H(h)
                    }
                    Err(_) => {
                        ann.warn(anno::mixed_exponential_custom(name));
                        return Ok(None);
                    }
                }
            } else if c.name == "sum_over_time" {
                let (mut sum, mut comp) = (0.0, 0.0);
                for p in fl {
                    (sum, comp) = kahan_sum_inc(p.f, sum, comp);
                }
                Out::F(if sum.is_infinite() { sum } else { sum + comp })
            } else {
                Out::F(avg_floats(fl))
            }
        }
        "min_over_time" | "max_over_time" | "ts_of_min_over_time" | "ts_of_max_over_time" => {
            if fl.is_empty() {
                return Ok(None);
            }
            ignored_info(ann);
            let (mut v, mut t) = (fl[0].f, fl[0].t);
            for p in fl {
                let better = match c.name {
                    "max_over_time" => p.f > v || v.is_nan(),
                    "min_over_time" => p.f < v || v.is_nan(),
                    "ts_of_max_over_time" => p.f >= v || v.is_nan(),
                    _ => p.f <= v || v.is_nan(),
                };
                if better {
                    v = p.f;
                    t = p.t;
                }
            }
            Out::F(if c.name.starts_with("ts_of") {
                t as f64 / 1000.0
            } else {
                v
            })
        }
        "first_over_time" => {
            let f = fl.first();
            let h = s.histograms.first();
            match (f, h) {
                (Some(f), Some(h)) if h.t <= f.t => Out::H((*h.h).clone()),
                (None, Some(h)) => Out::H((*h.h).clone()),
                (Some(f), _) => Out::F(f.f),
                (None, None) => return Ok(None),
            }
        }
        "last_over_time" => {
            let f = fl.last();
            let h = s.histograms.last();
            match (f, h) {
                (Some(f), Some(h)) if h.t >= f.t => Out::H((*h.h).clone()),
                (None, Some(h)) => Out::H((*h.h).clone()),
                (Some(f), _) => Out::F(f.f),
                (None, None) => return Ok(None),
            }
        }
        "ts_of_first_over_time" => {
            let tf = fl.first().map(|p| p.t).unwrap_or(i64::MAX);
            let th = s.histograms.first().map(|p| p.t).unwrap_or(i64::MAX);
            Out::F(tf.min(th) as f64 / 1000.0)
        }
        "ts_of_last_over_time" => {
            let tf = fl.last().map(|p| p.t).unwrap_or(0);
            let th = s.histograms.last().map(|p| p.t).unwrap_or(0);
            Out::F(tf.max(th) as f64 / 1000.0)
        }
        "mad_over_time" => {
            if fl.is_empty() {
                return Ok(None);
            }
            ignored_info(ann);
            // A NaN sample makes the result NaN (v3.14's functions.test).
            if fl.iter().any(|p| p.f.is_nan()) {
                return Ok(Some(Out::F(f64::NAN)));
            }
            let mut vals: Vec<f64> = fl.iter().map(|p| p.f).collect();
            let median = quantile(0.5, &mut vals);
            let mut dev: Vec<f64> = fl.iter().map(|p| (p.f - median).abs()).collect();
            Out::F(quantile(0.5, &mut dev))
        }
        "quantile_over_time" => {
            let Some(q) = c.scalar(0) else {
                return Ok(None);
            };
            if fl.is_empty() {
                return Ok(None);
            }
            if q.is_nan() || !(0.0..=1.0).contains(&q) {
                ann.warn(anno::invalid_quantile(q));
            }
            ignored_info(ann);
            let mut vals: Vec<f64> = fl.iter().map(|p| p.f).collect();
            Out::F(quantile(q, &mut vals))
        }
        "stddev_over_time" | "stdvar_over_time" => {
            if fl.is_empty() {
                return Ok(None);
            }
            ignored_info(ann);
            let (mut count, mut mean, mut cmean, mut aux, mut caux) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for p in fl {
                count += 1.0;
                let delta = p.f - (mean + cmean);
                (mean, cmean) = kahan_sum_inc(delta / count, mean, cmean);
                (aux, caux) = kahan_sum_inc(delta * (p.f - (mean + cmean)), aux, caux);
            }
            let var = (aux + caux) / count;
            Out::F(if c.name == "stddev_over_time" {
                var.sqrt()
            } else {
                var
            })
        }
        "deriv" | "predict_linear" => {
            if fl.len() < 2 {
                if fl.len() == 1 && has_h {
                    ann.info(anno::histogram_ignored_in_mixed_range(name));
                }
                return Ok(None);
            }
            let v = if c.name == "deriv" {
                linear_regression(fl, fl[0].t).0
            } else {
                let Some(d) = c.scalar(1) else {
                    return Ok(None);
                };
                let (slope, intercept) = linear_regression(fl, c.ts);
                slope * d + intercept
            };
            ignored_info(ann);
            Out::F(v)
        }
        "double_exponential_smoothing" => {
            let (sf, tf) = (
                c.scalar(1).unwrap_or(f64::NAN),
                c.scalar(2).unwrap_or(f64::NAN),
            );
            let l = fl.len();
            if l < 2 {
                if l == 1 && has_h {
                    ann.info(anno::histogram_ignored_in_mixed_range(name));
                }
                return Ok(None);
            }
            let (mut s0, mut s1) = (0.0, fl[0].f);
            let mut b = fl[1].f - fl[0].f;
            for (i, p) in fl.iter().enumerate().skip(1) {
                let x = sf * p.f;
                if i - 1 != 0 {
                    b = tf * (s1 - s0) + (1.0 - tf) * b;
                }
                let y = (1.0 - sf) * (s1 + b);
                s0 = s1;
                s1 = x + y;
            }
            ignored_info(ann);
            Out::F(s1)
        }
        "resets" | "changes" => {
            let timeline = merge_timeline(fl, &s.histograms, sts);
            let first = if c.anchored() {
                // The anchor is the last sample (float or histogram) at or before the
                // range start.
                let start = c.range_start;
                match timeline.last() {
                    Some(p) if p.0 > start => {}
                    _ => return Ok(None),
                }
                search(timeline.len() - 1, |i| timeline[i].0 > start).saturating_sub(1)
            } else {
                0
            };
            Out::F(count_changes(&timeline[first..], c.name == "resets") as f64)
        }
        _ => return Ok(None),
    };
    Ok(Some(r))
}

/// One sample of a series: time, float value, histogram, start time (0 = unknown).
type TimelinePoint<'a> = (i64, f64, Option<&'a FloatHistogram>, i64);

/// Floats and histograms of a series merged in time order.
fn merge_timeline<'a>(
    fl: &[FPoint],
    hs: &'a [HPoint],
    sts: &StartTimestamps,
) -> Vec<TimelinePoint<'a>> {
    let mut out = Vec::with_capacity(fl.len() + hs.len());
    let (mut i, mut j) = (0, 0);
    while i < fl.len() || j < hs.len() {
        if j >= hs.len() || (i < fl.len() && fl[i].t < hs[j].t) {
            out.push((fl[i].t, fl[i].f, None, st_at(sts.floats, i)));
            i += 1;
        } else if i >= fl.len() || fl[i].t > hs[j].t {
            out.push((hs[j].t, 0.0, Some(&*hs[j].h), st_at(sts.histograms, j)));
            j += 1;
        } else {
            // A float and a histogram at one timestamp cannot both be stored; keep the
            // histogram.
            i += 1;
        }
    }
    out
}

/// `resets`/`changes` over a merged timeline (resets also count start-time resets).
fn count_changes(tl: &[TimelinePoint], resets: bool) -> usize {
    let mut n = 0;
    for w in tl.windows(2) {
        let (p, cur) = (w[0], w[1]);
        let st_reset = resets && is_start_timestamp_reset(p.3, p.0, cur.3, cur.0);
        match (p.2, cur.2) {
            (None, None) => {
                if resets {
                    if cur.1 < p.1 || st_reset {
                        n += 1;
                    }
                } else if cur.1 != p.1 && !(cur.1.is_nan() && p.1.is_nan()) {
                    n += 1;
                }
            }
            (Some(ph), Some(ch)) => {
                if resets {
                    if st_reset || ch.detect_reset(ph) {
                        n += 1;
                    }
                } else if !ch.equals(ph) {
                    n += 1;
                }
            }
            _ => n += 1,
        }
    }
    n
}

/// `avg_over_time` of floats: Kahan-compensated direct mean, switching to an incremental mean
/// if the running sum would overflow.
fn avg_floats(fl: &[FPoint]) -> f64 {
    let (mut sum, mut count) = (fl[0].f, 1.0);
    let (mut mean, mut c) = (0.0, 0.0);
    let mut incremental = false;
    for (i, p) in fl[1..].iter().enumerate() {
        count = (i + 2) as f64;
        if !incremental {
            let (ns, nc) = kahan_sum_inc(p.f, sum, c);
            if !ns.is_infinite() {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_sum_inc(p.f / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}
