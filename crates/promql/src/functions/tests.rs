//! Unit tests per function family, with inputs and expected values taken from Prometheus's
//! promqltest corpus (file and expression named in each test).

use promplay_model::{CounterResetHint, FloatHistogram, Labels, Span as HSpan};

use super::*;
use crate::ast::{self, Duration, MatrixSelector, VectorSelector};
use crate::value::{FPoint, HPoint, Series};

fn selector(anchored: bool, smoothed: bool) -> Expr {
    Expr::MatrixSelector(MatrixSelector {
        vector_selector: VectorSelector {
            name: Some("metric".into()),
            matchers: vec![],
            offset: Duration::Literal(0),
            timestamp: None,
            start_or_end: None,
            anchored,
            smoothed,
            bypass_empty_matcher_check: false,
            span: ast::Span::default(),
        },
        range: Duration::Literal(60_000),
        span: ast::Span::default(),
    })
}

fn series(points: &[(i64, f64)]) -> Series {
    Series {
        metric: Labels::from_pairs(&[("__name__", "metric")]),
        floats: points.iter().map(|&(t, f)| FPoint { t, f }).collect(),
        ..Default::default()
    }
}

/// Calls a one-matrix-argument function over `(range, ts]`, returning the single value.
fn range_call(
    name: &str,
    s: Series,
    ts: i64,
    range: i64,
    expr: Expr,
    extra: &[FnArg],
) -> (Option<f64>, Annotations) {
    let m = vec![s];
    let mut args = vec![FnArg::Matrix(&m)];
    args.extend_from_slice(extra);
    let exprs = vec![expr];
    let c = FnCall {
        name,
        ts,
        args: &args,
        exprs: &exprs,
        range_start: ts - range,
        range_end: ts,
    };
    let mut ann = Annotations::default();
    let v = call(&c, &mut ann).unwrap();
    (v.first().map(|s| s.f), ann)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (a.abs() + b.abs()).max(1e-300)
}

/// extended_vectors.test: `load 15s metric 1+1x4 9+1x4`.
fn prom52(upto: i64) -> Series {
    let vals = [1., 2., 3., 4., 5., 9., 10., 11., 12., 13.];
    let pts: Vec<(i64, f64)> = vals
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as i64 * 15_000, v))
        .filter(|&(t, _)| t <= upto)
        .collect();
    series(&pts)
}

#[test]
fn increase_extrapolates() {
    // extended_vectors.test, plain `increase(metric[1m])`.
    for (ts, want) in [
        (20_000, 1.833333333),
        (35_000, 2.833333333),
        (50_000, 4.0),
        (80_000, 8.0),
    ] {
        let mut s = prom52(ts);
        s.floats.retain(|p| p.t > ts - 60_000);
        let (v, _) = range_call("increase", s, ts, 60_000, selector(false, false), &[]);
        assert!(close(v.unwrap(), want), "at {ts}: {v:?} != {want}");
    }
}

#[test]
fn increase_anchored_and_smoothed() {
    // extended_vectors.test: anchored 0 1 2 3 4 7 …, smoothed 0.333 1.333 … 5 7 … 6.
    let anchored = [
        (5_000, 0.0),
        (20_000, 1.0),
        (65_000, 4.0),
        (80_000, 7.0),
        (125_000, 7.0),
    ];
    for (ts, want) in anchored {
        let (v, _) = range_call(
            "increase",
            prom52(ts),
            ts,
            60_000,
            selector(true, false),
            &[],
        );
        assert!(close(v.unwrap(), want), "anchored at {ts}: {v:?} != {want}");
    }
    let smoothed = [
        (5_000, 0.333333333),
        (50_000, 3.333333333),
        (65_000, 5.0),
        (80_000, 7.0),
        (125_000, 6.0),
    ];
    for (ts, want) in smoothed {
        let (v, _) = range_call(
            "increase",
            prom52(ts + 300_000),
            ts,
            60_000,
            selector(false, true),
            &[],
        );
        assert!(close(v.unwrap(), want), "smoothed at {ts}: {v:?} != {want}");
    }
}

