//! `sortfleet demo`: a real city's whole day in one command.
//!
//! citygen turns an OSM extract into a scenario; the real gRPC service starts
//! in-process on 127.0.0.1; a dispatcher client uploads the master data, has the day
//! planned (watching the job's progress) and publishes it; one simulated terminal per
//! truck subscribes to its assignments and reports its day of events in accelerated
//! time, while a regulator client prints incidents as they arrive. Everything goes
//! through the wire with the role's bearer token, so the demo exercises exactly what a
//! real deployment would.
//!
//! The simulator ([`sim`]) is pure and seeded and states the incidents each injected
//! misbehaviour must raise, so the demo ends with an exact "detected vs injected"
//! comparison and exits non-zero when they differ.

mod output;
pub mod sim;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sortfleet_dispatch::app::{App, AppConfig, MasterBatch, PipelineSource};
use sortfleet_ledger::{CheckpointKey, Durability};
use sortfleet_model::incident::{Incident, RuleId};
use sortfleet_model::{Plan, VehicleId};
use sortfleet_proto::v1;
use sortfleet_proto::v1::dispatch_service_client::DispatchServiceClient;
use sortfleet_proto::v1::supervision_service_client::SupervisionServiceClient;
use sortfleet_proto::v1::terminal_service_client::TerminalServiceClient;
use sortfleet_server::convert::{FromProto, ToProto, date_to_proto};
use sortfleet_server::{Auth, Role, TokenEntry};
use tokio::sync::oneshot;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::Channel;

use sim::{SimDay, SimOptions, TerminalDay};

/// Arguments of `sortfleet demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// OpenStreetMap extract of the city.
    #[arg(long, default_value = "data/osm/porto-alegre.osm.pbf")]
    pub osm: PathBuf,
    /// Output folder (scenario, plan, incidents, scorecard, map, database).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Seed of the city synthesis, the search and the simulated misbehaviour.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of trucks (0..=1) that misbehave once during the day.
    #[arg(long, default_value_t = 0.3)]
    pub misbehaviour: f64,
    /// Planning time budget, seconds.
    #[arg(long, default_value_t = 20)]
    pub time_limit: u64,
    /// Cap on collection points synthesised for the city.
    #[arg(long, default_value_t = 400)]
    pub max_points: usize,
    /// Wall-clock seconds the simulated day takes (accelerated time).
    #[arg(long, default_value_t = 8.0)]
    pub day_seconds: f64,
}

/// Runs the demo; exit status 1 when detected and injected incidents differ or the
/// ledger does not verify.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.misbehaviour) {
        bail!("--misbehaviour must be between 0 and 1");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(run_async(args))
}

