//! Building the context from a real scenario and a published plan, then judging a
//! truck's day through the public API only.

use sortfleet_model::event::{EventKind, TruckEvent};
use sortfleet_model::incident::RuleId;
use sortfleet_model::{
    BinId, Cents, FacilityId, FacilityUnload, Kilograms, LatLon, Litres, Metres, Plan, PointId,
    Route, Scenario, Seconds, Stop, Stream, Trip, VehicleId,
};
use sortfleet_rules::{ContextError, Engine, RuleContext, Thresholds};

fn scenario() -> Scenario {
    // Two points, a kitchen truck, a kitchen plant and a residual transfer station,
    // cut from data/scenarios/porto-alegre-small.json.
    serde_json::from_str(include_str!("fixtures/mini-scenario.json")).unwrap()
}

fn stop(p: &str, g: Vec<LatLon>) -> Stop {
    Stop {
        point: PointId::new(p),
        stream: Stream::Kitchen,
        arrival_s: Seconds::hm(6, 0),
        departure_s: Seconds::hm(6, 2),
        load_after_kg: Kilograms(100),
        load_after_l: Litres(200),
        geometry: g,
    }
}

fn plan(sc: &Scenario, with_geometry: bool) -> Plan {
    let p = |i: usize| sc.points[i].location;
    let depot = sc.depots[0].location;
    let fac = sc
        .facility(&FacilityId::new("F-BIOGAS-NORTE"))
        .unwrap()
        .location;
    let g = |v: Vec<LatLon>| if with_geometry { v } else { Vec::new() };
    let route = Route {
        vehicle: VehicleId::new("V-KIT-01"),
        depot: sc.depots[0].id.clone(),
        start_s: Seconds::hm(5, 30),
        end_s: Seconds::hm(8, 0),
        trips: vec![Trip {
            stream: Stream::Kitchen,
            stops: vec![
                stop("P-001", g(vec![depot, p(0)])),
                stop("P-002", g(vec![p(0), p(1)])),
            ],
            unload: FacilityUnload {
                facility: FacilityId::new("F-BIOGAS-NORTE"),
                arrival_s: Seconds::hm(7, 0),
                departure_s: Seconds::hm(7, 10),
                load_kg: Kilograms(200),
                geometry: g(vec![p(1), fac]),
            },
        }],
        breaks: vec![],
        return_geometry: g(vec![fac, depot]),
        distance_m: Metres(10_000),
        duration_s: Seconds::hm(2, 30),
        cost_ct: Cents(0),
    };
    Plan::new(sc.name.clone(), sc.date, vec![route], vec![], Cents(0))
}

struct Day {
    evs: Vec<TruckEvent>,
    t: i64,
}

impl Day {
    fn push(&mut self, pos: LatLon, kind: EventKind) {
        self.t += 60_000;
        let n = self.evs.len() as u64 + 1;
        self.evs.push(TruckEvent {
            client_event_id: format!("k{n}"),
            device_seq: n,
            vehicle: VehicleId::new("V-KIT-01"),
            occurred_at: self.t,
            position: Some(pos),
            kind,
        });
    }
    fn scan(&mut self, pos: LatLon, bin: &str) {
        self.push(
            pos,
            EventKind::BinScan {
                bin: Some(BinId::new(bin)),
                stream: None,
                point: None,
                lift_kg: None,
            },
        );
    }
}

fn day(sc: &Scenario, extra_residual: bool) -> Vec<TruckEvent> {
    let p0 = sc.points[0].location;
    let p1 = sc.points[1].location;
    let fac = sc
        .facility(&FacilityId::new("F-BIOGAS-NORTE"))
        .unwrap()
        .location;
    let mut d = Day {
        evs: Vec::new(),
        t: 1_764_489_600_000,
    };
    d.push(sc.depots[0].location, EventKind::ShiftStart);
    d.scan(p0, "PA-001-K1");
    if extra_residual {
        d.scan(p0, "PA-001-O1");
    }
    for b in ["PA-002-K1", "PA-002-K2", "PA-002-K3"] {
        d.scan(p1, b);
    }
    d.push(fac, EventKind::BodySensor { tipping: true });
    d.push(
        fac,
        EventKind::WeighbridgeTicket {
            facility: FacilityId::new("F-BIOGAS-NORTE"),
            gross_kg: Kilograms(12_200),
            tare_kg: Kilograms(12_000),
            net_kg: Kilograms(200),
            declared_stream: Stream::Kitchen,
            rejected: false,
            purity_pct: Some(95),
        },
    );
    d.push(sc.depots[0].location, EventKind::ShiftEnd);
    d.evs
}

#[test]
fn planned_day_from_scenario_is_clean_and_violations_are_caught() {
    let sc = scenario();
    for with_geometry in [false, true] {
        let ctx =
            RuleContext::from_day(&sc, &plan(&sc, with_geometry), Thresholds::default()).unwrap();
        let v = ctx.vehicle(&VehicleId::new("V-KIT-01")).unwrap();
        assert_eq!(v.trips.len(), 1);
        assert_eq!(v.corridor.is_empty(), !with_geometry);
        assert_eq!(
            ctx.registered_bins(&PointId::new("P-002"), Stream::Kitchen),
            Some(3)
        );

        let mut e = Engine::new();
        let clean: Vec<_> = day(&sc, false)
            .iter()
            .flat_map(|ev| e.on_event(&ctx, ev))
            .collect();
        assert!(clean.is_empty(), "{clean:#?}");

        let mut e = Engine::new();
        let mut evs = day(&sc, true);
        let bad = e.on_batch(&ctx, &mut evs);
        let rules: Vec<RuleId> = bad.iter().map(|i| i.rule).collect();
        assert!(rules.contains(&RuleId::StreamMismatch), "{rules:?}");
        assert!(rules.contains(&RuleId::MixedTrip), "{rules:?}");
        assert!(rules.contains(&RuleId::VehicleNotCertified), "{rules:?}");
        let sm = bad
            .iter()
            .find(|i| i.rule == RuleId::StreamMismatch)
            .unwrap();
        assert_eq!(
            sm.district.as_ref().map(|d| d.as_str()),
            Some("CENTRO_HISTORICO")
        );
    }
}

#[test]
fn plan_naming_unknown_point_is_rejected() {
    let sc = scenario();
    let mut p = plan(&sc, false);
    p.routes[0].trips[0].stops[0].point = PointId::new("P-NOPE");
    let err = RuleContext::from_day(&sc, &p, Thresholds::default()).unwrap_err();
    assert!(matches!(err, ContextError::Unknown { .. }));
    assert!(err.to_string().contains("P-NOPE"), "{err}");
}
