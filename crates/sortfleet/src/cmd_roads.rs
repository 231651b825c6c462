//! `sortfleet roads …`: import an OSM extract into a graph file, route between two points,
//! compute a matrix (optionally checked against plain Dijkstra). Each prints its phase times.

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use rand::{Rng, SeedableRng};
use sortfleet_model::LatLon;
use sortfleet_roads::{ImportOptions, RoadGraph, Router, Snap, VehicleProfile};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// The vehicle classes selectable on the command line.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Vehicle {
    /// 26 t rear-loader refuse truck, 3.6 m high.
    #[default]
    Truck,
    /// 3.5 t van licensed for hazardous waste.
    Van,
    /// Any truck-drivable road regardless of limits.
    Unrestricted,
}

impl Vehicle {
    /// The profile for this class.
    pub fn profile(self) -> VehicleProfile {
        match self {
            Vehicle::Truck => VehicleProfile::refuse_truck(),
            Vehicle::Van => VehicleProfile::hazmat_van(),
            Vehicle::Unrestricted => VehicleProfile::unrestricted(),
        }
    }
}

/// `sortfleet roads` subcommands.
#[derive(Debug, Subcommand)]
pub enum RoadsCmd {
    /// Import an .osm.pbf into a graph file (prepared once, loaded in milliseconds).
    Import {
        /// The OpenStreetMap extract.
        pbf: PathBuf,
        /// The graph file to write.
        #[arg(short, long)]
        output: PathBuf,
        /// No progress spinner.
        #[arg(long)]
        quiet: bool,
    },
    /// Fastest route between two coordinates.
    Route {
        /// Graph file (or an .osm.pbf, imported on the fly).
        #[arg(long)]
        graph: PathBuf,
        /// Start as LAT,LON.
        #[arg(long, value_parser = parse_latlon, allow_hyphen_values = true)]
        from: LatLon,
        /// End as LAT,LON.
        #[arg(long, value_parser = parse_latlon, allow_hyphen_values = true)]
        to: LatLon,
        /// Vehicle class.
        #[arg(long, value_enum, default_value_t)]
        vehicle: Vehicle,
        /// Maximum snapping distance in metres.
        #[arg(long, default_value_t = 500.0)]
        max_snap_m: f64,
        /// Print JSON (duration, distance, geometry) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Duration/distance matrix between points.
    Matrix {
        /// Graph file (or an .osm.pbf, imported on the fly).
        #[arg(long)]
        graph: PathBuf,
        /// File of points, one `LAT,LON` or `NAME,LAT,LON` per line (`#` comments).
        #[arg(long, conflicts_with = "random")]
        points: Option<PathBuf>,
        /// Use N random points inside the graph's bounding box.
        #[arg(long)]
        random: Option<usize>,
        /// Seed for --random and --check.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Compare K random entries with plain Dijkstra; exit 1 on any mismatch.
        #[arg(long)]
        check: Option<usize>,
        /// Vehicle class.
        #[arg(long, value_enum, default_value_t)]
        vehicle: Vehicle,
        /// Maximum snapping distance in metres.
        #[arg(long, default_value_t = 500.0)]
        max_snap_m: f64,
        /// Print the whole matrix as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn parse_latlon(s: &str) -> Result<LatLon, String> {
    let (a, b) = s.split_once(',').ok_or("expected LAT,LON")?;
    let p = LatLon::new(
        a.trim()
            .parse()
            .map_err(|e| format!("latitude {a:?}: {e}"))?,
        b.trim()
            .parse()
            .map_err(|e| format!("longitude {b:?}: {e}"))?,
    );
    if !p.is_valid() {
        return Err(format!("{s} is not a valid coordinate"));
    }
    Ok(p)
}

/// Loads a graph file, or imports an `.osm.pbf` when given one.
pub fn load_graph(path: &Path) -> anyhow::Result<RoadGraph> {
    let t = Instant::now();
    let g = if path.extension().is_some_and(|e| e == "pbf") {
        RoadGraph::import_pbf(path, &ImportOptions { progress: false })?.0
    } else {
        RoadGraph::load(path)?
    };
    eprintln!(
        "load      {:>9.3} s  ({} nodes, {} edges)",
        t.elapsed().as_secs_f64(),
        g.node_count(),
        g.edge_count()
    );
    Ok(g)
}

fn prepare(g: &RoadGraph, v: Vehicle) -> anyhow::Result<std::sync::Arc<Router>> {
    let t = Instant::now();
    let r = g.router(&v.profile())?;
    let s = r.summary();
    eprintln!(
        "prepare   {:>9.3} s  ({} kept, {} dropped nodes, {} turn-restriction copies, {} CH edges)",
        t.elapsed().as_secs_f64(),
        s.nodes,
        s.nodes_dropped,
        s.restriction_copies,
        s.ch_edges
    );
    Ok(r)
}

/// Reads `LAT,LON` or `NAME,LAT,LON` lines.
pub fn read_points(path: &Path) -> anyhow::Result<Vec<(String, LatLon)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let (name, lat, lon) = match f.as_slice() {
            [lat, lon] => (format!("line {}", i + 1), *lat, *lon),
            [name, lat, lon] => (name.to_string(), *lat, *lon),
            _ => bail!(
                "{}:{}: expected LAT,LON or NAME,LAT,LON",
                path.display(),
                i + 1
            ),
        };
        let p = parse_latlon(&format!("{lat},{lon}"))
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1))?;
        out.push((name, p));
    }
    Ok(out)
}

