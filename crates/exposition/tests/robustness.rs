//! Bad input never panics: garbage, every truncation of real inputs, mutations, huge lines.
//! Errors always carry a position inside (or just past) the input.

use std::path::Path;

use promplay_exposition::{
    parse_openmetrics, parse_text, prometheus_error, FormatKind, ParseError, ParseOptions,
};

fn both(input: &[u8]) {
    for strict in [true, false] {
        check_pos(
            input,
            parse_openmetrics(input, ParseOptions { strict }).err(),
        );
    }
    check_pos(input, parse_text(input).err());
    // The scrape path's replay of Prometheus's parsers: an answer, never a panic.
    for kind in [FormatKind::Text, FormatKind::OpenMetrics] {
        let _ = prometheus_error(input, kind);
    }
}

fn check_pos(input: &[u8], e: Option<ParseError>) {
    if let Some(e) = e {
        let lines = input.split(|&b| b == b'\n').count() + 1;
        assert!(
            e.line >= 1 && e.line <= lines,
            "{e} for {} bytes",
            input.len()
        );
        assert!(e.col >= 1, "{e}");
    }
}

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn inputs() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let mut v = vec![
        std::fs::read(root.join("samples/hello-text.txt")).unwrap(),
        std::fs::read(root.join("samples/hello-openmetrics.txt")).unwrap(),
        std::fs::read(root.join("conformance/exposition/valid-bench/1histogram.om.txt")).unwrap(),
    ];
    for d in [
        "exemplars_with_hash_in_label_values",
        "escaping",
        "timestamps",
        "help_escaping",
    ] {
        v.push(
            std::fs::read(
                root.join("conformance/exposition/openmetrics")
                    .join(d)
                    .join("metrics"),
            )
            .unwrap(),
        );
    }
    v
}

#[test]
fn every_truncation_of_real_inputs() {
    for input in inputs() {
        for cut in 0..=input.len() {
            both(&input[..cut]);
        }
    }
}

#[test]
fn random_mutations_of_real_inputs() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let alphabet = b"{}\",=# \n\t\\a_0.eE+-:\xff\xc3";
    for input in inputs() {
        for _ in 0..300 {
            let mut m = input.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % m.len().max(1);
                let b = alphabet[(rng.next() as usize) % alphabet.len()];
                match rng.next() % 3 {
                    0 if !m.is_empty() => m[at] = b,
                    1 => m.insert(at.min(m.len()), b),
                    _ if !m.is_empty() => {
                        m.remove(at);
                    }
                    _ => {}
                }
            }
            both(&m);
        }
    }
}

#[test]
fn random_garbage() {
    let mut rng = Rng(42);
    for len in [0usize, 1, 2, 7, 64, 1000] {
        for _ in 0..200 {
            let g: Vec<u8> = (0..len).map(|_| (rng.next() % 256) as u8).collect();
            both(&g);
        }
    }
}

#[test]
fn huge_lines_and_deep_label_sets() {
    let mut line = b"a{".to_vec();
    for i in 0..20_000 {
        line.extend_from_slice(format!("l{i}=\"v\",").as_bytes());
    }
    line.extend_from_slice(b"z=\"1\"} 1\n# EOF\n");
    let fams = parse_openmetrics(&line, ParseOptions::default()).unwrap();
    assert_eq!(fams[0].samples[0].labels.len(), 20_001);
    let mut huge = b"a ".to_vec();
    huge.extend(std::iter::repeat_n(b'1', 5_000_000));
    huge.extend_from_slice(b"\n# EOF\n");
    both(&huge);
    let mut value = b"a{b=\"".to_vec();
    value.extend(std::iter::repeat_n(b'x', 5_000_000));
    value.extend_from_slice(b"\"} 1\n");
    assert!(parse_text(&value).is_ok());
    both(&value[..value.len() - 3]);
}
