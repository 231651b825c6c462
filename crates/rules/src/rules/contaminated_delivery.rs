//! `CONTAMINATED_DELIVERY`: the facility rejects the load or grades its purity below
//! the threshold. The incident is traced back to the trip's sources: the points the
//! driver flagged as contaminated and the points whose lifts were of another stream,
//! one incident per source point (feeding its accuracy rate); a point with an earlier
//! contamination (today or in the store's history) escalates from notice to refusal
//! (critical). Without an identified source, one trip-level incident lists the points.
//! Evidence per source: the driver's report and the lifts of another (known) stream
//! there, then the ticket. Version 2 stopped citing untagged lifts as such.

use super::{Cx, Draft, Rule};
use crate::state::{Trip, TripEnd, TripEndKind, VehicleState};
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContaminatedDelivery;

impl Rule for ContaminatedDelivery {
    fn id(&self) -> RuleId {
        RuleId::ContaminatedDelivery
    }
    fn version(&self) -> u32 {
        2
    }
    fn severity(&self) -> Severity {
        Severity::Notice
    }
    fn on_trip_end(&self, cx: &mut Cx<'_>, trip: &Trip, end: &TripEnd, state: &VehicleState) {
        let TripEndKind::Ticket(t) = &end.kind else {
            return;
        };
        let min = cx.ctx.thresholds().min_purity_pct;
        let why = if t.rejected {
            format!("{} rejected the load", t.facility)
        } else if let Some(p) = t.purity_pct.filter(|p| *p < min) {
            format!("{} graded the load {p}% pure (minimum {min}%)", t.facility)
        } else {
            return;
        };
        let ticket = end.event.clone().unwrap_or_default();
        let sources = trip.contamination_sources();
        if sources.is_empty() {
            let mut evidence: Vec<String> = trip.pickups.iter().map(|p| p.event.clone()).collect();
            evidence.push(ticket.clone());
            let pts: Vec<String> = trip.points().iter().map(|p| p.to_string()).collect();
            cx.raise(
                self,
                Draft {
                    key: ticket,
                    stream: trip.stream,
                    evidence,
                    position: end.position,
                    occurred_at: end.at,
                    message: format!(
                        "{why}; no source identified, trip collected at: {}",
                        pts.join(", ")
                    ),
                    ..Draft::default()
                },
            );
            return;
        }
        for p in sources {
            let earlier = cx
                .ctx
                .prior_contamination(&p)
                .saturating_add(state.contamination.get(&p).copied().unwrap_or(0));
            let mut evidence: Vec<String> = trip
                .contaminated_points
                .get(&p)
                .cloned()
                .into_iter()
                .collect();
            evidence.extend(
                trip.pickups
                    .iter()
                    // Lifts of a known other stream, as in `contamination_sources`:
                    // an untagged lift proves nothing about the stream it held.
                    .filter(|k| {
                        k.point.as_ref() == Some(&p)
                            && k.stream.is_some()
                            && k.stream != trip.stream
                    })
                    .map(|k| k.event.clone()),
            );
            evidence.push(ticket.clone());
            let (severity, action) = if earlier > 0 {
                (Severity::Critical, "repeat source: refusal")
            } else {
                (Severity::Notice, "first occurrence: notice")
            };
            cx.raise(
                self,
                Draft {
                    key: format!("{ticket}:{p}"),
                    severity: Some(severity),
                    stream: trip.stream,
                    point: Some(p.clone()),
                    evidence,
                    position: end.position,
                    occurred_at: end.at,
                    message: format!("{why}; traced to {p} ({action})"),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::Stream;
    use sortfleet_model::event::ExceptionKind;
    use sortfleet_model::incident::{RuleId, Severity};

    #[test]
    fn rejected_load_traced_to_flagged_point_and_escalates() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        w.exception(ExceptionKind::Contaminated, "P1");
        let a = w.reject("F_K", Stream::Kitchen);
        let a = only(&a, RuleId::ContaminatedDelivery);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].point.as_ref().map(|p| p.as_str()), Some("P1"));
        assert_eq!(a[0].severity, Severity::Notice);
        w.scan("KB1");
        w.exception(ExceptionKind::Contaminated, "P1");
        let b = w.reject("F_K", Stream::Kitchen);
        assert_eq!(
            only(&b, RuleId::ContaminatedDelivery)[0].severity,
            Severity::Critical
        );
    }

    #[test]
    fn evidence_cites_the_foreign_lifts_not_untagged_ones() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        w.scan("RB1");
        w.scan_untagged("P1");
        let inc = w.ticket_purity("F_K", Stream::Kitchen, 40, 60);
        let r = only(&inc, RuleId::ContaminatedDelivery);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].point.as_ref().map(|p| p.as_str()), Some("P1"));
        // RB1's scan (e0003) and the ticket (e0005); not the untagged lift (e0004).
        assert_eq!(r[0].evidence, ["e0003", "e0005"]);
    }

    #[test]
    fn low_purity_without_source_is_trip_level() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        let inc = w.ticket_purity("F_K", Stream::Kitchen, 40, 60);
        let r = only(&inc, RuleId::ContaminatedDelivery);
        assert_eq!(r.len(), 1);
        assert!(r[0].point.is_none());
    }

    #[test]
    fn quiet_on_clean_day() {
        assert!(only(&World::clean_day(), RuleId::ContaminatedDelivery).is_empty());
    }
}
