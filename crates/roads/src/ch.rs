//! A node-based contraction hierarchy over the routing graph (the road graph with junctions
//! split for turn restrictions), with many-to-many bucket queries (as OSRM's table service)
//! and one-to-one queries with path unpacking.
//!
//! Weights are `u64` packed as `weight_ms << 32 | distance_cm`, so comparisons are
//! lexicographic (time, then distance) and sums stay exact; the duration in ms travels
//! alongside. Nodes are renumbered by contraction order (id = rank) for cache locality.

use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// "No path" weight.
pub const INF: u64 = u64::MAX;

/// An arc of the graph to contract.
#[derive(Clone, Copy, Debug)]
pub struct Arc {
    /// Tail node.
    pub tail: u32,
    /// Head node.
    pub head: u32,
    /// Packed weight.
    pub w: u64,
    /// Duration in ms.
    pub dur: u32,
}

/// A search seed: a node with the cost already paid to reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seed {
    /// Node (routing-graph id).
    pub node: u32,
    /// Packed weight so far.
    pub w: u64,
    /// Duration so far in ms.
    pub dur: u64,
}

const NONE: u32 = u32::MAX;

/// One edge of the hierarchy, for unpacking: an original arc or a shortcut of two edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChEdge {
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) tail: u32,
    pub(crate) head: u32,
}

/// The contracted graph.
#[derive(Debug, Default)]
pub struct Ch {
    pub(crate) n: usize,
    pub(crate) rank: Vec<u32>,
    /// Routing-graph id of each rank.
    pub(crate) order: Vec<u32>,
    pub(crate) up_first: Vec<u32>,
    pub(crate) up: Vec<(u32, u64, u32, u32)>,
    pub(crate) dn_first: Vec<u32>,
    pub(crate) dn: Vec<(u32, u64, u32, u32)>,
    pub(crate) edges: Vec<ChEdge>,
}

#[derive(Clone, Copy)]
struct AdjE {
    other: u32,
    w: u64,
    dur: u32,
    id: u32,
}

