//! End-to-end planning on the shipped Porto Alegre extract and scenarios.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use sortfleet_dispatch::planning::{
    Change, FreezeUntil, Lock, PlanParams, PlanProgress, check_plan, plan_day, plan_geojson, replan,
};
use sortfleet_model::{
    Demand, Kilograms, LatLon, Litres, Plan, Scenario, Seconds, Stream, TimeWindow, UnservedReason,
};
use sortfleet_roads::{ImportOptions, RoadGraph};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn graph() -> &'static RoadGraph {
    static G: OnceLock<RoadGraph> = OnceLock::new();
    G.get_or_init(|| {
        RoadGraph::import_pbf(
            root().join("data/osm/porto-alegre.osm.pbf"),
            &ImportOptions::default(),
        )
        .expect("shipped extract imports")
        .0
    })
}

fn scenario(name: &str) -> Scenario {
    let text = std::fs::read_to_string(root().join("data/scenarios").join(name)).unwrap();
    Scenario::from_json_str(&text).expect("shipped scenario parses")
}

fn quick() -> PlanParams {
    PlanParams {
        time_limit: Duration::from_secs(5),
        seed: 7,
        threads: 2,
        max_iterations: Some(300),
        geometry: false,
        ..PlanParams::default()
    }
}

fn quiet(_: PlanProgress) {}

/// The invariants the issue names, checked here independently of the planner's own checker.
fn assert_invariants(s: &Scenario, plan: &Plan) {
    check_plan(s, plan).expect("plan passes the plan checker");
    let mut served = HashSet::new();
    for r in &plan.routes {
        let v = s.vehicle(&r.vehicle).unwrap();
        for t in &r.trips {
            assert!(
                t.stops.iter().all(|st| st.stream == t.stream),
                "one stream per trip"
            );
            assert!(v.can_carry(t.stream));
            let f = s.facility(&t.unload.facility).unwrap();
            assert!(f.accepts(t.stream), "facility accepts the trip's stream");
            for st in &t.stops {
                assert!(served.insert((st.point.clone(), st.stream)), "served twice");
            }
        }
    }
    for u in &plan.unserved {
        assert!(!served.contains(&(u.point.clone(), u.stream)));
    }
    let total: usize = s.points.iter().map(|p| p.demands.len()).sum();
    assert_eq!(served.len() + plan.unserved.len(), total);
}

#[test]
fn small_city_day_is_checked_and_serves_most_visits() {
    let s = scenario("porto-alegre-small.json");
    let mut params = quick();
    params.geometry = true;
    let out = plan_day(&s, graph(), &params, &quiet).unwrap();
    assert_invariants(&s, &out.plan);
    assert!(
        out.plan.totals.visits_served as f64 >= 0.8 * 131.0,
        "{:?}",
        out.plan.totals
    );
    // Geometry: every leg that joins two different places has a road polyline.
    let stop = &out.plan.routes[0].trips[0].stops[0];
    assert!(stop.geometry.len() >= 2);
    // Six streams in the report, each with the figures of its routes.
    assert_eq!(out.report.streams.len(), 6);
    let gj = plan_geojson(&s, &out.plan);
    let feats = gj["features"].as_array().unwrap();
    let trips = feats
        .iter()
        .filter(|f| f["properties"]["kind"] == "trip")
        .count();
    let n_trips: usize = out.plan.routes.iter().map(|r| r.trips.len()).sum();
    assert_eq!(trips, n_trips);
    assert!(feats.iter().any(|f| {
        f["geometry"]["type"] == "LineString"
            && f["properties"]["colour"]
                .as_str()
                .is_some_and(|c| c.starts_with('#'))
    }));
    assert_eq!(
        feats
            .iter()
            .filter(|f| f["properties"]["kind"] == "facility")
            .count(),
        s.facilities.len()
    );
}

#[test]
fn shipped_city_scenario_end_to_end() {
    let s = scenario("porto-alegre-day.json");
    assert!(s.points.len() >= 300);
    let streams: HashSet<Stream> = s
        .points
        .iter()
        .flat_map(|p| p.demands.iter().map(|d| d.stream))
        .collect();
    assert_eq!(streams.len(), 6);
    let mut params = quick();
    params.max_iterations = Some(50);
    let out = plan_day(&s, graph(), &params, &quiet).unwrap();
    assert_invariants(&s, &out.plan);
    assert!(out.plan.totals.visits_served > 0);
}

