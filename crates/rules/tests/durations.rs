//! Evaluation durations come from the host's [`Clock::monotonic_ns`] with nanosecond
//! precision: a host whose queries take a quarter of a millisecond sees 0.00025 per rule in
//! `/api/v1/rules`, not 0; a virtual clock that does not move during an evaluation gives 0.

use std::cell::Cell;
use std::rc::Rc;

use promplay_model::{Clock, Labels, ManualClock};
use promplay_promql::{Engine, EngineOptions};
use promplay_rules::{engine_query_func, ManagerOptions, QueryFunc, RuleManager};
use promplay_tsdb::{Db, Options};
use serde_json::Value;

/// A clock whose monotonic reading only moves when a query runs (the work being measured).
struct WorkClock {
    ns: Rc<Cell<i64>>,
}

impl Clock for WorkClock {
    fn now_ms(&self) -> i64 {
        0
    }
    fn monotonic_ns(&self) -> i64 {
        self.ns.get()
    }
}

const RULES: &str = "groups:
- name: g
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: Down
    expr: up == 0
";

fn manager(query: Rc<QueryFunc>, db: &Db) -> RuleManager {
    let mut opts = ManagerOptions::new(query);
    opts.evaluation_interval_ms = 10_000;
    let mut mgr = RuleManager::new(opts);
    mgr.update(&[("rules.yml".into(), RULES.into())], false, 0, db)
        .expect("rules load");
    mgr
}

fn append_up(db: &Db, t: i64) {
    let mut app = db.appender();
    app.append(
        &Labels::from_pairs(&[("__name__", "up"), ("job", "node")]),
        t,
        1.0,
    )
    .unwrap();
    app.commit().unwrap();
}

fn evaluation_times(mgr: &RuleManager) -> (f64, Vec<f64>) {
    let v: Value =
        serde_json::from_str(&promplay_rules::api::rules_response(mgr.groups())).unwrap();
    let g = &v["data"]["groups"][0];
    let rules = g["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["evaluationTime"].as_f64().unwrap())
        .collect();
    (g["evaluationTime"].as_f64().unwrap(), rules)
}

#[test]
fn sub_millisecond_evaluation_times_reach_the_rules_api() {
    let db = Rc::new(Db::new(Options::default()));
    let ns = Rc::new(Cell::new(1_000_000_000_000));
    let inner = engine_query_func(Engine::new(EngineOptions::default()), db.clone());
    let ticks = ns.clone();
    // Every query takes 250 µs on the host's clock.
    let query: Rc<QueryFunc> = Rc::new(move |q: &str, t: i64| {
        ticks.set(ticks.get() + 250_000);
        inner(q, t)
    });
    let mut mgr = manager(query, &db);
    let clock = WorkClock { ns };
    let mut evaluated = false;
    for t in (0..=30_000).step_by(1_000) {
        append_up(&db, t);
        mgr.eval_due(t, &db, Some(&clock));
        evaluated |= mgr.groups()[0].last_evaluation_ms.is_some();
    }
    assert!(evaluated);
    let (group, rules) = evaluation_times(&mgr);
    assert_eq!(rules, vec![0.00025, 0.00025]);
    assert_eq!(group, 0.0005);
    assert_eq!(mgr.groups()[0].evaluation_duration_ns, 500_000);
}

#[test]
fn a_virtual_clock_still_within_an_evaluation_gives_zero() {
    let db = Rc::new(Db::new(Options::default()));
    let query = engine_query_func(Engine::new(EngineOptions::default()), db.clone());
    let mut mgr = manager(query, &db);
    let clock = ManualClock::new(0);
    for t in (0..=30_000).step_by(1_000) {
        clock.set(t);
        append_up(&db, t);
        mgr.eval_due(t, &db, Some(&clock));
    }
    assert!(mgr.groups()[0].last_evaluation_ms.is_some());
    assert_eq!(evaluation_times(&mgr), (0.0, vec![0.0, 0.0]));
    // The default reading is the virtual time in nanoseconds.
    clock.set(1_500);
    assert_eq!(clock.monotonic_ns(), 1_500_000_000);
}
