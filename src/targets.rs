//! The Targets page's rows: the scrape manager's view shaped per job, as Prometheus's
//! Targets page shows it. Plain Rust.

use promplay_server::scrape::{TargetHealth, TargetsView};
use promplay_sim::Faults;

use crate::time::format_seconds;

/// One endpoint of a job.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetRow {
    /// `http://localhost:9100/metrics`.
    pub endpoint: String,
    /// `host:port`, the address the World's faults act on.
    pub address: String,
    /// `up`, `down` or `unknown`.
    pub state: &'static str,
    /// The target's public labels, `key="value"` each.
    pub labels: Vec<String>,
    /// `3.870s ago` (as Prometheus's Targets page), or `never`.
    pub last_scrape: String,
    /// The last scrape's duration, e.g. `12.345ms`.
    pub duration: String,
    /// The last error (empty when the last scrape succeeded).
    pub error: String,
}

/// The endpoints of one job (scrape pool).
#[derive(Clone, Debug, PartialEq)]
pub struct TargetGroup {
    pub job: String,
    pub up: usize,
    pub rows: Vec<TargetRow>,
}

/// Groups the active targets by scrape pool (in the view's order), as of `now_ms`.
pub fn groups(view: &TargetsView, now_ms: i64) -> Vec<TargetGroup> {
    let mut out: Vec<TargetGroup> = Vec::new();
    for t in &view.active {
        let row = TargetRow {
            address: address_of(&t.scrape_url),
            endpoint: t.scrape_url.clone(),
            state: t.health.as_str(),
            labels: t
                .labels
                .iter()
                .map(|l| format!("{}=\"{}\"", l.name, l.value))
                .collect(),
            last_scrape: match t.last_scrape_ms {
                Some(ms) => format!("{:.3}s ago", (now_ms - ms).max(0) as f64 / 1000.0),
                None => "never".to_string(),
            },
            duration: format_seconds(t.last_scrape_duration_seconds),
            error: t.last_error.clone(),
        };
        let up = usize::from(t.health == TargetHealth::Up);
        match out.iter_mut().find(|g| g.job == t.scrape_pool) {
            Some(g) => {
                g.up += up;
                g.rows.push(row);
            }
            None => out.push(TargetGroup {
                job: t.scrape_pool.clone(),
                up,
                rows: vec![row],
            }),
        }
    }
    out
}

/// The faults injected into an endpoint, as its row shows them (`slow 15s`, `garbage`, …);
/// empty when it is healthy.
pub fn fault_labels(f: &Faults) -> Vec<String> {
    let mut out = Vec::new();
    if f.delay_ms > 0 {
        out.push(format!("slow {}", crate::time::format_duration(f.delay_ms)));
    }
    if let Some(e) = &f.explosion {
        out.push(format!(
            "exploding ({}{{{}}} × {})",
            e.metric, e.label, e.values
        ));
    }
    if f.garbage {
        out.push("garbage".to_string());
    }
    if f.huge_bytes > 0 {
        out.push(format!("huge ({} kB)", f.huge_bytes / 1000));
    }
    out
}

