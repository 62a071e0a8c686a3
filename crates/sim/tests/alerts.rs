//! The seed's alert story, headless, on exact virtual timestamps: the seed's prometheus.yml,
//! rules.yml and alertmanager.yml (loaded unchanged from the shared reference) composed as one
//! Prometheus and the built-in Alertmanager over the simulated world. The node exporter stops;
//! `up` goes to 0 at its next scrape, InstanceDown turns pending at the next evaluation and
//! fires one minute later, the email lands group_wait after the alert reached the
//! Alertmanager, and no resolved email follows.

use std::rc::Rc;

use promplay_alertmanager::{Alertmanager, Payload};
use promplay_promql::value::Value;
use promplay_promql::{Engine, EngineOptions};
use promplay_rules::{engine_query_func, AlertState};
use promplay_server::notifier::BuiltinAlertmanager;
use promplay_server::prometheus::{Prometheus, PrometheusOptions};
use promplay_server::Config;
use promplay_sim::scenario::DEFAULT_START_MS;
use promplay_sim::{Inputs, Scenario, World};
use promplay_tsdb::{Db, Options};

const START: i64 = DEFAULT_START_MS;

fn shared(name: &str) -> String {
    let p = format!(
        "{}/../../../shared/peers/conf/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn example(name: &str) -> String {
    let p = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// What one run measured (absolute ms).
#[derive(Debug)]
struct Timeline {
    kill: i64,
    last_up: i64,
    down: i64,
    eval_offset: i64,
    pending: i64,
    firing: i64,
    first_post: i64,
    email: i64,
    restart: i64,
    back_up: i64,
    resolved: i64,
}

/// Runs the seed's stack with the node exporter stopped at `kill` and started at `restart`
/// (both since START), until `end`, and checks everything along the way.
fn story(seed: u64, kill_ms: i64, restart_ms: i64, end_ms: i64) -> Timeline {
    let config = Config::load(&shared("prometheus.yml")).expect("prometheus.yml");
    assert_eq!(config.rule_files, ["rules.yml"]);
    let rules = [("rules.yml".to_string(), shared("rules.yml"))];
    let am_cfg =
        promplay_alertmanager::Config::load(&shared("alertmanager.yml")).expect("alertmanager.yml");
    let db = Rc::new(Db::new(Options::default()));
    let query = engine_query_func(Engine::new(EngineOptions::default()), db.clone());
    let mut world = World::seed_world(seed, START);
    let opts = PrometheusOptions {
        offset_seed: seed,
        ..PrometheusOptions::default()
    };
    let (mut prom, failures) =
        Prometheus::new(config, &rules, query, opts, START, &db).expect("rules load");
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        prom.notifier().alertmanager_urls(),
        ["http://127.0.0.1:9093/api/v2/alerts"]
    );
    let am = Alertmanager::new(am_cfg, &[], Default::default(), START).expect("alertmanager");
    let mut am = BuiltinAlertmanager::new(am);

    let run = |prom: &mut Prometheus, world: &mut World, am: &mut BuiltinAlertmanager, t| {
        let mut f = world.fetcher(&db);
        prom.advance_to(t, &db, &mut f, am);
        world.advance_to(t);
    };
    let kill = START + kill_ms;
    let restart = START + restart_ms;
    run(&mut prom, &mut world, &mut am, kill - 1);
    world.advance_to(kill);
    world.stop("localhost:9100").unwrap();
    run(&mut prom, &mut world, &mut am, restart - 1);
    world.advance_to(restart);
    world.start("localhost:9100").unwrap();
    run(&mut prom, &mut world, &mut am, START + end_ms);

    // up{job="node"}: every scrape, 10 s apart; 0 from the first scrape after the kill.
    let end = START + end_ms;
    let m = match Engine::new(EngineOptions::default())
        .instant_query(
            &*db,
            &format!("up{{job=\"node\"}}[{}s]", end_ms / 1000),
            end,
        )
        .unwrap()
        .value
    {
        Value::Matrix(m) => m,
        v => panic!("{v:?}"),
    };
    assert_eq!(m.len(), 1);
    let pts: Vec<(i64, f64)> = m[0].floats.iter().map(|p| (p.t, p.f)).collect();
    for w in pts.windows(2) {
        assert_eq!(w[1].0 - w[0].0, 10_000, "scrape interval: {pts:?}");
    }
    let last_up = pts.iter().rfind(|p| p.0 < kill).unwrap();
    assert_eq!(last_up.1, 1.0);
    let down = *pts.iter().find(|p| p.0 >= kill).unwrap();
    assert_eq!(down.1, 0.0, "the first scrape after the kill fails");
    assert_eq!(down.0 - last_up.0, 10_000, "the next scrape of that target");
    let back = *pts.iter().find(|p| p.0 >= restart).unwrap();
    assert_eq!(back.1, 1.0);
    assert!(pts
        .iter()
        .all(|p| (p.0 >= down.0 && p.0 < back.0) == (p.1 == 0.0)));

    // The rule group: one evaluation every 10 s at its own offset.
    let g = &prom.rule_manager().groups()[0];
    assert_eq!(g.interval_ms, 10_000);
    let first_eval_at_or_after = |t: i64| {
        let s = g.eval_timestamp(t);
        if s < t {
            s + g.interval_ms
        } else {
            s
        }
    };
    let pending_expected = first_eval_at_or_after(down.0);
    let log: Vec<(i64, AlertState)> = prom
        .alert_log()
        .iter()
        .map(|a| {
            assert_eq!(a.rule, "InstanceDown");
            assert_eq!(
                a.labels.to_string(),
                r#"{alertname="InstanceDown", instance="localhost:9100", job="node"}"#
            );
            (a.at_ms, a.state)
        })
        .collect();
    assert_eq!(log.len(), 3, "{log:?}");
    let pending = log[0].0;
    assert_eq!(log[0].1, AlertState::Pending);
    assert_eq!(pending, pending_expected, "pending at the next evaluation");
    assert!(pending >= down.0 && pending - down.0 < 10_000);
    // `for: 1m`: firing at the first evaluation where now - activeAt >= 1m.
    let firing = log[1].0;
    assert_eq!(log[1].1, AlertState::Firing);
    assert_eq!(firing - pending, 60_000);
    // Resolved at the first evaluation after the target is back up.
    assert_eq!(log[2].1, AlertState::Inactive);
    assert_eq!(log[2].0, first_eval_at_or_after(back.0));

    // Prometheus posts after the evaluation that fires the alert (pending alerts are not
    // sent), then every resend delay (1m) while firing, and once resolved.
    let first_post = am.received[0].0;
    assert_eq!(first_post, firing);
    // Resent while firing at the first evaluation more than the resend delay (1m) after the
    // last send: every 70 s with 10 s evaluations.
    let firing_posts: Vec<i64> = am
        .received
        .iter()
        .map(|p| p.0)
        .filter(|t| *t < log[2].0)
        .collect();
    let expected: Vec<i64> = (0..)
        .map(|k| firing + k * 70_000)
        .take_while(|t| *t < log[2].0)
        .collect();
    assert_eq!(firing_posts, expected);
    // The resolved alert is sent at the resolving evaluation, then resent every resend
    // delay while Prometheus keeps it (15 min).
    let after: Vec<i64> = am
        .received
        .iter()
        .map(|p| p.0)
        .filter(|t| *t >= log[2].0)
        .collect();
    assert_eq!(after[0], log[2].0, "{:?}", am.received);
    assert!(after.windows(2).all(|w| w[1] - w[0] == 70_000), "{after:?}");
    let stored: Vec<_> = am.am.alerts().collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].starts_at, firing, "startsAt is the firing time");
    assert_eq!(
        stored[0].ends_at,
        Some(log[2].0),
        "endsAt is the resolution time"
    );

    // One email, group_wait (30 s) after the alert reached the Alertmanager; none resolved.
    let inbox = &am.inbox.notifications;
    assert_eq!(inbox.len(), 1, "{inbox:#?}");
    let n = &inbox[0];
    assert_eq!(n.at_ms, first_post + 30_000);
    assert_eq!(n.receiver, "example-email");
    let Payload::Email(e) = &n.payload else {
        panic!("{:?}", n.payload)
    };
    assert_eq!(e.subject, "[FIRING:1]  (InstanceDown localhost:9100 node)");
    assert_eq!(e.to, ["youraddress@example.org"]);
    assert_eq!(e.from, "alertmanager@example.org");
    assert!(e
        .raw
        .contains("Subject: [FIRING:1]  (InstanceDown localhost:9100 node)\r\n"));
    assert!(
        !am.am.history().is_empty() && am.am.history().iter().all(|r| r.error.is_none()),
        "{:?}",
        am.am.history()
    );

    Timeline {
        kill,
        last_up: last_up.0,
        down: down.0,
        eval_offset: g.eval_timestamp(START).rem_euclid(10_000),
        pending,
        firing,
        first_post,
        email: n.at_ms,
        restart,
        back_up: back.0,
        resolved: log[2].0,
    }
}

