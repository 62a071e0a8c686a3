//! Grouping, timers, dedup, silences, inhibition and webhooks, on virtual time.

mod common;

use common::*;
use promplay_alertmanager::matchers::{parse_matchers, Matchers};
use promplay_alertmanager::{Payload, PostableSilence};

const WEBHOOK: &str = r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:5001/hook
"#;

fn body(n: &promplay_alertmanager::Notification) -> serde_json::Value {
    match &n.payload {
        Payload::Webhook(w) => serde_json::from_str(&w.body).unwrap(),
        _ => panic!("not a webhook"),
    }
}

/// Prometheus re-sends a firing alert every minute with endsAt = now + 4m.
fn keep_firing(
    am: &mut promplay_alertmanager::Alertmanager,
    inbox: &mut Inbox,
    starts: i64,
    from: i64,
    to: i64,
) -> Vec<(i64, promplay_alertmanager::Notification)> {
    let mut out = Vec::new();
    let mut t = from;
    while t <= to {
        out.extend(timeline(am, inbox, t));
        am.put_alerts(vec![instance_down(starts, Some(t + 4 * 60_000))], t);
        t += 60_000;
    }
    out.extend(timeline(am, inbox, to));
    out
}

#[test]
fn seed_emails_once_then_repeats_after_repeat_interval() {
    let mut am = engine(&shared("peers/conf/alertmanager.yml"));
    let mut inbox = Inbox::default();
    let start = s(71.0);
    let got = keep_firing(
        &mut am,
        &mut inbox,
        start,
        start,
        start + 4 * 3_600_000 + 600_000,
    );
    let times: Vec<i64> = got.iter().map(|(t, _)| *t - start).collect();
    // group_wait 30 s; then group_interval ticks every 5 m; the repeat goes out at the first
    // tick 4 h after the first email: 30 s + 48 × 5 m.
    assert_eq!(times, vec![30_000, 30_000 + 48 * 300_000]);
    assert_eq!(am.history().len(), 2);
}

#[test]
fn seed_sends_no_resolved_email() {
    let mut am = engine(&shared("peers/conf/alertmanager.yml"));
    let mut inbox = Inbox::default();
    let start = s(71.0);
    let mut got = keep_firing(&mut am, &mut inbox, start, start, s(161.0));
    assert_eq!(got.len(), 1);
    // target back: Prometheus sends the alert with endsAt = resolution time
    am.put_alerts(vec![instance_down(start, Some(s(170.0)))], s(170.0));
    got = timeline(&mut am, &mut inbox, s(2000.0));
    assert!(got.is_empty(), "email send_resolved defaults to false");
    // the group is gone once the resolved alert was flushed
    assert_eq!(am.groups().count(), 0);
    // and the log was updated so a re-fire notifies again
    am.put_alerts(vec![instance_down(s(2100.0), Some(s(2400.0)))], s(2100.0));
    got = timeline(&mut am, &mut inbox, s(2200.0));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, s(2130.0));
}

#[test]
fn webhook_resolved_notification_and_payload() {
    let mut am = engine(WEBHOOK);
    let mut inbox = Inbox::default();
    let t1 = s(0.0);
    am.put_alerts(vec![instance_down(t1, Some(t1 + 240_000))], t1);
    let got = timeline(&mut am, &mut inbox, s(31.0));
    assert_eq!(got.len(), 1);
    let b = body(&got[0].1);
    let expected = serde_json::json!({
        "receiver": "hook",
        "status": "firing",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "InstanceDown", "instance": "localhost:9100", "job": "node"},
            "annotations": {},
            "startsAt": "2026-11-25T13:15:56.656Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://vm:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
            "fingerprint": "25f94d8dc99c5cc6"
        }],
        "groupLabels": {"alertname": "InstanceDown"},
        "commonLabels": {"alertname": "InstanceDown", "instance": "localhost:9100", "job": "node"},
        "commonAnnotations": {},
        "externalURL": "http://vm:9093",
        "version": "4",
        "groupKey": "{}:{alertname=\"InstanceDown\"}",
        "truncatedAlerts": 0
    });
    assert_eq!(b, expected);
    // key order as Alertmanager writes it
    let Payload::Webhook(w) = &got[0].1.payload else {
        unreachable!()
    };
    assert!(w
        .body
        .starts_with("{\"receiver\":\"hook\",\"status\":\"firing\",\"alerts\":[{\"status\""));
    assert!(w.body.ends_with(",\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"InstanceDown\\\"}\",\"truncatedAlerts\":0}"));

    // resolved at 100 s: sent at the next group_interval tick (30 s + 5 m)
    am.put_alerts(vec![instance_down(t1, Some(s(100.0)))], s(100.0));
    let got = timeline(&mut am, &mut inbox, s(1000.0));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, s(330.0));
    let b = body(&got[0].1);
    assert_eq!(b["status"], "resolved");
    assert_eq!(b["alerts"][0]["endsAt"], "2026-11-25T13:17:36.656Z");
}