/// `http://localhost:9100/metrics` → `localhost:9100`.
fn address_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::{Fault, HostAction, Playground};

    /// What the scrape says of a text-format body that starts with `<html>`: Prometheus's
    /// promparser's words (`promplay_exposition::prometheus_error`).
    const GARBAGE_ERROR: &str =
        "expected a valid start token, got \"<\" (\"INVALID\") while parsing: \"<\"";

    #[test]
    fn three_jobs_up_then_the_stopped_exporter_is_down_with_its_error() {
        let mut p = Playground::new();
        let g = groups(&p.targets(), p.now_ms());
        let jobs: Vec<_> = g.iter().map(|g| g.job.as_str()).collect();
        assert_eq!(jobs, ["example", "node", "prometheus"]);
        for grp in &g {
            assert_eq!(grp.rows.len(), 1);
            assert_eq!(grp.up, 1, "{grp:?}");
            let r = &grp.rows[0];
            assert_eq!(r.state, "up");
            assert!(r.error.is_empty());
            let ago: f64 = r
                .last_scrape
                .strip_suffix("s ago")
                .unwrap()
                .parse()
                .unwrap();
            assert!((0.0..10.0).contains(&ago), "{}", r.last_scrape);
            assert!(r.labels.contains(&format!("job=\"{}\"", grp.job)), "{r:?}");
        }
        let node = &g[1].rows[0];
        assert_eq!(node.address, "localhost:9100");
        assert_eq!(node.endpoint, "http://localhost:9100/metrics");

        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(10_000);
        let g = groups(&p.targets(), p.now_ms());
        let node = &g[1].rows[0];
        assert_eq!(node.state, "down");
        assert_eq!(g[1].up, 0);
        assert_eq!(
            node.error,
            "Get \"http://localhost:9100/metrics\": dial tcp 127.0.0.1:9100: connect: connection refused"
        );
        assert_eq!(g[0].rows[0].state, "up");

        p.act("localhost:9100", HostAction::Start).unwrap();
        p.advance(10_000);
        assert_eq!(groups(&p.targets(), p.now_ms())[1].rows[0].state, "up");
    }

    fn row(p: &Playground, address: &str) -> TargetRow {
        groups(&p.targets(), p.now_ms())
            .into_iter()
            .flat_map(|g| g.rows)
            .find(|r| r.address == address)
            .unwrap()
    }

    fn value(p: &Playground, q: &str) -> f64 {
        let o = p.instant_query(q, p.now_ms(), None).unwrap();
        match o.value {
            promplay_promql::value::Value::Vector(v) if v.len() == 1 => v[0].f,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn each_fault_shows_as_prometheus_words_it_and_heal_restores() {
        let mut p = Playground::new();
        let node = "localhost:9100";
        let up_node = r#"up{instance="localhost:9100"}"#;

        // Garbage: the scrape fails to parse.
        p.inject(node, Fault::Garbage).unwrap();
        assert_eq!(fault_labels(&p.faults(node).unwrap()), ["garbage"]);
        p.advance(10_000);
        let r = row(&p, node);
        assert_eq!(r.state, "down");
        assert_eq!(r.error, GARBAGE_ERROR);
        assert_eq!(value(&p, up_node), 0.0);
        p.inject(node, Fault::Heal).unwrap();
        assert!(fault_labels(&p.faults(node).unwrap()).is_empty());
        p.advance(10_000);
        assert_eq!(
            (row(&p, node).state, row(&p, node).error),
            ("up", String::new())
        );
        assert_eq!(value(&p, up_node), 1.0);

        // Slow beyond the scrape timeout (10s): Prometheus's timeout error.
        p.inject(node, Fault::Slow(15_000)).unwrap();
        assert_eq!(fault_labels(&p.faults(node).unwrap()), ["slow 15s"]);
        p.advance(10_000);
        let r = row(&p, node);
        assert_eq!(r.state, "down");
        assert_eq!(
            r.error,
            r#"Get "http://localhost:9100/metrics": context deadline exceeded"#
        );
        assert_eq!(value(&p, up_node), 0.0);
        // Slow within the timeout: up, and the scrape takes that long.
        p.inject(node, Fault::Slow(2_000)).unwrap();
        p.advance(10_000);
        assert_eq!(row(&p, node).state, "up");
        let d = value(&p, r#"scrape_duration_seconds{instance="localhost:9100"}"#);
        assert!((2.0..2.1).contains(&d), "{d}");
        p.inject(node, Fault::Slow(0)).unwrap();
        assert!(fault_labels(&p.faults(node).unwrap()).is_empty());

        // Explosion: the app's counter gains 500 series; up stays 1.
        let app = "localhost:8000";
        p.inject(app, Fault::Explode).unwrap();
        assert_eq!(
            fault_labels(&p.faults(app).unwrap()),
            ["exploding (hello_worlds_total{user_id} × 500)"]
        );
        p.advance(10_000);
        assert_eq!(value(&p, "count(hello_worlds_total)"), 500.0);
        assert_eq!(value(&p, r#"up{job="example"}"#), 1.0);
        // Huge bodies: 1 MB of padding series; up stays 1.
        p.inject(node, Fault::Huge).unwrap();
        p.advance(10_000);
        assert!(value(&p, r#"scrape_samples_scraped{job="node"}"#) > 20_000.0);
        assert_eq!(value(&p, up_node), 1.0);
        // With limits in prometheus.yml, both fail the scrape with Prometheus's words.
        let limited = crate::playground::SEED_CONFIG
            .replace(
                "  - job_name: node\n",
                "  - job_name: node\n    body_size_limit: 500KB\n",
            )
            .replace(
                "  - job_name: example\n",
                "  - job_name: example\n    sample_limit: 200\n",
            );
        assert_eq!(p.apply_config(&limited), Ok(vec![]));
        p.advance(20_000);
        assert_eq!(row(&p, node).error, "body size limit exceeded");
        assert_eq!(row(&p, app).error, "sample limit exceeded");
        assert_eq!(value(&p, r#"up{job="example"}"#), 0.0);
        // Heal restores both.
        p.inject(node, Fault::Heal).unwrap();
        p.inject(app, Fault::Heal).unwrap();
        p.advance(20_000);
        assert_eq!(value(&p, "count(up == 1)"), 3.0);
        assert!(groups(&p.targets(), p.now_ms())
            .iter()
            .flat_map(|g| &g.rows)
            .all(|r| r.error.is_empty()));
        assert!(p.inject("localhost:1", Fault::Garbage).is_err());
    }

    #[test]
    fn durations_and_addresses() {
        assert_eq!(format_seconds(0.0123), "12.300ms");
        assert_eq!(format_seconds(2.5), "2.500s");
        assert_eq!(format_seconds(f64::NAN), "0s");
        assert_eq!(address_of("http://a:1/metrics"), "a:1");
        assert_eq!(address_of("a:1"), "a:1");
    }
}
