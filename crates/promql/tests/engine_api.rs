//! The engine's public API as the UI and the rule engine use it: parse + evaluate against a
//! TSDB, limits, interruption, result shapes.

use promplay_model::Labels;
use promplay_promql::value::Value;
use promplay_promql::{Engine, EngineOptions, QueryError, QueryOptions};
use promplay_tsdb::{Db, Options};

fn db_with(n_series: usize, n_samples: i64) -> Db {
    let db = Db::new(Options::default());
    let mut app = db.appender();
    for s in 0..n_series {
        let l = Labels::from_pairs(&[
            ("__name__", "m_total"),
            ("i", &format!("{s:03}")),
            ("job", if s % 2 == 0 { "a" } else { "b" }),
        ]);
        for k in 0..n_samples {
            app.append(&l, k * 15_000, (k * (s as i64 + 1)) as f64)
                .expect("append");
        }
    }
    app.commit().expect("commit");
    db
}

#[test]
fn instant_query_returns_a_vector_and_range_query_a_sorted_matrix() {
    let db = db_with(4, 41);
    let e = Engine::default();
    let r = e
        .instant_query(&db, "sum by (job) (rate(m_total[1m]))", 600_000)
        .expect("query");
    let Value::Vector(v) = r.value else {
        panic!("expected a vector, got {:?}", r.value)
    };
    assert_eq!(v.len(), 2);
    let a = v
        .iter()
        .find(|s| s.metric.get("job") == Some("a"))
        .expect("job a");
    // series 0 and 2 grow by 1 and 3 per 15s: (1+3)/15 per second
    assert!((a.f - 4.0 / 15.0).abs() < 1e-9, "{}", a.f);

    let r = e
        .range_query(&db, "m_total * 2", 0, 600_000, 60_000)
        .expect("range query");
    let Value::Matrix(m) = r.value else {
        panic!("expected a matrix")
    };
    assert_eq!(m.len(), 4);
    assert!(m.windows(2).all(|w| w[0].metric < w[1].metric));
    assert!(m
        .iter()
        .all(|s| s.floats.len() == 11 && !s.metric.has("__name__")));
}

#[test]
fn scalars_strings_and_parse_errors() {
    let db = db_with(1, 2);
    let e = Engine::default();
    match e.instant_query(&db, "1 + 2 * 3", 0).expect("query").value {
        Value::Scalar { v, .. } => assert_eq!(v, 7.0),
        o => panic!("expected a scalar, got {o:?}"),
    }
    match e.instant_query(&db, "\"x\"", 0).expect("query").value {
        Value::String { s, .. } => assert_eq!(s, "x"),
        o => panic!("expected a string, got {o:?}"),
    }
    let err = e.instant_query(&db, "sum(", 0).unwrap_err();
    assert!(matches!(err, QueryError::Parse(_)), "{err:?}");
    let err = e
        .range_query(&db, "m_total[5m]", 0, 60_000, 15_000)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"
    );
}

#[test]
fn too_many_samples_is_an_error() {
    let db = db_with(20, 41);
    let e = Engine::new(EngineOptions {
        max_samples: 100,
        ..Default::default()
    });
    let err = e
        .range_query(&db, "m_total", 0, 600_000, 15_000)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    // the same query fits a larger limit
    let e = Engine::new(EngineOptions {
        max_samples: 10_000,
        ..Default::default()
    });
    assert!(e.range_query(&db, "m_total", 0, 600_000, 15_000).is_ok());
}

#[test]
fn an_interrupt_stops_the_query() {
    let db = db_with(3, 41);
    let e = Engine::default();
    let expr = e.parse("rate(m_total[1m])").expect("parse");
    let stop = || true;
    let qo = QueryOptions {
        interrupt: Some(&stop),
        ..Default::default()
    };
    let err = e
        .range_query_expr(&db, &expr, 0, 600_000, 15_000, &qo)
        .unwrap_err();
    assert_eq!(err.to_string(), "query timed out in expression evaluation");
}

/// Regression: a subquery with billions of steps over sparse data used to loop without ever
/// asking the host whether to stop (the playground's tab froze on `x[1y:1ms]`).
#[test]
fn an_interrupt_stops_a_subquery_with_billions_of_steps() {
    let db = db_with(1, 3);
    let e = Engine::default();
    let expr = e.parse("count_over_time(m_total[1y:1ms])").expect("parse");
    let polls = std::cell::Cell::new(0u32);
    // The host's deadline passes after the 1000th poll.
    let stop = || {
        polls.set(polls.get() + 1);
        polls.get() > 1000
    };
    let qo = QueryOptions {
        interrupt: Some(&stop),
        ..Default::default()
    };
    let err = e
        .instant_query_expr(&db, &expr, 365 * 86_400_000, &qo)
        .unwrap_err();
    assert_eq!(err.to_string(), "query timed out in expression evaluation");
}

