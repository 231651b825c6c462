//! Readers for the public benchmark formats and a writer for VRPLIB `.sol` files.
//!
//! Every reader returns an [`Instance`]: the validated [`ProblemData`] plus the scale
//! that turns the solver's integer distances back into the instance's own unit.
//! Conventions (see the instance README): CVRPLIB X = nint(Euclidean), scale 1;
//! VRPLIB VRPTW = DIMACS (truncated to one decimal), scale 10; Solomon/Homberger text =
//! real-valued Euclidean, rounded to 1/1000, scale 1000; Kim et al. 2006 = Manhattan
//! feet at the given speed, reported in miles.

mod kim;
mod solomon;
mod vrplib;

pub use kim::read_kim;
pub use solomon::read_solomon;
pub use vrplib::read_vrplib;

use std::path::Path;

use crate::problem::{ProblemData, ProblemError};
use crate::solution::Solution;

/// A benchmark instance ready to solve.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Instance name (file stem).
    pub name: String,
    /// The problem.
    pub data: ProblemData,
    /// Divide solver distances by this to get the instance's unit.
    pub scale: f64,
    /// Visit `i` is customer `i + 1` in `.sol` files.
    pub first_customer: usize,
}

/// Why an instance file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Malformed content.
    #[error("{path}: line {line}: {msg}")]
    Parse {
        /// File.
        path: String,
        /// 1-based line (0 = whole file).
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// A feature of the format this solver does not model.
    #[error("{path}: unsupported: {what}")]
    Unsupported {
        /// File.
        path: String,
        /// What.
        what: String,
    },
    /// The data read does not form a valid problem.
    #[error("{path}: {source}")]
    Problem {
        /// File.
        path: String,
        /// Cause.
        source: ProblemError,
    },
}

pub(crate) fn read_text(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads any supported format, chosen by extension and content: `.vrp` = VRPLIB,
/// a Kim header (`// vehicle capacity`) = Kim et al., other `.txt` = Solomon.
pub fn read_instance(path: &Path) -> Result<Instance, ReadError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext.eq_ignore_ascii_case("vrp") {
        return read_vrplib(path);
    }
    let text = read_text(path)?;
    if text.lines().next().is_some_and(|l| l.contains("//")) {
        read_kim(path)
    } else {
        read_solomon(path)
    }
}

/// The best known cost in the instance's unit from a sibling `.sol` file
/// (`Cost N` or `Cost: N`), if there is one.
pub fn sibling_bks(path: &Path) -> Option<f64> {
    let sol = std::fs::read_to_string(path.with_extension("sol")).ok()?;
    sol.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("Cost")?;
        rest.trim_start_matches([':', ' ', '\t'])
            .trim()
            .parse()
            .ok()
    })
}

/// Writes a solution in VRPLIB `.sol` form: `Route #k: c c c` (1-based customers,
/// `0` between trips of one vehicle), then `Cost N` in the instance's unit.
pub fn write_sol(inst: &Instance, sol: &Solution, cost: f64) -> String {
    let mut out = String::new();
    let mut k = 0;
    for r in &sol.routes {
        if r.trips.iter().all(|t| t.visits.is_empty()) {
            continue;
        }
        k += 1;
        let mut parts: Vec<String> = Vec::new();
        for (i, t) in r.trips.iter().enumerate() {
            if i > 0 {
                parts.push("0".into());
            }
            parts.extend(
                t.visits
                    .iter()
                    .map(|v| (v + inst.first_customer).to_string()),
            );
        }
        out.push_str(&format!("Route #{k}: {}\n", parts.join(" ")));
    }
    if cost.fract() == 0.0 {
        out.push_str(&format!("Cost {cost:.0}\n"));
    } else {
        out.push_str(&format!("Cost {cost:.2}\n"));
    }
    out
}

pub(crate) fn parse_err(path: &Path, line: usize, msg: impl Into<String>) -> ReadError {
    ReadError::Parse {
        path: path.display().to_string(),
        line,
        msg: msg.into(),
    }
}

pub(crate) fn problem_err(path: &Path, source: ProblemError) -> ReadError {
    ReadError::Problem {
        path: path.display().to_string(),
        source,
    }
}
