//! citygen on the real extracts shipped in `data/osm/`.

use std::path::PathBuf;

use sortfleet_citygen::{CityGenError, CityGenOptions, CityGenSummary, synthesize};
use sortfleet_model::{FacilityKind, Kilograms, LatLon, Scenario, Stream};

fn extract(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/osm")
        .join(format!("{name}.osm.pbf"));
    assert!(p.exists(), "test extract {} is missing", p.display());
    p
}

fn run(name: &str, opts: &CityGenOptions) -> (Scenario, CityGenSummary) {
    synthesize(extract(name), opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn household_kg(sc: &Scenario, stream: Stream) -> i64 {
    sc.points
        .iter()
        .filter(|p| p.id.as_str().starts_with('P'))
        .filter_map(|p| p.demand(stream))
        .map(|d| d.kg.0)
        .sum()
}

/// Checks every extract gives a scenario without validation errors or warnings.
#[test]
fn scenarios_validate_cleanly() {
    for name in ["monaco", "helsinki-center", "porto-alegre"] {
        let (sc, summary) = run(name, &CityGenOptions::default());
        let report = sc.validate();
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
        assert!(report.warnings.is_empty(), "{name}: {:?}", report.warnings);
        assert!(!sc.points.is_empty() && !sc.vehicles.is_empty(), "{name}");
        // Every stream with demand has a licensed carrier and a facility.
        for s in Stream::ALL {
            if summary.demand_kg[&s] > Kilograms(0) {
                assert!(sc.vehicles.iter().any(|v| v.can_carry(s)), "{name} {s}");
                assert!(sc.facilities.iter().any(|f| f.accepts(s)), "{name} {s}");
            }
        }
        assert_eq!(summary.vehicles, sc.vehicles.len());
        assert_eq!(
            summary.household_points + summary.recycling_points,
            sc.points.len()
        );
    }
}

#[test]
fn same_seed_same_scenario_other_seed_other_points() {
    let opts = CityGenOptions::default();
    let a = run("monaco", &opts);
    let b = run("monaco", &opts);
    assert_eq!(a, b);
    let c = run(
        "monaco",
        &CityGenOptions {
            seed: opts.seed + 1,
            ..opts
        },
    );
    let locs = |sc: &Scenario| {
        sc.points
            .iter()
            .map(|p| p.location)
            .collect::<Vec<LatLon>>()
    };
    assert_ne!(locs(&a.0), locs(&c.0));
}

#[test]
fn household_demand_has_realistic_proportions() {
    let (sc, summary) = run("porto-alegre", &CityGenOptions::default());
    let k = household_kg(&sc, Stream::Kitchen) as f64;
    let r = household_kg(&sc, Stream::Residual) as f64;
    let y = household_kg(&sc, Stream::Recyclable) as f64;
    let h = household_kg(&sc, Stream::Hazardous) as f64;
    let total = k + r + y + h;
    assert!(
        (0.48..=0.53).contains(&(k / total)),
        "kitchen {}",
        k / total
    );
    assert!(
        (0.33..=0.38).contains(&(r / total)),
        "residual {}",
        r / total
    );
    assert!(
        (0.11..=0.15).contains(&(y / total)),
        "recyclable {}",
        y / total
    );
    assert!(
        (0.003..=0.012).contains(&(h / total)),
        "hazardous {}",
        h / total
    );
    // About 1 kg per person per day, 2.5 people per household.
    let per_household = total / summary.households_covered as f64;
    assert!((2.3..=2.6).contains(&per_household), "{per_household}");
    // Hazardous at a few points only; bulky and renovation on call at fewer.
    let with = |s: Stream| sc.points.iter().filter(|p| p.demand(s).is_some()).count();
    let n = sc.points.len();
    assert!(with(Stream::Hazardous) > 0 && with(Stream::Hazardous) < n / 4);
    assert!(with(Stream::Bulky) > 0 && with(Stream::Bulky) < n / 10);
    assert!(with(Stream::Renovation) > 0 && with(Stream::Renovation) < n / 10);
    assert!(
        sc.points
            .iter()
            .all(|p| p.demand(Stream::Kitchen).is_some())
    );
}

#[test]
fn porto_alegre_is_capped_and_sized_per_point() {
    let (sc, s) = run("porto-alegre", &CityGenOptions::default());
    assert!(s.household_points_synthesised > 400, "{s:?}");
    assert_eq!(sc.points.len(), 400);
    let per_point = s.households_covered as f64 / s.household_points as f64;
    assert!((200.0..=300.0).contains(&per_point), "{per_point}");
    assert!((3..=6).contains(&s.districts.len()), "{:?}", s.districts);
    assert_eq!(s.district_source, "grid");
    // No waste POIs in this road-only extract: every facility kind is placed.
    assert_eq!(s.facilities_real, 0);
    assert_eq!(s.facilities_placed, 6);
    let kinds: Vec<FacilityKind> = sc.facilities.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&FacilityKind::KitchenPlant));
    assert!(kinds.contains(&FacilityKind::HazardousStore));
    // Placed sites are towards the edge: further from the centre than most points.
    let c = LatLon::new(
        sc.points.iter().map(|p| p.location.lat).sum::<f64>() / 400.0,
        sc.points.iter().map(|p| p.location.lon).sum::<f64>() / 400.0,
    );
    let mut d: Vec<f64> = sc
        .points
        .iter()
        .map(|p| c.haversine_m(&p.location))
        .collect();
    d.sort_by(f64::total_cmp);
    let (quartile, median) = (d[d.len() / 4], d[d.len() / 2]);
    let sites: Vec<f64> = sc
        .facilities
        .iter()
        .map(|f| f.location)
        .chain(sc.depots.iter().map(|d| d.location))
        .map(|l| c.haversine_m(&l))
        .collect();
    assert!(
        sites.iter().all(|x| *x > quartile),
        "{sites:?} vs {quartile}"
    );
    assert!(sites.iter().sum::<f64>() / sites.len() as f64 > median);
    // The fleet can carry the day's load in a few trips per truck.
    for s_ in [Stream::Kitchen, Stream::Residual, Stream::Recyclable] {
        let cap: i64 = sc
            .vehicles
            .iter()
            .filter(|v| v.certified_streams == vec![s_])
            .map(|v| v.capacity_kg.0)
            .sum();
        assert!(cap * 3 >= s.demand_kg[&s_].0, "{s_}: {cap} kg per round");
    }
    let hz: Vec<_> = sc
        .vehicles
        .iter()
        .filter(|v| v.can_carry(Stream::Hazardous))
        .collect();
    assert!(
        !hz.is_empty()
            && hz
                .iter()
                .all(|v| v.hazardous_licence && v.capacity_kg.0 <= 1_000)
    );
}

