"""Compiled one-to-all range RAPTOR (numba, nopython, nogil): one origin, many departure minutes.

For one origin (its access stops and walking seconds) and a list of departure instants,
:func:`one_to_all` returns, per departure, the travel time to every destination (given as
egress stops with walking seconds, CSR by destination), and optionally the earliest
arrival at every stop. Departures run from the latest to the earliest and keep their
labels (rRAPTOR, Delling et al.): a journey leaving later is also a journey for an
earlier departure that waits at the origin, so the labels stay valid upper bounds and
each iteration only improves them.

The labels and rules are those of :mod:`routing.raptor_kernels` (the planner's engine),
so a cell equals the earliest arrival ``plan()`` finds for that departure:

- ``A[k, s]`` earliest arrival with at most ``k`` rides, ``B[k, s]`` earliest boarding
  (a ride arrival plus the stop's change time, or an arrival on foot);
- round 0 is walking from the origin (access, then chained footpaths), ``d0`` seconds,
  never more than ``max_walk`` on foot; a ride or footpath arriving at a stop no earlier
  than walking there from the origin is dropped, and so is an arrival at the
  destinations' stops (in the iteration that reads them) that walking beats;
- footpaths after a ride chain (a Dijkstra), at most ``max_walk`` seconds since the ride;
- arrivals later than ``departure + max_duration`` are dropped (target pruning on time).

Walking only (no ride) is not part of the result; the caller adds the direct walk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from routing.raptor_kernels import INF, _first_at_or_after, _heap_pop, _heap_push
from routing.streets import jit

# the Timetable fields one_to_all reads, in its order
TIMETABLE_FIELDS = (
    "pattern_stop_offset", "pattern_stops", "pattern_trip_offset", "pattern_tz", "pattern_mode",
    "trip_time_offset", "arr", "dep", "board_ok", "alight_ok", "trip_service",
    "stop_pattern_offset", "stop_patterns", "stop_pattern_pos", "stop_change_s",
    "transfer_offset", "transfer_target", "transfer_s",
)  # fmt: skip


@jit
def walk_from_origin(
    acc_stop: Any, acc_s: Any, f_off: Any, f_tgt: Any, f_s: Any, n_stops: int, max_walk: int, max_duration: int
) -> Any:
    """Round 0: seconds on foot from the origin to every stop (access, then footpaths;
    INF when farther than ``max_walk``), as the planner's kernel computes them."""
    d0 = np.full(n_stops, INF, np.int64)
    hk = np.empty(acc_stop.shape[0] + f_tgt.shape[0] + 1, np.int64)
    hv = np.empty(acc_stop.shape[0] + f_tgt.shape[0] + 1, np.int32)
    nh = 0
    for i in range(acc_stop.shape[0]):
        s = acc_stop[i]
        a = acc_s[i]
        if a < d0[s] and a <= max_duration:
            d0[s] = a
            nh = _heap_push(hk, hv, nh, a, s)
    while nh > 0:
        d, u, nh = _heap_pop(hk, hv, nh)
        if d > d0[u]:
            continue
        for ed in range(f_off[u], f_off[u + 1]):
            v = f_tgt[ed]
            nd = d + f_s[ed]
            if nd < d0[v] and nd <= max_duration and nd <= max_walk:
                d0[v] = nd
                nh = _heap_push(hk, hv, nh, nd, v)
    return d0


