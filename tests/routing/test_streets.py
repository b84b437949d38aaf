"""Street graph and its shortest paths, against a plain-Python Dijkstra on small graphs."""

from __future__ import annotations

import heapq
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.model import StreetNetwork
from routing.errors import ArtifactError
from routing.streets import (
    BIKE,
    CAR,
    WALK,
    StreetGraph,
    StreetSpeeds,
    edge_source,
    path_edges,
    path_geometry,
    path_length_m,
    shortest_times,
    usable_nodes,
)

ALL = WALK | BIKE | CAR
Edge = tuple[int, int, float, int, float]  # u, v, length_m, flags, car_speed_mps


def make_network(
    n: int, edges: list[Edge], lat: np.ndarray | None = None, lon: np.ndarray | None = None
) -> StreetNetwork:
    """A StreetNetwork from an edge list (CSR rows in order of ``u``, stable)."""
    order = sorted(range(len(edges)), key=lambda i: edges[i][0])
    es = [edges[i] for i in order]
    offset = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(np.array([e[0] for e in es], dtype=np.int64), minlength=n), out=offset[1:])
    return StreetNetwork(
        node_osm_id=np.arange(n, dtype=np.int64),
        lat=np.zeros(n) if lat is None else lat,
        lon=np.arange(n, dtype=np.float64) * 1e-3 if lon is None else lon,
        offset=offset,
        target=np.array([e[1] for e in es], dtype=np.int32),
        length_m=np.array([e[2] for e in es], dtype=np.float32),
        flags=np.array([e[3] for e in es], dtype=np.uint8),
        car_speed_mps=np.array([e[4] for e in es], dtype=np.float32),
        name=np.full(len(es), -1, dtype=np.int32),
        names=(),
    )


def reference_times(
    g: StreetGraph,
    sources: list[int],
    source_s: list[float],
    mode: int,
    speed: float,
    max_s: float,
    reverse: bool,
) -> np.ndarray:
    """Textbook Dijkstra with heapq over an explicit edge list, same cost arithmetic."""
    n = g.n_nodes
    adj: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for u in range(n):
        for e in range(int(g.offset[u]), int(g.offset[u + 1])):
            v = int(g.target[e])
            if not int(g.flags[e]) & mode:
                continue
            length = float(g.length_m[e])
            if mode == CAR:
                sp = float(g.car_speed_mps[e])
                if sp <= 0:
                    continue
                w = length / sp
            else:
                w = length * (1.0 / speed)
            if reverse:
                adj[v].append((u, w))
            else:
                adj[u].append((v, w))
    dist = [math.inf] * n
    heap: list[tuple[float, int]] = []
    for s, t0 in zip(sources, source_s, strict=True):
        if t0 <= max_s and t0 < dist[s]:
            dist[s] = t0
            heapq.heappush(heap, (t0, s))
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            nd = d + w
            if nd < dist[v] and nd <= max_s:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return np.array(dist, dtype=np.float64).astype(np.float32)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[StreetNetwork, list[int], list[float], int, float, float]:
    n = draw(st.integers(1, 12))
    edge = st.tuples(
        st.integers(0, n - 1),
        st.integers(0, n - 1),
        st.integers(0, 300).map(float),
        st.integers(1, 7),
        st.sampled_from([0.0, 5.0, 8.3, 13.9]),
    )
    edges = draw(st.lists(edge, max_size=40))
    sources = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3))
    source_s = draw(st.lists(st.integers(0, 60).map(float), min_size=len(sources), max_size=len(sources)))
    mode = draw(st.sampled_from([WALK, BIKE, CAR]))
    speed = draw(st.sampled_from([1.0, 1.33, 4.5]))
    max_s = draw(st.sampled_from([30.0, 100.0, 250.0, math.inf]))
    return make_network(n, edges), sources, source_s, mode, speed, max_s


