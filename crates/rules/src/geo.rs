//! Small-distance geometry: a local equirectangular projection is accurate to well under
//! a metre over the few kilometres of a corridor segment, and cheap.

use sortfleet_model::LatLon;

/// Metres per degree of latitude on the mean Earth sphere.
const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

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
}
