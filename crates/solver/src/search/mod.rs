//! Ruin-and-recreate search (SISR, Christiaens & Vanden Berghe 2020) with simulated
//! annealing acceptance, run as seeded workers on several threads that meet every
//! [`EPOCH`] iterations: the best plan so far is published and a worker behind it
//! continues from it. Meeting points are counted in iterations, so an iteration-limited
//! run is the same for a seed and a thread count; under a time limit the clock decides
//! how far each worker gets between meetings. Every [`EPOCH`] iterations a
//! [`FleetProbe`] anneals a branch with one truck more and keeps it when it ends cheaper.

pub mod state;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use crate::operators::{self, Operator};
use crate::problem::ProblemData;
use crate::rng::Rng;
use crate::solution::Solution;
use state::{Inst, SearchState, UNSERVED_WEIGHT};

/// When to stop; the first criterion met ends the search. With none set the search
/// does `1000 + 100 × visits` iterations.
#[derive(Clone, Debug, Default)]
pub struct StopCriteria {
    /// Wall-clock budget.
    pub time_limit: Option<Duration>,
    /// Iterations per worker.
    pub max_iterations: Option<u64>,
    /// Iterations per worker without a new best.
    pub max_no_improvement: Option<u64>,
}

/// Search parameters.
#[derive(Clone, Debug)]
pub struct SolveParams {
    /// Seed: the same seed, threads and iteration budget give the same plan. A time
    /// limit also drives the annealing temperature, so timed runs follow machine load.
    pub seed: u64,
    /// Workers (seeds derived from `seed`) that share their best plan every [`EPOCH`]
    /// iterations; the best result wins.
    pub threads: usize,
    /// Stop criteria.
    pub stop: StopCriteria,
    /// Set to true from anywhere to stop early; the best plan so far is returned.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for SolveParams {
    fn default() -> Self {
        SolveParams {
            seed: 1,
            threads: 1,
            stop: StopCriteria::default(),
            cancel: None,
        }
    }
}

/// Progress report, sent on every new overall best.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Best objective so far (without the weight of unserved mandatory visits).
    pub best_cost: i64,
    /// Iteration of the reporting worker.
    pub iteration: u64,
    /// Whether every mandatory visit is served.
    pub feasible: bool,
    /// Mandatory visits not served (the search minimises this first, then the cost).
    pub unserved: usize,
    /// Seconds since the start.
    pub elapsed: f64,
}

/// Solves `pd`. Never fails: visits that cannot be served come back in
/// `Solution::unserved` with a reason.
pub fn solve(
    pd: &ProblemData,
    params: &SolveParams,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Solution {
    let inst = Inst::new(pd);
    let threads = params.threads.max(1);
    let started = Instant::now();
    let global = AtomicI64::new(i64::MAX);
    let mut results: Vec<(i64, Solution)> = if threads == 1 {
        vec![worker(
            &inst,
            params,
            params.seed,
            started,
            &global,
            progress,
            None,
        )]
    } else {
        let shared = Shared {
            barrier: Barrier::new(threads),
            slot: Mutex::new(None),
            stop: AtomicBool::new(false),
        };
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let seed = params
                        .seed
                        .wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    let inst = &inst;
                    let global = &global;
                    let shared = Some((&shared, i));
                    s.spawn(move || worker(inst, params, seed, started, global, progress, shared))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("search worker panicked"))
                .collect()
        })
    };
    let iterations = results.iter().map(|r| r.1.iterations).sum();
    let best = results
        .iter()
        .enumerate()
        .min_by_key(|(i, r)| (r.0, *i))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let mut sol = results.swap_remove(best).1;
    sol.iterations = iterations;
    sol
}

/// Iterations between two meetings of the workers.
pub const EPOCH: u64 = 2000;

/// What the workers share: the best plan published so far (objective, worker, state)
/// and the decision to stop, taken together at a meeting.
struct Shared {
    barrier: Barrier,
    slot: Mutex<Option<(i64, usize, SearchState)>>,
    stop: AtomicBool,
}

