//! The base road graph: every road a truck could use, simplified to junction nodes, with
//! each edge's geometry, speed, one-way flags and legal limits, plus resolved turn
//! restrictions.
//!
//! Graph nodes are OSM nodes where ways meet, way ends, restriction via nodes, and the ends
//! of way pieces cut at nodes missing from a clipped extract; the OSM nodes between them are
//! kept as edge geometry. An edge is undirected storage with `fwd`/`bwd` flags; a *directed
//! edge* id is `2 * edge + dir` (`dir` 0 = from→to, 1 = to→from).
//!
//! A restriction is resolved to directed edges: `from`, a possibly empty chain of `via`
//! edges, and `to`. When a from/to way passes through the via node instead of ending there,
//! the pair of directed edges whose turn angle best matches the restriction's name
//! (`left`, `right`, `straight`, `u_turn`) is taken.

use crate::RoadsError;
use crate::osm::{OsmData, OsmNodeId, OsmWayId, RestrictionKind, TurnHint, way_attrs};
use crate::profile::{ProfileKey, VehicleProfile};
use crate::router::Router;
use sortfleet_model::LatLon;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Options for [`RoadGraph::import_pbf`].
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Show an indicatif spinner on stderr (hidden anyway when stderr is not a terminal).
    pub progress: bool,
}

/// What an import read and built.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ImportSummary {
    /// Nodes in the file.
    pub file_nodes: u64,
    /// Ways in the file.
    pub file_ways: u64,
    /// Relations in the file.
    pub file_relations: u64,
    /// Ways with a drivable highway class.
    pub candidate_ways: usize,
    /// Ways a truck may use (access) and that have at least one edge.
    pub used_ways: usize,
    /// Graph nodes (junctions and way ends).
    pub nodes: usize,
    /// Edges (two-way roads count once).
    pub edges: usize,
    /// Drivable directed edges.
    pub directed_edges: usize,
    /// Turn restrictions for trucks found in the file.
    pub restrictions_found: usize,
    /// Restrictions resolved onto the graph.
    pub restrictions_applied: usize,
    /// Restrictions whose ways or via node are not in the graph, or ambiguous.
    pub restrictions_skipped: usize,
    /// Way node references whose node is missing from the file (clipped extracts); ways are
    /// cut there.
    pub missing_node_refs: usize,
}

/// One road between two graph nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoadEdge {
    /// Start graph node (way direction).
    pub from: u32,
    /// End graph node.
    pub to: u32,
    /// The OSM way it comes from.
    pub way: OsmWayId,
    /// Length in centimetres along the geometry.
    pub length_cm: u32,
    /// Posted (or class default) speed in km/h.
    pub speed_kmh: u16,
    /// Highway class index into [`crate::osm::DRIVABLE`].
    pub class: u8,
    /// Drivable from → to.
    pub fwd: bool,
    /// Drivable to → from.
    pub bwd: bool,
    /// `access=destination` (or delivery/customers): no through traffic.
    pub destination: bool,
    /// `hazmat=no`.
    pub hazmat_no: bool,
    /// Weight limit in kg (`u32::MAX` = none).
    pub max_weight_kg: u32,
    /// Height limit in cm (`u16::MAX` = none).
    pub max_height_cm: u16,
    /// Width limit in cm (`u16::MAX` = none).
    pub max_width_cm: u16,
    /// Length limit in cm (`u16::MAX` = none).
    pub max_length_cm: u16,
}

impl RoadEdge {
    /// Whether a vehicle class may use this road at all (limits and hazmat).
    pub fn allows(&self, k: &ProfileKey) -> bool {
        k.weight_kg <= self.max_weight_kg
            && k.height_cm <= self.max_height_cm as u32
            && k.width_cm <= self.max_width_cm as u32
            && k.length_cm <= self.max_length_cm as u32
            && !(k.hazmat && self.hazmat_no)
    }
}

/// A turn restriction resolved onto directed edges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnRestriction {
    /// The OSM relation id.
    pub osm_id: i64,
    /// Forbid or mandate.
    pub kind: RestrictionKind,
    /// Directed edge the manoeuvre starts on.
    pub from: u32,
    /// Directed via edges (empty for a via-node restriction).
    pub via: Vec<u32>,
    /// Directed edge the manoeuvre ends on.
    pub to: u32,
}

