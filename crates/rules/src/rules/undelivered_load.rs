//! `UNDELIVERED_LOAD`: a trip with pickups has no weighbridge ticket at a facility
//! before the truck returns to its depot or the shift ends (also: tipped in a facility
//! geofence, then lifting again, without a ticket). One incident per trip, keyed by the
//! trip's first lift, whichever of these notices it first.

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
        by: Option<&str>,
        pos: Option<sortfleet_model::LatLon>,
        why: String,
    ) {
        let Some(first) = trip.first_pickup() else {
            return;
        };
        let mut evidence = vec![first.to_owned()];
        evidence.extend(by.map(str::to_owned));
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
        1
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        // A depot inside a facility's geofence (depot at a transfer station) is the
        // facility: the ticket decides there.
        let f = seen.facts;
        if f.at_depot && f.in_facility.is_none() && seen.state.trip.is_loaded() {
            let ev = seen.event;
            self.raise(
                cx,
                &seen.state.trip,
                ev.occurred_at,
                Some(&ev.client_event_id),
                seen.facts.position,
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
        self.raise(cx, trip, end.at, end.event.as_deref(), end.position, why);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::incident::RuleId;

    #[test]
    fn fires_on_depot_return_once_then_not_at_shift_end() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        let a = w.at(DEPOT);
        let b = w.end();
        assert_eq!(only(&a, RuleId::UndeliveredLoad).len(), 1);
        assert!(only(&b, RuleId::UndeliveredLoad).is_empty());
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
