//! The simulated world scraped by the server's scrape loops into a TSDB, checked through
//! PromQL as a user would: determinism, the seed's exceptions ratio, stopped targets and
//! staleness, restarts and `resets()`, and the node exporter's families against the real
//! node_exporter's output.

use std::collections::BTreeMap;

use promplay_exposition::{parse_text, MetricType};
use promplay_model::{is_stale_nan, MatchType, Matcher};
use promplay_promql::value::Value;
use promplay_server::Config;
use promplay_sim::scenario::DEFAULT_START_MS;
use promplay_sim::{Scenario, Stack, Traffic, World};
use promplay_tsdb::{Queryable, ValType};

const START: i64 = DEFAULT_START_MS;

fn examples(name: &str) -> String {
    let p = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn seed_config() -> Config {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/peers/conf/prometheus.yml"
    );
    Config::load(&std::fs::read_to_string(p).expect("seed prometheus.yml")).expect("config")
}

fn seed_sim(seed: u64, rate: f64) -> Stack {
    let mut world = World::seed_world(seed, START);
    world
        .set_traffic(
            "localhost:8000",
            Traffic {
                rate,
                ..Traffic::default()
            },
        )
        .unwrap();
    Stack::new(seed_config(), &[], None, world)
        .expect("no rule files")
        .0
}

fn scalar_vector(sim: &Stack, expr: &str, t: i64) -> Vec<(String, f64)> {
    match sim.query(expr, t).unwrap().value {
        Value::Vector(v) => v.into_iter().map(|s| (s.metric.to_string(), s.f)).collect(),
        other => panic!("{expr}: {other:?}"),
    }
}

fn one(sim: &Stack, expr: &str, t: i64) -> f64 {
    let v = scalar_vector(sim, expr, t);
    assert_eq!(v.len(), 1, "{expr} at {t}: {v:?}");
    v[0].1
}

#[test]
fn same_seed_same_output_bit_for_bit() {
    let text = examples("seed.yml");
    let config = examples("prometheus.yml");
    let s = Scenario::parse(&text).unwrap();
    let a = s.run(&config).unwrap();
    let b = s.run(&config).unwrap();
    assert_eq!(a.to_text(), b.to_text());
    assert_eq!(a.to_json().to_string(), b.to_json().to_string());
    assert!(a.scrapes > 150, "{}", a.scrapes);
    let other = Scenario::parse(&text.replace("seed: 42", "seed: 43")).unwrap();
    let c = other.run(&config).unwrap();
    assert_ne!(a.to_text(), c.to_text(), "the seed must matter");
}

