//! Temporary driver for `sortfleet roads …` / `sortfleet bench roads` until main.rs wires them.
#![allow(missing_docs)]
#[path = "../../sortfleet/src/cmd_bench_roads.rs"]
mod cmd_bench_roads;
#[path = "../../sortfleet/src/cmd_roads.rs"]
mod cmd_roads;
use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Top,
}
#[derive(Subcommand)]
enum Top {
    #[command(subcommand)]
    Roads(cmd_roads::RoadsCmd),
    Bench(cmd_bench_roads::Args),
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    match Cli::parse().cmd {
        Top::Roads(c) => cmd_roads::run(c),
        Top::Bench(a) => cmd_bench_roads::run(a),
    }
}