#[test]
fn irate_uses_last_two_samples() {
    // A counter reset between the last two samples: irate is last value / interval.
    let s = series(&[(0, 5.0), (10_000, 10.0), (20_000, 2.0)]);
    let (v, _) = range_call("irate", s, 20_000, 60_000, selector(false, false), &[]);
    assert_eq!(v, Some(0.2));
    let s = series(&[(0, 5.0), (10_000, 10.0), (20_000, 12.0)]);
    let (v, _) = range_call("idelta", s, 20_000, 60_000, selector(false, false), &[]);
    assert_eq!(v, Some(2.0));
}

#[test]
fn over_time_family() {
    // functions.test: data{type="numbers"} 2 0 3 at 10s steps, range 1m at 20s.
    let s = || series(&[(0, 2.0), (10_000, 0.0), (20_000, 3.0)]);
    let e = || selector(false, false);
    let get = |n: &str| range_call(n, s(), 20_000, 60_000, e(), &[]).0.unwrap();
    assert_eq!(get("sum_over_time"), 5.0);
    assert!(close(get("avg_over_time"), 5.0 / 3.0));
    assert_eq!(get("min_over_time"), 0.0);
    assert_eq!(get("max_over_time"), 3.0);
    assert_eq!(get("count_over_time"), 3.0);
    assert_eq!(get("last_over_time"), 3.0);
    assert_eq!(get("first_over_time"), 2.0);
    assert_eq!(get("ts_of_max_over_time"), 20.0);
    assert_eq!(get("ts_of_min_over_time"), 10.0);
    assert_eq!(get("changes"), 2.0);
    assert_eq!(get("resets"), 1.0);
    assert!(close(get("stdvar_over_time"), 14.0 / 9.0));
    let (q, _) = range_call("quantile_over_time", s(), 20_000, 60_000, e(), &[]);
    assert!(q.is_none(), "no quantile without q");
}

#[test]
fn quantile_over_time_takes_q_first() {
    let s = series(&[(0, 2.0), (10_000, 0.0), (20_000, 3.0)]);
    let m = vec![s];
    let args = [FnArg::Scalar(0.5), FnArg::Matrix(&m)];
    let exprs = vec![
        Expr::NumberLiteral(ast::NumberLiteral {
            val: 0.5,
            duration: false,
            span: ast::Span::default(),
        }),
        selector(false, false),
    ];
    let c = FnCall {
        name: "quantile_over_time",
        ts: 20_000,
        args: &args,
        exprs: &exprs,
        range_start: -40_000,
        range_end: 20_000,
    };
    let mut ann = Annotations::default();
    assert_eq!(call(&c, &mut ann).unwrap()[0].f, 2.0);
}

#[test]
fn deriv_and_predict_linear() {
    // A straight line 0+10x… per 10s has slope 1/s.
    let s = series(&[(0, 0.0), (10_000, 10.0), (20_000, 20.0)]);
    let (v, _) = range_call(
        "deriv",
        s.clone(),
        20_000,
        60_000,
        selector(false, false),
        &[],
    );
    assert!(close(v.unwrap(), 1.0));
    let (v, _) = range_call(
        "predict_linear",
        s,
        20_000,
        60_000,
        selector(false, false),
        &[FnArg::Scalar(10.0)],
    );
    assert!(close(v.unwrap(), 30.0));
}

fn vec_of(vals: &[f64]) -> Vector {
    vals.iter()
        .enumerate()
        .map(|(i, &f)| {
            let id = i.to_string();
            Sample::float(Labels::from_pairs(&[("__name__", "m"), ("i", &id)]), 0, f)
        })
        .collect()
}

fn instant(name: &str, args: &[FnArg]) -> (Vector, Annotations) {
    let c = FnCall {
        name,
        ts: 0,
        args,
        exprs: &[],
        range_start: 0,
        range_end: 0,
    };
    let mut ann = Annotations::default();
    (call(&c, &mut ann).unwrap(), ann)
}

