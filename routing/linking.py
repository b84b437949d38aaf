"""Stops on the street network: snapping them to nodes, and the walks between them.

A stop is linked to the nearest node that its mode may use, within a distance cap; a
stop with no such node (outside the OSM extract, say) stays unlinked, is reported by
:class:`LinkReport` and still gets transfers: straight-line ones, lengthened by a detour
factor, as when there is no street network at all (:func:`straight_line_transfers`).

Transfers between linked stops come from one bounded walking Dijkstra per stop over
the street graph (:func:`routing.streets.search`, sharing one workspace per thread and
resetting only what each search touched), run on several threads since the kernel
holds no GIL.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from feeds.model import F32, F64, I32, I64, U8
from routing.spatial import NodeIndex
from routing.streets import WALK, StreetGraph, check_mode, jit, search, usable_nodes

DETOUR = 1.3  # street distance / straight distance, typical of city grids


@dataclass(frozen=True, slots=True)
class LinkReport:
    """How points (stops) were linked: the build prints it and names unlinked stops."""

    n_points: int
    linked: int
    unlinked: tuple[int, ...]  # indices of the points with no node within reach
    max_link_m: float  # longest link among the linked points (0 when none)

    @classmethod
    def of(cls, node: np.ndarray, dist_m: np.ndarray) -> LinkReport:
        node = np.asarray(node)
        ok = node >= 0
        d = np.asarray(dist_m)[ok]
        return cls(
            n_points=int(node.shape[0]),
            linked=int(ok.sum()),
            unlinked=tuple(int(i) for i in np.flatnonzero(~ok)),
            max_link_m=float(d.max()) if d.size else 0.0,
        )

    def unlinked_ids(self, ids: Sequence[str]) -> list[str]:
        """The ids of the unlinked points, given the ids of all points."""
        return [ids[i] for i in self.unlinked]


def link_points(
    g: StreetGraph, index: NodeIndex, lat: np.ndarray, lon: np.ndarray, mode: int, max_m: float
) -> tuple[I32, F32]:
    """Nearest node usable by ``mode`` for each point, within ``max_m`` metres.

    ``index`` must be built over ``g``'s nodes. Returns ``(node, dist_m)``: node -1 and
    distance inf where no usable node is that close."""
    if len(index) != g.n_nodes:
        raise ValueError(f"link_points: index has {len(index)} points, graph {g.n_nodes} nodes")
    node, dist = index.nearest_many(lat, lon, max_m, usable_nodes(g, check_mode(mode)))
    return node, dist.astype(np.float32)


@jit
def _linked_transfers(
    offset: I64,
    target: I32,
    length_m: F32,
    flags: U8,
    car_speed_mps: F32,
    stop_node: I32,
    stop_link_s: F64,
    node_stop_offset: I64,
    node_stops: I32,
    todo: I32,
    max_s: float,
    walk_mps: float,
) -> tuple[I32, I32, I32]:
    n = offset.shape[0] - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int32)
    touched = np.empty(n, dtype=np.int32)
    heap_k = np.empty(1024, dtype=np.float64)
    heap_n = np.empty(1024, dtype=np.int32)
    src = np.empty(1, dtype=np.int32)
    src_s = np.empty(1, dtype=np.float64)
    cap = 1024
    out_f = np.empty(cap, dtype=np.int32)
    out_t = np.empty(cap, dtype=np.int32)
    out_s = np.empty(cap, dtype=np.int32)
    m = 0
    for i in range(todo.shape[0]):
        s = todo[i]
        first = m
        src[0], src_s[0] = stop_node[s], stop_link_s[s]
        n_touched, heap_k, heap_n = search(
            offset, target, target, False, length_m, flags, car_speed_mps,
            WALK, walk_mps, max_s, src, src_s, dist, pred, touched, heap_k, heap_n,
        )  # fmt: skip
        for j in range(n_touched):
            v = touched[j]
            for k in range(node_stop_offset[v], node_stop_offset[v + 1]):
                t = node_stops[k]
                c = dist[v] + stop_link_s[t]
                if t == s or c > max_s:
                    continue
                if m == cap:
                    cap *= 2
                    gf = np.empty(cap, dtype=np.int32)
                    gt = np.empty(cap, dtype=np.int32)
                    gs = np.empty(cap, dtype=np.int32)
                    gf[:m], gt[:m], gs[:m] = out_f[:m], out_t[:m], out_s[:m]
                    out_f, out_t, out_s = gf, gt, gs
                out_f[m], out_t[m] = s, t
                out_s[m] = int(np.ceil(c - 1e-6))  # whole seconds, never shorter than the walk
                m += 1
        if m - first > 1:  # this stop's block in order of destination stop
            order = np.argsort(out_t[first:m])
            out_t[first:m] = out_t[first:m][order]
            out_s[first:m] = out_s[first:m][order]
        for j in range(n_touched):  # reset only what this search set
            dist[touched[j]] = np.inf
            pred[touched[j]] = -1
    return out_f[:m].copy(), out_t[:m].copy(), out_s[:m].copy()


def _sorted_unique(f: np.ndarray, t: np.ndarray, s: np.ndarray) -> tuple[I32, I32, I32]:
    """Sort by (from, to); of duplicate pairs keep the shortest."""
    key = f.astype(np.int64) << 32 | t.astype(np.int64)
    order = np.lexsort((s, key))
    key, f, t, s = key[order], f[order], t[order], s[order]
    keep = np.ones(f.shape[0], dtype=np.bool_)
    keep[1:] = key[1:] != key[:-1]
    return f[keep].astype(np.int32), t[keep].astype(np.int32), s[keep].astype(np.int32)


def straight_line_transfers(
    lat: np.ndarray, lon: np.ndarray, max_m: float, walk_mps: float, detour: float = DETOUR
) -> tuple[I32, I32, I32]:
    """Transfers between every two points whose straight distance times ``detour`` is at
    most ``max_m`` walking metres; seconds = that walking distance / ``walk_mps``,
    rounded up. Sorted by (from, to). For feeds without a street network."""
    if not walk_mps > 0 or not detour > 0:
        raise ValueError("straight_line_transfers: walk_mps and detour must be > 0")
    index = NodeIndex(lat, lon)
    q, j, d = index.within_many(lat, lon, max_m / detour)
    keep = q != j
    secs = np.ceil(d[keep] * detour / walk_mps - 1e-6)
    return _sorted_unique(q[keep], j[keep], secs)


def stop_transfers(
    g: StreetGraph,
    stop_node: np.ndarray,
    stop_link_m: np.ndarray,
    *,
    max_s: float = 900,
    walk_mps: float = 1.33,
    stop_lat: np.ndarray | None = None,
    stop_lon: np.ndarray | None = None,
    detour: float = DETOUR,
    workers: int | None = None,
) -> tuple[I32, I32, I32]:
    """Walking transfers between stops, as ``(from, to, seconds)`` sorted by (from, to).

    Linked stops: a walk on the street graph from the stop's node, counting both
    stops' link distances; every other stop reached within ``max_s`` is a transfer.
    Unlinked stops (``stop_node`` -1) get straight-line transfers, both ways, to every
    stop within ``max_s * walk_mps / detour`` metres; they need ``stop_lat`` and
    ``stop_lon``. Seconds are rounded up. ``workers`` threads share the searches
    (default: the machine's cores).
    """
    node = np.ascontiguousarray(stop_node, dtype=np.int32).reshape(-1)
    link_m = np.asarray(stop_link_m, dtype=np.float64).reshape(-1)
    if link_m.shape != node.shape:
        raise ValueError("stop_transfers: stop_node and stop_link_m differ in length")
    if not walk_mps > 0:
        raise ValueError("stop_transfers: walk_mps must be > 0")
    if node.size and int(node.max()) >= g.n_nodes:
        raise ValueError("stop_transfers: a stop_node is not a node of the graph")
    linked = node >= 0
    link_s = np.where(linked, link_m / walk_mps, np.inf)
    parts_f: list[np.ndarray] = []
    parts_t: list[np.ndarray] = []
    parts_s: list[np.ndarray] = []

    todo = np.flatnonzero(linked).astype(np.int32)
    if todo.size:
        # stops by node, CSR, so a search sees at once which stops sit on a node it settles
        by_node = todo[np.argsort(node[todo], kind="stable")]
        node_stop_offset = np.zeros(g.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(node[todo], minlength=g.n_nodes), out=node_stop_offset[1:])
        n_workers = max(1, min(workers or os.cpu_count() or 1, todo.size // 64 or 1))

        def run(chunk: I32) -> tuple[I32, I32, I32]:
            return _linked_transfers(
                g.offset, g.target, g.length_m, g.flags, g.car_speed_mps, node, link_s,
                node_stop_offset, by_node, chunk, float(max_s), float(walk_mps),
            )  # fmt: skip

        # contiguous chunks of increasing stops, each block sorted by destination in the
        # kernel: concatenated in order they are sorted by (from, to) already. Several
        # chunks per thread even out dense and sparse parts of the city.
        chunks = [np.ascontiguousarray(c) for c in np.array_split(todo, 4 * n_workers) if c.size]
        if n_workers == 1:
            results = [run(c) for c in chunks]
        else:
            with ThreadPoolExecutor(n_workers) as pool:
                results = list(pool.map(run, chunks))
        for f, t, s in results:
            parts_f.append(f)
            parts_t.append(t)
            parts_s.append(s)

    unlinked = np.flatnonzero(~linked)
    if unlinked.size:
        if stop_lat is None or stop_lon is None:
            raise ValueError(
                "stop_transfers: unlinked stops need stop_lat and stop_lon for straight-line transfers"
            )
        lat = np.asarray(stop_lat, dtype=np.float64).reshape(-1)
        lon = np.asarray(stop_lon, dtype=np.float64).reshape(-1)
        if lat.shape != node.shape or lon.shape != node.shape:
            raise ValueError("stop_transfers: stop_lat/stop_lon must have one entry per stop")
        q, j, d = NodeIndex(lat, lon).within_many(lat[unlinked], lon[unlinked], max_s * walk_mps / detour)
        a = unlinked[q]
        keep = a != j
        a, j = a[keep], j[keep]
        secs = np.ceil(d[keep] * detour / walk_mps - 1e-6).astype(np.int32)
        parts_f += [a, j]
        parts_t += [j, a]
        parts_s += [secs, secs]

    if not parts_f:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty.copy(), empty.copy()
    f, t, s = np.concatenate(parts_f), np.concatenate(parts_t), np.concatenate(parts_s)
    if unlinked.size:
        return _sorted_unique(f, t, s)
    return f, t, s
