//! The plan-level checker: the rules a regulator would check on the published plan,
//! from the plan and the scenario alone (the solver's checker has already checked each
//! stream's solution in solver terms; this one checks what the plan says).

use std::collections::{HashMap, HashSet};

use sortfleet_model::{Plan, Scenario, Stream};

/// The first rule a plan breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanViolation {
    /// A route, stop or unload names something the scenario does not have.
    #[error("route {route}: unknown {what} {id}")]
    Unknown {
        /// Route position.
        route: usize,
        /// `vehicle`, `point`, `facility` or `demand`.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// A vehicle with two routes.
    #[error("vehicle {0} has more than one route")]
    VehicleTwice(String),
    /// A route that does not start and end at the vehicle's depot.
    #[error("route {0}: depot is not the vehicle's depot")]
    WrongDepot(usize),
    /// A trip with a stop of another stream (mixed load).
    #[error("route {route} trip {trip}: stop at {point} is {stop}, trip carries {trip_stream}")]
    MixedTrip {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
        /// Point.
        point: String,
        /// Stop's stream.
        stop: Stream,
        /// Trip's stream.
        trip_stream: Stream,
    },
    /// A trip with no stops.
    #[error("route {route} trip {trip}: no stops")]
    EmptyTrip {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
    },
    /// The vehicle may not carry the trip's stream.
    #[error("route {route} trip {trip}: vehicle may not carry {stream}")]
    NotCertified {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
        /// Stream.
        stream: Stream,
    },
    /// The trip's facility does not accept its stream.
    #[error("route {route} trip {trip}: facility {facility} does not accept {stream}")]
    WrongFacility {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
        /// Facility.
        facility: String,
        /// Stream.
        stream: Stream,
    },
    /// Loads that do not add up or exceed the vehicle's capacity.
    #[error("route {route} trip {trip}: {what}")]
    Load {
        /// Route.
        route: usize,
        /// Trip.
        trip: usize,
        /// What is wrong.
        what: String,
    },
    /// Times out of order, outside the shift, longer than the maximum, or outside
    /// facility hours.
    #[error("route {route}: {what}")]
    Time {
        /// Route.
        route: usize,
        /// What is wrong.
        what: String,
    },
    /// A visit served twice, or served and listed unserved.
    #[error("{point}/{stream} appears more than once")]
    Twice {
        /// Point.
        point: String,
        /// Stream.
        stream: Stream,
    },
    /// A visit neither served nor listed unserved.
    #[error("{point}/{stream} is neither served nor unserved")]
    Missing {
        /// Point.
        point: String,
        /// Stream.
        stream: Stream,
    },
    /// A facility's daily intake exceeded.
    #[error("facility {facility}: intake {kg} kg over limit {limit} kg")]
    Intake {
        /// Facility.
        facility: String,
        /// Delivered.
        kg: i64,
        /// Limit.
        limit: i64,
    },
    /// The stored totals are not the sums of the parts.
    #[error("totals differ from the sums of routes and unserved visits")]
    Totals,
}

