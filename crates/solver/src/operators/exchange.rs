//! Trades two visits of the same stream between routes, each placed where it costs least
//! in the other's route (SWAP*, Vidal 2022), then takes out a few visits around them
//! for the recreate step. On plans whose trips are full to the last kilo, the greedy
//! recreate puts a removed visit back where it was (its old place is the only room
//! left): loads move between full trips only when two visits trade places at once.

use super::{Operator, random_routed, remove_nearest};
use crate::rng::Rng;
use crate::search::state::{Inst, SearchState};

/// Moves a random visit into the route of one of its three nearest visits of its stream
/// on other routes (looked for among its `near` nearest) and takes back that visit, or
/// (with chance `fit_share`) the visit of its trip that lies closest to the rest of the
/// first trip and leaves both trips within capacity; then removes up to `max_removed`
/// visits nearest each of the two.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Most visits removed around each of the two traded visits.
    pub max_removed: usize,
    /// How many of a visit's nearest visits are looked at for the route it joins.
    pub near: usize,
    /// Chance of taking back the best-fitting visit rather than the near one.
    pub fit_share: f64,
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange {
            max_removed: 3,
            near: 10,
            fit_share: 0.5,
        }
    }
}

/// Inserts `v` at its cheapest feasible place in route `r` (estimates first, the few
/// best verified by the insertion itself); leaves it out when none is found.
fn place_in(inst: &Inst, state: &mut SearchState, v: u32, r: usize, rng: &mut Rng) {
    let mut cands = state.insertion_estimates(inst, r, v, true, rng);
    cands.sort_unstable_by_key(|c| (c.delta, c.pos));
    for ins in cands.iter().take(4) {
        if state.insert(inst, ins, v) {
            return;
        }
        // The estimate was optimistic (breaks, duration): undo and try the next.
        state.remove_visit(inst, v);
    }
}

impl Operator for Exchange {
    fn name(&self) -> &'static str {
        "exchange"
    }
    fn ruin(&self, inst: &Inst, state: &mut SearchState, rng: &mut Rng) {
        let Some(v) = random_routed(state, rng) else {
            return;
        };
        let vu = v as usize;
        let ra = state.pos[vu].0;
        // The route v should join: where one of its nearest visits of its stream is.
        let Some(u) = inst.neighbours[vu]
            .iter()
            .take(self.near)
            .copied()
            .filter(|&u| {
                let r = state.pos[u as usize].0;
                r != u32::MAX && r != ra && inst.stream[u as usize] == inst.stream[vu]
            })
            .nth(rng.below(3))
        else {
            return;
        };
        let (ra, rb) = (ra as usize, state.pos[u as usize].0 as usize);
        let w = if rng.unit() < self.fit_share {
            match best_fit(inst, state, v, u) {
                Some(w) => w,
                None => return,
            }
        } else {
            u
        };
        // Both out first: each then finds the room the other left.
        state.remove_visits(inst, &[v, w]);
        place_in(inst, state, v, rb, rng);
        place_in(inst, state, w, ra, rng);
        let k = rng.below(self.max_removed + 1);
        remove_nearest(inst, state, v, k);
        let k = rng.below(self.max_removed + 1);
        remove_nearest(inst, state, w, k);
    }
}

/// The visit of `u`'s trip to trade for `v`: of the visits of `v`'s stream whose trade
/// keeps both trips within capacity, the one closest to the rest of `v`'s trip.
fn best_fit(inst: &Inst, state: &SearchState, v: u32, u: u32) -> Option<u32> {
    let vu = v as usize;
    let ((ra, i), (rb, j)) = (state.pos[vu], state.pos[u as usize]);
    let (ra, rb, i, j) = (ra as usize, rb as usize, i as usize, j as usize);
    let (a, b) = (&state.routes[ra], &state.routes[rb]);
    let cap = inst.vehicles[a.vehicle].capacity;
    let cap_b = inst.vehicles[b.vehicle].capacity;
    let trip_a = &a.trips[a.trip_of[i] as usize];
    let c = inst.vehicles[a.vehicle].class;
    let nv = inst.nv;
    let trip_b = &b.trips[b.trip_of[j] as usize];
    let dv = inst.demand[vu];
    let mut partner: Option<(i64, u32)> = None;
    for &w in &b.nodes[trip_b.first..trip_b.end] {
        let wu = w as usize;
        if wu >= nv || inst.stream[wu] != inst.stream[vu] {
            continue;
        }
        let dw = inst.demand[wu];
        let fits = (0..dv.len()).all(|d| {
            trip_a.load[d] - dv[d] + dw[d] <= cap[d] && trip_b.load[d] - dw[d] + dv[d] <= cap_b[d]
        });
        if !fits {
            continue;
        }
        let lw = inst.loc[wu];
        let near = a.nodes[trip_a.first..trip_a.end]
            .iter()
            .filter(|&&x| x != v && (x as usize) < nv)
            .map(|&x| inst.d(c, inst.loc[x as usize], lw))
            .min()
            .unwrap_or_else(|| inst.d(c, inst.vehicles[a.vehicle].start, lw));
        if partner.is_none_or(|p| near < p.0) {
            partner = Some((near, w));
        }
    }
    partner.map(|p| p.1)
}