#[test]
fn exceptions_ratio_is_the_seeds_twenty_percent() {
    let mut sim = seed_sim(7, 10.0);
    let expr = "rate(hello_world_exceptions_total[1m]) / rate(hello_worlds_total[1m])";
    let mut ratios = Vec::new();
    for minute in 2..=60 {
        let t = START + minute * 60_000;
        sim.run_until(t);
        let r = one(&sim, expr, t);
        // ~600 requests a minute: three standard deviations of the share are ≈ 0.05.
        assert!((r - 0.2).abs() < 0.07, "minute {minute}: {r}");
        ratios.push(r);
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!((mean - 0.2).abs() < 0.01, "mean ratio {mean}");
}

#[test]
fn a_stopped_target_is_down_at_its_next_scrape_and_its_series_go_stale() {
    let mut sim = seed_sim(1, 1.0);
    let t0 = START + 120_000;
    sim.run_until(t0);
    assert_eq!(one(&sim, "up{job=\"node\"}", t0), 1.0);
    assert_eq!(one(&sim, "node_load1", t0), one(&sim, "node_load1", t0));
    sim.world.stop("localhost:9100").unwrap();
    // The next scrape is at most one interval later.
    let t1 = t0 + 10_000;
    sim.run_until(t1);
    assert_eq!(one(&sim, "up{job=\"node\"}", t1), 0.0);
    let node_target = sim
        .targets()
        .active
        .into_iter()
        .find(|t| t.scrape_pool == "node")
        .unwrap();
    assert_eq!(node_target.health.as_str(), "down");
    assert_eq!(
        node_target.last_error,
        "Get \"http://localhost:9100/metrics\": dial tcp 127.0.0.1:9100: connect: connection refused"
    );
    // The node's series end with a staleness marker: PromQL no longer sees them.
    assert!(scalar_vector(&sim, "node_load1", t1).is_empty());
    {
        let q = sim.db.querier(t0, t1).unwrap();
        let m = Matcher::new(MatchType::Equal, "__name__", "node_load1").unwrap();
        let set = q.select(false, None, &[m]).unwrap();
        let mut it = set.series[0].iter();
        let mut last = 0.0;
        while it.next() == ValType::Float {
            last = it.at().1;
        }
        assert!(is_stale_nan(last), "last sample {last}");
    }
    // The other targets are unaffected.
    assert_eq!(one(&sim, "up{job=\"example\"}", t1), 1.0);
    // Started again: up, with fresh process metrics.
    sim.world.start("localhost:9100").unwrap();
    let t2 = t1 + 10_000;
    sim.run_until(t2);
    assert_eq!(one(&sim, "up{job=\"node\"}", t2), 1.0);
}

#[test]
fn a_restart_resets_counters_visible_to_resets() {
    let mut sim = seed_sim(3, 5.0);
    let t0 = START + 180_000;
    sim.run_until(t0);
    let created_before = one(&sim, "hello_worlds_created", t0);
    assert_eq!(one(&sim, "resets(hello_worlds_total[5m])", t0), 0.0);
    sim.world.restart("localhost:8000").unwrap();
    let t1 = t0 + 60_000;
    sim.run_until(t1);
    assert_eq!(one(&sim, "resets(hello_worlds_total[5m])", t1), 1.0);
    let created_after = one(&sim, "hello_worlds_created", t1);
    assert_eq!(created_after, t0 as f64 / 1000.0);
    assert!(created_after > created_before);
    // rate() copes with the reset: still about 5 requests per second.
    let r = one(&sim, "rate(hello_worlds_total[1m])", t1);
    assert!((3.5..6.5).contains(&r), "{r}");
}

#[test]
fn slow_scrapes_time_out_and_garbage_fails_to_parse() {
    let mut sim = seed_sim(1, 1.0);
    let t0 = START + 60_000;
    sim.run_until(t0);
    sim.world.set_delay("localhost:9100", 15_000).unwrap();
    sim.world.set_garbage("localhost:8000", true).unwrap();
    let t1 = t0 + 10_000;
    sim.run_until(t1);
    assert_eq!(one(&sim, "up{job=\"node\"}", t1), 0.0);
    assert_eq!(one(&sim, "up{job=\"example\"}", t1), 0.0);
    assert_eq!(one(&sim, "scrape_duration_seconds{job=\"node\"}", t1), 10.0);
    let errors: BTreeMap<String, String> = sim
        .targets()
        .active
        .into_iter()
        .map(|t| (t.scrape_pool, t.last_error))
        .collect();
    assert_eq!(
        errors["node"],
        "Get \"http://localhost:9100/metrics\": context deadline exceeded"
    );
    // The hello app answers OpenMetrics; Prometheus's OpenMetricsParser stops at the `<`.
    assert_eq!(
        errors["example"],
        "expected a valid start token, got \"<\" (\"INVALID\") while parsing: \"<\""
    );
    sim.world.heal("localhost:9100").unwrap();
    sim.world.heal("localhost:8000").unwrap();
    let t2 = t1 + 10_000;
    sim.run_until(t2);
    assert_eq!(one(&sim, "sum(up)", t2), 3.0);
}

#[test]
fn a_label_explosion_adds_series() {
    let mut sim = seed_sim(1, 1.0);
    let t0 = START + 60_000;
    sim.run_until(t0);
    let before = one(&sim, "prometheus_tsdb_head_series", t0);
    sim.world
        .set_explosion(
            "localhost:8000",
            Some(promplay_sim::Explosion {
                metric: "hello_worlds_total".into(),
                label: "path".into(),
                values: 500,
            }),
        )
        .unwrap();
    let t1 = t0 + 30_000;
    sim.run_until(t1);
    assert_eq!(one(&sim, "count(hello_worlds_total)", t1), 500.0);
    // Prometheus's own head-series gauge sees the growth (both _total and _created).
    let after = one(&sim, "prometheus_tsdb_head_series", t1);
    assert!(after >= before + 998.0, "{before} -> {after}");
}

/// (help, type, sorted label names) per family of a text exposition.
fn families(text: &str) -> BTreeMap<String, (Option<String>, MetricType, Vec<String>)> {
    parse_text(text.as_bytes())
        .unwrap()
        .into_iter()
        .map(|f| {
            let mut names: Vec<String> = f
                .samples
                .iter()
                .flat_map(|s| s.labels.iter().map(|l| l.name.to_string()))
                .collect();
            names.sort();
            names.dedup();
            (f.name.clone(), (f.help.clone(), f.typ, names))
        })
        .collect()
}

#[test]
fn node_exporter_families_match_the_real_node_exporter() {
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples/node_exporter.txt"
    ))
    .unwrap();
    let real = families(&sample);
    let mut world = World::seed_world(1, START);
    let ours = world
        .get("localhost:9100", "/metrics", None, START + 3_600_000)
        .unwrap();
    let ours = families(std::str::from_utf8(&ours.body).unwrap());
    for (name, fam) in &ours {
        assert_eq!(real.get(name), Some(fam), "{name}");
    }
    let wanted = |n: &str| {
        n == "node_cpu_seconds_total"
            || n.starts_with("node_memory_")
            || n == "node_network_receive_bytes_total"
            || n == "node_network_transmit_bytes_total"
            || n.starts_with("node_load")
            || n.starts_with("node_filesystem_")
            || n == "process_resident_memory_bytes"
    };
    let missing: Vec<&String> = real
        .keys()
        .filter(|n| wanted(n) && !ours.contains_key(*n))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert!(ours.len() >= 70, "{}", ours.len());
}

