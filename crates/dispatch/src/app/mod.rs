//! The application core: everything the gRPC service does, without the transport.
//!
//! [`App`] owns one SQLite store ([`sortfleet_ledger::Store`]) through a single writer
//! thread (see `writer`: group commit, rules in the same transaction as the events that
//! trigger them), a pool of read-only connections for queries, and a hub that fans
//! committed messages out to live subscribers (see `hub`). The rule of the house:
//! **store first, then tell** — a terminal message, an incident or an acknowledgement
//! is only ever sent after the transaction holding it has committed, and every stream
//! can be resumed from the store by sequence number.
//!
//! Planning is reached through the [`PlanSource`] trait and runs on blocking threads as
//! jobs whose progress can be watched.

mod context;
mod error;
mod hub;
mod master;
mod pipeline;
mod readers;
mod source;
mod streams;
mod types;
mod writer;

pub use context::build_context;
pub use error::{AppError, AppResult};
pub use hub::HubStats;
pub use master::Master;
pub use pipeline::PipelineSource;
pub use source::{PlanOutput, PlanRequest, PlanSource, ReplanChange, RoadNetwork};
pub use streams::{IncidentStream, TerminalStream};
pub use types::*;
pub use writer::day_of;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use futures::Stream;
use sortfleet_ledger::{
    CheckpointKey, Durability, EventFilter, HashAlgorithm, IncidentFilter, MasterKind,
    NewTerminalMessage, Store, StoreConfig, VerifyOptions, VerifyReport, VerifyingKey,
};
use sortfleet_model::event::{EventKind, TruckEvent};
use sortfleet_model::incident::Incident;
use sortfleet_model::{CollectionPoint, Plan, PointId, Seconds, Stream as WasteStream, VehicleId};
use sortfleet_rules::Thresholds;
use tokio::sync::{mpsc, oneshot, watch};

use crate::scorecard::{ScorecardInput, ScorecardQuery, ScorecardRow};
use hub::Hub;
use readers::Readers;
use streams::RouteBody;
use writer::{Cmd, EventsCmd, Shared, WriterConfig, WriterState, day_bounds, now_ms};

/// How the application core is set up.
#[derive(Clone)]
pub struct AppConfig {
    /// The SQLite database file (created if missing).
    pub db_path: PathBuf,
    /// Key signing ledger checkpoints; without one the chain is unsigned.
    pub signing_key: Option<CheckpointKey>,
    /// A signed checkpoint every this many ledger records.
    pub checkpoint_interval: u64,
    /// Hash algorithm of the ledger chain. Fixed by the ledger's first record: opening
    /// a ledger started with another one fails instead of mixing algorithms.
    pub hash_algorithm: HashAlgorithm,
    /// Commit durability (`Full` fsyncs every group commit).
    pub durability: Durability,
    /// Terminal messages kept per vehicle; older resumes get a resync snapshot.
    pub resync_keep: u64,
    /// Heartbeat period on subscription streams.
    pub heartbeat: Duration,
    /// Per-subscriber live buffer; a subscriber that lets it fill is disconnected.
    pub subscriber_buffer: usize,
    /// Rule thresholds.
    pub thresholds: Thresholds,
    /// Offset of the service area's local time from UTC, seconds (decides which service
    /// day an event belongs to).
    pub utc_offset_s: i64,
    /// Upper bound of events in one group commit.
    pub max_group_events: usize,
    /// Intake batches that may wait for the writer before senders wait (backpressure).
    pub intake_queue: usize,
    /// Largest accepted event batch.
    pub max_batch_events: usize,
    /// Keys whose checkpoint signatures `verify_ledger` trusts (empty = any).
    pub trusted_keys: Vec<VerifyingKey>,
    /// Planning time budget when the request gives none.
    pub default_time_limit: Duration,
    /// Service days whose rule state is kept in memory.
    pub max_rule_days: usize,
}

impl AppConfig {
    /// Defaults for a database at `db_path`.
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        Self {
            db_path: db_path.into(),
            signing_key: None,
            checkpoint_interval: 1000,
            hash_algorithm: HashAlgorithm::Sha256,
            durability: Durability::Full,
            resync_keep: 1000,
            heartbeat: Duration::from_secs(15),
            subscriber_buffer: 256,
            thresholds: Thresholds::default(),
            utc_offset_s: 0,
            max_group_events: 8192,
            intake_queue: 4096,
            max_batch_events: 10_000,
            trusted_keys: Vec::new(),
            default_time_limit: Duration::from_secs(30),
            max_rule_days: 3,
        }
    }
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("db_path", &self.db_path)
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|k| k.key_id().to_owned()),
            )
            .field("checkpoint_interval", &self.checkpoint_interval)
            .field("hash_algorithm", &self.hash_algorithm)
            .field("durability", &self.durability)
            .field("resync_keep", &self.resync_keep)
            .field("heartbeat", &self.heartbeat)
            .finish_non_exhaustive()
    }
}

/// Parameters of a planning job for one day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanDayParams {
    /// Wall-clock budget; `None` uses the configured default.
    pub time_limit: Option<Duration>,
    /// RNG seed.
    pub seed: u64,
    /// Streams to plan; empty means all.
    pub streams: Vec<WasteStream>,
    /// Vehicles to use; empty means all.
    pub vehicles: Vec<VehicleId>,
}

