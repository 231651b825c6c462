//! The daily planning pipeline: scenario + road graph → one checked [`Plan`].
//!
//! The design splits the day by stream, because a trip carries one stream anyway:
//! 1. [`network`] snaps every location once per vehicle class (one router per distinct
//!    physical profile) and builds one matrix per class over only those locations;
//! 2. visits no vehicle could ever serve are classified up front with their reason
//!    (no certified vehicle, unreachable, outside every shift/window, over capacity,
//!    facility closed or full), so the search never carries them;
//! 3. [`alloc`] gives each multi-stream vehicle one stream for the day and splits each
//!    limited facility's intake between streams, in an exact `good_lp` model;
//! 4. the streams are independent problems, solved in parallel (rayon) by the solver,
//!    each checked by the solver's independent checker;
//! 5. the solutions are timed and given road geometry into one [`Plan`], which
//!    [`check::check_plan`] re-checks against the scenario before it is returned.
//!
//! Re-planning ([`replan`]) reuses the same engine with frozen route prefixes, vehicles
//! taken out, and the previous assignment as pins (then freed only if pins cost visits).

pub mod alloc;
pub mod check;
mod day;
pub mod geojson;
pub mod network;
mod replan;

use std::time::Duration;

use sortfleet_model::{
    CollectionPoint, Kilograms, Metres, Plan, PointId, Seconds, Stream, ValidationReport, VehicleId,
};
use sortfleet_roads::{RoadGraph, RoadsError};

pub use check::{PlanViolation, check_plan};
pub use geojson::plan_geojson;
pub use replan::{Change, FreezeUntil};

/// A dispatcher's lock: this visit goes on this vehicle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock {
    /// The collection point.
    pub point: PointId,
    /// The stream of the visit.
    pub stream: Stream,
    /// The vehicle that must serve it.
    pub vehicle: VehicleId,
}

/// How to plan.
#[derive(Clone, Debug)]
pub struct PlanParams {
    /// Wall-clock budget of the search (all streams together).
    pub time_limit: Duration,
    /// Seed of the search; with `max_iterations` set, the same seed gives the same plan.
    pub seed: u64,
    /// Threads for the parallel stream solves.
    pub threads: usize,
    /// Dispatcher locks.
    pub locks: Vec<Lock>,
    /// Iteration cap per stream (deterministic runs in tests); `None` = time only.
    pub max_iterations: Option<u64>,
    /// Compute road geometry of every leg (off in quick tests).
    pub geometry: bool,
}

impl Default for PlanParams {
    fn default() -> Self {
        PlanParams {
            time_limit: Duration::from_secs(20),
            seed: 1,
            threads: 2,
            locks: Vec::new(),
            max_iterations: None,
            geometry: true,
        }
    }
}

/// What the pipeline reports while it runs.
#[derive(Clone, Debug, PartialEq)]
pub enum PlanProgress {
    /// A preparation step finished (snapping, matrices, allocation…).
    Stage(String),
    /// A stream's search found a better plan.
    Search {
        /// The stream.
        stream: Stream,
        /// Its best cost so far, cents.
        cost_ct: i64,
        /// Its visits still unplaced.
        unserved: usize,
        /// Seconds since the stream's search began.
        elapsed_s: f64,
    },
    /// A stream's search finished.
    StreamDone {
        /// The stream.
        stream: Stream,
        /// Visits served.
        served: usize,
        /// Visits left unserved.
        unserved: usize,
    },
}

/// Figures of one stream.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct StreamReport {
    /// The stream.
    pub stream: Option<Stream>,
    /// Vehicles allocated to it.
    pub vehicles_allocated: usize,
    /// Vehicles with at least one trip.
    pub vehicles_used: usize,
    /// Trips.
    pub trips: usize,
    /// Visits served.
    pub served: usize,
    /// Visits unserved.
    pub unserved: usize,
    /// Mass unloaded.
    pub kg: Kilograms,
    /// Distance driven.
    pub distance_m: Metres,
    /// Route time.
    pub duration_s: Seconds,
    /// Route cost (vehicles shared between streams do not occur: one stream each).
    pub cost_ct: i64,
    /// Search iterations.
    pub iterations: u64,
    /// The solver checker's recomputed objective (solver units).
    pub checked_objective: i64,
}

