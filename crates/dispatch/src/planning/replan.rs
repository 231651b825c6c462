//! Intraday re-planning: frozen prefixes are copied from the previous plan, a vehicle
//! can be taken out, urgent pickups added, visits pinned. Every other visit is first
//! pinned to its previous vehicle (minimal disturbance); only if that leaves more visits
//! unserved than a free re-plan does, the pins are released.
//!
//! A trip in progress is frozen up to its unload: the truck carries that stream until it
//! tips, so its remaining stops stay with it. A vehicle that breaks down keeps the stops
//! it served before the breakdown (their trip's unload stays as planned: the load on
//! board is delivered by the recovery) and gets nothing new.

use std::collections::HashMap;

use sortfleet_model::{
    CollectionPoint, Plan, PointId, Route, Scenario, Seconds, Stream, Trip, VehicleId,
};
use sortfleet_roads::RoadGraph;

use super::day::{DaySpec, Frozen, Start};
use super::network::Network;
use super::{Lock, PlanError, PlanOutcome, PlanParams, PlanProgress};

/// How much of a route has been driven.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FreezeUntil {
    /// Everything departed at or before this time.
    Time(Seconds),
    /// The first this many stops.
    Stops(usize),
}

/// A dispatcher's change to the running day.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Pin a visit to a vehicle.
    PinVisit {
        /// The point.
        point: PointId,
        /// The stream.
        stream: Stream,
        /// The vehicle.
        vehicle: VehicleId,
    },
    /// Keep the driven part of a vehicle's route exactly.
    FreezeDriven {
        /// The vehicle.
        vehicle: VehicleId,
        /// How far it has driven.
        until: FreezeUntil,
    },
    /// A new pickup (a new point, or new streams at an existing point with the same id).
    AddUrgentPickup {
        /// The point with its demands.
        point: CollectionPoint,
    },
    /// The vehicle is out from `at` (breakdown).
    VehicleUnavailable {
        /// The vehicle.
        vehicle: VehicleId,
        /// From when.
        at: Seconds,
    },
}

fn vehicle_index(s: &Scenario, id: &VehicleId) -> Result<usize, PlanError> {
    s.vehicles
        .iter()
        .position(|v| &v.id == id)
        .ok_or_else(|| PlanError::Lock(format!("unknown vehicle {id}")))
}

/// Kept trips of `r` given the stops done (`done`) or a breakdown time.
fn kept(r: &Route, done: usize, broken: Option<Seconds>) -> Vec<Trip> {
    let mut out = Vec::new();
    match broken {
        Some(at) => {
            for t in &r.trips {
                if t.unload.departure_s <= at {
                    out.push(t.clone());
                    continue;
                }
                let stops: Vec<_> = t
                    .stops
                    .iter()
                    .take_while(|s| s.departure_s <= at)
                    .cloned()
                    .collect();
                if let Some(last) = stops.last() {
                    let mut t2 = t.clone();
                    t2.unload.load_kg = last.load_after_kg;
                    t2.stops = stops;
                    out.push(t2);
                }
                break;
            }
        }
        None => {
            let mut n = 0;
            for t in &r.trips {
                if n >= done {
                    break;
                }
                n += t.stops.len();
                out.push(t.clone());
            }
        }
    }
    out
}

fn frozen_distance(s: &Scenario, net: &Network, v: usize, trips: &[Trip]) -> i64 {
    let c = net.vehicle_class[v];
    let mut pos = s
        .depots
        .iter()
        .position(|d| d.id == s.vehicles[v].depot)
        .unwrap_or(0);
    let mut d = 0;
    for t in trips {
        for st in &t.stops {
            if let Some(p) = s.points.iter().position(|p| p.id == st.point) {
                d += net.d(c, pos, net.point(p));
                pos = net.point(p);
            }
        }
        if let Some(f) = s.facilities.iter().position(|f| f.id == t.unload.facility) {
            d += net.d(c, pos, net.fac(f));
            pos = net.fac(f);
        }
    }
    d
}

