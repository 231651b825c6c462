//! `sortfleet bench vrp FILE` and `sortfleet bench suite DIR`: solve public benchmark
//! instances, check every answer with the independent checker, compare with the BKS.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use sortfleet_solver::bench::{self, BenchResult};
use sortfleet_solver::{SolveParams, StopCriteria};

/// Arguments of `sortfleet bench vrp`.
#[derive(Debug, Clone, clap::Args)]
pub struct VrpArgs {
    /// Instance file (VRPLIB `.vrp`, Solomon/Homberger `.txt`, Kim et al. `_stop.txt`).
    pub file: PathBuf,
    /// Time budget in seconds [default: 10, or none when --iterations is given].
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Iteration budget per search thread. Without a time limit the plan then depends only
    /// on the instance, the seed and the threads, not on the machine or its load.
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Search seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Search threads: seeded workers that meet at fixed iteration counts and share their best plan.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Write the solution here in VRPLIB `.sol` form.
    #[arg(long)]
    pub solution_out: Option<PathBuf>,
    /// Best known cost (otherwise from the sibling `.sol` file or `bks.tsv`).
    #[arg(long)]
    pub bks: Option<f64>,
}

/// Arguments of `sortfleet bench suite`.
#[derive(Debug, Clone, clap::Args)]
pub struct SuiteArgs {
    /// Folder of instances (every `.vrp` or `.txt` file in it).
    pub dir: PathBuf,
    /// Time budget per instance in seconds.
    #[arg(long)]
    pub time_limit: f64,
    /// Search seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Search threads per instance (workers that share their best plan).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

fn params(
    time_limit: Option<f64>,
    iterations: Option<u64>,
    seed: u64,
    threads: usize,
) -> anyhow::Result<SolveParams> {
    // An iteration budget alone keeps the run machine-independent; otherwise 10 s.
    let time_limit = match (time_limit, iterations) {
        (None, None) => Some(10.0),
        (t, _) => t,
    };
    if let Some(t) = time_limit {
        anyhow::ensure!(
            t.is_finite() && t > 0.0,
            "--time-limit must be a positive number of seconds"
        );
    }
    anyhow::ensure!(
        iterations != Some(0),
        "--iterations must be a positive number"
    );
    Ok(SolveParams {
        seed,
        threads: threads.max(1),
        stop: StopCriteria {
            time_limit: time_limit.map(Duration::from_secs_f64),
            max_iterations: iterations,
            ..Default::default()
        },
        cancel: None,
    })
}

/// Solves one instance and prints one summary line.
pub fn run_vrp(args: &VrpArgs) -> anyhow::Result<ExitCode> {
    let p = params(args.time_limit, args.iterations, args.seed, args.threads)?;
    let r = bench::run(&args.file, &p, args.bks)?;
    println!("{}", r.summary());
    if let Some(out) = &args.solution_out {
        let text = sortfleet_solver::io::write_sol(&r.instance, &r.solution, r.cost);
        std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn is_instance(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
    (ext == "vrp" || ext == "txt")
        && !name.eq_ignore_ascii_case("readme.txt")
        && !name.starts_with("SOURCE")
}

/// Solves every instance of a folder and prints a table with the mean gap.
pub fn run_suite(args: &SuiteArgs) -> anyhow::Result<ExitCode> {
    let p = params(Some(args.time_limit), None, args.seed, args.threads)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .with_context(|| format!("reading {}", args.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_instance(p))
        .collect();
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no instances in {}", args.dir.display());
    println!(
        "{:<16} {:>12} {:>6} {:>8} {:>12} {:>8} {:>7}",
        "instance", "cost", "routes", "unserved", "bks", "gap%", "secs"
    );
    let mut gaps = Vec::new();
    let mut failed = 0;
    for f in &files {
        match bench::run(f, &p, None) {
            Ok(r) => {
                print_row(&r);
                if let Some(g) = r.gap() {
                    gaps.push(g);
                }
            }
            Err(e) => {
                failed += 1;
                println!(
                    "{:<16} error: {e}",
                    f.file_stem().unwrap_or_default().to_string_lossy()
                );
            }
        }
    }
    let mean = if gaps.is_empty() {
        f64::NAN
    } else {
        gaps.iter().sum::<f64>() / gaps.len() as f64
    };
    println!(
        "mean gap {mean:.2}% over {} instances with a BKS (seed {}, {} s, {} thread(s)); {failed} failed",
        gaps.len(),
        args.seed,
        args.time_limit,
        args.threads
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_row(r: &BenchResult) {
    println!(
        "{:<16} {:>12.2} {:>6} {:>8} {:>12} {:>8} {:>7.1}",
        r.instance.name,
        r.cost,
        r.report.used_vehicles,
        r.solution.unserved.len(),
        r.bks.map_or("-".into(), |b| b.to_string()),
        r.gap().map_or("-".into(), |g| format!("{g:.2}")),
        r.seconds
    )
}
