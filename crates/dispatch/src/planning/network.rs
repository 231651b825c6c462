//! Road network per vehicle class: one [`Router`] per distinct physical profile, every
//! depot, facility and point snapped once per class, and one duration/distance matrix
//! per class over exactly those locations.

use std::collections::HashMap;
use std::sync::Arc;

use sortfleet_model::{LatLon, Scenario, Stream, Vehicle};
use sortfleet_roads::{RoadGraph, Router, Snap, UNREACHABLE, VehicleProfile};
use sortfleet_solver::DenseMatrix;

use super::PlanError;

/// Farther than this from every usable road, a location is unreachable for the class.
pub const MAX_SNAP_M: f64 = 500.0;

/// Stand-in for "no path" in the solver's matrices: far beyond any shift, so the
/// search never uses such a leg, yet small enough that sums never overflow.
pub const NO_PATH: i64 = 100_000_000;

/// One vehicle class: its router and the snapped locations.
pub struct Class {
    /// The physical profile the router was built for.
    pub profile: VehicleProfile,
    /// The router (shared with the graph's cache).
    pub router: Arc<Router>,
    /// Snap per location index, `None` when no usable road is near.
    pub snaps: Vec<Option<Snap>>,
}

/// Locations (depots, then facilities, then points), classes and matrices.
pub struct Network {
    /// Number of depots (location indices `0..nd`).
    pub nd: usize,
    /// Number of facilities (indices `nd..nd + nf`).
    pub nf: usize,
    /// Number of locations.
    pub n: usize,
    /// Vehicle classes.
    pub classes: Vec<Class>,
    /// Class of each scenario vehicle.
    pub vehicle_class: Vec<usize>,
    /// The matrices handed to the solver.
    pub matrix: Arc<DenseMatrix>,
    /// Row-major durations per class (with [`NO_PATH`] for missing paths).
    pub dur: Vec<Vec<i64>>,
    /// Row-major distances per class.
    pub dist: Vec<Vec<i64>>,
    /// Position of every location (for straight-line fallbacks and GeoJSON).
    pub pos: Vec<LatLon>,
    /// Seconds spent building routers, snapping and matrices.
    pub build_s: f64,
}

/// The road profile of a vehicle, from its physical data.
pub fn profile_of(v: &Vehicle) -> VehicleProfile {
    VehicleProfile {
        weight_kg: v.size.gross_weight_kg.0 as f64,
        height_m: v.size.height_cm as f64 / 100.0,
        width_m: v.size.width_cm as f64 / 100.0,
        length_m: v.size.length_cm as f64 / 100.0,
        max_speed_kmh: v.size.max_speed_kmh.max(1) as f64,
        hazmat: v.can_carry(Stream::Hazardous),
    }
}

impl Network {
    /// Snaps and builds the matrices; `progress` gets one line per class.
    pub fn build(
        s: &Scenario,
        graph: &RoadGraph,
        progress: &(dyn Fn(String) + Sync),
    ) -> Result<Network, PlanError> {
        let started = std::time::Instant::now();
        let nd = s.depots.len();
        let nf = s.facilities.len();
        let mut pos: Vec<LatLon> = s.depots.iter().map(|d| d.location).collect();
        pos.extend(s.facilities.iter().map(|f| f.location));
        pos.extend(s.points.iter().map(|p| p.location));
        let n = pos.len();
        let mut keys = HashMap::new();
        let mut profiles: Vec<VehicleProfile> = Vec::new();
        let vehicle_class: Vec<usize> = s
            .vehicles
            .iter()
            .map(|v| {
                let p = profile_of(v);
                *keys.entry(p.key()).or_insert_with(|| {
                    profiles.push(p);
                    profiles.len() - 1
                })
            })
            .collect();
        let mut classes = Vec::new();
        let mut dur = Vec::new();
        let mut dist = Vec::new();
        for (c, p) in profiles.iter().enumerate() {
            let router = graph.router(p).map_err(PlanError::Roads)?;
            let snaps: Vec<Option<Snap>> = pos
                .iter()
                .map(|&q| router.snap(q, MAX_SNAP_M).ok())
                .collect();
            let idx: Vec<usize> = (0..n).filter(|&i| snaps[i].is_some()).collect();
            let ok: Vec<Snap> = idx.iter().filter_map(|&i| snaps[i].clone()).collect();
            let m = router.matrix(&ok, &ok);
            let mut d = vec![NO_PATH; n * n];
            let mut l = vec![NO_PATH; n * n];
            for i in 0..n {
                d[i * n + i] = 0;
                l[i * n + i] = 0;
            }
            for (a, &ia) in idx.iter().enumerate() {
                for (b, &ib) in idx.iter().enumerate() {
                    if let Some((t, m)) = m.get(a, b)
                        && t != UNREACHABLE
                        && m != UNREACHABLE
                    {
                        d[ia * n + ib] = t;
                        l[ia * n + ib] = m;
                    }
                }
            }
            progress(format!(
                "class {c} ({}): {} of {n} locations snapped",
                p.key(),
                idx.len()
            ));
            dur.push(d);
            dist.push(l);
            classes.push(Class {
                profile: *p,
                router,
                snaps,
            });
        }
        let matrix = Arc::new(
            DenseMatrix::new(n, dur.clone(), dist.clone())
                .ok_or_else(|| PlanError::Internal("matrix shapes disagree".into()))?,
        );
        Ok(Network {
            nd,
            nf,
            n,
            classes,
            vehicle_class,
            matrix,
            dur,
            dist,
            pos,
            build_s: started.elapsed().as_secs_f64(),
        })
    }

    /// Location index of facility `f`.
    pub fn fac(&self, f: usize) -> usize {
        self.nd + f
    }

    /// Location index of point `p`.
    pub fn point(&self, p: usize) -> usize {
        self.nd + self.nf + p
    }

    /// Travel time for class `c`.
    pub fn t(&self, c: usize, a: usize, b: usize) -> i64 {
        self.dur[c][a * self.n + b]
    }

    /// Travel distance for class `c`.
    pub fn d(&self, c: usize, a: usize, b: usize) -> i64 {
        self.dist[c][a * self.n + b]
    }

    /// Whether class `c` can drive from `a` to `b`.
    pub fn path(&self, c: usize, a: usize, b: usize) -> bool {
        self.t(c, a, b) < NO_PATH
    }

    /// Road geometry of the leg `a → b` for class `c`; a straight line when the router
    /// finds none (never for legs the solver used, which all have paths).
    pub fn geometry(&self, c: usize, a: usize, b: usize) -> Vec<LatLon> {
        let cl = &self.classes[c];
        if let (Some(x), Some(y)) = (&cl.snaps[a], &cl.snaps[b])
            && let Some(r) = cl.router.route(x, y)
        {
            let mut g = Vec::with_capacity(r.geometry.len() + 2);
            g.push(self.pos[a]);
            g.extend(r.geometry);
            g.push(self.pos[b]);
            return g;
        }
        vec![self.pos[a], self.pos[b]]
    }
}
