//! `sortfleet validate SCENARIO.json`: the scenario checker for dispatchers.
//!
//! Every problem is printed at once with its JSON path, so a dispatcher fixes a file
//! in one pass instead of one error per run.

use std::path::PathBuf;
use std::process::ExitCode;

use sortfleet_model::validate::{ScenarioError, check_json};
use sortfleet_model::{Problem, Scenario, ValidationReport};

/// Exit status for a scenario that cannot be used (unreadable, not JSON, or invalid).
const INVALID: u8 = 2;

/// Arguments of `sortfleet validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file (JSON, see docs/scenario.md).
    pub scenario: PathBuf,
    /// Print the report as JSON on stdout (`{"errors": [...], "warnings": [...]}`).
    #[arg(long)]
    pub json: bool,
}

/// Runs the check; the exit status says whether the scenario is usable.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let shown = args.scenario.display();
    let text = match std::fs::read_to_string(&args.scenario) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {shown}: {e}");
            return Ok(ExitCode::from(INVALID));
        }
    };
    let (scenario, report) = match check_json(&text) {
        Ok((s, r)) => (Some(s), r),
        Err(ScenarioError::Invalid(r)) => (None, r),
        Err(e @ ScenarioError::Syntax { .. }) => {
            let report = ValidationReport {
                errors: vec![Problem::new("", e.to_string())],
                warnings: vec![],
            };
            (None, report)
        }
    };
    tracing::debug!(
        errors = report.errors.len(),
        warnings = report.warnings.len(),
        "validated {shown}"
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for p in &report.errors {
            eprintln!("error: {p}");
        }
        for p in &report.warnings {
            eprintln!("warning: {p}");
        }
        match (&scenario, report.is_ok()) {
            (Some(s), true) => println!("{shown}: valid: {}", summary(s, &report)),
            _ => eprintln!(
                "{shown}: invalid: {} error(s), {} warning(s)",
                report.errors.len(),
                report.warnings.len()
            ),
        }
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(INVALID)
    })
}

fn summary(s: &Scenario, r: &ValidationReport) -> String {
    let visits: usize = s.points.iter().map(|p| p.demands.len()).sum();
    format!(
        "\"{}\" on {}: {} depot(s), {} facilities, {} vehicle(s), {} point(s), {} visit(s); {} warning(s)",
        s.name,
        s.date,
        s.depots.len(),
        s.facilities.len(),
        s.vehicles.len(),
        s.points.len(),
        visits,
        r.warnings.len()
    )
}
