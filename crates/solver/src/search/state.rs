//! The search's own bookkeeping: flat node sequences per route with forward/backward
//! time caches, so a visit's insertion is estimated in O(1) for capacity, stream, time
//! windows, shift, distance and facility intake. Vehicles with a break, a maximum
//! duration or a time cost get the most promising estimates checked exactly: the check
//! resumes the route's recorded schedule after the insertion place and stops where the
//! new schedule meets the old one.
//!
//! Insertion scans are granular on large plans (the routes of a visit's nearest
//! neighbours), widened to every route's depot and facility ends for visits close to
//! those, and to every route before an unused vehicle is opened. Within a route they
//! visit only the places the visit's windows allow: earliest ends and latest starts grow
//! along a route, so that range is found by bisection.
//!
//! Search steps edit routes in place and the journal recycles its route copies: on
//! long routes allocation was a tenth of the search's time.
//!
//! Independent of `check.rs` on purpose (the same rules, written twice).

use sortfleet_model::Stream;

use crate::problem::{Break, DIMS, ProblemData, TimeWindow, Vehicle};
use crate::rng::Rng;
use crate::solution::{Route, Solution, Trip, Unserved, UnservedReason};

/// Most insertion estimates checked exactly for one visit.
const MAX_EXACT: usize = 200;

/// Neighbours whose routes a granular insertion scan looks at.
const GRANULAR: usize = 40;

/// Weight of one unserved mandatory visit in the search objective.
pub const UNSERVED_WEIGHT: i64 = 1_000_000_000_000;

/// Precomputed, search-friendly copy of the problem.
#[derive(Debug)]
pub struct Inst {
    /// Number of visits; node ids `>= nv` are facilities.
    pub nv: usize,
    n_loc: usize,
    /// Travel times and distances per class, row-major, in 32 bits (`ProblemData`
    /// refuses larger values): the insertion scan is bound by cache misses on these.
    dur: Vec<Vec<i32>>,
    dist: Vec<Vec<i32>>,
    /// Transposed copies: an insertion scan reads every route place's edge *into*
    /// one visit, which is a column of `dur`/`dist` (one cache miss per place on big
    /// matrices) but a row here.
    dur_into: Vec<Vec<i32>>,
    dist_into: Vec<Vec<i32>>,
    /// Location of each node (visits then facilities).
    pub loc: Vec<usize>,
    service: Vec<i64>,
    windows: Vec<Vec<TimeWindow>>,
    /// Demand of each visit.
    pub demand: Vec<[i64; DIMS]>,
    /// Stream of each visit.
    pub stream: Vec<Stream>,
    skills: Vec<u64>,
    /// Penalty of each visit (`None` mandatory).
    pub penalty: Vec<Option<i64>>,
    fac_accepts: Vec<Vec<Stream>>,
    fac_limit: Vec<Option<i64>>,
    facs_for_stream: Vec<Vec<usize>>,
    /// Vehicles.
    pub vehicles: Vec<Vehicle>,
    /// Vehicle type id: identical vehicles share one, so only one empty one is tried.
    pub vtype: Vec<usize>,
    /// Visits sorted by distance from each visit (nearest first, self excluded).
    pub neighbours: Vec<Vec<u32>>,
    /// Static reason a visit cannot be served at all, if any.
    pub static_reason: Vec<Option<UnservedReason>>,
    /// Distance of each visit from the first vehicle's start.
    pub depot_dist: Vec<i64>,
    /// Whether a visit is closer to a depot or facility than to its [`GRANULAR`]-th
    /// neighbour: those stops bound trips of every route, so a granular insertion scan
    /// limited to its neighbours' routes would miss cheap places.
    near_stop: Vec<bool>,
    /// Whether a vehicle needs the exact full evaluation of insertions.
    complex: Vec<bool>,
    release: Vec<i64>,
    has_release: bool,
    /// Per vehicle: whether any time rule can bind (else insertion skips the clock).
    timed: Vec<bool>,
    /// Row of each vehicle's type in `elig`.
    vtype_row: Vec<usize>,
    /// Eligibility per vehicle type (row) and visit (column).
    elig: Vec<bool>,
}

fn start_in(w: &[TimeWindow], arrival: i64) -> Option<i64> {
    for x in w {
        if x.end >= arrival {
            return Some(arrival.max(x.start));
        }
    }
    None
}

/// Latest start `<= bound` inside one of the windows.
fn latest_in(w: &[TimeWindow], bound: i64) -> Option<i64> {
    for x in w.iter().rev() {
        if x.start <= bound {
            return Some(bound.min(x.end));
        }
    }
    None
}