#[test]
fn math_functions() {
    let v = vec_of(&[-1.5, 0.5, 2.5]);
    let (out, _) = instant("abs", &[FnArg::Vector(&v)]);
    assert_eq!(
        out.iter().map(|s| s.f).collect::<Vec<_>>(),
        vec![1.5, 0.5, 2.5]
    );
    assert!(out.iter().all(|s| s.drop_name));
    // round ties up: functions.test round(0.5)=1, round(-1.5)=-1, round(2.5)=3.
    let (out, _) = instant("round", &[FnArg::Vector(&v)]);
    assert_eq!(
        out.iter().map(|s| s.f).collect::<Vec<_>>(),
        vec![-1.0, 1.0, 3.0]
    );
    let (out, _) = instant(
        "clamp",
        &[FnArg::Vector(&v), FnArg::Scalar(0.0), FnArg::Scalar(1.0)],
    );
    assert_eq!(
        out.iter().map(|s| s.f).collect::<Vec<_>>(),
        vec![0.0, 0.5, 1.0]
    );
    let (out, _) = instant(
        "clamp",
        &[FnArg::Vector(&v), FnArg::Scalar(5.0), FnArg::Scalar(1.0)],
    );
    assert!(out.is_empty());
    let (out, _) = instant("scalar", &[FnArg::Vector(&v)]);
    assert!(out[0].f.is_nan());
    let (out, _) = instant(
        "sort_desc",
        &[FnArg::Vector(&vec_of(&[1.0, f64::NAN, 3.0]))],
    );
    assert_eq!(out[0].f, 3.0);
    assert!(out[2].f.is_nan());
}

#[test]
fn date_functions() {
    // functions.test: year(vector(1136239445)) == 2006, hour(...) == 22.
    let v = vec_of(&[1136239445.0]);
    assert_eq!(instant("year", &[FnArg::Vector(&v)]).0[0].f, 2006.0);
    assert_eq!(instant("hour", &[FnArg::Vector(&v)]).0[0].f, 22.0);
    assert_eq!(instant("day_of_week", &[]).0[0].f, 4.0);
}

#[test]
fn label_replace_and_join() {
    // functions.test: label_replace(testmetric, "dst", "destination-value-$1", "src", "source-value-(.*)")
    let v = vec![Sample::float(
        Labels::from_pairs(&[("__name__", "testmetric"), ("src", "source-value-10")]),
        0,
        0.0,
    )];
    let args = [
        FnArg::Vector(&v),
        FnArg::String("dst"),
        FnArg::String("destination-value-$1"),
        FnArg::String("src"),
        FnArg::String("source-value-(.*)"),
    ];
    let (out, _) = instant("label_replace", &args);
    assert_eq!(out[0].metric.get("dst"), Some("destination-value-10"));
    let args = [
        FnArg::Vector(&v),
        FnArg::String("dst"),
        FnArg::String("-"),
        FnArg::String("src"),
        FnArg::String("__name__"),
    ];
    let (out, _) = instant("label_join", &args);
    assert_eq!(out[0].metric.get("dst"), Some("source-value-10-testmetric"));
    let bad = [
        FnArg::Vector(&v),
        FnArg::String("dst"),
        FnArg::String(""),
        FnArg::String("src"),
        FnArg::String("(.*"),
    ];
    let c = FnCall {
        name: "label_replace",
        ts: 0,
        args: &bad,
        exprs: &[],
        range_start: 0,
        range_end: 0,
    };
    let err = call(&c, &mut Annotations::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid regular expression in label_replace(): (.*"
    );
}

fn hist(schema: i32, count: f64, sum: f64, offset: i32, buckets: &[f64]) -> FloatHistogram {
    FloatHistogram {
        schema,
        count,
        sum,
        positive_spans: vec![HSpan {
            offset,
            length: buckets.len() as u32,
        }],
        positive_buckets: buckets.to_vec(),
        ..Default::default()
    }
}

#[test]
fn histogram_functions() {
    let h = hist(0, 4.0, 8.0, 0, &[1.0, 2.0, 1.0]);
    let v = vec![Sample {
        metric: Labels::from_pairs(&[("__name__", "h")]),
        t: 0,
        f: 0.0,
        h: Some(Box::new(h)),
        drop_name: false,
    }];
    assert_eq!(instant("histogram_count", &[FnArg::Vector(&v)]).0[0].f, 4.0);
    assert_eq!(instant("histogram_avg", &[FnArg::Vector(&v)]).0[0].f, 2.0);
    // Median: rank 2 is halfway into bucket (1,2]; exponential buckets interpolate on a
    // log scale, giving 2^0.5.
    let (out, _) = instant(
        "histogram_quantile",
        &[FnArg::Scalar(0.5), FnArg::Vector(&v)],
    );
    assert!(close(out[0].f, std::f64::consts::SQRT_2), "{}", out[0].f);
    // Everything up to 1 is the first bucket's single observation: 1/4.
    let (out, _) = instant(
        "histogram_fraction",
        &[FnArg::Scalar(0.0), FnArg::Scalar(1.0), FnArg::Vector(&v)],
    );
    assert!(close(out[0].f, 0.25), "{}", out[0].f);
    let (_, ann) = instant(
        "histogram_quantile",
        &[FnArg::Scalar(1.5), FnArg::Vector(&v)],
    );
    assert_eq!(
        ann.warnings,
        vec!["PromQL warning: quantile value should be between 0 and 1, got 1.5".to_string()]
    );
}

#[test]
fn classic_histogram_quantile_warns_on_bad_le() {
    let v = vec![
        Sample::float(
            Labels::from_pairs(&[("__name__", "x_bucket"), ("le", "1")]),
            0,
            1.0,
        ),
        Sample::float(
            Labels::from_pairs(&[("__name__", "x_bucket"), ("le", "+Inf")]),
            0,
            2.0,
        ),
        Sample::float(
            Labels::from_pairs(&[("__name__", "x_bucket"), ("le", "foo")]),
            0,
            2.0,
        ),
    ];
    let (out, ann) = instant(
        "histogram_quantile",
        &[FnArg::Scalar(0.5), FnArg::Vector(&v)],
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].f, 1.0);
    assert_eq!(out[0].metric, Labels::empty());
    assert_eq!(
        ann.warnings,
        vec!["PromQL warning: bucket label \"le\" is missing or has a malformed value of \"foo\" for metric name \"x_bucket\"".to_string()]
    );
}