/// A stream of planning job updates, ending after the final one.
pub type JobStream = Pin<Box<dyn Stream<Item = JobProgress> + Send>>;

struct Inner {
    cfg: AppConfig,
    tx: mpsc::Sender<Cmd>,
    hub: Arc<Hub>,
    shared: Arc<RwLock<Shared>>,
    readers: Arc<Readers>,
    source: Arc<dyn PlanSource>,
    roads: RwLock<Option<RoadNetwork>>,
    jobs: Mutex<HashMap<String, watch::Receiver<JobProgress>>>,
    seq: AtomicU64,
    /// Serialises dispatcher writes that validate against in-memory state.
    dispatch: tokio::sync::Mutex<()>,
}

/// The application core. Cheap to clone; all clones share one store and one writer.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

fn load_state(store: &Store) -> AppResult<Shared> {
    let mut master = Master::default();
    for (_, body) in store.list_master(MasterKind::Depot)? {
        let d: sortfleet_model::Depot = serde_json::from_value(body)?;
        master.depots.insert(d.id.clone(), d);
    }
    for (_, body) in store.list_master(MasterKind::Facility)? {
        let d: sortfleet_model::Facility = serde_json::from_value(body)?;
        master.facilities.insert(d.id.clone(), d);
    }
    for (_, body) in store.list_master(MasterKind::Vehicle)? {
        let d: sortfleet_model::Vehicle = serde_json::from_value(body)?;
        master.vehicles.insert(d.id.clone(), d);
    }
    for (_, body) in store.list_master(MasterKind::Point)? {
        let d: CollectionPoint = serde_json::from_value(body)?;
        master.points.insert(d.id.clone(), d);
    }
    // The current plan of each recent day.
    let mut plans = store.list_plans()?;
    plans.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
    let mut published: BTreeMap<NaiveDate, PlanRecord> = BTreeMap::new();
    for (id, _) in plans.into_iter().take(200) {
        let Some(p) = store.get_plan(&id)? else {
            continue;
        };
        let Ok(rec) = serde_json::from_value::<PlanRecord>(p.body) else {
            tracing::warn!(plan = %id, "stored plan does not decode; skipped");
            continue;
        };
        if rec.status == PlanStatus::Published {
            let keep = published
                .get(&rec.plan.date)
                .is_none_or(|cur| cur.published_at < rec.published_at);
            if keep {
                published.insert(rec.plan.date, rec);
            }
        }
    }
    Ok(Shared {
        master,
        published,
        generation: 1,
    })
}

fn check_event(e: &TruckEvent, vehicle: &VehicleId) -> Result<(), String> {
    if e.client_event_id.trim().is_empty() {
        return Err("client_event_id: must not be empty".into());
    }
    if e.client_event_id.len() > 256 {
        return Err("client_event_id: longer than 256 bytes".into());
    }
    if e.device_seq == 0 || e.device_seq > i64::MAX as u64 {
        return Err("device_seq: must be at least 1".into());
    }
    if &e.vehicle != vehicle {
        return Err(format!(
            "vehicle_id: `{}` is not the batch's vehicle `{vehicle}`",
            e.vehicle
        ));
    }
    // 2000-01-01 .. 2200-01-01: a clock that far off is a broken device.
    if !(946_684_800_000..7_258_118_400_000).contains(&e.occurred_at) {
        return Err("occurred_at: not a plausible time".into());
    }
    if let Some(p) = &e.position
        && !p.is_valid()
    {
        return Err("position: not a valid WGS84 position".into());
    }
    match &e.kind {
        EventKind::BinScan {
            lift_kg: Some(k), ..
        } if k.0 < 0 => {
            return Err("bin_scan.lift_weight_kg: must not be negative".into());
        }
        EventKind::LoadReading { load_kg } if load_kg.0 < 0 => {
            return Err("load_reading.load_kg: must not be negative".into());
        }
        EventKind::WeighbridgeTicket {
            facility,
            gross_kg,
            tare_kg,
            net_kg,
            purity_pct,
            ..
        } => {
            if facility.as_str().is_empty() {
                return Err("weighbridge_ticket.facility_id: must not be empty".into());
            }
            if gross_kg.0 < 0 || tare_kg.0 < 0 || net_kg.0 < 0 {
                return Err("weighbridge_ticket: weights must not be negative".into());
            }
            if purity_pct.is_some_and(|p| p > 100) {
                return Err("weighbridge_ticket.purity_pct: must be 0..=100".into());
            }
        }
        EventKind::DriverException {
            point,
            photo_sha256,
            ..
        } => {
            if point.as_str().is_empty() {
                return Err("driver_exception.point_id: must not be empty".into());
            }
            if let Some(h) = photo_sha256
                && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(
                    "driver_exception.photo_sha256: must be 32 bytes (64 hex digits)".into(),
                );
            }
        }
        _ => {}
    }
    Ok(())
}

fn route_points(r: Option<&sortfleet_model::Route>) -> Vec<PointId> {
    r.map(|r| {
        r.trips
            .iter()
            .flat_map(|t| t.stops.iter().map(|s| s.point.clone()))
            .collect()
    })
    .unwrap_or_default()
}

fn diff(a: &[PointId], b: &[PointId]) -> Vec<PointId> {
    let mut out: Vec<PointId> = a.iter().filter(|p| !b.contains(p)).cloned().collect();
    out.dedup();
    out
}