@settings(max_examples=150, deadline=None)
@given(graphs(), st.booleans())
def test_dijkstra_equals_reference(
    case: tuple[StreetNetwork, list[int], list[float], int, float, float], reverse: bool
) -> None:
    net, sources, source_s, mode, speed, max_s = case
    g = StreetGraph.from_network(net)
    times, pred = shortest_times(
        g, np.array(sources), np.array(source_s), mode, speed, max_s, reverse=reverse
    )
    expected = reference_times(g, sources, source_s, mode, speed, max_s, reverse)
    np.testing.assert_array_equal(times, expected)
    assert times.dtype == np.float32 and pred.dtype == np.int32
    # the bound: nothing over max_s is reported
    assert np.all(times[np.isfinite(times)] <= np.float32(max_s))
    # a node has a predecessor edge exactly when it was reached and is not a cheapest source
    assert np.all((pred >= 0) <= np.isfinite(times))


@settings(max_examples=100, deadline=None)
@given(graphs())
def test_reverse_search_equals_forward_on_reversed_graph(
    case: tuple[StreetNetwork, list[int], list[float], int, float, float],
) -> None:
    net, sources, source_s, mode, speed, max_s = case
    g = StreetGraph.from_network(net)
    src = np.repeat(np.arange(g.n_nodes, dtype=np.int64), np.diff(g.offset))
    reversed_edges = [
        (int(g.target[e]), int(src[e]), float(g.length_m[e]), int(g.flags[e]), float(g.car_speed_mps[e]))
        for e in range(g.n_edges)
    ]
    rg = StreetGraph.from_network(make_network(g.n_nodes, reversed_edges))
    back, _ = shortest_times(g, np.array(sources), np.array(source_s), mode, speed, max_s, reverse=True)
    fwd, _ = shortest_times(rg, np.array(sources), np.array(source_s), mode, speed, max_s)
    np.testing.assert_array_equal(back, fwd)


@settings(max_examples=100, deadline=None)
@given(graphs(), st.booleans())
def test_path_edges_rebuild_the_reported_cost(
    case: tuple[StreetNetwork, list[int], list[float], int, float, float], reverse: bool
) -> None:
    net, sources, _, mode, speed, max_s = case
    g = StreetGraph.from_network(net)
    times, pred = shortest_times(
        g, np.array(sources), np.zeros(len(sources)), mode, speed, max_s, reverse=reverse
    )
    for v in np.flatnonzero(np.isfinite(times)):
        edges = path_edges(pred, g, int(v), reverse=reverse)
        tails, heads = edge_source(g, edges), g.target[edges]
        assert np.array_equal(tails[1:], heads[:-1]), "edges must chain"
        if edges.size:
            start, end = (int(v), int(heads[-1])) if reverse else (int(tails[0]), int(v))
            assert int(tails[0]) == start
            assert (end if reverse else start) in sources
            assert np.all(g.flags[edges] & mode)
        else:
            assert int(v) in sources
        if mode == CAR:
            cost = float(np.sum(g.length_m[edges].astype(np.float64) / g.car_speed_mps[edges]))
        else:
            cost = path_length_m(g, edges) / speed
        assert cost == pytest.approx(float(times[v]), rel=1e-5, abs=1e-4)


def test_oneway_binds_car_and_bike_but_not_walking() -> None:
    # 0 -> 1 is a oneway street: its reverse edge carries only the walk flag
    g = StreetGraph.from_network(make_network(2, [(0, 1, 100.0, ALL, 10.0), (1, 0, 100.0, WALK, 0.0)]))
    for mode, speed in ((BIKE, 4.5), (CAR, 0.0)):
        times, _ = shortest_times(g, np.array([1]), np.array([0.0]), mode, speed, 3600)
        assert times[0] == np.inf, mode
        ahead, _ = shortest_times(g, np.array([0]), np.array([0.0]), mode, speed, 3600)
        assert np.isfinite(ahead[1])
    walk, _ = shortest_times(g, np.array([1]), np.array([0.0]), WALK, 1.0, 3600)
    assert walk[0] == pytest.approx(100.0)


