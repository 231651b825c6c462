//! Master data: depots, facilities, vehicles, collection points, and whole scenarios.

use super::enums::{
    facility_kind_from_proto, facility_kind_to_proto, stream_from_proto, stream_to_proto,
};
use super::{
    ConvertError, FromProto, ToProto, date_from_proto, date_to_proto, field, id, item, list,
    required,
};
use sortfleet_dispatch::app::{MasterBatch, MasterDelete};
use sortfleet_model::scenario::{
    Bin, BreakRule, CollectionPoint, Demand, Depot, Facility, FacilityKind, Scenario, TimeWindow,
    Vehicle, VehicleSize,
};
use sortfleet_model::{
    BinId, Cents, DepotId, DistrictId, FacilityId, Kilograms, Litres, Metres, PointId, Seconds,
    Stream, VehicleId,
};
use sortfleet_proto::v1;

// Typed ids are built from owned strings by the shared `id` helper.
macro_rules! from_string {
    ($($t:ty),+) => {$(
        impl FromProto<String> for $t {
            fn from_proto(s: String, path: &str) -> Result<Self, ConvertError> {
                id(s, path).map(<$t>::new)
            }
        }
    )+};
}
from_string!(DepotId, FacilityId, VehicleId, PointId);

/// The streams of a repeated enum field, paths `path[i]`.
fn streams_from_proto(v: Vec<i32>, path: &str) -> Result<Vec<Stream>, ConvertError> {
    v.into_iter()
        .enumerate()
        .map(|(i, s)| stream_from_proto(s, &item(path, i)))
        .collect()
}

fn streams_to_proto(v: &[Stream]) -> Vec<i32> {
    v.iter().map(|s| stream_to_proto(*s)).collect()
}

impl FromProto<v1::TimeWindow> for TimeWindow {
    fn from_proto(p: v1::TimeWindow, _path: &str) -> Result<Self, ConvertError> {
        // Inverted or out-of-day windows are semantic problems: Scenario::validate names them.
        Ok(TimeWindow::new(Seconds(p.start_s), Seconds(p.end_s)))
    }
}

impl ToProto<v1::TimeWindow> for TimeWindow {
    fn to_proto(&self) -> v1::TimeWindow {
        v1::TimeWindow {
            start_s: self.start.0,
            end_s: self.end.0,
        }
    }
}

impl FromProto<v1::Depot> for Depot {
    fn from_proto(p: v1::Depot, path: &str) -> Result<Self, ConvertError> {
        Ok(Depot {
            id: DepotId::from_proto(p.id, &field(path, "id"))?,
            name: p.name,
            location: required(p.location, &field(path, "location"))?,
        })
    }
}

impl ToProto<v1::Depot> for Depot {
    fn to_proto(&self) -> v1::Depot {
        v1::Depot {
            id: self.id.0.clone(),
            name: self.name.clone(),
            location: Some(self.location.to_proto()),
        }
    }
}

impl FromProto<v1::Facility> for Facility {
    fn from_proto(p: v1::Facility, path: &str) -> Result<Self, ConvertError> {
        let kind: FacilityKind = facility_kind_from_proto(p.kind, &field(path, "kind"))?;
        Ok(Facility {
            id: FacilityId::from_proto(p.id, &field(path, "id"))?,
            name: p.name,
            kind,
            location: required(p.location, &field(path, "location"))?,
            accepted_streams: streams_from_proto(
                p.accepted_streams,
                &field(path, "accepted_streams"),
            )?,
            opening_hours: required(p.opening_hours, &field(path, "opening_hours"))?,
            unload_s: Seconds(p.unload_s),
            daily_intake_limit_kg: p.daily_intake_limit_kg.map(Kilograms),
            geofence_radius_m: Metres(p.geofence_radius_m),
        })
    }
}

impl ToProto<v1::Facility> for Facility {
    fn to_proto(&self) -> v1::Facility {
        v1::Facility {
            id: self.id.0.clone(),
            name: self.name.clone(),
            kind: facility_kind_to_proto(self.kind),
            location: Some(self.location.to_proto()),
            accepted_streams: streams_to_proto(&self.accepted_streams),
            opening_hours: Some(self.opening_hours.to_proto()),
            unload_s: self.unload_s.0,
            daily_intake_limit_kg: self.daily_intake_limit_kg.map(|k| k.0),
            geofence_radius_m: self.geofence_radius_m.0,
        }
    }
}

impl FromProto<v1::BreakRule> for BreakRule {
    fn from_proto(p: v1::BreakRule, path: &str) -> Result<Self, ConvertError> {
        Ok(BreakRule {
            duration_s: Seconds(p.duration_s),
            window: required(p.window, &field(path, "window"))?,
        })
    }
}

