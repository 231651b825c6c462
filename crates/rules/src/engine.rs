//! The engine: routes each event to its vehicle's day, keeps the day in `occurred_at`
//! order, runs the rules, and hands out every incident id once.
//!
//! Ordering contract. Rules judge events in the order they happened, key
//! `(occurred_at, device_seq, client_event_id)`. The engine keeps each vehicle's
//! evaluated events; an event older than the newest evaluated one (a back-filled
//! batch after a dead spot) is inserted in place and the vehicle's day is evaluated
//! again from the start. Incidents are named deterministically from the facts that
//! prove them, and the engine remembers every id it has returned, so re-evaluation
//! returns only incidents not raised before. Callers should pass a back-filled batch
//! through [`Engine::on_batch`] (one re-evaluation per batch instead of one per event).
//! After a restart, [`Engine::replay`] rebuilds a vehicle's day from the stored events
//! and [`Engine::mark_raised`] seeds the ids already in the store.

use crate::context::{RuleContext, VehiclePlan};
use crate::rules::{Cx, Rule, Seen, ShiftClose, registry};
use crate::state::{Pickup, Ticket, Trip, TripEnd, TripEndKind, VehicleState};
use sortfleet_model::event::{EventKind, ExceptionKind, TruckEvent};
use sortfleet_model::incident::Incident;
use sortfleet_model::{BinId, FacilityId, Kilograms, LatLon, PointId, Stream, VehicleId};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A resolved bin scan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanFacts {
    /// The tag named a bin that is in the registry.
    pub bin_known: bool,
    /// The registered bin, if known.
    pub bin: Option<BinId>,
    /// The stream: the registry's for a known bin, else the tag's.
    pub stream: Option<Stream>,
    /// The point: as reported, else the registered bin's.
    pub point: Option<PointId>,
    /// Lift weight.
    pub lift_kg: Option<Kilograms>,
}

/// What the engine derives for an event before the rules see it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// The event's position, or the last one if recent enough; invalid ones are dropped.
    pub position: Option<LatLon>,
    /// The facility whose geofence holds the position.
    pub in_facility: Option<FacilityId>,
    /// Within the depot radius of the vehicle's depot.
    pub at_depot: bool,
    /// Off the route corridor (outside facilities and depot); `None` when unknowable.
    pub off_corridor: Option<bool>,
    /// Farther than the buffer outside the vehicle's service area (outside facilities
    /// and depot); `None` when unknowable.
    pub outside_area: Option<bool>,
    /// A point of another stream's route the truck is at (by position or by scan).
    pub foreign_point: Option<PointId>,
    /// The resolved scan, for bin scans.
    pub scan: Option<ScanFacts>,
    /// The stream the current trip is dispatched for.
    pub expected_stream: Option<Stream>,
}

type Key = (i64, u64, String);

fn key(e: &TruckEvent) -> Key {
    (e.occurred_at, e.device_seq, e.client_event_id.clone())
}

fn cmp_events(a: &TruckEvent, b: &TruckEvent) -> std::cmp::Ordering {
    (a.occurred_at, a.device_seq, &a.client_event_id).cmp(&(
        b.occurred_at,
        b.device_seq,
        &b.client_event_id,
    ))
}

/// Incidents as rules raise them, with the trip they were raised on.
type Raised = Vec<(Incident, Option<u32>)>;

fn trip_no(i: usize) -> Option<u32> {
    u32::try_from(i).ok()
}

/// One vehicle's evaluated day.
#[derive(Clone, Debug, Default)]
struct Day {
    log: Vec<TruckEvent>,
    ids: HashSet<String>,
    state: VehicleState,
    last_key: Option<Key>,
    closed_at: Option<i64>,
}

/// The rule engine. Pure and deterministic: no I/O, no clock; time is the events' time.
pub struct Engine {
    rules: Vec<Box<dyn Rule>>,
    days: BTreeMap<VehicleId, Day>,
    raised: HashSet<String>,
    trips: HashMap<String, Option<u32>>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.len())
            .field("vehicles", &self.days.len())
            .field("raised", &self.raised.len())
            .finish()
    }
}

