//! The rule units: one file per rule behind [`Rule`], listed once in [`registry`].
//!
//! A rule is stateless; it reads the context, the derived facts of the event and the
//! vehicle's state *before* the event is applied, and raises incidents through [`Cx`].
//! Real-time rules implement [`Rule::on_event`]; closure rules [`Rule::on_trip_end`]
//! and [`Rule::on_shift_end`]. Raising the same incident id twice is harmless: the
//! engine keeps the first and drops repeats.

use crate::context::{RuleContext, VehiclePlan};
use crate::engine::Facts;
use crate::state::{Trip, TripEnd, VehicleState};
use sortfleet_model::event::TruckEvent;
use sortfleet_model::incident::{Incident, RuleId, Severity};
use sortfleet_model::{LatLon, PointId, Stream, VehicleId};

mod contaminated_delivery;
mod hazardous_custody;
mod mass_balance;
mod missed_pickup;
mod mixed_trip;
mod off_site_discharge;
mod route_deviation;
mod stream_mismatch;
mod undelivered_load;
mod unidentified_lift;
mod vehicle_not_certified;
mod wrong_facility;

#[cfg(test)]
pub(crate) mod testutil;

pub use contaminated_delivery::ContaminatedDelivery;
pub use hazardous_custody::HazardousCustody;
pub use mass_balance::MassBalance;
pub use missed_pickup::MissedPickup;
pub use mixed_trip::MixedTrip;
pub use off_site_discharge::OffSiteDischarge;
pub use route_deviation::RouteDeviation;
pub use stream_mismatch::StreamMismatch;
pub use undelivered_load::UndeliveredLoad;
pub use unidentified_lift::UnidentifiedLift;
pub use vehicle_not_certified::VehicleNotCertified;
pub use wrong_facility::WrongFacility;

/// An event as a real-time rule sees it.
pub struct Seen<'a> {
    /// The event.
    pub event: &'a TruckEvent,
    /// Facts the engine derived for it (resolved scan, position, geofences).
    pub facts: &'a Facts,
    /// The vehicle's state before the event.
    pub state: &'a VehicleState,
}

/// The end of a shift as closure rules see it.
pub struct ShiftClose<'a> {
    /// When, unix ms.
    pub at: i64,
    /// The `ShiftEnd` event id, `None` for `close_shift`.
    pub event: Option<&'a str>,
    /// Where, if known.
    pub position: Option<LatLon>,
    /// The vehicle's state (its last trip already closed).
    pub state: &'a VehicleState,
}

/// One mixed-load rule.
pub trait Rule: Send + Sync {
    /// Which rule.
    fn id(&self) -> RuleId;
    /// Version of the logic; bump on any change of when it fires.
    fn version(&self) -> u32;
    /// Default severity of its incidents.
    fn severity(&self) -> Severity;
    /// Real-time check of one event.
    fn on_event(&self, _cx: &mut Cx<'_>, _seen: &Seen<'_>) {}
    /// Closure check of a trip that just ended; `state` is the state before the end.
    fn on_trip_end(&self, _cx: &mut Cx<'_>, _trip: &Trip, _end: &TripEnd, _state: &VehicleState) {}
    /// Closure check at shift end.
    fn on_shift_end(&self, _cx: &mut Cx<'_>, _close: &ShiftClose<'_>) {}
}

/// All twelve rules, in MISSION.md's table order.
pub fn registry() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(StreamMismatch),
        Box::new(MixedTrip),
        Box::new(WrongFacility),
        Box::new(UndeliveredLoad),
        Box::new(OffSiteDischarge),
        Box::new(MassBalance),
        Box::new(RouteDeviation),
        Box::new(UnidentifiedLift),
        Box::new(VehicleNotCertified),
        Box::new(HazardousCustody),
        Box::new(ContaminatedDelivery),
        Box::new(MissedPickup),
    ]
}

/// An incident before the engine names it.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    /// Distinguishes this incident among the rule's incidents for the vehicle; must be
    /// built from stable facts (event ids, point, stream), never from arrival order.
    pub key: String,
    /// Overrides the rule's default severity.
    pub severity: Option<Severity>,
    /// Stream concerned.
    pub stream: Option<Stream>,
    /// Collection point concerned.
    pub point: Option<PointId>,
    /// Evidence event ids, oldest first.
    pub evidence: Vec<String>,
    /// Where.
    pub position: Option<LatLon>,
    /// When, unix ms.
    pub occurred_at: i64,
    /// Explanation.
    pub message: String,
}

/// What a rule gets to work with: the context, the vehicle, and where incidents go.
pub struct Cx<'a> {
    /// The context.
    pub ctx: &'a RuleContext,
    /// The vehicle being evaluated.
    pub vehicle: &'a VehicleId,
    /// Its plan, if it has one.
    pub plan: Option<&'a VehiclePlan>,
    /// The trip (0-based index in the vehicle's day) the rules are judging; `None` for
    /// shift-level checks. Set by the engine, recorded with each incident.
    pub(crate) trip: Option<u32>,
    pub(crate) out: &'a mut Vec<(Incident, Option<u32>)>,
}

impl Cx<'_> {
    /// Raises an incident; its id is `RULE:vehicle:key`.
    pub fn raise(&mut self, rule: &(impl Rule + ?Sized), d: Draft) {
        let district = self.ctx.district_for(self.vehicle, d.point.as_ref());
        self.out.push((
            Incident {
                id: format!("{}:{}:{}", rule.id(), self.vehicle, d.key),
                rule: rule.id(),
                rule_version: rule.version(),
                severity: d.severity.unwrap_or(rule.severity()),
                vehicle: self.vehicle.clone(),
                stream: d.stream,
                district,
                point: d.point,
                evidence: d.evidence,
                position: d.position,
                occurred_at: d.occurred_at,
                message: d.message,
            },
            self.trip,
        ));
    }
}
