//! The rows callers write and read. Bodies are JSON values so the store does not
//! depend on the domain event/incident types; indexed columns are passed alongside.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Unix epoch time in milliseconds (UTC).
pub type Millis = i64;

/// An event reported by a terminal, to be appended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// Client-generated id; the de-duplication key (unique over all time).
    pub client_event_id: String,
    /// Vehicle the event belongs to.
    pub vehicle: String,
    /// Reporting device (terminal); its `device_seq` numbers count from 1.
    pub device: String,
    /// Per-device sequence number, starting at 1.
    pub device_seq: u64,
    /// When it happened on the truck.
    pub occurred_at: Millis,
    /// When the server received it.
    pub received_at: Millis,
    /// Event kind, e.g. `BIN_SCAN` (free text to the store).
    pub kind: String,
    /// The full event; stored and hashed in canonical JSON.
    pub body: Value,
}

/// What happened to one event of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppendOutcome {
    /// Newly stored and chained.
    Appended {
        /// Row number in the events (or incidents) table.
        record_seq: u64,
        /// Position in the hash chain.
        ledger_seq: u64,
    },
    /// The id was already stored; nothing was written.
    Duplicate {
        /// Row number of the stored original.
        record_seq: u64,
        /// Whether the stored original has the same content (false means the client
        /// reused an id for a different record: the first one wins).
        same_content: bool,
    },
}

impl AppendOutcome {
    /// True for [`AppendOutcome::Appended`].
    pub fn is_appended(&self) -> bool {
        matches!(self, AppendOutcome::Appended { .. })
    }
}

/// A stored event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Row number in the events table (ingest order).
    pub seq: u64,
    /// Client-generated id.
    pub client_event_id: String,
    /// Vehicle.
    pub vehicle: String,
    /// Reporting device.
    pub device: String,
    /// Per-device sequence number.
    pub device_seq: u64,
    /// When it happened.
    pub occurred_at: Millis,
    /// When it was received.
    pub received_at: Millis,
    /// Event kind.
    pub kind: String,
    /// The event body.
    pub body: Value,
}

/// An incident raised by a rule, to be appended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewIncident {
    /// Deterministic incident id (de-duplication key).
    pub incident_id: String,
    /// Vehicle concerned.
    pub vehicle: String,
    /// District (street office), when known.
    pub district: Option<String>,
    /// Waste stream id (e.g. `KITCHEN`), when the rule concerns one.
    pub stream: Option<String>,
    /// Rule id, e.g. `MIXED_TRIP`.
    pub rule: String,
    /// When the violation happened.
    pub occurred_at: Millis,
    /// Client event ids of the evidence, in order.
    pub evidence: Vec<String>,
    /// The full incident; stored and hashed in canonical JSON.
    pub body: Value,
}

/// A stored incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredIncident {
    /// Incident sequence number (the `SubscribeIncidents` resume point).
    pub seq: u64,
    /// Incident id.
    pub incident_id: String,
    /// Vehicle.
    pub vehicle: String,
    /// District.
    pub district: Option<String>,
    /// Stream id.
    pub stream: Option<String>,
    /// Rule id.
    pub rule: String,
    /// When it happened.
    pub occurred_at: Millis,
    /// Evidence client event ids.
    pub evidence: Vec<String>,
    /// The incident body.
    pub body: Value,
}

/// An incident with the stored evidence events it names (unknown ids are skipped).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentWithEvidence {
    /// The incident.
    pub incident: StoredIncident,
    /// Its evidence events found in the store, in the incident's order.
    pub events: Vec<StoredEvent>,
}

/// Filter for [`crate::Store::query_incidents`]; `None` fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFilter {
    /// Only this district.
    pub district: Option<String>,
    /// Only this vehicle.
    pub vehicle: Option<String>,
    /// Only this stream id.
    pub stream: Option<String>,
    /// Only this rule id.
    pub rule: Option<String>,
    /// `occurred_at >= from`.
    pub from: Option<Millis>,
    /// `occurred_at < to`.
    pub to: Option<Millis>,
    /// Page start: only incidents with `seq > after_seq` (0 = from the start).
    pub after_seq: u64,
    /// Page size (0 means the default of 1000).
    pub limit: u32,
}

/// Filter for [`crate::Store::query_events`]; ordered by `(occurred_at, seq)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Only this vehicle.
    pub vehicle: Option<String>,
    /// `occurred_at >= from`.
    pub from: Option<Millis>,
    /// `occurred_at < to`.
    pub to: Option<Millis>,
    /// Page size (0 means unlimited).
    pub limit: u32,
}

/// A message queued for a vehicle's terminal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewTerminalMessage {
    /// Destination vehicle.
    pub vehicle: String,
    /// Message kind, e.g. `ROUTE`, `WARNING`.
    pub kind: String,
    /// Payload.
    pub payload: Value,
    /// Creation time.
    pub created_at: Millis,
}

/// A stored terminal message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TerminalMessage {
    /// Destination vehicle.
    pub vehicle: String,
    /// Per-vehicle sequence number, from 1, without gaps.
    pub seq: u64,
    /// Message kind.
    pub kind: String,
    /// Payload.
    pub payload: Value,
    /// Creation time.
    pub created_at: Millis,
}

/// What a vehicle's outbox holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalWindow {
    /// Highest seq ever assigned (0 = none).
    pub head_seq: u64,
    /// Oldest seq still stored; `head_seq + 1` when nothing is kept. A subscriber with
    /// `after_seq + 1 < oldest_kept_seq` needs a snapshot.
    pub oldest_kept_seq: u64,
}

/// Kinds of master data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MasterKind {
    /// A depot.
    Depot,
    /// A facility.
    Facility,
    /// A vehicle.
    Vehicle,
    /// A collection point.
    Point,
}

impl MasterKind {
    /// Column value.
    pub const fn as_str(self) -> &'static str {
        match self {
            MasterKind::Depot => "depot",
            MasterKind::Facility => "facility",
            MasterKind::Vehicle => "vehicle",
            MasterKind::Point => "point",
        }
    }
}

/// A published route of one vehicle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishedRoute {
    /// Vehicle.
    pub vehicle: String,
    /// Per-vehicle version, from 1.
    pub version: u64,
    /// Plan it came from.
    pub plan_id: Option<String>,
    /// The route.
    pub body: Value,
    /// Publication time.
    pub published_at: Millis,
}

/// A stored plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredPlan {
    /// Plan id.
    pub id: String,
    /// The plan.
    pub body: Value,
    /// Creation time.
    pub created_at: Millis,
}

/// The current end of the hash chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerHead {
    /// Seq of the last record (0 = empty).
    pub seq: u64,
    /// Hash of the last record (32 zero bytes when empty).
    pub hash: [u8; 32],
}

/// One record of the hash chain as stored: what a regulator needs to point at a
/// stored event or incident in the ledger (`seq`) and to check it (`hash`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// `event` or `incident`.
    pub kind: String,
    /// Row number in the events or incidents table.
    pub record_ref: u64,
    /// Hash algorithm the record names (`sha256` or `sm3`).
    pub algo: String,
    /// Stored hash of the previous record (32 bytes unless tampered with).
    pub prev_hash: Vec<u8>,
    /// Stored hash of this record (32 bytes unless tampered with).
    pub hash: Vec<u8>,
}

impl LedgerEntry {
    /// The stored hash as lowercase hex, the form `VerifyLedger` reports.
    pub fn hash_hex(&self) -> String {
        hex::encode(&self.hash)
    }
}
