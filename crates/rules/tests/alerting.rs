//! The rule manager over a real TSDB and PromQL engine, on a virtual clock: the seed's
//! InstanceDown alert through its whole life (compare ../shared/samples/alert-timeline.log and
//! the README's timeline), keep_firing_for, resolved retention, limits, recording rules and
//! staleness, template expansion.

use std::rc::Rc;

use promplay_model::Labels;
use promplay_promql::value::Value;
use promplay_promql::{Engine, EngineOptions};
use promplay_rules::{engine_query_func, AlertState, ManagerOptions, NotifierAlert, RuleManager};
use promplay_tsdb::{Db, Options};

fn seed_rules() -> String {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/peers/conf/rules.yml"
    );
    std::fs::read_to_string(p).expect("the seed's rules.yml")
}

struct World {
    db: Rc<Db>,
    engine: Engine,
    mgr: RuleManager,
}

fn world(files: &[(&str, &str)], eval_interval_ms: i64, now: i64) -> World {
    let db = Rc::new(Db::new(Options::default()));
    let engine = Engine::new(EngineOptions::default());
    let mut opts = ManagerOptions::new(engine_query_func(engine.clone(), db.clone()));
    opts.evaluation_interval_ms = eval_interval_ms;
    opts.external_url = "http://vm:9090".into();
    let mut mgr = RuleManager::new(opts);
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect();
    mgr.update(&files, false, now, &db).expect("rules load");
    World { db, engine, mgr }
}

