//! Enum mappings. Written out pair by pair (not by number) so that reordering either
//! side cannot silently remap a rule or a stream.

use super::{ConvertError, ConvertErrorKind, enum_value, opt_enum_value};
use sortfleet_model::Stream as MStream;
use sortfleet_model::event::ExceptionKind as MExceptionKind;
use sortfleet_model::incident::{RuleId as MRuleId, Severity as MSeverity};
use sortfleet_model::plan::UnservedReason as MUnservedReason;
use sortfleet_model::scenario::FacilityKind as MFacilityKind;
use sortfleet_proto::v1::{
    DriverExceptionKind as PExceptionKind, FacilityKind as PFacilityKind, RuleId as PRuleId,
    Severity as PSeverity, Stream as PStream, UnservedReason as PUnservedReason,
};

macro_rules! enum_map {
    ($(#[$doc:meta])* $model:ident, $proto:ident, $to:ident, $from:ident; $($m:ident <=> $p:ident),+ $(,)?) => {
        $(#[$doc])*
        pub fn $to(x: $model) -> i32 {
            match x {
                $($model::$m => $proto::$p as i32,)+
            }
        }

        /// Proto enum number -> model value; 0 (`UNSPECIFIED`) and unknown numbers are
        /// errors naming `path`.
        pub fn $from(v: i32, path: &str) -> Result<$model, ConvertError> {
            match enum_value::<$proto>(v, path)? {
                $($proto::$p => Ok($model::$m),)+
                #[allow(unreachable_patterns)]
                _ => Err(ConvertError::new(path, ConvertErrorKind::Unspecified)),
            }
        }
    };
}

enum_map!(
    /// A stream as its proto enum number.
    MStream, PStream, stream_to_proto, stream_from_proto;
    Kitchen <=> Kitchen,
    Recyclable <=> Recyclable,
    Hazardous <=> Hazardous,
    Residual <=> Residual,
    Bulky <=> Bulky,
    Renovation <=> Renovation,
);

enum_map!(
    /// A facility kind as its proto enum number.
    MFacilityKind, PFacilityKind, facility_kind_to_proto, facility_kind_from_proto;
    TransferStation <=> TransferStation,
    SortingStation <=> SortingStation,
    HazardousStore <=> HazardousStore,
    Incinerator <=> Incinerator,
    Landfill <=> Landfill,
    KitchenPlant <=> KitchenPlant,
    Composting <=> Composting,
    BulkyPoint <=> BulkyPoint,
    ConstructionSite <=> ConstructionSite,
);

enum_map!(
    /// An unserved reason as its proto enum number.
    MUnservedReason, PUnservedReason, unserved_reason_to_proto, unserved_reason_from_proto;
    NoCertifiedVehicle <=> NoCertifiedVehicle,
    Unreachable <=> Unreachable,
    OutsideShiftOrWindow <=> OutsideShiftOrWindow,
    OverCapacity <=> OverCapacity,
    FacilityClosedOrFull <=> FacilityClosedOrFull,
    NotWorthServing <=> NotWorthServing,
    Other <=> Other,
);

enum_map!(
    /// A rule id as its proto enum number.
    MRuleId, PRuleId, rule_to_proto, rule_from_proto;
    StreamMismatch <=> StreamMismatch,
    MixedTrip <=> MixedTrip,
    WrongFacility <=> WrongFacility,
    UndeliveredLoad <=> UndeliveredLoad,
    OffSiteDischarge <=> OffSiteDischarge,
    MassBalance <=> MassBalance,
    RouteDeviation <=> RouteDeviation,
    UnidentifiedLift <=> UnidentifiedLift,
    VehicleNotCertified <=> VehicleNotCertified,
    HazardousCustody <=> HazardousCustody,
    ContaminatedDelivery <=> ContaminatedDelivery,
    MissedPickup <=> MissedPickup,
);

enum_map!(
    /// A severity as its proto enum number.
    MSeverity, PSeverity, severity_to_proto, severity_from_proto;
    Notice <=> Notice,
    Warning <=> Warning,
    Critical <=> Critical,
);

enum_map!(
    /// A driver exception kind as its proto enum number.
    MExceptionKind, PExceptionKind, exception_kind_to_proto, exception_kind_from_proto;
    BinNotOut <=> BinNotOut,
    Blocked <=> Blocked,
    Contaminated <=> Contaminated,
);

/// A stream where `UNSPECIFIED` means none.
pub fn opt_stream_from_proto(v: i32, path: &str) -> Result<Option<MStream>, ConvertError> {
    match opt_enum_value::<PStream>(v, path)? {
        None => Ok(None),
        Some(_) => stream_from_proto(v, path).map(Some),
    }
}

/// An optional stream as a proto number (`UNSPECIFIED` for none).
pub fn opt_stream_to_proto(s: Option<MStream>) -> i32 {
    s.map_or(PStream::Unspecified as i32, stream_to_proto)
}
