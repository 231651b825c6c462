//! Runs the `sortfleet bench` subcommands without the rest of the binary:
//! `cargo run --release -p sortfleet-solver --example bench_cli -- vrp FILE --time-limit 10`
//! or `... -- suite DIR --time-limit 10`.

#[path = "../../sortfleet/src/cmd_bench_vrp.rs"]
mod cmd_bench_vrp;

use clap::Parser;

#[derive(Parser)]
enum Cli {
    /// One instance.
    Vrp(cmd_bench_vrp::VrpArgs),
    /// A folder.
    Suite(cmd_bench_vrp::SuiteArgs),
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    match Cli::parse() {
        Cli::Vrp(a) => cmd_bench_vrp::run_vrp(&a),
        Cli::Suite(a) => cmd_bench_vrp::run_suite(&a),
    }
}