/// The immutable graph data, shared by the graph and its routers.
#[derive(Debug, Default)]
pub(crate) struct GraphData {
    pub(crate) node_pos: Vec<LatLon>,
    pub(crate) node_osm: Vec<i64>,
    pub(crate) edges: Vec<RoadEdge>,
    /// CSR offsets into `geom_pts` (intermediate points of each edge), `edges.len() + 1` long.
    pub(crate) geom_off: Vec<u32>,
    pub(crate) geom_pts: Vec<LatLon>,
    pub(crate) restrictions: Vec<TurnRestriction>,
}

impl GraphData {
    /// Tail node of a directed edge.
    #[inline]
    pub(crate) fn tail(&self, d: u32) -> u32 {
        let e = &self.edges[(d >> 1) as usize];
        if d & 1 == 0 { e.from } else { e.to }
    }

    /// Head node of a directed edge.
    #[inline]
    pub(crate) fn head(&self, d: u32) -> u32 {
        let e = &self.edges[(d >> 1) as usize];
        if d & 1 == 0 { e.to } else { e.from }
    }

    /// Whether the directed edge is drivable in its direction.
    #[inline]
    #[allow(dead_code)]
    pub(crate) fn drivable(&self, d: u32) -> bool {
        let e = &self.edges[(d >> 1) as usize];
        if d & 1 == 0 { e.fwd } else { e.bwd }
    }

    /// Full polyline of an edge in way direction.
    pub(crate) fn polyline(&self, e: u32) -> Vec<LatLon> {
        let edge = &self.edges[e as usize];
        let (a, b) = (
            self.geom_off[e as usize] as usize,
            self.geom_off[e as usize + 1] as usize,
        );
        let mut v = Vec::with_capacity(b - a + 2);
        v.push(self.node_pos[edge.from as usize]);
        v.extend_from_slice(&self.geom_pts[a..b]);
        v.push(self.node_pos[edge.to as usize]);
        v
    }

    /// Polyline of a directed edge in travel direction.
    pub(crate) fn dir_polyline(&self, d: u32) -> Vec<LatLon> {
        let mut v = self.polyline(d >> 1);
        if d & 1 == 1 {
            v.reverse();
        }
        v
    }
}

/// The road graph of one extract for trucks. Cheap to share; routers per vehicle class are
/// prepared on first use and cached.
pub struct RoadGraph {
    pub(crate) data: Arc<GraphData>,
    routers: Mutex<HashMap<ProfileKey, Arc<Router>>>,
}

impl std::fmt::Debug for RoadGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoadGraph")
            .field("nodes", &self.data.node_pos.len())
            .field("edges", &self.data.edges.len())
            .field("restrictions", &self.data.restrictions.len())
            .finish()
    }
}

impl RoadGraph {
    pub(crate) fn from_data(data: GraphData) -> RoadGraph {
        RoadGraph {
            data: Arc::new(data),
            routers: Mutex::new(HashMap::new()),
        }
    }

    /// Imports an `.osm.pbf` extract into a truck road graph.
    pub fn import_pbf(
        path: impl AsRef<Path>,
        opts: &ImportOptions,
    ) -> Result<(RoadGraph, ImportSummary), RoadsError> {
        let path = path.as_ref();
        let pb = if opts.progress {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        } else {
            indicatif::ProgressBar::hidden()
        };
        pb.set_message(format!("importing {}", path.display()));
        let osm = OsmData::read_pbf(path, &pb)?;
        pb.set_message("building graph");
        let r = Self::from_osm(&osm, opts).map_err(|e| match e {
            RoadsError::EmptyGraph(_) => RoadsError::EmptyGraph(path.display().to_string()),
            e => e,
        });
        pb.finish_and_clear();
        r
    }

