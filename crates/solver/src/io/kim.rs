//! Kim, Kim & Sahoo (2006) waste-collection text format: five header values (trip
//! capacity, day volume, max stops per day, lunch seconds, speed mph), a column line,
//! then `id x(ft) y(ft) early(HHMM) late(HHMM) service(s) load(yd3) type` with type
//! 0 = depot, 1 = stop, 2 = landfill. Manhattan distances in feet; travel time at the
//! given speed; lunch starts between 11:00 and 12:00. Loads are kept in 1/100 yd³.
//! Distances are reported in miles (scale 5280); each truck carries a large fixed cost
//! so fewer trucks come first, as in the paper.

use std::path::Path;
use std::sync::Arc;

use sortfleet_model::Stream;

use super::{Instance, ReadError, parse_err, problem_err, read_text};
use crate::problem::{Break, DenseMatrix, Facility, ProblemData, TimeWindow, Vehicle, Visit};

/// Fixed cost per truck (feet): far above any route length, so trucks come first.
pub const KIM_VEHICLE_COST: i64 = 100_000_000;

fn hhmm(x: f64) -> i64 {
    let x = x as i64;
    (x / 100) * 3600 + (x % 100) * 60
}

/// Reads a Kim et al. file.
pub fn read_kim(path: &Path) -> Result<Instance, ReadError> {
    let text = read_text(path)?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < 7 {
        return Err(parse_err(path, 0, "too short"));
    }
    let mut head = [0f64; 5];
    for (i, h) in head.iter_mut().enumerate() {
        let v = lines[i].split("//").next().unwrap_or("").trim();
        *h = v
            .parse()
            .map_err(|_| parse_err(path, i + 1, "bad header value"))?;
    }
    let [cap, day_volume, max_stops, lunch, mph] = head;
    let mut rows: Vec<[f64; 8]> = Vec::new();
    for (ln, l) in lines.iter().enumerate().skip(6) {
        if l.trim().is_empty() {
            continue;
        }
        let nums: Result<Vec<f64>, _> = l.split_whitespace().map(str::parse::<f64>).collect();
        let nums = nums.map_err(|e| parse_err(path, ln + 1, e.to_string()))?;
        if nums.len() != 8 {
            return Err(parse_err(path, ln + 1, "expected 8 columns"));
        }
        rows.push(nums.try_into().expect("8"));
    }
    let depot = rows
        .iter()
        .position(|r| r[7] == 0.0)
        .ok_or_else(|| parse_err(path, 0, "no depot (type 0)"))?;
    let n = rows.len();
    let mut dist = Vec::with_capacity(n * n);
    let mut dur = Vec::with_capacity(n * n);
    for a in &rows {
        for b in &rows {
            let feet = (a[1] - b[1]).abs() + (a[2] - b[2]).abs();
            dist.push(feet.round() as i64);
            dur.push((feet / 5280.0 / mph * 3600.0).round() as i64);
        }
    }
    let yd = |x: f64| (x * 100.0).round() as i64;
    let mut visits = Vec::new();
    let mut facilities = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let w = TimeWindow::new(hhmm(r[3]), hhmm(r[4]));
        match r[7] as i64 {
            1 => visits.push(Visit {
                location: i,
                demand: [yd(r[6]), 0],
                service: r[5].round() as i64,
                windows: vec![w],
                stream: Stream::Residual,
                skills: 0,
                penalty: None,
                release: 0,
            }),
            2 => facilities.push(Facility {
                location: i,
                accepts: vec![Stream::Residual],
                unload: r[5].round() as i64,
                hours: vec![w],
                intake_limit: None,
            }),
            _ => {}
        }
    }
    let total: i64 = visits.iter().map(|v| v.demand[0]).sum();
    // Enough trucks for volume and for time; the fixed cost keeps the used ones few.
    let by_volume = 2 * (total / yd(day_volume).max(1)) as usize + 5;
    let n_veh = by_volume
        .max(visits.len() / 20 + 5)
        .min(visits.len().max(1));
    let dr = &rows[depot];
    let mut v = Vehicle::basic(depot, depot, [yd(cap), 0], vec![Stream::Residual]);
    v.shift = TimeWindow::new(hhmm(dr[3]), hhmm(dr[4]));
    v.fixed_cost = KIM_VEHICLE_COST;
    v.max_day_load = Some(yd(day_volume));
    v.max_visits = Some(max_stops as usize);
    v.break_rule = Some(Break {
        window: TimeWindow::new(11 * 3600, 12 * 3600),
        duration: lunch.round() as i64,
    });
    let matrix = DenseMatrix::new(n, vec![dur], vec![dist]).expect("square matrix");
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let data = ProblemData::new(visits, vec![v; n_veh], facilities, Arc::new(matrix))
        .map_err(|e| problem_err(path, e))?;
    Ok(Instance {
        name,
        data,
        scale: 5280.0,
        first_customer: 1,
    })
}
