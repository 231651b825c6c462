//! `STREAM_MISMATCH`: a bin of stream A scanned into a truck dispatched for stream B.
//! The driver is warned at once; the bin can still be put back before the next lift.

use super::{Cx, Draft, Rule, Seen};
use sortfleet_model::incident::{RuleId, Severity};

/// See the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamMismatch;

impl Rule for StreamMismatch {
    fn id(&self) -> RuleId {
        RuleId::StreamMismatch
    }
    fn version(&self) -> u32 {
        1
    }
    fn severity(&self) -> Severity {
        Severity::Warning
    }
    fn on_event(&self, cx: &mut Cx<'_>, seen: &Seen<'_>) {
        let (Some(scan), Some(expected)) = (&seen.facts.scan, seen.facts.expected_stream) else {
            return;
        };
        let Some(stream) = scan.stream else { return };
        if stream == expected {
            return;
        }
        let ev = seen.event;
        let bin = scan
            .bin
            .as_ref()
            .map_or("untagged bin".to_owned(), |b| format!("bin {b}"));
        cx.raise(
            self,
            Draft {
                key: ev.client_event_id.clone(),
                stream: Some(stream),
                point: scan.point.clone(),
                evidence: vec![ev.client_event_id.clone()],
                position: seen.facts.position,
                occurred_at: ev.occurred_at,
                message: format!(
                    "{bin} of stream {stream} scanned into a truck dispatched for {expected} on trip {}",
                    seen.state.trips_done + 1
                ),
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
    fn fires_on_foreign_bin() {
        let mut w = World::new();
        w.start();
        w.scan("KB1");
        let inc = w.scan("RB1");
        assert_eq!(only(&inc, RuleId::StreamMismatch).len(), 1);
        let i = &only(&inc, RuleId::StreamMismatch)[0];
        assert_eq!(i.stream, Some(Stream::Residual));
        assert_eq!(i.evidence.len(), 1);
    }

    #[test]
    fn quiet_on_clean_day() {
        let inc = World::clean_day();
        assert!(only(&inc, RuleId::StreamMismatch).is_empty(), "{inc:#?}");
    }
}
