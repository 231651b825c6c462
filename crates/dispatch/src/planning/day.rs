//! The engine shared by [`super::plan_day`] and [`super::replan`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use solver::{ProblemData, SolveParams, StopCriteria, TimeWindow, TravelMatrix};
use sortfleet_model::{
    Cents, FacilityUnload, Kilograms, LatLon, Litres, Metres, Plan, PlannedBreak, Route, Scenario,
    Seconds, Stop, Stream, Trip, Unserved, UnservedReason,
};
use sortfleet_solver as solver;

use super::alloc::{self, LimitedFacility, StreamNeed, VehicleOffer};
use super::network::Network;
use super::{Lock, PlanError, PlanOutcome, PlanParams, PlanProgress, PlanReport, StreamReport};

/// Solver cost units per cent: distances in metres at ct/km and durations in seconds
/// at ct/hour both become integers (ct/km × 3600 per m, ct/h × 1000 per s).
pub(crate) const UNITS_PER_CT: i64 = 3_600_000;

const HAZ_BIT: u64 = 1;

/// Where and when a vehicle with a frozen prefix continues.
#[derive(Clone, Debug)]
pub(crate) struct Start {
    /// Location index.
    pub loc: usize,
    /// Not before this time.
    pub time: i64,
    /// Shift time already worked.
    pub used_s: i64,
    /// Break already taken.
    pub break_taken: bool,
}

/// The kept part of a previous route.
#[derive(Clone, Debug)]
pub(crate) struct Frozen {
    pub start_s: Seconds,
    pub trips: Vec<Trip>,
    pub breaks: Vec<PlannedBreak>,
    pub distance_m: i64,
    /// A broken-down vehicle: the route ends here, nothing follows.
    pub stopped_at: Option<Seconds>,
}

/// Everything that bends a plain day plan: frozen prefixes, vehicles out, pins.
#[derive(Clone, Debug, Default)]
pub(crate) struct DaySpec {
    pub excluded: HashSet<usize>,
    pub starts: HashMap<usize, Start>,
    pub frozen: HashMap<usize, Frozen>,
    pub fixed: HashMap<usize, Stream>,
    pub hard_pins: HashMap<(usize, Stream), usize>,
    pub soft_pins: HashMap<(usize, Stream), usize>,
    pub skip: HashSet<(usize, Stream)>,
    pub intake_used: HashMap<usize, i64>,
}

impl DaySpec {
    /// A plain day with the dispatcher's locks.
    pub fn from_locks(s: &Scenario, locks: &[Lock]) -> Result<DaySpec, PlanError> {
        let mut spec = DaySpec::default();
        spec.add_locks(s, locks)?;
        Ok(spec)
    }

    /// Adds hard pins, refusing unknown ids, impossible pairs and one vehicle on two streams.
    pub fn add_locks(&mut self, s: &Scenario, locks: &[Lock]) -> Result<(), PlanError> {
        for l in locks {
            let p = s
                .points
                .iter()
                .position(|p| p.id == l.point)
                .ok_or_else(|| PlanError::Lock(format!("unknown point {}", l.point)))?;
            let v = s
                .vehicles
                .iter()
                .position(|v| v.id == l.vehicle)
                .ok_or_else(|| PlanError::Lock(format!("unknown vehicle {}", l.vehicle)))?;
            if s.points[p].demand(l.stream).is_none() {
                return Err(PlanError::Lock(format!(
                    "point {} has no {} demand",
                    l.point, l.stream
                )));
            }
            if !s.vehicles[v].can_carry(l.stream) {
                return Err(PlanError::Lock(format!(
                    "vehicle {} may not carry {}",
                    l.vehicle, l.stream
                )));
            }
            if let Some(&other) = self.fixed.get(&v)
                && other != l.stream
                && self.hard_pins.values().any(|&pv| pv == v)
            {
                return Err(PlanError::Lock(format!(
                    "vehicle {} locked to both {other} and {} (one stream per vehicle and day)",
                    l.vehicle, l.stream
                )));
            }
            self.fixed.insert(v, l.stream);
            self.hard_pins.insert((p, l.stream), v);
        }
        Ok(())
    }
}

/// One visit of the day: a point's demand of one stream.
#[derive(Clone, Copy, Debug)]
struct DayVisit {
    point: usize,
    stream: Stream,
    kg: i64,
    litres: i64,
}

struct VehState {
    loc: usize,
    time: i64,
    avail_s: i64,
    break_rule: Option<solver::Break>,
}

