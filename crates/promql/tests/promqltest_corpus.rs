//! Runs every script of Prometheus's PromQL test corpus (`../shared/conformance/promqltest`)
//! through the promqltest runner and fails listing each failing eval.
//!
//! `PROMQLTEST_FILTER=<substring>` restricts the run to matching file names;
//! `PROMQLTEST_DIR=<dir>` runs the scripts of another directory.

use std::path::PathBuf;

use promplay_promql::promqltest::{count_evals, run_script};

#[test]
fn promqltest_corpus() {
    let dir = match std::env::var("PROMQLTEST_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/promqltest")
        }
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let filter = std::env::var("PROMQLTEST_FILTER").unwrap_or_default();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut failures = Vec::new();
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if !name.contains(&filter) {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("read test file");
        let (p, n) = match std::panic::catch_unwind(|| run_script(&text)) {
            Ok(Ok(outs)) => {
                let mut p = 0;
                for o in &outs {
                    match &o.failure {
                        None => p += 1,
                        Some(m) => failures.push(format!("{name}:{}: {}: {m}", o.line, o.expr)),
                    }
                }
                (p, outs.len() - p)
            }
            Ok(Err(e)) => {
                failures.push(format!("{name}: {e}"));
                (0, count_evals(&text))
            }
            Err(_) => {
                failures.push(format!("{name}: panicked"));
                (0, count_evals(&text))
            }
        };
        println!("{name}: {p} passed, {n} failed");
        passed += p;
        failed += n;
    }
    for l in &failures {
        println!("{l}");
    }
    println!("{passed} passed, {failed} failed");
    assert_eq!(failed, 0, "{} failing evals", failed);
}
