//! Store behaviour: migrations, batch ingest, de-duplication, queries, outboxes.

mod common;

use common::*;
use serde_json::json;
use sortfleet_ledger::*;

#[test]
fn open_creates_wal_database_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let s = Store::open(&path, &StoreConfig::default()).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    let s = Store::open(&path, &StoreConfig::default()).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(
        s.head().unwrap(),
        LedgerHead {
            seq: 0,
            hash: GENESIS_HASH
        }
    );
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path, &StoreConfig::default()).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("INSERT INTO schema_version VALUES (99, 0)", [])
        .unwrap();
    let err = Store::open(&path, &StoreConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::SchemaTooNew {
                found: 99,
                supported: SCHEMA_VERSION
            }
        ),
        "{err}"
    );
    let err = Store::open_read_only(&path).unwrap_err();
    assert!(
        matches!(err, LedgerError::SchemaTooNew { found: 99, .. }),
        "{err}"
    );
}

#[test]
fn read_only_open_rejects_foreign_files_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    assert!(matches!(
        Store::open_read_only(&other),
        Err(LedgerError::NotAStore)
    ));

    let path = dir.path().join("s.db");
    drop(Store::open(&path, &StoreConfig::default()).unwrap());
    let mut ro = Store::open_read_only(&path).unwrap();
    assert!(ro.is_read_only());
    assert!(ro.append_events(&[event("a", "V", 1, 0)]).is_err());
}

#[test]
fn duplicates_are_reported_not_reappended() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("s.db"), &cfg(0)).unwrap();
    let out = s
        .append_events(&[
            event("a", "V1", 1, 10),
            event("b", "V1", 2, 20),
            event("a", "V1", 1, 10),
        ])
        .unwrap();
    assert_eq!(
        out[0],
        AppendOutcome::Appended {
            record_seq: 1,
            ledger_seq: 1
        }
    );
    assert_eq!(
        out[1],
        AppendOutcome::Appended {
            record_seq: 2,
            ledger_seq: 2
        }
    );
    assert_eq!(
        out[2],
        AppendOutcome::Duplicate {
            record_seq: 1,
            same_content: true
        }
    );

    let mut changed = event("b", "V1", 2, 20);
    changed.body = json!({"other": true});
    let out = s
        .append_events(&[changed, event("c", "V1", 3, 30)])
        .unwrap();
    assert_eq!(
        out[0],
        AppendOutcome::Duplicate {
            record_seq: 2,
            same_content: false
        }
    );
    assert!(out[1].is_appended());
    assert_eq!(s.head().unwrap().seq, 3);
    assert_eq!(s.events_after(0, 0).unwrap().len(), 3);
    assert!(s.verify().unwrap().is_ok());
}

#[test]
fn invalid_input_fails_the_whole_batch_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("s.db"), &cfg(0)).unwrap();
    let mut bad = event("x", "V1", 2, 0);
    bad.device_seq = 0;
    let err = s
        .append_events(&[event("ok", "V1", 1, 0), bad])
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::InvalidInput {
                field: "device_seq",
                ..
            }
        ),
        "{err}"
    );
    let mut bad = event("", "V1", 1, 0);
    bad.client_event_id.clear();
    assert!(matches!(
        s.append_events(&[bad]).unwrap_err(),
        LedgerError::InvalidInput {
            field: "client_event_id",
            ..
        }
    ));
    assert_eq!(s.head().unwrap().seq, 0);
    assert!(s.event_by_client_id("ok").unwrap().is_none());
    assert_eq!(s.device_contiguous_seq("dev-V1").unwrap(), 0);
}

#[test]
fn failed_write_closure_rolls_back_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("s.db"), &cfg(0)).unwrap();
    let r: Result<()> = s.write(|w| {
        w.append_events(&[event("a", "V1", 1, 0)])?;
        w.push_terminal_messages(&[NewTerminalMessage {
            vehicle: "V1".into(),
            kind: "WARNING".into(),
            payload: json!({}),
            created_at: 0,
        }])?;
        Err(LedgerError::invalid("test", "abort"))
    });
    assert!(r.is_err());
    assert_eq!(s.head().unwrap().seq, 0);
    assert_eq!(s.terminal_window("V1").unwrap().head_seq, 0);
    // And the chain continues correctly after a rollback.
    s.append_events(&[event("b", "V1", 1, 0)]).unwrap();
    assert_eq!(s.head().unwrap().seq, 1);
    assert!(s.verify().unwrap().is_ok());
}

