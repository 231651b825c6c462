//! `MISSED_PICKUP`: at shift end, every planned visit (point, stream) with no lift of
//! that stream at that point today. A visit the driver reported as "bin not out" or
//! "blocked" was attempted and is not counted as missed (the exception is on record).

use super::{Cx, Draft, Rule, ShiftClose};
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct MissedPickup;

impl Rule for MissedPickup {
    fn id(&self) -> RuleId {
        RuleId::MissedPickup
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Warning
    }
    fn on_shift_end(&self, cx: &mut Cx<'_>, close: &ShiftClose<'_>) {
        let Some(plan) = cx.plan else { return };
        let st = close.state;
        let missed: Vec<_> = plan
            .visits()
            .filter(|(p, s)| !st.served.contains(&((*p).clone(), *s)) && !st.excused.contains(*p))
            .map(|(p, s)| (p.clone(), s))
            .collect();
        for (p, s) in missed {
            let position = cx.ctx.point(&p).and_then(|i| i.position);
            cx.raise(
                self,
                Draft {
                    key: format!("{p}:{s}"),
                    stream: Some(s),
                    point: Some(p.clone()),
                    evidence: close.event.map(str::to_owned).into_iter().collect(),
                    position,
                    occurred_at: close.at,
                    message: format!("planned {s} visit at {p} was not served by shift end"),
                    ..Draft::default()
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::event::ExceptionKind;
    use sortfleet_model::incident::RuleId;

    #[test]
    fn fires_for_each_unserved_visit() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        w.ticket("F_K", sortfleet_model::Stream::Kitchen, 40);
        let inc = w.end();
        // Planned: P1 and P2 kitchen; P2 not served.
        let r = only(&inc, RuleId::MissedPickup);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].point.as_ref().map(|p| p.as_str()), Some("P2"));
    }

    #[test]
    fn excused_by_driver_exception() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        w.exception(ExceptionKind::BinNotOut, "P2");
        w.ticket("F_K", sortfleet_model::Stream::Kitchen, 40);
        assert!(only(&w.end(), RuleId::MissedPickup).is_empty());
    }

    #[test]
    fn quiet_on_clean_day() {
        assert!(only(&World::clean_day(), RuleId::MissedPickup).is_empty());
    }
}
