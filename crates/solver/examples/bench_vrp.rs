//! `cargo run --release -p sortfleet-solver --example bench_vrp -- FILE [SECONDS] [SEED] [THREADS]`
use std::time::Duration;

use sortfleet_solver::{SolveParams, StopCriteria, bench};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&args[1]);
    let secs: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let threads: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let params = SolveParams {
        seed,
        threads,
        stop: StopCriteria {
            time_limit: Some(Duration::from_secs_f64(secs)),
            ..Default::default()
        },
        cancel: None,
    };
    match bench::run(path, &params, None) {
        Ok(r) => println!("{}", r.summary()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
