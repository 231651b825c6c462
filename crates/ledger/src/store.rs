//! Opening the database, migrations, and the write transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::canonical::{
    EventRecord, GENESIS_HASH, HashAlgorithm, IncidentRecord, canonical_json, checkpoint_message,
};
use crate::error::{LedgerError, Result};
use crate::keys::CheckpointKey;
use crate::types::*;

/// Migrations, applied in order; the number is the schema version each one reaches.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_ledger_meta.sql")),
];

/// Schema version this build writes.
pub const SCHEMA_VERSION: i64 = 2;

/// `ledger_meta` key of the chain's hash algorithm.
const META_HASH_ALGORITHM: &str = "hash_algorithm";

/// How hard a commit waits for the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: every commit fsyncs the WAL before returning, so an
    /// acknowledged batch survives power loss as well as `kill -9`.
    #[default]
    Full,
    /// `synchronous=NORMAL` in WAL mode: a commit has `write()`n its frames to the WAL
    /// file before returning, so they are in the OS page cache and survive the process
    /// being killed (`kill -9`); only an OS crash or power loss can drop the last few
    /// commits. The WAL is fsynced at checkpoints.
    Normal,
}

/// How a store is opened.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Commit durability.
    pub durability: Durability,
    /// Write a signed checkpoint every this many ledger records (0 = only on
    /// [`Store::checkpoint_now`]). Needs [`StoreConfig::checkpoint_key`].
    pub checkpoint_every: u64,
    /// Key that signs checkpoints; without one no checkpoints are written.
    pub checkpoint_key: Option<CheckpointKey>,
    /// How long a writer waits for a lock held by another connection.
    pub busy_timeout: Duration,
    /// Hash algorithm of the chain. It takes effect when the first record is
    /// appended and is then fixed for the life of the ledger: opening a ledger that
    /// was started with another algorithm fails with
    /// [`LedgerError::AlgorithmMismatch`].
    pub hash_algorithm: HashAlgorithm,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            durability: Durability::Full,
            checkpoint_every: 1000,
            checkpoint_key: None,
            busy_timeout: Duration::from_secs(5),
            hash_algorithm: HashAlgorithm::Sha256,
        }
    }
}

