//! Solver tests: every answer goes through the independent checker.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use proptest::prelude::*;
use sortfleet_model::Stream;
use sortfleet_solver::io::{read_instance, write_sol};
use sortfleet_solver::rng::Rng;
use sortfleet_solver::search::FleetProbe;
use sortfleet_solver::search::state::{Inst, SearchState};
use sortfleet_solver::{
    Break, DenseMatrix, Facility, ProblemData, ProblemError, SolveParams, StopCriteria, TimeWindow,
    Trip, UnservedReason, Vehicle, Violation, Visit, check, operators, operators::Operator, solve,
};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn iters(n: u64, seed: u64, threads: usize) -> SolveParams {
    SolveParams {
        seed,
        threads,
        stop: StopCriteria {
            max_iterations: Some(n),
            ..Default::default()
        },
        cancel: None,
    }
}

/// A random day of `n` visits with its first greedy plan, and the generator that made it.
fn first_plan(seed: u64, n: usize) -> (ProblemData, Inst, Rng, SearchState) {
    let pd = random_problem(seed, n);
    let inst = Inst::new(&pd);
    let mut rng = Rng::new(seed);
    let mut st = SearchState::new(&inst);
    let order = st.removed.clone();
    st.recreate(&inst, &order, &mut rng);
    (pd, inst, rng, st)
}

