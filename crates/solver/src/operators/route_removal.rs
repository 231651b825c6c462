//! Empties one whole route, so the recreate step can spread its visits over the others
//! (the move that lowers the number of trucks).

use super::Operator;
use crate::rng::Rng;
use crate::search::state::{Inst, SearchState};

/// Removes every visit of one random non-empty route, preferring short routes.
#[derive(Clone, Copy, Debug, Default)]
pub struct RouteRemoval;

impl Operator for RouteRemoval {
    fn name(&self) -> &'static str {
        "route_removal"
    }
    fn ruin(&self, inst: &Inst, state: &mut SearchState, rng: &mut Rng) {
        let used: Vec<usize> = (0..state.routes.len())
            .filter(|&r| !state.routes[r].nodes.is_empty())
            .collect();
        if used.is_empty() {
            return;
        }
        // Of two random routes, empty the shorter (a cheap bias towards small routes).
        let a = used[rng.below(used.len())];
        let b = used[rng.below(used.len())];
        let r = if state.routes[b].nodes.len() < state.routes[a].nodes.len() {
            b
        } else {
            a
        };
        let nv = inst.nv as u32;
        let visits: Vec<u32> = state.routes[r]
            .nodes
            .iter()
            .copied()
            .filter(|&x| x < nv)
            .collect();
        state.remove_visits(inst, &visits);
    }
}