/// The embedded store: one SQLite connection. Synchronous and `Send`; the service
/// owns one writable `Store` on a writer thread and may open read-only ones for queries.
pub struct Store {
    pub(crate) conn: Connection,
    cfg: StoreConfig,
    read_only: bool,
    /// True once the ledger's stored algorithm is known to equal the configured one;
    /// until then every write transaction checks it (another writer may start the chain).
    algo_fixed: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.conn.path())
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) a store, switches it to WAL, applies pending
    /// migrations, and refuses a database from a newer version.
    pub fn open(path: impl AsRef<Path>, cfg: &StoreConfig) -> Result<Store> {
        let mut conn = Connection::open(path.as_ref())?;
        conn.busy_timeout(cfg.busy_timeout)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(LedgerError::Corrupt(format!(
                "cannot switch to WAL journal mode (got {mode})"
            )));
        }
        let sync = match cfg.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        migrate(&mut conn)?;
        let algo_fixed = check_algorithm(&conn, cfg.hash_algorithm)?;
        Ok(Store {
            conn,
            cfg: cfg.clone(),
            read_only: false,
            algo_fixed,
        })
    }

    /// Opens an existing store read-only (no migration, no writes, no WAL switch).
    /// Accepts older schema versions so that verification of old files keeps working.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        let conn = Connection::open_with_flags(
            path.as_ref(),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let has_table: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version')",
            [],
            |r| r.get(0),
        )?;
        if !has_table {
            return Err(LedgerError::NotAStore);
        }
        let found = current_version(&conn)?;
        if found > SCHEMA_VERSION {
            return Err(LedgerError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let mut cfg = StoreConfig::default();
        if let Some(a) = stored_algorithm(&conn)?.and_then(|a| HashAlgorithm::from_name(&a)) {
            cfg.hash_algorithm = a;
        }
        Ok(Store {
            conn,
            cfg,
            read_only: true,
            algo_fixed: true,
        })
    }

    /// Whether this store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        current_version(&self.conn)
    }

    /// Runs `f` in one IMMEDIATE transaction and commits; returns only after the
    /// commit (so after the fsync under [`Durability::Full`]). If `f` fails, nothing
    /// it wrote is kept.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read the head inside the write lock, so another writer on the same file
        // cannot fork the chain (nor start it with another algorithm).
        if !self.algo_fixed {
            self.algo_fixed = check_algorithm(&tx, self.cfg.hash_algorithm)?;
        }
        let head = load_head(&tx)?;
        let mut w = Tx {
            tx,
            head,
            cfg: &self.cfg,
        };
        let out = f(&mut w)?;
        w.tx.commit()?;
        Ok(out)
    }

    /// Appends a batch of events in one transaction (see [`Tx::append_events`]).
    pub fn append_events(&mut self, batch: &[NewEvent]) -> Result<Vec<AppendOutcome>> {
        self.write(|w| w.append_events(batch))
    }

    /// Appends a batch of incidents in one transaction (see [`Tx::append_incidents`]).
    pub fn append_incidents(&mut self, batch: &[NewIncident]) -> Result<Vec<AppendOutcome>> {
        self.write(|w| w.append_incidents(batch))
    }

    /// Queues terminal messages in one transaction; returns their per-vehicle seqs.
    pub fn push_terminal_messages(&mut self, msgs: &[NewTerminalMessage]) -> Result<Vec<u64>> {
        self.write(|w| w.push_terminal_messages(msgs))
    }

    /// Deletes a vehicle's terminal messages with `seq < keep_from_seq`.
    pub fn prune_terminal_messages(&mut self, vehicle: &str, keep_from_seq: u64) -> Result<usize> {
        self.write(|w| w.prune_terminal_messages(vehicle, keep_from_seq))
    }

    /// Inserts or replaces a master-data record; returns whether anything changed.
    pub fn upsert_master(
        &mut self,
        kind: MasterKind,
        id: &str,
        body: &serde_json::Value,
        at: Millis,
    ) -> Result<bool> {
        self.write(|w| w.upsert_master(kind, id, body, at))
    }

    /// Deletes a master-data record; returns whether it existed.
    pub fn delete_master(&mut self, kind: MasterKind, id: &str) -> Result<bool> {
        self.write(|w| w.delete_master(kind, id))
    }

    /// Stores (or replaces) a plan.
    pub fn put_plan(
        &mut self,
        id: &str,
        body: &serde_json::Value,
        created_at: Millis,
    ) -> Result<()> {
        self.write(|w| w.put_plan(id, body, created_at))
    }

    /// Publishes a new route version for a vehicle; returns the version.
    pub fn publish_route(
        &mut self,
        vehicle: &str,
        plan_id: Option<&str>,
        body: &serde_json::Value,
        at: Millis,
    ) -> Result<u64> {
        self.write(|w| w.publish_route(vehicle, plan_id, body, at))
    }

    /// Signs the current head now (e.g. at shutdown); `None` if there is no key or
    /// the head is already checkpointed.
    pub fn checkpoint_now(&mut self) -> Result<Option<u64>> {
        self.write(|w| w.checkpoint_now())
    }

    /// The current end of the hash chain.
    pub fn head(&self) -> Result<LedgerHead> {
        load_head(&self.conn)
    }

    /// The chain's hash algorithm: the one stored in the ledger's metadata, or, while
    /// the chain is empty, the one its first record will use (SHA-256 for read-only
    /// stores and for v1 files, which knew no other).
    pub fn hash_algorithm(&self) -> Result<HashAlgorithm> {
        match stored_algorithm(&self.conn)? {
            None => Ok(self.cfg.hash_algorithm),
            Some(name) => HashAlgorithm::from_name(&name).ok_or_else(|| {
                LedgerError::Corrupt(format!("ledger metadata names unknown algorithm `{name}`"))
            }),
        }
    }
}