impl World {
    fn query(&self, q: &str, t: i64) -> Vec<(String, f64)> {
        let r = self.engine.instant_query(&*self.db, q, t).expect("query");
        let Value::Vector(v) = r.value else {
            panic!("not a vector")
        };
        let mut out: Vec<(String, f64)> = v.iter().map(|s| (s.metric.to_string(), s.f)).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn append(&self, labels: &Labels, t: i64, v: f64) {
        let mut app = self.db.appender();
        app.append(labels, t, v).expect("append");
        app.commit().expect("commit");
    }

    fn alert_state(&self) -> Option<AlertState> {
        let r = self.mgr.groups()[0].rules[0].as_alerting()?;
        r.alerts().next().map(|a| a.state)
    }
}

/// The seed's stack: scrape and evaluation every 10 s, `for: 1m`. The target is killed at
/// K; the next scrape (K+2.5 s) sees it down; the next evaluation (K+11 s) makes the alert
/// pending; one minute later (K+71 s) it fires — the README's timeline, exactly.
#[test]
fn seed_instance_down_timeline() {
    // The seed's rules.yml as is; the global evaluation_interval is 10 s.
    let rules = seed_rules();
    // Where group "example" of "rules.yml" evaluates: pick K so that an evaluation falls at
    // K + 11 s.
    let probe = world(&[("rules.yml", &rules)], 10_000, 0);
    let base = 1_795_612_000_000i64;
    let slot = probe.mgr.groups()[0].eval_timestamp(base);
    let k = slot + 20_000 - 11_000;
    assert_eq!((k + 11_000 - slot) % 10_000, 0);

    let start = k - 60_000;
    let mut w = world(&[("rules.yml", &rules)], 10_000, start);
    let up = Labels::from_pairs(&[
        ("__name__", "up"),
        ("instance", "localhost:9100"),
        ("job", "node"),
    ]);
    let restart = k + 160_000;
    let mut transitions: Vec<(i64, Option<AlertState>)> = Vec::new();
    let mut sent: Vec<(i64, NotifierAlert)> = Vec::new();
    let mut last = None;
    let mut t = start;
    while t <= k + 200_000 {
        // Scrapes at K + 2.5 s + 10 s·n.
        if (t - (k + 2_500)).rem_euclid(10_000) == 0 {
            let v = if t < k || t >= restart { 1.0 } else { 0.0 };
            w.append(&up, t, v);
        }
        for a in w.mgr.eval_due(t, &w.db, None) {
            sent.push((t, a));
        }
        let s = w.alert_state();
        if s != last {
            transitions.push((t - k, s));
            last = s;
        }
        t += 500;
    }
    assert_eq!(
        transitions,
        vec![
            (11_000, Some(AlertState::Pending)),
            (71_000, Some(AlertState::Firing)),
            (171_000, Some(AlertState::Inactive)),
        ]
    );
    let alert_labels = Labels::from_pairs(&[
        ("alertname", "InstanceDown"),
        ("instance", "localhost:9100"),
        ("job", "node"),
    ]);
    // Sent when it fires, re-sent after the 1m resend delay, and once resolved.
    let times: Vec<i64> = sent.iter().map(|(t, _)| t - k).collect();
    assert_eq!(times, vec![71_000, 141_000, 171_000]);
    let first = &sent[0].1;
    assert_eq!(first.labels, alert_labels);
    assert_eq!(first.starts_at, k + 71_000);
    assert_eq!(first.ends_at, k + 71_000 + 4 * 60_000);
    assert_eq!(
        first.generator_url,
        "http://vm:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
    );
    assert_eq!(sent[2].1.ends_at, k + 171_000);
    assert_eq!(sent[2].1.starts_at, k + 71_000);

    // ALERTS and ALERTS_FOR_STATE, as Prometheus writes them.
    let alerts = "{__name__=\"ALERTS\", alertname=\"InstanceDown\", alertstate=\"firing\", instance=\"localhost:9100\", job=\"node\"}";
    assert_eq!(
        w.query("ALERTS", k + 71_000),
        vec![(alerts.to_string(), 1.0)]
    );
    assert_eq!(
        w.query("ALERTS", k + 11_000),
        vec![(alerts.replace("firing", "pending"), 1.0)]
    );
    assert_eq!(
        w.query("ALERTS_FOR_STATE", k + 80_000),
        vec![(
            "{__name__=\"ALERTS_FOR_STATE\", alertname=\"InstanceDown\", instance=\"localhost:9100\", job=\"node\"}".to_string(),
            ((k + 11_000) / 1000) as f64
        )]
    );
    // Resolved: the series got staleness markers and vanish at once.
    assert_eq!(w.query("ALERTS", k + 171_000), vec![]);
    assert_eq!(w.query("ALERTS_FOR_STATE", k + 171_000), vec![]);

    assert!(w.mgr.active_alerts().is_empty());
    let a = w.mgr.groups()[0].rules[0].as_alerting().unwrap();
    let al = a.alerts().next().unwrap();
    assert_eq!(al.active_at, k + 11_000);
    assert_eq!(al.fired_at, Some(k + 71_000));
    assert_eq!(al.resolved_at, Some(k + 171_000));
    assert_eq!(al.value, 0.0);
    let g = &w.mgr.groups()[0];
    assert_eq!(g.rules[0].status().health.as_str(), "ok");
    assert!(g.last_evaluation_ms.is_some());

    // Kept 15 minutes after resolving, then forgotten.
    let until = k + 171_000 + 15 * 60_000;
    w.mgr.advance_to(until, &w.db);
    assert_eq!(w.alert_state(), Some(AlertState::Inactive));
    w.mgr.advance_to(until + 10_000, &w.db);
    assert_eq!(w.alert_state(), None);
}

#[test]
fn evaluation_slots_are_aligned_to_the_group_hash() {
    let rules = "groups:\n- name: a\n  interval: 10s\n  rules:\n  - record: r\n    expr: vector(1)\n- name: b\n  interval: 1m\n  rules: []\n";
    let w = world(&[("x.yml", rules)], 60_000, 0);
    for g in w.mgr.groups() {
        let offset = (g.hash() % (g.interval_ms as u64 * 1_000_000)) / 1_000_000;
        for t in [0i64, 1_700_000_000_123, 1_700_000_007_999] {
            let s = g.eval_timestamp(t);
            assert!(s <= t && t < s + g.interval_ms, "{t} {s}");
            assert_eq!(s.rem_euclid(g.interval_ms) as u64, offset);
            // A slot is its own slot (the millisecond clock holds the slot's whole ms).
            assert_eq!(g.eval_timestamp(s), s);
            assert_eq!(g.eval_timestamp(s - 1), s - g.interval_ms);
        }
    }
    // The hash is Prometheus's labels hash: deterministic and distinct per group.
    assert_ne!(w.mgr.groups()[0].hash(), w.mgr.groups()[1].hash());
}

#[test]
fn keep_firing_for_holds_a_resolved_condition() {
    let rules = "groups:\n- name: k\n  interval: 10s\n  rules:\n  - alert: Hot\n    expr: temp > 0\n    keep_firing_for: 30s\n";
    let mut w = world(&[("k.yml", rules)], 10_000, 0);
    let temp = Labels::from_pairs(&[("__name__", "temp")]);
    let mut states = Vec::new();
    let mut t = 0;
    let mut last = None;
    while t <= 200_000 {
        if t % 10_000 == 0 {
            w.append(&temp, t, if t < 60_000 { 1.0 } else { 0.0 });
        }
        w.mgr.eval_due(t, &w.db, None);
        let s = w.alert_state();
        if s != last {
            states.push((t, s));
            last = s;
        }
        t += 1_000;
    }
    let slot = w.mgr.groups()[0].eval_timestamp(60_000);
    let first_zero_eval = if slot >= 60_000 { slot } else { slot + 10_000 };
    // Fires at once (no `for`); keeps firing for 30 s after the condition went away (the
    // evaluations at +0, +10 and +20 s), then resolves.
    assert_eq!(states[0].1, Some(AlertState::Firing));
    assert_eq!(states[1].1, Some(AlertState::Inactive));
    let a = w.mgr.groups()[0].rules[0].as_alerting().unwrap();
    let al = a.alerts().next().unwrap();
    assert_eq!(al.resolved_at, Some(first_zero_eval + 30_000));
    assert_eq!(al.keep_firing_since, Some(first_zero_eval));
    assert_eq!(states.len(), 2);
}

#[test]
fn limits_recording_rules_and_staleness() {
    let rules = "groups:\n- name: r\n  interval: 10s\n  limit: 2\n  rules:\n  - record: job:x:sum\n    expr: sum by (job) (x)\n    labels: {team: a}\n  - alert: Many\n    expr: x > 0\n";
    let mut w = world(&[("r.yml", rules)], 10_000, 0);
    let s = |job: &str, i: &str| {
        Labels::from_pairs(&[("__name__", "x"), ("instance", i), ("job", job)])
    };
    w.append(&s("a", "1"), 1_000, 1.0);
    w.append(&s("b", "1"), 1_000, 2.0);
    let t1 = w.mgr.groups()[0].next_eval_ms.unwrap();
    w.mgr.advance_to(t1, &w.db);
    w.mgr.advance_to(t1 + 10_000, &w.db);
    assert_eq!(
        w.query("job:x:sum", t1 + 10_000),
        vec![
            (
                "{__name__=\"job:x:sum\", job=\"a\", team=\"a\"}".to_string(),
                1.0
            ),
            (
                "{__name__=\"job:x:sum\", job=\"b\", team=\"a\"}".to_string(),
                2.0
            )
        ]
    );
    let g = &w.mgr.groups()[0];
    assert_eq!(g.rules[1].status().health.as_str(), "ok");
    // A third series breaks the alert limit (2).
    w.append(&s("a", "2"), t1 + 11_000, 1.0);
    w.mgr.advance_to(t1 + 20_000, &w.db);
    let g = &w.mgr.groups()[0];
    assert_eq!(g.rules[1].status().health.as_str(), "err");
    assert_eq!(
        g.rules[1].status().last_error.as_ref().unwrap().to_string(),
        "exceeded limit of 2 with 3 alerts"
    );
    assert_eq!(g.rules[0].status().health.as_str(), "ok");
    // Job b goes away (stale): its recorded series gets a staleness marker.
    let mut app = w.db.appender();
    app.append(&s("b", "1"), t1 + 21_000, promplay_model::STALE_NAN)
        .unwrap();
    app.commit().unwrap();
    w.mgr.advance_to(t1 + 30_000, &w.db);
    assert_eq!(
        w.query("job:x:sum", t1 + 30_000),
        vec![(
            "{__name__=\"job:x:sum\", job=\"a\", team=\"a\"}".to_string(),
            2.0
        )]
    );
    // Without the marker, the 5m lookback would still find the sample of t1+20s.
    assert_eq!(w.query("job:x:sum{job=\"b\"}", t1 + 29_999).len(), 1);
    assert_eq!(w.query("job:x:sum{job=\"b\"}", t1 + 30_000), vec![]);
}

#[test]
fn templates_in_labels_and_annotations() {
    let rules = r#"groups:
- name: t
  interval: 10s
  rules:
  - alert: Disk
    expr: disk_free
    labels:
      severity: '{{ if lt $value 10.0 }}page{{ else }}ticket{{ end }}'
    annotations:
      summary: '{{ $labels.instance }} has {{ $value | humanize1024 }}B free ({{ $externalURL }})'
      count: '{{ query "count(disk_free)" | first | value }}'
      bad: '{{ "x" | humanize }}'
"#;
    let mut w = world(&[("t.yml", rules)], 10_000, 0);
    let l = |i: &str| Labels::from_pairs(&[("__name__", "disk_free"), ("instance", i)]);
    w.append(&l("a"), 1_000, 5.0);
    w.append(&l("b"), 1_000, 3.0 * 1024.0 * 1024.0);
    let t1 = w.mgr.groups()[0].next_eval_ms.unwrap();
    w.mgr.advance_to(t1, &w.db);
    let r = w.mgr.groups()[0].rules[0].as_alerting().unwrap();
    let alerts: Vec<_> = r.alerts().collect();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0].labels.get("severity"), Some("page"));
    assert_eq!(alerts[1].labels.get("severity"), Some("ticket"));
    assert_eq!(
        alerts[1].annotations.get("summary"),
        Some("b has 3MiB free (http://vm:9090)")
    );
    assert_eq!(alerts[0].annotations.get("count"), Some("2"));
    let bad = alerts[0].annotations.get("bad").unwrap();
    assert!(
        bad.starts_with("<error expanding template: error executing template __alert_Disk: ")
            && bad.contains("error calling humanize")
            && bad.ends_with('>'),
        "{bad}"
    );
}