pub(crate) fn replan(
    scenario: &Scenario,
    graph: &RoadGraph,
    previous: &Plan,
    changes: &[Change],
    params: &PlanParams,
    progress: &(dyn Fn(PlanProgress) + Sync),
) -> Result<PlanOutcome, PlanError> {
    let mut s = scenario.clone();
    for ch in changes {
        if let Change::AddUrgentPickup { point } = ch {
            match s.points.iter_mut().find(|p| p.id == point.id) {
                Some(p) => {
                    for d in &point.demands {
                        match p.demands.iter_mut().find(|x| x.stream == d.stream) {
                            Some(x) => *x = *d,
                            None => p.demands.push(*d),
                        }
                    }
                    p.bins.extend(point.bins.iter().cloned());
                }
                None => s.points.push(point.clone()),
            }
        }
    }
    let report = s.validate();
    if !report.is_ok() {
        return Err(PlanError::Invalid(report));
    }
    let net = Network::build(&s, graph, &|m| progress(PlanProgress::Stage(m)))?;

    let mut freeze: HashMap<usize, (usize, Option<Seconds>)> = HashMap::new();
    let mut locks = Vec::new();
    let prev_route: HashMap<usize, &Route> = previous
        .routes
        .iter()
        .filter_map(|r| Some((vehicle_index(&s, &r.vehicle).ok()?, r)))
        .collect();
    let mut spec = DaySpec::default();
    for ch in changes {
        match ch {
            Change::PinVisit {
                point,
                stream,
                vehicle,
            } => locks.push(Lock {
                point: point.clone(),
                stream: *stream,
                vehicle: vehicle.clone(),
            }),
            Change::FreezeDriven { vehicle, until } => {
                let v = vehicle_index(&s, vehicle)?;
                let done = match (until, prev_route.get(&v)) {
                    (FreezeUntil::Stops(n), _) => *n,
                    (FreezeUntil::Time(t), Some(r)) => r
                        .trips
                        .iter()
                        .flat_map(|t| &t.stops)
                        .take_while(|st| st.departure_s <= *t)
                        .count(),
                    (FreezeUntil::Time(_), None) => 0,
                };
                let e = freeze.entry(v).or_insert((0, None));
                e.0 = e.0.max(done);
            }
            Change::VehicleUnavailable { vehicle, at } => {
                let v = vehicle_index(&s, vehicle)?;
                spec.excluded.insert(v);
                freeze.entry(v).or_insert((0, None)).1 = Some(*at);
            }
            Change::AddUrgentPickup { .. } => {}
        }
    }
    let point_index: HashMap<&PointId, usize> = s
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.id, i))
        .collect();
    for (&v, &(done, broken)) in &freeze {
        let Some(r) = prev_route.get(&v) else {
            continue;
        };
        let trips = kept(r, done, broken);
        if trips.is_empty() {
            continue;
        }
        let last = trips.last().map(|t| t.unload.clone());
        let Some(last) = last else { continue };
        let f = s
            .facilities
            .iter()
            .position(|f| f.id == last.facility)
            .ok_or_else(|| PlanError::Lock(format!("unknown facility {}", last.facility)))?;
        for t in &trips {
            for st in &t.stops {
                if let Some(&p) = point_index.get(&st.point) {
                    spec.skip.insert((p, st.stream));
                }
            }
            if let Some(fi) = s.facilities.iter().position(|x| x.id == t.unload.facility) {
                *spec.intake_used.entry(fi).or_default() += t.unload.load_kg.0;
            }
        }
        let time = last.departure_s;
        let breaks: Vec<_> = r
            .breaks
            .iter()
            .filter(|b| b.start_s < time)
            .copied()
            .collect();
        spec.starts.insert(
            v,
            Start {
                loc: net.fac(f),
                time: time.0,
                used_s: (time - r.start_s).0,
                break_taken: !breaks.is_empty(),
            },
        );
        spec.frozen.insert(
            v,
            Frozen {
                start_s: r.start_s,
                distance_m: frozen_distance(&s, &net, v, &trips),
                trips,
                breaks,
                stopped_at: broken,
            },
        );
    }
    // Minimal disturbance: previous assignment as soft pins and fixed streams.
    let mut soft = spec.clone();
    for (&v, r) in &prev_route {
        if spec.excluded.contains(&v) {
            continue;
        }
        let mut stream = None;
        for t in &r.trips {
            for st in &t.stops {
                if let Some(&p) = point_index.get(&st.point)
                    && !spec.skip.contains(&(p, st.stream))
                {
                    soft.soft_pins.insert((p, st.stream), v);
                    stream.get_or_insert(t.stream);
                }
            }
        }
        if let Some(st) = stream {
            soft.fixed.insert(v, st);
        }
    }
    soft.add_locks(&s, &locks)?;
    spec.add_locks(&s, &locks)?;
    let mut half = params.clone();
    half.time_limit = params.time_limit / 2;
    let mut out = super::day::run(&s, &net, &soft, &half, progress)?;
    // Pins cost visits when something newly unserved could fit a vehicle alone.
    let was_unserved: std::collections::HashSet<(&PointId, Stream)> = previous
        .unserved
        .iter()
        .map(|u| (&u.point, u.stream))
        .collect();
    let needs_free = out.plan.unserved.iter().any(|u| {
        matches!(
            u.reason,
            sortfleet_model::UnservedReason::Other
                | sortfleet_model::UnservedReason::OutsideShiftOrWindow
        ) && !was_unserved.contains(&(&u.point, u.stream))
    });
    if needs_free {
        progress(PlanProgress::Stage(
            "pins to previous vehicles leave visits unserved: re-planning freely".into(),
        ));
        let free = super::day::run(&s, &net, &spec, &half, progress)?;
        if free.plan.totals.visits_unserved < out.plan.totals.visits_unserved {
            out = free;
            out.report.pins_released = true;
        }
    }
    let before: HashMap<(&PointId, Stream), &VehicleId> = previous
        .routes
        .iter()
        .flat_map(|r| {
            r.trips.iter().flat_map(move |t| {
                t.stops
                    .iter()
                    .map(move |st| ((&st.point, st.stream), &r.vehicle))
            })
        })
        .collect();
    out.report.changed_vehicle = out
        .plan
        .routes
        .iter()
        .flat_map(|r| {
            r.trips.iter().flat_map(move |t| {
                t.stops
                    .iter()
                    .map(move |st| ((&st.point, st.stream), &r.vehicle))
            })
        })
        .filter(|(k, v)| before.get(k).is_some_and(|b| b != v))
        .count();
    Ok(out)
}
