//! `UNDELIVERED_LOAD`: a trip with pickups has no weighbridge ticket at a facility
//! before the truck returns to its depot or the shift ends (also: tipped in a facility
//! geofence, then lifting again, without a ticket). One incident per trip, keyed by the
//! trip's first lift, whichever of these notices it first.
//!
//! "Returns to the depot" means stays within the depot radius for the stop dwell time
//! (`stop_dwell_ms`): a loaded truck driving past its depot gate on the way to the
//! plant has not returned. Version 2 added that dwell; before, one fix sufficed.

use super::{Cx, Draft, Rule, Seen};
use crate::state::{Trip, TripEnd, TripEndKind, VehicleState};
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct UndeliveredLoad;

impl UndeliveredLoad {
    fn raise(
        &self,
        cx: &mut Cx<'_>,
        trip: &Trip,
        at: i64,
        by: &[&str],
        pos: Option<sortfleet_model::LatLon>,
        why: String,
    ) {
        let Some(first) = trip.first_pickup() else {
            return;
        };
        let mut evidence = vec![first.to_owned()];
        for b in by {
            if !evidence.iter().any(|e| e == b) {
                evidence.push((*b).to_owned());
            }
        }
        cx.raise(
            self,
            Draft {
                key: first.to_owned(),
                stream: trip.stream,
                evidence,
                position: pos,
                occurred_at: at,
                message: format!(
                    "trip with {} lifts{} {why} without a weighbridge ticket",
                    trip.pickups.len(),
                    trip.stream.map(|s| format!(" of {s}")).unwrap_or_default()
                ),
                ..Draft::default()
            },
        );
    }
}

impl Rule for UndeliveredLoad {
    fn id(&self) -> RuleId {
        RuleId::UndeliveredLoad
    }
    fn version(&self) -> u32 {
        2
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        // A depot inside a facility's geofence (depot at a transfer station) is the
        // facility: the ticket decides there.
        let (f, ev, st) = (seen.facts, seen.event, seen.state);
        if !(f.at_depot && f.in_facility.is_none() && st.trip.is_loaded()) {
            return;
        }
        let (since, first) = st
            .at_depot_since
            .as_ref()
            .map_or((ev.occurred_at, ev.client_event_id.as_str()), |(t, id)| {
                (*t, id.as_str())
            });
        if ev.occurred_at.saturating_sub(since) >= cx.ctx.thresholds().stop_dwell_ms {
            self.raise(
                cx,
                &st.trip,
                ev.occurred_at,
                &[first, &ev.client_event_id],
                f.position,
                "returned to the depot".into(),
            );
        }
    }
    fn on_trip_end(&self, cx: &mut Cx<'_>, trip: &Trip, end: &TripEnd, _state: &VehicleState) {
        let why = match &end.kind {
            TripEndKind::Ticket(_) => return,
            TripEndKind::TippedWithoutTicket { facility, .. } => {
                format!("was tipped at {facility}")
            }
            TripEndKind::ShiftEnd => "was still on board at shift end".into(),
        };
        let by: Vec<&str> = end.event.as_deref().into_iter().collect();
        self.raise(cx, trip, end.at, &by, end.position, why);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::Stream;
    use sortfleet_model::incident::RuleId;

    #[test]
    fn fires_on_depot_return_once_then_not_at_shift_end() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        assert!(only(&w.at(DEPOT), RuleId::UndeliveredLoad).is_empty());
        w.wait(60_000);
        let a = w.at(DEPOT);
        let b = w.end();
        let a = only(&a, RuleId::UndeliveredLoad);
        assert_eq!(a.len(), 1);
        // The first lift, the arrival at the depot, the fix that completed the dwell.
        assert_eq!(a[0].evidence, ["e0002", "e0003", "e0004"]);
        assert!(only(&b, RuleId::UndeliveredLoad).is_empty());
    }

    #[test]
    fn driving_past_the_depot_loaded_is_not_a_return() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        for p in [DEPOT, DEPOT, ROAD] {
            assert!(only(&w.at(p), RuleId::UndeliveredLoad).is_empty());
        }
        // Passing again later: the dwell starts over.
        w.wait(600_000);
        assert!(only(&w.at(DEPOT), RuleId::UndeliveredLoad).is_empty());
        w.at(ROAD);
        assert!(
            only(
                &w.ticket("F_K", Stream::Kitchen, 40),
                RuleId::UndeliveredLoad
            )
            .is_empty()
        );
    }

    #[test]
    fn depot_at_a_facility_waits_for_the_ticket() {
        let mut w = World::with_plan(|p| p.depot = Some(F_K_POS));
        w.start();
        w.scan("KB1");
        assert!(only(&w.at(F_K_POS), RuleId::UndeliveredLoad).is_empty());
        assert!(
            only(
                &w.ticket("F_K", sortfleet_model::Stream::Kitchen, 40),
                RuleId::UndeliveredLoad
            )
            .is_empty()
        );
    }

    #[test]
    fn fires_at_shift_end_and_on_close_shift() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        assert_eq!(only(&w.end(), RuleId::UndeliveredLoad).len(), 1);
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        assert_eq!(only(&w.close(), RuleId::UndeliveredLoad).len(), 1);
    }

    #[test]
    fn fires_when_tipped_without_ticket() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        w.at(F_K_POS);
        w.tip(true);
        let inc = w.scan("KB2");
        assert_eq!(only(&inc, RuleId::UndeliveredLoad).len(), 1);
    }

    #[test]
    fn quiet_on_clean_day() {
        assert!(only(&World::clean_day(), RuleId::UndeliveredLoad).is_empty());
    }
}