#[test]
fn device_ack_is_highest_contiguous_seq() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("s.db"), &cfg(0)).unwrap();
    s.append_events(&[
        event("a", "V1", 1, 0),
        event("b", "V1", 2, 0),
        event("d", "V1", 4, 0),
    ])
    .unwrap();
    assert_eq!(s.device_contiguous_seq("dev-V1").unwrap(), 2);
    // Back-filled gap closes: the ack jumps past the already stored 4.
    s.append_events(&[event("c", "V1", 3, 0)]).unwrap();
    assert_eq!(s.device_contiguous_seq("dev-V1").unwrap(), 4);
    assert_eq!(s.device_contiguous_seq("dev-other").unwrap(), 0);
    s.append_events(&[event("z", "V2", 2, 0)]).unwrap();
    assert_eq!(s.device_contiguous_seq("dev-V2").unwrap(), 0);
}

#[test]
fn incidents_query_filter_paginate_and_resolve_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("s.db"), &cfg(0)).unwrap();
    s.append_events(&[event("e1", "V1", 1, 100), event("e2", "V1", 2, 200)])
        .unwrap();
    let mut batch = Vec::new();
    for i in 0..10i64 {
        let v = if i % 2 == 0 { "V1" } else { "V2" };
        let d = if i < 5 { "D1" } else { "D2" };
        let rule = if i % 3 == 0 {
            "MIXED_TRIP"
        } else {
            "ROUTE_DEVIATION"
        };
        batch.push(incident(
            &format!("i{i}"),
            v,
            d,
            rule,
            1000 + i,
            &["e1", "e2", "nope"],
        ));
    }
    let out = s.append_incidents(&batch).unwrap();
    assert!(out.iter().all(|o| o.is_appended()));
    assert_eq!(
        s.append_incidents(&batch[..1]).unwrap()[0],
        AppendOutcome::Duplicate {
            record_seq: 1,
            same_content: true
        }
    );
    assert_eq!(s.incident_head_seq().unwrap(), 10);

    let v1 = s
        .query_incidents(&IncidentFilter {
            vehicle: Some("V1".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        v1.iter()
            .map(|i| i.incident_id.as_str())
            .collect::<Vec<_>>(),
        ["i0", "i2", "i4", "i6", "i8"]
    );
    let f = IncidentFilter {
        district: Some("D2".into()),
        rule: Some("MIXED_TRIP".into()),
        ..Default::default()
    };
    let got = s.query_incidents(&f).unwrap();
    assert_eq!(
        got.iter()
            .map(|i| i.incident_id.as_str())
            .collect::<Vec<_>>(),
        ["i6", "i9"]
    );
    let timed = s
        .query_incidents(&IncidentFilter {
            from: Some(1003),
            to: Some(1005),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(timed.len(), 2);
    assert_eq!(
        s.query_incidents(&IncidentFilter {
            stream: Some("RESIDUAL".into()),
            ..Default::default()
        })
        .unwrap()
        .len(),
        0
    );

    // Pages of 3 walk every incident once.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = s
            .query_incidents(&IncidentFilter {
                after_seq: after,
                limit: 3,
                ..Default::default()
            })
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().unwrap().seq;
        seen.extend(page.into_iter().map(|i| i.seq));
    }
    assert_eq!(seen, (1..=10).collect::<Vec<u64>>());
    assert_eq!(
        s.incidents_after(8, 0)
            .unwrap()
            .iter()
            .map(|i| i.seq)
            .collect::<Vec<_>>(),
        [9, 10]
    );

    let full = s.incident_by_id("i4").unwrap().unwrap();
    assert_eq!(full.incident.evidence, ["e1", "e2", "nope"]);
    assert_eq!(
        full.events
            .iter()
            .map(|e| e.client_event_id.as_str())
            .collect::<Vec<_>>(),
        ["e1", "e2"]
    );
    assert_eq!(full.incident.body["rule"], "ROUTE_DEVIATION");
    assert!(s.incident_by_id("missing").unwrap().is_none());
    assert!(s.verify().unwrap().is_ok());
}

#[test]
fn events_by_vehicle_and_day_in_occurrence_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("s.db"), &cfg(0)).unwrap();
    // Back-filled: received in a different order than they happened.
    s.append_events(&[event("late", "V1", 3, 300), event("x", "V2", 1, 150)])
        .unwrap();
    s.append_events(&[
        event("early", "V1", 1, 100),
        event("mid", "V1", 2, 200),
        event("next-day", "V1", 4, 90_000),
    ])
    .unwrap();
    let day = s
        .query_events(&EventFilter {
            vehicle: Some("V1".into()),
            from: Some(0),
            to: Some(86_400),
            limit: 0,
        })
        .unwrap();
    assert_eq!(
        day.iter()
            .map(|e| e.client_event_id.as_str())
            .collect::<Vec<_>>(),
        ["early", "mid", "late"]
    );
    assert_eq!(day[0].body["stream"], "KITCHEN");
    assert_eq!(
        s.query_events(&EventFilter {
            limit: 2,
            ..Default::default()
        })
        .unwrap()
        .len(),
        2
    );
    assert_eq!(
        s.events_after(2, 10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        [3, 4, 5]
    );
}

#[test]
fn terminal_outbox_resumes_exactly_and_survives_pruning() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("s.db"), &cfg(0)).unwrap();
    let msg = |v: &str, n: i64| NewTerminalMessage {
        vehicle: v.into(),
        kind: "ROUTE".into(),
        payload: json!({"n": n}),
        created_at: n,
    };
    assert_eq!(
        s.terminal_window("V1").unwrap(),
        TerminalWindow {
            head_seq: 0,
            oldest_kept_seq: 1
        }
    );
    let seqs = s
        .push_terminal_messages(&[msg("V1", 1), msg("V2", 1), msg("V1", 2), msg("V1", 3)])
        .unwrap();
    assert_eq!(seqs, [1, 1, 2, 3]);
    let after1 = s.terminal_messages_after("V1", 1, 0).unwrap();
    assert_eq!(after1.iter().map(|m| m.seq).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(after1[0].payload, json!({"n": 2}));
    assert_eq!(s.terminal_messages_after("V1", 3, 0).unwrap().len(), 0);
    assert_eq!(s.terminal_messages_after("V1", 0, 1).unwrap().len(), 1);

    assert_eq!(s.prune_terminal_messages("V1", 3).unwrap(), 2);
    assert_eq!(
        s.terminal_window("V1").unwrap(),
        TerminalWindow {
            head_seq: 3,
            oldest_kept_seq: 3
        }
    );
    s.prune_terminal_messages("V1", 100).unwrap();
    assert_eq!(
        s.terminal_window("V1").unwrap(),
        TerminalWindow {
            head_seq: 3,
            oldest_kept_seq: 4
        }
    );
    // Numbering continues after pruning everything.
    assert_eq!(s.push_terminal_messages(&[msg("V1", 4)]).unwrap(), [4]);
    assert_eq!(
        s.terminal_window("V2").unwrap(),
        TerminalWindow {
            head_seq: 1,
            oldest_kept_seq: 1
        }
    );
}

