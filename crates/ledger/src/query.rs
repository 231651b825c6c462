//! Read queries for the service: incidents, events, terminal outboxes, master data.

use rusqlite::types::Value as SqlValue;
use rusqlite::{OptionalExtension, Row, params, params_from_iter};
use serde_json::Value;

use crate::error::{LedgerError, Result};
use crate::store::Store;
use crate::types::*;

const DEFAULT_PAGE: u32 = 1000;

/// Ledger record of an incident id: the `incident_id` unique index, then the
/// `ledger (kind, record_ref)` index of schema v2.
const BY_INCIDENT: &str =
    "JOIN incidents i ON l.kind = 'incident' AND l.record_ref = i.seq WHERE i.incident_id = ?1";

/// Ledger record of a client event id (same two-index path as [`BY_INCIDENT`]).
const BY_EVENT: &str =
    "JOIN events e ON l.kind = 'event' AND l.record_ref = e.seq WHERE e.client_event_id = ?1";

fn entry_sql(cond: &str) -> String {
    format!(
        "SELECT l.seq, l.kind, l.record_ref, l.algo, l.prev_hash, l.hash FROM ledger l {cond}
         ORDER BY l.seq LIMIT 1"
    )
}

fn parse_json(what: &str, text: &str) -> rusqlite::Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("{what}: stored JSON does not parse: {e}").into(),
        )
    })
}

const EVENT_COLS: &str =
    "seq, client_event_id, vehicle, device, device_seq, occurred_at, received_at, kind, body";

fn event_row(r: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    let body: String = r.get(8)?;
    Ok(StoredEvent {
        seq: r.get::<_, i64>(0)? as u64,
        client_event_id: r.get(1)?,
        vehicle: r.get(2)?,
        device: r.get(3)?,
        device_seq: r.get::<_, i64>(4)? as u64,
        occurred_at: r.get(5)?,
        received_at: r.get(6)?,
        kind: r.get(7)?,
        body: parse_json("event body", &body)?,
    })
}

const INCIDENT_COLS: &str = "seq, incident_id, vehicle, district, stream, rule, occurred_at, body";

fn incident_row(r: &Row<'_>) -> rusqlite::Result<StoredIncident> {
    let body: String = r.get(7)?;
    Ok(StoredIncident {
        seq: r.get::<_, i64>(0)? as u64,
        incident_id: r.get(1)?,
        vehicle: r.get(2)?,
        district: r.get(3)?,
        stream: r.get(4)?,
        rule: r.get(5)?,
        occurred_at: r.get(6)?,
        evidence: Vec::new(),
        body: parse_json("incident body", &body)?,
    })
}

fn page(limit: u32) -> i64 {
    if limit == 0 {
        DEFAULT_PAGE as i64
    } else {
        limit as i64
    }
}

impl Store {
    fn with_evidence(&self, mut list: Vec<StoredIncident>) -> Result<Vec<StoredIncident>> {
        let mut st = self.conn.prepare_cached(
            "SELECT client_event_id FROM incident_evidence WHERE incident_seq = ?1 ORDER BY pos",
        )?;
        for inc in &mut list {
            inc.evidence = st
                .query_map([inc.seq as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(list)
    }

    /// Incidents matching `f`, ordered by seq, at most one page; the next page
    /// starts after the last returned seq.
    pub fn query_incidents(&self, f: &IncidentFilter) -> Result<Vec<StoredIncident>> {
        let mut sql = format!("SELECT {INCIDENT_COLS} FROM incidents WHERE seq > ?1");
        let mut args: Vec<SqlValue> =
            vec![SqlValue::Integer(f.after_seq.min(i64::MAX as u64) as i64)];
        let mut add = |col: &str, op: &str, v: SqlValue| {
            args.push(v);
            sql.push_str(&format!(" AND {col} {op} ?{}", args.len()));
        };
        if let Some(d) = &f.district {
            add("district", "=", SqlValue::Text(d.clone()));
        }
        if let Some(v) = &f.vehicle {
            add("vehicle", "=", SqlValue::Text(v.clone()));
        }
        if let Some(s) = &f.stream {
            add("stream", "=", SqlValue::Text(s.clone()));
        }
        if let Some(r) = &f.rule {
            add("rule", "=", SqlValue::Text(r.clone()));
        }
        if let Some(t) = f.from {
            add("occurred_at", ">=", SqlValue::Integer(t));
        }
        if let Some(t) = f.to {
            add("occurred_at", "<", SqlValue::Integer(t));
        }
        args.push(SqlValue::Integer(page(f.limit)));
        sql.push_str(&format!(" ORDER BY seq LIMIT ?{}", args.len()));
        let list = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), incident_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        self.with_evidence(list)
    }

    /// Incidents with `seq > after_seq`, in order (the `SubscribeIncidents` resume).
    pub fn incidents_after(&self, after_seq: u64, limit: u32) -> Result<Vec<StoredIncident>> {
        self.query_incidents(&IncidentFilter {
            after_seq,
            limit,
            ..Default::default()
        })
    }

    /// Highest incident seq (0 = none).
    pub fn incident_head_seq(&self) -> Result<u64> {
        let n: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM incidents", [], |r| {
                    r.get(0)
                })?;
        Ok(n as u64)
    }

