//! Problem data: locations are plain indices, travel comes through [`TravelMatrix`], and
//! everything is validated once in [`ProblemData::new`] so the search never re-checks input.

use std::sync::Arc;

use sortfleet_model::Stream;

/// Number of demand / capacity dimensions: `[kg, litres]`.
pub const DIMS: usize = 2;

/// Travel duration (seconds) and distance (metres, or the instance's unit) between
/// location indices, one matrix per vehicle class (trucks differ in speed and access).
pub trait TravelMatrix: Send + Sync {
    /// Number of vehicle classes the matrix covers.
    fn classes(&self) -> usize;
    /// Number of locations (valid indices are `0..locations()`).
    fn locations(&self) -> usize;
    /// Travel time for a vehicle of `class` from `from` to `to`.
    fn duration(&self, class: usize, from: usize, to: usize) -> i64;
    /// Travel distance for a vehicle of `class` from `from` to `to`.
    fn distance(&self, class: usize, from: usize, to: usize) -> i64;
}

/// Row-major dense matrices, one duration and one distance matrix per class.
#[derive(Clone, Debug)]
pub struct DenseMatrix {
    n: usize,
    durations: Vec<Vec<i64>>,
    distances: Vec<Vec<i64>>,
}

impl DenseMatrix {
    /// Builds from per-class row-major `n * n` vectors; `None` if the shapes disagree.
    pub fn new(n: usize, durations: Vec<Vec<i64>>, distances: Vec<Vec<i64>>) -> Option<Self> {
        let ok = !durations.is_empty()
            && durations.len() == distances.len()
            && durations.iter().chain(&distances).all(|m| m.len() == n * n);
        ok.then_some(DenseMatrix {
            n,
            durations,
            distances,
        })
    }

    /// One class where duration equals distance (the benchmark convention).
    pub fn single(n: usize, distances: Vec<i64>) -> Option<Self> {
        Self::new(n, vec![distances.clone()], vec![distances])
    }
}

impl TravelMatrix for DenseMatrix {
    fn classes(&self) -> usize {
        self.durations.len()
    }
    fn locations(&self) -> usize {
        self.n
    }
    fn duration(&self, class: usize, from: usize, to: usize) -> i64 {
        self.durations[class][from * self.n + to]
    }
    fn distance(&self, class: usize, from: usize, to: usize) -> i64 {
        self.distances[class][from * self.n + to]
    }
}

/// A closed interval `[start, end]` of seconds; for a visit it bounds the service start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    /// Earliest time.
    pub start: i64,
    /// Latest time.
    pub end: i64,
}

impl TimeWindow {
    /// A window from `start` to `end`.
    pub const fn new(start: i64, end: i64) -> Self {
        TimeWindow { start, end }
    }
    /// The window that never binds.
    pub const ALWAYS: TimeWindow = TimeWindow {
        start: 0,
        end: i64::MAX / 4,
    };
}

/// One stream's pickup at one location.
#[derive(Clone, Debug)]
pub struct Visit {
    /// Location index.
    pub location: usize,
    /// Demand per dimension `[kg, litres]`.
    pub demand: [i64; DIMS],
    /// Service time in seconds.
    pub service: i64,
    /// Allowed service-start windows, sorted and disjoint; at least one.
    pub windows: Vec<TimeWindow>,
    /// The waste stream picked up here.
    pub stream: Stream,
    /// Skills the vehicle must have (bit set, e.g. bit 0 = hazardous licence).
    pub skills: u64,
    /// `None` = mandatory; `Some(p)` = optional, leaving it out costs `p`.
    pub penalty: Option<i64>,
    /// The trip carrying this visit may not leave its start (depot or previous
    /// unload) before this time (release dates of multi-trip benchmarks); usually 0.
    pub release: i64,
}

impl Visit {
    /// A mandatory visit with no service time, open all day, no skills, no release.
    pub fn new(location: usize, demand: [i64; DIMS], stream: Stream) -> Self {
        Visit {
            location,
            demand,
            service: 0,
            windows: vec![TimeWindow::ALWAYS],
            stream,
            skills: 0,
            penalty: None,
            release: 0,
        }
    }
}

/// A driver break of `duration` seconds that must start inside `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Break {
    /// Allowed start of the break.
    pub window: TimeWindow,
    /// Length in seconds.
    pub duration: i64,
}