#[test]
fn resolve_timeout_resolves_alerts_without_end() {
    let mut am = engine(WEBHOOK);
    let mut inbox = Inbox::default();
    am.put_alerts(vec![instance_down(s(0.0), None)], s(0.0));
    let got = timeline(&mut am, &mut inbox, s(1000.0));
    // firing at 30 s; resolve_timeout 5 m ends it at 300 s; resolved sent at 330 s
    let times: Vec<i64> = got.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![s(30.0), s(330.0)]);
    assert_eq!(body(&got[1].1)["status"], "resolved");
}

#[test]
fn grouping_by_label_all_and_none() {
    let a = |name: &str, inst: &str| {
        alert(
            &[("alertname", name), ("instance", inst)],
            s(0.0),
            Some(s(600.0)),
        )
    };
    // group_by [alertname]: two groups
    let mut am = engine(WEBHOOK);
    let mut inbox = Inbox::default();
    am.put_alerts(vec![a("A", "1"), a("A", "2"), a("B", "1")], s(0.0));
    let got = timeline(&mut am, &mut inbox, s(40.0));
    let mut keys: Vec<(String, usize)> = got
        .iter()
        .map(|(_, n)| {
            (
                n.group_key.clone(),
                body(n)["alerts"].as_array().unwrap().len(),
            )
        })
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            ("{}:{alertname=\"A\"}".to_string(), 2),
            ("{}:{alertname=\"B\"}".to_string(), 1)
        ]
    );
    // group_by ['...']: one group per alert
    let mut am = engine(&WEBHOOK.replace("[alertname]", "['...']"));
    am.put_alerts(vec![a("A", "1"), a("A", "2"), a("B", "1")], s(0.0));
    assert_eq!(timeline(&mut am, &mut inbox, s(40.0)).len(), 3);
    // no group_by: one group, one email with both alerts and the subject counting them
    let cfg = shared("peers/conf/alertmanager.yml");
    let mut am = engine(&cfg);
    am.put_alerts(vec![a("A", "1"), a("B", "2")], s(0.0));
    let got = timeline(&mut am, &mut inbox, s(40.0));
    assert_eq!(got.len(), 1);
    let Payload::Email(m) = &got[0].1.payload else {
        panic!()
    };
    assert_eq!(m.subject, "[FIRING:2]  ");
    assert!(m.html.as_ref().unwrap().contains("2 alerts for"));
}

#[test]
fn new_alert_in_flushed_group_waits_for_group_interval() {
    let mut am = engine(WEBHOOK);
    let mut inbox = Inbox::default();
    let a = |inst: &str, t: i64| {
        alert(
            &[("alertname", "A"), ("instance", inst)],
            t,
            Some(t + 3_600_000),
        )
    };
    am.put_alerts(vec![a("1", s(0.0))], s(0.0));
    assert_eq!(timeline(&mut am, &mut inbox, s(60.0)).len(), 1);
    am.put_alerts(vec![a("2", s(60.0))], s(60.0));
    let got = timeline(&mut am, &mut inbox, s(400.0));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, s(330.0));
    assert_eq!(body(&got[0].1)["alerts"].as_array().unwrap().len(), 2);
}

#[test]
fn old_alert_flushes_immediately() {
    // startsAt + group_wait already past when the group is created: flush at once
    let mut am = engine(WEBHOOK);
    let mut inbox = Inbox::default();
    am.put_alerts(vec![instance_down(s(0.0), Some(s(3600.0)))], s(100.0));
    assert_eq!(am.next_wakeup(), Some(s(100.0)));
    let got = timeline(&mut am, &mut inbox, s(101.0));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, s(100.0));
}

