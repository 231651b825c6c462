//! `ROUTE_DEVIATION`: the truck stays off its published corridor longer than the
//! threshold (facility geofences and the depot count as on-route), or it stops at a
//! point of another stream's route (it lingers there for the dwell time, or lifts a bin
//! there), or it unloads at a facility its plan does not send it to (notice only).

use super::{Cx, Draft, Rule, Seen};
use sortfleet_model::event::EventKind;
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouteDeviation;

impl Rule for RouteDeviation {
    fn id(&self) -> RuleId {
        RuleId::RouteDeviation
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Warning
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        let Some(plan) = cx.plan else { return };
        let (ev, f, st) = (seen.event, seen.facts, seen.state);
        let th = cx.ctx.thresholds();
        if f.off_corridor == Some(true) {
            let (t0, id0) = st
                .off_corridor_since
                .clone()
                .unwrap_or((ev.occurred_at, ev.client_event_id.clone()));
            if ev.occurred_at.saturating_sub(t0) >= th.deviation_ms {
                let d = f
                    .position
                    .and_then(|p| cx.ctx.corridor_distance_m(plan, &p))
                    .unwrap_or(0.0);
                cx.raise(
                    self,
                    Draft {
                        key: format!("corridor:{id0}"),
                        stream: st.trip.stream,
                        evidence: vec![id0, ev.client_event_id.clone()],
                        position: f.position,
                        occurred_at: ev.occurred_at,
                        message: format!(
                            "off the published route corridor for {} s, now {d:.0} m away",
                            ev.occurred_at.saturating_sub(t0) / 1000
                        ),
                        ..Draft::default()
                    },
                );
            }
        }
        if let Some(fp) = &f.foreign_point {
            let (t0, id0) = match &st.dwell {
                Some((p, t, id)) if p == fp => (*t, id.clone()),
                _ => (ev.occurred_at, ev.client_event_id.clone()),
            };
            let lifted = f
                .scan
                .as_ref()
                .is_some_and(|s| s.point.as_ref() == Some(fp));
            if lifted || ev.occurred_at.saturating_sub(t0) >= th.stop_dwell_ms {
                cx.raise(
                    self,
                    Draft {
                        key: format!("stop:{fp}:{id0}"),
                        stream: st.trip.stream,
                        point: Some(fp.clone()),
                        evidence: vec![id0, ev.client_event_id.clone()],
                        position: f.position,
                        occurred_at: ev.occurred_at,
                        message: format!("stopped at {fp}, a point of another stream's route"),
                        ..Draft::default()
                    },
                );
            }
        }
        if let EventKind::WeighbridgeTicket { facility, .. } = &ev.kind {
            let planned: Vec<_> = plan
                .trips
                .iter()
                .filter_map(|t| t.facility.as_ref())
                .collect();
            if !planned.is_empty() && !planned.contains(&facility) {
                cx.raise(
                    self,
                    Draft {
                        key: format!("facility:{}", ev.client_event_id),
                        severity: Some(Severity::Notice),
                        stream: st.trip.stream,
                        evidence: vec![ev.client_event_id.clone()],
                        position: f.position,
                        occurred_at: ev.occurred_at,
                        message: format!(
                            "unloaded at {facility}, which the plan does not send this truck to"
                        ),
                        ..Draft::default()
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::Stream;
    use sortfleet_model::incident::{RuleId, Severity};

    #[test]
    fn fires_after_threshold_off_corridor_once() {
        let mut w = World::new();
        w.start();
        w.at(FAR);
        w.wait(60_000);
        assert!(only(&w.at(FAR), RuleId::RouteDeviation).is_empty());
        w.wait(200_000);
        assert_eq!(only(&w.at(FAR), RuleId::RouteDeviation).len(), 1);
        w.wait(60_000);
        assert!(only(&w.at(FAR), RuleId::RouteDeviation).is_empty());
    }

    #[test]
    fn short_excursion_is_quiet() {
        let mut w = World::new();
        w.start();
        w.at(FAR);
        w.wait(60_000);
        w.at(ROAD);
        w.wait(200_000);
        assert!(only(&w.at(FAR), RuleId::RouteDeviation).is_empty());
    }

    #[test]
    fn fires_on_stop_at_other_streams_point() {
        let mut w = World::new();
        w.start();
        w.at(P_OTHER_POS);
        w.wait(90_000);
        assert_eq!(only(&w.at(P_OTHER_POS), RuleId::RouteDeviation).len(), 1);
    }

    #[test]
    fn unplanned_facility_is_a_notice() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        let inc = w.ticket("F_K2", Stream::Kitchen, 40);
        let r = only(&inc, RuleId::RouteDeviation);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].severity, Severity::Notice);
    }

    #[test]
    fn quiet_on_clean_day() {
        assert!(only(&World::clean_day(), RuleId::RouteDeviation).is_empty());
    }
}
