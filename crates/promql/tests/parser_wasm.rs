//! The depth bound holds where it matters: on wasm32's 1 MB stack.
//!
//! `cargo test -p promplay-promql --target wasm32-unknown-unknown --test parser_wasm`
//! (runs under Node.js through wasm-bindgen-test-runner).
#![cfg(target_arch = "wasm32")]

use promplay_promql::parser::{parse_with, ParserOptions, MAX_DEPTH};
use promplay_promql::printer;
use wasm_bindgen_test::wasm_bindgen_test;

fn opts() -> ParserOptions {
    ParserOptions::all()
}

#[wasm_bindgen_test]
fn nesting_at_the_limit_parses_checks_prints_and_drops() {
    // (opening, closing, tree levels per repetition)
    for (open, close, levels) in [
        ("(", ")", 1),
        ("abs(", ")", 1),
        ("-(", ")", 2),
        ("sum(", ")", 1),
    ] {
        let n = (MAX_DEPTH - 2) / levels;
        let s = format!("{}foo{}", open.repeat(n), close.repeat(n));
        let e = parse_with(&s, &opts()).expect("parses");
        let printed = e.to_string();
        assert_eq!(
            parse_with(&printed, &opts()).expect("reparses").to_string(),
            printed
        );
        let _ = printer::pretty(&e);
        let _ = printer::tree(&e);
    }
    let s = format!("a{}", " + a".repeat(MAX_DEPTH - 2));
    let e = parse_with(&s, &opts()).expect("parses");
    assert_eq!(e.to_string(), s);
}

#[wasm_bindgen_test]
fn hostile_inputs_give_errors_not_traps() {
    let cases = [
        format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("a{}", "+a".repeat(100_000)),
        format!("{}foo", "-".repeat(100_000)),
        format!("2{}", "^2".repeat(100_000)),
        format!("foo[1{}]", "+1".repeat(100_000)),
        format!("\"{}", "x".repeat(1 << 20)),
    ];
    for s in cases {
        assert!(parse_with(&s, &opts()).is_err());
    }
}