impl App {
    /// Opens (or creates) the store, loads master data and published plans, and starts
    /// the writer thread. `source` is the planning pipeline.
    pub async fn open(cfg: AppConfig, source: Arc<dyn PlanSource>) -> AppResult<App> {
        let store_cfg = StoreConfig {
            durability: cfg.durability,
            checkpoint_every: cfg.checkpoint_interval,
            checkpoint_key: cfg.signing_key.clone(),
            hash_algorithm: cfg.hash_algorithm,
            ..StoreConfig::default()
        };
        let path = cfg.db_path.clone();
        let (store, shared, incident_head) =
            tokio::task::spawn_blocking(move || -> AppResult<_> {
                let store = Store::open(&path, &store_cfg)?;
                let shared = load_state(&store)?;
                let head = store.incident_head_seq()?;
                Ok((store, shared, head))
            })
            .await
            .map_err(|e| AppError::Internal(format!("open task: {e}")))??;
        let hub = Hub::new(cfg.subscriber_buffer, incident_head);
        let shared = Arc::new(RwLock::new(shared));
        let (tx, rx) = mpsc::channel(cfg.intake_queue.max(1));
        let wcfg = WriterConfig {
            max_group: cfg.max_group_events,
            resync_keep: cfg.resync_keep,
            utc_offset_s: cfg.utc_offset_s,
            thresholds: cfg.thresholds.clone(),
            max_days: cfg.max_rule_days,
        };
        let state = WriterState::new(store, hub.clone(), shared.clone(), wcfg);
        std::thread::Builder::new()
            .name("sortfleet-writer".into())
            .spawn(move || writer::run(state, rx))
            .map_err(|e| AppError::Internal(format!("cannot start writer thread: {e}")))?;
        let readers = Readers::new(cfg.db_path.clone());
        Ok(App {
            inner: Arc::new(Inner {
                cfg,
                tx,
                hub,
                shared,
                readers,
                source,
                roads: RwLock::new(None),
                jobs: Mutex::new(HashMap::new()),
                seq: AtomicU64::new(0),
                dispatch: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AppConfig {
        &self.inner.cfg
    }

    fn shared(&self) -> std::sync::RwLockReadGuard<'_, Shared> {
        self.inner.shared.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the writer thread, in order with intake.
    async fn exec<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut WriterState) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let (tx, rx) = oneshot::channel();
        let job: writer::Job = Box::new(move |st| {
            let _ = tx.send(f(st));
        });
        self.inner
            .tx
            .send(Cmd::Exec(job))
            .await
            .map_err(|_| AppError::Unavailable("writer stopped".into()))?;
        rx.await
            .map_err(|_| AppError::Internal("writer dropped the request".into()))?
    }

    fn next_id(&self, prefix: &str) -> String {
        let n = self.inner.seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}-{}-{n}", now_ms())
    }

    // ------------------------------------------------------------ master data

    /// A snapshot of the master data.
    pub fn master(&self) -> Master {
        self.shared().master.clone()
    }

    /// Creates or replaces master data by id. Validated as a whole: on any problem
    /// nothing changes and the error names the field (`vehicles[2].capacity_kg`, the
    /// index being the position in `batch`). Repeating a batch changes nothing.
    pub async fn upsert_master(&self, batch: MasterBatch) -> AppResult<UpsertOutcome> {
        let _guard = self.inner.dispatch.lock().await;
        let (next, warnings) = self.shared().master.apply_upsert(&batch)?;
        let mut rows: Vec<(MasterKind, String, serde_json::Value)> = Vec::new();
        for d in &batch.depots {
            rows.push((
                MasterKind::Depot,
                d.id.to_string(),
                serde_json::to_value(d)?,
            ));
        }
        for d in &batch.facilities {
            rows.push((
                MasterKind::Facility,
                d.id.to_string(),
                serde_json::to_value(d)?,
            ));
        }
        for d in &batch.vehicles {
            rows.push((
                MasterKind::Vehicle,
                d.id.to_string(),
                serde_json::to_value(d)?,
            ));
        }
        for d in &batch.points {
            rows.push((
                MasterKind::Point,
                d.id.to_string(),
                serde_json::to_value(d)?,
            ));
        }
        self.exec(move |st| {
            let now = now_ms();
            let changed = st.store.write(|tx| {
                let mut n = 0u32;
                for (k, id, body) in &rows {
                    n += u32::from(tx.upsert_master(*k, id, body, now)?);
                }
                Ok(n)
            })?;
            {
                let mut sh = st.shared.write().unwrap_or_else(|p| p.into_inner());
                sh.master = next;
                sh.generation += 1;
            }
            Ok(UpsertOutcome {
                changed,
                unchanged: rows.len() as u32 - changed,
                warnings,
            })
        })
        .await
    }

    /// Deletes master data by id; unknown ids are ignored. Returns how many existed.
    pub async fn delete_master(&self, del: MasterDelete) -> AppResult<u32> {
        let _guard = self.inner.dispatch.lock().await;
        let next = self.shared().master.apply_delete(&del)?;
        self.exec(move |st| {
            let n = st.store.write(|tx| {
                let mut n = 0u32;
                for id in &del.vehicles {
                    n += u32::from(tx.delete_master(MasterKind::Vehicle, id.as_str())?);
                }
                for id in &del.facilities {
                    n += u32::from(tx.delete_master(MasterKind::Facility, id.as_str())?);
                }
                for id in &del.points {
                    n += u32::from(tx.delete_master(MasterKind::Point, id.as_str())?);
                }
                for id in &del.depots {
                    n += u32::from(tx.delete_master(MasterKind::Depot, id.as_str())?);
                }
                Ok(n)
            })?;
            let mut sh = st.shared.write().unwrap_or_else(|p| p.into_inner());
            sh.master = next;
            sh.generation += 1;
            Ok(n)
        })
        .await
    }

    // ------------------------------------------------------------ road network

    /// Loads a road network through the plan source and keeps it for planning.
    pub async fn load_road_network(&self, path: impl AsRef<Path>) -> AppResult<RoadSummary> {
        let path = path.as_ref().to_path_buf();
        if path.as_os_str().is_empty() {
            return Err(AppError::invalid("path", "must not be empty"));
        }
        if !path.exists() {
            return Err(AppError::not_found("file", path.display().to_string()));
        }
        let source = self.inner.source.clone();
        let scenario = self.master().scenario("roads", NaiveDate::default());
        let started = Instant::now();
        let net = tokio::task::spawn_blocking(move || source.load_roads(&path, &scenario))
            .await
            .map_err(|e| AppError::Internal(format!("road loading task: {e}")))?
            .map_err(|e| AppError::FailedPrecondition(format!("cannot load road network: {e}")))?;
        let mut summary = net.summary.clone();
        if summary.load_ms == 0 {
            summary.load_ms = started.elapsed().as_millis() as i64;
        }
        *self.inner.roads.write().unwrap_or_else(|p| p.into_inner()) = Some(net);
        Ok(summary)
    }

    /// The loaded road network, if any.
    pub fn road_network(&self) -> Option<RoadNetwork> {
        self.inner
            .roads
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    // ------------------------------------------------------------ plans

    /// Stores a plan as a draft and returns its id. Routes must name known vehicles.
    pub async fn store_plan(
        &self,
        plan: Plan,
        origin: PlanOrigin,
        parent_plan_id: Option<String>,
        road_fingerprint: Option<String>,
    ) -> AppResult<String> {
        {
            let sh = self.shared();
            for (i, r) in plan.routes.iter().enumerate() {
                if !sh.master.vehicles.contains_key(&r.vehicle) {
                    return Err(AppError::invalid(
                        format!("routes[{i}].vehicle"),
                        format!("unknown vehicle `{}`", r.vehicle),
                    ));
                }
            }
            let mut seen = std::collections::BTreeSet::new();
            for (i, r) in plan.routes.iter().enumerate() {
                if !seen.insert(&r.vehicle) {
                    return Err(AppError::invalid(
                        format!("routes[{i}].vehicle"),
                        format!("vehicle `{}` has two routes", r.vehicle),
                    ));
                }
            }
        }
        let id = self.next_id(&format!("plan-{}", plan.date));
        let rec = PlanRecord {
            id: id.clone(),
            plan,
            status: PlanStatus::Draft,
            origin,
            parent_plan_id,
            road_fingerprint,
            created_at: now_ms(),
            published_at: None,
            versions: BTreeMap::new(),
        };
        let body = serde_json::to_value(&rec)?;
        self.exec(move |st| {
            st.store.put_plan(&rec.id, &body, rec.created_at)?;
            Ok(())
        })
        .await?;
        Ok(id)
    }

    /// A stored plan.
    pub async fn get_plan(&self, plan_id: &str) -> AppResult<PlanRecord> {
        let id = plan_id.to_owned();
        let p = self.inner.readers.read(move |s| s.get_plan(&id)).await?;
        let p = p.ok_or_else(|| AppError::not_found("plan", plan_id))?;
        Ok(serde_json::from_value(p.body)?)
    }

    /// The published plan of a day, if any.
    pub fn published_plan(&self, date: NaiveDate) -> Option<PlanRecord> {
        self.shared().published.get(&date).cloned()
    }

    /// Sends a plan's routes to the terminals: each vehicle gets a `RouteVersion` (or a
    /// `RouteRevision` when it had a route of the same day), vehicles of the day's
    /// previous plan without a route now get a `Cancellation`. All of it is committed
    /// in one transaction and then pushed to live subscribers. Publishing a plan that
    /// is already published changes nothing.
    pub async fn publish_plan(&self, plan_id: &str) -> AppResult<PublishOutcome> {
        let _guard = self.inner.dispatch.lock().await;
        let mut rec = self.get_plan(plan_id).await?;
        match rec.status {
            PlanStatus::Published => {
                return Ok(PublishOutcome {
                    routes: rec.versions.into_iter().collect(),
                    cancelled: Vec::new(),
                    already_published: true,
                });
            }
            PlanStatus::Superseded => {
                return Err(AppError::FailedPrecondition(format!(
                    "plan `{plan_id}` was superseded by a later plan of {}",
                    rec.plan.date
                )));
            }
            PlanStatus::Draft => {}
        }
        self.exec(move |st| {
            let date = rec.plan.date;
            let (master, prev) = {
                let sh = st.shared.read().unwrap_or_else(|p| p.into_inner());
                (sh.master.clone(), sh.published.get(&date).cloned())
            };
            let reason = match &rec.origin {
                PlanOrigin::UrgentPickup { .. } => RevisionReason::UrgentPickup,
                PlanOrigin::VehicleUnavailable { .. } => RevisionReason::VehicleUnavailable,
                _ => RevisionReason::DispatcherEdit,
            };
            let now = now_ms();
            let keep = st.resync_keep();
            let mut prev_rec = prev.clone();
            let result = st.store.write(|tx| {
                let mut bodies: Vec<(VehicleId, TerminalBody)> = Vec::new();
                let mut versions = BTreeMap::new();
                let mut cancelled = Vec::new();
                for r in rec.plan.routes.iter().filter(|r| !r.trips.is_empty()) {
                    let view = master.route_view(r);
                    let body = RouteBody {
                        service_date: date,
                        plan_id: rec.id.clone(),
                        route: Some(view.clone()),
                    };
                    let v = tx.publish_route(
                        r.vehicle.as_str(),
                        Some(&rec.id),
                        &serde_json::to_value(&body).map_err(json_err)?,
                        now,
                    )?;
                    versions.insert(r.vehicle.clone(), v);
                    let old = prev
                        .as_ref()
                        .and_then(|p| p.versions.get(&r.vehicle).map(|v| (p, *v)));
                    let msg = match old {
                        Some((p, pv)) => {
                            let before =
                                route_points(p.plan.routes.iter().find(|x| x.vehicle == r.vehicle));
                            let after = route_points(Some(r));
                            TerminalBody::RouteRevision(RouteRevision {
                                plan_id: rec.id.clone(),
                                service_date: date,
                                version: v,
                                previous_version: pv,
                                reason,
                                route: view,
                                added_points: diff(&after, &before),
                                removed_points: diff(&before, &after),
                            })
                        }
                        None => TerminalBody::RouteVersion(RouteVersion {
                            plan_id: rec.id.clone(),
                            service_date: date,
                            version: v,
                            route: view,
                        }),
                    };
                    bodies.push((r.vehicle.clone(), msg));
                }
                if let Some(p) = &prev {
                    for (veh, pv) in &p.versions {
                        if versions.contains_key(veh) {
                            continue;
                        }
                        let body = RouteBody {
                            service_date: date,
                            plan_id: rec.id.clone(),
                            route: None,
                        };
                        tx.publish_route(
                            veh.as_str(),
                            Some(&rec.id),
                            &serde_json::to_value(&body).map_err(json_err)?,
                            now,
                        )?;
                        cancelled.push(veh.clone());
                        bodies.push((
                            veh.clone(),
                            TerminalBody::Cancellation(Cancellation {
                                plan_id: rec.id.clone(),
                                service_date: date,
                                version: *pv,
                                reason: format!("route withdrawn by plan {}", rec.id),
                            }),
                        ));
                    }
                }
                let new_msgs: Vec<NewTerminalMessage> = bodies
                    .iter()
                    .map(|(v, b)| {
                        Ok(NewTerminalMessage {
                            vehicle: v.to_string(),
                            kind: b.kind().into(),
                            payload: serde_json::to_value(b).map_err(json_err)?,
                            created_at: now,
                        })
                    })
                    .collect::<Result<_, sortfleet_ledger::LedgerError>>()?;
                let seqs = tx.push_terminal_messages(&new_msgs)?;
                for (m, seq) in new_msgs.iter().zip(&seqs) {
                    if keep > 0 && *seq > keep {
                        tx.prune_terminal_messages(&m.vehicle, seq + 1 - keep)?;
                    }
                }
                rec.status = PlanStatus::Published;
                rec.published_at = Some(now);
                rec.versions = versions;
                tx.put_plan(
                    &rec.id,
                    &serde_json::to_value(&rec).map_err(json_err)?,
                    rec.created_at,
                )?;
                if let Some(p) = prev_rec.as_mut() {
                    p.status = PlanStatus::Superseded;
                    tx.put_plan(
                        &p.id,
                        &serde_json::to_value(&*p).map_err(json_err)?,
                        p.created_at,
                    )?;
                }
                let out: Vec<(VehicleId, TerminalMessage)> = bodies
                    .into_iter()
                    .zip(seqs)
                    .map(|((v, body), seq)| {
                        (
                            v,
                            TerminalMessage {
                                seq,
                                created_at: now,
                                body,
                            },
                        )
                    })
                    .collect();
                Ok((out, cancelled))
            })?;
            let (msgs, cancelled) = result;
            {
                let mut sh = st.shared.write().unwrap_or_else(|p| p.into_inner());
                sh.published.insert(date, rec.clone());
                sh.generation += 1;
            }
            st.after_commit_publish(msgs);
            Ok(PublishOutcome {
                routes: rec.versions.clone().into_iter().collect(),
                cancelled,
                already_published: false,
            })
        })
        .await
    }

    // ------------------------------------------------------------ terminals

    /// A vehicle's assignment stream: everything after `after_seq` from the store (or a
    /// `Resync` snapshot when that is no longer kept), then live messages, heartbeats
    /// every [`AppConfig::heartbeat`]. No gap, no duplicate; a client too slow to drain
    /// its buffer gets `Err(Lagged)` and must resubscribe.
    pub fn subscribe_assignments(
        &self,
        vehicle: &VehicleId,
        after_seq: u64,
    ) -> AppResult<TerminalStream> {
        if !self.shared().master.vehicles.contains_key(vehicle) {
            return Err(AppError::not_found("vehicle", vehicle.as_str()));
        }
        Ok(streams::terminal_stream(
            &self.inner.hub,
            self.inner.readers.clone(),
            vehicle.clone(),
            after_seq,
            self.inner.cfg.heartbeat,
            self.inner.cfg.utc_offset_s,
        ))
    }

    /// Stores a batch of events and acknowledges it after the commit. Duplicates (by
    /// client event id) are counted and ignored; invalid events are refused one by one
    /// (recorded, so their device seq does not block the ack). The rules evaluate the
    /// new events in the same transaction; resulting warnings and incidents are pushed
    /// once it commits.
    pub async fn report_events(&self, mut batch: EventBatch) -> AppResult<Ack> {
        if batch.device.trim().is_empty() || batch.device.len() > 256 {
            return Err(AppError::invalid("device_id", "must be 1..=256 bytes"));
        }
        if batch.events.len() + batch.rejected.len() > self.inner.cfg.max_batch_events {
            return Err(AppError::invalid(
                "events",
                format!(
                    "more than {} events in one batch",
                    self.inner.cfg.max_batch_events
                ),
            ));
        }
        if !self.shared().master.vehicles.contains_key(&batch.vehicle) {
            return Err(AppError::not_found("vehicle", batch.vehicle.as_str()));
        }
        let vehicle = batch.vehicle.clone();
        let mut ok = Vec::with_capacity(batch.events.len());
        for e in batch.events.drain(..) {
            match check_event(&e, &vehicle) {
                Ok(()) => ok.push(e),
                Err(reason) => batch.rejected.push(RejectedEvent {
                    client_event_id: e.client_event_id.clone(),
                    device_seq: e.device_seq,
                    reason,
                }),
            }
        }
        batch.events = ok;
        let (tx, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Cmd::Events(EventsCmd {
                batch,
                received_at: now_ms(),
                reply: tx,
            }))
            .await
            .map_err(|_| AppError::Unavailable("writer stopped".into()))?;
        rx.await
            .map_err(|_| AppError::Internal("writer dropped the batch".into()))?
    }

    // ------------------------------------------------------------ supervision

    /// The regulators' feed: incidents matching `filter` with seq > `after_seq`, then
    /// live ones, with heartbeats. Same resume guarantees as terminal streams.
    pub fn subscribe_incidents(&self, filter: IncidentQuery, after_seq: u64) -> IncidentStream {
        streams::incident_stream(
            &self.inner.hub,
            self.inner.readers.clone(),
            filter,
            after_seq,
            self.inner.cfg.heartbeat,
        )
    }

    /// One page of incidents matching `filter` with seq > `after_seq`, oldest first.
    /// `limit` 0 means 100; at most 1000.
    pub async fn list_incidents(
        &self,
        filter: IncidentQuery,
        after_seq: u64,
        limit: u32,
    ) -> AppResult<IncidentPage> {
        let limit = match limit {
            0 => 100,
            n => n.min(1000),
        } as usize;
        let (incidents, scanned, done) = self
            .inner
            .readers
            .read(move |s| streams::scan_incidents(s, &filter, after_seq, limit))
            .await?;
        let next_after_seq = if done { None } else { Some(scanned) };
        Ok(IncidentPage {
            incidents,
            next_after_seq,
        })
    }

    /// One incident with its evidence events and its ledger record (seq and stored
    /// hash, hex). An incident and its ledger record commit in one transaction, so a
    /// visible incident has a visible record unless the file was tampered with (then
    /// both ledger fields stay `None` and `verify_ledger` names the damage).
    pub async fn get_incident(&self, incident_id: &str) -> AppResult<IncidentDetail> {
        let id = incident_id.to_owned();
        let (found, entry) = self
            .inner
            .readers
            .read(move |s| {
                let found = s.incident_by_id(&id)?;
                let entry = match &found {
                    Some(_) => s.incident_ledger_entry(&id)?,
                    None => None,
                };
                Ok((found, entry))
            })
            .await?;
        let found = found.ok_or_else(|| AppError::not_found("incident", incident_id))?;
        let mut stored = found.incident;
        stored.evidence = Vec::new();
        let record = streams::to_record(stored)?;
        let evidence = found
            .events
            .into_iter()
            .filter_map(|e| serde_json::from_value::<TruckEvent>(e.body).ok())
            .collect();
        Ok(IncidentDetail {
            record,
            evidence,
            ledger_seq: entry.as_ref().map(|e| e.seq),
            ledger_hash: entry.as_ref().map(sortfleet_ledger::LedgerEntry::hash_hex),
        })
    }

    /// Walks the whole ledger (hash chain and signed checkpoints).
    pub async fn verify_ledger(&self) -> AppResult<VerifyReport> {
        let opts = VerifyOptions {
            trusted_keys: self.inner.cfg.trusted_keys.clone(),
            max_findings: 0,
        };
        self.inner.readers.read(move |s| s.verify_with(&opts)).await
    }

    /// Signs the current ledger head now (e.g. before shutdown).
    pub async fn checkpoint_now(&self) -> AppResult<Option<u64>> {
        self.exec(|st| Ok(st.store.checkpoint_now()?)).await
    }

    /// Per district, stream and day figures (see [`crate::scorecard`]).
    pub async fn scorecard(&self, q: ScorecardQuery) -> AppResult<Vec<ScorecardRow>> {
        if q.to < q.from {
            return Err(AppError::invalid("to_date", "is before from_date"));
        }
        if (q.to - q.from).num_days() > 366 {
            return Err(AppError::invalid(
                "to_date",
                "the period is longer than 366 days",
            ));
        }
        let off = self.inner.cfg.utc_offset_s;
        let (from, _) = day_bounds(q.from, off);
        let (_, to) = day_bounds(q.to, off);
        let (events, incidents) = self
            .inner
            .readers
            .read(move |s| {
                let events = s.query_events(&EventFilter {
                    vehicle: None,
                    from: Some(from),
                    to: Some(to),
                    limit: 0,
                })?;
                let mut incidents = Vec::new();
                let mut after = 0;
                loop {
                    let page = s.query_incidents(&IncidentFilter {
                        from: Some(from),
                        to: Some(to),
                        after_seq: after,
                        limit: 1000,
                        ..Default::default()
                    })?;
                    let Some(last) = page.last() else { break };
                    after = last.seq;
                    incidents.extend(page);
                }
                Ok((events, incidents))
            })
            .await?;
        let events: Vec<TruckEvent> = events
            .into_iter()
            .filter(|e| e.kind != writer::REJECTED)
            .filter_map(|e| serde_json::from_value(e.body).ok())
            .collect();
        let incidents: Vec<Incident> = incidents
            .into_iter()
            .filter_map(|i| streams::to_record(i).ok())
            .map(|r| r.incident)
            .collect();
        let (points, plans) = {
            let sh = self.shared();
            let plans: BTreeMap<NaiveDate, Plan> = sh
                .published
                .range(q.from..=q.to)
                .map(|(d, r)| (*d, r.plan.clone()))
                .collect();
            (sh.master.points.clone(), plans)
        };
        let input = ScorecardInput {
            events: &events,
            incidents: &incidents,
            points: &points,
            plans: &plans,
            utc_offset_s: off,
        };
        Ok(crate::scorecard::compute(&input, &q))
    }

    /// Live subscriber figures.
    pub fn stats(&self) -> HubStats {
        self.inner.hub.stats()
    }

    /// Highest seq committed for a vehicle's terminal stream since start (0 if none).
    pub fn terminal_head(&self, vehicle: &VehicleId) -> u64 {
        self.inner.hub.terminal_head(vehicle)
    }

    // ------------------------------------------------------------ planning jobs

    fn new_job(&self) -> (String, watch::Sender<JobProgress>) {
        let id = self.next_id("job");
        let (tx, rx) = watch::channel(JobProgress {
            job_id: id.clone(),
            phase: JobPhase::Queued,
            best_cost_ct: 0,
            unserved: 0,
            iterations: 0,
            elapsed_ms: 0,
            updated_at: now_ms(),
            plan_id: None,
            error: None,
        });
        self.inner
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), rx);
        (id, tx)
    }

    fn scenario_for(
        &self,
        date: NaiveDate,
        streams: &[WasteStream],
        vehicles: &[VehicleId],
    ) -> AppResult<sortfleet_model::Scenario> {
        let master = self.master();
        for (i, v) in vehicles.iter().enumerate() {
            if !master.vehicles.contains_key(v) {
                return Err(AppError::invalid(
                    format!("vehicle_ids[{i}]"),
                    format!("unknown vehicle `{v}`"),
                ));
            }
        }
        let mut sc = master.scenario(&format!("day {date}"), date);
        if !vehicles.is_empty() {
            sc.vehicles.retain(|v| vehicles.contains(&v.id));
        }
        if !streams.is_empty() {
            for p in &mut sc.points {
                p.demands.retain(|d| streams.contains(&d.stream));
            }
            sc.points.retain(|p| !p.demands.is_empty());
        }
        if sc.vehicles.is_empty() {
            return Err(AppError::FailedPrecondition(
                "no vehicles in the master data".into(),
            ));
        }
        Ok(sc)
    }

    /// Starts a planning job for `date`; watch it with [`App::watch_plan_job`]. The
    /// resulting plan is stored as a draft (publish it with [`App::publish_plan`]).
    pub fn plan_day(&self, date: NaiveDate, params: PlanDayParams) -> AppResult<String> {
        let scenario = self.scenario_for(date, &params.streams, &params.vehicles)?;
        let req = PlanRequest {
            scenario,
            roads: self.road_network(),
            time_limit: params
                .time_limit
                .unwrap_or(self.inner.cfg.default_time_limit),
            seed: params.seed,
            streams: params.streams,
            previous: None,
            changes: Vec::new(),
        };
        Ok(self.spawn_job(req, PlanOrigin::Day, None, false))
    }

    /// Adds an on-call pickup to `date`'s published plan: upserts `point` (validated),
    /// re-plans with everything before `now_s` frozen, and publishes the result.
    pub async fn add_urgent_pickup(
        &self,
        date: NaiveDate,
        point: CollectionPoint,
        time_limit: Option<Duration>,
        now_s: Seconds,
    ) -> AppResult<String> {
        let Some(current) = self.published_plan(date) else {
            return Err(AppError::FailedPrecondition(format!(
                "no published plan for {date}"
            )));
        };
        if !(0..=86_400).contains(&now_s.0) {
            return Err(AppError::invalid(
                "now_s",
                "must be within the day (0..=86400)",
            ));
        }
        let pid = point.id.clone();
        self.upsert_master(MasterBatch {
            points: vec![point],
            ..MasterBatch::default()
        })
        .await
        .map_err(|e| match e {
            AppError::InvalidArgument { field, msg } => AppError::InvalidArgument {
                field: field.replacen("points[0]", "point", 1),
                msg,
            },
            other => other,
        })?;
        let req = PlanRequest {
            scenario: self.scenario_for(date, &[], &[])?,
            roads: self.road_network(),
            time_limit: time_limit.unwrap_or(self.inner.cfg.default_time_limit),
            seed: 0,
            streams: Vec::new(),
            previous: Some(current.plan.clone()),
            changes: vec![
                ReplanChange::FreezeBefore { at_s: now_s },
                ReplanChange::AddUrgentPickup { point: pid.clone() },
            ],
        };
        Ok(self.spawn_job(
            req,
            PlanOrigin::UrgentPickup { point: pid },
            Some(current.id),
            true,
        ))
    }

    /// Marks a vehicle unavailable from `from_s` on `date`, re-plans its remaining work
    /// (everything before `from_s` frozen) and publishes the result.
    pub fn vehicle_unavailable(
        &self,
        date: NaiveDate,
        vehicle: &VehicleId,
        from_s: Seconds,
        reason: &str,
        time_limit: Option<Duration>,
    ) -> AppResult<String> {
        if !self.shared().master.vehicles.contains_key(vehicle) {
            return Err(AppError::not_found("vehicle", vehicle.as_str()));
        }
        if !(0..=86_400).contains(&from_s.0) {
            return Err(AppError::invalid(
                "from_s",
                "must be within the day (0..=86400)",
            ));
        }
        let Some(current) = self.published_plan(date) else {
            return Err(AppError::FailedPrecondition(format!(
                "no published plan for {date}"
            )));
        };
        let req = PlanRequest {
            scenario: self.scenario_for(date, &[], &[])?,
            roads: self.road_network(),
            time_limit: time_limit.unwrap_or(self.inner.cfg.default_time_limit),
            seed: 0,
            streams: Vec::new(),
            previous: Some(current.plan.clone()),
            changes: vec![
                ReplanChange::FreezeBefore { at_s: from_s },
                ReplanChange::VehicleUnavailable {
                    vehicle: vehicle.clone(),
                    from_s,
                },
            ],
        };
        let origin = PlanOrigin::VehicleUnavailable {
            vehicle: vehicle.clone(),
            from_s,
            reason: reason.to_owned(),
        };
        Ok(self.spawn_job(req, origin, Some(current.id), true))
    }

    fn spawn_job(
        &self,
        req: PlanRequest,
        origin: PlanOrigin,
        parent: Option<String>,
        publish: bool,
    ) -> String {
        let (job_id, tx) = self.new_job();
        let app = self.clone();
        let tx = Arc::new(tx);
        tokio::spawn(async move {
            let started = Instant::now();
            let source = app.inner.source.clone();
            let ptx = tx.clone();
            let res = tokio::task::spawn_blocking(move || {
                let cb = |p: PlanProgress| {
                    ptx.send_modify(|j| {
                        j.phase = p.phase;
                        j.best_cost_ct = p.best_cost_ct;
                        j.unserved = p.unserved;
                        j.iterations = p.iterations;
                        j.elapsed_ms = started.elapsed().as_millis() as i64;
                        j.updated_at = now_ms();
                    });
                };
                source.plan(&req, &cb)
            })
            .await;
            let outcome: AppResult<String> = async {
                let out = res
                    .map_err(|e| AppError::Internal(format!("planner panicked: {e}")))?
                    .map_err(AppError::FailedPrecondition)?;
                tx.send_modify(|j| j.phase = JobPhase::Finalizing);
                let id = app
                    .store_plan(out.plan, origin, parent, out.road_fingerprint)
                    .await?;
                if publish {
                    app.publish_plan(&id).await?;
                }
                Ok(id)
            }
            .await;
            tx.send_modify(|j| {
                j.elapsed_ms = started.elapsed().as_millis() as i64;
                j.updated_at = now_ms();
                match outcome {
                    Ok(id) => {
                        j.phase = JobPhase::Done;
                        j.plan_id = Some(id);
                    }
                    Err(e) => {
                        j.phase = JobPhase::Failed;
                        j.error = Some(e.to_string());
                    }
                }
            });
        });
        job_id
    }

    /// Progress of a job: the current state at once, then every change, ending after
    /// the final (`Done`/`Failed`) update.
    pub fn watch_plan_job(&self, job_id: &str) -> AppResult<JobStream> {
        let rx = self
            .inner
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(job_id)
            .cloned()
            .ok_or_else(|| AppError::not_found("job", job_id))?;
        Ok(Box::pin(futures::stream::unfold(
            (rx, true, false),
            |(mut rx, first, done)| async move {
                if done {
                    return None;
                }
                if !first && rx.changed().await.is_err() {
                    // Sender gone without a final update: report what we have, once.
                    let cur = rx.borrow().clone();
                    return (!cur.phase.is_final()).then_some((cur, (rx, false, true)));
                }
                let cur = rx.borrow_and_update().clone();
                let fin = cur.phase.is_final();
                Some((cur, (rx, false, fin)))
            },
        )))
    }
}

fn json_err(e: serde_json::Error) -> sortfleet_ledger::LedgerError {
    sortfleet_ledger::LedgerError::Corrupt(format!("json: {e}"))
}
