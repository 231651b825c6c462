//! Import of the shipped extracts (golden counts), the graph file (round trip, refusal of
//! other versions and corruption), bad input, and matrices against Dijkstra on real data.

use rand::{Rng, SeedableRng};
use sortfleet_model::LatLon;
use sortfleet_roads::{ImportOptions, ImportSummary, RoadGraph, RoadsError, Snap, VehicleProfile};

fn pbf(name: &str) -> String {
    format!(
        "{}/../../data/osm/{name}.osm.pbf",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn import(name: &str) -> (RoadGraph, ImportSummary) {
    RoadGraph::import_pbf(pbf(name), &ImportOptions::default()).expect("import")
}

/// (nodes, edges, directed edges, used ways, restrictions applied, skipped, missing refs, SCC nodes)
fn golden(name: &str) -> (usize, usize, usize, usize, usize, usize, usize, usize) {
    let (g, s) = import(name);
    let r = g.router(&VehicleProfile::default()).expect("router");
    (
        s.nodes,
        s.edges,
        s.directed_edges,
        s.used_ways,
        s.restrictions_applied,
        s.restrictions_skipped,
        s.missing_node_refs,
        r.summary().nodes,
    )
}

#[test]
fn golden_counts_porto_alegre() {
    assert_eq!(
        golden("porto-alegre"),
        (14086, 19381, 31474, 11225, 0, 0, 0, 13796)
    );
}

#[test]
fn golden_counts_monaco() {
    assert_eq!(golden("monaco"), (2279, 2741, 4343, 1701, 27, 0, 0, 2080));
}

#[test]
fn golden_counts_helsinki_clipped() {
    // Clipped without complete ways: ways are cut at the missing nodes, never a panic.
    assert_eq!(
        golden("helsinki-center"),
        (952, 1040, 1599, 902, 39, 5, 150, 829)
    );
}

fn random_snaps(g: &RoadGraph, r: &sortfleet_roads::Router, n: usize, seed: u64) -> Vec<Snap> {
    let (lo, hi) = g.bbox();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut v = Vec::new();
    while v.len() < n {
        let p = LatLon::new(
            rng.random_range(lo.lat..hi.lat),
            rng.random_range(lo.lon..hi.lon),
        );
        if let Ok(s) = r.snap(p, 300.0) {
            v.push(s);
        }
    }
    v
}

#[test]
fn matrix_equals_dijkstra_on_real_extracts_with_turn_restrictions() {
    for name in ["monaco", "helsinki-center"] {
        let (g, _) = import(name);
        let r = g.router(&VehicleProfile::default()).expect("router");
        assert!(
            r.summary().restriction_copies > 0,
            "{name} has restrictions"
        );
        let pts = random_snaps(&g, &r, 60, 11);
        let m = r.matrix(&pts, &pts);
        for i in 0..pts.len() {
            for j in 0..pts.len() {
                assert_eq!(
                    r.ch_raw(&pts[i], &pts[j]).0,
                    r.dijkstra_raw(&pts[i], &pts[j]).0,
                    "{name} {i}→{j}"
                );
                assert_eq!(m.get(i, j), r.dijkstra(&pts[i], &pts[j]), "{name} {i}→{j}");
            }
        }
        for i in 0..20 {
            let route = r.route(&pts[i], &pts[i + 20]).expect("route in the SCC");
            assert_eq!(Some((route.duration_s, route.distance_m)), m.get(i, i + 20));
            assert!(route.geometry.len() >= 2);
        }
    }
}

#[test]
fn graph_file_round_trip_keeps_everything() {
    let (g, _) = import("monaco");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("monaco.graph");
    g.save(&path).expect("save");
    let g2 = RoadGraph::load(&path).expect("load");
    assert_eq!(g.fingerprint(), g2.fingerprint());
    assert_eq!(g.edges(), g2.edges());
    assert_eq!(g.restrictions(), g2.restrictions());
    let (r1, r2) = (
        g.router(&VehicleProfile::default()).unwrap(),
        g2.router(&VehicleProfile::default()).unwrap(),
    );
    let p1 = random_snaps(&g, &r1, 30, 5);
    let p2 = random_snaps(&g2, &r2, 30, 5);
    assert_eq!(r1.matrix(&p1, &p1), r2.matrix(&p2, &p2));
}

#[test]
fn graph_file_refuses_corruption_and_other_versions() {
    let (g, _) = import("helsinki-center");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("h.graph");
    g.save(&path).expect("save");
    let good = std::fs::read(&path).unwrap();
    let refuse = |bytes: &[u8], want: &str| {
        std::fs::write(&path, bytes).unwrap();
        match RoadGraph::load(&path) {
            Err(e @ RoadsError::GraphFile { .. }) => assert!(e.to_string().contains(want), "{e}"),
            other => panic!("expected GraphFile error containing {want:?}, got {other:?}"),
        }
    };
    let mut flipped = good.clone();
    let k = flipped.len() / 2;
    flipped[k] ^= 0x40;
    refuse(&flipped, "fingerprint");
    let mut v2 = good.clone();
    v2[8] = 2;
    refuse(&v2, "version 2");
    refuse(&good[..good.len() - 10], "truncated");
    refuse(b"hello", "bad magic");
    assert!(matches!(
        RoadGraph::load(dir.path().join("missing.graph")),
        Err(RoadsError::Io { .. })
    ));
}

#[test]
fn truncated_or_garbage_pbf_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tmp");
    let bytes = std::fs::read(pbf("helsinki-center")).unwrap();
    for (i, cut) in [bytes.len() / 2, 100, 10].into_iter().enumerate() {
        let p = dir.path().join(format!("cut{i}.osm.pbf"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        match RoadGraph::import_pbf(&p, &ImportOptions::default()) {
            Err(RoadsError::Pbf { .. } | RoadsError::EmptyGraph(_)) => {}
            other => panic!(
                "cut at {cut}: expected an error, got {:?}",
                other.map(|x| x.1)
            ),
        }
    }
    let p = dir.path().join("garbage.osm.pbf");
    std::fs::write(&p, b"\0\0\0\x0dnot a pbf file at all").unwrap();
    assert!(RoadGraph::import_pbf(&p, &ImportOptions::default()).is_err());
    assert!(matches!(
        RoadGraph::import_pbf(dir.path().join("absent.osm.pbf"), &ImportOptions::default()),
        Err(RoadsError::Io { .. })
    ));
}

#[test]
fn routers_are_cached_per_vehicle_class() {
    let (g, _) = import("helsinki-center");
    let a = g.router(&VehicleProfile::default()).unwrap();
    let b = g.router(&VehicleProfile::default()).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    let c = g.router(&VehicleProfile::hazmat_van()).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&a, &c));
    let bad = VehicleProfile {
        height_m: f64::NAN,
        ..VehicleProfile::default()
    };
    assert!(matches!(g.router(&bad), Err(RoadsError::InvalidProfile(_))));
}
