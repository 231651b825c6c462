//! The subscription streams: replay from the store, then live, without gap or repeat.
//!
//! Order of operations is what makes the switch seamless: the live channel is
//! registered *before* the backlog is read, so a message committed meanwhile is in the
//! backlog, in the live channel, or in both, never in neither; live items at or below
//! the last delivered seq are dropped. If a live item skips ahead (should not happen,
//! but cheap to handle) the stream falls back to reading the store again.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use serde::{Deserialize, Serialize};
use sortfleet_ledger::{IncidentFilter, Store};
use sortfleet_model::VehicleId;
use tokio::sync::mpsc;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::error::{AppError, AppResult};
use super::hub::{Hub, SubGuard};
use super::readers::Readers;
use super::types::{
    IncidentBody, IncidentQuery, IncidentRecord, IncidentStreamItem, RouteVersion, RouteView,
    Snapshot, TerminalBody, TerminalMessage, ViolationWarning,
};
use super::writer::day_bounds;

/// A vehicle's assignment stream. Ends with `Err(Lagged)` when the client was too slow.
pub type TerminalStream = Pin<Box<dyn Stream<Item = AppResult<TerminalMessage>> + Send>>;
/// A regulator's incident stream. Ends with `Err(Lagged)` when the client was too slow.
pub type IncidentStream = Pin<Box<dyn Stream<Item = AppResult<IncidentStreamItem>> + Send>>;

const PAGE: u32 = 256;

/// What `publish_route` stores for each route version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RouteBody {
    pub service_date: chrono::NaiveDate,
    pub plan_id: String,
    /// `None` when this version cancels the vehicle's route.
    pub route: Option<RouteView>,
}