    /// Builds the graph from raw OSM elements (a file read, or a map drawn by the test kit).
    pub fn from_osm(
        osm: &OsmData,
        _opts: &ImportOptions,
    ) -> Result<(RoadGraph, ImportSummary), RoadsError> {
        let mut sum = ImportSummary {
            file_nodes: osm.file_nodes,
            file_ways: osm.file_ways,
            file_relations: osm.file_relations,
            candidate_ways: osm.ways.len(),
            restrictions_found: osm.restrictions.len(),
            ..Default::default()
        };
        let ways: Vec<_> = osm
            .ways
            .iter()
            .filter_map(|w| {
                way_attrs(|k| w.tag(k))
                    .filter(|a| a.fwd || a.bwd)
                    .map(|a| (w, a))
            })
            .collect();
        // Which OSM nodes become graph nodes.
        let mut refs: HashMap<i64, u32> = HashMap::new();
        let mut junction: HashSet<i64> =
            osm.restrictions.iter().filter_map(|r| r.via_node).collect();
        for (w, _) in &ways {
            for (i, n) in w.nodes.iter().enumerate() {
                if !osm.nodes.contains_key(n) {
                    sum.missing_node_refs += 1;
                    if i > 0 {
                        junction.insert(w.nodes[i - 1]);
                    }
                    if let Some(next) = w.nodes.get(i + 1) {
                        junction.insert(*next);
                    }
                    continue;
                }
                *refs.entry(*n).or_default() += 1;
            }
            if let (Some(a), Some(b)) = (w.nodes.first(), w.nodes.last()) {
                junction.insert(*a);
                junction.insert(*b);
            }
        }
        junction.extend(refs.iter().filter(|(_, c)| **c >= 2).map(|(n, _)| *n));

        let mut g = GraphData::default();
        g.geom_off.push(0);
        let mut index: HashMap<i64, u32> = HashMap::new();
        let mut node_of = |g: &mut GraphData, id: i64| -> u32 {
            *index.entry(id).or_insert_with(|| {
                g.node_pos.push(osm.nodes[&id]);
                g.node_osm.push(id);
                (g.node_pos.len() - 1) as u32
            })
        };
        let mut used_ways = 0;
        for (w, a) in &ways {
            let before = g.edges.len();
            // Pieces between missing nodes, consecutive duplicates removed.
            let mut pieces: Vec<Vec<i64>> = vec![Vec::new()];
            for n in &w.nodes {
                if osm.nodes.contains_key(n) {
                    let p = pieces.last_mut().expect("non-empty");
                    if p.last() != Some(n) {
                        p.push(*n);
                    }
                } else if !pieces.last().expect("non-empty").is_empty() {
                    pieces.push(Vec::new());
                }
            }
            for piece in pieces.iter().filter(|p| p.len() >= 2) {
                let mut start = 0;
                for i in 1..piece.len() {
                    if i == piece.len() - 1 || junction.contains(&piece[i]) {
                        let seg = &piece[start..=i];
                        if seg[0] == seg[seg.len() - 1] {
                            // A loop back to its start: split in the middle so no edge is a self-loop.
                            if seg.len() >= 3 {
                                let mid = seg.len() / 2;
                                push_edge(&mut g, &mut node_of, &osm.nodes, w.id, a, &seg[..=mid]);
                                push_edge(&mut g, &mut node_of, &osm.nodes, w.id, a, &seg[mid..]);
                            }
                        } else {
                            push_edge(&mut g, &mut node_of, &osm.nodes, w.id, a, seg);
                        }
                        start = i;
                    }
                }
            }
            if g.edges.len() > before {
                used_ways += 1;
            }
        }
        if g.edges.is_empty() {
            return Err(RoadsError::EmptyGraph("the input".into()));
        }
        sum.used_ways = used_ways;
        sum.nodes = g.node_pos.len();
        sum.edges = g.edges.len();
        sum.directed_edges = g
            .edges
            .iter()
            .map(|e| e.fwd as usize + e.bwd as usize)
            .sum();
        resolve_restrictions(&mut g, osm, &index, &mut sum);
        Ok((RoadGraph::from_data(g), sum))
    }