impl Engine {
    /// An engine with every rule of the [`registry`].
    pub fn new() -> Self {
        Self::with_rules(registry())
    }

    /// An engine with a chosen set of rules.
    pub fn with_rules(rules: Vec<Box<dyn Rule>>) -> Self {
        Self {
            rules,
            days: BTreeMap::new(),
            raised: HashSet::new(),
            trips: HashMap::new(),
        }
    }

    /// The active rules.
    pub fn rules(&self) -> impl Iterator<Item = &dyn Rule> {
        self.rules.iter().map(|r| r.as_ref())
    }

    /// Evaluates one event; returns the incidents it newly raises. Duplicates (same
    /// client event id) are ignored; an out-of-order event re-evaluates its vehicle's day.
    pub fn on_event(&mut self, ctx: &RuleContext, ev: &TruckEvent) -> Vec<Incident> {
        self.ingest(ctx, &ev.vehicle.clone(), vec![ev.clone()])
    }

    /// Evaluates a batch (any vehicles, any order): sorted in place, then each vehicle's
    /// part is appended, or, if it reaches back before what was evaluated, merged and
    /// the day re-evaluated once.
    pub fn on_batch(&mut self, ctx: &RuleContext, events: &mut [TruckEvent]) -> Vec<Incident> {
        events.sort_by(|a, b| a.vehicle.cmp(&b.vehicle).then_with(|| cmp_events(a, b)));
        let mut out = Vec::new();
        for group in events.chunk_by(|a, b| a.vehicle == b.vehicle) {
            let v = group[0].vehicle.clone();
            out.extend(self.ingest(ctx, &v, group.to_vec()));
        }
        out
    }

    /// Ends a vehicle's shift without a `ShiftEnd` event (e.g. the operator closes the
    /// day): closure rules run for the open trip and the day. Final for the day: a later
    /// re-evaluation closes the shift again after all events.
    pub fn close_shift(
        &mut self,
        ctx: &RuleContext,
        vehicle: &VehicleId,
        at: i64,
    ) -> Vec<Incident> {
        let day = self.days.entry(vehicle.clone()).or_default();
        day.closed_at = Some(at);
        let mut out = Vec::new();
        let mut cx = Cx {
            ctx,
            vehicle,
            plan: ctx.vehicle(vehicle),
            trip: None,
            out: &mut out,
        };
        let pos = day.state.last_position.map(|p| p.0);
        close_shift_inner(&self.rules, &mut cx, &mut day.state, at, None, pos);
        fresh(&mut self.raised, &mut self.trips, out)
    }

    /// Rebuilds `vehicle`'s day from its stored events (any order; sorted in place;
    /// other vehicles' events and duplicate ids are skipped) and returns the incidents
    /// not raised before.
    pub fn replay(
        &mut self,
        ctx: &RuleContext,
        vehicle: &VehicleId,
        events: &mut [TruckEvent],
    ) -> Vec<Incident> {
        events.sort_by(cmp_events);
        let day = self.days.entry(vehicle.clone()).or_default();
        day.log.clear();
        day.ids.clear();
        for e in events.iter().filter(|e| &e.vehicle == vehicle) {
            if day.ids.insert(e.client_event_id.clone()) {
                day.log.push(e.clone());
            }
        }
        let out = rerun(&self.rules, ctx, vehicle, day);
        fresh(&mut self.raised, &mut self.trips, out)
    }

    /// Declares incident ids as already raised (e.g. loaded from the store at start-up).
    pub fn mark_raised(&mut self, ids: impl IntoIterator<Item = String>) {
        self.raised.extend(ids);
    }

    /// The trip (0-based index in the vehicle's day: unloads before it) an incident
    /// this engine handed out was raised on; `None` for shift-level incidents (missed
    /// pickups) and for ids it did not raise itself (e.g. [`Self::mark_raised`]).
    pub fn trip_index(&self, incident_id: &str) -> Option<u32> {
        self.trips.get(incident_id).copied().flatten()
    }

    /// Whether an incident id was already handed out.
    pub fn was_raised(&self, id: &str) -> bool {
        self.raised.contains(id)
    }

