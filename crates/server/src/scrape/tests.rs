//! Scrape-loop scenarios on a ManualClock with fake fetchers: exact timestamps of samples and
//! staleness markers, as Prometheus writes them.

use std::cell::RefCell;
use std::rc::Rc;

use promplay_model::{is_stale_nan, Clock, ManualClock, MatchType, Matcher};
use promplay_tsdb::{Options, Queryable, ValType};

use super::*;
use crate::config::Config;

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the fake target answers at a given virtual time.
type Program = Box<dyn FnMut(&ScrapeRequest) -> Result<ScrapeResponse, ScrapeError>>;

struct World {
    clock: ManualClock,
    db: Db,
    mgr: ScrapeManager,
    fetcher: Program,
    requests: Rc<RefCell<Vec<(i64, String)>>>,
}

fn ok(body: &str, duration_ms: i64) -> Result<ScrapeResponse, ScrapeError> {
    ok_ns(body, duration_ms * 1_000_000)
}

fn ok_ns(body: &str, duration_ns: i64) -> Result<ScrapeResponse, ScrapeError> {
    Ok(ScrapeResponse {
        content_type: TEXT.into(),
        body: body.as_bytes().to_vec(),
        duration_ns,
    })
}

impl World {
    fn new(config: &str, start_ms: i64, mut program: Program) -> World {
        let cfg = Config::load(config).unwrap();
        let mut mgr = ScrapeManager::new(0);
        let failures = mgr.apply_config(&cfg, start_ms);
        assert!(failures.is_empty(), "{failures:?}");
        let requests = Rc::new(RefCell::new(Vec::new()));
        let r2 = requests.clone();
        World {
            clock: ManualClock::new(start_ms),
            db: Db::new(Options::default()),
            mgr,
            fetcher: Box::new(move |req: &ScrapeRequest| {
                r2.borrow_mut().push((req.time_ms, req.url.clone()));
                program(req)
            }),
            requests,
        }
    }

    fn advance(&mut self, ms: i64) -> usize {
        self.clock.advance(ms);
        let now = self.clock.now_ms();
        self.mgr.run_until(now, &self.db, &mut self.fetcher)
    }

    /// All samples of series named `name`: (labels, [(t, v)]) sorted by labels.
    fn series(&self, name: &str) -> Vec<(Labels, Vec<(i64, f64)>)> {
        let q = self.db.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
        let m = Matcher::new(MatchType::Equal, METRIC_NAME, name).unwrap();
        let set = q.select(true, None, &[m]).unwrap();
        set.series
            .iter()
            .map(|s| {
                let mut it = s.iter();
                let mut out = Vec::new();
                while it.next() == ValType::Float {
                    out.push(it.at());
                }
                (s.labels().clone(), out)
            })
            .collect()
    }

    fn values(&self, name: &str) -> Vec<(i64, f64)> {
        let s = self.series(name);
        assert_eq!(s.len(), 1, "{name}: {s:?}");
        s[0].1.clone()
    }

    fn first_scrape_ms(&self) -> i64 {
        self.mgr.next_event_ms().unwrap()
    }
}

fn stale(v: f64) -> bool {
    is_stale_nan(v)
}

const ONE_JOB: &str = "
global:
  scrape_interval: 10s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['localhost:9100']
        labels:
          env: test
";

#[test]
fn first_scrape_is_at_the_target_offset_and_then_every_interval() {
    let start = 1_700_000_000_000;
    let mut w = World::new(ONE_JOB, start, Box::new(|_| ok("a 1\n", 5)));
    let first = w.first_scrape_ms();
    // Prometheus's offset: pinned to absolute time, within one interval from now.
    let pool = w.mgr.pool("node").unwrap();
    let lp = pool.loops().next().unwrap();
    let expected = start + lp.target.offset(10_000, start, 0);
    assert_eq!(first, expected);
    assert!(first > start && first <= start + 10_000);
    // Pinned to absolute time: the offset modulo the interval depends on the target only.
    let later = start + 3_333;
    assert_eq!(
        (later + lp.target.offset(10_000, later, 0)) % 10_000,
        first % 10_000
    );

    assert_eq!(w.advance(first - start - 1), 0, "nothing before the offset");
    assert_eq!(w.advance(1), 1);
    assert_eq!(w.advance(25_000), 2);
    let req: Vec<i64> = w.requests.borrow().iter().map(|r| r.0).collect();
    assert_eq!(req, vec![first, first + 10_000, first + 20_000]);
    assert_eq!(w.requests.borrow()[0].1, "http://localhost:9100/metrics");

    assert_eq!(
        w.series("a")[0].0.to_string(),
        r#"{__name__="a", env="test", instance="localhost:9100", job="node"}"#
    );
    assert_eq!(
        w.values("a"),
        vec![(first, 1.0), (first + 10_000, 1.0), (first + 20_000, 1.0)]
    );
    assert_eq!(
        w.values("up"),
        vec![(first, 1.0), (first + 10_000, 1.0), (first + 20_000, 1.0)]
    );
    assert_eq!(w.values("scrape_duration_seconds")[0], (first, 0.005));
    assert_eq!(w.values("scrape_samples_scraped")[0], (first, 1.0));
    assert_eq!(
        w.values("scrape_samples_post_metric_relabeling")[0],
        (first, 1.0)
    );
    // Series added: 1 on the first scrape, 0 after.
    assert_eq!(
        w.values("scrape_series_added"),
        vec![(first, 1.0), (first + 10_000, 0.0), (first + 20_000, 0.0)]
    );
    let view = w.mgr.targets();
    assert_eq!(view.active.len(), 1);
    let t = &view.active[0];
    assert_eq!(t.health, TargetHealth::Up);
    assert_eq!(t.last_scrape_ms, Some(first + 20_000));
    assert_eq!(t.last_scrape_duration_seconds, 0.005);
    assert_eq!(t.scrape_pool, "node");
    assert_eq!(
        t.labels.to_string(),
        r#"{env="test", instance="localhost:9100", job="node"}"#
    );
    assert_eq!(
        t.discovered_labels.to_string(),
        r#"{__address__="localhost:9100", __metrics_path__="/metrics", __scheme__="http", __scrape_interval__="10s", __scrape_timeout__="10s", env="test", job="node"}"#
    );
}

