//! Runs the data-driven parser table `tests/data/parse_cases.txt` (format in its header).

use promplay_promql::parser::{parse_with, ParserOptions};

struct Case {
    line: usize,
    input: String,
    experimental: bool,
    out: Option<String>,
    typ: Option<String>,
    err: Option<String>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("data/parse_cases.txt");
    let mut out = Vec::new();
    let mut cur: Option<Case> = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            out.extend(cur.take());
            continue;
        }
        let (key, val) = line.split_once(':').expect("key: value line");
        let val = val.strip_prefix(' ').unwrap_or(val).to_string();
        match key {
            "in" | "in!" => {
                out.extend(cur.take());
                cur = Some(Case {
                    line: i + 1,
                    input: val,
                    experimental: key == "in",
                    out: None,
                    typ: None,
                    err: None,
                });
            }
            "out" => cur.as_mut().expect("case").out = Some(val),
            "type" => cur.as_mut().expect("case").typ = Some(val),
            "err" => cur.as_mut().expect("case").err = Some(val),
            k => panic!("line {}: unknown key {k}", i + 1),
        }
    }
    out.extend(cur);
    out
}

#[test]
fn parse_cases_table() {
    let cases = cases();
    assert!(cases.len() > 100, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let opts = ParserOptions {
            experimental: c.experimental,
        };
        let got = parse_with(&c.input, &opts);
        match (&got, &c.out, &c.err) {
            (Ok(e), Some(want), None) => {
                if &e.to_string() != want {
                    failures.push(format!(
                        "line {}: {:?} printed {:?}, want {want:?}",
                        c.line,
                        c.input,
                        e.to_string()
                    ));
                }
                if let Some(t) = &c.typ {
                    if &e.value_type().to_string() != t {
                        failures.push(format!(
                            "line {}: type {}, want {t}",
                            c.line,
                            e.value_type()
                        ));
                    }
                }
            }
            (Err(e), None, Some(want)) => {
                // A trailing `:` in the expectation means "starts with" (foreign library text follows).
                let got = e.to_string();
                let ok = if want.ends_with(':') {
                    got.starts_with(want.as_str())
                } else {
                    &got == want
                };
                if !ok {
                    failures.push(format!(
                        "line {}: {:?}\n      error {got:?}\n      want  {want:?}",
                        c.line, c.input
                    ));
                }
            }
            (r, _, _) => failures.push(format!("line {}: {:?} gave {r:?}", c.line, c.input)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