#[allow(clippy::too_many_arguments)]
fn worker(
    inst: &Inst,
    params: &SolveParams,
    seed: u64,
    started: Instant,
    global: &AtomicI64,
    progress: &(dyn Fn(&Progress) + Sync),
    shared: Option<(&Shared, usize)>,
) -> (i64, Solution) {
    let mut rng = Rng::new(seed);
    let ops = operators::all();
    let mut state = SearchState::new(inst);
    let mut order: Vec<u32> = state.removed.clone();
    order.sort_by_key(|&v| std::cmp::Reverse(inst.demand[v as usize][0]));
    state.recreate(inst, &order, &mut rng);
    let mut current = state.objective(inst);
    let mut inc = Incumbent {
        obj: current,
        sol: state.to_solution(inst),
        state: shared.map(|_| state.clone()),
        at: 0,
    };
    report(inst, &state, inc.obj, 0, started, global, progress);

    let stop = &params.stop;
    let default_iters = 1000 + 100 * inst.nv as u64;
    let max_iters = match (
        stop.max_iterations,
        stop.time_limit,
        stop.max_no_improvement,
    ) {
        (Some(m), _, _) => Some(m),
        (None, None, None) => Some(default_iters),
        _ => None,
    };
    // Temperatures relative to an average edge of the first plan (scale-free).
    let routed = inst.nv - state.removed.len();
    let used = state.routes.iter().filter(|r| !r.nodes.is_empty()).count();
    // Fixed vehicle costs are left out: they are no edge, and a fleet cost far above
    // any distance (Kim et al.'s vehicles-first objective) would otherwise heat the
    // walk to a random one.
    let route_cost: i64 = state
        .routes
        .iter()
        .filter(|r| !r.nodes.is_empty())
        .map(|r| r.cost - inst.vehicles[r.vehicle].fixed_cost)
        .sum();
    let avg_edge = (route_cost as f64 / (routed + used).max(1) as f64).max(1e-9);
    let (t0, tf) = (0.5 * avg_edge, 0.005 * avg_edge);
    // Fleet probes use the route split's move and its gate.
    let splitter = operators::RouteSplit::default();
    // Vehicles first: when one truck costs more than the whole first plan's distance
    // and time (Kim et al.'s objective), a share of the budget goes to SISR's fleet
    // minimisation before the annealing on distance.
    let min_fixed = inst
        .vehicles
        .iter()
        .map(|v| v.fixed_cost)
        .min()
        .unwrap_or(0);
    let vehicles_first =
        min_fixed > 0 && min_fixed >= route_cost && state.removed.is_empty() && used > 1;
    let mut fleet = if vehicles_first {
        Some(FleetPhase::new(inst.nv, &state))
    } else {
        None
    };
    // Nothing to search when no visit can ever be routed.
    let searchable = (0..inst.nv).any(|v| inst.static_reason[v].is_none());
    let mut iter = 0u64;
    let mut frac = 0.0f64;
    loop {
        let mut want_stop = !searchable
            || params
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed));
        if let Some(m) = max_iters {
            want_stop |= iter >= m;
            frac = iter as f64 / m as f64;
        }
        if let Some(m) = stop.max_no_improvement
            && iter - inc.at >= m
        {
            want_stop = true;
        }
        if let Some(limit) = stop.time_limit
            && iter.is_multiple_of(8)
        {
            let f = started.elapsed().as_secs_f64() / limit.as_secs_f64().max(1e-9);
            want_stop |= f >= 1.0;
            frac = frac.max(f);
        }
        match shared {
            None if want_stop => break,
            Some((sh, id)) if want_stop || (iter > 0 && iter.is_multiple_of(EPOCH)) => {
                // Meeting: publish, wait for all, adopt a better plan, wait again so
                // nobody publishes the next round before everyone has read this one.
                if let Some(bs) = &inc.state {
                    let mut slot = sh.slot.lock().unwrap_or_else(|e| e.into_inner());
                    if slot.as_ref().is_none_or(|s| (inc.obj, id) < (s.0, s.1)) {
                        *slot = Some((inc.obj, id, bs.clone()));
                    }
                }
                if want_stop {
                    sh.stop.store(true, Ordering::SeqCst);
                }
                sh.barrier.wait();
                // Read between the two waits: nobody writes before the second one.
                let stopping = sh.stop.load(Ordering::SeqCst);
                if fleet.is_none() {
                    let slot = sh.slot.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some((obj, _, st)) = slot.as_ref()
                        && *obj < inc.obj
                    {
                        state = st.clone();
                        state.allow_new_routes = true;
                        current = *obj;
                        inc.obj = *obj;
                        inc.sol = state.to_solution(inst);
                        inc.state = Some(state.clone());
                    }
                }
                sh.barrier.wait();
                if stopping {
                    break;
                }
            }
            _ => {}
        }
        if max_iters.is_none() && stop.time_limit.is_none() {
            frac = (iter as f64 / default_iters as f64).min(1.0);
        }
        iter += 1;
        if let Some(fp) = &mut fleet {
            if frac < FLEET_SHARE {
                if fp.step(inst, &mut state, &ops, &mut rng) {
                    let obj = state.objective(inst);
                    if inc.offer(inst, &state, obj, iter) {
                        report(inst, &state, obj, iter, started, global, progress);
                    }
                }
                continue;
            }
            if let Some(fp) = fleet.take() {
                state = fp.finish();
            }
            current = state.objective(inst);
        }
        // The annealing on distance gets its full schedule after the fleet phase.
        let f = if vehicles_first {
            ((frac - FLEET_SHARE) / (1.0 - FLEET_SHARE)).max(0.0)
        } else {
            frac
        };
        let temp = t0 * (tf / t0).powf(f);

        if !vehicles_first
            && iter % PROBE_EVERY == 1
            && !state.empty_routes().is_empty()
            && rng.unit() >= splitter.skip_chance(inst, &state)
        {
            let probe = FleetProbe {
                ops: &ops,
                // Within this epoch and the iteration budget: an iteration-limited run
                // does exactly its iterations.
                steps: PROBE_STEPS
                    .min(EPOCH - iter % EPOCH - 1)
                    .min(max_iters.map_or(u64::MAX, |m| m.saturating_sub(iter))),
                temp,
                deadline: stop.time_limit.map(|l| started + l),
            };
            let at = iter;
            let (kept, steps) = probe.run(inst, &mut state, current, &mut rng, &mut |s, obj, k| {
                if inc.offer(inst, s, obj, at + k) {
                    report(inst, s, obj, at + k, started, global, progress);
                }
            });
            iter += steps;
            if let Some(obj) = kept {
                current = obj;
            }
            continue;
        }
        // A truck that costs more than the whole first plan never pays for itself: moves that
        // open one are left out then.
        if let Some(obj) = anneal_step(
            inst,
            &mut state,
            &ops,
            vehicles_first,
            temp,
            current,
            &mut rng,
        ) {
            current = obj;
            if inc.offer(inst, &state, obj, iter) {
                report(inst, &state, obj, iter, started, global, progress);
            }
        }
    }
    inc.sol.iterations = iter;
    (inc.obj, inc.sol)
}

