//! `HAZARDOUS_CUSTODY`: hazardous waste lifted by a vehicle without a hazardous
//! licence (once per day), or a trip's hazardous load not ticketed at a facility
//! accepting hazardous waste within the deadline from its first hazardous lift. The
//! deadline is checked on every later event (real time, no clock needed) and at the
//! trip's end; one custody incident per trip.

use super::{Cx, Draft, Rule, Seen};
use crate::state::{Trip, TripEnd, TripEndKind, VehicleState};
use sortfleet_model::Stream;
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct HazardousCustody;

impl HazardousCustody {
    fn custody(
        &self,
        cx: &mut Cx<'_>,
        trip: &Trip,
        at: i64,
        by: Option<&str>,
        pos: Option<sortfleet_model::LatLon>,
        why: &str,
    ) {
        let Some((_, first)) = &trip.hazardous_since else {
            return;
        };
        let mut evidence = vec![first.clone()];
        evidence.extend(by.map(str::to_owned));
        cx.raise(
            self,
            Draft {
                key: format!("custody:{first}"),
                stream: Some(Stream::Hazardous),
                evidence,
                position: pos,
                occurred_at: at,
                message: format!("hazardous load {why}"),
                ..Draft::default()
            },
        );
    }
}

impl Rule for HazardousCustody {
    fn id(&self) -> RuleId {
        RuleId::HazardousCustody
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        let ev = seen.event;
        let scanned = seen.facts.scan.as_ref().and_then(|s| s.stream);
        if scanned == Some(Stream::Hazardous) && cx.plan.is_some_and(|p| !p.hazardous_licence) {
            cx.raise(
                self,
                Draft {
                    key: "licence".into(),
                    stream: Some(Stream::Hazardous),
                    point: seen.facts.scan.as_ref().and_then(|s| s.point.clone()),
                    evidence: vec![ev.client_event_id.clone()],
                    position: seen.facts.position,
                    occurred_at: ev.occurred_at,
                    message: "hazardous waste collected by a vehicle without a hazardous licence"
                        .into(),
                    ..Draft::default()
                },
            );
        }
        let deadline = cx.ctx.thresholds().hazardous_deadline_ms;
        if let Some((t0, _)) = &seen.state.trip.hazardous_since
            && ev.occurred_at > t0.saturating_add(deadline)
        {
            let why = format!(
                "not delivered to a hazardous store within {} min",
                deadline / 60_000
            );
            self.custody(
                cx,
                &seen.state.trip,
                ev.occurred_at,
                Some(&ev.client_event_id),
                seen.facts.position,
                &why,
            );
        }
    }
    fn on_trip_end(&self, cx: &mut Cx<'_>, trip: &Trip, end: &TripEnd, _state: &VehicleState) {
        let Some((t0, _)) = &trip.hazardous_since else {
            return;
        };
        let deadline = cx.ctx.thresholds().hazardous_deadline_ms;
        let why = match &end.kind {
            TripEndKind::Ticket(t) => {
                let store = cx
                    .ctx
                    .facility(&t.facility)
                    .is_some_and(|f| f.accepts(Stream::Hazardous));
                if !store {
                    format!("unloaded at {}, which is not a hazardous store", t.facility)
                } else if end.at > t0.saturating_add(deadline) {
                    format!("delivered after the {} min deadline", deadline / 60_000)
                } else {
                    return;
                }
            }
            TripEndKind::TippedWithoutTicket { facility, .. } => {
                format!("tipped at {facility} without a ticket")
            }
            TripEndKind::ShiftEnd => "still on board at shift end".into(),
        };
        self.custody(cx, trip, end.at, end.event.as_deref(), end.position, &why);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::Stream;
    use sortfleet_model::incident::RuleId;

    #[test]
    fn fires_without_licence() {
        let mut w = World::new();
        w.start();
        assert_eq!(only(&w.scan("HB1"), RuleId::HazardousCustody).len(), 1);
    }

    #[test]
    fn fires_after_deadline_once() {
        let mut w = World::with_plan(|p| {
            p.hazardous_licence = true;
            p.certified.push(Stream::Hazardous);
        });
        w.start();
        assert!(only(&w.scan("HB1"), RuleId::HazardousCustody).is_empty());
        w.wait(5 * 3_600_000);
        assert_eq!(only(&w.at(ROAD), RuleId::HazardousCustody).len(), 1);
        assert!(
            only(
                &w.ticket("F_H", Stream::Hazardous, 5),
                RuleId::HazardousCustody
            )
            .is_empty()
        );
    }

    #[test]
    fn fires_on_delivery_to_non_store() {
        let mut w = World::with_plan(|p| {
            p.hazardous_licence = true;
            p.certified.push(Stream::Hazardous);
        });
        w.start();
        w.scan("HB1");
        assert_eq!(
            only(
                &w.ticket("F_R", Stream::Hazardous, 5),
                RuleId::HazardousCustody
            )
            .len(),
            1
        );
    }

    #[test]
    fn quiet_on_timely_delivery_and_clean_day() {
        let mut w = World::with_plan(|p| {
            p.hazardous_licence = true;
            p.certified.push(Stream::Hazardous);
        });
        w.start();
        w.scan("HB1");
        w.wait(3_600_000);
        assert!(
            only(
                &w.ticket("F_H", Stream::Hazardous, 5),
                RuleId::HazardousCustody
            )
            .is_empty()
        );
        assert!(only(&World::clean_day(), RuleId::HazardousCustody).is_empty());
    }
}
