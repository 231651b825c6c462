//! Solver micro-benchmarks with fixed seeds: one ruin-and-recreate step per operator of
//! the registry, and a fixed-iteration solve of a shipped X instance.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use sortfleet_solver::io::read_instance;
use sortfleet_solver::operators;
use sortfleet_solver::rng::Rng;
use sortfleet_solver::search::state::{Inst, SearchState};
use sortfleet_solver::{SolveParams, StopCriteria, solve};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn bench_operators(c: &mut Criterion) {
    let inst = read_instance(&data("X-n101-k25.vrp")).expect("instance");
    let fast = Inst::new(&inst.data);
    let mut rng = Rng::new(7);
    let mut base = SearchState::new(&fast);
    let order = base.removed.clone();
    base.recreate(&fast, &order, &mut rng);
    for (op, _) in operators::all() {
        c.bench_function(&format!("ruin_recreate/{}", op.name()), |b| {
            let mut state = base.clone();
            let mut rng = Rng::new(11);
            b.iter(|| {
                state.begin();
                op.ruin(&fast, &mut state, &mut rng);
                let removed = state.removed.clone();
                state.recreate(&fast, &removed, &mut rng);
                state.rollback(&fast);
            })
        });
    }
}

fn bench_solve(c: &mut Criterion) {
    let inst = read_instance(&data("X-n101-k25.vrp")).expect("instance");
    let params = SolveParams {
        seed: 1,
        threads: 1,
        stop: StopCriteria {
            max_iterations: Some(2000),
            ..Default::default()
        },
        cancel: None,
    };
    let mut g = c.benchmark_group("solve");
    g.sample_size(10);
    g.bench_function("X-n101-k25/2000it", |b| {
        b.iter(|| solve(&inst.data, &params, &|_| {}))
    });
    g.finish();
}

mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, bench_operators, bench_solve);
}
criterion_main!(group::benches);
