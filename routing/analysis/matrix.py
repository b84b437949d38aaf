"""Travel-time matrices on the built-in engine, with r5py's ``TravelTimeMatrix`` semantics.

For every origin the engine runs one range query over the departure window (one
departure per minute, :mod:`routing.analysis.kernel`) and keeps, per destination, the
travel time of each minute: arrival minus departure, waiting at the origin included, as
R5 counts it. Percentiles are then read off those per-minute times the way R5's
``TravelTimeReducer`` does: seconds are truncated to whole minutes, a time of
``max_time`` minutes or more is unreachable (and sorts last, like infinity), and the
percentile ``p`` of ``n`` times is the sorted value at index ``ceil(p / 100 * n) - 1``.

Access, egress and the direct walk are the planner's (:class:`~routing.raptor_planner.
RaptorPlanner`): the same street searches, limits and rounding, so a cell equals the
earliest arrival ``plan()`` finds for that departure minute, minus the departure.
Egress is computed once per destination set and reused for every origin; origins run on
a thread pool (the kernels release the GIL).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from routing.analysis.kernel import TIMETABLE_FIELDS, one_to_all, walk_from_origin
from routing.analysis.points import Points
from routing.errors import BadRequest
from routing.graph import Graph
from routing.plan import ALL_MODES, DEFAULT_MODES, TRANSIT_MODES, Place
from routing.raptor_kernels import INF
from routing.raptor_planner import EngineOptions, RaptorPlanner
from routing.service_days import ServiceDayContext, service_day_context

MAX_WINDOW_S = 6 * 3600
MAX_TIME_S = 6 * 3600
UNREACHED = -1  # minutes of an unreachable cell (null in JSON, empty in CSV)

Progress = Callable[[int, int], None]  # (origins done, origins in all)


@dataclass(frozen=True)
class AnalysisOptions:
    """What r5py's ``TravelTimeMatrix`` takes: departure, window, percentiles, limits, modes."""

    departure: dt.datetime  # timezone-aware
    window_s: int = 600  # one departure per minute in [departure, departure + window_s)
    percentiles: tuple[int, ...] = (50,)
    max_time_s: int = 7200
    modes: frozenset[str] = DEFAULT_MODES
    max_walk_m: float = 2000.0  # per access, egress, transfer and direct walk, as in plan()
    walk_mps: float = 1.33
    max_transfers: int = 6

    def __post_init__(self) -> None:
        if self.departure.tzinfo is None:
            raise BadRequest("time", "needs a UTC offset (ISO 8601, e.g. 2026-01-06T08:00:00+01:00)")
        if not 0 <= self.window_s <= MAX_WINDOW_S:
            raise BadRequest("window_s", f"must be between 0 and {MAX_WINDOW_S}")
        if not self.percentiles:
            raise BadRequest("percentiles", "give at least one")
        if any(not 1 <= p <= 99 for p in self.percentiles):
            raise BadRequest("percentiles", "each must be between 1 and 99")
        if list(self.percentiles) != sorted(set(self.percentiles)):
            raise BadRequest("percentiles", "must be distinct and ascending")
        if not 60 <= self.max_time_s <= MAX_TIME_S:
            raise BadRequest("max_time_min", f"must be between 1 and {MAX_TIME_S // 60}")
        unknown = self.modes - ALL_MODES
        if unknown:
            raise BadRequest("modes", f"unknown mode(s) {', '.join(sorted(unknown))}")
        if not self.modes & ({"walk", "transit"} | TRANSIT_MODES):
            raise BadRequest("modes", "analysis supports walk and transit (or transit sub-modes)")
        if not self.max_walk_m >= 0:
            raise BadRequest("max_walk_m", "must be >= 0")
        if not 0 <= self.max_transfers <= 20:
            raise BadRequest("max_transfers", "must be between 0 and 20")

    @property
    def transit_modes(self) -> frozenset[str]:
        return TRANSIT_MODES if "transit" in self.modes else self.modes & TRANSIT_MODES

    @property
    def departure_offsets(self) -> NDArray[np.int64]:
        """Seconds after ``departure`` of each departure minute (R5: one per minute)."""
        return np.arange(0, max(self.window_s, 60), 60, dtype=np.int64)

    @property
    def max_walk_s(self) -> float:
        return self.max_walk_m / self.walk_mps


