//! The plan for one service day: per vehicle a route of trips, each trip one stream
//! collected at stops and unloaded at a facility, plus the visits left unserved with
//! the reason why.
//!
//! A plan is output, never an error: what does not fit is listed in
//! [`Plan::unserved`]. Times are integer seconds since the service day's midnight
//! (JSON fields end in `_s`), so that a plan recomputed from its parts gives the same
//! totals to the unit. The JSON form is described in `docs/plan.md`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{DepotId, FacilityId, PointId, VehicleId};
use crate::stream::Stream;
use crate::units::{Cents, Kilograms, LatLon, Litres, Metres, Seconds};

/// One stop: a single stream's visit at a collection point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stop {
    /// The collection point.
    pub point: PointId,
    /// The stream collected (always the trip's stream).
    pub stream: Stream,
    /// Arrival at the point.
    pub arrival_s: Seconds,
    /// Departure after service (includes any wait for the point's time window).
    pub departure_s: Seconds,
    /// Load on board after this stop, by mass.
    pub load_after_kg: Kilograms,
    /// Load on board after this stop, by volume.
    pub load_after_l: Litres,
    /// Road geometry of the leg leading to this stop; empty when not computed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub geometry: Vec<LatLon>,
}

/// The unload that ends a trip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityUnload {
    /// Where the trip's load is tipped; must accept the trip's stream.
    pub facility: FacilityId,
    /// Arrival at the facility.
    pub arrival_s: Seconds,
    /// Departure after weighing and tipping.
    pub departure_s: Seconds,
    /// Mass tipped (the load after the trip's last stop).
    pub load_kg: Kilograms,
    /// Road geometry of the leg from the last stop to the facility; may be empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub geometry: Vec<LatLon>,
}

/// A trip: one stream, from the depot or the previous unload, through stops, to an unload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trip {
    /// The single stream this trip carries.
    pub stream: Stream,
    /// Stops in visiting order.
    pub stops: Vec<Stop>,
    /// Where the trip is emptied.
    pub unload: FacilityUnload,
}

/// A break taken on a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedBreak {
    /// Start of the break.
    pub start_s: Seconds,
    /// End of the break.
    pub end_s: Seconds,
}

/// One vehicle's day: depot → trips → depot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The vehicle driving this route.
    pub vehicle: VehicleId,
    /// Depot the route starts and ends at (the vehicle's home depot).
    pub depot: DepotId,
    /// Departure from the depot.
    pub start_s: Seconds,
    /// Return to the depot.
    pub end_s: Seconds,
    /// Trips in driving order.
    pub trips: Vec<Trip>,
    /// Breaks taken, in time order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breaks: Vec<PlannedBreak>,
    /// Road geometry of the leg from the last unload back to the depot; may be empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_geometry: Vec<LatLon>,
    /// Distance driven over the whole route.
    pub distance_m: Metres,
    /// `end_s - start_s`.
    pub duration_s: Seconds,
    /// Fixed + distance + time cost of the route.
    pub cost_ct: Cents,
}

impl Route {
    /// Number of stops over all trips.
    pub fn stop_count(&self) -> usize {
        self.trips.iter().map(|t| t.stops.len()).sum()
    }

    /// Mass unloaded over all trips.
    pub fn load_kg(&self) -> Kilograms {
        self.trips.iter().map(|t| t.unload.load_kg).sum()
    }
}

/// Why a visit could not be planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UnservedReason {
    /// No vehicle is certified (and, for hazardous waste, licensed) for the stream.
    NoCertifiedVehicle,
    /// The point, or a facility for its stream, cannot be reached on the road graph.
    Unreachable,
    /// No vehicle can arrive within both its shift and the point's time windows.
    OutsideShiftOrWindow,
    /// The demand exceeds every eligible vehicle's capacity.
    OverCapacity,
    /// No facility accepting the stream is open, or all have reached their intake limit.
    FacilityClosedOrFull,
    /// Serving it would cost more than the penalty for leaving it.
    NotWorthServing,
    /// Any other cause; see [`Unserved::detail`].
    Other,
}

/// A visit (point × stream) that the plan does not serve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unserved {
    /// The collection point.
    pub point: PointId,
    /// The stream not collected there.
    pub stream: Stream,
    /// Why.
    pub reason: UnservedReason,
    /// Free-text explanation for the dispatcher; may be empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Plan-wide sums.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    /// Routes with at least one trip.
    pub vehicles_used: u32,
    /// Stops served over all routes.
    pub visits_served: u32,
    /// Visits left unserved.
    pub visits_unserved: u32,
    /// Distance over all routes.
    pub distance_m: Metres,
    /// Duration over all routes.
    pub duration_s: Seconds,
    /// Mass unloaded over all routes.
    pub load_kg: Kilograms,
    /// Cost over all routes (fixed + distance + time), without penalties.
    pub cost_ct: Cents,
    /// Penalties charged for the unserved visits.
    pub penalty_ct: Cents,
}

impl Totals {
    /// Sums routes and unserved visits; `penalty_ct` is the solver's total penalty.
    pub fn from_parts(routes: &[Route], unserved: &[Unserved], penalty_ct: Cents) -> Totals {
        Totals {
            vehicles_used: routes.iter().filter(|r| !r.trips.is_empty()).count() as u32,
            visits_served: routes.iter().map(|r| r.stop_count() as u32).sum(),
            visits_unserved: unserved.len() as u32,
            distance_m: routes.iter().map(|r| r.distance_m).sum(),
            duration_s: routes.iter().map(|r| r.duration_s).sum(),
            load_kg: routes.iter().map(Route::load_kg).sum(),
            cost_ct: routes.iter().map(|r| r.cost_ct).sum(),
            penalty_ct,
        }
    }
}

/// The plan for one service day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Name of the scenario this plan serves.
    pub scenario_name: String,
    /// The service day.
    pub date: NaiveDate,
    /// One route per used vehicle.
    pub routes: Vec<Route>,
    /// Visits not served, each with a reason.
    pub unserved: Vec<Unserved>,
    /// Plan-wide sums; equal to [`Totals::from_parts`] of the routes and unserved visits.
    pub totals: Totals,
}

impl Plan {
    /// Builds a plan and computes its totals from its parts.
    pub fn new(
        scenario_name: impl Into<String>,
        date: NaiveDate,
        routes: Vec<Route>,
        unserved: Vec<Unserved>,
        penalty_ct: Cents,
    ) -> Plan {
        let totals = Totals::from_parts(&routes, &unserved, penalty_ct);
        Plan {
            scenario_name: scenario_name.into(),
            date,
            routes,
            unserved,
            totals,
        }
    }

    /// Whether the stored totals equal the sums of the parts.
    pub fn totals_consistent(&self) -> bool {
        self.totals == Totals::from_parts(&self.routes, &self.unserved, self.totals.penalty_ct)
    }
}
