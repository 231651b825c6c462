//! Temporary manual check.
use rand::{Rng, SeedableRng};
use sortfleet_model::LatLon;
use sortfleet_roads::*;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(1000);
    let t = std::time::Instant::now();
    let (g, s) = RoadGraph::import_pbf(&path, &ImportOptions::default()).unwrap();
    println!("import {:?} {:?}", t.elapsed(), s);
    let t = std::time::Instant::now();
    let r = g.router(&VehicleProfile::default()).unwrap();
    println!("prep {:?} {:?}", t.elapsed(), r.summary());
    let (lo, hi) = g.bbox();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut snaps = Vec::new();
    while snaps.len() < n {
        let p = LatLon::new(rng.random_range(lo.lat..hi.lat), rng.random_range(lo.lon..hi.lon));
        if let Ok(s) = r.snap(p, 500.0) {
            snaps.push(s);
        }
    }
    let t = std::time::Instant::now();
    let m = r.matrix(&snaps, &snaps);
    println!("matrix {}x{} {:?}", n, n, t.elapsed());
    let mut bad = 0;
    for k in 0..200 {
        let (i, j) = (rng.random_range(0..n), rng.random_range(0..n));
        let a = m.get(i, j);
        let b = r.dijkstra(&snaps[i], &snaps[j]);
        let (x, y) = (r.ch_raw(&snaps[i], &snaps[j]), r.dijkstra_raw(&snaps[i], &snaps[j]));
        if a != b || x.0 != y.0 {
            bad += 1;
            if bad < 5 { println!("mismatch {k} {i} {j} {:?} {:?} {:?} {:?}", a, b, x, y); }
        }
    }
    println!("mismatches {bad}/200");
    let t = std::time::Instant::now();
    let mut tot = 0;
    for k in 0..1000 {
        let rr = r.route(&snaps[k % n], &snaps[(k * 7 + 3) % n]);
        tot += rr.map(|x| x.geometry.len()).unwrap_or(0);
    }
    println!("1000 routes {:?} ({} pts)", t.elapsed(), tot);
    let rr = r.route(&snaps[0], &snaps[1]).unwrap();
    println!("route 0->1 {} s {} m vs matrix {:?}", rr.duration_s, rr.distance_m, m.get(0, 1));
}
