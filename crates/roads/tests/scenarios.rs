//! Road scenarios drawn as ASCII maps (as OSRM's cucumber features): one-way streets,
//! access, turn restrictions, weight and height limits, snapping.

use sortfleet_roads::{RoadsError, Router, Snap, VehicleProfile};
use sortfleet_testkit::{AsciiMap, passes};
use std::sync::Arc;

const RES: &[(&str, &str)] = &[("highway", "residential"), ("maxspeed", "36")];

/// The 3×3 grid used by most scenarios, every street a separate two-way way.
const GRID: &str = "
    f - c - g
    |   |   |
    a - b - d
    |   |   |
    h - e - i
";

fn grid_ways(map: AsciiMap, except: &[&str]) -> AsciiMap {
    let mut m = map;
    for w in [
        "fc", "cg", "ab", "bd", "he", "ei", "fa", "ah", "cb", "be", "gd", "di",
    ] {
        if !except.contains(&w) {
            m = m.way(w, RES);
        }
    }
    m
}

fn router(map: &AsciiMap, p: &VehicleProfile) -> Arc<Router> {
    let (g, _) = map.graph();
    g.router(p).expect("router")
}

fn at(r: &Router, map: &AsciiMap, c: char) -> Snap {
    r.snap(map.pos(c), 5.0).expect("snap on a node")
}

fn route_geom(
    r: &Router,
    map: &AsciiMap,
    a: char,
    b: char,
) -> (i64, i64, Vec<sortfleet_model::LatLon>) {
    let res = r.route(&at(r, map, a), &at(r, map, b)).expect("route");
    (res.duration_s, res.distance_m, res.geometry)
}

#[test]
fn oneway_forces_a_detour_back() {
    let map = AsciiMap::new(
        "
        a - b - c
        |       |
        d - - - e
        ",
    )
    .way(
        "abc",
        &[
            ("highway", "primary"),
            ("oneway", "yes"),
            ("maxspeed", "36"),
        ],
    )
    .way("adec", RES);
    let r = router(&map, &VehicleProfile::default());
    let (_, dist_ac, g1) = route_geom(&r, &map, 'a', 'c');
    assert_eq!(dist_ac, 200);
    assert!(passes(&map, &g1, "abc"));
    let (dur_ca, dist_ca, g2) = route_geom(&r, &map, 'c', 'a');
    assert_eq!(dist_ca, 400);
    assert_eq!(dur_ca, 40); // 10 m/s
    assert!(passes(&map, &g2, "ceda"));
}

#[test]
fn oneway_minus_one_and_roundabout() {
    let map = AsciiMap::new(
        "
        a - b - c
        |       |
        d - - - e
        ",
    )
    .way("abc", &[("highway", "primary"), ("oneway", "-1")])
    .way(
        "adec",
        &[("highway", "primary"), ("junction", "roundabout")],
    );
    let r = router(&map, &VehicleProfile::default());
    assert_eq!(route_geom(&r, &map, 'c', 'a').1, 200);
    assert_eq!(route_geom(&r, &map, 'a', 'c').1, 400);
}

#[test]
fn private_and_hgv_no_roads_are_avoided() {
    for tags in [
        [("highway", "primary"), ("access", "private")],
        [("highway", "primary"), ("hgv", "no")],
    ] {
        let map = AsciiMap::new(
            "
            a - b - c
            |       |
            d - - - e
            ",
        )
        .way("abc", &tags)
        .way("adec", RES);
        let r = router(&map, &VehicleProfile::default());
        let (_, dist, g) = route_geom(&r, &map, 'a', 'c');
        assert_eq!(dist, 400, "{tags:?}");
        assert!(!passes(&map, &g, "ab"));
        // And nothing snaps onto the private road: b snaps to the detour.
        let s = r.snap(map.pos('b'), 500.0).expect("snap");
        assert!(s.dist_m > 90.0, "{tags:?}: {}", s.dist_m);
    }
}

#[test]
fn destination_roads_carry_no_through_traffic_but_are_reachable() {
    let map = AsciiMap::new(
        "
        a - b - c
        |       |
        d - - - e
        ",
    )
    .way(
        "abc",
        &[
            ("highway", "residential"),
            ("motor_vehicle", "destination"),
            ("maxspeed", "36"),
        ],
    )
    .way("adec", RES);
    let r = router(&map, &VehicleProfile::default());
    let (dur, dist, g) = route_geom(&r, &map, 'a', 'c');
    assert_eq!(dist, 400);
    assert_eq!(dur, 40);
    assert!(!passes(&map, &g, "abc"));
    // A stop on the destination road is still served through it, at its real duration.
    let (dur_b, dist_b, _) = route_geom(&r, &map, 'a', 'b');
    assert_eq!((dur_b, dist_b), (10, 100));
}

