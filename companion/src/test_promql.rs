//! `promplay test promql FILE...`: runs Prometheus's PromQL test scripts (the promqltest
//! language) against promplay's engine and TSDB.
//!
//! Output contract: one line per failing eval (`file:line: expression: reason`), one line per
//! file (`file: N passed, M failed`), and as the last line the totals over all files,
//! `N passed, M failed`, counted in evals. Exit code 0 only if every eval passed. A file
//! that cannot be read or parsed counts all its evals as failed.

use std::path::PathBuf;

use promplay_promql::promqltest::{count_evals, run_script};

#[derive(clap::Args)]
pub struct Args {
    /// Test script files (`*.test`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<i32> {
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &args.files {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                println!("{name}: cannot read: {e}");
                println!("{name}: 0 passed, 1 failed");
                failed += 1;
                continue;
            }
        };
        let (p, f) = match std::panic::catch_unwind(|| run_script(&text)) {
            Ok(Ok(outcomes)) => {
                let mut p = 0;
                let mut f = 0;
                for o in &outcomes {
                    match &o.failure {
                        None => p += 1,
                        Some(reason) => {
                            f += 1;
                            println!("{name}:{}: {}: {}", o.line, o.expr, one_line(reason));
                        }
                    }
                }
                (p, f)
            }
            Ok(Err(e)) => {
                println!("{name}: {}", one_line(&e));
                (0, count_evals(&text).max(1))
            }
            Err(_) => {
                println!("{name}: the runner panicked");
                (0, count_evals(&text).max(1))
            }
        };
        println!("{name}: {p} passed, {f} failed");
        passed += p;
        failed += f;
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { 0 } else { 1 })
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}