#[test]
fn a_series_that_disappears_gets_a_stale_marker_at_the_next_scrape() {
    let n = Rc::new(RefCell::new(0));
    let n2 = n.clone();
    let mut w = World::new(
        ONE_JOB,
        0,
        Box::new(move |_| {
            *n2.borrow_mut() += 1;
            if *n2.borrow() <= 2 {
                ok("a 1\nb 2\n", 0)
            } else {
                ok("a 1\n", 0)
            }
        }),
    );
    let first = w.first_scrape_ms();
    w.advance(first + 30_000);
    let b = w.values("b");
    assert_eq!(b.len(), 3, "{b:?}");
    assert_eq!(&b[..2], &[(first, 2.0), (first + 10_000, 2.0)]);
    assert_eq!(b[2].0, first + 20_000);
    assert!(stale(b[2].1), "marker expected, got {}", b[2].1);
    // Only one marker: the series is forgotten afterwards.
    assert_eq!(w.values("a").len(), 4);
    assert!(w.values("a").iter().all(|(_, v)| *v == 1.0));
}

#[test]
fn a_target_that_goes_down_reports_up_0_and_its_series_go_stale() {
    let n = Rc::new(RefCell::new(0));
    let n2 = n.clone();
    let mut w = World::new(
        ONE_JOB,
        0,
        Box::new(move |req| {
            *n2.borrow_mut() += 1;
            if *n2.borrow() == 1 {
                ok("a 1\n", 3)
            } else {
                Err(ScrapeError::connection_refused(&req.address))
            }
        }),
    );
    let first = w.first_scrape_ms();
    w.advance(first + 10_000);
    assert_eq!(w.values("up"), vec![(first, 1.0), (first + 10_000, 0.0)]);
    let a = w.values("a");
    assert_eq!(a[0], (first, 1.0));
    assert_eq!(a[1].0, first + 10_000);
    assert!(stale(a[1].1));
    assert_eq!(w.values("scrape_samples_scraped")[1], (first + 10_000, 0.0));
    let t = &w.mgr.targets().active[0];
    assert_eq!(t.health, TargetHealth::Down);
    assert_eq!(
        t.last_error,
        r#"Get "http://localhost:9100/metrics": dial tcp localhost:9100: connect: connection refused"#
    );
}

#[test]
fn a_scrape_slower_than_the_timeout_fails_with_context_deadline_exceeded() {
    let cfg = "
scrape_configs:
  - job_name: slow
    scrape_interval: 15s
    scrape_timeout: 5s
    static_configs:
      - targets: ['slow:8000']
";
    let mut w = World::new(cfg, 0, Box::new(|_| ok("a 1\n", 5_001)));
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(w.values("up"), vec![(first, 0.0)]);
    assert_eq!(w.values("scrape_duration_seconds"), vec![(first, 5.0)]);
    assert!(w.series("a").is_empty());
    assert_eq!(
        w.mgr.targets().active[0].last_error,
        r#"Get "http://slow:8000/metrics": context deadline exceeded"#
    );
}

/// A fetch of a quarter of a millisecond (a local target, measured by the host) is reported
/// as 0.00025 s in `scrape_duration_seconds` and the targets view, not rounded to 0.
#[test]
fn sub_millisecond_scrape_durations_keep_their_precision() {
    let mut w = World::new(ONE_JOB, 0, Box::new(|_| ok_ns("a 1\n", 250_000)));
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(w.values("up"), vec![(first, 1.0)]);
    assert_eq!(w.values("scrape_duration_seconds"), vec![(first, 0.00025)]);
    let t = &w.mgr.targets().active[0];
    assert_eq!(t.last_scrape_duration_seconds, 0.00025);
    assert_eq!(t.last_scrape_duration_seconds.to_string(), "0.00025");
    // A failed fetch keeps its measured nanoseconds too.
    let mut w = World::new(
        ONE_JOB,
        0,
        Box::new(|_| {
            Err(ScrapeError::new(
                ScrapeErrorKind::Transport("connection reset by peer".into()),
                3_456_789,
            ))
        }),
    );
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(
        w.values("scrape_duration_seconds"),
        vec![(first, 0.003456789)]
    );
    assert_eq!(
        w.mgr.targets().active[0].last_scrape_duration_seconds,
        0.003456789
    );
}

