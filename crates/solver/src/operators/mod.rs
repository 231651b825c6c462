//! Ruin operators of the ruin-and-recreate search, one per file behind [`Operator`].
//! [`all`] is the registry the search, the tests and the benchmarks iterate; each entry
//! carries its selection weight.

mod exchange;
mod random_removal;
mod route_removal;
mod route_split;
mod string_removal;
mod tail_swap;

pub use exchange::Exchange;
pub use random_removal::RandomRemoval;
pub use route_removal::RouteRemoval;
pub use route_split::RouteSplit;
pub use string_removal::StringRemoval;
pub use tail_swap::TailSwap;

use crate::rng::Rng;
use crate::search::state::{Inst, SearchState};

/// A move that takes visits out of the plan (into `state.removed`); the search then
/// re-inserts them greedily and accepts or rolls back the result.
pub trait Operator: Send + Sync {
    /// Short stable name (used in benchmarks and logs).
    fn name(&self) -> &'static str;
    /// Removes some visits from their routes.
    fn ruin(&self, inst: &Inst, state: &mut SearchState, rng: &mut Rng);
    /// Whether the move needs an unused vehicle (useless while fleet minimisation
    /// forbids new routes, which then leaves it out).
    fn opens_routes(&self) -> bool {
        false
    }
}

/// Every operator with its selection weight.
pub fn all() -> Vec<(Box<dyn Operator>, f64)> {
    vec![
        (Box::new(StringRemoval::default()), 0.88),
        (Box::new(RandomRemoval::default()), 0.08),
        (Box::new(RouteRemoval), 0.04),
        (Box::new(RouteSplit::default()), 0.25),
        (Box::new(TailSwap::default()), 0.1),
        (Box::new(Exchange::default()), 0.2),
    ]
}

/// Takes out `v` (if routed) and its nearest routed visits, `k` in all: the visits around
/// a spot a move has just changed, for the recreate step to re-weave.
pub(crate) fn remove_nearest(inst: &Inst, state: &mut SearchState, v: u32, k: usize) {
    let near: Vec<u32> = std::iter::once(v)
        .chain(inst.neighbours[v as usize].iter().copied())
        .filter(|&w| state.pos[w as usize].0 != u32::MAX)
        .take(k)
        .collect();
    state.remove_visits(inst, &near);
}

/// Visits currently routed, in route order (used by operators to draw seeds).
pub(crate) fn routed(state: &SearchState) -> Vec<u32> {
    let nv = state.pos.len() as u32;
    state
        .routes
        .iter()
        .flat_map(|r| r.nodes.iter().copied().filter(|&x| x < nv))
        .collect()
}

/// A routed visit drawn uniformly (the seed of a move), `None` when nothing is routed.
pub(crate) fn random_routed(state: &SearchState, rng: &mut Rng) -> Option<u32> {
    let pool = routed(state);
    (!pool.is_empty()).then(|| pool[rng.below(pool.len())])
}
