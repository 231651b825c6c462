//! A router for one vehicle class: the routing graph (allowed roads, junctions split for
//! turn restrictions, largest strongly connected component), its contraction hierarchy,
//! the snapping R-tree, and the queries (matrix, route, and a plain Dijkstra for checks).
//!
//! Routing nodes: ids `0..N` are the base nodes ("no relevant history"); a junction that ends
//! the prefix `from, via…` of a restriction gets an extra copy for that history. Moving along
//! directed edge `d` from copy `(n, h)` leads to the copy of `head(d)` whose history is the
//! longest suffix of `h + [d]` (Aho–Corasick style), and the turns forbidden (or not
//! mandated) for any restriction whose prefix is a suffix of `h` are left out.

use crate::ch::{self, Ch, INF, Search, Seed};
use crate::graph::GraphData;
use crate::osm::RestrictionKind;
use crate::profile::ProfileKey;
use crate::{DESTINATION_WEIGHT_FACTOR, RoadsError};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};
use sortfleet_model::LatLon;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

/// Marks an unreachable pair in a [`Matrix`].
pub const UNREACHABLE: i64 = i64::MAX;

/// A travel-time and distance matrix, row-major (`i * n_tgt + j`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Matrix {
    /// Number of rows (sources).
    pub n_src: usize,
    /// Number of columns (targets).
    pub n_tgt: usize,
    /// Duration of the fastest path in whole seconds, or [`UNREACHABLE`].
    pub duration_s: Vec<i64>,
    /// Distance of that path in whole metres, or [`UNREACHABLE`].
    pub distance_m: Vec<i64>,
}

impl Matrix {
    /// `(duration_s, distance_m)` from source `i` to target `j`, `None` when unreachable.
    pub fn get(&self, i: usize, j: usize) -> Option<(i64, i64)> {
        let k = i * self.n_tgt + j;
        (self.duration_s[k] != UNREACHABLE).then(|| (self.duration_s[k], self.distance_m[k]))
    }
}

/// A fastest route with its road geometry.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RouteResult {
    /// Duration in whole seconds.
    pub duration_s: i64,
    /// Distance in whole metres.
    pub distance_m: i64,
    /// Polyline from the snapped source to the snapped target.
    pub geometry: Vec<LatLon>,
}

/// What a router kept and dropped.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RouterSummary {
    /// The vehicle class.
    pub profile: String,
    /// Base nodes in the largest strongly connected component.
    pub nodes: usize,
    /// Base nodes dropped (forbidden roads only, or islands).
    pub nodes_dropped: usize,
    /// Routing nodes (with junction copies for turn restrictions).
    pub routing_nodes: usize,
    /// Routing arcs.
    pub routing_arcs: usize,
    /// Junction copies added for turn restrictions.
    pub restriction_copies: usize,
    /// Hierarchy edges (arcs + shortcuts).
    pub ch_edges: usize,
    /// Preparation wall time in seconds.
    pub prep_seconds: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Phantom {
    /// Directed base edge.
    d: u32,
    /// Cost from the edge's tail to the point.
    to_w: u64,
    to_dur: u64,
    /// Cost from the point to the edge's head.
    from_w: u64,
    from_dur: u64,
    /// Fraction along the directed edge, for same-edge order.
    t: f64,
}

/// A position snapped onto a road the vehicle class may use. Valid for the router that made
/// it; another router treats a foreign snap as unreachable rather than misreading it.
#[derive(Clone, Debug, PartialEq)]
pub struct Snap {
    /// The position asked for.
    pub input: LatLon,
    /// The nearest point on a usable road (projection onto the segment).
    pub point: LatLon,
    /// Distance from `input` to `point` in metres.
    pub dist_m: f64,
    /// The base edge snapped to.
    pub edge: u32,
    /// Fraction along the edge in way direction (by length).
    pub frac: f64,
    dirs: [Option<Phantom>; 2],
}

type Seg = GeomWithData<Line<[f64; 2]>, (u32, u32)>;

