//! Per-vehicle bookkeeping the rules read: the current trip (the stretch between two
//! unloads) and a few day-long trackers. The engine alone mutates it, in `occurred_at`
//! order, so a replay of the same events rebuilds exactly the same state.

use sortfleet_model::{BinId, FacilityId, Kilograms, LatLon, PointId, Stream};
use std::collections::{BTreeMap, BTreeSet};

/// One lift recorded on a trip.
#[derive(Clone, Debug, PartialEq)]
pub struct Pickup {
    /// Client event id of the scan.
    pub event: String,
    /// When, unix ms.
    pub at: i64,
    /// The bin, if its tag was valid and registered.
    pub bin: Option<BinId>,
    /// Resolved stream (registry first, then the tag), if known.
    pub stream: Option<Stream>,
    /// Resolved collection point, if known.
    pub point: Option<PointId>,
    /// Onboard-scale weight of the lift, if the truck has a scale.
    pub lift_kg: Option<Kilograms>,
}

/// The current trip: everything since the last unload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trip {
    /// 0-based number of the trip in the vehicle's day (= unloads before it).
    pub index: usize,
    /// Stream of the trip's first identified pickup: what the trip "is".
    pub stream: Option<Stream>,
    /// First scan event id per stream picked up on this trip.
    pub streams: BTreeMap<Stream, String>,
    /// Every lift in order.
    pub pickups: Vec<Pickup>,
    /// Lifts per (point, stream): count and the first lift's event id.
    pub lifts_at: BTreeMap<(PointId, Stream), (u32, String)>,
    /// Highest onboard load reading on this trip.
    pub max_load: Option<Kilograms>,
    /// Points the driver reported as contaminated on this trip, with the report's id.
    pub contaminated_points: BTreeMap<PointId, String>,
    /// First hazardous pickup of the trip: (time, event id); starts the custody clock.
    pub hazardous_since: Option<(i64, String)>,
}

impl Trip {
    /// Whether anything was lifted on this trip.
    pub fn is_loaded(&self) -> bool {
        !self.pickups.is_empty()
    }

    /// Event id of the first lift, the stable key of a loaded trip.
    pub fn first_pickup(&self) -> Option<&str> {
        self.pickups.first().map(|p| p.event.as_str())
    }

    /// Points a bad delivery is traced back to: those the driver flagged as
    /// contaminated, and those whose lifts were of another stream than the trip's.
    pub fn contamination_sources(&self) -> BTreeSet<PointId> {
        let mut s: BTreeSet<PointId> = self.contaminated_points.keys().cloned().collect();
        for p in &self.pickups {
            if let (Some(pt), Some(ps), Some(ts)) = (&p.point, p.stream, self.stream)
                && ps != ts
            {
                s.insert(pt.clone());
            }
        }
        s
    }

    /// Distinct collection points lifted at on this trip, in first-lift order.
    pub fn points(&self) -> Vec<&PointId> {
        let mut v: Vec<&PointId> = Vec::new();
        for p in self.pickups.iter().filter_map(|p| p.point.as_ref()) {
            if !v.contains(&p) {
                v.push(p);
            }
        }
        v
    }
}

/// A weighbridge ticket as it ends a trip.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    /// The weighing facility.
    pub facility: FacilityId,
    /// Loaded truck weight.
    pub gross_kg: Kilograms,
    /// Empty truck weight.
    pub tare_kg: Kilograms,
    /// Delivered weight stated on the ticket.
    pub net_kg: Kilograms,
    /// Stream declared at the gate.
    pub declared_stream: Stream,
    /// The facility refused the load.
    pub rejected: bool,
    /// Graded purity, percent.
    pub purity_pct: Option<u8>,
}

/// How a trip ended.
#[derive(Clone, Debug, PartialEq)]
pub enum TripEndKind {
    /// A weighbridge ticket (the normal case).
    Ticket(Ticket),
    /// The body tipped inside a facility's geofence and lifting resumed without a ticket.
    TippedWithoutTicket {
        /// Facility whose geofence held the tipping.
        facility: FacilityId,
        /// The tipping event.
        tip_event: String,
    },
    /// The shift ended (event or `close_shift`) with the trip still open.
    ShiftEnd,
}

/// The end of a trip, handed to closure rules.
#[derive(Clone, Debug, PartialEq)]
pub struct TripEnd {
    /// When, unix ms.
    pub at: i64,
    /// The event that ended it, if any (`None` for `close_shift`).
    pub event: Option<String>,
    /// Where, if known.
    pub position: Option<LatLon>,
    /// How.
    pub kind: TripEndKind,
}

/// Everything the engine tracks for one vehicle's day.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VehicleState {
    /// Between `ShiftStart` and `ShiftEnd`.
    pub on_shift: bool,
    /// Trips ended so far today.
    pub trips_done: usize,
    /// The open trip.
    pub trip: Trip,
    /// Last valid position and its time.
    pub last_position: Option<(LatLon, i64)>,
    /// Last onboard load reading.
    pub last_load: Option<Kilograms>,
    /// Since when (and since which event) the truck is off its corridor.
    pub off_corridor_since: Option<(i64, String)>,
    /// Since when (and since which event) the truck is beyond its service area.
    pub out_of_area_since: Option<(i64, String)>,
    /// Since when (and since which event) the truck is inside its depot's radius
    /// (outside every facility geofence).
    pub at_depot_since: Option<(i64, String)>,
    /// Foreign point the truck lingers at: (point, since, first event id).
    pub dwell: Option<(PointId, i64, String)>,
    /// Tipping seen inside a facility geofence, waiting for its ticket.
    pub pending_tip: Option<(FacilityId, String)>,
    /// (point, stream) lifted at today.
    pub served: BTreeSet<(PointId, Stream)>,
    /// Points where the driver reported the bin not out or the point blocked.
    pub excused: BTreeSet<PointId>,
    /// Contaminated deliveries traced to each point today.
    pub contamination: BTreeMap<PointId, u32>,
}