@jit
def one_to_all(
    tt: Any,
    day_active: Any,
    day_offset: Any,
    d0: Any,
    departures: Any,
    n_rounds: int,
    modes: int,
    max_duration: int,
    max_walk: int,
    eg_off: Any,
    eg_stop: Any,
    eg_s: Any,
    keep_stops: bool,
) -> tuple[Any, Any]:
    """Travel seconds ``[n_departures, n_destinations]`` (INF: not by transit within
    ``max_duration``) and, with ``keep_stops``, earliest arrivals ``[n_departures, n_stops]``
    (seconds rel. the reference instant; INF unreached; else a 1 x 1 array).

    ``tt`` holds the timetable's arrays in :data:`TIMETABLE_FIELDS` order; ``departures``
    must be sorted ascending; ``d0`` comes from :func:`walk_from_origin`."""
    (p_soff, p_stops, p_toff, p_tz, p_mode, t_toff, arr, dep, b_ok, a_ok, t_svc,
     s_poff, s_pat, s_ppos, s_change, f_off, f_tgt, f_s) = tt  # fmt: skip
    n_stops = s_change.shape[0]
    n_pat = p_tz.shape[0]
    n_dep = departures.shape[0]
    n_dest = eg_off.shape[0] - 1
    n_days = day_offset.shape[0]
    rows = n_rounds + 1
    A = np.full((rows, n_stops), INF, np.int64)
    B = np.full((rows, n_stops), INF, np.int64)
    walked = np.full(n_stops, INF, np.int64)
    mark = np.zeros(n_stops, np.uint8)
    next_mark = np.zeros(n_stops, np.uint8)
    mark_list = np.empty(n_stops, np.int32)
    next_list = np.empty(n_stops, np.int32)
    chg = np.zeros(n_stops, np.uint8)
    chg_list = np.empty(n_stops, np.int32)
    ride_list = np.empty(n_stops, np.int32)
    pat_first = np.full(n_pat, -1, np.int32)
    pat_queue = np.empty(n_pat, np.int32)
    heap = n_stops + f_tgt.shape[0] + 1
    hk = np.empty(heap, np.int64)
    hv = np.empty(heap, np.int32)
    reach = np.empty(n_stops, np.int32)
    n_reach = 0
    for s in range(n_stops):
        if d0[s] < INF:
            reach[n_reach] = s
            n_reach += 1

    out = np.full((n_dep, n_dest), INF, np.int64)
    stops_out = np.full((n_dep if keep_stops else 1, n_stops if keep_stops else 1), INF, np.int64)

    for it in range(n_dep - 1, -1, -1):
        t = departures[it]
        horizon = t + max_duration
        # round 1 boards wherever the origin's walk reaches (all of them improve: t fell)
        n_mark = 0
        for r in range(n_reach):
            s = reach[r]
            if mark[s] == 0:
                mark[s] = 1
                mark_list[n_mark] = s
                n_mark += 1

        for k in range(1, n_rounds + 1):
            if n_mark == 0:
                break
            nq = 0
            for m in range(n_mark):
                s = mark_list[m]
                for j in range(s_poff[s], s_poff[s + 1]):
                    p = s_pat[j]
                    pos = s_ppos[j]
                    if pat_first[p] < 0:
                        if ((modes >> p_mode[p]) & 1) == 0:
                            continue
                        pat_queue[nq] = p
                        nq += 1
                        pat_first[p] = pos
                    elif pos < pat_first[p]:
                        pat_first[p] = pos
            n_ride = 0
            n_chg = 0
            n_next = 0

            # --- ride along each queued pattern ---
            for q in range(nq):
                p = pat_queue[q]
                first = pat_first[p]
                pat_first[p] = -1
                so = p_soff[p]
                m_len = p_soff[p + 1] - so
                t0 = p_toff[p]
                t1 = p_toff[p + 1]
                z = p_tz[p]
                cur = -1
                cur_base = 0
                cur_off = 0
                for i in range(first, m_len):
                    s = p_stops[so + i]
                    if cur >= 0 and a_ok[cur_base + i] != 0:
                        a = arr[cur_base + i] + cur_off
                        # kept even when walking from the origin is earlier: after a ride the
                        # walking limit starts afresh (see routing.raptor_kernels)
                        if a <= horizon and a < A[k, s]:
                            A[k, s] = a
                            if chg[s] == 0:
                                chg[s] = 1
                                chg_list[n_chg] = s
                                n_chg += 1
                            if walked[s] != 0:
                                walked[s] = 0
                                ride_list[n_ride] = s
                                n_ride += 1
                            bc = a + s_change[s]
                            if bc < B[k, s] and (d0[s] == INF or bc < t + d0[s]):
                                B[k, s] = bc
                                if next_mark[s] == 0:
                                    next_mark[s] = 1
                                    next_list[n_next] = s
                                    n_next += 1
                    if mark[s] == 0:
                        continue
                    bl = t + d0[s] if k == 1 else B[k - 1, s]
                    if bl > horizon:
                        continue
                    limit = horizon + 1
                    if cur >= 0:
                        cd = dep[cur_base + i] + cur_off
                        if bl > cd:
                            continue
                        limit = cd  # only an earlier trip is worth switching to
                    best = -1
                    best_dep = limit
                    best_off = 0
                    for day in range(n_days):
                        off = day_offset[day, z]
                        if dep[t_toff[t1 - 1] + i] + off < bl or dep[t_toff[t0] + i] + off >= best_dep:
                            continue
                        tr = _first_at_or_after(dep, t_toff, i, t0, t1, bl - off)
                        while tr < t1:
                            base = t_toff[tr]
                            dd = dep[base + i] + off
                            if dd >= best_dep:
                                break
                            if day_active[day, t_svc[tr]] != 0 and b_ok[base + i] != 0:
                                best = tr
                                best_dep = dd
                                best_off = off
                                break
                            tr += 1
                    if best >= 0:
                        cur = best
                        cur_base = t_toff[best]
                        cur_off = best_off

            # --- footpaths: Dijkstra from the stops reached by a ride ---
            nh = 0
            for r in range(n_ride):
                s = ride_list[r]
                nh = _heap_push(hk, hv, nh, A[k, s], s)
            while nh > 0:
                d, u, nh = _heap_pop(hk, hv, nh)
                if d > A[k, u]:
                    continue
                for ed in range(f_off[u], f_off[u + 1]):
                    c = f_s[ed]
                    v = f_tgt[ed]
                    nd = d + c
                    wv = walked[u] + c
                    if nd > horizon or wv > max_walk:
                        continue
                    improved = False
                    if nd < A[k, v]:
                        A[k, v] = nd
                        walked[v] = wv
                        nh = _heap_push(hk, hv, nh, nd, v)
                        improved = True
                    if nd < B[k, v] and (d0[v] == INF or nd < t + d0[v]):
                        B[k, v] = nd
                        improved = True
                        if next_mark[v] == 0:
                            next_mark[v] = 1
                            next_list[n_next] = v
                            n_next += 1
                    if improved and chg[v] == 0:
                        chg[v] = 1
                        chg_list[n_chg] = v
                        n_chg += 1

            # --- keep X[k'] <= X[k] for the rounds above ---
            for c in range(n_chg):
                s = chg_list[c]
                chg[s] = 0
                walked[s] = INF
                a = A[k, s]
                for kk in range(k + 1, rows):
                    if A[kk, s] <= a:
                        break
                    A[kk, s] = a
                b = B[k, s]
                for kk in range(k + 1, rows):
                    if B[kk, s] <= b:
                        break
                    B[kk, s] = b
            for r in range(n_ride):
                walked[ride_list[r]] = INF

            for m in range(n_mark):
                mark[mark_list[m]] = 0
            mark, next_mark = next_mark, mark
            mark_list, next_list = next_list, mark_list
            n_mark = n_next
        for m in range(n_mark):
            mark[mark_list[m]] = 0

        # --- read the destinations: best arrival at their stops plus the egress walk ---
        last = A[n_rounds]
        for j in range(n_dest):
            best_arr = INF
            for e in range(eg_off[j], eg_off[j + 1]):
                s = eg_stop[e]
                a = last[s]
                if a == INF:
                    continue
                if a + eg_s[e] < best_arr:
                    best_arr = a + eg_s[e]
            if best_arr < INF and best_arr - t <= max_duration:
                out[it, j] = best_arr - t
        if keep_stops:
            for s in range(n_stops):
                a = last[s]
                if a < INF and (d0[s] == INF or a < t + d0[s]) and a <= horizon:
                    stops_out[it, s] = a
    return out, stops_out


