//! How the application core reaches the planning pipeline and the road graph: through
//! the [`PlanSource`] trait, so that the core neither waits for nor depends on the
//! planner's internals. The binary wires in an adapter over `crate::planning`.

use std::any::Any;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sortfleet_model::{Plan, PointId, Scenario, Seconds, Stream, VehicleId};

use super::types::{PlanProgress, RoadSummary};

/// A loaded road network: its figures plus an opaque handle only the [`PlanSource`]
/// that loaded it knows how to use (it downcasts `graph`).
#[derive(Clone)]
pub struct RoadNetwork {
    /// Figures for the dispatcher.
    pub summary: RoadSummary,
    /// The graph, owned by the plan source's type.
    pub graph: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for RoadNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoadNetwork")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// One intraday change a re-plan must honour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplanChange {
    /// Everything planned before this time of day is already driven: keep it exactly.
    FreezeBefore {
        /// Time of day.
        at_s: Seconds,
    },
    /// Insert the (already upserted) point's visits.
    AddUrgentPickup {
        /// The point.
        point: PointId,
    },
    /// The vehicle drops out from this time of day; move its remaining visits.
    VehicleUnavailable {
        /// The vehicle.
        vehicle: VehicleId,
        /// From when.
        from_s: Seconds,
    },
}

/// What to plan.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    /// Master data of the day, already narrowed to the requested streams and vehicles.
    pub scenario: Scenario,
    /// The loaded road network, if any.
    pub roads: Option<RoadNetwork>,
    /// Wall-clock budget.
    pub time_limit: Duration,
    /// RNG seed.
    pub seed: u64,
    /// Streams to plan (empty = all).
    pub streams: Vec<Stream>,
    /// For a re-plan: the day's published plan and the changes to apply.
    pub previous: Option<Plan>,
    /// Changes for a re-plan (empty for a fresh plan).
    pub changes: Vec<ReplanChange>,
}

/// A computed plan.
#[derive(Clone, Debug)]
pub struct PlanOutput {
    /// The plan.
    pub plan: Plan,
    /// Fingerprint of the road graph used, if any.
    pub road_fingerprint: Option<String>,
}

/// The planning pipeline as the application core sees it. Methods are synchronous and
/// may take minutes; the core calls them on a blocking thread.
pub trait PlanSource: Send + Sync + 'static {
    /// Loads a road network (`.osm.pbf` or a graph file) and snaps `scenario`'s locations.
    fn load_roads(&self, path: &Path, scenario: &Scenario) -> Result<RoadNetwork, String> {
        let _ = (path, scenario);
        Err("this plan source does not load road networks".into())
    }

    /// Plans (or, with `previous`, re-plans) a day, reporting progress as it goes
    /// (`progress` may be called from the planner's worker threads).
    fn plan(
        &self,
        req: &PlanRequest,
        progress: &(dyn Fn(PlanProgress) + Sync),
    ) -> Result<PlanOutput, String>;
}

impl<F> PlanSource for F
where
    F: Fn(&PlanRequest, &(dyn Fn(PlanProgress) + Sync)) -> Result<PlanOutput, String>
        + Send
        + Sync
        + 'static,
{
    fn plan(
        &self,
        req: &PlanRequest,
        progress: &(dyn Fn(PlanProgress) + Sync),
    ) -> Result<PlanOutput, String> {
        self(req, progress)
    }
}
