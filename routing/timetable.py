"""The transit timetable as struct-of-arrays, built from the normalized model.

Layout (nigiri / OTP raptor style; every index is a plain int into its table):

- **patterns**: trips grouped by (route, stop sequence, boarding/alighting flags). The
  trips of a pattern are contiguous, sorted by departure, and FIFO at every stop (a trip
  that overtakes another is moved to a pattern of its own), so the first trip departing
  after a time is a binary search at any position.
- **trips**: ``trip_time_offset[t]`` is where trip ``t``'s times start in the flat
  ``arr``/``dep``/``board_ok``/``alight_ok`` arrays (one entry per pattern position).
  Times are seconds after the service day's local noon minus 12 h, as in GTFS.
- **stop -> patterns** CSR with the position of the stop in each pattern.
- **footpaths** CSR (``transfer_*``), from the street network's stop-to-stop walks with
  transfers.txt applied; ``stop_change_s`` is the minimum change time at a stop.

:class:`Timetable` holds only numpy arrays so the artifact writer can save every field as
``NAME.npy`` and reload it memory-mapped; strings and dates live in :class:`TimetableMeta`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from feeds.model import TransitData
from routing.errors import ArtifactError

MODE_NAMES: tuple[str, ...] = (
    "bus",
    "tram",
    "subway",
    "rail",
    "ferry",
    "cable_car",
    "gondola",
    "funicular",
    "trolleybus",
    "monorail",
    "coach",
)

# pickup_type / drop_off_type value that forbids boarding / alighting (2, 3 still allow it)
_NOT_ALLOWED = 1


@dataclass(frozen=True, eq=False)
class Timetable:
    """The routing timetable. Every field is a read-only, C-contiguous numpy array."""

    # patterns
    pattern_stop_offset: NDArray[np.int64]  # [P + 1]
    pattern_stops: NDArray[np.int32]  # flat stops of all patterns
    pattern_trip_offset: NDArray[np.int64]  # [P + 1] trips of p: offset[p]:offset[p+1]
    pattern_route: NDArray[np.int32]  # [P] row of TransitData.routes
    pattern_tz: NDArray[np.int32]  # [P] index into TimetableMeta.tz_names
    pattern_mode: NDArray[np.int32]  # [P] index into MODE_NAMES
    # trips
    trip_time_offset: NDArray[np.int64]  # [T]
    arr: NDArray[np.int32]  # flat, per trip and pattern position
    dep: NDArray[np.int32]
    board_ok: NDArray[np.uint8]
    alight_ok: NDArray[np.uint8]
    trip_service: NDArray[np.int32]  # [T] row of service_active
    trip_wheelchair: NDArray[np.int8]  # [T] 0 unknown, 1 accessible, 2 not
    trip_source: NDArray[np.int32]  # [T] row of TransitData.trips
    # stops
    stop_pattern_offset: NDArray[np.int64]  # [S + 1]
    stop_patterns: NDArray[np.int32]  # patterns serving each stop
    stop_pattern_pos: NDArray[np.int32]  # position of the stop in that pattern
    stop_change_s: NDArray[np.int32]  # [S] minimum change time at the stop
    stop_wheelchair: NDArray[np.int8]  # [S] 0 unknown, 1 accessible, 2 not
    # footpaths (CSR by source stop)
    transfer_offset: NDArray[np.int64]  # [S + 1]
    transfer_target: NDArray[np.int32]  # [E]
    transfer_s: NDArray[np.int32]  # [E] walking seconds
    transfer_source: NDArray[np.int32]  # [E] source stop of each edge
    # calendar
    service_active: NDArray[np.uint8]  # [n_services, n_days] from Services.active

    def __post_init__(self) -> None:
        for f in fields(self):
            dtype = _DTYPES[f.name]
            a = np.ascontiguousarray(getattr(self, f.name), dtype=dtype)
            view = a.view()
            view.flags.writeable = False
            object.__setattr__(self, f.name, view)

    @property
    def n_stops(self) -> int:
        return int(self.stop_change_s.shape[0])

    @property
    def n_patterns(self) -> int:
        return int(self.pattern_route.shape[0])

    @property
    def n_trips(self) -> int:
        return int(self.trip_source.shape[0])

    @property
    def n_services(self) -> int:
        return int(self.service_active.shape[0])

    def pattern_stop_list(self, p: int) -> NDArray[np.int32]:
        return self.pattern_stops[self.pattern_stop_offset[p] : self.pattern_stop_offset[p + 1]]

    def arrays(self) -> dict[str, np.ndarray]:
        """Every field by name (what the artifact writer saves as ``NAME.npy``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Timetable:
        """Rebuild from :meth:`arrays` output (e.g. memory maps); refuses a missing
        array or one of the wrong dtype or rank rather than converting silently."""
        kwargs: dict[str, np.ndarray] = {}
        for f in fields(cls):
            a = arrays.get(f.name)
            if a is None:
                raise ArtifactError(f"timetable array {f.name!r} is missing")
            want = np.dtype(_DTYPES[f.name])
            if a.dtype != want or a.ndim != _NDIM.get(f.name, 1):
                raise ArtifactError(
                    f"timetable array {f.name!r} is {a.dtype}{list(a.shape)}, expected {want}"
                )
            kwargs[f.name] = np.asarray(a)
        tt = cls(**kwargs)
        tt.check()
        return tt

    def check(self) -> None:
        """Cheap structural consistency checks (sizes agree); raises ArtifactError."""
        p, s, t = self.n_patterns, self.n_stops, self.n_trips
        problems = []
        if self.pattern_stop_offset.shape[0] != p + 1 or self.pattern_trip_offset.shape[0] != p + 1:
            problems.append("pattern offsets do not match the pattern count")
        for name in ("pattern_tz", "pattern_mode"):
            if getattr(self, name).shape[0] != p:
                problems.append(f"{name} length != {p}")
        for name in ("trip_time_offset", "trip_service", "trip_wheelchair"):
            if getattr(self, name).shape[0] != t:
                problems.append(f"{name} length != {t}")
        if self.stop_pattern_offset.shape[0] != s + 1 or self.transfer_offset.shape[0] != s + 1:
            problems.append("stop offsets do not match the stop count")
        if self.stop_wheelchair.shape[0] != s:
            problems.append("stop_wheelchair length != stop count")
        n_flat = self.arr.shape[0]
        if not (self.dep.shape[0] == self.board_ok.shape[0] == self.alight_ok.shape[0] == n_flat):
            problems.append("flat trip arrays differ in length")
        e = self.transfer_target.shape[0]
        if not (self.transfer_s.shape[0] == self.transfer_source.shape[0] == e):
            problems.append("transfer arrays differ in length")
        if p and (
            int(self.pattern_trip_offset[-1]) != t
            or int(self.pattern_stop_offset[-1]) != self.pattern_stops.shape[0]
        ):
            problems.append("pattern offsets do not end at the array sizes")
        if s and int(self.stop_pattern_offset[-1]) != self.stop_patterns.shape[0]:
            problems.append("stop_pattern_offset does not end at len(stop_patterns)")
        if s and int(self.transfer_offset[-1]) != e:
            problems.append("transfer_offset does not end at len(transfer_target)")
        if problems:
            raise ArtifactError("inconsistent timetable: " + "; ".join(problems))


_DTYPES: dict[str, type[np.generic]] = {
    "pattern_stop_offset": np.int64,
    "pattern_stops": np.int32,
    "pattern_trip_offset": np.int64,
    "pattern_route": np.int32,
    "pattern_tz": np.int32,
    "pattern_mode": np.int32,
    "trip_time_offset": np.int64,
    "arr": np.int32,
    "dep": np.int32,
    "board_ok": np.uint8,
    "alight_ok": np.uint8,
    "trip_service": np.int32,
    "trip_wheelchair": np.int8,
    "trip_source": np.int32,
    "stop_pattern_offset": np.int64,
    "stop_patterns": np.int32,
    "stop_pattern_pos": np.int32,
    "stop_change_s": np.int32,
    "stop_wheelchair": np.int8,
    "transfer_offset": np.int64,
    "transfer_target": np.int32,
    "transfer_s": np.int32,
    "transfer_source": np.int32,
    "service_active": np.uint8,
}
_NDIM = {"service_active": 2}


@dataclass(frozen=True)
class TimetableMeta:
    """What the arrays index but cannot hold: time zone names, the calendar's first day."""

    tz_names: tuple[str, ...]
    base_date: dt.date
    mode_names: tuple[str, ...] = MODE_NAMES


def build_timetable(
    data: TransitData,
    transfer_from: np.ndarray,
    transfer_to: np.ndarray,
    transfer_s: np.ndarray,
) -> tuple[Timetable, TimetableMeta]:
    """Build the timetable from the model plus stop-to-stop footpaths (stop indices, seconds).

    Trips with fewer than two stop times are left out (nothing can be ridden). Times
    going backwards along a trip are clamped forward so every trip is non-decreasing.
    """
    n_stops = len(data.stops)
    tz_names, route_tz = _route_time_zones(data)
    route_mode = np.array([_mode_index(r.mode) for r in data.routes], dtype=np.int32)
    patterns = _group_patterns(data)

    p_route = patterns.route
    src = patterns.trip_source
    sp_offset, sp_patterns, sp_pos = _stop_patterns(patterns.stop_offset, patterns.stops, n_stops)
    change_s, t_off, t_target, t_s, t_source = _footpaths(data, transfer_from, transfer_to, transfer_s)
    tt = Timetable(
        pattern_stop_offset=patterns.stop_offset,
        pattern_stops=patterns.stops,
        pattern_trip_offset=patterns.trip_offset,
        pattern_route=p_route,
        pattern_tz=route_tz[p_route] if p_route.size else np.zeros(0, np.int32),
        pattern_mode=route_mode[p_route] if p_route.size else np.zeros(0, np.int32),
        trip_time_offset=patterns.trip_time_offset,
        arr=patterns.arr,
        dep=patterns.dep,
        board_ok=patterns.board_ok,
        alight_ok=patterns.alight_ok,
        trip_service=data.trips.service[src],
        trip_wheelchair=data.trips.wheelchair[src],
        trip_source=src,
        stop_pattern_offset=sp_offset,
        stop_patterns=sp_patterns,
        stop_pattern_pos=sp_pos,
        stop_change_s=change_s,
        stop_wheelchair=data.stops.wheelchair,
        transfer_offset=t_off,
        transfer_target=t_target,
        transfer_s=t_s,
        transfer_source=t_source,
        service_active=data.services.active.astype(np.uint8),
    )
    tt.check()
    return tt, TimetableMeta(tz_names=tz_names, base_date=data.services.base_date)


def _mode_index(mode: str) -> int:
    # an unknown mode is routed as a bus rather than dropped; feeds/ maps route types
    return MODE_NAMES.index(mode) if mode in MODE_NAMES else 0


def _route_time_zones(data: TransitData) -> tuple[tuple[str, ...], NDArray[np.int32]]:
    names = sorted({data.agencies[r.agency].timezone for r in data.routes}) or ["UTC"]
    index = {n: i for i, n in enumerate(names)}
    route_tz = np.array([index[data.agencies[r.agency].timezone] for r in data.routes], dtype=np.int32)
    return tuple(names), route_tz


@dataclass(frozen=True)
class _Patterns:
    stop_offset: NDArray[np.int64]
    stops: NDArray[np.int32]
    trip_offset: NDArray[np.int64]
    route: NDArray[np.int32]
    trip_source: NDArray[np.int32]
    trip_time_offset: NDArray[np.int64]
    arr: NDArray[np.int32]
    dep: NDArray[np.int32]
    board_ok: NDArray[np.uint8]
    alight_ok: NDArray[np.uint8]


def _group_patterns(data: TransitData) -> _Patterns:
    """Group trips into FIFO patterns, vectorized per trip length."""
    trips, st = data.trips, data.stop_times
    st_off = trips.st_offset.astype(np.int64)
    lengths = np.diff(st_off)
    arrival = st.arrival.astype(np.int64)
    departure = st.departure.astype(np.int64)

    p_stops: list[np.ndarray] = []
    p_len: list[np.ndarray] = []
    p_ntrips: list[np.ndarray] = []
    p_route: list[np.ndarray] = []
    t_src: list[np.ndarray] = []
    flat: dict[str, list[np.ndarray]] = {"arr": [], "dep": [], "board": [], "alight": []}

    for length in np.unique(lengths[lengths >= 2]):
        L = int(length)
        tix = np.flatnonzero(lengths == L)
        rows = st_off[tix, None] + np.arange(L)
        stops = st.stop[rows].astype(np.int64)
        board = (st.pickup[rows] != _NOT_ALLOWED).astype(np.uint8)
        alight = (st.drop_off[rows] != _NOT_ALLOWED).astype(np.uint8)
        board[:, -1] = 0  # boarding at the last stop or alighting at the first is
        alight[:, 0] = 0  # meaningless; normalizing avoids needless pattern splits
        # clamp times forward: arr0 <= dep0 <= arr1 <= dep1 ...
        inter = np.empty((tix.size, 2 * L), np.int64)
        inter[:, 0::2] = arrival[rows]
        inter[:, 1::2] = departure[rows]
        inter = np.maximum.accumulate(inter, axis=1)
        a, d = inter[:, 0::2], inter[:, 1::2]

        route = trips.route[tix].astype(np.int64)
        key = np.concatenate([route[:, None], stops, board, alight], axis=1)
        _, group = np.unique(key, axis=0, return_inverse=True)
        group = group.ravel()
        # sort by group, then by departures (first stop first), then arrivals
        order = np.lexsort(tuple(a[:, ::-1].T) + tuple(d[:, ::-1].T) + (group,))
        pattern = _split_non_fifo(group[order], a[order], d[order])
        # stable: trips of each pattern stay in departure order
        final = order[np.argsort(pattern, kind="stable")]
        pat_sorted = np.sort(pattern, kind="stable")
        starts = np.flatnonzero(np.r_[True, pat_sorted[1:] != pat_sorted[:-1]])
        counts = np.diff(np.r_[starts, pat_sorted.size])

        first = final[starts]
        p_stops.append(stops[first].ravel())
        p_len.append(np.full(starts.size, L, np.int64))
        p_ntrips.append(counts.astype(np.int64))
        p_route.append(route[first])
        t_src.append(tix[final])
        flat["arr"].append(a[final].ravel())
        flat["dep"].append(d[final].ravel())
        flat["board"].append(board[final].ravel())
        flat["alight"].append(alight[final].ravel())

    def cat(parts: list[np.ndarray], dtype: type[np.generic]) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    lens = cat(p_len, np.int64)
    ntrips = cat(p_ntrips, np.int64)
    trip_len = np.repeat(lens, ntrips)
    return _Patterns(
        stop_offset=np.r_[0, np.cumsum(lens)].astype(np.int64),
        stops=cat(p_stops, np.int32),
        trip_offset=np.r_[0, np.cumsum(ntrips)].astype(np.int64),
        route=cat(p_route, np.int32),
        trip_source=cat(t_src, np.int32),
        trip_time_offset=np.r_[0, np.cumsum(trip_len)[:-1]].astype(np.int64)
        if trip_len.size
        else np.zeros(0, np.int64),
        arr=cat(flat["arr"], np.int32),
        dep=cat(flat["dep"], np.int32),
        board_ok=cat(flat["board"], np.uint8),
        alight_ok=cat(flat["alight"], np.uint8),
    )


def _split_non_fifo(group: np.ndarray, a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Pattern number per trip (rows sorted by group then departure): each group is one
    pattern unless a trip overtakes another, then that group is split greedily into
    FIFO chains (a trip joins the first chain whose last trip it never overtakes)."""
    n = group.size
    pattern = group.astype(np.int64).copy()
    if n < 2:
        return pattern
    same = group[1:] == group[:-1]
    ok = (a[1:] >= a[:-1]).all(axis=1) & (d[1:] >= d[:-1]).all(axis=1)
    bad_groups = np.unique(group[1:][same & ~ok])
    next_id = int(group.max()) + 1
    for g in bad_groups:
        chain_id: list[int] = []
        chain_a: list[np.ndarray] = []
        chain_d: list[np.ndarray] = []
        for i in np.flatnonzero(group == g):
            for c in range(len(chain_id)):
                if (a[i] >= chain_a[c]).all() and (d[i] >= chain_d[c]).all():
                    chain_a[c], chain_d[c] = a[i], d[i]
                    pattern[i] = chain_id[c]
                    break
            else:
                if chain_id:
                    pattern[i] = next_id
                    next_id += 1
                chain_id.append(int(pattern[i]))
                chain_a.append(a[i])
                chain_d.append(d[i])
    return pattern


def _stop_patterns(
    stop_offset: np.ndarray, stops: np.ndarray, n_stops: int
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]:
    lens = np.diff(stop_offset)
    pat = np.repeat(np.arange(lens.size, dtype=np.int32), lens)
    pos = (np.arange(stops.size, dtype=np.int64) - np.repeat(stop_offset[:-1], lens)).astype(np.int32)
    order = np.lexsort((pos, pat, stops))
    counts = np.bincount(stops, minlength=n_stops) if stops.size else np.zeros(n_stops, np.int64)
    return np.r_[0, np.cumsum(counts)].astype(np.int64), pat[order], pos[order]


def _footpaths(
    data: TransitData, t_from: np.ndarray, t_to: np.ndarray, t_s: np.ndarray
) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
    """Footpath CSR plus change times, with transfers.txt applied.

    transfers.txt rows naming a station (location_type 1) apply to its platforms.
    Type 2 with from == to sets the stop's minimum change time (the largest one given);
    type 2 between two stops sets that walk's time (adding the edge); type 3 removes it.
    """
    n = len(data.stops)
    f = np.asarray(t_from, dtype=np.int64)
    t = np.asarray(t_to, dtype=np.int64)
    s = np.asarray(t_s, dtype=np.int64)
    if not (f.shape == t.shape == s.shape):
        raise ValueError("transfer_from, transfer_to and transfer_s must have the same length")
    if f.size and (f.min() < 0 or t.min() < 0 or f.max() >= n or t.max() >= n or s.min() < 0):
        raise ValueError("footpaths reference unknown stops or negative times")
    keep = f != t
    codes = f[keep] * n + t[keep]
    secs = s[keep]

    change = np.zeros(n, np.int64)
    override: dict[int, int] = {}
    forbidden: set[int] = set()
    tr = data.transfers
    for a, b, kind, min_time in zip(
        tr.from_stop.tolist(),
        tr.to_stop.tolist(),
        tr.transfer_type.tolist(),
        tr.min_time.tolist(),
        strict=True,
    ):
        if kind not in (2, 3) or a < 0 or b < 0 or (kind == 2 and min_time < 0):
            continue
        for x in _platforms(data, a):
            for y in _platforms(data, b):
                if kind == 3:
                    if x != y:
                        forbidden.add(x * n + y)
                elif x == y:
                    change[x] = max(change[x], min_time)
                else:
                    code = x * n + y
                    override[code] = max(override.get(code, 0), min_time)
    if override or forbidden:
        drop = np.isin(codes, np.fromiter(list(override) + list(forbidden), np.int64))
        codes, secs = codes[~drop], secs[~drop]
        extra = [(c, v) for c, v in override.items() if c not in forbidden]
        if extra:
            codes = np.r_[codes, np.array([c for c, _ in extra], np.int64)]
            secs = np.r_[secs, np.array([v for _, v in extra], np.int64)]
    # one edge per pair, the shortest
    order = np.lexsort((secs, codes))
    codes, secs = codes[order], secs[order]
    first = np.r_[True, codes[1:] != codes[:-1]] if codes.size else np.zeros(0, bool)
    codes, secs = codes[first], secs[first]
    src, dst = codes // n if n else codes, codes % n if n else codes
    counts = np.bincount(src, minlength=n) if src.size else np.zeros(n, np.int64)
    offset = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return (
        change.astype(np.int32),
        offset,
        dst.astype(np.int32),
        secs.astype(np.int32),
        src.astype(np.int32),
    )


def _platforms(data: TransitData, stop: int) -> list[int]:
    """A station stands for its child stops; any other stop for itself."""
    stops = data.stops
    if int(stops.location_type[stop]) != 1:
        return [stop]
    children = np.flatnonzero((stops.parent == stop) & (stops.location_type == 0)).tolist()
    return children or [stop]


def mirror_timetable(tt: Timetable) -> Timetable:
    """The timetable run backwards in time, for arrive-by searches.

    Times are negated, every pattern's stop order reversed (so are its trips, which keeps
    them sorted and FIFO), boarding and alighting swapped, footpaths transposed. Trip
    ``j`` of pattern ``p`` in the mirror is trip ``off[p] + off[p+1] - 1 - j`` forward;
    position ``i`` is ``len(p) - 1 - i``; stops and services keep their indices.
    """
    p_len = np.diff(tt.pattern_stop_offset)
    p_ntrips = np.diff(tt.pattern_trip_offset)
    # pattern stops reversed within each pattern
    local = np.arange(tt.pattern_stops.size, dtype=np.int64) - np.repeat(tt.pattern_stop_offset[:-1], p_len)
    rev_stop_idx = np.repeat(tt.pattern_stop_offset[:-1] + p_len - 1, p_len) - local
    # trips reversed within each pattern
    t_local = np.arange(tt.n_trips, dtype=np.int64) - np.repeat(tt.pattern_trip_offset[:-1], p_ntrips)
    fwd_trip = np.repeat(tt.pattern_trip_offset[1:] - 1, p_ntrips) - t_local
    trip_len = np.repeat(p_len, p_ntrips)
    m_tto = np.r_[0, np.cumsum(trip_len)[:-1]].astype(np.int64) if trip_len.size else np.zeros(0, np.int64)
    # flat index of mirrored (trip j, pos i) -> forward (fwd_trip[j], len - 1 - i)
    j_of_flat = np.repeat(np.arange(tt.n_trips, dtype=np.int64), trip_len)
    i_of_flat = np.arange(tt.arr.size, dtype=np.int64) - np.repeat(m_tto, trip_len)
    src_flat = tt.trip_time_offset[fwd_trip[j_of_flat]] + trip_len[j_of_flat] - 1 - i_of_flat
    # footpaths transposed
    order = np.lexsort((tt.transfer_source, tt.transfer_target))
    counts = (
        np.bincount(tt.transfer_target, minlength=tt.n_stops)
        if tt.transfer_target.size
        else np.zeros(tt.n_stops, np.int64)
    )
    return Timetable(
        pattern_stop_offset=tt.pattern_stop_offset,
        pattern_stops=tt.pattern_stops[rev_stop_idx],
        pattern_trip_offset=tt.pattern_trip_offset,
        pattern_route=tt.pattern_route,
        pattern_tz=tt.pattern_tz,
        pattern_mode=tt.pattern_mode,
        trip_time_offset=m_tto,
        arr=-tt.dep[src_flat],
        dep=-tt.arr[src_flat],
        board_ok=tt.alight_ok[src_flat],
        alight_ok=tt.board_ok[src_flat],
        trip_service=tt.trip_service[fwd_trip],
        trip_wheelchair=tt.trip_wheelchair[fwd_trip],
        trip_source=tt.trip_source[fwd_trip],
        stop_pattern_offset=tt.stop_pattern_offset,
        stop_patterns=tt.stop_patterns,
        stop_pattern_pos=(p_len[tt.stop_patterns] - 1 - tt.stop_pattern_pos).astype(np.int32),
        stop_change_s=tt.stop_change_s,
        stop_wheelchair=tt.stop_wheelchair,
        transfer_offset=np.r_[0, np.cumsum(counts)].astype(np.int64),
        transfer_target=tt.transfer_source[order],
        transfer_s=tt.transfer_s[order],
        transfer_source=tt.transfer_target[order],
        service_active=tt.service_active,
    )