#[test]
fn lookback_delta_and_staleness() {
    let db = Db::new(Options::default());
    let mut app = db.appender();
    let l = Labels::from_pairs(&[("__name__", "up")]);
    app.append(&l, 0, 1.0).expect("append");
    app.append(&l, 10_000, promplay_model::STALE_NAN)
        .expect("append");
    app.commit().expect("commit");
    let e = Engine::default();
    let at = |t: i64| match e.instant_query(&db, "up", t).expect("query").value {
        Value::Vector(v) => v.len(),
        _ => usize::MAX,
    };
    assert_eq!(at(5_000), 1);
    assert_eq!(at(10_000), 0, "a stale marker ends the series");
    let e2 = Engine::new(EngineOptions {
        lookback_delta_ms: 1_000,
        ..Default::default()
    });
    match e2.instant_query(&db, "up", 5_000).expect("query").value {
        Value::Vector(v) => assert!(v.is_empty(), "outside a 1s lookback"),
        o => panic!("{o:?}"),
    }
}

#[test]
fn extreme_times_and_ranges_do_not_panic() {
    let db = db_with(2, 5);
    let e = Engine::new(EngineOptions {
        max_samples: 100_000,
        ..Default::default()
    });
    let queries = [
        "m_total offset 100000000y",
        "m_total offset -100000000y",
        "m_total @ 9223372036854775",
        "m_total @ -9223372036854775",
        "rate(m_total[100000000y])",
        "rate(m_total[1m] @ 9223372036854775)",
        "max_over_time(m_total[100000000y:1ms])",
        "sum_over_time(m_total[5m:1ms] offset 100000000y)",
        "m_total[5m:] @ -9223372036854775",
        "1 / 0",
        "-(-(-(m_total)))",
    ];
    for q in queries {
        for t in [i64::MIN, -1, 0, 1, i64::MAX] {
            let _ = e.instant_query(&db, q, t);
        }
        let _ = e.range_query(&db, q, 0, 60_000, 1);
        let _ = e.range_query(&db, q, i64::MAX - 10, i64::MAX, 1);
    }
}

#[test]
fn name_removal_is_immediate_by_default_and_delayed_on_request() {
    let db = db_with(1, 41);
    let q = r#"label_replace(rate(m_total[1m]), "was", "$1", "__name__", "(.*)")"#;
    let labels = |e: &Engine| match e.instant_query(&db, q, 600_000).expect("query").value {
        Value::Vector(v) => v.into_iter().map(|s| s.metric).collect::<Vec<_>>(),
        o => panic!("{o:?}"),
    };
    // Prometheus's default: rate() drops the name before label_replace sees it.
    let l = labels(&Engine::default());
    assert_eq!(l.len(), 1);
    assert!(!l[0].has("__name__") && !l[0].has("was"), "{:?}", l[0]);
    // With delayed removal the name is still there for label_replace, and dropped at the end.
    let e = Engine::new(EngineOptions {
        enable_delayed_name_removal: true,
        ..Default::default()
    });
    let l = labels(&e);
    assert!(!l[0].has("__name__"), "{:?}", l[0]);
    assert_eq!(l[0].get("was"), Some("m_total"));
}

#[test]
fn deeply_nested_expressions_evaluate() {
    let db = db_with(2, 5);
    let e = Engine::default();
    // As deep as the parser allows, in the shapes that recurse through the evaluator.
    for depth in [50usize, 120, 250] {
        let bin = format!("{}m_total{}", "(1 + ".repeat(depth), ")".repeat(depth));
        let neg = format!("{}m_total", "-".repeat(depth));
        let agg = format!("{}m_total{}", "sum(".repeat(depth), ")".repeat(depth));
        let fun = format!("{}m_total{}", "abs(".repeat(depth), ")".repeat(depth));
        for q in [bin, neg, agg, fun] {
            match e.instant_query(&db, &q, 60_000) {
                Ok(_) | Err(QueryError::Parse(_)) => {}
                Err(err) => panic!("{q}: {err}"),
            }
            let _ = e.range_query(&db, &q, 0, 60_000, 15_000);
        }
    }
}