fn veh_state(s: &Scenario, net: &Network, spec: &DaySpec, v: usize) -> VehState {
    let veh = &s.vehicles[v];
    let depot = s.depots.iter().position(|d| d.id == veh.depot).unwrap_or(0);
    let (loc, time, used, taken) = match spec.starts.get(&v) {
        Some(st) => (st.loc, st.time, st.used_s, st.break_taken),
        None => (depot, veh.shift.start.0, 0, false),
    };
    let _ = net;
    VehState {
        loc,
        time,
        avail_s: (veh.shift.end.0 - time).min(veh.max_shift_s.0 - used),
        break_rule: veh.break_rule.filter(|_| !taken).map(|b| solver::Break {
            window: TimeWindow::new(b.window.start.0, b.window.end.0),
            duration: b.duration_s.0,
        }),
    }
}

fn depot_loc(s: &Scenario, v: usize) -> usize {
    s.depots
        .iter()
        .position(|d| d.id == s.vehicles[v].depot)
        .unwrap_or(0)
}

fn windows_of(p: &sortfleet_model::CollectionPoint) -> Vec<TimeWindow> {
    let mut w: Vec<TimeWindow> = p
        .time_windows
        .iter()
        .map(|w| TimeWindow::new(w.start.0, w.end.0))
        .collect();
    w.sort_by_key(|w| w.start);
    let mut out: Vec<TimeWindow> = Vec::new();
    for x in w {
        match out.last_mut() {
            Some(l) if x.start <= l.end => l.end = l.end.max(x.end),
            _ => out.push(x),
        }
    }
    if out.is_empty() {
        out.push(TimeWindow::ALWAYS);
    }
    out
}

/// Whether vehicle `v` alone could serve the visit: leave, serve it in a window, tip
/// at an open facility, return within the shift (breaks included, other visits not).
fn fits_alone(s: &Scenario, net: &Network, spec: &DaySpec, v: usize, dv: &DayVisit) -> bool {
    let veh = &s.vehicles[v];
    let st = veh_state(s, net, spec, v);
    let c = net.vehicle_class[v];
    let p = net.point(dv.point);
    let point = &s.points[dv.point];
    let brk = st.break_rule.map_or(0, |b| b.duration);
    let arr = st.time + net.t(c, st.loc, p);
    let Some(start) = windows_of(point)
        .iter()
        .find(|w| w.end >= arr)
        .map(|w| arr.max(w.start))
    else {
        return false;
    };
    let dep = start + point.service_s.0;
    s.facilities.iter().enumerate().any(|(f, fac)| {
        if !fac.accepts(dv.stream) || !net.path(c, p, net.fac(f)) {
            return false;
        }
        let a = dep + net.t(c, p, net.fac(f));
        let fs = a.max(fac.opening_hours.start.0);
        if fs > fac.opening_hours.end.0 {
            return false;
        }
        let back = fs + fac.unload_s.0 + net.t(c, net.fac(f), depot_loc(s, v)) + brk;
        back <= veh.shift.end.0 && back - st.time <= st.avail_s
    })
}

fn classify(
    s: &Scenario,
    net: &Network,
    spec: &DaySpec,
    dv: &DayVisit,
) -> Option<(UnservedReason, String)> {
    let eligible: Vec<usize> = match spec.hard_pins.get(&(dv.point, dv.stream)) {
        Some(&v) if spec.excluded.contains(&v) => {
            return Some((
                UnservedReason::Other,
                "locked to an unavailable vehicle".into(),
            ));
        }
        Some(&v) => vec![v],
        None => (0..s.vehicles.len())
            .filter(|v| !spec.excluded.contains(v) && s.vehicles[*v].can_carry(dv.stream))
            .filter(|v| spec.frozen.get(v).is_none_or(|f| f.stopped_at.is_none()))
            .collect(),
    };
    if eligible.is_empty() {
        return Some((
            UnservedReason::NoCertifiedVehicle,
            format!("no available vehicle is certified for {}", dv.stream),
        ));
    }
    let facs: Vec<usize> = (0..s.facilities.len())
        .filter(|&f| s.facilities[f].accepts(dv.stream))
        .collect();
    if facs.is_empty() {
        return Some((
            UnservedReason::FacilityClosedOrFull,
            format!("no facility accepts {}", dv.stream),
        ));
    }
    let fits: Vec<usize> = eligible
        .iter()
        .copied()
        .filter(|&v| {
            dv.kg <= s.vehicles[v].capacity_kg.0 && dv.litres <= s.vehicles[v].capacity_l.0
        })
        .collect();
    if fits.is_empty() {
        return Some((
            UnservedReason::OverCapacity,
            format!(
                "{} kg / {} l exceeds every eligible vehicle",
                dv.kg, dv.litres
            ),
        ));
    }
    let p = net.point(dv.point);
    let reach: Vec<usize> = fits
        .iter()
        .copied()
        .filter(|&v| {
            let c = net.vehicle_class[v];
            let st = veh_state(s, net, spec, v);
            let home = depot_loc(s, v);
            net.path(c, st.loc, p)
                && facs
                    .iter()
                    .any(|&f| net.path(c, p, net.fac(f)) && net.path(c, net.fac(f), home))
        })
        .collect();
    if reach.is_empty() {
        return Some((
            UnservedReason::Unreachable,
            "no eligible vehicle class can drive to the point and on to a facility".into(),
        ));
    }
    let open = facs.iter().any(|&f| {
        let fac = &s.facilities[f];
        let left = fac
            .daily_intake_limit_kg
            .map(|l| l.0 - spec.intake_used.get(&f).copied().unwrap_or(0));
        left.is_none_or(|l| l >= dv.kg)
            && reach.iter().any(|&v| {
                let st = veh_state(s, net, spec, v);
                fac.opening_hours.start.0 <= s.vehicles[v].shift.end.0
                    && fac.opening_hours.end.0 >= st.time
            })
    });
    if !open {
        return Some((
            UnservedReason::FacilityClosedOrFull,
            format!(
                "every facility for {} is closed during the shifts or full",
                dv.stream
            ),
        ));
    }
    if !reach.iter().any(|&v| fits_alone(s, net, spec, v, dv)) {
        return Some((
            UnservedReason::OutsideShiftOrWindow,
            "no vehicle can serve it within its shift and the point's time windows".into(),
        ));
    }
    None
}

