#!/usr/bin/env python3
"""Peer baselines for issue 4: PyVRP, OR-Tools and VROOM on the public VRP sets.

Solves each given instance once with one tool under one time limit and seed, checks the
returned routes independently against the instance file (coverage, capacity, time
windows, distance recomputed from the coordinates), and prints / appends one CSV row
per instance. Run one solver at a time: the machine has two cores and is shared.

Conventions (see README.md next to this file and the instance README):
  * CVRP X (VRPLIB, EUC_2D): distance = nint(Euclidean), cost is an integer.
  * Solomon / Gehring-Homberger text: real-valued Euclidean; the solvers see
    distances x1000 rounded and travel times x1000 rounded *up* (so any schedule
    feasible for the solver is feasible with real values); the reported cost is the
    real-valued route length recomputed here, 2 decimals. Travel time = distance.
  * VRPLIB VRPTW (Homberger 1000): DIMACS, distances and times truncated to one
    decimal (x10, floor); the reported cost is the DIMACS sum / 10.
  * VRPLIB MTVRPTWR (multi-trip with release dates, reloads at the depot): the same
    DIMACS units, but the reported cost is the DIMACS sum x10 as an integer (the unit of
    the BKS files, e.g. 15006 = 1500.6). A route lists 0 where the truck reloads; a trip
    leaves the depot no earlier than the release time of each client it serves.
    PyVRP and ours only (OR-Tools and VROOM have no reloads here).

Usage:
  run_peers.py --tool pyvrp --time-limit 10 --seed 1 --csv results/x.csv FILE...
"""

from __future__ import annotations

import argparse
import csv
import os
import math
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_BKS = Path("/work/shared/data/instances/bks.tsv")

COLUMNS = [
    "instance", "set", "tool", "version", "time_limit_s", "seed", "threads", "objective",
    "cost", "routes", "wall_s", "feasible", "bks_set", "bks_routes", "bks_cost",
    "gap_pct", "cpu_s", "loadavg_start", "convention", "tool_objective", "note",
]


# --------------------------------------------------------------------------- instances

@dataclass
class Instance:
    """One instance in solver units; node 0 is the depot, 1..n the customers."""

    name: str
    kind: str  # "cvrp_x" | "solomon" | "vrplib_tw" | "mtvrptwr"
    path: Path
    xy: np.ndarray  # (n+1, 2) float
    demand: np.ndarray  # (n+1,) int
    capacity: int
    vehicles: int
    dist: np.ndarray  # (n+1, n+1) int64, cost units
    travel: np.ndarray  # (n+1, n+1) int64, time units (== dist unless stated)
    ready: np.ndarray = field(default=None)  # (n+1,) int64, time units; None = no TW
    due: np.ndarray = field(default=None)
    service: np.ndarray = field(default=None)
    release: np.ndarray = field(default=None)  # (n+1,) time units; mtvrptwr only
    scale: float = 1.0  # solver units per instance unit
    convention: str = ""

    @property
    def n(self) -> int:
        return len(self.demand) - 1

    @property
    def has_tw(self) -> bool:
        return self.ready is not None


def _euclid(xy: np.ndarray) -> np.ndarray:
    d = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((d**2).sum(axis=2))


def read_solomon(path: Path) -> Instance:
    """Solomon / Gehring-Homberger text format."""
    lines = [l.split() for l in path.read_text().splitlines()]
    name = next(l for l in lines if l)[0]
    fleet = None
    rows = []
    for parts in lines:
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            continue
        if not nums:
            continue
        if fleet is None and len(nums) == 2:
            fleet = (int(nums[0]), int(nums[1]))
        elif fleet is not None and len(nums) == 7:
            rows.append(nums)
    if fleet is None or len(rows) < 2:
        raise ValueError(f"{path}: not a Solomon file")
    a = np.array(rows)
    if not np.array_equal(a[:, 0], np.arange(len(a))):
        raise ValueError(f"{path}: customer numbers are not 0..n in order")
    xy = a[:, 1:3]
    e = _euclid(xy)
    s = 1000.0
    return Instance(
        name=name, kind="solomon", path=path, xy=xy,
        demand=a[:, 3].astype(np.int64), capacity=fleet[1], vehicles=fleet[0],
        dist=np.round(e * s).astype(np.int64),
        travel=np.ceil(e * s - 1e-9).astype(np.int64),
        ready=np.round(a[:, 4] * s).astype(np.int64),
        due=np.round(a[:, 5] * s).astype(np.int64),
        service=np.round(a[:, 6] * s).astype(np.int64),
        scale=s,
        convention="real Euclidean; solver sees dist x1000 rounded, time x1000 ceil",
    )


