//! A tiny seeded generator (SplitMix64). Written out here rather than taken from `rand`
//! so that a seed gives the same city on every platform and every dependency version:
//! the scenario file is a fixture people diff.

/// SplitMix64 (Steele, Lea & Flood 2014): full period, passes BigCrush, one u64 of state.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for `seed`, decorrelated per `stream` so that adding draws in one
    /// phase of the generator does not shift the others.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        r.next_u64();
        r
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn range_f(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in `[lo, hi]`.
    pub fn range_i(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Local equirectangular projection to metres around a reference latitude: accurate to
/// a fraction of a percent over a city, which is all area and spacing estimates need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Local {
    kx: f64,
    ky: f64,
}

impl Local {
    /// Projection centred on latitude `lat0`.
    pub fn new(lat0: f64) -> Self {
        Local {
            kx: 111_320.0 * lat0.to_radians().cos(),
            ky: 110_540.0,
        }
    }

    /// Metres east and north of (0, 0).
    pub fn xy(&self, p: sortfleet_model::LatLon) -> (f64, f64) {
        (p.lon * self.kx, p.lat * self.ky)
    }
}

/// Z-order (Morton) key of a position inside `[min, max]`, for a spatially coherent
/// and deterministic ordering of ways and points.
pub(crate) fn morton(p: sortfleet_model::LatLon, min: (f64, f64), max: (f64, f64)) -> u64 {
    let q = |v: f64, lo: f64, hi: f64| -> u32 {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
        (t.clamp(0.0, 1.0) * 65_535.0) as u32
    };
    let (x, y) = (q(p.lon, min.0, max.0), q(p.lat, min.1, max.1));
    let spread = |mut v: u64| {
        v &= 0xFFFF;
        v = (v | (v << 8)) & 0x00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333;
        v = (v | (v << 1)) & 0x5555_5555;
        v
    };
    spread(x as u64) | (spread(y as u64) << 1)
}