#[test]
fn silence_mutes_and_expiry_unmutes() {
    let mut am = engine(WEBHOOK);
    let mut inbox = Inbox::default();
    let id = am
        .silences_mut()
        .set(
            PostableSilence {
                id: None,
                matchers: Matchers::new(parse_matchers("job=node").unwrap()),
                starts_at: s(0.0),
                ends_at: s(3600.0),
                created_by: "me".into(),
                comment: "maintenance".into(),
            },
            s(0.0),
        )
        .unwrap();
    am.put_alerts(vec![instance_down(s(0.0), Some(s(7200.0)))], s(0.0));
    let labels = promplay_model::Labels::from_pairs(&[
        ("alertname", "InstanceDown"),
        ("instance", "localhost:9100"),
        ("job", "node"),
    ]);
    assert_eq!(am.status(&labels, s(10.0)).state, "suppressed");
    assert_eq!(am.status(&labels, s(10.0)).silenced_by, vec![id.clone()]);
    assert!(timeline(&mut am, &mut inbox, s(900.0)).is_empty());
    am.silences_mut().expire(&id, s(900.0)).unwrap();
    let got = timeline(&mut am, &mut inbox, s(1000.0));
    // next group_interval tick after 900 s: 30 + 3 × 300 = 930 s
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, s(930.0));
}

#[test]
fn inhibition_mutes_target_while_source_fires() {
    let cfg = format!(
        "{WEBHOOK}inhibit_rules:\n  - source_matchers: [severity=critical]\n    target_matchers: [severity=warning]\n    equal: [instance]\n"
    );
    let mut am = engine(&cfg);
    let mut inbox = Inbox::default();
    let crit = alert(
        &[
            ("alertname", "Down"),
            ("severity", "critical"),
            ("instance", "a"),
        ],
        s(0.0),
        Some(s(200.0)),
    );
    let warn = alert(
        &[
            ("alertname", "Slow"),
            ("severity", "warning"),
            ("instance", "a"),
        ],
        s(0.0),
        Some(s(3600.0)),
    );
    let other = alert(
        &[
            ("alertname", "Slow2"),
            ("severity", "warning"),
            ("instance", "b"),
        ],
        s(0.0),
        Some(s(3600.0)),
    );
    am.put_alerts(vec![crit, warn, other], s(0.0));
    let got = timeline(&mut am, &mut inbox, s(40.0));
    let mut names: Vec<String> = got.iter().map(|(_, n)| n.group_key.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        vec!["{}:{alertname=\"Down\"}", "{}:{alertname=\"Slow2\"}"]
    );
    // once the critical alert resolves (200 s), the warning goes out at its group's next tick
    let got = timeline(&mut am, &mut inbox, s(400.0));
    let slow: Vec<i64> = got
        .iter()
        .filter(|(_, n)| n.group_key == "{}:{alertname=\"Slow\"}")
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(slow, vec![s(330.0)]);
}

#[test]
fn failed_delivery_is_retried_next_interval() {
    let mut am = engine(WEBHOOK);
    let mut inbox = Inbox {
        fail: true,
        ..Default::default()
    };
    am.put_alerts(vec![instance_down(s(0.0), Some(s(7200.0)))], s(0.0));
    am.advance_to(s(31.0), &mut inbox);
    assert_eq!(am.history().len(), 1);
    assert_eq!(am.history()[0].error.as_deref(), Some("connection refused"));
    inbox.fail = false;
    let got = timeline(&mut am, &mut inbox, s(400.0));
    assert_eq!(
        got.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        vec![s(330.0)]
    );
}

#[test]
fn mute_time_interval_suppresses_then_active_interval_allows() {
    // T0 is Wednesday 13:15:56 UTC.
    let cfg = r#"
route:
  receiver: hook
  routes:
    - matchers: [job=node]
      mute_time_intervals: [office]
time_intervals:
  - name: office
    time_intervals:
      - times: [{start_time: '13:00', end_time: '13:30'}]
        weekdays: ['monday:friday']
receivers:
  - name: hook
    webhook_configs: [{url: 'http://x/'}]
"#;
    let mut am = engine(cfg);
    let mut inbox = Inbox::default();
    am.put_alerts(vec![instance_down(s(0.0), Some(s(7200.0)))], s(0.0));
    let got = timeline(&mut am, &mut inbox, s(3000.0));
    // muted until 13:30: the ticks at 13:16:26, 13:21:26 and 13:26:26 are muted; the one at
    // 13:31:26 (30 s + 3 × 5 m) sends.
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, s(30.0 + 3.0 * 300.0));
}

