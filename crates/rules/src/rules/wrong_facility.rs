//! `WRONG_FACILITY`: a trip is tipped (weighbridge ticket, or tipping inside a facility
//! geofence) at a facility that does not accept its stream: sorted at the bin, mixed
//! at the plant. The trip's stream is its first lift's; an empty trip is judged by the
//! stream declared on the ticket. One incident per trip and facility.

use super::{Cx, Draft, Rule, Seen};
use sortfleet_model::event::EventKind;
use sortfleet_model::incident::{RuleId, Severity};
use sortfleet_model::{FacilityId, Stream};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct WrongFacility;

impl Rule for WrongFacility {
    fn id(&self) -> RuleId {
        RuleId::WrongFacility
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        let ev = seen.event;
        let trip = &seen.state.trip;
        let (facility, stream): (FacilityId, Stream) = match &ev.kind {
            EventKind::WeighbridgeTicket {
                facility,
                declared_stream,
                ..
            } => (facility.clone(), trip.stream.unwrap_or(*declared_stream)),
            EventKind::BodySensor { tipping: true } => {
                match (&seen.facts.in_facility, trip.stream) {
                    (Some(f), Some(s)) => (f.clone(), s),
                    _ => return,
                }
            }
            _ => return,
        };
        let (accepted, what) = match cx.ctx.facility(&facility) {
            Some(f) => (f.accepts(stream), "does not accept"),
            None => (false, "is not a registered facility for"),
        };
        if accepted {
            return;
        }
        let trip_key = trip.first_pickup().unwrap_or(&ev.client_event_id);
        let mut evidence: Vec<String> =
            trip.first_pickup().map(str::to_owned).into_iter().collect();
        evidence.push(ev.client_event_id.clone());
        cx.raise(
            self,
            Draft {
                key: format!("{facility}:{trip_key}"),
                stream: Some(stream),
                evidence,
                position: seen.facts.position,
                occurred_at: ev.occurred_at,
                message: format!("trip of {stream} unloaded at {facility}, which {what} {stream}"),
                ..Draft::default()
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::Stream;
    use sortfleet_model::incident::RuleId;

    #[test]
    fn fires_on_ticket_at_wrong_plant() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        let inc = w.ticket("F_R", Stream::Residual, 40);
        assert_eq!(only(&inc, RuleId::WrongFacility).len(), 1);
        assert_eq!(
            only(&inc, RuleId::WrongFacility)[0].stream,
            Some(Stream::Kitchen)
        );
    }

    #[test]
    fn geofenced_tipping_and_ticket_raise_one() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        w.at(F_R_POS);
        let a = w.tip(true);
        let b = w.ticket("F_R", Stream::Kitchen, 40);
        assert_eq!(only(&a, RuleId::WrongFacility).len(), 1);
        assert!(only(&b, RuleId::WrongFacility).is_empty());
    }

    #[test]
    fn quiet_on_clean_day() {
        assert!(only(&World::clean_day(), RuleId::WrongFacility).is_empty());
    }
}
