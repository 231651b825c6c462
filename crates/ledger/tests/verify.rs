//! Tampering with the database file is detected and the first bad record is named.

mod common;

use common::*;
use sortfleet_ledger::*;

fn verify(path: &std::path::Path) -> VerifyReport {
    Store::open_read_only(path).unwrap().verify().unwrap()
}

fn first(path: &std::path::Path) -> (u64, BadReason) {
    let r = verify(path);
    let b = r
        .first_bad
        .clone()
        .unwrap_or_else(|| panic!("tampering not detected:\n{r}"));
    (b.seq, b.reason)
}

#[test]
fn clean_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    let r = verify(&path);
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.records, 20);
    assert_eq!(r.head_seq, 20);
    assert_eq!(r.checkpoints, 4);
    assert_eq!(r.last_checkpoint_seq, Some(20));
    assert_eq!(r.unsigned_tail(), 0);
    assert_eq!(
        r.key_ids,
        [CheckpointKey::from_seed(SEED).key_id().to_owned()]
    );
    assert_eq!(
        r.head_hash,
        Store::open_read_only(&path).unwrap().head().unwrap().hash
    );
    let trusted = VerifyOptions {
        trusted_keys: vec![CheckpointKey::from_seed(SEED).verifying_key()],
        ..Default::default()
    };
    assert!(
        Store::open_read_only(&path)
            .unwrap()
            .verify_with(&trusted)
            .unwrap()
            .is_ok()
    );
    assert!(r.to_string().contains("OK"));
}

#[test]
fn append_only_triggers_stop_plain_updates() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    let c = rusqlite::Connection::open(&path).unwrap();
    assert!(
        c.execute("UPDATE events SET body = '{}' WHERE seq = 1", [])
            .is_err()
    );
    assert!(c.execute("DELETE FROM ledger WHERE seq = 1", []).is_err());
    assert!(c.execute("DELETE FROM checkpoints", []).is_err());
}

#[test]
fn altered_event_body_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "UPDATE events SET body = replace(body, 'B-e7', 'B-XX') WHERE client_event_id = 'e7'",
    );
    assert_eq!(first(&path), (7, BadReason::Altered));
    let r = verify(&path);
    assert!(r.first_bad.unwrap().detail.contains("e7"));
    assert_eq!(
        r.bad.len(),
        1,
        "only the edited record is reported: {:?}",
        r.bad
    );
}

#[test]
fn altered_indexed_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "UPDATE events SET vehicle = 'V9' WHERE client_event_id = 'e3'",
    );
    assert_eq!(first(&path), (3, BadReason::Altered));
}

#[test]
fn altered_incident_and_evidence_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "UPDATE incidents SET rule = 'NOTHING' WHERE incident_id = 'i2'",
    );
    assert_eq!(first(&path), (12, BadReason::Altered));

    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "DELETE FROM incident_evidence WHERE incident_seq = 1 AND pos = 1",
    );
    assert_eq!(first(&path), (11, BadReason::Altered));

    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "UPDATE incidents SET district = NULL WHERE incident_id = 'i1'",
    );
    assert_eq!(first(&path), (11, BadReason::Altered));
}

#[test]
fn missing_ledger_record_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(&path, "DELETE FROM ledger WHERE seq = 8");
    let r = verify(&path);
    let b = r.first_bad.clone().unwrap();
    assert_eq!((b.seq, b.reason), (8, BadReason::Missing), "{r}");
    // The event whose ledger record is gone is reported as unchained too.
    assert!(
        r.bad
            .iter()
            .any(|b| b.reason == BadReason::Unchained && b.detail.contains("e8")),
        "{r}"
    );
}

#[test]
fn missing_event_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(&path, "DELETE FROM events WHERE client_event_id = 'e9'");
    assert_eq!(first(&path), (9, BadReason::Missing));
}

#[test]
fn reordered_records_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "UPDATE ledger SET seq = -1 WHERE seq = 6;
         UPDATE ledger SET seq = 6 WHERE seq = 7;
         UPDATE ledger SET seq = 7 WHERE seq = -1;",
    );
    assert_eq!(first(&path), (6, BadReason::Reordered));
}

#[test]
fn swapped_event_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    // Swap which event each ledger record points to.
    tamper(
        &path,
        "UPDATE ledger SET record_ref = CASE record_ref WHEN 4 THEN 5 ELSE 4 END
         WHERE kind = 'event' AND record_ref IN (4, 5)",
    );
    assert_eq!(first(&path), (4, BadReason::Altered));
}

#[test]
fn forged_checkpoint_signature_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "UPDATE checkpoints SET signature = zeroblob(64) WHERE seq = 10",
    );
    assert_eq!(first(&path), (10, BadReason::BadSignature));

    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "UPDATE checkpoints SET head_hash = zeroblob(32) WHERE seq = 15",
    );
    assert_eq!(first(&path), (15, BadReason::BadSignature));
}

#[test]
fn unknown_algorithm_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(&path, "UPDATE ledger SET algo = 'md5' WHERE seq = 4");
    assert_eq!(first(&path), (4, BadReason::UnknownAlgorithm));
}

