//! What the rules judge events against: the published plan and the master data of the
//! day, flattened into lookups. Built once by the application core per published plan
//! (and rebuilt on a re-plan); the engine only reads it.

use crate::geo;
use serde::{Deserialize, Serialize};
use sortfleet_model::{
    BinId, DistrictId, FacilityId, Kilograms, LatLon, Metres, Plan, PointId, Scenario, Stream,
    VehicleId,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// Bad master data handed to the context; names the offending item and field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContextError {
    /// A position is not a finite WGS84 coordinate.
    #[error("{what} `{id}`: field `{field}` is not a valid WGS84 position")]
    BadPosition {
        /// Kind of item (vehicle, facility, point).
        what: &'static str,
        /// The item's id.
        id: String,
        /// The field holding the position.
        field: &'static str,
    },
    /// A plan names something the scenario does not have.
    #[error("{what} `{id}`: field `{field}` names unknown `{target}`")]
    Unknown {
        /// Kind of item holding the reference.
        what: &'static str,
        /// The item's id.
        id: String,
        /// The referencing field.
        field: &'static str,
        /// The missing id.
        target: String,
    },
    /// A distance or mass that must not be negative is.
    #[error("{what} `{id}`: field `{field}` must not be negative")]
    Negative {
        /// Kind of item.
        what: &'static str,
        /// The item's id.
        id: String,
        /// The offending field.
        field: &'static str,
    },
}

/// Tunable limits of the rules. Distances in metres, durations in milliseconds. A
/// limit missing from a stored or configured set takes its default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// Farther than this from every corridor polyline counts as off the route.
    pub corridor_m: f64,
    /// How long a truck may stay off its corridor before `ROUTE_DEVIATION` fires.
    pub deviation_ms: i64,
    /// Buffer around a vehicle's service area (the convex hull of its published route);
    /// beyond it `ROUTE_DEVIATION` fires at once.
    pub service_area_m: f64,
    /// Radius around a collection point within which the truck counts as stopped there.
    pub stop_radius_m: f64,
    /// How long the truck must stay near another stream's point to count as a stop.
    pub stop_dwell_ms: i64,
    /// Relative mass tolerance of `MASS_BALANCE`, percent of the reference weight.
    pub mass_tolerance_pct: u32,
    /// Absolute floor of the mass tolerance (scales and demand estimates are coarse).
    pub mass_tolerance_kg: Kilograms,
    /// Hazardous waste must reach a hazardous store within this time of its first pickup.
    pub hazardous_deadline_ms: i64,
    /// A facility-graded purity below this is a contaminated delivery.
    pub min_purity_pct: u8,
    /// A drop of the onboard load reading larger than this counts as a discharge.
    pub load_drop_kg: Kilograms,
    /// Within this distance of its depot the truck counts as returned.
    pub depot_radius_m: f64,
    /// An event without its own position borrows the last one if it is at most this old.
    pub position_stale_ms: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            corridor_m: 250.0,
            deviation_ms: 180_000,
            service_area_m: 1_000.0,
            stop_radius_m: 30.0,
            stop_dwell_ms: 60_000,
            mass_tolerance_pct: 15,
            mass_tolerance_kg: Kilograms(100),
            hazardous_deadline_ms: 4 * 3_600_000,
            min_purity_pct: 85,
            load_drop_kg: Kilograms(100),
            depot_radius_m: 150.0,
            position_stale_ms: 120_000,
        }
    }
}

/// One planned visit on a trip: a collection point and its expected demand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedVisit {
    /// The collection point.
    pub point: PointId,
    /// Expected demand of the trip's stream at this point.
    pub expected: Kilograms,
}

/// One planned trip: one stream, its visits in order, the facility it unloads at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedTrip {
    /// The stream this trip is dispatched for.
    pub stream: Stream,
    /// The facility the plan sends the trip to, if any.
    pub facility: Option<FacilityId>,
    /// Planned visits in order.
    pub visits: Vec<PlannedVisit>,
}