/// One truck.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vehicle {
    /// Start location index.
    pub start: usize,
    /// End location index.
    pub end: usize,
    /// Capacity per dimension for one trip.
    pub capacity: [i64; DIMS],
    /// Shift: departure not before `start`, return not after `end`.
    pub shift: TimeWindow,
    /// Longest allowed time from departure to return.
    pub max_duration: Option<i64>,
    /// Longest allowed total distance.
    pub max_distance: Option<i64>,
    /// Cost when the vehicle is used at all.
    pub fixed_cost: i64,
    /// Cost per distance unit.
    pub cost_per_distance: i64,
    /// Cost per second of route duration.
    pub cost_per_second: i64,
    /// Streams this truck may carry.
    pub certified: Vec<Stream>,
    /// Skill bits the truck has.
    pub skills: u64,
    /// Optional break.
    pub break_rule: Option<Break>,
    /// Index into the travel matrix classes.
    pub class: usize,
    /// The last trip may end at `end` without a facility (benchmarks: the depot unloads).
    pub unload_at_end: bool,
    /// Total first-dimension load allowed over the whole day (Kim et al. "route volume").
    pub max_day_load: Option<i64>,
    /// Most visits allowed over the day.
    pub max_visits: Option<usize>,
}

impl Vehicle {
    /// A plain vehicle with no limits beyond capacity; callers then set the fields they need.
    pub fn basic(start: usize, end: usize, capacity: [i64; DIMS], certified: Vec<Stream>) -> Self {
        Vehicle {
            start,
            end,
            capacity,
            shift: TimeWindow::ALWAYS,
            max_duration: None,
            max_distance: None,
            fixed_cost: 0,
            cost_per_distance: 1,
            cost_per_second: 0,
            certified,
            skills: 0,
            break_rule: None,
            class: 0,
            unload_at_end: false,
            max_day_load: None,
            max_visits: None,
        }
    }
}

/// A place where trucks empty (treatment plant, transfer station, landfill).
#[derive(Clone, Debug)]
pub struct Facility {
    /// Location index.
    pub location: usize,
    /// Streams it accepts.
    pub accepts: Vec<Stream>,
    /// Unload time in seconds.
    pub unload: i64,
    /// Windows in which an unload may start.
    pub hours: Vec<TimeWindow>,
    /// Total first-dimension (kg) intake allowed over the day.
    pub intake_limit: Option<i64>,
}

/// Input refused by [`ProblemData::new`]; names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemError {
    /// A location index is outside the matrix.
    #[error("{field}: location {index} out of range (matrix has {n} locations)")]
    Location {
        /// Field path, e.g. `visits[3].location`.
        field: String,
        /// The bad index.
        index: usize,
        /// Matrix size.
        n: usize,
    },
    /// A negative quantity where only non-negative values make sense.
    #[error("{field}: must not be negative (got {value})")]
    Negative {
        /// Field path.
        field: String,
        /// The value.
        value: i64,
    },
    /// Windows empty, reversed, unsorted or overlapping.
    #[error("{field}: {reason}")]
    Windows {
        /// Field path.
        field: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A vehicle class with no matrix.
    #[error("{field}: class {class} but the matrix has {classes} classes")]
    Class {
        /// Field path.
        field: String,
        /// The class.
        class: usize,
        /// Classes available.
        classes: usize,
    },
    /// A negative travel time or distance in the matrix.
    #[error("matrix: negative {what} from {from} to {to} (class {class})")]
    Matrix {
        /// `duration` or `distance`.
        what: &'static str,
        /// Class.
        class: usize,
        /// From location.
        from: usize,
        /// To location.
        to: usize,
    },
    /// A travel time or distance above 2^31 − 1: the search stores the matrices in 32
    /// bits (half the memory, fewer cache misses on big matrices).
    #[error("matrix: {what} {value} from {from} to {to} (class {class}) is above 2147483647")]
    MatrixTooLarge {
        /// `duration` or `distance`.
        what: &'static str,
        /// Class.
        class: usize,
        /// From location.
        from: usize,
        /// To location.
        to: usize,
        /// The value.
        value: i64,
    },
    /// No vehicles.
    #[error("vehicles: at least one vehicle is needed")]
    NoVehicles,
}

/// Validated problem: visits, vehicles, facilities and the travel matrix.
#[derive(Clone)]
pub struct ProblemData {
    visits: Vec<Visit>,
    vehicles: Vec<Vehicle>,
    facilities: Vec<Facility>,
    matrix: Arc<dyn TravelMatrix>,
}

impl std::fmt::Debug for ProblemData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProblemData")
            .field("visits", &self.visits.len())
            .field("vehicles", &self.vehicles.len())
            .field("facilities", &self.facilities.len())
            .field("locations", &self.matrix.locations())
            .finish()
    }
}

