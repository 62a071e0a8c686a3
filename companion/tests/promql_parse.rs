//! `promplay promql parse`, run as a user runs it.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_promplay"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promplay");
    if let Some(s) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(s.as_bytes())
            .expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn prints_the_canonical_form() {
    let (code, out, err) = run(
        &[
            "promql",
            "parse",
            r#"SUM(rate(http_requests_total{job="a",code=~"5.."}[5m])) BY (job)"#,
        ],
        None,
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out,
        "sum by (job) (rate(http_requests_total{code=~\"5..\",job=\"a\"}[5m]))\n"
    );
}

#[test]
fn long_expressions_are_pretty_printed() {
    let expr = "histogram_quantile(0.9, sum by (le, job, instance) (rate(http_request_duration_seconds_bucket{job=\"api-server\"}[5m])))";
    let (code, out, _) = run(&["promql", "parse", expr], None);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "histogram_quantile(\n  0.9,\n  sum by (le, job, instance) (rate(http_request_duration_seconds_bucket{job=\"api-server\"}[5m]))\n)\n"
    );
}

#[test]
fn reads_stdin_and_reports_errors_with_position() {
    let (code, out, err) = run(&["promql", "parse", "-"], Some("sum(\n  rate(foo)\n)\n"));
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "2:8: parse error: expected type range vector in call to function \"rate\", got instant vector\n"
    );
}

#[test]
fn tree_shows_kind_span_and_type() {
    let (code, out, _) = run(
        &[
            "promql",
            "parse",
            "--tree",
            "max_over_time(foo[5m:]) > bool 1",
        ],
        None,
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "BinaryExpr 0..32 instant vector op=> modifiers=\"bool\"\n\
         \x20 Call 0..23 instant vector func=max_over_time\n\
         \x20   SubqueryExpr 14..22 range vector [5m:]\n\
         \x20     VectorSelector 14..17 instant vector foo\n\
         \x20 NumberLiteral 31..32 scalar 1\n"
    );
}

#[test]
fn experimental_syntax_can_be_refused() {
    let (code, _, err) = run(
        &["promql", "parse", "--no-experimental", "foo[1m+1m]"],
        None,
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "1:5: parse error: experimental duration expression is not enabled\n"
    );
}