impl Inst {
    /// Copies the problem into dense per-class matrices and derives neighbour lists.
    pub fn new(pd: &ProblemData) -> Self {
        let m = pd.matrix();
        let n_loc = m.locations();
        let classes = m.classes();
        let mut dur = Vec::with_capacity(classes);
        let mut dist = Vec::with_capacity(classes);
        for c in 0..classes {
            let mut d = Vec::with_capacity(n_loc * n_loc);
            let mut e = Vec::with_capacity(n_loc * n_loc);
            // In range: `ProblemData::new` checked every entry against `i32::MAX`.
            let narrow = |x: i64| i32::try_from(x).unwrap_or(i32::MAX);
            for a in 0..n_loc {
                for b in 0..n_loc {
                    d.push(narrow(m.duration(c, a, b)));
                    e.push(narrow(m.distance(c, a, b)));
                }
            }
            dur.push(d);
            dist.push(e);
        }
        let transpose = |m: &Vec<i32>| {
            let mut t = vec![0i32; m.len()];
            for a in 0..n_loc {
                for b in 0..n_loc {
                    t[b * n_loc + a] = m[a * n_loc + b];
                }
            }
            t
        };
        let dur_into = dur.iter().map(transpose).collect();
        let dist_into = dist.iter().map(transpose).collect();
        let visits = pd.visits();
        let facs = pd.facilities();
        let nv = visits.len();
        let mut loc: Vec<usize> = visits.iter().map(|v| v.location).collect();
        loc.extend(facs.iter().map(|f| f.location));
        let mut service: Vec<i64> = visits.iter().map(|v| v.service).collect();
        service.extend(facs.iter().map(|f| f.unload));
        let mut windows: Vec<Vec<TimeWindow>> = visits.iter().map(|v| v.windows.clone()).collect();
        windows.extend(facs.iter().map(|f| f.hours.clone()));
        let facs_for_stream = Stream::ALL
            .iter()
            .map(|s| {
                (0..facs.len())
                    .filter(|&f| facs[f].accepts.contains(s))
                    .collect()
            })
            .collect();
        let vehicles = pd.vehicles().to_vec();
        let mut vtype = Vec::with_capacity(vehicles.len());
        let mut reps: Vec<usize> = Vec::new();
        for (k, v) in vehicles.iter().enumerate() {
            match reps.iter().find(|&&j| vehicles[j] == *v) {
                Some(&j) => vtype.push(vtype[j]),
                None => {
                    reps.push(k);
                    vtype.push(k);
                }
            }
        }
        let has_release = visits.iter().any(|v| v.release > 0);
        let complex = vehicles
            .iter()
            .map(|v| {
                has_release
                    || v.break_rule.is_some()
                    || v.max_duration.is_some()
                    || v.cost_per_second != 0
            })
            .collect();
        let mut inst = Inst {
            nv,
            n_loc,
            dur,
            dist,
            dur_into,
            dist_into,
            loc,
            service,
            windows,
            demand: visits.iter().map(|v| v.demand).collect(),
            stream: visits.iter().map(|v| v.stream).collect(),
            skills: visits.iter().map(|v| v.skills).collect(),
            penalty: visits.iter().map(|v| v.penalty).collect(),
            fac_accepts: facs.iter().map(|f| f.accepts.clone()).collect(),
            fac_limit: facs.iter().map(|f| f.intake_limit).collect(),
            facs_for_stream,
            vehicles,
            vtype,
            neighbours: Vec::new(),
            static_reason: Vec::new(),
            depot_dist: Vec::new(),
            near_stop: Vec::new(),
            complex,
            release: visits.iter().map(|v| v.release).collect(),
            timed: Vec::new(),
            has_release,
            vtype_row: Vec::new(),
            elig: Vec::new(),
        };
        let mut rows: Vec<usize> = Vec::new();
        for k in 0..inst.vehicles.len() {
            let t = inst.vtype[k];
            let row = match rows.iter().position(|&r| r == t) {
                Some(i) => i,
                None => {
                    rows.push(t);
                    for v in 0..nv {
                        let e = inst.eligible_slow(k, v);
                        inst.elig.push(e);
                    }
                    rows.len() - 1
                }
            };
            inst.vtype_row.push(row);
        }
        let k = nv.saturating_sub(1).min(100);
        inst.neighbours = (0..nv)
            .map(|a| {
                // Same-stream neighbours only: other streams never share a trip.
                let mut o: Vec<u32> = (0..nv as u32)
                    .filter(|&b| b as usize != a && inst.stream[b as usize] == inst.stream[a])
                    .collect();
                o.sort_by_key(|&b| inst.d(0, inst.loc[a], inst.loc[b as usize]));
                o.truncate(k);
                o
            })
            .collect();
        let s0 = inst.vehicles[0].start;
        inst.depot_dist = (0..nv).map(|v| inst.d(0, s0, inst.loc[v])).collect();
        let mut stops: Vec<usize> = inst
            .vehicles
            .iter()
            .flat_map(|k| [k.start, k.end])
            .chain(facs.iter().map(|f| f.location))
            .collect();
        stops.sort_unstable();
        stops.dedup();
        inst.near_stop = (0..nv)
            .map(|v| {
                let lv = inst.loc[v];
                let vn = &inst.neighbours[v];
                vn.get(GRANULAR.min(vn.len()).saturating_sub(1))
                    .is_none_or(|&w| {
                        let kth = inst.d(0, lv, inst.loc[w as usize]);
                        stops
                            .iter()
                            .any(|&l| inst.d(0, l, lv).min(inst.d(0, lv, l)) <= kth)
                    })
            })
            .collect();
        inst.static_reason = (0..nv).map(|v| inst.reason_for(v)).collect();
        // Time never binds when every window is open and travel plus service over the
        // whole day fits in the shift.
        let open = |w: &[TimeWindow]| w.len() == 1 && w[0].start <= 0 && w[0].end >= i64::MAX / 8;
        let all_open = inst.windows.iter().all(|w| open(w));
        let max_t = inst
            .dur
            .iter()
            .flat_map(|m| m.iter())
            .map(|&x| i64::from(x))
            .max()
            .unwrap_or(0);
        let busy = inst.service.iter().sum::<i64>() as i128
            + (max_t as i128) * (2 * inst.loc.len() as i128 + 2);
        inst.timed = inst
            .vehicles
            .iter()
            .enumerate()
            .map(|(k, v)| {
                !(all_open
                    && !inst.complex[k]
                    && v.shift.start <= 0
                    && (v.shift.end as i128) >= busy)
            })
            .collect();
        inst
    }

    fn reason_for(&self, v: usize) -> Option<UnservedReason> {
        let cert: Vec<&Vehicle> = self
            .vehicles
            .iter()
            .filter(|k| k.certified.contains(&self.stream[v]) && self.skills[v] & !k.skills == 0)
            .collect();
        if cert.is_empty() {
            return Some(UnservedReason::NoCertifiedVehicle);
        }
        let fits: Vec<&&Vehicle> = cert
            .iter()
            .filter(|k| (0..DIMS).all(|d| self.demand[v][d] <= k.capacity[d]))
            .collect();
        if fits.is_empty() {
            return Some(UnservedReason::OverCapacity);
        }
        if self.facs_for_stream[self.stream[v].index()].is_empty()
            && !fits.iter().any(|k| k.unload_at_end)
        {
            return Some(UnservedReason::NoFacility);
        }
        None
    }

    /// Travel time for class `c` between locations.
    #[inline]
    pub fn t(&self, c: usize, a: usize, b: usize) -> i64 {
        i64::from(self.dur[c][a * self.n_loc + b])
    }
    /// Distance for class `c` between locations.
    #[inline]
    pub fn d(&self, c: usize, a: usize, b: usize) -> i64 {
        i64::from(self.dist[c][a * self.n_loc + b])
    }
    /// `t(c, a, b)` read from the transposed copy: fast when `b` is fixed and `a`
    /// varies.
    #[inline]
    fn t_into(&self, c: usize, a: usize, b: usize) -> i64 {
        i64::from(self.dur_into[c][b * self.n_loc + a])
    }
    /// `d(c, a, b)` read from the transposed copy.
    #[inline]
    fn d_into(&self, c: usize, a: usize, b: usize) -> i64 {
        i64::from(self.dist_into[c][b * self.n_loc + a])
    }

    /// Whether vehicle `k` may serve visit `v` (table lookup; the exact evaluation asks
    /// this for every stop of every candidate route).
    #[inline]
    fn eligible(&self, k: usize, v: usize) -> bool {
        self.elig[self.vtype_row[k] * self.nv + v]
    }

    fn eligible_slow(&self, k: usize, v: usize) -> bool {
        let veh = &self.vehicles[k];
        veh.certified.contains(&self.stream[v])
            && self.skills[v] & !veh.skills == 0
            && (0..DIMS).all(|d| self.demand[v][d] <= veh.capacity[d])
    }

    /// Latest release of the trip starting at node `i`.
    fn trip_release(&self, nodes: &[u32], i: usize) -> i64 {
        if !self.has_release {
            return 0;
        }
        nodes[i..]
            .iter()
            .take_while(|&&x| (x as usize) < self.nv)
            .map(|&x| self.release[x as usize])
            .max()
            .unwrap_or(0)
    }

    /// Exact evaluation of a node sequence for vehicle `k` (all route-local rules);
    /// `None` if infeasible. Returns `(cost, distance)`.
    pub fn eval(&self, k: usize, nodes: &[u32]) -> Option<(i64, i64)> {
        self.eval_recording(k, nodes, |_, _, _, _| {})
            .map(|e| (e.cost, e.dist))
    }