/// The algorithm named in `ledger_meta` (`None`: chain not started, or a v1 file
/// without the table).
pub(crate) fn stored_algorithm(conn: &Connection) -> Result<Option<String>> {
    let has_table: bool = conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type='table' AND name='ledger_meta')",
        )?
        .query_row([], |r| r.get(0))?;
    if !has_table {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached("SELECT value FROM ledger_meta WHERE key = ?1")?
        .query_row([META_HASH_ALGORITHM], |r| r.get(0))
        .optional()?)
}

/// Refuses a ledger started with another algorithm; returns whether the chain's
/// algorithm is already fixed (true) or the chain has not started yet (false).
fn check_algorithm(conn: &Connection, configured: HashAlgorithm) -> Result<bool> {
    match stored_algorithm(conn)? {
        None => Ok(false),
        Some(name) if name == configured.name() => Ok(true),
        Some(name) => Err(LedgerError::AlgorithmMismatch {
            ledger: name,
            configured: configured.name().to_owned(),
        }),
    }
}

fn current_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )?)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    let found = current_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(LedgerError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS {
        if *version > found {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
                params![version, now_ms()],
            )?;
            tracing::info!(version, "applied ledger migration");
        }
    }
    tx.commit()?;
    Ok(())
}

pub(crate) fn load_head(conn: &Connection) -> Result<LedgerHead> {
    let row: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(LedgerHead {
            seq: 0,
            hash: GENESIS_HASH,
        }),
        Some((seq, hash)) => Ok(LedgerHead {
            seq: seq as u64,
            hash: hash.try_into().map_err(|_| {
                LedgerError::Corrupt(format!("ledger record {seq}: hash is not 32 bytes"))
            })?,
        }),
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn check_id(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(LedgerError::invalid(field, "must not be empty"));
    }
    if s.len() > 256 {
        return Err(LedgerError::invalid(field, "longer than 256 bytes"));
    }
    Ok(())
}

fn check_event(e: &NewEvent) -> Result<()> {
    check_id("client_event_id", &e.client_event_id)?;
    check_id("vehicle", &e.vehicle)?;
    check_id("device", &e.device)?;
    check_id("kind", &e.kind)?;
    if e.device_seq == 0 || e.device_seq > i64::MAX as u64 {
        return Err(LedgerError::invalid("device_seq", "must be in 1..=2^63-1"));
    }
    Ok(())
}

fn check_incident(i: &NewIncident) -> Result<()> {
    check_id("incident_id", &i.incident_id)?;
    check_id("vehicle", &i.vehicle)?;
    check_id("rule", &i.rule)?;
    if let Some(d) = &i.district {
        check_id("district", d)?;
    }
    if let Some(s) = &i.stream {
        check_id("stream", s)?;
    }
    for e in &i.evidence {
        check_id("evidence", e)?;
    }
    Ok(())
}

/// One write transaction. Everything written through it commits together.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    head: LedgerHead,
    cfg: &'a StoreConfig,
}