/// A vehicle's published plan plus the vehicle facts the rules need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VehiclePlan {
    /// The vehicle.
    pub id: VehicleId,
    /// District the vehicle is booked to when an incident names no point.
    pub district: Option<DistrictId>,
    /// Position of the vehicle's depot, for "returned to the depot still loaded".
    pub depot: Option<LatLon>,
    /// Streams the body type is certified for.
    pub certified: Vec<Stream>,
    /// Holds a hazardous-goods licence.
    pub hazardous_licence: bool,
    /// Rated payload; `0` means unknown and disables the payload check.
    pub rated_payload: Kilograms,
    /// Planned trips in order (a trip ends at a facility).
    pub trips: Vec<PlannedTrip>,
    /// Route corridor: the published road geometry as polylines.
    pub corridor: Vec<Vec<LatLon>>,
}

impl VehiclePlan {
    /// Streams the vehicle is dispatched for, in first-trip order, without repeats.
    pub fn dispatched_streams(&self) -> Vec<Stream> {
        let mut v: Vec<Stream> = Vec::new();
        for t in &self.trips {
            if !v.contains(&t.stream) {
                v.push(t.stream);
            }
        }
        v
    }

    /// The stream dispatched for the actual trip number `trip_index` (0-based). Extra
    /// reload trips beyond the plan keep the last planned trip's stream.
    pub fn stream_for_trip(&self, trip_index: usize) -> Option<Stream> {
        let n = self.trips.len();
        if n == 0 {
            return None;
        }
        Some(self.trips[trip_index.min(n - 1)].stream)
    }

    /// Expected demand of a planned visit of `stream` at `point` (first such visit).
    pub fn expected_at(&self, point: &PointId, stream: Stream) -> Option<Kilograms> {
        self.trips
            .iter()
            .filter(|t| t.stream == stream)
            .flat_map(|t| &t.visits)
            .find(|v| &v.point == point)
            .map(|v| v.expected)
    }

    /// Every planned visit as (point, stream), in plan order.
    pub fn visits(&self) -> impl Iterator<Item = (&PointId, Stream)> {
        self.trips
            .iter()
            .flat_map(|t| t.visits.iter().map(move |v| (&v.point, t.stream)))
    }

    /// Whether the plan visits `point` at all.
    pub fn visits_point(&self, point: &PointId) -> bool {
        self.visits().any(|(p, _)| p == point)
    }

    /// Whether the vehicle is certified for `stream`.
    pub fn is_certified(&self, stream: Stream) -> bool {
        self.certified.contains(&stream)
    }
}

/// A facility as the rules see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FacilitySite {
    /// Gate position.
    pub position: LatLon,
    /// Geofence radius around `position`.
    pub geofence: Metres,
    /// Streams the facility accepts.
    pub accepts: Vec<Stream>,
}

impl FacilitySite {
    /// Whether the facility accepts `stream`.
    pub fn accepts(&self, stream: Stream) -> bool {
        self.accepts.contains(&stream)
    }
}

/// A registered bin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinInfo {
    /// Collection point the bin stands at.
    pub point: PointId,
    /// The bin's stream.
    pub stream: Stream,
}

/// A collection point as the rules see it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PointInfo {
    /// Position, if surveyed.
    pub position: Option<LatLon>,
    /// Street office / district the point belongs to.
    pub district: Option<DistrictId>,
    /// Registered bins per stream, indexed by [`Stream::index`].
    pub registered_bins: [u32; 6],
}

