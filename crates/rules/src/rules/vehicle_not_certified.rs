//! `VEHICLE_NOT_CERTIFIED`: the truck is dispatched for a stream its body is not
//! certified for (checked on its first event of the day; one incident per stream), or
//! it lifts a bin of such a stream (one incident per stream per day).

use super::{Cx, Draft, Rule, Seen};
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct VehicleNotCertified;

impl Rule for VehicleNotCertified {
    fn id(&self) -> RuleId {
        RuleId::VehicleNotCertified
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        let Some(plan) = cx.plan else { return };
        let ev = seen.event;
        // Repeats of a stream give the same id and are dropped by the engine.
        for s in plan.trips.iter().map(|t| t.stream) {
            if !plan.is_certified(s) {
                cx.raise(
                    self,
                    Draft {
                        key: format!("dispatched:{s}"),
                        stream: Some(s),
                        evidence: vec![ev.client_event_id.clone()],
                        position: seen.facts.position,
                        occurred_at: ev.occurred_at,
                        message: format!(
                            "dispatched for {s}, which this vehicle is not certified for"
                        ),
                        ..Draft::default()
                    },
                );
            }
        }
        let Some(s) = seen.facts.scan.as_ref().and_then(|s| s.stream) else {
            return;
        };
        if !plan.is_certified(s) {
            cx.raise(
                self,
                Draft {
                    key: format!("collected:{s}"),
                    stream: Some(s),
                    point: seen.facts.scan.as_ref().and_then(|x| x.point.clone()),
                    evidence: vec![ev.client_event_id.clone()],
                    position: seen.facts.position,
                    occurred_at: ev.occurred_at,
                    message: format!("collected {s}, which this vehicle is not certified for"),
                    ..Draft::default()
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::Stream;
    use sortfleet_model::incident::RuleId;

    #[test]
    fn fires_on_uncertified_collection_once() {
        let mut w = World::new();
        w.start();
        // T1 is certified for kitchen and residual only.
        let a = w.scan("RB1");
        assert!(only(&a, RuleId::VehicleNotCertified).is_empty());
        let b = w.scan("HB1");
        assert_eq!(only(&b, RuleId::VehicleNotCertified).len(), 1);
        assert!(only(&w.scan("HB1"), RuleId::VehicleNotCertified).is_empty());
    }

    #[test]
    fn fires_on_uncertified_dispatch() {
        let mut w = World::with_plan(|p| p.certified = vec![Stream::Residual]);
        let inc = w.start();
        let r = only(&inc, RuleId::VehicleNotCertified);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].stream, Some(Stream::Kitchen));
    }

    #[test]
    fn quiet_on_clean_day() {
        assert!(only(&World::clean_day(), RuleId::VehicleNotCertified).is_empty());
    }
}
