//! `cargo run --release -p sortfleet-solver --example city -- VISITS VEHICLES SECONDS`:
//! solves a synthetic waste-collection day and prints its checked figures.
use std::time::Duration;

use sortfleet_solver::{SolveParams, StopCriteria, check, solve, synthetic};

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let (n, k, secs) = (
        a.first().copied().unwrap_or(500),
        a.get(1).copied().unwrap_or(20),
        a.get(2).copied().unwrap_or(10),
    );
    let pd = synthetic::waste_day(1, n, k);
    let params = SolveParams {
        stop: StopCriteria {
            time_limit: Some(Duration::from_secs(secs as u64)),
            ..Default::default()
        },
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let sol = solve(&pd, &params, &|p| {
        eprintln!(
            "{:.1}s it {} cost {} unserved {}",
            p.elapsed, p.iteration, p.best_cost, p.unserved
        )
    });
    let r = check(&pd, &sol).expect("checked");
    let trips: usize = sol.routes.iter().map(|r| r.trips.len()).sum();
    println!(
        "visits {n} vehicles used {} trips {trips} unserved {} cost {} distance {} m iters {} in {:.1}s",
        r.used_vehicles,
        sol.unserved.len(),
        r.cost,
        r.distance,
        sol.iterations,
        t.elapsed().as_secs_f64()
    );
}
