//! The single writer: one thread owns the writable store and the rule engines, and
//! turns whatever has queued up into one transaction (group commit).
//!
//! Intake batches from all terminals wait in one channel. The writer takes the first,
//! drains everything else already waiting (up to `max_group` events), appends them,
//! evaluates the rules on the newly stored events, appends the resulting incidents and
//! queues the drivers' warnings, all in one `BEGIN IMMEDIATE … COMMIT`, and only then
//! answers every batch of the group and fans the messages out. One fsync pays for the
//! whole group, so durability costs latency, not throughput; and an acknowledged event
//! can never exist without the incidents it caused.
//!
//! Rules run per service day: one [`Engine`] per day, loaded lazily by replaying the
//! day's stored events with the stored incident ids marked as raised. A failed
//! transaction simply drops the in-memory engines; the next use reloads them from
//! the store, which is the truth.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use chrono::NaiveDate;
use serde_json::json;
use sortfleet_ledger::{
    AppendOutcome, EventFilter, IncidentFilter, NewEvent, NewIncident, NewTerminalMessage, Store,
};
use sortfleet_model::event::TruckEvent;
use sortfleet_model::incident::{Incident, RuleId};
use sortfleet_model::{PointId, VehicleId};
use sortfleet_rules::{Engine, RuleContext, Thresholds};
use tokio::sync::{mpsc, oneshot};

use super::context::build_context;
use super::error::{AppError, AppResult};
use super::hub::Hub;
use super::master::Master;
use super::types::{
    Ack, EventBatch, IncidentBody, IncidentRecord, Millis, PlanRecord, TerminalBody,
    TerminalMessage, ViolationWarning,
};

/// Master data and published plans shared by the async side and the writer. Writes
/// happen on the writer thread only, after the matching commit.
#[derive(Default)]
pub(crate) struct Shared {
    pub master: Master,
    /// The published (current) plan of each service day.
    pub published: BTreeMap<NaiveDate, PlanRecord>,
    /// Bumped on every change that affects the rules' context.
    pub generation: u64,
}

/// A closure run on the writer thread with exclusive access to the store.
pub(crate) type Job = Box<dyn FnOnce(&mut WriterState) + Send>;

pub(crate) enum Cmd {
    Events(EventsCmd),
    Exec(Job),
}

pub(crate) struct EventsCmd {
    pub batch: EventBatch,
    pub received_at: Millis,
    pub reply: oneshot::Sender<AppResult<Ack>>,
}

/// Settings the writer needs.
#[derive(Clone)]
pub(crate) struct WriterConfig {
    pub max_group: usize,
    pub resync_keep: u64,
    pub utc_offset_s: i64,
    pub thresholds: Thresholds,
    pub max_days: usize,
}

struct Day {
    engine: Engine,
    ctx: Arc<RuleContext>,
    generation: u64,
    last_used: u64,
}

/// Everything the writer thread owns.
pub(crate) struct WriterState {
    pub store: Store,
    pub hub: Arc<Hub>,
    pub shared: Arc<RwLock<Shared>>,
    cfg: WriterConfig,
    days: BTreeMap<NaiveDate, Day>,
    /// Incidents found while (re)loading a day that are not in the store yet.
    pending: Vec<(Incident, Option<u32>)>,
    tick: u64,
}

/// The service day an instant (Unix ms) belongs to, given the local offset from UTC.
pub fn day_of(ms: Millis, utc_offset_s: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(ms.saturating_add(utc_offset_s.saturating_mul(1000)))
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// `[start, end)` of a service day in Unix ms.
pub(crate) fn day_bounds(d: NaiveDate, utc_offset_s: i64) -> (Millis, Millis) {
    let start = d
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0)
        - utc_offset_s * 1000;
    (start, start + 86_400_000)
}

/// Incident ids are day-scoped in the store: the rules name incidents by stable facts
/// (e.g. point and stream), which recur on another day.
fn store_id(date: NaiveDate, engine_id: &str) -> String {
    format!("{date}/{engine_id}")
}

fn engine_id(stored: &str) -> &str {
    stored.split_once('/').map_or(stored, |(_, rest)| rest)
}

impl WriterState {
    pub(crate) fn new(
        store: Store,
        hub: Arc<Hub>,
        shared: Arc<RwLock<Shared>>,
        cfg: WriterConfig,
    ) -> Self {
        Self {
            store,
            hub,
            shared,
            cfg,
            days: BTreeMap::new(),
            pending: Vec::new(),
            tick: 0,
        }
    }