#[test]
fn prometheus_self_metrics_follow_the_tsdb() {
    let mut sim = seed_sim(1, 1.0);
    let t0 = START + 300_000;
    sim.run_until(t0);
    let series = one(&sim, "prometheus_tsdb_head_series", t0);
    let stats = sim.db.stats();
    // Scraped at most one interval ago: at most the series of one more scrape round.
    assert!(series > 50.0 && series <= stats.series as f64, "{series}");
    let appended = scalar_vector(&sim, "prometheus_tsdb_head_samples_appended_total", t0);
    assert_eq!(appended.len(), 2);
    let rate = one(
        &sim,
        "rate(prometheus_tsdb_head_samples_appended_total{type=\"float\"}[1m])",
        t0,
    );
    assert!(rate > 0.0, "{rate}");
    let rss = one(
        &sim,
        "process_resident_memory_bytes{job=\"prometheus\"}",
        t0,
    );
    assert!(rss > 40e6, "{rss}");
}

#[test]
fn scenario_errors_name_the_line() {
    let bad = "config: prometheus.yml\nduration: 5m\nevents:\n  - at: 1m\n    stop: localhost:9100\n    frobnicate: yes\n";
    let e = Scenario::parse(bad).unwrap_err().to_string();
    assert!(e.starts_with("line 6: "), "{e}");
    assert!(e.contains("frobnicate"), "{e}");
    let two = "config: p.yml\nduration: 5m\nevents:\n  - at: 1m\n    stop: a:1\n    restart: a:1\n";
    let e = Scenario::parse(two).unwrap_err().to_string();
    assert!(e.contains("an event has one action"), "{e}");
    assert!(e.starts_with("line "), "{e}");
    let late = "config: p.yml\nduration: 5m\nqueries:\n  - at: 6m\n    expr: up\n";
    assert_eq!(
        Scenario::parse(late).unwrap_err().to_string(),
        "query at 6m is after the end of the run (5m)"
    );
    let unknown = "config: p.yml\nduration: 5m\nrecording: r.yml\n";
    let e = Scenario::parse(unknown).unwrap_err().to_string();
    assert!(e.starts_with("line 3: unknown field `recording`"), "{e}");
    // `rules` is a list of files.
    let one = "config: p.yml\nduration: 5m\nrules: r.yml\n";
    let e = Scenario::parse(one).unwrap_err().to_string();
    assert!(
        e.starts_with("line 3: rules: invalid type: string \"r.yml\", expected a sequence"),
        "{e}"
    );
}

#[test]
fn the_readme_scenario_parses_and_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let len = readme[start..].find("```").expect("its end");
    let s = Scenario::parse(&readme[start..start + len]).unwrap();
    assert_eq!(s.events.len(), 9);
    let report = s.run(&examples("prometheus.yml")).unwrap();
    assert_eq!(report.to_text(), "at 5m: up\nup{instance=\"localhost:8000\", job=\"example\"} 1\nup{instance=\"localhost:9100\", job=\"node\"} 0\nup{instance=\"localhost:9090\", job=\"prometheus\"} 1\n");
}

#[test]
fn hello_app_families_match_the_real_app() {
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples/hello-text.txt"
    ))
    .unwrap();
    let real = families(&sample);
    let mut world = World::seed_world(1, START);
    let ours = world
        .get("localhost:8000", "/metrics", None, START + 600_000)
        .unwrap();
    let ours = families(std::str::from_utf8(&ours.body).unwrap());
    // The seed app (hello.py) exposes exactly the real app's families.
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        real.keys().collect::<Vec<_>>()
    );
    for (name, fam) in &ours {
        assert_eq!(real.get(name), Some(fam), "{name}");
    }
}
