//! Independent checker: recomputes every load, time, distance and cost of a [`Solution`]
//! from the solution and the problem alone, and names the first broken rule.
//!
//! It deliberately shares no code with the search's bookkeeping (`search::eval`), so a
//! bug in one is caught by the other. The schedule rules, stated once here:
//! - the vehicle leaves its start at the shift start (or the first trip's release, the
//!   latest release of its visits, if later), delayed so it does not wait at the first
//!   stop; every later trip leaves its unload point not before its own release;
//! - at a stop, service starts at the arrival or at the opening of the first window that
//!   has not closed yet, whichever is later (waiting is allowed);
//! - the break is taken, if the vehicle has one and has not taken it yet, just before
//!   the first leg that would arrive after the break window opens; it starts at the later
//!   of "now" and the window opening and must start before the window closes; a route
//!   that is back before the window opens needs no break;
//! - route duration = return time − departure time;
//! - cost = Σ used vehicles (fixed + per-distance × distance + per-second × duration)
//!   + Σ penalties of unserved optional visits.

use crate::problem::{ProblemData, TimeWindow};
use crate::solution::{Solution, UnservedReason};

/// Figures recomputed for one route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteReport {
    /// Vehicle index.
    pub vehicle: usize,
    /// Departure time.
    pub depart: i64,
    /// Return time.
    pub end: i64,
    /// Total distance.
    pub distance: i64,
    /// Visits served.
    pub visits: usize,
    /// Cost of the route.
    pub cost: i64,
}

/// Result of a successful check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// Recomputed objective.
    pub cost: i64,
    /// Total distance.
    pub distance: i64,
    /// Total route duration.
    pub duration: i64,
    /// Routes that serve at least one visit.
    pub used_vehicles: usize,
    /// Mandatory visits reported unserved (each with a reason).
    pub unserved_mandatory: usize,
    /// Per route.
    pub routes: Vec<RouteReport>,
}

/// The first broken rule found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// An index that does not exist.
    #[error("route {route}: unknown {what} {index}")]
    UnknownIndex {
        /// Route position in the solution.
        route: usize,
        /// `vehicle`, `visit` or `facility`.
        what: &'static str,
        /// The index.
        index: usize,
    },
    /// A vehicle used by two routes.
    #[error("vehicle {vehicle} has more than one route")]
    VehicleTwice {
        /// Vehicle index.
        vehicle: usize,
    },
    /// A visit served twice, or both served and reported unserved.
    #[error("visit {visit} appears more than once")]
    VisitTwice {
        /// Visit index.
        visit: usize,
    },
    /// A mandatory visit neither served nor reported unserved.
    #[error("visit {visit} is neither served nor reported unserved")]
    VisitMissing {
        /// Visit index.
        visit: usize,
    },
    /// A mandatory visit reported as "not worth it".
    #[error("mandatory visit {visit} left out as optional")]
    MandatoryDropped {
        /// Visit index.
        visit: usize,
    },
    /// A trip without visits.
    #[error("route {route} trip {trip}: empty trip")]
    EmptyTrip {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
    },
    /// A visit of another stream in the trip.
    #[error("route {route} trip {trip}: visit {visit} is not of the trip's stream")]
    MixedTrip {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
        /// Visit.
        visit: usize,
    },
    /// The vehicle is not certified for the trip's stream.
    #[error("route {route} trip {trip}: vehicle not certified for {stream}")]
    NotCertified {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
        /// Stream.
        stream: sortfleet_model::Stream,
    },
    /// The vehicle lacks a skill the visit needs.
    #[error("route {route}: vehicle lacks skills for visit {visit}")]
    MissingSkill {
        /// Route.
        route: usize,
        /// Visit.
        visit: usize,
    },
    /// The trip's facility does not accept its stream.
    #[error("route {route} trip {trip}: facility {facility} does not accept the stream")]
    WrongFacility {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
        /// Facility.
        facility: usize,
    },
    /// A trip that is not emptied at a facility (only the last trip of an
    /// `unload_at_end` vehicle may end at the depot).
    #[error("route {route} trip {trip}: not emptied at a facility")]
    NotEmptied {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
    },
    /// A trip over capacity.
    #[error("route {route} trip {trip}: load {load} over capacity {capacity} in dimension {dim}")]
    Capacity {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
        /// Dimension.
        dim: usize,
        /// Load.
        load: i64,
        /// Capacity.
        capacity: i64,
    },
    /// Day load or visit count over the vehicle's daily limit.
    #[error("route {route}: daily limit {what} exceeded")]
    DayLimit {
        /// Route.
        route: usize,
        /// `day load` or `visits`.
        what: &'static str,
    },
    /// Service cannot start inside any window of a stop.
    #[error("route {route}: arrival {arrival} at {what} {index} after every window")]
    TimeWindow {
        /// Route.
        route: usize,
        /// `visit` or `facility`.
        what: &'static str,
        /// Its index.
        index: usize,
        /// Arrival time.
        arrival: i64,
    },
    /// The break cannot start before its window closes.
    #[error("route {route}: break cannot start before {latest} (earliest {earliest})")]
    BreakMissed {
        /// Route.
        route: usize,
        /// When it could start.
        earliest: i64,
        /// Window end.
        latest: i64,
    },
    /// Return after the shift end.
    #[error("route {route}: returns at {end} after shift end {shift_end}")]
    ShiftEnd {
        /// Route.
        route: usize,
        /// Return time.
        end: i64,
        /// Shift end.
        shift_end: i64,
    },
    /// Route duration over the maximum.
    #[error("route {route}: duration {duration} over maximum {max}")]
    MaxDuration {
        /// Route.
        route: usize,
        /// Duration.
        duration: i64,
        /// Limit.
        max: i64,
    },
    /// Route distance over the maximum.
    #[error("route {route}: distance {distance} over maximum {max}")]
    MaxDistance {
        /// Route.
        route: usize,
        /// Distance.
        distance: i64,
        /// Limit.
        max: i64,
    },
    /// A facility's daily intake exceeded.
    #[error("facility {facility}: intake {intake} over limit {limit}")]
    Intake {
        /// Facility.
        facility: usize,
        /// Total delivered.
        intake: i64,
        /// Limit.
        limit: i64,
    },
    /// The solution's stated cost differs from the recomputed one.
    #[error("stated cost {stated} but recomputed {recomputed}")]
    Cost {
        /// In the solution.
        stated: i64,
        /// Recomputed.
        recomputed: i64,
    },
}

