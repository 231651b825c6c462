//! Truck events and the `ReportEvents` batches that carry them.
//!
//! A batch is split per event: one malformed event is rejected on its own (and still
//! counts as handled for the acknowledgement), so a terminal's outbox never blocks on a
//! message the server will never accept.

use super::enums::{
    exception_kind_from_proto, exception_kind_to_proto, opt_stream_from_proto, opt_stream_to_proto,
    stream_from_proto, stream_to_proto,
};
use super::{
    ConvertError, FromProto, ToProto, field, id, item, opt_id, unix_ms_from_proto, unix_ms_to_proto,
};
use sortfleet_model::event::{EventKind, TruckEvent};
use sortfleet_model::{BinId, FacilityId, Kilograms, LatLon, PointId, VehicleId};
use sortfleet_proto::v1;
use sortfleet_proto::v1::truck_event::Kind;

/// A decoded `EventBatch`: the batch's vehicle and device, and per event either the model
/// event or why it was rejected, in the order received.
#[derive(Clone, Debug, PartialEq)]
pub struct EventBatch {
    /// The reporting vehicle.
    pub vehicle: VehicleId,
    /// The terminal device (device_seq is per device).
    pub device_id: String,
    /// Each event, converted or rejected.
    pub events: Vec<Result<TruckEvent, EventRejection>>,
}

/// An event of a batch that could not be converted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event {client_event_id:?} (device_seq {device_seq}): {error}")]
pub struct EventRejection {
    /// The event's client id as sent (may be empty: that is one reason to reject).
    pub client_event_id: String,
    /// The event's device seq as sent.
    pub device_seq: u64,
    /// What is wrong, with the path inside the batch (`events[3].bin_scan.stream`).
    pub error: ConvertError,
}

impl ToProto<v1::RejectedEvent> for EventRejection {
    fn to_proto(&self) -> v1::RejectedEvent {
        v1::RejectedEvent {
            client_event_id: self.client_event_id.clone(),
            device_seq: self.device_seq,
            reason: self.error.to_string(),
        }
    }
}

/// Splits a batch into events. Fails as a whole only when the batch itself has no
/// vehicle id; an event whose `vehicle_id` is empty inherits the batch's, one naming
/// another vehicle is rejected (a terminal reports only for its own truck).
pub fn event_batch_from_proto(b: v1::EventBatch) -> Result<EventBatch, ConvertError> {
    let vehicle = VehicleId::new(id(b.vehicle_id, "vehicle_id")?);
    let events = b
        .events
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            let path = item("events", i);
            let (client_event_id, device_seq) = (e.client_event_id.clone(), e.device_seq);
            let reject = |error| EventRejection {
                client_event_id: client_event_id.clone(),
                device_seq,
                error,
            };
            if e.vehicle_id.is_empty() {
                e.vehicle_id = vehicle.0.clone();
            } else if e.vehicle_id != vehicle.0 {
                return Err(reject(ConvertError::invalid(
                    field(&path, "vehicle_id"),
                    format!("`{}` is not the batch's vehicle `{vehicle}`", e.vehicle_id),
                )));
            }
            TruckEvent::from_proto(e, &path).map_err(reject)
        })
        .collect();
    Ok(EventBatch {
        vehicle,
        device_id: b.device_id,
        events,
    })
}

impl FromProto<v1::TruckEvent> for TruckEvent {
    fn from_proto(p: v1::TruckEvent, path: &str) -> Result<Self, ConvertError> {
        let client_event_id = id(p.client_event_id, &field(path, "client_event_id"))?;
        if p.device_seq == 0 {
            return Err(ConvertError::invalid(
                field(path, "device_seq"),
                "must be at least 1",
            ));
        }
        let occurred_at = unix_ms_from_proto(
            p.occurred_at
                .ok_or_else(|| ConvertError::missing(field(path, "occurred_at")))?,
            &field(path, "occurred_at"),
        )?;
        let position = p
            .position
            .map(|l| LatLon::from_proto(l, &field(path, "position")))
            .transpose()?;
        let kind = match p.kind {
            None => return Err(ConvertError::missing(field(path, "kind"))),
            Some(k) => kind_from_proto(k, path)?,
        };
        Ok(TruckEvent {
            client_event_id,
            device_seq: p.device_seq,
            vehicle: VehicleId::new(id(p.vehicle_id, &field(path, "vehicle_id"))?),
            occurred_at,
            position,
            kind,
        })
    }
}

