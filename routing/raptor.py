"""Transit search over a :class:`~routing.timetable.Timetable`: range RAPTOR, Pareto sets.

The planner gives the stops reachable from the origin and to the destination (with
walking seconds), a time and a window; :func:`search` returns the Pareto set of journeys
on (later departure, earlier arrival, fewer transfers), each as a list of segments
(access, rides, transfers, egress) with times in seconds relative to the context's
``ref_utc``. Arrive-by searches run the same kernel on the mirrored timetable, built
once per timetable and kept beside it.

Semantics worth knowing:

- A journey leaves as late as its first ride allows (the walk to the first stop ends at
  the boarding time); walks after a ride start on arrival.
- Footpaths chain (transfer-graph shortest paths), also right after the access and
  right before the egress. The change time of a stop applies between two rides there.
- Walking only (origin -> stops on foot -> destination) counts as a journey with no ride:
  it is never returned, but a transit journey it beats is dominated and left out.
- ``max_duration_s`` bounds the arrival relative to the departure time of the search
  iteration (``time`` for a single departure), not to the journey's own departure.
- A range query iterates every distinct candidate departure (exact), unless
  ``departure_step_s`` asks for at most one iteration per step (faster, a subset).
- Journeys may leave after ``time + window_s`` when nothing leaves inside the window
  (the first iteration runs at the window's end and keeps what it finds).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routing import raptor_kernels as K
from routing.errors import BadRequest
from routing.service_days import ServiceDayContext
from routing.timetable import Timetable, mirror_timetable

SEGMENT_KINDS = ("access", "ride", "transfer", "egress")
# how far (in lower-bound seconds) the destination heuristic searches back from the
# destination; farther stops share this bound (valid, just weaker). Tuned on Porto Alegre.
LOWER_BOUND_RADIUS_S = 1800
MAX_TRANSFERS = 20  # label arrays hold one row per ride


@dataclass(frozen=True)
class TransitQuery:
    access_stops: NDArray[np.int32]  # stops reachable from the origin
    access_s: NDArray[np.int32]  # seconds from the origin to each access stop
    egress_stops: NDArray[np.int32]
    egress_s: NDArray[np.int32]  # seconds from each egress stop to the destination
    time: int  # rel. ref_utc: earliest departure (forward) or latest arrival (arrive_by)
    window_s: int = 0  # departures in [time, time + window_s] (arrivals in [time - window_s, time])
    arrive_by: bool = False
    max_transfers: int = 6
    wheelchair: bool = False
    allowed_modes: int = -1  # bit mask over mode_names (pattern_mode); -1 = all
    max_duration_s: int = 6 * 3600
    # range queries iterate every distinct candidate departure (0: exact Pareto set), or
    # at most one per ``departure_step_s`` seconds (OTP iterates minutes): faster, and
    # every journey returned is still Pareto-optimal, but some may be missing
    departure_step_s: int = 0
    # walking from origin to destination through stops (footpath chains) is not returned,
    # but it dominates transit journeys arriving later; only walks up to this long count
    # (the planner offers the direct street walk within the same limit); -1 = any length
    walk_only_max_s: int = -1
    # longest walk between two rides and from the origin (access + footpaths), seconds;
    # -1 = unbounded (the footpath graph's shortest paths, as the shared oracle assumes)
    max_walk_s: int = -1


@dataclass(frozen=True)
class Segment:
    kind: str  # access | ride | transfer | egress
    from_stop: int  # -1 for the origin
    to_stop: int  # -1 for the destination
    dep: int  # seconds rel. ref_utc
    arr: int
    trip: int = -1  # timetable trip index, rides only
    board_pos: int = -1  # positions in the pattern, rides only
    alight_pos: int = -1
    day: int = -1  # service day index k (0: date - 1, 1: date, 2: date + 1), rides only
    pattern: int = -1


@dataclass(frozen=True)
class Journey:
    dep: int
    arr: int
    transfers: int
    segments: tuple[Segment, ...]

    @property
    def rides(self) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.kind == "ride")


def search(tt: Timetable, ctx: ServiceDayContext, q: TransitQuery) -> list[Journey]:
    """The Pareto set of journeys for ``q``, sorted by departure then arrival."""
    acc_stop, acc_s, egr_stop, egr_s = _check_query(tt, ctx, q)
    if acc_stop.size == 0 or egr_stop.size == 0:
        return []
    n_rounds = max(0, int(q.max_transfers)) + 1
    if q.arrive_by:
        run_tt = mirrored(tt)
        day_offset = np.ascontiguousarray(-ctx.day_offset.astype(np.int32))
        # in the mirror the destination is the origin and time runs backwards
        acc_stop, acc_s, egr_stop, egr_s = egr_stop, egr_s, acc_stop, acc_s
        time = -int(q.time)
    else:
        run_tt = tt
        day_offset = np.ascontiguousarray(ctx.day_offset, dtype=np.int32)
        time = int(q.time)
    ws = _workspace(run_tt, n_rounds)
    jr, n_j, seg, n_seg = K.raptor_search(
        _kernel_arrays(run_tt),
        np.ascontiguousarray(ctx.day_active, dtype=np.uint8),
        day_offset,
        acc_stop,
        acc_s,
        egr_stop,
        egr_s,
        time,
        int(q.window_s),
        n_rounds,
        bool(q.wheelchair),
        int(q.allowed_modes),
        int(q.max_duration_s),
        max(1, int(q.departure_step_s)),
        LOWER_BOUND_RADIUS_S,
        K.INF if q.walk_only_max_s < 0 else int(q.walk_only_max_s),
        K.INF if q.max_walk_s < 0 else int(q.max_walk_s),
        ws.arrays,
    )
    # plain ints for the Segment fields: converting numpy scalars one by one took ~1 ms
    # for the ~40 journeys of a range query
    rows, segs = jr[:n_j].tolist(), seg[:n_seg].tolist()
    journeys = [_journey(rows[i], segs) for i in range(n_j)]
    if q.arrive_by:
        journeys = [_unmirror(j, tt) for j in journeys]
    return sorted(pareto(journeys), key=lambda j: (j.dep, j.arr, j.transfers))


def pareto(journeys: list[Journey]) -> list[Journey]:
    """Drop duplicates and journeys dominated on (later dep, earlier arr, fewer transfers)."""
    keyed = sorted(journeys, key=lambda j: (-j.dep, j.arr, j.transfers))
    kept: list[Journey] = []
    for j in keyed:
        if any(k.dep >= j.dep and k.arr <= j.arr and k.transfers <= j.transfers for k in kept):
            continue
        kept.append(j)
    return kept


def mirrored(tt: Timetable) -> Timetable:
    """The arrive-by twin of ``tt``, built on first use and kept while ``tt`` lives."""
    with _DERIVED_LOCK:
        m = _MIRRORS.get(tt)
        if m is None:
            m = mirror_timetable(tt)
            # the mirror's footpaths are ``tt``'s reversed: their closures swap
            forward, reverse = _closures(tt)
            _CLOSURES[m] = (reverse, forward)
            _MIRRORS[tt] = m
        return m


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel on a two-stop timetable."""
    from routing.service_days import N_DAYS

    i32, i64 = np.int32, np.int64
    one = np.zeros(1, i32)
    tt = Timetable(
        pattern_stop_offset=np.array([0, 2], i64),
        pattern_stops=np.array([0, 1], i32),
        pattern_trip_offset=np.array([0, 1], i64),
        pattern_route=one,
        pattern_tz=one,
        pattern_mode=one,
        trip_time_offset=np.zeros(1, i64),
        arr=np.array([0, 60], i32),
        dep=np.array([0, 60], i32),
        board_ok=np.array([1, 0], np.uint8),
        alight_ok=np.array([0, 1], np.uint8),
        trip_service=one,
        trip_wheelchair=np.ones(1, np.int8),
        trip_source=one,
        stop_pattern_offset=np.array([0, 1, 2], i64),
        stop_patterns=np.array([0, 0], i32),
        stop_pattern_pos=np.array([0, 1], i32),
        stop_change_s=np.zeros(2, i32),
        stop_wheelchair=np.zeros(2, np.int8),
        transfer_offset=np.zeros(3, i64),
        transfer_target=np.zeros(0, i32),
        transfer_s=np.zeros(0, i32),
        transfer_source=np.zeros(0, i32),
        service_active=np.ones((1, 1), np.uint8),
    )
    ctx = ServiceDayContext(
        day_active=np.ones((N_DAYS, 1), np.uint8),
        day_offset=np.array([[-86400], [0], [86400]], np.int32),
        dates=(),
        ref_utc=0,
    )
    q = TransitQuery(
        np.array([0], np.int32), np.zeros(1, np.int32), np.array([1], np.int32), np.zeros(1, np.int32), 0
    )
    search(tt, ctx, q)
    search(
        tt,
        ctx,
        TransitQuery(
            q.access_stops, q.access_s, q.egress_stops, q.egress_s, 100, window_s=60, arrive_by=True
        ),
    )