/// Everything the rules read: plan, vehicles, facilities, bins, points, thresholds.
#[derive(Clone, Debug, Default)]
pub struct RuleContext {
    thresholds: Thresholds,
    vehicles: BTreeMap<VehicleId, VehiclePlan>,
    facilities: BTreeMap<FacilityId, FacilitySite>,
    bins: BTreeMap<BinId, BinInfo>,
    points: BTreeMap<PointId, PointInfo>,
    /// Bins in the registry per (point, stream): the registered count is at least this.
    bins_at: BTreeMap<(PointId, Stream), u32>,
    /// Streams planned at each point by any vehicle (bit i = `Stream::ALL[i]`).
    planned_at: BTreeMap<PointId, u8>,
    /// Contamination incidents already booked to a point before today.
    prior_contamination: BTreeMap<PointId, u32>,
    /// Points with a position, by grid cell.
    point_grid: HashMap<(i32, i32), Vec<PointId>>,
    /// Corridor segments per vehicle, by grid cell.
    corridor_grid: BTreeMap<VehicleId, SegmentIndex>,
    /// Service area per vehicle, built on first use (so that points and facilities
    /// added after the vehicle count) and reset whenever they change.
    service_areas: BTreeMap<VehicleId, OnceLock<Option<ServiceArea>>>,
}

/// Where a vehicle's published route takes it: the convex hull of its corridor, depot,
/// planned points and planned facilities, in a plane around `origin`. The corridor
/// says "on the road the plan drew"; the area says "in the part of town the day is
/// about", which still holds when a plan has no road geometry.
#[derive(Clone, Debug)]
struct ServiceArea {
    origin: LatLon,
    hull: Vec<(f64, f64)>,
}

impl ServiceArea {
    /// The area of `plan`; `None` for a vehicle dispatched for nothing.
    fn build(ctx: &RuleContext, plan: &VehiclePlan) -> Option<Self> {
        if plan.trips.is_empty() {
            return None;
        }
        let mut pts: Vec<LatLon> = plan.corridor.iter().flatten().copied().collect();
        pts.extend(plan.depot);
        for t in &plan.trips {
            pts.extend(
                t.visits
                    .iter()
                    .filter_map(|v| ctx.points.get(&v.point).and_then(|p| p.position)),
            );
            pts.extend(
                t.facility
                    .as_ref()
                    .and_then(|f| ctx.facilities.get(f))
                    .map(|f| f.position),
            );
        }
        let origin = *pts.first()?;
        let hull = geo::convex_hull(pts.iter().map(|p| geo::to_plane(&origin, p)).collect());
        Some(Self { origin, hull })
    }
}

/// Corridor segments of one vehicle bucketed by grid cell, so that "is the truck on its
/// route" costs a few segment distances instead of a walk over the whole day's geometry.
#[derive(Clone, Debug, Default)]
struct SegmentIndex {
    cells: HashMap<(i32, i32), Vec<(u32, u32)>>,
    /// Segments too long to bucket; always checked.
    long: Vec<(u32, u32)>,
}

impl SegmentIndex {
    fn build(corridor: &[Vec<LatLon>]) -> Self {
        let mut ix = Self::default();
        for (li, line) in corridor.iter().enumerate() {
            let segs: Vec<(usize, &LatLon, &LatLon)> = if line.len() == 1 {
                vec![(0, &line[0], &line[0])]
            } else {
                line.windows(2)
                    .enumerate()
                    .map(|(i, w)| (i, &w[0], &w[1]))
                    .collect()
            };
            for (si, a, b) in segs {
                let id = (li as u32, si as u32);
                match geo::cells_of_segment(a, b) {
                    Some(cs) => cs
                        .into_iter()
                        .for_each(|c| ix.cells.entry(c).or_default().push(id)),
                    None => ix.long.push(id),
                }
            }
        }
        ix
    }
}

fn check_pos(
    what: &'static str,
    id: &str,
    field: &'static str,
    p: &LatLon,
) -> Result<(), ContextError> {
    if p.is_valid() {
        Ok(())
    } else {
        Err(ContextError::BadPosition {
            what,
            id: id.to_owned(),
            field,
        })
    }
}