struct StreamRun {
    stream: Stream,
    pd: ProblemData,
    sol: solver::Solution,
    vehicles: Vec<usize>,
    visits: Vec<DayVisit>,
    checked: i64,
    quota: HashMap<usize, i64>,
}

/// Times of one solver route, mirroring the checker's schedule rules exactly.
struct Timeline {
    depart: i64,
    end: i64,
    distance: i64,
    /// (arrival, departure) per visit, per trip.
    visits: Vec<Vec<(i64, i64)>>,
    /// (arrival, departure) per trip's unload.
    unloads: Vec<(i64, i64)>,
    brk: Option<(i64, i64)>,
}

fn timeline(pd: &ProblemData, r: &solver::Route) -> Timeline {
    let m = pd.matrix();
    let veh = &pd.vehicles()[r.vehicle];
    let c = veh.class;
    let mut stops: Vec<(usize, i64, &[TimeWindow])> = Vec::new();
    for t in &r.trips {
        for &v in &t.visits {
            let x = &pd.visits()[v];
            stops.push((x.location, x.service, x.windows.as_slice()));
        }
        if let Some(f) = t.facility {
            let fac = &pd.facilities()[f];
            stops.push((fac.location, fac.unload, fac.hours.as_slice()));
        }
    }
    let start_in = |w: &[TimeWindow], a: i64| w.iter().find(|w| w.end >= a).map(|w| a.max(w.start));
    let mut depart = veh.shift.start;
    if let Some(&(loc, _, w)) = stops.first() {
        let tt0 = m.duration(c, veh.start, loc);
        if let Some(s) = start_in(w, depart + tt0) {
            depart = depart.max(s - tt0);
        }
    }
    let mut time = depart;
    let mut pos = veh.start;
    let mut distance = 0;
    let mut brk = None;
    let leg = |time: &mut i64, from: usize, to: usize, brk: &mut Option<(i64, i64)>| {
        let tt = m.duration(c, from, to);
        if let Some(b) = veh.break_rule
            && brk.is_none()
            && *time + tt > b.window.start
        {
            let bs = (*time).max(b.window.start);
            *brk = Some((bs, bs + b.duration));
            *time = bs + b.duration;
        }
        *time + tt
    };
    let mut times = Vec::new();
    for &(loc, service, w) in &stops {
        let arr = leg(&mut time, pos, loc, &mut brk);
        distance += m.distance(c, pos, loc);
        let start = start_in(w, arr).unwrap_or(arr);
        time = start + service;
        times.push((arr, time));
        pos = loc;
    }
    let end = leg(&mut time, pos, veh.end, &mut brk);
    distance += m.distance(c, pos, veh.end);
    let mut k = 0;
    let mut visits = Vec::new();
    let mut unloads = Vec::new();
    for t in &r.trips {
        visits.push(times[k..k + t.visits.len()].to_vec());
        k += t.visits.len();
        if t.facility.is_some() {
            unloads.push(times[k]);
            k += 1;
        }
    }
    Timeline {
        depart,
        end,
        distance,
        visits,
        unloads,
        brk,
    }
}

/// Route cost in cents from its parts (fixed + per km + per hour, rounded once).
pub(crate) fn route_cost(v: &sortfleet_model::Vehicle, dist_m: i64, dur_s: i64) -> Cents {
    let units = v.cost_per_km_ct.0 * 3600 * dist_m + v.cost_per_hour_ct.0 * 1000 * dur_s;
    Cents(v.fixed_cost_ct.0 + (units + UNITS_PER_CT / 2) / UNITS_PER_CT)
}

