//! The production [`PlanSource`]: the road crate for loading networks and
//! [`crate::planning`] for planning and re-planning.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use sortfleet_model::Scenario;
use sortfleet_roads::{ImportOptions, RoadGraph, VehicleProfile};

use super::source::{PlanOutput, PlanRequest, PlanSource, ReplanChange, RoadNetwork};
use super::types::{JobPhase, PlanProgress, RoadSummary};
use crate::planning::{self, Change, FreezeUntil, PlanParams};

/// Locations farther than this from every usable road are reported as unsnapped.
const SNAP_TOLERANCE_M: f64 = 500.0;

/// Plans with the real pipeline on a loaded road graph.
#[derive(Clone, Debug)]
pub struct PipelineSource {
    /// Threads for the parallel per-stream solves.
    pub threads: usize,
    /// Compute leg geometry (terminals need it; tests may switch it off).
    pub geometry: bool,
}

impl Default for PipelineSource {
    fn default() -> Self {
        Self {
            threads: 2,
            geometry: true,
        }
    }
}

fn graph(req: &PlanRequest) -> Result<Arc<RoadGraph>, String> {
    let net = req
        .roads
        .as_ref()
        .ok_or("no road network loaded (LoadRoadNetwork first)")?;
    net.graph
        .clone()
        .downcast::<RoadGraph>()
        .map_err(|_| "the loaded road network was not loaded by this plan source".to_owned())
}

impl PlanSource for PipelineSource {
    fn load_roads(&self, path: &Path, scenario: &Scenario) -> Result<RoadNetwork, String> {
        let started = Instant::now();
        let is_pbf = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".pbf"));
        let graph = if is_pbf {
            RoadGraph::import_pbf(path, &ImportOptions { progress: false })
                .map(|(g, _)| g)
                .map_err(|e| e.to_string())?
        } else {
            RoadGraph::load(path).map_err(|e| e.to_string())?
        };
        // Snap every known location with the most restrictive class's router.
        let profile = scenario
            .vehicles
            .iter()
            .map(planning::network::profile_of)
            .max_by(|a, b| a.weight_kg.total_cmp(&b.weight_kg))
            .unwrap_or_else(VehicleProfile::default);
        let mut snapped = 0;
        let mut unsnapped_ids = Vec::new();
        if let Ok(router) = graph.router(&profile) {
            let locations = scenario
                .depots
                .iter()
                .map(|d| (d.id.to_string(), d.location))
                .chain(
                    scenario
                        .facilities
                        .iter()
                        .map(|f| (f.id.to_string(), f.location)),
                )
                .chain(
                    scenario
                        .points
                        .iter()
                        .map(|p| (p.id.to_string(), p.location)),
                );
            for (id, at) in locations {
                match router.snap(at, SNAP_TOLERANCE_M) {
                    Ok(_) => snapped += 1,
                    Err(_) => unsnapped_ids.push(id),
                }
            }
        }
        Ok(RoadNetwork {
            summary: RoadSummary {
                node_count: graph.node_count() as u64,
                edge_count: graph.edge_count() as u64,
                fingerprint: graph.fingerprint(),
                snapped,
                unsnapped_ids,
                load_ms: started.elapsed().as_millis() as i64,
            },
            graph: Arc::new(graph),
        })
    }

    fn plan(
        &self,
        req: &PlanRequest,
        progress: &(dyn Fn(PlanProgress) + Sync),
    ) -> Result<PlanOutput, String> {
        let graph = graph(req)?;
        let params = PlanParams {
            time_limit: req.time_limit,
            seed: req.seed,
            threads: self.threads.max(1),
            geometry: self.geometry,
            ..PlanParams::default()
        };
        let best = std::sync::Mutex::new((0i64, 0u32, 0u64));
        let cb = |p: planning::PlanProgress| {
            let mut b = best.lock().unwrap_or_else(|e| e.into_inner());
            let phase = match p {
                planning::PlanProgress::Stage(s) => {
                    if s.contains("matri") || s.contains("snap") {
                        JobPhase::Matrix
                    } else {
                        JobPhase::Construction
                    }
                }
                planning::PlanProgress::Search {
                    cost_ct, unserved, ..
                } => {
                    b.0 = cost_ct;
                    b.1 = unserved as u32;
                    b.2 += 1;
                    JobPhase::Search
                }
                planning::PlanProgress::StreamDone { .. } => JobPhase::Search,
            };
            progress(PlanProgress {
                phase,
                best_cost_ct: b.0,
                unserved: b.1,
                iterations: b.2,
            });
        };
        let outcome = match &req.previous {
            None => planning::plan_day(&req.scenario, &graph, &params, &cb),
            Some(prev) => {
                let mut changes = Vec::new();
                for c in &req.changes {
                    match c {
                        ReplanChange::FreezeBefore { at_s } => {
                            for r in &prev.routes {
                                changes.push(Change::FreezeDriven {
                                    vehicle: r.vehicle.clone(),
                                    until: FreezeUntil::Time(*at_s),
                                });
                            }
                        }
                        ReplanChange::AddUrgentPickup { point } => {
                            let p = req.scenario.point(point).ok_or_else(|| {
                                format!("urgent point `{point}` is not in the master data")
                            })?;
                            changes.push(Change::AddUrgentPickup { point: p.clone() });
                        }
                        ReplanChange::VehicleUnavailable { vehicle, from_s } => {
                            changes.push(Change::VehicleUnavailable {
                                vehicle: vehicle.clone(),
                                at: *from_s,
                            });
                        }
                    }
                }
                planning::replan(&req.scenario, &graph, prev, &changes, &params, &cb)
            }
        }
        .map_err(|e| e.to_string())?;
        Ok(PlanOutput {
            plan: outcome.plan,
            road_fingerprint: Some(graph.fingerprint()),
        })
    }
}
