//! The scenario of one service day: depots, facilities, vehicles and collection points.
//!
//! These are plain data with serde, read from and written to the JSON scenario format
//! described in `docs/scenario.md`. Field names carry their unit (`capacity_kg`,
//! `service_s`, `cost_per_km_ct`); times of day are written `"HH:MM"` (or `"HH:MM:SS"`)
//! counted from the service day's midnight, and also accepted as integer seconds.
//! Parsing is deliberately separate from checking: [`Scenario::from_json_str`] reads
//! tolerantly and returns every problem at once (see [`crate::validate`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{BinId, DepotId, DistrictId, FacilityId, PointId, VehicleId};
use crate::stream::Stream;
use crate::units::{Cents, Kilograms, LatLon, Litres, Metres, Seconds};

/// A closed interval of time of day, `start..=end`, in seconds since the service day's
/// midnight. Written in JSON as `{"start": "06:00", "end": "14:30"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    /// Earliest time, seconds since midnight.
    #[serde(with = "clock")]
    pub start: Seconds,
    /// Latest time, seconds since midnight (24:00 is allowed as the end of the day).
    #[serde(with = "clock")]
    pub end: Seconds,
}

impl TimeWindow {
    /// The whole service day, 00:00..=24:00.
    pub const ALL_DAY: TimeWindow = TimeWindow {
        start: Seconds(0),
        end: Seconds::DAY,
    };

    /// Builds a window; no checks (validation reports inverted windows with their path).
    pub const fn new(start: Seconds, end: Seconds) -> Self {
        Self { start, end }
    }

    /// Builds a window from `(hours, minutes)` pairs, handy in tests and fixtures.
    pub const fn hm(start: (i64, i64), end: (i64, i64)) -> Self {
        Self::new(Seconds::hm(start.0, start.1), Seconds::hm(end.0, end.1))
    }

    /// Whether `t` lies inside the window (both ends included).
    pub fn contains(&self, t: Seconds) -> bool {
        self.start <= t && t <= self.end
    }

    /// Length of the window (negative if inverted).
    pub fn duration(&self) -> Seconds {
        self.end - self.start
    }

    /// Whether the window lies within one service day and does not end before it starts.
    pub fn is_valid_in_day(&self) -> bool {
        self.start <= self.end && self.start >= Seconds(0) && self.end <= Seconds::DAY
    }
}

/// Serde helper writing a time of day as `"HH:MM"` / `"HH:MM:SS"` and reading either
/// that form or integer seconds. Hours may exceed 23 (validation reports times outside
/// the day with their path); negative values are written as plain integers.
pub mod clock {
    use crate::units::Seconds;
    use serde::{Deserialize, Deserializer, Serializer, de};

    /// Formats seconds since midnight as `H:MM` or `H:MM:SS` (hours zero-padded to 2).
    pub fn format(t: Seconds) -> String {
        let s = t.0;
        let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
        if sec == 0 {
            format!("{h:02}:{m:02}")
        } else {
            format!("{h:02}:{m:02}:{sec:02}")
        }
    }

    /// Parses `HH:MM` or `HH:MM:SS` into seconds since midnight.
    pub fn parse(s: &str) -> Result<Seconds, String> {
        let bad = || format!("invalid time of day `{s}` (expected \"HH:MM\" or \"HH:MM:SS\")");
        let parts: Vec<&str> = s.trim().split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let num = |p: &str| -> Result<i64, String> {
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse::<i64>().map_err(|_| bad())
        };
        let h = num(parts[0])?;
        let m = num(parts[1])?;
        let sec = if parts.len() == 3 { num(parts[2])? } else { 0 };
        if m >= 60 || sec >= 60 {
            return Err(bad());
        }
        Ok(Seconds(h * 3600 + m * 60 + sec))
    }

    /// Serializes a time of day (see the module doc).
    pub fn serialize<S: Serializer>(t: &Seconds, ser: S) -> Result<S::Ok, S::Error> {
        if t.0 < 0 {
            ser.serialize_i64(t.0)
        } else {
            ser.serialize_str(&format(*t))
        }
    }

    /// Deserializes a time of day from a string or an integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Seconds, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        match Raw::deserialize(de)
            .map_err(|_| de::Error::custom("expected a time \"HH:MM\" or integer seconds"))?
        {
            Raw::Int(i) => Ok(Seconds(i)),
            Raw::Text(s) => parse(&s).map_err(de::Error::custom),
        }
    }
}

/// A depot where vehicles start and end their shift.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Depot {
    /// Unique depot id.
    pub id: DepotId,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Position of the depot gate.
    pub location: LatLon,
}

/// What a facility does; informs reports and maps, while [`Facility::accepted_streams`]
/// alone decides what may be unloaded there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FacilityKind {
    /// Transfer station (中转站): compacts and forwards, usually residual or kitchen waste.
    TransferStation,
    /// Recyclables sorting station (分拣站).
    SortingStation,
    /// Hazardous-waste temporary store.
    HazardousStore,
    /// Waste-to-energy incineration plant.
    Incinerator,
    /// Sanitary landfill.
    Landfill,
    /// Kitchen-waste treatment plant (anaerobic digestion).
    KitchenPlant,
    /// Composting site.
    Composting,
    /// Bulky-waste dismantling point.
    BulkyPoint,
    /// Construction / renovation debris site.
    ConstructionSite,
}

