//! The playground's data until simulated scraping lands: a small, deterministic generated
//! dataset, as if Prometheus scraped three targets every 15 s.
//!
//! Plain Rust (no browser, no wall clock): the same start time and the same sequence of
//! [`Dataset::advance_to`] calls give the same samples, bit for bit, however the calls are
//! batched. `crates/sim` will replace this module with simulated programs scraped for real.
//!
//! Targets (job / instance, scrape offset within the interval):
//! - `api` / `api-0:8080` (+0 s) and `api-1:8080` (+5 s): `up`, `http_requests_total{path,
//!   status}` (counters), `process_resident_memory_bytes` (gauge);
//! - `node` / `node-0:9100` (+10 s): `up`, `process_resident_memory_bytes`, `node_load1`.
//!
//! `api-1:8080` is down for 5 minutes of every 30 (minutes 20–24 of each half hour): `up` is 0,
//! its other series get a staleness marker at the first failed scrape, and its counters start
//! again from zero when it comes back (a process restart), so `rate()` sees a counter reset.

use promplay_model::{Labels, STALE_NAN};

/// The scrape interval of every generated target.
pub const SCRAPE_INTERVAL_MS: i64 = 15_000;

/// Every metric name the dataset writes.
pub const METRIC_NAMES: [&str; 4] = [
    "up",
    "http_requests_total",
    "process_resident_memory_bytes",
    "node_load1",
];

const PATHS: [(&str, f64); 3] = [("/", 5.0), ("/api/users", 2.0), ("/api/orders", 1.0)];
const STATUSES: [(&str, f64); 2] = [("200", 1.0), ("500", 0.02)];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Requests per second (mean) of a counter.
    Counter(f64),
    /// Resident memory around a base, in bytes.
    Memory(f64),
    Load,
}

#[derive(Debug)]
struct SeriesSpec {
    labels: Labels,
    kind: Kind,
    /// Running value of a counter since the target's last (re)start.
    value: f64,
}

#[derive(Debug)]
struct Target {
    up_labels: Labels,
    offset_ms: i64,
    flaky: bool,
    /// Index of the next scrape; its time is `k * interval + offset`.
    next_k: i64,
    was_up: bool,
    series: Vec<SeriesSpec>,
}

/// The generator. See the module documentation for what it writes.
#[derive(Debug)]
pub struct Dataset {
    targets: Vec<Target>,
}

impl Dataset {
    /// A dataset whose first scrapes happen at or after `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        let mut targets = Vec::new();
        for (job, instance, offset_ms) in [
            ("api", "api-0:8080", 0),
            ("api", "api-1:8080", 5_000),
            ("node", "node-0:9100", 10_000),
        ] {
            let base = |name: &str| {
                Labels::from_pairs(&[("__name__", name), ("job", job), ("instance", instance)])
            };
            let mut series = Vec::new();
            if job == "api" {
                let factor = if instance == "api-0:8080" { 1.0 } else { 0.6 };
                for (path, prate) in PATHS {
                    for (status, share) in STATUSES {
                        series.push(SeriesSpec {
                            labels: Labels::from_pairs(&[
                                ("__name__", "http_requests_total"),
                                ("job", job),
                                ("instance", instance),
                                ("path", path),
                                ("status", status),
                            ]),
                            kind: Kind::Counter(prate * share * factor),
                            value: 0.0,
                        });
                    }
                }
            }
            let mem = if job == "api" { 48e6 } else { 21e6 };
            series.push(SeriesSpec {
                labels: base("process_resident_memory_bytes"),
                kind: Kind::Memory(mem),
                value: 0.0,
            });
            if job == "node" {
                series.push(SeriesSpec {
                    labels: base("node_load1"),
                    kind: Kind::Load,
                    value: 0.0,
                });
            }
            let first_k =
                (start_ms - offset_ms + SCRAPE_INTERVAL_MS - 1).div_euclid(SCRAPE_INTERVAL_MS);
            targets.push(Target {
                up_labels: base("up"),
                offset_ms,
                flaky: instance == "api-1:8080",
                next_k: first_k,
                was_up: true,
                series,
            });
        }
        Dataset { targets }
    }

    /// Emits every scrape with a timestamp `<= until_ms` not emitted before, as
    /// `(labels, timestamp_ms, value)`, in time order per series. Calling it again with a
    /// smaller `until_ms` emits nothing.
    pub fn advance_to(&mut self, until_ms: i64, emit: &mut impl FnMut(&Labels, i64, f64)) {
        // Interleave targets in time order so an appender sees a global time order.
        loop {
            let next = self
                .targets
                .iter_mut()
                .map(|t| (t.next_k * SCRAPE_INTERVAL_MS + t.offset_ms, t))
                .filter(|(ts, _)| *ts <= until_ms)
                .min_by_key(|(ts, _)| *ts);
            let Some((ts, target)) = next else { break };
            scrape(target, ts, emit);
            target.next_k += 1;
        }
    }
}

fn is_down(target: &Target, ts: i64) -> bool {
    target.flaky && (20..25).contains(&(ts.div_euclid(60_000).rem_euclid(30)))
}

