//! Small-distance geometry: a local equirectangular projection is accurate to well under
//! a metre over the few kilometres of a corridor segment, and cheap.

use sortfleet_model::LatLon;

/// Metres per degree of latitude on the mean Earth sphere.
const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// Grid cell size of the spatial indexes, degrees (about 220 m north-south).
pub const CELL_DEG: f64 = 0.002;

/// Above this many cells a query scans everything instead (absurd radii, poles).
const MAX_CELLS: i64 = 4096;

/// The grid cell holding `p`.
pub fn cell(p: &LatLon) -> (i32, i32) {
    // `as` saturates, so even a wild coordinate cannot panic here.
    (
        (p.lat / CELL_DEG).floor() as i32,
        (p.lon / CELL_DEG).floor() as i32,
    )
}

/// Inclusive cell ranges covering a box; `None` when it would be more than `MAX_CELLS`.
fn cell_box(lo: &LatLon, hi: &LatLon) -> Option<((i32, i32), (i32, i32))> {
    let (a, b) = (cell(lo), cell(hi));
    let n = (i64::from(b.0) - i64::from(a.0) + 1) * (i64::from(b.1) - i64::from(a.1) + 1);
    (n <= MAX_CELLS).then_some((a, b))
}

/// Every cell within `radius_m` of `p` (by bounding box), or `None` for "too many: scan all".
pub fn cells_around(p: &LatLon, radius_m: f64) -> Option<Vec<(i32, i32)>> {
    if !radius_m.is_finite() || radius_m < 0.0 {
        return None;
    }
    let dlat = radius_m / M_PER_DEG;
    let dlon = radius_m / (M_PER_DEG * p.lat.to_radians().cos().max(0.01));
    let lo = LatLon::new(p.lat - dlat, p.lon - dlon);
    let hi = LatLon::new(p.lat + dlat, p.lon + dlon);
    let (a, b) = cell_box(&lo, &hi)?;
    Some(
        (a.0..=b.0)
            .flat_map(|i| (a.1..=b.1).map(move |j| (i, j)))
            .collect(),
    )
}

/// Cells overlapped by the bounding box of segment a-b, or `None` if too many.
pub fn cells_of_segment(a: &LatLon, b: &LatLon) -> Option<Vec<(i32, i32)>> {
    let lo = LatLon::new(a.lat.min(b.lat), a.lon.min(b.lon));
    let hi = LatLon::new(a.lat.max(b.lat), a.lon.max(b.lon));
    let (x, y) = cell_box(&lo, &hi)?;
    Some(
        (x.0..=y.0)
            .flat_map(|i| (x.1..=y.1).map(move |j| (i, j)))
            .collect(),
    )
}

/// Distance in metres from `p` to segment a-b.
pub fn dist_to_segment_m(p: &LatLon, a: &LatLon, b: &LatLon) -> f64 {
    let kx = M_PER_DEG * p.lat.to_radians().cos();
    let xy = |q: &LatLon| ((q.lon - p.lon) * kx, (q.lat - p.lat) * M_PER_DEG);
    seg_dist_origin(xy(a), xy(b))
}

/// Distance in metres from `p` to the polyline `line` (a single point if it has one vertex).
pub fn dist_to_polyline_m(p: &LatLon, line: &[LatLon]) -> f64 {
    match line {
        [] => f64::INFINITY,
        [a] => p.haversine_m(a),
        _ => {
            let kx = M_PER_DEG * p.lat.to_radians().cos();
            let xy = |q: &LatLon| ((q.lon - p.lon) * kx, (q.lat - p.lat) * M_PER_DEG);
            line.windows(2)
                .map(|w| seg_dist_origin(xy(&w[0]), xy(&w[1])))
                .fold(f64::INFINITY, f64::min)
        }
    }
}

/// `p` in a local plane: metres east and north of `origin` (equirectangular, scaled at
/// the origin's latitude; accurate over the few kilometres of one vehicle's day).
pub fn to_plane(origin: &LatLon, p: &LatLon) -> (f64, f64) {
    let kx = M_PER_DEG * origin.lat.to_radians().cos();
    ((p.lon - origin.lon) * kx, (p.lat - origin.lat) * M_PER_DEG)
}

