//! Round trips model -> proto -> (wire bytes) -> model, and bad input naming its field.

use super::*;
use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use prost::Message;
use sortfleet_dispatch::app::{MasterBatch, MasterDelete};
use sortfleet_model::event::{EventKind, ExceptionKind, TruckEvent};
use sortfleet_model::incident::{Incident, RuleId, Severity};
use sortfleet_model::plan::{
    FacilityUnload, Plan, PlannedBreak, Route, Stop, Trip, Unserved, UnservedReason,
};
use sortfleet_model::scenario::{
    Bin, BreakRule, CollectionPoint, Demand, Depot, Facility, FacilityKind, Scenario, TimeWindow,
    Vehicle, VehicleSize,
};
use sortfleet_model::*;
use sortfleet_proto::v1;
use std::fmt::Debug;

// ------------------------------------------------------------------ strategies

fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.-]{1,10}"
}

fn text() -> impl Strategy<Value = String> {
    "[ -~\u{4e00}-\u{4e20}]{0,12}"
}

fn stream() -> impl Strategy<Value = Stream> {
    proptest::sample::select(Stream::ALL.to_vec())
}

fn streams() -> impl Strategy<Value = Vec<Stream>> {
    proptest::collection::vec(stream(), 0..4)
}

fn latlon() -> impl Strategy<Value = LatLon> {
    (-90.0..=90.0f64, -180.0..=180.0f64).prop_map(|(a, b)| LatLon::new(a, b))
}

fn geometry() -> impl Strategy<Value = Vec<LatLon>> {
    proptest::collection::vec(latlon(), 0..4)
}

fn secs() -> impl Strategy<Value = Seconds> {
    (-1_000i64..200_000).prop_map(Seconds)
}

fn kg() -> impl Strategy<Value = Kilograms> {
    any::<i64>().prop_map(Kilograms)
}

/// Plan quantities stay far from i64::MAX: Plan::new sums them.
const SMALL: std::ops::Range<i64> = -1_000_000_000..1_000_000_000;

fn small_kg() -> impl Strategy<Value = Kilograms> {
    SMALL.prop_map(Kilograms)
}

fn window() -> impl Strategy<Value = TimeWindow> {
    (secs(), secs()).prop_map(|(a, b)| TimeWindow::new(a, b))
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0u64..60_000).prop_map(|d| NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Days::new(d))
}

fn depot() -> impl Strategy<Value = Depot> {
    (ident(), text(), latlon()).prop_map(|(id, name, location)| Depot {
        id: DepotId::new(id),
        name,
        location,
    })
}

fn facility_kind() -> impl Strategy<Value = FacilityKind> {
    use FacilityKind::*;
    proptest::sample::select(vec![
        TransferStation,
        SortingStation,
        HazardousStore,
        Incinerator,
        Landfill,
        KitchenPlant,
        Composting,
        BulkyPoint,
        ConstructionSite,
    ])
}

fn facility() -> impl Strategy<Value = Facility> {
    (
        ident(),
        text(),
        facility_kind(),
        latlon(),
        streams(),
        window(),
        secs(),
        proptest::option::of(kg()),
        any::<i64>(),
    )
        .prop_map(
            |(id, name, kind, location, s, oh, unload, limit, geo)| Facility {
                id: FacilityId::new(id),
                name,
                kind,
                location,
                accepted_streams: s,
                opening_hours: oh,
                unload_s: unload,
                daily_intake_limit_kg: limit,
                geofence_radius_m: Metres(geo),
            },
        )
}