/// A worker's best plan so far.
struct Incumbent {
    /// Its objective.
    obj: i64,
    /// The plan.
    sol: Solution,
    /// Its search state, kept only when workers share plans.
    state: Option<SearchState>,
    /// Iteration of the worker's last own improvement.
    at: u64,
}

impl Incumbent {
    /// Takes `s` (objective `obj`, found at iteration `at`) when it beats the best so
    /// far; true then.
    fn offer(&mut self, inst: &Inst, s: &SearchState, obj: i64, at: u64) -> bool {
        if obj >= self.obj {
            return false;
        }
        self.obj = obj;
        self.sol = s.to_solution(inst);
        if self.state.is_some() {
            self.state = Some(s.clone());
        }
        self.at = at;
        true
    }
}

/// Iterations between two fleet probes (each skipped with the route split's chance).
const PROBE_EVERY: u64 = EPOCH;

/// Annealing steps on a fleet probe's branch.
const PROBE_STEPS: u64 = 1000;

/// Fleet probe: the annealing seldom pays a truck's depot legs up front, yet with wide
/// time windows the shortest plans often run more trucks than the first plan. A plan
/// with one truck more (a trip's tail moved to an unused vehicle, see
/// [`operators::RouteSplit::split`]) is annealed on a branch for a few hundred steps and
/// kept only when the branch ends below the current plan.
pub struct FleetProbe<'a> {
    /// Ruin operators (with weights) of the branch's annealing.
    pub ops: &'a [(Box<dyn Operator>, f64)],
    /// Annealing steps on the branch.
    pub steps: u64,
    /// Temperature of the branch's annealing.
    pub temp: f64,
    /// The branch stops early at this instant.
    pub deadline: Option<Instant>,
}