def read_vrplib(path: Path) -> Instance:
    """VRPLIB CVRP (X set, nint) or VRPTW (DIMACS, truncated to 1 decimal)."""
    import vrplib

    inst = vrplib.read_instance(str(path), compute_edge_weights=False)
    xy = np.asarray(inst["node_coord"], dtype=float)
    depots = np.atleast_1d(inst.get("depot", np.array([0])))
    if len(depots) != 1 or int(depots[0]) != 0:
        raise ValueError(f"{path}: expect a single depot listed first")
    e = _euclid(xy)
    demand = np.asarray(inst["demand"], dtype=np.int64)
    n = len(demand) - 1
    if "time_window" in inst:
        s = 10.0
        tw = np.asarray(inst["time_window"], dtype=float)
        svc = inst.get("service_time", 0)
        svc = np.broadcast_to(np.asarray(svc, dtype=float), (n + 1,)).copy()
        svc[0] = 0.0  # depot: no service (DIMACS)
        d = np.floor(e * s + 1e-9).astype(np.int64)
        multi = "vehicles_reload_depot" in inst or "release_time" in inst
        if multi and np.any(np.asarray(inst.get("vehicles_reload_depot", [1])) != 1):
            raise ValueError(f"{path}: reloads only at the one depot are supported")
        release = None
        if multi:
            release = np.floor(np.asarray(inst.get("release_time", np.zeros(n + 1)),
                                          dtype=float) * s + 1e-9).astype(np.int64)
        return Instance(
            name=inst.get("name", path.stem).strip(), path=path, xy=xy,
            kind="mtvrptwr" if multi else "vrplib_tw", release=release,
            demand=demand, capacity=int(inst["capacity"]),
            vehicles=int(inst.get("vehicles", n)), dist=d, travel=d,
            ready=np.floor(tw[:, 0] * s + 1e-9).astype(np.int64),
            due=np.floor(tw[:, 1] * s + 1e-9).astype(np.int64),
            service=np.floor(svc * s + 1e-9).astype(np.int64), scale=s,
            convention=("DIMACS x10 (BKS units), reloads at the depot, release dates" if multi
                        else "DIMACS: distances/times truncated to 1 decimal"),
        )
    d = np.round(e).astype(np.int64)  # nint; no exact .5 ties on integer coordinates
    capacity = int(inst["capacity"])
    kmin = math.ceil(demand.sum() / capacity)
    return Instance(
        name=inst.get("name", path.stem).strip(), kind="cvrp_x", path=path, xy=xy,
        demand=demand, capacity=capacity,
        # The fleet is free in CVRP; 2x the bin-packing bound leaves ample slack.
        vehicles=int(inst.get("vehicles", min(n, 2 * kmin))), dist=d, travel=d,
        scale=1.0, convention="CVRPLIB nint(Euclidean)",
    )


def read_instance(path: Path) -> Instance:
    if path.suffix.lower() == ".vrp":
        return read_vrplib(path)
    return read_solomon(path)


# --------------------------------------------------------------------------- checker

@dataclass
class Checked:
    feasible: bool
    cost: float  # instance units (X: integer; Solomon: real; DIMACS: 1 decimal)
    cost_units: int  # sum of the solver-unit distance matrix
    routes: int
    why: str