fn vehicle() -> impl Strategy<Value = Vehicle> {
    let head = (
        ident(),
        text(),
        ident(),
        streams(),
        any::<bool>(),
        kg(),
        any::<i64>(),
    );
    let tail = (
        window(),
        secs(),
        proptest::option::of((secs(), window())),
        (any::<i64>(), any::<i64>(), any::<i64>()),
        (kg(), any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>()),
    );
    (head, tail).prop_map(
        |((id, name, depot, cs, haz, cap_kg, cap_l), (shift, max_shift, br, costs, size))| {
            Vehicle {
                id: VehicleId::new(id),
                name,
                depot: DepotId::new(depot),
                certified_streams: cs,
                hazardous_licence: haz,
                capacity_kg: cap_kg,
                capacity_l: Litres(cap_l),
                shift,
                max_shift_s: max_shift,
                break_rule: br.map(|(d, w)| BreakRule {
                    duration_s: d,
                    window: w,
                }),
                fixed_cost_ct: Cents(costs.0),
                cost_per_km_ct: Cents(costs.1),
                cost_per_hour_ct: Cents(costs.2),
                size: VehicleSize {
                    gross_weight_kg: size.0,
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
    (
        ident(),
        text(),
        latlon(),
        ident(),
        proptest::collection::vec(
            (stream(), kg(), any::<i64>()).prop_map(|(stream, kg, l)| Demand {
                stream,
                kg,
                litres: Litres(l),
            }),
            0..4,
        ),
        secs(),
        proptest::collection::vec(window(), 0..3),
        any::<u8>(),
        proptest::collection::vec(
            (ident(), stream()).prop_map(|(id, stream)| Bin {
                id: BinId::new(id),
                stream,
            }),
            0..4,
        ),
    )
        .prop_map(
            |(id, name, location, district, demands, service, tws, priority, bins)| {
                CollectionPoint {
                    id: PointId::new(id),
                    name,
                    location,
                    district: DistrictId::new(district),
                    demands,
                    service_s: service,
                    time_windows: tws,
                    priority,
                    bins,
                }
            },
        )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    use proptest::collection::vec;
    (
        text(),
        date(),
        vec(depot(), 0..3),
        vec(facility(), 0..3),
        vec(vehicle(), 0..3),
        vec(point(), 0..4),
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
        ident(),
        stream(),
        secs(),
        secs(),
        small_kg(),
        SMALL,
        geometry(),
    )
        .prop_map(|(p, stream, a, d, load, l, geometry)| Stop {
            point: PointId::new(p),
            stream,
            arrival_s: a,
            departure_s: d,
            load_after_kg: load,
            load_after_l: Litres(l),
            geometry,
        })
}

fn trip() -> impl Strategy<Value = Trip> {
    (
        stream(),
        proptest::collection::vec(stop(), 0..4),
        (ident(), secs(), secs(), small_kg(), geometry()),
    )
        .prop_map(|(stream, stops, (f, a, d, load, geometry))| Trip {
            stream,
            stops,
            unload: FacilityUnload {
                facility: FacilityId::new(f),
                arrival_s: a,
                departure_s: d,
                load_kg: load,
                geometry,
            },
        })
}

fn route() -> impl Strategy<Value = Route> {
    (
        (ident(), ident(), secs(), secs()),
        proptest::collection::vec(trip(), 0..3),
        proptest::collection::vec(
            (secs(), secs()).prop_map(|(start_s, end_s)| PlannedBreak { start_s, end_s }),
            0..2,
        ),
        geometry(),
        (SMALL, secs(), SMALL),
    )
        .prop_map(
            |((v, d, s, e), trips, breaks, ret, (dist, dur, cost))| Route {
                vehicle: VehicleId::new(v),
                depot: DepotId::new(d),
                start_s: s,
                end_s: e,
                trips,
                breaks,
                return_geometry: ret,
                distance_m: Metres(dist),
                duration_s: dur,
                cost_ct: Cents(cost),
            },
        )
}

fn unserved() -> impl Strategy<Value = Unserved> {
    use UnservedReason::*;
    (
        ident(),
        stream(),
        proptest::sample::select(vec![
            NoCertifiedVehicle,
            Unreachable,
            OutsideShiftOrWindow,
            OverCapacity,
            FacilityClosedOrFull,
            NotWorthServing,
            Other,
        ]),
        text(),
    )
        .prop_map(|(p, stream, reason, detail)| Unserved {
            point: PointId::new(p),
            stream,
            reason,
            detail,
        })
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        text(),
        date(),
        proptest::collection::vec(route(), 0..3),
        proptest::collection::vec(unserved(), 0..3),
        SMALL,
    )
        .prop_map(|(name, date, routes, unserved, penalty)| {
            Plan::new(name, date, routes, unserved, Cents(penalty))
        })
}

fn exception_kind() -> impl Strategy<Value = ExceptionKind> {
    proptest::sample::select(vec![
        ExceptionKind::BinNotOut,
        ExceptionKind::Blocked,
        ExceptionKind::Contaminated,
    ])
}

fn event_kind() -> impl Strategy<Value = EventKind> {
    let opt_id = || proptest::option::of(ident());
    prop_oneof![
        Just(EventKind::GpsFix),
        (
            opt_id(),
            proptest::option::of(stream()),
            opt_id(),
            proptest::option::of(kg())
        )
            .prop_map(|(bin, stream, point, lift_kg)| EventKind::BinScan {
                bin: bin.map(BinId::new),
                stream,
                point: point.map(PointId::new),
                lift_kg,
            }),
        kg().prop_map(|load_kg| EventKind::LoadReading { load_kg }),
        any::<bool>().prop_map(|tipping| EventKind::BodySensor { tipping }),
        (
            ident(),
            (kg(), kg(), kg()),
            stream(),
            any::<bool>(),
            proptest::option::of(0u8..=100)
        )
            .prop_map(|(f, (g, t, n), s, rejected, purity_pct)| {
                EventKind::WeighbridgeTicket {
                    facility: FacilityId::new(f),
                    gross_kg: g,
                    tare_kg: t,
                    net_kg: n,
                    declared_stream: s,
                    rejected,
                    purity_pct,
                }
            }),
        (
            exception_kind(),
            ident(),
            opt_id(),
            proptest::option::of("[0-9a-f]{64}")
        )
            .prop_map(|(kind, p, bin, photo)| EventKind::DriverException {
                kind,
                point: PointId::new(p),
                bin: bin.map(BinId::new),
                photo_sha256: photo,
            }),
        Just(EventKind::ShiftStart),
        Just(EventKind::ShiftEnd),
    ]
}

const MS_RANGE: std::ops::Range<i64> = -2_000_000_000_000..10_000_000_000_000;

fn event_for(vehicle: impl Strategy<Value = String>) -> impl Strategy<Value = TruckEvent> {
    (
        ident(),
        1u64..,
        vehicle,
        MS_RANGE,
        proptest::option::of(latlon()),
        event_kind(),
    )
        .prop_map(|(cid, seq, v, at, position, kind)| TruckEvent {
            client_event_id: cid,
            device_seq: seq,
            vehicle: VehicleId::new(v),
            occurred_at: at,
            position,
            kind,
        })
}

fn incident() -> impl Strategy<Value = Incident> {
    (
        (
            ident(),
            proptest::sample::select(RuleId::ALL.to_vec()),
            any::<u32>(),
            proptest::sample::select(vec![
                Severity::Notice,
                Severity::Warning,
                Severity::Critical,
            ]),
            ident(),
        ),
        (
            proptest::option::of(stream()),
            proptest::option::of(ident()),
            proptest::option::of(ident()),
            proptest::collection::vec(ident(), 0..4),
            proptest::option::of(latlon()),
            MS_RANGE,
            text(),
        ),
    )
        .prop_map(
            |((id, rule, rule_version, severity, v), (stream, d, p, evidence, position, at, m))| {
                Incident {
                    id,
                    rule,
                    rule_version,
                    severity,
                    vehicle: VehicleId::new(v),
                    stream,
                    district: d.map(DistrictId::new),
                    point: p.map(PointId::new),
                    evidence,
                    position,
                    occurred_at: at,
                    message: m,
                }
            },
        )
}

// ------------------------------------------------------------------ round trips

/// model -> proto -> bytes -> proto -> model must give back the model value.
fn round_trip<M, P>(m: &M)
where
    M: ToProto<P> + FromProto<P> + PartialEq + Debug,
    P: Message + Default,
{
    let bytes = m.to_proto().encode_to_vec();
    let decoded = P::decode(bytes.as_slice()).expect("own encoding decodes");
    let back = M::from_proto(decoded, "").expect("own output converts back");
    assert_eq!(&back, m);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn scenario_entities_round_trip(s in scenario()) {
        round_trip::<Scenario, v1::Scenario>(&s);
        for d in &s.depots { round_trip::<Depot, v1::Depot>(d); }
        for f in &s.facilities { round_trip::<Facility, v1::Facility>(f); }
        for v in &s.vehicles { round_trip::<Vehicle, v1::Vehicle>(v); }
        for p in &s.points { round_trip::<CollectionPoint, v1::CollectionPoint>(p); }
        let md = MasterBatch {
            depots: s.depots.clone(),
            facilities: s.facilities.clone(),
            vehicles: s.vehicles.clone(),
            points: s.points.clone(),
        };
        round_trip::<MasterBatch, v1::UpsertMasterDataRequest>(&md);
        let ids = MasterDelete {
            depots: s.depots.iter().map(|d| d.id.clone()).collect(),
            facilities: s.facilities.iter().map(|f| f.id.clone()).collect(),
            vehicles: s.vehicles.iter().map(|v| v.id.clone()).collect(),
            points: s.points.iter().map(|p| p.id.clone()).collect(),
        };
        round_trip::<MasterDelete, v1::DeleteMasterDataRequest>(&ids);
    }

    #[test]
    fn plan_round_trips_with_and_without_enrichment(p in plan(), s in scenario()) {
        round_trip::<Plan, v1::Plan>(&p);
        let enriched = plan_to_proto(&p, Some(&s));
        let back = Plan::from_proto(enriched, "").unwrap();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn events_round_trip(e in event_for(ident())) {
        round_trip::<TruckEvent, v1::TruckEvent>(&e);
    }

    #[test]
    fn event_batches_round_trip(
        v in ident(),
        events in proptest::collection::vec(event_for(Just("T-1".to_owned())), 0..6),
        inherit in any::<bool>(),
    ) {
        let events: Vec<TruckEvent> = events
            .into_iter()
            .map(|mut e| { e.vehicle = VehicleId::new(v.clone()); e })
            .collect();
        let proto = v1::EventBatch {
            vehicle_id: v.clone(),
            device_id: "dev".into(),
            events: events
                .iter()
                .map(|e| {
                    let mut p: v1::TruckEvent = e.to_proto();
                    if inherit { p.vehicle_id.clear(); }
                    p
                })
                .collect(),
        };
        let batch = event_batch_from_proto(proto).unwrap();
        prop_assert_eq!(batch.vehicle, VehicleId::new(v));
        let back: Vec<TruckEvent> = batch.events.into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(back, events);
    }

    #[test]
    fn incidents_round_trip(
        i in incident(),
        seq in any::<u64>(),
        trip_index in proptest::option::of(any::<u32>()),
        detected in proptest::option::of(MS_RANGE),
    ) {
        round_trip::<Incident, v1::Incident>(&i);
        let meta = IncidentMeta { seq, trip_index, detected_at_ms: detected };
        let bytes = incident_to_proto(&i, &meta).encode_to_vec();
        let back = <(Incident, IncidentMeta)>::from_proto(
            v1::Incident::decode(bytes.as_slice()).unwrap(), "").unwrap();
        prop_assert_eq!(back, (i, meta));
    }

    /// Arbitrary wire input never panics the conversions: it converts or names a field.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(p) = v1::UpsertMasterDataRequest::decode(bytes.as_slice()) {
            let _ = MasterBatch::from_proto(p, "");
        }
        if let Ok(p) = v1::EventBatch::decode(bytes.as_slice()) {
            let _ = event_batch_from_proto(p);
        }
        if let Ok(p) = v1::Plan::decode(bytes.as_slice()) {
            let _ = Plan::from_proto(p, "");
        }
        if let Ok(p) = v1::Incident::decode(bytes.as_slice()) {
            let _ = Incident::from_proto(p, "");
        }
    }
}

// ------------------------------------------------------------------ bad input

fn sample_vehicle() -> Vehicle {
    Vehicle {
        id: VehicleId::new("T1"),
        name: "truck".into(),
        depot: DepotId::new("D1"),
        certified_streams: vec![Stream::Kitchen],
        hazardous_licence: false,
        capacity_kg: Kilograms(8000),
        capacity_l: Litres(12000),
        shift: TimeWindow::hm((6, 0), (14, 0)),
        max_shift_s: Seconds::hm(8, 0),
        break_rule: None,
        fixed_cost_ct: Cents(10_000),
        cost_per_km_ct: Cents(150),
        cost_per_hour_ct: Cents(4000),
        size: VehicleSize {
            gross_weight_kg: Kilograms(18_000),
            height_cm: 340,
            width_cm: 250,
            length_cm: 800,
            max_speed_kmh: 80,
        },
    }
}

fn sample_point() -> CollectionPoint {
    CollectionPoint {
        id: PointId::new("P1"),
        name: String::new(),
        location: LatLon::new(31.2, 121.4),
        district: DistrictId::new("XH"),
        demands: vec![
            Demand {
                stream: Stream::Kitchen,
                kg: Kilograms(120),
                litres: Litres(240),
            },
            Demand {
                stream: Stream::Recyclable,
                kg: Kilograms(30),
                litres: Litres(300),
            },
        ],
        service_s: Seconds(90),
        time_windows: vec![],
        priority: 0,
        bins: vec![
            Bin {
                id: BinId::new("B1"),
                stream: Stream::Kitchen,
            },
            Bin {
                id: BinId::new("B2"),
                stream: Stream::Recyclable,
            },
            Bin {
                id: BinId::new("B3"),
                stream: Stream::Kitchen,
            },
        ],
    }
}

fn upsert_with(edit: impl FnOnce(&mut v1::UpsertMasterDataRequest)) -> ConvertError {
    let md = MasterBatch {
        depots: vec![Depot {
            id: DepotId::new("D1"),
            name: String::new(),
            location: LatLon::new(31.0, 121.0),
        }],
        facilities: vec![],
        vehicles: vec![sample_vehicle(), sample_vehicle(), sample_vehicle()],
        points: vec![sample_point()],
    };
    let mut p = md.to_proto();
    assert_eq!(MasterBatch::from_proto(p.clone(), "").as_ref(), Ok(&md));
    edit(&mut p);
    MasterBatch::from_proto(p, "").expect_err("edited request must be refused")
}

#[test]
fn unknown_stream_names_the_element() {
    let e = upsert_with(|p| p.vehicles[2].certified_streams.push(42));
    assert_eq!(e.path, "vehicles[2].certified_streams[1]");
    assert_eq!(e.kind, ConvertErrorKind::UnknownEnum(42));
    assert_eq!(
        e.to_string(),
        "vehicles[2].certified_streams[1]: unknown enum value 42"
    );

    let e = upsert_with(|p| p.collection_points[0].demands[1].stream = 0);
    assert_eq!(e.path, "collection_points[0].demands[1].stream");
    assert_eq!(e.kind, ConvertErrorKind::Unspecified);

    let e = upsert_with(|p| p.collection_points[0].bins[2].stream = 7);
    assert_eq!(e.path, "collection_points[0].bins[2].stream");
}

#[test]
fn missing_required_fields_are_named() {
    let e = upsert_with(|p| p.vehicles[1].shift = None);
    assert_eq!(
        (e.path.as_str(), &e.kind),
        ("vehicles[1].shift", &ConvertErrorKind::Missing)
    );
    let e = upsert_with(|p| p.vehicles[0].size = None);
    assert_eq!(e.path, "vehicles[0].size");
    let e = upsert_with(|p| {
        p.vehicles[0].break_rule = Some(v1::BreakRule {
            duration_s: 1800,
            window: None,
        })
    });
    assert_eq!(e.path, "vehicles[0].break_rule.window");
    let e = upsert_with(|p| p.depots[0].location = None);
    assert_eq!(e.path, "depots[0].location");
    let e = upsert_with(|p| p.depots[0].id = "  ".into());
    assert_eq!(
        (e.path.as_str(), &e.kind),
        ("depots[0].id", &ConvertErrorKind::Missing)
    );
    let e = upsert_with(|p| p.vehicles[2].depot_id.clear());
    assert_eq!(e.path, "vehicles[2].depot_id");
    let e = upsert_with(|p| p.collection_points[0].district_id.clear());
    assert_eq!(e.path, "collection_points[0].district_id");
}

#[test]
fn out_of_range_values_are_named() {
    let e = upsert_with(|p| p.collection_points[0].priority = 256);
    assert_eq!(e.path, "collection_points[0].priority");
    assert!(matches!(e.kind, ConvertErrorKind::Invalid(_)));
    let e = upsert_with(|p| p.depots[0].location.as_mut().unwrap().lat = 91.0);
    assert_eq!(e.path, "depots[0].location.lat");
    let e = upsert_with(|p| p.depots[0].location.as_mut().unwrap().lon = f64::NAN);
    assert_eq!(e.path, "depots[0].location.lon");
    let e = upsert_with(|p| {
        p.facilities.push(
            Facility {
                id: FacilityId::new("F1"),
                name: String::new(),
                kind: FacilityKind::Incinerator,
                location: LatLon::new(31.0, 121.0),
                accepted_streams: vec![Stream::Residual],
                opening_hours: TimeWindow::ALL_DAY,
                unload_s: Seconds(600),
                daily_intake_limit_kg: None,
                geofence_radius_m: Metres(150),
            }
            .to_proto(),
        );
        p.facilities[0].kind = 0;
    });
    assert_eq!(
        (e.path.as_str(), &e.kind),
        ("facilities[0].kind", &ConvertErrorKind::Unspecified)
    );
}

#[test]
fn bad_dates_and_timestamps_are_named() {
    let mut s = Scenario {
        name: "x".into(),
        date: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        depots: vec![],
        facilities: vec![],
        vehicles: vec![],
        points: vec![],
    }
    .to_proto();
    assert_eq!(s.service_date, "2026-11-29");
    s.service_date = "2026-13-01".into();
    let e = Scenario::from_proto(s, "").unwrap_err();
    assert_eq!(e.path, "service_date");

    let ev = v1::TruckEvent {
        client_event_id: "e".into(),
        device_seq: 1,
        vehicle_id: "T1".into(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: 1,
            nanos: -5,
        }),
        position: None,
        kind: Some(v1::truck_event::Kind::ShiftEnd(v1::ShiftEnd {})),
    };
    let e = TruckEvent::from_proto(ev, "events[0]").unwrap_err();
    assert_eq!(e.path, "events[0].occurred_at.nanos");
}

#[test]
fn timestamps_keep_milliseconds_and_negative_times() {
    for ms in [0i64, 1, 999, 1_000, -1, -999, -1_001, 1_764_374_400_123] {
        let t = unix_ms_to_proto(ms);
        assert!((0..1_000_000_000).contains(&t.nanos), "{ms}: {t:?}");
        assert_eq!(unix_ms_from_proto(t, "t").unwrap(), ms);
    }
    // Sub-millisecond precision is truncated, not rounded.
    let t = prost_types::Timestamp {
        seconds: 10,
        nanos: 1_999_999,
    };
    assert_eq!(unix_ms_from_proto(t, "t").unwrap(), 10_001);
}

fn sample_event(seq: u64, kind: v1::truck_event::Kind) -> v1::TruckEvent {
    v1::TruckEvent {
        client_event_id: format!("e{seq}"),
        device_seq: seq,
        vehicle_id: String::new(),
        occurred_at: Some(unix_ms_to_proto(1_764_374_400_000 + seq as i64)),
        position: Some(v1::LatLon {
            lat: 31.2,
            lon: 121.4,
        }),
        kind: Some(kind),
    }
}

#[test]
fn bad_events_are_rejected_one_by_one() {
    use v1::truck_event::Kind;
    let scan = |stream: i32, tag_valid: bool, bin: &str| {
        Kind::BinScan(v1::BinScan {
            bin_id: bin.into(),
            stream,
            point_id: "P1".into(),
            lift_weight_kg: Some(12),
            tag_valid,
        })
    };
    let mut no_kind = sample_event(3, Kind::GpsFix(v1::GpsFix {}));
    no_kind.kind = None;
    let mut other_vehicle = sample_event(4, Kind::GpsFix(v1::GpsFix {}));
    other_vehicle.vehicle_id = "T9".into();
    let mut no_time = sample_event(5, Kind::GpsFix(v1::GpsFix {}));
    no_time.occurred_at = None;
    let batch = v1::EventBatch {
        vehicle_id: "T1".into(),
        device_id: "tablet-1".into(),
        events: vec![
            sample_event(1, scan(stream_to_proto(Stream::Kitchen), true, "B1")),
            sample_event(2, scan(77, true, "B1")),
            no_kind,
            other_vehicle,
            no_time,
            sample_event(6, scan(0, false, "garbled")),
            sample_event(7, scan(stream_to_proto(Stream::Kitchen), true, "")),
            sample_event(
                8,
                Kind::WeighbridgeTicket(v1::WeighbridgeTicket {
                    facility_id: "F1".into(),
                    gross_kg: 20_000,
                    tare_kg: 12_000,
                    net_kg: 8_000,
                    declared_stream: stream_to_proto(Stream::Kitchen),
                    rejected: false,
                    purity_pct: Some(101),
                }),
            ),
            sample_event(
                9,
                Kind::DriverException(v1::DriverException {
                    kind: 2,
                    point_id: "P1".into(),
                    bin_id: String::new(),
                    photo_sha256: "abc".into(),
                }),
            ),
        ],
    };
    let b = event_batch_from_proto(batch).unwrap();
    assert_eq!(b.device_id, "tablet-1");
    let paths: Vec<Option<String>> = b
        .events
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.error.path.clone()))
        .collect();
    assert_eq!(
        paths,
        vec![
            None,
            Some("events[1].bin_scan.stream".into()),
            Some("events[2].kind".into()),
            Some("events[3].vehicle_id".into()),
            Some("events[4].occurred_at".into()),
            None,
            Some("events[6].bin_scan.bin_id".into()),
            Some("events[7].weighbridge_ticket.purity_pct".into()),
            Some("events[8].driver_exception.photo_sha256".into()),
        ]
    );
    // The valid scan inherited the batch's vehicle; the tagless lift has no bin.
    let first = b.events[0].as_ref().unwrap();
    assert_eq!(first.vehicle, VehicleId::new("T1"));
    assert!(matches!(
        &b.events[5].as_ref().unwrap().kind,
        EventKind::BinScan {
            bin: None,
            stream: None,
            ..
        }
    ));
    let rejected: v1::RejectedEvent = b.events[1].as_ref().unwrap_err().to_proto();
    assert_eq!(rejected.client_event_id, "e2");
    assert_eq!(rejected.device_seq, 2);
    assert_eq!(
        rejected.reason,
        "events[1].bin_scan.stream: unknown enum value 77"
    );

    let e = event_batch_from_proto(v1::EventBatch::default()).unwrap_err();
    assert_eq!(e.path, "vehicle_id");
}