    pub(crate) fn resync_keep(&self) -> u64 {
        self.cfg.resync_keep
    }

    fn shared(&self) -> std::sync::RwLockReadGuard<'_, Shared> {
        self.shared.read().unwrap_or_else(|p| p.into_inner())
    }

    fn prior_contamination(&self, date: NaiveDate) -> AppResult<BTreeMap<PointId, u32>> {
        let (start, _) = day_bounds(date, self.cfg.utc_offset_s);
        let mut out: BTreeMap<PointId, u32> = BTreeMap::new();
        let mut after = 0;
        loop {
            let page = self.store.query_incidents(&IncidentFilter {
                rule: Some(RuleId::ContaminatedDelivery.as_str().to_owned()),
                to: Some(start),
                after_seq: after,
                limit: 1000,
                ..Default::default()
            })?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for i in &page {
                if let Some(p) = i.body.get("point").and_then(|p| p.as_str()) {
                    *out.entry(PointId::new(p)).or_default() += 1;
                }
            }
        }
        Ok(out)
    }

    fn build_ctx(&self, date: NaiveDate) -> AppResult<(Arc<RuleContext>, u64)> {
        let prior = self.prior_contamination(date)?;
        let sh = self.shared();
        let ctx = build_context(
            &sh.master,
            sh.published.get(&date),
            &self.cfg.thresholds,
            &prior,
        )?;
        Ok((Arc::new(ctx), sh.generation))
    }

    /// Makes sure the day's engine exists and its context is current.
    fn ensure_day(&mut self, date: NaiveDate) -> AppResult<()> {
        self.tick += 1;
        let generation = self.shared().generation;
        if let Some(day) = self.days.get_mut(&date) {
            day.last_used = self.tick;
            if day.generation == generation {
                return Ok(());
            }
        }
        let (ctx, generation) = self.build_ctx(date)?;
        if let Some(day) = self.days.get_mut(&date) {
            day.ctx = ctx;
            day.generation = generation;
            return Ok(());
        }
        // Load: stored incidents are raised already; replay the stored events.
        let (from, to) = day_bounds(date, self.cfg.utc_offset_s);
        let mut engine = Engine::new();
        let mut after = 0;
        loop {
            let page = self.store.query_incidents(&IncidentFilter {
                from: Some(from),
                to: Some(to),
                after_seq: after,
                limit: 1000,
                ..Default::default()
            })?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            engine.mark_raised(page.iter().map(|i| engine_id(&i.incident_id).to_owned()));
        }
        let stored = self.store.query_events(&EventFilter {
            vehicle: None,
            from: Some(from),
            to: Some(to),
            limit: 0,
        })?;
        let mut per_vehicle: BTreeMap<VehicleId, Vec<TruckEvent>> = BTreeMap::new();
        for e in stored {
            if e.kind == REJECTED {
                continue;
            }
            if let Ok(ev) = serde_json::from_value::<TruckEvent>(e.body) {
                per_vehicle.entry(ev.vehicle.clone()).or_default().push(ev);
            }
        }
        for (v, mut evs) in per_vehicle {
            let fresh = engine.replay(&ctx, &v, &mut evs);
            for mut i in fresh {
                // The trip the rule fired on, not the trip the truck is on after the batch.
                let trip = engine.trip_index(&i.id);
                i.id = store_id(date, &i.id);
                self.pending.push((i, trip));
            }
        }
        self.days.insert(
            date,
            Day {
                engine,
                ctx,
                generation,
                last_used: self.tick,
            },
        );
        Ok(())
    }

    /// Drops the least recently used days beyond the configured number (never one
    /// the current group needs: called after the group is evaluated).
    fn evict(&mut self, keep: &BTreeSet<NaiveDate>) {
        while self.days.len() > self.cfg.max_days.max(keep.len()).max(1) {
            let oldest = self
                .days
                .iter()
                .filter(|(k, _)| !keep.contains(k))
                .min_by_key(|(_, d)| d.last_used)
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => {
                    self.days.remove(&k);
                }
                None => break,
            }
        }
    }

    /// Appends and evaluates one group of batches in one transaction.
    fn ingest(&mut self, group: Vec<EventsCmd>) {
        let mut dates = BTreeSet::new();
        for c in &group {
            for e in &c.batch.events {
                dates.insert(day_of(e.occurred_at, self.cfg.utc_offset_s));
            }
        }
        for d in &dates {
            if let Err(e) = self.ensure_day(*d) {
                for c in group {
                    let _ = c.reply.send(Err(e.clone()));
                }
                return;
            }
        }
        // Rows to append, with the index of the command each came from.
        let mut rows: Vec<NewEvent> = Vec::new();
        let mut owner: Vec<usize> = Vec::new();
        let mut decoded: Vec<Option<TruckEvent>> = Vec::new();
        for (ci, c) in group.iter().enumerate() {
            let b = &c.batch;
            for e in &b.events {
                rows.push(NewEvent {
                    client_event_id: e.client_event_id.clone(),
                    vehicle: b.vehicle.to_string(),
                    device: b.device.clone(),
                    device_seq: e.device_seq,
                    occurred_at: e.occurred_at,
                    received_at: c.received_at,
                    kind: e.kind.name().to_owned(),
                    body: serde_json::to_value(e).unwrap_or_default(),
                });
                owner.push(ci);
                decoded.push(Some(e.clone()));
            }
            for r in &b.rejected {
                if r.device_seq == 0 || r.device_seq > i64::MAX as u64 {
                    continue;
                }
                let id = if r.client_event_id.is_empty() || r.client_event_id.len() > 256 {
                    format!("rejected:{}:{}", b.device, r.device_seq)
                } else {
                    r.client_event_id.clone()
                };
                rows.push(NewEvent {
                    client_event_id: id,
                    vehicle: b.vehicle.to_string(),
                    device: b.device.clone(),
                    device_seq: r.device_seq,
                    occurred_at: c.received_at,
                    received_at: c.received_at,
                    kind: REJECTED.into(),
                    body: json!({ "client_event_id": r.client_event_id, "reason": r.reason }),
                });
                owner.push(ci);
                decoded.push(None);
            }
        }
        let pending = std::mem::take(&mut self.pending);
        let now = now_ms();
        let utc = self.cfg.utc_offset_s;
        let keep = self.cfg.resync_keep;
        let days = &mut self.days;
        let result = self.store.write(|tx| {
            let outcomes = tx.append_events(&rows)?;
            let mut fresh: Vec<TruckEvent> = Vec::new();
            for (o, ev) in outcomes.iter().zip(&decoded) {
                if let (AppendOutcome::Appended { .. }, Some(ev)) = (o, ev) {
                    fresh.push(ev.clone());
                }
            }
            // Rules, per service day, in occurred_at order (the engine sorts).
            let mut by_day: BTreeMap<NaiveDate, Vec<TruckEvent>> = BTreeMap::new();
            for ev in fresh {
                by_day
                    .entry(day_of(ev.occurred_at, utc))
                    .or_default()
                    .push(ev);
            }
            let mut raised: Vec<(Incident, Option<u32>)> = pending.clone();
            for (date, mut evs) in by_day {
                if let Some(day) = days.get_mut(&date) {
                    let found = day.engine.on_batch(&day.ctx, &mut evs);
                    for mut i in found {
                        let trip = day.engine.trip_index(&i.id);
                        i.id = store_id(date, &i.id);
                        raised.push((i, trip));
                    }
                }
            }
            let new_incidents: Vec<NewIncident> = raised
                .iter()
                .map(|(i, trip)| NewIncident {
                    incident_id: i.id.clone(),
                    vehicle: i.vehicle.to_string(),
                    district: i.district.as_ref().map(|d| d.to_string()),
                    stream: i.stream.map(|s| s.as_str().to_owned()),
                    rule: i.rule.as_str().to_owned(),
                    occurred_at: i.occurred_at,
                    evidence: i.evidence.clone(),
                    body: serde_json::to_value(IncidentBody {
                        incident: i.clone(),
                        trip_index: *trip,
                        detected_at: now,
                    })
                    .unwrap_or_default(),
                })
                .collect();
            let inc_out = tx.append_incidents(&new_incidents)?;
            let mut records = Vec::new();
            let mut warnings = Vec::new();
            for (o, (i, trip)) in inc_out.iter().zip(&raised) {
                if let AppendOutcome::Appended { record_seq, .. } = o {
                    records.push(IncidentRecord {
                        seq: *record_seq,
                        incident: i.clone(),
                        trip_index: *trip,
                        detected_at: now,
                    });
                    let body = TerminalBody::ViolationWarning(
                        ViolationWarning::from_incident(i, *trip).recorded(*record_seq, now),
                    );
                    warnings.push(NewTerminalMessage {
                        vehicle: i.vehicle.to_string(),
                        kind: body.kind().into(),
                        payload: serde_json::to_value(&body).unwrap_or_default(),
                        created_at: now,
                    });
                }
            }
            let seqs = tx.push_terminal_messages(&warnings)?;
            let mut msgs = Vec::with_capacity(seqs.len());
            for (seq, w) in seqs.iter().zip(&warnings) {
                if keep > 0 && *seq > keep {
                    tx.prune_terminal_messages(&w.vehicle, seq + 1 - keep)?;
                }
                let body: TerminalBody = serde_json::from_value(w.payload.clone())
                    .map_err(|e| sortfleet_ledger::LedgerError::Corrupt(e.to_string()))?;
                msgs.push((
                    VehicleId::new(w.vehicle.clone()),
                    TerminalMessage {
                        seq: *seq,
                        created_at: now,
                        body,
                    },
                ));
            }
            Ok((outcomes, records, msgs))
        });
        match result {
            Ok((outcomes, records, msgs)) => {
                let mut acks: Vec<Ack> = vec![Ack::default(); group.len()];
                for ((o, ci), ev) in outcomes.iter().zip(&owner).zip(&decoded) {
                    if ev.is_none() {
                        continue; // a rejected row: reported in `rejected`
                    }
                    match o {
                        AppendOutcome::Appended { .. } => acks[*ci].accepted += 1,
                        AppendOutcome::Duplicate { .. } => acks[*ci].duplicates += 1,
                    }
                }
                let mut contiguous: HashMap<String, u64> = HashMap::new();
                for (c, mut ack) in group.into_iter().zip(acks) {
                    ack.rejected = c.batch.rejected.clone();
                    let dev = &c.batch.device;
                    let seq = match contiguous.get(dev) {
                        Some(s) => Ok(*s),
                        None => self.store.device_contiguous_seq(dev).inspect(|s| {
                            contiguous.insert(dev.clone(), *s);
                        }),
                    };
                    let _ = c.reply.send(match seq {
                        Ok(s) => {
                            ack.acked_device_seq = s;
                            Ok(ack)
                        }
                        Err(e) => Err(e.into()),
                    });
                }
                self.hub.publish_terminal(&msgs);
                self.hub.publish_incidents(&records);
                self.evict(&dates);
            }
            Err(e) => {
                tracing::error!(error = %e, "event group commit failed; reloading rule state");
                self.days.clear();
                let err: AppError = e.into();
                for c in group {
                    let _ = c.reply.send(Err(err.clone()));
                }
            }
        }
    }

    /// Queues terminal messages and fans them out after the commit; used by publishing.
    pub(crate) fn after_commit_publish(&self, msgs: Vec<(VehicleId, TerminalMessage)>) {
        self.hub.publish_terminal(&msgs);
    }
}

