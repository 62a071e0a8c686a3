//! Simulates 24 h of the seed's world headless (Prometheus, node exporter and hello app
//! scraped every 10 s, the app at 1 request/s) and prints the wall time.
//!
//! `cargo run --release -p promplay-sim --example day [HOURS] [RATE]`

use std::time::Instant;

use promplay_server::Config;
use promplay_sim::scenario::DEFAULT_START_MS;
use promplay_sim::{Stack, Traffic, World};

fn main() {
    let mut args = std::env::args().skip(1);
    let hours: i64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(24);
    let rate: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let cfg = Config::load(include_str!("prometheus.yml")).expect("seed config");
    let mut world = World::seed_world(42, DEFAULT_START_MS);
    world
        .set_traffic(
            "localhost:8000",
            Traffic {
                rate,
                ..Traffic::default()
            },
        )
        .expect("hello app");
    let (mut sim, _) = Stack::new(cfg, &[], None, world).expect("no rule files");
    let start = Instant::now();
    let end = DEFAULT_START_MS + hours * 3_600_000;
    // Step a minute at a time, as a UI playing the clock forward would.
    let mut t = DEFAULT_START_MS;
    while t < end {
        t = (t + 60_000).min(end);
        sim.run_until(t);
    }
    let el = start.elapsed();
    let stats = sim.db.stats();
    println!(
        "{hours} h simulated in {:.3} s: {} scrapes ({:.1} µs each), {} series, {} samples, {:.2} bytes/sample",
        el.as_secs_f64(),
        sim.scrapes(),
        el.as_secs_f64() * 1e6 / sim.scrapes().max(1) as f64,
        stats.series,
        stats.samples,
        stats.bytes_per_sample,
    );
}