#[test]
fn each_unserved_reason_is_named() {
    let mut s = scenario("porto-alegre-small.json");
    // Unreachable: a point moved 30 km out to sea (no road within the snap radius).
    let far = s
        .points
        .iter()
        .position(|p| p.id.as_str() == "P-005")
        .unwrap();
    s.points[far].location = LatLon::new(-30.3, -50.9);
    // Over capacity: a demand larger than every kitchen truck.
    let big = s
        .points
        .iter()
        .position(|p| p.id.as_str() == "P-006")
        .unwrap();
    for d in &mut s.points[big].demands {
        if d.stream == Stream::Kitchen {
            d.kg = Kilograms(50_000);
        }
    }
    // Outside every shift: a window at 02:00.
    let night = s
        .points
        .iter()
        .position(|p| p.id.as_str() == "P-013")
        .unwrap();
    s.points[night].time_windows = vec![TimeWindow::hm((2, 0), (2, 30))];
    // Facility closed: the only renovation site is open at night only, and the landfill
    // that also takes it stops taking renovation debris.
    for f in &mut s.facilities {
        if f.id.as_str() == "F-ENTULHO" {
            f.opening_hours = TimeWindow::hm((0, 0), (3, 0));
        }
        if f.id.as_str() == "F-ATERRO-LESTE" {
            f.accepted_streams.retain(|x| *x != Stream::Renovation);
        }
    }
    let out = plan_day(&s, graph(), &quick(), &quiet).unwrap();
    assert_invariants(&s, &out.plan);
    let reason = |p: &str, st: Stream| {
        out.plan
            .unserved
            .iter()
            .find(|u| u.point.as_str() == p && u.stream == st)
            .map(|u| u.reason)
    };
    assert_eq!(
        reason("P-005", Stream::Kitchen),
        Some(UnservedReason::Unreachable)
    );
    assert_eq!(
        reason("P-006", Stream::Kitchen),
        Some(UnservedReason::OverCapacity)
    );
    assert_eq!(
        reason("P-013", Stream::Residual),
        Some(UnservedReason::OutsideShiftOrWindow)
    );
    assert_eq!(
        reason("P-007", Stream::Renovation),
        Some(UnservedReason::FacilityClosedOrFull)
    );
}

#[test]
fn no_certified_vehicle_when_the_only_licensed_one_is_out() {
    // A scenario without a licensed vehicle is refused by validation, so the case
    // arises in re-planning: the hazardous van breaks down before its shift.
    let s = scenario("porto-alegre-small.json");
    let first = plan_day(&s, graph(), &quick(), &quiet).unwrap().plan;
    let changes = [Change::VehicleUnavailable {
        vehicle: "V-HAZ-01".into(),
        at: Seconds::hm(0, 0),
    }];
    let out = replan(&s, graph(), &first, &changes, &quick(), &quiet).unwrap();
    assert_invariants(&s, &out.plan);
    let haz: Vec<_> = out
        .plan
        .unserved
        .iter()
        .filter(|u| u.stream == Stream::Hazardous)
        .collect();
    assert_eq!(haz.len(), 5);
    assert!(
        haz.iter()
            .all(|u| u.reason == UnservedReason::NoCertifiedVehicle)
    );
}

#[test]
fn full_facility_leaves_visits_unserved_as_full() {
    let mut s = scenario("porto-alegre-small.json");
    // The only hazardous store takes 20 kg today (the day has 59 kg): the rest cannot
    // be tipped anywhere.
    for f in &mut s.facilities {
        if f.id.as_str() == "F-ECOPONTO-HAZ" {
            f.daily_intake_limit_kg = Some(Kilograms(20));
        }
    }
    let out = plan_day(&s, graph(), &quick(), &quiet).unwrap();
    assert_invariants(&s, &out.plan);
    let full = out
        .plan
        .unserved
        .iter()
        .filter(|u| u.stream == Stream::Hazardous)
        .filter(|u| u.reason == UnservedReason::FacilityClosedOrFull)
        .count();
    assert!(full >= 1, "{:?}", out.plan.unserved);
}

