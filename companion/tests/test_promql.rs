//! `promplay test promql FILE...`, run as a user runs it: the output contract (one line per
//! failing eval, one per file, the totals last) and the exit code.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_promplay"))
        .args(args)
        .output()
        .expect("run promplay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn script(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("promplay-test-promql-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write script");
    p.display().to_string()
}

#[test]
fn passing_and_failing_evals_are_counted_per_file_and_in_total() {
    let good = script(
        "good.test",
        "load 1m\n  foo{a=\"x\"} 1+1x10\n\neval instant at 2m foo\n  foo{a=\"x\"} 3\n\n\
         eval range from 0 to 2m step 1m foo * 2\n  {a=\"x\"} 2 4 6\n",
    );
    let bad = script(
        "bad.test",
        "load 1m\n  foo 1 2 3\n\neval instant at 1m foo\n  foo 2\n\neval instant at 1m foo\n  foo 7\n",
    );
    let (code, out) = run(&["test", "promql", &good]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().last(), Some("2 passed, 0 failed"), "{out}");
    assert!(
        out.contains(&format!("{good}: 2 passed, 0 failed")),
        "{out}"
    );

    let (code, out) = run(&["test", "promql", &good, &bad]);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.last(), Some(&"3 passed, 1 failed"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{bad}:7: foo: ")) && l.contains("expected 7")),
        "{out}"
    );
    assert!(
        lines.contains(&format!("{bad}: 1 passed, 1 failed").as_str()),
        "{out}"
    );
}

#[test]
fn an_unparsable_script_fails_all_its_evals() {
    let p = script(
        "broken.test",
        "load 1m\n  foo 1\n\neval instant at 1m sum(\n  {} 1\n",
    );
    let (code, out) = run(&["test", "promql", &p]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"), "{out}");
}
