//! `sortfleet serve`: the gRPC service over a SQLite database.
//!
//! Wires the pieces together: configuration file (tokens, TLS, ledger key), the
//! application core with the planning pipeline as its [`PlanSource`], an optional road
//! network loaded at start, and the tonic server. The bound address is printed on
//! stdout (`listening on ADDR`) so that `--listen 127.0.0.1:0` works for scripts and
//! tests. Ctrl-C or SIGTERM stops accepting, lets calls finish and signs a final
//! ledger checkpoint.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sortfleet_dispatch::app::{
    App, AppConfig, JobPhase, PlanOutput, PlanProgress as AppProgress, PlanRequest, PlanSource,
    ReplanChange, RoadNetwork, RoadSummary,
};
use sortfleet_dispatch::planning::{self, Change, FreezeUntil, PlanParams};
use sortfleet_ledger::{CheckpointKey, Durability};
use sortfleet_model::Scenario;
use sortfleet_roads::{ImportOptions, RoadGraph};
use sortfleet_server::{Auth, ServerConfig, TlsFiles};

/// Arguments of `sortfleet serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// SQLite database (created if missing).
    #[arg(long, default_value = "sortfleet.db")]
    pub db: PathBuf,
    /// Address to listen on; port 0 picks a free port (the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub listen: String,
    /// Configuration file (TOML, or JSON by extension): tokens, TLS, ledger key.
    #[arg(long)]
    pub config: PathBuf,
    /// Road graph file (`sortfleet roads import`) to plan on.
    #[arg(long, conflicts_with = "osm")]
    pub graph: Option<PathBuf>,
    /// OpenStreetMap extract (`.osm.pbf`) imported at start to plan on.
    #[arg(long)]
    pub osm: Option<PathBuf>,
    /// Plan on a synthetic grid city of SIDE×SIDE junctions (80 m apart, south-west
    /// corner at -30.05, -51.2) instead of a real network: for demos and benchmarks.
    #[arg(long, value_name = "SIDE", conflicts_with_all = ["graph", "osm"])]
    pub synthetic_city: Option<usize>,
    /// Also serve the live map page over plain HTTP on this address (e.g.
    /// 127.0.0.1:8080): routes, facilities and incidents, updated as events arrive.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// TLS certificate chain (PEM); overrides the configuration file.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// The planning pipeline behind the application core.
struct Planner;

fn load_graph(path: &Path) -> Result<RoadGraph, String> {
    if path.extension().is_some_and(|e| e == "pbf") {
        RoadGraph::import_pbf(path, &ImportOptions { progress: false })
            .map(|(g, _)| g)
            .map_err(|e| e.to_string())
    } else {
        RoadGraph::load(path).map_err(|e| e.to_string())
    }
}

impl PlanSource for Planner {
    fn load_roads(&self, path: &Path, scenario: &Scenario) -> Result<RoadNetwork, String> {
        let t = std::time::Instant::now();
        let g = load_graph(path)?;
        // Snap every known location with the first vehicle's profile, so the dispatcher
        // sees at once which points are off the network.
        let mut snapped = 0u32;
        let mut unsnapped = Vec::new();
        if let Some(v) = scenario.vehicles.first() {
            let router = g
                .router(&planning::network::profile_of(v))
                .map_err(|e| e.to_string())?;
            let places = scenario
                .depots
                .iter()
                .map(|d| (d.id.0.clone(), d.location))
                .chain(
                    scenario
                        .facilities
                        .iter()
                        .map(|f| (f.id.0.clone(), f.location)),
                )
                .chain(scenario.points.iter().map(|p| (p.id.0.clone(), p.location)));
            for (id, pos) in places {
                if router.snap(pos, planning::network::MAX_SNAP_M).is_ok() {
                    snapped += 1;
                } else {
                    unsnapped.push(id);
                }
            }
        }
        let summary = RoadSummary {
            node_count: g.node_count() as u64,
            edge_count: g.edge_count() as u64,
            fingerprint: g.fingerprint(),
            snapped,
            unsnapped_ids: unsnapped,
            load_ms: t.elapsed().as_millis() as i64,
        };
        Ok(RoadNetwork {
            summary,
            graph: Arc::new(g),
        })
    }

    fn plan(
        &self,
        req: &PlanRequest,
        progress: &(dyn Fn(AppProgress) + Sync),
    ) -> Result<PlanOutput, String> {
        let Some(net) = &req.roads else {
            return Err("no road network loaded: start the server with --graph/--osm or call LoadRoadNetwork".into());
        };
        let graph = net
            .graph
            .downcast_ref::<RoadGraph>()
            .ok_or("the loaded road network is not a sortfleet road graph")?;
        let params = PlanParams {
            time_limit: req.time_limit,
            seed: req.seed,
            ..PlanParams::default()
        };
        let best = std::sync::Mutex::new(std::collections::BTreeMap::new());
        let cb = |p: planning::PlanProgress| {
            let update = match p {
                planning::PlanProgress::Stage(_) => AppProgress {
                    phase: JobPhase::Matrix,
                    best_cost_ct: 0,
                    unserved: 0,
                    iterations: 0,
                },
                planning::PlanProgress::Search {
                    stream,
                    cost_ct,
                    unserved,
                    ..
                } => {
                    // Streams are searched in parallel: report the sum of their bests.
                    let mut b = best.lock().unwrap_or_else(|p| p.into_inner());
                    b.insert(stream, (cost_ct, unserved));
                    AppProgress {
                        phase: JobPhase::Search,
                        best_cost_ct: b.values().map(|(c, _)| c).sum(),
                        unserved: b.values().map(|(_, u)| *u as u32).sum(),
                        iterations: 0,
                    }
                }
                planning::PlanProgress::StreamDone { .. } => return,
            };
            progress(update);
        };
        let result = match &req.previous {
            None => planning::plan_day(&req.scenario, graph, &params, &cb),
            Some(prev) => {
                let changes = replan_changes(req, prev);
                planning::replan(&req.scenario, graph, prev, &changes, &params, &cb)
            }
        };
        let outcome = result.map_err(|e| e.to_string())?;
        Ok(PlanOutput {
            plan: outcome.plan,
            road_fingerprint: Some(net.summary.fingerprint.clone()),
        })
    }
}

