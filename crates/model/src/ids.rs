//! Typed ids. Ids are the operator's own strings (as in their fleet system), wrapped so
//! a vehicle id cannot be passed where a depot id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps an id string.
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id!(
    /// Id of a depot where vehicles start and end their shift.
    DepotId
);
id!(
    /// Id of a treatment or transfer facility where trucks unload.
    FacilityId
);
id!(
    /// Id of a vehicle (truck or van).
    VehicleId
);
id!(
    /// Id of a collection point (a bin site serving some households).
    PointId
);
id!(
    /// Id of one physical bin, as printed on its RFID/QR tag.
    BinId
);
id!(
    /// Id of a street office / district, the unit of the regulator's scorecard.
    DistrictId
);