def check(inst: Instance, routes: list[list[int]]) -> Checked:
    """Recomputes everything from the routes (customer node ids; 0 = a reload at the
    depot, multi-trip sets only) and the instance."""
    reloads = inst.kind == "mtvrptwr"
    routes = [r for r in routes if (any(r) if reloads else r)]
    why = []
    seen = np.zeros(inst.n + 1, dtype=np.int64)
    for r in routes:
        for v in r:
            if reloads and v == 0:
                continue
            if not 1 <= v <= inst.n:
                why.append(f"bad node {v}")
            else:
                seen[v] += 1
    if (seen[1:] == 0).any():
        why.append(f"{int((seen[1:] == 0).sum())} customers unserved")
    if (seen[1:] > 1).any():
        why.append(f"{int((seen[1:] > 1).sum())} customers served twice")
    if len(routes) > inst.vehicles:
        why.append(f"{len(routes)} routes > {inst.vehicles} vehicles")
    units = 0
    real = 0.0
    e = None
    if inst.kind == "solomon":
        e = _euclid(inst.xy)
    for k, r in enumerate(routes):
        if why and any("bad node" in w for w in why):
            break
        path = [0, *r, 0]
        # Trips: the stretches between depot stops; each starts empty.
        trips, cur = [], []
        for v in path[1:]:
            if v == 0:
                trips.append(cur)
                cur = []
            else:
                cur.append(v)
        for j, trip in enumerate(trips):
            load = int(inst.demand[trip].sum())
            if load > inst.capacity:
                why.append(f"route {k} trip {j}: load {load} > {inst.capacity}")
        units += int(sum(inst.dist[a, b] for a, b in zip(path, path[1:])))
        if e is not None:
            real += float(sum(e[a, b] for a, b in zip(path, path[1:])))
        if inst.has_tw:
            if e is not None:  # real-valued schedule, instance units
                s = inst.scale
                t = inst.ready[0] / s
                for a, b in zip(path, path[1:]):
                    t = t + (inst.service[a] / s if a else 0.0) + e[a, b]
                    t = max(t, inst.ready[b] / s) if b else t
                    if t > inst.due[b] / s + 1e-9:
                        why.append(f"route {k}: late at node {b} ({t:.3f} > {inst.due[b] / s})")
                        break
            else:  # integer DIMACS schedule
                t = int(inst.ready[0])
                trip = 0
                for a, b in zip(path, path[1:]):
                    if a == 0 and inst.release is not None:
                        # A trip leaves once every client it serves has been released.
                        t = max([t, *(int(inst.release[v]) for v in trips[trip])])
                        trip += 1
                    t = t + (int(inst.service[a]) if a else 0) + int(inst.travel[a, b])
                    t = max(t, int(inst.ready[b])) if b else t
                    if t > inst.due[b]:
                        why.append(f"route {k}: late at node {b} ({t} > {inst.due[b]})")
                        break
    if inst.kind == "solomon":
        cost = round(real, 2)
    elif inst.kind == "vrplib_tw":
        cost = round(units / inst.scale, 1)
    else:  # X: nint units; MTVRPTWR: DIMACS x10, the unit its BKS files state
        cost = units
    return Checked(not why, cost, units, len(routes), "; ".join(why[:3]))


# --------------------------------------------------------------------------- BKS