fn print(t: &Timeline) {
    let r = |x: i64| (x - t.kill) as f64 / 1000.0;
    println!(
        "kill 0 s | last up=1 scrape {:+} s | up=0 {:+} s | pending {:+} s | firing {:+} s | posted {:+} s | email {:+} s | restart {:+} s | up=1 {:+} s | resolved {:+} s | (eval offset {} ms)",
        r(t.last_up),
        r(t.down),
        r(t.pending),
        r(t.firing),
        r(t.first_post),
        r(t.email),
        r(t.restart),
        r(t.back_up),
        r(t.resolved),
        t.eval_offset,
    );
}

#[test]
fn the_seed_alert_story_on_exact_virtual_timestamps() {
    // The real stack (samples/alert-timeline.log): kill 0 s, up=0 2.5 s, pending 11 s,
    // firing 71 s, email 101 s. Phases depend on scrape and evaluation offsets; the intervals
    // do not.
    println!(
        "real stack: kill 0 s | up=0 +2.5 s | pending +11.6 s | firing +71.2 s | email +101.5 s"
    );
    for (seed, kill) in [(42, 120_000), (7, 123_456), (1, 185_001)] {
        let t = story(seed, kill, kill + 300_000, kill + 900_000);
        print(&t);
        assert!(t.down - t.kill <= 10_000);
        assert!(t.email - t.kill <= 10_000 + 10_000 + 60_000 + 30_000);
        assert_eq!(t.email - t.firing, 30_000);
    }
}

