//! Decoding speed of the chunk iterators alone and through `SeriesIterator` (hot cache).
//! `cargo run --release -p promplay-tsdb --example decode_speed`
//!
//! Times are on-CPU time of this thread (Linux `/proc/thread-self/schedstat`), so they stay
//! meaningful on a machine shared with other work; elsewhere wall time.

/// Nanoseconds this thread has run on a CPU (or wall-clock nanoseconds when unavailable).
struct Instant(u64);

fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

impl Instant {
    fn now() -> Self {
        Instant(cpu_ns().unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        }))
    }
    fn elapsed(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(Instant::now().0.saturating_sub(self.0))
    }
}

use promplay_model::{Labels, MatchType, Matcher};
use promplay_tsdb::chunkenc::{encode_int_chunk, IntIterator, XorChunk};
use promplay_tsdb::{Db, Options, Queryable, ValType};

fn main() {
    let samples: Vec<(i64, f64)> = (0..120)
        .map(|i| {
            (
                1_767_225_600_000 + i * 15_000,
                (500 + i * 7 + (i * i) % 5) as f64,
            )
        })
        .collect();
    let mut c = XorChunk::new();
    for &(t, v) in &samples {
        if c.append(t, v).is_err() {
            return;
        }
    }
    let mut ib = Vec::new();
    if encode_int_chunk(samples.iter().copied(), &mut ib).is_err() {
        return;
    }
    let rounds = 50_000;
    let t0 = Instant::now();
    let mut sum = 0.0;
    for _ in 0..rounds {
        let mut it = c.iter();
        while let Ok(Some((_, v))) = it.next() {
            sum += v;
        }
    }
    let n = (rounds * samples.len()) as f64;
    println!(
        "xor chunk: {:.1} ns/sample ({sum})",
        t0.elapsed().as_nanos() as f64 / n
    );
    let t0 = Instant::now();
    let mut sum = 0.0;
    for _ in 0..rounds {
        if let Ok(mut it) = IntIterator::new(&ib) {
            while let Ok(Some((_, v))) = it.next() {
                sum += v;
            }
        }
    }
    println!(
        "int chunk: {:.1} ns/sample ({sum})",
        t0.elapsed().as_nanos() as f64 / n
    );

    let db = Db::new(Options::default());
    let l = Labels::from_pairs(&[("__name__", "x")]);
    let mut app = db.appender();
    for i in 0..1440i64 {
        let _ = app.append(&l, i * 15_000, (i * 7 + (i * i) % 5) as f64);
    }
    let _ = app.commit();
    let Ok(m) = Matcher::new(MatchType::Equal, "__name__", "x") else {
        return;
    };
    let Ok(q) = db.querier(i64::MIN, i64::MAX) else {
        return;
    };
    let Ok(set) = q.select(false, None, &[m]) else {
        return;
    };
    let s = &set.series[0];
    let rounds = 5_000;
    let t0 = Instant::now();
    let mut sum = 0.0;
    for _ in 0..rounds {
        let mut it = s.iter();
        while it.next() == ValType::Float {
            sum += it.at().1;
        }
    }
    println!(
        "series iterator (int chunks + XOR head): {:.1} ns/sample ({sum})",
        t0.elapsed().as_nanos() as f64 / (rounds * 1440) as f64
    );
}