#[test]
fn reload_keeps_state_and_marks_removed_rules_stale() {
    let v1 = "groups:\n- name: g\n  interval: 10s\n  rules:\n  - alert: Up\n    expr: up > 0\n    for: 1m\n  - record: r\n    expr: up\n";
    let v2 = "groups:\n- name: g\n  interval: 10s\n  rules:\n  - alert: Up\n    expr: up > 0\n    for: 1m\n";
    let mut w = world(&[("g.yml", v1)], 10_000, 0);
    let up = Labels::from_pairs(&[("__name__", "up")]);
    for t in (0..=60_000).step_by(10_000) {
        w.append(&up, t, 1.0);
    }
    w.mgr.advance_to(40_000, &w.db);
    let active_at = w.mgr.groups()[0].rules[0]
        .as_alerting()
        .unwrap()
        .alerts()
        .next()
        .unwrap()
        .active_at;
    w.mgr
        .update(&[("g.yml".into(), v2.into())], false, 40_500, &w.db)
        .unwrap();
    w.mgr.advance_to(55_000, &w.db);
    let a = w.mgr.groups()[0].rules[0].as_alerting().unwrap();
    assert_eq!(a.alerts().next().unwrap().active_at, active_at);
    assert_eq!(w.query("r", 55_000), vec![]);
    // A bad file changes nothing.
    let e = w
        .mgr
        .update(
            &[("g.yml".into(), "groups: [".into())],
            false,
            56_000,
            &w.db,
        )
        .unwrap_err();
    assert!(e[0].0.starts_with("g.yml: yaml: "), "{}", e[0]);
    assert_eq!(w.mgr.groups().len(), 1);
}