    /// [`Self::eval`] that also reports, for each node, the time its service ends,
    /// whether the break is still to be taken (the state an insertion after that node
    /// resumes from) and the travel time and distance of the edge into it.
    fn eval_recording(
        &self,
        k: usize,
        nodes: &[u32],
        mut record: impl FnMut(i64, bool, i64, i64),
    ) -> Option<Schedule> {
        if nodes.is_empty() {
            return Some(Schedule::default());
        }
        let veh = &self.vehicles[k];
        let c = veh.class;
        let nv = self.nv;
        // Loads and trip rules.
        let mut load = [0i64; DIMS];
        let mut stream: Option<Stream> = None;
        let mut day = 0i64;
        let mut count = 0usize;
        for &x in nodes {
            let x = x as usize;
            if x < nv {
                let s = self.stream[x];
                if stream.is_some_and(|t| t != s) || !self.eligible(k, x) {
                    return None;
                }
                stream = Some(s);
                for ((l, q), cap) in load.iter_mut().zip(self.demand[x]).zip(veh.capacity) {
                    *l += q;
                    if *l > cap {
                        return None;
                    }
                }
                count += 1;
            } else {
                let s = stream?;
                if !self.fac_accepts[x - nv].contains(&s) {
                    return None;
                }
                day += load[0];
                load = [0; DIMS];
                stream = None;
            }
        }
        if stream.is_some() && !veh.unload_at_end {
            return None;
        }
        day += load[0];
        if veh.max_day_load.is_some_and(|m| day > m) || veh.max_visits.is_some_and(|m| count > m) {
            return None;
        }
        // Schedule.
        let first = nodes[0] as usize;
        let t0 = self.t(c, veh.start, self.loc[first]);
        let rel0 = self.trip_release(nodes, 0);
        let not_before = veh.shift.start.max(rel0);
        let s_first = start_in(&self.windows[first], not_before + t0)?;
        let depart = not_before.max(s_first - t0);
        let mut time = depart;
        let mut pos = veh.start;
        let mut dist = 0i64;
        let mut need_break = veh.break_rule;
        for (i, &x) in nodes.iter().enumerate() {
            let x = x as usize;
            if self.has_release && x < nv && (i == 0 || nodes[i - 1] as usize >= nv) {
                time = time.max(self.trip_release(nodes, i));
            }
            let l = self.loc[x];
            let tt = self.t(c, pos, l);
            let s = start_in(&self.windows[x], travel(&mut time, tt, &mut need_break)?)?;
            time = s + self.service[x];
            let dd = self.d(c, pos, l);
            dist += dd;
            pos = l;
            record(time, need_break.is_some(), tt, dd);
        }
        let end = travel(&mut time, self.t(c, pos, veh.end), &mut need_break)?;
        dist += self.d(c, pos, veh.end);
        if end > veh.shift.end
            || veh.max_duration.is_some_and(|m| end - depart > m)
            || veh.max_distance.is_some_and(|m| dist > m)
        {
            return None;
        }
        Some(Schedule {
            cost: veh.fixed_cost
                + veh.cost_per_distance * dist
                + veh.cost_per_second * (end - depart),
            dist,
            depart,
            end,
            break_taken: veh.break_rule.is_some() && need_break.is_none(),
        })
    }
}

/// Travels `tt` from `*time`, taking the pending break first when the arrival would
/// pass its window's start; the arrival time, or `None` when the break window is missed.
#[inline]
fn travel(time: &mut i64, tt: i64, need_break: &mut Option<Break>) -> Option<i64> {
    if let Some(b) = *need_break
        && *time + tt > b.window.start
    {
        let bs = (*time).max(b.window.start);
        if bs > b.window.end {
            return None;
        }
        *time = bs + b.duration;
        *need_break = None;
    }
    Some(*time + tt)
}

/// Outcome of an exact evaluation.
#[derive(Clone, Copy, Debug, Default)]
struct Schedule {
    cost: i64,
    dist: i64,
    depart: i64,
    end: i64,
    break_taken: bool,
}

/// Per-trip cache.
#[derive(Clone, Debug, Default)]
pub struct TripInfo {
    /// Load so far.
    pub load: [i64; DIMS],
    /// Stream of its visits.
    pub stream: Option<Stream>,
    /// Facility (None = depot at end).
    pub fac: Option<usize>,
    /// Node index of the first visit.
    pub first: usize,
    /// Node index one past the last visit (the facility node when `fac` is some).
    pub end: usize,
}

/// One route in the search, with caches.
#[derive(Clone, Debug)]
pub struct RouteState {
    /// Vehicle index.
    pub vehicle: usize,
    /// Visits (`< nv`) and facility stops (`nv + f`) in order.
    pub nodes: Vec<u32>,
    /// Trip of each node.
    pub trip_of: Vec<u32>,
    /// Trips.
    pub trips: Vec<TripInfo>,
    early_end: Vec<i64>,
    late_start: Vec<i64>,
    /// Travel time and distance of the edge into node `i` (from the start for 0);
    /// the last entry is the edge to the end.
    edge_in: Vec<(i64, i64)>,
    /// Exact schedule: service end and break-still-due after each node, departure
    /// and return (what an insertion after a node resumes from).
    after: Vec<(i64, bool)>,
    depart: i64,
    end: i64,
    /// Distance.
    pub dist: i64,
    /// Exact cost.
    pub cost: i64,
    day_load: i64,
    n_visits: usize,
    /// Whether the last refresh found the route feasible.
    pub feasible: bool,
}

impl RouteState {
    /// Share of the vehicle's usable time the route takes (0 when time is unbounded).
    pub fn time_share(&self, inst: &Inst) -> f64 {
        let veh = &inst.vehicles[self.vehicle];
        let mut span = veh.shift.end.saturating_sub(veh.shift.start);
        if let Some(m) = veh.max_duration {
            span = span.min(m);
        }
        if span <= 0 || span >= i64::MAX / 4 {
            return 0.0;
        }
        ((self.end - self.depart) as f64 / span as f64).clamp(0.0, 1.0)
    }

    /// Becomes a copy of `src`, reusing this one's buffers. Destructures `src` so a
    /// new field cannot be forgotten here.
    fn copy_from(&mut self, src: &RouteState) {
        let RouteState {
            vehicle,
            nodes,
            trip_of,
            trips,
            early_end,
            late_start,
            edge_in,
            after,
            depart,
            end,
            dist,
            cost,
            day_load,
            n_visits,
            feasible,
        } = src;
        self.vehicle = *vehicle;
        self.nodes.clone_from(nodes);
        self.trip_of.clone_from(trip_of);
        self.trips.clone_from(trips);
        self.early_end.clone_from(early_end);
        self.late_start.clone_from(late_start);
        self.edge_in.clone_from(edge_in);
        self.after.clone_from(after);
        self.depart = *depart;
        self.end = *end;
        self.dist = *dist;
        self.cost = *cost;
        self.day_load = *day_load;
        self.n_visits = *n_visits;
        self.feasible = *feasible;
    }

