//! Road benchmarks (criterion, fixed seeds): import, preparation, 1000×1000 matrix and one
//! route on the largest shipped extract (porto-alegre), and preparation/matrix/route on
//! synthetic grid cities of growing size to show how cost grows (see
//! `sortfleet_roads::synthetic` for how they are made). `sortfleet bench roads` prints the same
//! figures once, in CPU seconds, including a ~1M-node grid.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use sortfleet_model::LatLon;
use sortfleet_roads::{ImportOptions, RoadGraph, Router, Snap, VehicleProfile};
use std::hint::black_box;
use std::time::Duration;

const PBF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/osm/porto-alegre.osm.pbf"
);

fn points(g: &RoadGraph, r: &Router, n: usize) -> Vec<Snap> {
    let (lo, hi) = g.bbox();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut v = Vec::new();
    while v.len() < n {
        let p = LatLon::new(
            rng.random_range(lo.lat..hi.lat),
            rng.random_range(lo.lon..hi.lon),
        );
        if let Ok(s) = r.snap(p, 500.0) {
            v.push(s);
        }
    }
    v
}

fn bench_graph(c: &mut Criterion, name: &str, make: &dyn Fn() -> RoadGraph, n_points: usize) {
    let g = make();
    let mut grp = c.benchmark_group(name);
    grp.sample_size(10).measurement_time(Duration::from_secs(8));
    grp.bench_function("prepare", |b| {
        b.iter(|| {
            let g2 = make();
            black_box(g2.router(&VehicleProfile::default()).expect("router"));
        })
    });
    let r = g.router(&VehicleProfile::default()).expect("router");
    let pts = points(&g, &r, n_points);
    grp.bench_function(format!("matrix_{n_points}x{n_points}"), |b| {
        b.iter(|| black_box(r.matrix(&pts, &pts)))
    });
    let mut k = 0;
    grp.bench_function("route_with_geometry", |b| {
        b.iter(|| {
            k = (k + 1) % pts.len();
            black_box(r.route(&pts[k], &pts[(k * 7 + 3) % pts.len()]))
        })
    });
    grp.finish();
}

fn roads(c: &mut Criterion) {
    let mut grp = c.benchmark_group("porto-alegre");
    grp.sample_size(10);
    grp.bench_function("import_pbf", |b| {
        b.iter(|| black_box(RoadGraph::import_pbf(PBF, &ImportOptions::default()).expect("import")))
    });
    let (g, _) = RoadGraph::import_pbf(PBF, &ImportOptions::default()).expect("import");
    let file = std::env::temp_dir().join("sortfleet-bench-porto.graph");
    g.save(&file).expect("save");
    grp.bench_function("load_graph_file", |b| {
        b.iter(|| black_box(RoadGraph::load(&file).expect("load")))
    });
    grp.finish();
    bench_graph(
        c,
        "porto-alegre",
        &|| {
            RoadGraph::import_pbf(PBF, &ImportOptions::default())
                .expect("import")
                .0
        },
        1000,
    );
    for side in [100usize, 316] {
        bench_graph(
            c,
            &format!("synthetic-{}k", side * side / 1000),
            &|| sortfleet_roads::synthetic::grid_city(side, 7).expect("grid"),
            1000,
        );
    }
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, roads);
}
use group::benches;
criterion_main!(benches);
