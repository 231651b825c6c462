//! Integer units. Each is a transparent newtype so a distance can never be added to a
//! duration by mistake, while serde still reads and writes a bare number.

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign, Sub};

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident($inner:ty), $suffix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }
        impl AddAssign for $name {
            fn add_assign(&mut self, rhs: Self) {
                self.0 += rhs.0;
            }
        }
        impl Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }
        impl std::iter::Sum for $name {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                Self(iter.map(|x| x.0).sum())
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}{}", self.0, $suffix)
            }
        }
    };
}

unit!(
    /// A distance in whole metres.
    Metres(i64), " m"
);
unit!(
    /// A duration, or a time of day counted from the service day's midnight, in whole seconds.
    Seconds(i64), " s"
);
unit!(
    /// A mass in whole kilograms.
    Kilograms(i64), " kg"
);
unit!(
    /// A volume in whole litres.
    Litres(i64), " l"
);
unit!(
    /// Money in whole cents of the local currency.
    Cents(i64), " ct"
);

impl Seconds {
    /// Seconds in one hour.
    pub const HOUR: Seconds = Seconds(3600);
    /// Seconds in one day; times of day lie in `0..=DAY` (a shift may end at 24:00).
    pub const DAY: Seconds = Seconds(86_400);

    /// Builds a time of day from hours and minutes.
    pub const fn hm(h: i64, m: i64) -> Seconds {
        Seconds(h * 3600 + m * 60)
    }
}

/// A WGS84 position in degrees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    /// Latitude in degrees, -90..=90.
    pub lat: f64,
    /// Longitude in degrees, -180..=180.
    pub lon: f64,
}

impl LatLon {
    /// Builds a position.
    pub const fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }

    /// Whether both coordinates are finite and in range.
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }

    /// Great-circle distance in metres (haversine, mean Earth radius).
    pub fn haversine_m(&self, other: &LatLon) -> f64 {
        const R: f64 = 6_371_008.8;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().asin()
    }
}
