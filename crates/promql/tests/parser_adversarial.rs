//! Hostile input: no panic, no stack overflow, no super-linear time, a clear error.

use std::time::{Duration, Instant};

use promplay_promql::parser::{parse, parse_with, ParserOptions, MAX_DEPTH};
use promplay_promql::printer;

/// Parses on a thread with a small stack (like wasm's 1 MB) and a time budget.
fn parse_small_stack(input: String, budget: Duration) -> Result<String, String> {
    let h = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let t = Instant::now();
            let r = parse_with(&input, &ParserOptions::all());
            let out = match &r {
                Ok(e) => Ok(e.to_string().len().to_string()),
                Err(e) => Err(e.to_string()),
            };
            drop(r);
            (out, t.elapsed())
        })
        .expect("spawn");
    let (out, took) = h.join().expect("parser thread must not panic or overflow");
    assert!(took < budget, "took {took:?}");
    out
}

const BUDGET: Duration = Duration::from_secs(5);

#[test]
fn ten_thousand_nested_parens() {
    let s = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let e = parse_small_stack(s, BUDGET).unwrap_err();
    assert!(e.contains("nesting too deep"), "{e}");
}

#[test]
fn nesting_up_to_the_limit_is_accepted_and_printed() {
    let n = MAX_DEPTH - 5;
    let s = format!("{}foo{}", "(".repeat(n), ")".repeat(n));
    assert!(parse_small_stack(s, BUDGET).is_ok());
}

#[test]
fn long_operator_chains() {
    // Left-deep: 250k-deep tree without a single paren.
    let s = format!("a{}", "+a".repeat(250_000));
    let e = parse_small_stack(s, BUDGET).unwrap_err();
    assert!(e.contains("nesting too deep"), "{e}");
    // Right-deep unary chain on a selector and on a number (which folds).
    let s = format!("{}foo", "-".repeat(200_000));
    assert!(parse_small_stack(s, BUDGET)
        .unwrap_err()
        .contains("nesting too deep"));
    let s = format!("{}1", "-".repeat(200_000));
    assert!(parse_small_stack(s, BUDGET).is_ok());
    // Right-associative power chain.
    let s = format!("2{}", "^2".repeat(200_000));
    assert!(parse_small_stack(s, BUDGET)
        .unwrap_err()
        .contains("nesting too deep"));
    // Duration expression chains.
    let s = format!("foo[1{}]", "+1".repeat(200_000));
    assert!(parse_small_stack(s, BUDGET)
        .unwrap_err()
        .contains("nesting too deep"));
    let s = format!("foo offset (1{})", "*1".repeat(200_000));
    assert!(parse_small_stack(s, BUDGET)
        .unwrap_err()
        .contains("nesting too deep"));
}

#[test]
fn one_megabyte_string() {
    let s = format!("\"{}\"", "x".repeat(1 << 20));
    assert!(parse_small_stack(s, BUDGET).is_ok());
    let s = format!(
        "label_replace(foo, \"a\", \"{}\", \"b\", \"c\")",
        "\\n".repeat(1 << 19)
    );
    assert!(parse_small_stack(s, BUDGET).is_ok());
    let s = format!("\"{}", "x".repeat(1 << 20));
    assert!(parse_small_stack(s, BUDGET)
        .unwrap_err()
        .contains("unterminated quoted string"));
}

#[test]
fn one_megabyte_selector() {
    let matchers: Vec<String> = (0..70_000).map(|i| format!("l{i}=\"v{i}\"")).collect();
    let s = format!("foo{{{}}}", matchers.join(","));
    assert!(s.len() > 1 << 20);
    assert!(parse_small_stack(s, BUDGET).is_ok());
    let s = format!("foo{{a=~\"{}\"}}", "(a|b)*".repeat(30_000));
    // A huge regex is either compiled or rejected by the regex crate's size limit.
    let _ = parse_small_stack(s, BUDGET);
    let s = format!("{}foo", "a".repeat(1 << 20));
    assert!(parse_small_stack(s, BUDGET).is_ok());
}

#[test]
fn control_characters_and_garbage() {
    for s in [
        "\u{0}",
        "foo\u{1}",
        "foo{a=\"\u{7}\"}",
        "\u{7f}",
        "foo[\u{0}]",
        "sum by (\u{1b}) (x)",
        "\u{feff}foo",
        "é",
        "foo{é=\"x\"}",
        "1 + \u{85}",
        "foo @ \u{0}",
    ] {
        let r = parse(s);
        if let Err(e) = &r {
            assert!(e.to_string().contains("parse error"), "{s:?}: {e}");
        }
    }
    assert_eq!(
        parse("foo\u{1}").unwrap_err().to_string(),
        "1:4: parse error: unexpected character: '\\x01'"
    );
}

#[test]
fn pretty_printing_long_expressions_is_bounded() {
    let s = format!("{}foo{}", "sum(".repeat(120), ")".repeat(120));
    let e = parse(&s).expect("parses");
    let p = printer::pretty(&e);
    assert!(p.lines().count() > 100);
    assert_eq!(parse(&p).map(|x| x.to_string()), Ok(e.to_string()));
}

#[test]
fn pretty_printing_a_large_deep_expression_is_fast() {
    // Depth near the limit, each level carrying a wide selector: quadratic if each level
    // re-printed its whole subtree to decide whether to split.
    let wide = format!(
        "foo{{{}}}",
        (0..2000)
            .map(|i| format!("l{i}=\"v\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let s = format!("{}{wide}{}", "abs(".repeat(200), ")".repeat(200));
    let e = parse(&s).expect("parses");
    let t = Instant::now();
    let p = printer::pretty(&e);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    assert!(p.lines().count() > 400);
}