#[test]
fn truncated_tail_is_caught_by_the_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "DELETE FROM ledger WHERE seq > 17; DELETE FROM events WHERE client_event_id IN ('e16', 'e17', 'e18');",
    );
    let r = verify(&path);
    assert_eq!(r.records, 17);
    let b = r.first_bad.clone().unwrap();
    assert_eq!((b.seq, b.reason), (20, BadReason::Missing), "{r}");
}

#[test]
fn row_inserted_behind_the_ledger_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "INSERT INTO events (client_event_id, vehicle, device, device_seq, occurred_at, received_at, kind, body)
         VALUES ('forged', 'V1', 'dev-V1', 99, 0, 0, 'BIN_SCAN', '{}')",
    );
    let r = verify(&path);
    let b = r.first_bad.clone().unwrap();
    assert_eq!(b.reason, BadReason::Unchained, "{r}");
    assert!(b.detail.contains("forged"));
}

#[test]
fn first_bad_is_the_earliest_in_chain_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);
    tamper(
        &path,
        "UPDATE events SET kind = 'X' WHERE client_event_id = 'e15';
         UPDATE events SET kind = 'X' WHERE client_event_id = 'e2';",
    );
    let r = verify(&path);
    assert_eq!(r.first_bad.as_ref().map(|b| b.seq), Some(2));
    assert_eq!(r.bad.iter().map(|b| b.seq).collect::<Vec<_>>(), [2, 17]);
    assert!(r.to_string().contains("BAD: record 2 altered"), "{r}");
}

/// An attacker who edits a record and recomputes every later hash (here: by replaying
/// the edited history into a fresh store) is caught by the earlier signed checkpoints;
/// replacing the checkpoints too is caught by a regulator who pins the public key.
#[test]
fn rewritten_chain_is_caught_by_checkpoints_and_pinned_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated(&dir);

    let forged = dir.path().join("forged.db");
    {
        let mut f = Store::open(
            &forged,
            &StoreConfig {
                checkpoint_every: 5,
                checkpoint_key: Some(CheckpointKey::from_seed([9u8; 32])),
                ..Default::default()
            },
        )
        .unwrap();
        let mut first: Vec<_> = (1..=10)
            .map(|i| event(&format!("e{i}"), "V1", i, 1000 * i as i64))
            .collect();
        first[6].body =
            serde_json::json!({"bin": "B-e7", "stream": "RESIDUAL", "pos": [31.2, 121.5]});
        f.append_events(&first).unwrap();
        f.append_incidents(&[
            incident("i1", "V1", "D1", "MIXED_TRIP", 3000, &["e2", "e3"]),
            incident("i2", "V1", "D1", "STREAM_MISMATCH", 4000, &["e4"]),
        ])
        .unwrap();
        let more: Vec<_> = (11..=18)
            .map(|i| event(&format!("e{i}"), "V1", i, 1000 * i as i64))
            .collect();
        f.append_events(&more).unwrap();
        assert!(f.verify().unwrap().is_ok());
    }
    let f = forged.display();
    tamper(
        &path,
        &format!(
            "ATTACH '{f}' AS f;
             DELETE FROM main.ledger; INSERT INTO main.ledger SELECT * FROM f.ledger;
             DELETE FROM main.events; INSERT INTO main.events SELECT * FROM f.events;"
        ),
    );
    // The first checkpoint after the edit (seq 10) names a head the chain no longer has.
    assert_eq!(first(&path), (10, BadReason::CheckpointMismatch));

    tamper(
        &path,
        &format!(
            "ATTACH '{f}' AS f; DELETE FROM main.checkpoints; INSERT INTO main.checkpoints SELECT * FROM f.checkpoints;"
        ),
    );
    // Self-consistent again: without a pinned key nothing can tell ...
    assert!(verify(&path).is_ok());
    // ... with the operator's published key the forgery is plain.
    let pinned = VerifyOptions {
        trusted_keys: vec![CheckpointKey::from_seed(SEED).verifying_key()],
        ..Default::default()
    };
    let r = Store::open_read_only(&path)
        .unwrap()
        .verify_with(&pinned)
        .unwrap();
    let b = r.first_bad.unwrap();
    assert_eq!((b.seq, b.reason), (5, BadReason::UntrustedKey));
}

#[test]
fn checkpoint_now_closes_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = Store::open(&path, &cfg(100)).unwrap();
    assert_eq!(
        s.checkpoint_now().unwrap(),
        None,
        "empty chain has nothing to sign"
    );
    s.append_events(&[
        event("a", "V", 1, 0),
        event("b", "V", 2, 0),
        event("c", "V", 3, 0),
    ])
    .unwrap();
    assert_eq!(s.verify().unwrap().unsigned_tail(), 3);
    assert_eq!(s.checkpoint_now().unwrap(), Some(3));
    assert_eq!(s.checkpoint_now().unwrap(), None, "already signed");
    let r = s.verify().unwrap();
    assert_eq!((r.checkpoints, r.unsigned_tail()), (1, 0));
    let mut unsigned = Store::open(dir.path().join("u.db"), &StoreConfig::default()).unwrap();
    unsigned.append_events(&[event("a", "V", 1, 0)]).unwrap();
    assert_eq!(
        unsigned.checkpoint_now().unwrap(),
        None,
        "no key, no checkpoint"
    );
    assert!(unsigned.verify().unwrap().to_string().contains("unsigned"));
}
