//! `sortfleet plan SCENARIO.json --osm FILE.osm.pbf | --graph FILE.graph`: tomorrow's
//! plan for a dispatcher, with a table per stream and the plan as JSON (and GeoJSON).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sortfleet_dispatch::planning::{self, PlanError, PlanParams, PlanProgress};
use sortfleet_model::validate::{ScenarioError, check_json};
use sortfleet_model::{Plan, Problem, Stream, ValidationReport};
use sortfleet_roads::{ImportOptions, RoadGraph};

/// Exit status for an unusable scenario (as `sortfleet validate`).
const INVALID: u8 = 2;

/// Arguments of `sortfleet plan`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("roads").required(true).args(["osm", "graph"])))]
pub struct PlanArgs {
    /// The scenario file (JSON, see docs/scenario.md).
    pub scenario: PathBuf,
    /// Road network as an OpenStreetMap extract.
    #[arg(long)]
    pub osm: Option<PathBuf>,
    /// Road network as a graph file written by `sortfleet roads import`.
    #[arg(long)]
    pub graph: Option<PathBuf>,
    /// Search time budget in seconds (all streams together).
    #[arg(long, default_value_t = 20.0)]
    pub time_limit: f64,
    /// Search seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Threads for the parallel stream solves (default: available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Where to write the plan (JSON, see docs/plan.md).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Also write the plan as GeoJSON.
    #[arg(long)]
    pub geojson: Option<PathBuf>,
}

fn print_report(r: &ValidationReport) {
    for p in &r.errors {
        eprintln!("error: {p}");
    }
    for p in &r.warnings {
        eprintln!("warning: {p}");
    }
}

/// Plans the day and writes the outputs.
pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let shown = args.scenario.display().to_string();
    let text = match std::fs::read_to_string(&args.scenario) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {shown}: {e}");
            return Ok(ExitCode::from(INVALID));
        }
    };
    let (scenario, report) = match check_json(&text) {
        Ok(x) => x,
        Err(ScenarioError::Invalid(r)) => {
            print_report(&r);
            eprintln!(
                "{shown}: invalid: {} error(s), {} warning(s)",
                r.errors.len(),
                r.warnings.len()
            );
            return Ok(ExitCode::from(INVALID));
        }
        Err(e @ ScenarioError::Syntax { .. }) => {
            print_report(&ValidationReport {
                errors: vec![Problem::new("", e.to_string())],
                warnings: vec![],
            });
            return Ok(ExitCode::from(INVALID));
        }
    };
    if !report.is_ok() {
        print_report(&report);
        eprintln!(
            "{shown}: invalid: {} error(s), {} warning(s)",
            report.errors.len(),
            report.warnings.len()
        );
        return Ok(ExitCode::from(INVALID));
    }
    print_report(&report);
    let started = Instant::now();
    let graph = match (&args.osm, &args.graph) {
        (Some(p), _) => {
            RoadGraph::import_pbf(p, &ImportOptions { progress: true })
                .with_context(|| format!("importing {}", p.display()))?
                .0
        }
        (None, Some(g)) => {
            RoadGraph::load(g).with_context(|| format!("loading {}", g.display()))?
        }
        (None, None) => anyhow::bail!("give --osm or --graph"),
    };
    eprintln!("roads ready in {:.1} s", started.elapsed().as_secs_f64());
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let params = PlanParams {
        time_limit: Duration::from_secs_f64(args.time_limit.max(0.1)),
        seed: args.seed,
        threads,
        ..PlanParams::default()
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let best: Mutex<std::collections::BTreeMap<Stream, (i64, usize)>> = Default::default();
    let on_progress = |p: PlanProgress| match p {
        PlanProgress::Stage(m) => bar.println(m),
        PlanProgress::Search {
            stream,
            cost_ct,
            unserved,
            ..
        } => {
            let mut b = best.lock().unwrap_or_else(|e| e.into_inner());
            b.insert(stream, (cost_ct, unserved));
            let msg: Vec<String> = b
                .iter()
                .map(|(s, (c, u))| format!("{s} {:.0}€/{u}", *c as f64 / 100.0))
                .collect();
            bar.set_message(format!("searching: {}", msg.join("  ")));
        }
        PlanProgress::StreamDone {
            stream,
            served,
            unserved,
        } => bar.println(format!(
            "{stream}: done, {served} served, {unserved} unserved"
        )),
    };
    let outcome = match planning::plan_day(&scenario, &graph, &params, &on_progress) {
        Ok(o) => o,
        Err(PlanError::Invalid(r)) => {
            bar.finish_and_clear();
            print_report(&r);
            return Ok(ExitCode::from(INVALID));
        }
        Err(e) => {
            bar.finish_and_clear();
            return Err(e.into());
        }
    };
    bar.finish_and_clear();
    print_table(&outcome.plan, &outcome.report);
    std::fs::write(&args.output, serde_json::to_string_pretty(&outcome.plan)?)
        .with_context(|| format!("writing {}", args.output.display()))?;
    if let Some(g) = &args.geojson {
        let gj = planning::plan_geojson(&scenario, &outcome.plan);
        std::fs::write(g, serde_json::to_string(&gj)?)
            .with_context(|| format!("writing {}", g.display()))?;
    }
    println!(
        "plan checked; written to {} in {:.1} s total (network {:.1} s, allocation {:.1} ms, search {:.1} s, assembly {:.1} s)",
        args.output.display(),
        started.elapsed().as_secs_f64(),
        outcome.report.network_s,
        outcome.report.alloc_s * 1000.0,
        outcome.report.search_s,
        outcome.report.assemble_s
    );
    Ok(ExitCode::SUCCESS)
}

fn print_table(plan: &Plan, r: &planning::PlanReport) {
    println!(
        "{:<11} {:>8} {:>6} {:>7} {:>9} {:>9} {:>9} {:>8} {:>11}",
        "stream", "vehicles", "trips", "served", "unserved", "tonnes", "km", "hours", "cost €"
    );
    for s in &r.streams {
        println!(
            "{:<11} {:>8} {:>6} {:>7} {:>9} {:>9.1} {:>9.1} {:>8.1} {:>11.2}",
            s.stream.map_or("-".to_string(), |x| x.to_string()),
            format!("{}/{}", s.vehicles_used, s.vehicles_allocated),
            s.trips,
            s.served,
            s.unserved,
            s.kg.0 as f64 / 1000.0,
            s.distance_m.0 as f64 / 1000.0,
            s.duration_s.0 as f64 / 3600.0,
            s.cost_ct as f64 / 100.0
        );
    }
    let t = &plan.totals;
    let trips: usize = plan.routes.iter().map(|r| r.trips.len()).sum();
    println!(
        "{:<11} {:>8} {:>6} {:>7} {:>9} {:>9.1} {:>9.1} {:>8.1} {:>11.2}",
        "total",
        t.vehicles_used,
        trips,
        t.visits_served,
        t.visits_unserved,
        t.load_kg.0 as f64 / 1000.0,
        t.distance_m.0 as f64 / 1000.0,
        t.duration_s.0 as f64 / 3600.0,
        t.cost_ct.0 as f64 / 100.0
    );
    if t.load_kg.0 > 0 {
        println!(
            "cost per served tonne: {:.2} €",
            t.cost_ct.0 as f64 / 100.0 / (t.load_kg.0 as f64 / 1000.0)
        );
    }
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for u in &plan.unserved {
        *reasons.entry(format!("{:?}", u.reason)).or_default() += 1;
    }
    for (k, n) in reasons {
        println!("unserved {k}: {n}");
    }
}
