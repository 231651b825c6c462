//! The application core's own message types: what terminals receive, what regulators
//! receive, what intake acknowledges, how plans and planning jobs are described.
//!
//! They are transport-free (the server maps them to protobuf) but serde-serialisable,
//! because terminal messages and plan records are stored as JSON in the ledger store:
//! a replayed message is byte-for-byte the one first sent.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sortfleet_model::incident::{Incident, RuleId, Severity};
use sortfleet_model::{
    BinId, DepotId, DistrictId, FacilityId, FacilityUnload, Kilograms, LatLon, Litres, Plan,
    PlannedBreak, PointId, Seconds, Stop, Stream, VehicleId,
};

/// Unix epoch milliseconds (UTC).
pub type Millis = i64;

// ------------------------------------------------------------------ routes for terminals

/// A stop as the driver sees it: the plan's stop plus where it is and what to lift.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StopView {
    /// The planned stop (times, loads, leg geometry).
    pub stop: Stop,
    /// Kerbside position of the collection point.
    pub position: LatLon,
    /// Expected weight of the stop's stream at the point.
    pub demand_kg: Kilograms,
    /// Expected volume of the stop's stream at the point.
    pub demand_l: Litres,
    /// Registered bins of the stop's stream at the point.
    pub bin_ids: Vec<BinId>,
}

/// The unload ending a trip, with the facility's position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnloadView {
    /// The planned unload.
    pub unload: FacilityUnload,
    /// Weighbridge position of the facility.
    pub position: LatLon,
}

/// One trip of a route as sent to the terminal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TripView {
    /// Position in the route, 0-based.
    pub index: u32,
    /// The stream carried.
    pub stream: Stream,
    /// Pickups in order.
    pub stops: Vec<StopView>,
    /// The unload.
    pub unload: UnloadView,
}

/// A vehicle's route with everything a terminal needs to drive it offline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteView {
    /// The vehicle.
    pub vehicle: VehicleId,
    /// Start and end depot.
    pub depot: DepotId,
    /// Depot gate position.
    pub depot_position: LatLon,
    /// Departure from the depot, seconds since midnight.
    pub start_s: Seconds,
    /// Return to the depot, seconds since midnight.
    pub end_s: Seconds,
    /// Trips in driving order.
    pub trips: Vec<TripView>,
    /// Planned breaks.
    pub breaks: Vec<PlannedBreak>,
    /// Geometry from the last unload back to the depot (may be empty).
    pub return_geometry: Vec<LatLon>,
    /// Distance driven.
    pub distance_m: sortfleet_model::Metres,
    /// `end_s - start_s`.
    pub duration_s: Seconds,
    /// Route cost.
    pub cost_ct: sortfleet_model::Cents,
}

impl RouteView {
    /// Ids of the points visited, in order (with repeats for multi-stream points).
    pub fn point_ids(&self) -> Vec<PointId> {
        self.trips
            .iter()
            .flat_map(|t| t.stops.iter().map(|s| s.stop.point.clone()))
            .collect()
    }
}

/// A newly published route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteVersion {
    /// The plan it comes from.
    pub plan_id: String,
    /// The service day.
    pub service_date: NaiveDate,
    /// Route version of this vehicle (increasing over all publications).
    pub version: u64,
    /// The route.
    pub route: RouteView,
}

/// Why a route was revised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RevisionReason {
    /// An urgent pickup was inserted.
    UrgentPickup,
    /// Work taken over from (or given up by) an unavailable vehicle.
    VehicleUnavailable,
    /// A new plan of the same day was published by the dispatcher.
    DispatcherEdit,
}

/// A revised route replacing the vehicle's current one for the day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteRevision {
    /// The re-plan it comes from.
    pub plan_id: String,
    /// The service day.
    pub service_date: NaiveDate,
    /// New route version.
    pub version: u64,
    /// The version it replaces.
    pub previous_version: u64,
    /// Why.
    pub reason: RevisionReason,
    /// The full new route.
    pub route: RouteView,
    /// Points on the new route that were not on the old one.
    pub added_points: Vec<PointId>,
    /// Points on the old route that are not on the new one.
    pub removed_points: Vec<PointId>,
}

/// The vehicle's route for the day is withdrawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cancellation {
    /// The plan whose publication withdrew the route.
    pub plan_id: String,
    /// The service day.
    pub service_date: NaiveDate,
    /// The cancelled route version.
    pub version: u64,
    /// Human-readable reason.
    pub reason: String,
}