    fn new(vehicle: usize) -> Self {
        RouteState {
            vehicle,
            nodes: Vec::new(),
            trip_of: Vec::new(),
            trips: Vec::new(),
            early_end: Vec::new(),
            late_start: Vec::new(),
            edge_in: Vec::new(),
            after: Vec::new(),
            depart: 0,
            end: 0,
            dist: 0,
            cost: 0,
            day_load: 0,
            n_visits: 0,
            feasible: true,
        }
    }

    /// Recomputes every cache; returns false if the route is infeasible.
    pub fn refresh(&mut self, inst: &Inst) -> bool {
        let nv = inst.nv;
        let veh = &inst.vehicles[self.vehicle];
        let c = veh.class;
        self.trip_of.clear();
        self.trips.clear();
        self.day_load = 0;
        self.n_visits = 0;
        let mut cur = TripInfo::default();
        for (i, &x) in self.nodes.iter().enumerate() {
            let x = x as usize;
            if cur.stream.is_none() && x < nv {
                cur.first = i;
            }
            self.trip_of.push(self.trips.len() as u32);
            if x < nv {
                cur.stream = Some(inst.stream[x]);
                for d in 0..DIMS {
                    cur.load[d] += inst.demand[x][d];
                }
                self.n_visits += 1;
            } else {
                cur.fac = Some(x - nv);
                cur.end = i;
                self.day_load += cur.load[0];
                self.trips.push(std::mem::take(&mut cur));
            }
        }
        if cur.stream.is_some() {
            cur.end = self.nodes.len();
            self.day_load += cur.load[0];
            self.trips.push(cur);
        }
        let n = self.nodes.len();
        let mut break_taken = false;
        self.after.clear();
        self.edge_in.clear();
        let (after, edge_in) = (&mut self.after, &mut self.edge_in);
        let exact = inst.eval_recording(self.vehicle, &self.nodes, |t, b, et, ed| {
            after.push((t, b));
            edge_in.push((et, ed));
        });
        match exact {
            Some(e) => {
                self.cost = e.cost;
                self.dist = e.dist;
                self.depart = e.depart;
                self.end = e.end;
                break_taken = e.break_taken;
                self.feasible = true;
            }
            None => self.feasible = false,
        }
        if self.edge_in.len() != n {
            self.edge_in.clear();
            let mut prev = veh.start;
            for &x in &self.nodes {
                let l = inst.loc[x as usize];
                self.edge_in.push((inst.t(c, prev, l), inst.d(c, prev, l)));
                prev = l;
            }
        }
        let last = self
            .nodes
            .last()
            .map_or(veh.start, |&x| inst.loc[x as usize]);
        self.edge_in
            .push((inst.t(c, last, veh.end), inst.d(c, last, veh.end)));
        self.early_end.resize(n, 0);
        self.late_start.resize(n, 0);
        if self.feasible {
            // The exact schedule (break, release dates included).
            for (e, a) in self.early_end.iter_mut().zip(&self.after) {
                *e = a.0;
            }
        } else {
            let mut time = veh.shift.start;
            for i in 0..n {
                let x = self.nodes[i] as usize;
                if inst.has_release && x < nv && (i == 0 || self.nodes[i - 1] as usize >= nv) {
                    time = time.max(inst.trip_release(&self.nodes, i));
                }
                let s =
                    start_in(&inst.windows[x], time + self.edge_in[i].0).unwrap_or(i64::MAX / 4);
                time = s + inst.service[x];
                self.early_end[i] = time;
            }
        }
        let mut late = veh.shift.end;
        for i in (0..n).rev() {
            let x = self.nodes[i] as usize;
            let mut bound = late - inst.service[x] - self.edge_in[i + 1].0;
            // The break taken right after this node must fit before the next one too.
            let break_next = self.after.get(i).is_some_and(|a| a.1)
                && self.after.get(i + 1).is_none_or(|a| !a.1);
            if break_taken && break_next {
                bound -= veh.break_rule.map_or(0, |b| b.duration);
            }
            late = latest_in(&inst.windows[x], bound).unwrap_or(i64::MIN / 4);
            self.late_start[i] = late;
        }
        self.feasible
    }
}

/// Spare route copies; a cloned search state starts without any (they are buffers,
/// not state).
#[derive(Debug, Default)]
struct Spare(Vec<RouteState>);

impl Clone for Spare {
    fn clone(&self) -> Self {
        Spare::default()
    }
}

/// A set of route indices for one insertion scan: bits on the stack for fleets up to
/// 256 vehicles (no allocation, no linear search), a vector beyond.
struct RouteSet {
    small: [u64; 4],
    big: Vec<bool>,
}

impl RouteSet {
    fn new(n_routes: usize) -> Self {
        RouteSet {
            small: [0; 4],
            big: if n_routes > 256 {
                vec![false; n_routes]
            } else {
                Vec::new()
            },
        }
    }

    /// Adds `r`; true if it was not in the set.
    fn insert(&mut self, r: usize) -> bool {
        if self.big.is_empty() {
            let (w, b) = (r / 64, 1u64 << (r % 64));
            let new = self.small[w] & b == 0;
            self.small[w] |= b;
            new
        } else {
            !std::mem::replace(&mut self.big[r], true)
        }
    }

    fn contains(&self, r: usize) -> bool {
        if self.big.is_empty() {
            self.small[r / 64] & (1u64 << (r % 64)) != 0
        } else {
            self.big[r]
        }
    }
}

/// A candidate insertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insertion {
    /// Route index.
    pub route: usize,
    /// Node position to insert at.
    pub pos: usize,
    /// Facility node to insert after the visit (opens a new trip).
    pub fac: Option<u32>,
    /// Estimated cost delta.
    pub delta: i64,
}

/// The whole search state: routes (one per vehicle), the removed/unserved visits and
/// facility intake totals.
#[derive(Clone, Debug)]
pub struct SearchState {
    /// Routes, index = vehicle.
    pub routes: Vec<RouteState>,
    /// Visits not in any route.
    pub removed: Vec<u32>,
    /// Route and node position of every visit (`u32::MAX` if not routed).
    pub pos: Vec<(u32, u32)>,
    intake: Vec<i64>,
    journal: Vec<(usize, RouteState)>,
    /// Route copies the journal no longer needs, kept for their buffers.
    spare: Spare,
    /// Routes in use.
    n_used: usize,
    /// First empty route of each vehicle type.
    empty_reps: Vec<usize>,
    journaled: Vec<bool>,
    saved_removed: Vec<u32>,
    saved_intake: Vec<i64>,
    /// Blink rate of the greedy insertion (SISR).
    pub blink: f64,
    /// Whether insertions may open an unused vehicle (off during fleet minimisation).
    pub allow_new_routes: bool,
}

