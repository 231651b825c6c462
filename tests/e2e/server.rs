//! The real `sortfleet serve` binary on 127.0.0.1 with a temporary database, driven by
//! the generated tonic clients. Timeouts only guard against hangs; no assertion depends
//! on timing. Shared helpers live in [`super::support`].

use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use sortfleet_dispatch::app::MasterBatch;
use sortfleet_model::event::{EventKind, TruckEvent};
use sortfleet_model::incident::RuleId;
use sortfleet_model::*;
use sortfleet_proto::v1;
use sortfleet_proto::v1::dispatch_service_client::DispatchServiceClient;
use sortfleet_server::convert::{ToProto, rule_from_proto};
use tonic::Code;

use super::support::*;

fn master() -> v1::UpsertMasterDataRequest {
    MasterBatch {
        depots: vec![Depot {
            id: DepotId::new("D1"),
            name: "depot".into(),
            location: pos(2.0, 2.0),
        }],
        facilities: vec![
            facility("FK", &[Stream::Kitchen], pos(20.0, 2.0)),
            facility("FR", &[Stream::Residual], pos(2.0, 20.0)),
        ],
        vehicles: vec![
            vehicle("T1", &[Stream::Kitchen]),
            vehicle("T2", &[Stream::Residual]),
        ],
        points: vec![
            point("P1", pos(6.0, 4.0)),
            point("P2", pos(10.0, 6.0)),
            point("P3", pos(5.0, 12.0)),
        ],
    }
    .to_proto()
}

