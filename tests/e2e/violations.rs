//! Issue 6, point 9: one service day over gRPC whose events break each of the twelve
//! mixed-load rules of MISSION.md, and a clean day of another truck that breaks none.
//!
//! The real server runs on 127.0.0.1 with a temporary database. The violating truck
//! (T1, kitchen only, no hazardous licence) and the clean truck (T2, residual only)
//! drive the plan the server published to them, as their terminals receive it. Every
//! incident must arrive on T1's assignment stream as a `ViolationWarning` and on a
//! regulator's `SubscribeIncidents`, with the rule id and version, severity, the
//! evidence event ids the truck sent, a position and its times. No assertion depends on
//! timing: incidents are committed in the transaction that acknowledges their events.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use sortfleet_dispatch::app::MasterBatch;
use sortfleet_model::event::{EventKind, TruckEvent};
use sortfleet_model::incident::RuleId;
use sortfleet_model::*;
use sortfleet_proto::v1;
use sortfleet_server::convert::{ToProto, rule_from_proto};

use super::support::*;

// ------------------------------------------------------------------ the day's city

/// A collection point with kitchen and residual demand and a hazardous drop-off bin
/// (no hazardous demand: nobody is dispatched for it, but its tag is registered).
fn mixed_point(id: &str, p: LatLon) -> CollectionPoint {
    let mut cp = point(id, p);
    cp.bins.push(Bin {
        id: BinId::new(format!("{id}-H")),
        stream: Stream::Hazardous,
    });
    cp
}

/// A point with residual waste only: on T2's route, "another stream's point" for T1.
fn residual_point(id: &str, p: LatLon) -> CollectionPoint {
    let mut cp = point(id, p);
    cp.demands.retain(|d| d.stream == Stream::Residual);
    cp.bins.retain(|b| b.stream == Stream::Residual);
    cp
}

/// Depot in the south-west corner, the kitchen plant south-east, the residual transfer
/// station north-east, so that no route passes the depot gate loaded.
fn master() -> v1::UpsertMasterDataRequest {
    MasterBatch {
        depots: vec![Depot {
            id: DepotId::new("D1"),
            name: "depot".into(),
            location: pos(2.0, 2.0),
        }],
        facilities: vec![
            facility("FK", &[Stream::Kitchen], pos(20.0, 2.0)),
            facility("FR", &[Stream::Residual], pos(21.0, 21.0)),
        ],
        vehicles: vec![
            vehicle("T1", &[Stream::Kitchen]),
            vehicle("T2", &[Stream::Residual]),
        ],
        points: vec![
            mixed_point("P1", pos(6.0, 4.0)),
            mixed_point("P2", pos(10.0, 6.0)),
            mixed_point("P3", pos(7.0, 12.0)),
            residual_point("P4", pos(15.0, 16.0)),
        ],
    }
    .to_proto()
}

fn ll(p: &Option<v1::LatLon>) -> LatLon {
    let p = p.as_ref().expect("position filled for terminals");
    LatLon::new(p.lat, p.lon)
}

/// Builds a vehicle's events with gap-free device sequence numbers and unique ids.
struct Day {
    vehicle: VehicleId,
    events: Vec<v1::TruckEvent>,
}

impl Day {
    fn new(vehicle: &str) -> Self {
        Self {
            vehicle: VehicleId::new(vehicle),
            events: Vec::new(),
        }
    }

    /// Appends an event and returns its client event id.
    fn push(&mut self, t: i64, p: LatLon, kind: EventKind) -> String {
        let seq = self.events.len() as u64 + 1;
        let id = format!("{}-e{seq:03}", self.vehicle);
        self.events.push(
            TruckEvent {
                client_event_id: id.clone(),
                device_seq: seq,
                vehicle: self.vehicle.clone(),
                occurred_at: t,
                position: Some(p),
                kind,
            }
            .to_proto(),
        );
        id
    }

    fn ids(&self) -> BTreeSet<String> {
        self.events
            .iter()
            .map(|e| e.client_event_id.clone())
            .collect()
    }

