//! Application-core types (`sortfleet_dispatch::app`) to and from the wire.
//!
//! [`crate::convert`] covers the domain model; this module covers what only the service
//! speaks: terminal messages, incident records and filters, planning jobs, plan
//! records, ledger reports and scorecards. Same rule: wire -> core names the field.

use sortfleet_dispatch::app::{
    IncidentQuery, IncidentRecord, IncidentStreamItem, JobPhase, JobProgress, PlanRecord,
    PlanStatus, RevisionReason, RouteVersion, RouteView, TerminalBody, TerminalMessage,
    ViolationWarning,
};
use sortfleet_dispatch::scorecard::ScorecardRow;
use sortfleet_ledger::{BadReason, VerifyReport};
use sortfleet_model::{DistrictId, VehicleId};
use sortfleet_proto::v1;

use crate::convert::{
    ConvertError, ConvertErrorKind, IncidentMeta, ToProto, date_to_proto, geometry_to_proto,
    incident_to_proto, opt_stream_to_proto, rule_from_proto, rule_to_proto, severity_from_proto,
    severity_to_proto, stop_fields, stream_from_proto, unix_ms_to_proto, unload_fields,
};

fn u32_sat(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A terminal's route view as a wire `Route` (positions, demands and bins filled in).
pub fn route_view_to_proto(r: &RouteView) -> v1::Route {
    v1::Route {
        vehicle_id: r.vehicle.0.clone(),
        depot_id: r.depot.0.clone(),
        start_s: r.start_s.0,
        end_s: r.end_s.0,
        trips: r
            .trips
            .iter()
            .map(|t| v1::Trip {
                index: t.index,
                stream: crate::convert::stream_to_proto(t.stream),
                stops: t
                    .stops
                    .iter()
                    .map(|s| v1::Stop {
                        location: Some(s.position.to_proto()),
                        demand_kg: s.demand_kg.0,
                        bin_ids: s.bin_ids.iter().map(|b| b.0.clone()).collect(),
                        ..stop_fields(&s.stop)
                    })
                    .collect(),
                unload: Some(v1::Unload {
                    location: Some(t.unload.position.to_proto()),
                    ..unload_fields(&t.unload.unload)
                }),
            })
            .collect(),
        breaks: r.breaks.iter().map(ToProto::to_proto).collect(),
        return_geometry: geometry_to_proto(&r.return_geometry),
        distance_m: r.distance_m.0,
        duration_s: r.duration_s.0,
        cost_cents: r.cost_ct.0,
        depot_location: Some(r.depot_position.to_proto()),
    }
}

fn route_version_to_proto(v: &RouteVersion) -> v1::RouteVersion {
    v1::RouteVersion {
        plan_id: v.plan_id.clone(),
        service_date: date_to_proto(v.service_date),
        version: u32_sat(v.version),
        route: Some(route_view_to_proto(&v.route)),
    }
}

fn revision_reason_to_proto(r: RevisionReason) -> i32 {
    match r {
        RevisionReason::UrgentPickup => v1::RevisionReason::UrgentPickup as i32,
        RevisionReason::VehicleUnavailable => v1::RevisionReason::VehicleUnavailable as i32,
        RevisionReason::DispatcherEdit => v1::RevisionReason::DispatcherEdit as i32,
    }
}

/// A driver's warning as the wire incident (vehicle from the stream it travels on).
/// `created_at` is the carrying message's creation time: the writer stores a warning
/// in the same transaction that records its incident, so it stands for `detected_at`
/// when the warning does not carry its own.
pub fn warning_to_proto(
    w: &ViolationWarning,
    vehicle: &VehicleId,
    created_at: Option<i64>,
) -> v1::ViolationWarning {
    v1::ViolationWarning {
        incident: Some(v1::Incident {
            seq: w.incident_seq.unwrap_or(0),
            id: w.incident_id.clone(),
            rule: rule_to_proto(w.rule),
            rule_version: w.rule_version,
            severity: severity_to_proto(w.severity),
            vehicle_id: vehicle.0.clone(),
            trip_index: w.trip_index,
            stream: opt_stream_to_proto(w.stream),
            district_id: w.district.as_ref().map(|d| d.0.clone()).unwrap_or_default(),
            point_id: w.point.as_ref().map(|p| p.0.clone()).unwrap_or_default(),
            evidence_event_ids: w.evidence.clone(),
            position: w.position.as_ref().map(ToProto::to_proto),
            occurred_at: Some(unix_ms_to_proto(w.occurred_at)),
            detected_at: w.detected_at.or(created_at).map(unix_ms_to_proto),
            message: w.message.clone(),
        }),
    }
}

/// One message of a vehicle's assignment stream.
pub fn terminal_message_to_proto(
    m: &TerminalMessage,
    vehicle: &VehicleId,
) -> v1::AssignmentMessage {
    use v1::assignment_message::Body;
    let body = match &m.body {
        TerminalBody::RouteVersion(v) => Body::RouteVersion(route_version_to_proto(v)),
        TerminalBody::RouteRevision(r) => Body::RouteRevision(v1::RouteRevision {
            plan_id: r.plan_id.clone(),
            version: u32_sat(r.version),
            previous_version: u32_sat(r.previous_version),
            reason: revision_reason_to_proto(r.reason),
            route: Some(route_view_to_proto(&r.route)),
            added_point_ids: r.added_points.iter().map(|p| p.0.clone()).collect(),
            removed_point_ids: r.removed_points.iter().map(|p| p.0.clone()).collect(),
        }),
        TerminalBody::Cancellation(c) => Body::Cancellation(v1::Cancellation {
            plan_id: c.plan_id.clone(),
            version: u32_sat(c.version),
            reason: c.reason.clone(),
        }),
        TerminalBody::ViolationWarning(w) => {
            Body::ViolationWarning(warning_to_proto(w, vehicle, Some(m.created_at)))
        }
        TerminalBody::Heartbeat { head_seq } => Body::Heartbeat(v1::Heartbeat {
            head_seq: *head_seq,
        }),
        TerminalBody::Resync(s) => Body::Resync(v1::Resync {
            snapshot: Some(v1::AssignmentSnapshot {
                head_seq: s.head_seq,
                current_route: s.current_route.as_ref().map(route_version_to_proto),
                warnings: s
                    .warnings
                    .iter()
                    .map(|w| warning_to_proto(w, vehicle, None))
                    .collect(),
            }),
        }),
    };
    v1::AssignmentMessage {
        seq: m.seq,
        created_at: Some(unix_ms_to_proto(m.created_at)),
        body: Some(body),
    }
}

/// A stored incident for regulators.
pub fn incident_record_to_proto(r: &IncidentRecord) -> v1::Incident {
    incident_to_proto(
        &r.incident,
        &IncidentMeta {
            seq: r.seq,
            trip_index: r.trip_index,
            detected_at_ms: Some(r.detected_at),
        },
    )
}

/// One message of the regulators' feed.
pub fn incident_item_to_proto(i: &IncidentStreamItem) -> v1::IncidentStreamMessage {
    use v1::incident_stream_message::Body;
    v1::IncidentStreamMessage {
        body: Some(match i {
            IncidentStreamItem::Incident(r) => Body::Incident(incident_record_to_proto(r)),
            IncidentStreamItem::Heartbeat { head_seq } => Body::Heartbeat(v1::Heartbeat {
                head_seq: *head_seq,
            }),
        }),
    }
}

/// A wire incident filter (absent = everything). Paths below `path`.
pub fn incident_filter_from_proto(
    f: Option<v1::IncidentFilter>,
    path: &str,
) -> Result<IncidentQuery, ConvertError> {
    let Some(f) = f else {
        return Ok(IncidentQuery::default());
    };
    let p = |name: &str| format!("{path}.{name}");
    let item = |name: &str, i: usize| format!("{path}.{name}[{i}]");
    let nonempty = |name: &str, i: usize, s: String| {
        if s.trim().is_empty() {
            Err(ConvertError::new(item(name, i), ConvertErrorKind::Missing))
        } else {
            Ok(s)
        }
    };
    let ts = |t: Option<prost_types::Timestamp>, name: &str| -> Result<Option<i64>, ConvertError> {
        t.map(|t| {
            if !(0..1_000_000_000).contains(&t.nanos) {
                return Err(ConvertError::new(
                    format!("{}.nanos", p(name)),
                    ConvertErrorKind::Invalid(format!("{} is outside 0..1e9", t.nanos)),
                ));
            }
            t.seconds
                .checked_mul(1000)
                .and_then(|ms| ms.checked_add(i64::from(t.nanos / 1_000_000)))
                .ok_or_else(|| {
                    ConvertError::new(
                        format!("{}.seconds", p(name)),
                        ConvertErrorKind::Invalid("out of range".into()),
                    )
                })
        })
        .transpose()
    };
    let from = ts(f.occurred_from, "occurred_from")?;
    let to = ts(f.occurred_to, "occurred_to")?;
    if let (Some(a), Some(b)) = (from, to)
        && b < a
    {
        return Err(ConvertError::new(
            p("occurred_to"),
            ConvertErrorKind::Invalid("is before occurred_from".into()),
        ));
    }
    Ok(IncidentQuery {
        districts: f
            .district_ids
            .into_iter()
            .enumerate()
            .map(|(i, s)| nonempty("district_ids", i, s).map(DistrictId::new))
            .collect::<Result<_, _>>()?,
        vehicles: f
            .vehicle_ids
            .into_iter()
            .enumerate()
            .map(|(i, s)| nonempty("vehicle_ids", i, s).map(VehicleId::new))
            .collect::<Result<_, _>>()?,
        streams: f
            .streams
            .into_iter()
            .enumerate()
            .map(|(i, s)| stream_from_proto(s, &item("streams", i)))
            .collect::<Result<_, _>>()?,
        rules: f
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| rule_from_proto(r, &item("rules", i)))
            .collect::<Result<_, _>>()?,
        min_severity: if f.min_severity == 0 {
            None
        } else {
            Some(severity_from_proto(f.min_severity, &p("min_severity"))?)
        },
        from,
        to,
    })
}