/// A violation detected on this truck, for the driver: everything the incident
/// records (rule and version, severity, evidence, where and when), so the terminal can
/// show the same facts the regulator sees.
///
/// Stored as JSON in the terminal outbox; fields added after the first release carry
/// `#[serde(default)]` so that older stored warnings still decode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViolationWarning {
    /// Incident id (as in the supervision API).
    pub incident_id: String,
    /// The incident's ledger seq, when the warning was built from the stored record.
    #[serde(default)]
    pub incident_seq: Option<u64>,
    /// The rule.
    pub rule: RuleId,
    /// Version of the rule's logic that fired (0 only on warnings stored before it was kept).
    #[serde(default)]
    pub rule_version: u32,
    /// Severity.
    pub severity: Severity,
    /// The stream involved.
    pub stream: Option<Stream>,
    /// District the incident is booked to, when known.
    #[serde(default)]
    pub district: Option<DistrictId>,
    /// The collection point concerned, when one is.
    #[serde(default)]
    pub point: Option<PointId>,
    /// Trip index within the vehicle's day, when known.
    pub trip_index: Option<u32>,
    /// Where.
    pub position: Option<LatLon>,
    /// When the violating event happened.
    pub occurred_at: Millis,
    /// When the server detected it; `None` until known (the outbox message's creation
    /// time is the same instant: the warning is stored in the incident's transaction).
    #[serde(default)]
    pub detected_at: Option<Millis>,
    /// What happened and what to do.
    pub message: String,
    /// Client event ids of the evidence.
    pub evidence: Vec<String>,
}

impl ViolationWarning {
    /// The driver's view of an incident.
    pub fn from_incident(i: &Incident, trip_index: Option<u32>) -> Self {
        Self {
            incident_id: i.id.clone(),
            incident_seq: None,
            rule: i.rule,
            rule_version: i.rule_version,
            severity: i.severity,
            stream: i.stream,
            district: i.district.clone(),
            point: i.point.clone(),
            trip_index,
            position: i.position,
            occurred_at: i.occurred_at,
            detected_at: None,
            message: i.message.clone(),
            evidence: i.evidence.clone(),
        }
    }

    /// The driver's view of a stored incident (ledger seq and detection time included).
    pub fn from_record(r: &IncidentRecord) -> Self {
        Self::from_incident(&r.incident, r.trip_index).recorded(r.seq, r.detected_at)
    }

    /// Adds what recording the incident established: its ledger seq and detection time.
    #[must_use]
    pub fn recorded(mut self, incident_seq: u64, detected_at: Millis) -> Self {
        self.incident_seq = Some(incident_seq);
        self.detected_at = Some(detected_at);
        self
    }
}

/// Everything a terminal needs to start over after a too-old `after_seq`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Seq covered by the snapshot; the next message has `head_seq + 1`.
    pub head_seq: u64,
    /// The current route (latest publication), if any and not cancelled.
    pub current_route: Option<RouteVersion>,
    /// Warnings of the current route's service day.
    pub warnings: Vec<ViolationWarning>,
}

/// The content of a terminal message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TerminalBody {
    /// A newly published route.
    RouteVersion(RouteVersion),
    /// A revised route.
    RouteRevision(RouteRevision),
    /// The route is withdrawn.
    Cancellation(Cancellation),
    /// A violation on this truck.
    ViolationWarning(ViolationWarning),
    /// Liveness; not stored, does not consume a seq.
    Heartbeat {
        /// Highest seq delivered on this stream.
        head_seq: u64,
    },
    /// Replace local state with this snapshot; not stored.
    Resync(Snapshot),
}

impl TerminalBody {
    /// The stored kind name (`ROUTE_VERSION`, `VIOLATION_WARNING`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            TerminalBody::RouteVersion(_) => "ROUTE_VERSION",
            TerminalBody::RouteRevision(_) => "ROUTE_REVISION",
            TerminalBody::Cancellation(_) => "CANCELLATION",
            TerminalBody::ViolationWarning(_) => "VIOLATION_WARNING",
            TerminalBody::Heartbeat { .. } => "HEARTBEAT",
            TerminalBody::Resync(_) => "RESYNC",
        }
    }
}

/// One message on a vehicle's assignment stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TerminalMessage {
    /// Per-vehicle sequence number; for a heartbeat or resync, the head it stands for.
    pub seq: u64,
    /// When the server created the message.
    pub created_at: Millis,
    /// The content.
    pub body: TerminalBody,
}

// ------------------------------------------------------------------ event intake

