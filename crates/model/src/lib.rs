//! The sortfleet domain: typed ids, integer units, waste streams, the scenario of one
//! service day, the plan, and scenario validation.
//!
//! Everything here is plain data plus pure functions: no I/O, no async, no transport
//! types. Quantities are integers (metres, seconds, kilograms, litres, cents) so that
//! the solver's arithmetic is exact and a plan recomputed from its parts gives the
//! same totals to the unit.

pub mod ids;
pub mod stream;
pub mod units;

pub use ids::*;
pub use stream::Stream;
pub use units::*;
pub mod event;
pub mod incident;
pub mod plan;
pub mod scenario;
pub mod validate;

pub use plan::{
    FacilityUnload, Plan, PlannedBreak, Route, Stop, Totals, Trip, Unserved, UnservedReason,
};
pub use scenario::{
    Bin, BreakRule, CollectionPoint, Demand, Depot, Facility, FacilityKind, Scenario, TimeWindow,
    Vehicle, VehicleSize,
};
pub use validate::{Problem, ValidationReport};