impl FleetProbe<'_> {
    /// Probes from `state`, whose objective is `current`. Returns the branch's final
    /// objective when it is kept (`state` then holds the branch; otherwise it is
    /// restored) and the steps run. `on_accept` sees every plan the branch accepts,
    /// with its objective and step.
    pub fn run(
        &self,
        inst: &Inst,
        state: &mut SearchState,
        current: i64,
        rng: &mut Rng,
        on_accept: &mut dyn FnMut(&SearchState, i64, u64),
    ) -> (Option<i64>, u64) {
        let saved = state.clone();
        state.begin();
        let mut ok = operators::RouteSplit::default().split(inst, state, rng);
        if ok {
            ok = recreate_removed(inst, state, rng);
        }
        let mut steps = 0;
        if ok {
            let mut branch = state.objective(inst);
            while steps < self.steps {
                if steps.is_multiple_of(8) && self.deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                steps += 1;
                if let Some(obj) = anneal_step(inst, state, self.ops, false, self.temp, branch, rng)
                {
                    branch = obj;
                    on_accept(state, obj, steps);
                }
            }
            if branch < current {
                return (Some(branch), steps);
            }
        }
        *state = saved;
        (None, steps)
    }
}

/// One ruin-and-recreate step with the annealing acceptance against `current`; the
/// new objective when the result is kept (the state is rolled back otherwise).
fn anneal_step(
    inst: &Inst,
    state: &mut SearchState,
    ops: &[(Box<dyn Operator>, f64)],
    no_new_routes: bool,
    temp: f64,
    current: i64,
    rng: &mut Rng,
) -> Option<i64> {
    state.begin();
    let op = pick_operator(ops, no_new_routes, rng);
    op.ruin(inst, state, rng);
    if !recreate_removed(inst, state, rng) {
        state.rollback(inst);
        return None;
    }
    let obj = state.objective(inst);
    let threshold = current as f64 - temp * rng.unit().max(1e-300).ln();
    if (obj as f64) < threshold {
        Some(obj)
    } else {
        state.rollback(inst);
        None
    }
}

/// Re-inserts the removed visits in one of SISR's orders and picks the facilities of
/// the changed routes; whether every changed route is feasible.
fn recreate_removed(inst: &Inst, state: &mut SearchState, rng: &mut Rng) -> bool {
    let mut removed = state.removed.clone();
    sort_removed(inst, &mut removed, rng);
    let touched = state.recreate(inst, &removed, rng);
    for r in touched {
        state.optimise_facilities(inst, r);
    }
    state.touched_feasible()
}

/// Share of the budget spent on fleet minimisation when vehicles come first.
const FLEET_SHARE: f64 = 0.3;

/// SISR's fleet minimisation (Christiaens & Vanden Berghe 2020, §5): take one route's
/// visits out, forbid new routes, and accept a ruin-and-recreate result when fewer
/// visits are left out, or when the ones left out have been out less often so far
/// (absence counters steer the search to place the hard visits first). When every
/// visit is back in, the plan has one truck less: keep it and empty the next route.
struct FleetPhase {
    absences: Vec<u64>,
    best: SearchState,
}

impl FleetPhase {
    fn new(nv: usize, state: &SearchState) -> Self {
        FleetPhase {
            absences: vec![0; nv],
            best: state.clone(),
        }
    }

    fn absence_sum(&self, state: &SearchState) -> u64 {
        state
            .removed
            .iter()
            .map(|&v| self.absences[v as usize])
            .sum()
    }