/// Wall-clock seconds per phase, in order.
#[derive(Default)]
struct Phases(Vec<(&'static str, f64)>);

impl Phases {
    fn done(&mut self, name: &'static str, since: Instant) -> Instant {
        self.0.push((name, since.elapsed().as_secs_f64()));
        Instant::now()
    }
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    fn new(token: &str) -> anyhow::Result<Self> {
        Ok(Self(format!("Bearer {token}").parse().context("token")?))
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

const DISPATCHER_TOKEN: &str = "demo-dispatcher";
const REGULATOR_TOKEN: &str = "demo-regulator";
/// A day of the default city writes ~9,000 records: about a dozen signed checkpoints.
const DEMO_CHECKPOINT_INTERVAL: u64 = 750;

fn terminal_token(v: &VehicleId) -> String {
    format!("demo-terminal-{v}")
}

async fn run_async(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let total = Instant::now();
    let mut phases = Phases::default();
    let mut t = Instant::now();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let osm = std::fs::canonicalize(&args.osm)
        .with_context(|| format!("reading the OSM extract {}", args.osm.display()))?;

    // 1. The city.
    println!("== city: {}", osm.display());
    let opts = sortfleet_citygen::CityGenOptions {
        seed: args.seed,
        max_points: args.max_points,
        ..Default::default()
    };
    let osm2 = osm.clone();
    let (scenario, summary) =
        tokio::task::spawn_blocking(move || sortfleet_citygen::synthesize(&osm2, &opts))
            .await?
            .context("synthesising the scenario")?;
    output::print_city(&scenario, &summary);
    let scenario_path = args.out.join("scenario.json");
    std::fs::write(&scenario_path, serde_json::to_string_pretty(&scenario)?)?;
    println!("   wrote {}", scenario_path.display());
    t = phases.done("city synthesis", t);

    // 2. The service, in-process, on an ephemeral port.
    let db = args.out.join("demo.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    let thresholds = demo_thresholds();
    let mut cfg = AppConfig::new(&db);
    cfg.durability = Durability::Normal;
    cfg.thresholds = thresholds.clone();
    cfg.default_time_limit = Duration::from_secs(args.time_limit);
    // A key made for this run signs the checkpoints, so the verification at the end
    // checks signatures as well as the chain; the seed is kept next to the database.
    let key = CheckpointKey::from_seed(rand::random::<[u8; 32]>());
    let key_file = args.out.join("ledger.key");
    std::fs::write(&key_file, format!("{}\n", key.seed_hex()))
        .with_context(|| format!("writing {}", key_file.display()))?;
    cfg.trusted_keys = vec![key.verifying_key()];
    cfg.signing_key = Some(key);
    cfg.checkpoint_interval = DEMO_CHECKPOINT_INTERVAL;
    let app = App::open(cfg, Arc::new(PipelineSource::default()))
        .await
        .context("opening the application core")?;
    let mut tokens = vec![
        TokenEntry {
            token: DISPATCHER_TOKEN.into(),
            name: Some("demo dispatcher".into()),
            role: Role::Dispatcher,
        },
        TokenEntry {
            token: REGULATOR_TOKEN.into(),
            name: Some("demo regulator".into()),
            role: Role::Regulator,
        },
    ];
    tokens.extend(scenario.vehicles.iter().map(|v| TokenEntry {
        token: terminal_token(&v.id),
        name: Some(format!("terminal {}", v.id)),
        role: Role::Terminal {
            vehicle_id: v.id.to_string(),
        },
    }));
    let routes = sortfleet_server::routes(app.clone(), Auth::new(&tokens)).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(sortfleet_server::serve_with(
        routes,
        listener,
        None,
        async {
            let _ = stop_rx.await;
        },
    ));
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await
        .context("connecting to the in-process service")?;
    println!("== service: gRPC on {addr} (database {})", db.display());

    // 3. The dispatcher: master data, road network, plan, publish.
    let mut dispatch =
        DispatchServiceClient::with_interceptor(channel.clone(), Bearer::new(DISPATCHER_TOKEN)?)
            .max_decoding_message_size(256 << 20)
            .max_encoding_message_size(256 << 20);
    let master = MasterBatch {
        depots: scenario.depots.clone(),
        facilities: scenario.facilities.clone(),
        vehicles: scenario.vehicles.clone(),
        points: scenario.points.clone(),
    };
    let up = dispatch
        .upsert_master_data(ToProto::<v1::UpsertMasterDataRequest>::to_proto(&master))
        .await
        .context("UpsertMasterData")?
        .into_inner();
    println!(
        "   master data: {} changed, {} unchanged",
        up.changed_count, up.unchanged_count
    );
    let roads = dispatch
        .load_road_network(v1::LoadRoadNetworkRequest {
            path: osm.display().to_string(),
        })
        .await
        .context("LoadRoadNetwork")?
        .into_inner();
    println!(
        "   road network: {} nodes, {} edges, {} locations snapped, {} unsnapped ({} ms)",
        roads.node_count,
        roads.edge_count,
        roads.snapped_count,
        roads.unsnapped_ids.len(),
        roads.load_time_ms
    );
    t = phases.done("service start + master data + roads", t);

    println!("== plan: {} s budget", args.time_limit);
    let job = dispatch
        .plan_day(v1::PlanDayRequest {
            service_date: date_to_proto(scenario.date),
            time_limit_s: args.time_limit as i64,
            seed: args.seed,
            streams: Vec::new(),
            vehicle_ids: Vec::new(),
        })
        .await
        .context("PlanDay")?
        .into_inner()
        .job_id;
    let mut watch = dispatch
        .watch_plan_job(v1::WatchPlanJobRequest {
            job_id: job.clone(),
        })
        .await
        .context("WatchPlanJob")?
        .into_inner();
    let mut plan_id = None;
    let mut last_line = Instant::now() - Duration::from_secs(10);
    while let Some(u) = watch.message().await.context("plan job stream")? {
        let phase = v1::PlanJobPhase::try_from(u.phase).unwrap_or(v1::PlanJobPhase::Unspecified);
        if last_line.elapsed() >= Duration::from_secs(2) || u.outcome.is_some() {
            println!(
                "   {:>5.1} s  {:<10} best {:>10}  unserved {:>4}  iterations {}",
                u.elapsed_ms as f64 / 1000.0,
                phase.as_str_name().trim_start_matches("PLAN_JOB_PHASE_"),
                output::money(u.best_cost_cents),
                u.unserved_count,
                u.iterations
            );
            last_line = Instant::now();
        }
        match u.outcome {
            Some(v1::plan_job_update::Outcome::PlanId(id)) => plan_id = Some(id),
            Some(v1::plan_job_update::Outcome::Error(e)) => bail!("planning failed: {e}"),
            None => {}
        }
    }
    let plan_id = plan_id.context("the planning job ended without a plan")?;
    let wire_plan = dispatch
        .get_plan(v1::GetPlanRequest {
            plan_id: plan_id.clone(),
            include_geometry: true,
        })
        .await
        .context("GetPlan")?
        .into_inner();
    let plan = Plan::from_proto(wire_plan, "plan").context("the service's plan")?;
    output::print_plan(&scenario, &plan);
    std::fs::write(
        args.out.join("plan.json"),
        serde_json::to_string_pretty(&plan)?,
    )?;
    std::fs::write(
        args.out.join("plan.geojson"),
        serde_json::to_string(&sortfleet_dispatch::planning::plan_geojson(
            &scenario, &plan,
        ))?,
    )?;
    let published = dispatch
        .publish_plan(v1::PublishPlanRequest {
            plan_id: plan_id.clone(),
        })
        .await
        .context("PublishPlan")?
        .into_inner();
    println!(
        "   published plan {plan_id} to {} vehicles",
        published.vehicle_count
    );
    t = phases.done("planning + publishing", t);

    // 4. The day: a regulator watching, one terminal per truck.
    let simulated = sim::simulate_day(
        &scenario,
        &plan,
        &SimOptions {
            seed: args.seed,
            misbehaviour: args.misbehaviour,
            thresholds,
            ..Default::default()
        },
    )?;
    println!(
        "== day: {} trucks, {} events, {} injected misbehaviours",
        simulated.terminals.len(),
        simulated.event_count(),
        simulated.injections().count()
    );
    for inj in simulated.injections() {
        println!(
            "   inject {:<18} {:<8} for {:<19} {}",
            inj.kind.as_str(),
            inj.vehicle,
            inj.kind.intended_rule().as_str(),
            inj.detail
        );
    }
    let incidents: Arc<Mutex<Vec<Incident>>> = Arc::default();
    let regulator = {
        let mut sup = SupervisionServiceClient::with_interceptor(
            channel.clone(),
            Bearer::new(REGULATOR_TOKEN)?,
        );
        let mut stream = sup
            .subscribe_incidents(v1::SubscribeIncidentsRequest {
                filter: None,
                after_seq: 0,
            })
            .await
            .context("SubscribeIncidents")?
            .into_inner();
        let sink = incidents.clone();
        tokio::spawn(async move {
            while let Ok(Some(m)) = stream.message().await {
                if let Some(v1::incident_stream_message::Body::Incident(i)) = m.body {
                    match Incident::from_proto(i, "incident") {
                        Ok(i) => {
                            println!(
                                "   ! {:<22} {:<8} {:<8} {}",
                                i.rule.as_str(),
                                i.severity.as_str(),
                                i.vehicle,
                                i.message
                            );
                            sink.lock().map(|mut v| v.push(i)).ok();
                        }
                        Err(e) => eprintln!("regulator: bad incident: {e}"),
                    }
                }
            }
        })
    };
    let span = day_span(&simulated);
    let speedup = ((span.1 - span.0) as f64 / 1000.0 / args.day_seconds.max(0.1)).max(1.0);
    println!(
        "   accelerated {speedup:.0}x: the day runs in about {:.0} s",
        args.day_seconds
    );
    let mut tasks = Vec::new();
    for term in simulated.terminals.iter().cloned() {
        let ch = channel.clone();
        tasks.push(tokio::spawn(async move {
            run_terminal(ch, term, span.0, speedup).await
        }));
    }
    let mut warnings = 0usize;
    for task in tasks {
        warnings += task.await.context("terminal task")??;
    }
    // Every event is acknowledged, so every incident is committed; give the fan-out a
    // moment to reach the regulator's stream.
    let want: usize = simulated.expected().values().sum();
    let settle = Instant::now();
    loop {
        let n = incidents.lock().map(|v| v.len()).unwrap_or(0);
        if (n >= want && settle.elapsed() > Duration::from_millis(500))
            || settle.elapsed() > Duration::from_secs(5)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    regulator.abort();
    let incidents: Vec<Incident> = incidents.lock().map(|v| v.clone()).unwrap_or_default();
    println!(
        "   terminals done: {} warnings pushed to drivers, {} incidents to the regulator",
        warnings,
        incidents.len()
    );
    t = phases.done("simulated day over gRPC", t);

    // 5. Review: scorecard, ledger, files.
    let mut sup =
        SupervisionServiceClient::with_interceptor(channel.clone(), Bearer::new(REGULATOR_TOKEN)?);
    let rows = sup
        .scorecard(v1::ScorecardRequest {
            from_date: date_to_proto(scenario.date),
            to_date: date_to_proto(scenario.date),
            district_ids: Vec::new(),
            streams: Vec::new(),
        })
        .await
        .context("Scorecard")?
        .into_inner()
        .rows;
    output::print_scorecard(&rows);
    let verify = sup
        .verify_ledger(v1::VerifyLedgerRequest {})
        .await
        .context("VerifyLedger")?
        .into_inner();
    println!(
        "== ledger: {} — {} records, {} checkpoints, head {}",
        if verify.ok { "VERIFIED" } else { "BROKEN" },
        verify.record_count,
        verify.checkpoint_count,
        verify.head_hash
    );
    if let Some(bad) = &verify.first_bad {
        println!("   first bad record {}: {}", bad.ledger_seq, bad.detail);
    }
    output::write_incidents_csv(&args.out.join("incidents.csv"), &incidents)?;
    output::write_scorecard_csv(&args.out.join("scorecard.csv"), &rows)?;
    let segments: Vec<[sortfleet_model::LatLon; 2]> = app
        .road_network()
        .and_then(|n| n.graph.downcast::<sortfleet_roads::RoadGraph>().ok())
        .map(|g| g.segments().collect())
        .unwrap_or_default();
    let title = format!("sortfleet demo — {} {}", scenario.name, scenario.date);
    let map = sortfleet_dispatch::map::MapData::build(
        &title,
        &scenario,
        Some(&plan),
        &incidents,
        segments,
    );
    std::fs::write(args.out.join("map.html"), map.to_html())?;
    println!(
        "   wrote {}/{{scenario.json, plan.json, plan.geojson, incidents.csv, scorecard.csv, map.html, ledger.key}}",
        args.out.display()
    );
    phases.done("scorecard + ledger + files", t);

    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;

    // 6. The figures.
    let ok = output::print_figures(
        &phases.0,
        total.elapsed().as_secs_f64(),
        &plan,
        &simulated,
        &detected(&incidents),
    );
    Ok(if ok && verify.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The rule thresholds of the demo's service.
///
/// The depot geofence is the yard gate (40 m), not the default 150 m: synthesised
/// collection points can sit on the street just outside a depot, and a loaded truck
/// serving them has not "returned to the depot". Likewise a stop at another stream's
/// point means standing at its bins (15 m), not serving a neighbouring point 25 m away.
fn demo_thresholds() -> sortfleet_rules::Thresholds {
    sortfleet_rules::Thresholds {
        depot_radius_m: 40.0,
        stop_radius_m: 15.0,
        ..Default::default()
    }
}

/// Incidents counted per (rule, vehicle), the shape of [`SimDay::expected`].
fn detected(incidents: &[Incident]) -> BTreeMap<(RuleId, VehicleId), usize> {
    let mut m = BTreeMap::new();
    for i in incidents {
        *m.entry((i.rule, i.vehicle.clone())).or_default() += 1;
    }
    m
}

/// First and last event time of the day, unix ms.
fn day_span(d: &SimDay) -> (i64, i64) {
    let times = d
        .terminals
        .iter()
        .flat_map(|t| t.events.iter().map(|e| e.occurred_at));
    let lo = times.clone().min().unwrap_or(0);
    let hi = times.max().unwrap_or(0);
    (lo, hi.max(lo + 1))
}

/// One in-cab terminal: waits for its published route, then reports its events in
/// accelerated time, one batch per simulated minute. Returns the warnings it received.
async fn run_terminal(
    channel: Channel,
    term: TerminalDay,
    day_start_ms: i64,
    speedup: f64,
) -> anyhow::Result<usize> {
    let vid = term.vehicle.to_string();
    let mut client = TerminalServiceClient::with_interceptor(
        channel,
        Bearer::new(&terminal_token(&term.vehicle))?,
    );
    let mut assignments = client
        .subscribe_assignments(v1::SubscribeAssignmentsRequest {
            vehicle_id: vid.clone(),
            after_seq: 0,
        })
        .await
        .with_context(|| format!("{vid}: SubscribeAssignments"))?
        .into_inner();
    // The route must arrive before the truck leaves the depot.
    let route = loop {
        let m = tokio::time::timeout(Duration::from_secs(30), assignments.message())
            .await
            .with_context(|| format!("{vid}: no route received"))??
            .with_context(|| format!("{vid}: assignment stream ended"))?;
        match m.body {
            Some(v1::assignment_message::Body::RouteVersion(rv)) => break rv.route,
            Some(v1::assignment_message::Body::Resync(r)) => {
                if let Some(rv) = r.snapshot.and_then(|s| s.current_route) {
                    break rv.route;
                }
            }
            _ => {}
        }
    };
    let planned_stops: usize = route
        .map(|r| r.trips.iter().map(|t| t.stops.len()).sum())
        .unwrap_or(0);
    let warned = Arc::new(AtomicUsize::new(0));
    let counter = warned.clone();
    let warnings = tokio::spawn(async move {
        while let Ok(Some(m)) = assignments.message().await {
            if matches!(
                m.body,
                Some(v1::assignment_message::Body::ViolationWarning(_))
            ) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    let (tx, rx) = tokio::sync::mpsc::channel::<v1::EventBatch>(16);
    let mut acks = client
        .report_events(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .with_context(|| format!("{vid}: ReportEvents"))?
        .into_inner();
    let last_seq = term.events.last().map_or(0, |e| e.device_seq);
    let started = Instant::now();
    let minute = 60_000;
    for chunk in term.events.chunk_by(|a, b| {
        (a.occurred_at - day_start_ms) / minute == (b.occurred_at - day_start_ms) / minute
    }) {
        let due = (chunk[0].occurred_at - day_start_ms) as f64 / 1000.0 / speedup;
        let wait = due - started.elapsed().as_secs_f64();
        if wait > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
        let batch = v1::EventBatch {
            vehicle_id: vid.clone(),
            device_id: format!("{vid}-cab"),
            events: chunk.iter().map(ToProto::to_proto).collect(),
        };
        if tx.send(batch).await.is_err() {
            break;
        }
    }
    let mut acked = 0;
    while acked < last_seq {
        let ack = tokio::time::timeout(Duration::from_secs(30), acks.message())
            .await
            .with_context(|| format!("{vid}: no acknowledgement"))??
            .with_context(|| format!("{vid}: ack stream ended at {acked}/{last_seq}"))?;
        if let Some(r) = ack.rejected.first() {
            bail!("{vid}: event {} rejected: {}", r.client_event_id, r.reason);
        }
        acked = acked.max(ack.acked_device_seq);
    }
    drop(tx);
    if planned_stops == 0 {
        bail!("{vid}: the published route has no stops");
    }
    // Warnings for the last events may still be on their way.
    tokio::time::sleep(Duration::from_millis(300)).await;
    warnings.abort();
    Ok(warned.load(Ordering::Relaxed))
}
