//! A mixed fleet sized to the day's demand.
//!
//! Each stream has its own body type (the point of source separation is that streams
//! never share a body on one trip): rear-loader compactors for residual and
//! recyclables, a sealed (leak-proof) truck for kitchen waste, a small licensed van for
//! hazardous waste, a tail-lift box truck for bulky items, a tipper for renovation
//! debris, plus one multi-stream compactor as a flexible reserve. The count per stream
//! is the larger of what the load needs (at [`TRIPS_PER_SHIFT`] loads a shift) and what
//! the stop time needs, plus 10% slack, at least one.

use sortfleet_model::{
    BreakRule, Cents, DepotId, Kilograms, Litres, Seconds, Stream, TimeWindow, Vehicle, VehicleId,
    VehicleSize,
};

/// Loads a truck empties at a facility in one shift, for sizing only.
pub(crate) const TRIPS_PER_SHIFT: f64 = 2.5;
/// Average drive between consecutive stops in town, for sizing only.
const DRIVE_BETWEEN_STOPS_S: f64 = 120.0;
/// Of an 8-hour shift, the hours left for stops after the depot and facility runs
/// and the break.
const STOP_HOURS_PER_SHIFT: f64 = 5.5;

/// One vehicle type.
struct Type {
    code: &'static str,
    name: &'static str,
    streams: &'static [Stream],
    licence: bool,
    kg: i64,
    litres: i64,
    size: VehicleSize,
    fixed: i64,
    per_km: i64,
    per_hour: i64,
    shift: TimeWindow,
}

const fn size(gross: i64, h: i64, w: i64, l: i64, v: i64) -> VehicleSize {
    VehicleSize {
        gross_weight_kg: Kilograms(gross),
        height_cm: h,
        width_cm: w,
        length_cm: l,
        max_speed_kmh: v,
    }
}

const EARLY: TimeWindow = TimeWindow::hm((6, 0), (14, 0));
const DAY: TimeWindow = TimeWindow::hm((8, 0), (16, 0));

/// The dedicated type per stream. Litres are bin volume taken (before compaction).
fn dedicated(stream: Stream) -> Type {
    match stream {
        Stream::Kitchen => Type {
            code: "K",
            name: "sealed kitchen-waste truck 8 t",
            streams: &[Stream::Kitchen],
            licence: false,
            kg: 8_000,
            litres: 18_000,
            size: size(18_000, 320, 250, 850, 90),
            fixed: 22_000,
            per_km: 150,
            per_hour: 3_200,
            shift: EARLY,
        },
        Stream::Residual => Type {
            code: "R",
            name: "rear-loader compactor 10 t (residual)",
            streams: &[Stream::Residual],
            licence: false,
            kg: 10_000,
            litres: 55_000,
            size: size(26_000, 350, 255, 1_000, 80),
            fixed: 25_000,
            per_km: 180,
            per_hour: 3_500,
            shift: EARLY,
        },
        Stream::Recyclable => Type {
            code: "Y",
            name: "rear-loader compactor 6 t (recyclables)",
            streams: &[Stream::Recyclable],
            licence: false,
            kg: 6_000,
            litres: 60_000,
            size: size(18_000, 340, 250, 900, 80),
            fixed: 20_000,
            per_km: 150,
            per_hour: 3_200,
            shift: EARLY,
        },
        Stream::Hazardous => Type {
            code: "H",
            name: "licensed hazardous-waste van",
            streams: &[Stream::Hazardous],
            licence: true,
            kg: 800,
            litres: 4_000,
            size: size(3_500, 260, 200, 600, 100),
            fixed: 9_000,
            per_km: 60,
            per_hour: 3_000,
            shift: DAY,
        },
        Stream::Bulky => Type {
            code: "B",
            name: "tail-lift box truck (bulky)",
            streams: &[Stream::Bulky],
            licence: false,
            kg: 4_000,
            litres: 40_000,
            size: size(12_000, 330, 250, 800, 90),
            fixed: 15_000,
            per_km: 110,
            per_hour: 3_200,
            shift: DAY,
        },
        Stream::Renovation => Type {
            code: "C",
            name: "tipper 12 t (renovation debris)",
            streams: &[Stream::Renovation],
            licence: false,
            kg: 12_000,
            litres: 12_000,
            size: size(26_000, 320, 255, 850, 80),
            fixed: 20_000,
            per_km: 170,
            per_hour: 3_400,
            shift: DAY,
        },
    }
}

const MULTI: Type = Type {
    code: "M",
    name: "multi-stream compactor 8 t (reserve)",
    streams: &[Stream::Residual, Stream::Recyclable, Stream::Bulky],
    licence: false,
    kg: 8_000,
    litres: 45_000,
    size: size(22_000, 340, 255, 950, 80),
    fixed: 24_000,
    per_km: 170,
    per_hour: 3_400,
    shift: EARLY,
};

/// Demand of one stream over the whole scenario.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StreamLoad {
    /// Total mass.
    pub kg: i64,
    /// Total bin volume.
    pub litres: i64,
    /// Number of visits.
    pub visits: usize,
    /// Total service time of those visits.
    pub service_s: i64,
}

/// How many vehicles of `stream`'s type the load needs.
fn count(stream: Stream, load: &StreamLoad) -> usize {
    if load.visits == 0 {
        return 0;
    }
    let t = dedicated(stream);
    let by_load =
        (load.kg as f64 / t.kg as f64).max(load.litres as f64 / t.litres as f64) / TRIPS_PER_SHIFT;
    let by_time = (load.service_s as f64 + load.visits as f64 * DRIVE_BETWEEN_STOPS_S)
        / (STOP_HOURS_PER_SHIFT * 3600.0);
    ((by_load.max(by_time) * 1.1).ceil() as usize).max(1)
}

fn vehicle(t: &Type, n: usize, depot: DepotId) -> Vehicle {
    Vehicle {
        id: VehicleId::new(format!("{}{n:02}", t.code)),
        name: format!("{} #{n}", t.name),
        depot,
        certified_streams: t.streams.to_vec(),
        hazardous_licence: t.licence,
        capacity_kg: Kilograms(t.kg),
        capacity_l: Litres(t.litres),
        shift: t.shift,
        max_shift_s: Seconds::hm(8, 0),
        break_rule: Some(BreakRule {
            duration_s: Seconds(30 * 60),
            window: TimeWindow::new(
                t.shift.start + Seconds::hm(3, 0),
                t.shift.start + Seconds::hm(5, 30),
            ),
        }),
        fixed_cost_ct: Cents(t.fixed),
        cost_per_km_ct: Cents(t.per_km),
        cost_per_hour_ct: Cents(t.per_hour),
        size: t.size,
    }
}

/// Number of vehicles [`build`] will make for `loads` (indexed by [`Stream::index`]).
pub(crate) fn fleet_size(loads: &[StreamLoad; 6]) -> usize {
    Stream::ALL
        .into_iter()
        .map(|s| count(s, &loads[s.index()]))
        .sum::<usize>()
        + 1
}

/// Builds the fleet, spreading vehicles of each type over `depots` in turn.
pub(crate) fn build(loads: &[StreamLoad; 6], depots: &[DepotId]) -> Vec<Vehicle> {
    let mut out = Vec::new();
    let mut d = 0usize;
    let mut next_depot = || {
        let id = depots[d % depots.len()].clone();
        d += 1;
        id
    };
    for s in Stream::ALL {
        let t = dedicated(s);
        for n in 1..=count(s, &loads[s.index()]) {
            out.push(vehicle(&t, n, next_depot()));
        }
    }
    out.push(vehicle(&MULTI, 1, next_depot()));
    out
}
