//! The committed graph file of format version 1 must stay readable, byte for byte the same
//! graph as today's builder makes from the same drawn map. Regenerate only on a deliberate
//! format change (bump `FORMAT_VERSION`, keep a reader for the old one):
//! `SORTFLEET_WRITE_FIXTURES=1 cargo test -p sortfleet-roads --test file_fixture`.

use sortfleet_roads::{RoadGraph, VehicleProfile};
use sortfleet_testkit::AsciiMap;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/grid-v1.graph");

fn map() -> AsciiMap {
    AsciiMap::new(
        "
        f - c - g
        |   |   |
        a - b - d
        |       |
        h - - - i
        ",
    )
    .way("fcg", &[("highway", "secondary"), ("maxspeed", "50")])
    .way("ab", &[("highway", "residential")])
    .way("bd", &[("highway", "residential"), ("oneway", "yes")])
    .way("cb", &[("highway", "residential"), ("maxweight", "7.5")])
    .way("fahid", &[("highway", "tertiary"), ("maxheight", "4.0")])
    .way(
        "gd",
        &[("highway", "service"), ("motor_vehicle", "destination")],
    )
    .restriction("no_left_turn", "ab", 'b', "cb")
}

#[test]
fn version_1_fixture_stays_readable() {
    let (fresh, _) = map().graph();
    if std::env::var_os("SORTFLEET_WRITE_FIXTURES").is_some() {
        fresh.save(FIXTURE).expect("write fixture");
    }
    let old = RoadGraph::load(FIXTURE).expect("fixture loads");
    assert_eq!(old.fingerprint(), fresh.fingerprint());
    assert_eq!(old.edges(), fresh.edges());
    assert_eq!(old.restrictions().len(), 1);
    let m = map();
    let r = old.router(&VehicleProfile::hazmat_van()).expect("router");
    let a = r.snap(m.pos('a'), 1.0).unwrap();
    let g = r.snap(m.pos('g'), 1.0).unwrap();
    let route = r.route(&a, &g).expect("route");
    assert_eq!(
        Some((route.duration_s, route.distance_m)),
        r.dijkstra(&a, &g)
    );
}
