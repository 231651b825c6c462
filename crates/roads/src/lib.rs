//! The road network for waste trucks: OpenStreetMap `.osm.pbf` → directed road graph →
//! per-vehicle-class contraction hierarchy → snapping, travel-time matrices and routes.
//!
//! Key decisions:
//! - **One base graph, one router per vehicle class.** [`RoadGraph`] keeps every road a
//!   truck could use, with its legal limits (weight, height, width, length, hazmat) per edge.
//!   [`RoadGraph::router`] filters it for a [`VehicleProfile`], keeps the largest strongly
//!   connected component, and contracts it; routers are cached by profile key.
//! - **Turn restrictions by node splitting.** A junction that is the via node of a restriction
//!   is split into one routing node per incoming edge, and each copy only gets the turns that
//!   are allowed from that edge. The rest of the graph stays node-based, so the contraction
//!   hierarchy keeps node-based speed while routing is exact w.r.t. turn restrictions
//!   (a test compares it with an edge-based Dijkstra that checks restrictions directly).
//!   Via-way restrictions duplicate the via chain the same way (see [`graph`]).
//! - **Integer, lexicographic weights.** An edge weight is `(weight_ms, distance_cm)` packed
//!   into a `u64`, so ties in time are broken by distance identically in the hierarchy and in
//!   Dijkstra, and matrices are exact (zero mismatches), not approximately equal.
//! - **`access=destination`** roads are usable, but their *weight* (not the reported duration)
//!   is multiplied by [`DESTINATION_WEIGHT_FACTOR`], so they are only entered to reach a stop
//!   inside them, never as a short cut for through traffic.
//!
//! Durations are whole seconds and distances whole metres (`i64`) in the public API;
//! unreachable matrix entries are [`UNREACHABLE`].

pub mod ch;
pub mod file;
pub mod graph;
pub mod osm;
pub mod profile;
pub mod router;
pub mod synthetic;

pub use graph::{ImportOptions, ImportSummary, RoadEdge, RoadGraph};
pub use osm::{OsmData, OsmRestriction, OsmWay, RestrictionKind};
pub use profile::VehicleProfile;
pub use router::{Matrix, RouteResult, Router, RouterSummary, Snap, UNREACHABLE};

/// How much heavier `access=destination` roads weigh for route choice (not for reported time).
pub const DESTINATION_WEIGHT_FACTOR: u32 = 10;

/// Errors of the road crate. Each names the file, point or field at fault.
#[derive(Debug, thiserror::Error)]
pub enum RoadsError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The `.osm.pbf` is malformed or truncated.
    #[error("{path}: not a readable .osm.pbf: {msg}")]
    Pbf {
        /// The file.
        path: String,
        /// What the decoder said.
        msg: String,
    },
    /// The extract holds no usable road.
    #[error("no drivable road found in {0}")]
    EmptyGraph(String),
    /// The graph file is not a sortfleet graph, of another format version, or corrupt.
    #[error("{path}: {msg}")]
    GraphFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        msg: String,
    },
    /// No usable road within the allowed distance of a point.
    #[error(
        "point {name} ({lat:.6},{lon:.6}) is {dist} from the nearest usable road (max {max_m} m)"
    )]
    TooFar {
        /// The point's name, or its coordinates when unnamed.
        name: String,
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
        /// Distance to the nearest road, or "more than max" when none is near.
        dist: String,
        /// The allowed maximum in metres.
        max_m: f64,
    },
    /// A coordinate is not a valid WGS84 position.
    #[error("point {name}: invalid coordinate ({lat},{lon})")]
    InvalidPoint {
        /// The point's name.
        name: String,
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
    },
    /// The vehicle profile is not usable (e.g. negative size).
    #[error("invalid vehicle profile: {0}")]
    InvalidProfile(String),
    /// The vehicle class may use no road at all in this graph.
    #[error("vehicle profile {0} may use no road in this graph")]
    NoRoadForProfile(String),
}
