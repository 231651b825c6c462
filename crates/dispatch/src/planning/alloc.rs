//! Fleet allocation: which stream each vehicle serves today, and how much of each
//! limited facility's daily intake each stream may use. Two small exact models in
//! `good_lp` (pure-Rust `microlp` backend) solved together:
//!
//! - *vehicles*: `x[v][s]` binary, every vehicle on exactly one stream it may carry,
//!   every stream with work on at least one vehicle (soft), maximising the worst
//!   stream's ratio of allocated shift hours to its estimated workload hours, with the
//!   depot's distance to the stream's work as tie-break;
//! - *intake*: `q[f][s]` kg of stream `s` tipped at limited facility `f`, shortfall
//!   `u[s]` for streams with no unlimited facility; each facility's quota per stream is
//!   then handed to that stream's (independent, parallel) solve.

use std::collections::BTreeMap;
use std::time::Instant;

use good_lp::{
    Expression, ProblemVariables, Solution, SolverModel, Variable, constraint, microlp, variable,
};
use sortfleet_model::Stream;

use super::PlanError;

/// One vehicle's options for the model.
#[derive(Clone, Debug)]
pub struct VehicleOffer {
    /// Scenario vehicle index.
    pub vehicle: usize,
    /// Streams it may serve (exactly one when fixed by a lock or a previous plan).
    pub streams: Vec<Stream>,
    /// Working seconds it offers.
    pub hours_s: f64,
    /// Tie-break cost per stream (depot distance to the stream's work, km).
    pub affinity_km: BTreeMap<Stream, f64>,
}

/// One stream's estimated work.
#[derive(Clone, Debug)]
pub struct StreamNeed {
    /// The stream.
    pub stream: Stream,
    /// Estimated working seconds (service + travel + trips to facilities).
    pub work_s: f64,
    /// Mass to collect.
    pub kg: i64,
}

/// A facility with a remaining daily limit.
#[derive(Clone, Debug)]
pub struct LimitedFacility {
    /// Scenario facility index.
    pub facility: usize,
    /// Remaining kg it takes today.
    pub remaining_kg: i64,
    /// Streams it accepts (among those with work).
    pub streams: Vec<Stream>,
}

/// What the model decided.
#[derive(Clone, Debug, Default)]
pub struct Allocation {
    /// Stream per scenario vehicle index (absent: no work it may do).
    pub stream_of: BTreeMap<usize, Stream>,
    /// Intake quota per (facility, stream) for limited facilities.
    pub quota: BTreeMap<(usize, Stream), i64>,
    /// Worst stream's hours ratio (allocated / estimated).
    pub coverage: f64,
    /// Binary variables in the model.
    pub binaries: usize,
    /// Constraints in the model.
    pub constraints: usize,
    /// Wall time of building and solving.
    pub seconds: f64,
}

