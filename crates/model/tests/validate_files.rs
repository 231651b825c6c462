//! Every validation rule has a scenario file under `tests/data/bad/` (errors) or
//! `tests/data/warn/` (warnings only), named for its fault, with the exact expected
//! report lines in a sibling `.expected` file. The same files drive the e2e test of
//! `sortfleet validate`.

use std::path::{Path, PathBuf};

use sortfleet_model::Scenario;
use sortfleet_model::validate::{ScenarioError, check_json};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

/// The report as the lines the CLI prints: errors first, then warnings.
fn report_lines(json: &str) -> Vec<String> {
    let report = match check_json(json) {
        Ok((_, r)) | Err(ScenarioError::Invalid(r)) => r,
        Err(e @ ScenarioError::Syntax { .. }) => return vec![format!("error: {e}")],
    };
    let errors = report.errors.iter().map(|p| format!("error: {p}"));
    let warnings = report.warnings.iter().map(|p| format!("warning: {p}"));
    errors.chain(warnings).collect()
}

/// `(name, json, expected lines)` for every case in `dir`.
fn cases(dir: &str) -> Vec<(String, String, Vec<String>)> {
    let dir = data_dir().join(dir);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("test data dir exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let expected_path = path.with_extension("expected");
            let expected = std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
            out.push((
                path.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).expect("readable case"),
                expected.lines().map(str::to_owned).collect(),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn every_bad_file_reports_exactly_its_expected_problems() {
    let cases = cases("bad");
    assert!(cases.len() >= 40, "only {} bad cases found", cases.len());
    let mut failures = Vec::new();
    for (name, json, expected) in &cases {
        let got = report_lines(json);
        if &got != expected {
            failures.push(format!(
                "{name}:\n  expected {expected:#?}\n  got      {got:#?}"
            ));
        }
        assert!(
            expected.iter().any(|l| l.starts_with("error: ")),
            "{name}: a bad case must expect an error"
        );
        assert!(
            Scenario::from_json_str(json).is_err(),
            "{name}: from_json_str accepted it"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_warn_file_is_usable_and_warns_as_expected() {
    let cases = cases("warn");
    assert!(cases.len() >= 4);
    for (name, json, expected) in &cases {
        assert_eq!(&report_lines(json), expected, "{name}");
        assert!(
            expected.iter().all(|l| l.starts_with("warning: ")),
            "{name}"
        );
        assert!(Scenario::from_json_str(json).is_ok(), "{name}");
    }
}

#[test]
fn the_fixture_every_case_derives_from_is_clean() {
    let json = std::fs::read_to_string(data_dir().join("valid_minimal.json")).unwrap();
    assert_eq!(report_lines(&json), Vec::<String>::new());
}

#[test]
fn the_shipped_example_is_clean_and_complete() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios/porto-alegre-small.json");
    let json = std::fs::read_to_string(path).unwrap();
    assert_eq!(report_lines(&json), Vec::<String>::new());
    let sc = Scenario::from_json_str(&json).unwrap();
    assert_eq!(sc.depots.len(), 2);
    assert!(sc.vehicles.len() >= 8);
    assert!(sc.points.len() >= 40);
    for stream in sortfleet_model::Stream::ALL {
        assert!(
            sc.points.iter().any(|p| p.demand(stream).is_some()),
            "no demand for {stream}"
        );
        assert!(sc.facilities.iter().any(|f| f.accepts(stream)));
        assert!(sc.vehicles.iter().any(|v| v.can_carry(stream)));
    }
    let kinds: std::collections::HashSet<_> = sc.facilities.iter().map(|f| f.kind).collect();
    assert_eq!(kinds.len(), 9, "one facility of each kind");
    let districts: std::collections::HashSet<_> = sc.points.iter().map(|p| &p.district).collect();
    assert_eq!(districts.len(), 3);
    // inside the shipped Porto Alegre extract
    for p in &sc.points {
        assert!((-30.1133..=-29.9876).contains(&p.location.lat), "{}", p.id);
        assert!((-51.2663..=-51.1322).contains(&p.location.lon), "{}", p.id);
    }
}

#[test]
fn problems_from_many_rules_are_reported_in_one_pass() {
    let json = std::fs::read_to_string(data_dir().join("valid_minimal.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["vehicles"][0]["capacity_kg"] = 0.into();
    v["vehicles"][1]["depot"] = "NOWHERE".into();
    v["vehicles"][2]["certified_streams"] = serde_json::json!(["HAZARDOUS", "GLAS"]);
    v["points"][2]["service_s"] = (-5).into();
    let lines = report_lines(&v.to_string());
    for want in [
        "error: vehicles[2].certified_streams[1]: unknown stream `GLAS`",
        "error: vehicles[0].capacity_kg: must be greater than 0",
        "error: vehicles[1].depot: unknown depot `NOWHERE`",
        "error: points[2].service_s: must be greater than 0",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "missing {want:?} in {lines:#?}"
        );
    }
}
