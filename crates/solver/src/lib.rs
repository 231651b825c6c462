//! Vehicle routing for separated waste collection: heterogeneous trucks, time windows,
//! reload trips at facilities, one stream per trip.
//!
//! The solver knows nothing of OSM or gRPC: locations are indices and travel comes
//! through the [`TravelMatrix`] trait, one matrix per vehicle class. [`ProblemData::new`]
//! refuses bad input once, naming the field. [`solve`] runs a seeded ruin-and-recreate
//! search (SISR) that only ever holds feasible routes, so an infeasible visit is never
//! hidden inside a route: it comes back in [`Solution::unserved`] with a reason.
//! [`check`] recomputes every rule and the cost from the solution alone, sharing no code
//! with the search. Benchmarks are a special case: one stream, no facilities, the
//! depot unloads (`Vehicle::unload_at_end`), so costs match the BKS conventions.

pub mod bench;
pub mod check;
pub mod io;
pub mod operators;
pub mod problem;
pub mod rng;
pub mod search;
pub mod solution;
pub mod synthetic;

pub use check::{CheckReport, Violation, check};
pub use problem::{
    Break, DIMS, DenseMatrix, Facility, ProblemData, ProblemError, TimeWindow, TravelMatrix,
    Vehicle, Visit,
};
pub use search::{Progress, SolveParams, StopCriteria, solve};
pub use solution::{Route, Solution, Trip, Unserved, UnservedReason};
