//! Property test: on random small street grids with random one-ways, speeds, limits,
//! `destination` roads and random turn restrictions (via node and via way), the contraction
//! hierarchy's matrix and routes equal plain Dijkstra on the uncontracted graph, and no route
//! takes a forbidden turn or skips a mandated one (checked on the route geometry, independent
//! of how the router encodes restrictions).

use proptest::prelude::*;
use sortfleet_roads::{RoadsError, Snap, VehicleProfile};
use sortfleet_testkit::{AsciiMap, passes};

const NAMES: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

#[derive(Clone, Debug)]
struct Case {
    w: usize,
    h: usize,
    /// Per grid edge: None = absent, else (oneway 0/1/2, speed, heavy limit, destination).
    edges: Vec<Option<(u8, u8, bool, bool)>>,
    /// (via node selector, from/to/next edge selectors, kind only?, via way?)
    restr: Vec<(usize, usize, usize, usize, bool, bool)>,
    points: Vec<(f64, f64)>,
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..6, 2usize..6).prop_flat_map(|(w, h)| {
        let n_edges = (w - 1) * h + w * (h - 1);
        (
            Just(w),
            Just(h),
            prop::collection::vec(
                prop::option::weighted(
                    0.9,
                    (
                        0u8..6,
                        1u8..9,
                        prop::bool::weighted(0.1),
                        prop::bool::weighted(0.1),
                    ),
                ),
                n_edges,
            ),
            prop::collection::vec(
                (
                    0..64usize,
                    0..8usize,
                    0..8usize,
                    0..8usize,
                    any::<bool>(),
                    prop::bool::weighted(0.35),
                ),
                0..8,
            ),
            prop::collection::vec((0.0..1.0f64, 0.0..1.0f64), 2..11),
        )
            .prop_map(|(w, h, edges, restr, points)| Case {
                w,
                h,
                edges,
                restr,
                points,
            })
    })
}

fn name(w: usize, r: usize, c: usize) -> char {
    NAMES[r * w + c] as char
}

/// Grid edges as node-name pairs, horizontal first.
fn grid_edges(w: usize, h: usize) -> Vec<(char, char)> {
    let mut v = Vec::new();
    for r in 0..h {
        for c in 0..w - 1 {
            v.push((name(w, r, c), name(w, r, c + 1)));
        }
    }
    for r in 0..h - 1 {
        for c in 0..w {
            v.push((name(w, r, c), name(w, r + 1, c)));
        }
    }
    v
}

