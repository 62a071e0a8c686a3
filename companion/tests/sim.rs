//! `promplay sim`, run as a user runs it, on the example scenario of crates/sim.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_promplay"))
        .args(args)
        .output()
        .expect("run promplay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example(name: &str) -> String {
    format!(
        "{}/../crates/sim/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The blocks of the text output: (header, lines).
fn blocks(out: &str) -> Vec<(String, Vec<String>)> {
    out.split("\n\n")
        .map(|b| {
            let mut lines = b.lines().map(str::to_string);
            let head = lines.next().unwrap_or_default();
            (head, lines.collect())
        })
        .collect()
}

#[test]
fn the_seed_scenario_runs_and_shows_the_outage_and_the_restart() {
    let seed = example("seed.yml");
    let (code, out, err) = run(&["sim", &seed]);
    assert_eq!(code, 0, "{err}");
    // Its prometheus.yml names rules.yml, which is not next to it: a glob matching nothing.
    assert!(
        err.contains("note: rule_files: ") && err.contains("rules.yml matches no file"),
        "{err}"
    );
    let b = blocks(&out);
    assert_eq!(b.len(), 7, "{out}");
    assert_eq!(b[0].0, "at 3m: up");
    assert_eq!(
        b[0].1,
        [
            "up{instance=\"localhost:8000\", job=\"example\"} 1",
            "up{instance=\"localhost:9100\", job=\"node\"} 1",
            "up{instance=\"localhost:9090\", job=\"prometheus\"} 1",
        ]
    );
    // The exceptions ratio over one minute of 5 requests/s: about 0.2.
    assert_eq!(
        b[1].0,
        "at 3m: rate(hello_world_exceptions_total[1m]) / rate(hello_worlds_total[1m])"
    );
    let ratio: f64 = b[1].1[0].rsplit(' ').next().unwrap().parse().unwrap();
    assert!((0.05..0.35).contains(&ratio), "{ratio}");
    // The node exporter is stopped at 4m: down, and its series stale.
    assert_eq!(b[2].1[1], "up{instance=\"localhost:9100\", job=\"node\"} 0");
    assert_eq!(
        b[3],
        ("at 5m: node_load1".to_string(), vec!["(empty)".to_string()])
    );
    // The hello app restarted at 7m.
    assert_eq!(b[4].1, ["{instance=\"localhost:8000\", job=\"example\"} 1"]);
    assert_eq!(b[5].1.len(), 8, "one line per CPU mode");
    // Same scenario, same output.
    let (_, again, _) = run(&["sim", &seed]);
    assert_eq!(out, again);
}

#[test]
fn json_output_is_shaped_like_the_query_api() {
    let (code, out, err) = run(&["sim", &example("seed.yml"), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let q = &v["queries"][0];
    assert_eq!(q["at"], "3m");
    assert_eq!(q["time"], 1767225780);
    assert_eq!(q["expr"], "up");
    assert_eq!(q["status"], "success");
    assert_eq!(q["resultType"], "vector");
    assert_eq!(q["result"][1]["metric"]["job"], "node");
    assert_eq!(q["result"][1]["value"][1], "1");
    assert_eq!(v["queries"].as_array().map(Vec::len), Some(7));
    assert!(v["scrapes"].as_u64().unwrap() > 150);
}

#[test]
fn a_bad_scenario_is_reported_with_its_line() {
    let dir = std::env::temp_dir().join(format!("promplay-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.yml");
    std::fs::write(
        &path,
        "config: prometheus.yml\nduration: 1m\nqueries:\n  - at: 30s\n    expr: up\n    step: 1s\n",
    )
    .unwrap();
    let (code, out, err) = run(&["sim", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("bad.yml: line 6: queries[0]: unknown field `step`"),
        "{err}"
    );
    // A query that fails to parse: its block says so, exit 1.
    std::fs::write(dir.join("prometheus.yml"), "scrape_configs: []\n").unwrap();
    std::fs::write(
        &path,
        "config: prometheus.yml\nduration: 1m\nqueries:\n  - at: 30s\n    expr: up{\n",
    )
    .unwrap();
    let (code, out, _) = run(&["sim", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.starts_with("at 30s: up{\nerror: "), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_seed_alert_scenario_shows_the_alerts_and_the_email() {
    let sc = example("seed-alert.yml");
    let (code, out, err) = run(&["sim", &sc]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    let b = blocks(&out);
    assert_eq!(b.len(), 5, "{out}");
    assert_eq!(b[0].1, ["up{instance=\"localhost:9100\", job=\"node\"} 0"]);
    assert_eq!(b[3].0, "alerts:");
    let at = |l: &str| {
        l.split(':')
            .next()
            .unwrap()
            .trim_start_matches("at ")
            .to_string()
    };
    let states: Vec<&str> = b[3]
        .1
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(states, ["pending", "firing", "inactive"], "{out}");
    assert_eq!(b[4].0, "inbox:");
    assert_eq!(b[4].1.len(), 1, "one email, no resolved one: {out}");
    assert!(
        b[4].1[0].ends_with(
            ": email to youraddress@example.org: [FIRING:1]  (InstanceDown localhost:9100 node)"
        ),
        "{out}"
    );
    // Pending at the first evaluation after the stop at 1m, firing one minute later, the
    // email 30 s after that (group_wait, checked to the millisecond below).
    let (p, f, e) = (at(&b[3].1[0]), at(&b[3].1[1]), at(&b[4].1[0]));
    assert!(p.starts_with("1m"), "{p}");
    assert_eq!(p.replacen("1m", "2m", 1), f);
    assert!(e.starts_with("2m"), "{e}");

    let (code, out, err) = run(&["sim", &sc, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["alerts"][1]["state"], "firing");
    assert_eq!(v["alerts"][1]["rule"], "InstanceDown");
    assert_eq!(
        v["inbox"][0]["subject"],
        "[FIRING:1]  (InstanceDown localhost:9100 node)"
    );
    assert_eq!(v["inbox"][0]["to"][0], "youraddress@example.org");
    let fired = v["alerts"][1]["time"].as_f64().unwrap();
    let mailed = v["inbox"][0]["time"].as_f64().unwrap();
    assert!((mailed - fired - 30.0).abs() < 1e-6, "{fired} {mailed}");
}
