//! JSON round trip: any scenario or plan, written and read back, is the same value.
//! Coordinates are generated in whole micro-degrees (about 0.1 m), the precision a
//! scenario carries.

use chrono::NaiveDate;
use proptest::collection::vec;
use proptest::prelude::*;
use sortfleet_model::*;

fn stream() -> impl Strategy<Value = Stream> {
    proptest::sample::select(Stream::ALL.to_vec())
}

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{0,10}"
}

fn secs() -> impl Strategy<Value = Seconds> {
    // includes negative and beyond-the-day times, which validation reports but JSON must keep
    (-100_000i64..200_000).prop_map(Seconds)
}

fn window() -> impl Strategy<Value = TimeWindow> {
    (secs(), secs()).prop_map(|(s, e)| TimeWindow::new(s, e))
}

fn latlon() -> impl Strategy<Value = LatLon> {
    (-90_000_000i64..=90_000_000, -180_000_000i64..=180_000_000)
        .prop_map(|(a, b)| LatLon::new(a as f64 / 1e6, b as f64 / 1e6))
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0i32..200_000).prop_map(|d| NaiveDate::from_num_days_from_ce_opt(700_000 + d).unwrap())
}

fn kind() -> impl Strategy<Value = FacilityKind> {
    proptest::sample::select(vec![
        FacilityKind::TransferStation,
        FacilityKind::SortingStation,
        FacilityKind::HazardousStore,
        FacilityKind::Incinerator,
        FacilityKind::Landfill,
        FacilityKind::KitchenPlant,
        FacilityKind::Composting,
        FacilityKind::BulkyPoint,
        FacilityKind::ConstructionSite,
    ])
}

fn depot() -> impl Strategy<Value = Depot> {
    (id(), ".{0,12}", latlon()).prop_map(|(id, name, location)| Depot {
        id: DepotId(id),
        name,
        location,
    })
}

fn facility() -> impl Strategy<Value = Facility> {
    (
        (id(), ".{0,12}", kind(), latlon()),
        (vec(stream(), 0..4), window(), secs()),
        (proptest::option::of(any::<i64>()), any::<i64>()),
    )
        .prop_map(
            |(
                (id, name, kind, location),
                (accepted_streams, opening_hours, unload_s),
                (limit, r),
            )| {
                Facility {
                    id: FacilityId(id),
                    name,
                    kind,
                    location,
                    accepted_streams,
                    opening_hours,
                    unload_s,
                    daily_intake_limit_kg: limit.map(Kilograms),
                    geofence_radius_m: Metres(r),
                }
            },
        )
}

fn vehicle() -> impl Strategy<Value = Vehicle> {
    (
        (id(), ".{0,12}", id(), vec(stream(), 0..4), any::<bool>()),
        (any::<i64>(), any::<i64>(), window(), secs()),
        proptest::option::of((secs(), window())),
        (any::<i64>(), any::<i64>(), any::<i64>()),
        (
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
        ),
    )
        .prop_map(
            |((id, name, depot, certified_streams, lic), (kg, l, shift, max), brk, costs, size)| {
                Vehicle {
                    id: VehicleId(id),
                    name,
                    depot: DepotId(depot),
                    certified_streams,
                    hazardous_licence: lic,
                    capacity_kg: Kilograms(kg),
                    capacity_l: Litres(l),
                    shift,
                    max_shift_s: max,
                    break_rule: brk.map(|(duration_s, window)| BreakRule { duration_s, window }),
                    fixed_cost_ct: Cents(costs.0),
                    cost_per_km_ct: Cents(costs.1),
                    cost_per_hour_ct: Cents(costs.2),
                    size: VehicleSize {
                        gross_weight_kg: Kilograms(size.0),
                        height_cm: size.1,
                        width_cm: size.2,
                        length_cm: size.3,
                        max_speed_kmh: size.4,
                    },
                }
            },
        )
}

fn point() -> impl Strategy<Value = CollectionPoint> {
    let demand = (stream(), any::<i64>(), any::<i64>()).prop_map(|(stream, kg, l)| Demand {
        stream,
        kg: Kilograms(kg),
        litres: Litres(l),
    });
    let bin = (id(), stream()).prop_map(|(id, stream)| Bin {
        id: BinId(id),
        stream,
    });
    (
        (id(), ".{0,12}", latlon(), id()),
        (
            vec(demand, 0..4),
            secs(),
            vec(window(), 0..3),
            any::<u8>(),
            vec(bin, 0..4),
        ),
    )
        .prop_map(
            |(
                (id, name, location, district),
                (demands, service_s, time_windows, priority, bins),
            )| {
                CollectionPoint {
                    id: PointId(id),
                    name,
                    location,
                    district: DistrictId(district),
                    demands,
                    service_s,
                    time_windows,
                    priority,
                    bins,
                }
            },
        )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        ".{0,20}",
        date(),
        vec(depot(), 0..3),
        vec(facility(), 0..4),
        vec(vehicle(), 0..4),
        vec(point(), 0..6),
    )
        .prop_map(
            |(name, date, depots, facilities, vehicles, points)| Scenario {
                name,
                date,
                depots,
                facilities,
                vehicles,
                points,
            },
        )
}

fn stop() -> impl Strategy<Value = Stop> {
    (
        id(),
        stream(),
        secs(),
        secs(),
        0i64..100_000,
        0i64..100_000,
        vec(latlon(), 0..4),
    )
        .prop_map(|(point, stream, a, d, kg, l, geometry)| Stop {
            point: PointId(point),
            stream,
            arrival_s: a,
            departure_s: d,
            load_after_kg: Kilograms(kg),
            load_after_l: Litres(l),
            geometry,
        })
}