#[test]
fn the_seed_alert_scenario_prints_its_alerts_and_inbox() {
    // The example's configs are the seed's, unchanged.
    for f in ["prometheus.yml", "rules.yml", "alertmanager.yml"] {
        assert_eq!(example(&format!("seed-alert/{f}")), shared(f), "{f}");
    }
    let sc = Scenario::parse(&example("seed-alert.yml")).unwrap();
    assert_eq!(
        sc.alertmanager.as_deref(),
        Some("seed-alert/alertmanager.yml")
    );
    let inputs = Inputs {
        config: example(&sc.config),
        // Named as `promplay sim` names it: relative to the scenario file.
        rule_files: vec![(
            "seed-alert/rules.yml".into(),
            example("seed-alert/rules.yml"),
        )],
        alertmanager: Some(example("seed-alert/alertmanager.yml")),
    };
    let report = sc.run_with(&inputs).unwrap();
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    let alerts = report.alerts.as_ref().unwrap();
    let states: Vec<&str> = alerts.iter().map(|a| a.state.as_str()).collect();
    assert_eq!(states, ["pending", "firing", "inactive"]);
    assert_eq!(alerts[1].time_ms - alerts[0].time_ms, 60_000);
    let inbox = report.inbox.as_ref().unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].time_ms - alerts[1].time_ms, 30_000);
    assert_eq!(
        inbox[0].subject,
        "[FIRING:1]  (InstanceDown localhost:9100 node)"
    );
    let text = report.to_text();
    print!("{text}");
    let blocks: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(blocks.len(), 5, "{text}");
    assert_eq!(
        blocks[0],
        "at 1m30s: up{job=\"node\"}\nup{instance=\"localhost:9100\", job=\"node\"} 0"
    );
    assert!(blocks[1].starts_with("at 3m: ALERTS\nALERTS{alertname=\"InstanceDown\", alertstate=\"firing\", instance=\"localhost:9100\", job=\"node\"} 1"), "{}", blocks[1]);
    assert_eq!(
        blocks[3],
        format!(
            "alerts:\nat {}: InstanceDown{{instance=\"localhost:9100\", job=\"node\"}} pending\nat {}: InstanceDown{{instance=\"localhost:9100\", job=\"node\"}} firing\nat {}: InstanceDown{{instance=\"localhost:9100\", job=\"node\"}} inactive",
            alerts[0].at, alerts[1].at, alerts[2].at
        )
    );
    assert_eq!(
        blocks[4],
        format!(
            "inbox:\nat {}: email to youraddress@example.org: [FIRING:1]  (InstanceDown localhost:9100 node)\n",
            inbox[0].at
        )
    );
    let json = report.to_json();
    assert_eq!(
        json["inbox"][0]["subject"],
        "[FIRING:1]  (InstanceDown localhost:9100 node)"
    );
    assert_eq!(json["inbox"][0]["to"][0], "youraddress@example.org");
    assert_eq!(json["alerts"][1]["state"], "firing");
    assert_eq!(json["alerts"][1]["labels"]["instance"], "localhost:9100");
    // Without rule files or an Alertmanager nothing of this is printed.
    let plain = sc.run(&inputs.config).unwrap();
    assert!(plain.alerts.is_none() && plain.inbox.is_none());
    assert!(!plain.to_text().contains("inbox:"));
}
