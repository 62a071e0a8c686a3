//! Loads the side-by-side benchmark dataset into a [`Db`] and prints load time, series,
//! samples and memory per sample, then times a full select + iteration.
//!
//! The dataset is generated in memory exactly as `shared/peers/bench/gen_openmetrics.py` does
//! (same series, same values, same timestamps): Python's `random.Random(seed)` is a Mersenne
//! Twister seeded by `init_by_array`, reproduced below.
//!
//! ```text
//! cargo run --release -p promplay-tsdb --example bench_load [-- --dump N] [--hours H] [--by-ref]
//! ```
//! Appends go through `Appender::append` with the labels, one commit per timestamp (a scrape);
//! `--by-ref` uses `append_ref` after the first scrape, as a scrape loop's cache would.
//! `--xor-only` keeps every chunk in Prometheus's XOR layout (no integer chunks).
//! `--dump N` prints the first N sample lines in the generator's OpenMetrics form instead (to
//! compare with the Python output).

use std::time::{Duration, Instant};

/// The system allocator, counting live heap bytes, to check `Stats::bytes` against reality.
struct CountingAlloc;

static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, std::sync::atomic::Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn live_heap() -> usize {
    LIVE.load(std::sync::atomic::Ordering::Relaxed)
}

/// On-CPU time of this thread (Linux), to report figures that mean something on a machine
/// shared with other work.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        s.split_whitespace().next()?.parse().ok()?,
    ))
}

use promplay_model::{Labels, MatchType, Matcher};
use promplay_tsdb::{Db, Options, Queryable, SeriesRef, ValType};

/// MT19937 as CPython's `_randommodule.c`.
struct PyRandom {
    mt: [u32; 624],
    idx: usize,
}

