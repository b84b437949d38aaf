"""``maas matrix``, ``maas isochrone`` and ``maas accessibility`` (see :mod:`routing.analysis`).

Output goes to ``--out`` or stdout (CSV, GeoJSON); progress and errors go to stderr, so
the output can be piped. Matrices run on every core (threads), or on Dask with ``--dask``
(a LocalCluster, or the scheduler of ``--dask-scheduler`` / ``MAAS_DASK_SCHEDULER``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:
    from routing.analysis import AnalysisOptions, Points, TravelTimeMatrix
    from routing.graph import Graph

err = Console(stderr=True)

GraphOpt = Annotated[Path, typer.Option("--graph", help="Graph artifact directory.")]
TimeOpt = Annotated[str, typer.Option("--time", help="Departure, ISO 8601 (no offset: the graph's local time).")]
WindowOpt = Annotated[int, typer.Option("--window-s", help="Departure window; one departure per minute in it.")]
PercentilesOpt = Annotated[str, typer.Option("--percentiles", help="Comma-separated, e.g. 25,50,75.")]
MaxTimeOpt = Annotated[int, typer.Option("--max-time-min", help="Longer trips count as unreachable.")]
ModesOpt = Annotated[str, typer.Option("--modes", help="walk,transit (default) or walk; transit sub-modes too.")]
MaxWalkOpt = Annotated[float, typer.Option("--max-walk-m", help="Longest walk per access/egress/transfer/direct walk.")]
ThreadsOpt = Annotated[int | None, typer.Option("--threads", help="Origins in parallel (default: every core).")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def _origins_progress(title: str) -> Iterator[Callable[[int, int], None]]:
    """A bar of origins done, on stderr (stdout may carry the result)."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), console=err, transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task(title, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def _graph(path: Path) -> Graph:
    from routing.errors import RoutingError
    from routing.graph import Graph

    try:
        return Graph.load(path)
    except RoutingError as e:
        raise _fail(str(e)) from None


def _options(graph: Graph, when: str, window_s: int, percentiles: str, max_time_min: int, modes: str,
             max_walk_m: float) -> AnalysisOptions:
    from zoneinfo import ZoneInfo

    from routing.analysis import AnalysisOptions
    from routing.errors import BadRequest
    from routing.plan import parse_modes

    try:
        try:
            t = dt.datetime.fromisoformat(when)
        except ValueError:
            raise BadRequest("time", f"not an ISO 8601 time: {when!r}") from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=ZoneInfo(graph.timezone))
        try:
            pcts = tuple(int(p) for p in percentiles.split(",") if p.strip())
        except ValueError:
            raise BadRequest("percentiles", f"expected whole numbers like 25,50,75, got {percentiles!r}") from None
        return AnalysisOptions(
            departure=t, window_s=window_s, percentiles=pcts, max_time_s=max_time_min * 60,
            modes=parse_modes(modes), max_walk_m=max_walk_m,
        )  # fmt: skip
    except BadRequest as e:
        raise _fail(f"--{e.field.replace('_', '-')}: {e.message}") from None


def _points(path: Path, what: str) -> Points:
    from routing.analysis import Points
    from routing.errors import BadRequest

    try:
        return Points.from_csv(path, what)
    except BadRequest as e:
        raise _fail(f"{e.field}: {e.message}") from None


@contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    if out is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    tmp = out.with_name(out.name + ".part")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        tmp.replace(out)  # a complete file or none
    except OSError as e:
        raise _fail(f"cannot write {out}: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _compute(graph: Graph, graph_path: Path, origins: Points, dests: Points, options: AnalysisOptions,
             threads: int | None, dask: bool, scheduler: str | None) -> TravelTimeMatrix:
    from routing.analysis import TravelTimeComputer
    from routing.errors import RoutingError

    n = len(origins) * len(dests)
    t0 = clock.perf_counter()
    try:
        if dask:
            from maas.settings import Settings
            from routing.analysis.distributed import dask_matrix

            address = scheduler or Settings().dask_scheduler
            where = address or "a local Dask cluster"
            with _origins_progress(f"matrix on {where}") as advance:
                matrix = dask_matrix(graph_path, origins, dests, options, address=address, progress=advance)
        else:
            computer = TravelTimeComputer(graph, options)
            with _origins_progress("matrix") as advance:
                matrix = computer.matrix(origins, dests, threads=threads, progress=advance)
    except RoutingError as e:
        raise _fail(str(e)) from None
    seconds = clock.perf_counter() - t0
    err.print(f"{len(origins):,} x {len(dests):,} = {n:,} pairs in {seconds:.1f} s "
              f"({len(origins) / max(seconds, 1e-9):,.1f} origins/s)")
    return matrix


