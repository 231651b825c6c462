//! Vehicle classes: what a truck weighs and measures decides which roads it may use.

use serde::{Deserialize, Serialize};

/// The physical class of a vehicle, as far as road access is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VehicleProfile {
    /// Gross weight in kilograms (compared with `maxweight`).
    pub weight_kg: f64,
    /// Height in metres (compared with `maxheight`).
    pub height_m: f64,
    /// Width in metres (compared with `maxwidth`).
    pub width_m: f64,
    /// Length in metres (compared with `maxlength`).
    pub length_m: f64,
    /// The vehicle's own top speed; road speeds are capped by it.
    pub max_speed_kmh: f64,
    /// Carries dangerous goods: roads tagged `hazmat=no` are forbidden.
    pub hazmat: bool,
}

impl Default for VehicleProfile {
    /// A typical 3-axle refuse collection truck (26 t, 3.6 m high).
    fn default() -> Self {
        Self::refuse_truck()
    }
}

impl VehicleProfile {
    /// A typical 3-axle rear-loader refuse truck: 26 t, 3.6 × 2.55 × 10 m, 80 km/h.
    pub const fn refuse_truck() -> Self {
        Self {
            weight_kg: 26_000.0,
            height_m: 3.6,
            width_m: 2.55,
            length_m: 10.0,
            max_speed_kmh: 80.0,
            hazmat: false,
        }
    }

    /// A small van (3.5 t) as used for hazardous household waste, licensed for hazmat.
    pub const fn hazmat_van() -> Self {
        Self {
            weight_kg: 3_500.0,
            height_m: 2.5,
            width_m: 2.0,
            length_m: 6.0,
            max_speed_kmh: 100.0,
            hazmat: true,
        }
    }

    /// A vehicle with no size limit issues (any truck-drivable road), for comparisons.
    pub const fn unrestricted() -> Self {
        Self {
            weight_kg: 0.0,
            height_m: 0.0,
            width_m: 0.0,
            length_m: 0.0,
            max_speed_kmh: 130.0,
            hazmat: false,
        }
    }

    /// Rejects non-finite or negative values and a speed of zero.
    pub fn validate(&self) -> Result<(), crate::RoadsError> {
        let fields = [
            ("weight_kg", self.weight_kg),
            ("height_m", self.height_m),
            ("width_m", self.width_m),
            ("length_m", self.length_m),
            ("max_speed_kmh", self.max_speed_kmh),
        ];
        for (name, v) in fields {
            if !v.is_finite() || v < 0.0 {
                return Err(crate::RoadsError::InvalidProfile(format!("{name} = {v}")));
            }
        }
        if self.max_speed_kmh < 1.0 {
            return Err(crate::RoadsError::InvalidProfile(format!(
                "max_speed_kmh = {} (< 1)",
                self.max_speed_kmh
            )));
        }
        Ok(())
    }

    /// Cache key: the profile quantised to the units edges store limits in
    /// (kg, cm, km/h), so profiles that see the same roads share one hierarchy.
    pub fn key(&self) -> ProfileKey {
        ProfileKey {
            weight_kg: self.weight_kg.ceil() as u32,
            height_cm: (self.height_m * 100.0).ceil() as u32,
            width_cm: (self.width_m * 100.0).ceil() as u32,
            length_cm: (self.length_m * 100.0).ceil() as u32,
            speed_kmh: self.max_speed_kmh.round() as u32,
            hazmat: self.hazmat,
        }
    }
}

/// A [`VehicleProfile`] in integer units; equal keys get the same router.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileKey {
    /// Kilograms, rounded up.
    pub weight_kg: u32,
    /// Centimetres, rounded up.
    pub height_cm: u32,
    /// Centimetres, rounded up.
    pub width_cm: u32,
    /// Centimetres, rounded up.
    pub length_cm: u32,
    /// km/h, rounded.
    pub speed_kmh: u32,
    /// Carries dangerous goods.
    pub hazmat: bool,
}

impl std::fmt::Display for ProfileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}kg/{}x{}x{}cm/{}kmh{}",
            self.weight_kg,
            self.height_cm,
            self.width_cm,
            self.length_cm,
            self.speed_kmh,
            if self.hazmat { "/hazmat" } else { "" }
        )
    }
}