fn scrape(target: &mut Target, ts: i64, emit: &mut impl FnMut(&Labels, i64, f64)) {
    let k = target.next_k;
    if is_down(target, ts) {
        emit(&target.up_labels, ts, 0.0);
        if target.was_up {
            for s in &mut target.series {
                emit(&s.labels, ts, STALE_NAN);
                s.value = 0.0; // the process restarts: counters begin again
            }
        }
        target.was_up = false;
        return;
    }
    target.was_up = true;
    emit(&target.up_labels, ts, 1.0);
    for (i, s) in target.series.iter_mut().enumerate() {
        let r = unit(k as u64, i as u64, target.offset_ms as u64);
        let t_min = ts as f64 / 60_000.0;
        let v = match s.kind {
            Kind::Counter(rate) => {
                s.value += (rate * (SCRAPE_INTERVAL_MS / 1000) as f64 * (0.5 + r)).round();
                s.value
            }
            Kind::Memory(base) => {
                let wave = (t_min / 20.0 * std::f64::consts::TAU).sin();
                (base + 6e6 * wave + 1e6 * r).round()
            }
            Kind::Load => {
                let wave = (t_min / 45.0 * std::f64::consts::TAU).sin();
                ((1.2 + 0.8 * wave + 0.3 * r) * 100.0).round() / 100.0
            }
        };
        emit(&s.labels, ts, v);
    }
}

/// A deterministic number in `[0, 1)` from a scrape index and a series (splitmix64).
fn unit(k: u64, series: u64, salt: u64) -> f64 {
    let mut z = k
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(series.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(salt);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use promplay_model::is_stale_nan;

    const T0: i64 = 1_767_225_600_000; // 2026-01-01 00:00:00 UTC

    fn collect(ds: &mut Dataset, until: i64) -> Vec<(String, i64, u64)> {
        let mut out = Vec::new();
        ds.advance_to(until, &mut |l, t, v| {
            out.push((l.to_string(), t, v.to_bits()))
        });
        out
    }

    #[test]
    fn batching_does_not_change_the_samples() {
        let mut one = Dataset::new(T0);
        let all = collect(&mut one, T0 + 3_600_000);
        let mut many = Dataset::new(T0);
        let mut pieces = Vec::new();
        let mut t = T0;
        while t < T0 + 3_600_000 {
            t += 7_777;
            pieces.extend(collect(&mut many, t.min(T0 + 3_600_000)));
        }
        assert_eq!(all, pieces);
        assert!(
            collect(&mut many, T0).is_empty(),
            "going back emits nothing"
        );
    }

    #[test]
    fn every_target_is_scraped_every_interval_in_time_order() {
        let mut ds = Dataset::new(T0);
        let samples = collect(&mut ds, T0 + 600_000);
        let ups: Vec<_> = samples
            .iter()
            .filter(|s| s.0.starts_with("{__name__=\"up\""))
            .collect();
        // 10 minutes, 3 targets, 15 s interval: 40 scrapes each (the last at +9:45/+9:50/+9:55,
        // plus the one at exactly +10:00 of the target with offset 0).
        assert_eq!(ups.len(), 3 * 40 + 1);
        assert!(samples.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(samples.iter().all(|s| s.1 >= T0 && s.1 <= T0 + 600_000));
    }

    #[test]
    fn counters_increase_until_the_flaky_target_restarts() {
        let mut ds = Dataset::new(T0);
        let mut by_series: std::collections::BTreeMap<String, Vec<(i64, f64)>> = Default::default();
        ds.advance_to(T0 + 30 * 60_000, &mut |l, t, v| {
            by_series.entry(l.to_string()).or_default().push((t, v))
        });
        let key = |inst: &str| {
            format!(
                "{{__name__=\"http_requests_total\", instance=\"{inst}\", job=\"api\", path=\"/\", status=\"200\"}}"
            )
        };
        let stable = &by_series[&key("api-0:8080")];
        assert!(stable.windows(2).all(|w| w[1].1 >= w[0].1));
        assert!(stable.last().unwrap().1 > 1000.0);
        let flaky = &by_series[&key("api-1:8080")];
        let stale: Vec<_> = flaky.iter().filter(|s| is_stale_nan(s.1)).collect();
        assert_eq!(
            stale.len(),
            1,
            "one staleness marker when the target goes down"
        );
        assert_eq!(stale[0].0, T0 + 20 * 60_000 + 5_000);
        let after: Vec<_> = flaky.iter().filter(|s| s.0 >= T0 + 25 * 60_000).collect();
        assert!(
            after[0].1 < 100.0,
            "the counter starts again after the restart"
        );
        let up = &by_series["{__name__=\"up\", instance=\"api-1:8080\", job=\"api\"}"];
        assert_eq!(up.iter().filter(|s| s.1 == 0.0).count(), 20);
    }

    #[test]
    fn gauges_stay_in_a_plausible_band() {
        let mut ds = Dataset::new(T0);
        let mut n = 0;
        ds.advance_to(T0 + 3_600_000, &mut |l, _t, v| {
            if is_stale_nan(v) {
                return;
            }
            match l.metric_name() {
                Some("process_resident_memory_bytes") => assert!((10e6..60e6).contains(&v)),
                Some("node_load1") => assert!((0.0..3.0).contains(&v)),
                _ => {}
            }
            n += 1;
        });
        assert!(n > 3000);
    }
}