fn phase_to_proto(p: JobPhase) -> i32 {
    use v1::PlanJobPhase as P;
    (match p {
        JobPhase::Queued => P::Queued,
        JobPhase::Matrix => P::Matrix,
        JobPhase::Construction => P::Construction,
        JobPhase::Search => P::Search,
        JobPhase::Finalizing => P::Finalizing,
        JobPhase::Done => P::Done,
        JobPhase::Failed => P::Failed,
    }) as i32
}

/// One planning job update.
pub fn job_to_proto(j: &JobProgress) -> v1::PlanJobUpdate {
    use v1::plan_job_update::Outcome;
    v1::PlanJobUpdate {
        job_id: j.job_id.clone(),
        phase: phase_to_proto(j.phase),
        best_cost_cents: j.best_cost_ct,
        unserved_count: j.unserved,
        iterations: j.iterations,
        elapsed_ms: j.elapsed_ms,
        updated_at: Some(unix_ms_to_proto(j.updated_at)),
        outcome: match (&j.plan_id, &j.error) {
            (Some(id), _) => Some(Outcome::PlanId(id.clone())),
            (None, Some(e)) => Some(Outcome::Error(e.clone())),
            _ => None,
        },
    }
}

/// A stored plan; `scenario` fills positions in; geometry dropped unless asked for.
pub fn plan_record_to_proto(
    r: &PlanRecord,
    scenario: Option<&sortfleet_model::Scenario>,
    geometry: bool,
) -> v1::Plan {
    let mut p = crate::convert::plan_to_proto(&r.plan, scenario);
    p.id = r.id.clone();
    p.status = (match r.status {
        PlanStatus::Draft => v1::PlanStatus::Draft,
        PlanStatus::Published => v1::PlanStatus::Published,
        PlanStatus::Superseded => v1::PlanStatus::Superseded,
    }) as i32;
    p.created_at = Some(unix_ms_to_proto(r.created_at));
    p.road_fingerprint = r.road_fingerprint.clone().unwrap_or_default();
    p.parent_plan_id = r.parent_plan_id.clone().unwrap_or_default();
    if !geometry {
        for route in &mut p.routes {
            route.return_geometry.clear();
            for t in &mut route.trips {
                for s in &mut t.stops {
                    s.leg_geometry.clear();
                }
                if let Some(u) = t.unload.as_mut() {
                    u.leg_geometry.clear();
                }
            }
        }
    }
    p
}