# --------------------------------------------------------------------------- internals

_MIRRORS: weakref.WeakKeyDictionary[Timetable, Timetable] = weakref.WeakKeyDictionary()
_DERIVED_LOCK = threading.Lock()
_KERNEL_ARRAYS: weakref.WeakKeyDictionary[Timetable, tuple[np.ndarray, ...]] = weakref.WeakKeyDictionary()
_CLOSURES: weakref.WeakKeyDictionary[Timetable, tuple[NDArray[np.int32], NDArray[np.int32]]] = (
    weakref.WeakKeyDictionary()
)
_LOCAL = threading.local()


def _kernel_arrays(tt: Timetable) -> tuple[np.ndarray, ...]:
    arrays = _KERNEL_ARRAYS.get(tt)
    if arrays is not None:
        return arrays
    with _DERIVED_LOCK:
        arrays = _KERNEL_ARRAYS.get(tt)
        if arrays is not None:
            return arrays
        arrays = (
            tt.pattern_stop_offset,
            tt.pattern_stops,
            tt.pattern_trip_offset,
            tt.pattern_tz,
            tt.pattern_mode,
            tt.trip_time_offset,
            tt.arr,
            tt.dep,
            tt.board_ok,
            tt.alight_ok,
            tt.trip_service,
            tt.trip_wheelchair,
            tt.stop_pattern_offset,
            tt.stop_patterns,
            tt.stop_pattern_pos,
            tt.stop_change_s,
            tt.stop_wheelchair,
            tt.transfer_offset,
            tt.transfer_target,
            tt.transfer_s,
            tt.transfer_source,
            *_lower_bound_graph(tt),
            _closures(tt)[0],
            *_footpaths_by_time(tt),
        )
        _KERNEL_ARRAYS[tt] = arrays
        return arrays


