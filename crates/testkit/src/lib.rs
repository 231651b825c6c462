//! Fixtures and builders for sortfleet tests (a dev-dependency only).
//!
//! [`AsciiMap`] draws a road scenario the way OSRM's cucumber features do: letters and digits
//! on a character grid are OSM nodes (`a - b` across, or `a` over `|` over `d` down, is one
//! grid step of [`AsciiMap::DEFAULT_GRID_M`] metres),
//! ways and turn restrictions are declared by the letters they pass through, and the result
//! is the same [`OsmData`] a `.osm.pbf` import produces, so scenario tests run the real
//! graph builder.

pub mod fixtures;

use sortfleet_model::LatLon;
use sortfleet_roads::osm::restriction_from_parts;
use sortfleet_roads::{ImportOptions, ImportSummary, OsmData, OsmWay, RoadGraph};
use std::collections::BTreeMap;

/// A declared restriction: value, from way, via node, via ways, to way.
type Drawn = (String, String, Option<char>, Vec<String>, String);

/// A road scenario drawn on a character grid.
///
/// ```
/// use sortfleet_testkit::AsciiMap;
/// let map = AsciiMap::new(
///     "
///     a - b - c
///     |       |
///     d - - - e
///     ",
/// )
/// .way("abc", &[("highway", "primary"), ("oneway", "yes")])
/// .way("adec", &[("highway", "residential")]);
/// let (graph, _) = map.graph();
/// assert_eq!(graph.node_count(), 2); // only a and c are junctions; b, d, e are geometry
/// # let _ = graph;
/// ```
#[derive(Clone, Debug)]
pub struct AsciiMap {
    grid_m: f64,
    origin: LatLon,
    nodes: BTreeMap<char, (usize, usize)>,
    ways: Vec<(String, Vec<(String, String)>)>,
    restrictions: Vec<Drawn>,
}

impl AsciiMap {
    /// Metres between two neighbouring grid characters.
    pub const DEFAULT_GRID_M: f64 = 100.0;

    /// Parses a drawing: every ASCII letter or digit is a node; everything else is decoration.
    pub fn new(drawing: &str) -> Self {
        let mut nodes = BTreeMap::new();
        for (row, line) in drawing.lines().enumerate() {
            for (col, ch) in line.chars().enumerate() {
                if ch.is_ascii_alphanumeric() {
                    let prev = nodes.insert(ch, (row, col));
                    assert!(prev.is_none(), "node {ch} drawn twice");
                }
            }
        }
        Self {
            grid_m: Self::DEFAULT_GRID_M,
            origin: LatLon::new(48.0, 11.0),
            nodes,
            ways: Vec::new(),
            restrictions: Vec::new(),
        }
    }

    /// Changes the grid size in metres per character.
    pub fn grid(mut self, metres: f64) -> Self {
        self.grid_m = metres;
        self
    }

    /// Adds a way through the named nodes (in order) with tags.
    pub fn way(mut self, nodes: &str, tags: &[(&str, &str)]) -> Self {
        for c in nodes.chars() {
            assert!(
                self.nodes.contains_key(&c),
                "way {nodes}: node {c} is not drawn"
            );
        }
        self.ways.push((
            nodes.to_string(),
            tags.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ));
        self
    }

    /// Adds a via-node turn restriction (`value` like `no_left_turn`) between two declared ways.
    pub fn restriction(mut self, value: &str, from_way: &str, via: char, to_way: &str) -> Self {
        self.restrictions.push((
            value.into(),
            from_way.into(),
            Some(via),
            Vec::new(),
            to_way.into(),
        ));
        self
    }

    /// Adds a via-way turn restriction.
    pub fn restriction_via_ways(
        mut self,
        value: &str,
        from_way: &str,
        via_ways: &[&str],
        to_way: &str,
    ) -> Self {
        self.restrictions.push((
            value.into(),
            from_way.into(),
            None,
            via_ways.iter().map(|s| s.to_string()).collect(),
            to_way.into(),
        ));
        self
    }

    /// Whether a node with this name is drawn.
    pub fn contains(&self, c: char) -> bool {
        self.nodes.contains_key(&c)
    }

    /// Position of a drawn node: rows go south, columns east.
    pub fn pos(&self, c: char) -> LatLon {
        let (row, col) = *self
            .nodes
            .get(&c)
            .unwrap_or_else(|| panic!("node {c} is not drawn"));
        // A column is a quarter step and a row half a step, so that both "a - b" and "a" over
        // "|" over "d" are one grid step apart.
        let dlat = self.grid_m / 2.0 / 111_195.0;
        let dlon = self.grid_m / 4.0 / (111_195.0 * self.origin.lat.to_radians().cos());
        LatLon::new(
            self.origin.lat - row as f64 * dlat,
            self.origin.lon + col as f64 * dlon,
        )
    }

    /// A point `north_m` north and `east_m` east of a node.
    pub fn offset(&self, c: char, north_m: f64, east_m: f64) -> LatLon {
        let p = self.pos(c);
        LatLon::new(
            p.lat + north_m / 111_195.0,
            p.lon + east_m / (111_195.0 * p.lat.to_radians().cos()),
        )
    }

    fn node_id(c: char) -> i64 {
        c as i64
    }

    fn way_id(&self, nodes: &str) -> i64 {
        let i = self
            .ways
            .iter()
            .position(|(n, _)| n == nodes)
            .unwrap_or_else(|| panic!("way {nodes} is not declared"));
        i as i64 + 1
    }

    /// The drawn map as raw OSM elements.
    pub fn osm(&self) -> OsmData {
        let mut d = OsmData::default();
        for &c in self.nodes.keys() {
            d.nodes.insert(Self::node_id(c), self.pos(c));
        }
        for (i, (nodes, tags)) in self.ways.iter().enumerate() {
            d.ways.push(OsmWay {
                id: i as i64 + 1,
                nodes: nodes.chars().map(Self::node_id).collect(),
                tags: tags.clone(),
            });
        }
        for (i, (value, from, via, via_ways, to)) in self.restrictions.iter().enumerate() {
            let vw: Vec<i64> = via_ways.iter().map(|w| self.way_id(w)).collect();
            let r = restriction_from_parts(
                1000 + i as i64,
                value,
                self.way_id(from),
                via.map(Self::node_id),
                &vw,
                self.way_id(to),
            )
            .unwrap_or_else(|| panic!("restriction {value} is not understood"));
            d.restrictions.push(r);
        }
        d.file_nodes = self.nodes.len() as u64;
        d.file_ways = self.ways.len() as u64;
        d.file_relations = self.restrictions.len() as u64;
        d
    }

    /// Builds the road graph through the real builder.
    pub fn graph(&self) -> (RoadGraph, ImportSummary) {
        RoadGraph::from_osm(&self.osm(), &ImportOptions::default()).expect("drawn map builds")
    }
}

/// Whether `geometry` passes through the drawn nodes `seq` consecutively (a turn or a
/// sequence of roads), comparing positions to within a centimetre.
pub fn passes(map: &AsciiMap, geometry: &[LatLon], seq: &str) -> bool {
    let pts: Vec<LatLon> = seq.chars().map(|c| map.pos(c)).collect();
    let near = |a: &LatLon, b: &LatLon| a.haversine_m(b) < 0.01;
    // Snapped end points may repeat a node to within rounding: collapse those first.
    let mut geometry: Vec<LatLon> = geometry.to_vec();
    geometry.dedup_by(|a, b| near(a, b));
    geometry
        .windows(pts.len())
        .any(|w| w.iter().zip(&pts).all(|(a, b)| near(a, b)))
}