#[test]
fn a_lock_puts_the_visit_on_its_vehicle() {
    let s = scenario("porto-alegre-small.json");
    let mut params = quick();
    params.locks = vec![Lock {
        point: "P-020".into(),
        stream: Stream::Residual,
        vehicle: "V-MUL-01".into(),
    }];
    let out = plan_day(&s, graph(), &params, &quiet).unwrap();
    assert_invariants(&s, &out.plan);
    let r = out
        .plan
        .routes
        .iter()
        .find(|r| r.vehicle.as_str() == "V-MUL-01")
        .expect("locked vehicle has a route");
    assert!(
        r.trips
            .iter()
            .flat_map(|t| &t.stops)
            .any(|st| st.point.as_str() == "P-020" && st.stream == Stream::Residual)
    );
    // A lock to a vehicle that cannot carry the stream is refused.
    params.locks[0].vehicle = "V-KIT-01".into();
    assert!(plan_day(&s, graph(), &params, &quiet).is_err());
}

#[test]
fn replan_after_breakdown_keeps_frozen_stops() {
    let s = scenario("porto-alegre-small.json");
    let first = plan_day(&s, graph(), &quick(), &quiet).unwrap().plan;
    // The busiest route's vehicle breaks down after its first trip has been tipped.
    let victim = first
        .routes
        .iter()
        .filter(|r| r.trips.len() >= 2)
        .max_by_key(|r| r.stop_count())
        .or_else(|| first.routes.iter().max_by_key(|r| r.stop_count()))
        .unwrap();
    let at = victim.trips[0].unload.departure_s + Seconds(60);
    let mut changes = vec![Change::VehicleUnavailable {
        vehicle: victim.vehicle.clone(),
        at,
    }];
    for r in &first.routes {
        if r.vehicle != victim.vehicle {
            changes.push(Change::FreezeDriven {
                vehicle: r.vehicle.clone(),
                until: FreezeUntil::Time(at),
            });
        }
    }
    let mut urgent = s.points[0].clone();
    urgent.id = "P-URGENT".into();
    urgent.demands = vec![Demand {
        stream: Stream::Bulky,
        kg: Kilograms(80),
        litres: Litres(600),
    }];
    urgent.bins.clear();
    urgent.time_windows.clear();
    changes.push(Change::AddUrgentPickup { point: urgent });
    let out = replan(&s, graph(), &first, &changes, &quick(), &quiet).unwrap();
    let mut s2 = s.clone();
    s2.points.push(out_point(&changes));
    assert_invariants(&s2, &out.plan);
    // Frozen trips are kept exactly (same stops, times and unloads) as a prefix.
    let mut kept = 0;
    for old in &first.routes {
        let new = out.plan.routes.iter().find(|r| r.vehicle == old.vehicle);
        let done: Vec<_> = old
            .trips
            .iter()
            .filter(|t| t.stops.first().is_some_and(|st| st.departure_s <= at))
            .collect();
        if done.is_empty() || old.vehicle == victim.vehicle {
            continue;
        }
        let new = new.expect("a route with frozen stops stays");
        for (a, b) in done.iter().zip(&new.trips) {
            assert_eq!(*a, b);
            kept += a.stops.len();
        }
        assert_eq!(new.start_s, old.start_s);
    }
    assert!(kept > 0);
    // The broken vehicle gets nothing after the breakdown.
    if let Some(r) = out.plan.routes.iter().find(|r| r.vehicle == victim.vehicle) {
        assert!(
            r.trips
                .iter()
                .flat_map(|t| &t.stops)
                .all(|st| st.departure_s <= at)
        );
        assert_eq!(r.trips[0], victim.trips[0]);
    }
    // The urgent pickup is served or named.
    assert!(
        out.plan
            .routes
            .iter()
            .flat_map(|r| &r.trips)
            .flat_map(|t| &t.stops)
            .any(|st| st.point.as_str() == "P-URGENT")
            || out
                .plan
                .unserved
                .iter()
                .any(|u| u.point.as_str() == "P-URGENT")
    );
    assert!(out.report.frozen_stops >= kept);
}

fn out_point(changes: &[Change]) -> sortfleet_model::CollectionPoint {
    changes
        .iter()
        .find_map(|c| match c {
            Change::AddUrgentPickup { point } => Some(point.clone()),
            _ => None,
        })
        .unwrap()
}
