//! `promplay test rules` and `promplay check rules`, run as a user runs them, on Prometheus's
//! own promtool test files (../shared/conformance/promtool) and on promtool's recorded output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// Runs promplay in `dir` with stderr merged into stdout (as the samples were recorded).
fn run_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let cmd = "\"$0\" \"$@\" 2>&1";
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .arg(env!("CARGO_BIN_EXE_promplay"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promplay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn conformance() -> PathBuf {
    shared().join("conformance/promtool")
}

#[test]
fn conformance_files_give_the_listed_outcomes() {
    // (arguments, expected exit code) as listed in conformance/PROMTOOL.md.
    let cases: &[(&[&str], i32)] = &[
        (&["unittest.yml"], 0),
        (&["long-period.yml"], 0),
        (&["no-test-group-interval.yml"], 0),
        (&["failing.yml"], 1),
        (&["bad-input-series.yml"], 1),
        (&["bad-promql.yml"], 1),
        (&["bad-rules-syntax-test.yml"], 1),
        (&["bad-rules-error-test.yml"], 1),
        (&["rules_run.yml"], 1),
        (&["--run", "correct", "rules_run.yml"], 0),
        (&["--run", "wrong", "rules_run.yml"], 1),
        (&["--ignore-unknown-fields", "rules_run_extrafields.yml"], 0),
        (&["rules_run_extrafields.yml"], 1),
        (&["rules_run_no_fuzzy.yml"], 1),
        (&["--run", "correct", "rules_run_fuzzy.yml"], 0),
        (&["--run", "wrong", "rules_run_fuzzy.yml"], 1),
    ];
    for (args, code) in cases {
        let mut a = vec!["test", "rules"];
        a.extend_from_slice(args);
        let (rc, out) = run_in(&conformance(), &a);
        assert_eq!(rc, *code, "{args:?}:\n{out}");
        let file = args.last().copied().unwrap_or_default();
        assert!(
            out.starts_with(&format!("Unit Testing:  {file}\n")),
            "{out}"
        );
        if *code == 0 {
            assert!(out.ends_with("  SUCCESS\n\n"), "{out}");
        } else {
            assert!(out.contains("\n  FAILED:\n"), "{out}");
        }
    }
}

#[test]
fn junit_results() {
    let out = std::env::temp_dir().join(format!("promplay-junit-{}.xml", std::process::id()));
    let o = out.to_string_lossy().into_owned();
    let (rc, _) = run_in(
        &conformance(),
        &["test", "rules", "--junit", &o, "failing.yml"],
    );
    assert_eq!(rc, 1);
    let xml = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    assert!(
        xml.starts_with("<testsuites><testsuite name=\"failing.yml\" tests=\"2\" failures=\"4\" errors=\"0\" skipped=\"0\" timestamp=\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"Failing alert test\"><failure>    name: Failing alert test,&#xA;    alertname: InstanceDown"), "{xml}");
    assert!(
        xml.ends_with("</testcase></testsuite></testsuites>"),
        "{xml}"
    );
}

#[test]
fn failure_messages_as_promtool_words_them() {
    let (_, out) = run_in(
        &conformance(),
        &["test", "rules", "bad-rules-syntax-test.yml"],
    );
    assert_eq!(
        out,
        "Unit Testing:  bad-rules-syntax-test.yml\n  FAILED:\nbad-rules-syntax.yml: 7:15: group \"bad-syntax\", rule 1, \"x\": could not parse expression: 1:7: parse error: unexpected end of input\n\n\n"
    );
    let (_, out) = run_in(
        &conformance(),
        &["test", "rules", "bad-rules-error-test.yml"],
    );
    assert!(
        out.contains("\n    rule: joined, time: 0s, err: found duplicate series for the match group {a=\"1\"} on the right hand-side of the operation: "),
        "{out}"
    );
    let (_, out) = run_in(&conformance(), &["test", "rules", "failing.yml"]);
    assert!(out.contains("    name: Failing alert test,\n    alertname: InstanceDown, time: 5m, \n        exp:[], \n        got:[\n            0:\n              Labels:{alertname=\"InstanceDown\", job=\"test\", severity=\"page\"}\n"), "{out}");
}

/// Reproduces the recorded `promtool test rules` output byte for byte: the seed's rule and a
/// test file written to fail in the three ways the sample shows.
#[test]
fn recorded_promtool_output_is_reproduced() {
    let dir = std::env::temp_dir().join(format!("promplay-rules-verbs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(shared().join("peers/conf/rules.yml"), dir.join("rules.yml")).unwrap();
    let series = "rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'up{job=\"node\", instance=\"localhost:9100\"}'\n        values: '1 1 1 0 0 0 0 0'\n";
    let fail = format!("{series}    alert_rule_test:\n      - eval_time: 2m\n        alertname: InstanceDown\n        exp_alerts:\n          - exp_labels: {{job: node, instance: 'localhost:9100'}}\n      - eval_time: 5m\n        alertname: InstanceDown\n        exp_alerts:\n          - exp_labels: {{job: node, instance: 'wrong:9100'}}\n    promql_expr_test:\n      - expr: up == 0\n        eval_time: 3m\n        exp_samples:\n          - labels: 'up{{job=\"node\", instance=\"localhost:9100\"}}'\n            value: 1\n");
    let pass = format!("{series}    alert_rule_test:\n      - eval_time: 5m\n        alertname: InstanceDown\n        exp_alerts:\n          - exp_labels: {{job: node, instance: 'localhost:9100'}}\n");
    std::fs::write(dir.join("rules_test_fail.yml"), fail).unwrap();
    std::fs::write(dir.join("rules_test.yml"), pass).unwrap();
    let samples = shared().join("samples");
    for (file, sample) in [
        ("rules_test_fail.yml", "promtool-test-rules-fail.txt"),
        ("rules_test.yml", "promtool-test-rules-pass.txt"),
    ] {
        let (rc, out) = run_in(&dir, &["test", "rules", file]);
        let got = format!("{out}rc={rc}\n");
        let want = std::fs::read_to_string(samples.join(sample)).unwrap();
        assert_eq!(got, want);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_rules_as_promtool() {
    let (rc, out) = run_in(&conformance(), &["check", "rules", "rules.yml"]);
    assert_eq!(
        (rc, out.as_str()),
        (0, "Checking rules.yml\n  SUCCESS: 5 rules found\n\n")
    );
    let (rc, out) = run_in(&conformance(), &["check", "rules", "rules-bad.yml"]);
    assert_eq!(rc, 1);
    assert_eq!(
        out,
        "Checking rules-bad.yml\n  FAILED:\nrules-bad.yml: group \"alerts\", rule 1, \"InstanceDown\": annotation \"summary\": template: __alert_InstanceDown:1: undefined variable \"$label\"\n"
    );
    let (rc, out) = run_in(&conformance(), &["check", "rules", "rules_duplicates.yml"]);
    assert_eq!(rc, 0);
    assert_eq!(
        out,
        "Checking rules_duplicates.yml\n  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: job:test:count_over_time1m\nLabel(s):\nMight cause inconsistency while recording expressions\n\n"
    );
    let (rc, _) = run_in(
        &conformance(),
        &["check", "rules", "--lint-fatal", "rules_duplicates.yml"],
    );
    assert_eq!(rc, 3);
    let (rc, out) = run_in(&conformance(), &["check", "rules", "rules_extrafields.yml"]);
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("field namespace not found in type rulefmt.RuleGroup"),
        "{out}"
    );
    let (rc, out) = run_in(
        &conformance(),
        &[
            "check",
            "rules",
            "--ignore-unknown-fields",
            "rules_extrafields.yml",
        ],
    );
    assert_eq!(
        (rc, out.as_str()),
        (
            0,
            "Checking rules_extrafields.yml\n  SUCCESS: 5 rules found\n\n"
        )
    );
    let (rc, out) = run_in(
        &conformance(),
        &["check", "rules", "prometheus-rules.lint.yml"],
    );
    assert_eq!(rc, 0);
    assert!(out.contains("lint error 1 duplicate rule(s) found.\nMetric: HighRequestLatency\nLabel(s):\n\tseverity: page\n"), "{out}");
    let (rc, out) = run_in(&conformance(), &["check", "rules", "missing.yml"]);
    assert_eq!(rc, 1);
    assert!(
        out.contains("missing.yml: open missing.yml: no such file or directory"),
        "{out}"
    );
}
