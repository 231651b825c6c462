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
//!
//! Units are whatever the matrix uses (the service: metres, seconds, kg, litres);
//! everything is `i64`. Visit `i` / vehicle `k` / facility `f` are indices into the
//! vectors given to [`ProblemData::new`], and a [`Solution`] refers to them the same way.
//!
//! ```
//! use std::sync::Arc;
//! use sortfleet_model::Stream;
//! use sortfleet_solver::*;
//!
//! // Locations: 0 depot, 1 facility, 2 and 3 bins.
//! let d = vec![0, 5, 4, 6, 5, 0, 3, 3, 4, 3, 0, 2, 6, 3, 2, 0];
//! let matrix = DenseMatrix::single(4, d).unwrap();
//! let visits = vec![
//!     Visit::new(2, [300, 0], Stream::Kitchen),
//!     Visit::new(3, [300, 0], Stream::Kitchen),
//! ];
//! let truck = Vehicle::basic(0, 0, [500, 1000], vec![Stream::Kitchen]);
//! let plant = Facility {
//!     location: 1,
//!     accepts: vec![Stream::Kitchen],
//!     unload: 0,
//!     hours: vec![TimeWindow::ALWAYS],
//!     intake_limit: None,
//! };
//! let pd = ProblemData::new(visits, vec![truck], vec![plant], Arc::new(matrix)).unwrap();
//! let params = SolveParams {
//!     stop: StopCriteria { max_iterations: Some(100), ..Default::default() },
//!     ..Default::default()
//! };
//! let sol = solve(&pd, &params, &|_| {});
//! let report = check(&pd, &sol).unwrap();
//! // 500 kg capacity: two kitchen trips, each emptied at the plant.
//! assert_eq!(sol.routes[0].trips.len(), 2);
//! assert!(sol.unserved.is_empty());
//! assert_eq!(report.cost, sol.cost);
//! ```

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