#[test]
fn no_left_turn_via_node() {
    let plain = grid_ways(AsciiMap::new(GRID), &[]);
    let r0 = router(&plain, &VehicleProfile::default());
    let (_, d0, g0) = route_geom(&r0, &plain, 'a', 'c');
    assert_eq!(d0, 200);
    assert!(passes(&plain, &g0, "abc") || passes(&plain, &g0, "afc"));

    // Close a-f so the only 200 m path is the left turn at b; forbid it.
    let map = grid_ways(AsciiMap::new(GRID), &["fa"]).restriction("no_left_turn", "ab", 'b', "cb");
    let r = router(&map, &VehicleProfile::default());
    let (_, d, g) = route_geom(&r, &map, 'a', 'c');
    assert!(!passes(&map, &g, "abc"), "took the forbidden left turn");
    assert!(d > 200);
    // The opposite direction c→b→a is unaffected.
    let (_, d_ca, _) = route_geom(&r, &map, 'c', 'a');
    assert_eq!(d_ca, 200);
    // CH and Dijkstra agree on every pair.
    all_pairs_agree(&r, &map);
}

#[test]
fn only_straight_on_via_node() {
    let map = grid_ways(AsciiMap::new(GRID), &["fa", "ah"]).restriction(
        "only_straight_on",
        "ab",
        'b',
        "bd",
    );
    let r = router(&map, &VehicleProfile::default());
    for target in ['c', 'e'] {
        let (_, d, g) = route_geom(&r, &map, 'a', target);
        assert!(
            !passes(&map, &g, &format!("ab{target}")),
            "a→{target} turned at b"
        );
        assert!(d > 200, "a→{target}: {d}");
    }
    assert_eq!(route_geom(&r, &map, 'a', 'd').1, 200);
    all_pairs_agree(&r, &map);
}

#[test]
fn no_u_turn_and_via_way_restriction() {
    // Via way: from a-b, along b-d, no left turn into d-g.
    let map = grid_ways(AsciiMap::new(GRID), &["fa", "cb"]).restriction_via_ways(
        "no_left_turn",
        "ab",
        &["bd"],
        "gd",
    );
    let (g, sum) = map.graph();
    assert_eq!(sum.restrictions_applied, 1);
    assert_eq!(g.restrictions()[0].via.len(), 1);
    let r = g.router(&VehicleProfile::default()).expect("router");
    let (_, _, geo) = route_geom(&r, &map, 'a', 'g');
    assert!(!passes(&map, &geo, "abdg"));
    // Starting on b-d (not coming from a-b) the turn is allowed.
    let (_, d, geo) = route_geom(&r, &map, 'b', 'g');
    assert_eq!(d, 200);
    assert!(passes(&map, &geo, "bdg"));
    all_pairs_agree(&r, &map);
}

#[test]
fn weight_and_height_limits_per_vehicle_class() {
    for (tag, heavy, light) in [
        (
            ("maxweight", "7.5"),
            VehicleProfile::refuse_truck(),
            VehicleProfile::hazmat_van(),
        ),
        (
            ("maxheight", "3.0"),
            VehicleProfile::refuse_truck(),
            VehicleProfile::hazmat_van(),
        ),
        (
            ("maxwidth", "2.2"),
            VehicleProfile::refuse_truck(),
            VehicleProfile::hazmat_van(),
        ),
    ] {
        let map = AsciiMap::new(
            "
            a - b - c
            |       |
            d - - - e
            ",
        )
        .way("abc", &[("highway", "primary"), tag])
        .way("adec", RES);
        let (g, _) = map.graph();
        let rh = g.router(&heavy).expect("router");
        let rl = g.router(&light).expect("router");
        assert_eq!(route_geom(&rh, &map, 'a', 'c').1, 400, "{tag:?} heavy");
        assert_eq!(route_geom(&rl, &map, 'a', 'c').1, 200, "{tag:?} light");
        // A snap on a road only the light class may use means nothing to the heavy router:
        // unreachable, never a panic or a wrong number.
        let on_limited = rl.snap(map.offset('a', 0.0, 100.0), 5.0).expect("snap");
        let other = at(&rh, &map, 'd');
        assert!(rh.route(&on_limited, &other).is_none());
        assert_eq!(
            rh.matrix(std::slice::from_ref(&on_limited), &[other])
                .get(0, 0),
            None
        );
    }
}

#[test]
fn hazmat_no_only_for_dangerous_goods() {
    let map = AsciiMap::new(
        "
        a - b - c
        |       |
        d - - - e
        ",
    )
    .way("abc", &[("highway", "primary"), ("hazmat", "no")])
    .way("adec", RES);
    let (g, _) = map.graph();
    assert_eq!(
        route_geom(
            &g.router(&VehicleProfile::hazmat_van()).unwrap(),
            &map,
            'a',
            'c'
        )
        .1,
        400
    );
    assert_eq!(
        route_geom(
            &g.router(&VehicleProfile::refuse_truck()).unwrap(),
            &map,
            'a',
            'c'
        )
        .1,
        200
    );
}

