#!/usr/bin/env python3
"""Markdown tables from results/*.csv: one line per instance, gap to BKS per tool/budget.

A cell is `gap % (routes)`; `cpu/wall` is the mean share of a core each run really got
(the machine is shared with builds). Usage: tables.py [results/*.csv], or
`tables.py --by-set FILES` for one side-by-side table per `set` over the distance-objective
rows of all FILES (peers and ours together), or `tables.py --seeds FILES` for per-seed gaps
and their median per tool and budget (the equal-load runs of `run_paired.sh`), or
`tables.py --classes FILES` for whole-set runs: per instance class (C1, R2, rc1, ...) the
mean gap of PyVRP and of each version of ours, and how often ours is lower / equal / higher,
or `tables.py --against TOOL FILES` for the bar "strictly better on every instance": each
budget and seed of ours against each budget of TOOL (ortools or vroom, the seedless peers)
on the instances both ran: how often ours is cheaper, equal (costs to the cent; e.g. both
at the optimum) or dearer, naming every instance where ours is dearer.
"""

import csv
import sys
from collections import OrderedDict
from pathlib import Path


def label(row: dict) -> str:
    if row["tool"] == "vroom":
        return "VROOM"
    name = {"pyvrp": "PyVRP", "ortools": "OR-Tools", "sortfleet": "ours"}[row["tool"]]
    return f"{name} {float(row['time_limit_s']):g} s"


def cell(row: dict) -> str:
    if row["feasible"] != "True":
        return "no feasible"
    return f"{float(row['gap_pct']):.2f} % ({row['routes']})" if row["gap_pct"] else row["cost"]


def table(path: Path) -> str:
    return table_rows(list(csv.DictReader(path.open())))


def table_rows(rows: list[dict]) -> str:
    cols = sorted({label(r) for r in rows},
                  key=lambda c: (float(c.split()[-2]) if c[-1] == "s" else 1e9,
                                 ["PyVRP", "OR-Tools", "ours", "VROOM"].index(c.split()[0])))
    by_inst: "OrderedDict[str, dict]" = OrderedDict()
    bks: dict[str, str] = {}
    for r in rows:
        by_inst.setdefault(r["instance"], {})[label(r)] = r  # last run wins
        bks[r["instance"]] = f"{r['bks_cost']} ({r['bks_routes']})"
    out = ["| instance | BKS (routes) | " + " | ".join(cols) + " |",
           "|---|---|" + "---|" * len(cols)]
    for inst, got in by_inst.items():
        out.append(f"| {inst} | {bks[inst]} | "
                   + " | ".join(cell(got[c]) if c in got else "—" for c in cols) + " |")
    means = []
    for c in cols:
        gaps = [float(got[c]["gap_pct"]) for got in by_inst.values()
                if c in got and got[c]["gap_pct"] and got[c]["feasible"] == "True"]
        n_all = sum(c in got for got in by_inst.values())
        means.append(f"{sum(gaps) / len(gaps):.2f} %" + ("" if len(gaps) == n_all else
                                                        f" ({len(gaps)}/{n_all})")
                     if gaps else "—")
    out.append("| **mean gap** | | " + " | ".join(means) + " |")
    routes = []
    for c in cols:
        rs = [got[c] for got in by_inst.values() if c in got and got[c]["feasible"] == "True"]
        routes.append(str(sum(int(r["routes"]) for r in rs)) + ("" if len(rs) == len(by_inst)
                                                                 else f" ({len(rs)} inst.)"))
    bks_routes = sum(int(bks[i].split("(")[1].rstrip(")")) for i in by_inst)
    out.append(f"| routes (sum) | {bks_routes} | " + " | ".join(routes) + " |")
    share = []
    for c in cols:
        rs = [got[c] for got in by_inst.values() if c in got]
        ratio = sum(float(r["cpu_s"]) for r in rs) / max(sum(float(r["wall_s"]) for r in rs), 1e-9)
        share.append(f"{ratio:.2f}")
    out.append("| cpu/wall | | " + " | ".join(share) + " |")
    loads = [float(r["loadavg_start"]) for r in rows]
    out.append(f"\nloadavg at start of a run: {min(loads):.2f} to {max(loads):.2f}")
    return "\n".join(out)