/// Everything measured and decided besides the plan itself.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct PlanReport {
    /// Per stream, in [`Stream::ALL`] order (streams without visits omitted).
    pub streams: Vec<StreamReport>,
    /// Stream per vehicle chosen by the allocation model.
    pub allocation: Vec<(VehicleId, Stream)>,
    /// Worst stream's ratio of allocated to estimated hours.
    pub coverage: f64,
    /// Binary variables of the allocation model.
    pub alloc_binaries: usize,
    /// Vehicle classes (routers) used.
    pub classes: usize,
    /// Seconds: snapping and matrices.
    pub network_s: f64,
    /// Seconds: allocation model.
    pub alloc_s: f64,
    /// Seconds: parallel search.
    pub search_s: f64,
    /// Seconds: timing, geometry, checks.
    pub assemble_s: f64,
    /// Re-planning: visits served in both plans by a different vehicle.
    pub changed_vehicle: usize,
    /// Re-planning: stops kept exactly from the previous plan.
    pub frozen_stops: usize,
    /// Re-planning: whether the previous assignment had to be freed to serve more.
    pub pins_released: bool,
}

/// A plan and its report.
#[derive(Clone, Debug)]
pub struct PlanOutcome {
    /// The checked plan.
    pub plan: Plan,
    /// Figures of the run.
    pub report: PlanReport,
}

/// Why no plan could be made (an infeasible visit is not an error: it is unserved).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The scenario has validation errors.
    #[error("invalid scenario: {} error(s)", .0.errors.len())]
    Invalid(ValidationReport),
    /// The road graph refused a vehicle profile.
    #[error("roads: {0}")]
    Roads(#[from] RoadsError),
    /// A lock or change names something that does not exist or cannot be.
    #[error("invalid lock or change: {0}")]
    Lock(String),
    /// The allocation model failed.
    #[error("fleet allocation: {0}")]
    Allocation(String),
    /// The solver refused the problem built for a stream (a bug here).
    #[error("problem for {stream}: {message}")]
    Problem {
        /// The stream.
        stream: Stream,
        /// The solver's message.
        message: String,
    },
    /// A checker refused the plan (a bug in the solver or here).
    #[error("plan check failed: {0}")]
    Check(String),
    /// Something inconsistent inside the pipeline (a bug).
    #[error("internal: {0}")]
    Internal(String),
}

/// Plans the scenario's day on `graph`. Visits that cannot be served are listed in
/// [`Plan::unserved`] with a reason.
pub fn plan_day(
    scenario: &sortfleet_model::Scenario,
    graph: &RoadGraph,
    params: &PlanParams,
    progress: &(dyn Fn(PlanProgress) + Sync),
) -> Result<PlanOutcome, PlanError> {
    let report = scenario.validate();
    if !report.is_ok() {
        return Err(PlanError::Invalid(report));
    }
    let net = network::Network::build(scenario, graph, &|m| progress(PlanProgress::Stage(m)))?;
    let spec = day::DaySpec::from_locks(scenario, &params.locks)?;
    day::run(scenario, &net, &spec, params, progress)
}

/// Re-plans after `changes`, keeping frozen parts of `previous` exactly and moving as
/// few visits as possible between vehicles.
pub fn replan(
    scenario: &sortfleet_model::Scenario,
    graph: &RoadGraph,
    previous: &Plan,
    changes: &[Change],
    params: &PlanParams,
    progress: &(dyn Fn(PlanProgress) + Sync),
) -> Result<PlanOutcome, PlanError> {
    replan::replan(scenario, graph, previous, changes, params, progress)
}

/// An urgent point for [`Change::AddUrgentPickup`]: either new or an extra demand at an
/// existing point (same id).
pub type UrgentPoint = CollectionPoint;