#[test]
fn plan_and_incident_errors_are_named() {
    let plan = Plan::new(
        "x",
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        vec![Route {
            vehicle: VehicleId::new("T1"),
            depot: DepotId::new("D1"),
            start_s: Seconds::hm(6, 0),
            end_s: Seconds::hm(9, 0),
            trips: vec![Trip {
                stream: Stream::Kitchen,
                stops: vec![],
                unload: FacilityUnload {
                    facility: FacilityId::new("F1"),
                    arrival_s: Seconds::hm(8, 0),
                    departure_s: Seconds::hm(8, 10),
                    load_kg: Kilograms(0),
                    geometry: vec![],
                },
            }],
            breaks: vec![],
            return_geometry: vec![],
            distance_m: Metres(10_000),
            duration_s: Seconds::hm(3, 0),
            cost_ct: Cents(100),
        }],
        vec![],
        Cents(0),
    );
    let mut p = plan.to_proto();
    p.routes[0].trips[0].unload = None;
    let e = Plan::from_proto(p, "").unwrap_err();
    assert_eq!(e.path, "routes[0].trips[0].unload");
    let mut p = plan.to_proto();
    p.totals = None;
    assert_eq!(Plan::from_proto(p, "").unwrap_err().path, "totals");

    let inc = v1::Incident {
        id: "i1".into(),
        rule: 0,
        severity: 2,
        vehicle_id: "T1".into(),
        occurred_at: Some(unix_ms_to_proto(0)),
        ..Default::default()
    };
    let e = Incident::from_proto(inc.clone(), "incident").unwrap_err();
    assert_eq!(
        (e.path.as_str(), &e.kind),
        ("incident.rule", &ConvertErrorKind::Unspecified)
    );
    let e = Incident::from_proto(
        v1::Incident {
            rule: 13,
            ..inc.clone()
        },
        "",
    )
    .unwrap_err();
    assert_eq!(e.kind, ConvertErrorKind::UnknownEnum(13));
    let e = Incident::from_proto(
        v1::Incident {
            rule: 1,
            occurred_at: None,
            ..inc
        },
        "",
    )
    .unwrap_err();
    assert_eq!(e.path, "occurred_at");
}

