//! Household collection points on residential street nodes.
//!
//! The household estimate is spread along residential streets in proportion to their
//! length. Streets are walked in Z-order of their first node (so the carry-over from a
//! short street goes to a nearby one), accumulating households; each time the running
//! sum reaches the next point's size — `households_per_point` ±15%, seeded — a point
//! is put on the street node nearest to where the threshold was crossed. The seed
//! also shifts the first threshold, so another seed moves every point along its street.

use std::collections::{BTreeMap, HashSet};

use sortfleet_model::LatLon;

use crate::osm::OsmData;
use crate::rng::{Rng, morton};

/// A synthesised household point before demand and bins are attached.
#[derive(Debug, Clone)]
pub(crate) struct RawPoint {
    /// Position of that node.
    pub location: LatLon,
    /// Households served.
    pub households: f64,
    /// Street name, if the way has one.
    pub street: Option<String>,
    /// Highway class of the street.
    pub class: String,
}

/// Synthesises points for `households` spread over `residential_m` metres of the
/// residential streets of `osm` whose segments lie in `main` (a truck can reach them).
#[allow(clippy::too_many_arguments)]
pub(crate) fn synthesise(
    osm: &OsmData,
    main: &HashSet<i64>,
    households: f64,
    residential_m: f64,
    per_point: f64,
    min: (f64, f64),
    max: (f64, f64),
    rng: &mut Rng,
) -> Vec<RawPoint> {
    if residential_m <= 0.0 {
        return Vec::new();
    }
    let per_metre = households / residential_m;
    let mut streets: Vec<_> = osm.roads.iter().filter(|r| r.is_residential()).collect();
    streets.sort_by_key(|r| (morton(osm.nodes[&r.refs[0]], min, max), r.id));

    let draw = |rng: &mut Rng| per_point * rng.range_f(0.85, 1.15);
    let mut target = draw(rng);
    let mut acc = -rng.range_f(0.0, per_point);
    // One point per node: a second threshold crossed at the same node adds to it.
    let mut by_node: BTreeMap<i64, usize> = BTreeMap::new();
    let mut out: Vec<RawPoint> = Vec::new();
    for r in streets {
        for w in r.refs.windows(2) {
            if !(main.contains(&w[0]) && main.contains(&w[1])) {
                continue;
            }
            let (a, b) = (osm.nodes[&w[0]], osm.nodes[&w[1]]);
            let h = a.haversine_m(&b) * per_metre;
            let start = acc;
            acc += h;
            while acc >= target {
                // Where along the segment the threshold fell.
                let t = if h > 0.0 { (target - start) / h } else { 1.0 };
                let (node, location) = if t < 0.5 { (w[0], a) } else { (w[1], b) };
                match by_node.get(&node) {
                    Some(&i) => out[i].households += target,
                    None => {
                        by_node.insert(node, out.len());
                        out.push(RawPoint {
                            location,
                            households: target,
                            street: r.name.clone(),
                            class: r.class.clone(),
                        });
                    }
                }
                acc -= target;
                target = draw(rng);
            }
        }
    }
    // A small extract may hold fewer households than one point serves: it still gets
    // one point, in the middle of its longest residential street.
    if out.is_empty() && households >= 1.0 {
        let longest = osm
            .roads
            .iter()
            .filter(|r| r.is_residential() && r.refs.iter().all(|n| main.contains(n)))
            .max_by_key(|r| (r.refs.len(), std::cmp::Reverse(r.id)));
        if let Some(r) = longest {
            let node = r.refs[r.refs.len() / 2];
            out.push(RawPoint {
                location: osm.nodes[&node],
                households,
                street: r.name.clone(),
                class: r.class.clone(),
            });
        }
    }
    out
}

/// Keeps at most `max` of `points`, evenly spaced in their street order (which is
/// spatially coherent), so the kept points still cover the whole town. The seed picks
/// the offset within each stride.
pub(crate) fn thin(points: Vec<RawPoint>, max: usize, rng: &mut Rng) -> Vec<RawPoint> {
    let n = points.len();
    if n <= max {
        return points;
    }
    let offset = rng.unit();
    let keep: Vec<usize> = (0..max)
        .map(|k| (((k as f64 + offset) * n as f64 / max as f64) as usize).min(n - 1))
        .collect();
    let mut keep_iter = keep.into_iter().peekable();
    points
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| {
            if keep_iter.peek() == Some(&i) {
                keep_iter.next();
                Some(p)
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osm::Road;

    fn street(len_nodes: i64) -> OsmData {
        let mut osm = OsmData::default();
        for i in 0..len_nodes {
            // ~11 m apart along a meridian.
            osm.nodes
                .insert(i, LatLon::new(45.0 + i as f64 * 1e-4, 7.0));
        }
        osm.roads.push(Road {
            id: 1,
            class: "residential".into(),
            oneway: false,
            refs: (0..len_nodes).collect(),
            name: Some("Via Roma".into()),
        });
        osm
    }

    #[test]
    fn points_follow_the_households_along_the_street() {
        let osm = street(1_001); // ~11 km
        let m = 1_000.0 * LatLon::new(45.0, 7.0).haversine_m(&LatLon::new(45.0001, 7.0));
        let pts = synthesise(
            &osm,
            &osm.nodes.keys().copied().collect(),
            10_000.0,
            m,
            250.0,
            (7.0, 45.0),
            (7.0, 45.1),
            &mut Rng::new(3, 1),
        );
        let total: f64 = pts.iter().map(|p| p.households).sum();
        assert!((35..=45).contains(&pts.len()), "{}", pts.len());
        assert!(
            total <= 10_000.0 && total > 10_000.0 - 2.0 * 250.0 * 1.15,
            "{total}"
        );
        assert!(pts.iter().all(|p| p.street.as_deref() == Some("Via Roma")));
    }

    #[test]
    fn a_tiny_street_still_gets_one_point() {
        let osm = street(3);
        let pts = synthesise(
            &osm,
            &osm.nodes.keys().copied().collect(),
            9.0,
            22.0,
            250.0,
            (7.0, 45.0),
            (7.0, 45.1),
            &mut Rng::new(1, 1),
        );
        assert_eq!(pts.len(), 1);
        assert_eq!(pts[0].households, 9.0);
        assert_eq!(pts[0].location, osm.nodes[&1]);
    }

    #[test]
    fn thinning_keeps_exactly_max_spread_over_the_list() {
        let osm = street(2);
        let p = |i: i64| RawPoint {
            location: LatLon::new(i as f64, 0.0),
            households: 1.0,
            street: None,
            class: osm.roads[0].class.clone(),
        };
        let kept = thin((0..1000).map(p).collect(), 10, &mut Rng::new(9, 2));
        assert_eq!(kept.len(), 10);
        let lats: Vec<f64> = kept.iter().map(|k| k.location.lat).collect();
        assert!(
            lats.windows(2)
                .all(|w| w[1] - w[0] > 90.0 && w[1] - w[0] < 110.0),
            "{lats:?}"
        );
    }
}
