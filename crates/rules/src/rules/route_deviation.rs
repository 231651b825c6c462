//! `ROUTE_DEVIATION`, four ways (facility geofences and the depot always count as on
//! the route):
//!
//! - corridor: the truck stays farther than `corridor_m` from its published road
//!   geometry for `deviation_ms` (one incident per excursion);
//! - service area: the truck is farther than `service_area_m` outside the convex hull
//!   of everything its published route touches (corridor, depot, planned points and
//!   facilities). Fires at the first such fix, without waiting: that far out there is
//!   no detour that explains it. One incident per excursion. It also covers plans
//!   without road geometry;
//! - foreign stop: it stops at a point of another stream's route (lingers within
//!   `stop_radius_m` for `stop_dwell_ms`, or lifts a bin there);
//! - unplanned facility: it unloads at a facility its plan does not send it to
//!   (notice only).
//!
//! Version 2 added the service area.

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
        2
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
        if f.outside_area == Some(true) {
            let (id0, first) = match &st.out_of_area_since {
                Some((_, id)) => (id.clone(), false),
                None => (ev.client_event_id.clone(), true),
            };
            let d = f
                .position
                .and_then(|p| cx.ctx.outside_service_area_m(plan, &p))
                .unwrap_or(0.0);
            let mut evidence = vec![id0.clone()];
            if !first {
                evidence.push(ev.client_event_id.clone());
            }
            cx.raise(
                self,
                Draft {
                    key: format!("area:{id0}"),
                    stream: st.trip.stream,
                    evidence,
                    position: f.position,
                    occurred_at: ev.occurred_at,
                    message: format!(
                        "left the service area of its published route: {d:.0} m outside it"
                    ),
                    ..Draft::default()
                },
            );
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
    use sortfleet_model::incident::{RuleId, Severity};
    use sortfleet_model::{LatLon, Stream};

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

    fn area(inc: &[sortfleet_model::incident::Incident]) -> usize {
        only(inc, RuleId::RouteDeviation)
            .iter()
            .filter(|i| i.id.contains(":area:"))
            .count()
    }

    #[test]
    fn leaving_the_service_area_fires_at_once_and_once_per_excursion() {
        let mut w = World::new();
        w.start();
        // FAR is kilometres outside the hull of DEPOT, P1, P2, CORNER and F_K.
        let first = w.at(FAR);
        assert_eq!(area(&first), 1, "{first:#?}");
        assert!(
            only(&first, RuleId::RouteDeviation)[0]
                .message
                .contains("service area")
        );
        w.wait(60_000);
        assert_eq!(area(&w.at(FAR)), 0);
        // Back on the route, then out again: a new excursion.
        w.at(ROAD);
        assert_eq!(area(&w.at(FAR)), 1);
    }

    #[test]
    fn inside_the_area_off_the_corridor_is_left_to_the_corridor_rule() {
        // Inside the DEPOT-CORNER-F_K triangle, ~480 m east of the corridor.
        let inside = LatLon::new(31.215, 121.405);
        // ~600 m north of CORNER: outside the hull but within the 1 km buffer.
        let buffer = LatLon::new(31.2255, 121.400);
        let mut w = World::new();
        w.start();
        for p in [inside, buffer, inside] {
            assert_eq!(area(&w.at(p)), 0);
            w.wait(30_000);
        }
        // The corridor rule still sees the long excursion.
        w.wait(200_000);
        let inc = w.at(inside);
        assert_eq!(only(&inc, RuleId::RouteDeviation).len(), 1);
        assert_eq!(area(&inc), 0);
    }

    #[test]
    fn a_vehicle_without_a_route_has_no_service_area() {
        let mut w = World::with_plan(|p| {
            p.trips.clear();
            p.corridor.clear();
        });
        w.start();
        assert!(only(&w.at(FAR), RuleId::RouteDeviation).is_empty());
        w.wait(600_000);
        assert!(only(&w.at(FAR), RuleId::RouteDeviation).is_empty());
    }

    #[test]
    fn a_plan_without_geometry_still_has_a_service_area() {
        let mut w = World::with_plan(|p| p.corridor.clear());
        w.start();
        assert_eq!(area(&w.at(FAR)), 1);
        assert_eq!(area(&w.at(P2_POS)), 0);
    }

    #[test]
    fn short_excursion_is_quiet() {
        let mut w = World::new();
        w.start();
        w.at(FAR);
        w.wait(60_000);
        w.at(ROAD);
        w.wait(200_000);
        // (Each visit to FAR leaves the service area; only the corridor is at issue here.)
        let inc = only(&w.at(FAR), RuleId::RouteDeviation);
        assert!(inc.iter().all(|i| !i.id.contains(":corridor:")), "{inc:#?}");
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