struct Witness {
    dist: Vec<u64>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Witness {
    fn new(n: usize) -> Self {
        Self {
            dist: vec![INF; n],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }
    fn reset(&mut self) {
        for &t in &self.touched {
            self.dist[t as usize] = INF;
        }
        self.touched.clear();
        self.heap.clear();
    }
    /// Dijkstra from `s` over uncontracted nodes avoiding `skip`, up to `bound` and `limit` settled.
    fn run(&mut self, out: &[Vec<AdjE>], s: u32, skip: u32, bound: u64, limit: usize) {
        self.reset();
        self.dist[s as usize] = 0;
        self.touched.push(s);
        self.heap.push(Reverse((0, s)));
        let mut settled = 0;
        while let Some(Reverse((d, u))) = self.heap.pop() {
            if d > self.dist[u as usize] {
                continue;
            }
            if d > bound || settled >= limit {
                break;
            }
            settled += 1;
            for e in &out[u as usize] {
                if e.other == skip {
                    continue;
                }
                let nd = d + e.w;
                if nd < self.dist[e.other as usize] {
                    if self.dist[e.other as usize] == INF {
                        self.touched.push(e.other);
                    }
                    self.dist[e.other as usize] = nd;
                    self.heap.push(Reverse((nd, e.other)));
                }
            }
        }
    }
}

/// Shortcuts needed to contract `v` (as `(u, x, w, dur, e_in, e_out)`).
fn shortcuts(
    v: u32,
    out: &[Vec<AdjE>],
    inn: &[Vec<AdjE>],
    wit: &mut Witness,
    limit: usize,
    res: &mut Vec<(u32, u32, u64, u32, u32, u32)>,
) {
    res.clear();
    let outs = &out[v as usize];
    if outs.is_empty() {
        return;
    }
    let max_out = outs.iter().map(|e| e.w).max().unwrap_or(0);
    for ein in &inn[v as usize] {
        let u = ein.other;
        let bound = ein.w + max_out;
        wit.run(out, u, v, bound, limit);
        for eo in outs {
            if eo.other == u {
                continue;
            }
            let w = ein.w + eo.w;
            if wit.dist[eo.other as usize] <= w {
                continue;
            }
            res.push((u, eo.other, w, ein.dur + eo.dur, ein.id, eo.id));
        }
    }
}

impl Ch {
    /// Contracts a graph of `n` nodes. Arc `i` becomes hierarchy edge `i` (for unpacking).
    pub fn build(n: usize, arcs: &[Arc]) -> Ch {
        let mut out: Vec<Vec<AdjE>> = vec![Vec::new(); n];
        let mut inn: Vec<Vec<AdjE>> = vec![Vec::new(); n];
        let mut edges: Vec<ChEdge> = Vec::with_capacity(arcs.len() * 2);
        for (i, a) in arcs.iter().enumerate() {
            edges.push(ChEdge {
                a: i as u32,
                b: NONE,
                tail: a.tail,
                head: a.head,
            });
            if a.tail == a.head {
                continue;
            }
            // Keep only the lightest of parallel arcs.
            if let Some(e) = out[a.tail as usize].iter_mut().find(|e| e.other == a.head) {
                if e.w <= a.w {
                    continue;
                }
                *e = AdjE {
                    other: a.head,
                    w: a.w,
                    dur: a.dur,
                    id: i as u32,
                };
                let f = inn[a.head as usize]
                    .iter_mut()
                    .find(|e| e.other == a.tail)
                    .expect("mirror");
                *f = AdjE {
                    other: a.tail,
                    w: a.w,
                    dur: a.dur,
                    id: i as u32,
                };
                continue;
            }
            out[a.tail as usize].push(AdjE {
                other: a.head,
                w: a.w,
                dur: a.dur,
                id: i as u32,
            });
            inn[a.head as usize].push(AdjE {
                other: a.tail,
                w: a.w,
                dur: a.dur,
                id: i as u32,
            });
        }
        let mut wit = Witness::new(n);
        let mut sc = Vec::new();
        let mut deleted_nb = vec![0i32; n];
        let mut contracted = vec![false; n];
        let limit_sim = 60;
        let limit_real = 400;
        let prio = |v: u32,
                    out: &[Vec<AdjE>],
                    inn: &[Vec<AdjE>],
                    wit: &mut Witness,
                    sc: &mut Vec<_>,
                    dn: &[i32]|
         -> i32 {
            shortcuts(v, out, inn, wit, limit_sim, sc);
            let removed = (out[v as usize].len() + inn[v as usize].len()) as i32;
            2 * sc.len() as i32 - removed + dn[v as usize]
        };
        let mut heap: BinaryHeap<Reverse<(i32, u32)>> = BinaryHeap::with_capacity(n);
        for v in 0..n as u32 {
            let p = prio(v, &out, &inn, &mut wit, &mut sc, &deleted_nb);
            heap.push(Reverse((p, v)));
        }
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut up_lists: Vec<Vec<AdjE>> = vec![Vec::new(); n];
        let mut dn_lists: Vec<Vec<AdjE>> = vec![Vec::new(); n];
        let mut cur_prio = vec![i32::MIN; n];
        while let Some(Reverse((p, v))) = heap.pop() {
            if contracted[v as usize] {
                continue;
            }
            if cur_prio[v as usize] != i32::MIN && p != cur_prio[v as usize] {
                continue;
            }
            // Lazy update: recompute, reinsert when no longer the minimum.
            let np = prio(v, &out, &inn, &mut wit, &mut sc, &deleted_nb);
            if let Some(Reverse((top, _))) = heap.peek()
                && np > *top
            {
                cur_prio[v as usize] = np;
                heap.push(Reverse((np, v)));
                continue;
            }
            contracted[v as usize] = true;
            order.push(v);
            shortcuts(v, &out, &inn, &mut wit, limit_real, &mut sc);
            let new_sc = std::mem::take(&mut sc);
            for &(u, x, w, dur, e1, e2) in &new_sc {
                let id = edges.len() as u32;
                if let Some(e) = out[u as usize].iter_mut().find(|e| e.other == x) {
                    if e.w <= w {
                        continue;
                    }
                    *e = AdjE {
                        other: x,
                        w,
                        dur,
                        id,
                    };
                    let f = inn[x as usize]
                        .iter_mut()
                        .find(|e| e.other == u)
                        .expect("mirror");
                    *f = AdjE {
                        other: u,
                        w,
                        dur,
                        id,
                    };
                } else {
                    out[u as usize].push(AdjE {
                        other: x,
                        w,
                        dur,
                        id,
                    });
                    inn[x as usize].push(AdjE {
                        other: u,
                        w,
                        dur,
                        id,
                    });
                }
                edges.push(ChEdge {
                    a: e1,
                    b: e2,
                    tail: u,
                    head: x,
                });
            }
            sc = new_sc;
            let my_out = std::mem::take(&mut out[v as usize]);
            let my_in = std::mem::take(&mut inn[v as usize]);
            let mut neighbours: Vec<u32> = Vec::new();
            for e in &my_out {
                inn[e.other as usize].retain(|f| f.other != v);
                neighbours.push(e.other);
            }
            for e in &my_in {
                out[e.other as usize].retain(|f| f.other != v);
                neighbours.push(e.other);
            }
            neighbours.sort_unstable();
            neighbours.dedup();
            for &nb in &neighbours {
                deleted_nb[nb as usize] += 1;
                let p = prio(nb, &out, &inn, &mut wit, &mut sc, &deleted_nb);
                cur_prio[nb as usize] = p;
                heap.push(Reverse((p, nb)));
            }
            up_lists[v as usize] = my_out;
            dn_lists[v as usize] = my_in;
        }
        let mut rank = vec![0u32; n];
        for (r, &v) in order.iter().enumerate() {
            rank[v as usize] = r as u32;
        }
        let mut ch = Ch {
            n,
            rank,
            order: order.clone(),
            ..Default::default()
        };
        ch.up_first.push(0);
        ch.dn_first.push(0);
        for &v in &order {
            for e in &up_lists[v as usize] {
                ch.up.push((ch.rank[e.other as usize], e.w, e.dur, e.id));
            }
            ch.up_first.push(ch.up.len() as u32);
            for e in &dn_lists[v as usize] {
                ch.dn.push((ch.rank[e.other as usize], e.w, e.dur, e.id));
            }
            ch.dn_first.push(ch.dn.len() as u32);
        }
        ch.edges = edges;
        ch
    }

    /// Unpacks a hierarchy edge into original arc ids, in order.
    pub(crate) fn unpack(&self, e: u32, out: &mut Vec<u32>) {
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            let ce = self.edges[e as usize];
            if ce.b == NONE {
                out.push(ce.a);
            } else {
                stack.push(ce.b);
                stack.push(ce.a);
            }
        }
    }
}

/// Reusable upward-search state.
pub(crate) struct Search {
    dist: Vec<u64>,
    dur: Vec<u64>,
    parent: Vec<u32>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    /// Settled, non-stalled nodes as `(node, w, dur)`.
    pub(crate) settled: Vec<(u32, u64, u64)>,
}

impl Search {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            dist: vec![INF; n],
            dur: vec![0; n],
            parent: vec![NONE; n],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
            settled: Vec::new(),
        }
    }

    fn reset(&mut self) {
        for &t in &self.touched {
            self.dist[t as usize] = INF;
            self.parent[t as usize] = NONE;
        }
        self.touched.clear();
        self.heap.clear();
        self.settled.clear();
    }

    /// Upward search from seeds (routing-graph ids). `forward` uses the up graph and stalls
    /// with the down graph; the backward search does the reverse.
    pub(crate) fn run(&mut self, ch: &Ch, seeds: &[Seed], forward: bool) {
        self.reset();
        for s in seeds {
            let r = ch.rank[s.node as usize];
            if s.w < self.dist[r as usize] {
                if self.dist[r as usize] == INF {
                    self.touched.push(r);
                }
                self.dist[r as usize] = s.w;
                self.dur[r as usize] = s.dur;
                self.heap.push(Reverse((s.w, r)));
            }
        }
        let (first, adj, sfirst, sadj) = if forward {
            (&ch.up_first, &ch.up, &ch.dn_first, &ch.dn)
        } else {
            (&ch.dn_first, &ch.dn, &ch.up_first, &ch.up)
        };
        while let Some(Reverse((d, u))) = self.heap.pop() {
            if d > self.dist[u as usize] {
                continue;
            }
            // Stall on demand: a higher node reaches u more cheaply.
            let (a, b) = (sfirst[u as usize] as usize, sfirst[u as usize + 1] as usize);
            if sadj[a..b].iter().any(|&(x, w, _, _)| {
                let dx = self.dist[x as usize];
                dx != INF && dx + w < d
            }) {
                continue;
            }
            let du = self.dur[u as usize];
            self.settled.push((u, d, du));
            let (a, b) = (first[u as usize] as usize, first[u as usize + 1] as usize);
            for &(x, w, dur, id) in &adj[a..b] {
                let nd = d + w;
                if nd < self.dist[x as usize] {
                    if self.dist[x as usize] == INF {
                        self.touched.push(x);
                    }
                    self.dist[x as usize] = nd;
                    self.dur[x as usize] = du + dur as u64;
                    self.parent[x as usize] = id;
                    self.heap.push(Reverse((nd, x)));
                }
            }
        }
    }
}