async fn setup_published(srv: &Srv) -> (DispatchServiceClient<Ch>, String) {
    let mut d = dispatch(srv, Some("disp")).await;
    d.upsert_master_data(master()).await.unwrap();
    let id = plan(&mut d, 1).await;
    let out = d
        .publish_plan(v1::PublishPlanRequest {
            plan_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(out.vehicle_ids.contains(&"T1".to_owned()), "{out:?}");
    (d, id)
}

fn ev(id: &str, seq: u64, t: i64, p: LatLon, kind: EventKind) -> v1::TruckEvent {
    TruckEvent {
        client_event_id: id.into(),
        device_seq: seq,
        vehicle: VehicleId::new("T1"),
        occurred_at: t,
        position: Some(p),
        kind,
    }
    .to_proto()
}

fn batch(events: Vec<v1::TruckEvent>) -> v1::EventBatch {
    v1::EventBatch {
        vehicle_id: "T1".into(),
        device_id: "tab-1".into(),
        events,
    }
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_plan_reaches_terminal_and_resume_gets_exactly_the_missed() {
    let dir = workdir();
    let srv = start(dir.path());
    let mut d = dispatch(&srv, Some("disp")).await;
    d.upsert_master_data(master()).await.unwrap();
    let mut t1 = terminal(&srv, Some("t1")).await;
    let mut live = t1
        .subscribe_assignments(v1::SubscribeAssignmentsRequest {
            vehicle_id: "T1".into(),
            after_seq: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let first = plan(&mut d, 1).await;
    d.publish_plan(v1::PublishPlanRequest { plan_id: first })
        .await
        .unwrap();
    let m = loop {
        let m = next_msg(&mut live).await;
        if is_heartbeat(&m).is_none() {
            break m;
        }
    };
    assert_eq!(m.seq, 1);
    let Some(v1::assignment_message::Body::RouteVersion(rv)) = m.body else {
        panic!("expected a route version, got {m:?}");
    };
    let route = rv.route.unwrap();
    assert_eq!(route.vehicle_id, "T1");
    assert!(!route.trips.is_empty());
    assert!(
        route
            .trips
            .iter()
            .flat_map(|t| &t.stops)
            .all(|s| s.location.is_some())
    );
    drop(live);

    // Two more publications while the terminal is away.
    for seed in [2, 3] {
        let id = plan(&mut d, seed).await;
        d.publish_plan(v1::PublishPlanRequest { plan_id: id })
            .await
            .unwrap();
    }
    for after in [0u64, 1, 2, 3] {
        let mut s = t1
            .subscribe_assignments(v1::SubscribeAssignmentsRequest {
                vehicle_id: "T1".into(),
                after_seq: after,
            })
            .await
            .unwrap()
            .into_inner();
        let mut seqs = Vec::new();
        loop {
            let m = next_msg(&mut s).await;
            match is_heartbeat(&m) {
                Some(head) => {
                    assert_eq!(head, 3);
                    break;
                }
                None => seqs.push(m.seq),
            }
        }
        let want: Vec<u64> = (after + 1..=3).collect();
        assert_eq!(seqs, want, "after_seq {after}");
    }
}

/// A shift of T1 (kitchen) with violations in it, as in the core's tests.
fn violating_day() -> Vec<v1::TruckEvent> {
    let p1 = pos(6.0, 4.0);
    let scan = |bin: &str, s: Stream| EventKind::BinScan {
        bin: Some(BinId::new(bin)),
        stream: Some(s),
        point: Some(PointId::new("P1")),
        lift_kg: Some(Kilograms(50)),
    };
    vec![
        ev("v1", 1, at(7, 0), pos(2.0, 2.0), EventKind::ShiftStart),
        ev("v2", 2, at(8, 0), p1, scan("P1-K", Stream::Kitchen)),
        ev("v3", 3, at(8, 2), p1, scan("P1-R", Stream::Residual)),
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
        ev(
            "v5",
            5,
            at(9, 0),
            pos(12.0, 12.0),
            EventKind::BodySensor { tipping: true },
        ),
        ev(
            "v6",
            6,
            at(10, 0),
            pos(2.0, 20.0),
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
        ev("v7", 7, at(12, 0), pos(2.0, 2.0), EventKind::ShiftEnd),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_violation_reaches_terminal_and_regulator() {
    let dir = workdir();
    let srv = start(dir.path());
    let _ = setup_published(&srv).await;
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
    // Back-filled out of order, in two batches, the second re-sending part of the first.
    let day = violating_day();
    let (a, b) = day.split_at(4);
    let mut second = b.to_vec();
    second.reverse();
    second.push(a[1].clone());
    let acks = report(&mut t1, vec![batch(second), batch(a.to_vec())])
        .await
        .unwrap();
    assert_eq!(acks.last().unwrap().acked_device_seq, 7);
    assert_eq!(acks.iter().map(|a| a.duplicates).sum::<u32>(), 1);

    let stored = sup
        .list_incidents(v1::ListIncidentsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .incidents;
    let rules: std::collections::BTreeSet<RuleId> = stored
        .iter()
        .map(|i| rule_from_proto(i.rule, "rule").unwrap())
        .collect();
    for r in [
        RuleId::StreamMismatch,
        RuleId::UnidentifiedLift,
        RuleId::OffSiteDischarge,
        RuleId::WrongFacility,
    ] {
        assert!(rules.contains(&r), "{r} missing from {rules:?}");
    }
    let n = stored.len();
    let mut from_reg = Vec::new();
    while from_reg.len() < n {
        let m = tokio::time::timeout(GUARD, reg.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Some(v1::incident_stream_message::Body::Incident(i)) = m.body {
            from_reg.push(i.id);
        }
    }
    let mut from_term = Vec::new();
    while from_term.len() < n {
        let m = next_msg(&mut term).await;
        if let Some(v1::assignment_message::Body::ViolationWarning(w)) = m.body {
            from_term.push(w.incident.unwrap().id);
        }
    }
    let mut ids: Vec<String> = stored.iter().map(|i| i.id.clone()).collect();
    ids.sort();
    from_reg.sort();
    from_term.sort();
    assert_eq!(from_reg, ids);
    assert_eq!(from_term, ids);
    // Evidence is retrievable with the incident.
    let got = sup
        .get_incident(v1::GetIncidentRequest {
            incident_id: ids[0].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!got.evidence_events.is_empty());
    let v = sup
        .verify_ledger(v1::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(v.ok, "{v:?}");
}

fn gps(i: u64) -> v1::TruckEvent {
    ev(
        &format!("g{i}"),
        i,
        at(8, 0) + i as i64,
        pos(3.0, 3.0),
        EventKind::GpsFix,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_intake_loses_no_acknowledged_event() {
    let dir = workdir();
    let mut srv = start(dir.path());
    dispatch(&srv, Some("disp"))
        .await
        .upsert_master_data(master())
        .await
        .unwrap();
    let mut t1 = terminal(&srv, Some("t1")).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<v1::EventBatch>(4);
    let mut acks = t1
        .report_events(tokio_stream_from(rx))
        .await
        .unwrap()
        .into_inner();
    let feeder = tokio::spawn(async move {
        let mut next = 1u64;
        loop {
            let events: Vec<_> = (next..next + 100).map(gps).collect();
            next += 100;
            if tx.send(batch(events)).await.is_err() {
                break;
            }
        }
    });
    let mut acked = 0;
    while let Ok(Some(Ok(a))) = tokio::time::timeout(GUARD, acks.next()).await {
        acked = acked.max(a.acked_device_seq);
        if acked >= 3000 {
            // Kill while batches are still in flight.
            srv.child.kill().unwrap();
            srv.child.wait().unwrap();
            break;
        }
    }
    // Acks that were already on the wire count too.
    while let Ok(Some(Ok(a))) = tokio::time::timeout(Duration::from_secs(5), acks.next()).await {
        acked = acked.max(a.acked_device_seq);
    }
    feeder.abort();
    assert!(acked >= 3000);
    drop(srv);

    let srv = start(dir.path());
    let mut t1 = terminal(&srv, Some("t1")).await;
    // Re-sending every acknowledged event finds each one stored already.
    let events: Vec<_> = (1..=acked).map(gps).collect();
    let ack = report(&mut t1, vec![batch(events)])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(ack.duplicates as u64, acked, "{ack:?}");
    assert_eq!(ack.accepted, 0);
    let mut sup = supervision(&srv, Some("reg")).await;
    let v = sup
        .verify_ledger(v1::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(v.ok, "{v:?}");
    assert!(v.record_count >= acked);
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<v1::EventBatch>,
) -> impl futures::Stream<Item = v1::EventBatch> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_row_is_named_by_verify_ledger() {
    let dir = workdir();
    let srv = start(dir.path());
    dispatch(&srv, Some("disp"))
        .await
        .upsert_master_data(master())
        .await
        .unwrap();
    let mut t1 = terminal(&srv, Some("t1")).await;
    report(&mut t1, vec![batch((1..=20).map(gps).collect())])
        .await
        .unwrap();
    drop(t1);
    drop(srv);

    let db: PathBuf = dir.path().join("sortfleet.db");
    let want = {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("DROP TRIGGER events_append_only_u")
            .unwrap();
        c.execute(
            "UPDATE events SET body = replace(body, 'GPS', 'GPZ') WHERE client_event_id = 'g7'",
            [],
        )
        .unwrap();
        c.execute(
            "UPDATE events SET occurred_at = occurred_at + 1 WHERE client_event_id = 'g7'",
            [],
        )
        .unwrap();
        c.query_row(
            "SELECT l.seq FROM ledger l JOIN events e ON l.kind = 'event' AND l.record_ref = e.seq WHERE e.client_event_id = 'g7'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64
    };
    let srv = start(dir.path());
    let mut sup = supervision(&srv, Some("reg")).await;
    let v = sup
        .verify_ledger(v1::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!v.ok);
    let bad = v.first_bad.unwrap();
    assert_eq!(bad.ledger_seq, want, "{bad:?}");
    assert_eq!(bad.fault, v1::LedgerFault::HashMismatch as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_enforced() {
    let dir = workdir();
    let srv = start(dir.path());
    dispatch(&srv, Some("disp"))
        .await
        .upsert_master_data(master())
        .await
        .unwrap();
    // No token, unknown token.
    for tok in [None, Some("nope")] {
        let e = dispatch(&srv, tok)
            .await
            .upsert_master_data(master())
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{tok:?}");
    }
    // A terminal cannot read another vehicle.
    let mut t1 = terminal(&srv, Some("t1")).await;
    let e = t1
        .subscribe_assignments(v1::SubscribeAssignmentsRequest {
            vehicle_id: "T2".into(),
            after_seq: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // ...nor report for it.
    let mut b = batch(vec![gps(1)]);
    b.vehicle_id = "T2".into();
    b.events[0].vehicle_id = "T2".into();
    let e = report(&mut t1, vec![b]).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // ...nor supervise or dispatch.
    let e = supervision(&srv, Some("t1"))
        .await
        .verify_ledger(v1::VerifyLedgerRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // A regulator cannot write.
    let e = dispatch(&srv, Some("reg"))
        .await
        .upsert_master_data(master())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let mut treg = terminal(&srv, Some("reg")).await;
    let e = report(&mut treg, vec![batch(vec![gps(1)])])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // Nothing was stored by the refused calls.
    let mut sup = supervision(&srv, Some("reg")).await;
    let v = sup
        .verify_ledger(v1::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.record_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_invalid_argument_naming_the_field_and_changes_nothing() {
    let dir = workdir();
    let srv = start(dir.path());
    let mut d = dispatch(&srv, Some("disp")).await;
    d.upsert_master_data(master()).await.unwrap();
    let before = d
        .get_scenario(v1::GetScenarioRequest {
            service_date: DATE.into(),
        })
        .await
        .unwrap()
        .into_inner();

    let mut m = master();
    m.vehicles[1].shift = None;
    m.vehicles[0].capacity_kg = 1;
    let e = d.upsert_master_data(m).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("vehicles[1].shift"), "{}", e.message());

    let mut m = master();
    m.vehicles[0].capacity_kg = -5;
    let e = d.upsert_master_data(m).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("vehicles[0].capacity_kg"),
        "{}",
        e.message()
    );

    let e = d
        .plan_day(v1::PlanDayRequest {
            service_date: "2026-13-01".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("service_date"), "{}", e.message());

    let e = d
        .get_plan(v1::GetPlanRequest {
            plan_id: "no-such-plan".into(),
            include_geometry: false,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    let mut t1 = terminal(&srv, Some("t1")).await;
    let mut bad = gps(1);
    bad.occurred_at = None;
    let ack = report(&mut t1, vec![batch(vec![bad, gps(2)])])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(ack.accepted, 1);
    assert_eq!(ack.rejected.len(), 1);
    assert!(
        ack.rejected[0].reason.contains("events[0].occurred_at"),
        "{:?}",
        ack.rejected
    );

    let after = d
        .get_scenario(v1::GetScenarioRequest {
            service_date: DATE.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before, after);
}
