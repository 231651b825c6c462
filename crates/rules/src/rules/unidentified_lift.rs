//! `UNIDENTIFIED_LIFT`: a lift without a valid bin tag (no tag, or a tag not in the bin
//! registry), or more lifts of a stream at a point on one trip than the point has
//! registered bins of that stream (once per trip, point and stream).

use super::{Cx, Draft, Rule, Seen};
use sortfleet_model::event::EventKind;
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnidentifiedLift;

impl Rule for UnidentifiedLift {
    fn id(&self) -> RuleId {
        RuleId::UnidentifiedLift
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Warning
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        let (Some(scan), EventKind::BinScan { bin, .. }) = (&seen.facts.scan, &seen.event.kind)
        else {
            return;
        };
        let ev = seen.event;
        if !scan.bin_known {
            let what = match bin {
                Some(b) => format!("tag `{b}` is not a registered bin"),
                None => "no valid bin tag".to_owned(),
            };
            cx.raise(
                self,
                Draft {
                    key: ev.client_event_id.clone(),
                    stream: scan.stream,
                    point: scan.point.clone(),
                    evidence: vec![ev.client_event_id.clone()],
                    position: seen.facts.position,
                    occurred_at: ev.occurred_at,
                    message: format!("lift with {what}"),
                    ..Draft::default()
                },
            );
        }
        let (Some(p), Some(s)) = (&scan.point, scan.stream) else {
            return;
        };
        let Some(registered) = cx.ctx.registered_bins(p, s) else {
            return;
        };
        let (before, first) = seen
            .state
            .trip
            .lifts_at
            .get(&(p.clone(), s))
            .cloned()
            .unwrap_or((0, ev.client_event_id.clone()));
        if before.saturating_add(1) > registered {
            cx.raise(
                self,
                Draft {
                    key: format!("excess:{p}:{s}:{first}"),
                    stream: Some(s),
                    point: Some(p.clone()),
                    evidence: vec![first, ev.client_event_id.clone()],
                    position: seen.facts.position,
                    occurred_at: ev.occurred_at,
                    message: format!(
                        "lift {} of {s} at {p}, which has {registered} registered {s} bin(s)",
                        before.saturating_add(1)
                    ),
                    ..Draft::default()
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use sortfleet_model::incident::RuleId;

    #[test]
    fn fires_on_untagged_and_unknown_tag() {
        let mut w = World::new();
        w.start();
        assert_eq!(
            only(&w.scan_untagged("P1"), RuleId::UnidentifiedLift).len(),
            1
        );
        assert_eq!(only(&w.scan("NOPE"), RuleId::UnidentifiedLift).len(), 1);
    }

    #[test]
    fn fires_on_more_lifts_than_bins() {
        let mut w = World::new();
        w.start();
        // P1 has one registered kitchen bin.
        assert!(only(&w.scan("KB1"), RuleId::UnidentifiedLift).is_empty());
        assert_eq!(only(&w.scan("KB1"), RuleId::UnidentifiedLift).len(), 1);
        assert!(only(&w.scan("KB1"), RuleId::UnidentifiedLift).is_empty());
    }

    #[test]
    fn quiet_on_clean_day() {
        assert!(only(&World::clean_day(), RuleId::UnidentifiedLift).is_empty());
    }
}