/// Runs the pipeline after the network is built.
pub(crate) fn run(
    s: &Scenario,
    net: &Network,
    spec: &DaySpec,
    params: &PlanParams,
    progress: &(dyn Fn(PlanProgress) + Sync),
) -> Result<PlanOutcome, PlanError> {
    let mut report = PlanReport {
        classes: net.classes.len(),
        network_s: net.build_s,
        ..PlanReport::default()
    };
    let t0 = Instant::now();
    // 1. Visits and up-front reasons.
    let mut unserved: Vec<Unserved> = Vec::new();
    let mut todo: BTreeMap<Stream, Vec<DayVisit>> = BTreeMap::new();
    for (pi, p) in s.points.iter().enumerate() {
        for d in &p.demands {
            if spec.skip.contains(&(pi, d.stream)) {
                continue;
            }
            let dv = DayVisit {
                point: pi,
                stream: d.stream,
                kg: d.kg.0,
                litres: d.litres.0,
            };
            match classify(s, net, spec, &dv) {
                Some((reason, detail)) => unserved.push(Unserved {
                    point: p.id.clone(),
                    stream: d.stream,
                    reason,
                    detail,
                }),
                None => todo.entry(d.stream).or_default().push(dv),
            }
        }
    }
    // 2. Allocation.
    let usable: Vec<usize> = (0..s.vehicles.len())
        .filter(|v| !spec.excluded.contains(v))
        .filter(|v| spec.frozen.get(v).is_none_or(|f| f.stopped_at.is_none()))
        .collect();
    let mut needs = Vec::new();
    for (&stream, vs) in &todo {
        let Some(&v0) = usable.iter().find(|&&v| s.vehicles[v].can_carry(stream)) else {
            continue;
        };
        let c = net.vehicle_class[v0];
        let facs: Vec<usize> = (0..s.facilities.len())
            .filter(|&f| s.facilities[f].accepts(stream))
            .collect();
        let mut work = 0.0;
        let mut fac_t = 0.0;
        for a in vs {
            let pa = net.point(a.point);
            let nn = vs
                .iter()
                .filter(|b| b.point != a.point)
                .map(|b| net.t(c, pa, net.point(b.point)))
                .min()
                .unwrap_or(0);
            let nf = facs
                .iter()
                .map(|&f| net.t(c, pa, net.fac(f)))
                .min()
                .unwrap_or(0);
            work += (s.points[a.point].service_s.0 + nn.min(nf)) as f64;
            fac_t += nf as f64;
        }
        let kg: i64 = vs.iter().map(|v| v.kg).sum();
        let litres: i64 = vs.iter().map(|v| v.litres).sum();
        let carriers: Vec<usize> = usable
            .iter()
            .copied()
            .filter(|&v| s.vehicles[v].can_carry(stream))
            .collect();
        let cap_kg = carriers
            .iter()
            .map(|&v| s.vehicles[v].capacity_kg.0)
            .sum::<i64>() as f64
            / carriers.len() as f64;
        let cap_l = carriers
            .iter()
            .map(|&v| s.vehicles[v].capacity_l.0)
            .sum::<i64>() as f64
            / carriers.len() as f64;
        let trips = (kg as f64 / cap_kg.max(1.0))
            .max(litres as f64 / cap_l.max(1.0))
            .ceil();
        let unload = facs
            .iter()
            .map(|&f| s.facilities[f].unload_s.0)
            .min()
            .unwrap_or(0) as f64;
        work += trips * (2.0 * fac_t / vs.len() as f64 + unload);
        needs.push(StreamNeed {
            stream,
            work_s: work,
            kg,
        });
    }
    let centroid = |vs: &[DayVisit]| {
        let n = vs.len().max(1) as f64;
        let lat = vs
            .iter()
            .map(|v| s.points[v.point].location.lat)
            .sum::<f64>()
            / n;
        let lon = vs
            .iter()
            .map(|v| s.points[v.point].location.lon)
            .sum::<f64>()
            / n;
        LatLon::new(lat, lon)
    };
    let centroids: BTreeMap<Stream, LatLon> = todo.iter().map(|(k, v)| (*k, centroid(v))).collect();
    let offers: Vec<VehicleOffer> = usable
        .iter()
        .map(|&v| {
            let veh = &s.vehicles[v];
            let st = veh_state(s, net, spec, v);
            let streams = match spec.fixed.get(&v) {
                Some(&f) if todo.contains_key(&f) => vec![f],
                _ => Stream::ALL
                    .iter()
                    .copied()
                    .filter(|&x| veh.can_carry(x) && todo.contains_key(&x))
                    .collect(),
            };
            let depot = s.depots[depot_loc(s, v)].location;
            VehicleOffer {
                vehicle: v,
                streams,
                hours_s: (st.avail_s - st.break_rule.map_or(0, |b| b.duration)).max(0) as f64,
                affinity_km: centroids
                    .iter()
                    .map(|(k, c)| (*k, depot.haversine_m(c) / 1000.0))
                    .collect(),
            }
        })
        .collect();
    let limited: Vec<LimitedFacility> = s
        .facilities
        .iter()
        .enumerate()
        .filter_map(|(f, fac)| {
            let lim = fac.daily_intake_limit_kg?;
            let streams: Vec<Stream> = fac
                .accepted_streams
                .iter()
                .copied()
                .filter(|x| todo.contains_key(x))
                .collect();
            (!streams.is_empty()).then(|| LimitedFacility {
                facility: f,
                remaining_kg: lim.0 - spec.intake_used.get(&f).copied().unwrap_or(0),
                streams,
            })
        })
        .collect();
    let unlimited: Vec<Stream> = Stream::ALL
        .iter()
        .copied()
        .filter(|&x| {
            s.facilities
                .iter()
                .any(|f| f.accepts(x) && f.daily_intake_limit_kg.is_none())
        })
        .collect();
    report.network_s += t0.elapsed().as_secs_f64();
    let a = alloc::allocate(&offers, &needs, &limited, &unlimited)?;
    report.alloc_s = a.seconds;
    report.coverage = a.coverage;
    report.alloc_binaries = a.binaries;
    report.allocation = a
        .stream_of
        .iter()
        .map(|(&v, &st)| (s.vehicles[v].id.clone(), st))
        .collect();
    progress(PlanProgress::Stage(format!(
        "fleet allocation: {} binaries, worst stream coverage {:.2}, {:.0} ms",
        a.binaries,
        a.coverage,
        a.seconds * 1000.0
    )));

    // 3. Problems per stream.
    let total_visits: usize = todo.values().map(Vec::len).sum::<usize>().max(1);
    let threads = params.threads.max(1);
    let mut jobs = Vec::new();
    for (&stream, vs) in &todo {
        let vehicles: Vec<usize> = a
            .stream_of
            .iter()
            .filter(|(_, x)| **x == stream)
            .map(|(&v, _)| v)
            .collect();
        if vehicles.is_empty() {
            for dv in vs {
                unserved.push(Unserved {
                    point: s.points[dv.point].id.clone(),
                    stream,
                    reason: UnservedReason::Other,
                    detail: "the fleet allocation left no vehicle for this stream".into(),
                });
            }
            continue;
        }
        let mut bits: HashMap<usize, u64> = HashMap::new();
        for (key, &v) in spec.hard_pins.iter().chain(spec.soft_pins.iter()) {
            if key.1 == stream && vehicles.contains(&v) && !bits.contains_key(&v) && bits.len() < 63
            {
                let b = 1u64 << (bits.len() + 1);
                bits.insert(v, b);
            }
        }
        let visits: Vec<solver::Visit> = vs
            .iter()
            .map(|dv| {
                let p = &s.points[dv.point];
                let pin = spec
                    .hard_pins
                    .get(&(dv.point, stream))
                    .or_else(|| spec.soft_pins.get(&(dv.point, stream)))
                    .and_then(|v| bits.get(v))
                    .copied()
                    .unwrap_or(0);
                solver::Visit {
                    location: net.point(dv.point),
                    demand: [dv.kg, dv.litres],
                    service: p.service_s.0,
                    windows: windows_of(p),
                    stream,
                    skills: pin
                        | if stream == Stream::Hazardous {
                            HAZ_BIT
                        } else {
                            0
                        },
                    penalty: None,
                    release: 0,
                }
            })
            .collect();
        let svehicles: Vec<solver::Vehicle> = vehicles
            .iter()
            .map(|&v| {
                let veh = &s.vehicles[v];
                let st = veh_state(s, net, spec, v);
                let started = spec.frozen.contains_key(&v);
                solver::Vehicle {
                    start: st.loc,
                    end: depot_loc(s, v),
                    capacity: [veh.capacity_kg.0, veh.capacity_l.0],
                    shift: TimeWindow::new(st.time, veh.shift.end.0.max(st.time)),
                    max_duration: Some(st.avail_s.max(0)),
                    max_distance: None,
                    fixed_cost: if started {
                        0
                    } else {
                        veh.fixed_cost_ct.0 * UNITS_PER_CT
                    },
                    cost_per_distance: veh.cost_per_km_ct.0 * 3600,
                    cost_per_second: veh.cost_per_hour_ct.0 * 1000,
                    certified: vec![stream],
                    skills: bits.get(&v).copied().unwrap_or(0)
                        | if veh.hazardous_licence { HAZ_BIT } else { 0 },
                    break_rule: st.break_rule,
                    class: net.vehicle_class[v],
                    unload_at_end: false,
                    max_day_load: None,
                    max_visits: None,
                }
            })
            .collect();
        let mut quota = HashMap::new();
        let facilities: Vec<solver::Facility> = s
            .facilities
            .iter()
            .enumerate()
            .filter(|(_, f)| f.accepts(stream))
            .map(|(f, fac)| {
                let q = a.quota.get(&(f, stream)).copied();
                if let Some(q) = q {
                    quota.insert(f, q);
                }
                solver::Facility {
                    location: net.fac(f),
                    accepts: vec![stream],
                    unload: fac.unload_s.0,
                    hours: vec![TimeWindow::new(
                        fac.opening_hours.start.0,
                        fac.opening_hours.end.0,
                    )],
                    intake_limit: q.or(fac
                        .daily_intake_limit_kg
                        .map(|l| l.0 - spec.intake_used.get(&f).copied().unwrap_or(0))),
                }
            })
            .collect();
        let matrix: Arc<dyn TravelMatrix> = net.matrix.clone();
        let pd = ProblemData::new(visits, svehicles, facilities, matrix).map_err(|e| {
            PlanError::Problem {
                stream,
                message: e.to_string(),
            }
        })?;
        let share = vs.len() as f64 / total_visits as f64;
        let limit = params
            .time_limit
            .mul_f64((share * threads as f64).clamp(0.05, 1.0));
        jobs.push((stream, pd, vehicles, vs.clone(), limit, quota));
    }
    // Scale the budgets so that the longest-first packing of the streams onto the
    // threads ends at the time limit (three big streams on two cores would overrun).
    let mut loads = vec![Duration::ZERO; threads];
    let mut order: Vec<Duration> = jobs.iter().map(|j| j.4).collect();
    order.sort_unstable_by(|a, b| b.cmp(a));
    for d in order {
        if let Some(m) = loads.iter_mut().min() {
            *m += d;
        }
    }
    let makespan = loads.iter().max().copied().unwrap_or_default();
    if makespan > params.time_limit && !makespan.is_zero() {
        let k = params.time_limit.as_secs_f64() / makespan.as_secs_f64();
        for j in &mut jobs {
            j.4 = j.4.mul_f64(k);
        }
    }
    progress(PlanProgress::Stage(format!(
        "{} visits to route in {} stream problem(s), {} unserved up front",
        total_visits,
        jobs.len(),
        unserved.len()
    )));

    // 4. Parallel solves.
    let t_search = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| PlanError::Internal(e.to_string()))?;
    let runs: Vec<Result<StreamRun, PlanError>> = pool.install(|| {
        jobs.into_par_iter()
            .map(|(stream, pd, vehicles, visits, limit, quota)| {
                let sp = SolveParams {
                    seed: params.seed ^ (stream.index() as u64 + 1).wrapping_mul(0x9E37_79B9),
                    threads: 1,
                    stop: StopCriteria {
                        time_limit: Some(limit.max(Duration::from_millis(50))),
                        max_iterations: params.max_iterations,
                        max_no_improvement: None,
                    },
                    cancel: None,
                };
                let sol = solver::solve(&pd, &sp, &|p: &solver::Progress| {
                    progress(PlanProgress::Search {
                        stream,
                        cost_ct: p.best_cost / UNITS_PER_CT,
                        unserved: p.unserved,
                        elapsed_s: p.elapsed,
                    })
                });
                let checked = solver::check(&pd, &sol)
                    .map_err(|e| PlanError::Check(format!("{stream}: solver checker: {e}")))?;
                progress(PlanProgress::StreamDone {
                    stream,
                    served: visits.len() - sol.unserved.len(),
                    unserved: sol.unserved.len(),
                });
                Ok(StreamRun {
                    stream,
                    pd,
                    sol,
                    vehicles,
                    visits,
                    checked: checked.cost,
                    quota,
                })
            })
            .collect()
    });
    report.search_s = t_search.elapsed().as_secs_f64();
    let runs: Vec<StreamRun> = runs.into_iter().collect::<Result<_, _>>()?;

    // 5. Assemble.
    let t_asm = Instant::now();
    let mut routes: Vec<(usize, Route)> = Vec::new();
    let mut has_route: HashSet<usize> = HashSet::new();
    for run in &runs {
        let mut sr = StreamReport {
            stream: Some(run.stream),
            vehicles_allocated: run.vehicles.len(),
            iterations: run.sol.iterations,
            checked_objective: run.checked,
            ..StreamReport::default()
        };
        let mut delivered: HashMap<usize, i64> = HashMap::new();
        for r in &run.sol.routes {
            if r.trips.is_empty() {
                continue;
            }
            let v = run.vehicles[r.vehicle];
            let route = build_route(s, net, spec, params, run, r, v, &mut delivered);
            sr.vehicles_used += 1;
            sr.trips += r.trips.len();
            has_route.insert(v);
            routes.push((v, route));
        }
        for u in &run.sol.unserved {
            let dv = run.visits[u.visit];
            let (reason, detail) = match u.reason {
                solver::UnservedReason::NoCertifiedVehicle => (
                    UnservedReason::NoCertifiedVehicle,
                    "no allocated vehicle has the required licence or lock".to_string(),
                ),
                solver::UnservedReason::OverCapacity => (
                    UnservedReason::OverCapacity,
                    "exceeds every allocated vehicle's capacity".to_string(),
                ),
                solver::UnservedReason::NoFacility => (
                    UnservedReason::FacilityClosedOrFull,
                    "no facility for the stream".to_string(),
                ),
                solver::UnservedReason::NotWorthIt => {
                    (UnservedReason::NotWorthServing, String::new())
                }
                solver::UnservedReason::NoFeasibleSlot => {
                    let full = !run.quota.is_empty()
                        && !s
                            .facilities
                            .iter()
                            .any(|f| f.accepts(run.stream) && f.daily_intake_limit_kg.is_none())
                        && run
                            .quota
                            .iter()
                            .all(|(f, q)| q - delivered.get(f).copied().unwrap_or(0) < dv.kg);
                    if full {
                        (
                            UnservedReason::FacilityClosedOrFull,
                            "daily intake limits of the stream's facilities are reached".into(),
                        )
                    } else if run
                        .vehicles
                        .iter()
                        .any(|&v| fits_alone(s, net, spec, v, &dv))
                    {
                        (
                            UnservedReason::Other,
                            "no room left in the shifts of the vehicles allocated to the stream"
                                .into(),
                        )
                    } else {
                        (
                            UnservedReason::OutsideShiftOrWindow,
                            "no allocated vehicle reaches it within shift and time windows".into(),
                        )
                    }
                }
            };
            unserved.push(Unserved {
                point: s.points[dv.point].id.clone(),
                stream: run.stream,
                reason,
                detail,
            });
        }
        report.streams.push(sr);
    }
    // Frozen routes that got no new trips still exist (their kept part and return).
    for (&v, fr) in &spec.frozen {
        if has_route.contains(&v) {
            continue;
        }
        routes.push((v, frozen_only(s, net, spec, params, v, fr)));
    }
    routes.sort_by_key(|(v, _)| *v);
    for sr in &mut report.streams {
        let st = sr.stream;
        sr.served = routes
            .iter()
            .flat_map(|(_, r)| &r.trips)
            .filter(|t| Some(t.stream) == st)
            .map(|t| t.stops.len())
            .sum();
        sr.kg = routes
            .iter()
            .flat_map(|(_, r)| &r.trips)
            .filter(|t| Some(t.stream) == st)
            .map(|t| t.unload.load_kg)
            .sum();
        sr.unserved = unserved.iter().filter(|u| Some(u.stream) == st).count();
        let mine: Vec<&Route> = routes
            .iter()
            .filter(|(v, _)| {
                a.stream_of.get(v).copied() == st
                    || (!a.stream_of.contains_key(v)
                        && spec
                            .frozen
                            .get(v)
                            .and_then(|f| f.trips.last())
                            .map(|t| t.stream)
                            == st)
            })
            .map(|(_, r)| r)
            .collect();
        sr.distance_m = mine.iter().map(|r| r.distance_m).sum();
        sr.duration_s = mine.iter().map(|r| r.duration_s).sum();
        sr.cost_ct = mine.iter().map(|r| r.cost_ct.0).sum();
    }
    // Streams whose every visit was unserved up front still get a row.
    for st in Stream::ALL {
        if !report.streams.iter().any(|r| r.stream == Some(st))
            && unserved.iter().any(|u| u.stream == st)
        {
            report.streams.push(StreamReport {
                stream: Some(st),
                unserved: unserved.iter().filter(|u| u.stream == st).count(),
                ..StreamReport::default()
            });
        }
    }
    report
        .streams
        .sort_by_key(|r| r.stream.map_or(usize::MAX, Stream::index));
    unserved.sort_by(|a, b| (&a.point, a.stream).cmp(&(&b.point, b.stream)));
    let plan = Plan::new(
        s.name.clone(),
        s.date,
        routes.into_iter().map(|(_, r)| r).collect(),
        unserved,
        Cents(0),
    );
    super::check::check_plan(s, &plan).map_err(|e| PlanError::Check(e.to_string()))?;
    report.frozen_stops = spec
        .frozen
        .values()
        .map(|f| f.trips.iter().map(|t| t.stops.len()).sum::<usize>())
        .sum();
    report.assemble_s = t_asm.elapsed().as_secs_f64();
    Ok(PlanOutcome { plan, report })
}

