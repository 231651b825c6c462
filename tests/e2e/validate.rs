//! `sortfleet validate`: exit 0 for usable scenarios (warnings printed), 2 with every
//! problem named by its JSON path otherwise. The cases are the files under
//! `tests/data/{bad,warn}/` with their `.expected` report lines, shared with the
//! model's own tests.

use crate::{repo_root, sortfleet};
use sortfleet_model::ValidationReport;

fn cases(dir: &str) -> Vec<(std::path::PathBuf, Vec<String>)> {
    let dir = repo_root().join("tests/data").join(dir);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .expect("test data dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let expected = std::fs::read_to_string(p.with_extension("expected"))
                .expect("every case has an .expected file");
            (p, expected.lines().map(str::to_owned).collect())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_shipped_example_is_valid() {
    let path = repo_root().join("data/scenarios/porto-alegre-small.json");
    let out = sortfleet(&["validate", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {stdout}\nstderr {stderr}"
    );
    assert!(stdout.contains("valid"), "{stdout}");
    assert!(stdout.contains("40 point(s)"), "{stdout}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn every_bad_file_fails_with_exit_2_naming_the_field() {
    let cases = cases("bad");
    assert!(cases.len() >= 40);
    for (path, expected) in cases {
        let out = sortfleet(&["validate", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        let printed: Vec<&str> = stderr.lines().collect();
        for line in &expected {
            assert!(
                printed.contains(&line.as_str()),
                "{}: expected line {line:?} in\n{stderr}",
                path.display()
            );
        }
        assert!(stderr.contains("invalid"), "{}: {stderr}", path.display());
    }
}

#[test]
fn warnings_are_printed_but_the_scenario_passes() {
    for (path, expected) in cases("warn") {
        let out = sortfleet(&["validate", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {stderr}", path.display());
        for line in &expected {
            assert!(
                stderr.lines().any(|l| l == line),
                "{}: {line:?} in\n{stderr}",
                path.display()
            );
        }
    }
}

#[test]
fn json_output_carries_the_full_report() {
    let path = repo_root().join("tests/data/bad/hazardous_without_licensed_vehicle.json");
    let out = sortfleet(&["validate", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let report: ValidationReport = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].path, "points[1].demands[1].stream");
    assert_eq!(report.warnings.len(), 1);
}

#[test]
fn an_unreadable_file_exits_2_with_a_clear_message() {
    let out = sortfleet(&["validate", "/nonexistent/scenario.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("cannot read /nonexistent/scenario.json"),
        "{stderr}"
    );
}
