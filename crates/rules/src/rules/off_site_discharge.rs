//! `OFF_SITE_DISCHARGE`: the body tips, or the onboard load drops by more than the
//! threshold, outside every facility geofence: illegal dumping. Judged only where the
//! position is known (the event's own, or a recent one), so a missing fix never
//! produces an accusation.

use super::{Cx, Draft, Rule, Seen};
use sortfleet_model::event::EventKind;
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct OffSiteDischarge;

impl Rule for OffSiteDischarge {
    fn id(&self) -> RuleId {
        RuleId::OffSiteDischarge
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        let f = seen.facts;
        if f.position.is_none() || f.in_facility.is_some() {
            return;
        }
        let ev = seen.event;
        let what = match &ev.kind {
            EventKind::BodySensor { tipping: true } => "body tipped".to_owned(),
            EventKind::LoadReading { load_kg } => {
                let Some(prev) = seen.state.last_load else {
                    return;
                };
                let drop = i128::from(prev.0) - i128::from(load_kg.0);
                if drop <= i128::from(cx.ctx.thresholds().load_drop_kg.0) {
                    return;
                }
                format!("onboard load dropped by {drop} kg")
            }
            _ => return,
        };
        cx.raise(
            self,
            Draft {
                key: ev.client_event_id.clone(),
                stream: seen.state.trip.stream,
                evidence: vec![ev.client_event_id.clone()],
                position: f.position,
                occurred_at: ev.occurred_at,
                message: format!("{what} outside every facility geofence"),
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
    fn fires_on_tipping_on_the_road() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        w.at(ROAD);
        assert_eq!(only(&w.tip(true), RuleId::OffSiteDischarge).len(), 1);
    }

    #[test]
    fn fires_on_load_drop_on_the_road_not_at_plant() {
        let mut w = World::new();
        w.start();
        w.at(ROAD);
        w.load(900);
        assert_eq!(only(&w.load(300), RuleId::OffSiteDischarge).len(), 1);
        w.load(900);
        w.at(F_K_POS);
        assert!(only(&w.load(0), RuleId::OffSiteDischarge).is_empty());
    }

    #[test]
    fn quiet_without_position_and_on_clean_day() {
        let mut w = World::new();
        w.start_nowhere();
        assert!(only(&w.tip(true), RuleId::OffSiteDischarge).is_empty());
        assert!(only(&World::clean_day(), RuleId::OffSiteDischarge).is_empty());
    }
}
