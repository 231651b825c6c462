//! VRPLIB (TSPLIB-style): CVRP (X set), VRPTW with `TIME_WINDOW_SECTION`, and multi-trip
//! with `VEHICLES_RELOAD_DEPOT_SECTION` (MTVRPTWR: reloads at the depot, and a trip leaves
//! it no earlier than the `RELEASE_TIME_SECTION` dates of the visits it serves).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sortfleet_model::Stream;

use super::{Instance, ReadError, parse_err, problem_err, read_text};
use crate::problem::{DenseMatrix, Facility, ProblemData, TimeWindow, Vehicle, Visit};

/// Reads a VRPLIB file.
pub fn read_vrplib(path: &Path) -> Result<Instance, ReadError> {
    let text = read_text(path)?;
    let mut header: HashMap<String, String> = HashMap::new();
    let mut sections: HashMap<String, Vec<Vec<f64>>> = HashMap::new();
    let mut current: Option<String> = None;
    for (ln, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t == "EOF" {
            continue;
        }
        if t.ends_with("SECTION") {
            current = Some(t.to_string());
            sections.entry(t.to_string()).or_default();
            continue;
        }
        if let Some((k, v)) = t.split_once(':')
            && k.trim().chars().all(|c| c.is_ascii_uppercase() || c == '_')
        {
            header.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            current = None;
            continue;
        }
        let Some(sec) = &current else {
            return Err(parse_err(path, ln + 1, format!("unexpected line `{t}`")));
        };
        let nums: Result<Vec<f64>, _> = t.split_whitespace().map(str::parse::<f64>).collect();
        let nums = nums.map_err(|e| parse_err(path, ln + 1, e.to_string()))?;
        sections.get_mut(sec).expect("section").push(nums);
    }
    let name = header.get("NAME").cloned().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into())
            .unwrap_or_default()
    });
    let dim: usize = header
        .get("DIMENSION")
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| parse_err(path, 0, "missing DIMENSION"))?;
    let capacity: f64 = header
        .get("CAPACITY")
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| parse_err(path, 0, "missing CAPACITY"))?;
    let ew = header
        .get("EDGE_WEIGHT_TYPE")
        .map(String::as_str)
        .unwrap_or("EUC_2D");
    if ew != "EUC_2D" {
        return Err(ReadError::Unsupported {
            path: path.display().to_string(),
            what: format!("EDGE_WEIGHT_TYPE {ew}"),
        });
    }
    let kind = header.get("TYPE").cloned().unwrap_or_else(|| "CVRP".into());
    let sec = |n: &str| sections.get(n).map(Vec::as_slice).unwrap_or(&[]);
    let coords = sec("NODE_COORD_SECTION");
    if coords.len() != dim || coords.iter().any(|r| r.len() < 3) {
        return Err(parse_err(
            path,
            0,
            "NODE_COORD_SECTION does not match DIMENSION",
        ));
    }
    let by_node = |name: &str, col: usize| -> Result<Vec<f64>, ReadError> {
        let rows = sec(name);
        let mut out = vec![0.0; dim];
        for r in rows {
            let i = r[0] as usize;
            if i == 0 || i > dim || r.len() <= col {
                return Err(parse_err(path, 0, format!("{name}: bad row {r:?}")));
            }
            out[i - 1] = r[col];
        }
        Ok(out)
    };
    let demand = by_node("DEMAND_SECTION", 1)?;
    let release_raw = if sections.contains_key("RELEASE_TIME_SECTION") {
        by_node("RELEASE_TIME_SECTION", 1)?
    } else {
        vec![0.0; dim]
    };
    let depot = sec("DEPOT_SECTION")
        .first()
        .and_then(|r| r.first())
        .map_or(0, |&d| (d as usize).saturating_sub(1));
    if depot != 0 {
        return Err(ReadError::Unsupported {
            path: path.display().to_string(),
            what: "depot other than node 1".into(),
        });
    }
    let tw = sections.contains_key("TIME_WINDOW_SECTION");
    // DIMACS convention for time-window sets: truncate to one decimal.
    let scale = if tw { 10.0 } else { 1.0 };
    let mut dist = Vec::with_capacity(dim * dim);
    for a in coords {
        for b in coords {
            let e = ((a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
            dist.push(if tw {
                (e * 10.0).floor() as i64
            } else {
                e.round() as i64
            });
        }
    }
    let release: Vec<i64> = release_raw
        .iter()
        .map(|r| (r * scale).round() as i64)
        .collect();
    let windows = if tw {
        let s = sec("TIME_WINDOW_SECTION");
        let mut w = vec![TimeWindow::ALWAYS; dim];
        for r in s {
            let i = r[0] as usize;
            if i == 0 || i > dim || r.len() < 3 {
                return Err(parse_err(
                    path,
                    0,
                    format!("TIME_WINDOW_SECTION: bad row {r:?}"),
                ));
            }
            w[i - 1] =
                TimeWindow::new((r[1] * scale).round() as i64, (r[2] * scale).round() as i64);
        }
        w
    } else {
        vec![TimeWindow::ALWAYS; dim]
    };
    let service: Vec<f64> = if sections.contains_key("SERVICE_TIME_SECTION") {
        by_node("SERVICE_TIME_SECTION", 1)?
    } else {
        let s: f64 = header
            .get("SERVICE_TIME")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0);
        (0..dim).map(|i| if i == depot { 0.0 } else { s }).collect()
    };
    let visits: Vec<Visit> = (1..dim)
        .map(|i| Visit {
            location: i,
            demand: [demand[i].round() as i64, 0],
            service: (service[i] * scale).round() as i64,
            windows: vec![windows[i]],
            stream: Stream::Residual,
            skills: 0,
            penalty: None,
            release: release[i],
        })
        .collect();
    let n_veh = header
        .get("VEHICLES")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(dim - 1)
        .max(1);
    let reload = sections.contains_key("VEHICLES_RELOAD_DEPOT_SECTION") || kind == "MTVRPTWR";
    let mut v = Vehicle::basic(
        depot,
        depot,
        [capacity.round() as i64, 0],
        vec![Stream::Residual],
    );
    v.shift = windows[depot];
    v.unload_at_end = true;
    let facilities = if reload {
        vec![Facility {
            location: depot,
            accepts: vec![Stream::Residual],
            unload: (service[depot] * scale).round() as i64,
            hours: vec![windows[depot]],
            intake_limit: None,
        }]
    } else {
        Vec::new()
    };
    let matrix = DenseMatrix::single(dim, dist).expect("square matrix");
    let data = ProblemData::new(visits, vec![v; n_veh], facilities, Arc::new(matrix))
        .map_err(|e| problem_err(path, e))?;
    Ok(Instance {
        name,
        data,
        // MTVRPTWR BKS files state DIMACS costs times 10, i.e. in solver units.
        scale: if kind == "MTVRPTWR" { 1.0 } else { scale },
        first_customer: 1,
    })
}
