//! Start timestamps from storage to the engine: a delta-style counter (each sample counts
//! the minute since its start timestamp) read with and without `use_start_timestamps`.

use promplay_model::Labels;
use promplay_promql::value::Value;
use promplay_promql::{Engine, EngineOptions};
use promplay_tsdb::{Db, Options};

/// `d_total`: 60 every minute, each sample starting where the previous one ended (an OTel
/// delta series); `c_total`: the same counter without start timestamps.
fn db() -> Db {
    let db = Db::new(Options::default());
    let d = Labels::from_pairs(&[("__name__", "d_total"), ("k", "d")]);
    let c = Labels::from_pairs(&[("__name__", "c_total"), ("k", "c")]);
    let mut app = db.appender();
    for k in 1..=10 {
        let t = k * 60_000;
        app.append_with_st(&d, t - 60_000, t, 60.0).expect("append");
        app.append(&c, t, 60.0 * k as f64).expect("append");
    }
    app.commit().expect("commit");
    db
}

fn engine(use_st: bool) -> Engine {
    Engine::new(EngineOptions {
        use_start_timestamps: use_st,
        ..Default::default()
    })
}

/// The instant vector's (name + `k`, value) pairs, sorted.
fn values(e: &Engine, db: &Db, q: &str, t: i64) -> Vec<(String, f64)> {
    let r = e.instant_query(db, q, t).expect("query");
    let Value::Vector(v) = r.value else {
        panic!("expected a vector, got {:?}", r.value)
    };
    let mut out: Vec<(String, f64)> = v
        .iter()
        .map(|s| {
            let l = &s.metric;
            (
                format!("{}{}", l.get_or_empty("__name__"), l.get_or_empty("k")),
                s.f,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn rate_sees_start_timestamp_resets_only_when_enabled() {
    let db = db();
    // Every delta sample is a reset: 4 × 60 between the window's 5 samples, extrapolated
    // to the whole 5m.
    let on = values(&engine(true), &db, "increase(d_total[5m])", 600_000);
    assert_eq!(on.len(), 1);
    assert!((on[0].1 - 300.0).abs() < 1e-9, "{on:?}");
    // Without start timestamps the series looks constant.
    let off = values(&engine(false), &db, "increase(d_total[5m])", 600_000);
    assert_eq!(off.len(), 1);
    assert_eq!(off[0].1, 0.0);
    // A series without start timestamps is unaffected by the option.
    for e in [engine(true), engine(false)] {
        let c = values(&e, &db, "rate(c_total[5m])", 600_000);
        assert!((c[0].1 - 1.0).abs() < 1e-9, "{c:?}");
    }
    // Subqueries do not carry start timestamps.
    let sub = values(&engine(true), &db, "increase(d_total[5m:1m])", 600_000);
    assert_eq!(sub[0].1, 0.0);
}

#[test]
fn start_timestamp_function() {
    let db = db();
    let e = engine(true);
    let r = values(&e, &db, "start_timestamp({__name__=~\".+\"})", 330_000);
    // The delta series' sample at 5m started at 4m; the counter's start is unknown (0).
    // The metric name is dropped, as by `timestamp()`.
    assert_eq!(r, vec![("c".to_string(), 0.0), ("d".to_string(), 240.0)]);
    // Not for expressions, nor with the option off.
    assert!(values(&e, &db, "start_timestamp(d_total * 1)", 330_000).is_empty());
    assert!(values(&engine(false), &db, "start_timestamp(d_total)", 330_000).is_empty());
}