#[test]
fn histogram_rate_and_gauge_warning() {
    // native_histograms.test: rate over gauge histograms warns "not a counter".
    let mut h1 = hist(0, 1.0, 1.0, 0, &[1.0]);
    h1.counter_reset_hint = CounterResetHint::Gauge;
    let mut h2 = hist(0, 2.0, 2.0, 0, &[2.0]);
    h2.counter_reset_hint = CounterResetHint::Gauge;
    let s = Series {
        metric: Labels::from_pairs(&[("__name__", "some_metric")]),
        histograms: vec![
            HPoint {
                t: 0,
                h: Box::new(h1),
            },
            HPoint {
                t: 30_000,
                h: Box::new(h2),
            },
        ],
        ..Default::default()
    };
    let m = vec![s];
    let args = [FnArg::Matrix(&m)];
    let exprs = vec![selector(false, false)];
    let c = FnCall {
        name: "rate",
        ts: 30_000,
        args: &args,
        exprs: &exprs,
        range_start: -30_000,
        range_end: 30_000,
    };
    let mut ann = Annotations::default();
    let out = call(&c, &mut ann).unwrap();
    let h = out[0].h.as_ref().unwrap();
    // {{count:0.03333333333333333 sum:0.03333333333333333 buckets:[0.03333333333333333]}}
    assert!(close(h.count, 0.03333333333333333));
    assert!(close(h.positive_buckets[0], 0.03333333333333333));
    assert_eq!(
        ann.warnings,
        vec![
            "PromQL warning: this native histogram metric is not a counter: \"some_metric\""
                .to_string()
        ]
    );
}

/// Calls `increase` over one series with start timestamps.
fn increase_with_st(points: &[(i64, f64, i64)], ts: i64, range: i64) -> Option<f64> {
    let s = series(&points.iter().map(|&(t, f, _)| (t, f)).collect::<Vec<_>>());
    let sts: Vec<i64> = points.iter().map(|p| p.2).collect();
    let m = vec![s];
    let args = [FnArg::Matrix(&m)];
    let exprs = vec![selector(false, false)];
    let c = FnCall {
        name: "increase",
        ts,
        args: &args,
        exprs: &exprs,
        range_start: ts - range,
        range_end: ts,
    };
    let st = StartTimestamps {
        floats: &sts,
        histograms: &[],
    };
    let v = call_with_start_timestamps(&c, Some(&st), &mut Annotations::default()).unwrap();
    v.first().map(|s| s.f)
}

const M: i64 = 60_000;