    /// One incident by id, with the evidence events that are stored.
    pub fn incident_by_id(&self, incident_id: &str) -> Result<Option<IncidentWithEvidence>> {
        let inc = self
            .conn
            .prepare_cached(&format!(
                "SELECT {INCIDENT_COLS} FROM incidents WHERE incident_id = ?1"
            ))?
            .query_row([incident_id], incident_row)
            .optional()?;
        let Some(inc) = inc else { return Ok(None) };
        let incident = self.with_evidence(vec![inc])?.remove(0);
        let mut events = Vec::with_capacity(incident.evidence.len());
        for id in &incident.evidence {
            if let Some(e) = self.event_by_client_id(id)? {
                events.push(e);
            }
        }
        Ok(Some(IncidentWithEvidence { incident, events }))
    }

    /// The ledger record of an incident, by incident id (`None`: no such incident, or
    /// it was never chained). A read-only lookup through two indexes
    /// (`incidents.incident_id`, `ledger (kind, record_ref)`), so it stays fast on
    /// large ledgers. It reports what is stored; [`Store::verify`] says whether that
    /// still checks out.
    pub fn incident_ledger_entry(&self, incident_id: &str) -> Result<Option<LedgerEntry>> {
        self.ledger_entry_where(BY_INCIDENT, incident_id)
    }

    /// The ledger record of an event, by client event id (see
    /// [`Store::incident_ledger_entry`]).
    pub fn event_ledger_entry(&self, client_event_id: &str) -> Result<Option<LedgerEntry>> {
        self.ledger_entry_where(BY_EVENT, client_event_id)
    }

    /// One ledger record by its chain position.
    pub fn ledger_entry(&self, seq: u64) -> Result<Option<LedgerEntry>> {
        self.ledger_entry_where("WHERE l.seq = ?1", seq.min(i64::MAX as u64) as i64)
    }

    fn ledger_entry_where(
        &self,
        cond: &str,
        arg: impl rusqlite::ToSql,
    ) -> Result<Option<LedgerEntry>> {
        Ok(self
            .conn
            .prepare_cached(&entry_sql(cond))?
            .query_row([arg], |r| {
                Ok(LedgerEntry {
                    seq: r.get::<_, i64>(0)? as u64,
                    kind: r.get(1)?,
                    record_ref: r.get::<_, i64>(2)? as u64,
                    algo: r.get(3)?,
                    prev_hash: r.get(4)?,
                    hash: r.get(5)?,
                })
            })
            .optional()?)
    }