/// A random waste-collection day: 2 depots, 3 facilities, streams, windows, breaks.
fn random_problem(seed: u64, n_visits: usize) -> ProblemData {
    let mut rng = Rng::new(seed);
    let n_loc = n_visits + 5;
    let pts: Vec<(i64, i64)> = (0..n_loc)
        .map(|_| (rng.below(10_000) as i64, rng.below(10_000) as i64))
        .collect();
    let mut dist = Vec::new();
    let mut dur = Vec::new();
    for a in &pts {
        for b in &pts {
            let d = (a.0 - b.0).abs() + (a.1 - b.1).abs();
            dist.push(d);
            dur.push(d / 8);
        }
    }
    let streams = [Stream::Kitchen, Stream::Residual, Stream::Hazardous];
    let visits = (0..n_visits)
        .map(|i| {
            let open = rng.below(20_000) as i64;
            let two = rng.below(4) == 0;
            let mut windows = vec![TimeWindow::new(
                open,
                open + 3_000 + rng.below(20_000) as i64,
            )];
            if two {
                let s = windows[0].end + 1_000;
                windows.push(TimeWindow::new(s, s + 5_000));
            }
            let stream = streams[rng.below(3)];
            Visit {
                location: 5 + i,
                demand: [1 + rng.below(400) as i64, rng.below(600) as i64],
                service: 60 + rng.below(300) as i64,
                windows,
                stream,
                skills: u64::from(stream == Stream::Hazardous),
                penalty: (rng.below(3) == 0).then(|| rng.below(5_000) as i64),
                // Odd seeds have none: release dates make the search evaluate every
                // insertion in full, and the resumed evaluation needs testing too.
                release: if rng.below(5) == 0 && seed.is_multiple_of(2) {
                    rng.below(10_000) as i64
                } else {
                    0
                },
            }
        })
        .collect();
    let facilities = vec![
        Facility {
            location: 2,
            accepts: vec![Stream::Kitchen],
            unload: 600,
            hours: vec![TimeWindow::new(0, 40_000)],
            intake_limit: Some(3_000),
        },
        Facility {
            location: 3,
            accepts: vec![Stream::Residual, Stream::Kitchen],
            unload: 900,
            hours: vec![TimeWindow::new(0, 15_000), TimeWindow::new(20_000, 45_000)],
            intake_limit: None,
        },
        Facility {
            location: 4,
            accepts: vec![Stream::Hazardous],
            unload: 300,
            hours: vec![TimeWindow::new(5_000, 30_000)],
            intake_limit: None,
        },
    ];
    let vehicles = (0..4)
        .map(|k| {
            let mut v = Vehicle::basic(
                k % 2,
                k % 2,
                [1_000 + 200 * k as i64, 1_500],
                match k {
                    0 => vec![Stream::Kitchen],
                    1 => vec![Stream::Residual, Stream::Kitchen],
                    2 => vec![Stream::Hazardous, Stream::Residual],
                    _ => vec![Stream::Residual],
                },
            );
            v.shift = TimeWindow::new(0, 45_000);
            v.skills = u64::from(k == 2);
            v.fixed_cost = 1_000;
            v.cost_per_second = 1;
            v.max_duration = (k == 3).then_some(30_000);
            v.max_distance = (k == 0).then_some(120_000);
            v.break_rule = (k != 1).then_some(Break {
                window: TimeWindow::new(12_000, 16_000),
                duration: 1_800,
            });
            v.class = k % 2;
            v
        })
        .collect();
    let fast: Vec<i64> = dur.iter().map(|d| d * 3 / 4).collect();
    let m = DenseMatrix::new(n_loc, vec![dur, fast], vec![dist.clone(), dist]).unwrap();
    ProblemData::new(visits, vehicles, facilities, Arc::new(m)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn random_instances_pass_the_checker(seed in 0u64..10_000, n in 1usize..30) {
        let pd = random_problem(seed, n);
        let sol = solve(&pd, &iters(150, seed, 1), &|_| {});
        let report = check(&pd, &sol).map_err(|v| TestCaseError::fail(v.to_string()))?;
        // Recomputed cost equals the reported one (check enforces it; state it anyway).
        prop_assert_eq!(report.cost, sol.cost);
        let served: usize = sol.routes.iter().flat_map(|r| &r.trips).map(|t| t.visits.len()).sum();
        prop_assert_eq!(served + sol.unserved.len(), n);
        for u in &sol.unserved {
            if pd.visits()[u.visit].penalty.is_none() {
                prop_assert_ne!(u.reason, UnservedReason::NotWorthIt);
            }
        }
    }
}

#[test]
fn same_seed_same_result() {
    let pd = random_problem(42, 40);
    for threads in [1, 2] {
        let a = solve(&pd, &iters(400, 9, threads), &|_| {});
        let b = solve(&pd, &iters(400, 9, threads), &|_| {});
        assert_eq!(a, b, "threads {threads}");
        check(&pd, &a).unwrap();
    }
    let inst = read_instance(&data("X-n101-k25.vrp")).unwrap();
    let a = solve(&inst.data, &iters(300, 3, 1), &|_| {});
    let b = solve(&inst.data, &iters(300, 3, 1), &|_| {});
    assert_eq!(a, b);
}

#[test]
fn x_instance_within_loose_gap() {
    let inst = read_instance(&data("X-n101-k25.vrp")).unwrap();
    let bks = sortfleet_solver::io::sibling_bks(&data("X-n101-k25.vrp")).unwrap();
    assert_eq!(bks, 27591.0);
    let sol = solve(&inst.data, &iters(4000, 1, 1), &|_| {});
    let r = check(&inst.data, &sol).unwrap();
    let gap = (r.distance as f64 - bks) / bks;
    assert!(r.unserved_mandatory == 0);
    assert!(gap < 0.05, "gap {gap}");
    assert!(
        r.distance as f64 >= bks,
        "below the optimum: checker or reader is wrong"
    );
}

#[test]
fn solomon_and_kim_instances_solve_and_check() {
    let inst = read_instance(&data("C101.txt")).unwrap();
    let sol = solve(&inst.data, &iters(3000, 1, 1), &|_| {});
    let r = check(&inst.data, &sol).unwrap();
    let cost = r.distance as f64 / inst.scale;
    assert!((828.9..=828.94 * 1.05).contains(&cost), "C101 {cost}");
    let kim = read_instance(&data("102_stop.txt")).unwrap();
    assert!(!kim.data.facilities().is_empty());
    let sol = solve(&kim.data, &iters(300, 1, 1), &|_| {});
    let r = check(&kim.data, &sol).unwrap();
    assert_eq!(r.unserved_mandatory, 0);
    // Every trip is emptied at a landfill.
    assert!(
        sol.routes
            .iter()
            .flat_map(|r| &r.trips)
            .all(|t| t.facility.is_some())
    );
}

#[test]
fn multi_trip_release_instance_solves_and_checks() {
    let path = data("C201R0.25.vrp");
    let inst = read_instance(&path).unwrap();
    assert!(inst.data.visits().iter().any(|v| v.release > 0));
    let bks = sortfleet_solver::io::sibling_bks(&path).unwrap();
    let sol = solve(&inst.data, &iters(1500, 1, 1), &|_| {});
    let r = check(&inst.data, &sol).unwrap();
    assert_eq!(r.unserved_mandatory, 0);
    assert!(r.used_vehicles <= 8);
    let cost = r.distance as f64 / inst.scale;
    assert!(cost >= bks && cost < bks * 1.10, "{cost} vs {bks}");
}

#[test]
fn progress_and_cancellation() {
    let pd = random_problem(5, 25);
    let cancel = Arc::new(AtomicBool::new(true));
    let p = SolveParams {
        cancel: Some(cancel),
        ..iters(1_000_000, 1, 2)
    };
    let seen = std::sync::Mutex::new(Vec::new());
    let sol = solve(&pd, &p, &|pr| seen.lock().unwrap().push(pr.best_cost));
    assert_eq!(sol.iterations, 0);
    check(&pd, &sol).unwrap();
    // The construction is reported once; later reports only improve.
    let seen = seen.into_inner().unwrap();
    assert!(!seen.is_empty());
    let seen2 = std::sync::Mutex::new(Vec::new());
    solve(&pd, &iters(300, 1, 1), &|pr| {
        seen2.lock().unwrap().push((pr.unserved, pr.best_cost))
    });
    let s = seen2.into_inner().unwrap();
    assert!(s.windows(2).all(|w| w[1] < w[0]), "{s:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// `remove_visits` (one refresh per route) leaves the same plan as `remove_visit`
    /// called once per visit: routes, facility stops, removed order, costs, positions.
    #[test]
    fn batch_removal_equals_one_by_one(seed in 0u64..10_000, n in 2usize..30, pick in 1usize..12) {
        let (pd, inst, mut rng, st) = first_plan(seed, n);
        let mut vs: Vec<u32> = (0..n as u32).collect();
        for i in (1..vs.len()).rev() {
            vs.swap(i, rng.below(i + 1));
        }
        vs.truncate(pick.min(n));
        vs.push(vs[0]); // a repeat is ignored by both
        let (mut one, mut batch) = (st.clone(), st);
        for &v in &vs {
            one.remove_visit(&inst, v);
        }
        batch.remove_visits(&inst, &vs);
        prop_assert_eq!(&one.removed, &batch.removed);
        prop_assert_eq!(&one.pos, &batch.pos);
        for (a, b) in one.routes.iter().zip(&batch.routes) {
            prop_assert_eq!(&a.nodes, &b.nodes);
            prop_assert_eq!(a.feasible, b.feasible);
        }
        // A removal can break a route (a break or window that only held with the visit);
        // the search then rolls back, and such a route's cost is whatever its last
        // feasible state left (one-by-one passes through other states than the batch).
        // A plan whose routes all stay feasible must cost the same both ways and check.
        if batch.routes.iter().all(|r| r.feasible) {
            prop_assert_eq!(one.objective(&inst), batch.objective(&inst));
            check(&pd, &batch.to_solution(&inst))
                .map_err(|v| TestCaseError::fail(v.to_string()))?;
        }
    }

    /// The insertion scan bisects each route for the places where a visit can meet its
    /// windows; it must drop only places that yield no estimate anyway.
    #[test]
    fn window_bisection_drops_only_places_that_fail(
        seed in 0u64..10_000,
        n in 2usize..30,
        pick in 1usize..8,
    ) {
        let (_, inst, mut rng, mut st) = first_plan(seed, n);
        let vs: Vec<u32> = (0..pick.min(n) as u32).collect();
        st.remove_visits(&inst, &vs);
        st.blink = 0.0;
        for &v in &vs {
            for ri in 0..st.routes.len() {
                let full = st.insertion_estimates(&inst, ri, v, false, &mut rng);
                let cut = st.insertion_estimates(&inst, ri, v, true, &mut rng);
                prop_assert_eq!(full, cut, "visit {} route {}", v, ri);
            }
        }
    }
}

#[test]
fn every_operator_keeps_the_plan_valid() {
    let pd = random_problem(77, 30);
    let inst = Inst::new(&pd);
    for (op, _) in operators::all() {
        let mut rng = Rng::new(1);
        let mut st = SearchState::new(&inst);
        let order = st.removed.clone();
        st.recreate(&inst, &order, &mut rng);
        for _ in 0..50 {
            let routed_before = inst.nv - st.removed.len();
            st.begin();
            op.ruin(&inst, &mut st, &mut rng);
            assert!(
                inst.nv - st.removed.len() <= routed_before,
                "{} must only remove",
                op.name()
            );
            let removed = st.removed.clone();
            st.recreate(&inst, &removed, &mut rng);
            if !st.touched_feasible() {
                st.rollback(&inst);
            }
            let sol = st.to_solution(&inst);
            check(&pd, &sol).unwrap_or_else(|v| panic!("{}: {v}", op.name()));
        }
    }
}

fn solved_kim() -> (ProblemData, sortfleet_solver::Solution) {
    let pd = random_problem(3, 30);
    let sol = solve(&pd, &iters(200, 1, 1), &|_| {});
    check(&pd, &sol).unwrap();
    (pd, sol)
}

#[test]
fn checker_names_the_broken_rule() {
    let (pd, sol) = solved_kim();
    // Missing visit.
    let mut s = sol.clone();
    let r = s.routes.iter().position(|r| !r.trips.is_empty()).unwrap();
    let v = s.routes[r].trips[0].visits.pop().unwrap();
    if s.routes[r].trips[0].visits.is_empty() {
        s.routes[r].trips.remove(0);
    }
    assert!(
        matches!(check(&pd, &s), Err(Violation::VisitMissing { visit }) if visit == v)
            || matches!(check(&pd, &s), Err(Violation::Cost { .. }))
    );
    // Served twice.
    let mut s = sol.clone();
    let v = s.routes[r].trips[0].visits[0];
    s.routes[r].trips[0].visits.push(v);
    assert!(matches!(check(&pd, &s), Err(Violation::VisitTwice { .. })));
    // Wrong stated cost.
    let mut s = sol.clone();
    s.cost += 1;
    assert!(matches!(check(&pd, &s), Err(Violation::Cost { .. })));
    // A trip of another stream.
    let mut s = sol.clone();
    let t = &mut s.routes[r].trips[0];
    t.stream = if t.stream == Stream::Bulky {
        Stream::Renovation
    } else {
        Stream::Bulky
    };
    assert!(matches!(
        check(&pd, &s),
        Err(Violation::NotCertified { .. } | Violation::MixedTrip { .. })
    ));
    // Emptied at a facility that does not take the stream.
    let mut s = sol.clone();
    let trip: &mut Trip = &mut s.routes[r].trips[0];
    let wrong = pd
        .facilities()
        .iter()
        .position(|f| !f.accepts.contains(&trip.stream))
        .unwrap();
    trip.facility = Some(wrong);
    assert!(matches!(
        check(&pd, &s),
        Err(Violation::WrongFacility { .. })
    ));
}

#[test]
fn capacity_and_time_violations_are_found() {
    let m = DenseMatrix::single(3, vec![0, 10, 10, 10, 0, 10, 10, 10, 0]).unwrap();
    let visit = |loc, q, w: TimeWindow| Visit {
        location: loc,
        demand: [q, 0],
        service: 5,
        windows: vec![w],
        stream: Stream::Residual,
        skills: 0,
        penalty: None,
        release: 0,
    };
    let mut v = Vehicle::basic(0, 0, [10, 0], vec![Stream::Residual]);
    v.unload_at_end = true;
    let pd = ProblemData::new(
        vec![
            visit(1, 6, TimeWindow::ALWAYS),
            visit(2, 6, TimeWindow::new(0, 12)),
        ],
        vec![v.clone(), v],
        vec![],
        Arc::new(m),
    )
    .unwrap();
    let sol = solve(&pd, &iters(50, 1, 1), &|_| {});
    let r = check(&pd, &sol).unwrap();
    assert_eq!(r.used_vehicles, 2);
    assert_eq!(sol.cost, 40);
    let mut s = sol.clone();
    let (a, b) = (s.routes[0].trips[0].clone(), s.routes[1].trips[0].clone());
    s.routes[0].trips[0].visits = vec![a.visits[0], b.visits[0]];
    s.routes.truncate(1);
    assert!(matches!(
        check(&pd, &s),
        Err(Violation::Capacity { load: 12, .. })
    ));
}

#[test]
fn bad_input_names_the_field() {
    let m = Arc::new(DenseMatrix::single(2, vec![0, 1, 1, 0]).unwrap());
    let v = Vehicle::basic(0, 0, [10, 0], vec![Stream::Residual]);
    let mut visit = Visit {
        location: 5,
        demand: [1, 0],
        service: 0,
        windows: vec![TimeWindow::ALWAYS],
        stream: Stream::Residual,
        skills: 0,
        penalty: None,
        release: 0,
    };
    let e = ProblemData::new(vec![visit.clone()], vec![v.clone()], vec![], m.clone()).unwrap_err();
    assert!(e.to_string().contains("visits[0].location"), "{e}");
    visit.location = 1;
    visit.windows = vec![TimeWindow::new(10, 5)];
    let e = ProblemData::new(vec![visit.clone()], vec![v.clone()], vec![], m.clone()).unwrap_err();
    assert!(e.to_string().contains("visits[0].windows"), "{e}");
    visit.windows = vec![TimeWindow::ALWAYS];
    visit.demand = [-1, 0];
    let e = ProblemData::new(vec![visit.clone()], vec![v.clone()], vec![], m.clone()).unwrap_err();
    assert!(e.to_string().contains("visits[0].demand[0]"), "{e}");
    let e = ProblemData::new(vec![], vec![], vec![], m.clone()).unwrap_err();
    assert_eq!(e, ProblemError::NoVehicles);
    let mut bad = v.clone();
    bad.class = 3;
    let e = ProblemData::new(vec![], vec![bad], vec![], m).unwrap_err();
    assert!(e.to_string().contains("vehicles[0].class"), "{e}");
    // The search keeps matrices in 32 bits: a larger entry is refused, not wrapped.
    let big = Arc::new(DenseMatrix::single(2, vec![0, 1, 1 << 31, 0]).unwrap());
    let e = ProblemData::new(vec![], vec![v.clone()], vec![], big).unwrap_err();
    assert_eq!(
        e,
        ProblemError::MatrixTooLarge {
            what: "duration",
            class: 0,
            from: 1,
            to: 0,
            value: 1 << 31,
        }
    );
    let edge = Arc::new(DenseMatrix::single(2, vec![0, 1, i64::from(i32::MAX), 0]).unwrap());
    assert!(ProblemData::new(vec![], vec![v], vec![], edge).is_ok());
}

#[test]
fn unservable_visits_get_a_reason() {
    let m = Arc::new(DenseMatrix::single(2, vec![0, 1, 1, 0]).unwrap());
    let mut v = Vehicle::basic(0, 0, [10, 10], vec![Stream::Residual]);
    v.unload_at_end = true;
    let visit = |stream, q| Visit {
        location: 1,
        demand: [q, 0],
        service: 0,
        windows: vec![TimeWindow::ALWAYS],
        stream,
        skills: 0,
        penalty: None,
        release: 0,
    };
    let pd = ProblemData::new(
        vec![
            visit(Stream::Hazardous, 1),
            visit(Stream::Residual, 50),
            visit(Stream::Residual, 5),
        ],
        vec![v],
        vec![],
        m,
    )
    .unwrap();
    let sol = solve(&pd, &iters(20, 1, 1), &|_| {});
    check(&pd, &sol).unwrap();
    let reasons: Vec<_> = sol.unserved.iter().map(|u| (u.visit, u.reason)).collect();
    assert_eq!(
        reasons,
        vec![
            (0, UnservedReason::NoCertifiedVehicle),
            (1, UnservedReason::OverCapacity)
        ]
    );
}

#[test]
fn empty_day_returns_at_once() {
    let m = Arc::new(DenseMatrix::single(1, vec![0]).unwrap());
    let v = Vehicle::basic(0, 0, [10, 0], vec![Stream::Residual]);
    let pd = ProblemData::new(vec![], vec![v], vec![], m).unwrap();
    let params = SolveParams {
        stop: StopCriteria {
            time_limit: Some(std::time::Duration::from_secs(3600)),
            ..Default::default()
        },
        ..Default::default()
    };
    let sol = solve(&pd, &params, &|_| {});
    assert!(sol.routes.is_empty() && sol.unserved.is_empty());
    assert_eq!(check(&pd, &sol).unwrap().cost, 0);
}

#[test]
fn sol_writer_uses_bks_numbering() {
    let inst = read_instance(&data("X-n101-k25.vrp")).unwrap();
    let sol = solve(&inst.data, &iters(100, 1, 1), &|_| {});
    let r = check(&inst.data, &sol).unwrap();
    let text = write_sol(&inst, &sol, r.distance as f64);
    assert!(text.starts_with("Route #1: "));
    assert!(text.ends_with(&format!("Cost {}\n", r.distance)));
    let mut ids: Vec<usize> = text
        .lines()
        .filter_map(|l| l.split_once(": "))
        .flat_map(|(_, r)| r.split_whitespace().map(|x| x.parse().unwrap()))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=100).collect::<Vec<_>>());
}

