//! Splits a long trip in two: its tail becomes the first trip of an unused vehicle, and
//! the visits around the cut are taken out for the recreate step to re-weave. Greedy
//! insertion opens a vehicle only when one visit alone pays for it, so without this move
//! the search keeps the fleet of its first plan; with wide time windows the shortest
//! plans often use more vehicles than the fewest possible (R2, RC2 classes).

use super::{Operator, remove_nearest};
use crate::DIMS;
use crate::rng::Rng;
use crate::search::state::{Inst, SearchState};

/// Moves the tail of a random trip to an unused vehicle, then removes up to
/// `max_removed` of the cut's nearest visits. The search's fleet probe uses the same
/// move ([`RouteSplit::split`]) and gate ([`RouteSplit::skip_chance`]).
#[derive(Clone, Debug)]
pub struct RouteSplit {
    /// Most visits removed around the cut.
    pub max_removed: usize,
}

impl Default for RouteSplit {
    fn default() -> Self {
        RouteSplit { max_removed: 10 }
    }
}

impl Operator for RouteSplit {
    fn name(&self) -> &'static str {
        "route_split"
    }
    fn opens_routes(&self) -> bool {
        true
    }
    fn ruin(&self, inst: &Inst, state: &mut SearchState, rng: &mut Rng) {
        if !state.allow_new_routes {
            return;
        }
        if rng.unit() < self.skip_chance(inst, state) {
            return;
        }
        self.split(inst, state, rng);
    }
}

impl RouteSplit {
    /// How often the move is skipped on this plan: the plan's mean over trips of load
    /// share times the route's idle share of its usable time.
    pub fn skip_chance(&self, inst: &Inst, state: &SearchState) -> f64 {
        // Where trucks leave full but early (capacity decides the fleet, as in CVRP) a
        // split rarely pays; where the day is full (time windows decide) it often does.
        state
            .routes
            .iter()
            .flat_map(|route| {
                let cap = inst.vehicles[route.vehicle].capacity;
                let idle = 1.0 - route.time_share(inst);
                route.trips.iter().map(move |t| {
                    idle * (0..DIMS)
                        .filter(|&d| cap[d] > 0)
                        .map(|d| t.load[d] as f64 / cap[d] as f64)
                        .fold(0.0, f64::max)
                })
            })
            .sum::<f64>()
            / state
                .routes
                .iter()
                .map(|r| r.trips.len())
                .sum::<usize>()
                .max(1) as f64
    }

    /// The move without its gate: moves a random trip's tail to an unused vehicle and
    /// takes out visits around the cut; false when no trip can be split.
    pub fn split(&self, inst: &Inst, state: &mut SearchState, rng: &mut Rng) -> bool {
        if !state.allow_new_routes {
            return false;
        }
        let nv = inst.nv as u32;
        let trips: Vec<(usize, usize, usize)> = state
            .routes
            .iter()
            .enumerate()
            .flat_map(|(r, route)| {
                route
                    .trips
                    .iter()
                    .filter(|t| t.end - t.first >= 4)
                    .map(move |t| (r, t.first, t.end))
            })
            .collect();
        if trips.is_empty() {
            return false;
        }
        let (r, first, end) = trips[rng.below(trips.len())];
        let nodes = &state.routes[r].nodes;
        // Both parts keep at least two visits.
        let cut = first + 2 + rng.below(end - first - 3);
        let around = nodes[cut];
        let fac = nodes.get(end).copied().filter(|&x| x >= nv);
        let mut moved: Vec<u32> = nodes[cut..end].to_vec();
        moved.extend(fac);
        let mut head: Vec<u32> = nodes[..cut].to_vec();
        // The head's trip keeps its facility stop; the trips after it stay.
        head.extend_from_slice(&nodes[end..]);
        let Some(target) = state
            .empty_routes()
            .iter()
            .copied()
            .find(|&e| inst.eval(e, &moved).is_some())
        else {
            return false;
        };
        if inst.eval(state.routes[r].vehicle, &head).is_none() {
            return false;
        }
        state.set_nodes(inst, r, head);
        state.set_nodes(inst, target, moved);
        let k = 1 + rng.below(self.max_removed);
        remove_nearest(inst, state, around, k);
        true
    }
}
