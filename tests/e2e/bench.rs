//! `sortfleet bench vrp` from the outside: an iteration budget gives the same plan on
//! every run, and bad budgets are refused with a message naming the flag.

use crate::{repo_root, sortfleet};

fn instance() -> String {
    repo_root()
        .join("crates/solver/tests/data/X-n101-k25.vrp")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The summary line without its seconds field (the one part a machine may change).
fn summary_without_time(stdout: &[u8]) -> String {
    let line = String::from_utf8_lossy(stdout);
    let mut words: Vec<&str> = line.split_whitespace().collect();
    if let Some(i) = words.iter().position(|w| *w == "time") {
        words.drain(i..=i + 1);
    }
    words.join(" ")
}

#[test]
fn an_iteration_budget_gives_the_same_plan_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let inst = instance();
    let mut runs = Vec::new();
    for k in 0..2 {
        let sol = dir.path().join(format!("run{k}.sol"));
        let o = sortfleet(&[
            "bench",
            "vrp",
            &inst,
            "--iterations",
            "3000",
            "--seed",
            "7",
            "--solution-out",
            sol.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let summary = summary_without_time(&o.stdout);
        assert!(summary.contains("iters 3000"), "{summary}");
        runs.push((summary, std::fs::read_to_string(&sol).unwrap()));
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].1.contains("Route #1:"), "{}", runs[0].1);
}

#[test]
fn bad_budgets_are_refused_naming_the_flag() {
    let inst = instance();
    for (flag, value) in [("--iterations", "0"), ("--time-limit", "0")] {
        let o = sortfleet(&["bench", "vrp", &inst, flag, value]);
        assert!(!o.status.success(), "{flag} {value} was accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(flag), "{flag}: {err}");
    }
}