fn cross(o: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Convex hull of planar points, counter-clockwise, without collinear or repeated
/// vertices (Andrew's monotone chain). Non-finite points are ignored; fewer than three
/// distinct points give the points themselves (a point or a segment).
pub fn convex_hull(mut pts: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    pts.retain(|p| p.0.is_finite() && p.1.is_finite());
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut lower: Vec<(f64, f64)> = Vec::new();
    for &p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0.0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<(f64, f64)> = Vec::new();
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0.0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// How far `q` lies outside the convex polygon `hull` (counter-clockwise, as from
/// [`convex_hull`]); 0 inside or on the boundary, infinite for an empty hull.
pub fn dist_outside_hull(hull: &[(f64, f64)], q: (f64, f64)) -> f64 {
    let rel = |a: (f64, f64)| (a.0 - q.0, a.1 - q.1);
    match hull {
        [] => f64::INFINITY,
        [a] => {
            let (x, y) = rel(*a);
            (x * x + y * y).sqrt()
        }
        _ => {
            let n = hull.len();
            let edges = (0..n).map(|i| (hull[i], hull[(i + 1) % n]));
            if n >= 3 && edges.clone().all(|(a, b)| cross(a, b, q) >= 0.0) {
                return 0.0;
            }
            edges
                .map(|(a, b)| seg_dist_origin(rel(a), rel(b)))
                .fold(f64::INFINITY, f64::min)
        }
    }
}

/// Distance from the origin to segment a-b in the plane.
fn seg_dist_origin(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (a.0 + t * dx, a.1 + t * dy);
    (x * x + y * y).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyline_distance_matches_haversine_to_the_foot() {
        // A north-south segment; a point 0.001 deg east of its middle.
        let line = [LatLon::new(31.0, 121.0), LatLon::new(31.01, 121.0)];
        let p = LatLon::new(31.005, 121.001);
        let d = dist_to_polyline_m(&p, &line);
        let foot = LatLon::new(31.005, 121.0);
        assert!((d - p.haversine_m(&foot)).abs() < 0.5, "{d}");
        // Beyond the end the nearest point is the end vertex.
        let q = LatLon::new(31.02, 121.0);
        assert!((dist_to_polyline_m(&q, &line) - q.haversine_m(&line[1])).abs() < 1.0);
        assert!(dist_to_polyline_m(&q, &[]).is_infinite());
    }

    #[test]
    fn cells_cover_the_radius() {
        let p = LatLon::new(31.2001, 121.4001);
        let cs = cells_around(&p, 250.0).unwrap();
        assert!(cs.contains(&cell(&p)));
        // A point 240 m north lies in one of the cells.
        let q = LatLon::new(31.2001 + 240.0 / M_PER_DEG, 121.4001);
        assert!(cs.contains(&cell(&q)));
        assert!(cells_around(&p, 1e9).is_none());
        assert!(cells_around(&p, f64::NAN).is_none());
    }

    #[test]
    fn hull_drops_inner_points_and_measures_outside() {
        let sq = [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)];
        let mut pts = sq.to_vec();
        pts.extend([(50.0, 50.0), (50.0, 0.0), (f64::NAN, 1.0), (100.0, 100.0)]);
        let h = convex_hull(pts);
        assert_eq!(h.len(), 4, "{h:?}");
        for p in sq {
            assert!(h.contains(&p));
        }
        assert_eq!(dist_outside_hull(&h, (50.0, 50.0)), 0.0);
        assert_eq!(dist_outside_hull(&h, (100.0, 40.0)), 0.0);
        assert!((dist_outside_hull(&h, (130.0, 50.0)) - 30.0).abs() < 1e-9);
        assert!((dist_outside_hull(&h, (103.0, 104.0)) - 5.0).abs() < 1e-9);
        // Degenerate hulls: a segment and a point.
        let seg = convex_hull(vec![(0.0, 0.0), (10.0, 0.0), (5.0, 0.0)]);
        assert_eq!(seg.len(), 2, "{seg:?}");
        assert!((dist_outside_hull(&seg, (5.0, 3.0)) - 3.0).abs() < 1e-9);
        assert!((dist_outside_hull(&[(0.0, 0.0)], (3.0, 4.0)) - 5.0).abs() < 1e-9);
        assert!(dist_outside_hull(&[], (0.0, 0.0)).is_infinite());
    }
}
