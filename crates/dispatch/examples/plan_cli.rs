//! Runs `sortfleet plan` from its module without building the whole binary (for
//! measurements while the binary is wired): `--example plan_cli -- SCENARIO --osm F -o OUT`.

#[path = "../../sortfleet/src/cmd_plan.rs"]
mod cmd_plan;

use clap::Parser;

/// Just the plan subcommand's arguments.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: cmd_plan::PlanArgs,
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    cmd_plan::run(Cli::parse().args)
}