#[test]
fn master_data_plans_and_routes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("s.db"), &cfg(0)).unwrap();
    let depot = json!({"id": "DP1", "pos": [1.0, 2.0]});
    assert!(
        s.upsert_master(MasterKind::Depot, "DP1", &depot, 1)
            .unwrap()
    );
    assert!(
        !s.upsert_master(MasterKind::Depot, "DP1", &depot, 2)
            .unwrap(),
        "same body is a no-op"
    );
    assert!(
        s.upsert_master(MasterKind::Depot, "DP1", &json!({"id": "DP1"}), 3)
            .unwrap()
    );
    s.upsert_master(MasterKind::Vehicle, "DP1", &json!({"v": 1}), 3)
        .unwrap();
    assert_eq!(
        s.get_master(MasterKind::Depot, "DP1").unwrap(),
        Some(json!({"id": "DP1"}))
    );
    assert_eq!(s.list_master(MasterKind::Vehicle).unwrap().len(), 1);
    assert!(s.delete_master(MasterKind::Depot, "DP1").unwrap());
    assert!(!s.delete_master(MasterKind::Depot, "DP1").unwrap());
    assert_eq!(s.get_master(MasterKind::Depot, "DP1").unwrap(), None);

    s.put_plan("p1", &json!({"routes": []}), 10).unwrap();
    s.put_plan("p2", &json!({"routes": [1]}), 20).unwrap();
    assert_eq!(
        s.get_plan("p1").unwrap().unwrap().body,
        json!({"routes": []})
    );
    assert_eq!(
        s.list_plans().unwrap(),
        [("p2".to_owned(), 20), ("p1".to_owned(), 10)]
    );
    assert!(s.get_plan("nope").unwrap().is_none());

    assert_eq!(
        s.publish_route("V1", Some("p1"), &json!({"stops": 1}), 5)
            .unwrap(),
        1
    );
    assert_eq!(
        s.publish_route("V1", Some("p2"), &json!({"stops": 2}), 6)
            .unwrap(),
        2
    );
    let latest = s.latest_route("V1").unwrap().unwrap();
    assert_eq!((latest.version, latest.plan_id.as_deref()), (2, Some("p2")));
    assert_eq!(s.route("V1", 1).unwrap().unwrap().body, json!({"stops": 1}));
    assert!(s.latest_route("V9").unwrap().is_none());
}