    /// The current state of a vehicle's day.
    pub fn state(&self, vehicle: &VehicleId) -> Option<&VehicleState> {
        self.days.get(vehicle).map(|d| &d.state)
    }

    /// Drops a vehicle's day (events and state), e.g. after the day is archived. Raised
    /// ids are kept so nothing is raised twice.
    pub fn forget(&mut self, vehicle: &VehicleId) {
        self.days.remove(vehicle);
    }

    fn ingest(
        &mut self,
        ctx: &RuleContext,
        vehicle: &VehicleId,
        mut evs: Vec<TruckEvent>,
    ) -> Vec<Incident> {
        evs.sort_by(cmp_events);
        let day = self.days.entry(vehicle.clone()).or_default();
        evs.retain(|e| &e.vehicle == vehicle && day.ids.insert(e.client_event_id.clone()));
        let Some(first) = evs.first() else {
            return Vec::new();
        };
        let late = day.last_key.as_ref().is_some_and(|k| key(first) < *k);
        let out = if late {
            day.log.extend(evs);
            rerun(&self.rules, ctx, vehicle, day)
        } else {
            let mut out = Vec::new();
            for ev in evs {
                step(&self.rules, ctx, &mut day.state, &ev, &mut out);
                day.last_key = Some(key(&ev));
                day.log.push(ev);
            }
            out
        };
        fresh(&mut self.raised, &mut self.trips, out)
    }
}

fn fresh(
    raised: &mut HashSet<String>,
    trips: &mut HashMap<String, Option<u32>>,
    out: Raised,
) -> Vec<Incident> {
    out.into_iter()
        .filter(|(i, _)| raised.insert(i.id.clone()))
        .map(|(i, trip)| {
            trips.insert(i.id.clone(), trip);
            i
        })
        .collect()
}

/// Evaluates a day from scratch; returns everything raised (the caller filters).
fn rerun(rules: &[Box<dyn Rule>], ctx: &RuleContext, vehicle: &VehicleId, day: &mut Day) -> Raised {
    day.log.sort_by(cmp_events);
    day.state = VehicleState::default();
    let mut out = Vec::new();
    for ev in &day.log {
        step(rules, ctx, &mut day.state, ev, &mut out);
    }
    day.last_key = day.log.last().map(key);
    if let Some(at) = day.closed_at {
        let mut cx = Cx {
            ctx,
            vehicle,
            plan: ctx.vehicle(vehicle),
            trip: None,
            out: &mut out,
        };
        let pos = day.state.last_position.map(|p| p.0);
        close_shift_inner(rules, &mut cx, &mut day.state, at, None, pos);
    }
    out
}

fn valid(p: Option<LatLon>) -> Option<LatLon> {
    p.filter(LatLon::is_valid)
}

/// Evaluates one event against the state and applies it.
fn step(
    rules: &[Box<dyn Rule>],
    ctx: &RuleContext,
    st: &mut VehicleState,
    ev: &TruckEvent,
    out: &mut Raised,
) {
    let plan = ctx.vehicle(&ev.vehicle);
    let mut cx = Cx {
        ctx,
        vehicle: &ev.vehicle,
        plan,
        trip: None,
        out,
    };
    // Lifting again after tipping at a facility without a ticket: that trip is over.
    if matches!(ev.kind, EventKind::BinScan { .. })
        && let Some((facility, tip_event)) = st.pending_tip.clone()
    {
        let end = TripEnd {
            at: ev.occurred_at,
            event: Some(tip_event.clone()),
            position: st.last_position.map(|p| p.0),
            kind: TripEndKind::TippedWithoutTicket {
                facility,
                tip_event,
            },
        };
        close_trip(rules, &mut cx, st, end);
    }
    let facts = derive(ctx, plan, st, ev);
    {
        let seen = Seen {
            event: ev,
            facts: &facts,
            state: st,
        };
        cx.trip = trip_no(st.trip.index);
        for r in rules {
            r.on_event(&mut cx, &seen);
        }
    }
    apply(st, ev, &facts);
    match &ev.kind {
        EventKind::WeighbridgeTicket {
            facility,
            gross_kg,
            tare_kg,
            net_kg,
            declared_stream,
            rejected,
            purity_pct,
        } => {
            let end = TripEnd {
                at: ev.occurred_at,
                event: Some(ev.client_event_id.clone()),
                position: facts.position,
                kind: TripEndKind::Ticket(Ticket {
                    facility: facility.clone(),
                    gross_kg: *gross_kg,
                    tare_kg: *tare_kg,
                    net_kg: *net_kg,
                    declared_stream: *declared_stream,
                    rejected: *rejected,
                    purity_pct: *purity_pct,
                }),
            };
            close_trip(rules, &mut cx, st, end);
        }
        EventKind::ShiftEnd => close_shift_inner(
            rules,
            &mut cx,
            st,
            ev.occurred_at,
            Some(&ev.client_event_id),
            facts.position,
        ),
        _ => {}
    }
}

