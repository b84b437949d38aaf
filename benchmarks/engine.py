"""Engine benchmark: the same seeded queries on the project's engine and on peers, one run.

    .venv/bin/python -m benchmarks.engine --set portland --queries 200 --seed 1 \\
        [--peers ferrobus,pynigiri] [--no-project] [--graph DIR] [--out results.json]

Sets: ``portland`` (trimet-2routes + central OSM, 2021-12-02 08:00-10:00),
``porto_alegre`` (EPTC + TRENSURB + OSM, 2019-05-13 12:00-14:00; EPTC runs only
11:20-17:50) and ``synth`` (feeds.synth.synth_city, ``--synth-stops`` stops, 2026-01-05).

Per engine: prepare time (project: build in a subprocess + load; ferrobus: model from OSM
+ GTFS; pynigiri: timetable) and the resident memory loading costs, measured in a fresh
subprocess per engine (RSS after loading minus RSS after importing the engine's library).

* Scenario A, transit stop to stop, earliest arrival: ``--queries`` seeded stop pairs,
  departures uniform in a 2 h band. The first ``--warmup`` queries (JIT, caches) are
  reported apart (first-query time, warm-up mean); p50/p95/p99 are over the rest.
* Scenario B, address to address, ``--window-s`` (2 h) range, Pareto: coordinates
  50-300 m off random stops. Project: ``window_s``; ferrobus:
  ``pareto_range_multimodal_routing``; pynigiri: an interval query with walking offsets.
* Agreement (A): pairs of engines whose earliest arrivals lie within 60 s. A sanity
  check, not a correctness oracle: walking speed, footpath model and transfer slack differ
  between engines on purpose (docs/bench-engine-notes.md).

Loops are bounded: N queries per scenario and ``--budget-s`` seconds per engine and
scenario, whichever ends first. Prints a markdown report; ``--out`` writes JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.peers import PEERS, Engine, FeedSpec, FerrobusPeer, NigiriPeer, Trip, quiet_stderr
from benchmarks.queries import (
    Endpoint,
    Query,
    StopRef,
    address_pairs,
    feed_timezone,
    osm_bbox,
    served_stops,
    stop_pairs,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
AGREE_S = 60.0


@dataclass(frozen=True)
class BenchSet:
    name: str
    feeds: tuple[FeedSpec, ...]
    osm: Path | None
    day: dt.date
    band: tuple[dt.time, dt.time]
    note: str = ""


def _shared_set(name: str) -> BenchSet:
    if name == "portland":
        return BenchSet(
            "portland",
            (("trimet", SHARED / "portland/trimet-2routes.zip"),),
            SHARED / "portland/portland-central-filtered.osm.pbf",
            dt.date(2021, 12, 2),
            (dt.time(8), dt.time(10)),
            "TriMet MAX Green + Portland Streetcar NS; OSM (2015) covers 93/103 stops",
        )
    if name == "porto_alegre":
        return BenchSet(
            "porto_alegre",
            (
                ("eptc", SHARED / "porto_alegre/poa_eptc.zip"),
                ("trensurb", SHARED / "porto_alegre/poa_trensurb.zip"),
            ),
            SHARED / "porto_alegre/poa_osm.pbf",
            dt.date(2019, 5, 13),
            (dt.time(12), dt.time(14)),
            "EPTC buses (96 % of stop times blank, interpolated by each engine) + TRENSURB rail",
        )
    raise KeyError(name)


def _synth_set(workdir: Path, stops: int, seed: int) -> BenchSet:
    from feeds.synth import synth_city

    city = synth_city(workdir / "synth", stops=stops, seed=seed)
    return BenchSet(
        "synth",
        ((city.feed_id, city.gtfs),),
        city.osm,
        city.start_date,
        (dt.time(8), dt.time(10)),
        f"feeds.synth.synth_city(stops={stops}, seed={seed})",
    )


# -- the project's engine behind the adapter interface ------------------------------------

_BUILD_CHILD = """
import json, sys
from routing.build import build_graph
feeds = [tuple(f) for f in json.loads(sys.argv[1])]
r = build_graph(feeds, osm=sys.argv[2] or None, out=sys.argv[3])
print(json.dumps({"path": str(r.path), "seconds": r.seconds, "peak_rss_mb": r.peak_rss_mb, "counts": r.counts}))
"""


class ProjectEngine:
    """``routing`` (build_graph -> Graph.load -> get_planner) as an :class:`Engine`.

    The build runs in a subprocess (its peak memory is its own, reported apart); the
    graph is then loaded here, as a server would load it.
    """

    name = "project"

    def __init__(self, workdir: Path, graph: Path | None = None, max_transfers: int = 6) -> None:
        self.workdir = workdir
        self.graph_path = graph
        self.max_transfers = max_transfers
        self._planner: Any = None
        self.timings: list[dict[str, float]] = []

    def prepare(self, feeds: Sequence[FeedSpec], osm: Path | None, day: dt.date) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if self.graph_path is None:
            out = self.workdir / "graph"
            t = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _BUILD_CHILD,
                    json.dumps([[f, str(p)] for f, p in feeds]),
                    str(osm or ""),
                    str(out),
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=False,
            )
            info["build_wall_s"] = time.perf_counter() - t
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                raise RuntimeError("build_graph failed: " + " | ".join(tail))
            built = json.loads(proc.stdout.strip().splitlines()[-1])
            info.update(
                build_s=built["seconds"], build_peak_rss_mb=built["peak_rss_mb"], counts=built["counts"]
            )
            self.graph_path = Path(built["path"])
        from routing.engines import get_planner
        from routing.graph import Graph

        t = time.perf_counter()
        graph = Graph.load(self.graph_path)
        try:
            self._planner = get_planner(graph, max_transfers=self.max_transfers)
        except TypeError:  # engine options renamed: run with its defaults, say so
            self._planner = get_planner(graph)
            info["note"] = "max_transfers not accepted by get_planner; engine defaults used"
        info["load_s"] = time.perf_counter() - t
        info["prepare_s"] = info.get("build_s", 0.0) + info["load_s"]
        return info

    @staticmethod
    def _place(e: Endpoint) -> Any:
        from routing.plan import Place

        if isinstance(e, StopRef):
            return Place(stop_id=e.key)
        return Place(lat=e.lat, lon=e.lon)

    def _plan(self, origin: Endpoint, destination: Endpoint, depart: dt.datetime, window_s: int) -> Any:
        from routing.plan import PlanRequest

        req = PlanRequest(
            origin=self._place(origin),
            destination=self._place(destination),
            time=depart,
            window_s=window_s,
            modes=frozenset({"walk", "transit"}),
            num_itineraries=20 if window_s else 5,
        )
        c0 = time.thread_time()
        res = self._planner.plan(req)
        # this thread's CPU time: the query's cost without the waits for a core that a
        # shared machine adds to the wall clock (compare runs on this)
        self.timings.append({**res.timing_ms, "cpu": round((time.thread_time() - c0) * 1e3, 3)})
        return res

    def query(self, origin: Endpoint, destination: Endpoint, depart: dt.datetime) -> float | None:
        res = self._plan(origin, destination, depart, 0)
        if not res.itineraries:
            return None
        return float(min(it.end_time.timestamp() for it in res.itineraries))

    def range_query(
        self, origin: Endpoint, destination: Endpoint, depart: dt.datetime, window_s: int
    ) -> list[Trip] | None:
        res = self._plan(origin, destination, depart, window_s)
        return [
            Trip(it.start_time.timestamp(), it.end_time.timestamp(), it.transfers) for it in res.itineraries
        ]

    def close(self) -> None:
        self._planner = None


# -- measuring --------------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc; 0 where absent)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


_PROBE_CHILD = """
import json, sys
from benchmarks.engine import probe_memory
print(json.dumps(probe_memory(json.loads(sys.argv[1]))))
"""


def probe_memory(spec: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process: RSS once the engine's library is imported, and after loading.

    The library import is the baseline: its code pages are not what a city costs. For the
    project, ``Graph.load`` maps arrays with ``mmap``; only pages touched count as resident.
    """
    name = spec["engine"]
    if name == "project":
        import routing.engines
        import routing.graph  # noqa: F401
    else:
        __import__(name)
    gc.collect()
    base = rss_mb()
    eng: Engine
    if name == "project":
        eng = ProjectEngine(Path(spec["graph"]).parent, Path(spec["graph"]), spec["max_transfers"])
    elif name == "pynigiri":
        eng = NigiriPeer(link_stop_m=spec["nigiri_link_m"], log=Path(spec["log"]))
    else:
        eng = PEERS[name](log=Path(spec["log"]))
    feeds = [(f, Path(p)) for f, p in spec["feeds"]]
    eng.prepare(feeds, Path(spec["osm"]) if spec["osm"] else None, dt.date.fromisoformat(spec["day"]))
    gc.collect()
    after = rss_mb()
    return {
        "rss_mb_baseline": round(base, 1),
        "rss_mb_after_load": round(after, 1),
        "rss_mb_growth": round(after - base, 1),
    }


