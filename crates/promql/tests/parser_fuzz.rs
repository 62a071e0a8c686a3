//! Drives the fuzz target's body (`parser::fuzz_one`) on stable Rust with a bounded,
//! deterministic generator: token soup from PromQL's vocabulary, and byte-level mutations of
//! the corpus expressions.

use promplay_promql::parser::fuzz_one;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const VOCAB: &[&str] = &[
    "foo",
    "bar",
    "sum",
    "by",
    "without",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "=",
    "!=",
    "=~",
    "!~",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "==",
    "!=",
    ">",
    "<",
    ">=",
    "<=",
    "</",
    ">/",
    "and",
    "or",
    "unless",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "@",
    "start()",
    "end()",
    "step()",
    "range()",
    "min_of",
    "anchored",
    "smoothed",
    "fill",
    "fill_left",
    "fill_right",
    "rate",
    "topk",
    "count_values",
    "quantile",
    "limitk",
    "label_replace",
    "info",
    "histogram_quantile",
    "time()",
    "1",
    "0.5",
    "-2",
    "1e3",
    "0x1f",
    "Inf",
    "NaN",
    "5m",
    "1h30m",
    "0",
    "\"a\"",
    "'b'",
    "`c`",
    "\"a.b\"",
    "job",
    "__name__",
    " ",
    "\n",
    "#",
    "é",
    "\u{0}",
];

#[test]
fn token_soup_never_breaks_the_parser() {
    // PROMPLAY_FUZZ_ITERATIONS scales the run (e.g. 1000000 in release mode).
    let n: usize = std::env::var("PROMPLAY_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..n {
        let n = 1 + rng.below(24);
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(VOCAB[rng.below(VOCAB.len())]);
            if rng.below(3) == 0 {
                s.push(' ');
            }
        }
        fuzz_one(s.as_bytes());
    }
}

#[test]
fn mutated_corpus_expressions_never_break_the_parser() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/promqltest"
    );
    let mut exprs = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus at ../shared")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        for line in text.lines() {
            let line = line.trim();
            if let Some(pos) = line.find(" at ").filter(|_| line.starts_with("eval")) {
                // `eval instant at <t> <expr>`
                let rest = &line[pos + 4..];
                if let Some(sp) = rest.find(' ') {
                    exprs.push(rest[sp + 1..].to_string());
                }
            }
        }
    }
    assert!(exprs.len() > 1000);
    let mut rng = Rng(42);
    for round in 0..4 {
        for e in &exprs {
            let mut b = e.clone().into_bytes();
            fuzz_one(&b);
            for _ in 0..=round {
                if b.is_empty() {
                    break;
                }
                let i = rng.below(b.len());
                match rng.below(4) {
                    0 => {
                        b.remove(i);
                    }
                    1 => {
                        let pool = b"()[]{},:+-*/^@\"'`#x5";
                        b.insert(i, pool[rng.below(pool.len())])
                    }
                    2 => b[i] = rng.below(128) as u8,
                    _ => {
                        let j = rng.below(b.len());
                        b.swap(i, j);
                    }
                }
            }
            fuzz_one(&b);
        }
    }
}
