//! Incidents, for terminals' warnings and regulators' feeds.

use super::enums::{
    opt_stream_from_proto, opt_stream_to_proto, rule_from_proto, rule_to_proto,
    severity_from_proto, severity_to_proto,
};
use super::{
    ConvertError, FromProto, ToProto, field, id, opt_id, unix_ms_from_proto, unix_ms_to_proto,
};
use sortfleet_model::incident::Incident;
use sortfleet_model::{DistrictId, LatLon, PointId, VehicleId};
use sortfleet_proto::v1;

/// What the store knows about an incident beyond the rule engine's finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncidentMeta {
    /// Global incident sequence number (ledger order); 0 before recording.
    pub seq: u64,
    /// Trip index within the vehicle's route of the day, when trip-bound.
    pub trip_index: Option<u32>,
    /// When the server detected it, unix milliseconds.
    pub detected_at_ms: Option<i64>,
}

/// An incident for the wire, with its recording metadata.
pub fn incident_to_proto(i: &Incident, meta: &IncidentMeta) -> v1::Incident {
    v1::Incident {
        seq: meta.seq,
        id: i.id.clone(),
        rule: rule_to_proto(i.rule),
        rule_version: i.rule_version,
        severity: severity_to_proto(i.severity),
        vehicle_id: i.vehicle.0.clone(),
        trip_index: meta.trip_index,
        stream: opt_stream_to_proto(i.stream),
        district_id: i
            .district
            .as_ref()
            .map_or_else(String::new, |d| d.0.clone()),
        point_id: i.point.as_ref().map_or_else(String::new, |p| p.0.clone()),
        evidence_event_ids: i.evidence.clone(),
        position: i.position.as_ref().map(ToProto::to_proto),
        occurred_at: Some(unix_ms_to_proto(i.occurred_at)),
        detected_at: meta.detected_at_ms.map(unix_ms_to_proto),
        message: i.message.clone(),
    }
}

impl ToProto<v1::Incident> for Incident {
    fn to_proto(&self) -> v1::Incident {
        incident_to_proto(self, &IncidentMeta::default())
    }
}

impl FromProto<v1::Incident> for Incident {
    fn from_proto(p: v1::Incident, path: &str) -> Result<Self, ConvertError> {
        Ok(Incident {
            id: id(p.id, &field(path, "id"))?,
            rule: rule_from_proto(p.rule, &field(path, "rule"))?,
            rule_version: p.rule_version,
            severity: severity_from_proto(p.severity, &field(path, "severity"))?,
            vehicle: VehicleId::new(id(p.vehicle_id, &field(path, "vehicle_id"))?),
            stream: opt_stream_from_proto(p.stream, &field(path, "stream"))?,
            district: opt_id(p.district_id).map(DistrictId::new),
            point: opt_id(p.point_id).map(PointId::new),
            evidence: p.evidence_event_ids,
            position: p
                .position
                .map(|l| LatLon::from_proto(l, &field(path, "position")))
                .transpose()?,
            occurred_at: unix_ms_from_proto(
                p.occurred_at
                    .ok_or_else(|| ConvertError::missing(field(path, "occurred_at")))?,
                &field(path, "occurred_at"),
            )?,
            message: p.message,
        })
    }
}

impl FromProto<v1::Incident> for (Incident, IncidentMeta) {
    fn from_proto(p: v1::Incident, path: &str) -> Result<Self, ConvertError> {
        let detected_at_ms = p
            .detected_at
            .map(|t| unix_ms_from_proto(t, &field(path, "detected_at")))
            .transpose()?;
        let meta = IncidentMeta {
            seq: p.seq,
            trip_index: p.trip_index,
            detected_at_ms,
        };
        Ok((Incident::from_proto(p, path)?, meta))
    }
}
