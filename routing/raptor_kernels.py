"""Compiled range-RAPTOR (numba, nopython, nogil): arrays in, arrays out.

One call answers one query over one timetable (forward; arrive-by runs the same code
on the mirrored timetable). Labels are kept per round ``k`` (= number of rides):

- ``A[k, s]``: earliest arrival at stop ``s`` with at most ``k`` rides (by a ride or on
  foot), used for egress, walking on and target pruning;
- ``B[k, s]``: earliest time one can *board* at ``s`` after at most ``k`` rides: a ride
  arrival plus the stop's change time, or an arrival on foot (no change time).

Round 0 (walking from the origin: access, then footpaths) is not stored: its labels are
``t + d0[s]`` for the iteration's departure ``t``, with ``d0`` the walking time computed
once per query. For ``k >= 1`` both labels keep ``X[k] <= X[k-1]`` (improvements are
copied up), which makes them reusable across the departure iterations of a range query
(rRAPTOR, Delling et al.) while keeping the Pareto set on arrival x rides exact: a
journey is reported in round ``k`` only when it beats every journey found so far with at
most ``k`` rides, walking included. As in OTP, a round boards only at stops whose boarding
time improved in the round before (elsewhere the trips were tried already); round 1 of a
later iteration scans only the patterns whose departures made its time a candidate. Footpaths
are relaxed by a Dijkstra from the stops a round reached by a ride, so chains of
footpaths behave like the transfer graph's shortest paths.

Pruning: a label is dropped when it cannot beat the best arrival known for its round
(target pruning) or the duration limit, even with a lower bound of the remaining time
added (a reverse Dijkstra from the destination over footpaths and each pattern's fastest
hops, computed per query; OTP's destination heuristic in spirit). A boarding label is
also dropped when walking there from the origin (round 0) is as early, and so is an
arrival label when walking is unlimited; under a walking limit an arrival label is kept,
because the limit starts afresh after a ride, so walks on from it (footpath chains,
egress) may reach what round 0 cannot. Known gap: one arrival label per stop and round,
so an earlier arrival with more walking behind it replaces a later one with less, which
a walking limit can make the better one (tests/routing/test_raptor_walk_limits.py).

Journeys are reconstructed right when found (labels are overwritten later), and their
times recomputed along the chain: walks before the first ride end at the boarding time
(the journey leaves as late as possible), later walks start on arrival.

The workspace (label arrays) is passed in clean (all labels INF, flags 0) and handed
back clean: only touched entries are reset, never O(stops x rounds) per query.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

INF = 2147483647  # "unreached" in the int32 label arrays

# label parents
P_NONE = 0
P_ACCESS = 1
P_RIDE = 2  # A: alighted here; B: alighted here, plus the change time
P_WALK = 3
P_COPY = 4  # same label as round k - 1

# segment kinds (columns of the segment output)
SEG_ACCESS = 0
SEG_RIDE = 1
SEG_TRANSFER = 2
SEG_EGRESS = 3
SEG_COLS = 10  # kind, from, to, dep, arr, trip, board_pos, alight_pos, day, pattern
JRN_COLS = 5  # dep, arr, rides, first segment, segment count

_FLAG_CHANGED = 1
_FLAG_RIDE = 2


@njit(cache=True, nogil=True)
def _heap_push(hk: Any, hv: Any, n: int, key: int, val: int) -> int:
    # binary min-heap, sifted with a hole (moves instead of swaps)
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] <= key:
            break
        hk[i] = hk[parent]
        hv[i] = hv[parent]
        i = parent
    hk[i] = key
    hv[i] = val
    return n + 1


@njit(cache=True, nogil=True)
def _heap_pop(hk: Any, hv: Any, n: int) -> tuple[int, int, int]:
    key = hk[0]
    val = hv[0]
    n -= 1
    last_k = hk[n]
    last_v = hv[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        child = left
        if left + 1 < n and hk[left + 1] < hk[left]:
            child = left + 1
        if last_k <= hk[child]:
            break
        hk[i] = hk[child]
        hv[i] = hv[child]
        i = child
    hk[i] = last_k
    hv[i] = last_v
    return key, val, n


@njit(cache=True, nogil=True)
def _first_at_or_after(dep: Any, t_toff: Any, pos: int, t0: int, t1: int, target: int) -> int:
    """First trip in [t0, t1) departing at ``pos`` at or after ``target`` (t1 if none)."""
    lo = t0
    hi = t1
    while lo < hi:
        mid = (lo + hi) >> 1
        if dep[t_toff[mid] + pos] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def footpath_closure(f_off: Any, f_tgt: Any, f_s: Any) -> Any:
    """Per stop ``u``: the shortest walk from ``u`` (through the footpath graph) to a stop
    that a chain of footpaths reaches faster than ``u``'s direct footpath, or that ``u``
    has no footpath to (INF when there is none). A chain from ``u`` shorter than that never
    beats the direct footpath, so a Dijkstra need not continue it: the build's footpaths
    are shortest street walks up to a cutoff, so only chains past the cutoff are relaxed.

    Each Dijkstra stops at its first such stop; every stop settled before has a direct
    footpath from ``u``, so the cost is the sum over stops of in-degree x out-degree."""
    n = f_off.shape[0] - 1
    close = np.full(n, INF, np.int32)
    direct = np.full(n, INF, np.int64)
    dist = np.full(n, INF, np.int64)
    seen = np.empty(n, np.int32)
    hk = np.empty(f_tgt.shape[0] + n + 1, np.int64)
    hv = np.empty(f_tgt.shape[0] + n + 1, np.int32)
    for u in range(n):
        if f_off[u] == f_off[u + 1]:
            continue
        for ed in range(f_off[u], f_off[u + 1]):
            if f_s[ed] < direct[f_tgt[ed]]:
                direct[f_tgt[ed]] = f_s[ed]
        n_seen = 1
        seen[0] = u
        dist[u] = 0
        nh = _heap_push(hk, hv, 0, 0, u)
        while nh > 0:
            d, x, nh = _heap_pop(hk, hv, nh)
            if d > dist[x]:
                continue
            if x != u and d < direct[x]:
                close[u] = d
                break
            for ed in range(f_off[x], f_off[x + 1]):
                y = f_tgt[ed]
                nd = d + f_s[ed]
                if nd < dist[y]:
                    if dist[y] == INF:
                        seen[n_seen] = y
                        n_seen += 1
                    dist[y] = nd
                    nh = _heap_push(hk, hv, nh, nd, y)
        for i in range(n_seen):
            dist[seen[i]] = INF
        for ed in range(f_off[u], f_off[u + 1]):
            direct[f_tgt[ed]] = INF
    return close


@njit(cache=True, nogil=True)
def _walk_before_boarding(k: int, s: int, Ak: Any, Bk: Any, Ae: Any, Be: Any, f_src: Any, f_s: Any) -> int:
    """Seconds walked since the last ride to reach stop ``s``'s boarding label of round
    ``k`` (>= 1): the footpath chain its parents describe, 0 when it boards where it
    alighted. Used only to break ties between boarding stops of one trip."""
    walked = 0
    side = 1  # start at the B label, then follow A labels back along the chain
    for _ in range(4 * (Ak.shape[1] + 2)):
        if k < 1:
            return walked
        kind = Bk[k, s] if side == 1 else Ak[k, s]
        if kind == P_COPY:
            k -= 1
            continue
        if kind != P_WALK:
            return walked
        edge = Be[k, s] if side == 1 else Ae[k, s]
        walked += f_s[edge]
        s = f_src[edge]
        side = 0
    return walked


@njit(cache=True, nogil=True)
def _first_at_least(w: Any, lo: int, hi: int, x: int) -> int:
    """First index in [lo, hi) of the ascending ``w`` with ``w >= x`` (hi if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if w[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _chain_lo(edge: int, f_src: Any, f_s: Any, f_close: Any) -> int:
    """For a stop reached on foot over ``edge`` (-1: not on foot), the shortest footpath
    on from it worth relaxing: a shorter one makes a chain from the edge's source that the
    source's direct footpath equals or beats (``footpath_closure``), and that footpath was
    relaxed when the source was settled."""
    if edge < 0:
        return -1
    return int(f_close[f_src[edge]]) - int(f_s[edge])


@njit(cache=True, nogil=True)
def _grow2(buf: Any, n: int, need: int) -> Any:
    if n + need <= buf.shape[0]:
        return buf
    cap = max(2 * buf.shape[0], n + need)
    out = np.empty((cap, buf.shape[1]), np.int64)
    out[:n] = buf[:n]
    return out


@njit(cache=True, nogil=True)
def _reconstruct(
    k: int,
    e: int,
    eg: int,
    tt: Any,
    day_offset: Any,
    ws: Any,
    seg: Any,
    n_seg: int,
) -> tuple[Any, int, int, int, int]:
    """Follow parents from (round k, egress stop e) back to the origin and append the
    journey's segments to ``seg``. Returns (seg, n_seg, dep, arr, rides); rides < 0 when
    the chain is broken (never expected; the caller then skips the journey)."""
    p_soff, p_stops, _, p_tz, _, t_toff, arr, dep = tt[:8]
    f_tgt, f_s, f_src = tt[18:21]
    A, _, Ak, Bk, Ae, Be, r_trip, r_day, r_board, r_alight, r_pat = ws[:11]
    d0, d0_edge = ws[24], ws[25]

    n_stops = A.shape[1]
    limit = (k + 2) * (n_stops + 2)
    steps = np.empty((16, 6), np.int64)  # kind, a, b, c, d, e (reversed order)
    n = 0
    steps[n, 0] = SEG_EGRESS
    steps[n, 1] = e
    steps[n, 2] = eg
    n += 1
    side = 0  # 0: A label, 1: B label
    kk = k
    s = e
    rides = 0
    guard = 0
    while True:
        guard += 1
        if guard > limit or kk < 0:
            return seg, n_seg, 0, 0, -1
        if kk == 0:  # walking from the origin
            kind = P_ACCESS if d0_edge[s] < 0 else P_WALK
            edge = d0_edge[s]
        elif side == 0:
            kind = Ak[kk, s]
            edge = Ae[kk, s]
        else:
            kind = Bk[kk, s]
            edge = Be[kk, s]
        if kind == P_COPY:
            kk -= 1
            continue
        steps = _grow2(steps, n, 1)
        if kind == P_ACCESS:
            steps[n, 0] = SEG_ACCESS
            steps[n, 1] = s
            steps[n, 2] = d0[s]
            n += 1
            break
        if kind == P_WALK:
            steps[n, 0] = SEG_TRANSFER
            steps[n, 1] = edge
            n += 1
            s = f_src[edge]
            side = 0
            continue
        if kind == P_RIDE:
            p = r_pat[kk, s]
            steps[n, 0] = SEG_RIDE
            steps[n, 1] = p
            steps[n, 2] = r_trip[kk, s]
            steps[n, 3] = r_day[kk, s]
            steps[n, 4] = r_board[kk, s]
            steps[n, 5] = r_alight[kk, s]
            n += 1
            rides += 1
            s = p_stops[p_soff[p] + r_board[kk, s]]
            side = 1
            kk -= 1
            continue
        return seg, n_seg, 0, 0, -1
    if rides == 0:
        return seg, n_seg, 0, 0, -1

    # times along the chain (steps are reversed: index n-1 is the access)
    t_dep = np.empty(n, np.int64)
    t_arr = np.empty(n, np.int64)
    first_ride = n - 1
    while steps[first_ride, 0] != SEG_RIDE:
        first_ride -= 1
    cur = 0
    for j in range(first_ride, -1, -1):
        kind = steps[j, 0]
        if kind == SEG_RIDE:
            p = steps[j, 1]
            off = day_offset[steps[j, 3], p_tz[p]]
            base = t_toff[steps[j, 2]]
            t_dep[j] = dep[base + steps[j, 4]] + off
            t_arr[j] = arr[base + steps[j, 5]] + off
            cur = t_arr[j]
        elif kind == SEG_TRANSFER:
            t_dep[j] = cur
            cur = cur + f_s[steps[j, 1]]
            t_arr[j] = cur
        else:  # egress
            t_dep[j] = cur
            t_arr[j] = cur + steps[j, 2]
    cur = t_dep[first_ride]
    for j in range(first_ride + 1, n):  # walks before the first ride, then the access
        kind = steps[j, 0]
        t_arr[j] = cur
        cur -= f_s[steps[j, 1]] if kind == SEG_TRANSFER else steps[j, 2]
        t_dep[j] = cur

    seg = _grow2(seg, n_seg, n)
    for j in range(n - 1, -1, -1):
        row = n_seg
        n_seg += 1
        kind = steps[j, 0]
        seg[row, 0] = kind
        seg[row, 3] = t_dep[j]
        seg[row, 4] = t_arr[j]
        seg[row, 5] = -1
        seg[row, 6] = -1
        seg[row, 7] = -1
        seg[row, 8] = -1
        seg[row, 9] = -1
        if kind == SEG_ACCESS:
            seg[row, 1] = -1
            seg[row, 2] = steps[j, 1]
        elif kind == SEG_EGRESS:
            seg[row, 1] = steps[j, 1]
            seg[row, 2] = -1
        elif kind == SEG_TRANSFER:
            seg[row, 1] = f_src[steps[j, 1]]
            seg[row, 2] = f_tgt[steps[j, 1]]
        else:
            p = steps[j, 1]
            seg[row, 1] = p_stops[p_soff[p] + steps[j, 4]]
            seg[row, 2] = p_stops[p_soff[p] + steps[j, 5]]
            seg[row, 5] = steps[j, 2]
            seg[row, 6] = steps[j, 4]
            seg[row, 7] = steps[j, 5]
            seg[row, 8] = steps[j, 3]
            seg[row, 9] = p
    return seg, n_seg, t_dep[n - 1], t_arr[0], rides


@njit(cache=True, nogil=True)
def _lower_bounds(
    egr_stop: Any,
    egress_time: Any,
    radius: int,
    lb_off: Any,
    lb_src: Any,
    lb_w: Any,
    lb_mid: Any,
    lb_close: Any,
    lb: Any,
    lb_lo: Any,
    lb_list: Any,
    nxt: Any,
    val: Any,
) -> int:
    """Backward Dijkstra from the egress stops over the lower-bound graph, up to (not
    including) ``radius`` seconds; fills ``lb`` and lists the stops set in ``lb_list``
    (returns their count). Only the bounds are used, never the paths, so the order in
    which equal times settle does not matter: a bucket queue (one bucket per second,
    ``nxt``/``val`` hold the entries as linked lists) replaces the binary heap.

    Each stop's incoming edges are its pattern hops, then its footpaths by increasing
    time; a stop reached on foot skips the footpaths that its successor's own cover
    (``footpath_closure`` of the reversed footpaths, kept per stop in ``lb_lo``)."""
    n_lb = 0
    if radius <= 0:
        return 0
    head = np.full(radius, -1, np.int64)
    n_ent = 0
    live = 0
    for i in range(egr_stop.shape[0]):
        s = egr_stop[i]
        if egress_time[s] < lb[s] and egress_time[s] < radius:
            if lb[s] == INF:
                lb_list[n_lb] = s
                n_lb += 1
            lb[s] = egress_time[s]
            lb_lo[s] = -1
            nxt[n_ent] = head[lb[s]]
            val[n_ent] = s
            head[lb[s]] = n_ent
            n_ent += 1
            live += 1
    d = 0
    while live > 0:
        if head[d] < 0:
            d += 1
            continue
        e = head[d]
        head[d] = nxt[e]
        live -= 1
        v = val[e]
        if d > lb[v]:
            continue
        for j in range(lb_off[v], lb_mid[v]):
            u = lb_src[j]
            nd = d + lb_w[j]
            if nd < lb[u] and nd < radius:
                if lb[u] == INF:
                    lb_list[n_lb] = u
                    n_lb += 1
                lb[u] = nd
                lb_lo[u] = -1
                nxt[n_ent] = head[nd]
                val[n_ent] = u
                head[nd] = n_ent
                n_ent += 1
                live += 1
        j = _first_at_least(lb_w, lb_mid[v], lb_off[v + 1], lb_lo[v])
        while j < lb_off[v + 1]:
            nd = d + lb_w[j]
            if nd >= radius:
                break
            u = lb_src[j]
            if nd < lb[u]:
                if lb[u] == INF:
                    lb_list[n_lb] = u
                    n_lb += 1
                lb[u] = nd
                lb_lo[u] = lb_close[v] - lb_w[j]
                nxt[n_ent] = head[nd]
                val[n_ent] = u
                head[nd] = n_ent
                n_ent += 1
                live += 1
            j += 1
    return n_lb


@njit(cache=True, nogil=True)
def raptor_search(
    tt: Any,
    day_active: Any,
    day_offset: Any,
    acc_stop: Any,
    acc_s: Any,
    egr_stop: Any,
    egr_s: Any,
    time: int,
    window: int,
    n_rounds: int,
    wheelchair: bool,
    modes: int,
    max_duration: int,
    step: int,
    lb_radius: int,
    walk_only_max: int,
    max_walk: int,
    ws: Any,
) -> tuple[Any, int, Any, int]:
    """Range RAPTOR over departures in [time, time + window] (times relative to the
    context's reference instant), one iteration per ``step`` seconds that hold a
    candidate departure (``step`` 1: every distinct one, exact). Returns (journeys,
    n_journeys, segments, n_segments): journey rows are JRN_COLS wide, segment rows
    SEG_COLS wide."""
    (
        p_soff,
        p_stops,
        p_toff,
        p_tz,
        p_mode,
        t_toff,
        arr,
        dep,
        b_ok,
        a_ok,
        t_svc,
        t_wc,
        s_poff,
        s_pat,
        s_ppos,
        s_change,
        s_wc,
        f_off,
        f_tgt,
        f_s,
        f_src,
        lb_off,
        lb_src,
        lb_w,
        lb_mid,
        lb_close,
        f_close,
        fs_w,
        fs_tgt,
        fs_edge,
    ) = tt
    (
        A,
        B,
        Ak,
        Bk,
        Ae,
        Be,
        r_trip,
        r_day,
        r_board,
        r_alight,
        r_pat,
        touched,
        touched_list,
        chg,
        chg_list,
        mark,
        mark_list,
        next_list,
        ride_list,
        pat_first,
        pat_queue,
        hk,
        hv,
        egress_time,
        d0,
        d0_edge,
        reach_list,
        next_mark,
        lb,
        lb_list,
        walked,
        lb_lo,
        fp_cand,
    ) = ws

    n_days = day_offset.shape[0]
    jr = np.empty((8, JRN_COLS), np.int64)
    seg = np.empty((32, SEG_COLS), np.int64)
    n_j = 0
    n_seg = 0
    n_touched = 0

    for i in range(egr_stop.shape[0]):
        s = egr_stop[i]
        if egr_s[i] < egress_time[s]:
            egress_time[s] = egr_s[i]

    # without walking limits, round 0 walks anywhere a ride's walk on could, and earlier
    walk_limited = max_walk < INF or walk_only_max < INF

    # --- walking from the origin: access, then footpaths (a Dijkstra) ---
    n_reach = 0
    nh = 0
    for i in range(acc_stop.shape[0]):
        s = acc_stop[i]
        a = acc_s[i]
        if a < d0[s] and a <= max_duration:
            if d0[s] == INF:
                reach_list[n_reach] = s
                n_reach += 1
            d0[s] = a
            d0_edge[s] = -1
            nh = _heap_push(hk, hv, nh, a, s)
    w0 = INF  # walking only, origin to destination through stops
    while nh > 0:
        d, u, nh = _heap_pop(hk, hv, nh)
        if d > d0[u]:
            continue
        if d >= w0:
            break
        # walking all the way dominates transit only when the rider accepts that walk
        if egress_time[u] < INF and d + egress_time[u] < w0 and d + egress_time[u] <= walk_only_max:
            w0 = d + egress_time[u]
        lo = _chain_lo(d0_edge[u], f_src, f_s, f_close)
        for ed in range(f_off[u], f_off[u + 1]):
            if f_s[ed] < lo:  # the footpath from u's predecessor is as short
                continue
            v = f_tgt[ed]
            nd = d + f_s[ed]
            if nd < d0[v] and nd < w0 and nd <= max_duration and nd <= max_walk:
                if d0[v] == INF:
                    reach_list[n_reach] = v
                    n_reach += 1
                d0[v] = nd
                d0_edge[v] = ed
                nh = _heap_push(hk, hv, nh, nd, v)
    nh = 0

    # --- lower bounds of the time from each stop to the destination (no waiting, the
    # fastest hop of every pattern, footpaths; OTP's destination pruning): a label that
    # cannot beat the best arrival even so is dropped. Searched up to the walk-only time
    # (anything slower loses to walking), the duration limit or ``lb_radius`` (the search
    # costs as much as the area it covers); stops beyond get the radius as their bound.
    radius = max_duration + 1
    if w0 < radius:
        radius = w0
    if lb_radius < radius:
        radius = lb_radius
    n_lb = _lower_bounds(
        egr_stop, egress_time, radius, lb_off, lb_src, lb_w, lb_mid, lb_close, lb, lb_lo, lb_list, hk, hv
    )

    # --- departure iterations: time + window first, then every later-to-earlier
    # candidate (a trip departure at a reachable stop minus the walk to it) ---
    n_cand = 0
    cand = np.empty((16, 4), np.int64)  # departure, stop, pattern, position in it
    if window > 0:
        for r in range(n_reach):
            s = reach_list[r]
            if d0[s] >= w0 or d0[s] + min(lb[s], radius) >= w0 or (wheelchair and s_wc[s] == 2):
                continue
            for j in range(s_poff[s], s_poff[s + 1]):
                p = s_pat[j]
                pos = s_ppos[j]
                if ((modes >> p_mode[p]) & 1) == 0:
                    continue
                z = p_tz[p]
                t0 = p_toff[p]
                t1 = p_toff[p + 1]
                for day in range(n_days):
                    off = day_offset[day, z]
                    lo = time + d0[s] - off
                    hi = time + window + d0[s] - off
                    tr = _first_at_or_after(dep, t_toff, pos, t0, t1, lo)
                    while tr < t1:
                        dd = dep[t_toff[tr] + pos]
                        if dd >= hi:
                            break
                        if (
                            day_active[day, t_svc[tr]] != 0
                            and b_ok[t_toff[tr] + pos] != 0
                            and (not wheelchair or t_wc[tr] == 1)
                        ):
                            cand = _grow2(cand, n_cand, 1)
                            cand[n_cand, 0] = dd + off - d0[s]
                            cand[n_cand, 1] = s
                            cand[n_cand, 2] = p
                            cand[n_cand, 3] = pos
                            n_cand += 1
                        tr += 1
    order = np.argsort(-cand[:n_cand, 0])

    dest_best = np.full(n_rounds + 1, INF, np.int64)
    is_cand = np.zeros(pat_first.shape[0], np.uint8)  # patterns of this iteration's candidates
    ci = 0
    cj = 0
    first_iteration = True
    while True:
        if first_iteration:
            t = time + window
        else:
            if ci >= n_cand:
                break
            # this iteration departs at the earliest candidate of the step bucket
            bucket = (cand[order[ci], 0] - time) // step
            cj = ci
            while cj < n_cand and (cand[order[cj], 0] - time) // step == bucket:
                cj += 1
            t = cand[order[cj - 1], 0]
        # round 0 is implicit (t + d0); mark where round 1 boards: every stop reached on
        # foot the first time, afterwards the stops whose departures made t a candidate
        n_mark = 0
        c_lo = -1  # first candidate of this iteration (-1: the first iteration)
        if first_iteration:
            for r in range(n_reach):
                s = reach_list[r]
                if d0[s] < w0 and d0[s] + min(lb[s], radius) < w0 and mark[s] == 0:
                    mark[s] = 1
                    mark_list[n_mark] = s
                    n_mark += 1
            first_iteration = False
        else:
            c_lo = ci
            while ci < cj:
                s = cand[order[ci], 1]
                if mark[s] == 0:
                    mark[s] = 1
                    mark_list[n_mark] = s
                    n_mark += 1
                ci += 1
        if w0 < INF and t + w0 < dest_best[0]:
            dest_best[0] = t + w0
        for kk in range(1, n_rounds + 1):
            if dest_best[kk - 1] < dest_best[kk]:
                dest_best[kk] = dest_best[kk - 1]

        for k in range(1, n_rounds + 1):
            if n_mark == 0:
                break
            # patterns through the stops improved in round k - 1, from the first such stop
            nq = 0
            # round 1 of a later iteration: only the patterns whose departures made t a
            # candidate (same order as otherwise). Any other pattern at a marked stop boards
            # the trip it boarded in a later iteration (a departure in between would be a
            # candidate at t), whose labels are as early already and were kept under pruning
            # no stricter (the bound and t + d0 only shrink as t falls): it improves nothing
            only_cand = k == 1 and c_lo >= 0
            if only_cand:
                for c in range(c_lo, cj):
                    is_cand[cand[order[c], 2]] = 1
            for m in range(n_mark):
                s = mark_list[m]
                for j in range(s_poff[s], s_poff[s + 1]):
                    p = s_pat[j]
                    pos = s_ppos[j]
                    if pat_first[p] < 0:
                        if ((modes >> p_mode[p]) & 1) == 0 or (only_cand and is_cand[p] == 0):
                            continue
                        pat_queue[nq] = p
                        nq += 1
                        pat_first[p] = pos
                    elif pos < pat_first[p]:
                        pat_first[p] = pos
            if only_cand:
                for c in range(c_lo, cj):
                    is_cand[cand[order[c], 2]] = 0
            bound = dest_best[k]
            if t + max_duration + 1 < bound:
                bound = t + max_duration + 1
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
                cur_day = 0
                cur_board = 0
                for i in range(first, m_len):
                    s = p_stops[so + i]
                    stop_ok = (not wheelchair) or s_wc[s] != 2
                    if cur >= 0 and stop_ok and a_ok[cur_base + i] != 0:
                        a = arr[cur_base + i] + cur_off
                        # walking there from the origin (round 0) is as early: under a walking
                        # limit the ride still counts, as the limit starts afresh after a ride and
                        # its walks on (footpath chains, egress) may reach what round 0 cannot;
                        # boarding here it never beats (below)
                        if (
                            a + min(lb[s], radius) < bound
                            and a < A[k, s]
                            and (d0[s] == INF or a < t + d0[s] or walk_limited)
                        ):
                            A[k, s] = a
                            Ak[k, s] = P_RIDE
                            r_trip[k, s] = cur
                            r_day[k, s] = cur_day
                            r_board[k, s] = cur_board
                            r_alight[k, s] = i
                            r_pat[k, s] = p
                            if touched[s] == 0:
                                touched[s] = 1
                                touched_list[n_touched] = s
                                n_touched += 1
                            if chg[s] == 0:
                                chg_list[n_chg] = s
                                n_chg += 1
                            if (chg[s] & _FLAG_RIDE) == 0:
                                ride_list[n_ride] = s
                                n_ride += 1
                            chg[s] |= _FLAG_CHANGED | _FLAG_RIDE
                            bc = a + s_change[s]
                            if bc < B[k, s] and (d0[s] == INF or bc < t + d0[s]):
                                B[k, s] = bc
                                Bk[k, s] = P_RIDE
                                if next_mark[s] == 0:
                                    next_mark[s] = 1
                                    next_list[n_next] = s
                                    n_next += 1
                            if egress_time[s] < INF and a + egress_time[s] < bound:
                                bound = a + egress_time[s]
                    if not stop_ok or mark[s] == 0:
                        continue
                    bl = t + d0[s] if k == 1 else B[k - 1, s]
                    if bl + min(lb[s], radius) >= bound:
                        continue
                    limit = bound
                    if cur >= 0:
                        cd = dep[cur_base + i] + cur_off
                        if bl > cd:
                            continue
                        if cd + 1 < limit:
                            limit = cd + 1  # the same trip boards here, later is fine
                    best = -1
                    best_dep = limit
                    best_day = 0
                    best_off = 0
                    for day in range(n_days):
                        off = day_offset[day, z]
                        # whole service days out of reach: all gone, or all too late
                        if dep[t_toff[t1 - 1] + i] + off < bl or dep[t_toff[t0] + i] + off >= best_dep:
                            continue
                        tr = _first_at_or_after(dep, t_toff, i, t0, t1, bl - off)
                        while tr < t1:
                            base = t_toff[tr]
                            dd = dep[base + i] + off
                            if dd >= best_dep:
                                break
                            if (
                                day_active[day, t_svc[tr]] != 0
                                and b_ok[base + i] != 0
                                and (not wheelchair or t_wc[tr] == 1)
                            ):
                                best = tr
                                best_dep = dd
                                best_day = day
                                best_off = off
                                break
                            tr += 1
                    if best >= 0:
                        if best == cur and best_day == cur_day:
                            # the trip already boarded passes here too: arrivals are the
                            # same either way, only the boarding stop is in question. On the
                            # first ride board here only if the rider then leaves the origin
                            # later; after a ride, only if it means less walking from it
                            b_stop = p_stops[so + cur_board]
                            if k == 1:
                                later = best_dep - d0[s] > dep[cur_base + cur_board] + cur_off - d0[b_stop]
                            else:
                                later = _walk_before_boarding(k - 1, s, Ak, Bk, Ae, Be, f_src, f_s) < (
                                    _walk_before_boarding(k - 1, b_stop, Ak, Bk, Ae, Be, f_src, f_s)
                                )
                            if not later:
                                continue
                        cur = best
                        cur_base = t_toff[best]
                        cur_off = best_off
                        cur_day = best_day
                        cur_board = i

            # --- footpaths: Dijkstra from the stops reached by a ride ---
            nh = 0
            for r in range(n_ride):
                s = ride_list[r]
                chg[s] &= ~_FLAG_RIDE
                walked[s] = 0
                nh = _heap_push(hk, hv, nh, A[k, s], s)
            while nh > 0:
                d, u, nh = _heap_pop(hk, hv, nh)
                if d > A[k, u]:
                    continue
                # lb[u] <= f_s + lb[v] (every footpath is in the lower-bound graph), so
                # when u itself cannot beat the bound, no footpath out of it can
                if d + min(lb[u], radius) >= bound:
                    continue
                # reached on foot: footpaths that the predecessor's own cover are skipped
                # (see footpath_closure); the relaxations left are exactly those that can
                # improve a label, so labels, parents and heap order stay the same
                lo = _chain_lo(Ae[k, u] if Ak[k, u] == P_WALK else -1, f_src, f_s, f_close)
                hi = bound - d - 1  # longer ones arrive after the bound
                if max_walk - walked[u] < hi:  # the rider's walking limit between two rides
                    hi = max_walk - walked[u]
                # first the footpaths in [lo, hi] (sorted by time) that would improve a
                # label, then those in edge order: each target has one footpath from u,
                # so the result is the same as relaxing every footpath in edge order
                n_fc = 0
                j = _first_at_least(fs_w, f_off[u], f_off[u + 1], lo)
                while j < f_off[u + 1] and fs_w[j] <= hi:
                    nd = d + fs_w[j]
                    v = fs_tgt[j]
                    # A[k, v] <= B[k, v] always (a boarding label is an arrival plus the change
                    # time, which the build makes >= 0, or the same walk): "improves A or B"
                    if nd < B[k, v]:
                        ed = fs_edge[j]
                        ic = n_fc
                        while ic > 0 and fp_cand[ic - 1] > ed:
                            fp_cand[ic] = fp_cand[ic - 1]
                            ic -= 1
                        fp_cand[ic] = ed
                        n_fc += 1
                    j += 1
                for ic in range(n_fc):
                    ed = fp_cand[ic]
                    c = f_s[ed]
                    v = f_tgt[ed]
                    nd = d + c
                    if nd + min(lb[v], radius) >= bound:
                        continue
                    wv = walked[u] + c
                    if d0[v] < INF and nd >= t + d0[v] and not walk_limited:
                        continue
                    improved = False
                    if nd < A[k, v]:
                        A[k, v] = nd
                        Ak[k, v] = P_WALK
                        Ae[k, v] = ed
                        walked[v] = wv
                        nh = _heap_push(hk, hv, nh, nd, v)
                        improved = True
                        if egress_time[v] < INF and nd + egress_time[v] < bound:
                            bound = nd + egress_time[v]
                    if nd < B[k, v] and (d0[v] == INF or nd < t + d0[v]):  # else boarding on foot is earlier
                        B[k, v] = nd
                        Bk[k, v] = P_WALK
                        Be[k, v] = ed
                        improved = True
                        if next_mark[v] == 0:
                            next_mark[v] = 1
                            next_list[n_next] = v
                            n_next += 1
                    if improved:
                        if touched[v] == 0:
                            touched[v] = 1
                            touched_list[n_touched] = v
                            n_touched += 1
                        if chg[v] == 0:
                            chg[v] = _FLAG_CHANGED
                            chg_list[n_chg] = v
                            n_chg += 1

            # --- keep X[k'] <= X[k] for the rounds above ---
            for c in range(n_chg):
                s = chg_list[c]
                chg[s] = 0
                walked[s] = INF
                a = A[k, s]
                for kk in range(k + 1, n_rounds + 1):
                    if A[kk, s] <= a:
                        break
                    A[kk, s] = a
                    Ak[kk, s] = P_COPY
                b = B[k, s]
                for kk in range(k + 1, n_rounds + 1):
                    if B[kk, s] <= b:
                        break
                    B[kk, s] = b
                    Bk[kk, s] = P_COPY

            # --- a new Pareto journey with k rides? ---
            best_arr = INF
            best_e = -1
            for i in range(egr_stop.shape[0]):
                s = egr_stop[i]
                if A[k, s] < INF and A[k, s] + egress_time[s] < best_arr:
                    best_arr = A[k, s] + egress_time[s]
                    best_e = s
            if best_e >= 0 and best_arr < dest_best[k]:
                seg, n_seg2, jdep, jarr, rides = _reconstruct(
                    k, best_e, egress_time[best_e], tt, day_offset, ws, seg, n_seg
                )
                if rides > 0:
                    jr = _grow2(jr, n_j, 1)
                    jr[n_j, 0] = jdep
                    jr[n_j, 1] = jarr
                    jr[n_j, 2] = rides
                    jr[n_j, 3] = n_seg
                    jr[n_j, 4] = n_seg2 - n_seg
                    n_j += 1
                    n_seg = n_seg2
                for kk in range(k, n_rounds + 1):
                    if best_arr < dest_best[kk]:
                        dest_best[kk] = best_arr

            # the stops whose boarding time improved are where round k + 1 boards
            for m in range(n_mark):
                mark[mark_list[m]] = 0
            mark, next_mark = next_mark, mark
            mark_list, next_list = next_list, mark_list
            n_mark = n_next
        for m in range(n_mark):
            mark[mark_list[m]] = 0

    # --- hand the workspace back clean ---
    for i in range(n_touched):
        s = touched_list[i]
        touched[s] = 0
        for kk in range(A.shape[0]):
            A[kk, s] = INF
            B[kk, s] = INF
            Ak[kk, s] = P_NONE
            Bk[kk, s] = P_NONE
    for r in range(n_reach):
        d0[reach_list[r]] = INF
    for r in range(n_lb):
        lb[lb_list[r]] = INF
    for i in range(egr_stop.shape[0]):
        egress_time[egr_stop[i]] = INF
    return jr, n_j, seg, n_seg