def test_car_uses_edge_speeds_and_skips_edges_without_one() -> None:
    # 0 -> 2 directly is slow (5 m/s); 0 -> 1 -> 2 fast (20 m/s); 0 -> 3 has no car speed
    edges = [
        (0, 2, 1000.0, ALL, 5.0),
        (0, 1, 800.0, ALL, 20.0),
        (1, 2, 800.0, ALL, 20.0),
        (0, 3, 10.0, ALL, 0.0),
    ]
    g = StreetGraph.from_network(make_network(4, edges))
    times, pred = shortest_times(g, np.array([0]), np.array([0.0]), CAR, 999.0, 3600)
    assert times[2] == pytest.approx(80.0)
    assert times[3] == np.inf
    assert list(path_edges(pred, g, 2)) == [1, 3]  # ids: node 0 holds edges 0-2 (input order), 1 -> 2 is 3
    walk, _ = shortest_times(g, np.array([0]), np.array([0.0]), WALK, StreetSpeeds().walk_mps, 3600)
    assert walk[2] == pytest.approx(1000.0 / 1.33, rel=1e-6)


def test_bound_and_initial_seconds() -> None:
    line = [(i, i + 1, 100.0, ALL, 10.0) for i in range(9)]
    g = StreetGraph.from_network(make_network(10, line))
    times, _ = shortest_times(g, np.array([0]), np.array([50.0]), WALK, 1.0, 450.0)
    assert list(np.flatnonzero(np.isfinite(times))) == [0, 1, 2, 3, 4]
    assert times[4] == pytest.approx(450.0)
    # a source whose initial time is over the bound reaches nothing
    none, _ = shortest_times(g, np.array([0]), np.array([500.0]), WALK, 1.0, 450.0)
    assert not np.any(np.isfinite(none))
    # several sources: each node takes the cheaper one, initial seconds included
    multi, _ = shortest_times(g, np.array([0, 5]), np.array([0.0, 100.0]), WALK, 1.0, 1e9)
    assert list(multi[[4, 5, 6, 9]]) == [400.0, 100.0, 200.0, 500.0]
    # a scalar initial time applies to every source
    flat, _ = shortest_times(g, np.array([0, 5]), np.array(0.0), WALK, 1.0, 1e9)
    assert list(flat[[4, 5, 6]]) == [400.0, 0.0, 100.0]


def test_path_geometry_and_length() -> None:
    lat = np.array([45.0, 45.001, 45.002, 45.003])
    lon = np.array([-122.0, -122.0, -122.001, -122.001])
    g = StreetGraph.from_network(
        make_network(4, [(0, 1, 111.0, ALL, 1.0), (1, 2, 120.0, ALL, 1.0), (2, 3, 111.0, ALL, 1.0)], lat, lon)
    )
    _, pred = shortest_times(g, np.array([0]), np.array([0.0]), WALK, 1.0, 1e9)
    edges = path_edges(pred, g, 3)
    lats, lons = path_geometry(g, edges, 0)
    np.testing.assert_array_equal(lats, lat)
    np.testing.assert_array_equal(lons, lon)
    assert path_length_m(g, edges) == pytest.approx(342.0)
    _, rpred = shortest_times(g, np.array([3]), np.array([0.0]), WALK, 1.0, 1e9, reverse=True)
    redges = path_edges(rpred, g, 0, reverse=True)
    assert list(redges) == list(edges)  # travel order either way


def test_usable_nodes_follow_mode_flags() -> None:
    # 0 - 1 footway, 1 - 2 motorway (car only), 3 isolated
    edges = [(0, 1, 10.0, WALK | BIKE, 0.0), (1, 0, 10.0, WALK | BIKE, 0.0), (1, 2, 10.0, CAR, 30.0)]
    g = StreetGraph.from_network(make_network(4, edges))
    assert list(usable_nodes(g, WALK)) == [True, True, False, False]
    assert list(usable_nodes(g, CAR)) == [False, True, True, False]
    with pytest.raises(ValueError):
        usable_nodes(g, 3)


