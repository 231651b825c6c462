//! Shared builders for the ledger tests.
#![allow(dead_code)]

use serde_json::json;
use sortfleet_ledger::*;

pub const SEED: [u8; 32] = [7u8; 32];

pub fn cfg(every: u64) -> StoreConfig {
    StoreConfig {
        checkpoint_every: every,
        checkpoint_key: Some(CheckpointKey::from_seed(SEED)),
        ..StoreConfig::default()
    }
}

pub fn event(id: &str, vehicle: &str, device_seq: u64, at: i64) -> NewEvent {
    NewEvent {
        client_event_id: id.to_owned(),
        vehicle: vehicle.to_owned(),
        device: format!("dev-{vehicle}"),
        device_seq,
        occurred_at: at,
        received_at: at + 5,
        kind: "BIN_SCAN".to_owned(),
        body: json!({"bin": format!("B-{id}"), "stream": "KITCHEN", "pos": [31.2, 121.5]}),
    }
}

pub fn incident(
    id: &str,
    vehicle: &str,
    district: &str,
    rule: &str,
    at: i64,
    evidence: &[&str],
) -> NewIncident {
    NewIncident {
        incident_id: id.to_owned(),
        vehicle: vehicle.to_owned(),
        district: Some(district.to_owned()),
        stream: Some("KITCHEN".to_owned()),
        rule: rule.to_owned(),
        occurred_at: at,
        evidence: evidence.iter().map(|s| s.to_string()).collect(),
        body: json!({"rule": rule, "severity": "HIGH", "version": 1}),
    }
}

/// Raw SQL access to the file, with the append-only triggers removed (as an attacker would).
pub fn tamper(path: &std::path::Path, sql: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    let triggers: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in triggers {
        c.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
    }
    c.execute_batch(sql).unwrap();
}

/// A store with 10 events then 2 incidents then 8 events (20 records), checkpoint every 5.
pub fn populated(dir: &tempfile::TempDir) -> std::path::PathBuf {
    populated_with(dir, HashAlgorithm::Sha256)
}

/// [`populated`] with the chain hashed by `algo`.
pub fn populated_with(dir: &tempfile::TempDir, algo: HashAlgorithm) -> std::path::PathBuf {
    let path = dir.path().join("l.db");
    let mut s = Store::open(
        &path,
        &StoreConfig {
            hash_algorithm: algo,
            ..cfg(5)
        },
    )
    .unwrap();
    let first: Vec<_> = (1..=10)
        .map(|i| event(&format!("e{i}"), "V1", i, 1000 * i as i64))
        .collect();
    s.append_events(&first).unwrap();
    s.append_incidents(&[
        incident("i1", "V1", "D1", "MIXED_TRIP", 3000, &["e2", "e3"]),
        incident("i2", "V1", "D1", "STREAM_MISMATCH", 4000, &["e4"]),
    ])
    .unwrap();
    let more: Vec<_> = (11..=18)
        .map(|i| event(&format!("e{i}"), "V1", i, 1000 * i as i64))
        .collect();
    s.append_events(&more).unwrap();
    path
}
