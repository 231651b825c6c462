//! The committed ledgers (v1 SHA-256, v2 SM3) must stay readable and verifiable by every
//! later version.

mod common;

use common::*;
use serde_json::json;
use sortfleet_ledger::*;
use std::path::PathBuf;

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger-v1.db")
}

fn sm3_fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger-v2-sm3.db")
}

/// Head hash of the committed SM3 fixture (same history as v1, hashed with SM3).
const SM3_FIXTURE_HEAD: &str = "e52cd8b283512a0fe6149e6d09f36d4145f081544026dc0cb7c504e38f85a0d4";

/// Head hash of the committed fixture. Changing it means the frozen format changed.
const FIXTURE_HEAD: &str = "72752fd7725df29fac06a915309abdc84bd9d7435cf06375407a33934d2334ef";
const FIXTURE_RECORDS: u64 = 13;

#[test]
fn fixture_v1_still_verifies() {
    let s = Store::open_read_only(fixture_path()).unwrap();
    assert_eq!(s.schema_version().unwrap(), 1);
    let opts = VerifyOptions {
        trusted_keys: vec![CheckpointKey::from_seed(SEED).verifying_key()],
        ..Default::default()
    };
    let r = s.verify_with(&opts).unwrap();
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.records, FIXTURE_RECORDS);
    assert_eq!(hex::encode(r.head_hash), FIXTURE_HEAD);
    assert_eq!(r.last_checkpoint_seq, Some(FIXTURE_RECORDS));
    // And its rows still read back.
    let inc = s.incident_by_id("inc-1").unwrap().unwrap();
    assert_eq!(inc.events.len(), 2);
    assert_eq!(inc.incident.district, None);
    assert_eq!(
        s.event_by_client_id("fx-3").unwrap().unwrap().body["note"],
        "混装混运 \"quoted\"\n"
    );
}

#[test]
fn fixture_v2_sm3_still_verifies() {
    let s = Store::open_read_only(sm3_fixture_path()).unwrap();
    assert_eq!(s.schema_version().unwrap(), 2);
    assert_eq!(s.hash_algorithm().unwrap(), HashAlgorithm::Sm3);
    let opts = VerifyOptions {
        trusted_keys: vec![CheckpointKey::from_seed(SEED).verifying_key()],
        ..Default::default()
    };
    let r = s.verify_with(&opts).unwrap();
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.algorithm, "sm3");
    assert_eq!(r.records, FIXTURE_RECORDS);
    assert_eq!(hex::encode(r.head_hash), SM3_FIXTURE_HEAD);
    assert_ne!(SM3_FIXTURE_HEAD, FIXTURE_HEAD);
    assert_eq!(r.last_checkpoint_seq, Some(FIXTURE_RECORDS));
    let inc = s.incident_by_id("inc-2").unwrap().unwrap();
    assert_eq!(inc.incident.district.as_deref(), Some("街道A"));
    let e = s.incident_ledger_entry("inc-2").unwrap().unwrap();
    assert_eq!((e.kind.as_str(), e.algo.as_str()), ("incident", "sm3"));
}

#[test]
fn fixtures_answer_ledger_lookups() {
    // The v1 file has no lookup index; the query still answers (by a scan).
    for (path, algo) in [(fixture_path(), "sha256"), (sm3_fixture_path(), "sm3")] {
        let s = Store::open_read_only(&path).unwrap();
        let head = s.head().unwrap();
        let last = s.incident_ledger_entry("inc-3").unwrap().unwrap();
        // inc-3 is the last record written, so it is the head.
        assert_eq!((last.seq, last.hash.as_slice()), (head.seq, &head.hash[..]));
        assert_eq!(last.algo, algo);
        let ev = s.event_ledger_entry("fx-1").unwrap().unwrap();
        assert_eq!((ev.seq, ev.kind.as_str()), (1, "event"));
        assert_eq!(s.ledger_entry(ev.seq).unwrap(), Some(ev));
        assert_eq!(s.incident_ledger_entry("nope").unwrap(), None);
    }
}

// `ledger-v1.db` was written by the v1 build (schema 1) with `write_fixture(path, &cfg(4))`;
// this build writes schema 2, so it cannot remake that file: a past version's fixture is
// never regenerated, only read.

/// Regenerates the SM3 fixture (same history as v1, schema 2):
/// `cargo test -p sortfleet-ledger --test fixture -- --ignored generate_sm3_fixture`.
/// Only do this when deliberately introducing a new format version.
#[test]
#[ignore]
fn generate_sm3_fixture() {
    write_fixture(
        &sm3_fixture_path(),
        &StoreConfig {
            hash_algorithm: HashAlgorithm::Sm3,
            ..cfg(4)
        },
    );
}

fn write_fixture(path: &std::path::Path, config: &StoreConfig) {
    let _ = std::fs::remove_file(path);
    {
        let mut s = Store::open(path, config).unwrap();
        let mut evs: Vec<NewEvent> = (1..=10)
            .map(|i| {
                event(
                    &format!("fx-{i}"),
                    if i % 2 == 0 { "V1" } else { "V2" },
                    i,
                    1_700_000_000_000 + i as i64 * 1000,
                )
            })
            .collect();
        evs[2].body =
            json!({"note": "混装混运 \"quoted\"\n", "weight_kg": 12.75, "tags": [null, true, -1]});
        s.append_events(&evs[..6]).unwrap();
        s.append_incidents(&[NewIncident {
            district: None,
            stream: None,
            ..incident(
                "inc-1",
                "V1",
                "D",
                "OFF_SITE_DISCHARGE",
                1_700_000_003_000,
                &["fx-2", "fx-4"],
            )
        }])
        .unwrap();
        s.append_events(&evs[6..]).unwrap();
        s.append_incidents(&[
            incident(
                "inc-2",
                "V2",
                "街道A",
                "MIXED_TRIP",
                1_700_000_009_000,
                &["fx-9"],
            ),
            incident("inc-3", "V1", "D1", "MISSED_PICKUP", 1_700_000_010_000, &[]),
        ])
        .unwrap();
        s.checkpoint_now().unwrap();
        let r = s.verify().unwrap();
        assert!(r.is_ok());
        println!("records {} head {}", r.records, hex::encode(r.head_hash));
    }
    // A single self-contained file (no -wal/-shm) so it opens read-only from git.
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE; PRAGMA page_size = 1024; VACUUM;").unwrap();
}