impl PyRandom {
    fn new(seed: u32) -> Self {
        let mut r = PyRandom {
            mt: [0; 624],
            idx: 624,
        };
        r.init_genrand(19650218);
        // init_by_array with key = [seed]
        let key = [seed];
        let n = 624usize;
        let (mut i, mut j) = (1usize, 0usize);
        let mut k = n.max(key.len());
        while k > 0 {
            let prev = r.mt[i - 1] ^ (r.mt[i - 1] >> 30);
            r.mt[i] = (r.mt[i] ^ prev.wrapping_mul(1664525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= n {
                r.mt[0] = r.mt[n - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
            k -= 1;
        }
        k = n - 1;
        while k > 0 {
            let prev = r.mt[i - 1] ^ (r.mt[i - 1] >> 30);
            r.mt[i] = (r.mt[i] ^ prev.wrapping_mul(1566083941)).wrapping_sub(i as u32);
            i += 1;
            if i >= n {
                r.mt[0] = r.mt[n - 1];
                i = 1;
            }
            k -= 1;
        }
        r.mt[0] = 0x8000_0000;
        r
    }

    fn init_genrand(&mut self, s: u32) {
        self.mt[0] = s;
        for i in 1..624 {
            let prev = self.mt[i - 1] ^ (self.mt[i - 1] >> 30);
            self.mt[i] = 1812433253u32.wrapping_mul(prev).wrapping_add(i as u32);
        }
        self.idx = 624;
    }

    fn genrand_u32(&mut self) -> u32 {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        if self.idx >= 624 {
            for kk in 0..624 {
                let y = (self.mt[kk] & UPPER) | (self.mt[(kk + 1) % 624] & LOWER);
                let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
                self.mt[kk] = self.mt[(kk + 397) % 624] ^ (y >> 1) ^ mag;
            }
            self.idx = 0;
        }
        let mut y = self.mt[self.idx];
        self.idx += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// `random.random()`.
    fn random(&mut self) -> f64 {
        let a = (self.genrand_u32() >> 5) as f64;
        let b = (self.genrand_u32() >> 6) as f64;
        (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)
    }

    /// `random.randrange(n)` for 0 < n < 2^32 (`_randbelow_with_getrandbits`).
    fn randrange(&mut self, n: u32) -> u32 {
        let k = 32 - n.leading_zeros();
        loop {
            let r = self.genrand_u32() >> (32 - k);
            if r < n {
                return r;
            }
        }
    }
}

struct Dataset {
    labels: Vec<Labels>,
    /// the OpenMetrics label text of each series, for `--dump`
    text: Vec<String>,
    base: Vec<u64>,
    vals: Vec<u64>,
    rng: PyRandom,
    nsteps: usize,
    start: i64,
    step: i64,
}

impl Dataset {
    fn new(hours: f64) -> Self {
        let (instances, paths, statuses, jobs_n) = (100usize, 10usize, 10usize, 5usize);
        let step = 15i64;
        let start = 1767225600i64;
        let status = [
            "200", "201", "204", "301", "304", "400", "401", "404", "500", "503",
        ];
        let jobs: Vec<String> = (0..jobs_n).map(|j| format!("job{j}")).collect();
        let per_job = (instances / jobs_n).max(1);
        let mut labels = Vec::new();
        let mut text = Vec::new();
        for i in 0..instances {
            let job = &jobs[(i / per_job).min(jobs_n - 1)];
            let inst = format!("host-{i:03}:8080");
            for p in 0..paths {
                for s in status.iter().take(statuses) {
                    let path = format!("/api/v1/p{p}");
                    text.push(format!(
                        "http_requests_total{{instance=\"{inst}\",job=\"{job}\",path=\"{path}\",status=\"{s}\"}}"
                    ));
                    labels.push(Labels::from_pairs(&[
                        ("__name__", "http_requests_total"),
                        ("instance", &inst),
                        ("job", job),
                        ("path", &path),
                        ("status", s),
                    ]));
                }
            }
        }
        let mut rng = PyRandom::new(42);
        let n = labels.len();
        let base: Vec<u64> = (0..n).map(|_| 1 + rng.randrange(10) as u64).collect();
        let vals: Vec<u64> = (0..n).map(|_| rng.randrange(1000) as u64).collect();
        let nsteps = (hours * 3600.0 / step as f64).floor() as usize;
        Dataset {
            labels,
            text,
            base,
            vals,
            rng,
            nsteps,
            start,
            step,
        }
    }

    /// Advances series `s` by one step and returns its new value.
    fn next_value(&mut self, s: usize) -> u64 {
        let b = self.base[s];
        let v = self.vals[s] + b + (self.rng.random() * b as f64) as u64;
        self.vals[s] = v;
        v
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let hours: f64 = arg("--hours").and_then(|h| h.parse().ok()).unwrap_or(6.0);
    let mut ds = Dataset::new(hours);
    let n = ds.labels.len();

    if let Some(dump) = arg("--dump").and_then(|d| d.parse::<usize>().ok()) {
        let mut printed = 0;
        'outer: for k in 0..ds.nsteps {
            let ts = ds.start + k as i64 * ds.step;
            for s in 0..n {
                let v = ds.next_value(s);
                println!("{} {} {}", ds.text[s], v, ts);
                printed += 1;
                if printed >= dump {
                    break 'outer;
                }
            }
        }
        return;
    }

    let heap_before = live_heap();
    let db = Db::new(Options {
        integer_chunks: !args.iter().any(|a| a == "--xor-only"),
        ..Default::default()
    });
    let t0 = Instant::now();
    let c0 = cpu_time();
    let mut gen_time = std::time::Duration::ZERO;
    let mut values = vec![0f64; n];
    let by_ref = args.iter().any(|a| a == "--by-ref");
    let mut refs: Vec<Option<SeriesRef>> = vec![None; n];
    for k in 0..ds.nsteps {
        let ts_ms = (ds.start + k as i64 * ds.step) * 1000;
        let g = Instant::now();
        for (s, v) in values.iter_mut().enumerate() {
            *v = ds.next_value(s) as f64;
        }
        gen_time += g.elapsed();
        let mut app = db.appender();
        for (s, (v, r)) in values.iter().zip(refs.iter_mut()).enumerate() {
            let res = match r {
                Some(x) if by_ref => app.append_ref(*x, ts_ms, *v),
                _ => app.append(&ds.labels[s], ts_ms, *v),
            };
            match res {
                Ok(x) => *r = Some(x),
                Err(e) => {
                    eprintln!("append failed: {e}");
                    std::process::exit(1);
                }
            }
        }
        if let Err(e) = app.commit() {
            eprintln!("commit failed: {e}");
            std::process::exit(1);
        }
    }
    let load = t0.elapsed() - gen_time;
    let load_cpu = match (c0, cpu_time()) {
        (Some(a), Some(b)) => format!("{:.2?} on-CPU", (b - a).saturating_sub(gen_time)),
        _ => "on-CPU time unknown".to_string(),
    };
    let st = db.stats();
    let heap = live_heap().saturating_sub(heap_before);
    println!(
        "loaded ({}) series={} samples={} in {:.2?} wall ({load_cpu}; generation {:.2?} excluded) = {:.0} samples/s wall",
        if by_ref {
            "append_ref after the first scrape"
        } else {
            "append with labels"
        },
        st.series,
        st.samples,
        load,
        gen_time,
        st.samples as f64 / load.as_secs_f64()
    );
    println!(
        "memory: bytes={} ({:.2} MiB) bytes/sample={:.3} chunk_bytes/sample={:.3} (in use {:.3}) chunks={} symbols={}",
        st.bytes,
        st.bytes as f64 / (1 << 20) as f64,
        st.bytes_per_sample,
        st.chunk_bytes as f64 / st.samples as f64,
        st.chunk_bytes_used as f64 / st.samples as f64,
        st.chunks,
        st.symbols
    );
    println!(
        "heap measured by the allocator: {} bytes = {:.3} bytes/sample (requested sizes, before malloc's own overhead)",
        heap,
        heap as f64 / st.samples as f64
    );

    // full select + iteration, as a 6 h range query over everything would do
    let (mint, maxt) = (
        ds.start * 1000,
        (ds.start + ds.nsteps as i64 * ds.step) * 1000,
    );
    let m = match Matcher::new(MatchType::Equal, "__name__", "http_requests_total") {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let rounds: usize = arg("--rounds").and_then(|h| h.parse().ok()).unwrap_or(3);
    for round in 0..rounds {
        let t1 = Instant::now();
        let q = match db.querier(mint, maxt) {
            Ok(q) => q,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let set = match q.select(false, None, std::slice::from_ref(&m)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let sel = t1.elapsed();
        let c1 = cpu_time();
        let mut count = 0u64;
        let mut sum = 0f64;
        for s in &set {
            let mut it = s.iter();
            while it.next() == ValType::Float {
                sum += it.at().1;
                count += 1;
            }
        }
        let total = t1.elapsed();
        let cpu = match (c1, cpu_time()) {
            (Some(a), Some(b)) => format!(
                "{:.1} ns/sample on-CPU",
                (b - a).as_nanos() as f64 / count as f64
            ),
            _ => String::new(),
        };
        println!(
            "round {round}: select {} series in {:.2?}; iterated {} samples in {:.2?} wall ({:.1} ns/sample wall, {cpu}), checksum {}",
            set.len(),
            sel,
            count,
            total - sel,
            (total - sel).as_nanos() as f64 / count as f64,
            sum
        );
    }
    // instant-query-like selects: the last 5 minutes, all series and one status
    let status = match Matcher::new(MatchType::Equal, "status", "500") {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    for (what, ms) in [
        ("all series", vec![m.clone()]),
        ("status=\"500\"", vec![m.clone(), status]),
    ] {
        let t2 = Instant::now();
        let c2 = cpu_time();
        let Ok(q) = db.querier(maxt - 300_000, maxt) else {
            continue;
        };
        let Ok(set) = q.select(false, None, &ms) else {
            continue;
        };
        let c3 = cpu_time();
        let mut count = 0;
        for s in &set {
            let mut it = s.iter();
            while it.next() != ValType::None {
                count += 1;
            }
        }
        let cpu = match (c2, c3, cpu_time()) {
            (Some(a), Some(b), Some(c)) => {
                format!(" (on-CPU: select {:.2?}, iteration {:.2?})", b - a, c - b)
            }
            _ => String::new(),
        };
        println!(
            "last 5m, {what}: {} series, {} samples in {:.2?} wall{cpu}",
            set.len(),
            count,
            t2.elapsed()
        );
    }
}