impl SearchState {
    /// An empty plan: every visit removed.
    pub fn new(inst: &Inst) -> Self {
        SearchState {
            routes: (0..inst.vehicles.len()).map(RouteState::new).collect(),
            removed: (0..inst.nv as u32).collect(),
            pos: vec![(u32::MAX, u32::MAX); inst.nv],
            intake: vec![0; inst.fac_limit.len()],
            journal: Vec::new(),
            spare: Spare::default(),
            n_used: 0,
            empty_reps: Self::reps(inst, &vec![true; inst.vehicles.len()]),
            journaled: Vec::new(),
            saved_removed: Vec::new(),
            saved_intake: Vec::new(),
            blink: 0.01,
            allow_new_routes: true,
        }
    }

    /// Objective: route costs + optional penalties + a large weight per unserved
    /// mandatory visit.
    pub fn objective(&self, inst: &Inst) -> i64 {
        let r: i64 = self.routes.iter().map(|r| r.cost).sum();
        r + self
            .removed
            .iter()
            .map(|&v| inst.penalty[v as usize].unwrap_or(UNSERVED_WEIGHT))
            .sum::<i64>()
    }

    /// Mandatory visits not served.
    pub fn unserved_mandatory(&self, inst: &Inst) -> usize {
        self.removed
            .iter()
            .filter(|&&v| inst.penalty[v as usize].is_none())
            .count()
    }

    fn reps(inst: &Inst, empty: &[bool]) -> Vec<usize> {
        let mut seen: Vec<usize> = Vec::new();
        let mut out = Vec::new();
        for (r, &e) in empty.iter().enumerate() {
            if e && !seen.contains(&inst.vtype[r]) {
                seen.push(inst.vtype[r]);
                out.push(r);
            }
        }
        out
    }

    fn refresh_usage(&mut self, inst: &Inst) {
        let empty: Vec<bool> = self.routes.iter().map(|r| r.nodes.is_empty()).collect();
        self.n_used = empty.iter().filter(|e| !**e).count();
        self.empty_reps = Self::reps(inst, &empty);
    }

    fn index_route(&mut self, r: usize) {
        for (i, &x) in self.routes[r].nodes.iter().enumerate() {
            if (x as usize) < self.pos.len() {
                self.pos[x as usize] = (r as u32, i as u32);
            }
        }
    }

    fn intake_of(route: &RouteState, sign: i64, intake: &mut [i64]) {
        for t in &route.trips {
            if let Some(f) = t.fac {
                intake[f] += sign * t.load[0];
            }
        }
    }

    /// One unused route per vehicle type (where a new route would start).
    pub fn empty_routes(&self) -> &[usize] {
        &self.empty_reps
    }

    /// Replaces route `r`'s nodes, keeping caches, positions and intake consistent.
    /// Returns false (and leaves caches as computed) if the new route is infeasible.
    pub fn set_nodes(&mut self, inst: &Inst, r: usize, nodes: Vec<u32>) -> bool {
        self.edit_nodes(inst, r, |n| *n = nodes)
    }

    /// Changes route `r`'s node sequence in place (journaled, caches refreshed);
    /// returns whether the route stays feasible. In place, so a search step's
    /// insertions and the journal's copies reuse their buffers instead of allocating.
    pub fn edit_nodes(&mut self, inst: &Inst, r: usize, edit: impl FnOnce(&mut Vec<u32>)) -> bool {
        if r < self.journaled.len() && !self.journaled[r] {
            self.journaled[r] = true;
            let mut saved = self.spare.0.pop().unwrap_or_else(|| RouteState::new(0));
            saved.copy_from(&self.routes[r]);
            self.journal.push((r, saved));
        }
        Self::intake_of(&self.routes[r], -1, &mut self.intake);
        let was_empty = self.routes[r].nodes.is_empty();
        edit(&mut self.routes[r].nodes);
        let ok = self.routes[r].refresh(inst);
        Self::intake_of(&self.routes[r], 1, &mut self.intake);
        self.index_route(r);
        if was_empty != self.routes[r].nodes.is_empty() {
            self.refresh_usage(inst);
        }
        ok
    }

    /// Removes the visit from its route (dropping a facility stop left with an empty trip).
    pub fn remove_visit(&mut self, inst: &Inst, v: u32) {
        let (r, _) = self.pos[v as usize];
        if r == u32::MAX {
            return;
        }
        let r = r as usize;
        let nv = inst.nv as u32;
        self.edit_nodes(inst, r, |nodes| {
            let i = nodes.iter().position(|&x| x == v).expect("indexed visit");
            nodes.remove(i);
            // An emptied trip loses its facility stop.
            if i < nodes.len() && nodes[i] >= nv && (i == 0 || nodes[i - 1] >= nv) {
                nodes.remove(i);
            }
        });
        self.pos[v as usize] = (u32::MAX, u32::MAX);
        self.removed.push(v);
    }

    /// Removes every routed visit of `vs` (in that order into `removed`), as
    /// [`Self::remove_visit`] one by one would, but refreshes each changed route once:
    /// a string of ten visits out of a long route costs one schedule pass, not ten.
    pub fn remove_visits(&mut self, inst: &Inst, vs: &[u32]) {
        let mut changed: Vec<usize> = Vec::new();
        for &v in vs {
            let r = self.pos[v as usize].0;
            if r == u32::MAX {
                continue;
            }
            if !changed.contains(&(r as usize)) {
                changed.push(r as usize);
            }
            self.pos[v as usize] = (u32::MAX, u32::MAX);
            self.removed.push(v);
        }
        let nv = inst.nv as u32;
        for r in changed {
            let mut nodes: Vec<u32> = Vec::with_capacity(self.routes[r].nodes.len());
            for &x in &self.routes[r].nodes {
                if x < nv {
                    if self.pos[x as usize].0 != u32::MAX {
                        nodes.push(x);
                    }
                } else if nodes.last().is_some_and(|&y| y < nv) {
                    // A facility stop stays only behind a visit: an emptied trip loses it.
                    nodes.push(x);
                }
            }
            self.set_nodes(inst, r, nodes);
        }
    }

    /// Starts recording changes so [`Self::rollback`] can undo them.
    pub fn begin(&mut self) {
        self.spare
            .0
            .extend(self.journal.drain(..).map(|(_, old)| old));
        self.journaled.iter_mut().for_each(|x| *x = false);
        self.journaled.resize(self.routes.len(), false);
        self.saved_removed.clone_from(&self.removed);
        self.saved_intake.clone_from(&self.intake);
    }