#[test]
fn enrichment_fills_what_the_terminal_needs() {
    let point = sample_point();
    let scenario = Scenario {
        name: "x".into(),
        date: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        depots: vec![Depot {
            id: DepotId::new("D1"),
            name: String::new(),
            location: LatLon::new(31.0, 121.0),
        }],
        facilities: vec![],
        vehicles: vec![sample_vehicle()],
        points: vec![point.clone()],
    };
    let route = Route {
        vehicle: VehicleId::new("T1"),
        depot: DepotId::new("D1"),
        start_s: Seconds(0),
        end_s: Seconds(0),
        trips: vec![Trip {
            stream: Stream::Kitchen,
            stops: vec![Stop {
                point: PointId::new("P1"),
                stream: Stream::Kitchen,
                arrival_s: Seconds(10),
                departure_s: Seconds(100),
                load_after_kg: Kilograms(120),
                load_after_l: Litres(240),
                geometry: vec![],
            }],
            unload: FacilityUnload {
                facility: FacilityId::new("F-unknown"),
                arrival_s: Seconds(200),
                departure_s: Seconds(300),
                load_kg: Kilograms(120),
                geometry: vec![],
            },
        }],
        breaks: vec![],
        return_geometry: vec![],
        distance_m: Metres(0),
        duration_s: Seconds(0),
        cost_ct: Cents(0),
    };
    let r = route_to_proto(&route, Some(&scenario));
    assert_eq!(r.depot_location.unwrap().lat, 31.0);
    let stop = &r.trips[0].stops[0];
    assert_eq!(stop.location.unwrap().lon, 121.4);
    assert_eq!(stop.demand_kg, 120);
    assert_eq!(stop.bin_ids, vec!["B1".to_owned(), "B3".to_owned()]);
    // Unknown facility: no invented position.
    assert_eq!(r.trips[0].unload.as_ref().unwrap().location, None);
    let bare = route_to_proto(&route, None);
    assert_eq!(bare.trips[0].stops[0].location, None);
}

#[test]
fn enum_mappings_match_names() {
    for s in Stream::ALL {
        let p = v1::Stream::try_from(stream_to_proto(s)).unwrap();
        assert_eq!(p.as_str_name(), format!("STREAM_{}", s.as_str()));
        assert_eq!(stream_from_proto(p as i32, "s"), Ok(s));
    }
    for r in RuleId::ALL {
        let p = v1::RuleId::try_from(rule_to_proto(r)).unwrap();
        assert_eq!(p.as_str_name(), format!("RULE_ID_{}", r.as_str()));
        assert_eq!(rule_from_proto(p as i32, "r"), Ok(r));
    }
    for s in [Severity::Notice, Severity::Warning, Severity::Critical] {
        let p = v1::Severity::try_from(severity_to_proto(s)).unwrap();
        assert_eq!(p.as_str_name(), format!("SEVERITY_{}", s.as_str()));
    }
}