fn start_in(windows: &[TimeWindow], arrival: i64) -> Option<i64> {
    windows
        .iter()
        .find(|w| w.end >= arrival)
        .map(|w| arrival.max(w.start))
}

/// Checks `sol` against every hard rule of `pd` and recomputes its cost, which must
/// equal `sol.cost`.
pub fn check(pd: &ProblemData, sol: &Solution) -> Result<CheckReport, Violation> {
    let m = pd.matrix();
    let visits = pd.visits();
    let facilities = pd.facilities();
    let mut seen = vec![false; visits.len()];
    let mut vehicle_used = vec![false; pd.vehicles().len()];
    let mut intake = vec![0i64; facilities.len()];
    let mut report = CheckReport {
        cost: 0,
        distance: 0,
        duration: 0,
        used_vehicles: 0,
        unserved_mandatory: 0,
        routes: Vec::new(),
    };
    for (ri, route) in sol.routes.iter().enumerate() {
        let veh = pd
            .vehicles()
            .get(route.vehicle)
            .ok_or(Violation::UnknownIndex {
                route: ri,
                what: "vehicle",
                index: route.vehicle,
            })?;
        if std::mem::replace(&mut vehicle_used[route.vehicle], true) {
            return Err(Violation::VehicleTwice {
                vehicle: route.vehicle,
            });
        }
        if route.trips.is_empty() {
            continue;
        }
        // Stops as (location, service, windows, kind, index).
        // Stops as (location, service, windows, kind, index, release before the leg).
        #[allow(clippy::type_complexity)]
        let mut stops: Vec<(usize, i64, &[TimeWindow], &'static str, usize, i64)> = Vec::new();
        let mut day_load = 0i64;
        let mut n_visits = 0usize;
        let last = route.trips.len() - 1;
        for (ti, trip) in route.trips.iter().enumerate() {
            if trip.visits.is_empty() {
                return Err(Violation::EmptyTrip {
                    route: ri,
                    trip: ti,
                });
            }
            if !veh.certified.contains(&trip.stream) {
                return Err(Violation::NotCertified {
                    route: ri,
                    trip: ti,
                    stream: trip.stream,
                });
            }
            let mut load = [0i64; crate::problem::DIMS];
            let trip_release = trip
                .visits
                .iter()
                .filter_map(|&v| visits.get(v))
                .map(|v| v.release)
                .max()
                .unwrap_or(0);
            for (k, &v) in trip.visits.iter().enumerate() {
                let visit = visits.get(v).ok_or(Violation::UnknownIndex {
                    route: ri,
                    what: "visit",
                    index: v,
                })?;
                if std::mem::replace(&mut seen[v], true) {
                    return Err(Violation::VisitTwice { visit: v });
                }
                if visit.stream != trip.stream {
                    return Err(Violation::MixedTrip {
                        route: ri,
                        trip: ti,
                        visit: v,
                    });
                }
                if visit.skills & !veh.skills != 0 {
                    return Err(Violation::MissingSkill {
                        route: ri,
                        visit: v,
                    });
                }
                for (l, d) in load.iter_mut().zip(visit.demand) {
                    *l += d;
                }
                n_visits += 1;
                let release = if k == 0 { trip_release } else { 0 };
                stops.push((
                    visit.location,
                    visit.service,
                    &visit.windows,
                    "visit",
                    v,
                    release,
                ));
            }
            for (dim, (&l, &c)) in load.iter().zip(&veh.capacity).enumerate() {
                if l > c {
                    return Err(Violation::Capacity {
                        route: ri,
                        trip: ti,
                        dim,
                        load: l,
                        capacity: c,
                    });
                }
            }
            day_load += load[0];
            match trip.facility {
                Some(f) => {
                    let fac = facilities.get(f).ok_or(Violation::UnknownIndex {
                        route: ri,
                        what: "facility",
                        index: f,
                    })?;
                    if !fac.accepts.contains(&trip.stream) {
                        return Err(Violation::WrongFacility {
                            route: ri,
                            trip: ti,
                            facility: f,
                        });
                    }
                    intake[f] += load[0];
                    stops.push((fac.location, fac.unload, &fac.hours, "facility", f, 0));
                }
                None => {
                    if ti != last || !veh.unload_at_end {
                        return Err(Violation::NotEmptied {
                            route: ri,
                            trip: ti,
                        });
                    }
                }
            }
        }
        if veh.max_day_load.is_some_and(|x| day_load > x) {
            return Err(Violation::DayLimit {
                route: ri,
                what: "day load",
            });
        }
        if veh.max_visits.is_some_and(|x| n_visits > x) {
            return Err(Violation::DayLimit {
                route: ri,
                what: "visits",
            });
        }
        // Schedule.
        let c = veh.class;
        let (first_loc, _, first_w, _, _, first_release) = stops[0];
        let tt0 = m.duration(c, veh.start, first_loc);
        let mut depart = veh.shift.start.max(first_release);
        if let Some(s) = start_in(first_w, depart + tt0) {
            depart = depart.max(s - tt0);
        }
        let mut time = depart;
        let mut pos = veh.start;
        let mut dist = 0i64;
        let mut break_taken = false;
        let mut leg = |time: &mut i64, from: usize, to: usize| -> Result<i64, Violation> {
            let tt = m.duration(c, from, to);
            if let Some(b) = veh.break_rule
                && !break_taken
                && *time + tt > b.window.start
            {
                let bs = (*time).max(b.window.start);
                if bs > b.window.end {
                    return Err(Violation::BreakMissed {
                        route: ri,
                        earliest: bs,
                        latest: b.window.end,
                    });
                }
                *time = bs + b.duration;
                break_taken = true;
            }
            Ok(*time + tt)
        };
        for &(loc, service, windows, what, index, release) in &stops {
            time = time.max(release);
            let arr = leg(&mut time, pos, loc)?;
            dist += m.distance(c, pos, loc);
            let start = start_in(windows, arr).ok_or(Violation::TimeWindow {
                route: ri,
                what,
                index,
                arrival: arr,
            })?;
            time = start + service;
            pos = loc;
        }
        let end = leg(&mut time, pos, veh.end)?;
        dist += m.distance(c, pos, veh.end);
        if end > veh.shift.end {
            return Err(Violation::ShiftEnd {
                route: ri,
                end,
                shift_end: veh.shift.end,
            });
        }
        let duration = end - depart;
        if let Some(max) = veh.max_duration
            && duration > max
        {
            return Err(Violation::MaxDuration {
                route: ri,
                duration,
                max,
            });
        }
        if let Some(max) = veh.max_distance
            && dist > max
        {
            return Err(Violation::MaxDistance {
                route: ri,
                distance: dist,
                max,
            });
        }
        let cost = veh.fixed_cost + veh.cost_per_distance * dist + veh.cost_per_second * duration;
        report.cost += cost;
        report.distance += dist;
        report.duration += duration;
        report.used_vehicles += 1;
        report.routes.push(RouteReport {
            vehicle: route.vehicle,
            depart,
            end,
            distance: dist,
            visits: n_visits,
            cost,
        });
    }
    for (f, (&got, fac)) in intake.iter().zip(facilities).enumerate() {
        if let Some(limit) = fac.intake_limit
            && got > limit
        {
            return Err(Violation::Intake {
                facility: f,
                intake: got,
                limit,
            });
        }
    }
    for u in &sol.unserved {
        let visit = visits.get(u.visit).ok_or(Violation::UnknownIndex {
            route: usize::MAX,
            what: "visit",
            index: u.visit,
        })?;
        if std::mem::replace(&mut seen[u.visit], true) {
            return Err(Violation::VisitTwice { visit: u.visit });
        }
        match visit.penalty {
            Some(p) => report.cost += p,
            None => {
                if u.reason == UnservedReason::NotWorthIt {
                    return Err(Violation::MandatoryDropped { visit: u.visit });
                }
                report.unserved_mandatory += 1;
            }
        }
    }
    if let Some(v) = seen.iter().position(|s| !s) {
        return Err(Violation::VisitMissing { visit: v });
    }
    if report.cost != sol.cost {
        return Err(Violation::Cost {
            stated: sol.cost,
            recomputed: report.cost,
        });
    }
    Ok(report)
}
