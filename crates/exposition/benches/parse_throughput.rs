//! Parser throughput in MB/s on ../shared/conformance/exposition/valid-bench, and on a
//! generated time-major OpenMetrics file shaped like ../shared/peers/bench's dataset
//! (`http_requests_total{instance,job,path,status} value timestamp`).
//! Run: `cargo bench -p promplay-exposition --bench parse_throughput`.

use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

use promplay_exposition::{parse_openmetrics, parse_openmetrics_with, parse_text, ParseOptions};

/// Parses `input` repeatedly for about a second; MB/s.
fn measure(input: &[u8], parse: &dyn Fn(&[u8]) -> usize) -> f64 {
    parse(input);
    let start = Instant::now();
    let mut iters = 0u64;
    while start.elapsed().as_secs_f64() < 1.0 {
        std::hint::black_box(parse(input));
        iters += 1;
    }
    input.len() as f64 * iters as f64 / 1e6 / start.elapsed().as_secs_f64()
}

/// The bench dataset's shape: 1,000 series × 60 steps, time-major, integer timestamps.
fn bench_dataset() -> Vec<u8> {
    let mut s = String::from(
        "# HELP http_requests Total HTTP requests (synthetic benchmark data).\n# TYPE http_requests counter\n",
    );
    let status = [
        "200", "201", "204", "301", "304", "400", "401", "404", "500", "503",
    ];
    for k in 0..60u64 {
        let ts = 1_767_225_600 + k * 15;
        for i in 0..10 {
            for p in 0..10 {
                for st in status {
                    let v = k * 7 + i * 3 + p;
                    let _ = writeln!(
                        s,
                        "http_requests_total{{instance=\"host-{i:03}:8080\",job=\"job{}\",path=\"/api/v1/p{p}\",status=\"{st}\"}} {v} {ts}",
                        i / 2
                    );
                }
            }
        }
    }
    s.push_str("# EOF\n");
    s.into_bytes()
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/exposition/valid-bench");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let lenient =
        |b: &[u8]| parse_openmetrics(b, ParseOptions { strict: false }).map_or(0, |f| f.len());
    let strict =
        |b: &[u8]| parse_openmetrics(b, ParseOptions { strict: true }).map_or(0, |f| f.len());
    let text = |b: &[u8]| parse_text(b).map_or(0, |f| f.len());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(&path).unwrap();
        if name.contains(".om.") {
            println!(
                "{name:<36} {:>8} bytes  openmetrics lenient {:>7.1} MB/s",
                input.len(),
                measure(&input, &lenient)
            );
            match parse_openmetrics(&input, ParseOptions { strict: true }) {
                Ok(_) => println!(
                    "{name:<36} {:>8} bytes  openmetrics strict  {:>7.1} MB/s",
                    input.len(),
                    measure(&input, &strict)
                ),
                Err(e) => println!(
                    "{name:<36} {:>8} bytes  openmetrics strict  rejected ({e})",
                    input.len()
                ),
            }
        } else {
            parse_text(&input).unwrap();
            println!(
                "{name:<36} {:>8} bytes  text                {:>7.1} MB/s",
                input.len(),
                measure(&input, &text)
            );
        }
    }
    let ds = bench_dataset();
    let streaming = |b: &[u8]| {
        let mut n = 0usize;
        let _ = parse_openmetrics_with(b, ParseOptions { strict: false }, |_, _| n += 1);
        n
    };
    println!(
        "{:<36} {:>8} bytes  openmetrics streamed {:>6.1} MB/s",
        "generated bench-dataset shape",
        ds.len(),
        measure(&ds, &streaming)
    );
    parse_openmetrics(&ds, ParseOptions { strict: false }).unwrap();
    println!(
        "{:<36} {:>8} bytes  openmetrics lenient {:>7.1} MB/s",
        "generated bench-dataset shape",
        ds.len(),
        measure(&ds, &lenient)
    );
}
