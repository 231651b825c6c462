//! A synthetic city for scaling benchmarks: a jittered street grid with arterials, one-way
//! streets, missing blocks and turn restrictions, built through the same OSM path as a real
//! extract (so the simplifier, restrictions and hierarchy see realistic structure).
//!
//! `side × side` grid nodes, 80 m apart around (−30.05, −51.2); every 8th row/column is a
//! two-way 60 km/h arterial, other streets residential (30 km/h); 10 % of residential
//! streets are one-way (alternating direction by row), 4 % of blocks' edges are missing, and
//! one in 50 arterial crossings gets a `no_left_turn`. Seeded, so the same size gives the
//! same graph.

use crate::osm::{OsmData, OsmWay, restriction_from_parts};
use crate::{ImportOptions, RoadGraph, RoadsError};
use rand::{Rng, SeedableRng};
use sortfleet_model::LatLon;

/// Builds the raw OSM data of a synthetic grid city with about `side²` junctions.
pub fn grid_city_osm(side: usize, seed: u64) -> OsmData {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut d = OsmData::default();
    let step_lat = 80.0 / 111_195.0;
    let step_lon = 80.0 / (111_195.0 * (-30.05f64).to_radians().cos());
    let id = |r: usize, c: usize| (r * side + c) as i64 + 1;
    for r in 0..side {
        for c in 0..side {
            let jl = rng.random_range(-0.15..0.15) * step_lat;
            let jo = rng.random_range(-0.15..0.15) * step_lon;
            d.nodes.insert(
                id(r, c),
                LatLon::new(
                    -30.05 + r as f64 * step_lat + jl,
                    -51.2 + c as f64 * step_lon + jo,
                ),
            );
        }
    }
    let mut wid = 0i64;
    let mut arterial_ways: Vec<(usize, bool, i64)> = Vec::new();
    for horizontal in [true, false] {
        for line in 0..side {
            let arterial = line % 8 == 0;
            let mut run: Vec<i64> = Vec::new();
            let flush = |run: &mut Vec<i64>,
                         d: &mut OsmData,
                         wid: &mut i64,
                         rng: &mut rand::rngs::StdRng| {
                if run.len() >= 2 {
                    *wid += 1;
                    let mut tags = vec![(
                        "highway".to_string(),
                        if arterial { "secondary" } else { "residential" }.to_string(),
                    )];
                    tags.push(("maxspeed".into(), if arterial { "60" } else { "30" }.into()));
                    if !arterial && rng.random_bool(0.1) {
                        tags.push((
                            "oneway".into(),
                            if line % 2 == 0 { "yes" } else { "-1" }.into(),
                        ));
                    }
                    d.ways.push(OsmWay {
                        id: *wid,
                        nodes: std::mem::take(run),
                        tags,
                    });
                } else {
                    run.clear();
                }
            };
            for k in 0..side {
                let n = if horizontal { id(line, k) } else { id(k, line) };
                run.push(n);
                // Missing block edges cut the street (never on arterials).
                if !arterial && k + 1 < side && rng.random_bool(0.04) {
                    flush(&mut run, &mut d, &mut wid, &mut rng);
                }
            }
            flush(&mut run, &mut d, &mut wid, &mut rng);
            if arterial {
                arterial_ways.push((line, horizontal, wid));
            }
        }
    }
    // A few no-left-turns between arterials: split nothing, the builder resolves the pair by angle.
    let hs: Vec<_> = arterial_ways.iter().filter(|a| a.1).collect();
    let vs: Vec<_> = arterial_ways.iter().filter(|a| !a.1).collect();
    let mut rid = 0;
    for h in &hs {
        for v in &vs {
            if rng.random_bool(0.02) {
                rid += 1;
                if let Some(r) =
                    restriction_from_parts(rid, "no_left_turn", h.2, Some(id(h.0, v.0)), &[], v.2)
                {
                    d.restrictions.push(r);
                }
            }
        }
    }
    d.file_nodes = d.nodes.len() as u64;
    d.file_ways = d.ways.len() as u64;
    d.file_relations = d.restrictions.len() as u64;
    d
}

/// Builds a synthetic grid city graph with about `side²` junctions.
pub fn grid_city(side: usize, seed: u64) -> Result<RoadGraph, RoadsError> {
    Ok(RoadGraph::from_osm(&grid_city_osm(side, seed), &ImportOptions::default())?.0)
}
