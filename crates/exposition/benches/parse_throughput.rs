//! Parser throughput on ../shared/conformance/exposition/valid-bench, in MB/s.
//! Run: `cargo bench -p promplay-exposition --bench parse_throughput`.

use std::path::Path;
use std::time::Instant;

use promplay_exposition::{parse_openmetrics, parse_text, ParseOptions};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/exposition/valid-bench");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(&path).unwrap();
        let om = name.contains(".om.");
        let run = |strict: bool| {
            let r = if om {
                parse_openmetrics(&input, ParseOptions { strict })
            } else {
                parse_text(&input)
            };
            r.unwrap().len()
        };
        for strict in if om { vec![true, false] } else { vec![true] } {
            // Warm up, then parse until ~1 s has passed.
            let fams = run(strict);
            let start = Instant::now();
            let mut iters = 0u64;
            while start.elapsed().as_secs_f64() < 1.0 {
                std::hint::black_box(run(strict));
                iters += 1;
            }
            let secs = start.elapsed().as_secs_f64();
            let mb = (input.len() as f64 * iters as f64) / 1e6;
            let mode = if !om {
                "text"
            } else if strict {
                "openmetrics strict"
            } else {
                "openmetrics lenient"
            };
            println!(
                "{name:<36} {:>8} bytes {fams:>4} families  {mode:<20} {:>8.1} MB/s",
                input.len(),
                mb / secs
            );
        }
    }
}