#[test]
fn vehicles_first_packs_what_first_fit_decreasing_cannot() {
    // Loads 5 4 3 3 3 2 into trucks of 10: first-fit decreasing (the construction's
    // order) needs three trucks, 5+3+2 / 4+3+3 needs two. A truck costs far more than
    // any distance, so the search (fleet minimisation first) must find two.
    let n = 7;
    let mut d = vec![0i64; n * n];
    for a in 0..n {
        for b in 0..n {
            if a != b {
                d[a * n + b] = if a == 0 || b == 0 { 100 } else { 1 };
            }
        }
    }
    let matrix = DenseMatrix::single(n, d).unwrap();
    let visits: Vec<Visit> = [5, 4, 3, 3, 3, 2]
        .iter()
        .enumerate()
        .map(|(i, &q)| Visit::new(i + 1, [q, 0], Stream::Residual))
        .collect();
    let mut truck = Vehicle::basic(0, 0, [10, 0], vec![Stream::Residual]);
    truck.unload_at_end = true;
    truck.fixed_cost = 1_000_000;
    let pd = ProblemData::new(visits, vec![truck; 4], vec![], Arc::new(matrix)).unwrap();
    let first = solve(&pd, &iters(1, 1, 1), &|_| {});
    assert_eq!(first.used_vehicles(), 3, "the construction alone");
    let sol = solve(&pd, &iters(500, 1, 1), &|_| {});
    let r = check(&pd, &sol).unwrap();
    assert_eq!(r.used_vehicles, 2);
    assert_eq!(r.unserved_mandatory, 0);
    assert_eq!(r.cost, sol.cost);
}

