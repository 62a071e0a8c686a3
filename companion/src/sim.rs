//! `promplay sim SCENARIO.yml [--json]`: runs a scenario headless — the seed's simulated
//! world (Prometheus, a node exporter, the hello app) scraped by the server's scrape loops into
//! a TSDB on a virtual clock, with the scenario's traffic and faults — and prints its queries'
//! results: one block per query (`at <time>: <expr>`, then `<series> <value>` lines), or with
//! `--json` one JSON document (`{"queries": [...], "notes": [...], ...}`, results shaped as
//! Prometheus's query API shapes them). Notes about what the run does not simulate go to
//! stderr.
//!
//! Exit codes: 0 every query evaluated; 1 the scenario or its prometheus.yml is invalid (the
//! message on stderr, `FILE: line N: ...`) or a query failed; 2 a file could not be read.
//! The format of scenario files: crates/sim/README.md.

use std::path::{Path, PathBuf};

use anyhow::Context;
use promplay_sim::Scenario;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file (YAML)
    pub scenario: PathBuf,
    /// Print the results as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<i32> {
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("reading {}", args.scenario.display()))?;
    let shown = args.scenario.display();
    let scenario = match Scenario::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{shown}: {e}");
            return Ok(1);
        }
    };
    let dir = args.scenario.parent().unwrap_or(Path::new("."));
    let config_path = dir.join(&scenario.config);
    let config = std::fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let report = match scenario.run(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{shown}: {e}");
            return Ok(1);
        }
    };
    for n in &report.notes {
        eprintln!("note: {n}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.queries.iter().any(|q| q.result.is_err()) {
        1
    } else {
        0
    })
}