impl RuleContext {
    /// Builds the context of a day from its scenario and the published plan.
    ///
    /// Vehicles without a route are known (certification, licence, payload, depot) but
    /// dispatched for nothing. A route's corridor is the road geometry of all its legs;
    /// if any leg has no geometry the vehicle gets no corridor (no corridor check)
    /// rather than a straight-line guess that would raise false deviations. A
    /// vehicle's district is the most frequent district among its stops.
    pub fn from_day(
        scenario: &Scenario,
        plan: &Plan,
        thresholds: Thresholds,
    ) -> Result<Self, ContextError> {
        let mut c = Self::new(thresholds);
        for f in &scenario.facilities {
            c.add_facility(
                f.id.clone(),
                FacilitySite {
                    position: f.location,
                    geofence: f.geofence_radius_m,
                    accepts: f.accepted_streams.clone(),
                },
            )?;
        }
        for p in &scenario.points {
            let mut registered = [0u32; 6];
            for b in &p.bins {
                registered[b.stream.index()] = registered[b.stream.index()].saturating_add(1);
                c.add_bin(b.id.clone(), p.id.clone(), b.stream);
            }
            c.add_point(
                p.id.clone(),
                PointInfo {
                    position: Some(p.location),
                    district: Some(p.district.clone()),
                    registered_bins: registered,
                },
            )?;
        }
        let unknown = |id: &VehicleId, field: &'static str, target: String| ContextError::Unknown {
            what: "route",
            id: id.0.clone(),
            field,
            target,
        };
        for r in &plan.routes {
            if scenario.vehicle(&r.vehicle).is_none() {
                return Err(unknown(&r.vehicle, "vehicle", r.vehicle.0.clone()));
            }
            for t in &r.trips {
                for s in &t.stops {
                    if scenario.point(&s.point).is_none() {
                        return Err(unknown(&r.vehicle, "trips.stops.point", s.point.0.clone()));
                    }
                }
            }
        }
        for v in &scenario.vehicles {
            let depot = scenario.depot(&v.depot).map(|d| d.location);
            let route = plan.routes.iter().find(|r| r.vehicle == v.id);
            let trips: Vec<PlannedTrip> = route
                .map(|r| {
                    r.trips
                        .iter()
                        .map(|t| PlannedTrip {
                            stream: t.stream,
                            facility: Some(t.unload.facility.clone()),
                            visits: t
                                .stops
                                .iter()
                                .map(|s| PlannedVisit {
                                    point: s.point.clone(),
                                    expected: scenario
                                        .point(&s.point)
                                        .and_then(|p| p.demand(s.stream))
                                        .map_or(Kilograms(0), |d| d.kg),
                                })
                                .collect(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let corridor: Vec<Vec<LatLon>> = route
                .map(|r| {
                    let mut legs: Vec<&Vec<LatLon>> = Vec::new();
                    for t in &r.trips {
                        legs.extend(t.stops.iter().map(|s| &s.geometry));
                        legs.push(&t.unload.geometry);
                    }
                    if !r.trips.is_empty() {
                        legs.push(&r.return_geometry);
                    }
                    if legs.iter().any(|l| l.is_empty()) {
                        Vec::new()
                    } else {
                        legs.into_iter().cloned().collect()
                    }
                })
                .unwrap_or_default();
            let mut districts: BTreeMap<&DistrictId, usize> = BTreeMap::new();
            for t in route.iter().flat_map(|r| &r.trips) {
                for s in &t.stops {
                    if let Some(p) = scenario.point(&s.point) {
                        *districts.entry(&p.district).or_default() += 1;
                    }
                }
            }
            let district = districts
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(d, _)| d.clone());
            c.add_vehicle(VehiclePlan {
                id: v.id.clone(),
                district,
                depot,
                certified: v.certified_streams.clone(),
                hazardous_licence: v.hazardous_licence,
                rated_payload: v.capacity_kg,
                trips,
                corridor,
            })?;
        }
        Ok(c)
    }

    /// An empty context with the given thresholds.
    pub fn new(thresholds: Thresholds) -> Self {
        Self {
            thresholds,
            ..Self::default()
        }
    }

    /// Adds or replaces a vehicle's plan.
    pub fn add_vehicle(&mut self, plan: VehiclePlan) -> Result<(), ContextError> {
        let id = plan.id.as_str();
        if let Some(d) = &plan.depot {
            check_pos("vehicle", id, "depot", d)?;
        }
        for p in plan.corridor.iter().flatten() {
            check_pos("vehicle", id, "corridor", p)?;
        }
        if plan.rated_payload.0 < 0 {
            return Err(ContextError::Negative {
                what: "vehicle",
                id: id.to_owned(),
                field: "rated_payload",
            });
        }
        self.corridor_grid
            .insert(plan.id.clone(), SegmentIndex::build(&plan.corridor));
        self.service_areas.insert(plan.id.clone(), OnceLock::new());
        self.vehicles.insert(plan.id.clone(), plan);
        self.planned_at.clear();
        for v in self.vehicles.values() {
            for (p, s) in v.visits() {
                *self.planned_at.entry(p.clone()).or_default() |= 1 << s.index();
            }
        }
        Ok(())
    }

    /// Adds or replaces a facility.
    pub fn add_facility(&mut self, id: FacilityId, site: FacilitySite) -> Result<(), ContextError> {
        check_pos("facility", id.as_str(), "position", &site.position)?;
        if site.geofence.0 < 0 {
            return Err(ContextError::Negative {
                what: "facility",
                id: id.0,
                field: "geofence",
            });
        }
        self.facilities.insert(id, site);
        self.reset_service_areas();
        Ok(())
    }

    /// Adds or replaces a collection point.
    pub fn add_point(&mut self, id: PointId, info: PointInfo) -> Result<(), ContextError> {
        if let Some(p) = &info.position {
            check_pos("point", id.as_str(), "position", p)?;
        }
        if let Some(old) = self.points.get(&id).and_then(|o| o.position)
            && let Some(v) = self.point_grid.get_mut(&geo::cell(&old))
        {
            v.retain(|x| x != &id);
        }
        if let Some(pos) = &info.position {
            self.point_grid
                .entry(geo::cell(pos))
                .or_default()
                .push(id.clone());
        }
        self.points.insert(id, info);
        self.reset_service_areas();
        Ok(())
    }

    /// Registers a bin (tag id) standing at `point` for `stream`.
    pub fn add_bin(&mut self, bin: BinId, point: PointId, stream: Stream) {
        let info = BinInfo { point, stream };
        if let Some(old) = self.bins.insert(bin, info.clone())
            && let Some(n) = self.bins_at.get_mut(&(old.point, old.stream))
        {
            *n = n.saturating_sub(1);
        }
        *self.bins_at.entry((info.point, info.stream)).or_default() += 1;
    }

    fn reset_service_areas(&mut self) {
        for a in self.service_areas.values_mut() {
            *a = OnceLock::new();
        }
    }

    /// Records how many contamination incidents `point` already had (history from the
    /// store), so that repeat sources escalate across days.
    pub fn set_prior_contamination(&mut self, point: PointId, count: u32) {
        self.prior_contamination.insert(point, count);
    }

    /// The thresholds.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// A vehicle's plan.
    pub fn vehicle(&self, id: &VehicleId) -> Option<&VehiclePlan> {
        self.vehicles.get(id)
    }

    /// A facility.
    pub fn facility(&self, id: &FacilityId) -> Option<&FacilitySite> {
        self.facilities.get(id)
    }

    /// A registered bin.
    pub fn bin(&self, id: &BinId) -> Option<&BinInfo> {
        self.bins.get(id)
    }

    /// A collection point.
    pub fn point(&self, id: &PointId) -> Option<&PointInfo> {
        self.points.get(id)
    }

    /// Prior contamination incidents of a point.
    pub fn prior_contamination(&self, id: &PointId) -> u32 {
        self.prior_contamination.get(id).copied().unwrap_or(0)
    }

    /// Registered bins of `stream` at `point`: the larger of the declared count and the
    /// bins in the registry. `None` if the point is unknown and has no registered bins.
    pub fn registered_bins(&self, point: &PointId, stream: Stream) -> Option<u32> {
        let reg = self.bins_at.get(&(point.clone(), stream)).copied();
        match (self.points.get(point), reg) {
            (None, None) => None,
            (p, r) => Some(
                p.map_or(0, |p| p.registered_bins[stream.index()])
                    .max(r.unwrap_or(0)),
            ),
        }
    }

    /// The facility whose geofence contains `pos` (the nearest if several do).
    pub fn facility_at(&self, pos: &LatLon) -> Option<&FacilityId> {
        self.facilities
            .iter()
            .map(|(id, f)| (id, pos.haversine_m(&f.position), f.geofence.0 as f64))
            .filter(|(_, d, r)| d <= r)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(id, _, _)| id)
    }

    /// Whether `point` is "a point of another stream's route" for `plan`: some vehicle
    /// plans a visit there, but `plan` does not visit it and none of the streams it is
    /// dispatched for is planned there.
    pub fn is_foreign_point(&self, plan: &VehiclePlan, point: &PointId) -> bool {
        let Some(&mask) = self.planned_at.get(point) else {
            return false;
        };
        if plan.visits_point(point) {
            return false;
        }
        let own = plan
            .trips
            .iter()
            .fold(0u8, |m, t| m | (1 << t.stream.index()));
        mask & own == 0
    }

    /// The nearest foreign point (see [`Self::is_foreign_point`]) within the stop radius.
    pub fn foreign_point_near(&self, plan: &VehiclePlan, pos: &LatLon) -> Option<&PointId> {
        let r = self.thresholds.stop_radius_m;
        let near = |id: &PointId| -> Option<f64> {
            let p = self.points.get(id)?.position?;
            let d = pos.haversine_m(&p);
            (d <= r && self.planned_at.contains_key(id)).then_some(d)
        };
        let best = |it: &mut dyn Iterator<Item = &PointId>| -> Option<PointId> {
            it.filter_map(|id| near(id).map(|d| (id, d)))
                .filter(|(id, _)| self.is_foreign_point(plan, id))
                .min_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)))
                .map(|(id, _)| id.clone())
        };
        let found = match geo::cells_around(pos, r) {
            Some(cells) => best(
                &mut cells
                    .iter()
                    .filter_map(|c| self.point_grid.get(c))
                    .flatten(),
            ),
            None => best(&mut self.planned_at.keys()),
        }?;
        self.planned_at.get_key_value(&found).map(|(k, _)| k)
    }

    /// Distance from `pos` to the vehicle's corridor, `None` without a corridor. Exact
    /// but walks the whole geometry; see [`Self::off_corridor`] for the fast test.
    pub fn corridor_distance_m(&self, plan: &VehiclePlan, pos: &LatLon) -> Option<f64> {
        plan.corridor
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| geo::dist_to_polyline_m(pos, l))
            .min_by(f64::total_cmp)
    }

    /// Whether `pos` is farther than the corridor threshold from the vehicle's
    /// corridor; `None` when the vehicle has no corridor. Uses the segment grid.
    pub fn off_corridor(&self, plan: &VehiclePlan, pos: &LatLon) -> Option<bool> {
        if plan.corridor.iter().all(|l| l.is_empty()) {
            return None;
        }
        let limit = self.thresholds.corridor_m;
        let Some(ix) = self.corridor_grid.get(&plan.id) else {
            return self.corridor_distance_m(plan, pos).map(|d| d > limit);
        };
        let Some(cells) = geo::cells_around(pos, limit) else {
            return self.corridor_distance_m(plan, pos).map(|d| d > limit);
        };
        let seg = |&(li, si): &(u32, u32)| -> f64 {
            // The index was built from the stored plan; a caller's copy may differ.
            let line = plan.corridor.get(li as usize);
            match line.and_then(|l| l.get(si as usize)) {
                Some(a) => {
                    let b = line.and_then(|l| l.get(si as usize + 1)).unwrap_or(a);
                    geo::dist_to_segment_m(pos, a, b)
                }
                None => f64::INFINITY,
            }
        };
        let near = cells
            .iter()
            .filter_map(|c| ix.cells.get(c))
            .flatten()
            .chain(&ix.long)
            .any(|s| seg(s) <= limit);
        Some(!near)
    }

    /// How far `pos` lies outside the vehicle's service area (0 inside); `None` when
    /// the vehicle is dispatched for nothing. See [`Thresholds::service_area_m`].
    pub fn outside_service_area_m(&self, plan: &VehiclePlan, pos: &LatLon) -> Option<f64> {
        let a = self
            .service_areas
            .get(&plan.id)?
            // Built from the stored plan, like the corridor index.
            .get_or_init(|| {
                self.vehicles
                    .get(&plan.id)
                    .and_then(|v| ServiceArea::build(self, v))
            })
            .as_ref()?;
        Some(geo::dist_outside_hull(
            &a.hull,
            geo::to_plane(&a.origin, pos),
        ))
    }

    /// The district an incident at `point` of `vehicle` is booked to.
    pub fn district_for(&self, vehicle: &VehicleId, point: Option<&PointId>) -> Option<DistrictId> {
        point
            .and_then(|p| self.points.get(p))
            .and_then(|p| p.district.clone())
            .or_else(|| self.vehicles.get(vehicle).and_then(|v| v.district.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plan_with(corridor: Vec<Vec<LatLon>>) -> VehiclePlan {
        VehiclePlan {
            id: VehicleId::new("V"),
            district: None,
            depot: None,
            certified: vec![],
            hazardous_licence: false,
            rated_payload: Kilograms(0),
            trips: vec![],
            corridor,
        }
    }

    #[test]
    fn bad_master_data_names_the_field() {
        let mut c = RuleContext::new(Thresholds::default());
        let mut p = plan_with(vec![]);
        p.depot = Some(LatLon::new(f64::NAN, 0.0));
        let e = c.add_vehicle(p).unwrap_err();
        assert!(e.to_string().contains("depot"), "{e}");
        let f = FacilitySite {
            position: LatLon::new(0.0, 0.0),
            geofence: Metres(-1),
            accepts: vec![],
        };
        assert!(
            c.add_facility("F".into(), f)
                .unwrap_err()
                .to_string()
                .contains("geofence")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]

        /// The grid answer equals the exact walk over the whole corridor.
        #[test]
        fn off_corridor_grid_matches_exact(
            pts in prop::collection::vec((31.19f64..31.23, 121.39f64..121.43), 1..30),
            probes in prop::collection::vec((31.18f64..31.24, 121.38f64..121.44), 1..30),
            corridor_m in 10.0f64..600.0,
        ) {
            let line: Vec<LatLon> = pts.into_iter().map(|(a, b)| LatLon::new(a, b)).collect();
            let mut c = RuleContext::new(Thresholds { corridor_m, ..Thresholds::default() });
            let plan = plan_with(vec![line.clone(), vec![]]);
            c.add_vehicle(plan.clone()).unwrap();
            for (a, b) in probes {
                let p = LatLon::new(a, b);
                let exact = geo::dist_to_polyline_m(&p, &line) > corridor_m;
                prop_assert_eq!(c.off_corridor(&plan, &p), Some(exact));
            }
        }
    }
}