#[test]
fn start_timestamps_replace_left_extrapolation() {
    // start_timestamps.test, `eval instant at 6m increase(series[5m])`:
    // st_inside_extrapolate_right (values 1..4 at 2m..5m, start 1m30s) = 5.142857142857143.
    let pts: Vec<(i64, f64, i64)> = (0..4)
        .map(|k| ((2 + k) * M, (k + 1) as f64, 90_000))
        .collect();
    assert!(close(
        increase_with_st(&pts, 6 * M, 5 * M).unwrap(),
        5.142857142857143
    ));
    // st_after_t (values 1..5, start 2m+1ms for all): a reset at 3m, then extrapolation: 6.
    let pts: Vec<(i64, f64, i64)> = (0..5)
        .map(|k| ((2 + k) * M, (k + 1) as f64, 2 * M + 1))
        .collect();
    assert!(close(increase_with_st(&pts, 6 * M, 5 * M).unwrap(), 6.0));
    // st_inside_single_datapoint (3 at 4m, start 1m30s) = 3.
    assert_eq!(
        increase_with_st(&[(4 * M, 3.0, 90_000)], 6 * M, 5 * M),
        Some(3.0)
    );
    // Without a start time a single point gives nothing.
    assert_eq!(increase_with_st(&[(4 * M, 3.0, 0)], 6 * M, 5 * M), None);
}

#[test]
fn start_timestamp_resets() {
    // `eval instant at 3m round(increase(series[1m1ms]))`: otel_delta 1, unknown start 0,
    // invalid previous start 0.
    let r = |st0, st1| {
        increase_with_st(&[(2 * M, 1.0, st0), (3 * M, 1.0, st1)], 3 * M, M + 1)
            .unwrap()
            .round()
    };
    assert_eq!(r(M, 2 * M), 1.0);
    assert_eq!(r(0, 2 * M), 0.0);
    assert_eq!(r(2 * M, 2 * M), 0.0);
    assert_eq!(r(3 * M, 2 * M), 0.0);
    assert!(is_start_timestamp_reset(0, 10, 11, 20));
    assert!(!is_start_timestamp_reset(0, 10, 20, 20));
}