/// A ledger walk's result.
pub fn verify_to_proto(r: &VerifyReport) -> v1::VerifyLedgerResponse {
    use v1::LedgerFault as F;
    v1::VerifyLedgerResponse {
        ok: r.is_ok(),
        record_count: r.records,
        head_hash: hex::encode(r.head_hash),
        hash_algorithm: "sha256".into(),
        checkpoint_count: r.checkpoints,
        first_bad: r.first_bad.as_ref().map(|b| v1::BadRecord {
            ledger_seq: b.seq,
            fault: (match b.reason {
                BadReason::Altered => F::HashMismatch,
                BadReason::Missing => F::MissingRecord,
                BadReason::Reordered => F::Reordered,
                BadReason::BadSignature
                | BadReason::CheckpointMismatch
                | BadReason::UntrustedKey => F::BadSignature,
                BadReason::UnknownAlgorithm | BadReason::Unchained => F::Malformed,
            }) as i32,
            detail: format!("{}: {}", b.reason, b.detail),
        }),
    }
}

/// One scorecard row.
pub fn scorecard_row_to_proto(r: &ScorecardRow) -> v1::ScorecardRow {
    v1::ScorecardRow {
        district_id: r.district.0.clone(),
        stream: opt_stream_to_proto(r.stream),
        service_date: date_to_proto(r.date),
        tonnage_kg: r.tonnage_kg.0,
        trips: r.trips,
        planned_visits: r.planned_visits,
        served_visits: r.served_visits,
        missed_visits: r.missed_visits,
        incidents_by_rule: r
            .incidents_by_rule
            .iter()
            .map(|(rule, n)| v1::RuleCount {
                rule: rule_to_proto(*rule),
                count: *n,
            })
            .collect(),
        scans: r.scans,
        clean_scans: r.clean_scans,
        accuracy_rate: r.accuracy_rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sortfleet_model::incident::{Incident, RuleId, Severity};
    use sortfleet_model::{LatLon, PointId, Stream};

    fn record() -> IncidentRecord {
        IncidentRecord {
            seq: 42,
            incident: Incident {
                id: "2026-11-30/MIXED_TRIP:T1:e7".into(),
                rule: RuleId::MixedTrip,
                rule_version: 3,
                severity: Severity::Critical,
                vehicle: VehicleId::new("T1"),
                stream: Some(Stream::Residual),
                district: Some(DistrictId::new("north")),
                point: Some(PointId::new("P1")),
                evidence: vec!["e3".into(), "e7".into()],
                position: Some(LatLon::new(31.2, 121.4)),
                occurred_at: 1_764_489_600_123,
                message: "RESIDUAL lifted into a KITCHEN trip".into(),
            },
            trip_index: Some(1),
            detected_at: 1_764_489_600_456,
        }
    }

    #[test]
    fn the_terminal_sees_the_incident_the_regulator_sees() {
        let r = record();
        let v = VehicleId::new("T1");
        let reg = incident_record_to_proto(&r);
        // Built from the stored record (resync snapshots): identical.
        let snap = warning_to_proto(&ViolationWarning::from_record(&r), &v, None);
        assert_eq!(snap.incident.as_ref(), Some(&reg));
        // Sent live, before the ledger seq is known: identical but for the seq, with
        // the message's creation time (the commit instant) as detection time.
        let live = TerminalMessage {
            seq: 9,
            created_at: r.detected_at,
            body: TerminalBody::ViolationWarning(ViolationWarning::from_incident(
                &r.incident,
                r.trip_index,
            )),
        };
        let Some(v1::assignment_message::Body::ViolationWarning(w)) =
            terminal_message_to_proto(&live, &v).body
        else {
            panic!("not a warning");
        };
        let mut got = w.incident.unwrap();
        assert_eq!(got.seq, 0);
        assert_eq!(got.rule_version, 3);
        assert_eq!(got.evidence_event_ids, ["e3", "e7"]);
        got.seq = reg.seq;
        assert_eq!(got, reg);
    }

    #[test]
    fn warnings_stored_before_the_new_fields_still_decode() {
        let old = serde_json::json!({
            "type": "VIOLATION_WARNING",
            "incident_id": "X",
            "rule": "MIXED_TRIP",
            "severity": "WARNING",
            "stream": null,
            "trip_index": null,
            "position": null,
            "occurred_at": 5,
            "message": "m",
            "evidence": ["e1"]
        });
        let b: TerminalBody = serde_json::from_value(old).unwrap();
        let TerminalBody::ViolationWarning(w) = b else {
            panic!("not a warning");
        };
        assert_eq!((w.rule_version, w.detected_at, w.point), (0, None, None));
    }
}
