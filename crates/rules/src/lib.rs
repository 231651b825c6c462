//! Mixed-load violation rules over truck events.
//!
//! A pure, deterministic engine: no I/O, no clock, no async. The application core
//! builds a [`RuleContext`] from the scenario and the published plan, feeds every
//! stored [`TruckEvent`](sortfleet_model::TruckEvent) to [`Engine::on_event`] (or a
//! back-filled batch to [`Engine::on_batch`]), and gets back the
//! [`Incident`](sortfleet_model::Incident)s to push and append to the ledger.
//!
//! The key decision: incidents are named from the facts that prove them (rule,
//! vehicle, first evidence event id or a stable key such as point and stream), and
//! the engine remembers every id it handed out. That makes evaluation idempotent, so
//! back-filled events can simply trigger a re-evaluation of the vehicle's day in
//! `occurred_at` order without raising any alarm twice.
//!
//! Each rule is one file under `rules/` behind the [`Rule`] trait; [`registry`] lists
//! them. A trip is the stretch between two unloads (weighbridge tickets; a tipping
//! inside a facility geofence followed by new lifts also ends one).

pub mod context;
pub mod engine;
pub mod geo;
pub mod rules;
pub mod state;

pub use context::{
    BinInfo, ContextError, FacilitySite, PlannedTrip, PlannedVisit, PointInfo, RuleContext,
    Thresholds, VehiclePlan,
};
pub use engine::{Engine, Facts, ScanFacts};
pub use rules::{Cx, Draft, Rule, Seen, ShiftClose, registry};
pub use state::{Pickup, Ticket, Trip, TripEnd, TripEndKind, VehicleState};

#[cfg(test)]
mod tests;