fn close_trip(rules: &[Box<dyn Rule>], cx: &mut Cx<'_>, st: &mut VehicleState, end: TripEnd) {
    cx.trip = trip_no(st.trip.index);
    for r in rules {
        r.on_trip_end(cx, &st.trip, &end, st);
    }
    if let TripEndKind::Ticket(t) = &end.kind {
        let min = cx.ctx.thresholds().min_purity_pct;
        if t.rejected || t.purity_pct.is_some_and(|p| p < min) {
            for p in st.trip.contamination_sources() {
                let n = st.contamination.entry(p).or_default();
                *n = n.saturating_add(1);
            }
        }
    }
    st.trips_done += 1;
    st.pending_tip = None;
    st.trip = Trip {
        index: st.trips_done,
        ..Trip::default()
    };
}

fn close_shift_inner(
    rules: &[Box<dyn Rule>],
    cx: &mut Cx<'_>,
    st: &mut VehicleState,
    at: i64,
    event: Option<&str>,
    position: Option<LatLon>,
) {
    if st.trip.is_loaded() {
        let end = TripEnd {
            at,
            event: event.map(str::to_owned),
            position,
            kind: TripEndKind::ShiftEnd,
        };
        close_trip(rules, cx, st, end);
    }
    cx.trip = None;
    let close = ShiftClose {
        at,
        event,
        position,
        state: st,
    };
    for r in rules {
        r.on_shift_end(cx, &close);
    }
    st.on_shift = false;
    st.off_corridor_since = None;
    st.out_of_area_since = None;
    st.at_depot_since = None;
    st.dwell = None;
    st.pending_tip = None;
}

fn derive(
    ctx: &RuleContext,
    plan: Option<&VehiclePlan>,
    st: &VehicleState,
    ev: &TruckEvent,
) -> Facts {
    let th = ctx.thresholds();
    let at = ev.occurred_at;
    let position = valid(ev.position).or_else(|| {
        st.last_position
            .filter(|(_, t)| at.saturating_sub(*t) <= th.position_stale_ms)
            .map(|(p, _)| p)
    });
    let in_facility = position.and_then(|p| ctx.facility_at(&p).cloned());
    let at_depot = match (plan.and_then(|v| v.depot), position) {
        (Some(d), Some(p)) => p.haversine_m(&d) <= th.depot_radius_m,
        _ => false,
    };
    let off_corridor = match (plan, position) {
        (Some(v), Some(p)) => ctx
            .off_corridor(v, &p)
            .map(|off| off && in_facility.is_none() && !at_depot),
        _ => None,
    };
    let outside_area = match (plan, position) {
        (Some(v), Some(p)) => ctx
            .outside_service_area_m(v, &p)
            .map(|d| d > th.service_area_m && in_facility.is_none() && !at_depot),
        _ => None,
    };
    let scan = match &ev.kind {
        EventKind::BinScan {
            bin,
            stream,
            point,
            lift_kg,
        } => {
            let reg = bin.as_ref().and_then(|b| ctx.bin(b));
            Some(ScanFacts {
                bin_known: reg.is_some(),
                bin: reg.and(bin.clone()),
                stream: reg.map(|r| r.stream).or(*stream),
                point: point.clone().or_else(|| reg.map(|r| r.point.clone())),
                lift_kg: *lift_kg,
            })
        }
        _ => None,
    };
    let foreign_point = plan.and_then(|v| {
        let by_scan = scan
            .as_ref()
            .and_then(|s| s.point.as_ref())
            .filter(|p| ctx.is_foreign_point(v, p))
            .cloned();
        by_scan.or_else(|| valid(ev.position).and_then(|p| ctx.foreign_point_near(v, &p).cloned()))
    });
    Facts {
        position,
        in_facility,
        at_depot,
        off_corridor,
        outside_area,
        foreign_point,
        scan,
        expected_stream: plan.and_then(|v| v.stream_for_trip(st.trips_done)),
    }
}

