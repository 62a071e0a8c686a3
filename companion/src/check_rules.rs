//! `promplay check rules [--lint=duplicate-rules|none] [--lint-fatal] [--ignore-unknown-fields]
//! FILE...`: promtool's `check rules`.
//!
//! Output contract (promtool's): per file `Checking FILE` then `  SUCCESS: N rules found` and a
//! blank line (stdout); an invalid file prints `  FAILED:` and its errors (stderr). The
//! duplicate-rules lint prints `  FAILED:` and `lint error N duplicate rule(s) found.…`.
//! Exit code 1 if a file is invalid, 3 on lint findings with `--lint-fatal`, else 0. With no
//! file, the rules are read from stdin.

use std::io::Read as _;

use promplay_rules::check::check_rules_output;
use promplay_rules::unittest::Out;

#[derive(clap::Args)]
pub struct Args {
    /// Linting checks: duplicate-rules (default) or none.
    #[arg(long = "lint", default_value = "duplicate-rules")]
    pub lint: String,
    /// Make lint errors exit with exit code 3.
    #[arg(long = "lint-fatal")]
    pub lint_fatal: bool,
    /// Ignore unknown fields in the rule files.
    #[arg(long = "ignore-unknown-fields")]
    pub ignore_unknown_fields: bool,
    /// Rule files (stdin when none).
    pub files: Vec<String>,
}

pub fn run(args: &Args) -> anyhow::Result<i32> {
    let lint_dups = args
        .lint
        .split(',')
        .any(|l| l == "duplicate-rules" || l == "all");
    let mut inputs: Vec<(String, Result<String, String>)> = Vec::new();
    if args.files.is_empty() {
        let mut s = String::new();
        let r = std::io::stdin()
            .read_to_string(&mut s)
            .map(|_| s)
            .map_err(|e| e.to_string());
        inputs.push(("-".into(), r));
    } else {
        for f in &args.files {
            let r = std::fs::read_to_string(f)
                .map_err(|e| format!("{f}: open {f}: {}", crate::test_rules::io_reason(&e)));
            inputs.push((f.clone(), r));
        }
    }
    let (mut failed, mut has_errors) = (false, false);
    for (name, content) in &inputs {
        let shown = if name == "-" {
            None
        } else {
            Some(name.as_str())
        };
        let content = content.as_ref().map(String::as_str).map_err(String::as_str);
        let o = check_rules_output(shown, content, args.ignore_unknown_fields, lint_dups);
        for l in o.lines {
            match l {
                Out::Stdout(s) => println!("{s}"),
                Out::Stderr(s) => eprintln!("{s}"),
            }
        }
        failed |= o.failed;
        has_errors |= o.has_errors;
    }
    Ok(if failed && has_errors {
        1
    } else if failed && args.lint_fatal {
        3
    } else {
        0
    })
}
