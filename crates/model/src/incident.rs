//! A mixed-load incident: which rule fired, how bad, on what evidence.
//!
//! Incidents are evidence for the regulator, so they carry the ids of the events that
//! prove them (`evidence`, client event ids) rather than copies, and a deterministic
//! `id` so that evaluating the same events again never raises the same alarm twice.

use crate::{DistrictId, LatLon, PointId, Stream, VehicleId};
use serde::{Deserialize, Serialize};

/// The mixed-load rules of MISSION.md, in the order of its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleId {
    /// A bin of one stream scanned into a truck dispatched for another.
    StreamMismatch,
    /// One trip holds pickups of two streams before it is emptied.
    MixedTrip,
    /// A trip tipped at a facility that does not accept its stream.
    WrongFacility,
    /// A loaded trip never delivered to an allowed facility by shift end.
    UndeliveredLoad,
    /// Load dropped or body tipped outside every facility geofence.
    OffSiteDischarge,
    /// Weighbridge net weight disagrees with lifts / demand, or exceeds payload.
    MassBalance,
    /// The truck left its route corridor, or stopped at another stream's point.
    RouteDeviation,
    /// A lift without a valid bin tag, or more lifts than registered bins.
    UnidentifiedLift,
    /// Dispatched for, or collecting, a stream the vehicle is not certified for.
    VehicleNotCertified,
    /// Hazardous waste without licence, or not delivered to the store in time.
    HazardousCustody,
    /// A facility rejected a load or graded it low purity.
    ContaminatedDelivery,
    /// A planned visit never served by shift end.
    MissedPickup,
}

impl RuleId {
    /// Every rule, in table order.
    pub const ALL: [RuleId; 12] = [
        RuleId::StreamMismatch,
        RuleId::MixedTrip,
        RuleId::WrongFacility,
        RuleId::UndeliveredLoad,
        RuleId::OffSiteDischarge,
        RuleId::MassBalance,
        RuleId::RouteDeviation,
        RuleId::UnidentifiedLift,
        RuleId::VehicleNotCertified,
        RuleId::HazardousCustody,
        RuleId::ContaminatedDelivery,
        RuleId::MissedPickup,
    ];

    /// The rule's id as written in JSON and protobuf, e.g. `STREAM_MISMATCH`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleId::StreamMismatch => "STREAM_MISMATCH",
            RuleId::MixedTrip => "MIXED_TRIP",
            RuleId::WrongFacility => "WRONG_FACILITY",
            RuleId::UndeliveredLoad => "UNDELIVERED_LOAD",
            RuleId::OffSiteDischarge => "OFF_SITE_DISCHARGE",
            RuleId::MassBalance => "MASS_BALANCE",
            RuleId::RouteDeviation => "ROUTE_DEVIATION",
            RuleId::UnidentifiedLift => "UNIDENTIFIED_LIFT",
            RuleId::VehicleNotCertified => "VEHICLE_NOT_CERTIFIED",
            RuleId::HazardousCustody => "HAZARDOUS_CUSTODY",
            RuleId::ContaminatedDelivery => "CONTAMINATED_DELIVERY",
            RuleId::MissedPickup => "MISSED_PICKUP",
        }
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a rule name that is not one of the twelve ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule `{0}`")]
pub struct UnknownRule(pub String);

impl std::str::FromStr for RuleId {
    type Err = UnknownRule;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleId::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

/// How serious an incident is; ordered, so `Critical > Warning > Notice`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Worth recording and counting; no immediate action.
    Notice,
    /// The driver should act now (the load can still be kept separate).
    Warning,
    /// Separation or custody is broken; the regulator must see it.
    Critical,
}

impl Severity {
    /// The severity as written in JSON and protobuf, e.g. `WARNING`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Notice => "NOTICE",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One detected violation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Deterministic id (rule, vehicle, first evidence id, ...): the same facts give the
    /// same id, which is how re-evaluation avoids duplicate alarms.
    pub id: String,
    /// The rule that fired.
    pub rule: RuleId,
    /// Version of that rule's logic, so old incidents stay interpretable after a change.
    pub rule_version: u32,
    /// How serious.
    pub severity: Severity,
    /// The vehicle concerned.
    pub vehicle: VehicleId,
    /// The stream concerned, when one is.
    pub stream: Option<Stream>,
    /// The district the incident is booked to on the scorecard, when known.
    pub district: Option<DistrictId>,
    /// The collection point concerned, when one is.
    pub point: Option<PointId>,
    /// Client event ids of the events that prove it, oldest first.
    pub evidence: Vec<String>,
    /// Where it happened, when known.
    pub position: Option<LatLon>,
    /// When it happened (the triggering event's time), unix milliseconds.
    pub occurred_at: i64,
    /// Human-readable explanation for the driver and the regulator.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_round_trip() {
        for r in RuleId::ALL {
            assert_eq!(r.as_str().parse::<RuleId>().unwrap(), r);
            let j = serde_json::to_string(&r).unwrap();
            assert_eq!(j, format!("\"{}\"", r.as_str()));
        }
        assert!("NOPE".parse::<RuleId>().is_err());
        assert!(Severity::Critical > Severity::Notice);
    }
}
