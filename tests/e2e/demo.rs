//! `sortfleet demo` end to end on a small real extract: the whole day through the
//! in-process gRPC service, every file written, detected incidents equal to injected.

use crate::repo_root;
use std::process::Command;

/// Runs the demo on Monaco into `out` (small city, short search) and returns stdout.
pub fn run_small_demo(out: &std::path::Path) -> String {
    let osm = repo_root().join("data/osm/monaco.osm.pbf");
    let o = Command::new(env!("CARGO_BIN_EXE_sortfleet"))
        .args([
            "demo",
            "--osm",
            osm.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--seed",
            "3",
            "--misbehaviour",
            "1",
            "--time-limit",
            "3",
            "--max-points",
            "80",
            "--day-seconds",
            "2",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the sortfleet binary runs");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "stdout {stdout}\nstderr {stderr}");
    stdout
}

#[test]
fn demo_runs_the_day_and_detects_exactly_what_was_injected() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run_small_demo(dir.path());
    assert!(stdout.contains("no false alarm"), "{stdout}");
    assert!(stdout.contains("ledger: VERIFIED"), "{stdout}");
    assert!(
        !stdout.contains(" 0 checkpoints"),
        "the demo signs checkpoints: {stdout}"
    );
    assert!(
        stdout.contains("inject "),
        "misbehaviour was injected: {stdout}"
    );
    for f in [
        "scenario.json",
        "plan.json",
        "plan.geojson",
        "incidents.csv",
        "scorecard.csv",
        "map.html",
    ] {
        let p = dir.path().join(f);
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{f} missing or empty");
    }
    let plan: sortfleet_model::Plan =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    assert!(plan.totals.visits_served > 0);
    let incidents = std::fs::read_to_string(dir.path().join("incidents.csv")).unwrap();
    assert!(incidents.lines().count() > 1, "{incidents}");
    let html = std::fs::read_to_string(dir.path().join("map.html")).unwrap();
    assert!(!html.contains("https://"), "the map page must work offline");
}
