//! Plans, routes, trips, stops, unloads and unserved visits.
//!
//! Model -> proto can enrich a route with what a terminal needs but the plan does not
//! repeat (positions of depot, points and facilities; expected demand and bin ids at a
//! stop) when the scenario is at hand. Proto -> model ignores those copies and the
//! server-side metadata (plan id, status, timestamps): the plan itself is authoritative.

use super::enums::{
    stream_from_proto, stream_to_proto, unserved_reason_from_proto, unserved_reason_to_proto,
};
use super::{
    ConvertError, FromProto, ToProto, date_from_proto, date_to_proto, field, geometry_from_proto,
    geometry_to_proto, id, list, required,
};
use sortfleet_model::plan::{
    FacilityUnload, Plan, PlannedBreak, Route, Stop, Totals, Trip, Unserved,
};
use sortfleet_model::scenario::Scenario;
use sortfleet_model::{
    Cents, DepotId, FacilityId, Kilograms, Litres, Metres, PointId, Seconds, VehicleId,
};
use sortfleet_proto::v1;

fn u32_sat(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A route for the wire, enriched from `scenario` when given (terminals need positions).
pub fn route_to_proto(r: &Route, scenario: Option<&Scenario>) -> v1::Route {
    v1::Route {
        vehicle_id: r.vehicle.0.clone(),
        depot_id: r.depot.0.clone(),
        start_s: r.start_s.0,
        end_s: r.end_s.0,
        trips: r
            .trips
            .iter()
            .enumerate()
            .map(|(i, t)| trip_to_proto(t, i, scenario))
            .collect(),
        breaks: r.breaks.iter().map(ToProto::to_proto).collect(),
        return_geometry: geometry_to_proto(&r.return_geometry),
        distance_m: r.distance_m.0,
        duration_s: r.duration_s.0,
        cost_cents: r.cost_ct.0,
        depot_location: scenario
            .and_then(|s| s.depot(&r.depot))
            .map(|d| d.location.to_proto()),
    }
}

fn trip_to_proto(t: &Trip, index: usize, scenario: Option<&Scenario>) -> v1::Trip {
    v1::Trip {
        index: u32_sat(index),
        stream: stream_to_proto(t.stream),
        stops: t.stops.iter().map(|s| stop_to_proto(s, scenario)).collect(),
        unload: Some(v1::Unload {
            location: scenario
                .and_then(|s| s.facility(&t.unload.facility))
                .map(|f| f.location.to_proto()),
            ..unload_fields(&t.unload)
        }),
    }
}

/// The wire fields a planned unload carries itself; the facility's position is the
/// caller's to add (from the scenario, or already resolved in a terminal's view).
pub(crate) fn unload_fields(u: &FacilityUnload) -> v1::Unload {
    v1::Unload {
        facility_id: u.facility.0.clone(),
        arrival_s: u.arrival_s.0,
        departure_s: u.departure_s.0,
        load_kg: u.load_kg.0,
        leg_geometry: geometry_to_proto(&u.geometry),
        location: None,
    }
}

/// The wire fields a planned stop carries itself; position, expected demand and bin
/// ids are the caller's to add, as for [`unload_fields`].
pub(crate) fn stop_fields(s: &Stop) -> v1::Stop {
    v1::Stop {
        point_id: s.point.0.clone(),
        stream: stream_to_proto(s.stream),
        arrival_s: s.arrival_s.0,
        departure_s: s.departure_s.0,
        load_after_kg: s.load_after_kg.0,
        load_after_l: s.load_after_l.0,
        leg_geometry: geometry_to_proto(&s.geometry),
        location: None,
        demand_kg: 0,
        bin_ids: Vec::new(),
    }
}

fn stop_to_proto(s: &Stop, scenario: Option<&Scenario>) -> v1::Stop {
    let point = scenario.and_then(|sc| sc.point(&s.point));
    v1::Stop {
        location: point.map(|p| p.location.to_proto()),
        demand_kg: point.and_then(|p| p.demand(s.stream)).map_or(0, |d| d.kg.0),
        bin_ids: point.map_or_else(Vec::new, |p| {
            p.bins
                .iter()
                .filter(|b| b.stream == s.stream)
                .map(|b| b.id.0.clone())
                .collect()
        }),
        ..stop_fields(s)
    }
}

/// A plan for the wire; `scenario` enriches routes as in [`route_to_proto`]. Server-side
/// metadata (id, status, created_at, fingerprint) is left for the caller to fill.
pub fn plan_to_proto(p: &Plan, scenario: Option<&Scenario>) -> v1::Plan {
    v1::Plan {
        id: String::new(),
        service_date: date_to_proto(p.date),
        status: v1::PlanStatus::Unspecified as i32,
        scenario_name: p.scenario_name.clone(),
        routes: p
            .routes
            .iter()
            .map(|r| route_to_proto(r, scenario))
            .collect(),
        unserved: p.unserved.iter().map(ToProto::to_proto).collect(),
        totals: Some(p.totals.to_proto()),
        created_at: None,
        road_fingerprint: String::new(),
        parent_plan_id: String::new(),
    }
}

impl ToProto<v1::Plan> for Plan {
    fn to_proto(&self) -> v1::Plan {
        plan_to_proto(self, None)
    }
}

impl ToProto<v1::Route> for Route {
    fn to_proto(&self) -> v1::Route {
        route_to_proto(self, None)
    }
}

impl ToProto<v1::UnservedVisit> for Unserved {
    fn to_proto(&self) -> v1::UnservedVisit {
        v1::UnservedVisit {
            point_id: self.point.0.clone(),
            stream: stream_to_proto(self.stream),
            reason: unserved_reason_to_proto(self.reason),
            detail: self.detail.clone(),
        }
    }
}

impl ToProto<v1::PlanTotals> for Totals {
    fn to_proto(&self) -> v1::PlanTotals {
        v1::PlanTotals {
            vehicles_used: self.vehicles_used,
            visits_served: self.visits_served,
            visits_unserved: self.visits_unserved,
            distance_m: self.distance_m.0,
            duration_s: self.duration_s.0,
            load_kg: self.load_kg.0,
            cost_cents: self.cost_ct.0,
            penalty_cents: self.penalty_ct.0,
        }
    }
}

impl FromProto<v1::PlanTotals> for Totals {
    fn from_proto(p: v1::PlanTotals, _path: &str) -> Result<Self, ConvertError> {
        Ok(Totals {
            vehicles_used: p.vehicles_used,
            visits_served: p.visits_served,
            visits_unserved: p.visits_unserved,
            distance_m: Metres(p.distance_m),
            duration_s: Seconds(p.duration_s),
            load_kg: Kilograms(p.load_kg),
            cost_ct: Cents(p.cost_cents),
            penalty_ct: Cents(p.penalty_cents),
        })
    }
}

impl FromProto<v1::UnservedVisit> for Unserved {
    fn from_proto(p: v1::UnservedVisit, path: &str) -> Result<Self, ConvertError> {
        Ok(Unserved {
            point: PointId::new(id(p.point_id, &field(path, "point_id"))?),
            stream: stream_from_proto(p.stream, &field(path, "stream"))?,
            reason: unserved_reason_from_proto(p.reason, &field(path, "reason"))?,
            detail: p.detail,
        })
    }
}

impl FromProto<v1::Stop> for Stop {
    fn from_proto(p: v1::Stop, path: &str) -> Result<Self, ConvertError> {
        Ok(Stop {
            point: PointId::new(id(p.point_id, &field(path, "point_id"))?),
            stream: stream_from_proto(p.stream, &field(path, "stream"))?,
            arrival_s: Seconds(p.arrival_s),
            departure_s: Seconds(p.departure_s),
            load_after_kg: Kilograms(p.load_after_kg),
            load_after_l: Litres(p.load_after_l),
            geometry: geometry_from_proto(p.leg_geometry, &field(path, "leg_geometry"))?,
        })
    }
}

impl FromProto<v1::Unload> for FacilityUnload {
    fn from_proto(p: v1::Unload, path: &str) -> Result<Self, ConvertError> {
        Ok(FacilityUnload {
            facility: FacilityId::new(id(p.facility_id, &field(path, "facility_id"))?),
            arrival_s: Seconds(p.arrival_s),
            departure_s: Seconds(p.departure_s),
            load_kg: Kilograms(p.load_kg),
            geometry: geometry_from_proto(p.leg_geometry, &field(path, "leg_geometry"))?,
        })
    }
}

impl FromProto<v1::Trip> for Trip {
    fn from_proto(p: v1::Trip, path: &str) -> Result<Self, ConvertError> {
        Ok(Trip {
            stream: stream_from_proto(p.stream, &field(path, "stream"))?,
            stops: list(p.stops, &field(path, "stops"))?,
            unload: required(p.unload, &field(path, "unload"))?,
        })
    }
}

impl ToProto<v1::PlannedBreak> for PlannedBreak {
    fn to_proto(&self) -> v1::PlannedBreak {
        v1::PlannedBreak {
            start_s: self.start_s.0,
            end_s: self.end_s.0,
        }
    }
}

impl FromProto<v1::PlannedBreak> for PlannedBreak {
    fn from_proto(p: v1::PlannedBreak, _path: &str) -> Result<Self, ConvertError> {
        Ok(PlannedBreak {
            start_s: Seconds(p.start_s),
            end_s: Seconds(p.end_s),
        })
    }
}

impl FromProto<v1::Route> for Route {
    fn from_proto(p: v1::Route, path: &str) -> Result<Self, ConvertError> {
        Ok(Route {
            vehicle: VehicleId::new(id(p.vehicle_id, &field(path, "vehicle_id"))?),
            depot: DepotId::new(id(p.depot_id, &field(path, "depot_id"))?),
            start_s: Seconds(p.start_s),
            end_s: Seconds(p.end_s),
            trips: list(p.trips, &field(path, "trips"))?,
            breaks: list(p.breaks, &field(path, "breaks"))?,
            return_geometry: geometry_from_proto(
                p.return_geometry,
                &field(path, "return_geometry"),
            )?,
            distance_m: Metres(p.distance_m),
            duration_s: Seconds(p.duration_s),
            cost_ct: Cents(p.cost_cents),
        })
    }
}

impl FromProto<v1::Plan> for Plan {
    fn from_proto(p: v1::Plan, path: &str) -> Result<Self, ConvertError> {
        Ok(Plan {
            scenario_name: p.scenario_name,
            date: date_from_proto(&p.service_date, &field(path, "service_date"))?,
            routes: list(p.routes, &field(path, "routes"))?,
            unserved: list(p.unserved, &field(path, "unserved"))?,
            totals: required(p.totals, &field(path, "totals"))?,
        })
    }
}
