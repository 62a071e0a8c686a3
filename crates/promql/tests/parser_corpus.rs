//! Every PromQL expression of the promqltest corpus (../shared/conformance/promqltest) parses
//! with all experimental options on (a parse error would fail the whole upstream file) and
//! round-trips through the printer: `parse(print(ast)) == ast`, spans aside.

use std::path::PathBuf;

use promplay_promql::parser::{parse_with, ParserOptions};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/promqltest")
}

/// `(file:line, expression)` of every `eval` command of the corpus.
pub fn corpus_expressions() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("corpus directory at ../shared")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read corpus file");
        for (i, line) in text.split('\n').enumerate() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("eval") else {
                continue;
            };
            let rest = rest.trim_start_matches(|c: char| c.is_ascii_lowercase() || c == '_');
            let words: Vec<&str> = rest.split_whitespace().collect();
            let skip = match words.first() {
                Some(&"instant") => 3, // instant at <t>
                Some(&"range") => 7,   // range from <t> to <t> step <s>
                _ => continue,
            };
            // Re-find the expression in the original text after the `skip` header words.
            let mut s = rest.trim_start();
            for _ in 0..skip {
                s = s.trim_start();
                let end = s.find(char::is_whitespace).unwrap_or(s.len());
                s = &s[end..];
            }
            let expr = s.trim();
            let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
            out.push((
                format!("{}:{}", name.unwrap_or_default(), i + 1),
                expr.to_string(),
            ));
        }
    }
    out
}

#[test]
fn every_corpus_expression_parses() {
    let exprs = corpus_expressions();
    assert!(exprs.len() > 2000, "corpus has {} evals", exprs.len());
    let mut failures = Vec::new();
    for (at, e) in &exprs {
        if let Err(err) = parse_with(e, &ParserOptions::all()) {
            failures.push(format!("{at}: {e}\n    {err}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        exprs.len(),
        failures.join("\n")
    );
}

/// `parse(print(ast)) == ast` modulo spans, and printing is a fixed point.
#[test]
fn every_corpus_expression_round_trips_through_the_printer() {
    let opts = ParserOptions::all();
    let mut failures = Vec::new();
    for (at, e) in corpus_expressions() {
        let Ok(mut ast) = parse_with(&e, &opts) else {
            continue; // reported by every_corpus_expression_parses
        };
        for printed in [ast.to_string(), promplay_promql::printer::pretty(&ast)] {
            match parse_with(&printed, &opts) {
                Ok(mut again) => {
                    ast.clear_spans();
                    again.clear_spans();
                    // Debug, not ==: NaN literals must compare equal to themselves.
                    if format!("{ast:?}") != format!("{again:?}") {
                        failures.push(format!("{at}: {e}\n  printed {printed}\n  differs"));
                    } else if again.to_string() != ast.to_string() {
                        failures.push(format!("{at}: {e}\n  printing is not a fixed point"));
                    }
                }
                Err(err) => failures.push(format!("{at}: {e}\n  printed {printed}\n  {err}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
