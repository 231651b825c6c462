//! `sortfleet bench roads`: the road bars measured on a graph (import, preparation,
//! 1000×1000 matrix, one route with geometry, memory), in CPU seconds where the bar is CPU.
//!
//! CPU time is the process's user+system time from `/proc/self/stat` (all threads, so a
//! matrix on two cores counts both); wall time is printed next to it.

use crate::cmd_roads::{Vehicle, random_snaps};
use clap::Parser;
use sortfleet_roads::{ImportOptions, RoadGraph};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `sortfleet bench roads`.
#[derive(Debug, Parser)]
pub struct Args {
    /// Graph file or .osm.pbf (a .pbf also measures the import).
    #[arg(long, required_unless_present = "synthetic")]
    pub graph: Option<PathBuf>,
    /// Instead of a file, a synthetic grid city with about N nodes (e.g. 1000000).
    #[arg(long)]
    pub synthetic: Option<usize>,
    /// Number of random points for the matrix (N×N).
    #[arg(long, default_value_t = 1000)]
    pub points: usize,
    /// Number of single routes to time.
    #[arg(long, default_value_t = 1000)]
    pub routes: usize,
    /// Matrix repetitions (mean CPU and best wall time are reported).
    #[arg(long, default_value_t = 10)]
    pub repeat: usize,
    /// Seed for the random points.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Vehicle class.
    #[arg(long, value_enum, default_value_t)]
    pub vehicle: Vehicle,
    /// Dijkstra checks of random matrix entries (0 = none).
    #[arg(long, default_value_t = 1000)]
    pub check: usize,
}

/// Process CPU seconds (user + system, all threads).
pub fn cpu_seconds() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the ")" of the command name: utime and stime are fields 14 and 15.
    let Some(rest) = s.rsplit_once(')').map(|x| x.1) else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(f64::NAN)
        + f.get(12)
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
    ticks / 100.0
}

/// Peak and current resident memory in MB from `/proc/self/status`.
pub fn rss_mb() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (get("VmHWM:"), get("VmRSS:"))
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (c, w) = (cpu_seconds(), Instant::now());
    let r = f();
    (r, cpu_seconds() - c, w.elapsed().as_secs_f64())
}

/// Runs the benchmark and prints one line per measurement.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (g, cpu, wall) = match (&args.graph, args.synthetic) {
        (_, Some(n)) => {
            let side = (n as f64).sqrt().ceil() as usize;
            let (g, c, w) = timed(|| sortfleet_roads::synthetic::grid_city(side, args.seed));
            println!("synthetic grid city {side}×{side} built (OSM → graph)");
            (g?, c, w)
        }
        (Some(p), None) if p.extension().is_some_and(|e| e == "pbf") => {
            let (g, c, w) = timed(|| RoadGraph::import_pbf(p, &ImportOptions::default()));
            (g?.0, c, w)
        }
        (Some(p), None) => {
            let (g, c, w) = timed(|| RoadGraph::load(p));
            (g?, c, w)
        }
        (None, None) => anyhow::bail!("give --graph or --synthetic"),
    };
    println!(
        "graph            {:>8} nodes {:>8} edges",
        g.node_count(),
        g.edge_count()
    );
    println!("import/load      cpu {cpu:>8.3} s   wall {wall:>8.3} s");
    let (r, cpu, wall) = timed(|| g.router(&args.vehicle.profile()));
    let r = r?;
    let s = r.summary();
    println!(
        "preparation      cpu {cpu:>8.3} s   wall {wall:>8.3} s   ({} routing nodes, {} arcs, {} CH edges, {} restriction copies)",
        s.routing_nodes, s.routing_arcs, s.ch_edges, s.restriction_copies
    );
    let snaps = random_snaps(&g, &r, args.points, args.seed, 500.0);
    // The CPU clock ticks in 10 ms: report the mean over all repetitions, and the best wall.
    let reps = args.repeat.max(1);
    let (mut cpu_sum, mut best_wall) = (0.0, f64::INFINITY);
    let mut m = None;
    for _ in 0..reps {
        let (mm, cpu, wall) = timed(|| r.matrix(&snaps, &snaps));
        cpu_sum += cpu;
        best_wall = best_wall.min(wall);
        m = Some(mm);
    }
    let m = m.expect("at least one repetition");
    println!(
        "matrix {}×{}   cpu {:>8.3} s   wall {:>8.3} s   (cpu mean of {reps}, best wall)",
        m.n_src,
        m.n_tgt,
        cpu_sum / reps as f64,
        best_wall,
    );
    let n = snaps.len().max(1);
    let (pts, cpu, wall) = timed(|| {
        (0..args.routes)
            .map(|k| {
                r.route(&snaps[k % n], &snaps[(k * 7 + 3) % n])
                    .map_or(0, |x| x.geometry.len())
            })
            .sum::<usize>()
    });
    let per = args.routes.max(1) as f64;
    println!(
        "route+geometry   cpu {:>8.3} ms  wall {:>8.3} ms per route ({} routes, {} points)",
        cpu / per * 1e3,
        wall / per * 1e3,
        args.routes,
        pts
    );
    let mut bad = 0;
    if args.check > 0 {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed ^ 0xc4ec);
        for _ in 0..args.check {
            let (i, j) = (rng.random_range(0..n), rng.random_range(0..n));
            if snaps.len() > i.max(j) && m.get(i, j) != r.dijkstra(&snaps[i], &snaps[j]) {
                bad += 1;
            }
        }
        println!(
            "check vs Dijkstra  {} entries, {bad} mismatches",
            args.check
        );
    }
    let (peak, cur) = rss_mb();
    println!(
        "memory           rss {cur:.1} MB, peak {peak:.1} MB ({:.0} bytes/node incl. the process)",
        cur * 1048576.0 / g.node_count().max(1) as f64
    );
    Ok(if bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