def warm_up() -> None:
    """Compile both kernels (or load them from numba's cache) on a two-stop timetable,
    with the argument types a real graph gives them (read-only timetable arrays)."""
    import numpy as np

    from routing.service_days import N_DAYS
    from routing.timetable import Timetable

    i32, i64 = np.int32, np.int64
    one = np.zeros(1, i32)
    tt = Timetable(
        pattern_stop_offset=np.array([0, 2], i64), pattern_stops=np.array([0, 1], i32),
        pattern_trip_offset=np.array([0, 1], i64), pattern_route=one, pattern_tz=one, pattern_mode=one,
        trip_time_offset=np.zeros(1, i64), arr=np.array([0, 60], i32), dep=np.array([0, 60], i32),
        board_ok=np.array([1, 0], np.uint8), alight_ok=np.array([0, 1], np.uint8), trip_service=one,
        trip_wheelchair=np.ones(1, np.int8), trip_source=one, stop_pattern_offset=np.array([0, 1, 2], i64),
        stop_patterns=np.array([0, 0], i32), stop_pattern_pos=np.array([0, 1], i32), stop_change_s=np.zeros(2, i32),
        stop_wheelchair=np.zeros(2, np.int8), transfer_offset=np.zeros(3, i64), transfer_target=np.zeros(0, i32),
        transfer_s=np.zeros(0, i32), transfer_source=np.zeros(0, i32), service_active=np.ones((1, 1), np.uint8),
    )  # fmt: skip
    arrays = tuple(getattr(tt, name) for name in TIMETABLE_FIELDS)
    d0 = walk_from_origin(np.zeros(1, i32), np.zeros(1, i64), arrays[15], arrays[16], arrays[17], 2, 600, 3600)
    one_to_all(
        arrays, np.ones((N_DAYS, 1), np.uint8), np.array([[-86400], [0], [86400]], i32), d0,
        np.array([0, 60], i64), 2, -1, 3600, 600, np.array([0, 1], i64), np.array([1], i32), np.zeros(1, i64), True,
    )  # fmt: skip