/// The prepared router for one vehicle class. Thread-safe; share it with `Arc`.
pub struct Router {
    g: Arc<GraphData>,
    key: ProfileKey,
    /// Per directed base edge: packed weight, duration in ms (`INF` weight = unusable).
    dw: Vec<u64>,
    ddur: Vec<u32>,
    /// Per directed base edge: the routing node where a start on it continues.
    dstart: Vec<u32>,
    /// Per directed base edge: routing nodes with an arc along it (CSR).
    dtail_first: Vec<u32>,
    dtail: Vec<u32>,
    /// Routing graph (compacted to the SCC): CSR arcs `(head, w, dur, orig directed edge)`.
    first: Vec<u32>,
    arcs: Vec<(u32, u64, u32, u32)>,
    ch: Ch,
    /// Reusable search states for one-to-one routes (allocation is O(nodes)).
    pool: std::sync::Mutex<Vec<(Search, Search)>>,
    rtree: RTree<Seg>,
    lat0_cos: f64,
    summary: RouterSummary,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("summary", &self.summary)
            .finish()
    }
}

const M_PER_DEG: f64 = 111_195.0;

impl Router {
    pub(crate) fn build(g: Arc<GraphData>, key: ProfileKey) -> Result<Router, RoadsError> {
        let t0 = std::time::Instant::now();
        let nb = g.node_pos.len();
        let nd = g.edges.len() * 2;
        // Directed edge costs for this class.
        let mut dw = vec![INF; nd];
        let mut ddur = vec![0u32; nd];
        for (i, e) in g.edges.iter().enumerate() {
            if !e.allows(&key) {
                continue;
            }
            let speed = (e.speed_kmh as u64).min(key.speed_kmh as u64).max(1);
            let dur = ((e.length_cm as u64 * 36 + speed / 2) / speed).max(1);
            let wms = if e.destination {
                dur * DESTINATION_WEIGHT_FACTOR as u64
            } else {
                dur
            };
            // Far beyond any real road; keeps packed path sums from overflowing.
            let wms = wms.min(1 << 30);
            let w = (wms << 32) | e.length_cm as u64;
            for (dir, ok) in [(0, e.fwd), (1, e.bwd)] {
                if ok {
                    dw[2 * i + dir] = w;
                    ddur[2 * i + dir] = dur as u32;
                }
            }
        }
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); nb];
        for d in 0..nd as u32 {
            if dw[d as usize] != INF {
                out[g.tail(d) as usize].push(d);
            }
        }
        // Histories per node and the restrictions ending at each node.
        let mut hist: HashMap<u32, Vec<(Vec<u32>, u32)>> = HashMap::new();
        let mut ends: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut n_r = nb as u32;
        let mut rnode_base: Vec<u32> = (0..nb as u32).collect();
        for (ri, r) in g.restrictions.iter().enumerate() {
            let mut prefix = vec![r.from];
            prefix.extend_from_slice(&r.via);
            for k in 1..=prefix.len() {
                let p = &prefix[..k];
                let n = g.head(p[k - 1]);
                let list = hist.entry(n).or_default();
                if !list.iter().any(|(h, _)| h == p) {
                    list.push((p.to_vec(), n_r));
                    rnode_base.push(n);
                    n_r += 1;
                }
            }
            ends.entry(g.head(*prefix.last().expect("non-empty")))
                .or_default()
                .push(ri);
        }
        let copies = n_r as usize - nb;
        let mut rhist: Vec<&[u32]> = vec![&[]; n_r as usize];
        for list in hist.values() {
            for (h, id) in list {
                rhist[*id as usize] = h;
            }
        }
        let target_of = |m: u32, h: &[u32], d: u32| -> u32 {
            let Some(list) = hist.get(&m) else { return m };
            let mut best = (0usize, m);
            for (p, id) in list {
                let k = p.len();
                if k > best.0
                    && k <= h.len() + 1
                    && p[k - 1] == d
                    && h[h.len() + 1 - k..] == p[..k - 1]
                {
                    best = (k, *id);
                }
            }
            best.1
        };
        // Arcs of the full routing graph.
        let mut arcs: Vec<(u32, u32, u32)> = Vec::new(); // (tail, head, orig)
        for r in 0..n_r {
            let n = rnode_base[r as usize];
            let h = rhist[r as usize];
            let applicable: Vec<&crate::graph::TurnRestriction> = ends
                .get(&n)
                .map(|v| {
                    v.iter()
                        .map(|&i| &g.restrictions[i])
                        .filter(|t| {
                            let k = 1 + t.via.len();
                            k <= h.len()
                                && h[h.len() - k] == t.from
                                && h[h.len() - k + 1..] == t.via[..]
                        })
                        .collect()
                })
                .unwrap_or_default();
            let only: Vec<u32> = applicable
                .iter()
                .filter(|t| t.kind == RestrictionKind::Only)
                .map(|t| t.to)
                .collect();
            for &d in &out[n as usize] {
                if !only.is_empty() && !only.contains(&d) {
                    continue;
                }
                if applicable
                    .iter()
                    .any(|t| t.kind == RestrictionKind::No && t.to == d)
                {
                    continue;
                }
                arcs.push((r, target_of(g.head(d), h, d), d));
            }
        }
        // Largest strongly connected component (petgraph, iterative Tarjan/Kosaraju).
        let mut pg = petgraph::Graph::<(), ()>::with_capacity(n_r as usize, arcs.len());
        for _ in 0..n_r {
            pg.add_node(());
        }
        for &(a, b, _) in &arcs {
            pg.add_edge(
                petgraph::graph::NodeIndex::new(a as usize),
                petgraph::graph::NodeIndex::new(b as usize),
                (),
            );
        }
        let sccs = petgraph::algo::kosaraju_scc(&pg);
        let largest = sccs
            .iter()
            .max_by_key(|c| c.len())
            .cloned()
            .unwrap_or_default();
        if largest.len() < 2 {
            return Err(RoadsError::NoRoadForProfile(key.to_string()));
        }
        drop(pg);
        let mut newid = vec![u32::MAX; n_r as usize];
        let mut kept: Vec<u32> = largest.iter().map(|x| x.index() as u32).collect();
        kept.sort_unstable();
        for (i, &r) in kept.iter().enumerate() {
            newid[r as usize] = i as u32;
        }
        let nn = kept.len();
        let mut base_kept = vec![false; nb];
        for &r in &kept {
            base_kept[rnode_base[r as usize] as usize] = true;
        }
        let mut carcs: Vec<ch::Arc> = Vec::new();
        let mut corig: Vec<u32> = Vec::new();
        for &(a, b, d) in &arcs {
            let (na, nbb) = (newid[a as usize], newid[b as usize]);
            if na != u32::MAX && nbb != u32::MAX {
                carcs.push(ch::Arc {
                    tail: na,
                    head: nbb,
                    w: dw[d as usize],
                    dur: ddur[d as usize],
                });
                corig.push(d);
            }
        }
        // CSR of the compacted routing graph; arc order = CSR order so CH arc ids map back.
        let mut idx: Vec<usize> = (0..carcs.len()).collect();
        idx.sort_by_key(|&i| (carcs[i].tail, carcs[i].head));
        let carcs: Vec<ch::Arc> = idx.iter().map(|&i| carcs[i]).collect();
        let corig: Vec<u32> = idx.iter().map(|&i| corig[i]).collect();
        let mut first = vec![0u32; nn + 1];
        for a in &carcs {
            first[a.tail as usize + 1] += 1;
        }
        for i in 0..nn {
            first[i + 1] += first[i];
        }
        let arcs_csr: Vec<(u32, u64, u32, u32)> = carcs
            .iter()
            .zip(&corig)
            .map(|(a, &d)| (a.head, a.w, a.dur, d))
            .collect();
        // Start node and tails per directed base edge.
        let mut dstart = vec![u32::MAX; nd];
        let mut tails: Vec<Vec<u32>> = vec![Vec::new(); nd];
        for (a, &d) in carcs.iter().zip(&corig) {
            tails[d as usize].push(a.tail);
        }
        for d in 0..nd as u32 {
            if tails[d as usize].is_empty() {
                continue;
            }
            let s = newid[target_of(g.head(d), &[], d) as usize];
            if s != u32::MAX {
                dstart[d as usize] = s;
            } else {
                tails[d as usize].clear();
            }
        }
        let mut dtail_first = vec![0u32];
        let mut dtail = Vec::new();
        for t in &tails {
            dtail.extend_from_slice(t);
            dtail_first.push(dtail.len() as u32);
        }
        let ch = Ch::build(nn, &carcs);
        // Snapping index over edges with a usable direction.
        let lat0 = {
            let s: f64 = g.node_pos.iter().map(|p| p.lat).sum();
            s / nb.max(1) as f64
        };
        let lat0_cos = lat0.to_radians().cos();
        let mut segs = Vec::new();
        for e in 0..g.edges.len() as u32 {
            if dstart[2 * e as usize] == u32::MAX && dstart[2 * e as usize + 1] == u32::MAX {
                continue;
            }
            let p = g.polyline(e);
            for i in 0..p.len() - 1 {
                let a = [p[i].lon * lat0_cos * M_PER_DEG, p[i].lat * M_PER_DEG];
                let b = [
                    p[i + 1].lon * lat0_cos * M_PER_DEG,
                    p[i + 1].lat * M_PER_DEG,
                ];
                segs.push(GeomWithData::new(Line::new(a, b), (e, i as u32)));
            }
        }
        let rtree = RTree::bulk_load(segs);
        let summary = RouterSummary {
            profile: key.to_string(),
            nodes: base_kept.iter().filter(|k| **k).count(),
            nodes_dropped: base_kept.iter().filter(|k| !**k).count(),
            routing_nodes: nn,
            routing_arcs: carcs.len(),
            restriction_copies: copies,
            ch_edges: ch.edges.len(),
            prep_seconds: t0.elapsed().as_secs_f64(),
        };
        Ok(Router {
            g,
            key,
            dw,
            ddur,
            dstart,
            dtail_first,
            dtail,
            first,
            arcs: arcs_csr,
            ch,
            pool: std::sync::Mutex::new(Vec::new()),
            rtree,
            lat0_cos,
            summary,
        })
    }

    /// What this router kept, dropped and how long it took to prepare.
    pub fn summary(&self) -> &RouterSummary {
        &self.summary
    }

    /// The vehicle class key.
    pub fn profile_key(&self) -> ProfileKey {
        self.key
    }

    fn usable(&self, d: u32) -> bool {
        self.dstart[d as usize] != u32::MAX
    }

    /// Snaps a position onto the nearest road this vehicle class may use.
    pub fn snap(&self, p: LatLon, max_dist_m: f64) -> Result<Snap, RoadsError> {
        self.snap_named(&format!("({:.6},{:.6})", p.lat, p.lon), p, max_dist_m)
    }

    /// Like [`Router::snap`], naming the point in the error.
    pub fn snap_named(&self, name: &str, p: LatLon, max_dist_m: f64) -> Result<Snap, RoadsError> {
        if !p.is_valid() {
            return Err(RoadsError::InvalidPoint {
                name: name.into(),
                lat: p.lat,
                lon: p.lon,
            });
        }
        let q = [p.lon * self.lat0_cos * M_PER_DEG, p.lat * M_PER_DEG];
        let too_far = |dist: String| RoadsError::TooFar {
            name: name.into(),
            lat: p.lat,
            lon: p.lon,
            dist,
            max_m: max_dist_m,
        };
        let Some(seg) = self.rtree.nearest_neighbor(&q) else {
            return Err(too_far("unknown".into()));
        };
        let np = seg.geom().nearest_point(&q);
        let point = LatLon::new(np[1] / M_PER_DEG, np[0] / (self.lat0_cos * M_PER_DEG));
        let dist_m = p.haversine_m(&point);
        if dist_m > max_dist_m {
            return Err(too_far(format!("{dist_m:.0} m")));
        }
        let (e, i) = seg.data;
        let poly = self.g.polyline(e);
        let mut before = 0.0;
        for k in 0..i as usize {
            before += poly[k].haversine_m(&poly[k + 1]);
        }
        before += poly[i as usize].haversine_m(&point);
        let total: f64 = poly.windows(2).map(|w| w[0].haversine_m(&w[1])).sum();
        let frac = if total > 0.0 {
            (before / total).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let mut dirs = [None, None];
        for dir in 0..2u32 {
            let d = 2 * e + dir;
            if !self.usable(d) {
                continue;
            }
            let t = if dir == 0 { frac } else { 1.0 - frac };
            let w = self.dw[d as usize];
            let (wms, cm) = (w >> 32, w & 0xffff_ffff);
            let dur = self.ddur[d as usize] as u64;
            let (pw, pc, pd) = (
                (wms as f64 * t).round() as u64,
                (cm as f64 * t).round() as u64,
                (dur as f64 * t).round() as u64,
            );
            dirs[dir as usize] = Some(Phantom {
                d,
                to_w: (pw << 32) | pc,
                to_dur: pd,
                from_w: ((wms - pw) << 32) | (cm - pc),
                from_dur: dur - pd,
                t,
            });
        }
        Ok(Snap {
            input: p,
            point,
            dist_m,
            edge: e,
            frac,
            dirs,
        })
    }

    /// Whether a directed edge is usable here; a snap made by another router (another
    /// class or graph) may name one that is not, and is then simply unreachable.
    fn usable_dir(&self, d: u32) -> bool {
        self.dstart.get(d as usize).is_some_and(|&s| s != u32::MAX)
    }

    /// Whether a snap was made by this router (or one on the same roads).
    fn owns(&self, s: &Snap) -> bool {
        (s.edge as usize) < self.g.edges.len()
            && s.dirs
                .iter()
                .flatten()
                .all(|p| self.usable_dir(p.d) && p.d >> 1 == s.edge)
    }

    fn source_seeds(&self, s: &Snap) -> Vec<Seed> {
        s.dirs
            .iter()
            .flatten()
            .filter(|ph| self.usable_dir(ph.d))
            .map(|ph| Seed {
                node: self.dstart[ph.d as usize],
                w: ph.from_w,
                dur: ph.from_dur,
            })
            .collect()
    }

    fn target_seeds(&self, t: &Snap) -> Vec<Seed> {
        let mut v = Vec::new();
        for ph in t.dirs.iter().flatten().filter(|ph| self.usable_dir(ph.d)) {
            let (a, b) = (
                self.dtail_first[ph.d as usize] as usize,
                self.dtail_first[ph.d as usize + 1] as usize,
            );
            for &n in &self.dtail[a..b] {
                v.push(Seed {
                    node: n,
                    w: ph.to_w,
                    dur: ph.to_dur,
                });
            }
        }
        v
    }

    /// Travel along one edge without reaching a node (source before target on it).
    fn direct(&self, s: &Snap, t: &Snap) -> (u64, u64) {
        let mut best = (INF, 0);
        if s.edge != t.edge || !self.owns(s) || !self.owns(t) {
            return best;
        }
        for (a, b) in s.dirs.iter().zip(&t.dirs) {
            if let (Some(a), Some(b)) = (a, b)
                && a.t <= b.t
                && a.to_w <= b.to_w
            {
                let c = (b.to_w - a.to_w, b.to_dur.saturating_sub(a.to_dur));
                if c.0 < best.0 {
                    best = c;
                }
            }
        }
        best
    }

    fn to_public(w: u64, dur: u64) -> (i64, i64) {
        if w == INF {
            (UNREACHABLE, UNREACHABLE)
        } else {
            (
                ((dur + 500) / 1000) as i64,
                (((w & 0xffff_ffff) + 50) / 100) as i64,
            )
        }
    }

    /// Many-to-many matrix of fastest paths (bucket algorithm on both cores).
    pub fn matrix(&self, sources: &[Snap], targets: &[Snap]) -> Matrix {
        let ss: Vec<Vec<Seed>> = sources.iter().map(|s| self.source_seeds(s)).collect();
        let ts: Vec<Vec<Seed>> = targets.iter().map(|t| self.target_seeds(t)).collect();
        let raw = self.ch.many_to_many(&ss, &ts);
        let nt = targets.len();
        let mut m = Matrix {
            n_src: sources.len(),
            n_tgt: nt,
            duration_s: Vec::with_capacity(raw.len()),
            distance_m: Vec::with_capacity(raw.len()),
        };
        for (k, &(mut w, mut dur)) in raw.iter().enumerate() {
            let (s, t) = (&sources[k / nt.max(1)], &targets[k % nt.max(1)]);
            let d = self.direct(s, t);
            if d.0 < w {
                (w, dur) = d;
            }
            let (a, b) = Self::to_public(w, dur);
            m.duration_s.push(a);
            m.distance_m.push(b);
        }
        m
    }

    /// The fastest route between two snapped points with its geometry.
    pub fn route(&self, from: &Snap, to: &Snap) -> Option<RouteResult> {
        if !self.owns(from) || !self.owns(to) {
            return None;
        }
        let direct = self.direct(from, to);
        let pooled = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (mut fw, mut bw) =
            pooled.unwrap_or_else(|| (Search::new(self.ch.n), Search::new(self.ch.n)));
        let via = self.ch.route(
            &mut fw,
            &mut bw,
            &self.source_seeds(from),
            &self.target_seeds(to),
        );
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((fw, bw));
        let via_w = via.as_ref().map_or(INF, |v| v.0);
        if direct.0 == INF && via.is_none() {
            return None;
        }
        if direct.0 <= via_w {
            let (dur, dist) = Self::to_public(direct.0, direct.1);
            let geometry = self.partial(from, to);
            return Some(RouteResult {
                duration_s: dur,
                distance_m: dist,
                geometry,
            });
        }
        let (_, _, src_node, tgt_node, arcs) = via?;
        // The phantom directions the path used: the seeds it starts and ends at.
        let sdir = from
            .dirs
            .iter()
            .flatten()
            .filter(|p| self.dstart[p.d as usize] == src_node)
            .min_by_key(|p| p.from_w)
            .copied()?;
        let tdir = to
            .dirs
            .iter()
            .flatten()
            .filter(|p| {
                let (a, b) = (
                    self.dtail_first[p.d as usize] as usize,
                    self.dtail_first[p.d as usize + 1] as usize,
                );
                self.dtail[a..b].contains(&tgt_node)
            })
            .min_by_key(|p| p.to_w)
            .copied()?;
        let mut w = sdir.from_w + tdir.to_w;
        let mut dur = sdir.from_dur + tdir.to_dur;
        let mut geometry = vec![from.point];
        let sp = self.g.dir_polyline(sdir.d);
        geometry.extend(Self::cut(&sp, sdir.t, false));
        for &a in &arcs {
            let (_, aw, adur, d) = self.arcs[a as usize];
            w += aw;
            dur += adur as u64;
            let p = self.g.dir_polyline(d);
            geometry.extend_from_slice(&p[1..]);
        }
        let tp = self.g.dir_polyline(tdir.d);
        geometry.extend(Self::cut(&tp, tdir.t, true).into_iter().skip(1));
        geometry.push(to.point);
        geometry.dedup();
        let (dur, dist) = Self::to_public(w, dur);
        Some(RouteResult {
            duration_s: dur,
            distance_m: dist,
            geometry,
        })
    }

    /// Polyline vertices strictly after (`before == false`) or up to (`true`) fraction `t`.
    fn cut(poly: &[LatLon], t: f64, before: bool) -> Vec<LatLon> {
        let total: f64 = poly.windows(2).map(|w| w[0].haversine_m(&w[1])).sum();
        let at = t * total;
        let mut acc = 0.0;
        let mut out = Vec::new();
        for (i, p) in poly.iter().enumerate() {
            if i > 0 {
                acc += poly[i - 1].haversine_m(p);
            }
            if (before && acc < at) || (!before && acc > at) {
                out.push(*p);
            }
        }
        out
    }

    fn partial(&self, from: &Snap, to: &Snap) -> Vec<LatLon> {
        let mut v = vec![from.point];
        let (lo, hi, rev) = if from.frac <= to.frac {
            (from.frac, to.frac, false)
        } else {
            (to.frac, from.frac, true)
        };
        let poly = self.g.polyline(from.edge);
        let upto = Self::cut(&poly, hi, true);
        let mid: Vec<LatLon> = Self::cut(&poly, lo, false)
            .into_iter()
            .filter(|p| upto.contains(p))
            .collect();
        if rev {
            v.extend(mid.into_iter().rev());
        } else {
            v.extend(mid);
        }
        v.push(to.point);
        v.dedup();
        v
    }

    /// Plain Dijkstra on the uncontracted routing graph (turn restrictions honoured by the
    /// split junctions): `(duration_s, distance_m)` or `None`. For `--check` and tests.
    pub fn dijkstra(&self, from: &Snap, to: &Snap) -> Option<(i64, i64)> {
        let (w, dur) = self.dijkstra_raw(from, to);
        (w != INF).then(|| Self::to_public(w, dur))
    }

    /// Packed weight and duration (ms) of the fastest path by Dijkstra.
    pub fn dijkstra_raw(&self, from: &Snap, to: &Snap) -> (u64, u64) {
        let n = self.first.len() - 1;
        let mut dist = vec![INF; n];
        let mut dur = vec![0u64; n];
        let mut heap = BinaryHeap::new();
        for s in self.source_seeds(from) {
            if s.w < dist[s.node as usize] {
                dist[s.node as usize] = s.w;
                dur[s.node as usize] = s.dur;
                heap.push(Reverse((s.w, s.node)));
            }
        }
        let mut tgt: HashMap<u32, (u64, u64)> = HashMap::new();
        for t in self.target_seeds(to) {
            let e = tgt.entry(t.node).or_insert((INF, 0));
            if t.w < e.0 {
                *e = (t.w, t.dur);
            }
        }
        let mut best = self.direct(from, to);
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u as usize] {
                continue;
            }
            if d >= best.0 {
                break;
            }
            if let Some(&(tw, td)) = tgt.get(&u)
                && d + tw < best.0
            {
                best = (d + tw, dur[u as usize] + td);
            }
            for &(x, w, adur, _) in
                &self.arcs[self.first[u as usize] as usize..self.first[u as usize + 1] as usize]
            {
                let nd = d + w;
                if nd < dist[x as usize] {
                    dist[x as usize] = nd;
                    dur[x as usize] = dur[u as usize] + adur as u64;
                    heap.push(Reverse((nd, x)));
                }
            }
        }
        best
    }

    /// Packed weight of the CH answer, for exact comparisons in tests.
    pub fn ch_raw(&self, from: &Snap, to: &Snap) -> (u64, u64) {
        let ss = vec![self.source_seeds(from)];
        let ts = vec![self.target_seeds(to)];
        let r = self.ch.many_to_many(&ss, &ts)[0];
        let d = self.direct(from, to);
        if d.0 < r.0 { d } else { r }
    }

    /// Directed base edges usable by this class, as `(edge, reversed)`, for drawing.
    pub fn usable_edges(&self) -> impl Iterator<Item = (u32, bool)> + '_ {
        (0..self.dstart.len() as u32)
            .filter(|&d| self.usable(d))
            .map(|d| (d >> 1, d & 1 == 1))
    }

    /// Every segment of the roads this class may use, for drawing a map page.
    pub fn segments(&self) -> Vec<[LatLon; 2]> {
        let mut v = Vec::new();
        for e in 0..self.g.edges.len() as u32 {
            if self.usable(2 * e) || self.usable(2 * e + 1) {
                let p = self.g.polyline(e);
                v.extend(p.windows(2).map(|w| [w[0], w[1]]));
            }
        }
        v
    }
}