#[test]
fn sharing_workers_are_deterministic_for_an_iteration_budget() {
    // Past several meeting points (EPOCH iterations), two workers adopt each other's
    // best plans; the run must still be the same for a seed.
    let pd = random_problem(7, 30);
    let n = 3 * sortfleet_solver::search::EPOCH + 17;
    let a = solve(&pd, &iters(n, 5, 2), &|_| {});
    let b = solve(&pd, &iters(n, 5, 2), &|_| {});
    assert_eq!(a, b);
    assert_eq!(a.iterations, 2 * n);
    let r = check(&pd, &a).unwrap();
    assert_eq!(r.cost, a.cost);
}

#[test]
fn insertion_near_the_depot_sees_every_route_end() {
    // Fourteen clusters of three visits 100 west of the depot fill a truck each; one
    // cluster 1000 east fills another. Visit v sits 5 east of the depot, on the way
    // home of the east route (detour 0), while its 40 nearest neighbours are all in
    // the west clusters (detour 10). The insertion scan, granular with this many
    // routes, must still find the east route's way home.
    let mut pts: Vec<(f64, f64)> = vec![(0.0, 0.0), (5.0, 0.0)];
    for c in 0..14 {
        let a = std::f64::consts::PI * (0.55 + 0.9 * c as f64 / 13.0);
        for j in 0..3 {
            pts.push((100.0 * a.cos() + j as f64, 100.0 * a.sin()));
        }
    }
    for j in 0..3 {
        pts.push((1000.0 + j as f64, 0.0));
    }
    let pd = plane_problem(&pts, |l| if l == 1 { 1 } else { 10 }, 31, 16);
    let inst = Inst::new(&pd);
    let mut state = SearchState::new(&inst);
    state.blink = 0.0;
    let mut rng = Rng::new(1);
    let others: Vec<u32> = (1..inst.nv as u32).collect();
    state.recreate(&inst, &others, &mut rng);
    assert_eq!(state.removed, vec![0], "every cluster visit is routed");
    let east = state.pos[inst.nv - 1].0 as usize;
    let ins = state.best_insertion(&inst, 0, &mut rng).expect("v fits");
    assert_eq!(
        (ins.route, ins.delta),
        (east, 0),
        "v belongs on the east route's way home"
    );
}