    /// Routes changed since [`Self::begin`].
    pub fn touched(&self) -> impl Iterator<Item = usize> + '_ {
        self.journal.iter().map(|(r, _)| *r)
    }

    /// Whether every route changed since [`Self::begin`] is feasible.
    pub fn touched_feasible(&self) -> bool {
        self.journal.iter().all(|(r, _)| self.routes[*r].feasible)
    }

    /// Undoes every change since [`Self::begin`].
    pub fn rollback(&mut self, inst: &Inst) {
        // Drained, not dropped: the journal keeps its buffer for the next step.
        let mut journal = std::mem::take(&mut self.journal);
        // Visits out now lose their place first; a restored route that holds one
        // gives it back. A visit sits in at most one route of the saved plan.
        for &v in &self.removed {
            self.pos[v as usize] = (u32::MAX, u32::MAX);
        }
        let mut usage_changed = false;
        for (r, old) in journal.drain(..) {
            usage_changed |= old.nodes.is_empty() != self.routes[r].nodes.is_empty();
            let undone = std::mem::replace(&mut self.routes[r], old);
            self.spare.0.push(undone);
            self.journaled[r] = false;
            self.index_route(r);
        }
        self.journal = journal;
        std::mem::swap(&mut self.removed, &mut self.saved_removed);
        for &v in &self.removed {
            self.pos[v as usize] = (u32::MAX, u32::MAX);
        }
        std::mem::swap(&mut self.intake, &mut self.saved_intake);
        if usage_changed {
            self.refresh_usage(inst);
        }
    }

    /// Best insertion of visit `v` over all routes (one empty route per vehicle type),
    /// with blinks; `None` if it fits nowhere. Large plans scan the routes of `v`'s
    /// nearest neighbours first and all routes only when those give nothing better
    /// than an unused vehicle.
    pub fn best_insertion(&self, inst: &Inst, v: u32, rng: &mut Rng) -> Option<Insertion> {
        // A granular scan that finds nothing, or only an unused vehicle, may have missed
        // room in a route none of v's neighbours is on: opening a vehicle is too dear
        // a decision to take on a partial scan.
        // A second look also undoes blinks that hid the only places v fits.
        match self.best_insertion_in(inst, v, rng, true) {
            (Some(ins), partial) if !partial || !self.routes[ins.route].nodes.is_empty() => {
                Some(ins)
            }
            _ => self.best_insertion_in(inst, v, rng, false).0,
        }
    }

    fn best_insertion_in(
        &self,
        inst: &Inst,
        v: u32,
        rng: &mut Rng,
        granular: bool,
    ) -> (Option<Insertion>, bool) {
        let mut best: Option<Insertion> = None;
        let mut cands: Vec<Insertion> = Vec::new();
        // Granular: with many routes, only those holding one of the nearest neighbours
        // (plus one empty route per vehicle type) are scanned.
        let mut near: Vec<u32> = Vec::new();
        let mut in_near = RouteSet::new(self.routes.len());
        if granular && self.n_used > 12 {
            for &w in inst.neighbours[v as usize].iter().take(GRANULAR) {
                let r = self.pos[w as usize].0;
                if r != u32::MAX && in_near.insert(r as usize) {
                    near.push(r);
                }
            }
        }
        // With few long routes every route holds some neighbour: scan only the places
        // next to one of v's nearest visits (and the depot and facility ends).
        let mut near_visit: Vec<bool> = Vec::new();
        if granular && near.is_empty() && self.n_used > 0 {
            near_visit = vec![false; inst.nv];
            for &w in inst.neighbours[v as usize].iter().take(GRANULAR) {
                near_visit[w as usize] = true;
            }
        }
        let positional = !near_visit.is_empty();
        let empties: &[usize] = if self.allow_new_routes {
            &self.empty_reps
        } else {
            &[]
        };
        // (route, only the places next to a depot or facility)
        // Sized up front: a filtered iterator's collect grows the buffer step by step.
        let mut scan: Vec<(usize, bool)> = Vec::with_capacity(self.routes.len() + empties.len());
        if near.is_empty() {
            scan.extend(
                (0..self.routes.len())
                    .filter(|&r| !self.routes[r].nodes.is_empty())
                    .chain(empties.iter().copied())
                    .map(|r| (r, false)),
            );
        } else {
            scan.extend(
                near.iter()
                    .map(|&r| (r as usize, false))
                    .chain(empties.iter().map(|&r| (r, false))),
            );
            // Every route passes the depot (and trips end at facilities): a visit near
            // those is near a place in every route, not only in its neighbours'.
            if inst.near_stop[v as usize] {
                scan.extend(
                    (0..self.routes.len())
                        .filter(|&r| !self.routes[r].nodes.is_empty() && !in_near.contains(r))
                        .map(|r| (r, true)),
                );
            }
        }
        let no_visit: &[bool] = &[];
        for (ri, ends_only) in scan {
            let places = if ends_only {
                Some(no_visit)
            } else if positional {
                Some(&near_visit[..])
            } else {
                None
            };
            let route = &self.routes[ri];
            // A route whose trips are all too full for v and which cannot open a trip.
            let vu = v as usize;
            let dem = inst.demand[vu];
            let cap = inst.vehicles[route.vehicle].capacity;
            if !route.trips.is_empty()
                && inst.facs_for_stream[inst.stream[vu].index()].is_empty()
                && route
                    .trips
                    .iter()
                    .all(|t| (0..DIMS).any(|d| t.load[d] + dem[d] > cap[d]))
            {
                continue;
            }
            if !inst.eligible(route.vehicle, v as usize) {
                continue;
            }
            if inst.complex[route.vehicle] {
                self.route_candidates(inst, ri, v, places, true, rng, &mut |ins| cands.push(ins));
            } else {
                self.route_candidates(inst, ri, v, places, true, rng, &mut |ins| {
                    if best.is_none_or(|b| ins.delta < b.delta) {
                        best = Some(ins);
                    }
                });
            }
        }
        // Vehicles with breaks, duration limits, time costs or release dates: verify
        // the most promising estimates exactly, over all routes at once.
        // At most MAX_EXACT are evaluated: only those need sorting.
        if cands.len() > MAX_EXACT {
            cands.select_nth_unstable_by_key(MAX_EXACT, |c| (c.delta, c.route, c.pos));
            cands.truncate(MAX_EXACT);
        }
        cands.sort_unstable_by_key(|c| (c.delta, c.route, c.pos));
        let (mut evals, mut feasible) = (0, 0);
        for cnd in cands {
            if feasible >= 6 || (evals >= 48 && feasible >= 1) || evals >= MAX_EXACT {
                break;
            }
            evals += 1;
            let route = &self.routes[cnd.route];
            let exact = self.eval_insertion(inst, &cnd, v);
            debug_assert_eq!(
                exact,
                inst.eval(route.vehicle, &self.apply_nodes(&cnd, v))
                    .map(|e| e.0),
                "resumed evaluation differs from the full one"
            );
            if let Some(cost) = exact {
                feasible += 1;
                let exact = Insertion {
                    delta: cost - route.cost,
                    ..cnd
                };
                if best.is_none_or(|b| exact.delta < b.delta) {
                    best = Some(exact);
                }
            }
        }
        (best, !near.is_empty() || positional)
    }

    /// Exact cost of route `ins.route` with `v` inserted, `None` if infeasible. Resumes
    /// the route's recorded schedule after the insertion place and stops as soon as the
    /// schedule meets the recorded one again (the rest is then unchanged), walking the
    /// route's cached edges; the same rules as [`Inst::eval`], which it falls back to
    /// where a resumed schedule is not enough (first place, release dates).
    fn eval_insertion(&self, inst: &Inst, ins: &Insertion, v: u32) -> Option<i64> {
        let route = &self.routes[ins.route];
        let p = ins.pos;
        let len = route.nodes.len();
        if p == 0 || inst.has_release || !route.feasible || route.after.len() != len {
            return inst
                .eval(route.vehicle, &self.apply_nodes(ins, v))
                .map(|e| e.0);
        }
        let veh = &inst.vehicles[route.vehicle];
        let c = veh.class;
        let (mut time, due) = route.after[p - 1];
        let mut need_break = veh.break_rule.filter(|_| due);
        let mut pos = inst.loc[route.nodes[p - 1] as usize];
        let mut dd = -route.edge_in[p].1;
        let mut inserted = [v, u32::MAX];
        if let Some(f) = ins.fac {
            inserted[1] = f;
        }
        for &x in inserted.iter().filter(|&&x| x != u32::MAX) {
            let x = x as usize;
            let l = inst.loc[x];
            let arrive = travel(&mut time, inst.t(c, pos, l), &mut need_break)?;
            time = start_in(&inst.windows[x], arrive)? + inst.service[x];
            dd += inst.d(c, pos, l);
            pos = l;
        }
        let mut end = None;
        for j in p..len {
            let x = route.nodes[j] as usize;
            let l = inst.loc[x];
            let tt = if j == p {
                dd += inst.d(c, pos, l);
                inst.t(c, pos, l)
            } else {
                route.edge_in[j].0
            };
            let arrive = travel(&mut time, tt, &mut need_break)?;
            time = start_in(&inst.windows[x], arrive)? + inst.service[x];
            if (time, need_break.is_some()) == route.after[j] {
                end = Some(route.end);
                break;
            }
        }
        let end = match end {
            Some(e) => e,
            None => {
                let tt = if p == len {
                    dd += inst.d(c, pos, veh.end);
                    inst.t(c, pos, veh.end)
                } else {
                    route.edge_in[len].0
                };
                travel(&mut time, tt, &mut need_break)?
            }
        };
        let dist = route.dist + dd;
        if end > veh.shift.end
            || veh.max_duration.is_some_and(|m| end - route.depart > m)
            || veh.max_distance.is_some_and(|m| dist > m)
        {
            return None;
        }
        Some(
            veh.fixed_cost
                + veh.cost_per_distance * dist
                + veh.cost_per_second * (end - route.depart),
        )
    }

    fn apply_nodes(&self, ins: &Insertion, v: u32) -> Vec<u32> {
        let mut nodes = self.routes[ins.route].nodes.clone();
        nodes.insert(ins.pos, v);
        if let Some(f) = ins.fac {
            nodes.insert(ins.pos + 1, f);
        }
        nodes
    }

    /// Applies an insertion found by [`Self::best_insertion`].
    pub fn insert(&mut self, inst: &Inst, ins: &Insertion, v: u32) -> bool {
        if let Some(i) = self.removed.iter().position(|&x| x == v) {
            self.removed.swap_remove(i);
        }
        self.edit_nodes(inst, ins.route, |nodes| {
            nodes.insert(ins.pos, v);
            if let Some(f) = ins.fac {
                nodes.insert(ins.pos + 1, f);
            }
        })
    }

    /// Every insertion estimate for `v` in route `ri` (blinks apply), with or without
    /// the time-window bisection: tests show it drops only places that fail anyway.
    /// Vehicle eligibility is not tested here: [`Self::insert`] refuses an ineligible
    /// route.
    pub fn insertion_estimates(
        &self,
        inst: &Inst,
        ri: usize,
        v: u32,
        bisect: bool,
        rng: &mut Rng,
    ) -> Vec<Insertion> {
        let mut out = Vec::new();
        self.route_candidates(inst, ri, v, None, bisect, rng, &mut |ins| out.push(ins));
        out
    }

    /// Every insertion place for `v` in route `ri` that passes the cheap tests; with
    /// `places`, only those next to a depot or facility stop or to a marked visit.
    #[allow(clippy::too_many_arguments)]
    fn route_candidates(
        &self,
        inst: &Inst,
        ri: usize,
        v: u32,
        places: Option<&[bool]>,
        bisect: bool,
        rng: &mut Rng,
        out: &mut dyn FnMut(Insertion),
    ) {
        let route = &self.routes[ri];
        let veh = &inst.vehicles[route.vehicle];
        let c = veh.class;
        let vu = v as usize;
        let nv = inst.nv;
        let lv = inst.loc[vu];
        let dem = inst.demand[vu];
        let st = inst.stream[vu];
        if veh.max_visits.is_some_and(|m| route.n_visits + 1 > m)
            || veh
                .max_day_load
                .is_some_and(|m| route.day_load + dem[0] > m)
        {
            return;
        }
        let len = route.nodes.len();
        let wv = &inst.windows[vu];
        let sv = inst.service[vu];
        let cpd = veh.cost_per_distance;
        let timed = inst.timed[route.vehicle];
        let cps = veh.cost_per_second;
        // On a feasible route the earliest ends and latest starts only grow along it,
        // so the places where `v` can meet its windows form one range: find its ends
        // by bisection rather than test every place (most fail on long routes).
        let (lo, hi) = if bisect && timed && route.feasible && len > 0 {
            let first = wv.iter().map(|w| w.start).min().unwrap_or(i64::MIN);
            let last = wv.iter().map(|w| w.end).max().unwrap_or(i64::MAX);
            // Place p < len needs v's service to end by the next node's latest start.
            let lo = route.late_start.partition_point(|&l| l < first + sv);
            // Place p > 0 needs v reached from node p - 1 by its last window's end.
            let hi = 1 + route.early_end.partition_point(|&e| e <= last);
            (lo, hi.min(len + 1))
        } else {
            (0, len + 1)
        };
        for p in lo..hi {
            if let Some(near) = places
                && p > 0
                && p < len
            {
                let (a, b) = (route.nodes[p - 1] as usize, route.nodes[p] as usize);
                let kept = |x: usize| x >= nv || near.get(x).copied().unwrap_or(false);
                if !kept(a) && !kept(b) {
                    continue;
                }
            }
            if self.blink > 0.0 && rng.unit() < self.blink {
                continue;
            }
            // The trip this place joins, and whether `v` fits it. On tight capacity most
            // places fail here, so test it before any travel time is read; only a trip
            // boundary (where a new trip may open) goes on without it.
            let trip = if p < len {
                Some(route.trip_of[p] as usize)
            } else if len > 0 && (route.nodes[len - 1] as usize) < nv {
                Some(route.trip_of[len - 1] as usize)
            } else {
                None
            };
            let fits = trip.is_some_and(|t| {
                let ti = &route.trips[t];
                ti.stream == Some(st)
                    && (0..DIMS).all(|d| ti.load[d] + dem[d] <= veh.capacity[d])
                    && ti.fac.is_none_or(|f| {
                        inst.fac_limit[f].is_none_or(|l| self.intake[f] + dem[0] <= l)
                    })
            });
            let boundary = p == 0 || (route.nodes[p - 1] as usize) >= nv;
            if !fits && !boundary {
                continue;
            }
            let (pl, pend) = if p == 0 {
                (veh.start, veh.shift.start)
            } else {
                (
                    inst.loc[route.nodes[p - 1] as usize],
                    route.early_end[p - 1],
                )
            };
            let (nl, nlate) = if p == len {
                (veh.end, veh.shift.end)
            } else {
                (inst.loc[route.nodes[p] as usize], route.late_start[p])
            };
            let t_in = inst.t_into(c, pl, lv);
            let d_in = || inst.d_into(c, pl, lv);
            let vend = if timed {
                let Some(sv_start) = start_in(wv, pend + t_in) else {
                    continue;
                };
                sv_start + sv
            } else {
                0
            };
            let (base_t, base_d) = if len == 0 {
                (inst.t(c, pl, nl), inst.d(c, pl, nl))
            } else {
                route.edge_in[p]
            };
            // Read only where a branch needs them: most places fail a cheaper test.
            let out_t = || inst.t(c, lv, nl);
            let out_d = || inst.d(c, lv, nl);
            // Join the trip at this position. (Spelled out here and in the unload-at-end
            // case below: one shared closure measured 8 % slower on Kim 1051.)
            if fits && (!timed || vend + out_t() <= nlate) {
                let dd = d_in() + out_d() - base_d;
                if veh.max_distance.is_none_or(|m| route.dist + dd <= m) {
                    let dt = t_in + sv + out_t() - base_t;
                    out(Insertion {
                        route: ri,
                        pos: p,
                        fac: None,
                        delta: cpd * dd + cps * dt + if len == 0 { veh.fixed_cost } else { 0 },
                    });
                }
            }
            // Open a new trip at a trip boundary.
            if !boundary {
                continue;
            }
            let fixed = if len == 0 { veh.fixed_cost } else { 0 };
            if p == len && veh.unload_at_end && (!timed || vend + out_t() <= nlate) {
                let dd = d_in() + out_d() - base_d;
                if veh.max_distance.is_none_or(|m| route.dist + dd <= m) {
                    let dt = t_in + sv + out_t() - base_t;
                    out(Insertion {
                        route: ri,
                        pos: p,
                        fac: None,
                        delta: cpd * dd + cps * dt + fixed,
                    });
                }
            }
            for &f in &inst.facs_for_stream[st.index()] {
                if inst.fac_limit[f].is_some_and(|l| self.intake[f] + dem[0] > l) {
                    continue;
                }
                let fu = nv + f;
                let lf = inst.loc[fu];
                if timed {
                    let Some(fs) = start_in(&inst.windows[fu], vend + inst.t(c, lv, lf)) else {
                        continue;
                    };
                    if fs + inst.service[fu] + inst.t(c, lf, nl) > nlate {
                        continue;
                    }
                }
                let dd = d_in() + inst.d(c, lv, lf) + inst.d(c, lf, nl) - base_d;
                if veh.max_distance.is_some_and(|m| route.dist + dd > m) {
                    continue;
                }
                let dt =
                    t_in + sv + inst.t(c, lv, lf) + inst.service[fu] + inst.t(c, lf, nl) - base_t;
                out(Insertion {
                    route: ri,
                    pos: p,
                    fac: Some(fu as u32),
                    delta: cpd * dd + cps * dt + fixed,
                });
            }
        }
    }

    /// Tries every accepting facility for each trip end of route `r`, keeping the
    /// cheapest feasible one (where to empty, not only when).
    pub fn optimise_facilities(&mut self, inst: &Inst, r: usize) {
        let nv = inst.nv;
        let n_trips = self.routes[r].trips.len();
        for t in 0..n_trips {
            let Some(cur) = self.routes[r].trips.get(t).and_then(|x| x.fac) else {
                continue;
            };
            let Some(st) = self.routes[r].trips[t].stream else {
                continue;
            };
            let at = self.routes[r].trips[t].end;
            let load = self.routes[r].trips[t].load[0];
            let options = &inst.facs_for_stream[st.index()];
            if options.len() < 2 {
                continue;
            }
            let mut best = (self.routes[r].cost, cur);
            let mut nodes = self.routes[r].nodes.clone();
            for &f in options {
                if f == cur || inst.fac_limit[f].is_some_and(|l| self.intake[f] + load > l) {
                    continue;
                }
                nodes[at] = (nv + f) as u32;
                if let Some((cost, _)) = inst.eval(self.routes[r].vehicle, &nodes)
                    && cost < best.0
                {
                    best = (cost, f);
                }
            }
            if best.1 != cur {
                nodes[at] = (nv + best.1) as u32;
                self.set_nodes(inst, r, nodes);
            }
        }
    }

    /// Re-inserts every removed visit greedily in `order`; the ones that fit nowhere (or
    /// optional ones not worth their penalty) stay removed.
    pub fn recreate(&mut self, inst: &Inst, order: &[u32], rng: &mut Rng) -> Vec<usize> {
        let mut touched = Vec::new();
        for &v in order {
            if inst.static_reason[v as usize].is_some() {
                continue;
            }
            if let Some(ins) = self.best_insertion(inst, v, rng) {
                if inst.penalty[v as usize].is_some_and(|p| ins.delta >= p) {
                    continue;
                }
                let r = ins.route;
                if self.insert(inst, &ins, v) {
                    touched.push(r);
                } else {
                    // The estimate was optimistic for this vehicle: undo.
                    self.remove_visit(inst, v);
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        touched
    }

    /// Converts to the public [`Solution`] (reasons for left-out visits included).
    pub fn to_solution(&self, inst: &Inst) -> Solution {
        let nv = inst.nv;
        let mut routes = Vec::new();
        for r in &self.routes {
            if r.nodes.is_empty() {
                continue;
            }
            let mut trips = Vec::new();
            let mut cur: Vec<usize> = Vec::new();
            for &x in &r.nodes {
                let x = x as usize;
                if x < nv {
                    cur.push(x);
                } else {
                    let stream = inst.stream[cur[0]];
                    trips.push(Trip {
                        stream,
                        visits: std::mem::take(&mut cur),
                        facility: Some(x - nv),
                    });
                }
            }
            if !cur.is_empty() {
                trips.push(Trip {
                    stream: inst.stream[cur[0]],
                    visits: cur,
                    facility: None,
                });
            }
            routes.push(Route {
                vehicle: r.vehicle,
                trips,
            });
        }
        let mut removed = self.removed.clone();
        removed.sort_unstable();
        let unserved = removed
            .iter()
            .map(|&v| {
                let v = v as usize;
                let reason = inst.static_reason[v].unwrap_or(if inst.penalty[v].is_some() {
                    UnservedReason::NotWorthIt
                } else {
                    UnservedReason::NoFeasibleSlot
                });
                Unserved { visit: v, reason }
            })
            .collect();
        let cost = self.routes.iter().map(|r| r.cost).sum::<i64>()
            + removed
                .iter()
                .filter_map(|&v| inst.penalty[v as usize])
                .sum::<i64>();
        Solution {
            routes,
            unserved,
            cost,
            iterations: 0,
        }
    }
}
