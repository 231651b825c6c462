//! Application core tests: publishing, terminal resume, intake de-duplication, the
//! violation fan-out to terminals and regulators, slow subscribers, planning jobs.
//! Timeouts below only guard against hangs; no assertion depends on timing.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use futures::StreamExt;
use sortfleet_dispatch::app::*;
use sortfleet_dispatch::scorecard::ScorecardQuery;
use sortfleet_model::event::{EventKind, TruckEvent};
use sortfleet_model::incident::RuleId;
use sortfleet_model::*;
use sortfleet_testkit::fixtures::{facility, vehicle};

const GUARD: Duration = Duration::from_secs(60);

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

/// Unix ms of `h:m` on the test day (UTC).
fn at(h: i64, m: i64) -> i64 {
    date()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        + (h * 3600 + m * 60) * 1000
}

fn pos(dlat: f64, dlon: f64) -> LatLon {
    LatLon::new(30.0 + dlat, 120.0 + dlon)
}

fn point(id: &str, district: &str, p: LatLon) -> CollectionPoint {
    CollectionPoint {
        id: PointId::new(id),
        name: String::new(),
        location: p,
        district: DistrictId::new(district),
        demands: vec![
            Demand {
                stream: Stream::Kitchen,
                kg: Kilograms(300),
                litres: Litres(600),
            },
            Demand {
                stream: Stream::Residual,
                kg: Kilograms(200),
                litres: Litres(800),
            },
        ],
        service_s: Seconds(120),
        time_windows: vec![],
        priority: 0,
        bins: vec![
            Bin {
                id: BinId::new(format!("{id}-K")),
                stream: Stream::Kitchen,
            },
            Bin {
                id: BinId::new(format!("{id}-R")),
                stream: Stream::Residual,
            },
        ],
    }
}

fn master() -> MasterBatch {
    MasterBatch {
        depots: vec![Depot {
            id: DepotId::new("D1"),
            name: "depot".into(),
            location: pos(0.0, 0.0),
        }],
        facilities: vec![
            facility("FK", &[Stream::Kitchen], pos(0.02, 0.0)),
            facility("FR", &[Stream::Residual], pos(0.0, 0.02)),
        ],
        vehicles: vec![
            vehicle("T1", &[Stream::Kitchen]),
            vehicle("T2", &[Stream::Residual]),
        ],
        points: vec![
            point("P1", "north", pos(0.005, 0.0)),
            point("P2", "north", pos(0.01, 0.0)),
            point("P3", "east", pos(0.0, 0.01)),
        ],
    }
}

fn stop(p: &str, s: Stream, t: i64) -> Stop {
    Stop {
        point: PointId::new(p),
        stream: s,
        arrival_s: Seconds(t),
        departure_s: Seconds(t + 120),
        load_after_kg: Kilograms(300),
        load_after_l: Litres(600),
        geometry: vec![],
    }
}

fn route(v: &str, s: Stream, points: &[&str], facility: &str) -> Route {
    Route {
        vehicle: VehicleId::new(v),
        depot: DepotId::new("D1"),
        start_s: Seconds(7 * 3600),
        end_s: Seconds(12 * 3600),
        trips: vec![Trip {
            stream: s,
            stops: points
                .iter()
                .enumerate()
                .map(|(i, p)| stop(p, s, 8 * 3600 + 600 * i as i64))
                .collect(),
            unload: FacilityUnload {
                facility: FacilityId::new(facility),
                arrival_s: Seconds(10 * 3600),
                departure_s: Seconds(10 * 3600 + 600),
                load_kg: Kilograms(600),
                geometry: vec![],
            },
        }],
        breaks: vec![],
        return_geometry: vec![],
        distance_m: Metres(12000),
        duration_s: Seconds(5 * 3600),
        cost_ct: Cents(30000),
    }
}

fn plan_a() -> Plan {
    Plan::new(
        "test",
        date(),
        vec![
            route("T1", Stream::Kitchen, &["P1", "P2"], "FK"),
            route("T2", Stream::Residual, &["P1", "P2", "P3"], "FR"),
        ],
        vec![],
        Cents(0),
    )
}