fn shared(a: (char, char), b: (char, char)) -> Option<(char, char, char)> {
    // (p, q, r): a = p-q, b = q-r.
    for (p, q) in [(a.0, a.1), (a.1, a.0)] {
        if b.0 == q && b.1 != p {
            return Some((p, q, b.1));
        }
        if b.1 == q && b.0 != p {
            return Some((p, q, b.0));
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261128),
        ..ProptestConfig::default()
    })]

    #[test]
    fn ch_equals_dijkstra_and_restrictions_hold(c in case()) {
        let mut drawing = String::new();
        for r in 0..c.h {
            let line: String = (0..c.w).map(|col| format!("{}   ", name(c.w, r, col))).collect();
            drawing.push_str(&line);
            drawing.push_str("\n\n");
        }
        let mut map = AsciiMap::new(&drawing);
        let ge = grid_edges(c.w, c.h);
        let mut present = Vec::new();
        for (i, e) in c.edges.iter().enumerate() {
            let Some((ow, speed, heavy, dest)) = *e else { continue };
            let nodes: String = [ge[i].0, ge[i].1].iter().collect();
            let speed = (speed as u32 * 10).to_string();
            let mut tags: Vec<(&str, &str)> = vec![("highway", "residential"), ("maxspeed", &speed)];
            match ow { 0 => tags.push(("oneway", "yes")), 1 => tags.push(("oneway", "-1")), _ => {} }
            if heavy { tags.push(("maxweight", "7.5")); }
            if dest { tags.push(("motor_vehicle", "destination")); }
            map = map.way(&nodes, &tags);
            present.push(i);
        }
        // Restrictions between present edges that meet.
        let way = |i: usize| -> String { [ge[i].0, ge[i].1].iter().collect() };
        let mut forbidden: Vec<String> = Vec::new();
        let mut mandated: Vec<(String, char)> = Vec::new();
        let incident = |n: char| -> Vec<usize> {
            present.iter().copied().filter(|&i| ge[i].0 == n || ge[i].1 == n).collect()
        };
        for &(nsel, s1, s2, s3, only, via_way) in &c.restr {
            let q = name(c.w, (nsel / c.w) % c.h, nsel % c.w);
            let inc = incident(q);
            if inc.len() < 2 { continue; }
            let a = inc[s1 % inc.len()];
            let b = inc[(s1 + 1 + s2 % (inc.len() - 1)) % inc.len()];
            let Some((p, q, r)) = shared(ge[a], ge[b]) else { continue };
            if via_way {
                let inc2: Vec<usize> = incident(r).into_iter().filter(|&i| i != b).collect();
                if inc2.is_empty() { continue; }
                let cc = inc2[s3 % inc2.len()];
                if cc == a { continue; }
                let Some((_, r2, s)) = shared(ge[b], ge[cc]).filter(|x| x.0 == q) else { continue };
                map = map.restriction_via_ways("no_straight_on", &way(a), &[&way(b)], &way(cc));
                forbidden.push([p, q, r2, s].iter().collect());
            } else if only {
                map = map.restriction("only_straight_on", &way(a), q, &way(b));
                mandated.push(([p, q].iter().collect(), r));
            } else {
                map = map.restriction("no_right_turn", &way(a), q, &way(b));
                forbidden.push([p, q, r].iter().collect());
            }
        }
        if present.is_empty() { return Ok(()); }
        let (g, _) = map.graph();
        let router = match g.router(&VehicleProfile::default()) {
            Ok(r) => r,
            Err(RoadsError::NoRoadForProfile(_)) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let (lo, hi) = g.bbox();
        let snaps: Vec<Snap> = c.points.iter().filter_map(|&(y, x)| {
            let p = sortfleet_model::LatLon::new(lo.lat + y * (hi.lat - lo.lat), lo.lon + x * (hi.lon - lo.lon));
            router.snap(p, 10_000.0).ok()
        }).collect();
        let m = router.matrix(&snaps, &snaps);
        for (i, s) in snaps.iter().enumerate() {
            for (j, t) in snaps.iter().enumerate() {
                prop_assert_eq!(router.ch_raw(s, t).0, router.dijkstra_raw(s, t).0, "{}→{}", i, j);
                prop_assert_eq!(m.get(i, j), router.dijkstra(s, t), "{}→{}", i, j);
                let route = router.route(s, t);
                prop_assert_eq!(route.as_ref().map(|x| (x.duration_s, x.distance_m)), m.get(i, j));
                if let Some(route) = route {
                    for f in &forbidden {
                        prop_assert!(!passes(&map, &route.geometry, f), "{}→{} takes forbidden {}", i, j, f);
                    }
                    for (pq, r) in &mandated {
                        // Several only_* from the same edge allow any of their targets.
                        let allowed: Vec<char> =
                            mandated.iter().filter(|(p2, _)| p2 == pq).map(|(_, r2)| *r2).collect();
                        let others = NAMES.iter().map(|&b| b as char);
                        for x in others.filter(|x| !allowed.contains(x) && map.contains(*x)) {
                            let seq: String = format!("{pq}{x}");
                            prop_assert!(!passes(&map, &route.geometry, &seq), "{}→{} takes {} instead of {}{}", i, j, seq, pq, r);
                        }
                    }
                }
            }
        }
    }
}