#[test]
fn route_split_moves_a_trip_tail_to_an_unused_vehicle() {
    // Eight visits in a row east of the depot: the greedy construction puts them all on
    // one truck (a second one never pays for a single visit).
    let pd = row_east();
    let inst = Inst::new(&pd);
    let mut rng = Rng::new(7);
    let mut state = SearchState::new(&inst);
    let all = state.removed.clone();
    state.recreate(&inst, &all, &mut rng);
    let used = |s: &SearchState| s.routes.iter().filter(|r| !r.nodes.is_empty()).count();
    assert_eq!((used(&state), state.removed.len()), (1, 0));
    let before = state
        .routes
        .iter()
        .find(|r| !r.nodes.is_empty())
        .unwrap()
        .nodes
        .clone();
    // The split is skipped with probability average trip load (8 %) x idle share of the
    // day (1: these trucks have no shift end).
    for _ in 0..50 {
        state.begin();
        operators::RouteSplit { max_removed: 1 }.ruin(&inst, &mut state, &mut rng);
        if used(&state) > 1 {
            break;
        }
    }
    assert_eq!(used(&state), 2, "the tail went to a second truck");
    assert_eq!(state.removed.len(), 1, "one visit taken out at the cut");
    // Both parts keep the original order: concatenated they are the old route less
    // the removed visit.
    let head = &state.routes[state.pos[before[0] as usize].0 as usize].nodes;
    let tail = state
        .routes
        .iter()
        .find(|r| !r.nodes.is_empty() && r.nodes != *head)
        .unwrap();
    assert!(head.len() >= 2 && !tail.nodes.is_empty());
    let joined: Vec<u32> = head.iter().chain(&tail.nodes).copied().collect();
    let expected: Vec<u32> = before
        .iter()
        .copied()
        .filter(|v| *v != state.removed[0])
        .collect();
    assert_eq!(joined, expected);
    let removed = state.removed.clone();
    state.recreate(&inst, &removed, &mut rng);
    assert!(state.touched_feasible());
    check(&pd, &state.to_solution(&inst)).unwrap();
}