#[test]
fn monaco_uses_its_real_recycling_containers_and_quarters() {
    let (sc, s) = run("monaco", &CityGenOptions::default());
    assert_eq!(s.recycling_points, 2);
    assert!(s.pois_used >= 2);
    // Container n3629574708 takes glass and paper, at its mapped position.
    let p = sc
        .points
        .iter()
        .find(|p| p.name.contains("n3629574708"))
        .expect("real container used");
    assert_eq!(p.demands.len(), 1);
    assert_eq!(p.demands[0].stream, Stream::Recyclable);
    assert_eq!(p.bins.len(), 2);
    assert!(p.location.haversine_m(&LatLon::new(43.7316, 7.4202)) < 3_000.0);
    // The nine Monaco quarters are complete admin_level=10 areas in this extract.
    assert!(
        s.district_source.starts_with("admin"),
        "{}",
        s.district_source
    );
    assert!(s.districts.iter().any(|d| d == "Monte-Carlo"));
    assert!(
        sc.points
            .iter()
            .any(|p| p.district.as_str() == "monte-carlo")
    );
}

#[test]
fn helsinki_ignores_litter_bins_and_keeps_bottle_returns() {
    let (sc, s) = run("helsinki-center", &CityGenOptions::default());
    // 14 amenity=waste_disposal + waste=litter are street litter bins, not a round.
    assert!(s.pois_ignored >= 14, "{s:?}");
    assert_eq!(s.containers_used, 0);
    assert_eq!(s.recycling_points, 2);
    assert!(sc.points.iter().any(|p| p.name.contains("Pullonpalautus")));
    assert!(s.households_from_buildings > s.households_from_frontage);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let missing = synthesize("/nonexistent/x.osm.pbf", &CityGenOptions::default());
    assert!(matches!(missing, Err(CityGenError::Osm { .. })));
    let zero = CityGenOptions {
        households_per_point: 0,
        ..CityGenOptions::default()
    };
    assert!(matches!(
        synthesize(extract("monaco"), &zero),
        Err(CityGenError::InvalidOptions {
            field: "households_per_point",
            ..
        })
    ));
    let dir = std::env::temp_dir().join(format!("citygen-garbage-{}", std::process::id()));
    std::fs::write(&dir, b"this is not a pbf file at all").expect("temp file");
    let garbage = synthesize(&dir, &CityGenOptions::default());
    let _ = std::fs::remove_file(&dir);
    assert!(
        matches!(garbage, Err(CityGenError::Osm { .. })),
        "{garbage:?}"
    );
}

#[test]
fn max_points_caps_and_households_per_point_scales() {
    let small = CityGenOptions {
        max_points: 50,
        ..CityGenOptions::default()
    };
    let (sc, s) = run("porto-alegre", &small);
    assert_eq!(sc.points.len(), 50);
    assert!(sc.validate().is_ok());
    let coarse = CityGenOptions {
        households_per_point: 300,
        max_points: 100_000,
        ..CityGenOptions::default()
    };
    let (_, c) = run("porto-alegre", &coarse);
    let fine = CityGenOptions {
        households_per_point: 200,
        ..coarse.clone()
    };
    let (_, f) = run("porto-alegre", &fine);
    let ratio = f.household_points as f64 / c.household_points as f64;
    assert!((1.35..=1.65).contains(&ratio), "{ratio}");
    assert!(s.households_estimated == c.households_estimated);
}

#[test]
fn scenario_json_reads_back_without_problems() {
    let (sc, _) = run("helsinki-center", &CityGenOptions::default());
    let json = serde_json::to_string_pretty(&sc).expect("serializes");
    let back = Scenario::from_json_str(&json).expect("reads back and validates");
    assert_eq!(back.points.len(), sc.points.len());
    assert_eq!(back.vehicles, sc.vehicles);
    assert_eq!(back.facilities.len(), sc.facilities.len());
    for (a, b) in back.points.iter().zip(&sc.points) {
        assert_eq!((&a.id, &a.demands, &a.bins), (&b.id, &b.demands, &b.bins));
        assert!(a.location.haversine_m(&b.location) < 0.01);
    }
}