    fn batch(&self) -> v1::EventBatch {
        v1::EventBatch {
            vehicle_id: self.vehicle.0.clone(),
            device_id: format!("tab-{}", self.vehicle),
            events: self.events.clone(),
        }
    }
}

fn scan(bin: Option<&str>, stream: Option<Stream>, point: &str, kg: i64) -> EventKind {
    EventKind::BinScan {
        bin: bin.map(BinId::new),
        stream,
        point: Some(PointId::new(point)),
        lift_kg: Some(Kilograms(kg)),
    }
}

/// The first route version on a vehicle's stream (the published plan).
async fn route_of(srv: &Srv, token: &str, vehicle: &str) -> v1::Route {
    let mut t = terminal(srv, Some(token)).await;
    let mut s = t
        .subscribe_assignments(v1::SubscribeAssignmentsRequest {
            vehicle_id: vehicle.into(),
            after_seq: 0,
        })
        .await
        .unwrap()
        .into_inner();
    loop {
        let m = next_msg(&mut s).await;
        if let Some(v1::assignment_message::Body::RouteVersion(rv)) = m.body {
            return rv.route.expect("route in route version");
        }
    }
}

/// T1's day: every rule broken at least once; returns the events and, per rule, an
/// event id that must be among the evidence of one of that rule's incidents.
fn violating_day(route: &v1::Route) -> (Day, BTreeMap<RuleId, String>) {
    let stops: Vec<&v1::Stop> = route.trips.iter().flat_map(|t| &t.stops).collect();
    assert!(
        stops.len() >= 3 && stops.iter().all(|s| s.stream == v1::Stream::Kitchen as i32),
        "T1 should be planned for three kitchen visits: {route:?}"
    );
    let (a, b) = (&stops[0].point_id, &stops[1].point_id);
    let (pa, pb) = (ll(&stops[0].location), ll(&stops[1].location));
    let depot = ll(&route.depot_location);
    let k = Some(Stream::Kitchen);
    let mut d = Day::new("T1");
    let mut want = BTreeMap::new();
    d.push(at(6, 30), depot, EventKind::ShiftStart);
    d.push(at(7, 0), pa, EventKind::GpsFix);
    d.push(
        at(7, 1),
        pa,
        scan(Some(format!("{a}-K").as_str()), k, a, 50),
    );
    // A residual bin into the kitchen truck: wrong stream, second stream on the trip,
    // and a stream T1 is not certified for.
    let residual = d.push(
        at(7, 2),
        pa,
        scan(
            Some(format!("{a}-R").as_str()),
            Some(Stream::Residual),
            a,
            50,
        ),
    );
    want.insert(RuleId::StreamMismatch, residual.clone());
    want.insert(RuleId::MixedTrip, residual.clone());
    want.insert(RuleId::VehicleNotCertified, residual.clone());
    let untagged = d.push(at(7, 3), pa, scan(None, None, a, 40));
    want.insert(RuleId::UnidentifiedLift, untagged);
    let hazardous = d.push(
        at(7, 4),
        pa,
        scan(
            Some(format!("{a}-H").as_str()),
            Some(Stream::Hazardous),
            a,
            10,
        ),
    );
    want.insert(RuleId::HazardousCustody, hazardous);
    // Lingers at P4, a point of T2's (residual) route only.
    let p4 = pos(15.0, 16.0);
    d.push(at(7, 30), p4, EventKind::GpsFix);
    let linger = d.push(at(7, 32), p4, EventKind::GpsFix);
    want.insert(RuleId::RouteDeviation, linger);
    let dump = d.push(
        at(8, 0),
        pos(12.0, 12.0),
        EventKind::BodySensor { tipping: true },
    );
    want.insert(RuleId::OffSiteDischarge, dump);
    // Out of town, 3 km east of the grid: beyond the service area at once, and off the
    // corridor for longer than the deviation threshold.
    d.push(at(8, 10), pos(2.0, 40.0), EventKind::GpsFix);
    d.push(at(8, 15), pos(2.0, 40.0), EventKind::GpsFix);
    // The kitchen trip (150 kg lifted) weighed at the residual station: 2000 kg net,
    // graded 60 % pure.
    let ticket = d.push(
        at(9, 0),
        pos(21.0, 21.0),
        EventKind::WeighbridgeTicket {
            facility: FacilityId::new("FR"),
            gross_kg: Kilograms(13_000),
            tare_kg: Kilograms(11_000),
            net_kg: Kilograms(2_000),
            declared_stream: Stream::Kitchen,
            rejected: false,
            purity_pct: Some(60),
        },
    );
    want.insert(RuleId::WrongFacility, ticket.clone());
    want.insert(RuleId::MassBalance, ticket.clone());
    want.insert(RuleId::ContaminatedDelivery, ticket);
    // A second trip that goes back to the depot still loaded.
    d.push(at(10, 0), pb, EventKind::GpsFix);
    let second = d.push(
        at(10, 1),
        pb,
        scan(Some(format!("{b}-K").as_str()), k, b, 60),
    );
    want.insert(RuleId::UndeliveredLoad, second);
    d.push(at(10, 30), depot, EventKind::GpsFix);
    let end = d.push(at(11, 0), depot, EventKind::ShiftEnd);
    want.insert(RuleId::MissedPickup, end);
    (d, want)
}

