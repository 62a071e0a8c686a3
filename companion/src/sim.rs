//! `promplay sim SCENARIO.yml [--json]`: runs a scenario headless — the seed's simulated
//! world (Prometheus, a node exporter, the hello app) scraped by the server's scrape loops into
//! a TSDB on a virtual clock, with the scenario's traffic and faults — and prints its queries'
//! results: one block per query (`at <time>: <expr>`, then `<series> <value>` lines), or with
//! `--json` one JSON document (`{"queries": [...], "notes": [...], ...}`, results shaped as
//! Prometheus's query API shapes them). Rule files (the scenario's `rules`, else the
//! prometheus.yml's `rule_files`) are evaluated and the alert state changes printed; with an
//! `alertmanager` the built-in Alertmanager's inbox is printed too. Notes about what the run
//! does not simulate go to stderr.
//!
//! Exit codes: 0 every query evaluated; 1 the scenario or its prometheus.yml is invalid (the
//! message on stderr, `FILE: line N: ...`) or a query failed; 2 a file could not be read.
//! The format of scenario files: crates/sim/README.md.

use std::path::{Path, PathBuf};

use anyhow::Context;
use promplay_sim::{Inputs, Scenario};

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
    // Rule files: the scenario's (relative to it), else the prometheus.yml's (relative to
    // it); each a glob, as Prometheus reads them — a pattern matching nothing loads nothing.
    let patterns: Vec<PathBuf> = match &scenario.rules {
        Some(r) => r.iter().map(|p| dir.join(p)).collect(),
        None => match promplay_server::Config::load(&config) {
            Ok(c) => {
                let cdir = config_path.parent().unwrap_or(Path::new("."));
                c.rule_files.iter().map(|p| cdir.join(p)).collect()
            }
            Err(_) => Vec::new(), // reported by the run
        },
    };
    let mut rule_files = Vec::new();
    for pat in &patterns {
        let files = glob(pat);
        if files.is_empty() {
            eprintln!("note: rule_files: {} matches no file", pat.display());
        }
        for f in files {
            let text =
                std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
            // Named relative to the scenario (the name seeds the group's evaluation offset,
            // so the output does not depend on the working directory).
            let name = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
            rule_files.push((name, text));
        }
    }
    let alertmanager = match &scenario.alertmanager {
        Some(p) => {
            let path = dir.join(p);
            Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?,
            )
        }
        None => None,
    };
    let inputs = Inputs {
        config,
        rule_files,
        alertmanager,
    };
    let report = match scenario.run_with(&inputs) {
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

/// The files a pattern names (`filepath.Glob`): the path itself when it has no meta
/// characters, else the matching entries of its directory, sorted.
fn glob(pattern: &Path) -> Vec<PathBuf> {
    let name = pattern
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?', '[']) {
        return if pattern.is_file() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let parent = pattern.parent().unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = std::fs::read_dir(parent)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| {
                    promplay_alertmanager::glob_match(&name, &e.file_name().to_string_lossy())
                })
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
