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

/// Random well-typed expressions (so that most of them parse), checked for round-trips.
struct Gen {
    rng: Rng,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.rng.below(xs.len())]
    }

    fn scalar(&mut self, d: u32) -> String {
        let leaf = d == 0 || self.rng.below(3) == 0;
        if leaf {
            return self
                .pick(&[
                    "1", "0.5", "-2", "1e3", "0x1f", "Inf", "-Inf", "NaN", "5m", "time()", "pi()",
                ])
                .to_string();
        }
        match self.rng.below(5) {
            0 => format!(
                "{} {} {}",
                self.scalar(d - 1),
                self.pick(&["+", "-", "*", "/", "%", "^", "atan2"]),
                self.scalar(d - 1)
            ),
            1 => format!("({})", self.scalar(d - 1)),
            2 => format!("-{}", self.scalar(d - 1)),
            3 => format!("scalar({})", self.vector(d - 1)),
            _ => format!(
                "{} {} bool {}",
                self.scalar(d - 1),
                self.pick(&["==", "!=", ">", "<", ">=", "<="]),
                self.scalar(d - 1)
            ),
        }
    }

    fn selector(&mut self) -> String {
        let name = self.pick(&[
            "foo",
            "bar:baz",
            "sum",
            "offset",
            "{__name__=\"x\"}",
            "{\"a.b\"}",
        ]);
        let m = self.pick(&[
            "",
            "{a=\"b\"}",
            "{a!=\"b\", c=~\"d.*\"}",
            "{\"x.y\"=\"z\"}",
            "{a!~\"\"}",
        ]);
        if name.starts_with('{') {
            name.to_string()
        } else {
            format!("{name}{m}")
        }
    }

    fn duration(&mut self, d: u32) -> String {
        if d == 0 || self.rng.below(2) == 0 {
            return self.pick(&["5m", "1h30m", "30", "1.5", "2d"]).to_string();
        }
        match self.rng.below(4) {
            0 => format!("{} + {}", self.duration(d - 1), self.duration(d - 1)),
            1 => format!("{} * 2", self.duration(d - 1)),
            2 => "step()".to_string(),
            _ => format!("min_of({}, {})", self.duration(d - 1), self.duration(d - 1)),
        }
    }

    fn matrix(&mut self, d: u32) -> String {
        match self.rng.below(4) {
            0 => format!("{}[{}]", self.selector(), self.duration(d.min(2))),
            1 => format!(
                "{}[{}] {}",
                self.selector(),
                self.duration(1),
                self.pick(&["anchored", "smoothed", "offset 1m", "@ 100", "@ start()"])
            ),
            2 => format!(
                "{}[{}:{}]",
                self.vector(d.saturating_sub(1)),
                self.duration(1),
                self.pick(&["", "1m", "step()"])
            ),
            _ => format!(
                "{}[5m:] offset -{}",
                self.vector(d.saturating_sub(1)),
                self.duration(1)
            ),
        }
    }

    fn vector(&mut self, d: u32) -> String {
        if d == 0 || self.rng.below(4) == 0 {
            let s = self.selector();
            return match self.rng.below(4) {
                0 => format!(
                    "{s} offset {}",
                    self.pick(&["5m", "-1h", "(1m + 1s)", "step()"])
                ),
                1 => format!("{s} @ {}", self.pick(&["100", "-5.5", "end()"])),
                _ => s,
            };
        }
        match self.rng.below(10) {
            0 => format!(
                "{} {}({}) ({})",
                self.pick(&["sum", "avg", "max", "count", "group", "stddev"]),
                self.pick(&["by ", "without ", "by"]),
                self.pick(&["", "a", "a, b", "\"c.d\"", "on, by"]),
                self.vector(d - 1)
            ),
            1 => format!(
                "{}({}, {})",
                self.pick(&["topk", "bottomk", "quantile", "limitk", "limit_ratio"]),
                self.scalar(d - 1),
                self.vector(d - 1)
            ),
            2 => format!(
                "{}({})",
                self.pick(&[
                    "rate",
                    "increase",
                    "delta",
                    "max_over_time",
                    "count_over_time"
                ]),
                self.matrix(d - 1)
            ),
            3 => format!(
                "{}({})",
                self.pick(&["abs", "ceil", "sort", "timestamp", "histogram_count"]),
                self.vector(d - 1)
            ),
            4 => format!(
                "{} {}{} {}",
                self.vector(d - 1),
                self.pick(&["+", "-", "*", "/", "^", "==", ">", "</", ">/"]),
                self.pick(&[
                    "",
                    " on (a)",
                    " ignoring (b) group_left (c)",
                    " on () group_right",
                    " fill (0)",
                    " fill_left (1) fill_right (2)",
                    " bool"
                ]),
                self.vector(d - 1)
            ),
            5 => format!(
                "{} {} {}",
                self.vector(d - 1),
                self.pick(&["and", "or", "unless"]),
                self.vector(d - 1)
            ),
            6 => format!(
                "{} {} {}",
                self.vector(d - 1),
                self.pick(&["*", "-", "^", ">"]),
                self.scalar(d - 1)
            ),
            7 => format!("-({})", self.vector(d - 1)),
            8 => format!(
                "label_replace({}, \"a\", \"$1\", \"b\", \"(.*)\")",
                self.vector(d - 1)
            ),
            _ => format!("count_values(\"v\", {})", self.vector(d - 1)),
        }
    }
}

#[test]
fn random_well_typed_expressions_round_trip() {
    let n: usize = std::env::var("PROMPLAY_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let mut g = Gen { rng: Rng(7) };
    let mut parsed = 0;
    for i in 0..n {
        let s = match i % 3 {
            0 => g.vector(4),
            1 => g.scalar(4),
            _ => g.matrix(3),
        };
        if promplay_promql::parser::parse_with(&s, &promplay_promql::parser::ParserOptions::all())
            .is_ok()
        {
            parsed += 1;
        }
        fuzz_one(s.as_bytes());
    }
    // The generator is meant to produce mostly valid expressions.
    assert!(parsed * 2 > n, "only {parsed} of {n} parsed");
    eprintln!("{parsed} of {n} generated expressions parsed");
}
