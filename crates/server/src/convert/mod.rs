//! Conversions between `sortfleet.v1` messages and `sortfleet-model` types.
//!
//! Direction matters: proto -> model ([`FromProto`]) checks structure only — required
//! sub-messages present, enums known and not `UNSPECIFIED`, ids non-empty, integers in
//! the range of the model type, dates and hashes well formed — and reports the first
//! problem with its field path. Semantic checks (positive capacities, windows inside the
//! day, references between entities) stay in `Scenario::validate`, which reports all
//! problems at once; doing them here too would give two diverging rule sets.
//! Model -> proto ([`ToProto`]) cannot fail.
//!
//! Paths use the proto field names the client sent, e.g. `collection_points[3].demands[0].stream`.

mod enums;
mod event;
mod incident;
mod plan;
mod scenario;
#[cfg(test)]
mod tests;

pub use enums::*;
pub use event::{EventBatch, EventRejection, event_batch_from_proto};
pub use incident::{IncidentMeta, incident_to_proto};
pub use plan::{plan_to_proto, route_to_proto};
pub(crate) use plan::{stop_fields, unload_fields};

use chrono::NaiveDate;
use sortfleet_model::LatLon;
use sortfleet_proto::v1;

/// A proto message that could not be turned into a model value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct ConvertError {
    /// Field path in proto names, e.g. `vehicles[2].capacity_kg`.
    pub path: String,
    /// What is wrong with it.
    pub kind: ConvertErrorKind,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertErrorKind {
    /// A required sub-message, oneof or id is absent or empty.
    #[error("is required")]
    Missing,
    /// An enum field holds 0 (`*_UNSPECIFIED`) where a value is required.
    #[error("must be set (UNSPECIFIED is not a value)")]
    Unspecified,
    /// An enum field holds a number the contract does not define.
    #[error("unknown enum value {0}")]
    UnknownEnum(i32),
    /// The value is present but malformed or out of range.
    #[error("{0}")]
    Invalid(String),
}

impl ConvertError {
    /// An error of `kind` at `path`.
    pub fn new(path: impl Into<String>, kind: ConvertErrorKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }

    fn missing(path: impl Into<String>) -> Self {
        Self::new(path, ConvertErrorKind::Missing)
    }

    fn invalid(path: impl Into<String>, why: impl Into<String>) -> Self {
        Self::new(path, ConvertErrorKind::Invalid(why.into()))
    }
}

/// Proto -> model conversion; `path` is where `p` sits in the request ("" at the root).
pub trait FromProto<P>: Sized {
    /// Converts, or names the first offending field below `path`.
    fn from_proto(p: P, path: &str) -> Result<Self, ConvertError>;
}

/// Model -> proto conversion; always succeeds.
pub trait ToProto<P> {
    /// Converts to the wire message.
    fn to_proto(&self) -> P;
}

/// `path.name`, or `name` at the root.
pub(crate) fn field(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// `path[i]`.
pub(crate) fn item(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Converts every element of a repeated field, paths `path[i]`.
pub(crate) fn list<P, M: FromProto<P>>(v: Vec<P>, path: &str) -> Result<Vec<M>, ConvertError> {
    v.into_iter()
        .enumerate()
        .map(|(i, p)| M::from_proto(p, &item(path, i)))
        .collect()
}

/// A required sub-message.
pub(crate) fn required<P, M: FromProto<P>>(p: Option<P>, path: &str) -> Result<M, ConvertError> {
    match p {
        Some(p) => M::from_proto(p, path),
        None => Err(ConvertError::missing(path)),
    }
}

/// A required, non-blank id string.
pub(crate) fn id(s: String, path: &str) -> Result<String, ConvertError> {
    if s.trim().is_empty() {
        Err(ConvertError::missing(path))
    } else {
        Ok(s)
    }
}

/// An optional id: empty means none.
pub(crate) fn opt_id(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A proto enum number that must be a defined, non-zero value.
pub(crate) fn enum_value<E: TryFrom<i32>>(v: i32, path: &str) -> Result<E, ConvertError> {
    if v == 0 {
        return Err(ConvertError::new(path, ConvertErrorKind::Unspecified));
    }
    E::try_from(v).map_err(|_| ConvertError::new(path, ConvertErrorKind::UnknownEnum(v)))
}

/// A proto enum number where 0 (`UNSPECIFIED`) means "none".
pub(crate) fn opt_enum_value<E: TryFrom<i32>>(
    v: i32,
    path: &str,
) -> Result<Option<E>, ConvertError> {
    if v == 0 {
        Ok(None)
    } else {
        enum_value(v, path).map(Some)
    }
}

/// A service day, `YYYY-MM-DD`.
pub(crate) fn date_from_proto(s: &str, path: &str) -> Result<NaiveDate, ConvertError> {
    if s.is_empty() {
        return Err(ConvertError::missing(path));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ConvertError::invalid(path, format!("`{s}` is not a date YYYY-MM-DD")))
}

/// A service day as `YYYY-MM-DD`.
pub fn date_to_proto(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Unix milliseconds from a timestamp; sub-millisecond nanos are truncated.
pub(crate) fn unix_ms_from_proto(
    t: prost_types::Timestamp,
    path: &str,
) -> Result<i64, ConvertError> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return Err(ConvertError::invalid(
            field(path, "nanos"),
            format!("{} is outside 0..1e9", t.nanos),
        ));
    }
    t.seconds
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(i64::from(t.nanos / 1_000_000)))
        .ok_or_else(|| ConvertError::invalid(field(path, "seconds"), "out of range"))
}

/// A timestamp from unix milliseconds.
pub fn unix_ms_to_proto(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        // rem_euclid(1000) < 1000, so the product fits an i32.
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}

impl FromProto<v1::LatLon> for LatLon {
    fn from_proto(p: v1::LatLon, path: &str) -> Result<Self, ConvertError> {
        if !(p.lat.is_finite() && (-90.0..=90.0).contains(&p.lat)) {
            return Err(ConvertError::invalid(
                field(path, "lat"),
                format!("{} is outside -90..90", p.lat),
            ));
        }
        if !(p.lon.is_finite() && (-180.0..=180.0).contains(&p.lon)) {
            return Err(ConvertError::invalid(
                field(path, "lon"),
                format!("{} is outside -180..180", p.lon),
            ));
        }
        Ok(LatLon::new(p.lat, p.lon))
    }
}

impl ToProto<v1::LatLon> for LatLon {
    fn to_proto(&self) -> v1::LatLon {
        v1::LatLon {
            lat: self.lat,
            lon: self.lon,
        }
    }
}

/// A repeated geometry field.
pub(crate) fn geometry_from_proto(
    v: Vec<v1::LatLon>,
    path: &str,
) -> Result<Vec<LatLon>, ConvertError> {
    list(v, path)
}

/// A geometry as repeated positions.
pub(crate) fn geometry_to_proto(v: &[LatLon]) -> Vec<v1::LatLon> {
    v.iter().map(ToProto::to_proto).collect()
}
