//! Property: any single edit of any chained column of any record is detected, and the
//! report names exactly that record.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use sortfleet_ledger::*;

const COLUMNS: [&str; 7] = [
    "body = body || ' '",
    "vehicle = vehicle || 'x'",
    "device = device || 'x'",
    "device_seq = device_seq + 1",
    "occurred_at = occurred_at - 1",
    "received_at = received_at + 1",
    "kind = 'GPS'",
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        rng_seed: RngSeed::Fixed(0x5eed),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_single_edit_is_named(n in 1usize..40, pick in any::<prop::sample::Index>(), col in 0usize..COLUMNS.len(), split in 1usize..10) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        {
            let mut s = Store::open(&path, &StoreConfig { durability: Durability::Normal, ..cfg(7) }).unwrap();
            let events: Vec<_> = (1..=n as u64).map(|i| event(&format!("p{i}"), "V1", i, i as i64)).collect();
            for chunk in events.chunks(split) {
                s.append_events(chunk).unwrap();
            }
            prop_assert!(s.verify().unwrap().is_ok());
        }
        let k = pick.index(n) + 1;
        tamper(&path, &format!("UPDATE events SET {} WHERE seq = {k}", COLUMNS[col]));
        let r = Store::open_read_only(&path).unwrap().verify().unwrap();
        let b = r.first_bad.clone().unwrap();
        prop_assert_eq!((b.seq, b.reason), (k as u64, BadReason::Altered));
        prop_assert_eq!(r.bad.len(), 1);
    }
}