#[test]
fn max_alerts_truncates_webhook() {
    let mut am = engine(&WEBHOOK.replace(
        "url: http://127.0.0.1:5001/hook",
        "url: http://127.0.0.1:5001/hook\n        max_alerts: 1",
    ));
    let mut inbox = Inbox::default();
    let a = |inst: &str| {
        alert(
            &[("alertname", "A"), ("instance", inst)],
            s(0.0),
            Some(s(600.0)),
        )
    };
    am.put_alerts(vec![a("1"), a("2"), a("3")], s(0.0));
    let got = timeline(&mut am, &mut inbox, s(40.0));
    let b = body(&got[0].1);
    assert_eq!(b["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(b["truncatedAlerts"], 2);
}

/// The same scenario run against Alertmanager 0.25 (prometheus-alertmanager 0.25.0-1 from
/// Debian, webhook receiver logging arrival times): notifications arrived at 2.0 s, 8.0 s,
/// 14.0 s and 44.0 s, with the statuses, alerts and truncation asserted here.
#[test]
fn live_alertmanager_webhook_scenario() {
    let cfg = r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 2s
  group_interval: 6s
  repeat_interval: 30s
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:15001/hook
        max_alerts: 1
"#;
    let mut am = engine(cfg);
    let mut inbox = Inbox::default();
    let a = |inst: &str, ends: f64| {
        alert(
            &[("alertname", "A"), ("instance", inst)],
            s(0.0),
            Some(s(ends)),
        )
    };
    let mut got = Vec::new();
    am.put_alerts(vec![a("1", 120.0)], s(0.0));
    got.extend(timeline(&mut am, &mut inbox, s(3.0)));
    let mut a2 = a("2", 120.0);
    a2.starts_at = Some(s(3.0));
    am.put_alerts(vec![a2], s(3.0));
    got.extend(timeline(&mut am, &mut inbox, s(10.0)));
    am.put_alerts(vec![a("1", 10.0)], s(10.0));
    got.extend(timeline(&mut am, &mut inbox, s(60.0)));
    type Seen = (i64, String, Vec<(String, String)>, u64, String);
    let seen: Vec<Seen> = got
        .iter()
        .map(|(t, n)| {
            let b = body(n);
            (
                (t - T0) / 1000,
                b["status"].as_str().unwrap().to_string(),
                b["alerts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| {
                        (
                            x["labels"]["instance"].as_str().unwrap().to_string(),
                            x["status"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect(),
                b["truncatedAlerts"].as_u64().unwrap(),
                b["commonLabels"]["instance"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let p = |i: &str, s: &str| (i.to_string(), s.to_string());
    assert_eq!(
        seen,
        vec![
            (2, "firing".into(), vec![p("1", "firing")], 0, "1".into()),
            (8, "firing".into(), vec![p("1", "firing")], 1, "1".into()),
            (
                14,
                "resolved".into(),
                vec![p("1", "resolved")],
                1,
                "1".into()
            ),
            (44, "firing".into(), vec![p("2", "firing")], 0, "2".into()),
        ]
    );
}

/// Inhibition and a silence, run against Alertmanager 0.25 as well: notifications arrived at
/// 2 s (C firing), 20 s (C resolved; W, no longer inhibited) and 26 s (S, its silence expired
/// at 25 s).
#[test]
fn live_alertmanager_inhibition_and_silence_scenario() {
    let cfg = r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 2s
  group_interval: 6s
  repeat_interval: 1h
inhibit_rules:
  - source_matchers: [severity=critical]
    target_matchers: [severity=warning]
    equal: [instance]
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:15001/hook
"#;
    let mut am = engine(cfg);
    let mut inbox = Inbox::default();
    am.silences_mut()
        .set(
            PostableSilence {
                id: None,
                matchers: Matchers::new(parse_matchers("alertname=S").unwrap()),
                starts_at: s(0.0),
                ends_at: s(25.0),
                created_by: "me".into(),
                comment: "c".into(),
            },
            s(0.0),
        )
        .unwrap();
    let a = |name: &str, sev: Option<&str>, ends: f64| {
        let mut l = vec![("alertname", name), ("instance", "a")];
        if let Some(sev) = sev {
            l.push(("severity", sev));
        }
        alert(&l, s(0.0), Some(s(ends)))
    };
    am.put_alerts(
        vec![
            a("W", Some("warning"), 120.0),
            a("C", Some("critical"), 15.0),
            a("S", None, 120.0),
        ],
        s(0.0),
    );
    let got = timeline(&mut am, &mut inbox, s(40.0));
    let mut seen: Vec<(i64, String, String)> = got
        .iter()
        .map(|(t, n)| {
            let b = body(n);
            (
                (t - T0) / 1000,
                b["status"].as_str().unwrap().to_string(),
                b["alerts"][0]["labels"]["alertname"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    seen.sort();
    let e = |t: i64, s: &str, n: &str| (t, s.to_string(), n.to_string());
    assert_eq!(
        seen,
        vec![
            e(2, "firing", "C"),
            e(20, "firing", "W"),
            e(20, "resolved", "C"),
            e(26, "firing", "S"),
        ]
    );
}

/// Group keys of nested routes and the receiver name as a live Alertmanager 0.25 sent them:
/// `{}/{instance=~"^(?:h.*)$"}/{job="node"}:{…}` and `{}/{instance=~"^(?:h.*)$"}/{}:{…}`,
/// receiver `hook-1\.x` (regexp.QuoteMeta).
#[test]
fn live_alertmanager_group_keys_of_nested_routes() {
    let cfg = r#"
route:
  receiver: default
  group_wait: 1s
  routes:
    - match_re: {instance: 'h.*'}
      receiver: hook-1.x
      group_by: ['...']
      routes:
        - matchers: ['job="node"']
          continue: true
        - receiver: hook-1.x
receivers:
  - name: default
  - name: hook-1.x
    webhook_configs:
      - url: http://127.0.0.1:15001/hook
"#;
    let mut am = engine(cfg);
    let mut inbox = Inbox::default();
    am.put_alerts(
        vec![alert(
            &[("alertname", "A"), ("instance", "h1"), ("job", "node")],
            s(0.0),
            Some(s(60.0)),
        )],
        s(0.0),
    );
    let got = timeline(&mut am, &mut inbox, s(4.0));
    let mut keys: Vec<(String, String)> = got
        .iter()
        .map(|(_, n)| {
            let b = body(n);
            (
                b["receiver"].as_str().unwrap().to_string(),
                b["groupKey"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    keys.sort();
    let labels = r#"{alertname="A", instance="h1", job="node"}"#;
    assert_eq!(
        keys,
        vec![
            (
                r"hook-1\.x".to_string(),
                format!(r#"{{}}/{{instance=~"^(?:h.*)$"}}/{{job="node"}}:{labels}"#)
            ),
            (
                r"hook-1\.x".to_string(),
                format!(r#"{{}}/{{instance=~"^(?:h.*)$"}}/{{}}:{labels}"#)
            ),
        ]
    );
}

#[test]
fn reload_keeps_alerts_and_log_without_renotifying() {
    let mut am = engine(WEBHOOK);
    let mut inbox = Inbox::default();
    am.put_alerts(vec![instance_down(s(0.0), Some(s(7200.0)))], s(0.0));
    assert_eq!(timeline(&mut am, &mut inbox, s(60.0)).len(), 1);
    // same routing: the group is rebuilt, flushes at once, and the log suppresses a repeat
    let same = promplay_alertmanager::Config::load(WEBHOOK).unwrap();
    am.apply_config(same, &[], s(60.0)).unwrap();
    assert_eq!(am.groups().count(), 1);
    assert!(timeline(&mut am, &mut inbox, s(120.0)).is_empty());
    // a new receiver for the alert: it is told right away
    let other = WEBHOOK.replace("receiver: hook", "receiver: other")
        + "  - name: other\n    webhook_configs:\n      - url: http://127.0.0.1:5002/\n";
    let c = promplay_alertmanager::Config::load(&other).unwrap();
    am.apply_config(c, &[], s(120.0)).unwrap();
    let got = timeline(&mut am, &mut inbox, s(130.0));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.receiver, "other");
    assert_eq!(got[0].0, s(120.0));
}