/// Keeps when (and by which event) a condition started holding: set on its first
/// `Some(true)`, cleared on `Some(false)`, unchanged when the event cannot tell (`None`).
fn track_since(since: &mut Option<(i64, String)>, holds: Option<bool>, ev: &TruckEvent) {
    match holds {
        Some(true) if since.is_none() => {
            *since = Some((ev.occurred_at, ev.client_event_id.clone()))
        }
        Some(true) | None => {}
        Some(false) => *since = None,
    }
}

/// Applies an event's bookkeeping (trip ends are handled by the caller).
fn apply(st: &mut VehicleState, ev: &TruckEvent, facts: &Facts) {
    let at = ev.occurred_at;
    let id = &ev.client_event_id;
    if let Some(p) = valid(ev.position) {
        st.last_position = Some((p, at));
    }
    track_since(&mut st.off_corridor_since, facts.off_corridor, ev);
    if facts.position.is_some() {
        if facts.at_depot && facts.in_facility.is_none() {
            st.at_depot_since.get_or_insert_with(|| (at, id.clone()));
        } else {
            st.at_depot_since = None;
        }
    }
    track_since(&mut st.out_of_area_since, facts.outside_area, ev);
    match &facts.foreign_point {
        Some(fp) if st.dwell.as_ref().is_none_or(|d| &d.0 != fp) => {
            st.dwell = Some((fp.clone(), at, id.clone()));
        }
        Some(_) => {}
        None if valid(ev.position).is_some() => st.dwell = None,
        None => {}
    }
    match &ev.kind {
        EventKind::ShiftStart => st.on_shift = true,
        EventKind::BinScan { .. } => {
            let s = facts.scan.clone().unwrap_or_default();
            let trip = &mut st.trip;
            if let Some(stream) = s.stream {
                trip.stream.get_or_insert(stream);
                trip.streams.entry(stream).or_insert_with(|| id.clone());
                if stream == Stream::Hazardous && trip.hazardous_since.is_none() {
                    trip.hazardous_since = Some((at, id.clone()));
                }
                if let Some(p) = &s.point {
                    let e = trip
                        .lifts_at
                        .entry((p.clone(), stream))
                        .or_insert_with(|| (0, id.clone()));
                    e.0 = e.0.saturating_add(1);
                    st.served.insert((p.clone(), stream));
                }
            }
            trip.pickups.push(Pickup {
                event: id.clone(),
                at,
                bin: s.bin,
                stream: s.stream,
                point: s.point,
                lift_kg: s.lift_kg,
            });
        }
        EventKind::LoadReading { load_kg } => {
            st.last_load = Some(*load_kg);
            st.trip.max_load = Some(st.trip.max_load.map_or(*load_kg, |m| m.max(*load_kg)));
        }
        EventKind::BodySensor { tipping: true } => {
            if let Some(f) = &facts.in_facility {
                st.pending_tip = Some((f.clone(), id.clone()));
            }
        }
        EventKind::DriverException { kind, point, .. } => match kind {
            ExceptionKind::Contaminated => {
                st.trip
                    .contaminated_points
                    .entry(point.clone())
                    .or_insert_with(|| id.clone());
            }
            ExceptionKind::BinNotOut | ExceptionKind::Blocked => {
                st.excused.insert(point.clone());
            }
        },
        _ => {}
    }
}