fn replan_changes(req: &PlanRequest, prev: &sortfleet_model::Plan) -> Vec<Change> {
    let mut out = Vec::new();
    for c in &req.changes {
        match c {
            ReplanChange::FreezeBefore { at_s } => {
                out.extend(prev.routes.iter().map(|r| Change::FreezeDriven {
                    vehicle: r.vehicle.clone(),
                    until: FreezeUntil::Time(*at_s),
                }));
            }
            ReplanChange::AddUrgentPickup { point } => {
                if let Some(p) = req.scenario.points.iter().find(|p| &p.id == point) {
                    out.push(Change::AddUrgentPickup { point: p.clone() });
                }
            }
            ReplanChange::VehicleUnavailable { vehicle, from_s } => {
                out.push(Change::VehicleUnavailable {
                    vehicle: vehicle.clone(),
                    at: *from_s,
                });
            }
        }
    }
    out
}

fn app_config(args: &ServeArgs, cfg: &ServerConfig) -> anyhow::Result<AppConfig> {
    let mut ac = AppConfig::new(&args.db);
    if let Some(k) = &cfg.ledger.signing_key {
        let key = CheckpointKey::from_file(k)
            .with_context(|| format!("ledger signing key {}", k.display()))?;
        ac.trusted_keys = vec![key.verifying_key()];
        ac.signing_key = Some(key);
    }
    if let Some(n) = cfg.ledger.checkpoint_interval {
        ac.checkpoint_interval = n.max(1);
    }
    ac.hash_algorithm = cfg.ledger.hash_algorithm()?;
    if let Some(o) = cfg.service.utc_offset_s {
        ac.utc_offset_s = o;
    }
    if let Some(h) = cfg.service.heartbeat_s {
        ac.heartbeat = Duration::from_secs(h.max(1));
    }
    if cfg.service.durability.as_deref() == Some("normal") {
        ac.durability = Durability::Normal;
    }
    Ok(ac)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: no new calls, finishing running ones");
}

/// Runs `sortfleet serve` until Ctrl-C / SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let cfg = ServerConfig::load(&args.config)?;
    if cfg.tokens.is_empty() {
        anyhow::bail!(
            "{}: no [[tokens]]: every call would be refused",
            args.config.display()
        );
    }
    let tls_files = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(TlsFiles {
            cert: c.clone(),
            key: k.clone(),
        }),
        _ => cfg.tls.clone(),
    };
    let tls = tls_files
        .as_ref()
        .map(sortfleet_server::tls_config)
        .transpose()?;
    let app_cfg = app_config(&args, &cfg)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let app = App::open(app_cfg, Arc::new(Planner))
            .await
            .with_context(|| format!("opening {}", args.db.display()))?;
        let synthetic = match args.synthetic_city {
            Some(side) => {
                let side = side.clamp(2, 2000);
                let path = args.db.with_extension(format!("city-{side}.graph"));
                if !path.exists() {
                    let g = tokio::task::spawn_blocking(move || {
                        sortfleet_roads::synthetic::grid_city(side, 1)
                    })
                    .await??;
                    g.save(&path)?;
                }
                Some(path)
            }
            None => None,
        };
        if let Some(g) = args
            .graph
            .as_ref()
            .or(args.osm.as_ref())
            .or(synthetic.as_ref())
        {
            let s = app
                .load_road_network(g)
                .await
                .with_context(|| format!("loading road network {}", g.display()))?;
            tracing::info!(
                nodes = s.node_count,
                edges = s.edge_count,
                snapped = s.snapped,
                unsnapped = s.unsnapped_ids.len(),
                "road network loaded"
            );
        }
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr()?;
        let routes = sortfleet_server::routes(app.clone(), Auth::new(&cfg.tokens)).await?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "listening on {addr} ({})",
                if tls.is_some() { "tls" } else { "plaintext" }
            )?;
            out.flush()?;
        }
        if let Some(http) = &args.http {
            let http_listener = tokio::net::TcpListener::bind(http)
                .await
                .with_context(|| format!("binding --http {http}"))?;
            let http_addr = http_listener.local_addr()?;
            let map = crate::live_map::router(app.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(http_listener, map).await {
                    tracing::error!(error = %e, "live map server stopped");
                }
            });
            // Ignore a closed stdout: the map must not take the service down.
            let _ = writeln!(std::io::stdout(), "live map on http://{http_addr}/");
        }
        sortfleet_server::serve_with(routes, listener, tls, shutdown_signal()).await?;
        match app.checkpoint_now().await {
            Ok(Some(seq)) => tracing::info!(seq, "final ledger checkpoint signed"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "final checkpoint failed"),
        }
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}
