//! Small behaviours of the model types that other crates rely on.

use sortfleet_model::scenario::clock;
use sortfleet_model::*;

#[test]
fn clock_parses_and_formats_times_of_day() {
    assert_eq!(clock::parse("06:30"), Ok(Seconds(6 * 3600 + 30 * 60)));
    assert_eq!(clock::parse("24:00"), Ok(Seconds::DAY));
    assert_eq!(clock::parse("07:05:09"), Ok(Seconds(7 * 3600 + 5 * 60 + 9)));
    for bad in [
        "7h", "07:60", "07:00:60", "", "07", "1:2:3:4", "-1:00", "07:+5",
    ] {
        assert!(clock::parse(bad).is_err(), "{bad:?} parsed");
    }
    assert_eq!(clock::format(Seconds::hm(5, 0)), "05:00");
    assert_eq!(clock::format(Seconds(25 * 3600 + 1)), "25:00:01");
}

#[test]
fn time_window_accepts_strings_or_seconds() {
    let a: TimeWindow = serde_json::from_str(r#"{"start":"06:00","end":"14:30"}"#).unwrap();
    let b: TimeWindow = serde_json::from_str(r#"{"start":21600,"end":52200}"#).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, TimeWindow::hm((6, 0), (14, 30)));
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        r#"{"start":"06:00","end":"14:30"}"#
    );
    assert!(a.contains(Seconds::hm(14, 30)) && !a.contains(Seconds::hm(14, 31)));
    assert!(a.is_valid_in_day());
    assert!(!TimeWindow::hm((10, 0), (9, 0)).is_valid_in_day());
}

#[test]
fn hazardous_needs_certification_and_licence() {
    let json = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/valid_minimal.json"
    ))
    .unwrap();
    let sc = Scenario::from_json_str(&json).unwrap();
    let van = sc.vehicle(&VehicleId::from("V-HAZ")).unwrap();
    assert!(van.can_carry(Stream::Hazardous));
    assert!(!van.can_carry(Stream::Kitchen));
    let mut unlicensed = van.clone();
    unlicensed.hazardous_licence = false;
    assert!(!unlicensed.can_carry(Stream::Hazardous));
    assert!(
        sc.facility(&FacilityId::from("F-HAZ"))
            .unwrap()
            .accepts(Stream::Hazardous)
    );
    assert_eq!(
        sc.point(&PointId::from("P2"))
            .unwrap()
            .demand(Stream::Hazardous)
            .map(|d| d.kg),
        Some(Kilograms(8))
    );
}