impl ToProto<v1::BreakRule> for BreakRule {
    fn to_proto(&self) -> v1::BreakRule {
        v1::BreakRule {
            duration_s: self.duration_s.0,
            window: Some(self.window.to_proto()),
        }
    }
}

impl FromProto<v1::VehicleSize> for VehicleSize {
    fn from_proto(p: v1::VehicleSize, _path: &str) -> Result<Self, ConvertError> {
        Ok(VehicleSize {
            gross_weight_kg: Kilograms(p.gross_weight_kg),
            height_cm: p.height_cm,
            width_cm: p.width_cm,
            length_cm: p.length_cm,
            max_speed_kmh: p.max_speed_kmh,
        })
    }
}

impl ToProto<v1::VehicleSize> for VehicleSize {
    fn to_proto(&self) -> v1::VehicleSize {
        v1::VehicleSize {
            gross_weight_kg: self.gross_weight_kg.0,
            height_cm: self.height_cm,
            width_cm: self.width_cm,
            length_cm: self.length_cm,
            max_speed_kmh: self.max_speed_kmh,
        }
    }
}

impl FromProto<v1::Vehicle> for Vehicle {
    fn from_proto(p: v1::Vehicle, path: &str) -> Result<Self, ConvertError> {
        Ok(Vehicle {
            id: VehicleId::from_proto(p.id, &field(path, "id"))?,
            name: p.name,
            depot: DepotId::from_proto(p.depot_id, &field(path, "depot_id"))?,
            certified_streams: streams_from_proto(
                p.certified_streams,
                &field(path, "certified_streams"),
            )?,
            hazardous_licence: p.hazardous_licence,
            capacity_kg: Kilograms(p.capacity_kg),
            capacity_l: Litres(p.capacity_l),
            shift: required(p.shift, &field(path, "shift"))?,
            max_shift_s: Seconds(p.max_shift_s),
            break_rule: p
                .break_rule
                .map(|b| BreakRule::from_proto(b, &field(path, "break_rule")))
                .transpose()?,
            fixed_cost_ct: Cents(p.fixed_cost_cents),
            cost_per_km_ct: Cents(p.cost_per_km_cents),
            cost_per_hour_ct: Cents(p.cost_per_hour_cents),
            size: required(p.size, &field(path, "size"))?,
        })
    }
}

impl ToProto<v1::Vehicle> for Vehicle {
    fn to_proto(&self) -> v1::Vehicle {
        v1::Vehicle {
            id: self.id.0.clone(),
            name: self.name.clone(),
            depot_id: self.depot.0.clone(),
            certified_streams: streams_to_proto(&self.certified_streams),
            hazardous_licence: self.hazardous_licence,
            capacity_kg: self.capacity_kg.0,
            capacity_l: self.capacity_l.0,
            shift: Some(self.shift.to_proto()),
            max_shift_s: self.max_shift_s.0,
            break_rule: self.break_rule.as_ref().map(ToProto::to_proto),
            fixed_cost_cents: self.fixed_cost_ct.0,
            cost_per_km_cents: self.cost_per_km_ct.0,
            cost_per_hour_cents: self.cost_per_hour_ct.0,
            size: Some(self.size.to_proto()),
        }
    }
}

impl FromProto<v1::StreamDemand> for Demand {
    fn from_proto(p: v1::StreamDemand, path: &str) -> Result<Self, ConvertError> {
        Ok(Demand {
            stream: stream_from_proto(p.stream, &field(path, "stream"))?,
            kg: Kilograms(p.demand_kg),
            litres: Litres(p.demand_l),
        })
    }
}

impl ToProto<v1::StreamDemand> for Demand {
    fn to_proto(&self) -> v1::StreamDemand {
        v1::StreamDemand {
            stream: stream_to_proto(self.stream),
            demand_kg: self.kg.0,
            demand_l: self.litres.0,
        }
    }
}

impl FromProto<v1::Bin> for Bin {
    fn from_proto(p: v1::Bin, path: &str) -> Result<Self, ConvertError> {
        Ok(Bin {
            id: id(p.id, &field(path, "id")).map(BinId::new)?,
            stream: stream_from_proto(p.stream, &field(path, "stream"))?,
        })
    }
}

impl ToProto<v1::Bin> for Bin {
    fn to_proto(&self) -> v1::Bin {
        v1::Bin {
            id: self.id.0.clone(),
            stream: stream_to_proto(self.stream),
        }
    }
}

