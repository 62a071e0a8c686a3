//! `promplay`: the native companion. See `promplay --help`.
//!
//! Each verb lives in its own module exposing `run(...) -> anyhow::Result<i32>` (the exit
//! code). To add one: a variant in [`Command`] (or in a nested group such as
//! [`PromqlCommand`]), a module, and one arm in `main`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod alertmanager_cmds;
mod check_config;
mod check_metrics;
mod check_rules;
mod node;
mod promql_parse;
mod serve;
mod sim;
mod test_promql;
mod test_rules;

#[derive(Parser)]
#[command(name = "promplay", version, about = "promplay's native companion")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check files as promtool does.
    Check {
        #[command(subcommand)]
        command: CheckCommand,
    },
    /// Expose this machine's metrics under node_exporter's names (/proc, /sys) over HTTP.
    Node(node::Args),
    /// PromQL tools.
    Promql {
        #[command(subcommand)]
        command: PromqlCommand,
    },
    /// Alertmanager routing tree tools (amtool's `config routes`).
    Routes {
        #[command(subcommand)]
        command: RoutesCommand,
    },
    /// Run a Prometheus server: scrape targets, keep samples in memory, serve the HTTP API.
    Serve(serve::Args),
    /// Run a scenario on the simulated world headless and print its queries' results.
    Sim(sim::Args),
    /// Run test scripts.
    Test {
        #[command(subcommand)]
        command: TestCommand,
    },
}

#[derive(Subcommand)]
enum TestCommand {
    /// Run PromQL test scripts (Prometheus's promqltest language) against the engine.
    Promql(test_promql::Args),
    /// Run rule unit tests (promtool's `test rules`).
    Rules(test_rules::Args),
}

#[derive(Subcommand)]
enum RoutesCommand {
    /// Print the receivers an alert with the given labels is routed to (amtool's
    /// `config routes test`); --tree shows the path through the routing tree.
    Test(alertmanager_cmds::RoutesTestArgs),
    /// Print the routing tree (amtool's `config routes show`).
    Show(alertmanager_cmds::RoutesShowArgs),
}

#[derive(Subcommand)]
enum CheckCommand {
    /// Parse an exposition on stdin (text 0.0.4 or OpenMetrics); with --lint, lint it too.
    Metrics(check_metrics::Args),
    /// Check if the config files are valid or not (promtool's `check config`).
    Config(check_config::Args),
    /// Check if the rule files are valid or not (promtool's `check rules`).
    Rules(check_rules::Args),
    /// Check Alertmanager configuration files (amtool's `check-config`).
    Alertmanager(alertmanager_cmds::CheckArgs),
}

#[derive(Subcommand)]
enum PromqlCommand {
    /// Parse an expression: print its canonical (pretty) form, or the error with line:col.
    Parse(promql_parse::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { command } => match command {
            CheckCommand::Metrics(args) => check_metrics::run(&args),
            CheckCommand::Config(args) => check_config::run(&args),
            CheckCommand::Rules(args) => check_rules::run(&args),
            CheckCommand::Alertmanager(args) => alertmanager_cmds::run_check(&args),
        },
        Command::Node(args) => node::run(&args),
        Command::Promql { command } => match command {
            PromqlCommand::Parse(args) => promql_parse::run(&args),
        },
        Command::Routes { command } => match command {
            RoutesCommand::Test(args) => alertmanager_cmds::run_routes_test(&args),
            RoutesCommand::Show(args) => alertmanager_cmds::run_routes_show(&args),
        },
        Command::Serve(args) => serve::run(&args),
        Command::Sim(args) => sim::run(&args),
        Command::Test { command } => match command {
            TestCommand::Promql(args) => test_promql::run(&args),
            TestCommand::Rules(args) => test_rules::run(&args),
        },
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("promplay: {e:#}");
            ExitCode::from(2)
        }
    }
}
