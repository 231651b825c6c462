//! `MIXED_TRIP`: one trip holds pickups of two streams before it is emptied. Fires once
//! per extra stream per trip, on the first lift of that stream.

use super::{Cx, Draft, Rule, Seen};
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct MixedTrip;

impl Rule for MixedTrip {
    fn id(&self) -> RuleId {
        RuleId::MixedTrip
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        let Some(stream) = seen.facts.scan.as_ref().and_then(|s| s.stream) else {
            return;
        };
        let trip = &seen.state.trip;
        let Some(trip_stream) = trip.stream else {
            return;
        };
        if stream == trip_stream || trip.streams.contains_key(&stream) {
            return;
        }
        let ev = seen.event;
        let first = trip.streams.get(&trip_stream).cloned().unwrap_or_default();
        cx.raise(
            self,
            Draft {
                key: ev.client_event_id.clone(),
                stream: Some(stream),
                point: seen.facts.scan.as_ref().and_then(|s| s.point.clone()),
                evidence: vec![first, ev.client_event_id.clone()],
                position: seen.facts.position,
                occurred_at: ev.occurred_at,
                message: format!(
                    "{stream} lifted into a trip already holding {trip_stream}; empty the truck before collecting another stream"
                ),
                ..Draft::default()
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::incident::RuleId;

    #[test]
    fn fires_once_per_extra_stream() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        let a = w.scan("RB1");
        let b = w.scan("RB2");
        assert_eq!(only(&a, RuleId::MixedTrip).len(), 1);
        assert!(only(&b, RuleId::MixedTrip).is_empty());
    }

    #[test]
    fn new_trip_after_unload_is_not_mixed() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        w.ticket("F_K", sortfleet_model::Stream::Kitchen, 40);
        let inc = w.scan("RB1");
        assert!(only(&inc, RuleId::MixedTrip).is_empty());
        let clean = World::clean_day();
        assert!(only(&clean, RuleId::MixedTrip).is_empty());
    }
}