/// An event refused before storage (e.g. the transport could not decode it). It is
/// stored as a `REJECTED` record so that its device seq does not block the ack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEvent {
    /// Its client id (may be empty).
    pub client_event_id: String,
    /// Its device seq.
    pub device_seq: u64,
    /// Why, naming the field.
    pub reason: String,
}

/// A batch of events from one terminal device.
#[derive(Clone, Debug, PartialEq)]
pub struct EventBatch {
    /// The vehicle (all events must name it).
    pub vehicle: VehicleId,
    /// The device; `device_seq` counts per device.
    pub device: String,
    /// The decoded events.
    pub events: Vec<sortfleet_model::event::TruckEvent>,
    /// Events the transport already refused (they still count for the ack).
    pub rejected: Vec<RejectedEvent>,
}

/// The answer to one batch, given only after it is durably stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Highest device seq such that every event up to it is stored.
    pub acked_device_seq: u64,
    /// Events newly stored from this batch.
    pub accepted: u32,
    /// Events already stored before (re-sent), ignored.
    pub duplicates: u32,
    /// Events refused as invalid (recorded, so they do not block the ack).
    pub rejected: Vec<RejectedEvent>,
}

// ------------------------------------------------------------------ incidents

/// A stored incident as the regulator sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// Global incident sequence number (the subscription resume point).
    pub seq: u64,
    /// The incident as raised by the rule.
    pub incident: Incident,
    /// Trip index within the vehicle's day, when known.
    pub trip_index: Option<u32>,
    /// When the server detected it.
    pub detected_at: Millis,
}

/// The incident body stored in the ledger: the rule's incident plus server facts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct IncidentBody {
    #[serde(flatten)]
    pub incident: Incident,
    #[serde(default)]
    pub trip_index: Option<u32>,
    #[serde(default)]
    pub detected_at: Millis,
}

/// Which incidents; every non-empty list narrows (AND between fields, OR within one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentQuery {
    /// Districts.
    pub districts: Vec<DistrictId>,
    /// Vehicles.
    pub vehicles: Vec<VehicleId>,
    /// Streams.
    pub streams: Vec<Stream>,
    /// Rules.
    pub rules: Vec<RuleId>,
    /// Minimum severity.
    pub min_severity: Option<Severity>,
    /// `occurred_at >= from`.
    pub from: Option<Millis>,
    /// `occurred_at < to`.
    pub to: Option<Millis>,
}

impl IncidentQuery {
    /// Whether `r` passes the filter.
    pub fn matches(&self, r: &IncidentRecord) -> bool {
        let i = &r.incident;
        (self.districts.is_empty()
            || i.district
                .as_ref()
                .is_some_and(|d| self.districts.contains(d)))
            && (self.vehicles.is_empty() || self.vehicles.contains(&i.vehicle))
            && (self.streams.is_empty() || i.stream.is_some_and(|s| self.streams.contains(&s)))
            && (self.rules.is_empty() || self.rules.contains(&i.rule))
            && self.min_severity.is_none_or(|m| i.severity >= m)
            && self.from.is_none_or(|f| i.occurred_at >= f)
            && self.to.is_none_or(|t| i.occurred_at < t)
    }
}

/// One page of incidents.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentPage {
    /// Matching incidents, oldest first.
    pub incidents: Vec<IncidentRecord>,
    /// Pass as `after_seq` for the next page; `None` when this is the last page.
    pub next_after_seq: Option<u64>,
}

/// An incident with its proof.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentDetail {
    /// The incident.
    pub record: IncidentRecord,
    /// The evidence events as stored (unknown ids skipped).
    pub evidence: Vec<sortfleet_model::event::TruckEvent>,
    /// The incident's ledger record number, when found.
    pub ledger_seq: Option<u64>,
    /// The ledger record's hash, hex, when found.
    pub ledger_hash: Option<String>,
}

/// One message of the regulators' incident feed.
#[derive(Clone, Debug, PartialEq)]
pub enum IncidentStreamItem {
    /// An incident matching the subscription's filter.
    Incident(IncidentRecord),
    /// Liveness: the highest incident seq recorded (matching or not).
    Heartbeat {
        /// Highest incident seq known.
        head_seq: u64,
    },
}

// ------------------------------------------------------------------ plans and jobs

/// Lifecycle of a stored plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlanStatus {
    /// Computed, not sent to terminals.
    Draft,
    /// Sent to terminals; the day's current plan.
    Published,
    /// Replaced by a later published plan of the same day.
    Superseded,
}