#[test]
fn snapping_projects_onto_segments_and_names_far_points() {
    let map = grid_ways(AsciiMap::new(GRID), &[]);
    let r = router(&map, &VehicleProfile::default());
    // 30 m north of the middle of a-b: projected onto a-b, 50 m from a.
    let p = map.offset('a', 30.0, 50.0);
    let s = r.snap(p, 100.0).expect("snap");
    assert!((s.dist_m - 30.0).abs() < 0.5, "{}", s.dist_m);
    assert!(s.point.haversine_m(&map.offset('a', 0.0, 50.0)) < 0.5);
    // Route along the street from the snapped point to b: 50 m.
    let m = r.matrix(std::slice::from_ref(&s), &[at(&r, &map, 'b')]);
    assert_eq!(m.get(0, 0).map(|x| x.1), Some(50));
    // Too far: the error names the point.
    let far = map.offset('a', 5_000.0, 0.0);
    match r.snap_named("bin 42", far, 100.0) {
        Err(e @ RoadsError::TooFar { .. }) => assert!(e.to_string().contains("bin 42"), "{e}"),
        other => panic!("expected TooFar, got {other:?}"),
    }
    assert!(matches!(
        r.snap(sortfleet_model::LatLon::new(f64::NAN, 0.0), 100.0),
        Err(RoadsError::InvalidPoint { .. })
    ));
}

#[test]
fn same_edge_points_route_along_the_edge_or_around() {
    let map = AsciiMap::new(
        "
        a - - - - - - - b
        |               |
        c - - - - - - - d
        ",
    )
    .way(
        "ab",
        &[
            ("highway", "primary"),
            ("oneway", "yes"),
            ("maxspeed", "36"),
        ],
    )
    .way("bdca", RES);
    let r = router(&map, &VehicleProfile::default());
    let s1 = r.snap(map.offset('a', 0.0, 50.0), 10.0).unwrap();
    let s2 = r.snap(map.offset('a', 0.0, 150.0), 10.0).unwrap();
    let m = r.matrix(&[s1.clone(), s2.clone()], &[s1.clone(), s2.clone()]);
    assert_eq!(m.get(0, 1), Some((10, 100)));
    assert_eq!(r.route(&s1, &s2).map(|x| x.distance_m), Some(100));
    assert_eq!(m.get(0, 0), Some((0, 0)));
    // Backwards on a one-way street: around the 400 × 100 m block
    // (250 to b, 100 down, 400 back, 100 up, 50 along).
    assert_eq!(m.get(1, 0).map(|x| x.1), Some(250 + 100 + 400 + 100 + 50));
    let route = r.route(&s2, &s1).unwrap();
    assert_eq!(route.distance_m, 900);
    assert!(passes(&map, &route.geometry, "bdca"));
    assert_eq!(
        r.dijkstra(&s2, &s1),
        Some((route.duration_s, route.distance_m))
    );
}

#[test]
fn islands_are_dropped_so_nothing_snaps_there() {
    let map = AsciiMap::new(
        "
        a - b       x - y
        |   |
        c - d
        ",
    )
    .way("abdca", RES)
    .way("xy", RES);
    let (g, sum) = map.graph();
    assert_eq!(sum.nodes, 4);
    let r = g.router(&VehicleProfile::default()).unwrap();
    assert_eq!(r.summary().nodes_dropped, 2);
    let s = r.snap(map.pos('x'), 1000.0).unwrap();
    assert!(s.dist_m > 100.0);
}

/// Every pair of drawn nodes: the hierarchy's matrix equals Dijkstra on the uncontracted
/// graph, and the route's duration and distance equal the matrix entry.
fn all_pairs_agree(r: &Router, map: &AsciiMap) {
    let names: Vec<char> = "abcdefghi"
        .chars()
        .filter(|c| r.snap(map.pos(*c), 1.0).is_ok())
        .collect();
    let snaps: Vec<Snap> = names.iter().map(|c| at(r, map, *c)).collect();
    let m = r.matrix(&snaps, &snaps);
    for (i, a) in snaps.iter().enumerate() {
        for (j, b) in snaps.iter().enumerate() {
            assert_eq!(m.get(i, j), r.dijkstra(a, b), "{}→{}", names[i], names[j]);
            assert_eq!(
                r.route(a, b).map(|x| (x.duration_s, x.distance_m)),
                m.get(i, j),
                "{}→{}",
                names[i],
                names[j]
            );
        }
    }
}