/// A plan source that returns `plan_a`, moving T2's work to nobody when T2 drops out.
fn source() -> Arc<dyn PlanSource> {
    Arc::new(
        |req: &PlanRequest, progress: &(dyn Fn(PlanProgress) + Sync)| {
            progress(PlanProgress {
                phase: JobPhase::Search,
                best_cost_ct: 1,
                unserved: 0,
                iterations: 1,
            });
            let mut plan = plan_a();
            plan.date = req.scenario.date;
            for c in &req.changes {
                if let ReplanChange::VehicleUnavailable { vehicle, .. } = c {
                    plan.routes.retain(|r| &r.vehicle != vehicle);
                }
            }
            Ok(PlanOutput {
                plan,
                road_fingerprint: None,
            })
        },
    )
}

async fn open(dir: &tempfile::TempDir, tweak: impl FnOnce(&mut AppConfig)) -> App {
    let mut cfg = AppConfig::new(dir.path().join("t.db"));
    cfg.heartbeat = Duration::from_secs(3600);
    tweak(&mut cfg);
    let app = App::open(cfg, source()).await.unwrap();
    app.upsert_master(master()).await.unwrap();
    app
}

async fn next_msg(s: &mut TerminalStream) -> TerminalMessage {
    tokio::time::timeout(GUARD, s.next())
        .await
        .expect("stream stalled")
        .expect("stream ended")
        .expect("stream error")
}

fn ev(id: &str, seq: u64, t: i64, p: LatLon, kind: EventKind) -> TruckEvent {
    TruckEvent {
        client_event_id: id.into(),
        device_seq: seq,
        vehicle: VehicleId::new("T1"),
        occurred_at: t,
        position: Some(p),
        kind,
    }
}

fn scan(bin: &str, s: Stream, p: &str) -> EventKind {
    EventKind::BinScan {
        bin: Some(BinId::new(bin)),
        stream: Some(s),
        point: Some(PointId::new(p)),
        lift_kg: Some(Kilograms(50)),
    }
}

