"""Analysis benchmark: an N x N travel-time matrix on the built-in engine, with baselines.

    .venv/bin/python -m benchmarks.analysis --graph DIR --time ISO [--points 1000] \\
        [--sample 200] [--threads 2] [--window-s 600] [--seed 1] [--out results.json]

Origins and destinations are ``--points`` seeded random coordinates inside the street
network's extent (shrunk by 200 m). The matrix runs for ``--sample`` origins (all of them
by default) against all destinations, on ``--threads`` threads; a sampled run is
extrapolated to all origins (reported as such). In the same run, two baselines:

* ``one departure``: the same origins with a zero window (one departure minute instead of
  ``window_s / 60``): the cost of one plain one-to-all earliest-arrival RAPTOR per origin
  (plus its access search and the destination read-out);
* ``plan() per pair``: ``--plan-pairs`` seeded origin/destination pairs answered by
  ``plan()`` at one departure minute, extrapolated to what the matrix computes
  (pairs x departure minutes) on one thread.

Prints a markdown table; ``--out`` writes JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from routing.analysis import AnalysisOptions, Points, TravelTimeComputer
from routing.graph import Graph
from routing.plan import Place, PlanRequest
from routing.raptor_planner import EngineOptions, RaptorPlanner

M_PER_DEG = 111_195.0


def random_points(graph: Graph, n: int, seed: int, prefix: str, margin_m: float = 200.0) -> Points:
    """``n`` uniform coordinates inside the street nodes' extent (or the stops' without streets)."""
    if graph.streets is not None:
        lat, lon = np.asarray(graph.streets.lat), np.asarray(graph.streets.lon)
    else:
        lat, lon = np.asarray(graph.stop_lat), np.asarray(graph.stop_lon)
    dlat = margin_m / M_PER_DEG
    dlon = dlat / max(np.cos(np.radians(float(lat.mean()))), 0.01)
    rng = np.random.default_rng(seed)
    la = rng.uniform(float(lat.min()) + dlat, float(lat.max()) - dlat, n)
    lo = rng.uniform(float(lon.min()) + dlon, float(lon.max()) - dlon, n)
    return Points(tuple(f"{prefix}{i}" for i in range(n)), la, lo)


def run(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    graph = Graph.load(args.graph)
    load_s = time.perf_counter() - t0
    when = dt.datetime.fromisoformat(args.time)
    options = AnalysisOptions(departure=when, window_s=args.window_s, percentiles=(50,), max_time_s=args.max_time_min * 60)
    origins = random_points(graph, args.points, args.seed, "o")
    dests = random_points(graph, args.points, args.seed + 1, "d")
    sample = origins.take(slice(0, args.sample or args.points))
    computer = TravelTimeComputer(graph, options)

    # compile the kernels (or load numba's cache) outside the timings
    warm = origins.take(slice(0, 2))
    computer.matrix(warm, warm, threads=1)

    t0 = time.perf_counter()
    prepared = computer.destinations(dests)
    egress_s = time.perf_counter() - t0
    egress_pairs = int(prepared.eg_stop.size)

    t0 = time.perf_counter()
    matrix = computer.matrix(sample, prepared, threads=args.threads)
    matrix_s = time.perf_counter() - t0
    reached = float((matrix.minutes[0] >= 0).mean())

    one = TravelTimeComputer(graph, AnalysisOptions(departure=when, window_s=0, max_time_s=options.max_time_s))
    one_prepared = one.destinations(dests)
    t0 = time.perf_counter()
    one.matrix(sample, one_prepared, threads=args.threads)
    one_s = time.perf_counter() - t0

    planner = RaptorPlanner(graph, EngineOptions(walk_mps=options.walk_mps))
    rng = np.random.default_rng(args.seed + 2)
    pairs = [(int(rng.integers(len(origins))), int(rng.integers(len(dests)))) for _ in range(args.plan_pairs)]
    t0 = time.perf_counter()
    for i, j in pairs:
        planner.plan(PlanRequest(Place(float(origins.lat[i]), float(origins.lon[i])),
                                 Place(float(dests.lat[j]), float(dests.lon[j])), when,
                                 max_walk_m=options.max_walk_m, num_itineraries=1))  # fmt: skip
    plan_s = (time.perf_counter() - t0) / max(1, len(pairs))

    n_sample, n_all, n_dest = len(sample), len(origins), len(dests)
    minutes = len(options.departure_offsets)
    scale = n_all / n_sample
    cores = args.threads
    result = {
        "graph": str(args.graph),
        "graph_version": graph.version,
        "stops": graph.n_stops,
        "street_nodes": graph.streets.n_nodes if graph.streets is not None else 0,
        "departure": when.isoformat(),
        "window_s": options.window_s,
        "departure_minutes": minutes,
        "origins": n_all,
        "destinations": n_dest,
        "origins_measured": n_sample,
        "threads": cores,
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "load_s": round(load_s, 3),
        "egress_s": round(egress_s, 3),
        "egress_pairs": egress_pairs,
        "matrix_s_measured": round(matrix_s, 3),
        "matrix_s_all_origins": round(egress_s + matrix_s * scale, 1),
        "extrapolated": n_sample < n_all,
        "origins_per_s": round(n_sample / matrix_s, 2),
        "origins_per_s_per_core": round(n_sample / matrix_s / cores, 2),
        "reached_share": round(reached, 3),
        "one_departure_s_measured": round(one_s, 3),
        "one_departure_origins_per_s_per_core": round(n_sample / one_s / cores, 2),
        "window_over_one_departure": round(matrix_s / one_s, 2),
        "plan_ms_per_pair": round(plan_s * 1e3, 3),
        "plan_pairs": len(pairs),
        "plan_s_all_pairs_one_thread": round(plan_s * n_all * n_dest * minutes, 0),
        "plan_over_matrix": round(plan_s * n_all * n_dest * minutes / (matrix_s * scale * cores), 1),
    }
    return result


def report(r: dict[str, Any]) -> str:
    ext = f" (extrapolated from {r['origins_measured']} origins)" if r["extrapolated"] else ""
    lines = [
        f"### {Path(r['graph']).name}: {r['origins']:,} x {r['destinations']:,}, {r['departure']}, "
        f"{r['departure_minutes']} departure minutes, {r['threads']} threads",
        "",
        "| measure | value |",
        "|---|---|",
        f"| stops / street nodes | {r['stops']:,} / {r['street_nodes']:,} |",
        f"| egress searches, {r['destinations']:,} destinations | {r['egress_s']:.2f} s ({r['egress_pairs']:,} stop links) |",
        f"| matrix, all origins{ext} | {r['matrix_s_all_origins']:,.1f} s |",
        f"| origins per second (per core) | {r['origins_per_s']:,.1f} ({r['origins_per_s_per_core']:,.1f}) |",
        f"| cells reached within {r.get('max_time_min', 120)} min | {r['reached_share']:.1%} |",
        f"| baseline: one departure minute, origins/s per core | {r['one_departure_origins_per_s_per_core']:,.1f} "
        f"(window costs x{r['window_over_one_departure']:.2f}) |",
        f"| baseline: plan() per pair | {r['plan_ms_per_pair']:.2f} ms; all pairs x minutes on one core "
        f"~{r['plan_s_all_pairs_one_thread']:,.0f} s = x{r['plan_over_matrix']:,.0f} the matrix's core-seconds |",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graph", type=Path, required=True)
    ap.add_argument("--time", required=True, help="departure, ISO 8601 with offset")
    ap.add_argument("--points", type=int, default=1000, help="origins = destinations count")
    ap.add_argument("--sample", type=int, default=0, help="origins actually run (0: all), the rest extrapolated")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--window-s", type=int, default=600)
    ap.add_argument("--max-time-min", type=int, default=120)
    ap.add_argument("--plan-pairs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    r = run(args)
    r["max_time_min"] = args.max_time_min
    print(report(r))
    if args.out:
        args.out.write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