#[test]
fn tail_swap_joins_two_routes_where_they_pass_near() {
    // Two parallel rows of four visits, one truck each.
    let pts: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain((0..4).map(|i| (10.0 + i as f64, 0.0)))
        .chain((0..4).map(|i| (10.0 + i as f64, 1.0)))
        .collect();
    let pd = plane_problem(&pts, |_| 1, 8, 2);
    let inst = Inst::new(&pd);
    let mut rng = Rng::new(3);
    let mut state = SearchState::new(&inst);
    state.set_nodes(&inst, 0, vec![0, 1, 2, 3]);
    state.set_nodes(&inst, 1, vec![4, 5, 6, 7]);
    state.removed.clear();
    let before: Vec<Vec<u32>> = state.routes.iter().map(|r| r.nodes.clone()).collect();
    let mut moved = false;
    for _ in 0..50 {
        state.begin();
        operators::TailSwap {
            max_removed: 0,
            near: 10,
        }
        .ruin(&inst, &mut state, &mut rng);
        if state.routes.iter().zip(&before).any(|(r, b)| r.nodes != *b) {
            moved = true;
            break;
        }
    }
    assert!(moved, "some swap was feasible");
    assert!(
        state.removed.is_empty(),
        "nothing taken out with max_removed 0"
    );
    let mut all: Vec<u32> = state.routes.iter().flat_map(|r| r.nodes.clone()).collect();
    all.sort();
    assert_eq!(
        all,
        (0..8).collect::<Vec<u32>>(),
        "every visit on exactly one route"
    );
    // Each new route is a head of one old route followed by a tail of the other
    // (either part may be empty), so two visits of different rows meet at most once.
    let row = |v: u32| v / 4;
    for r in state.routes.iter().filter(|r| !r.nodes.is_empty()) {
        let n = &r.nodes;
        let switches = n.windows(2).filter(|p| row(p[0]) != row(p[1])).count();
        assert!(switches <= 1, "one joint per route: {n:?}");
        let k = n
            .windows(2)
            .position(|p| row(p[0]) != row(p[1]))
            .map_or(n.len(), |k| k + 1);
        let (head, tail) = n.split_at(k);
        assert!(
            before.iter().any(|b| b.starts_with(head)) || before.iter().any(|b| b.ends_with(n)),
            "{n:?}"
        );
        assert!(before.iter().any(|b| b.ends_with(tail)), "{n:?}");
    }
    assert!(state.touched_feasible());
    check(&pd, &state.to_solution(&inst)).unwrap();
}

