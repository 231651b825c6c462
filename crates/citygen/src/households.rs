//! How many households the extract holds, from two independent OSM signals.
//!
//! * **Street frontage**: metres of `highway=residential|living_street`, one household per
//!   [`METRES_PER_HOUSEHOLD`] of street (both sides together: 5 m of kerb per home, the
//!   mix of flats and row houses of a typical city). Always available, undercounts
//!   dense centres where people live on avenues.
//! * **Buildings**: footprint × `building:levels` (default [`DEFAULT_LEVELS`]) × a
//!   residential share by `building=*` type ÷ [`FLOOR_M2_PER_HOUSEHOLD`] m² per
//!   household; `house`-like buildings count as one. Undercounts wherever buildings
//!   are not mapped, which is most of the world.
//!
//! Each signal undercounts in a different place, so the estimate is the larger of the two.

use crate::osm::OsmData;
use crate::rng::Local;

/// Metres of residential street per household.
pub(crate) const METRES_PER_HOUSEHOLD: f64 = 2.5;
/// Gross floor area per household (flat plus its share of stairs and walls).
pub(crate) const FLOOR_M2_PER_HOUSEHOLD: f64 = 80.0;
/// Storeys assumed for a multi-storey building type without `building:levels`.
pub(crate) const DEFAULT_LEVELS: f64 = 3.0;

/// Both estimates and their inputs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Estimate {
    /// Metres of residential / living streets.
    pub residential_m: f64,
    /// Households from street frontage.
    pub from_frontage: f64,
    /// Households from buildings.
    pub from_buildings: f64,
}

impl Estimate {
    /// The estimate used: the larger signal.
    pub fn households(&self) -> f64 {
        self.from_frontage.max(self.from_buildings)
    }
}

/// Share of a building's floor area that is homes, by `building=*`, and whether it
/// counts as exactly one household.
fn residential_share(kind: &str) -> Option<(f64, bool)> {
    match kind {
        "apartments" | "residential" | "dormitory" | "terrace" => Some((0.95, false)),
        "house" | "detached" | "semidetached_house" | "bungalow" | "farm" => Some((1.0, true)),
        // Untyped buildings in a city: shops and offices below, flats above.
        "yes" => Some((0.4, false)),
        _ => None,
    }
}

/// Estimates households in `osm`.
pub(crate) fn estimate(osm: &OsmData) -> Estimate {
    let mut e = Estimate::default();
    for r in osm.roads.iter().filter(|r| r.is_residential()) {
        e.residential_m += r
            .refs
            .windows(2)
            .map(|w| osm.nodes[&w[0]].haversine_m(&osm.nodes[&w[1]]))
            .sum::<f64>();
    }
    e.from_frontage = e.residential_m / METRES_PER_HOUSEHOLD;
    for b in &osm.buildings {
        let Some((share, single)) = residential_share(&b.kind) else {
            continue;
        };
        if single {
            e.from_buildings += 1.0;
            continue;
        }
        let pts: Vec<_> = b.refs.iter().map(|r| osm.nodes[r]).collect();
        let local = Local::new(pts[0].lat);
        let xy: Vec<(f64, f64)> = pts.iter().map(|p| local.xy(*p)).collect();
        let mut twice = 0.0;
        for i in 0..xy.len() {
            let (a, c) = (xy[i], xy[(i + 1) % xy.len()]);
            twice += a.0 * c.1 - c.0 * a.1;
        }
        let area = (twice / 2.0).abs();
        // Sheds and kiosks tagged `yes` are not homes.
        if area < 40.0 {
            continue;
        }
        let levels = b.levels.unwrap_or(DEFAULT_LEVELS);
        e.from_buildings += area * levels * share / FLOOR_M2_PER_HOUSEHOLD;
    }
    e
}