impl Ch {
    /// Many-to-many (bucket algorithm): `(w, dur_ms)` per pair, row-major; `(INF, 0)` when
    /// unreachable. Both phases run in parallel with rayon.
    pub fn many_to_many(&self, sources: &[Vec<Seed>], targets: &[Vec<Seed>]) -> Vec<(u64, u64)> {
        let n = self.n;
        let back: Vec<Vec<(u32, u64, u64)>> = targets
            .par_iter()
            .map_init(
                || Search::new(n),
                |s, seeds| {
                    s.run(self, seeds, false);
                    s.settled.clone()
                },
            )
            .collect();
        // Buckets in CSR by node.
        let mut count = vec![0u32; n + 1];
        for sp in &back {
            for &(u, _, _) in sp {
                count[u as usize + 1] += 1;
            }
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let total = count[n] as usize;
        let mut buckets: Vec<(u32, u64, u64)> = vec![(0, 0, 0); total];
        for (t, sp) in back.iter().enumerate() {
            for &(u, w, dur) in sp {
                let p = &mut fill[u as usize];
                buckets[*p as usize] = (t as u32, w, dur);
                *p += 1;
            }
        }
        let nt = targets.len();
        let mut res = vec![(INF, 0u64); sources.len() * nt];
        res.par_chunks_mut(nt.max(1))
            .zip(sources.par_iter())
            .for_each_init(
                || Search::new(n),
                |s, (row, seeds)| {
                    if nt == 0 {
                        return;
                    }
                    s.run(self, seeds, true);
                    for &(u, w, dur) in &s.settled {
                        let (a, b) = (count[u as usize] as usize, count[u as usize + 1] as usize);
                        for &(t, wt, dt) in &buckets[a..b] {
                            let c = w + wt;
                            let cell = &mut row[t as usize];
                            if c < cell.0 {
                                *cell = (c, dur + dt);
                            }
                        }
                    }
                },
            );
        res
    }

    /// One-to-one query: `(w, dur, source seed node, target seed node, original arcs in order)`.
    pub(crate) fn route(
        &self,
        fw: &mut Search,
        bw: &mut Search,
        sources: &[Seed],
        targets: &[Seed],
    ) -> Option<(u64, u64, u32, u32, Vec<u32>)> {
        fw.run(self, sources, true);
        bw.run(self, targets, false);
        let mut best = (INF, 0, NONE);
        for &(u, w, dur) in &bw.settled {
            let fd = fw.dist[u as usize];
            if fd != INF {
                // fw.dist may be a stalled tentative value; only settled ones are sound, so
                // check membership by recomputing below.
                let c = fd + w;
                if c < best.0 {
                    best = (c, fw.dur[u as usize] + dur, u);
                }
            }
        }
        if best.2 == NONE {
            return None;
        }
        let meet = best.2;
        // Walk parents to the seeds.
        let mut fpath = Vec::new();
        let mut u = meet;
        while fw.parent[u as usize] != NONE {
            let e = fw.parent[u as usize];
            fpath.push(e);
            u = self.edge_tail_rank(e, true);
        }
        let src_rank = u;
        fpath.reverse();
        let mut bpath = Vec::new();
        let mut u = meet;
        while bw.parent[u as usize] != NONE {
            let e = bw.parent[u as usize];
            bpath.push(e);
            u = self.edge_tail_rank(e, false);
        }
        let tgt_rank = u;
        let mut arcs = Vec::new();
        for e in fpath.into_iter().chain(bpath) {
            self.unpack(e, &mut arcs);
        }
        Some((
            best.0,
            best.1,
            self.order[src_rank as usize],
            self.order[tgt_rank as usize],
            arcs,
        ))
    }

    /// The rank of the node a parent edge was relaxed from.
    fn edge_tail_rank(&self, e: u32, forward: bool) -> u32 {
        let ce = self.edges[e as usize];
        self.rank[if forward { ce.tail } else { ce.head } as usize]
    }
}
