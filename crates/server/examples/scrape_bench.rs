//! Times the scrape path (fetch → parse → relabel → append → staleness → report) on a real
//! node_exporter /metrics body, on the virtual clock.
//!
//! `cargo run --release -p promplay-server --example scrape_bench [SCRAPES]`

use std::time::Instant;

use promplay_server::scrape::{ScrapeError, ScrapeManager, ScrapeRequest, ScrapeResponse};
use promplay_server::Config;
use promplay_tsdb::{Db, Options};

fn main() {
    let scrapes: i64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples/node_exporter.txt"
    );
    let body = std::fs::read(path).expect("node_exporter sample");
    let cfg = Config::load(
        "scrape_configs:\n  - job_name: node\n    scrape_interval: 15s\n    static_configs:\n      - targets: ['localhost:9100']\n    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: 'go_.*'\n        action: drop\n",
    )
    .expect("config");
    let mut mgr = ScrapeManager::new(0);
    mgr.apply_config(&cfg, 0);
    let db = Db::new(Options::default());
    let mut fetch = |_: &ScrapeRequest| -> Result<ScrapeResponse, ScrapeError> {
        Ok(ScrapeResponse {
            content_type: "text/plain; version=0.0.4".into(),
            body: body.clone(),
            duration_ns: 20_000_000,
        })
    };
    let start = Instant::now();
    let n = mgr.run_until(scrapes * 15_000, &db, &mut fetch);
    let el = start.elapsed();
    let stats = db.stats();
    println!(
        "{n} scrapes of {} bytes in {:.3} s: {:.3} ms/scrape, {:.0} samples/s stored; {} series, {} samples, {:.2} bytes/sample",
        body.len(),
        el.as_secs_f64(),
        el.as_secs_f64() * 1000.0 / n as f64,
        stats.samples as f64 / el.as_secs_f64(),
        stats.series,
        stats.samples,
        stats.bytes_per_sample
    );
}