#[test]
fn sort_by_label_orders_naturally_then_by_labels() {
    // functions.test: sort_by_label(http_requests, "instance") orders instance 0 < 1 < 2 and
    // ties by the full label set (group, then job).
    let mk = |g: &str, i: &str, j: &str| {
        Sample::float(
            Labels::from_pairs(&[("group", g), ("instance", i), ("job", j)]),
            0,
            1.0,
        )
    };
    let v = vec![
        mk("production", "1", "api-server"),
        mk("canary", "2", "api-server"),
        mk("production", "0", "api-server"),
        mk("canary", "0", "app-server"),
        mk("canary", "0", "api-server"),
    ];
    let (out, _) = instant(
        "sort_by_label",
        &[FnArg::Vector(&v), FnArg::String("instance")],
    );
    let got: Vec<(&str, &str, &str)> = out
        .iter()
        .map(|s| {
            (
                s.metric.get_or_empty("instance"),
                s.metric.get_or_empty("group"),
                s.metric.get_or_empty("job"),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("0", "canary", "api-server"),
            ("0", "canary", "app-server"),
            ("0", "production", "api-server"),
            ("1", "production", "api-server"),
            ("2", "canary", "api-server"),
        ]
    );
}

#[test]
fn double_exponential_smoothing_follows_a_line() {
    // functions.test: http_requests 0+10x1000 at 10s; at 8000s over [1m] with sf 0.01, tf 0.1
    // the smoothed value is 8000.
    let pts: Vec<(i64, f64)> = (795..=800).map(|k| (k * 10_000, k as f64 * 10.0)).collect();
    let (v, _) = range_call(
        "double_exponential_smoothing",
        series(&pts),
        8_000_000,
        60_000,
        selector(false, false),
        &[FnArg::Scalar(0.01), FnArg::Scalar(0.1)],
    );
    assert!(close(v.unwrap(), 8000.0), "{v:?}");
    let m = vec![series(&pts)];
    let args = [FnArg::Matrix(&m), FnArg::Scalar(1.0), FnArg::Scalar(0.1)];
    let exprs = vec![selector(false, false)];
    let c = FnCall {
        name: "double_exponential_smoothing",
        ts: 0,
        args: &args,
        exprs: &exprs,
        range_start: 0,
        range_end: 0,
    };
    let err = call(&c, &mut Annotations::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000"
    );
}

#[test]
fn absent_uses_equality_matchers() {
    // functions.test: absent(nonexistent{job="testjob", instance="testinstance", method=~".x"})
    // gives {instance="testinstance", job="testjob"} 1.
    use promplay_model::{MatchType, Matcher};
    let m = |k, n: &str, v: &str| Matcher::new(k, n, v).unwrap();
    let e = Expr::VectorSelector(VectorSelector {
        name: Some("nonexistent".into()),
        matchers: vec![
            m(MatchType::Equal, "__name__", "nonexistent"),
            m(MatchType::Equal, "job", "testjob"),
            m(MatchType::Equal, "instance", "testinstance"),
            m(MatchType::Regexp, "method", ".x"),
        ],
        offset: Duration::Literal(0),
        timestamp: None,
        start_or_end: None,
        anchored: false,
        smoothed: false,
        bypass_empty_matcher_check: false,
        span: ast::Span::default(),
    });
    let empty = Vector::new();
    let args = [FnArg::Vector(&empty)];
    let exprs = [e];
    let c = FnCall {
        name: "absent",
        ts: 0,
        args: &args,
        exprs: &exprs,
        range_start: 0,
        range_end: 0,
    };
    let out = call(&c, &mut Annotations::default()).unwrap();
    assert_eq!(
        out[0].metric,
        Labels::from_pairs(&[("instance", "testinstance"), ("job", "testjob")])
    );
    assert_eq!(out[0].f, 1.0);
}

/// Every range-vector function over random float/histogram windows (with and without start
/// timestamps, plain, anchored and smoothed): no panic.
#[test]
fn range_functions_never_panic() {
    let names = [
        "rate",
        "increase",
        "delta",
        "irate",
        "idelta",
        "avg_over_time",
        "sum_over_time",
        "count_over_time",
        "min_over_time",
        "max_over_time",
        "ts_of_min_over_time",
        "ts_of_max_over_time",
        "first_over_time",
        "last_over_time",
        "ts_of_first_over_time",
        "ts_of_last_over_time",
        "mad_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "present_over_time",
        "deriv",
        "resets",
        "changes",
        "absent_over_time",
    ];
    let mut seed: u64 = 42;
    let mut rnd = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    for round in 0..600 {
        let mut s = Series {
            metric: Labels::from_pairs(&[("__name__", "x")]),
            ..Default::default()
        };
        let mut t = 0;
        for _ in 0..rnd(6) {
            t += 1 + rnd(20_000) as i64;
            if rnd(2) == 0 {
                s.floats.push(FPoint {
                    t,
                    f: [0.0, 1.0, -1.0, f64::NAN, 5.0][rnd(5) as usize],
                });
            } else {
                let custom = rnd(3) == 0;
                let mut h = hist(
                    if custom { -53 } else { rnd(3) as i32 },
                    rnd(5) as f64,
                    rnd(5) as f64,
                    rnd(3) as i32,
                    &[rnd(3) as f64, rnd(3) as f64],
                );
                if custom {
                    h.custom_values = vec![1.0, 2.0];
                }
                if rnd(4) == 0 {
                    h.counter_reset_hint = CounterResetHint::Gauge;
                }
                s.histograms.push(HPoint { t, h: Box::new(h) });
            }
        }
        let name = names[round % names.len()];
        let expr = selector(rnd(3) == 0, rnd(3) == 0);
        let sts: Vec<i64> = (0..8).map(|_| rnd(100_000) as i64).collect();
        let m = vec![s];
        let args = [FnArg::Matrix(&m)];
        let exprs = vec![expr];
        let ts = t + rnd(10_000) as i64;
        let c = FnCall {
            name,
            ts,
            args: &args,
            exprs: &exprs,
            range_start: ts - 1 - rnd(100_000) as i64,
            range_end: ts,
        };
        let st = StartTimestamps {
            floats: &sts,
            histograms: &sts[..3],
        };
        let _ = call_with_start_timestamps(&c, Some(&st), &mut Annotations::default());
        let _ = call(&c, &mut Annotations::default());
    }
}