/// The timeout comparison is exact to the nanosecond: a fetch that took exactly the timeout
/// succeeds, one nanosecond more fails with the timeout as its duration.
#[test]
fn the_timeout_comparison_is_exact_in_nanoseconds() {
    let cfg = "
scrape_configs:
  - job_name: slow
    scrape_interval: 15s
    scrape_timeout: 5s
    static_configs:
      - targets: ['slow:8000']
";
    let mut w = World::new(cfg, 0, Box::new(|_| ok_ns("a 1\n", 5_000_000_000)));
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(w.values("up"), vec![(first, 1.0)]);
    assert_eq!(w.values("scrape_duration_seconds"), vec![(first, 5.0)]);
    let mut w = World::new(cfg, 0, Box::new(|_| ok_ns("a 1\n", 5_000_000_001)));
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(w.values("up"), vec![(first, 0.0)]);
    assert_eq!(w.values("scrape_duration_seconds"), vec![(first, 5.0)]);
    assert!(w.series("a").is_empty());
}

#[test]
fn ns_to_seconds_is_gos_duration_seconds() {
    assert_eq!(ns_to_seconds(0), 0.0);
    assert_eq!(ns_to_seconds(250_000), 0.00025);
    assert_eq!(ns_to_seconds(1_500_000_000), 1.5);
    // Whole seconds and the fraction are converted apart, as Go does.
    assert_eq!(ns_to_seconds(12_345_678_901), 12.0 + 345_678_901.0 / 1e9);
}

#[test]
fn http_errors_use_prometheus_wording() {
    let mut w = World::new(
        ONE_JOB,
        0,
        Box::new(|_| {
            Err(ScrapeError::new(
                ScrapeErrorKind::Status {
                    code: 503,
                    reason: "Service Unavailable".into(),
                },
                2_000_000,
            ))
        }),
    );
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(
        w.mgr.targets().active[0].last_error,
        "server returned HTTP status 503 Service Unavailable"
    );
    assert_eq!(w.values("scrape_duration_seconds"), vec![(first, 0.002)]);
}

#[test]
fn exposed_labels_conflicting_with_target_labels_become_exported_unless_honored() {
    let body = "m{job=\"pushed\",instance=\"i\",exported_job=\"x\"} 1\n";
    let mut w = World::new(ONE_JOB, 0, Box::new(move |_| ok(body, 0)));
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(
        w.series("m")[0].0.to_string(),
        r#"{__name__="m", env="test", exported_exported_job="pushed", exported_instance="i", exported_job="x", instance="localhost:9100", job="node"}"#
    );

    let honor = ONE_JOB.replace(
        "  - job_name: node\n",
        "  - job_name: node\n    honor_labels: true\n",
    );
    let mut w = World::new(&honor, 0, Box::new(move |_| ok(body, 0)));
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(
        w.series("m")[0].0.to_string(),
        r#"{__name__="m", env="test", exported_job="x", instance="i", job="pushed"}"#
    );
}

#[test]
fn metric_relabel_configs_drop_and_rewrite_and_counts_follow() {
    let cfg = "
scrape_configs:
  - job_name: j
    scrape_interval: 10s
    static_configs:
      - targets: ['h:1']
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
      - source_labels: [path]
        regex: '/api/(.*)'
        target_label: endpoint
        replacement: '$1'
";
    let body = "go_goroutines 7\ngo_threads 3\nhttp_requests_total{path=\"/api/users\"} 10\n";
    let mut w = World::new(cfg, 0, Box::new(move |_| ok(body, 0)));
    let first = w.first_scrape_ms();
    w.advance(first + 10_000);
    assert!(w.series("go_goroutines").is_empty());
    assert_eq!(
        w.series("http_requests_total")[0].0.get("endpoint"),
        Some("users")
    );
    assert_eq!(
        w.values("scrape_samples_scraped"),
        vec![(first, 3.0), (first + 10_000, 3.0)]
    );
    assert_eq!(
        w.values("scrape_samples_post_metric_relabeling"),
        vec![(first, 1.0), (first + 10_000, 1.0)]
    );
}

#[test]
fn exceeding_sample_limit_fails_the_scrape_and_stores_nothing_from_it() {
    let cfg = "
scrape_configs:
  - job_name: j
    scrape_interval: 10s
    sample_limit: 2
    static_configs:
      - targets: ['h:1']
";
    let n = Rc::new(RefCell::new(0));
    let n2 = n.clone();
    let mut w = World::new(
        cfg,
        0,
        Box::new(move |_| {
            *n2.borrow_mut() += 1;
            if *n2.borrow() == 1 {
                ok("a 1\nb 1\n", 0)
            } else {
                ok("a 2\nb 2\nc 2\n", 0)
            }
        }),
    );
    let first = w.first_scrape_ms();
    w.advance(first + 10_000);
    assert_eq!(w.values("up"), vec![(first, 1.0), (first + 10_000, 0.0)]);
    assert_eq!(
        w.mgr.targets().active[0].last_error,
        "sample limit exceeded"
    );
    assert!(w.series("c").is_empty());
    // Nothing of the failed scrape is kept. As in Prometheus, series appended before the
    // limit was hit count as seen, so they get no staleness marker either.
    assert_eq!(w.values("a"), vec![(first, 1.0)]);
    assert_eq!(w.values("b"), vec![(first, 1.0)]);
    assert_eq!(w.values("scrape_samples_scraped")[1], (first + 10_000, 3.0));
}

#[test]
fn body_size_limit_fails_the_scrape() {
    let cfg = "
scrape_configs:
  - job_name: j
    scrape_interval: 10s
    body_size_limit: 10B
    static_configs:
      - targets: ['h:1']
";
    let mut w = World::new(cfg, 0, Box::new(|_| ok("a_long_metric_name 1\n", 0)));
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(w.values("up"), vec![(first, 0.0)]);
    assert_eq!(
        w.mgr.targets().active[0].last_error,
        "body size limit exceeded"
    );
}

