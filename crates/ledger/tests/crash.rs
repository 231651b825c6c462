//! `kill -9` during ingest loses no acknowledged event, in both durability modes.
//! The test re-runs its own binary as a child process that ingests batches and prints
//! `ACK n` after each commit returns; the parent SIGKILLs it mid-stream and checks.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use common::*;
use sortfleet_ledger::*;

const CHILD_DB: &str = "SORTFLEET_LEDGER_CRASH_DB";
const CHILD_MODE: &str = "SORTFLEET_LEDGER_CRASH_MODE";
const BATCH: u64 = 100;

fn config(mode: &str) -> StoreConfig {
    StoreConfig {
        durability: if mode == "normal" {
            Durability::Normal
        } else {
            Durability::Full
        },
        ..cfg(50)
    }
}

#[test]
#[ignore = "child process of the kill9 tests"]
fn crash_child() {
    let (Ok(path), Ok(mode)) = (std::env::var(CHILD_DB), std::env::var(CHILD_MODE)) else {
        return;
    };
    let mut s = Store::open(&path, &config(&mode)).unwrap();
    let mut out = std::io::stdout();
    // Bounded so an orphaned child cannot run forever.
    for b in 0..100_000u64 {
        let batch: Vec<_> = (0..BATCH)
            .map(|k| event(&format!("c{b}-{k}"), "V1", b * BATCH + k + 1, b as i64))
            .collect();
        s.append_events(&batch).unwrap();
        writeln!(out, "ACK {b}").unwrap();
        out.flush().unwrap();
    }
}

fn kill_during_ingest(mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB, &path)
        .env(CHILD_MODE, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked: Option<u64> = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("ACK ") {
            let n: u64 = n.trim().parse().unwrap();
            acked = Some(n);
            if n >= 30 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no clean close
    child.wait().unwrap();
    let acked = acked.expect("child acknowledged no batch");

    // What `sortfleet ledger verify` does on the crashed file: read-only, before any
    // writer has reopened (and recovered) it.
    let ro = Store::open_read_only(&path).unwrap();
    let r = ro.verify().unwrap();
    assert!(r.is_ok(), "{r}");
    assert!(r.records >= (acked + 1) * BATCH);
    drop(ro);

    let s = Store::open(&path, &config(mode)).unwrap();
    for b in 0..=acked {
        for k in 0..BATCH {
            let id = format!("c{b}-{k}");
            assert!(
                s.event_by_client_id(&id).unwrap().is_some(),
                "acknowledged event {id} lost"
            );
        }
    }
    assert!(s.device_contiguous_seq("dev-V1").unwrap() >= (acked + 1) * BATCH);
    let r = s.verify().unwrap();
    assert!(r.is_ok(), "{r}");
    assert!(r.records >= (acked + 1) * BATCH);
}

#[test]
fn kill9_loses_no_acknowledged_event_sync_full() {
    kill_during_ingest("full");
}

#[test]
fn kill9_loses_no_acknowledged_event_sync_normal() {
    kill_during_ingest("normal");
}