def test_arrays_round_trip_through_npy_mmap(tmp_path: Path) -> None:
    edges = [(0, 1, 10.0, ALL, 5.0), (1, 2, 20.0, ALL, 5.0), (2, 0, 30.0, WALK, 0.0)]
    g = StreetGraph.from_network(make_network(3, edges))
    for name, arr in g.arrays().items():
        np.save(tmp_path / f"{name}.npy", arr)
    loaded = {p.stem: np.load(p, mmap_mode="r") for p in tmp_path.glob("*.npy")}
    g2 = StreetGraph.from_arrays(loaded)
    assert not g2.offset.flags.writeable  # still the read-only map, no copy
    for mode, speed in ((WALK, 1.0), (CAR, 0.0)):
        for rev in (False, True):
            a = shortest_times(g, np.array([1]), np.array([0.0]), mode, speed, 1e9, reverse=rev)
            b = shortest_times(g2, np.array([1]), np.array([0.0]), mode, speed, 1e9, reverse=rev)
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
    missing = dict(loaded)
    del missing["rev_edge"]
    with pytest.raises(ArtifactError, match="rev_edge"):
        StreetGraph.from_arrays(missing)
    with pytest.raises(ArtifactError, match="length_m"):
        StreetGraph.from_arrays({**loaded, "length_m": np.asarray(loaded["length_m"], dtype=np.float64)})
    with pytest.raises(ArtifactError, match="flags"):
        StreetGraph.from_arrays({**loaded, "flags": np.asarray(loaded["flags"])[:2]})


def test_from_network_rejects_a_broken_csr() -> None:
    good = make_network(3, [(0, 1, 10.0, ALL, 5.0)])
    with pytest.raises(ValueError, match="offset"):
        StreetGraph.from_network(
            StreetNetwork(
                **{**{f: getattr(good, f) for f in good.__dataclass_fields__}, "offset": np.array([0, 1, 1])}
            )
        )
    with pytest.raises(ValueError, match="target"):
        StreetGraph.from_network(
            StreetNetwork(
                **{
                    **{f: getattr(good, f) for f in good.__dataclass_fields__},
                    "target": np.array([7], dtype=np.int32),
                }
            )
        )
    g = StreetGraph.from_network(good)
    with pytest.raises(ValueError, match="source"):
        shortest_times(g, np.array([3]), np.array([0.0]), WALK, 1.0, 10)
    with pytest.raises(ValueError, match="mode"):
        shortest_times(g, np.array([0]), np.array([0.0]), 8, 1.0, 10)


@pytest.mark.shared_data
def test_portland_walk_is_never_faster_than_the_crow_flies(shared_data: Path) -> None:
    osm = pytest.importorskip("feeds.osm")
    net = osm.load_osm(shared_data / "portland" / "portland-central-filtered.osm.pbf")
    g = StreetGraph.from_network(net)
    from feeds.geo import haversine_m

    rng = np.random.default_rng(7)
    walkable = np.flatnonzero(usable_nodes(g, WALK))
    for s in rng.choice(walkable, 5, replace=False):
        for rev in (False, True):
            times, pred = shortest_times(g, np.array([s]), np.array([0.0]), WALK, 1.33, 900, reverse=rev)
            reached = np.flatnonzero(np.isfinite(times))
            assert reached.size > 1 and np.all(times[reached] <= 900)
            crow = haversine_m(g.lat[s], g.lon[s], g.lat[reached], g.lon[reached])
            assert np.all(times[reached] * 1.33 >= crow * (1 - 1e-4) - 0.01)
            far = int(reached[np.argmax(times[reached])])
            edges = path_edges(pred, g, far, reverse=rev)
            assert path_length_m(g, edges) / 1.33 == pytest.approx(float(times[far]), rel=1e-4)