def _footpaths_by_time(tt: Timetable) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
    """Each stop's footpaths (same CSR ranges) sorted by time: times, targets, edge ids."""
    n_edges = int(tt.transfer_target.shape[0])
    src = np.repeat(np.arange(tt.n_stops), np.diff(tt.transfer_offset))
    order = np.lexsort((np.arange(n_edges), tt.transfer_s, src)).astype(np.int32)
    return tt.transfer_s[order], tt.transfer_target[order], order


def _lower_bound_graph(
    tt: Timetable,
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32], NDArray[np.int64], NDArray[np.int32]]:
    """Incoming edges per stop (CSR by target): every pattern hop with its fastest time
    over the pattern's trips, then the footpaths by increasing time (``mid``: where they
    start). Shortest paths on it bound travel times from below (waiting and change times
    left out). Also the closure (:func:`~routing.raptor_kernels.footpath_closure`) of the
    reversed footpaths, which lets the search skip footpath chains that cannot shorten."""
    n_stops = tt.n_stops
    p_len = np.diff(tt.pattern_stop_offset)
    p_trips = np.diff(tt.pattern_trip_offset)
    trip_len = np.repeat(p_len, p_trips)
    flat_ps = np.repeat(np.repeat(tt.pattern_stop_offset[:-1], p_trips), trip_len) + (
        np.arange(tt.arr.size, dtype=np.int64) - np.repeat(tt.trip_time_offset, trip_len)
    )
    hop = np.full(tt.pattern_stops.size, np.iinfo(np.int32).max, np.int64)
    inner = np.ones(tt.arr.size, bool)
    inner[tt.trip_time_offset] = False  # the first stop of a trip has no hop into it
    f = np.flatnonzero(inner)
    np.minimum.at(hop, flat_ps[f], tt.arr[f].astype(np.int64) - tt.dep[f - 1])
    ps = np.flatnonzero(hop < np.iinfo(np.int32).max)
    to = np.r_[tt.pattern_stops[ps], tt.transfer_target].astype(np.int64)
    frm = np.r_[tt.pattern_stops[ps - 1], tt.transfer_source].astype(np.int64)
    w = np.r_[np.maximum(hop[ps], 0), tt.transfer_s].astype(np.int64)
    foot = np.r_[np.zeros(ps.size, np.int64), np.ones(tt.transfer_s.size, np.int64)]
    keep = to != frm
    to, frm, w, foot = to[keep], frm[keep], w[keep], foot[keep]
    # one edge per pair, the fastest (a footpath when a hop is not faster)
    order = np.lexsort((-foot, w, frm, to))
    to, frm, w, foot = to[order], frm[order], w[order], foot[order]
    first = np.r_[True, (to[1:] != to[:-1]) | (frm[1:] != frm[:-1])] if to.size else np.zeros(0, bool)
    to, frm, w, foot = to[first], frm[first], w[first], foot[first]
    order = np.lexsort((w, foot, to))
    to, frm, w, foot = to[order], frm[order], w[order], foot[order]
    counts = np.bincount(to, minlength=n_stops) if to.size else np.zeros(n_stops, np.int64)
    offset = np.r_[0, np.cumsum(counts)].astype(np.int64)
    hops = np.bincount(to[foot == 0], minlength=n_stops) if to.size else np.zeros(n_stops, np.int64)
    mid = offset[:-1] + hops
    return offset, frm.astype(np.int32), w.astype(np.int32), mid.astype(np.int64), _closures(tt)[1]