@dataclass(frozen=True, eq=False)
class Destinations:
    """A destination set prepared once: egress stops (CSR) and street snapping."""

    points: Points
    eg_off: NDArray[np.int64]
    eg_stop: NDArray[np.int32]
    eg_s: NDArray[np.int64]
    node: NDArray[np.int64]  # snapped street node, -1 when none
    snap_m: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class OriginTimes:
    """One origin's travel seconds per departure minute (INF: not within max_time).

    ``seconds[minute, destination]``; ``stop_seconds[minute, stop]`` when asked for
    (transit or on foot, without the egress walk); ``street_times``: seconds on foot
    from the origin to each street node (the planner's access search, None when the
    origin is off the streets)."""

    seconds: NDArray[np.int64]
    stop_seconds: NDArray[np.int64]
    street_times: NDArray[np.float32] | None


@dataclass(frozen=True, eq=False)
class TravelTimeMatrix:
    """Minutes ``[percentile, origin, destination]``; :data:`UNREACHED` when not within max_time."""

    origins: tuple[str, ...]
    destinations: tuple[str, ...]
    percentiles: tuple[int, ...]
    minutes: NDArray[np.int32]

    @property
    def columns(self) -> list[str]:
        """r5py's: ``travel_time`` for one percentile, else ``travel_time_p{N}`` each."""
        if len(self.percentiles) == 1:
            return ["from_id", "to_id", "travel_time"]
        return ["from_id", "to_id", *(f"travel_time_p{p}" for p in self.percentiles)]

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """``(from_id, to_id, minutes or None, ...)`` in origin-major order."""
        for i, o in enumerate(self.origins):
            cells = self.minutes[:, i, :].T.tolist()
            for j, d in enumerate(self.destinations):
                yield (o, d, *(None if m < 0 else m for m in cells[j]))

    def write_csv(self, fh: IO[str]) -> int:
        """Write the CSV (unreachable cells empty); returns the number of rows."""
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(self.columns)
        n = 0
        for row in self.rows():
            w.writerow(["" if v is None else v for v in row])
            n += 1
        return n

    def records(self) -> list[dict[str, Any]]:
        cols = self.columns
        return [dict(zip(cols, row, strict=True)) for row in self.rows()]


@dataclass
class _Timetable:
    arrays: tuple[np.ndarray, ...]
    ctx: ServiceDayContext
    departures: NDArray[np.int64]  # rel. ctx.ref_utc
    mode_mask: int