/// `n` random points in the bounding box that snap within `max_m`, deterministic per seed.
pub fn random_snaps(g: &RoadGraph, r: &Router, n: usize, seed: u64, max_m: f64) -> Vec<Snap> {
    let (lo, hi) = g.bbox();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    let mut tries = 0usize;
    while out.len() < n && tries < n * 1000 + 1000 {
        tries += 1;
        let p = LatLon::new(
            rng.random_range(lo.lat..=hi.lat),
            rng.random_range(lo.lon..=hi.lon),
        );
        if let Ok(s) = r.snap(p, max_m) {
            out.push(s);
        }
    }
    out
}

/// Runs a `roads` subcommand.
pub fn run(cmd: RoadsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        RoadsCmd::Import { pbf, output, quiet } => {
            let t = Instant::now();
            let (g, sum) = RoadGraph::import_pbf(&pbf, &ImportOptions { progress: !quiet })?;
            eprintln!("import    {:>9.3} s", t.elapsed().as_secs_f64());
            println!(
                "read {} nodes, {} ways, {} relations; {} candidate ways, {} used",
                sum.file_nodes,
                sum.file_ways,
                sum.file_relations,
                sum.candidate_ways,
                sum.used_ways
            );
            println!(
                "graph: {} nodes, {} edges ({} directed); restrictions: {} found, {} applied, {} skipped; {} missing node refs",
                sum.nodes,
                sum.edges,
                sum.directed_edges,
                sum.restrictions_found,
                sum.restrictions_applied,
                sum.restrictions_skipped,
                sum.missing_node_refs
            );
            let r = prepare(&g, Vehicle::Truck)?;
            println!(
                "truck: largest strongly connected component keeps {} nodes, drops {}",
                r.summary().nodes,
                r.summary().nodes_dropped
            );
            let t = Instant::now();
            g.save(&output)?;
            eprintln!("save      {:>9.3} s", t.elapsed().as_secs_f64());
            println!(
                "wrote {} (fingerprint {})",
                output.display(),
                g.fingerprint()
            );
            Ok(ExitCode::SUCCESS)
        }
        RoadsCmd::Route {
            graph,
            from,
            to,
            vehicle,
            max_snap_m,
            json,
        } => {
            let g = load_graph(&graph)?;
            let r = prepare(&g, vehicle)?;
            let t = Instant::now();
            let a = r.snap_named("--from", from, max_snap_m)?;
            let b = r.snap_named("--to", to, max_snap_m)?;
            eprintln!("snap      {:>9.6} s", t.elapsed().as_secs_f64());
            let t = Instant::now();
            let res = r.route(&a, &b);
            eprintln!("route     {:>9.6} s", t.elapsed().as_secs_f64());
            let Some(res) = res else {
                eprintln!("no route from {from:?} to {to:?}");
                return Ok(ExitCode::from(2));
            };
            if json {
                println!("{}", serde_json::to_string(&res)?);
            } else {
                println!(
                    "{} s, {} m, {} points (snapped {:.0} m and {:.0} m)",
                    res.duration_s,
                    res.distance_m,
                    res.geometry.len(),
                    a.dist_m,
                    b.dist_m
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RoadsCmd::Matrix {
            graph,
            points,
            random,
            seed,
            check,
            vehicle,
            max_snap_m,
            json,
        } => {
            let g = load_graph(&graph)?;
            let r = prepare(&g, vehicle)?;
            let t = Instant::now();
            let snaps: Vec<Snap> = match (points, random) {
                (Some(p), _) => read_points(&p)?
                    .into_iter()
                    .map(|(name, p)| r.snap_named(&name, p, max_snap_m))
                    .collect::<Result<_, _>>()?,
                (None, Some(n)) => random_snaps(&g, &r, n, seed, max_snap_m),
                (None, None) => bail!("give --points FILE or --random N"),
            };
            eprintln!(
                "snap      {:>9.3} s  ({} points)",
                t.elapsed().as_secs_f64(),
                snaps.len()
            );
            let t = Instant::now();
            let m = r.matrix(&snaps, &snaps);
            eprintln!(
                "matrix    {:>9.3} s  ({}×{})",
                t.elapsed().as_secs_f64(),
                m.n_src,
                m.n_tgt
            );
            let reachable = m
                .duration_s
                .iter()
                .filter(|d| **d != sortfleet_roads::UNREACHABLE)
                .count();
            if json {
                println!("{}", serde_json::to_string(&m)?);
            } else {
                println!("{} of {} pairs reachable", reachable, m.duration_s.len());
            }
            if let Some(k) = check {
                let t = Instant::now();
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed);
                let mut bad = 0;
                for _ in 0..k {
                    if snaps.is_empty() {
                        break;
                    }
                    let (i, j) = (
                        rng.random_range(0..snaps.len()),
                        rng.random_range(0..snaps.len()),
                    );
                    let want = r.dijkstra(&snaps[i], &snaps[j]);
                    if m.get(i, j) != want {
                        bad += 1;
                        eprintln!(
                            "mismatch {i}→{j}: matrix {:?}, dijkstra {:?}",
                            m.get(i, j),
                            want
                        );
                    }
                }
                eprintln!(
                    "check     {:>9.3} s  ({k} entries vs Dijkstra, {bad} mismatches)",
                    t.elapsed().as_secs_f64()
                );
                if bad > 0 {
                    return Ok(ExitCode::FAILURE);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