def _closures(tt: Timetable) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """:func:`~routing.raptor_kernels.footpath_closure` of the footpaths and of the
    footpaths reversed (computed once per timetable; the caller holds the lock)."""
    closures = _CLOSURES.get(tt)
    if closures is None:
        n_stops = tt.n_stops
        rev = np.lexsort((tt.transfer_source, tt.transfer_target))
        counts = (
            np.bincount(tt.transfer_target, minlength=n_stops) if rev.size else np.zeros(n_stops, np.int64)
        )
        rev_offset = np.r_[0, np.cumsum(counts)].astype(np.int64)
        closures = (
            K.footpath_closure(tt.transfer_offset, tt.transfer_target, tt.transfer_s),
            K.footpath_closure(rev_offset, tt.transfer_source[rev], tt.transfer_s[rev]),
        )
        _CLOSURES[tt] = closures
    return closures


class _Workspace:
    """Label arrays for one timetable, reused by one thread (handed back clean)."""

    def __init__(self, tt: Timetable, n_rounds: int) -> None:
        s, p, e = tt.n_stops, tt.n_patterns, int(tt.transfer_target.shape[0])
        rows = n_rounds + 1
        # a lazy-deletion Dijkstra pushes at most once per source and per edge (the
        # lower-bound search also walks every pattern hop)
        heap = s + e + int(tt.pattern_stops.shape[0]) + 1
        max_degree = int(np.diff(tt.transfer_offset).max(initial=0))
        self.n_rounds = n_rounds

        def full(shape: Any, value: int, dtype: type[np.generic]) -> np.ndarray:
            return np.full(shape, value, dtype)

        self.arrays = (
            full((rows, s), K.INF, np.int32),  # A
            full((rows, s), K.INF, np.int32),  # B
            full((rows, s), K.P_NONE, np.int8),  # Ak
            full((rows, s), K.P_NONE, np.int8),  # Bk
            full((rows, s), -1, np.int32),  # Ae
            full((rows, s), -1, np.int32),  # Be
            full((rows, s), -1, np.int32),  # r_trip
            full((rows, s), 0, np.int8),  # r_day
            full((rows, s), 0, np.int32),  # r_board
            full((rows, s), 0, np.int32),  # r_alight
            full((rows, s), -1, np.int32),  # r_pat
            full(s, 0, np.uint8),  # touched
            full(s, 0, np.int32),  # touched_list
            full(s, 0, np.uint8),  # chg
            full(s, 0, np.int32),  # chg_list
            full(s, 0, np.uint8),  # mark
            full(s, 0, np.int32),  # mark_list
            full(s, 0, np.int32),  # next_list
            full(s, 0, np.int32),  # ride_list
            full(p, -1, np.int32),  # pat_first
            full(p, 0, np.int32),  # pat_queue
            full(heap, 0, np.int64),  # heap keys
            full(heap, 0, np.int32),  # heap values
            full(s, K.INF, np.int32),  # egress_time
            full(s, K.INF, np.int32),  # d0
            full(s, -1, np.int32),  # d0_edge
            full(s, 0, np.int32),  # reach_list
            full(s, 0, np.uint8),  # next_mark
            full(s, K.INF, np.int32),  # lb
            full(s, 0, np.int32),  # lb_list
            full(s, K.INF, np.int32),  # walked: seconds on foot since the last ride (footpath phase)
            full(s, -1, np.int32),  # lb_lo: shortest footpath worth relaxing on (lower-bound search)
            full(max_degree + 1, 0, np.int32),  # fp_cand: footpaths of one stop to relax
        )