    /// The prepared router for a vehicle class (built on first use, then cached).
    pub fn router(&self, profile: &VehicleProfile) -> Result<Arc<Router>, RoadsError> {
        profile.validate()?;
        let key = profile.key();
        if let Some(r) = self
            .routers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(r.clone());
        }
        let r = Arc::new(Router::build(self.data.clone(), key)?);
        self.routers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, r.clone());
        Ok(r)
    }

    /// Number of graph nodes.
    pub fn node_count(&self) -> usize {
        self.data.node_pos.len()
    }

    /// Number of edges (two-way roads once).
    pub fn edge_count(&self) -> usize {
        self.data.edges.len()
    }

    /// All edges.
    pub fn edges(&self) -> &[RoadEdge] {
        &self.data.edges
    }

    /// Position of a graph node.
    pub fn node_pos(&self, n: u32) -> LatLon {
        self.data.node_pos[n as usize]
    }

    /// OSM id of a graph node.
    pub fn node_osm_id(&self, n: u32) -> OsmNodeId {
        OsmNodeId(self.data.node_osm[n as usize])
    }

    /// The resolved turn restrictions.
    pub fn restrictions(&self) -> &[TurnRestriction] {
        &self.data.restrictions
    }

    /// Polyline of an edge (way direction), endpoints included.
    pub fn edge_polyline(&self, e: u32) -> Vec<LatLon> {
        self.data.polyline(e)
    }

    /// Every straight road segment `[a, b]` of the network, for drawing a map page.
    pub fn segments(&self) -> impl Iterator<Item = [LatLon; 2]> + '_ {
        (0..self.data.edges.len() as u32).flat_map(move |e| {
            let p = self.data.polyline(e);
            (0..p.len() - 1)
                .map(move |i| [p[i], p[i + 1]])
                .collect::<Vec<_>>()
        })
    }

    /// Bounding box `(min, max)` of all nodes.
    pub fn bbox(&self) -> (LatLon, LatLon) {
        let mut lo = LatLon::new(f64::INFINITY, f64::INFINITY);
        let mut hi = LatLon::new(f64::NEG_INFINITY, f64::NEG_INFINITY);
        for p in &self.data.node_pos {
            lo.lat = lo.lat.min(p.lat);
            lo.lon = lo.lon.min(p.lon);
            hi.lat = hi.lat.max(p.lat);
            hi.lon = hi.lon.max(p.lon);
        }
        (lo, hi)
    }
}

fn push_edge(
    g: &mut GraphData,
    node_of: &mut impl FnMut(&mut GraphData, i64) -> u32,
    pos: &HashMap<i64, LatLon>,
    way: i64,
    a: &crate::osm::WayAttrs,
    seg: &[i64],
) {
    let from = node_of(g, seg[0]);
    let to = node_of(g, seg[seg.len() - 1]);
    let mut len = 0.0;
    for w in seg.windows(2) {
        len += pos[&w[0]].haversine_m(&pos[&w[1]]);
    }
    for id in &seg[1..seg.len() - 1] {
        g.geom_pts.push(pos[id]);
    }
    g.geom_off.push(g.geom_pts.len() as u32);
    g.edges.push(RoadEdge {
        from,
        to,
        way: OsmWayId(way),
        length_cm: ((len * 100.0).round() as u32).max(1),
        speed_kmh: a.speed_kmh,
        class: a.class,
        fwd: a.fwd,
        bwd: a.bwd,
        destination: a.destination,
        hazmat_no: a.hazmat_no,
        max_weight_kg: a.max_weight_kg,
        max_height_cm: a.max_height_cm,
        max_width_cm: a.max_width_cm,
        max_length_cm: a.max_length_cm,
    });
}

/// Signed turn angle in degrees from the end of `d_in` to the start of `d_out`
/// (positive = left, 0 = straight, ±180 = u-turn).
fn turn_angle(g: &GraphData, d_in: u32, d_out: u32) -> f64 {
    let pin = g.dir_polyline(d_in);
    let pout = g.dir_polyline(d_out);
    let (a, b) = (pin[pin.len() - 2], pin[pin.len() - 1]);
    let c = pout[1];
    let k = b.lat.to_radians().cos();
    let (x1, y1) = ((b.lon - a.lon) * k, b.lat - a.lat);
    let (x2, y2) = ((c.lon - b.lon) * k, c.lat - b.lat);
    (x1 * y2 - y1 * x2).atan2(x1 * x2 + y1 * y2).to_degrees()
}

fn hint_score(hint: TurnHint, angle: f64) -> f64 {
    match hint {
        TurnHint::Left => (angle - 90.0).abs(),
        TurnHint::Right => (angle + 90.0).abs(),
        TurnHint::Straight => angle.abs(),
        TurnHint::UTurn => 180.0 - angle.abs(),
        TurnHint::Any => 0.0,
    }
}

