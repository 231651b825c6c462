//! Benchmark runs shared by the CLI (`sortfleet bench vrp|suite`), the examples and the
//! criterion benches: read, solve, check, compare with the best known solution.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::check::{CheckReport, Violation, check};
use crate::io::{Instance, ReadError, read_instance, sibling_bks};
use crate::search::{SolveParams, solve};
use crate::solution::Solution;

/// Why a benchmark run failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The instance could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The checker rejected the solver's answer (a solver bug).
    #[error("{instance}: checker rejected the solution: {violation}")]
    Check {
        /// Instance name.
        instance: String,
        /// First violation.
        violation: Violation,
    },
}

/// Outcome of one benchmark run.
#[derive(Debug, Clone)]
pub struct BenchResult {
    /// The instance read.
    pub instance: Instance,
    /// The solution found.
    pub solution: Solution,
    /// The checker's recomputation.
    pub report: CheckReport,
    /// Total distance in the instance's unit (the BKS convention's cost).
    pub cost: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Best known cost, when known.
    pub bks: Option<f64>,
}

impl BenchResult {
    /// Gap to the BKS in percent.
    pub fn gap(&self) -> Option<f64> {
        self.bks.map(|b| 100.0 * (self.cost - b) / b)
    }

    /// One summary line: instance, cost, routes, seconds, gap.
    pub fn summary(&self) -> String {
        let gap = self.gap().map_or("-".to_string(), |g| format!("{g:.2}%"));
        let bks = self.bks.map_or("-".to_string(), |b| format!("{b}"));
        format!(
            "{} cost {} routes {} unserved {} time {:.1}s bks {} gap {} iters {}",
            self.instance.name,
            fmt_cost(self.cost),
            self.report.used_vehicles,
            self.solution.unserved.len(),
            self.seconds,
            bks,
            gap,
            self.solution.iterations
        )
    }
}

fn fmt_cost(c: f64) -> String {
    if c.fract() == 0.0 {
        format!("{c:.0}")
    } else {
        format!("{c:.2}")
    }
}

/// Best known cost for `path`: explicit value, else the sibling `.sol` file, else the
/// distance-only line of `bks.tsv` in a parent folder.
pub fn find_bks(path: &Path, explicit: Option<f64>) -> Option<f64> {
    explicit.or_else(|| sibling_bks(path)).or_else(|| {
        let stem = path.file_stem()?.to_str()?.to_string();
        let mut dir: Option<PathBuf> = path.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if let Ok(t) = std::fs::read_to_string(d.join("bks.tsv")) {
                let rows: Vec<Vec<&str>> = t
                    .lines()
                    .map(|l| l.split('\t').collect::<Vec<_>>())
                    .filter(|c| c.len() >= 5 && c[0].eq_ignore_ascii_case(&stem))
                    .collect();
                // Prefer distance-only sets (the search minimises distance).
                let pick = rows
                    .iter()
                    .find(|c| c[4].contains("distance"))
                    .or_else(|| rows.iter().find(|c| !c[4].contains("kim")))
                    .or(rows.first());
                return pick.and_then(|c| c[2].parse().ok());
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        None
    })
}

/// Reads, solves, checks; the cost is the checked distance in the instance's unit.
pub fn run(path: &Path, params: &SolveParams, bks: Option<f64>) -> Result<BenchResult, BenchError> {
    let instance = read_instance(path)?;
    let t = Instant::now();
    let solution = solve(&instance.data, params, &|_| {});
    let seconds = t.elapsed().as_secs_f64();
    let report = check(&instance.data, &solution).map_err(|violation| BenchError::Check {
        instance: instance.name.clone(),
        violation,
    })?;
    let cost = report.distance as f64 / instance.scale;
    Ok(BenchResult {
        bks: find_bks(path, bks),
        instance,
        solution,
        report,
        cost: (cost * 100.0).round() / 100.0,
        seconds,
    })
}
