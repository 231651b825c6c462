//! SM3 as the second chain algorithm: one algorithm per ledger, fixed by its first
//! record; SM3 chains verify and their tampering is named like SHA-256's; a v1 file
//! migrates to v2 as a SHA-256 ledger.

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

fn sm3_cfg(every: u64) -> StoreConfig {
    StoreConfig {
        hash_algorithm: HashAlgorithm::Sm3,
        ..cfg(every)
    }
}

#[test]
fn sm3_chain_verifies_and_every_record_names_sm3() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated_with(&dir, HashAlgorithm::Sm3);
    let s = Store::open_read_only(&path).unwrap();
    let r = s.verify().unwrap();
    assert!(r.is_ok(), "{r}");
    assert_eq!((r.records, r.checkpoints), (20, 4));
    assert_eq!(r.algorithm, "sm3");
    assert!(r.to_string().contains("(sm3)"), "{r}");
    assert_eq!(s.hash_algorithm().unwrap(), HashAlgorithm::Sm3);
    for seq in 1..=20 {
        assert_eq!(s.ledger_entry(seq).unwrap().unwrap().algo, "sm3");
    }
    // The head is SM3(prev || record), not SHA-256: the same history under SHA-256
    // ends in a different head.
    let dir2 = tempfile::tempdir().unwrap();
    let sha = verify(&populated_with(&dir2, HashAlgorithm::Sha256));
    assert!(sha.is_ok());
    assert_eq!(sha.algorithm, "sha256");
    assert_ne!(sha.head_hash, r.head_hash);
}

#[test]
fn sm3_record_hash_is_sm3_of_prev_and_record() {
    // Recompute record 1 by hand from the frozen encoding: SM3(zeros || record).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.db");
    let mut s = Store::open(&path, &sm3_cfg(0)).unwrap();
    s.append_events(&[NewEvent {
        body: serde_json::json!({"bin": "B1"}),
        device: "D1".into(),
        ..event("c-1", "V1", 3, 1000)
    }])
    .unwrap();
    let e = s.ledger_entry(1).unwrap().unwrap();
    let record = br#"{"algo":"sm3","body":{"bin":"B1"},"client_event_id":"c-1","device":"D1","device_seq":3,"kind":"BIN_SCAN","occurred_at":1000,"received_at":1005,"record":"event","ref":1,"seq":1,"vehicle":"V1"}"#;
    assert_eq!(e.prev_hash, GENESIS_HASH.to_vec());
    assert_eq!(
        e.hash,
        HashAlgorithm::Sm3.digest(&[&GENESIS_HASH, record]).to_vec()
    );
}

#[test]
fn sm3_tampered_body_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated_with(&dir, HashAlgorithm::Sm3);
    tamper(
        &path,
        "UPDATE events SET body = replace(body, 'B-e7', 'B-XX') WHERE client_event_id = 'e7'",
    );
    assert_eq!(first(&path), (7, BadReason::Altered));
    let r = verify(&path);
    assert_eq!(r.bad.len(), 1, "{r}");
    assert!(r.first_bad.unwrap().detail.contains("e7"));
}

#[test]
fn sm3_tampered_incident_and_reorder_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated_with(&dir, HashAlgorithm::Sm3);
    tamper(
        &path,
        "UPDATE incidents SET rule = 'NOTHING' WHERE incident_id = 'i2'",
    );
    assert_eq!(first(&path), (12, BadReason::Altered));

    let dir = tempfile::tempdir().unwrap();
    let path = populated_with(&dir, HashAlgorithm::Sm3);
    tamper(
        &path,
        "UPDATE ledger SET seq = -1 WHERE seq = 6;
         UPDATE ledger SET seq = 6 WHERE seq = 7;
         UPDATE ledger SET seq = 7 WHERE seq = -1;",
    );
    assert_eq!(first(&path), (6, BadReason::Reordered));
}

#[test]
fn a_record_naming_another_algorithm_is_reported() {
    // One record relabelled sha256 in an SM3 ledger: foreign algorithm, and its hash no
    // longer matches under the algorithm it names.
    let dir = tempfile::tempdir().unwrap();
    let path = populated_with(&dir, HashAlgorithm::Sm3);
    tamper(&path, "UPDATE ledger SET algo = 'sha256' WHERE seq = 9");
    let r = verify(&path);
    let reasons: Vec<(u64, BadReason)> = r.bad.iter().map(|b| (b.seq, b.reason)).collect();
    assert_eq!(
        reasons,
        [(9, BadReason::UnknownAlgorithm), (9, BadReason::Altered)],
        "{r}"
    );
    assert!(r.bad[0].detail.contains("`sm3`"), "{r}");
}