    /// One iteration; true when it produced a complete plan with fewer trucks.
    fn step(
        &mut self,
        inst: &Inst,
        state: &mut SearchState,
        ops: &[(Box<dyn Operator>, f64)],
        rng: &mut Rng,
    ) -> bool {
        state.allow_new_routes = false;
        if state.removed.is_empty() {
            // Empty the smaller of two random used routes.
            let used: Vec<usize> = (0..state.routes.len())
                .filter(|&r| !state.routes[r].nodes.is_empty())
                .collect();
            if used.len() <= 1 {
                return false;
            }
            let a = used[rng.below(used.len())];
            let b = used[rng.below(used.len())];
            let r = if state.routes[b].nodes.len() < state.routes[a].nodes.len() {
                b
            } else {
                a
            };
            state.begin();
            let nv = inst.nv as u32;
            let visits: Vec<u32> = state.routes[r]
                .nodes
                .iter()
                .copied()
                .filter(|&x| x < nv)
                .collect();
            state.remove_visits(inst, &visits);
            return false;
        }
        let (n_before, sum_before) = (state.removed.len(), self.absence_sum(state));
        state.begin();
        // Fleet minimisation forbids new routes: moves that need one are left out.
        let op = pick_operator(ops, true, rng);
        let absent = state.removed.clone();
        op.ruin(inst, state, rng);
        let mut ruined: Vec<u32> = state.removed[absent.len()..].to_vec();
        sort_removed(inst, &mut ruined, rng);
        // The visits out longest go first; a bounded number per iteration keeps an
        // iteration as cheap as a plain one when a whole route is out.
        let mut order = absent;
        order.sort_by_key(|&v| std::cmp::Reverse(self.absences[v as usize]));
        order.truncate(ruined.len().max(8));
        order.extend(ruined);
        let touched = state.recreate(inst, &order, rng);
        for r in touched {
            state.optimise_facilities(inst, r);
        }
        let accept = state.touched_feasible()
            && (state.removed.len() < n_before || self.absence_sum(state) < sum_before);
        if !accept {
            state.rollback(inst);
        }
        for &v in &state.removed {
            self.absences[v as usize] += 1;
        }
        if state.removed.is_empty() {
            self.best = state.clone();
            return true;
        }
        false
    }

    /// The plan with the fewest trucks found, new routes allowed again.
    fn finish(self) -> SearchState {
        let mut s = self.best;
        s.allow_new_routes = true;
        s
    }
}

fn report(
    inst: &Inst,
    state: &SearchState,
    obj: i64,
    iteration: u64,
    started: Instant,
    global: &AtomicI64,
    progress: &(dyn Fn(&Progress) + Sync),
) {
    if global.fetch_min(obj, Ordering::Relaxed) > obj {
        let unserved = state.unserved_mandatory(inst);
        progress(&Progress {
            best_cost: obj - unserved as i64 * UNSERVED_WEIGHT,
            iteration,
            feasible: unserved == 0,
            unserved,
            elapsed: started.elapsed().as_secs_f64(),
        });
    }
}

/// Roulette over the operators' weights; `no_new_routes` leaves out the moves that
/// need an unused vehicle.
fn pick_operator<'a>(
    ops: &'a [(Box<dyn Operator>, f64)],
    no_new_routes: bool,
    rng: &mut Rng,
) -> &'a dyn Operator {
    let usable = || {
        ops.iter()
            .filter(|o| !(no_new_routes && o.0.opens_routes()))
    };
    let mut pick = rng.unit() * usable().map(|o| o.1).sum::<f64>();
    for (o, w) in usable() {
        if pick < *w {
            return &**o;
        }
        pick -= w;
    }
    &*ops[0].0
}

/// SISR's recreate orders: random, demand, far from the depot, close to it (4:4:2:1).
fn sort_removed(inst: &Inst, v: &mut [u32], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i + 1));
    }
    let r = rng.below(11);
    if r < 4 {
    } else if r < 8 {
        v.sort_by_key(|&x| std::cmp::Reverse(inst.demand[x as usize][0]));
    } else if r < 10 {
        v.sort_by_key(|&x| std::cmp::Reverse(inst.depot_dist[x as usize]));
    } else {
        v.sort_by_key(|&x| inst.depot_dist[x as usize]);
    }
}