#[test]
fn explicit_timestamps_are_honored_and_exempt_from_staleness() {
    let n = Rc::new(RefCell::new(0));
    let n2 = n.clone();
    let mut w = World::new(
        ONE_JOB,
        0,
        Box::new(move |_| {
            *n2.borrow_mut() += 1;
            if *n2.borrow() == 1 {
                ok("a 1 1234\nb 2\n", 0)
            } else {
                ok("", 0)
            }
        }),
    );
    let first = w.first_scrape_ms();
    w.advance(first + 10_000);
    assert_eq!(
        w.values("a"),
        vec![(1234, 1.0)],
        "no stale marker for timestamped series"
    );
    let b = w.values("b");
    assert_eq!(b.len(), 2);
    assert!(stale(b[1].1));
    // An empty body is a successful scrape of nothing.
    assert_eq!(w.values("up"), vec![(first, 1.0), (first + 10_000, 1.0)]);
}

#[test]
fn a_removed_target_gets_end_of_run_stale_markers_after_two_intervals() {
    let mut w = World::new(ONE_JOB, 0, Box::new(|_| ok("a 1\n", 0)));
    let first = w.first_scrape_ms();
    w.advance(first + 10_000); // two scrapes: first, first+10s
    let now = w.clock.now_ms();
    let empty = Config::load("global:\n  scrape_interval: 10s\n").unwrap();
    assert!(w.mgr.apply_config(&empty, now).is_empty());
    assert!(w.mgr.targets().active.is_empty());
    // Markers are stamped with the next scrape's time, written 1.1 intervals after it.
    let stale_at = first + 20_000;
    w.advance(stale_at + 10_999 - now);
    assert_eq!(w.values("a").len(), 2, "not yet");
    w.advance(1);
    let a = w.values("a");
    assert_eq!(a.len(), 3);
    assert_eq!(a[2].0, stale_at);
    assert!(stale(a[2].1));
    let up = w.values("up");
    assert_eq!(up.last().unwrap().0, stale_at);
    assert!(stale(up.last().unwrap().1));
    assert_eq!(w.mgr.next_event_ms(), None);
}

#[test]
fn a_target_that_comes_back_before_the_markers_keeps_its_series() {
    let mut w = World::new(ONE_JOB, 0, Box::new(|_| ok("a 1\n", 0)));
    let first = w.first_scrape_ms();
    w.advance(first);
    let now = w.clock.now_ms();
    let empty = Config::load("global:\n  scrape_interval: 10s\n").unwrap();
    w.mgr.apply_config(&empty, now);
    let back = Config::load(ONE_JOB).unwrap();
    w.mgr.apply_config(&back, now + 1);
    w.advance(60_000);
    assert!(
        w.values("a").iter().all(|(_, v)| !stale(*v)),
        "markers of the old loop are rejected as out of order: {:?}",
        w.values("a")
    );
}