/// Kind stored for events refused before storage.
pub(crate) const REJECTED: &str = "REJECTED";

pub(crate) fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Runs a job so that a bug in it cannot take the writer (and all intake) down.
fn run_guarded(state: &mut WriterState, job: Job) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(state))).is_err() {
        tracing::error!("writer job panicked; reloading rule state");
        state.days.clear();
    }
}

/// The writer loop; returns when every sender is gone.
pub(crate) fn run(mut state: WriterState, mut rx: mpsc::Receiver<Cmd>) {
    let max_group = state.cfg.max_group.max(1);
    while let Some(cmd) = rx.blocking_recv() {
        match cmd {
            Cmd::Exec(job) => run_guarded(&mut state, job),
            Cmd::Events(first) => {
                let mut n = first.batch.events.len() + first.batch.rejected.len();
                let mut group = vec![first];
                let mut deferred = None;
                while n < max_group {
                    match rx.try_recv() {
                        Ok(Cmd::Events(c)) => {
                            n += c.batch.events.len() + c.batch.rejected.len();
                            group.push(c);
                        }
                        Ok(Cmd::Exec(job)) => {
                            deferred = Some(job);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let ingest =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| state.ingest(group)));
                if ingest.is_err() {
                    // The callers see their reply channel dropped (an internal error);
                    // the rule state may be half-updated, so reload it from the store.
                    tracing::error!("event ingest panicked; reloading rule state");
                    state.days.clear();
                }
                if let Some(job) = deferred {
                    run_guarded(&mut state, job);
                }
            }
        }
    }
    if let Err(e) = state.store.checkpoint_now() {
        tracing::warn!(error = %e, "final checkpoint failed");
    }
}
