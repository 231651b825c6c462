//! Exchanges the tails of two routes where they pass near each other (2-opt*), then
//! takes out a few visits around the new joints for the recreate step. String removal
//! re-weaves short pieces; with wide time windows the routes are long and the better
//! plan often joins the first half of one truck's day to the second half of another's,
//! a change no handful of single insertions reaches.

use super::{Operator, random_routed, remove_nearest};
use crate::rng::Rng;
use crate::search::state::{Inst, SearchState};

/// Joins a random visit to one of the three nearest visits of its stream on other
/// routes (looked for among its `near` nearest) and swaps what follows (the rest of the
/// day, later trips included), then removes up to `max_removed` visits nearest the joint.
#[derive(Clone, Debug)]
pub struct TailSwap {
    /// Most visits removed around the joint.
    pub max_removed: usize,
    /// How many of a visit's nearest visits are tried as the other end of the joint.
    pub near: usize,
}

impl Default for TailSwap {
    fn default() -> Self {
        TailSwap {
            max_removed: 6,
            near: 10,
        }
    }
}

/// Drops facility stops that would close an empty trip (at the start, or straight
/// after another facility stop).
fn drop_empty_trips(nodes: &mut Vec<u32>, nv: u32) {
    let mut prev_fac = true;
    nodes.retain(|&x| {
        let fac = x >= nv;
        let keep = !(fac && prev_fac);
        if keep {
            prev_fac = fac;
        }
        keep
    });
}

impl Operator for TailSwap {
    fn name(&self) -> &'static str {
        "tail_swap"
    }
    fn ruin(&self, inst: &Inst, state: &mut SearchState, rng: &mut Rng) {
        let Some(v) = random_routed(state, rng) else {
            return;
        };
        let (r1, i) = state.pos[v as usize];
        // The other end: a near visit of the same stream on another route, so the
        // joined trips keep one stream each.
        let Some(w) = inst.neighbours[v as usize]
            .iter()
            .take(self.near)
            .copied()
            .filter(|&w| {
                let (r, _) = state.pos[w as usize];
                r != u32::MAX && r != r1 && inst.stream[w as usize] == inst.stream[v as usize]
            })
            .nth(rng.below(3))
        else {
            return;
        };
        let (r2, j) = state.pos[w as usize];
        let (r1, r2, i, j) = (r1 as usize, r2 as usize, i as usize, j as usize);
        let nv = inst.nv as u32;
        let a = &state.routes[r1].nodes;
        let b = &state.routes[r2].nodes;
        // v then w's tail; w's head then v's tail, or the mirror (w's head, then v
        // and its tail; v's head then w's tail after w).
        let (mut n1, mut n2): (Vec<u32>, Vec<u32>) = if rng.unit() < 0.5 {
            (
                a[..=i].iter().chain(&b[j..]).copied().collect(),
                b[..j].iter().chain(&a[i + 1..]).copied().collect(),
            )
        } else {
            (
                a[..i].iter().chain(&b[j + 1..]).copied().collect(),
                b[..=j].iter().chain(&a[i..]).copied().collect(),
            )
        };
        drop_empty_trips(&mut n1, nv);
        drop_empty_trips(&mut n2, nv);
        if inst.eval(state.routes[r1].vehicle, &n1).is_none()
            || inst.eval(state.routes[r2].vehicle, &n2).is_none()
        {
            return;
        }
        state.set_nodes(inst, r1, n1);
        state.set_nodes(inst, r2, n2);
        let k = rng.below(self.max_removed + 1);
        remove_nearest(inst, state, v, k);
    }
}
