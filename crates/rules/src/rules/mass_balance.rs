//! `MASS_BALANCE`: at a weighbridge ticket, the net weight is compared with the best
//! reference the trip has, beyond tolerance `max(pct·ref, floor)`:
//! all lifts weighed → their sum, both ways; else the onboard scale's highest reading,
//! both ways; else the expected demand of the visits served, excess only (demand is an
//! estimate, so only "more than could have been collected" is evidence of load from
//! unrecorded sources). Also: net above the rated payload, and a ticket whose net is not
//! gross − tare.

use super::{Cx, Draft, Rule};
use crate::state::{Trip, TripEnd, TripEndKind, VehicleState};
use sortfleet_model::Kilograms;
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct MassBalance;

impl MassBalance {
    fn raise(&self, cx: &mut Cx<'_>, trip: &Trip, end: &TripEnd, key: &str, msg: String) {
        let id = end.event.clone().unwrap_or_default();
        let mut evidence: Vec<String> = trip.pickups.iter().map(|p| p.event.clone()).collect();
        evidence.push(id.clone());
        cx.raise(
            self,
            Draft {
                key: format!("{id}:{key}"),
                stream: trip.stream,
                evidence,
                position: end.position,
                occurred_at: end.at,
                message: msg,
                ..Draft::default()
            },
        );
    }
}

impl Rule for MassBalance {
    fn id(&self) -> RuleId {
        RuleId::MassBalance
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Warning
    }
    fn on_trip_end(&self, cx: &mut Cx<'_>, trip: &Trip, end: &TripEnd, _state: &VehicleState) {
        let TripEndKind::Ticket(t) = &end.kind else {
            return;
        };
        let th = cx.ctx.thresholds();
        let net = i128::from(t.net_kg.0);
        let arith = i128::from(t.gross_kg.0) - i128::from(t.tare_kg.0);
        if (arith - net).abs() > 1 {
            self.raise(
                cx,
                trip,
                end,
                "ticket",
                format!(
                    "ticket net {} kg is not gross {} − tare {}",
                    t.net_kg.0, t.gross_kg.0, t.tare_kg.0
                ),
            );
        }
        if let Some(plan) = cx.plan
            && plan.rated_payload.0 > 0
            && net > i128::from(plan.rated_payload.0)
        {
            let msg = format!(
                "net {} kg exceeds the rated payload {}",
                t.net_kg.0, plan.rated_payload
            );
            self.raise(cx, trip, end, "payload", msg);
        }
        let all_weighed = trip.is_loaded() && trip.pickups.iter().all(|p| p.lift_kg.is_some());
        let (reference, what, two_sided): (i128, &str, bool) = if all_weighed {
            let s = trip
                .pickups
                .iter()
                .map(|p| i128::from(p.lift_kg.map_or(0, |k| k.0)))
                .sum();
            (s, "sum of weighed lifts", true)
        } else if let Some(Kilograms(m)) = trip.max_load {
            (i128::from(m), "onboard load reading", true)
        } else {
            let expected: i128 = match (cx.plan, trip.stream) {
                (Some(plan), Some(s)) => trip
                    .points()
                    .into_iter()
                    .filter_map(|p| plan.expected_at(p, s))
                    .map(|k| i128::from(k.0))
                    .sum(),
                _ => 0,
            };
            (expected, "expected demand of the visits served", false)
        };
        let tol = (reference.abs() * i128::from(th.mass_tolerance_pct) / 100)
            .max(i128::from(th.mass_tolerance_kg.0));
        let diff = net - reference;
        if diff > tol || (two_sided && -diff > tol) {
            self.raise(
                cx,
                trip,
                end,
                "balance",
                format!(
                    "weighbridge net {} kg vs {what} {reference} kg: off by {diff} kg (tolerance {tol} kg)",
                    t.net_kg.0
                ),
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
    fn fires_when_net_exceeds_weighed_lifts() {
        let mut w = World::new();
        w.start();
        w.scan_kg("KB1", 40);
        w.scan_kg("KB2", 40);
        let inc = w.ticket("F_K", Stream::Kitchen, 700);
        assert_eq!(only(&inc, RuleId::MassBalance).len(), 1);
    }

    #[test]
    fn fires_over_payload_and_on_empty_trip_with_load() {
        let mut w = World::new();
        w.start();
        let inc = w.ticket("F_K", Stream::Kitchen, 20_000);
        // Over payload and far above the (zero) expected demand.
        assert_eq!(only(&inc, RuleId::MassBalance).len(), 2);
    }

    #[test]
    fn within_tolerance_is_quiet() {
        let mut w = World::new();
        w.start();
        w.scan_kg("KB1", 400);
        w.scan_kg("KB2", 400);
        assert!(only(&w.ticket("F_K", Stream::Kitchen, 850), RuleId::MassBalance).is_empty());
        assert!(only(&World::clean_day(), RuleId::MassBalance).is_empty());
    }
}
