//! The solver's answer: routes of trips, and the visits left out with a reason.

use sortfleet_model::Stream;

/// A stretch of one stream between two unloads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trip {
    /// The stream every visit of the trip carries.
    pub stream: Stream,
    /// Visit indices in service order.
    pub visits: Vec<usize>,
    /// Facility where the trip is emptied; `None` = at the vehicle's end location
    /// (allowed only for the last trip of a vehicle with `unload_at_end`).
    pub facility: Option<usize>,
}

/// One vehicle's day: `start → trip → trip … → end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Vehicle index.
    pub vehicle: usize,
    /// Trips in order.
    pub trips: Vec<Trip>,
}

/// Why a visit is not in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnservedReason {
    /// No vehicle is certified for its stream / has its skills.
    NoCertifiedVehicle,
    /// Its demand exceeds every eligible vehicle's capacity.
    OverCapacity,
    /// No facility accepts its stream and no eligible vehicle may unload at its end.
    NoFacility,
    /// It fits in no shift / time window / limit of the current plan.
    NoFeasibleSlot,
    /// Optional, and serving it costs more than its penalty.
    NotWorthIt,
}

impl std::fmt::Display for UnservedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UnservedReason::NoCertifiedVehicle => "no certified vehicle",
            UnservedReason::OverCapacity => "over every capacity",
            UnservedReason::NoFacility => "no facility accepts the stream",
            UnservedReason::NoFeasibleSlot => "outside every shift or time window",
            UnservedReason::NotWorthIt => "optional, penalty cheaper than serving",
        })
    }
}

/// A visit left out of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unserved {
    /// Visit index.
    pub visit: usize,
    /// Why.
    pub reason: UnservedReason,
}

/// A complete plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Solution {
    /// Routes of the used vehicles.
    pub routes: Vec<Route>,
    /// Visits not served.
    pub unserved: Vec<Unserved>,
    /// Objective as computed by the search (the checker recomputes it).
    pub cost: i64,
    /// Search iterations done.
    pub iterations: u64,
}

impl Solution {
    /// Number of routes that serve at least one visit.
    pub fn used_vehicles(&self) -> usize {
        self.routes
            .iter()
            .filter(|r| r.trips.iter().any(|t| !t.visits.is_empty()))
            .count()
    }
}