/// T2's day exactly as planned: along the published geometry, every bin at every stop
/// lifted and weighed, each trip tipped and weighed at its facility, back to the depot.
fn clean_day(route: &v1::Route) -> Day {
    let mut d = Day::new("T2");
    let mut t = at(6, 0);
    let mut tick = || {
        t += 20_000;
        t
    };
    let depot = ll(&route.depot_location);
    d.push(tick(), depot, EventKind::ShiftStart);
    let drive = |d: &mut Day, tick: &mut dyn FnMut() -> i64, geom: &[v1::LatLon]| {
        for g in geom {
            d.push(tick(), LatLon::new(g.lat, g.lon), EventKind::GpsFix);
        }
    };
    for trip in &route.trips {
        let stream = stream_of(trip.stream);
        let mut lifted = 0;
        for s in &trip.stops {
            drive(&mut d, &mut tick, &s.leg_geometry);
            let p = ll(&s.location);
            assert!(!s.bin_ids.is_empty(), "stop without bins: {s:?}");
            let n = s.bin_ids.len() as i64;
            for (i, bin) in s.bin_ids.iter().enumerate() {
                // Split the expected demand over the bins; the first takes the remainder.
                let kg = s.demand_kg / n + if i == 0 { s.demand_kg % n } else { 0 };
                lifted += kg;
                d.push(
                    tick(),
                    p,
                    scan(Some(bin.as_str()), Some(stream), &s.point_id, kg),
                );
            }
        }
        let u = trip.unload.as_ref().expect("unload");
        drive(&mut d, &mut tick, &u.leg_geometry);
        let f = ll(&u.location);
        d.push(tick(), f, EventKind::BodySensor { tipping: true });
        d.push(tick(), f, EventKind::BodySensor { tipping: false });
        d.push(
            tick(),
            f,
            EventKind::WeighbridgeTicket {
                facility: FacilityId::new(u.facility_id.clone()),
                gross_kg: Kilograms(11_000 + lifted),
                tare_kg: Kilograms(11_000),
                net_kg: Kilograms(lifted),
                declared_stream: stream,
                rejected: false,
                purity_pct: Some(97),
            },
        );
    }
    drive(&mut d, &mut tick, &route.return_geometry);
    d.push(tick(), depot, EventKind::ShiftEnd);
    d
}

fn stream_of(v: i32) -> Stream {
    sortfleet_server::convert::stream_from_proto(v, "stream").expect("a stream")
}

