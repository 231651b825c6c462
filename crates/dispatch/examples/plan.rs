//! Measures the planning pipeline on a shipped scenario (run with `--release`):
//! `cargo run --release -p sortfleet-dispatch --example plan -- SCENARIO.json OSM.pbf [SECONDS]`
//!
//! Prints the plan figures, the time of a re-plan after a breakdown, and whether an
//! exact route-pool model (good_lp) improves on the best of two seeded plans.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use good_lp::{Expression, ProblemVariables, Solution, SolverModel, constraint, microlp, variable};
use sortfleet_dispatch::planning::{
    Change, FreezeUntil, PlanParams, PlanProgress, check_plan, plan_day, replan,
};
use sortfleet_model::{Plan, Scenario};
use sortfleet_roads::{ImportOptions, RoadGraph};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scen = args
        .first()
        .ok_or("usage: plan SCENARIO.json OSM.pbf [SECONDS]")?;
    let osm = args
        .get(1)
        .ok_or("usage: plan SCENARIO.json OSM.pbf [SECONDS]")?;
    let secs: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20.0);
    let s = Scenario::from_json_str(&std::fs::read_to_string(scen)?)?;
    let t = Instant::now();
    let g = RoadGraph::import_pbf(osm, &ImportOptions::default())?.0;
    println!("import {:.1} s", t.elapsed().as_secs_f64());
    let params = PlanParams {
        time_limit: Duration::from_secs_f64(secs),
        threads: 2,
        ..PlanParams::default()
    };
    let quiet = |_: PlanProgress| {};
    let t = Instant::now();
    let a = plan_day(&s, &g, &params, &quiet)?;
    let wall = t.elapsed().as_secs_f64();
    summary("plan seed 1", &a.plan, wall);
    println!("report: {}", serde_json::to_string(&a.report)?);

    // Re-plan: the busiest vehicle breaks down at 10:00, the others are frozen to then.
    let victim = a
        .plan
        .routes
        .iter()
        .max_by_key(|r| r.stop_count())
        .ok_or("no routes")?;
    let at = sortfleet_model::Seconds::hm(10, 0);
    let mut changes = vec![Change::VehicleUnavailable {
        vehicle: victim.vehicle.clone(),
        at,
    }];
    for r in &a.plan.routes {
        if r.vehicle != victim.vehicle {
            changes.push(Change::FreezeDriven {
                vehicle: r.vehicle.clone(),
                until: FreezeUntil::Time(at),
            });
        }
    }
    let rp = PlanParams {
        time_limit: Duration::from_secs(4),
        ..params.clone()
    };
    let t = Instant::now();
    let b = replan(&s, &g, &a.plan, &changes, &rp, &quiet)?;
    summary(
        "re-plan after breakdown",
        &b.plan,
        t.elapsed().as_secs_f64(),
    );
    println!(
        "  frozen stops {}, visits that changed vehicle {}, pins released {}",
        b.report.frozen_stops, b.report.changed_vehicle, b.report.pins_released
    );

    // Route pool: routes of two seeded plans, best combination by an exact model.
    let p2 = PlanParams {
        seed: 2,
        ..params.clone()
    };
    let c = plan_day(&s, &g, &p2, &quiet)?;
    summary("plan seed 2", &c.plan, 0.0);
    let t = Instant::now();
    let pooled = pool(&s, &[&a.plan, &c.plan])?;
    let pool_s = t.elapsed().as_secs_f64();
    check_plan(&s, &pooled)?;
    summary("route pool (good_lp)", &pooled, pool_s);
    Ok(())
}

fn summary(what: &str, p: &Plan, secs: f64) {
    let t = &p.totals;
    println!(
        "{what}: {:.1} s, {} vehicles, {} served, {} unserved, {:.1} t, {:.1} km, {:.2} € ({:.2} €/t)",
        secs,
        t.vehicles_used,
        t.visits_served,
        t.visits_unserved,
        t.load_kg.0 as f64 / 1000.0,
        t.distance_m.0 as f64 / 1000.0,
        t.cost_ct.0 as f64 / 100.0,
        t.cost_ct.0 as f64 / t.load_kg.0.max(1) as f64 * 10.0
    );
}

/// Set packing over the routes of several plans: each vehicle at most one route, each
/// visit at most once, each facility's intake limit kept; maximise served visits, then
/// minimise cost.
fn pool(s: &Scenario, plans: &[&Plan]) -> Result<Plan, Box<dyn std::error::Error>> {
    let routes: Vec<&sortfleet_model::Route> = plans.iter().flat_map(|p| &p.routes).collect();
    let mut vars = ProblemVariables::new();
    let x: Vec<_> = routes
        .iter()
        .map(|_| vars.add(variable().binary()))
        .collect();
    let mut obj = Expression::from(0.0);
    for (r, &v) in routes.iter().zip(&x) {
        obj += (1_000_000.0 * r.stop_count() as f64 - r.cost_ct.0 as f64) * v;
    }
    let mut m = vars.maximise(obj).using(microlp);
    let mut by_vehicle: HashMap<&str, Expression> = HashMap::new();
    let mut by_visit: HashMap<(String, sortfleet_model::Stream), Expression> = HashMap::new();
    let mut by_fac: HashMap<&str, Expression> = HashMap::new();
    for (r, &v) in routes.iter().zip(&x) {
        *by_vehicle.entry(r.vehicle.as_str()).or_default() += v;
        for t in &r.trips {
            *by_fac.entry(t.unload.facility.as_str()).or_default() += t.unload.load_kg.0 as f64 * v;
            for st in &t.stops {
                *by_visit
                    .entry((st.point.to_string(), st.stream))
                    .or_default() += v;
            }
        }
    }
    for e in by_vehicle.into_values().chain(by_visit.into_values()) {
        m = m.with(constraint!(e <= 1.0));
    }
    for f in &s.facilities {
        if let (Some(l), Some(e)) = (f.daily_intake_limit_kg, by_fac.remove(f.id.as_str())) {
            m = m.with(constraint!(e <= l.0 as f64));
        }
    }
    let sol = m.solve()?;
    let chosen: Vec<sortfleet_model::Route> = routes
        .iter()
        .zip(&x)
        .filter(|(_, v)| sol.value(**v) > 0.5)
        .map(|(r, _)| (*r).clone())
        .collect();
    let served: std::collections::HashSet<_> = chosen
        .iter()
        .flat_map(|r| &r.trips)
        .flat_map(|t| &t.stops)
        .map(|st| (st.point.clone(), st.stream))
        .collect();
    let mut unserved = Vec::new();
    for p in &s.points {
        for d in &p.demands {
            if !served.contains(&(p.id.clone(), d.stream)) {
                let why = plans
                    .iter()
                    .flat_map(|pl| &pl.unserved)
                    .find(|u| u.point == p.id && u.stream == d.stream)
                    .cloned()
                    .unwrap_or(sortfleet_model::Unserved {
                        point: p.id.clone(),
                        stream: d.stream,
                        reason: sortfleet_model::UnservedReason::Other,
                        detail: "left out by the route pool".into(),
                    });
                unserved.push(why);
            }
        }
    }
    Ok(Plan::new(
        s.name.clone(),
        s.date,
        chosen,
        unserved,
        sortfleet_model::Cents(0),
    ))
}
