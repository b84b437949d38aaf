"""The street graph as compiled arrays, and bounded one-to-all shortest paths on it.

:class:`StreetGraph` is the CSR of :class:`feeds.model.StreetNetwork` plus its reverse
(incoming edges), numpy arrays only, so the artifact stores each field as ``NAME.npy``
and maps it back read-only. :func:`shortest_times` is a Dijkstra with a binary heap,
compiled with numba (``nogil``: several threads may search at once), bounded by a
travel-time budget so an access or transfer search only touches the neighbourhood it
needs. ``reverse=True`` walks incoming edges: times *to* the sources (egress,
arrive-by). Edge costs are ``length / speed``: one speed for walking and cycling, the
edge's own ``car_speed_mps`` for driving.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numba
import numpy as np

from feeds.model import F32, F64, I32, I64, U8, Bool, StreetNetwork
from routing.errors import ArtifactError

WALK = 1
BIKE = 2
CAR = 4
MODES = (WALK, BIKE, CAR)

_F = TypeVar("_F", bound=Callable[..., Any])


def jit(fn: _F) -> _F:
    """numba ``njit`` for the kernels of :mod:`routing` (typed for mypy; nopython,
    no GIL held, compiled once into the on-disk cache)."""
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


@dataclass(frozen=True, slots=True)
class StreetSpeeds:
    """Travel speeds of the street modes; cars use each edge's ``car_speed_mps``.

    The values the gateway uses live in ``maas`` settings; these are the defaults."""

    walk_mps: float = 1.33
    bike_mps: float = 4.5


@dataclass(frozen=True, slots=True)
class StreetGraph:
    """A directed street graph in CSR, forward and reverse, as plain numpy arrays.

    Out-edges of node ``u`` are ``offset[u]:offset[u+1]`` (edge id = position).
    In-edges of ``u`` are positions ``rev_offset[u]:rev_offset[u+1]`` of ``rev_source``
    (the edge's tail) and ``rev_edge`` (its id in the forward arrays).
    ``flags`` bits: :data:`WALK`, :data:`BIKE`, :data:`CAR`. ``name`` indexes the street
    names kept beside the graph (a document of the artifact), -1 when unnamed.
    """

    offset: I64
    target: I32
    length_m: F32
    flags: U8
    car_speed_mps: F32
    lat: F64
    lon: F64
    name: I32
    rev_offset: I64
    rev_source: I32
    rev_edge: I32

    @property
    def n_nodes(self) -> int:
        return int(self.lat.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.target.shape[0])

    @classmethod
    def from_network(cls, net: StreetNetwork) -> StreetGraph:
        """Compile a loaded network (validates the CSR; builds the reverse graph)."""
        n = int(net.lat.shape[0])
        offset = np.ascontiguousarray(net.offset, dtype=np.int64)
        target = np.ascontiguousarray(net.target, dtype=np.int32)
        m = int(target.shape[0])
        if offset.shape != (n + 1,) or offset[0] != 0 or offset[-1] != m:
            raise ValueError(f"street network: offset must have {n + 1} entries from 0 to {m}")
        if np.any(np.diff(offset) < 0):
            raise ValueError("street network: offset is not non-decreasing")
        if m and (int(target.min()) < 0 or int(target.max()) >= n):
            raise ValueError("street network: an edge target is not a node")
        for col in ("length_m", "flags", "car_speed_mps", "name"):
            if getattr(net, col).shape != (m,):
                raise ValueError(f"street network: {col} must have one entry per edge ({m})")
        length = np.ascontiguousarray(net.length_m, dtype=np.float32)
        if m and (not np.all(np.isfinite(length)) or float(length.min()) < 0):
            raise ValueError("street network: edge lengths must be finite and >= 0")
        source = np.repeat(np.arange(n, dtype=np.int32), np.diff(offset))
        rev_edge = np.argsort(target, kind="stable").astype(np.int32)
        rev_offset = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(target, minlength=n), out=rev_offset[1:])
        return cls(
            offset=offset,
            target=target,
            length_m=length,
            flags=np.ascontiguousarray(net.flags, dtype=np.uint8),
            car_speed_mps=np.ascontiguousarray(net.car_speed_mps, dtype=np.float32),
            lat=np.ascontiguousarray(net.lat, dtype=np.float64),
            lon=np.ascontiguousarray(net.lon, dtype=np.float64),
            name=np.ascontiguousarray(net.name, dtype=np.int32),
            rev_offset=rev_offset,
            rev_source=np.ascontiguousarray(source[rev_edge]),
            rev_edge=rev_edge,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Every field by name, for the artifact (saved as ``NAME.npy``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> StreetGraph:
        """Rebuild from :meth:`arrays` output (e.g. read-only memory maps); no copy.

        Raises :class:`ArtifactError` when an array is missing or of the wrong type or size.
        """
        kw: dict[str, np.ndarray] = {}
        for f in dataclasses.fields(cls):
            if f.name not in arrays:
                raise ArtifactError(f"street graph: array {f.name!r} missing")
            # np.asarray drops the np.memmap subclass (numba types plain ndarrays only)
            a = np.asarray(arrays[f.name])
            want = _DTYPES[f.name]
            if a.dtype != want or a.ndim != 1:
                raise ArtifactError(f"street graph: {f.name} is {a.dtype}[{a.ndim}d], expected {want}[1d]")
            kw[f.name] = a
        n, m = kw["lat"].shape[0], kw["target"].shape[0]
        sizes = {"offset": n + 1, "rev_offset": n + 1, "lon": n}
        sizes.update(
            dict.fromkeys(("length_m", "flags", "car_speed_mps", "name", "rev_source", "rev_edge"), m)
        )
        for name, size in sizes.items():
            if kw[name].shape[0] != size:
                raise ArtifactError(f"street graph: {name} has {kw[name].shape[0]} entries, expected {size}")
        return cls(**kw)


_DTYPES: dict[str, np.dtype[Any]] = {
    "offset": np.dtype(np.int64),
    "target": np.dtype(np.int32),
    "length_m": np.dtype(np.float32),
    "flags": np.dtype(np.uint8),
    "car_speed_mps": np.dtype(np.float32),
    "lat": np.dtype(np.float64),
    "lon": np.dtype(np.float64),
    "name": np.dtype(np.int32),
    "rev_offset": np.dtype(np.int64),
    "rev_source": np.dtype(np.int32),
    "rev_edge": np.dtype(np.int32),
}


def check_mode(mode: int) -> int:
    if mode not in MODES:
        raise ValueError(f"mode must be one of WALK={WALK}, BIKE={BIKE}, CAR={CAR}, got {mode!r}")
    return int(mode)


def usable_nodes(g: StreetGraph, mode: int) -> Bool:
    """Nodes with at least one edge (in or out) that ``mode`` may use: where a place or
    stop may be snapped for that mode (not onto a motorway for walking)."""
    ok = (g.flags & check_mode(mode)) != 0
    if mode == CAR:
        ok &= g.car_speed_mps > 0
    mask = np.zeros(g.n_nodes, dtype=np.bool_)
    mask[g.target[ok]] = True
    src = np.repeat(np.arange(g.n_nodes, dtype=np.int32), np.diff(g.offset))
    mask[src[ok]] = True
    return mask


# -- kernels -----------------------------------------------------------------------------


@jit
def _heap_push(keys: F64, nodes: I32, size: int, key: float, node: int) -> tuple[F64, I32, int]:
    if size == keys.shape[0]:
        grown_k = np.empty(2 * size, dtype=np.float64)
        grown_n = np.empty(2 * size, dtype=np.int32)
        grown_k[:size] = keys
        grown_n[:size] = nodes
        keys, nodes = grown_k, grown_n
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        i = parent
    keys[i] = key
    nodes[i] = node
    return keys, nodes, size + 1


@jit
def _heap_pop(keys: F64, nodes: I32, size: int) -> tuple[float, int, int]:
    top_k, top_n = keys[0], nodes[0]
    size -= 1
    key, node = keys[size], nodes[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and keys[c + 1] < keys[c]:
            c += 1
        if key <= keys[c]:
            break
        keys[i] = keys[c]
        nodes[i] = nodes[c]
        i = c
    if size > 0:
        keys[i] = key
        nodes[i] = node
    return top_k, top_n, size


@jit
def search(
    adj_offset: I64,
    adj_node: I32,
    adj_edge: I32,
    use_edge_map: bool,
    length_m: F32,
    flags: U8,
    car_speed_mps: F32,
    mode: int,
    speed_mps: float,
    max_s: float,
    sources: I32,
    source_s: F64,
    dist: F64,
    pred: I32,
    touched: I32,
    heap_k: F64,
    heap_n: I32,
    target: int = -1,
) -> tuple[int, F64, I32]:
    """Bounded Dijkstra over one adjacency (forward: ``offset/target``; reverse:
    ``rev_offset/rev_source`` with ``rev_edge`` mapping to edge ids).

    ``dist`` must be all inf and ``pred`` all -1 on entry; the nodes this call sets are
    ``touched[:n]`` (returned with the possibly grown heap), so a caller running many
    searches resets just those. Only times <= ``max_s`` are ever stored.
    """
    n_touched = 0
    size = 0
    for i in range(sources.shape[0]):
        s, t0 = sources[i], source_s[i]
        if t0 <= max_s and t0 < dist[s]:
            if dist[s] == np.inf:
                touched[n_touched] = s
                n_touched += 1
            dist[s] = t0
            heap_k, heap_n, size = _heap_push(heap_k, heap_n, size, t0, s)
    inv_speed = 1.0 / speed_mps if speed_mps > 0 else 0.0
    while size > 0:
        d, u, size = _heap_pop(heap_k, heap_n, size)
        if d > dist[u]:
            continue  # stale entry (lazy deletion)
        if u == target:  # point to point: settled, nothing shorter can follow
            break
        for k in range(adj_offset[u], adj_offset[u + 1]):
            e = adj_edge[k] if use_edge_map else k
            if (flags[e] & mode) == 0:
                continue
            if mode == CAR:  # the edge's own speed; 0 means cars may not go
                sp = np.float64(car_speed_mps[e])
                if sp <= 0:
                    continue
                nd = d + np.float64(length_m[e]) / sp  # in float64, not float32/float32
            else:
                nd = d + length_m[e] * inv_speed
            v = adj_node[k]
            if nd < dist[v] and nd <= max_s:
                if dist[v] == np.inf:
                    touched[n_touched] = v
                    n_touched += 1
                dist[v] = nd
                pred[v] = e
                heap_k, heap_n, size = _heap_push(heap_k, heap_n, size, nd, v)
    return n_touched, heap_k, heap_n


@jit
def _shortest_times(
    adj_offset: I64,
    adj_node: I32,
    adj_edge: I32,
    use_edge_map: bool,
    length_m: F32,
    flags: U8,
    car_speed_mps: F32,
    mode: int,
    speed_mps: float,
    max_s: float,
    sources: I32,
    source_s: F64,
) -> tuple[F32, I32]:
    n = adj_offset.shape[0] - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int32)
    touched = np.empty(n, dtype=np.int32)
    heap_k = np.empty(256, dtype=np.float64)
    heap_n = np.empty(256, dtype=np.int32)
    search(
        adj_offset, adj_node, adj_edge, use_edge_map, length_m, flags, car_speed_mps,
        mode, speed_mps, max_s, sources, source_s, dist, pred, touched, heap_k, heap_n,
    )  # fmt: skip
    return dist.astype(np.float32), pred


@jit
def _path_edges(pred: I32, offset: I64, target: I32, node: int, reverse: bool) -> I32:
    out = np.empty(16, dtype=np.int32)
    n = 0
    v = node
    for _ in range(pred.shape[0] + 1):
        e = pred[v]
        if e < 0:
            break
        if n == out.shape[0]:
            grown = np.empty(2 * n, dtype=np.int32)
            grown[:n] = out
            out = grown
        out[n] = e
        n += 1
        # forward search: step back to the edge's tail; reverse: on to its head
        v = target[e] if reverse else np.searchsorted(offset, e, side="right") - 1
    else:
        raise ValueError("predecessor array has a cycle")
    res = out[:n].copy()
    return res if reverse else res[::-1].copy()


# -- Python API --------------------------------------------------------------------------


def shortest_times(
    g: StreetGraph,
    sources: np.ndarray,
    source_s: np.ndarray,
    mode: int,
    speed_mps: float,
    max_s: float,
    reverse: bool = False,
) -> tuple[F32, I32]:
    """Seconds from the nearest source (plus its initial seconds) to every node.

    Returns ``(times, pred)``: float32 seconds per node (inf when over ``max_s`` or
    unreachable) and the int32 edge by which each node was reached (-1 for sources and
    unreached nodes). With ``reverse=True`` the times are *to* the sources along edge
    direction (for egress and arrive-by), and ``pred[v]`` is the first edge of the way
    from ``v`` towards them. ``speed_mps`` is the walking or cycling speed; for
    :data:`CAR` each edge's ``car_speed_mps`` is used and ``speed_mps`` is ignored.
    """
    mode = check_mode(mode)
    src = np.ascontiguousarray(sources, dtype=np.int32).reshape(-1)
    s0 = np.ascontiguousarray(np.broadcast_to(np.asarray(source_s, dtype=np.float64), src.shape))
    if src.size and (int(src.min()) < 0 or int(src.max()) >= g.n_nodes):
        raise ValueError("shortest_times: a source is not a node of the graph")
    if mode != CAR and not speed_mps > 0:
        raise ValueError(f"shortest_times: speed_mps must be > 0, got {speed_mps!r}")
    if reverse:
        adj = (g.rev_offset, g.rev_source, g.rev_edge, True)
    else:
        adj = (g.offset, g.target, g.rev_edge, False)  # rev_edge unused: edge id = position
    return _shortest_times(
        *adj, g.length_m, g.flags, g.car_speed_mps, mode, float(speed_mps), float(max_s), src, s0
    )


def path_edges(pred: np.ndarray, g: StreetGraph, node: int, reverse: bool = False) -> I32:
    """Edge ids of the path found by :func:`shortest_times`, in travel order.

    Forward: from the source to ``node``. Reverse: from ``node`` to the source it is
    nearest to. Empty when ``node`` is a source (or was not reached)."""
    if not 0 <= node < g.n_nodes:
        raise ValueError(f"path_edges: node {node} is not in the graph")
    return _path_edges(np.asarray(pred, dtype=np.int32), g.offset, g.target, int(node), bool(reverse))


def path_geometry(g: StreetGraph, edges: np.ndarray, start_node: int) -> tuple[F64, F64]:
    """Coordinates of a path (edges in travel order) starting at ``start_node``."""
    nodes = np.concatenate(
        [np.array([start_node], dtype=np.int64), g.target[np.asarray(edges, dtype=np.int64)]]
    )
    return g.lat[nodes], g.lon[nodes]


def path_length_m(g: StreetGraph, edges: np.ndarray) -> float:
    """Length of a path, the sum of its edges' lengths."""
    return float(np.sum(g.length_m[np.asarray(edges, dtype=np.int64)], dtype=np.float64))


def edge_source(g: StreetGraph, edges: np.ndarray) -> I32:
    """The tail node of each edge (the CSR row it sits in)."""
    return (np.searchsorted(g.offset, np.asarray(edges, dtype=np.int64), side="right") - 1).astype(np.int32)


class _PathWorkspace(threading.local):
    """Per-thread label arrays for point-to-point searches, reset by touched nodes only."""

    def __init__(self) -> None:
        self.n = -1
        self.dist = np.zeros(0)
        self.pred = np.zeros(0, dtype=np.int32)
        self.touched = np.zeros(0, dtype=np.int32)
        self.heap_k = np.empty(256, dtype=np.float64)
        self.heap_n = np.empty(256, dtype=np.int32)

    def ready(self, n: int) -> None:
        if self.n != n:
            self.n = n
            self.dist = np.full(n, np.inf)
            self.pred = np.full(n, -1, dtype=np.int32)
            self.touched = np.empty(n, dtype=np.int32)


_PATH_WS = _PathWorkspace()


def path_between(
    g: StreetGraph, a: int, b: int, mode: int, speed_mps: float, max_s: float, start_s: float = 0.0
) -> tuple[float, I32]:
    """Seconds and edges (in travel order) of the shortest path from node ``a`` to ``b``;
    ``(inf, [])`` when ``b`` is farther than ``max_s``. Stops as soon as ``b`` is settled
    and allocates nothing per call: the planner asks this for every walking leg."""
    mode = check_mode(mode)
    ws = _PATH_WS
    ws.ready(g.n_nodes)
    src = np.array([a], dtype=np.int32)
    n_touched, ws.heap_k, ws.heap_n = search(
        g.offset, g.target, g.rev_edge, False, g.length_m, g.flags, g.car_speed_mps,
        mode, float(speed_mps), float(max_s), src, np.array([float(start_s)]), ws.dist, ws.pred, ws.touched,
        ws.heap_k, ws.heap_n, int(b),
    )  # fmt: skip
    try:
        t = float(ws.dist[b])
        edges = _path_edges(ws.pred, g.offset, g.target, int(b), False) if np.isfinite(t) else np.zeros(0, np.int32)
    finally:
        touched = ws.touched[:n_touched]
        ws.dist[touched] = np.inf
        ws.pred[touched] = -1
    return t, edges
