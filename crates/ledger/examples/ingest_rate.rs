//! Measures durable ingest: appends `--events` events in batches of `--batch` to a
//! fresh store under `--dir` and prints wall-clock and CPU rates. CPU time (from
//! `/proc/self/schedstat`) shows the cost independent of a busy shared machine.
//!
//! `cargo run --release -p sortfleet-ledger --example ingest_rate -- 200000 1000 full /path/on/disk [sha256|sm3]`
//!
//! Then it times a full verify and 1000 ledger-record lookups by event id (the
//! `GetIncident` path) on the filled store.

use std::time::Instant;

use serde_json::json;
use sortfleet_ledger::{CheckpointKey, Durability, HashAlgorithm, NewEvent, Store, StoreConfig};

fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn batch(start: u64, n: u64) -> Vec<NewEvent> {
    (start..start + n)
        .map(|i| {
            let vehicle = format!("V{:03}", i % 40);
            NewEvent {
                client_event_id: format!("{vehicle}-{i:012}"),
                device: format!("T-{vehicle}"),
                device_seq: i / 40 + 1,
                occurred_at: 1_700_000_000_000 + i as i64 * 250,
                received_at: 1_700_000_000_000 + i as i64 * 250 + 40,
                kind: "BIN_SCAN".to_owned(),
                body: json!({
                    "bin": format!("BIN-{:06}", i % 5000),
                    "point": format!("P-{:05}", i % 1200),
                    "stream": "KITCHEN",
                    "pos": {"lat": 31.2304 + (i % 997) as f64 * 1e-5, "lon": 121.4737},
                    "lift_kg": 12.5 + (i % 17) as f64,
                    "tag": format!("E200-3412-{i:08X}"),
                }),
                vehicle,
            }
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let total: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let per: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
        .max(1);
    let durability = match args.get(3).map(String::as_str) {
        Some("normal") => Durability::Normal,
        _ => Durability::Full,
    };
    let hash_algorithm: HashAlgorithm = args
        .get(5)
        .map_or(Ok(HashAlgorithm::Sha256), |s| s.parse())
        .unwrap();
    let dir = tempfile::tempdir_in(args.get(4).map(String::as_str).unwrap_or(".")).unwrap();
    let mut store = Store::open(
        dir.path().join("ingest.db"),
        &StoreConfig {
            durability,
            checkpoint_every: 1000,
            checkpoint_key: Some(CheckpointKey::from_seed([42u8; 32])),
            hash_algorithm,
            ..StoreConfig::default()
        },
    )
    .unwrap();
    let batches: Vec<Vec<NewEvent>> = (0..total.div_ceil(per))
        .map(|b| batch(b * per, per))
        .collect();
    let n: usize = batches.iter().map(Vec::len).sum();
    let (t0, c0) = (Instant::now(), cpu_ns());
    for b in &batches {
        store.append_events(b).unwrap();
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_ns().zip(c0).map(|(a, b)| (a - b) as f64 / 1e9);
    println!(
        "{n} events, batch {per}, {durability:?}, {hash_algorithm}: wall {wall:.2} s = {:.0} events/s acknowledged; cpu {} ",
        n as f64 / wall,
        cpu.map(|c| format!("{c:.2} s = {:.0} events/s per core", n as f64 / c))
            .unwrap_or_else(|| "n/a".into())
    );
    let t = Instant::now();
    let r = store.verify().unwrap();
    assert!(r.is_ok());
    println!(
        "verify: {} records in {:.2} s",
        r.records,
        t.elapsed().as_secs_f64()
    );
    let ids: Vec<String> = (0..1000u64)
        .map(|k| {
            let i = (k * 7919) % n as u64;
            format!("V{:03}-{i:012}", i % 40)
        })
        .collect();
    let t = Instant::now();
    for id in &ids {
        assert!(store.event_ledger_entry(id).unwrap().is_some());
    }
    println!(
        "lookup: 1000 ledger records by event id in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
}