#[test]
fn relabelling_the_ledger_algorithm_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = populated_with(&dir, HashAlgorithm::Sm3);
    tamper(
        &path,
        "UPDATE ledger_meta SET value = 'sha256' WHERE key = 'hash_algorithm'",
    );
    assert_eq!(first(&path), (1, BadReason::UnknownAlgorithm));
    assert_eq!(verify(&path).bad.len(), 20);

    let dir = tempfile::tempdir().unwrap();
    let path = populated_with(&dir, HashAlgorithm::Sm3);
    tamper(&path, "DELETE FROM ledger_meta");
    let r = verify(&path);
    assert_eq!(
        r.first_bad.map(|b| (b.seq, b.reason)),
        Some((1, BadReason::UnknownAlgorithm))
    );
    // The records themselves still check out under the algorithm they name.
    assert_eq!(r.bad.len(), 1);
}

#[test]
fn algorithm_is_fixed_by_the_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    {
        // An empty ledger takes whatever the first writer configures.
        let s = Store::open(&path, &cfg(5)).unwrap();
        assert_eq!(s.hash_algorithm().unwrap(), HashAlgorithm::Sha256);
    }
    {
        let mut s = Store::open(&path, &sm3_cfg(5)).unwrap();
        assert_eq!(s.hash_algorithm().unwrap(), HashAlgorithm::Sm3);
        s.append_events(&[event("x1", "V1", 1, 1)]).unwrap();
    }
    // Now it is an SM3 ledger: a SHA-256 writer is refused and nothing is written.
    let err = Store::open(&path, &cfg(5)).unwrap_err();
    assert!(
        matches!(
            &err,
            LedgerError::AlgorithmMismatch { ledger, configured }
                if ledger == "sm3" && configured == "sha256"
        ),
        "{err}"
    );
    let mut s = Store::open(&path, &sm3_cfg(5)).unwrap();
    s.append_events(&[event("x2", "V1", 2, 2)]).unwrap();
    let r = s.verify().unwrap();
    assert!(r.is_ok(), "{r}");
    assert_eq!((r.records, r.algorithm.as_str()), (2, "sm3"));
    // The metadata row is guarded like the chain.
    let c = rusqlite::Connection::open(&path).unwrap();
    assert!(
        c.execute("UPDATE ledger_meta SET value = 'sha256'", [])
            .is_err()
    );
}

#[test]
fn a_writer_opened_on_an_empty_ledger_cannot_fork_its_algorithm() {
    // Two writers open the same empty file with different algorithms; the first to
    // append fixes it and the other's next write is refused.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.db");
    let mut a = Store::open(&path, &sm3_cfg(0)).unwrap();
    let mut b = Store::open(&path, &cfg(0)).unwrap();
    a.append_events(&[event("r1", "V1", 1, 1)]).unwrap();
    let err = b.append_events(&[event("r2", "V1", 2, 2)]).unwrap_err();
    assert!(
        matches!(err, LedgerError::AlgorithmMismatch { .. }),
        "{err}"
    );
    drop(b);
    let r = a.verify().unwrap();
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.records, 1);
}

#[test]
fn v1_file_migrates_to_a_sha256_v2_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger-v1.db"),
        &path,
    )
    .unwrap();
    let before = verify(&path);
    assert!(before.is_ok(), "{before}");
    assert_eq!(before.algorithm, "sha256");
    // Configured for SM3, the old ledger is refused (and stays untouched by appends).
    assert!(matches!(
        Store::open(&path, &sm3_cfg(4)),
        Err(LedgerError::AlgorithmMismatch { .. })
    ));
    let mut s = Store::open(&path, &cfg(4)).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(s.hash_algorithm().unwrap(), HashAlgorithm::Sha256);
    let after = s.verify().unwrap();
    assert!(after.is_ok(), "{after}");
    assert_eq!(after.head_hash, before.head_hash);
    s.append_events(&[event("new-1", "V1", 100, 1)]).unwrap();
    let r = s.verify().unwrap();
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.records, before.records + 1);
    // The lookup index works on the migrated file.
    let e = s.incident_ledger_entry("inc-1").unwrap().unwrap();
    assert_eq!((e.kind.as_str(), e.algo.as_str()), ("incident", "sha256"));
}