fn ticker(every: Duration) -> Interval {
    let every = every.max(Duration::from_millis(10));
    let mut t = tokio::time::interval_at(Instant::now() + every, every);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

fn decode(
    m: sortfleet_ledger::TerminalMessage,
) -> Result<TerminalMessage, sortfleet_ledger::LedgerError> {
    let body: TerminalBody = serde_json::from_value(m.payload).map_err(|e| {
        sortfleet_ledger::LedgerError::Corrupt(format!("terminal message {}: {e}", m.seq))
    })?;
    Ok(TerminalMessage {
        seq: m.seq,
        created_at: m.created_at,
        body,
    })
}

/// Reads the snapshot of a vehicle (latest non-cancelled route, its day's warnings).
fn snapshot(
    store: &Store,
    vehicle: &str,
    head_seq: u64,
    utc_offset_s: i64,
) -> Result<Snapshot, sortfleet_ledger::LedgerError> {
    let mut snap = Snapshot {
        head_seq,
        current_route: None,
        warnings: Vec::new(),
    };
    let Some(pr) = store.latest_route(vehicle)? else {
        return Ok(snap);
    };
    let body: RouteBody = serde_json::from_value(pr.body).map_err(|e| {
        sortfleet_ledger::LedgerError::Corrupt(format!("route {vehicle} v{}: {e}", pr.version))
    })?;
    let (from, to) = day_bounds(body.service_date, utc_offset_s);
    if let Some(route) = body.route {
        snap.current_route = Some(RouteVersion {
            plan_id: body.plan_id,
            service_date: body.service_date,
            version: pr.version,
            route,
        });
    }
    let mut after = 0;
    loop {
        let page = store.query_incidents(&IncidentFilter {
            vehicle: Some(vehicle.to_owned()),
            from: Some(from),
            to: Some(to),
            after_seq: after,
            limit: 1000,
            ..Default::default()
        })?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for i in page {
            if let Ok(r) = to_record(i) {
                snap.warnings.push(ViolationWarning::from_record(&r));
            }
        }
    }
    Ok(snap)
}

struct TermState {
    readers: Arc<Readers>,
    vehicle: VehicleId,
    live: mpsc::Receiver<TerminalMessage>,
    _guard: SubGuard,
    pending: VecDeque<TerminalMessage>,
    last_sent: u64,
    started: bool,
    backlog_done: bool,
    finished: bool,
    after_seq: u64,
    utc_offset_s: i64,
    tick: Interval,
}

impl TermState {
    /// First read: a resync snapshot if `after_seq` is no longer kept, else the backlog.
    async fn start(&mut self) -> AppResult<()> {
        let vehicle = self.vehicle.to_string();
        let after = self.after_seq;
        let utc = self.utc_offset_s;
        let (snap, msgs) = self
            .readers
            .read(move |s| {
                let w = s.terminal_window(&vehicle)?;
                let too_old = after < w.head_seq && after + 1 < w.oldest_kept_seq;
                let ahead = after > w.head_seq;
                if too_old || ahead {
                    let snap = snapshot(s, &vehicle, w.head_seq, utc)?;
                    let msgs = s.terminal_messages_after(&vehicle, w.head_seq, PAGE)?;
                    Ok((Some(snap), msgs))
                } else {
                    Ok((None, s.terminal_messages_after(&vehicle, after, PAGE)?))
                }
            })
            .await?;
        if let Some(snap) = snap {
            let head = snap.head_seq;
            self.pending.push_back(TerminalMessage {
                seq: head,
                created_at: super::writer::now_ms(),
                body: TerminalBody::Resync(snap),
            });
            self.last_sent = head;
        } else {
            self.last_sent = after;
        }
        self.backlog_done = (msgs.len() as u32) < PAGE;
        for m in msgs {
            self.pending.push_back(decode(m)?);
        }
        Ok(())
    }

    async fn next_page(&mut self) -> AppResult<()> {
        let vehicle = self.vehicle.to_string();
        let after = self.pending.back().map_or(self.last_sent, |m| m.seq);
        let msgs = self
            .readers
            .read(move |s| s.terminal_messages_after(&vehicle, after, PAGE))
            .await?;
        self.backlog_done = (msgs.len() as u32) < PAGE;
        for m in msgs {
            self.pending.push_back(decode(m)?);
        }
        Ok(())
    }

    async fn next(&mut self) -> Option<AppResult<TerminalMessage>> {
        if self.finished {
            return None;
        }
        if !self.started {
            self.started = true;
            if let Err(e) = self.start().await {
                self.finished = true;
                return Some(Err(e));
            }
        }
        loop {
            if let Some(m) = self.pending.pop_front() {
                if m.seq <= self.last_sent && !matches!(m.body, TerminalBody::Resync(_)) {
                    continue;
                }
                self.last_sent = m.seq;
                return Some(Ok(m));
            }
            if !self.backlog_done {
                if let Err(e) = self.next_page().await {
                    self.finished = true;
                    return Some(Err(e));
                }
                continue;
            }
            tokio::select! {
                biased;
                m = self.live.recv() => match m {
                    Some(m) if m.seq <= self.last_sent => continue,
                    Some(m) if m.seq == self.last_sent + 1 => {
                        self.last_sent = m.seq;
                        return Some(Ok(m));
                    }
                    Some(_) => {
                        // A gap: read the store again (it holds everything committed).
                        self.backlog_done = false;
                        continue;
                    }
                    None => {
                        self.finished = true;
                        return Some(Err(AppError::Lagged { last_seq: self.last_sent }));
                    }
                },
                _ = self.tick.tick() => {
                    return Some(Ok(TerminalMessage {
                        seq: self.last_sent,
                        created_at: super::writer::now_ms(),
                        body: TerminalBody::Heartbeat { head_seq: self.last_sent },
                    }));
                }
            }
        }
    }
}

pub(crate) fn terminal_stream(
    hub: &Arc<Hub>,
    readers: Arc<Readers>,
    vehicle: VehicleId,
    after_seq: u64,
    heartbeat: Duration,
    utc_offset_s: i64,
) -> TerminalStream {
    let (guard, live) = hub.subscribe_terminal(&vehicle);
    let st = TermState {
        readers,
        vehicle,
        live,
        _guard: guard,
        pending: VecDeque::new(),
        last_sent: after_seq,
        started: false,
        backlog_done: false,
        finished: false,
        after_seq,
        utc_offset_s,
        tick: ticker(heartbeat),
    };
    Box::pin(futures::stream::unfold(st, |mut st| async move {
        let item = st.next().await?;
        Some((item, st))
    }))
}

/// Pushes the single-valued parts of a query down to SQL; the rest filters in memory.
pub(crate) fn pushdown(q: &IncidentQuery, after_seq: u64, limit: u32) -> IncidentFilter {
    fn one<T: ToString>(v: &[T]) -> Option<String> {
        (v.len() == 1).then(|| v[0].to_string())
    }
    IncidentFilter {
        district: one(&q.districts),
        vehicle: one(&q.vehicles),
        stream: one(&q.streams),
        rule: one(&q.rules),
        from: q.from,
        to: q.to,
        after_seq,
        limit,
    }
}

pub(crate) fn to_record(
    i: sortfleet_ledger::StoredIncident,
) -> Result<IncidentRecord, sortfleet_ledger::LedgerError> {
    let b: IncidentBody = serde_json::from_value(i.body)
        .map_err(|e| sortfleet_ledger::LedgerError::Corrupt(format!("incident {}: {e}", i.seq)))?;
    let mut incident = b.incident;
    incident.id = i.incident_id;
    Ok(IncidentRecord {
        seq: i.seq,
        incident,
        trip_index: b.trip_index,
        detected_at: b.detected_at,
    })
}

/// Scans from `after_seq` for up to `limit` matches; returns them and the last seq scanned.
pub(crate) fn scan_incidents(
    s: &Store,
    q: &IncidentQuery,
    after_seq: u64,
    limit: usize,
) -> Result<(Vec<IncidentRecord>, u64, bool), sortfleet_ledger::LedgerError> {
    let mut out = Vec::new();
    let mut after = after_seq;
    loop {
        let page = s.query_incidents(&pushdown(q, after, 500))?;
        let exhausted = page.len() < 500;
        for i in page {
            after = i.seq;
            let r = to_record(i)?;
            if q.matches(&r) {
                out.push(r);
                if out.len() >= limit {
                    return Ok((out, after, false));
                }
            }
        }
        if exhausted {
            return Ok((out, after, true));
        }
    }
}

struct IncState {
    readers: Arc<Readers>,
    hub: Arc<Hub>,
    filter: IncidentQuery,
    live: mpsc::Receiver<IncidentRecord>,
    _guard: SubGuard,
    pending: VecDeque<IncidentRecord>,
    scanned: u64,
    backlog_done: bool,
    finished: bool,
    tick: Interval,
}

impl IncState {
    async fn page(&mut self) -> AppResult<()> {
        let q = self.filter.clone();
        let after = self.scanned;
        let (list, scanned, done) = self
            .readers
            .read(move |s| scan_incidents(s, &q, after, PAGE as usize))
            .await?;
        self.scanned = scanned;
        self.backlog_done = done;
        self.pending.extend(list);
        Ok(())
    }

    async fn next(&mut self) -> Option<AppResult<IncidentStreamItem>> {
        if self.finished {
            return None;
        }
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Some(Ok(IncidentStreamItem::Incident(r)));
            }
            if !self.backlog_done {
                if let Err(e) = self.page().await {
                    self.finished = true;
                    return Some(Err(e));
                }
                continue;
            }
            tokio::select! {
                biased;
                r = self.live.recv() => match r {
                    Some(r) if r.seq <= self.scanned => continue,
                    Some(r) => {
                        // Live items skip non-matching seqs, so no gap check is possible
                        // here; the live channel registered before the backlog read
                        // guarantees completeness.
                        self.scanned = r.seq;
                        return Some(Ok(IncidentStreamItem::Incident(r)));
                    }
                    None => {
                        self.finished = true;
                        return Some(Err(AppError::Lagged { last_seq: self.scanned }));
                    }
                },
                _ = self.tick.tick() => {
                    let head = self.hub.incident_head().max(self.scanned);
                    return Some(Ok(IncidentStreamItem::Heartbeat { head_seq: head }));
                }
            }
        }
    }
}

pub(crate) fn incident_stream(
    hub: &Arc<Hub>,
    readers: Arc<Readers>,
    filter: IncidentQuery,
    after_seq: u64,
    heartbeat: Duration,
) -> IncidentStream {
    let (guard, live) = hub.subscribe_incidents(filter.clone());
    let st = IncState {
        readers,
        hub: hub.clone(),
        filter,
        live,
        _guard: guard,
        pending: VecDeque::new(),
        scanned: after_seq,
        backlog_done: false,
        finished: false,
        tick: ticker(heartbeat),
    };
    Box::pin(futures::stream::unfold(st, |mut st| async move {
        let item = st.next().await?;
        Some((item, st))
    }))
}