#[test]
fn relabeling_drops_targets_and_shapes_target_labels() {
    let cfg = "
scrape_configs:
  - job_name: j
    scrape_interval: 10s
    params:
      module: [http_2xx]
    relabel_configs:
      - source_labels: [__address__]
        regex: 'skip.*'
        action: drop
      - source_labels: [__address__]
        target_label: __param_target
      - target_label: __address__
        replacement: blackbox:9115
      - source_labels: [__param_target]
        target_label: instance
    static_configs:
      - targets: ['example.com', 'skip.me']
";
    let mut w = World::new(cfg, 0, Box::new(|_| ok("probe_success 1\n", 0)));
    let view = w.mgr.targets();
    assert_eq!(view.active.len(), 1);
    assert_eq!(view.dropped.len(), 1);
    assert_eq!(view.dropped_counts["j"], 1);
    assert_eq!(
        view.dropped[0].discovered_labels.get(ADDRESS_LABEL),
        Some("skip.me")
    );
    let t = &view.active[0];
    assert_eq!(
        t.scrape_url,
        "http://blackbox:9115/metrics?module=http_2xx&target=example.com"
    );
    assert_eq!(t.labels.to_string(), r#"{instance="example.com", job="j"}"#);
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(
        w.series("probe_success")[0].0.to_string(),
        r#"{__name__="probe_success", instance="example.com", job="j"}"#
    );
}

#[test]
fn target_creation_failures_are_worded_as_prometheus() {
    let cfg = Config::load(
        &std::fs::read_to_string(format!(
            "{}/../../../shared/conformance/promtool/url_in_scrape_targetgroup_with_relabel_config.bad.yml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let mut mgr = ScrapeManager::new(0);
    assert_eq!(
        mgr.apply_config(&cfg, 0),
        vec![r#"instance 0 in group 0: "http://bad" is not a valid hostname"#.to_string()]
    );
}

#[test]
fn content_type_decides_the_parser() {
    let cfg = "
scrape_configs:
  - job_name: j
    scrape_interval: 10s
    static_configs:
      - targets: ['h:1']
";
    let om = "# TYPE c counter\nc_total 3\n# EOF\n";
    let mut w = World::new(
        cfg,
        0,
        Box::new(move |_| {
            Ok(ScrapeResponse {
                content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8".into(),
                body: om.as_bytes().to_vec(),
                duration_ns: 0,
            })
        }),
    );
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(w.values("c_total"), vec![(first, 3.0)]);

    let mut w = World::new(
        cfg,
        0,
        Box::new(|_| {
            Ok(ScrapeResponse {
                content_type: String::new(),
                body: b"a 1\n".to_vec(),
                duration_ns: 0,
            })
        }),
    );
    let first = w.first_scrape_ms();
    w.advance(first);
    assert_eq!(w.values("up"), vec![(first, 0.0)]);
    assert_eq!(
        w.mgr.targets().active[0].last_error,
        "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target"
    );
}

#[test]
fn target_limit_forces_every_target_down() {
    let cfg = "
scrape_configs:
  - job_name: j
    scrape_interval: 10s
    target_limit: 1
    static_configs:
      - targets: ['h:1', 'h:2']
";
    let mut w = World::new(cfg, 0, Box::new(|_| ok("a 1\n", 0)));
    w.advance(10_000);
    assert!(
        w.requests.borrow().is_empty(),
        "targets over the limit are not fetched"
    );
    for t in w.mgr.targets().active {
        assert_eq!(t.health, TargetHealth::Down);
        assert_eq!(
            t.last_error,
            "target_limit exceeded (number of targets: 2, limit: 1)"
        );
    }
}

#[test]
fn accept_header_is_prometheus_v3_default() {
    let cfg = Config::load(ONE_JOB).unwrap();
    let sc = &cfg.scrape_configs[0];
    assert_eq!(
        accept_header(&sc.scrape_protocols, &sc.metric_name_escaping_scheme),
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    );
}

#[test]
fn a_clock_jump_runs_every_missed_scrape_in_time_order_across_jobs() {
    let cfg = "
scrape_configs:
  - job_name: a
    scrape_interval: 10s
    static_configs: [{targets: ['a:1']}]
  - job_name: b
    scrape_interval: 15s
    static_configs: [{targets: ['b:1']}]
";
    let mut w = World::new(cfg, 0, Box::new(|_| ok("x 1\n", 0)));
    let n = w.advance(60_000);
    assert!((9..=11).contains(&n), "{n}");
    let times: Vec<i64> = w.requests.borrow().iter().map(|r| r.0).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert!(times.iter().all(|t| *t <= 60_000));
}

fn sample_file(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/../../../shared/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn content_type_of(headers: &str) -> String {
    let h = String::from_utf8(sample_file(headers)).unwrap();
    h.lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap()
        .trim()
        .to_string()
}

/// Number of sample lines of an exposition (not comments, not blank).
fn sample_lines(body: &[u8]) -> usize {
    String::from_utf8_lossy(body)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count()
}

#[test]
fn real_outputs_of_real_programs_scrape_completely() {
    for (body_file, content_type) in [
        ("node_exporter.txt", TEXT.to_string()),
        ("hello-text.txt", content_type_of("hello-text.headers")),
        (
            "hello-openmetrics.txt",
            content_type_of("hello-openmetrics.headers"),
        ),
    ] {
        let body = sample_file(body_file);
        let n = sample_lines(&body);
        let b2 = body.clone();
        let ct = content_type.clone();
        let mut w = World::new(
            ONE_JOB,
            0,
            Box::new(move |_| {
                Ok(ScrapeResponse {
                    content_type: ct.clone(),
                    body: b2.clone(),
                    duration_ns: 12_000_000,
                })
            }),
        );
        let first = w.first_scrape_ms();
        w.advance(first + 10_000);
        let t = &w.mgr.targets().active[0];
        assert_eq!(t.health, TargetHealth::Up, "{body_file}: {}", t.last_error);
        assert_eq!(
            w.values("scrape_samples_scraped"),
            vec![(first, n as f64), (first + 10_000, n as f64)],
            "{body_file}"
        );
        assert_eq!(
            w.values("scrape_series_added"),
            vec![(first, n as f64), (first + 10_000, 0.0)],
            "{body_file}"
        );
        let stats = w.db.stats();
        // Every exposed sample is a series, plus the five report series.
        assert_eq!(stats.series, n + 5, "{body_file}");
    }
}

#[test]
fn a_reload_that_changes_only_limits_keeps_the_cache_otherwise_it_starts_afresh() {
    let mut w = World::new(ONE_JOB, 0, Box::new(|_| ok("a 1\nb 1\n", 0)));
    let first = w.first_scrape_ms();
    w.advance(first);
    // sample_limit does not alter samples: the loop keeps its cache and its schedule.
    let limited = ONE_JOB.replace(
        "  - job_name: node\n",
        "  - job_name: node\n    sample_limit: 100\n",
    );
    w.mgr
        .apply_config(&Config::load(&limited).unwrap(), first + 1);
    w.advance(10_000);
    assert_eq!(
        w.values("scrape_series_added"),
        vec![(first, 2.0), (first + 10_000, 0.0)]
    );
    // metric_relabel_configs do: a new cache, every series counts as added again.
    let relabeled = format!(
        "{limited}    metric_relabel_configs:\n      - target_label: x\n        replacement: y\n"
    );
    w.mgr
        .apply_config(&Config::load(&relabeled).unwrap(), first + 10_001);
    w.advance(30_000);
    let added = w.values("scrape_series_added");
    assert_eq!(added[2], (first + 20_000, 2.0), "{added:?}");
    assert_eq!(added[3], (first + 30_000, 0.0), "{added:?}");
    // The old loop's end-of-run markers: the series it alone wrote goes stale at the time its
    // next scrape would have had; the relabeled one carries on from that same instant.
    let a = w.series("a");
    assert_eq!(a.len(), 2, "the old and the relabeled series");
    assert_eq!(&a[0].1[..2], &[(first, 1.0), (first + 10_000, 1.0)]);
    assert_eq!(a[0].1[2].0, first + 20_000);
    assert!(stale(a[0].1[2].1));
    assert_eq!(a[1].0.get("x"), Some("y"));
    assert_eq!(a[1].1[0], (first + 20_000, 1.0));
    // The report series are the same series for both loops: the old loop's markers for them
    // are out of order and rejected.
    assert!(w.values("up").iter().all(|(_, v)| *v == 1.0));
}

#[test]
fn skip_until_keeps_the_phase_and_scrapes_nothing_in_between() {
    let mut w = World::new(ONE_JOB, 0, Box::new(|_| ok("a 1\n", 0)));
    let first = w.first_scrape_ms();
    w.advance(first);
    w.mgr.skip_until(first + 3_600_000 + 1);
    assert_eq!(w.first_scrape_ms(), first + 3_610_000);
    w.advance(3_610_000);
    assert_eq!(w.values("a"), vec![(first, 1.0), (first + 3_610_000, 1.0)]);
}

#[test]
fn label_limits_fail_the_scrape_with_prometheus_wording() {
    for (limit, want) in [
        (
            "label_limit: 3",
            "label_limit exceeded (metric: m, number of labels: 5, limit: 3)",
        ),
        (
            "label_name_length_limit: 4",
            "label_name_length_limit exceeded (metric: m, label name: __name__, length: 8, limit: 4)",
        ),
        (
            "label_value_length_limit: 5",
            r#"label_value_length_limit exceeded (metric: m, label name: instance, value: "localhost:9100", length: 14, limit: 5)"#,
        ),
    ] {
        let cfg = ONE_JOB.replace("  - job_name: node\n", &format!("  - job_name: node\n    {limit}\n"));
        let mut w = World::new(&cfg, 0, Box::new(|_| ok("m{a=\"b\"} 1\n", 0)));
        let first = w.first_scrape_ms();
        w.advance(first);
        assert_eq!(w.values("up"), vec![(first, 0.0)], "{limit}");
        assert_eq!(w.mgr.targets().active[0].last_error, want);
        assert!(w.series("m").is_empty());
    }
}

#[test]
fn metadata_of_scraped_families_is_kept() {
    let body = "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\nhttp_requests_total 1\n# TYPE temp gauge\ntemp 3\n";
    let mut w = World::new(ONE_JOB, 0, Box::new(move |_| ok(body, 0)));
    let first = w.first_scrape_ms();
    w.advance(first);
    let md = w.mgr.metadata();
    assert_eq!(
        md["http_requests_total"],
        vec![MetricMetadata {
            metric_family: "http_requests_total".into(),
            typ: "counter".into(),
            help: "Requests.".into(),
            unit: String::new(),
        }]
    );
    assert_eq!(md["temp"][0].typ, "gauge");
}

#[test]
fn mutated_bodies_never_panic_and_up_says_what_happened() {
    let base = sample_file("hello-text.txt");
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    let mut bodies = Vec::new();
    for _ in 0..200 {
        let mut b = base.clone();
        for _ in 0..1 + rnd(3) {
            let pos = rnd(b.len());
            match rnd(3) {
                0 => {
                    b.remove(pos);
                }
                1 => {
                    let set = b"{}\"=# \n,e+9";
                    b.insert(pos, set[rnd(set.len())]);
                }
                _ => b[pos] = rnd(256) as u8,
            }
        }
        bodies.push(b);
    }
    let n = bodies.len();
    let feed = Rc::new(RefCell::new(bodies));
    let f2 = feed.clone();
    let mut w = World::new(
        ONE_JOB,
        0,
        Box::new(move |_| {
            let b = f2.borrow_mut().pop().unwrap_or_default();
            Ok(ScrapeResponse {
                content_type: TEXT.into(),
                body: b,
                duration_ns: 1_000_000,
            })
        }),
    );
    let first = w.first_scrape_ms();
    w.advance(first + (n as i64 - 1) * 10_000);
    let up = w.values("up");
    assert_eq!(up.len(), n);
    assert!(up.iter().all(|(_, v)| *v == 0.0 || *v == 1.0));
    let t = &w.mgr.targets().active[0];
    assert_eq!(
        t.health == TargetHealth::Up,
        up[n - 1].1 == 1.0,
        "{}",
        t.last_error
    );
}

#[test]
fn a_body_shaped_as_the_last_has_only_its_values_read_and_the_same_checks_made() {
    let hist = |bucket: &str, value: &str, ts: &str| {
        format!(
            "# HELP h A histogram.\n# TYPE h histogram\nh_bucket{{le=\"1\"}} {bucket}\n\
             h_bucket{{le=\"+Inf\"}} 3\nh_sum 4.5\nh_count 3\n\n# TYPE c counter\n\
             c_total{{a=\"x y\"}} {value}{ts}\nh_count 3\n"
        )
    };
    let bodies: Vec<String> = vec![
        hist("1", "10", ""),
        hist("2", "11", ""),
        // The same shape with a negative bucket: the parser's error, not a sample.
        hist("-1", "12", ""),
        // A value that is no float.
        hist("2", "abc", ""),
        // A timestamp, then one that is no integer, then something after it.
        hist("2", "13", " 3000000000000"),
        hist("2", "14", " 5x"),
        hist("2", "15", " 5 6"),
        // Another shape: parsed in full.
        hist("2", "16", "").replace("a=\"x y\"", "a=\"z\""),
        hist("2", "17", "").replace("a=\"x y\"", "a=\"z\""),
    ];
    let n = Rc::new(RefCell::new(0usize));
    let n2 = n.clone();
    let b2 = bodies.clone();
    let mut w = World::new(
        ONE_JOB,
        0,
        Box::new(move |_| {
            let i = *n2.borrow();
            *n2.borrow_mut() += 1;
            ok(&b2[i.min(b2.len() - 1)], 0)
        }),
    );
    let first = w.first_scrape_ms();
    let mut errors = Vec::new();
    for i in 0..bodies.len() {
        w.advance(if i == 0 { first } else { 10_000 });
        errors.push(w.mgr.targets().active[0].last_error.clone());
    }
    // The error of each scrape is the full parse's, word for word: Prometheus's textparse
    // wording, or ours where textparse accepts what the parser refuses.
    for (body, got) in bodies.iter().zip(&errors) {
        let want = match promplay_exposition::parse_text(body.as_bytes()) {
            Ok(_) => String::new(),
            Err(e) => promplay_exposition::prometheus_error(body.as_bytes(), FormatKind::Text)
                .unwrap_or_else(|| e.to_string()),
        };
        assert_eq!(*got, want, "{body}");
    }
    assert!(
        errors[2].contains("negative bucket population"),
        "{errors:?}"
    );
    let t = |k: i64| first + k * 10_000;
    let x = w.series("c_total");
    assert_eq!(x.len(), 2, "{x:?}");
    let xy = &x.iter().find(|s| s.0.get("a") == Some("x y")).unwrap().1;
    assert_eq!(xy[..2], [(t(0), 10.0), (t(1), 11.0)]);
    // The failed scrapes wrote stale markers; the timestamped sample kept its own time.
    assert!(
        xy.iter()
            .any(|&(tt, v)| tt == 3_000_000_000_000 && v == 13.0),
        "{xy:?}"
    );
    let z = &x.iter().find(|s| s.0.get("a") == Some("z")).unwrap().1;
    assert_eq!(*z, vec![(t(7), 16.0), (t(8), 17.0)]);
    assert_eq!(w.series("h_bucket").len(), 2);
    // Metadata of the families is kept across the shaped scrapes.
    let md = w.mgr.metadata();
    assert_eq!(md["h"][0].typ, "histogram");
    assert_eq!(md["h"][0].help, "A histogram.");
}

// ---------------------------------------------------------------------------------------------
// The asynchronous host's entry points: start_due / complete.

const TWO_JOBS: &str = "
scrape_configs:
  - job_name: fast
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs: [{targets: ['fast:1']}]
  - job_name: slow
    scrape_interval: 5s
    scrape_timeout: 5s
    static_configs: [{targets: ['slow:1']}]
";

fn new_async(config: &str) -> (ScrapeManager, Db) {
    let mut mgr = ScrapeManager::new(0);
    assert!(mgr
        .apply_config(&Config::load(config).unwrap(), 0)
        .is_empty());
    (mgr, Db::new(Options::default()))
}

fn float_samples(db: &Db, name: &str, job: &str) -> Vec<(i64, f64)> {
    let q = db.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
    let m = [
        Matcher::new(MatchType::Equal, METRIC_NAME, name).unwrap(),
        Matcher::new(MatchType::Equal, "job", job).unwrap(),
    ];
    let set = q.select(true, None, &m).unwrap();
    assert_eq!(set.series.len(), 1, "{name}{{job={job:?}}}");
    let mut it = set.series[0].iter();
    let mut out = Vec::new();
    while it.next() == ValType::Float {
        out.push(it.at());
    }
    out
}

#[test]
fn a_hanging_target_does_not_shift_the_others_when_fetches_complete_asynchronously() {
    let (mut mgr, db) = new_async(TWO_JOBS);
    let mut slow_pending: Option<PendingScrape> = None;
    let mut fast_times = Vec::new();
    // Every 100 ms of virtual time: start what is due; the fast target answers at once, the
    // slow one hangs for its whole timeout (5 s) and is completed with a timeout then.
    for now in (0..=20_000).step_by(100) {
        if let Some(p) = slow_pending.take() {
            if now >= p.time_ms + 5_000 {
                let err = ScrapeError::new(ScrapeErrorKind::Timeout, 5_000_000_000);
                assert!(mgr.complete(&p, Err(err), &db));
            } else {
                slow_pending = Some(p);
            }
        }
        for p in mgr.start_due(now, &db) {
            assert!(
                p.time_ms <= now && p.time_ms > now - 100,
                "{} at {now}",
                p.time_ms
            );
            assert_eq!(p.request.time_ms, p.time_ms);
            if p.job == "fast" {
                fast_times.push(p.time_ms);
                assert!(mgr.complete(&p, ok("a 1\n", 3), &db));
            } else {
                assert!(slow_pending.is_none(), "one scrape in flight per target");
                slow_pending = Some(p);
            }
        }
    }
    assert!(fast_times.len() >= 19, "{fast_times:?}");
    assert!(
        fast_times.windows(2).all(|w| w[1] - w[0] == 1_000),
        "{fast_times:?}"
    );
    let up = float_samples(&db, "up", "fast");
    assert_eq!(up.iter().map(|s| s.0).collect::<Vec<_>>(), fast_times);
    assert!(up.iter().all(|s| s.1 == 1.0));
    let slow_up = float_samples(&db, "up", "slow");
    assert!(slow_up.len() >= 3, "{slow_up:?}");
    assert!(slow_up.iter().all(|s| s.1 == 0.0));
    assert!(
        slow_up.windows(2).all(|w| w[1].0 - w[0].0 == 5_000),
        "{slow_up:?}"
    );
    let t = mgr
        .targets()
        .active
        .into_iter()
        .find(|t| t.scrape_pool == "slow")
        .unwrap();
    assert_eq!(t.health, TargetHealth::Down);
    assert_eq!(
        t.last_error,
        "Get \"http://slow:1/metrics\": context deadline exceeded"
    );
}

#[test]
fn start_due_waits_for_a_scrape_under_way_and_skips_slots_the_host_slept_through() {
    let (mut mgr, db) = new_async(TWO_JOBS);
    let first: Vec<PendingScrape> = mgr.start_due(5_000, &db);
    assert_eq!(first.len(), 2);
    let fast = first.iter().find(|p| p.job == "fast").unwrap().clone();
    let slow = first.iter().find(|p| p.job == "slow").unwrap().clone();
    // The fast loop fell behind: it starts at its latest slot, not at its first.
    assert!(
        fast.time_ms > 4_000 && fast.time_ms <= 5_000,
        "{}",
        fast.time_ms
    );
    // Still under way one interval later: nothing new starts, and nothing is due for it.
    let again = mgr.start_due(fast.time_ms + 1_000, &db);
    assert!(again.iter().all(|p| p.job != "fast"), "{again:?}");
    assert_eq!(
        mgr.next_event_ms(),
        None,
        "both loops under way: nothing due until a completion"
    );
    assert!(mgr.complete(&fast, ok("a 1\n", 1_000), &db));
    assert!(!mgr.complete(&fast, ok("a 1\n", 0), &db), "completed twice");
    // The slot that came during the scrape starts right after it, stamped at its slot.
    assert_eq!(mgr.next_event_ms(), Some(fast.time_ms + 1_000));
    let late = mgr.start_due(fast.time_ms + 1_050, &db);
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].time_ms, fast.time_ms + 1_000);
    assert!(mgr.complete(&late[0], ok("a 2\n", 3), &db));
    assert!(mgr.complete(&slow, ok("b 1\n", 3), &db));
    let a = float_samples(&db, "a", "fast");
    assert_eq!(a, vec![(fast.time_ms, 1.0), (fast.time_ms + 1_000, 2.0)]);
}

#[test]
fn a_scrape_completed_after_its_target_went_away_stores_nothing() {
    let (mut mgr, db) = new_async(ONE_JOB);
    let t0 = mgr.next_event_ms().unwrap();
    let p = mgr.start_due(t0, &db);
    assert_eq!(p.len(), 1);
    assert!(mgr.complete(&p[0], ok("a 1\n", 0), &db));
    let p = mgr.start_due(t0 + 10_000, &db);
    assert_eq!(p.len(), 1);
    let empty = Config::load("global:\n  scrape_interval: 10s\n").unwrap();
    assert!(mgr.apply_config(&empty, t0 + 10_001).is_empty());
    assert!(!mgr.complete(&p[0], ok("a 2\n", 0), &db));
    // End-of-run staleness is written by start_due once due: stamped with the next slot.
    assert!(mgr.start_due(t0 + 31_000, &db).is_empty());
    let a = float_samples(&db, "a", "node");
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a[0], (t0, 1.0));
    assert_eq!(a[1].0, t0 + 20_000);
    assert!(stale(a[1].1));
}

#[test]
fn targets_over_the_limit_are_reported_by_start_due_without_a_fetch() {
    let cfg = "
scrape_configs:
  - job_name: j
    scrape_interval: 10s
    target_limit: 1
    static_configs:
      - targets: ['h:1', 'h:2']
";
    let (mut mgr, db) = new_async(cfg);
    assert!(mgr.start_due(10_000, &db).is_empty());
    for t in mgr.targets().active {
        assert_eq!(t.health, TargetHealth::Down);
        assert!(t.last_error.starts_with("target_limit exceeded"));
    }
}

#[test]
fn a_body_that_does_not_parse_reports_prometheus_parser_words() {
    // (content type, body, lastError as Prometheus v3's textparse words it)
    let om = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    let cases: [(&str, &[u8], &str); 5] = [
        (
            TEXT,
            b"<html><body>\x00\xffOops: 502 Bad Gateway {{{\n",
            "expected a valid start token, got \"<\" (\"INVALID\") while parsing: \"<\"",
        ),
        (
            om,
            b"<html><body>\x00\xffOops: 502 Bad Gateway {{{\n",
            "expected a valid start token, got \"<\" (\"INVALID\") while parsing: \"<\"",
        ),
        (
            TEXT,
            b"a 1\nb{c='d'} 2\n",
            "expected label value, got \"'\" (\"INVALID\") while parsing: \"b{c='\"",
        ),
        (
            TEXT,
            b"# TYPE a counte\na 1\n",
            "invalid metric type \"counte\"",
        ),
        (
            om,
            b"# TYPE c counter\nc_total 3\n",
            "data does not end with # EOF",
        ),
    ];
    for (content_type, body, want) in cases {
        let mut w = World::new(
            ONE_JOB,
            0,
            Box::new(move |_| {
                Ok(ScrapeResponse {
                    content_type: content_type.into(),
                    body: body.to_vec(),
                    duration_ns: 1_000_000,
                })
            }),
        );
        let first = w.first_scrape_ms();
        w.advance(first);
        assert_eq!(w.values("up"), vec![(first, 0.0)], "{want}");
        let t = &w.mgr.targets().active[0];
        assert_eq!(t.health, TargetHealth::Down);
        assert_eq!(t.last_error, want);
    }
}