impl FromProto<v1::CollectionPoint> for CollectionPoint {
    fn from_proto(p: v1::CollectionPoint, path: &str) -> Result<Self, ConvertError> {
        let priority = u8::try_from(p.priority).map_err(|_| {
            ConvertError::invalid(
                field(path, "priority"),
                format!("{} is outside 0..255", p.priority),
            )
        })?;
        Ok(CollectionPoint {
            id: PointId::from_proto(p.id, &field(path, "id"))?,
            name: p.name,
            location: required(p.location, &field(path, "location"))?,
            district: id(p.district_id, &field(path, "district_id")).map(DistrictId::new)?,
            demands: list(p.demands, &field(path, "demands"))?,
            service_s: Seconds(p.service_s),
            time_windows: list(p.time_windows, &field(path, "time_windows"))?,
            priority,
            bins: list(p.bins, &field(path, "bins"))?,
        })
    }
}

impl ToProto<v1::CollectionPoint> for CollectionPoint {
    fn to_proto(&self) -> v1::CollectionPoint {
        v1::CollectionPoint {
            id: self.id.0.clone(),
            name: self.name.clone(),
            location: Some(self.location.to_proto()),
            district_id: self.district.0.clone(),
            demands: self.demands.iter().map(ToProto::to_proto).collect(),
            service_s: self.service_s.0,
            time_windows: self.time_windows.iter().map(ToProto::to_proto).collect(),
            priority: u32::from(self.priority),
            bins: self.bins.iter().map(ToProto::to_proto).collect(),
        }
    }
}

impl FromProto<v1::Scenario> for Scenario {
    fn from_proto(p: v1::Scenario, path: &str) -> Result<Self, ConvertError> {
        Ok(Scenario {
            name: p.name,
            date: date_from_proto(&p.service_date, &field(path, "service_date"))?,
            depots: list(p.depots, &field(path, "depots"))?,
            facilities: list(p.facilities, &field(path, "facilities"))?,
            vehicles: list(p.vehicles, &field(path, "vehicles"))?,
            points: list(p.collection_points, &field(path, "collection_points"))?,
        })
    }
}

impl ToProto<v1::Scenario> for Scenario {
    fn to_proto(&self) -> v1::Scenario {
        v1::Scenario {
            name: self.name.clone(),
            service_date: date_to_proto(self.date),
            depots: self.depots.iter().map(ToProto::to_proto).collect(),
            facilities: self.facilities.iter().map(ToProto::to_proto).collect(),
            vehicles: self.vehicles.iter().map(ToProto::to_proto).collect(),
            collection_points: self.points.iter().map(ToProto::to_proto).collect(),
        }
    }
}

impl FromProto<v1::UpsertMasterDataRequest> for MasterBatch {
    fn from_proto(p: v1::UpsertMasterDataRequest, path: &str) -> Result<Self, ConvertError> {
        Ok(MasterBatch {
            depots: list(p.depots, &field(path, "depots"))?,
            facilities: list(p.facilities, &field(path, "facilities"))?,
            vehicles: list(p.vehicles, &field(path, "vehicles"))?,
            points: list(p.collection_points, &field(path, "collection_points"))?,
        })
    }
}

impl ToProto<v1::UpsertMasterDataRequest> for MasterBatch {
    fn to_proto(&self) -> v1::UpsertMasterDataRequest {
        v1::UpsertMasterDataRequest {
            depots: self.depots.iter().map(ToProto::to_proto).collect(),
            facilities: self.facilities.iter().map(ToProto::to_proto).collect(),
            vehicles: self.vehicles.iter().map(ToProto::to_proto).collect(),
            collection_points: self.points.iter().map(ToProto::to_proto).collect(),
        }
    }
}

impl FromProto<v1::DeleteMasterDataRequest> for MasterDelete {
    fn from_proto(p: v1::DeleteMasterDataRequest, path: &str) -> Result<Self, ConvertError> {
        Ok(MasterDelete {
            depots: list(p.depot_ids, &field(path, "depot_ids"))?,
            facilities: list(p.facility_ids, &field(path, "facility_ids"))?,
            vehicles: list(p.vehicle_ids, &field(path, "vehicle_ids"))?,
            points: list(p.point_ids, &field(path, "point_ids"))?,
        })
    }
}

impl ToProto<v1::DeleteMasterDataRequest> for MasterDelete {
    fn to_proto(&self) -> v1::DeleteMasterDataRequest {
        v1::DeleteMasterDataRequest {
            depot_ids: self.depots.iter().map(|x| x.0.clone()).collect(),
            facility_ids: self.facilities.iter().map(|x| x.0.clone()).collect(),
            vehicle_ids: self.vehicles.iter().map(|x| x.0.clone()).collect(),
            point_ids: self.points.iter().map(|x| x.0.clone()).collect(),
        }
    }
}