fn check_windows(field: String, w: &[TimeWindow]) -> Result<(), ProblemError> {
    if w.is_empty() {
        return Err(ProblemError::Windows {
            field,
            reason: "at least one time window is needed",
        });
    }
    for (i, tw) in w.iter().enumerate() {
        if tw.start > tw.end {
            return Err(ProblemError::Windows {
                field,
                reason: "window starts after it ends",
            });
        }
        if i > 0 && w[i - 1].end >= tw.start {
            return Err(ProblemError::Windows {
                field,
                reason: "windows must be sorted and disjoint",
            });
        }
    }
    Ok(())
}

fn non_negative(field: impl FnOnce() -> String, value: i64) -> Result<(), ProblemError> {
    if value < 0 {
        Err(ProblemError::Negative {
            field: field(),
            value,
        })
    } else {
        Ok(())
    }
}

impl ProblemData {
    /// Validates and builds. Infeasible-looking data (a visit no vehicle may serve) is
    /// not an error: such a visit is reported unserved with a reason.
    pub fn new(
        visits: Vec<Visit>,
        vehicles: Vec<Vehicle>,
        facilities: Vec<Facility>,
        matrix: Arc<dyn TravelMatrix>,
    ) -> Result<Self, ProblemError> {
        let n = matrix.locations();
        let classes = matrix.classes();
        let loc = |field: String, index: usize| {
            if index >= n {
                Err(ProblemError::Location { field, index, n })
            } else {
                Ok(())
            }
        };
        if vehicles.is_empty() {
            return Err(ProblemError::NoVehicles);
        }
        for (i, v) in visits.iter().enumerate() {
            loc(format!("visits[{i}].location"), v.location)?;
            for (d, &q) in v.demand.iter().enumerate() {
                non_negative(|| format!("visits[{i}].demand[{d}]"), q)?;
            }
            non_negative(|| format!("visits[{i}].service"), v.service)?;
            non_negative(|| format!("visits[{i}].release"), v.release)?;
            if let Some(p) = v.penalty {
                non_negative(|| format!("visits[{i}].penalty"), p)?;
            }
            check_windows(format!("visits[{i}].windows"), &v.windows)?;
        }
        for (i, v) in vehicles.iter().enumerate() {
            loc(format!("vehicles[{i}].start"), v.start)?;
            loc(format!("vehicles[{i}].end"), v.end)?;
            for (d, &q) in v.capacity.iter().enumerate() {
                non_negative(|| format!("vehicles[{i}].capacity[{d}]"), q)?;
            }
            check_windows(format!("vehicles[{i}].shift"), &[v.shift])?;
            for (name, val) in [
                ("max_duration", v.max_duration),
                ("max_distance", v.max_distance),
                ("max_day_load", v.max_day_load),
                ("fixed_cost", Some(v.fixed_cost)),
                ("cost_per_distance", Some(v.cost_per_distance)),
                ("cost_per_second", Some(v.cost_per_second)),
            ] {
                if let Some(x) = val {
                    non_negative(|| format!("vehicles[{i}].{name}"), x)?;
                }
            }
            if let Some(b) = v.break_rule {
                check_windows(format!("vehicles[{i}].break.window"), &[b.window])?;
                non_negative(|| format!("vehicles[{i}].break.duration"), b.duration)?;
            }
            if v.class >= classes {
                return Err(ProblemError::Class {
                    field: format!("vehicles[{i}].class"),
                    class: v.class,
                    classes,
                });
            }
        }
        for (i, f) in facilities.iter().enumerate() {
            loc(format!("facilities[{i}].location"), f.location)?;
            non_negative(|| format!("facilities[{i}].unload"), f.unload)?;
            check_windows(format!("facilities[{i}].hours"), &f.hours)?;
            if let Some(l) = f.intake_limit {
                non_negative(|| format!("facilities[{i}].intake_limit"), l)?;
            }
        }
        for c in 0..classes {
            for a in 0..n {
                for b in 0..n {
                    for (what, value) in [
                        ("duration", matrix.duration(c, a, b)),
                        ("distance", matrix.distance(c, a, b)),
                    ] {
                        if value < 0 {
                            return Err(ProblemError::Matrix {
                                what,
                                class: c,
                                from: a,
                                to: b,
                            });
                        }
                        if value > i64::from(i32::MAX) {
                            return Err(ProblemError::MatrixTooLarge {
                                what,
                                class: c,
                                from: a,
                                to: b,
                                value,
                            });
                        }
                    }
                }
            }
        }
        Ok(ProblemData {
            visits,
            vehicles,
            facilities,
            matrix,
        })
    }

    /// The visits.
    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }
    /// The vehicles.
    pub fn vehicles(&self) -> &[Vehicle] {
        &self.vehicles
    }
    /// The facilities.
    pub fn facilities(&self) -> &[Facility] {
        &self.facilities
    }
    /// The travel matrix.
    pub fn matrix(&self) -> &dyn TravelMatrix {
        &*self.matrix
    }
}