fn batch(events: Vec<TruckEvent>) -> EventBatch {
    EventBatch {
        vehicle: VehicleId::new("T1"),
        device: "tab-1".into(),
        events,
        rejected: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_plan_reaches_live_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir, |_| {}).await;
    let mut s1 = app.subscribe_assignments(&VehicleId::new("T1"), 0).unwrap();
    let id = app
        .store_plan(plan_a(), PlanOrigin::Imported, None, None)
        .await
        .unwrap();
    let out = app.publish_plan(&id).await.unwrap();
    assert_eq!(out.routes.len(), 2);
    let m = next_msg(&mut s1).await;
    assert_eq!(m.seq, 1);
    let TerminalBody::RouteVersion(rv) = m.body else {
        panic!("expected a route version, got {m:?}")
    };
    assert_eq!(rv.plan_id, id);
    assert_eq!(rv.route.trips[0].stops.len(), 2);
    assert_eq!(rv.route.trips[0].stops[0].position, pos(0.005, 0.0));
    assert_eq!(rv.route.trips[0].stops[0].bin_ids, vec![BinId::new("P1-K")]);
    assert_eq!(rv.route.trips[0].unload.position, pos(0.02, 0.0));
    // Publishing again is a no-op.
    let again = app.publish_plan(&id).await.unwrap();
    assert!(again.already_published);
    assert_eq!(
        app.get_plan(&id).await.unwrap().status,
        PlanStatus::Published
    );
    // Unknown ids.
    assert!(matches!(
        app.publish_plan("nope").await,
        Err(AppError::NotFound { .. })
    ));
    assert!(matches!(
        app.subscribe_assignments(&VehicleId::new("T9"), 0),
        Err(AppError::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_seq_gets_exactly_the_missed_messages() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir, |_| {}).await;
    // Five publications: T1 gets seq 1 (version) and 2..=5 (revisions).
    for _ in 0..5 {
        let id = app
            .store_plan(plan_a(), PlanOrigin::Imported, None, None)
            .await
            .unwrap();
        app.publish_plan(&id).await.unwrap();
    }
    let t1 = VehicleId::new("T1");
    let mut s = app.subscribe_assignments(&t1, 2).unwrap();
    let mut seqs = Vec::new();
    for _ in 0..3 {
        let m = next_msg(&mut s).await;
        assert!(matches!(m.body, TerminalBody::RouteRevision(_)), "{m:?}");
        seqs.push(m.seq);
    }
    assert_eq!(seqs, vec![3, 4, 5]);
    // Then live, continuing without a gap or a repeat.
    let id = app
        .store_plan(plan_a(), PlanOrigin::Imported, None, None)
        .await
        .unwrap();
    app.publish_plan(&id).await.unwrap();
    assert_eq!(next_msg(&mut s).await.seq, 6);
    // A subscriber racing with publications sees 1..=N exactly once each.
    let mut s0 = app.subscribe_assignments(&t1, 0).unwrap();
    let app2 = app.clone();
    let pubs = tokio::spawn(async move {
        for _ in 0..10 {
            let id = app2
                .store_plan(plan_a(), PlanOrigin::Imported, None, None)
                .await
                .unwrap();
            app2.publish_plan(&id).await.unwrap();
        }
    });
    let mut got = Vec::new();
    while got.len() < 16 {
        got.push(next_msg(&mut s0).await.seq);
    }
    pubs.await.unwrap();
    assert_eq!(got, (1..=16).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_old_after_seq_gets_a_resync_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir, |c| c.resync_keep = 2).await;
    for _ in 0..5 {
        let id = app
            .store_plan(plan_a(), PlanOrigin::Imported, None, None)
            .await
            .unwrap();
        app.publish_plan(&id).await.unwrap();
    }
    let mut s = app.subscribe_assignments(&VehicleId::new("T1"), 1).unwrap();
    let m = next_msg(&mut s).await;
    let TerminalBody::Resync(snap) = m.body else {
        panic!("expected a resync, got {m:?}")
    };
    assert_eq!(snap.head_seq, 5);
    assert_eq!(snap.current_route.as_ref().map(|r| r.version), Some(5));
    // Up to date after the snapshot: the next message is live and has seq 6.
    let id = app
        .store_plan(plan_a(), PlanOrigin::Imported, None, None)
        .await
        .unwrap();
    app.publish_plan(&id).await.unwrap();
    assert_eq!(next_msg(&mut s).await.seq, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_events_are_ignored_and_ack_is_contiguous() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir, |_| {}).await;
    let evs: Vec<TruckEvent> = (1..=5)
        .map(|i| {
            ev(
                &format!("e{i}"),
                i,
                at(8, i as i64),
                pos(0.0, 0.0),
                EventKind::GpsFix,
            )
        })
        .collect();
    // 1, 2, 4 first: ack stops at 2.
    let first = batch(vec![evs[0].clone(), evs[1].clone(), evs[3].clone()]);
    let a = app.report_events(first).await.unwrap();
    assert_eq!((a.accepted, a.duplicates, a.acked_device_seq), (3, 0, 2));
    // Everything again: 1, 2, 4 are duplicates, 3 and 5 new; ack reaches 5.
    let a = app.report_events(batch(evs.clone())).await.unwrap();
    assert_eq!((a.accepted, a.duplicates, a.acked_device_seq), (2, 3, 5));
    // An invalid event is refused by name and does not block the ack.
    let mut bad = ev("e6", 6, at(8, 6), pos(0.0, 0.0), EventKind::GpsFix);
    bad.position = Some(LatLon::new(f64::NAN, 0.0));
    let a = app
        .report_events(batch(vec![
            bad,
            ev("e7", 7, at(8, 7), pos(0.0, 0.0), EventKind::GpsFix),
        ]))
        .await
        .unwrap();
    assert_eq!(a.accepted, 1);
    assert_eq!(a.rejected.len(), 1);
    assert!(
        a.rejected[0].reason.starts_with("position"),
        "{:?}",
        a.rejected
    );
    assert_eq!(a.acked_device_seq, 7);
    // Unknown vehicle.
    let mut b = batch(vec![]);
    b.vehicle = VehicleId::new("nobody");
    assert!(matches!(
        app.report_events(b).await,
        Err(AppError::NotFound { .. })
    ));
    assert!(app.verify_ledger().await.unwrap().is_ok());
}

/// A shift of T1 (dispatched for KITCHEN) with several violations in it.
fn violating_day() -> Vec<TruckEvent> {
    let p1 = pos(0.005, 0.0);
    vec![
        ev("v1", 1, at(7, 0), pos(0.0, 0.0), EventKind::ShiftStart),
        ev("v2", 2, at(8, 0), p1, scan("P1-K", Stream::Kitchen, "P1")),
        // Residual bin into the kitchen truck.
        ev("v3", 3, at(8, 2), p1, scan("P1-R", Stream::Residual, "P1")),
        // A lift without a tag.
        ev(
            "v4",
            4,
            at(8, 3),
            p1,
            EventKind::BinScan {
                bin: None,
                stream: None,
                point: Some(PointId::new("P1")),
                lift_kg: Some(Kilograms(40)),
            },
        ),
        // Tipping far from every facility.
        ev(
            "v5",
            5,
            at(9, 0),
            pos(0.008, 0.0),
            EventKind::BodySensor { tipping: true },
        ),
        // Weighed in at the residual-only facility.
        ev(
            "v6",
            6,
            at(10, 0),
            pos(0.0, 0.02),
            EventKind::WeighbridgeTicket {
                facility: FacilityId::new("FR"),
                gross_kg: Kilograms(12000),
                tare_kg: Kilograms(11860),
                net_kg: Kilograms(140),
                declared_stream: Stream::Kitchen,
                rejected: false,
                purity_pct: None,
            },
        ),
        ev("v7", 7, at(12, 0), pos(0.0, 0.0), EventKind::ShiftEnd),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_violation_reaches_terminal_and_regulator() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir, |_| {}).await;
    let id = app
        .store_plan(plan_a(), PlanOrigin::Imported, None, None)
        .await
        .unwrap();
    app.publish_plan(&id).await.unwrap();
    let t1 = VehicleId::new("T1");
    let mut term = app.subscribe_assignments(&t1, 1).unwrap();
    let mut reg = app.subscribe_incidents(IncidentQuery::default(), 0);
    // Back-filled out of order, in two batches, the second re-sending part of the first.
    let day = violating_day();
    let (a, b) = day.split_at(4);
    let mut second: Vec<TruckEvent> = b.to_vec();
    second.reverse();
    second.push(a[1].clone());
    app.report_events(batch(second)).await.unwrap();
    let ack = app.report_events(batch(a.to_vec())).await.unwrap();
    assert_eq!(ack.acked_device_seq, 7);

    let expected = [
        RuleId::StreamMismatch,
        RuleId::UnidentifiedLift,
        RuleId::OffSiteDischarge,
        RuleId::WrongFacility,
    ];
    // Everything recorded is on the regulator feed; read it all.
    let stored = app
        .list_incidents(IncidentQuery::default(), 0, 1000)
        .await
        .unwrap();
    let rules: std::collections::BTreeSet<RuleId> =
        stored.incidents.iter().map(|r| r.incident.rule).collect();
    for r in expected {
        assert!(rules.contains(&r), "{r} missing from {rules:?}");
    }
    let n = stored.incidents.len();
    let mut from_reg = Vec::new();
    while from_reg.len() < n {
        let item = tokio::time::timeout(GUARD, reg.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let IncidentStreamItem::Incident(r) = item {
            from_reg.push(r.incident.id);
        }
    }
    let mut from_term = Vec::new();
    while from_term.len() < n {
        let m = next_msg(&mut term).await;
        if let TerminalBody::ViolationWarning(w) = m.body {
            from_term.push(w.incident_id);
        }
    }
    let mut ids: Vec<String> = stored
        .incidents
        .iter()
        .map(|r| r.incident.id.clone())
        .collect();
    ids.sort();
    from_reg.sort();
    from_term.sort();
    assert_eq!(from_reg, ids);
    assert_eq!(from_term, ids);
    // Re-sending the whole day raises nothing new.
    let ack = app.report_events(batch(violating_day())).await.unwrap();
    assert_eq!((ack.accepted, ack.duplicates), (0, 7));
    let again = app
        .list_incidents(IncidentQuery::default(), 0, 1000)
        .await
        .unwrap();
    assert_eq!(again.incidents.len(), n);
    // Detail with evidence, filtering, and the ledger.
    let sm = stored
        .incidents
        .iter()
        .find(|r| r.incident.rule == RuleId::StreamMismatch)
        .unwrap();
    let detail = app.get_incident(&sm.incident.id).await.unwrap();
    assert_eq!(detail.evidence.len(), 1);
    assert_eq!(detail.evidence[0].client_event_id, "v3");
    let only = IncidentQuery {
        rules: vec![RuleId::WrongFacility, RuleId::OffSiteDischarge],
        ..Default::default()
    };
    let page = app.list_incidents(only, 0, 0).await.unwrap();
    assert_eq!(page.incidents.len(), 2);
    assert!(app.verify_ledger().await.unwrap().is_ok());

    // The scorecard sees the scans, the mismatch and the delivery.
    let rows = app
        .scorecard(ScorecardQuery {
            from: date(),
            to: date(),
            districts: vec![DistrictId::new("north")],
            streams: vec![],
        })
        .await
        .unwrap();
    let kitchen = rows
        .iter()
        .find(|r| r.stream == Some(Stream::Kitchen))
        .unwrap();
    assert_eq!(kitchen.planned_visits, 2, "{rows:?}");
    assert_eq!(kitchen.served_visits, 1);
    assert_eq!(kitchen.missed_visits, 1);
    assert_eq!(kitchen.tonnage_kg, Kilograms(140));
    assert_eq!(kitchen.trips, 1);
    let residual = rows
        .iter()
        .find(|r| r.stream == Some(Stream::Residual))
        .unwrap();
    assert_eq!((residual.scans, residual.clean_scans), (1, 0));
    assert_eq!(
        *residual
            .incidents_by_rule
            .get(&RuleId::StreamMismatch)
            .unwrap(),
        1
    );

    // After a restart nothing is raised again and resume still works.
    drop((term, reg));
    let total = app
        .list_incidents(IncidentQuery::default(), 0, 1000)
        .await
        .unwrap()
        .incidents
        .len();
    drop(app);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let app = App::open(AppConfig::new(dir.path().join("t.db")), source())
        .await
        .unwrap();
    let ack = app.report_events(batch(violating_day())).await.unwrap();
    assert_eq!(ack.duplicates, 7);
    let mut extra = violating_day()[1].clone();
    extra.client_event_id = "v8".into();
    extra.device_seq = 8;
    extra.occurred_at = at(12, 30);
    app.report_events(batch(vec![extra])).await.unwrap();
    let after = app
        .list_incidents(IncidentQuery::default(), 0, 1000)
        .await
        .unwrap()
        .incidents
        .len();
    assert!(after >= total);
    let mut term = app.subscribe_assignments(&t1, 0).unwrap();
    assert!(matches!(
        next_msg(&mut term).await.body,
        TerminalBody::RouteVersion(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_subscriber_is_dropped_without_blocking_others() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir, |c| c.subscriber_buffer = 4).await;
    let t1 = VehicleId::new("T1");
    let mut slow = app.subscribe_assignments(&t1, 0).unwrap();
    let mut fast = app.subscribe_assignments(&t1, 0).unwrap();
    let id = app
        .store_plan(plan_a(), PlanOrigin::Imported, None, None)
        .await
        .unwrap();
    app.publish_plan(&id).await.unwrap();
    // The slow client reads its first message (so it is live) and then stops reading.
    assert_eq!(next_msg(&mut slow).await.seq, 1);
    let reader = tokio::spawn(async move {
        let mut seqs = Vec::new();
        while seqs.len() < 20 {
            seqs.push(next_msg(&mut fast).await.seq);
        }
        seqs
    });
    for _ in 1..20 {
        let id = app
            .store_plan(plan_a(), PlanOrigin::Imported, None, None)
            .await
            .unwrap();
        app.publish_plan(&id).await.unwrap();
    }
    let seqs = tokio::time::timeout(GUARD, reader).await.unwrap().unwrap();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    // The slow one gets what fitted in its buffer, then Lagged.
    let mut last = 1;
    let err = loop {
        match tokio::time::timeout(GUARD, slow.next()).await.unwrap() {
            Some(Ok(m)) => {
                assert_eq!(m.seq, last + 1);
                last = m.seq;
            }
            Some(Err(e)) => break e,
            None => panic!("ended without an error"),
        }
    };
    assert_eq!(err, AppError::Lagged { last_seq: last });
    assert!(last < 20);
    assert!(app.stats().dropped_slow >= 1);
    // Resuming from the last applied seq gets the rest.
    let mut again = app.subscribe_assignments(&t1, last).unwrap();
    assert_eq!(next_msg(&mut again).await.seq, last + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_data_is_validated_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir, |_| {}).await;
    let again = app.upsert_master(master()).await.unwrap();
    assert_eq!((again.changed, again.unchanged), (0, 8));
    let mut bad = MasterBatch::default();
    let mut v = vehicle("T3", &[Stream::Kitchen]);
    v.capacity_kg = Kilograms(0);
    bad.vehicles = vec![vehicle("T4", &[Stream::Kitchen]), v];
    let err = app.upsert_master(bad).await.unwrap_err();
    assert_eq!(
        err,
        AppError::invalid("vehicles[1].capacity_kg", "must be greater than 0")
    );
    assert!(!app.master().vehicles.contains_key(&VehicleId::new("T4")));
    let mut orphan = vehicle("T5", &[Stream::Kitchen]);
    orphan.depot = DepotId::new("nowhere");
    let err = app
        .upsert_master(MasterBatch {
            vehicles: vec![orphan],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::InvalidArgument { ref field, .. } if field == "vehicles[0].depot")
    );
    let err = app
        .delete_master(MasterDelete {
            depots: vec![DepotId::new("D1")],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::InvalidArgument { ref field, .. } if field == "depot_ids[0]"));
    let n = app
        .delete_master(MasterDelete {
            points: vec![PointId::new("P3"), PointId::new("nope")],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Survives a restart.
    drop(app);
    let app = App::open(AppConfig::new(dir.path().join("t.db")), source())
        .await
        .unwrap();
    let m = app.master();
    assert_eq!((m.vehicles.len(), m.points.len()), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planning_jobs_plan_replan_and_publish() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir, |_| {}).await;
    let job = app.plan_day(date(), PlanDayParams::default()).unwrap();
    let updates: Vec<JobProgress> =
        tokio::time::timeout(GUARD, app.watch_plan_job(&job).unwrap().collect())
            .await
            .unwrap();
    let last = updates.last().unwrap();
    assert_eq!(last.phase, JobPhase::Done, "{updates:?}");
    let plan_id = last.plan_id.clone().unwrap();
    assert_eq!(
        app.get_plan(&plan_id).await.unwrap().status,
        PlanStatus::Draft
    );
    app.publish_plan(&plan_id).await.unwrap();

    let t2 = VehicleId::new("T2");
    let mut s2 = app.subscribe_assignments(&t2, 1).unwrap();
    let job = app
        .vehicle_unavailable(date(), &t2, Seconds::hm(9, 0), "breakdown", None)
        .unwrap();
    let fin: Vec<JobProgress> = app.watch_plan_job(&job).unwrap().collect().await;
    assert_eq!(fin.last().unwrap().phase, JobPhase::Done, "{fin:?}");
    let m = next_msg(&mut s2).await;
    assert!(matches!(m.body, TerminalBody::Cancellation(_)), "{m:?}");
    let new_id = fin.last().unwrap().plan_id.clone().unwrap();
    assert_eq!(app.published_plan(date()).unwrap().id, new_id);
    assert_eq!(
        app.get_plan(&plan_id).await.unwrap().status,
        PlanStatus::Superseded
    );
    assert!(matches!(
        app.watch_plan_job("nope"),
        Err(AppError::NotFound { .. })
    ));
    assert!(matches!(
        app.vehicle_unavailable(
            NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            &t2,
            Seconds(0),
            "",
            None
        ),
        Err(AppError::FailedPrecondition(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_days_are_evicted_and_reloaded_without_duplicate_alarms() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir, |c| c.max_rule_days = 2).await;
    let untagged = || EventKind::BinScan {
        bin: None,
        stream: None,
        point: Some(PointId::new("P1")),
        lift_kg: None,
    };
    const DAY: i64 = 86_400_000;
    // Five service days in one batch: more than the engines kept in memory.
    let evs: Vec<TruckEvent> = (0..5)
        .map(|d| {
            ev(
                &format!("u{d}"),
                d as u64 + 1,
                at(8, 0) + d * DAY,
                pos(0.005, 0.0),
                untagged(),
            )
        })
        .collect();
    app.report_events(batch(evs.clone())).await.unwrap();
    let lifts = |page: IncidentPage| {
        page.incidents
            .iter()
            .filter(|r| r.incident.rule == RuleId::UnidentifiedLift)
            .count()
    };
    let all = IncidentQuery::default();
    assert_eq!(
        lifts(app.list_incidents(all.clone(), 0, 1000).await.unwrap()),
        5
    );
    // A batch on the last day leaves only two days in memory...
    app.report_events(batch(vec![ev(
        "g1",
        6,
        at(9, 0) + 4 * DAY,
        pos(0.0, 0.0),
        EventKind::GpsFix,
    )]))
    .await
    .unwrap();
    // ...so the first day was evicted; a new event there reloads it from the store and
    // raises only the new incident.
    app.report_events(batch(vec![ev(
        "u9",
        6,
        at(9, 0),
        pos(0.005, 0.0),
        untagged(),
    )]))
    .await
    .unwrap();
    assert_eq!(
        lifts(app.list_incidents(all.clone(), 0, 1000).await.unwrap()),
        6
    );
    let ack = app.report_events(batch(evs)).await.unwrap();
    assert_eq!(ack.duplicates, 5);
    assert_eq!(lifts(app.list_incidents(all, 0, 1000).await.unwrap()), 6);
}

/// Every incident's `get_incident` names its ledger record: the seq of a record of kind
/// `incident` pointing at that incident's row, and the hash the ledger walk accepts at
/// that seq (the walk verifies, and the next record links to that hash, or it is the
/// head). Run for both chain algorithms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_incident_names_its_ledger_record() {
    for algo in [
        sortfleet_ledger::HashAlgorithm::Sha256,
        sortfleet_ledger::HashAlgorithm::Sm3,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let app = open(&dir, |c| c.hash_algorithm = algo).await;
        let id = app
            .store_plan(plan_a(), PlanOrigin::Imported, None, None)
            .await
            .unwrap();
        app.publish_plan(&id).await.unwrap();
        app.report_events(batch(violating_day())).await.unwrap();
        let incidents = app
            .list_incidents(IncidentQuery::default(), 0, 1000)
            .await
            .unwrap()
            .incidents;
        assert!(incidents.len() >= 4, "{incidents:?}");
        let report = app.verify_ledger().await.unwrap();
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.algorithm, algo.name());

        let walk = sortfleet_ledger::Store::open_read_only(dir.path().join("t.db")).unwrap();
        let mut seqs = Vec::new();
        for r in &incidents {
            let d = app.get_incident(&r.incident.id).await.unwrap();
            let seq = d.ledger_seq.expect("incident has a ledger seq");
            let hash = d.ledger_hash.expect("incident has a ledger hash");
            let entry = walk.ledger_entry(seq).unwrap().unwrap();
            assert_eq!(entry.kind, "incident");
            assert_eq!(entry.algo, algo.name());
            assert_eq!(entry.hash_hex(), hash);
            let row = walk.incident_by_id(&r.incident.id).unwrap().unwrap();
            assert_eq!(entry.record_ref, row.incident.seq);
            if seq == report.head_seq {
                assert_eq!(&report.head_hash[..], entry.hash.as_slice());
            } else {
                let next = walk.ledger_entry(seq + 1).unwrap().unwrap();
                assert_eq!(next.prev_hash, entry.hash);
            }
            seqs.push(seq);
        }
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), incidents.len(), "distinct records per incident");
        assert!(
            matches!(
                app.get_incident("no-such-incident").await,
                Err(AppError::NotFound { .. })
            ),
            "unknown ids stay NotFound"
        );
        drop(app);
        // The ledger keeps its algorithm: reopening with the other one is refused.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let other = match algo {
            sortfleet_ledger::HashAlgorithm::Sha256 => sortfleet_ledger::HashAlgorithm::Sm3,
            sortfleet_ledger::HashAlgorithm::Sm3 => sortfleet_ledger::HashAlgorithm::Sha256,
        };
        let mut cfg = AppConfig::new(dir.path().join("t.db"));
        cfg.hash_algorithm = other;
        let err = App::open(cfg, source()).await.unwrap_err();
        assert!(err.to_string().contains("never switches"), "{err}");
    }
}
