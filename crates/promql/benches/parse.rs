//! Parse throughput over every expression of the promqltest corpus.
//!
//! `cargo bench -p promplay-promql --bench parse` prints expressions/second (and MB/s) for
//! lexing alone, parsing (lex + grammar + type checks, regex compilation included), printing
//! and pretty-printing.

use std::time::{Duration, Instant};

use promplay_promql::parser::{parse_with, ParserOptions};
use promplay_promql::printer;

fn corpus() -> Vec<String> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/promqltest"
    );
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus at ../shared")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        for line in text.lines() {
            let line = line.trim();
            if !line.starts_with("eval") {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let skip = match words.get(1) {
                Some(&"instant") => 4,
                Some(&"range") => 8,
                _ => continue,
            };
            // Rebuild the expression from the original text after the header words.
            let mut rest = line;
            for _ in 0..skip {
                rest = rest.trim_start();
                rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
            }
            out.push(rest.trim().to_string());
        }
    }
    out
}

fn measure(name: &str, exprs: &[String], bytes: usize, mut f: impl FnMut(&str)) {
    // Warm up, then run whole passes for at least two seconds.
    for e in exprs {
        f(e);
    }
    let start = Instant::now();
    let mut passes = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        for e in exprs {
            f(e);
        }
        passes += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = passes as f64 * exprs.len() as f64;
    println!(
        "{name:<8} {:>10.0} expressions/s  {:>7.1} MB/s  ({passes} passes over {} expressions)",
        n / secs,
        passes as f64 * bytes as f64 / secs / 1e6,
        exprs.len()
    );
}

fn main() {
    let exprs = corpus();
    let bytes: usize = exprs.iter().map(String::len).sum();
    let opts = ParserOptions::all();
    let parsed: Vec<_> = exprs
        .iter()
        .map(|e| parse_with(e, &opts).expect("corpus expression parses"))
        .collect();
    measure("lex", &exprs, bytes, |e| {
        std::hint::black_box(promplay_promql::parser::lexer::lex(e, 256).len());
    });
    measure("parse", &exprs, bytes, |e| {
        std::hint::black_box(parse_with(e, &opts).is_ok());
    });
    let mut i = 0;
    measure("print", &exprs, bytes, |_| {
        std::hint::black_box(parsed[i % parsed.len()].to_string());
        i += 1;
    });
    let mut j = 0;
    measure("pretty", &exprs, bytes, |_| {
        std::hint::black_box(printer::pretty(&parsed[j % parsed.len()]));
        j += 1;
    });
}
