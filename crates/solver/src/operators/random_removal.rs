//! Removes a few visits drawn uniformly: cheap diversification across the whole plan.

use super::{Operator, routed};
use crate::rng::Rng;
use crate::search::state::{Inst, SearchState};

/// Removes `1..=max` random routed visits.
#[derive(Clone, Debug)]
pub struct RandomRemoval {
    /// Most visits removed at once.
    pub max: usize,
}

impl Default for RandomRemoval {
    fn default() -> Self {
        RandomRemoval { max: 15 }
    }
}

impl Operator for RandomRemoval {
    fn name(&self) -> &'static str {
        "random_removal"
    }
    fn ruin(&self, inst: &Inst, state: &mut SearchState, rng: &mut Rng) {
        let mut pool = routed(state);
        if pool.is_empty() {
            return;
        }
        let k = 1 + rng.below(self.max.min(pool.len()));
        let picked: Vec<u32> = (0..k)
            .map(|_| pool.swap_remove(rng.below(pool.len())))
            .collect();
        state.remove_visits(inst, &picked);
    }
}