class TravelTimeComputer:
    """One graph and one set of options; computes matrices, per-origin rows and stop times."""

    def __init__(self, graph: Graph, options: AnalysisOptions, planner: RaptorPlanner | None = None) -> None:
        """``planner`` (reused for its street searches) must be on ``graph`` with the
        options' walking speed; by default one is made."""
        self.graph = graph
        self.options = options
        if planner is None or planner.graph is not graph or planner.options.walk_mps != options.walk_mps:
            planner = RaptorPlanner(graph, EngineOptions(walk_mps=options.walk_mps, max_transfers=options.max_transfers))
        self.planner = planner
        self._tt = self._timetable()

    def _timetable(self) -> _Timetable:
        g, o = self.graph, self.options
        tt = g.timetable
        ref = int(o.departure.timestamp())
        local_date = o.departure.astimezone(ZoneInfo(g.timezone)).date()
        ctx = service_day_context(tt, g.meta, local_date, ref)
        mask = 0
        for bit, name in enumerate(g.meta.mode_names):
            if name in o.transit_modes:
                mask |= 1 << bit
        arrays = tuple(getattr(tt, name) for name in TIMETABLE_FIELDS)
        return _Timetable(arrays, ctx, o.departure_offsets.copy(), mask)

    # -- destinations ------------------------------------------------------------------------

    def destinations(self, points: Points) -> Destinations:
        """Egress stops of every destination (reverse street search, the planner's limits)."""
        max_s = self.options.max_walk_s
        offsets = [0]
        stops: list[NDArray[np.int32]] = []
        secs: list[NDArray[np.int32]] = []
        nodes = np.full(len(points), -1, np.int64)
        snaps = np.zeros(len(points), np.float64)
        for j in range(len(points)):
            reach = self.planner.reach(Place(float(points.lat[j]), float(points.lon[j])), max_s, reverse=True)
            if isinstance(reach, str):  # outside coverage: no egress, no walk
                offsets.append(offsets[-1])
                continue
            stops.append(reach.stops)
            secs.append(reach.stop_s)
            offsets.append(offsets[-1] + int(reach.stops.size))
            nodes[j] = reach.node
            snaps[j] = reach.snap_m
        return Destinations(
            points,
            np.asarray(offsets, np.int64),
            np.concatenate(stops).astype(np.int32) if stops else np.zeros(0, np.int32),
            np.concatenate(secs).astype(np.int64) if secs else np.zeros(0, np.int64),
            nodes,
            snaps,
        )

    # -- one origin --------------------------------------------------------------------------

    def origin_seconds(
        self, lat: float, lon: float, dests: Destinations, *, keep_stops: bool = False
    ) -> OriginTimes:
        """Travel seconds from one origin, per departure minute (see :class:`OriginTimes`)."""
        o, tt = self.options, self._tt
        n_dep, n_dest = tt.departures.size, len(dests.points)
        best = np.full((n_dep, n_dest), INF, np.int64)
        stop_times = np.full((n_dep if keep_stops else 0, self.graph.n_stops), INF, np.int64)
        origin = self.origin(lat, lon)
        if origin is None:
            return OriginTimes(best, stop_times, None)
        reach, d0 = origin
        walk = "walk" in o.modes
        # walking through stops (access, footpaths, egress), as plan() counts it: it
        # bounds transit (the kernel's walk-only bound) and stands in for a direct walk
        # where the street search finds none
        via = np.full(n_dest, INF, np.int64)
        if walk and dests.eg_stop.size:
            legs = d0[dests.eg_stop] + dests.eg_s
            legs[(d0[dests.eg_stop] >= INF) | (legs > o.max_walk_s)] = INF
            starts = dests.eg_off[:-1]
            nonempty = np.diff(dests.eg_off) > 0
            via[nonempty] = np.minimum.reduceat(legs, starts[nonempty])
        direct = self._direct_walk(reach.times, dests) if walk else np.full(n_dest, INF, np.int64)
        if tt.mode_mask and reach.stops.size and (dests.eg_stop.size or keep_stops):
            transit, stops_out = one_to_all(
                tt.arrays, tt.ctx.day_active, tt.ctx.day_offset, d0, tt.departures,
                o.max_transfers + 1, tt.mode_mask, o.max_time_s, int(o.max_walk_s),
                dests.eg_off, dests.eg_stop, dests.eg_s, keep_stops,
            )  # fmt: skip
            transit[transit >= via[None, :]] = INF  # plan(): walking beats these journeys
            best = transit
            if keep_stops:
                stop_times = np.where(stops_out < INF, stops_out - tt.departures[:, None], INF)
        walk_s = np.where(direct < INF, direct, via)
        best = _wait_for_later(np.minimum(best, walk_s[None, :]), tt.departures, o.max_time_s)
        if keep_stops:
            stop_times = _wait_for_later(np.minimum(stop_times, d0[None, :]), tt.departures, o.max_time_s)
        return OriginTimes(best, stop_times, reach.times)

    def origin(self, lat: float, lon: float) -> tuple[Any, NDArray[np.int64]] | None:
        """The planner's street search around the origin (``Reach``: snapped node,
        seconds per street node, access stops) and the seconds on foot to every stop
        (access, then footpaths; INF beyond ``max_walk``); None outside coverage."""
        o, arrays = self.options, self._tt.arrays
        reach = self.planner.reach(Place(lat, lon), o.max_walk_s, reverse=False)
        if isinstance(reach, str):
            return None
        d0 = walk_from_origin(
            reach.stops, reach.stop_s.astype(np.int64), arrays[15], arrays[16], arrays[17],
            self.graph.n_stops, int(o.max_walk_s), o.max_time_s,
        )  # fmt: skip
        return reach, d0

    def _direct_walk(self, times: NDArray[np.float32] | None, dests: Destinations) -> NDArray[np.int64]:
        """The planner's direct street walk to each destination, seconds (INF: none)."""
        out = np.full(len(dests.points), INF, np.int64)
        if times is None:
            return out
        walk = self.options.walk_mps
        ok = dests.node >= 0
        tn = np.full(len(dests.points), np.inf)
        tn[ok] = np.asarray(times, dtype=np.float64)[dests.node[ok]]
        # the planner keeps a walk whose length (path + both snaps) is within max_walk_m
        ok &= np.isfinite(tn) & (tn * walk + dests.snap_m <= self.options.max_walk_m + 1e-3)
        out[ok] = np.ceil(tn[ok] + dests.snap_m[ok] / walk).astype(np.int64)
        return out

    def origin_minutes(self, lat: float, lon: float, dests: Destinations) -> NDArray[np.int32]:
        """Percentile minutes ``[percentile, destination]`` for one origin."""
        secs = self.origin_seconds(lat, lon, dests).seconds
        return percentile_minutes(secs, self.options.percentiles, self.options.max_time_s)

    # -- many origins ------------------------------------------------------------------------

    def matrix(
        self,
        origins: Points,
        destinations: Points | Destinations,
        *,
        threads: int | None = None,
        progress: Progress | None = None,
    ) -> TravelTimeMatrix:
        """The matrix for every origin and destination, origins on ``threads`` threads."""
        dests = destinations if isinstance(destinations, Destinations) else self.destinations(destinations)
        n = len(origins)
        out = np.empty((len(self.options.percentiles), n, len(dests.points)), np.int32)

        def one(i: int) -> int:
            out[:, i, :] = self.origin_minutes(float(origins.lat[i]), float(origins.lon[i]), dests)
            return i

        workers = max(1, threads or os.cpu_count() or 1)
        done = 0
        if workers == 1 or n <= 1:
            for i in range(n):
                one(i)
                done += 1
                if progress:
                    progress(done, n)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="maas-analysis") as pool:
                for _ in pool.map(one, range(n)):
                    done += 1
                    if progress:
                        progress(done, n)
        return TravelTimeMatrix(origins.ids, dests.points.ids, self.options.percentiles, out)