impl Tx<'_> {
    /// The chain head as of the writes so far in this transaction.
    pub fn head(&self) -> LedgerHead {
        self.head
    }

    /// Appends events. A `client_event_id` already stored (or earlier in the same
    /// batch) is reported as [`AppendOutcome::Duplicate`] and not appended again;
    /// every new event gets a ledger record. Invalid input fails the whole batch.
    pub fn append_events(&mut self, batch: &[NewEvent]) -> Result<Vec<AppendOutcome>> {
        for e in batch {
            check_event(e)?;
        }
        let mut out = Vec::with_capacity(batch.len());
        // Device seqs appended by this batch, to advance the acks mostly without queries.
        let mut appended: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
        {
            // Statements prepared once per batch: this loop is the ingest hot path.
            let tx = &self.tx;
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (client_event_id, vehicle, device, device_seq, occurred_at, received_at, kind, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(client_event_id) DO NOTHING",
            )?;
            let mut existing =
                tx.prepare_cached("SELECT seq, body FROM events WHERE client_event_id = ?1")?;
            let mut ledger = tx.prepare_cached(INSERT_LEDGER)?;
            for e in batch {
                let body = canonical_json(&e.body);
                let inserted = insert.execute(params![
                    e.client_event_id,
                    e.vehicle,
                    e.device,
                    e.device_seq as i64,
                    e.occurred_at,
                    e.received_at,
                    e.kind,
                    body
                ])?;
                if inserted == 0 {
                    let (seq, stored): (i64, String) =
                        existing.query_row([&e.client_event_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    out.push(AppendOutcome::Duplicate {
                        record_seq: seq as u64,
                        same_content: stored == body,
                    });
                    continue;
                }
                let record_ref = tx.last_insert_rowid();
                let bytes = EventRecord {
                    seq: self.head.seq as i64 + 1,
                    record_ref,
                    algo: self.cfg.hash_algorithm.name(),
                    client_event_id: &e.client_event_id,
                    vehicle: &e.vehicle,
                    device: &e.device,
                    device_seq: e.device_seq as i64,
                    occurred_at: e.occurred_at,
                    received_at: e.received_at,
                    kind: &e.kind,
                    body: &body,
                }
                .encode();
                let ledger_seq = chain(
                    tx,
                    &mut ledger,
                    &mut self.head,
                    self.cfg,
                    ChainKind::Event,
                    record_ref,
                    &bytes,
                )?;
                appended
                    .entry(e.device.as_str())
                    .or_default()
                    .insert(e.device_seq as i64);
                out.push(AppendOutcome::Appended {
                    record_seq: record_ref as u64,
                    ledger_seq,
                });
            }
        }
        for (device, seqs) in appended {
            self.advance_device(device, &seqs)?;
        }
        Ok(out)
    }

    /// Moves the device's contiguous ack forward over seqs just appended (`fresh`)
    /// and, for back-filled gaps, over seqs stored by earlier batches.
    fn advance_device(&mut self, device: &str, fresh: &BTreeSet<i64>) -> Result<()> {
        let cur: i64 = self
            .tx
            .prepare_cached("SELECT contiguous FROM device_progress WHERE device = ?1")?
            .query_row([device], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let mut n = cur;
        {
            let mut exists = self.tx.prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM events WHERE device = ?1 AND device_seq = ?2)",
            )?;
            loop {
                if fresh.contains(&(n + 1))
                    || exists.query_row(params![device, n + 1], |r| r.get::<_, bool>(0))?
                {
                    n += 1;
                } else {
                    break;
                }
            }
        }
        if n != cur {
            self.tx
                .prepare_cached(
                    "INSERT INTO device_progress (device, contiguous) VALUES (?1, ?2)
                     ON CONFLICT(device) DO UPDATE SET contiguous = excluded.contiguous",
                )?
                .execute(params![device, n])?;
        }
        Ok(())
    }

    /// Appends incidents; an `incident_id` already stored is reported as a duplicate.
    pub fn append_incidents(&mut self, batch: &[NewIncident]) -> Result<Vec<AppendOutcome>> {
        for i in batch {
            check_incident(i)?;
        }
        let mut out = Vec::with_capacity(batch.len());
        for i in batch {
            let body = canonical_json(&i.body);
            let inserted = self.tx.prepare_cached(
                "INSERT INTO incidents (incident_id, vehicle, district, stream, rule, occurred_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(incident_id) DO NOTHING",
            )?
            .execute(params![
                i.incident_id,
                i.vehicle,
                i.district,
                i.stream,
                i.rule,
                i.occurred_at,
                body
            ])?;
            if inserted == 0 {
                let (seq, stored): (i64, String) = self
                    .tx
                    .prepare_cached("SELECT seq, body FROM incidents WHERE incident_id = ?1")?
                    .query_row([&i.incident_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                out.push(AppendOutcome::Duplicate {
                    record_seq: seq as u64,
                    same_content: stored == body,
                });
                continue;
            }
            let record_ref = self.tx.last_insert_rowid();
            {
                let mut ins = self.tx.prepare_cached(
                    "INSERT INTO incident_evidence (incident_seq, pos, client_event_id) VALUES (?1, ?2, ?3)",
                )?;
                for (pos, ev) in i.evidence.iter().enumerate() {
                    ins.execute(params![record_ref, pos as i64, ev])?;
                }
            }
            let seq = self.head.seq as i64 + 1;
            let bytes = IncidentRecord {
                seq,
                record_ref,
                algo: self.cfg.hash_algorithm.name(),
                incident_id: &i.incident_id,
                vehicle: &i.vehicle,
                district: i.district.as_deref(),
                stream: i.stream.as_deref(),
                rule: &i.rule,
                occurred_at: i.occurred_at,
                evidence: &i.evidence,
                body: &body,
            }
            .encode();
            let ledger_seq = {
                let mut ledger = self.tx.prepare_cached(INSERT_LEDGER)?;
                chain(
                    &self.tx,
                    &mut ledger,
                    &mut self.head,
                    self.cfg,
                    ChainKind::Incident,
                    record_ref,
                    &bytes,
                )?
            };
            out.push(AppendOutcome::Appended {
                record_seq: record_ref as u64,
                ledger_seq,
            });
        }
        Ok(out)
    }

    fn sign_head(&mut self) -> Result<Option<u64>> {
        sign_head(&self.tx, self.head, self.cfg)
    }

    /// Signs the current head unless it is empty or already signed.
    pub fn checkpoint_now(&mut self) -> Result<Option<u64>> {
        if self.head.seq == 0 {
            return Ok(None);
        }
        let last: Option<i64> = self
            .tx
            .query_row("SELECT MAX(seq) FROM checkpoints", [], |r| r.get(0))?;
        if last == Some(self.head.seq as i64) {
            return Ok(None);
        }
        self.sign_head()
    }

    /// Queues messages for terminals; each gets the vehicle's next seq (1, 2, ...).
    pub fn push_terminal_messages(&mut self, msgs: &[NewTerminalMessage]) -> Result<Vec<u64>> {
        for m in msgs {
            check_id("vehicle", &m.vehicle)?;
            check_id("kind", &m.kind)?;
        }
        let mut out = Vec::with_capacity(msgs.len());
        for m in msgs {
            let head: i64 = self
                .tx
                .prepare_cached("SELECT head_seq FROM terminal_heads WHERE vehicle = ?1")?
                .query_row([&m.vehicle], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            let seq = head + 1;
            self.tx
                .prepare_cached(
                    "INSERT INTO terminal_heads (vehicle, head_seq) VALUES (?1, ?2)
                     ON CONFLICT(vehicle) DO UPDATE SET head_seq = excluded.head_seq",
                )?
                .execute(params![m.vehicle, seq])?;
            self.tx
                .prepare_cached(
                    "INSERT INTO terminal_messages (vehicle, seq, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    m.vehicle,
                    seq,
                    m.kind,
                    canonical_json(&m.payload),
                    m.created_at
                ])?;
            out.push(seq as u64);
        }
        Ok(out)
    }

    /// Deletes a vehicle's messages with `seq < keep_from_seq`; the head is kept.
    pub fn prune_terminal_messages(&mut self, vehicle: &str, keep_from_seq: u64) -> Result<usize> {
        Ok(self.tx.execute(
            "DELETE FROM terminal_messages WHERE vehicle = ?1 AND seq < ?2",
            params![vehicle, keep_from_seq.min(i64::MAX as u64) as i64],
        )?)
    }

    /// Inserts or replaces master data; idempotent (same body again changes nothing).
    pub fn upsert_master(
        &mut self,
        kind: MasterKind,
        id: &str,
        body: &serde_json::Value,
        at: Millis,
    ) -> Result<bool> {
        check_id("id", id)?;
        let text = canonical_json(body);
        let n = self.tx.prepare_cached(
            "INSERT INTO master_data (kind, id, body, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(kind, id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
             WHERE master_data.body <> excluded.body",
        )?
        .execute(params![kind.as_str(), id, text, at])?;
        Ok(n > 0)
    }

    /// Deletes master data; returns whether it existed.
    pub fn delete_master(&mut self, kind: MasterKind, id: &str) -> Result<bool> {
        let n = self.tx.execute(
            "DELETE FROM master_data WHERE kind = ?1 AND id = ?2",
            params![kind.as_str(), id],
        )?;
        Ok(n > 0)
    }

    /// Stores or replaces a plan.
    pub fn put_plan(
        &mut self,
        id: &str,
        body: &serde_json::Value,
        created_at: Millis,
    ) -> Result<()> {
        check_id("plan_id", id)?;
        self.tx.execute(
            "INSERT INTO plans (id, body, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET body = excluded.body, created_at = excluded.created_at",
            params![id, canonical_json(body), created_at],
        )?;
        Ok(())
    }

    /// Publishes the next route version of a vehicle.
    pub fn publish_route(
        &mut self,
        vehicle: &str,
        plan_id: Option<&str>,
        body: &serde_json::Value,
        at: Millis,
    ) -> Result<u64> {
        check_id("vehicle", vehicle)?;
        let v: i64 = self.tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM routes WHERE vehicle = ?1",
            [vehicle],
            |r| r.get(0),
        )?;
        self.tx.execute(
            "INSERT INTO routes (vehicle, version, plan_id, body, published_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![vehicle, v, plan_id, canonical_json(body), at],
        )?;
        Ok(v as u64)
    }
}

#[derive(Clone, Copy)]
enum ChainKind {
    Event,
    Incident,
}

impl ChainKind {
    fn as_str(self) -> &'static str {
        match self {
            ChainKind::Event => "event",
            ChainKind::Incident => "incident",
        }
    }
}