fn resolve_restrictions(
    g: &mut GraphData,
    osm: &OsmData,
    index: &HashMap<i64, u32>,
    sum: &mut ImportSummary,
) {
    // Directed edges (any direction, drivable or not) around each node, with their way.
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); g.node_pos.len()];
    for (i, e) in g.edges.iter().enumerate() {
        out[e.from as usize].push(2 * i as u32);
        out[e.to as usize].push(2 * i as u32 + 1);
    }
    let way_of = |g: &GraphData, d: u32| g.edges[(d >> 1) as usize].way.0;
    let mut resolved = Vec::new();
    for r in &osm.restrictions {
        let mut found: Vec<(u32, Vec<u32>, u32)> = Vec::new();
        if let Some(via) = r.via_node {
            let Some(&n) = index.get(&via) else { continue };
            let froms: Vec<u32> = out[n as usize]
                .iter()
                .map(|d| d ^ 1)
                .filter(|&d| way_of(g, d) == r.from_way)
                .collect();
            let tos: Vec<u32> = out[n as usize]
                .iter()
                .copied()
                .filter(|&d| way_of(g, d) == r.to_way)
                .collect();
            let mut pairs: Vec<(u32, u32)> = Vec::new();
            for &f in &froms {
                for &t in &tos {
                    if t == f ^ 1
                        && r.hint != TurnHint::UTurn
                        && !(froms.len() == 1 && tos.len() == 1)
                    {
                        continue;
                    }
                    pairs.push((f, t));
                }
            }
            if r.hint == TurnHint::Any || pairs.len() <= 1 {
                found.extend(pairs.into_iter().map(|(f, t)| (f, Vec::new(), t)));
            } else {
                let best = pairs
                    .iter()
                    .min_by(|a, b| {
                        hint_score(r.hint, turn_angle(g, a.0, a.1))
                            .total_cmp(&hint_score(r.hint, turn_angle(g, b.0, b.1)))
                    })
                    .copied();
                found.extend(best.map(|(f, t)| (f, Vec::new(), t)));
            }
        } else {
            // Via ways: shortest chain of via-way edges from a from-edge to a to-edge.
            let via: HashSet<i64> = r.via_ways.iter().copied().collect();
            let mut best: Option<(u32, Vec<u32>, u32)> = None;
            for (ni, ds) in out.iter().enumerate() {
                for &d0 in ds {
                    let f = d0 ^ 1; // ends at ni
                    if way_of(g, f) != r.from_way {
                        continue;
                    }
                    let _ = ni;
                    // BFS over via edges.
                    let mut q = VecDeque::new();
                    let mut prev: HashMap<u32, u32> = HashMap::new();
                    q.push_back((f, 0usize));
                    while let Some((cur, depth)) = q.pop_front() {
                        let h = g.head(cur);
                        if cur != f {
                            for &t in &out[h as usize] {
                                if way_of(g, t) == r.to_way && t != cur ^ 1 {
                                    let mut chain = vec![cur];
                                    let mut c = cur;
                                    while let Some(&p) = prev.get(&c) {
                                        if p == f {
                                            break;
                                        }
                                        chain.push(p);
                                        c = p;
                                    }
                                    chain.reverse();
                                    if best.as_ref().is_none_or(|b| b.1.len() > chain.len()) {
                                        best = Some((f, chain, t));
                                    }
                                }
                            }
                        }
                        if depth >= 16 {
                            continue;
                        }
                        for &nx in &out[h as usize] {
                            if nx != cur ^ 1
                                && via.contains(&way_of(g, nx))
                                && !prev.contains_key(&nx)
                                && nx != f
                            {
                                prev.insert(nx, cur);
                                q.push_back((nx, depth + 1));
                            }
                        }
                    }
                }
            }
            found.extend(best);
        }
        if found.is_empty() {
            sum.restrictions_skipped += 1;
            continue;
        }
        sum.restrictions_applied += 1;
        for (from, via, to) in found {
            resolved.push(TurnRestriction {
                osm_id: r.id,
                kind: r.kind,
                from,
                via,
                to,
            });
        }
    }
    resolved.sort_by(|a, b| (a.from, &a.via, a.to).cmp(&(b.from, &b.via, b.to)));
    resolved.dedup();
    g.restrictions = resolved;
}