#[test]
fn exchange_trades_visits_between_full_routes() {
    // Three visits 10 east and three 10 west of the depot, two trucks of capacity 3,
    // each route full and holding one visit of the other side: no single visit can move
    // (no room anywhere), trading the two strays sorts the sides.
    let pts: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain((0..3).map(|i| (10.0, i as f64)))
        .chain((0..3).map(|i| (-10.0, i as f64)))
        .collect();
    let pd = plane_problem(&pts, |_| 1, 3, 2);
    let inst = Inst::new(&pd);
    let mut rng = Rng::new(5);
    // The near partner alone only trades like for like here; the best fit sorts.
    for fit_share in [0.0, 1.0] {
        let op = operators::Exchange {
            max_removed: 0,
            near: 10,
            fit_share,
        };
        let mut state = SearchState::new(&inst);
        state.removed.clear();
        let mut sorted = 0;
        for _ in 0..40 {
            // East 0..3, west 3..6; visit 2 (east) rides with the west and 3 with the east.
            state.set_nodes(&inst, 0, vec![0, 1, 3]);
            state.set_nodes(&inst, 1, vec![2, 4, 5]);
            state.begin();
            op.ruin(&inst, &mut state, &mut rng);
            assert!(state.removed.is_empty(), "both traded visits found room");
            assert!(state.touched_feasible());
            check(&pd, &state.to_solution(&inst)).unwrap();
            let mut all: Vec<u32> = state.routes.iter().flat_map(|r| r.nodes.clone()).collect();
            all.sort();
            assert_eq!(all, (0..6).collect::<Vec<u32>>(), "every visit once");
            let side = |r: &[u32]| r.iter().map(|&v| v / 3).collect::<Vec<_>>();
            let sides: Vec<Vec<u32>> = state.routes.iter().map(|r| side(&r.nodes)).collect();
            if sides.iter().all(|s| s.iter().all(|&x| x == s[0])) {
                sorted += 1;
            }
        }
        if fit_share == 1.0 {
            assert!(sorted > 0, "some trade sorted the two sides");
        }
    }
}