/// Checks a plan against the scenario: one stream per trip, certified vehicle, facility
/// accepts the stream and is open, capacities, times within shift, nothing served twice,
/// every visit accounted for, intake limits, totals.
pub fn check_plan(s: &Scenario, plan: &Plan) -> Result<(), PlanViolation> {
    let mut seen: HashSet<(String, Stream)> = HashSet::new();
    let mut vehicles = HashSet::new();
    let mut intake: HashMap<String, i64> = HashMap::new();
    let mut once = |point: &str, stream: Stream| {
        if seen.insert((point.to_string(), stream)) {
            Ok(())
        } else {
            Err(PlanViolation::Twice {
                point: point.into(),
                stream,
            })
        }
    };
    for (ri, r) in plan.routes.iter().enumerate() {
        let veh = s.vehicle(&r.vehicle).ok_or(PlanViolation::Unknown {
            route: ri,
            what: "vehicle",
            id: r.vehicle.to_string(),
        })?;
        if !vehicles.insert(r.vehicle.clone()) {
            return Err(PlanViolation::VehicleTwice(r.vehicle.to_string()));
        }
        if r.depot != veh.depot {
            return Err(PlanViolation::WrongDepot(ri));
        }
        let time_err = |what: String| PlanViolation::Time { route: ri, what };
        if r.start_s < veh.shift.start || r.end_s > veh.shift.end {
            return Err(time_err(format!(
                "{}..{} outside shift {}..{}",
                r.start_s, r.end_s, veh.shift.start, veh.shift.end
            )));
        }
        if r.duration_s != r.end_s - r.start_s || r.duration_s > veh.max_shift_s {
            return Err(time_err(format!(
                "duration {} (max {})",
                r.duration_s, veh.max_shift_s
            )));
        }
        let mut clock = r.start_s;
        for (ti, t) in r.trips.iter().enumerate() {
            if t.stops.is_empty() {
                return Err(PlanViolation::EmptyTrip {
                    route: ri,
                    trip: ti,
                });
            }
            if !veh.can_carry(t.stream) {
                return Err(PlanViolation::NotCertified {
                    route: ri,
                    trip: ti,
                    stream: t.stream,
                });
            }
            let (mut kg, mut l) = (0, 0);
            for st in &t.stops {
                if st.stream != t.stream {
                    return Err(PlanViolation::MixedTrip {
                        route: ri,
                        trip: ti,
                        point: st.point.to_string(),
                        stop: st.stream,
                        trip_stream: t.stream,
                    });
                }
                let p = s.point(&st.point).ok_or(PlanViolation::Unknown {
                    route: ri,
                    what: "point",
                    id: st.point.to_string(),
                })?;
                let d = p.demand(st.stream).ok_or(PlanViolation::Unknown {
                    route: ri,
                    what: "demand",
                    id: format!("{}/{}", st.point, st.stream),
                })?;
                once(st.point.as_str(), st.stream)?;
                kg += d.kg.0;
                l += d.litres.0;
                if st.load_after_kg.0 != kg || st.load_after_l.0 != l {
                    return Err(PlanViolation::Load {
                        route: ri,
                        trip: ti,
                        what: format!("load after {} does not add up", st.point),
                    });
                }
                if st.arrival_s < clock || st.departure_s < st.arrival_s {
                    return Err(time_err(format!("times out of order at {}", st.point)));
                }
                clock = st.departure_s;
            }
            if kg > veh.capacity_kg.0 || l > veh.capacity_l.0 {
                return Err(PlanViolation::Load {
                    route: ri,
                    trip: ti,
                    what: format!("{kg} kg / {l} l over capacity"),
                });
            }
            let u = &t.unload;
            let fac = s.facility(&u.facility).ok_or(PlanViolation::Unknown {
                route: ri,
                what: "facility",
                id: u.facility.to_string(),
            })?;
            if !fac.accepts(t.stream) {
                return Err(PlanViolation::WrongFacility {
                    route: ri,
                    trip: ti,
                    facility: u.facility.to_string(),
                    stream: t.stream,
                });
            }
            if u.load_kg.0 != kg {
                return Err(PlanViolation::Load {
                    route: ri,
                    trip: ti,
                    what: "unload differs from the load on board".into(),
                });
            }
            if u.arrival_s < clock || u.departure_s < u.arrival_s {
                return Err(time_err(format!("unload at {} out of order", u.facility)));
            }
            let tip = u.departure_s - fac.unload_s;
            if tip < fac.opening_hours.start || tip > fac.opening_hours.end {
                return Err(time_err(format!("{} is closed at {tip}", u.facility)));
            }
            clock = u.departure_s;
            *intake.entry(u.facility.to_string()).or_default() += kg;
        }
        if clock > r.end_s {
            return Err(time_err("ends before its last unload".into()));
        }
    }
    for u in &plan.unserved {
        once(u.point.as_str(), u.stream)?;
    }
    for p in &s.points {
        for d in &p.demands {
            if !seen.contains(&(p.id.to_string(), d.stream)) {
                return Err(PlanViolation::Missing {
                    point: p.id.to_string(),
                    stream: d.stream,
                });
            }
        }
    }
    for f in &s.facilities {
        let got = intake.get(f.id.as_str()).copied().unwrap_or(0);
        if let Some(lim) = f.daily_intake_limit_kg
            && got > lim.0
        {
            return Err(PlanViolation::Intake {
                facility: f.id.to_string(),
                kg: got,
                limit: lim.0,
            });
        }
    }
    if !plan.totals_consistent() {
        return Err(PlanViolation::Totals);
    }
    Ok(())
}