fn kind_from_proto(k: Kind, path: &str) -> Result<EventKind, ConvertError> {
    Ok(match k {
        Kind::GpsFix(_) => EventKind::GpsFix,
        Kind::BinScan(s) => {
            let path = field(path, "bin_scan");
            // A lift without a valid tag has no bin: whatever was read is not a bin id.
            let bin = if s.tag_valid {
                Some(BinId::new(id(s.bin_id, &field(&path, "bin_id"))?))
            } else {
                None
            };
            EventKind::BinScan {
                bin,
                stream: opt_stream_from_proto(s.stream, &field(&path, "stream"))?,
                point: opt_id(s.point_id).map(PointId::new),
                lift_kg: s.lift_weight_kg.map(Kilograms),
            }
        }
        Kind::LoadReading(r) => EventKind::LoadReading {
            load_kg: Kilograms(r.load_kg),
        },
        Kind::BodySensor(b) => EventKind::BodySensor { tipping: b.tipping },
        Kind::WeighbridgeTicket(t) => {
            let path = field(path, "weighbridge_ticket");
            let purity_pct = match t.purity_pct {
                None => None,
                Some(p) if p <= 100 => Some(p as u8),
                Some(p) => {
                    return Err(ConvertError::invalid(
                        field(&path, "purity_pct"),
                        format!("{p} is outside 0..100"),
                    ));
                }
            };
            EventKind::WeighbridgeTicket {
                facility: FacilityId::new(id(t.facility_id, &field(&path, "facility_id"))?),
                gross_kg: Kilograms(t.gross_kg),
                tare_kg: Kilograms(t.tare_kg),
                net_kg: Kilograms(t.net_kg),
                declared_stream: stream_from_proto(
                    t.declared_stream,
                    &field(&path, "declared_stream"),
                )?,
                rejected: t.rejected,
                purity_pct,
            }
        }
        Kind::DriverException(x) => {
            let path = field(path, "driver_exception");
            let photo_sha256 = if x.photo_sha256.is_empty() {
                None
            } else if x.photo_sha256.len() == 64
                && x.photo_sha256.bytes().all(|b| b.is_ascii_hexdigit())
            {
                Some(x.photo_sha256.to_ascii_lowercase())
            } else {
                return Err(ConvertError::invalid(
                    field(&path, "photo_sha256"),
                    "must be 64 hex digits (SHA-256)",
                ));
            };
            EventKind::DriverException {
                kind: exception_kind_from_proto(x.kind, &field(&path, "kind"))?,
                point: PointId::new(id(x.point_id, &field(&path, "point_id"))?),
                bin: opt_id(x.bin_id).map(BinId::new),
                photo_sha256,
            }
        }
        Kind::ShiftStart(_) => EventKind::ShiftStart,
        Kind::ShiftEnd(_) => EventKind::ShiftEnd,
    })
}

impl ToProto<v1::TruckEvent> for TruckEvent {
    fn to_proto(&self) -> v1::TruckEvent {
        v1::TruckEvent {
            client_event_id: self.client_event_id.clone(),
            device_seq: self.device_seq,
            vehicle_id: self.vehicle.0.clone(),
            occurred_at: Some(unix_ms_to_proto(self.occurred_at)),
            position: self.position.as_ref().map(ToProto::to_proto),
            kind: Some(kind_to_proto(&self.kind)),
        }
    }
}

fn kind_to_proto(k: &EventKind) -> Kind {
    match k {
        EventKind::GpsFix => Kind::GpsFix(v1::GpsFix {}),
        EventKind::BinScan {
            bin,
            stream,
            point,
            lift_kg,
        } => Kind::BinScan(v1::BinScan {
            bin_id: bin.as_ref().map_or_else(String::new, |b| b.0.clone()),
            stream: opt_stream_to_proto(*stream),
            point_id: point.as_ref().map_or_else(String::new, |p| p.0.clone()),
            lift_weight_kg: lift_kg.map(|k| k.0),
            tag_valid: bin.is_some(),
        }),
        EventKind::LoadReading { load_kg } => {
            Kind::LoadReading(v1::LoadReading { load_kg: load_kg.0 })
        }
        EventKind::BodySensor { tipping } => Kind::BodySensor(v1::BodySensor { tipping: *tipping }),
        EventKind::WeighbridgeTicket {
            facility,
            gross_kg,
            tare_kg,
            net_kg,
            declared_stream,
            rejected,
            purity_pct,
        } => Kind::WeighbridgeTicket(v1::WeighbridgeTicket {
            facility_id: facility.0.clone(),
            gross_kg: gross_kg.0,
            tare_kg: tare_kg.0,
            net_kg: net_kg.0,
            declared_stream: stream_to_proto(*declared_stream),
            rejected: *rejected,
            purity_pct: purity_pct.map(u32::from),
        }),
        EventKind::DriverException {
            kind,
            point,
            bin,
            photo_sha256,
        } => Kind::DriverException(v1::DriverException {
            kind: exception_kind_to_proto(*kind),
            point_id: point.0.clone(),
            bin_id: bin.as_ref().map_or_else(String::new, |b| b.0.clone()),
            photo_sha256: photo_sha256.clone().unwrap_or_default(),
        }),
        EventKind::ShiftStart => Kind::ShiftStart(v1::ShiftStart {}),
        EventKind::ShiftEnd => Kind::ShiftEnd(v1::ShiftEnd {}),
    }
}