/// Solves the allocation model.
pub fn allocate(
    offers: &[VehicleOffer],
    needs: &[StreamNeed],
    limited: &[LimitedFacility],
    unlimited_streams: &[Stream],
) -> Result<Allocation, PlanError> {
    let started = Instant::now();
    let mut vars = ProblemVariables::new();
    let mut x: Vec<Vec<(Stream, Variable)>> = Vec::new();
    for o in offers {
        let row = o
            .streams
            .iter()
            .filter(|s| needs.iter().any(|n| n.stream == **s))
            .map(|&s| (s, vars.add(variable().binary())))
            .collect();
        x.push(row);
    }
    let binaries = x.iter().map(Vec::len).sum();
    let t = vars.add(variable().min(0.0).max(20.0));
    let z: Vec<Variable> = needs
        .iter()
        .map(|_| vars.add(variable().min(0.0).max(1.0)))
        .collect();
    let mut q: BTreeMap<(usize, Stream), Variable> = BTreeMap::new();
    for f in limited {
        for &s in &f.streams {
            q.insert((f.facility, s), vars.add(variable().min(0.0)));
        }
    }
    let u: BTreeMap<Stream, Variable> = needs
        .iter()
        .filter(|n| !unlimited_streams.contains(&n.stream))
        .map(|n| (n.stream, vars.add(variable().min(0.0))))
        .collect();

    let mut objective: Expression = 1000.0 * t;
    for (k, _) in needs.iter().enumerate() {
        objective -= 1.0e6 * z[k];
    }
    for (o, row) in offers.iter().zip(&x) {
        for &(s, var) in row {
            objective -= 0.01 * o.affinity_km.get(&s).copied().unwrap_or(0.0) * var;
        }
    }
    for &var in u.values() {
        objective -= 10.0 * var;
    }
    let mut model = vars.maximise(objective).using(microlp);
    let mut constraints = 0;
    for row in &x {
        if !row.is_empty() {
            let sum: Expression = row.iter().map(|&(_, v)| v).sum();
            model = model.with(constraint!(sum == 1.0));
            constraints += 1;
        }
    }
    for (k, n) in needs.iter().enumerate() {
        let mut hours = Expression::from(0.0);
        let mut count = Expression::from(z[k]);
        for (o, row) in offers.iter().zip(&x) {
            for &(s, var) in row {
                if s == n.stream {
                    hours += o.hours_s * var;
                    count += var;
                }
            }
        }
        model = model.with(constraint!(hours - n.work_s.max(1.0) * t >= 0.0));
        model = model.with(constraint!(count >= 1.0));
        constraints += 2;
        if let Some(&us) = u.get(&n.stream) {
            let mut placed = Expression::from(us);
            for ((_, s), &v) in &q {
                if *s == n.stream {
                    placed += v;
                }
            }
            model = model.with(constraint!(placed == n.kg as f64));
            constraints += 1;
        }
    }
    for f in limited {
        let mut sum = Expression::from(0.0);
        for &s in &f.streams {
            sum += q[&(f.facility, s)];
        }
        model = model.with(constraint!(sum <= f.remaining_kg.max(0) as f64));
        constraints += 1;
    }
    let sol = model
        .solve()
        .map_err(|e| PlanError::Allocation(e.to_string()))?;
    let mut out = Allocation {
        coverage: sol.value(t),
        binaries,
        constraints,
        ..Allocation::default()
    };
    for (o, row) in offers.iter().zip(&x) {
        if let Some(&(s, _)) = row.iter().find(|(_, v)| sol.value(*v) > 0.5) {
            out.stream_of.insert(o.vehicle, s);
        }
    }
    // Quotas: the model's share, plus the unused rest split evenly, rounded down so
    // the parallel solves together never exceed the limit.
    for f in limited {
        let used: f64 = f
            .streams
            .iter()
            .map(|s| sol.value(q[&(f.facility, *s)]))
            .sum();
        let slack = (f.remaining_kg.max(0) as f64 - used).max(0.0) / f.streams.len().max(1) as f64;
        for &s in &f.streams {
            let share = (sol.value(q[&(f.facility, s)]) + slack).floor() as i64;
            out.quota.insert((f.facility, s), share.max(0));
        }
    }
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(v: usize, streams: &[Stream], hours: f64) -> VehicleOffer {
        VehicleOffer {
            vehicle: v,
            streams: streams.to_vec(),
            hours_s: hours * 3600.0,
            affinity_km: BTreeMap::new(),
        }
    }

    #[test]
    fn flexible_vehicles_go_where_the_work_is() {
        let offers = vec![
            offer(0, &[Stream::Kitchen], 8.0),
            offer(1, &[Stream::Kitchen, Stream::Residual], 8.0),
            offer(2, &[Stream::Kitchen, Stream::Residual], 8.0),
            offer(3, &[Stream::Residual], 8.0),
        ];
        let needs = vec![
            StreamNeed {
                stream: Stream::Kitchen,
                work_s: 8.0 * 3600.0,
                kg: 1000,
            },
            StreamNeed {
                stream: Stream::Residual,
                work_s: 24.0 * 3600.0,
                kg: 1000,
            },
        ];
        let a = allocate(&offers, &needs, &[], &[Stream::Kitchen, Stream::Residual]).unwrap();
        assert_eq!(a.stream_of[&1], Stream::Residual);
        assert_eq!(a.stream_of[&2], Stream::Residual);
        assert!((a.coverage - 1.0).abs() < 1e-6, "coverage {}", a.coverage);
    }

    #[test]
    fn every_stream_gets_a_vehicle_and_quotas_respect_limits() {
        let offers = vec![
            offer(0, &[Stream::Kitchen, Stream::Residual], 8.0),
            offer(1, &[Stream::Kitchen, Stream::Residual], 8.0),
        ];
        let needs = vec![
            StreamNeed {
                stream: Stream::Kitchen,
                work_s: 1.0,
                kg: 600,
            },
            StreamNeed {
                stream: Stream::Residual,
                work_s: 100.0 * 3600.0,
                kg: 900,
            },
        ];
        let limited = vec![LimitedFacility {
            facility: 0,
            remaining_kg: 1000,
            streams: vec![Stream::Kitchen, Stream::Residual],
        }];
        let a = allocate(&offers, &needs, &limited, &[]).unwrap();
        let kitchen = a
            .stream_of
            .values()
            .filter(|s| **s == Stream::Kitchen)
            .count();
        assert_eq!(kitchen, 1);
        let total: i64 = a.quota.values().sum();
        assert!(total <= 1000, "quotas {:?}", a.quota);
        assert!(a.quota[&(0, Stream::Kitchen)] + a.quota[&(0, Stream::Residual)] >= 999);
    }
}