def matrix(
    graph: GraphOpt,
    origins: Annotated[Path, typer.Option("--origins", help="CSV with id,lat,lon.")],
    destinations: Annotated[Path, typer.Option("--destinations", help="CSV with id,lat,lon[,weights...].")],
    time: TimeOpt,
    window_s: WindowOpt = 600,
    percentiles: PercentilesOpt = "50",
    max_time_min: MaxTimeOpt = 120,
    modes: ModesOpt = "walk,transit",
    max_walk_m: MaxWalkOpt = 2000.0,
    out: Annotated[Path | None, typer.Option("--out", help="CSV to write (default: stdout).")] = None,
    threads: ThreadsOpt = None,
    dask: Annotated[bool, typer.Option("--dask", help="Run origin batches on Dask.")] = False,
    dask_scheduler: Annotated[
        str | None, typer.Option("--dask-scheduler", help="Scheduler address (default: MAAS_DASK_SCHEDULER, "
                                                          "else a LocalCluster).")
    ] = None,
) -> None:
    """Travel-time matrix (r5py's TravelTimeMatrix): CSV from_id,to_id,travel_time[_pN] in minutes."""
    g = _graph(graph)
    options = _options(g, time, window_s, percentiles, max_time_min, modes, max_walk_m)
    o, d = _points(origins, "--origins"), _points(destinations, "--destinations")
    result = _compute(g, graph, o, d, options, threads, dask or dask_scheduler is not None, dask_scheduler)
    with _output(out) as fh:
        result.write_csv(fh)


def accessibility(
    graph: GraphOpt,
    origins: Annotated[Path, typer.Option("--origins", help="CSV with id,lat,lon.")],
    destinations: Annotated[Path, typer.Option("--destinations", help="CSV with id,lat,lon and weight columns.")],
    time: TimeOpt,
    cutoffs: Annotated[str, typer.Option("--cutoffs", help="Minutes, comma-separated, e.g. 30,60.")] = "30,60",
    opportunities: Annotated[
        str | None, typer.Option("--opportunities", help="Destination column to sum (default: the only one, or 1 each).")
    ] = None,
    window_s: WindowOpt = 600,
    percentiles: PercentilesOpt = "50",
    max_time_min: MaxTimeOpt = 120,
    modes: ModesOpt = "walk,transit",
    max_walk_m: MaxWalkOpt = 2000.0,
    out: Annotated[Path | None, typer.Option("--out", help="CSV to write (default: stdout).")] = None,
    threads: ThreadsOpt = None,
    dask: Annotated[bool, typer.Option("--dask", help="Run origin batches on Dask.")] = False,
    dask_scheduler: Annotated[str | None, typer.Option("--dask-scheduler", help="Scheduler address.")] = None,
) -> None:
    """Cumulative opportunities per origin: CSV id,opportunity,percentile,cutoff,accessibility."""
    from routing.analysis.accessibility import accessibility as cumulative
    from routing.analysis.accessibility import opportunity_weights
    from routing.errors import BadRequest

    g = _graph(graph)
    options = _options(g, time, window_s, percentiles, max_time_min, modes, max_walk_m)
    o, d = _points(origins, "--origins"), _points(destinations, "--destinations")
    try:
        cuts = [int(c) for c in cutoffs.split(",") if c.strip()]
        name, weights = opportunity_weights(d, opportunities)
    except ValueError:
        raise _fail(f"--cutoffs: expected minutes like 30,60, got {cutoffs!r}") from None
    except BadRequest as e:
        raise _fail(f"--{e.field}: {e.message}") from None
    result = _compute(g, graph, o, d, options, threads, dask or dask_scheduler is not None, dask_scheduler)
    try:
        table = cumulative(result, weights, cuts, name)
    except BadRequest as e:
        raise _fail(f"--{e.field}: {e.message}") from None
    with _output(out) as fh:
        table.write_csv(fh)


def isochrone(
    graph: GraphOpt,
    frm: Annotated[str, typer.Option("--from", help="Origin LAT,LON.")],
    time: TimeOpt,
    minutes: Annotated[str, typer.Option("--minutes", help="Limits in minutes, e.g. 15,30,45.")] = "15,30,45",
    window_s: WindowOpt = 600,
    percentile: Annotated[int, typer.Option("--percentile", help="Of the per-minute times (50: median).")] = 50,
    max_time_min: MaxTimeOpt = 120,
    modes: ModesOpt = "walk,transit",
    max_walk_m: MaxWalkOpt = 2000.0,
    out: Annotated[Path | None, typer.Option("--out", help="GeoJSON to write (default: stdout).")] = None,
) -> None:
    """Isochrones as a GeoJSON FeatureCollection, one (Multi)Polygon per limit."""
    from routing.analysis import TravelTimeComputer
    from routing.analysis.isochrones import isochrones
    from routing.errors import BadRequest
    from routing.plan import Place

    g = _graph(graph)
    try:
        place = Place.parse(frm, "from")
        if place.lat is None or place.lon is None:
            raise BadRequest("from", "expected LAT,LON")
        limits = [int(m) for m in minutes.split(",") if m.strip()]
    except ValueError:
        raise _fail(f"--minutes: expected whole minutes like 15,30,45, got {minutes!r}") from None
    except BadRequest as e:
        raise _fail(f"--{e.field}: {e.message}") from None
    options = _options(g, time, window_s, str(percentile), max(max_time_min, max(limits, default=0)), modes,
                       max_walk_m)
    try:
        collection: dict[str, Any] = isochrones(TravelTimeComputer(g, options), place.lat, place.lon, limits,
                                                percentile)
    except BadRequest as e:
        raise _fail(f"--{e.field}: {e.message}") from None
    with _output(out) as fh:
        json.dump(collection, fh)
        fh.write("\n")