def seeds_table(rows: list[dict]) -> str:
    """Gap per seed and the median, one column per tool and budget; the last line is
    the mean of the medians."""
    import statistics
    cols = sorted({label(r) for r in rows},
                  key=lambda c: (float(c.split()[-2]), c.split()[0] != "PyVRP"))
    by_inst: "OrderedDict[str, dict]" = OrderedDict()
    for r in rows:
        if r["feasible"] == "True" and r["gap_pct"]:
            cell_ = by_inst.setdefault(r["instance"], {}).setdefault(label(r), {})
            cell_[int(r["seed"] or 0)] = float(r["gap_pct"])
    out = ["| instance | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    medians: dict[str, list[float]] = {c: [] for c in cols}
    for inst, got in by_inst.items():
        cells = []
        for c in cols:
            if c not in got:
                cells.append("—")
                continue
            gaps = [got[c][k] for k in sorted(got[c])]
            m = statistics.median(gaps)
            medians[c].append(m)
            per = " / ".join(f"{g:.2f}" for g in gaps)
            cells.append(f"{per} → **{m:.2f} %**" if len(gaps) > 1 else f"{m:.2f} %")
        out.append(f"| {inst} | " + " | ".join(cells) + " |")
    out.append("| **mean of medians** | " + " | ".join(
        f"{sum(v) / len(v):.2f} %" if v else "—" for v in medians.values()) + " |")
    share = []
    for c in cols:
        rs = [r for r in rows if label(r) == c]
        share.append(f"{sum(float(r['cpu_s']) for r in rs) / sum(float(r['wall_s']) for r in rs):.2f}")
    out.append("| cpu/wall | " + " | ".join(share) + " |")
    return "\n".join(out)


def instance_class(name: str) -> str:
    """Solomon `R201` -> `R2`, Homberger `rc2_2_3` -> `rc2`, X `X-n101-k25` -> `X`,
    MTVRPTWR `C201R0.5` -> `C2 (100)` and `R2_2_01R0.5` -> `R2 (200)`."""
    if name.startswith("X-"):
        return "X"
    base, sep, _ = name.rpartition("R0.")
    if sep and base:
        return f"{instance_class(base)} ({200 if '_' in base else 100})"
    if "_" in name:
        return name.split("_")[0]
    return name.rstrip("0123456789")[:2] + name.lstrip("RC")[0]


def classes_table(rows: list[dict]) -> str:
    """Per class and per budget: PyVRP against each version of ours, paired by seed."""
    runs: dict = {}
    for r in rows:
        key = (r["instance"], r["time_limit_s"], r["seed"])
        tool = "pyvrp" if r["tool"] == "pyvrp" else f"ours {r['version'].removeprefix('git ')}"
        if r["tool"] in ("pyvrp", "sortfleet") and r["feasible"] == "True":
            runs.setdefault(key, {})[tool] = float(r["gap_pct"])
    versions = sorted({t for v in runs.values() for t in v if t != "pyvrp"})
    out = []
    for ver in versions:
        out.append(f"PyVRP against {ver} (mean gap to BKS; lower/equal/higher = ours vs PyVRP)\n")
        out.append("| budget | class | n | PyVRP | ours | lower / equal / higher |")
        out.append("|---|---|---|---|---|---|")
        for lim in sorted({k[1] for k in runs}, key=float):
            keys = [k for k in runs if k[1] == lim and ver in runs[k] and "pyvrp" in runs[k]]
            groups: dict = {}
            for k in keys:
                groups.setdefault(instance_class(k[0]), []).append(k)
            for cls, ks in sorted(groups.items()) + [("all", keys)]:
                if not ks:
                    continue
                p = sum(runs[k]["pyvrp"] for k in ks) / len(ks)
                o = sum(runs[k][ver] for k in ks) / len(ks)
                lo = sum(runs[k][ver] < runs[k]["pyvrp"] - 0.005 for k in ks)
                hi = sum(runs[k][ver] > runs[k]["pyvrp"] + 0.005 for k in ks)
                b = "**" if cls == "all" else ""
                out.append(f"| {lim} s | {b}{cls}{b} | {len(ks)} | {b}{p:.2f} %{b} | "
                           f"{b}{o:.2f} %{b} | {lo} / {len(ks) - lo - hi} / {hi} |")
        out.append("")
    return "\n".join(out)


def against_table(rows: list[dict], tool: str) -> str:
    """Ours (per version, budget and seed) against every budget of `tool`, per instance."""
    ok = [r for r in rows if r["feasible"] == "True"]
    peer: dict = {}
    for r in ok:
        if r["tool"] == tool:
            peer.setdefault(label(r), {})[r["instance"]] = r
    mine: dict = {}
    for r in ok:
        if r["tool"] == "sortfleet":
            key = f"ours {r['version']} {float(r['time_limit_s']):g} s, seed {r['seed']}"
            mine.setdefault(key, {})[r["instance"]] = r
    out = [f"| ours | {tool} | n | {tool} gap | ours gap | ours lower | equal | ours higher |",
           "|---|---|---|---|---|---|---|---|"]
    for m, mrows in sorted(mine.items()):
        for t, trows in sorted(peer.items()):
            both = [i for i in mrows if i in trows]
            if not both:
                continue
            gap = lambda rs: sum(float(rs[i]["gap_pct"]) for i in both) / len(both)
            cost = lambda rs, i: round(float(rs[i]["cost"]), 2)
            lower = sum(cost(mrows, i) < cost(trows, i) for i in both)
            higher = [i for i in both if cost(mrows, i) > cost(trows, i)]
            out.append(f"| {m} | {t} | {len(both)} | {gap(trows):.2f} % | {gap(mrows):.2f} % | "
                       f"{lower} | {len(both) - lower - len(higher)} | "
                       f"{len(higher)}{': ' + ', '.join(higher) if higher else ''} |")
    return "\n".join(out)


def main() -> None:
    here = Path(__file__).resolve().parent
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return
    unknown = [a for a in args if a.startswith("-")
               and a not in ("--by-set", "--against", "--seeds", "--classes")]
    if unknown:
        sys.exit(f"tables.py: unknown option {unknown[0]} (see --help)")
    if args and args[0] == "--by-set":
        rows = [r for f in args[1:] for r in csv.DictReader(Path(f).open())
                if r["objective"] == "distance"]
        for s in dict.fromkeys(r["set"] for r in rows):
            print(f"### {s}\n\n{table_rows([r for r in rows if r['set'] == s])}\n")
        return
    if args and args[0] == "--against":
        tool, files = args[1], args[2:]
        rows = [r for f in files for r in csv.DictReader(Path(f).open())
                if r["objective"] == "distance" and r["instance"] != "instance"]
        for s in dict.fromkeys(r["set"] for r in rows):
            print(f"### {s}\n\n{against_table([r for r in rows if r['set'] == s], tool)}\n")
        return
    per_set = {"--seeds": seeds_table, "--classes": classes_table}
    if args and args[0] in per_set:
        # Distance-objective rows; a header line left inside a CSV is skipped.
        rows = [r for f in args[1:] for r in csv.DictReader(Path(f).open())
                if r["objective"] == "distance" and r["instance"] != "instance"]
        for s in dict.fromkeys(r["set"] for r in rows):
            print(f"### {s}\n\n{per_set[args[0]]([r for r in rows if r['set'] == s])}\n")
        return
    files = [Path(p) for p in args] or sorted((here / "results").glob("*.csv"))
    for f in files:
        print(f"### {f.stem}\n\n{table(f)}\n")


if __name__ == "__main__":
    main()