/// `/api/v1/rules` and `/api/v1/alerts` for the seed's firing alert, against Prometheus's
/// recorded answers (only the times differ: the host's clock, in ms).
#[test]
fn api_json_matches_prometheus() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/samples/");
    let want_rules = std::fs::read_to_string(format!("{shared}prom-api-rules.json")).unwrap();
    let want_alerts =
        std::fs::read_to_string(format!("{shared}prom-api-alerts-firing.json")).unwrap();
    let mut w = world(&[("rules.yml", &seed_rules())], 10_000, 0);
    let up = Labels::from_pairs(&[
        ("__name__", "up"),
        ("instance", "localhost:9100"),
        ("job", "node"),
    ]);
    for t in (0..=200_000).step_by(10_000) {
        w.append(&up, t, 0.0);
    }
    w.mgr.advance_to(150_000, &w.db);
    assert_eq!(w.mgr.active_alerts().len(), 1);
    let g = &w.mgr.groups()[0];
    let a = g.rules[0].as_alerting().unwrap().alerts().next().unwrap();
    let active = promplay_rules::api::rfc3339(Some(a.active_at));
    let last = promplay_rules::api::rfc3339(g.last_evaluation_ms);
    let got = promplay_rules::api::rules_response(w.mgr.groups())
        .replacen(&active, "2026-11-25T13:16:07.79467792Z", 1)
        .replacen(
            &format!("\"evaluationTime\":0,\"lastEvaluation\":\"{last}\",\"type\""),
            "\"evaluationTime\":0.000265646,\"lastEvaluation\":\"2026-11-25T13:18:37.796032145Z\",\"type\"",
            1,
        )
        .replacen(
            &format!("\"evaluationTime\":0,\"lastEvaluation\":\"{last}\""),
            "\"evaluationTime\":0.00028414,\"lastEvaluation\":\"2026-11-25T13:18:37.796018099Z\"",
            1,
        );
    assert_eq!(got, want_rules.trim_end());
    let got = promplay_rules::api::alerts_response(w.mgr.groups()).replacen(
        &active,
        "2026-11-25T13:16:07.79467792Z",
        1,
    );
    assert_eq!(got, want_alerts.trim_end());
}