def memory_in_child(eng: Engine, bset: BenchSet, args: argparse.Namespace) -> dict[str, Any]:
    spec = {
        "engine": eng.name,
        "feeds": [[f, str(p)] for f, p in bset.feeds],
        "osm": str(bset.osm) if bset.osm else None,
        "day": bset.day.isoformat(),
        "graph": str(getattr(eng, "graph_path", "") or ""),
        "max_transfers": args.max_transfers,
        "nigiri_link_m": args.nigiri_link_m,
        "log": str(Path(tempfile.gettempdir()) / "bench-engine-probe.log"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE_CHILD, json.dumps(spec)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@dataclass
class ScenarioRun:
    latencies_ms: list[float] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    stopped_by_budget: bool = False


def run_queries(fn: Callable[[Query], Any], queries: Sequence[Query], budget_s: float) -> ScenarioRun:
    run = ScenarioRun()
    gc.collect()
    start = time.perf_counter()
    for q in queries:
        if time.perf_counter() - start > budget_s:
            run.stopped_by_budget = True
            break
        t0 = time.perf_counter_ns()
        try:
            r = fn(q)
        except Exception as exc:  # one failing query must not end the comparison
            r = None
            run.errors += 1
            run.first_error = run.first_error or f"q{q.idx}: {type(exc).__name__}: {exc}"
        run.latencies_ms.append((time.perf_counter_ns() - t0) / 1e6)
        run.results.append(r)
    return run


def summarize(run: ScenarioRun, warmup: int, found: Callable[[Any], bool]) -> dict[str, Any]:
    lat = np.asarray(run.latencies_ms)
    timed = lat[warmup:] if lat.size > warmup else lat
    out: dict[str, Any] = {
        "n": int(lat.size),
        "n_timed": int(timed.size),
        "first_query_ms": round(float(lat[0]), 3) if lat.size else None,
        "warmup_mean_ms": round(float(lat[:warmup].mean()), 3) if lat.size else None,
        "found": sum(1 for r in run.results if found(r)),
        "errors": run.errors,
        "stopped_by_budget": run.stopped_by_budget,
    }
    if run.first_error:
        out["first_error"] = run.first_error
    if timed.size:
        p50, p95, p99 = np.percentile(timed, [50, 95, 99])
        out.update(
            p50_ms=round(float(p50), 3),
            p95_ms=round(float(p95), 3),
            p99_ms=round(float(p99), 3),
            mean_ms=round(float(timed.mean()), 3),
            max_ms=round(float(timed.max()), 3),
        )
    return out


def agreement(a: Sequence[float | None], b: Sequence[float | None], tol_s: float = AGREE_S) -> dict[str, Any]:
    n = min(len(a), len(b))
    both = [(x, y) for x, y in zip(a[:n], b[:n], strict=True) if x is not None and y is not None]
    diffs = np.asarray([y - x for x, y in both]) if both else np.zeros(0)
    agree = int((np.abs(diffs) <= tol_s).sum())
    return {
        "compared": n,
        "both_found": len(both),
        "agree": agree,
        "agree_pct_of_both": round(100.0 * agree / len(both), 1) if both else None,
        "first_earlier": int((diffs > tol_s).sum()),  # first engine arrives earlier
        "second_earlier": int((diffs < -tol_s).sum()),
        "only_first": sum(1 for x, y in zip(a[:n], b[:n], strict=True) if x is not None and y is None),
        "only_second": sum(1 for x, y in zip(a[:n], b[:n], strict=True) if x is None and y is not None),
        "neither": sum(1 for x, y in zip(a[:n], b[:n], strict=True) if x is None and y is None),
        "median_abs_diff_s": round(float(np.median(np.abs(diffs))), 1) if both else None,
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "machine": platform.machine(), "cpus": str(os.cpu_count())}
    for pkg in ("numpy", "numba", "ferrobus", "pynigiri"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    bset = _synth_set(workdir, args.synth_stops, args.seed) if args.set == "synth" else _shared_set(args.set)
    for _fid, path in bset.feeds:
        if not path.exists():
            raise SystemExit(f"missing input {path} (the shared data sets live in {SHARED})")
    tz = feed_timezone(bset.feeds[0][1])
    bbox = osm_bbox(bset.osm) if bset.osm is not None else None
    stops = served_stops(bset.feeds, bbox)
    qa = stop_pairs(stops, args.queries, seed=args.seed, day=bset.day, band=bset.band, tz=tz)
    qb = address_pairs(stops, args.queries, seed=args.seed, day=bset.day, band=bset.band, tz=tz)

    engines: list[Engine] = []
    if not args.no_project:
        engines.append(ProjectEngine(workdir, Path(args.graph) if args.graph else None, args.max_transfers))
    log = workdir / "peers-native.log"
    for name in [p for p in args.peers.split(",") if p]:
        if name not in PEERS:
            raise SystemExit(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
        if name == "pynigiri":
            engines.append(
                NigiriPeer(max_transfers=args.max_transfers, link_stop_m=args.nigiri_link_m, log=log)
            )
        else:
            engines.append(PEERS[name](max_transfers=args.max_transfers, log=log))

    report: dict[str, Any] = {
        "set": bset.name,
        "note": bset.note,
        "day": bset.day.isoformat(),
        "band": [bset.band[0].isoformat(), bset.band[1].isoformat()],
        "timezone": str(tz),
        "feeds": [[f, str(p)] for f, p in bset.feeds],
        "osm": str(bset.osm) if bset.osm else None,
        "queries": args.queries,
        "seed": args.seed,
        "warmup": args.warmup,
        "window_s": args.window_s,
        "max_transfers": args.max_transfers,
        "nigiri_link_m": args.nigiri_link_m,
        "served_stops_in_osm_bbox": len(stops),
        "versions": _versions(),
        "engines": {},
        "agreement_a": {},
    }
    arrivals: dict[str, list[float | None]] = {}
    for eng in engines:
        entry: dict[str, Any] = {}
        report["engines"][eng.name] = entry
        try:
            entry["prepare"] = eng.prepare(bset.feeds, bset.osm, bset.day)
            if isinstance(eng, FerrobusPeer):  # a stop is a street-snapped point there
                t = time.perf_counter()
                eng.prepare_points(
                    [s for q in qa for s in (q.origin, q.destination) if isinstance(s, StopRef)]
                )
                entry["prepare"]["stop_points_s"] = time.perf_counter() - t
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            if args.verbose:
                traceback.print_exc()
            continue
        if not args.no_memory:
            entry["memory"] = memory_in_child(eng, bset, args)
        quiet = quiet_stderr(log) if eng.name != "project" else contextlib.nullcontext()

        def earliest(q: Query, e: Engine = eng) -> float | None:
            return e.query(q.origin, q.destination, q.depart)

        def pareto(q: Query, e: Engine = eng) -> list[Trip] | None:
            return e.range_query(q.origin, q.destination, q.depart, args.window_s)

        timing: dict[str, list[dict[str, float]]] = {}
        with quiet:
            run_a = run_queries(earliest, qa, args.budget_s)
            if isinstance(eng, ProjectEngine):
                timing["A"], eng.timings = eng.timings, []
            run_b = run_queries(pareto, qb, args.budget_s)
            if isinstance(eng, ProjectEngine):
                timing["B"], eng.timings = eng.timings, []
        entry["A"] = summarize(run_a, args.warmup, lambda r: r is not None)
        entry["B"] = summarize(run_b, args.warmup, lambda r: bool(r))
        sizes = [len(r) for r in run_b.results if r]
        entry["B"]["journeys_median"] = float(np.median(sizes)) if sizes else 0.0
        for sc, rows in timing.items():  # the engine's own breakdown (PlanResult.timing_ms)
            keys = sorted({k for t in rows for k in t})
            entry[sc]["engine_timing_ms_p50"] = {
                k: round(float(np.median([t[k] for t in rows if k in t])), 3) for k in keys
            }
            cpu = [t["cpu"] for t in rows[args.warmup :] if "cpu" in t]
            if cpu:  # over the same queries as the wall-clock percentiles
                entry[sc]["cpu_ms"] = {
                    q: round(float(np.percentile(cpu, int(q[1:]))), 3) for q in ("p50", "p95")
                }
        arrivals[eng.name] = list(run_a.results)
        eng.close()
    names = list(arrivals)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            report["agreement_a"][f"{a} vs {b}"] = agreement(arrivals[a], arrivals[b])
    report["arrivals_a"] = {
        n: [None if x is None else round(x - q.depart.timestamp(), 1) for x, q in zip(v, qa, strict=False)]
        for n, v in arrivals.items()
    }
    if log.exists():
        report["peer_native_log_error_lines"] = sum(
            1 for line in log.open(errors="replace") if "[error]" in line
        )
    return report


# -- report ---------------------------------------------------------------------------------


def _f(x: Any, nd: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def markdown(r: dict[str, Any]) -> str:
    feeds = " + ".join(Path(p).name for _f_, p in r["feeds"])
    osm = Path(r["osm"]).name if r["osm"] else "no OSM"
    lines = [
        f"## Engine benchmark — {r['set']} ({feeds} + {osm})",
        "",
        f"{r['day']} {r['band'][0][:5]}–{r['band'][1][:5]} {r['timezone']}; {r['queries']} queries per scenario, "
        f"seed {r['seed']}, first {r['warmup']} excluded from percentiles; max transfers {r['max_transfers']}; "
        f"B window {r['window_s']} s. {r['note']}. "
        f"Versions: " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()),
        "",
        "| engine | prepare s | RSS +MB | A first ms | A p50 ms | A p95 ms | A p99 ms | A found | "
        "B first ms | B p50 ms | B p95 ms | B p99 ms | B found | B journeys (median) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e in r["engines"].items():
        if "error" in e:
            err = e["error"].replace("|", "/").replace("\n", " ")
            lines.append(f"| {name} | failed: {err[:240]} |" + " |" * 12)
            continue
        a, b, p = e["A"], e["B"], e["prepare"]
        lines.append(
            f"| {name} | {_f(p['prepare_s'])} | {_f(e.get('memory', {}).get('rss_mb_growth'), 1)} | "
            f"{_f(a['first_query_ms'])} | "
            f"{_f(a.get('p50_ms'), 3)} | {_f(a.get('p95_ms'), 3)} | {_f(a.get('p99_ms'), 3)} | {a['found']}/{a['n']} | "
            f"{_f(b['first_query_ms'])} | {_f(b.get('p50_ms'), 3)} | {_f(b.get('p95_ms'), 3)} | {_f(b.get('p99_ms'), 3)} | "
            f"{b['found']}/{b['n']} | {_f(b['journeys_median'], 1)} |"
        )
    proj = r["engines"].get("project")
    if proj and "error" not in proj:
        lines += [
            "",
            "Ratio project / peer (below 1: the project is faster):",
            "",
            "| peer | A p50 | A p95 | B p50 | B p95 |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, e in r["engines"].items():
            if name == "project" or "error" in e:
                continue
            cells = []
            for sc in ("A", "B"):
                for k in ("p50_ms", "p95_ms"):
                    x, y = proj[sc].get(k), e[sc].get(k)
                    cells.append(_f(x / y if x is not None and y else None))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if r["agreement_a"]:
        lines += [
            "",
            f"Scenario A agreement (earliest arrival within {AGREE_S:.0f} s):",
            "",
            "| pair | both found | agree | first earlier | second earlier | only first | only second | neither | "
            "median abs diff s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for pair, g in r["agreement_a"].items():
            lines.append(
                f"| {pair} | {g['both_found']} | {g['agree']} ({_f(g['agree_pct_of_both'], 1)} %) | {g['first_earlier']} | "
                f"{g['second_earlier']} | {g['only_first']} | {g['only_second']} | {g['neither']} | "
                f"{_f(g['median_abs_diff_s'], 1)} |"
            )
    notes = []
    for name, e in r["engines"].items():
        for key in ("prepare",):
            extra = {k: v for k, v in e.get(key, {}).items() if k != "prepare_s"}
            if extra:
                notes.append(f"- {name} prepare: " + json.dumps(extra, default=str))
        for sc in ("A", "B"):
            s = e.get(sc, {})
            if s.get("errors"):
                notes.append(f"- {name} {sc}: {s['errors']} errors, first: {s['first_error']}")
            if s.get("stopped_by_budget"):
                notes.append(f"- {name} {sc}: stopped by the time budget after {s['n']} queries")
        for sc in ("A", "B"):
            if "engine_timing_ms_p50" in e.get(sc, {}):
                notes.append(
                    f"- {name} {sc} timing_ms p50 (engine's own): {json.dumps(e[sc]['engine_timing_ms_p50'])}"
                )
            if "cpu_ms" in e.get(sc, {}):
                notes.append(
                    f"- {name} {sc} CPU time of the planning thread, ms: {json.dumps(e[sc]['cpu_ms'])}"
                )
    if r.get("peer_native_log_error_lines"):
        notes.append(f"- peers logged {r['peer_native_log_error_lines']} [error] lines from native code")
    if notes:
        lines += ["", "Notes:", "", *notes]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--set", default="portland", choices=["portland", "porto_alegre", "synth"])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--peers", default="ferrobus,pynigiri", help="comma list; empty for none")
    ap.add_argument("--no-project", action="store_true", help="measure the peers only")
    ap.add_argument("--graph", default="", help="use this built artifact instead of building one")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--window-s", type=int, default=7200)
    ap.add_argument("--max-transfers", type=int, default=6)
    ap.add_argument("--budget-s", type=float, default=120.0, help="per engine and scenario")
    ap.add_argument("--synth-stops", type=int, default=2000)
    ap.add_argument(
        "--nigiri-link-m", type=int, default=1000, help="nigiri footpaths between stops this close (crow-fly)"
    )
    ap.add_argument(
        "--no-memory", action="store_true", help="skip the per-engine memory probe (a subprocess each)"
    )
    ap.add_argument("--out", default="")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    if args.queries < 1:
        ap.error("--queries must be >= 1")
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        report = bench(args, Path(tmp))
    sys.stdout.write(markdown(report))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
