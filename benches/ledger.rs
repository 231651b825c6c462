//! Ledger ingest: events durably acknowledged per second (one transaction and one
//! commit per batch) by batch size and durability mode, and chain verification speed.
//! Fixed ids and bodies; each iteration appends fresh events to a growing file.

use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use sortfleet_ledger::{CheckpointKey, Durability, NewEvent, Store, StoreConfig};

fn batch(start: u64, n: usize) -> Vec<NewEvent> {
    (0..n as u64)
        .map(|k| {
            let i = start + k;
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

fn config(durability: Durability) -> StoreConfig {
    StoreConfig {
        durability,
        checkpoint_every: 1000,
        checkpoint_key: Some(CheckpointKey::from_seed([42u8; 32])),
        ..StoreConfig::default()
    }
}

fn ingest(c: &mut Criterion) {
    let mut g = c.benchmark_group("ledger_append_events");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_secs(1));
    for (durability, name) in [
        (Durability::Full, "sync_full"),
        (Durability::Normal, "sync_normal"),
    ] {
        for size in [1usize, 100, 1000, 5000] {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(dir.path().join("bench.db"), &config(durability)).unwrap();
            let mut next = 0u64;
            g.throughput(Throughput::Elements(size as u64));
            g.bench_with_input(BenchmarkId::new(name, size), &size, |b, &size| {
                b.iter_batched(
                    || {
                        let v = batch(next, size);
                        next += size as u64;
                        v
                    },
                    |v| store.append_events(&v).unwrap(),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

fn verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verify.db");
    let mut store = Store::open(&path, &config(Durability::Normal)).unwrap();
    const N: usize = 20_000;
    for k in 0..(N / 1000) {
        store
            .append_events(&batch((k * 1000) as u64, 1000))
            .unwrap();
    }
    let mut g = c.benchmark_group("ledger_verify");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("records", |b| {
        b.iter(|| {
            let r = store.verify().unwrap();
            assert!(r.is_ok());
            r.records
        })
    });
    g.finish();
}

// criterion_group! generates an undocumented pub fn.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, ingest, verify);
}
use group::benches;
criterion_main!(benches);
