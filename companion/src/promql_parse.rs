//! `promplay promql parse EXPR|-`: parses a PromQL expression (experimental syntax on, as
//! Prometheus's test corpus uses it).
//!
//! Output contract:
//! - success: the canonical form in Prometheus's pretty style (one line when it fits in 100
//!   columns) on stdout, exit 0; with `--tree`, an indented node dump instead (one node per
//!   line: kind, byte span `start..end`, result type, attributes);
//! - failure: `line:col: parse error: message` on stderr, one line per error, exit 1.

use std::io::Read;

use anyhow::Context;
use promplay_promql::parser::{parse_with, ParserOptions};
use promplay_promql::printer;

#[derive(clap::Args)]
pub struct Args {
    /// The expression, or `-` to read it from stdin.
    pub expr: String,
    /// Print the AST as an indented tree instead of the canonical form.
    #[arg(long)]
    pub tree: bool,
    /// Reject experimental syntax (Prometheus's defaults).
    #[arg(long)]
    pub no_experimental: bool,
}

pub fn run(args: &Args) -> anyhow::Result<i32> {
    let input = if args.expr == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the expression from stdin")?;
        s
    } else {
        args.expr.clone()
    };
    let opts = ParserOptions {
        experimental: !args.no_experimental,
    };
    match parse_with(&input, &opts) {
        Ok(expr) => {
            if args.tree {
                print!("{}", printer::tree(&expr));
            } else {
                println!("{}", printer::pretty(&expr));
            }
            Ok(0)
        }
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            Ok(1)
        }
    }
}
