//! The `sortfleet` command line.
//!
//! Each subcommand lives in its own `cmd_<name>.rs` module that exposes a clap `Args`
//! type and `run(args) -> anyhow::Result<ExitCode>`; `main` only parses, sets up
//! tracing and dispatches, so adding a subcommand touches one enum variant and one
//! match arm. A subcommand is added only once it works.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod cmd_bench_roads;
mod cmd_bench_vrp;
mod cmd_ledger;
mod cmd_plan;
mod cmd_roads;
mod cmd_serve;
mod cmd_validate;
mod demo;
mod live_map;

/// sortfleet: dispatch and routing for separated municipal waste collection.
#[derive(Debug, Parser)]
#[command(name = "sortfleet", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a scenario file and list every problem with its JSON path.
    ///
    /// Exit status 0 when the scenario is usable (warnings are printed), 2 when it has
    /// errors or cannot be read.
    Validate(cmd_validate::Args),
    /// Road network from OpenStreetMap: import, route, matrix.
    #[command(subcommand)]
    Roads(cmd_roads::RoadsCmd),
    /// Benchmarks: solver on public instances, road network speed.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Plan a service day: scenario + road graph -> a checked plan per stream.
    Plan(cmd_plan::PlanArgs),
    /// The tamper-evident ledger: verify a database, make a signing key.
    #[command(subcommand)]
    Ledger(cmd_ledger::LedgerCmd),
    /// Run the gRPC service (dispatch, terminals, supervision) over a database.
    Serve(cmd_serve::ServeArgs),
    /// A real city's whole day: plan, terminals, violations, scorecard, map page.
    Demo(demo::DemoArgs),
}

#[derive(Debug, Subcommand)]
enum BenchCmd {
    /// Solve one benchmark instance, check it, print one summary line.
    Vrp(cmd_bench_vrp::VrpArgs),
    /// Solve every instance of a folder and print a table with the mean gap.
    Suite(cmd_bench_vrp::SuiteArgs),
    /// Road network speed: preparation, matrices, single routes, memory.
    Roads(cmd_bench_roads::Args),
}

fn main() -> ExitCode {
    // Logs go to stderr so that stdout stays the command's output. RUST_LOG overrides.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => cmd_validate::run(args),
        Command::Roads(cmd) => cmd_roads::run(cmd),
        Command::Bench(BenchCmd::Vrp(args)) => cmd_bench_vrp::run_vrp(&args),
        Command::Bench(BenchCmd::Suite(args)) => cmd_bench_vrp::run_suite(&args),
        Command::Bench(BenchCmd::Roads(args)) => cmd_bench_roads::run(args),
        Command::Ledger(cmd) => cmd_ledger::run(cmd),
        Command::Plan(args) => cmd_plan::run(args),
        Command::Serve(args) => cmd_serve::run(args),
        Command::Demo(args) => demo::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