def _workspace(tt: Timetable, n_rounds: int) -> _Workspace:
    spaces: weakref.WeakKeyDictionary[Timetable, _Workspace] | None = getattr(_LOCAL, "spaces", None)
    if spaces is None:
        spaces = weakref.WeakKeyDictionary()
        _LOCAL.spaces = spaces
    ws = spaces.get(tt)
    if ws is None or ws.n_rounds < n_rounds:
        ws = _Workspace(tt, max(n_rounds, 7))
        spaces[tt] = ws
    return ws


def _int32(name: str, a: Any) -> NDArray[np.int32]:
    arr = np.ascontiguousarray(a)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise BadRequest(name, "must be a 1-d integer array")
    return arr.astype(np.int32, copy=False)


def _check_query(
    tt: Timetable, ctx: ServiceDayContext, q: TransitQuery
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
    acc_stop, acc_s = _int32("access_stops", q.access_stops), _int32("access_s", q.access_s)
    egr_stop, egr_s = _int32("egress_stops", q.egress_stops), _int32("egress_s", q.egress_s)
    for name, stops, secs in (("access", acc_stop, acc_s), ("egress", egr_stop, egr_s)):
        if stops.shape != secs.shape:
            raise BadRequest(f"{name}_s", f"needs one time per {name} stop")
        if stops.size and (stops.min() < 0 or stops.max() >= tt.n_stops):
            raise BadRequest(f"{name}_stops", f"stop index out of range 0..{tt.n_stops - 1}")
        if secs.size and secs.min() < 0:
            raise BadRequest(f"{name}_s", "walking times must be >= 0")
    if q.window_s < 0:
        raise BadRequest("window_s", "must be >= 0")
    if not 0 <= q.max_transfers <= MAX_TRANSFERS:
        raise BadRequest("max_transfers", f"must be between 0 and {MAX_TRANSFERS}")
    if q.departure_step_s < 0:
        raise BadRequest("departure_step_s", "must be >= 0")
    if q.max_duration_s <= 0:
        raise BadRequest("max_duration_s", "must be > 0")
    if (
        ctx.day_active.shape[1:] != (tt.n_services,)
        or ctx.day_offset.shape[1] < int(tt.pattern_tz.max(initial=0)) + 1
    ):
        raise BadRequest("context", "service day context was made for another timetable")
    return acc_stop, acc_s, egr_stop, egr_s


def _journey(row: list[int], seg: list[list[int]]) -> Journey:
    start, count = row[3], row[4]
    segments = tuple(
        Segment(SEGMENT_KINDS[r[0]], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])
        for r in seg[start : start + count]
    )
    return Journey(dep=row[0], arr=row[1], transfers=row[2] - 1, segments=segments)


_FLIP = {"access": "egress", "egress": "access", "ride": "ride", "transfer": "transfer"}


def _unmirror(j: Journey, tt: Timetable) -> Journey:
    """A journey found on the mirrored timetable, told forwards."""
    out = []
    for s in reversed(j.segments):
        if s.kind == "ride":
            p = s.pattern
            n = int(tt.pattern_stop_offset[p + 1] - tt.pattern_stop_offset[p])
            trip = int(tt.pattern_trip_offset[p] + tt.pattern_trip_offset[p + 1] - 1 - s.trip)
            out.append(
                Segment(
                    "ride",
                    s.to_stop,
                    s.from_stop,
                    -s.arr,
                    -s.dep,
                    trip,
                    n - 1 - s.alight_pos,
                    n - 1 - s.board_pos,
                    s.day,
                    p,
                )
            )
        else:
            out.append(Segment(_FLIP[s.kind], s.to_stop, s.from_stop, -s.arr, -s.dep))
    return Journey(dep=-j.arr, arr=-j.dep, transfers=j.transfers, segments=tuple(out))