fn leg_geometry(net: &Network, params: &PlanParams, c: usize, a: usize, b: usize) -> Vec<LatLon> {
    if params.geometry {
        net.geometry(c, a, b)
    } else {
        Vec::new()
    }
}

#[allow(clippy::too_many_arguments)]
fn build_route(
    s: &Scenario,
    net: &Network,
    spec: &DaySpec,
    params: &PlanParams,
    run: &StreamRun,
    r: &solver::Route,
    v: usize,
    delivered: &mut HashMap<usize, i64>,
) -> Route {
    let veh = &s.vehicles[v];
    let c = net.vehicle_class[v];
    let tl = timeline(&run.pd, r);
    let sveh = &run.pd.vehicles()[r.vehicle];
    let mut prev = sveh.start;
    let fr = spec.frozen.get(&v);
    let mut trips: Vec<Trip> = fr.map(|f| f.trips.clone()).unwrap_or_default();
    for (ti, t) in r.trips.iter().enumerate() {
        let mut kg = 0;
        let mut l = 0;
        let mut stops = Vec::new();
        for (k, &vi) in t.visits.iter().enumerate() {
            let dv = run.visits[vi];
            let loc = net.point(dv.point);
            kg += dv.kg;
            l += dv.litres;
            let (arr, dep) = tl.visits[ti][k];
            stops.push(Stop {
                point: s.points[dv.point].id.clone(),
                stream: run.stream,
                arrival_s: Seconds(arr),
                departure_s: Seconds(dep),
                load_after_kg: Kilograms(kg),
                load_after_l: Litres(l),
                geometry: leg_geometry(net, params, c, prev, loc),
            });
            prev = loc;
        }
        let fi = t
            .facility
            .map(|f| run.pd.facilities()[f].location - net.nd)
            .unwrap_or(0);
        *delivered.entry(fi).or_default() += kg;
        let (arr, dep) = tl.unloads[ti];
        let floc = net.fac(fi);
        trips.push(Trip {
            stream: run.stream,
            stops,
            unload: FacilityUnload {
                facility: s.facilities[fi].id.clone(),
                arrival_s: Seconds(arr),
                departure_s: Seconds(dep),
                load_kg: Kilograms(kg),
                geometry: leg_geometry(net, params, c, prev, floc),
            },
        });
        prev = floc;
    }
    let mut breaks = fr.map(|f| f.breaks.clone()).unwrap_or_default();
    if let Some((a, b)) = tl.brk {
        breaks.push(PlannedBreak {
            start_s: Seconds(a),
            end_s: Seconds(b),
        });
    }
    let start = fr.map_or(tl.depart, |f| f.start_s.0);
    let dist = tl.distance + fr.map_or(0, |f| f.distance_m);
    let dur = tl.end - start;
    Route {
        vehicle: veh.id.clone(),
        depot: veh.depot.clone(),
        start_s: Seconds(start),
        end_s: Seconds(tl.end),
        trips,
        breaks,
        return_geometry: leg_geometry(net, params, c, prev, sveh.end),
        distance_m: Metres(dist),
        duration_s: Seconds(dur),
        cost_ct: route_cost(veh, dist, dur),
    }
}

