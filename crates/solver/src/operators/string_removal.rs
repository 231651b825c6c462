//! Adjacent string removal (SISR, Christiaens & Vanden Berghe 2020): around a random seed
//! visit, cut short strings (or split strings that keep a middle part) out of several
//! nearby routes, so the recreate step can re-weave neighbouring routes.

use super::{Operator, routed};
use crate::rng::Rng;
use crate::search::state::{Inst, SearchState};

/// SISR ruin with the paper's parameters.
#[derive(Clone, Debug)]
pub struct StringRemoval {
    /// Average number of removed visits (c̄).
    pub avg_removed: f64,
    /// Longest string (L_max).
    pub max_len: f64,
    /// Probability of the split-string variant.
    pub split_rate: f64,
    /// Probability of stopping to grow the preserved part of a split string.
    pub split_depth: f64,
}

impl Default for StringRemoval {
    fn default() -> Self {
        StringRemoval {
            avg_removed: 10.0,
            max_len: 10.0,
            split_rate: 0.5,
            split_depth: 0.01,
        }
    }
}

impl Operator for StringRemoval {
    fn name(&self) -> &'static str {
        "string_removal"
    }
    fn ruin(&self, inst: &Inst, state: &mut SearchState, rng: &mut Rng) {
        let n_routed = inst.nv - state.removed.len();
        if n_routed == 0 {
            return;
        }
        let n_trips: usize = state.routes.iter().map(|r| r.trips.len()).sum();
        let avg_card = n_routed as f64 / n_trips.max(1) as f64;
        let ls_max = self.max_len.min(avg_card);
        let ks_max = (4.0 * self.avg_removed / (1.0 + ls_max) - 1.0).max(1.0);
        let ks = (1.0 + rng.unit() * ks_max).floor() as usize;
        // A random routed visit: rejection sampling, falling back to a full scan.
        let mut seed = None;
        for _ in 0..32 {
            let v = rng.below(inst.nv) as u32;
            if state.pos[v as usize].0 != u32::MAX {
                seed = Some(v);
                break;
            }
        }
        let seed = match seed {
            Some(s) => s,
            None => {
                let pool = routed(state);
                pool[rng.below(pool.len())]
            }
        };
        let mut ruined: Vec<u32> = Vec::new();
        let mut remove: Vec<u32> = Vec::new();
        let cands = std::iter::once(seed).chain(inst.neighbours[seed as usize].iter().copied());
        for c in cands {
            if ruined.len() >= ks {
                break;
            }
            let (r, p) = state.pos[c as usize];
            if r == u32::MAX || ruined.contains(&r) || remove.contains(&c) {
                continue;
            }
            let route = &state.routes[r as usize];
            let p = p as usize;
            let trip = &route.trips[route.trip_of[p] as usize];
            let (first, end) = (trip.first, trip.end);
            let t_len = end - first;
            let l_max = (t_len as f64).min(ls_max).max(1.0);
            let l = ((1.0 + rng.unit() * l_max).floor() as usize).min(t_len);
            if l == t_len || rng.unit() >= self.split_rate {
                // Plain string of length l containing p.
                let lo = first.max((p + 1).saturating_sub(l));
                let hi = p.min(end - l);
                let s = lo + rng.below(hi - lo + 1);
                remove.extend_from_slice(&route.nodes[s..s + l]);
            } else {
                // Split string: l + m consecutive, keep m in the middle.
                let mut m = 1;
                while l + m < t_len && rng.unit() > self.split_depth && rng.unit() < 0.5 {
                    m += 1;
                }
                let total = l + m;
                let lo = first.max((p + 1).saturating_sub(total));
                let hi = p.min(end - total);
                let s = lo + rng.below(hi - lo + 1);
                let keep = s + rng.below(l + 1);
                for i in s..s + total {
                    if i < keep || i >= keep + m {
                        remove.push(route.nodes[i]);
                    }
                }
            }
            ruined.push(r);
        }
        state.remove_visits(inst, &remove);
    }
}