/// A restart: the new manager restores pending alerts' `ActiveAt` from `ALERTS_FOR_STATE`,
/// shifted by the downtime (long `for`), or so that they fire after the grace period.
#[test]
fn restart_restores_for_state() {
    for (hold_min, grace_case) in [(30, false), (15, true)] {
        let rules = format!("groups:\n- name: s\n  interval: 10s\n  rules:\n  - alert: Slow\n    expr: x > 0\n    for: {hold_min}m\n");
        let mut a = world(&[("s.yml", &rules)], 10_000, 0);
        let x = Labels::from_pairs(&[("__name__", "x")]);
        for t in (0..=7_200_000).step_by(10_000) {
            a.append(&x, t, 1.0);
        }
        a.mgr.advance_to(600_000, &a.db);
        let e0 = a.mgr.groups()[0].rules[0]
            .as_alerting()
            .unwrap()
            .alerts()
            .next()
            .unwrap()
            .active_at;
        let last = a.mgr.groups()[0].last_evaluation_ms.unwrap();
        // Down from 10m to 12m; the same storage, a new manager.
        let db = a.db.clone();
        let mut opts = ManagerOptions::new(engine_query_func(a.engine.clone(), db.clone()));
        opts.evaluation_interval_ms = 10_000;
        let mut b = RuleManager::new(opts);
        b.update(&[("s.yml".into(), rules.clone())], false, 720_000, &db)
            .unwrap();
        let e1 = b.next_eval_ms().unwrap();
        b.advance_to(e1, &db);
        let al = b.groups()[0].rules[0].as_alerting().unwrap();
        assert!(al.restored);
        let got = al.alerts().next().unwrap().active_at;
        let down_at = last / 1000 * 1000;
        let want = if grace_case {
            e1 + 600_000 - hold_min * 60_000
        } else {
            e0 / 1000 * 1000 + (e1 - down_at)
        };
        assert_eq!(got, want, "for {hold_min}m");
        assert_eq!(al.alerts().next().unwrap().state, AlertState::Pending);
    }
}