#[test]
fn fleet_probe_keeps_a_branch_with_one_truck_more_when_it_ends_cheaper() {
    // Three visits 10 east and three 10 west of the depot, windows alternating east and
    // west every 20 time units: one truck must zig-zag (about 120), two trucks each
    // sweep one side (about 44).
    let mut pts: Vec<(f64, f64)> = vec![(0.0, 0.0)];
    for i in 0..3 {
        pts.push((10.0, i as f64));
        pts.push((-10.0, i as f64));
    }
    let window = |l: usize| {
        let start = (10 + 20 * (l as i64 - 1)) * 1000;
        Some(TimeWindow::new(start, start + 2000))
    };
    let pd = plane_problem_tw(&pts, |_| 1, window, 100, 3);
    let inst = Inst::new(&pd);
    let mut state = SearchState::new(&inst);
    assert!(
        state.set_nodes(&inst, 0, (0..6).collect()),
        "the zig-zag is feasible"
    );
    state.removed.clear();
    let current = state.objective(&inst);
    let ops = operators::all();
    let probe = FleetProbe {
        ops: &ops,
        steps: 300,
        temp: 0.0,
        deadline: None,
    };
    let mut accepted = 0;
    let (kept, steps) = probe.run(
        &inst,
        &mut state,
        current,
        &mut Rng::new(5),
        &mut |_, _, _| accepted += 1,
    );
    assert_eq!(steps, 300);
    let kept = kept.expect("the two-truck branch ends cheaper");
    assert!(kept < current / 2, "{kept} vs {current}");
    assert_eq!(kept, state.objective(&inst), "the state holds the branch");
    assert!(accepted > 0);
    let used = state.routes.iter().filter(|r| !r.nodes.is_empty()).count();
    assert_eq!(used, 2);
    check(&pd, &state.to_solution(&inst)).unwrap();
}

#[test]
fn fleet_probe_restores_a_plan_it_cannot_beat() {
    // Eight visits in a row east of the depot, no windows: one truck along the row is
    // optimal, so a branch with a second truck never ends cheaper.
    let pd = row_east();
    let inst = Inst::new(&pd);
    let mut state = SearchState::new(&inst);
    state.set_nodes(&inst, 1, (0..8).collect());
    state.removed.clear();
    let current = state.objective(&inst);
    let before: Vec<Vec<u32>> = state.routes.iter().map(|r| r.nodes.clone()).collect();
    let ops = operators::all();
    let probe = FleetProbe {
        ops: &ops,
        steps: 200,
        temp: 0.0,
        deadline: None,
    };
    let mut rng = Rng::new(9);
    for _ in 0..5 {
        let (kept, steps) = probe.run(&inst, &mut state, current, &mut rng, &mut |_, _, _| {});
        assert_eq!(kept, None);
        assert!(steps > 0, "the split found a trip to cut");
        let after: Vec<Vec<u32>> = state.routes.iter().map(|r| r.nodes.clone()).collect();
        assert_eq!(after, before, "the plan is restored");
        assert_eq!(state.objective(&inst), current);
        assert!(state.removed.is_empty());
        assert!((0..8).all(|v| state.pos[v].0 == 1), "positions restored");
    }
}

/// A depot at `pts[0]` and one residual-waste visit at each other point (demand by
/// location index), `trucks` trucks of capacity `cap` that unload at the depot;
/// Euclidean distances in thousandths.
fn plane_problem(
    pts: &[(f64, f64)],
    demand: impl Fn(usize) -> i64,
    cap: i64,
    trucks: usize,
) -> ProblemData {
    plane_problem_tw(pts, demand, |_| None, cap, trucks)
}

/// Eight unit visits in a row 10..17 east of the depot, three trucks of capacity 100:
/// one truck along the row is the optimum.
fn row_east() -> ProblemData {
    let pts: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain((0..8).map(|i| (10.0 + i as f64, 0.0)))
        .collect();
    plane_problem(&pts, |_| 1, 100, 3)
}

/// [`plane_problem`] with a time window by location index (travel time = distance).
fn plane_problem_tw(
    pts: &[(f64, f64)],
    demand: impl Fn(usize) -> i64,
    window: impl Fn(usize) -> Option<TimeWindow>,
    cap: i64,
    trucks: usize,
) -> ProblemData {
    let n = pts.len();
    let d: Vec<i64> = pts
        .iter()
        .flat_map(|a| {
            pts.iter()
                .map(move |b| ((a.0 - b.0).hypot(a.1 - b.1) * 1000.0).round() as i64)
        })
        .collect();
    let visits: Vec<Visit> = (1..n)
        .map(|l| {
            let mut v = Visit::new(l, [demand(l), 0], Stream::Residual);
            if let Some(w) = window(l) {
                v.windows = vec![w];
            }
            v
        })
        .collect();
    let mut truck = Vehicle::basic(0, 0, [cap, 0], vec![Stream::Residual]);
    truck.unload_at_end = true;
    ProblemData::new(
        visits,
        vec![truck; trucks],
        vec![],
        Arc::new(DenseMatrix::single(n, d).unwrap()),
    )
    .unwrap()
}