def load_bks(path: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    if not path.exists():
        return out
    with path.open() as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out.setdefault(row["instance"].lower(), []).append(row)
    return out


def pick_bks(rows: list[dict], objective: str) -> dict | None:
    """Same preference as `sortfleet bench`: the distance-only set for a distance
    objective (else what exists), the hierarchical set for a hierarchical one."""
    if not rows:
        return None
    dist = [r for r in rows if "distance" in r["set"] or "dimacs" in r["set"]]
    hier = [r for r in rows if r not in dist and "kim" not in r["set"]]
    pref = (dist + hier) if objective == "distance" else (hier + dist)
    return (pref or rows)[0]


# --------------------------------------------------------------------------- solvers

def _cpu() -> float:
    """CPU seconds of this process, all threads: shows the share a run really got."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


BIG_FIXED = 10**9  # per-vehicle cost for the hierarchical objective (vehicles first)


def solve_pyvrp(inst: Instance, limit: float, seed: int, objective: str):
    import pyvrp
    from pyvrp.stop import MaxRuntime

    fixed = BIG_FIXED if objective == "hierarchical" else 0
    if inst.kind == "cvrp_x":
        # The documented reader with the CVRPLIB rounding; fleet as for the other tools.
        data = pyvrp.read(inst.path, round_func="round")
        vt = data.vehicle_types()[0].replace(num_available=inst.vehicles, fixed_cost=fixed)
        data = data.replace(vehicle_types=[vt])
        if not np.array_equal(np.asarray(data.distance_matrix(0)), inst.dist):
            raise RuntimeError("pyvrp.read distances differ from nint(Euclidean)")
    elif inst.kind == "mtvrptwr":
        # The documented reader knows the reload depots and release times; it scales
        # demands and capacity by 10 too, which changes nothing.
        data = pyvrp.read(inst.path, round_func="dimacs")
        vt = data.vehicle_types()[0].replace(num_available=inst.vehicles, fixed_cost=fixed)
        data = data.replace(vehicle_types=[vt])
        release = [c.release_time for c in data.clients()]
        if (not np.array_equal(np.asarray(data.distance_matrix(0)), inst.dist)
                or not np.array_equal(release, inst.release[1:])):
            raise RuntimeError("pyvrp.read distances or release times differ from ours")
    else:
        # Solomon text is not VRPLIB; DIMACS .vrp is built the same way for one code path.
        locs = [pyvrp.Location(float(x), float(y)) for x, y in inst.xy]
        depots = [pyvrp.Depot(0, tw_early=int(inst.ready[0]), tw_late=int(inst.due[0]))]
        clients = [
            pyvrp.Client(
                i, delivery=[int(inst.demand[i])], service_duration=int(inst.service[i]),
                tw_early=int(inst.ready[i]), tw_late=int(inst.due[i]),
            )
            for i in range(1, inst.n + 1)
        ]
        vt = pyvrp.VehicleType(
            num_available=inst.vehicles, capacity=[inst.capacity], fixed_cost=fixed,
            tw_early=int(inst.ready[0]), tw_late=int(inst.due[0]),
        )
        data = pyvrp.ProblemData(
            locs, clients, depots, [vt], [inst.dist.copy()], [inst.travel.copy()]
        )
    t0, c0 = time.perf_counter(), _cpu()
    res = pyvrp.solve(data, stop=MaxRuntime(limit), seed=seed, display=False)
    timing = (time.perf_counter() - t0, _cpu() - c0)
    best = res.best
    routes = []
    for r in best.routes():
        acts = list(r)[1:-1]  # between the start and end depots; a depot inside = reload
        routes.append([0 if a.is_depot() else data.clients()[a.idx].location for a in acts])
    note = "" if best.is_feasible() else "pyvrp best infeasible"
    return routes, timing, int(res.cost()) if best.is_feasible() else "", 1, note


def _no_reloads(inst: Instance, tool: str) -> None:
    if inst.kind == "mtvrptwr":
        raise SystemExit(f"{inst.path}: {tool} is not set up for reloads and release dates")


def solve_ortools(inst: Instance, limit: float, seed: int, objective: str,
                  first: str | None = None):
    _no_reloads(inst, "OR-Tools")
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    # PATH_CHEAPEST_ARC (the docs' CVRP example) finds no first solution on tight time
    # windows (R101, RC101 at 10 s); parallel cheapest insertion is the VRPTW choice.
    first = first or ("PARALLEL_CHEAPEST_INSERTION" if inst.has_tw else "PATH_CHEAPEST_ARC")

    n1 = inst.n + 1
    manager = pywrapcp.RoutingIndexManager(n1, inst.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    dist_cb = routing.RegisterTransitMatrix(inst.dist.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    if objective == "hierarchical":
        routing.SetFixedCostOfAllVehicles(BIG_FIXED)
    dem_cb = routing.RegisterUnaryTransitVector([int(d) for d in inst.demand])
    routing.AddDimensionWithVehicleCapacity(
        dem_cb, 0, [inst.capacity] * inst.vehicles, True, "Load"
    )
    if inst.has_tw:
        svc = np.where(np.arange(n1) == 0, 0, inst.service)
        tmat = (inst.travel + svc[:, None]).tolist()  # service at the from-node
        time_cb = routing.RegisterTransitMatrix(tmat)
        horizon = int(inst.due[0])
        routing.AddDimension(time_cb, horizon, horizon, False, "Time")
        td = routing.GetDimensionOrDie("Time")
        for i in range(1, n1):
            td.CumulVar(manager.NodeToIndex(i)).SetRange(int(inst.ready[i]), int(inst.due[i]))
        for v in range(inst.vehicles):
            td.CumulVar(routing.Start(v)).SetRange(int(inst.ready[0]), int(inst.due[0]))
            td.CumulVar(routing.End(v)).SetRange(int(inst.ready[0]), int(inst.due[0]))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(limit * 1000))
    t0, c0 = time.perf_counter(), _cpu()
    sol = routing.SolveWithParameters(params)
    timing = (time.perf_counter() - t0, _cpu() - c0)
    if sol is None:
        return None, timing, "", 1, f"first={first}; no solution (status {routing.status()})"
    routes = []
    for v in range(inst.vehicles):
        idx = routing.Start(v)
        r = []
        idx = sol.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            r.append(manager.IndexToNode(idx))
            idx = sol.Value(routing.NextVar(idx))
        routes.append(r)
    return routes, timing, int(sol.ObjectiveValue()), 1, f"first={first}"


def solve_vroom(inst: Instance, limit: float, seed: int, objective: str, threads: int = 2,
                level: int = 5):
    _no_reloads(inst, "VROOM")
    import vroom

    problem = vroom.Input()
    problem.set_durations_matrix("car", inst.travel.astype(np.uint32))
    problem.set_costs_matrix("car", inst.dist.astype(np.uint32))
    fixed = BIG_FIXED if objective == "hierarchical" else 0
    tw = (lambda a, b: vroom.TimeWindow(int(a), int(b))) if inst.has_tw else None
    vehicles = []
    for v in range(inst.vehicles):
        kw = {"time_window": tw(inst.ready[0], inst.due[0])} if tw else {}
        vehicles.append(vroom.Vehicle(
            v, start=0, end=0, capacity=[inst.capacity],
            costs=vroom.VehicleCosts(fixed=fixed), **kw,
        ))
    problem.add_vehicle(vehicles)
    jobs = []
    for i in range(1, inst.n + 1):
        kw = {}
        if tw:
            kw = {"time_windows": [tw(inst.ready[i], inst.due[i])],
                  "default_service": int(inst.service[i])}
        jobs.append(vroom.Job(i, location=i, delivery=[int(inst.demand[i])], **kw))
    problem.add_job(jobs)
    t0, c0 = time.perf_counter(), _cpu()
    sol = problem.solve(exploration_level=level, nb_threads=threads)
    timing = (time.perf_counter() - t0, _cpu() - c0)
    df = sol.routes
    df = df[df["type"] == "job"]
    routes = [list(map(int, g["id"])) for _, g in df.groupby("vehicle_id", sort=True)]
    return routes, timing, int(sol.summary.cost) if hasattr(sol, "summary") else "", threads, \
        f"exploration_level={level}, no time limit"


def _read_sol(text: str) -> list[list[int]]:
    return [[int(x) for x in l.split(":", 1)[1].split()]
            for l in text.splitlines() if l.startswith("Route")]


def solve_sortfleet(inst: Instance, limit: float, seed: int, objective: str, binary: Path,
                    threads: int = 1):
    """Our own solver through its CLI; its `.sol` output goes through the same checker."""
    import subprocess
    import tempfile

    if objective != "distance":
        raise SystemExit("sortfleet bench minimises distance only")
    with tempfile.TemporaryDirectory() as tmp:
        sol = Path(tmp) / "out.sol"
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(
            [str(binary), "bench", "vrp", str(inst.path), "--time-limit", str(limit),
             "--seed", str(seed), "--threads", str(threads), "--solution-out", str(sol)],
            capture_output=True, text=True,
        )
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        if out.returncode != 0 or not sol.exists():
            return None, (wall, cpu), "", threads, f"exit {out.returncode}: {out.stderr.strip()[-200:]}"
        routes = _read_sol(sol.read_text())
    return routes, (wall, cpu), "", threads, out.stdout.strip().replace(",", ";")[-200:]


def tool_version(tool: str, binary: Path | None = None) -> str:
    if tool == "sortfleet":
        # The checkout's HEAD, which need not be what the binary was built from: set
        # SORTFLEET_VERSION to label rows with the binary's own commit.
        if os.environ.get("SORTFLEET_VERSION"):
            return os.environ["SORTFLEET_VERSION"]
        import subprocess
        rev = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        return f"git {rev}"
    from importlib.metadata import version
    return version({"pyvrp": "pyvrp", "ortools": "ortools", "vroom": "pyvroom"}[tool])


# --------------------------------------------------------------------------- main

def check_sol_files(files: list[Path]) -> int:
    """Checks the BKS `.sol` next to each instance: validates the checker's conventions."""
    bad = 0
    for path in files:
        sol = path.with_suffix(".sol")
        inst = read_instance(path)
        routes, stated = [], None
        for line in sol.read_text().splitlines():
            if line.startswith("Route"):
                routes.append([int(x) for x in line.split(":", 1)[1].split()])
            elif line.lower().startswith("cost"):
                stated = float(line.split()[-1])
        c = check(inst, routes)
        ok = c.feasible and stated is not None and abs(c.cost - stated) < 1e-6
        bad += not ok
        print(f"{path.stem}: stated {stated} recomputed {c.cost} routes {c.routes} "
              f"feasible {c.feasible} {c.why} -> {'OK' if ok else 'MISMATCH'}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--tool", required=True, choices=["pyvrp", "ortools", "vroom", "sortfleet"])
    ap.add_argument("--sortfleet-bin", type=Path,
                    default=Path("/work/targets/peers/release/sortfleet"),
                    help="release binary for --tool sortfleet (ours, for the side-by-side)")
    ap.add_argument("--time-limit", type=float, default=10.0,
                    help="seconds (pyvrp, ortools); vroom ignores it (runs to completion)")
    ap.add_argument("--seed", type=int, default=1, help="pyvrp and ours; ortools/vroom are seedless")
    ap.add_argument("--objective", choices=["distance", "hierarchical"], default="distance")
    ap.add_argument("--vroom-threads", type=int, default=2)
    ap.add_argument("--sortfleet-threads", type=int, default=1,
                    help="search threads of ours (2 to match VROOM's two threads)")
    ap.add_argument("--ortools-first", help="FirstSolutionStrategy name (default: "
                    "PATH_CHEAPEST_ARC for CVRP, PARALLEL_CHEAPEST_INSERTION with time windows)")
    ap.add_argument("--bks", type=Path, default=DEFAULT_BKS)
    ap.add_argument("--set", default="", help="label for the set column (default: folder)")
    ap.add_argument("--csv", type=Path, help="append rows here (header written if new)")
    ap.add_argument("--check-sol", action="store_true",
                    help="only run the checker on each file's sibling .sol (BKS routes)")
    args = ap.parse_args(argv)
    if args.check_sol:
        return check_sol_files(args.files)

    bks = load_bks(args.bks)
    version = tool_version(args.tool)
    writer = None
    if args.csv:
        new = not args.csv.exists() or args.csv.stat().st_size == 0
        fh = args.csv.open("a", newline="")
        writer = csv.DictWriter(fh, COLUMNS)
        if new:
            writer.writeheader()
    out = csv.DictWriter(sys.stdout, COLUMNS)
    out.writeheader()
    for path in args.files:
        inst = read_instance(path)
        load = Path("/proc/loadavg").read_text().split()[0]
        if args.tool == "pyvrp":
            routes, timing, tobj, threads, note = solve_pyvrp(inst, args.time_limit, args.seed,
                                                            args.objective)
        elif args.tool == "ortools":
            routes, timing, tobj, threads, note = solve_ortools(
                inst, args.time_limit, args.seed, args.objective, args.ortools_first)
        elif args.tool == "sortfleet":
            routes, timing, tobj, threads, note = solve_sortfleet(
                inst, args.time_limit, args.seed, args.objective, args.sortfleet_bin,
                args.sortfleet_threads)
        else:
            routes, timing, tobj, threads, note = solve_vroom(inst, args.time_limit, args.seed,
                                                            args.objective, args.vroom_threads)
        row = {
            "instance": path.stem, "set": args.set or path.parent.name, "tool": args.tool,
            "version": version,
            "time_limit_s": "" if args.tool == "vroom" else args.time_limit,
            "seed": args.seed if args.tool in ("pyvrp", "sortfleet") else "", "threads": threads,
            "objective": args.objective, "wall_s": f"{timing[0]:.2f}", "cpu_s": f"{timing[1]:.2f}", "loadavg_start": load,
            "convention": inst.convention, "tool_objective": tobj, "note": note,
        }
        if routes is None:
            row.update(feasible=False, cost="", routes="")
        else:
            c = check(inst, routes)
            row.update(feasible=c.feasible, cost=c.cost, routes=c.routes)
            if c.why:
                row["note"] = "; ".join(x for x in (note, c.why) if x)
            # The tool's own distance objective must match ours (solver units).
            if (args.objective == "distance" and tobj != "" and c.feasible
                    and int(tobj) != c.cost_units):
                row["note"] = "; ".join(
                    x for x in (row["note"], f"tool objective {tobj} != recomputed "
                                f"{c.cost_units}") if x)
        b = pick_bks(bks.get(path.stem.lower(), []), args.objective)
        if b:
            row.update(bks_set=b["set"], bks_routes=b["vehicles"], bks_cost=b["cost"])
            if row["cost"] != "" and row["feasible"]:
                row["gap_pct"] = f"{100 * (row['cost'] / float(b['cost']) - 1):.2f}"
        out.writerow(row)
        sys.stdout.flush()
        if writer:
            writer.writerow(row)
            fh.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