const INSERT_LEDGER: &str = "INSERT INTO ledger (seq, kind, record_ref, algo, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Appends one ledger record after `head` and signs a checkpoint when one is due.
fn chain(
    tx: &rusqlite::Transaction<'_>,
    insert: &mut rusqlite::CachedStatement<'_>,
    head: &mut LedgerHead,
    cfg: &StoreConfig,
    kind: ChainKind,
    record_ref: i64,
    bytes: &[u8],
) -> Result<u64> {
    let seq = head.seq + 1;
    let algo = cfg.hash_algorithm;
    if seq == 1 {
        // The first record fixes the ledger's algorithm for good, in its transaction.
        tx.prepare_cached("INSERT INTO ledger_meta (key, value) VALUES (?1, ?2)")?
            .execute(params![META_HASH_ALGORITHM, algo.name()])?;
    }
    let hash = algo.chain_hash(&head.hash, bytes);
    insert.execute(params![
        seq as i64,
        kind.as_str(),
        record_ref,
        algo.name(),
        &head.hash[..],
        &hash[..]
    ])?;
    *head = LedgerHead { seq, hash };
    if cfg.checkpoint_every > 0 && seq.is_multiple_of(cfg.checkpoint_every) {
        sign_head(tx, *head, cfg)?;
    }
    Ok(seq)
}

fn sign_head(
    tx: &rusqlite::Transaction<'_>,
    head: LedgerHead,
    cfg: &StoreConfig,
) -> Result<Option<u64>> {
    let Some(key) = &cfg.checkpoint_key else {
        return Ok(None);
    };
    let LedgerHead { seq, hash } = head;
    let sig = key.sign(&checkpoint_message(seq, &hash));
    tx.prepare_cached(
        "INSERT INTO checkpoints (seq, head_hash, algo, signature, key_id, public_key, created_at)
                 VALUES (?1, ?2, 'ed25519', ?3, ?4, ?5, ?6) ON CONFLICT(seq) DO NOTHING",
    )?
    .execute(params![
        seq as i64,
        &hash[..],
        &sig[..],
        key.key_id(),
        &key.verifying_key().to_bytes()[..],
        now_ms()
    ])?;
    Ok(Some(seq))
}