/// A route that keeps only its frozen part, then drives home (or stops, if broken down).
fn frozen_only(
    s: &Scenario,
    net: &Network,
    spec: &DaySpec,
    params: &PlanParams,
    v: usize,
    fr: &Frozen,
) -> Route {
    let veh = &s.vehicles[v];
    let c = net.vehicle_class[v];
    let home = depot_loc(s, v);
    let (end, dist, geom, breaks) = match fr.stopped_at {
        Some(at) => {
            let last = fr
                .trips
                .last()
                .map_or(fr.start_s, |t| t.unload.departure_s.max(at));
            (last.0, fr.distance_m, Vec::new(), fr.breaks.clone())
        }
        None => {
            let st = veh_state(s, net, spec, v);
            let mut time = st.time;
            let tt = net.t(c, st.loc, home);
            let mut breaks = fr.breaks.clone();
            if let Some(b) = st.break_rule
                && time + tt > b.window.start
            {
                let bs = time.max(b.window.start);
                breaks.push(PlannedBreak {
                    start_s: Seconds(bs),
                    end_s: Seconds(bs + b.duration),
                });
                time = bs + b.duration;
            }
            (
                time + tt,
                fr.distance_m + net.d(c, st.loc, home),
                leg_geometry(net, params, c, st.loc, home),
                breaks,
            )
        }
    };
    let dur = end - fr.start_s.0;
    Route {
        vehicle: veh.id.clone(),
        depot: veh.depot.clone(),
        start_s: fr.start_s,
        end_s: Seconds(end),
        trips: fr.trips.clone(),
        breaks,
        return_geometry: geom,
        distance_m: Metres(dist),
        duration_s: Seconds(dur),
        cost_ct: route_cost(veh, dist, dur),
    }
}
