//! The Targets page's rows: the scrape manager's view shaped per job, as Prometheus's
//! Targets page shows it. Plain Rust.

use promplay_server::scrape::{TargetHealth, TargetsView};

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

/// `http://localhost:9100/metrics` → `localhost:9100`.
fn address_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// A scrape duration as the Targets page shows it (`0.012s` → `12.000ms`).
fn format_seconds(s: f64) -> String {
    if !s.is_finite() || s <= 0.0 {
        "0s".to_string()
    } else if s < 1.0 {
        format!("{:.3}ms", s * 1000.0)
    } else {
        format!("{s:.3}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::{HostAction, Playground};

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

    #[test]
    fn durations_and_addresses() {
        assert_eq!(format_seconds(0.0123), "12.300ms");
        assert_eq!(format_seconds(2.5), "2.500s");
        assert_eq!(format_seconds(f64::NAN), "0s");
        assert_eq!(address_of("http://a:1/metrics"), "a:1");
        assert_eq!(address_of("a:1"), "a:1");
    }
}