    /// One event by its client id.
    pub fn event_by_client_id(&self, client_event_id: &str) -> Result<Option<StoredEvent>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLS} FROM events WHERE client_event_id = ?1"
            ))?
            .query_row([client_event_id], event_row)
            .optional()?)
    }

    /// Events matching `f` ordered by `(occurred_at, seq)`: a vehicle's day for the
    /// scorecard or rule replay (pass the day's bounds as `from`/`to`).
    pub fn query_events(&self, f: &EventFilter) -> Result<Vec<StoredEvent>> {
        let mut sql = format!("SELECT {EVENT_COLS} FROM events WHERE 1=1");
        let mut args: Vec<SqlValue> = Vec::new();
        if let Some(v) = &f.vehicle {
            args.push(SqlValue::Text(v.clone()));
            sql.push_str(&format!(" AND vehicle = ?{}", args.len()));
        }
        if let Some(t) = f.from {
            args.push(SqlValue::Integer(t));
            sql.push_str(&format!(" AND occurred_at >= ?{}", args.len()));
        }
        if let Some(t) = f.to {
            args.push(SqlValue::Integer(t));
            sql.push_str(&format!(" AND occurred_at < ?{}", args.len()));
        }
        sql.push_str(" ORDER BY occurred_at, seq");
        if f.limit > 0 {
            args.push(SqlValue::Integer(f.limit as i64));
            sql.push_str(&format!(" LIMIT ?{}", args.len()));
        }
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), event_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Events with `seq > after_seq` in ingest order (e.g. to rebuild state on start).
    pub fn events_after(&self, after_seq: u64, limit: u32) -> Result<Vec<StoredEvent>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?
            .query_map(
                params![after_seq.min(i64::MAX as u64) as i64, page(limit)],
                event_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Highest `n` such that the device's events `1..=n` are all stored (0 = none):
    /// the acknowledgement a terminal may trust.
    pub fn device_contiguous_seq(&self, device: &str) -> Result<u64> {
        let n: Option<i64> = self
            .conn
            .prepare_cached("SELECT contiguous FROM device_progress WHERE device = ?1")?
            .query_row([device], |r| r.get(0))
            .optional()?;
        Ok(n.unwrap_or(0) as u64)
    }

    /// A vehicle's terminal messages with `seq > after_seq`, in order, one page.
    pub fn terminal_messages_after(
        &self,
        vehicle: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<TerminalMessage>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT vehicle, seq, kind, payload, created_at FROM terminal_messages
                 WHERE vehicle = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?
            .query_map(
                params![vehicle, after_seq.min(i64::MAX as u64) as i64, page(limit)],
                |r| {
                    let payload: String = r.get(3)?;
                    Ok(TerminalMessage {
                        vehicle: r.get(0)?,
                        seq: r.get::<_, i64>(1)? as u64,
                        kind: r.get(2)?,
                        payload: parse_json("terminal payload", &payload)?,
                        created_at: r.get(4)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Head seq and oldest kept seq of a vehicle's outbox.
    pub fn terminal_window(&self, vehicle: &str) -> Result<TerminalWindow> {
        let head: i64 = self
            .conn
            .prepare_cached("SELECT head_seq FROM terminal_heads WHERE vehicle = ?1")?
            .query_row([vehicle], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let oldest: Option<i64> = self
            .conn
            .prepare_cached("SELECT MIN(seq) FROM terminal_messages WHERE vehicle = ?1")?
            .query_row([vehicle], |r| r.get(0))?;
        Ok(TerminalWindow {
            head_seq: head as u64,
            oldest_kept_seq: oldest.unwrap_or(head + 1) as u64,
        })
    }

    /// One master-data record.
    pub fn get_master(&self, kind: MasterKind, id: &str) -> Result<Option<Value>> {
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT body FROM master_data WHERE kind = ?1 AND id = ?2")?
            .query_row(params![kind.as_str(), id], |r| r.get(0))
            .optional()?;
        text.map(|t| json("master data", &t)).transpose()
    }

    /// All master-data records of a kind, ordered by id.
    pub fn list_master(&self, kind: MasterKind) -> Result<Vec<(String, Value)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, body FROM master_data WHERE kind = ?1 ORDER BY id")?
            .query_map([kind.as_str()], |r| {
                let body: String = r.get(1)?;
                Ok((r.get(0)?, parse_json("master data", &body)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// One plan.
    pub fn get_plan(&self, id: &str) -> Result<Option<StoredPlan>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, body, created_at FROM plans WHERE id = ?1")?
            .query_row([id], |r| {
                let body: String = r.get(1)?;
                Ok(StoredPlan {
                    id: r.get(0)?,
                    body: parse_json("plan", &body)?,
                    created_at: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// Ids and creation times of all plans, newest first.
    pub fn list_plans(&self) -> Result<Vec<(String, Millis)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, created_at FROM plans ORDER BY created_at DESC, id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A vehicle's latest published route.
    pub fn latest_route(&self, vehicle: &str) -> Result<Option<PublishedRoute>> {
        self.route_where(
            "vehicle = ?1 ORDER BY version DESC LIMIT 1",
            params![vehicle],
        )
    }

    /// One version of a vehicle's route.
    pub fn route(&self, vehicle: &str, version: u64) -> Result<Option<PublishedRoute>> {
        self.route_where(
            "vehicle = ?1 AND version = ?2",
            params![vehicle, version.min(i64::MAX as u64) as i64],
        )
    }

    fn route_where(
        &self,
        cond: &str,
        p: &[&dyn rusqlite::ToSql],
    ) -> Result<Option<PublishedRoute>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT vehicle, version, plan_id, body, published_at FROM routes WHERE {cond}"
            ))?
            .query_row(p, |r| {
                let body: String = r.get(3)?;
                Ok(PublishedRoute {
                    vehicle: r.get(0)?,
                    version: r.get::<_, i64>(1)? as u64,
                    plan_id: r.get(2)?,
                    body: parse_json("route", &body)?,
                    published_at: r.get(4)?,
                })
            })
            .optional()?)
    }
}

fn json(what: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| LedgerError::Corrupt(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;
    use serde_json::json;

    fn plan_of(store: &Store, cond: &str) -> String {
        let mut st = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", entry_sql(cond)))
            .unwrap();
        let rows = st
            .query_map(["x"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        rows.join(" | ")
    }

    /// The lookups stay index lookups however large the ledger grows: no step of the
    /// plan scans a table.
    #[test]
    fn ledger_lookups_use_indexes_not_scans() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("q.db"), &StoreConfig::default()).unwrap();
        for cond in [BY_INCIDENT, BY_EVENT] {
            let plan = plan_of(&store, cond);
            assert!(!plan.contains("SCAN"), "{cond}: {plan}");
            assert!(plan.contains("ledger_record"), "{cond}: {plan}");
        }
    }

    #[test]
    fn lookups_find_the_record_of_each_incident_and_event() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("q.db"), &StoreConfig::default()).unwrap();
        let ev = |id: &str, n: u64| NewEvent {
            client_event_id: id.into(),
            vehicle: "V1".into(),
            device: "d".into(),
            device_seq: n,
            occurred_at: n as i64,
            received_at: n as i64,
            kind: "BIN_SCAN".into(),
            body: json!({}),
        };
        let inc = |id: &str| NewIncident {
            incident_id: id.into(),
            vehicle: "V1".into(),
            district: None,
            stream: None,
            rule: "MIXED_TRIP".into(),
            occurred_at: 1,
            evidence: vec!["a".into()],
            body: json!({}),
        };
        // Incident rows and event rows both start at row 1: the lookup must not confuse
        // incident row 1 with event row 1.
        store.append_events(&[ev("a", 1), ev("b", 2)]).unwrap();
        store.append_incidents(&[inc("i1")]).unwrap();
        store.append_events(&[ev("c", 3)]).unwrap();
        store.append_incidents(&[inc("i2")]).unwrap();
        let i1 = store.incident_ledger_entry("i1").unwrap().unwrap();
        assert_eq!(
            (i1.seq, i1.kind.as_str(), i1.record_ref),
            (3, "incident", 1)
        );
        let i2 = store.incident_ledger_entry("i2").unwrap().unwrap();
        assert_eq!((i2.seq, i2.record_ref), (5, 2));
        assert_eq!(i2.hash.as_slice(), &store.head().unwrap().hash[..]);
        assert_eq!(i2.prev_hash, store.ledger_entry(4).unwrap().unwrap().hash);
        let c = store.event_ledger_entry("c").unwrap().unwrap();
        assert_eq!((c.seq, c.kind.as_str(), c.record_ref), (4, "event", 3));
        assert_eq!(c.hash_hex().len(), 64);
        assert_eq!(store.incident_ledger_entry("a").unwrap(), None);
        assert_eq!(store.event_ledger_entry("i1").unwrap(), None);
        assert_eq!(store.ledger_entry(6).unwrap(), None);
        assert_eq!(store.ledger_entry(u64::MAX).unwrap(), None);
    }
}
