//! Master-data fixtures shared by the app, service and end-to-end tests and benches, so
//! that "the standard test truck" means the same vehicle everywhere.

use sortfleet_model::scenario::{Facility, FacilityKind, TimeWindow, Vehicle, VehicleSize};
use sortfleet_model::{
    Cents, DepotId, FacilityId, Kilograms, LatLon, Litres, Metres, Seconds, Stream, VehicleId,
};

/// An 8 t / 20 m³ compactor of depot `D1`, on shift 06:00–18:00, certified for `streams`.
pub fn vehicle(id: &str, streams: &[Stream]) -> Vehicle {
    Vehicle {
        id: VehicleId::new(id),
        name: String::new(),
        depot: DepotId::new("D1"),
        certified_streams: streams.to_vec(),
        hazardous_licence: false,
        capacity_kg: Kilograms(8000),
        capacity_l: Litres(20000),
        shift: TimeWindow::hm((6, 0), (18, 0)),
        max_shift_s: Seconds(10 * 3600),
        break_rule: None,
        fixed_cost_ct: Cents(10000),
        cost_per_km_ct: Cents(100),
        cost_per_hour_ct: Cents(2000),
        size: VehicleSize {
            gross_weight_kg: Kilograms(16000),
            height_cm: 350,
            width_cm: 250,
            length_cm: 900,
            max_speed_kmh: 80,
        },
    }
}

/// A transfer station accepting `streams`, open 05:00–20:00, 10 min to unload, no intake
/// limit, with a 200 m geofence.
pub fn facility(id: &str, streams: &[Stream], location: LatLon) -> Facility {
    Facility {
        id: FacilityId::new(id),
        name: String::new(),
        kind: FacilityKind::TransferStation,
        location,
        accepted_streams: streams.to_vec(),
        opening_hours: TimeWindow::hm((5, 0), (20, 0)),
        unload_s: Seconds(600),
        daily_intake_limit_kg: None,
        geofence_radius_m: Metres(200),
    }
}
