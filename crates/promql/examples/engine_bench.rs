//! Times the side-by-side benchmark queries (`../shared/peers/bench/bench.sh`) against
//! promplay's engine on a synthetic dataset of the same shape: 10,000 series
//! `http_requests_total{instance, job, path, status}` × 1,440 samples every 15 s.
//!
//! `cargo run --release -p promplay-promql --example engine_bench [REPS]`

use std::time::Instant;

use promplay_model::Labels;
use promplay_promql::{Engine, EngineOptions};
use promplay_tsdb::{Db, Options};

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let start_s: i64 = 1_767_225_600;
    let step_s = 15;
    let nsteps = 1440;
    let statuses = [
        "200", "201", "204", "301", "304", "400", "401", "404", "500", "503",
    ];
    let mut labels = Vec::new();
    for i in 0..100 {
        let job = format!("job{}", (i / 20).min(4));
        let inst = format!("host-{i:03}:8080");
        for p in 0..10 {
            for s in statuses {
                labels.push(Labels::from_pairs(&[
                    ("__name__", "http_requests_total"),
                    ("instance", &inst),
                    ("job", &job),
                    ("path", &format!("/api/v1/p{p}")),
                    ("status", s),
                ]));
            }
        }
    }
    let db = Db::new(Options::default());
    let t0 = Instant::now();
    let mut seed: u64 = 42;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as f64 / (1u64 << 31) as f64
    };
    let base: Vec<f64> = labels
        .iter()
        .map(|_| 1.0 + (rnd() * 10.0).floor())
        .collect();
    let mut vals: Vec<f64> = labels.iter().map(|_| (rnd() * 1000.0).floor()).collect();
    for k in 0..nsteps {
        let ts = (start_s + k * step_s) * 1000;
        let mut app = db.appender();
        for (s, l) in labels.iter().enumerate() {
            vals[s] += base[s] + (rnd() * base[s]).floor();
            app.append(l, ts, vals[s]).expect("append");
        }
        app.commit().expect("commit");
    }
    println!(
        "loaded {} series x {} samples in {:.2?}",
        labels.len(),
        nsteps,
        t0.elapsed()
    );
    let engine = Engine::new(EngineOptions::default());
    let end_ms = (start_s + 6 * 3600) * 1000;
    let t_ms = end_ms - 15_000;
    let queries: [(&str, &str, bool); 4] = [
        (
            "instant_sum_by_job_rate",
            "sum by (job) (rate(http_requests_total[5m]))",
            false,
        ),
        (
            "range_sum_by_job_rate_6h",
            "sum by (job) (rate(http_requests_total[5m]))",
            true,
        ),
        (
            "instant_topk5_path_rate",
            "topk(5, sum by (path) (rate(http_requests_total[5m])))",
            false,
        ),
        (
            "instant_selector_status500",
            "http_requests_total{status=\"500\"}",
            false,
        ),
    ];
    let custom = std::env::var("BENCH_Q").ok();
    let extra: Vec<(&str, &str, bool)> = match &custom {
        Some(q) => vec![
            ("custom_range", q.as_str(), true),
            ("custom_instant", q.as_str(), false),
        ],
        None => queries.to_vec(),
    };
    for (name, q, range) in extra {
        let mut times = Vec::new();
        for _ in 0..reps {
            let t = Instant::now();
            let r = if range {
                engine.range_query(&db, q, start_s * 1000, end_ms, 60_000)
            } else {
                engine.instant_query(&db, q, t_ms)
            };
            let el = t.elapsed();
            r.expect("query");
            times.push(el.as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        println!(
            "{name:28} median={:8.2}ms min={:8.2}ms max={:8.2}ms",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
    }
}