fn trip() -> impl Strategy<Value = Trip> {
    (
        stream(),
        vec(stop(), 0..4),
        (id(), secs(), secs(), 0i64..100_000, vec(latlon(), 0..3)),
    )
        .prop_map(|(stream, stops, (f, a, d, kg, geometry))| Trip {
            stream,
            stops,
            unload: FacilityUnload {
                facility: FacilityId(f),
                arrival_s: a,
                departure_s: d,
                load_kg: Kilograms(kg),
                geometry,
            },
        })
}

fn route() -> impl Strategy<Value = Route> {
    (
        (id(), id(), secs(), secs()),
        vec(trip(), 0..3),
        vec((secs(), secs()), 0..2),
        vec(latlon(), 0..3),
        (
            -1_000_000i64..1_000_000_000,
            -1_000_000i64..1_000_000,
            -1_000_000i64..1_000_000_000,
        ),
    )
        .prop_map(|((v, d, s, e), trips, breaks, ret, (m, dur, c))| Route {
            vehicle: VehicleId(v),
            depot: DepotId(d),
            start_s: s,
            end_s: e,
            trips,
            breaks: breaks
                .into_iter()
                .map(|(start_s, end_s)| PlannedBreak { start_s, end_s })
                .collect(),
            return_geometry: ret,
            distance_m: Metres(m),
            duration_s: Seconds(dur),
            cost_ct: Cents(c),
        })
}

fn reason() -> impl Strategy<Value = UnservedReason> {
    proptest::sample::select(vec![
        UnservedReason::NoCertifiedVehicle,
        UnservedReason::Unreachable,
        UnservedReason::OutsideShiftOrWindow,
        UnservedReason::OverCapacity,
        UnservedReason::FacilityClosedOrFull,
        UnservedReason::NotWorthServing,
        UnservedReason::Other,
    ])
}

fn plan() -> impl Strategy<Value = Plan> {
    let unserved =
        (id(), stream(), reason(), ".{0,10}").prop_map(|(p, stream, reason, detail)| Unserved {
            point: PointId(p),
            stream,
            reason,
            detail,
        });
    (
        ".{0,20}",
        date(),
        vec(route(), 0..3),
        vec(unserved, 0..4),
        0i64..1_000_000,
    )
        .prop_map(|(name, date, routes, unserved, penalty)| {
            Plan::new(name, date, routes, unserved, Cents(penalty))
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn scenario_json_round_trip(sc in scenario()) {
        let json = serde_json::to_string_pretty(&sc).unwrap();
        let back: Scenario = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, sc);
    }

    #[test]
    fn plan_json_round_trip(plan in plan()) {
        prop_assert!(plan.totals_consistent());
        let json = serde_json::to_string(&plan).unwrap();
        let back: Plan = serde_json::from_str(&json).unwrap();
        prop_assert!(back.totals_consistent());
        prop_assert_eq!(back, plan);
    }

    #[test]
    fn validation_never_panics_and_paths_are_never_empty(sc in scenario()) {
        let report = sc.validate();
        for p in report.errors.iter().chain(&report.warnings) {
            prop_assert!(!p.path.is_empty(), "{}", p);
        }
    }
}

#[test]
fn totals_add_up_from_the_parts() {
    let stop = |kg| Stop {
        point: PointId::from("P"),
        stream: Stream::Kitchen,
        arrival_s: Seconds(0),
        departure_s: Seconds(60),
        load_after_kg: Kilograms(kg),
        load_after_l: Litres(2 * kg),
        geometry: vec![],
    };
    let trip = |stops: Vec<Stop>, kg| Trip {
        stream: Stream::Kitchen,
        stops,
        unload: FacilityUnload {
            facility: FacilityId::from("F"),
            arrival_s: Seconds(100),
            departure_s: Seconds(200),
            load_kg: Kilograms(kg),
            geometry: vec![],
        },
    };
    let route = |trips, m, c| Route {
        vehicle: VehicleId::from("V"),
        depot: DepotId::from("D"),
        start_s: Seconds(0),
        end_s: Seconds(1000),
        trips,
        breaks: vec![],
        return_geometry: vec![],
        distance_m: Metres(m),
        duration_s: Seconds(1000),
        cost_ct: Cents(c),
    };
    let routes = vec![
        route(
            vec![trip(vec![stop(10), stop(30)], 30), trip(vec![stop(5)], 5)],
            7000,
            900,
        ),
        route(vec![], 0, 0),
    ];
    let unserved = vec![Unserved {
        point: PointId::from("Q"),
        stream: Stream::Bulky,
        reason: UnservedReason::NoCertifiedVehicle,
        detail: String::new(),
    }];
    let plan = Plan::new(
        "s",
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        routes,
        unserved,
        Cents(5000),
    );
    assert_eq!(
        plan.totals,
        Totals {
            vehicles_used: 1,
            visits_served: 3,
            visits_unserved: 1,
            distance_m: Metres(7000),
            duration_s: Seconds(2000),
            load_kg: Kilograms(35),
            cost_ct: Cents(900),
            penalty_ct: Cents(5000),
        }
    );
    let mut edited = plan.clone();
    edited.routes[0].distance_m = Metres(7001);
    assert!(!edited.totals_consistent());
}