/// A facility where trucks unload one stream per trip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facility {
    /// Unique facility id.
    pub id: FacilityId,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// What kind of site this is.
    pub kind: FacilityKind,
    /// Position of the weighbridge / gate.
    pub location: LatLon,
    /// Streams the facility takes; tipping any other stream here is `WRONG_FACILITY`.
    pub accepted_streams: Vec<Stream>,
    /// When trucks may arrive to unload.
    pub opening_hours: TimeWindow,
    /// Time to weigh and tip one load.
    pub unload_s: Seconds,
    /// Maximum total intake of the day, if the facility has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_intake_limit_kg: Option<Kilograms>,
    /// Radius around `location` inside which a tip counts as at this facility.
    pub geofence_radius_m: Metres,
}

impl Facility {
    /// Whether this facility takes `stream`.
    pub fn accepts(&self, stream: Stream) -> bool {
        self.accepted_streams.contains(&stream)
    }
}

/// The driver's statutory break: `duration_s` long, starting inside `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakRule {
    /// Length of the break.
    pub duration_s: Seconds,
    /// The break must start within this window.
    pub window: TimeWindow,
}

/// Physical size and weight of a vehicle, for road restrictions (maxweight, maxheight…).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleSize {
    /// Gross vehicle weight when fully loaded.
    pub gross_weight_kg: Kilograms,
    /// Height in centimetres.
    pub height_cm: i64,
    /// Width in centimetres.
    pub width_cm: i64,
    /// Length in centimetres.
    pub length_cm: i64,
    /// Top speed the vehicle may drive, km/h (caps road speeds when timing legs).
    pub max_speed_kmh: i64,
}

/// A collection vehicle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vehicle {
    /// Unique vehicle id (as on the cab terminal).
    pub id: VehicleId,
    /// Human-readable name or plate.
    #[serde(default)]
    pub name: String,
    /// Depot where the shift starts and ends.
    pub depot: DepotId,
    /// Streams the body is certified for; one per trip.
    pub certified_streams: Vec<Stream>,
    /// Licence to carry hazardous waste; required for `HAZARDOUS` trips.
    #[serde(default)]
    pub hazardous_licence: bool,
    /// Payload limit by mass.
    pub capacity_kg: Kilograms,
    /// Payload limit by volume (body size after compaction).
    pub capacity_l: Litres,
    /// Earliest departure from and latest return to the depot.
    pub shift: TimeWindow,
    /// Maximum working time from leaving to returning to the depot.
    pub max_shift_s: Seconds,
    /// Required break, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_rule: Option<BreakRule>,
    /// Cost of using the vehicle at all on the day.
    pub fixed_cost_ct: Cents,
    /// Cost per driven kilometre.
    pub cost_per_km_ct: Cents,
    /// Cost per hour of shift (driver and vehicle time).
    pub cost_per_hour_ct: Cents,
    /// Size and weight for road restrictions.
    pub size: VehicleSize,
}

impl Vehicle {
    /// Whether the vehicle may carry `stream`: certified for it and, for hazardous
    /// waste, licensed.
    pub fn can_carry(&self, stream: Stream) -> bool {
        self.certified_streams.contains(&stream)
            && (stream != Stream::Hazardous || self.hazardous_licence)
    }
}

/// Expected amount of one stream at a collection point on the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    /// The stream; each demand is a separate visit on a trip of that stream.
    pub stream: Stream,
    /// Expected mass.
    pub kg: Kilograms,
    /// Expected volume.
    pub litres: Litres,
}

/// A registered bin, identified by its RFID/QR tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bin {
    /// Tag id, unique across the scenario.
    pub id: BinId,
    /// The stream the bin is for.
    pub stream: Stream,
}

/// A collection point: a bin site with one or more streams to collect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionPoint {
    /// Unique point id.
    pub id: PointId,
    /// Human-readable name or address.
    #[serde(default)]
    pub name: String,
    /// Position where the truck stops.
    pub location: LatLon,
    /// Street office / district, the unit of the regulator's scorecard.
    pub district: DistrictId,
    /// Expected demand per stream; at most one entry per stream.
    pub demands: Vec<Demand>,
    /// Time to serve one stream's visit here (lifting its bins).
    pub service_s: Seconds,
    /// Allowed service windows; empty means any time of the day.
    #[serde(default)]
    pub time_windows: Vec<TimeWindow>,
    /// Priority, 0 = normal; higher is served first when not everything fits.
    #[serde(default)]
    pub priority: u8,
    /// The registered bins at this point.
    #[serde(default)]
    pub bins: Vec<Bin>,
}

impl CollectionPoint {
    /// The demand of `stream` at this point, if any.
    pub fn demand(&self, stream: Stream) -> Option<&Demand> {
        self.demands.iter().find(|d| d.stream == stream)
    }
}

/// One service day: everything the planner needs besides the road graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name of the scenario (e.g. the city and district).
    pub name: String,
    /// The service day.
    pub date: NaiveDate,
    /// Depots.
    pub depots: Vec<Depot>,
    /// Facilities.
    pub facilities: Vec<Facility>,
    /// Vehicles.
    pub vehicles: Vec<Vehicle>,
    /// Collection points.
    pub points: Vec<CollectionPoint>,
}

impl Scenario {
    /// The depot with id `id`.
    pub fn depot(&self, id: &DepotId) -> Option<&Depot> {
        self.depots.iter().find(|d| &d.id == id)
    }

    /// The facility with id `id`.
    pub fn facility(&self, id: &FacilityId) -> Option<&Facility> {
        self.facilities.iter().find(|f| &f.id == id)
    }

    /// The vehicle with id `id`.
    pub fn vehicle(&self, id: &VehicleId) -> Option<&Vehicle> {
        self.vehicles.iter().find(|v| &v.id == id)
    }

    /// The collection point with id `id`.
    pub fn point(&self, id: &PointId) -> Option<&CollectionPoint> {
        self.points.iter().find(|p| &p.id == id)
    }
}