/// What each rule's incident must carry, wherever it is received.
fn check_incident(i: &v1::Incident, sent: &BTreeSet<String>, from: &str) {
    let rule = rule_from_proto(i.rule, "rule").unwrap();
    let what = format!("{rule} from {from}: {i:?}");
    assert_eq!(i.vehicle_id, "T1", "{what}");
    assert!(i.rule_version > 0, "rule version missing, {what}");
    assert_ne!(i.severity, v1::Severity::Unspecified as i32, "{what}");
    assert!(!i.evidence_event_ids.is_empty(), "no evidence, {what}");
    for e in &i.evidence_event_ids {
        assert!(sent.contains(e), "evidence {e} was never sent, {what}");
    }
    assert!(i.position.is_some(), "no position, {what}");
    assert!(
        i.occurred_at.is_some() && i.detected_at.is_some(),
        "times missing, {what}"
    );
    assert!(!i.message.is_empty(), "{what}");
    assert!(i.seq > 0 || from == "terminal", "{what}");
}

fn by_rule(list: &[v1::Incident]) -> BTreeMap<RuleId, Vec<&v1::Incident>> {
    let mut m: BTreeMap<RuleId, Vec<&v1::Incident>> = BTreeMap::new();
    for i in list {
        m.entry(rule_from_proto(i.rule, "rule").unwrap())
            .or_default()
            .push(i);
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_reaches_terminal_and_regulator_and_a_clean_day_raises_none() {
    let dir = workdir();
    let srv = start(dir.path());
    let mut d = dispatch(&srv, Some("disp")).await;
    d.upsert_master_data(master()).await.unwrap();
    let plan_id = plan(&mut d, 1).await;
    let out = d
        .publish_plan(v1::PublishPlanRequest { plan_id })
        .await
        .unwrap()
        .into_inner();
    assert!(
        out.vehicle_ids.contains(&"T1".to_owned()) && out.vehicle_ids.contains(&"T2".to_owned()),
        "{out:?}"
    );
    let r1 = route_of(&srv, "t1", "T1").await;
    let r2 = route_of(&srv, "t2", "T2").await;

    // Both subscriptions are open before the first event.
    let mut t1 = terminal(&srv, Some("t1")).await;
    let mut term = t1
        .subscribe_assignments(v1::SubscribeAssignmentsRequest {
            vehicle_id: "T1".into(),
            after_seq: 1,
        })
        .await
        .unwrap()
        .into_inner();
    let mut sup = supervision(&srv, Some("reg")).await;
    let mut reg = sup
        .subscribe_incidents(v1::SubscribeIncidentsRequest {
            filter: None,
            after_seq: 0,
        })
        .await
        .unwrap()
        .into_inner();

    // The clean truck's day first: nothing may fire for it.
    let clean = clean_day(&r2);
    let mut t2 = terminal(&srv, Some("t2")).await;
    let acks = report(&mut t2, vec![clean.batch()]).await.unwrap();
    assert_eq!(
        acks.last().unwrap().acked_device_seq,
        clean.events.len() as u64,
        "{acks:?}"
    );
    assert!(acks.iter().all(|a| a.rejected.is_empty()), "{acks:?}");

    let (day, want) = violating_day(&r1);
    let sent = day.ids();
    let acks = report(&mut t1, vec![day.batch()]).await.unwrap();
    assert_eq!(
        acks.last().unwrap().acked_device_seq,
        day.events.len() as u64
    );
    assert!(acks.iter().all(|a| a.rejected.is_empty()), "{acks:?}");

    // Everything is committed with the acks; the store is the reference.
    let stored = sup
        .list_incidents(v1::ListIncidentsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .incidents;
    let no_t2: Vec<_> = stored.iter().filter(|i| i.vehicle_id != "T1").collect();
    assert!(
        no_t2.is_empty(),
        "false positives on a clean day: {no_t2:#?}"
    );
    let stored_by_rule = by_rule(&stored);
    let missing: Vec<RuleId> = RuleId::ALL
        .into_iter()
        .filter(|r| !stored_by_rule.contains_key(r))
        .collect();
    assert!(
        missing.is_empty(),
        "rules that did not fire: {missing:?}; fired: {:?}",
        stored_by_rule.keys().collect::<Vec<_>>()
    );

    // The regulator's feed and the terminal's warnings: exactly the stored incidents.
    let n = stored.len();
    let mut from_reg = Vec::new();
    while from_reg.len() < n {
        let m = tokio::time::timeout(GUARD, reg.next())
            .await
            .expect("incident feed stalled")
            .expect("incident feed ended")
            .expect("incident feed error");
        if let Some(v1::incident_stream_message::Body::Incident(i)) = m.body {
            from_reg.push(i);
        }
    }
    let mut from_term = Vec::new();
    while from_term.len() < n {
        let m = next_msg(&mut term).await;
        if let Some(v1::assignment_message::Body::ViolationWarning(w)) = m.body {
            from_term.push(w.incident.expect("warning carries the incident"));
        }
    }
    for (list, from) in [(&from_reg, "regulator"), (&from_term, "terminal")] {
        let mut ids: Vec<&str> = list.iter().map(|i| i.id.as_str()).collect();
        ids.sort_unstable();
        let mut want_ids: Vec<&str> = stored.iter().map(|i| i.id.as_str()).collect();
        want_ids.sort_unstable();
        assert_eq!(ids, want_ids, "{from}");
        let got = by_rule(list);
        for (rule, ev) in &want {
            let incs = got.get(rule).map(Vec::as_slice).unwrap_or_default();
            assert!(!incs.is_empty(), "{rule} not received by the {from}");
            for i in incs {
                check_incident(i, &sent, from);
            }
            assert!(
                incs.iter().any(|i| i.evidence_event_ids.contains(ev)),
                "{rule} on the {from}: no incident cites {ev}: {incs:#?}"
            );
        }
        // Every form of ROUTE_DEVIATION: the stop at another stream's point, the
        // corridor excursion, leaving the service area, the unplanned facility.
        let dev = &got[&RuleId::RouteDeviation];
        assert!(
            dev.iter().any(|i| i.point_id == "P4"),
            "{from}: no stop at P4 in {dev:#?}"
        );
        for what in ["corridor", "service area", "FR"] {
            assert!(
                dev.iter()
                    .any(|i| i.message.contains(what) && i.point_id.is_empty()),
                "{from}: no {what} deviation in {dev:#?}"
            );
        }
    }
    // The terminal sees what the regulator sees, field for field, ledger seq included.
    let reg_by_id: BTreeMap<&str, &v1::Incident> =
        from_reg.iter().map(|i| (i.id.as_str(), i)).collect();
    for w in &from_term {
        assert_ne!(w.seq, 0, "a live warning names its incident's seq: {w:#?}");
        assert_eq!(w, reg_by_id[w.id.as_str()]);
    }
    // An incident names the trip it happened on, not the one the truck was on when
    // the batch that held it was committed: the ticket at 09:00 ends trip 0.
    let regs = by_rule(&from_reg);
    for (rule, trip) in [(RuleId::StreamMismatch, 0), (RuleId::UndeliveredLoad, 1)] {
        assert!(
            regs[&rule].iter().all(|i| i.trip_index == Some(trip)),
            "{rule} should be on trip {trip}: {:#?}",
            regs[&rule]
        );
    }

    // T2's terminal received its route and nothing else.
    let mut s2 = t2
        .subscribe_assignments(v1::SubscribeAssignmentsRequest {
            vehicle_id: "T2".into(),
            after_seq: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let mut kinds = Vec::new();
    let head = loop {
        let m = next_msg(&mut s2).await;
        match is_heartbeat(&m) {
            Some(h) => break h,
            None => kinds.push(m.body),
        }
    };
    assert_eq!(head, kinds.len() as u64);
    assert!(
        kinds
            .iter()
            .all(|b| matches!(b, Some(v1::assignment_message::Body::RouteVersion(_)))),
        "{kinds:#?}"
    );
}
