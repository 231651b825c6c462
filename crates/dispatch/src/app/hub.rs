//! Fan-out of committed messages to live subscribers.
//!
//! Only the writer thread publishes, right after a commit and in commit order, so a
//! subscriber's live channel sees a vehicle's messages in seq order. Every subscriber
//! has a bounded channel filled with `try_send`: a full channel means the client is too
//! slow, and it is dropped on the spot (its stream ends with `Lagged`, the client
//! resumes with `after_seq`) instead of making the writer or anyone else wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use sortfleet_model::VehicleId;
use tokio::sync::mpsc;

use super::types::{IncidentQuery, IncidentRecord, TerminalMessage};

struct TermSub {
    id: u64,
    tx: mpsc::Sender<TerminalMessage>,
}

struct IncSub {
    id: u64,
    filter: IncidentQuery,
    tx: mpsc::Sender<IncidentRecord>,
}

#[derive(Default)]
struct HubInner {
    terminals: HashMap<VehicleId, Vec<TermSub>>,
    heads: HashMap<VehicleId, u64>,
    incidents: Vec<IncSub>,
    incident_head: u64,
    next_id: u64,
    dropped_slow: u64,
}

/// The subscriber registry.
pub(crate) struct Hub {
    inner: Mutex<HubInner>,
    buffer: usize,
}

impl Hub {
    pub(crate) fn new(buffer: usize, incident_head: u64) -> Arc<Hub> {
        Arc::new(Hub {
            inner: Mutex::new(HubInner {
                incident_head,
                ..HubInner::default()
            }),
            buffer: buffer.max(1),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HubInner> {
        // A panic while holding the lock leaves consistent maps; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a live channel for `vehicle`; call before reading the backlog.
    pub(crate) fn subscribe_terminal(
        self: &Arc<Self>,
        vehicle: &VehicleId,
    ) -> (SubGuard, mpsc::Receiver<TerminalMessage>) {
        let (tx, rx) = mpsc::channel(self.buffer);
        let mut g = self.lock();
        g.next_id += 1;
        let id = g.next_id;
        g.terminals
            .entry(vehicle.clone())
            .or_default()
            .push(TermSub { id, tx });
        (
            SubGuard {
                hub: self.clone(),
                kind: SubKind::Terminal(vehicle.clone()),
                id,
            },
            rx,
        )
    }

    /// Registers a live incident channel; call before reading the backlog.
    pub(crate) fn subscribe_incidents(
        self: &Arc<Self>,
        filter: IncidentQuery,
    ) -> (SubGuard, mpsc::Receiver<IncidentRecord>) {
        let (tx, rx) = mpsc::channel(self.buffer);
        let mut g = self.lock();
        g.next_id += 1;
        let id = g.next_id;
        g.incidents.push(IncSub { id, filter, tx });
        (
            SubGuard {
                hub: self.clone(),
                kind: SubKind::Incidents,
                id,
            },
            rx,
        )
    }

    /// Delivers committed terminal messages (in seq order per vehicle).
    pub(crate) fn publish_terminal(&self, msgs: &[(VehicleId, TerminalMessage)]) {
        if msgs.is_empty() {
            return;
        }
        let mut g = self.lock();
        let g = &mut *g;
        for (v, m) in msgs {
            let head = g.heads.entry(v.clone()).or_default();
            *head = (*head).max(m.seq);
            if let Some(subs) = g.terminals.get_mut(v) {
                let before = subs.len();
                subs.retain(|s| s.tx.try_send(m.clone()).is_ok());
                g.dropped_slow += (before - subs.len()) as u64;
            }
        }
    }

    /// Delivers committed incidents (in seq order) to matching subscribers.
    pub(crate) fn publish_incidents(&self, list: &[IncidentRecord]) {
        if list.is_empty() {
            return;
        }
        let mut g = self.lock();
        let g = &mut *g;
        for r in list {
            g.incident_head = g.incident_head.max(r.seq);
            let before = g.incidents.len();
            g.incidents
                .retain(|s| !s.filter.matches(r) || s.tx.try_send(r.clone()).is_ok());
            g.dropped_slow += (before - g.incidents.len()) as u64;
        }
    }

    /// Highest seq committed for `vehicle` that passed through the hub (0 = none yet).
    pub(crate) fn terminal_head(&self, vehicle: &VehicleId) -> u64 {
        self.lock().heads.get(vehicle).copied().unwrap_or(0)
    }

    /// Highest incident seq known.
    pub(crate) fn incident_head(&self) -> u64 {
        self.lock().incident_head
    }

    /// Live subscriber counts (terminals, incident feeds) and slow ones dropped so far.
    pub(crate) fn stats(&self) -> HubStats {
        let g = self.lock();
        HubStats {
            terminal_subscribers: g.terminals.values().map(Vec::len).sum(),
            incident_subscribers: g.incidents.len(),
            dropped_slow: g.dropped_slow,
        }
    }

    fn remove(&self, kind: &SubKind, id: u64) {
        let mut g = self.lock();
        match kind {
            SubKind::Terminal(v) => {
                if let Some(subs) = g.terminals.get_mut(v) {
                    subs.retain(|s| s.id != id);
                    if subs.is_empty() {
                        g.terminals.remove(v);
                    }
                }
            }
            SubKind::Incidents => g.incidents.retain(|s| s.id != id),
        }
    }
}

/// Subscriber figures, for health pages and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HubStats {
    /// Open terminal assignment streams.
    pub terminal_subscribers: usize,
    /// Open incident feeds.
    pub incident_subscribers: usize,
    /// Subscribers disconnected for being too slow since start.
    pub dropped_slow: u64,
}

enum SubKind {
    Terminal(VehicleId),
    Incidents,
}

/// Unregisters its subscriber when the stream holding it is dropped (client gone).
pub(crate) struct SubGuard {
    hub: Arc<Hub>,
    kind: SubKind,
    id: u64,
}

impl Drop for SubGuard {
    fn drop(&mut self) {
        self.hub.remove(&self.kind, self.id);
    }
}