def _wait_for_later(seconds: NDArray[np.int64], departures: NDArray[np.int64], max_s: int) -> NDArray[np.int64]:
    """Travel seconds per departure minute, where waiting at the origin for a later
    minute's journey is allowed. plan() answers each minute on its own, and its pruning
    (walking there is earlier, walking beats transit) can lose a journey that a later
    minute keeps; a rider leaving earlier can still take it."""
    offsets = (departures - departures[0])[:, None]
    arrive = np.where(seconds < INF, seconds + offsets, INF)
    arrive = np.minimum.accumulate(arrive[::-1], axis=0)[::-1]
    out = np.where(arrive < INF, arrive - offsets, INF)
    out[out > max_s] = INF
    return out


def percentile_minutes(
    seconds: NDArray[np.int64], percentiles: Sequence[int], max_time_s: int
) -> NDArray[np.int32]:
    """R5's reduction of per-minute travel seconds ``[minute, destination]`` to whole
    minutes per percentile ``[percentile, destination]`` (:data:`UNREACHED` when the
    percentile's time is ``max_time`` or more, or unreachable)."""
    n = seconds.shape[0]
    limit = max_time_s // 60
    minutes = np.where(seconds >= INF, limit, seconds // 60)
    minutes = np.minimum(minutes, limit)  # limit and beyond: unreachable, sorts last
    minutes.sort(axis=0)
    out = np.empty((len(percentiles), seconds.shape[1]), np.int32)
    for k, p in enumerate(percentiles):
        idx = max(0, math.ceil(p / 100 * n) - 1)
        col = minutes[idx]
        out[k] = np.where(col >= limit, UNREACHED, col)
    return out


__all__ = [
    "UNREACHED",
    "AnalysisOptions",
    "Destinations",
    "OriginTimes",
    "TravelTimeComputer",
    "TravelTimeMatrix",
    "percentile_minutes",
]