/// How a plan came about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlanOrigin {
    /// A planning job for the whole day.
    Day,
    /// Stored by the caller (e.g. a plan file imported by the CLI).
    Imported,
    /// A re-plan inserting an urgent pickup.
    UrgentPickup {
        /// The point added.
        point: PointId,
    },
    /// A re-plan after a vehicle dropped out.
    VehicleUnavailable {
        /// The vehicle.
        vehicle: VehicleId,
        /// From this time of day.
        from_s: Seconds,
        /// Why.
        reason: String,
    },
}

/// A plan with its lifecycle, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    /// Plan id.
    pub id: String,
    /// The plan.
    pub plan: Plan,
    /// Lifecycle status.
    pub status: PlanStatus,
    /// How it came about.
    pub origin: PlanOrigin,
    /// The plan it re-plans, if any.
    pub parent_plan_id: Option<String>,
    /// Fingerprint of the road graph it was computed on.
    pub road_fingerprint: Option<String>,
    /// When it was stored.
    pub created_at: Millis,
    /// When it was published.
    pub published_at: Option<Millis>,
    /// Route version each vehicle got when it was published.
    pub versions: BTreeMap<VehicleId, u64>,
}

/// Result of [`crate::app::App::publish_plan`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishOutcome {
    /// Vehicles that received a route, with their new route version.
    pub routes: Vec<(VehicleId, u64)>,
    /// Vehicles whose route for the day was cancelled.
    pub cancelled: Vec<VehicleId>,
    /// True when the plan was already published (nothing was sent again).
    pub already_published: bool,
}

/// Phase of a planning job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobPhase {
    /// Waiting for a worker.
    Queued,
    /// Computing matrices.
    Matrix,
    /// Building the first solution.
    Construction,
    /// Local search.
    Search,
    /// Geometry, checks, storing.
    Finalizing,
    /// Finished; `plan_id` is set.
    Done,
    /// Failed; `error` is set.
    Failed,
}

impl JobPhase {
    /// Whether the job is over.
    pub fn is_final(self) -> bool {
        matches!(self, JobPhase::Done | JobPhase::Failed)
    }
}

/// Progress reported by a [`crate::app::PlanSource`] while it works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanProgress {
    /// Current phase (never `Done`/`Failed`; the job sets those).
    pub phase: JobPhase,
    /// Cost of the best solution so far (0 before one exists).
    pub best_cost_ct: i64,
    /// Unserved visits of the best solution so far.
    pub unserved: u32,
    /// Search iterations so far.
    pub iterations: u64,
}

/// One update of a planning job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobProgress {
    /// The job.
    pub job_id: String,
    /// Current phase.
    pub phase: JobPhase,
    /// Cost of the best solution so far.
    pub best_cost_ct: i64,
    /// Unserved visits of the best solution so far.
    pub unserved: u32,
    /// Search iterations so far.
    pub iterations: u64,
    /// Time since the job started.
    pub elapsed_ms: i64,
    /// When this update was produced.
    pub updated_at: Millis,
    /// The stored plan, when `Done`.
    pub plan_id: Option<String>,
    /// Why it failed, when `Failed`.
    pub error: Option<String>,
}

/// Figures of a loaded road network.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoadSummary {
    /// Routing nodes.
    pub node_count: u64,
    /// Directed edges.
    pub edge_count: u64,
    /// Content fingerprint (hex).
    pub fingerprint: String,
    /// Known locations snapped.
    pub snapped: u32,
    /// Locations too far from any usable road.
    pub unsnapped_ids: Vec<String>,
    /// Load time.
    pub load_ms: i64,
}

/// Summary of a master-data upsert.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpsertOutcome {
    /// Entities new or changed.
    pub changed: u32,
    /// Entities identical to what was stored.
    pub unchanged: u32,
    /// Non-fatal findings (paths into the request).
    pub warnings: Vec<String>,
}

/// A batch of master data to create or replace by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MasterBatch {
    /// Depots.
    pub depots: Vec<sortfleet_model::Depot>,
    /// Facilities.
    pub facilities: Vec<sortfleet_model::Facility>,
    /// Vehicles.
    pub vehicles: Vec<sortfleet_model::Vehicle>,
    /// Collection points.
    pub points: Vec<sortfleet_model::CollectionPoint>,
}

/// Ids of master data to delete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterDelete {
    /// Depot ids.
    pub depots: Vec<DepotId>,
    /// Facility ids.
    pub facilities: Vec<FacilityId>,
    /// Vehicle ids.
    pub vehicles: Vec<VehicleId>,
    /// Point ids.
    pub points: Vec<PointId>,
}