#[test]
fn one_transaction_can_mix_events_incidents_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("s.db"), &cfg(2)).unwrap();
    let (ev, inc, msg) = s
        .write(|w| {
            let ev = w.append_events(&[event("a", "V1", 1, 0)])?;
            let inc = w.append_incidents(&[incident("i", "V1", "D", "MIXED_TRIP", 0, &["a"])])?;
            let msg = w.push_terminal_messages(&[NewTerminalMessage {
                vehicle: "V1".into(),
                kind: "WARNING".into(),
                payload: json!({"incident": "i"}),
                created_at: 0,
            }])?;
            Ok((ev, inc, msg))
        })
        .unwrap();
    assert_eq!(
        ev[0],
        AppendOutcome::Appended {
            record_seq: 1,
            ledger_seq: 1
        }
    );
    assert_eq!(
        inc[0],
        AppendOutcome::Appended {
            record_seq: 1,
            ledger_seq: 2
        }
    );
    assert_eq!(msg, [1]);
    let r = s.verify().unwrap();
    assert!(r.is_ok(), "{r}");
    assert_eq!(
        (r.records, r.checkpoints, r.last_checkpoint_seq),
        (2, 1, Some(2))
    );
}

#[test]
fn store_moves_to_a_writer_thread() {
    fn is_send<T: Send>() {}
    is_send::<Store>();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = Store::open(&path, &cfg(0)).unwrap();
    let h = std::thread::spawn(move || s.append_events(&[event("a", "V1", 1, 0)]).unwrap());
    assert!(h.join().unwrap()[0].is_appended());
    // A second connection (the service's reader) sees the committed batch.
    assert!(
        Store::open_read_only(&path)
            .unwrap()
            .event_by_client_id("a")
            .unwrap()
            .is_some()
    );
}

#[test]
fn key_loading_formats() {
    let dir = tempfile::tempdir().unwrap();
    let hexf = dir.path().join("k.hex");
    std::fs::write(&hexf, format!("{}\n", hex::encode(SEED))).unwrap();
    let rawf = dir.path().join("k.bin");
    std::fs::write(&rawf, SEED).unwrap();
    let a = CheckpointKey::from_file(&hexf).unwrap();
    let b = CheckpointKey::from_file(&rawf).unwrap();
    assert_eq!(a.verifying_key(), b.verifying_key());
    assert_eq!(a.key_id(), key_id(&a.verifying_key()));
    assert_eq!(a.key_id().len(), 16);
    std::fs::write(&rawf, b"short").unwrap();
    assert!(matches!(
        CheckpointKey::from_file(&rawf),
        Err(LedgerError::Key(_))
    ));
    assert!(matches!(
        CheckpointKey::from_file(&dir.path().join("none")),
        Err(LedgerError::Io { .. })
    ));
    let pk = parse_public_key_hex(&hex::encode(a.verifying_key().to_bytes())).unwrap();
    assert_eq!(pk, a.verifying_key());
    assert!(parse_public_key_hex("zz").is_err());
    assert!(
        !format!("{a:?}").contains(&hex::encode(SEED)),
        "Debug must not leak the secret"
    );
}

#[test]
fn read_only_connection_sees_commits_while_writer_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut w = Store::open(&path, &cfg(0)).unwrap();
    w.append_events(&[event("a", "V1", 1, 0)]).unwrap();
    let r = Store::open_read_only(&path).unwrap();
    assert!(r.event_by_client_id("a").unwrap().is_some());
    w.append_events(&[event("b", "V1", 2, 0)]).unwrap();
    assert!(r.event_by_client_id("b").unwrap().is_some());
    assert_eq!(r.device_contiguous_seq("dev-V1").unwrap(), 2);
    assert!(r.verify().unwrap().is_ok());
}
