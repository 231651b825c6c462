//! Solomon / Gehring–Homberger text format: name, `VEHICLE` block (number, capacity),
//! `CUSTOMER` block (`id x y demand ready due service`, row 0 = depot). Real-valued
//! Euclidean distances, kept to 1/1000 (scale 1000) so costs compare with the BKS.

use std::path::Path;
use std::sync::Arc;

use sortfleet_model::Stream;

use super::{Instance, ReadError, parse_err, problem_err, read_text};
use crate::problem::{DenseMatrix, ProblemData, TimeWindow, Vehicle, Visit};

const SCALE: f64 = 1000.0;

/// Reads a Solomon-format file.
pub fn read_solomon(path: &Path) -> Result<Instance, ReadError> {
    let text = read_text(path)?;
    let mut lines = text.lines().enumerate();
    let name = lines
        .by_ref()
        .find(|(_, l)| !l.trim().is_empty())
        .map(|(_, l)| l.trim().to_string())
        .ok_or_else(|| parse_err(path, 0, "empty file"))?;
    let mut fleet: Option<(usize, f64)> = None;
    let mut rows: Vec<[f64; 7]> = Vec::new();
    for (ln, l) in lines {
        let nums: Vec<f64> = l
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let words = l.split_whitespace().count();
        if nums.is_empty() || nums.len() != words {
            continue;
        }
        match (fleet, nums.len()) {
            (None, 2) => fleet = Some((nums[0] as usize, nums[1])),
            (Some(_), 7) => rows.push([
                nums[0], nums[1], nums[2], nums[3], nums[4], nums[5], nums[6],
            ]),
            _ => {
                return Err(parse_err(
                    path,
                    ln + 1,
                    format!("unexpected line `{}`", l.trim()),
                ));
            }
        }
    }
    let (n_veh, capacity) = fleet.ok_or_else(|| parse_err(path, 0, "missing VEHICLE block"))?;
    if rows.len() < 2 {
        return Err(parse_err(path, 0, "need a depot and at least one customer"));
    }
    let n = rows.len();
    let mut dist = Vec::with_capacity(n * n);
    for a in &rows {
        for b in &rows {
            let e = ((a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
            dist.push((e * SCALE).round() as i64);
        }
    }
    let s = |x: f64| (x * SCALE).round() as i64;
    let visits: Vec<Visit> = rows[1..]
        .iter()
        .enumerate()
        .map(|(i, r)| Visit {
            location: i + 1,
            demand: [r[3].round() as i64, 0],
            service: s(r[6]),
            windows: vec![TimeWindow::new(s(r[4]), s(r[5]))],
            stream: Stream::Residual,
            skills: 0,
            penalty: None,
            release: 0,
        })
        .collect();
    let mut v = Vehicle::basic(0, 0, [capacity.round() as i64, 0], vec![Stream::Residual]);
    v.shift = TimeWindow::new(s(rows[0][4]), s(rows[0][5]));
    v.unload_at_end = true;
    let matrix = DenseMatrix::single(n, dist).expect("square matrix");
    let data = ProblemData::new(visits, vec![v; n_veh.max(1)], Vec::new(), Arc::new(matrix))
        .map_err(|e| problem_err(path, e))?;
    Ok(Instance {
        name,
        data,
        scale: SCALE,
        first_customer: 1,
    })
}
