"""Snapping points to street nodes, stop-to-stop transfers, and leg polylines."""

from __future__ import annotations

import heapq
import math
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.geo import haversine_m
from feeds.model import StreetNetwork
from routing import polyline
from routing.linking import LinkReport, link_points, stop_transfers, straight_line_transfers
from routing.spatial import M_PER_DEG, NodeIndex
from routing.streets import CAR, WALK, StreetGraph, usable_nodes


def grid_network(
    nx: int, ny: int, spacing_m: float, lat0: float = 45.5, lon0: float = -122.6
) -> StreetNetwork:
    """A two-way street grid of ``nx`` x ``ny`` nodes, edge lengths by haversine."""
    ix, iy = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny)))
    lat = np.asarray(lat0 + iy * spacing_m / M_PER_DEG, dtype=np.float64)
    lon = np.asarray(lon0 + ix * spacing_m / (M_PER_DEG * math.cos(math.radians(lat0))), dtype=np.float64)
    ids = iy * nx + ix
    h, v = ids[ix < nx - 1], ids[iy < ny - 1]
    u = np.concatenate([h, h + 1, v, v + nx])
    w = np.concatenate([h + 1, h, v + nx, v])
    order = np.argsort(u, kind="stable")
    u, w = u[order], w[order]
    n, m = nx * ny, u.size
    offset = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=offset[1:])
    return StreetNetwork(
        node_osm_id=np.arange(n, dtype=np.int64),
        lat=lat,
        lon=lon,
        offset=offset,
        target=w.astype(np.int32),
        length_m=haversine_m(lat[u], lon[u], lat[w], lon[w]).astype(np.float32),
        flags=np.full(m, WALK | 2 | CAR, dtype=np.uint8),
        car_speed_mps=np.full(m, 13.9, dtype=np.float32),
        name=np.full(m, -1, dtype=np.int32),
        names=(),
    )


def random_points(
    rng: np.random.Generator, n: int, lat: np.ndarray, lon: np.ndarray, pad: float = 0.002
) -> tuple[np.ndarray, np.ndarray]:
    return (
        rng.uniform(lat.min() - pad, lat.max() + pad, n),
        rng.uniform(lon.min() - pad, lon.max() + pad, n),
    )


# -- nearest node ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 400),
    st.sampled_from([(45.5, 0.02), (-23.5, 0.2), (64.0, 3.0), (0.0, 40.0)]),  # centre lat, spread (deg)
    st.sampled_from([5.0, 50.0, 400.0, 5_000.0, 1e7, 3e7]),
    st.sampled_from([20.0, 100.0, 1000.0]),
    st.booleans(),
)
def test_nearest_and_within_equal_brute_force(
    seed: int, n: int, where: tuple[float, float], max_m: float, cell_m: float, masked: bool
) -> None:
    rng = np.random.default_rng(seed)
    lat0, spread = where
    lat = np.clip(rng.uniform(lat0 - spread, lat0 + spread, n), -89.0, 89.0)
    lon = rng.uniform(-100 - spread, -100 + spread, n)
    if n > 3:
        lat[2], lon[2] = lat[1], lon[1]  # a duplicate point: ties go to the lower index
    mask = rng.random(n) < 0.6 if masked else None
    index = NodeIndex(lat, lon, cell_m=cell_m)
    qlat, qlon = random_points(rng, 25, lat, lon, pad=spread / 10)
    nodes, dists = index.nearest_many(qlat, qlon, max_m, mask)
    for q in range(qlat.size):
        d = haversine_m(qlat[q], qlon[q], lat, lon)
        if mask is not None:
            d = np.where(mask, d, np.inf)
        best = int(np.argmin(d))
        if d[best] > max_m:
            assert nodes[q] == -1 and dists[q] == np.inf
        else:
            assert dists[q] == pytest.approx(d[best], rel=1e-9, abs=1e-6)
            assert nodes[q] == best or d[nodes[q]] == pytest.approx(d[best], rel=1e-9, abs=1e-6)
        within, wd = index.within(qlat[q], qlon[q], max_m, mask)
        expected = np.flatnonzero(d <= max_m)
        # membership may differ only for points a rounding error away from the radius
        assert set(within) ^ set(expected) <= set(np.flatnonzero(np.abs(d - max_m) < 1e-6))
        assert np.all(np.diff(wd) >= 0)


def test_index_handles_nan_points_and_far_queries() -> None:
    index = NodeIndex(np.array([45.0, np.nan, 45.001]), np.array([-122.0, -122.0, -122.0]))
    assert index.nearest(45.0, -122.0, 1000)[0] == 0
    assert index.nearest(45.0009, -122.0, 1000)[0] == 2
    assert index.nearest(10.0, 10.0, 1000) == (-1, math.inf)
    assert index.within(45.0, -122.0, 1e9)[0].tolist() == [0, 2]
    assert NodeIndex(np.zeros(0), np.zeros(0)).nearest(0.0, 0.0, 1e6) == (-1, math.inf)
    # a mask given at build time leaves points out for good, numbering unchanged
    lat, lon = np.array([45.0, 45.0005, 45.001]), np.array([-122.0, -122.0, -122.0])
    built = NodeIndex(lat, lon, mask=np.array([True, False, True]))
    assert len(built) == 3
    assert built.nearest(45.0004, -122.0, 1000)[0] == 0
    assert built.within(45.0004, -122.0, 1000)[0].tolist() == [0, 2]
    assert built.nearest(45.0005, -122.0, 1000, mask=np.array([False, True, True]))[0] == 2


# -- linking -------------------------------------------------------------------------------


def test_link_points_skips_nodes_the_mode_cannot_use_and_reports_unlinked() -> None:
    # nodes 0-1 a footway; node 2 (closest to the stop) only on a motorway 2-3
    lat = np.array([45.0, 45.0, 45.0005, 45.0005])
    lon = np.array([-122.0, -121.999, -122.0, -121.999])
    walk, car = WALK, CAR
    net = StreetNetwork(
        node_osm_id=np.arange(4, dtype=np.int64),
        lat=lat,
        lon=lon,
        offset=np.array([0, 1, 2, 3, 4]),
        target=np.array([1, 0, 3, 2], dtype=np.int32),
        length_m=np.full(4, 80.0, dtype=np.float32),
        flags=np.array([walk, walk, car, car], dtype=np.uint8),
        car_speed_mps=np.array([0, 0, 30, 30], dtype=np.float32),
        name=np.full(4, -1, dtype=np.int32),
        names=(),
    )
    g = StreetGraph.from_network(net)
    index = NodeIndex(g.lat, g.lon)
    stop_lat = np.array([45.00045, 45.1, 45.00001])
    stop_lon = np.array([-122.0, -122.0, -121.999])
    node, dist = link_points(g, index, stop_lat, stop_lon, WALK, 100.0)
    assert node.tolist() == [0, -1, 1]
    assert dist.dtype == np.float32 and dist[1] == np.inf
    assert dist[0] == pytest.approx(haversine_m(stop_lat[0], stop_lon[0], lat[0], lon[0]), rel=1e-6)
    car_node, _ = link_points(g, index, stop_lat, stop_lon, CAR, 100.0)
    assert car_node[0] == 2
    report = LinkReport.of(node, dist)
    assert (report.n_points, report.linked, report.unlinked) == (3, 2, (1,))
    assert report.unlinked_ids(["a", "b", "c"]) == ["b"]
    assert report.max_link_m == pytest.approx(float(dist[0]))


# -- transfers ----------------------------------------------------------------------------


def reference_transfers(
    g: StreetGraph, node: np.ndarray, link_m: np.ndarray, max_s: float, walk: float
) -> dict[tuple[int, int], int]:
    out: dict[tuple[int, int], int] = {}
    for s in np.flatnonzero(node >= 0):
        dist = {int(node[s]): link_m[s] / walk}
        heap = [(link_m[s] / walk, int(node[s]))]
        done: set[int] = set()
        while heap:
            d, u = heapq.heappop(heap)
            if u in done:
                continue
            done.add(u)
            for e in range(int(g.offset[u]), int(g.offset[u + 1])):
                v, nd = int(g.target[e]), d + float(g.length_m[e]) / walk
                if g.flags[e] & WALK and nd <= max_s and nd < dist.get(v, math.inf):
                    dist[v] = nd
                    heapq.heappush(heap, (nd, v))
        for t in np.flatnonzero(node >= 0):
            c = dist.get(int(node[t]), math.inf) + link_m[t] / walk
            if t != s and c <= max_s:
                out[(int(s), int(t))] = math.ceil(c - 1e-6)
    return out


def test_stop_transfers_equal_reference_are_symmetric_and_beat_no_crow() -> None:
    g = StreetGraph.from_network(grid_network(12, 10, 90.0))
    rng = np.random.default_rng(3)
    slat, slon = random_points(rng, 60, g.lat, g.lon, pad=0.0)
    slat[5], slon[5] = slat[6] + 1e-5, slon[6]  # two stops on one node reach each other
    node, link = link_points(g, NodeIndex(g.lat, g.lon), slat, slon, WALK, 500.0)
    assert np.all(node >= 0) and node[5] == node[6]
    f, t, s = stop_transfers(g, node, link, max_s=600, walk_mps=1.33)
    assert f.dtype == t.dtype == s.dtype == np.int32
    key = f.astype(np.int64) * 1000 + t
    assert np.all(np.diff(key) > 0), "sorted by (from, to), no duplicates"
    assert np.all(f != t) and np.all(s <= 600)
    got = {(int(a), int(b)): int(c) for a, b, c in zip(f, t, s, strict=True)}
    assert got == reference_transfers(g, node, link, 600, 1.33)
    assert (5, 6) in got
    # an undirected graph: the walk back takes the same time, to rounding
    for (a, b), c in got.items():
        back = got.get((b, a))
        assert (back is None and c >= 599) or (back is not None and abs(back - c) <= 1)
    # never faster than the straight line between the stops
    crow = haversine_m(slat[f], slon[f], slat[t], slon[t])
    assert np.all(s >= crow / 1.33 - 1e-6)
    # one thread and several give the same answer
    one = stop_transfers(g, node, link, max_s=600, walk_mps=1.33, workers=1)
    assert all(np.array_equal(a, b) for a, b in zip(one, (f, t, s), strict=True))
    # three copies of every stop, on two threads: among the first copy, the same transfers
    mf, mt, ms = stop_transfers(g, np.tile(node, 3), np.tile(link, 3), max_s=600, walk_mps=1.33, workers=2)
    first = (mf < 60) & (mt < 60)
    assert np.array_equal(mf[first], f) and np.array_equal(mt[first], t) and np.array_equal(ms[first], s)
    assert np.all(np.diff(mf.astype(np.int64) * 1000 + mt) > 0)


def test_unlinked_stops_get_straight_line_transfers_both_ways() -> None:
    g = StreetGraph.from_network(grid_network(5, 5, 100.0))
    # stop 0 and 1 on the grid; stop 2 just outside it (unlinked); stop 3 far away
    slat = np.array([g.lat[0], g.lat[24], g.lat[0] - 0.003, g.lat[0] + 1.0])
    slon = np.array([g.lon[0], g.lon[24], g.lon[0], g.lon[0]])
    node, link = link_points(g, NodeIndex(g.lat, g.lon), slat, slon, WALK, 50.0)
    assert node.tolist() == [0, 24, -1, -1]
    assert LinkReport.of(node, link).unlinked == (2, 3)
    with pytest.raises(ValueError, match="stop_lat"):
        stop_transfers(g, node, link)
    f, t, s = stop_transfers(g, node, link, stop_lat=slat, stop_lon=slon, max_s=900, walk_mps=1.33)
    pairs = {(int(a), int(b)): int(c) for a, b, c in zip(f, t, s, strict=True)}
    d02 = haversine_m(slat[0], slon[0], slat[2], slon[2])
    assert pairs[(0, 2)] == pairs[(2, 0)] == math.ceil(d02 * 1.3 / 1.33 - 1e-6)
    assert pairs[(0, 1)] == pairs[(1, 0)]  # over the street grid
    assert not any(3 in p for p in pairs)  # 111 km away
    assert (1, 2) not in pairs or pairs[(1, 2)] <= 900


def test_straight_line_transfers_equal_brute_force() -> None:
    rng = np.random.default_rng(11)
    lat, lon = rng.uniform(45.50, 45.52, 300), rng.uniform(-122.70, -122.67, 300)
    f, t, s = straight_line_transfers(lat, lon, 600.0, 1.2)
    d = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * 1.3
    np.fill_diagonal(d, np.inf)
    ef, et = np.nonzero(d <= 600.0)  # row-major: sorted by (from, to)
    assert np.array_equal(f, ef) and np.array_equal(t, et)
    assert np.array_equal(s, np.ceil(d[ef, et] / 1.2 - 1e-6).astype(np.int32))
    assert set(zip(f.tolist(), t.tolist(), strict=True)) == set(zip(t.tolist(), f.tolist(), strict=True))
    empty = straight_line_transfers(np.zeros(0), np.zeros(0), 100.0, 1.0)
    assert all(a.size == 0 for a in empty)


def test_twenty_thousand_stops_transfer_in_seconds() -> None:
    g = StreetGraph.from_network(grid_network(300, 300, 80.0))  # 24 km square, 90k nodes
    rng = np.random.default_rng(0)
    slat, slon = random_points(rng, 20_000, g.lat, g.lon, pad=0.0)
    node, link = link_points(g, NodeIndex(g.lat, g.lon), slat, slon, WALK, 200.0)
    stop_transfers(g, node[:10], link[:10])  # JIT warm-up (cache load)
    t0 = time.perf_counter()
    f, t, s = stop_transfers(g, node, link, max_s=900, walk_mps=1.33)
    elapsed = time.perf_counter() - t0
    assert f.size > 20_000 * 50  # about 90 stops within a 15-minute walk each
    assert np.all(np.diff(f.astype(np.int64) << 32 | t) > 0)
    assert np.all(s <= 900)
    assert elapsed < 30, f"{elapsed:.1f} s"


# -- real data -----------------------------------------------------------------------------


@pytest.mark.shared_data
def test_portland_stops_link_and_transfer(shared_data: Path) -> None:
    osm = pytest.importorskip("feeds.osm")
    import csv
    import io

    g = StreetGraph.from_network(osm.load_osm(shared_data / "portland" / "portland-central-filtered.osm.pbf"))
    with zipfile.ZipFile(shared_data / "portland" / "trimet-2routes.zip") as z:
        rows = list(csv.DictReader(io.TextIOWrapper(z.open("stops.txt"), "utf-8-sig")))
    slat = np.array([float(r["stop_lat"]) for r in rows])
    slon = np.array([float(r["stop_lon"]) for r in rows])
    node, link = link_points(g, NodeIndex(g.lat, g.lon), slat, slon, WALK, 200.0)
    report = LinkReport.of(node, link)
    # the OSM extract covers the centre only: some stops link, the outer ones do not
    assert 0 < report.linked < len(rows)
    assert report.linked + len(report.unlinked) == len(rows)
    assert np.all(usable_nodes(g, WALK)[node[node >= 0]])
    assert report.max_link_m <= 200.0
    f, t, s = stop_transfers(g, node, link, stop_lat=slat, stop_lon=slon, max_s=900, walk_mps=1.33)
    assert f.size > 0 and np.all(s <= 900) and np.all(f != t)
    crow = haversine_m(slat[f], slon[f], slat[t], slon[t])
    assert np.all(s >= crow / 1.33 - 1e-6)
    assert set(np.unique(np.concatenate([f, t]))) & set(report.unlinked), "unlinked stops still connect"


# -- polyline -------------------------------------------------------------------------------


def test_polyline_matches_googles_documented_example() -> None:
    lats, lons = np.array([38.5, 40.7, 43.252]), np.array([-120.2, -120.95, -126.453])
    assert polyline.encode(lats, lons) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    dlat, dlon = polyline.decode("_p~iF~ps|U_ulLnnqC_mqNvxq`@")
    np.testing.assert_allclose(dlat, lats)
    np.testing.assert_allclose(dlon, lons)


@given(
    st.lists(
        st.tuples(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)), max_size=50
    ),
    st.sampled_from([5, 6]),
)
def test_polyline_round_trip(points: list[tuple[float, float]], precision: int) -> None:
    lats = np.array([p[0] for p in points], dtype=np.float64)
    lons = np.array([p[1] for p in points], dtype=np.float64)
    text = polyline.encode(lats, lons, precision)
    dlat, dlon = polyline.decode(text, precision)
    assert dlat.shape == lats.shape and dlon.shape == lons.shape
    tol = 0.5 * 10.0**-precision + 1e-9
    assert np.all(np.abs(dlat - lats) <= tol) and np.all(np.abs(dlon - lons) <= tol)


def test_polyline_rejects_malformed_text() -> None:
    for bad in ("_p~iF~ps|U_", "\x01\x02", "abc"):
        with pytest.raises(ValueError):
            polyline.decode(bad)
    with pytest.raises(ValueError):
        polyline.encode(np.array([1.0, np.nan]), np.array([2.0, 3.0]))


@given(
    st.lists(
        st.tuples(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([5, 6]),
)
@settings(max_examples=200, deadline=None)
def test_vectorised_encoder_equals_the_polyline_package(points: list[tuple[float, float]], precision: int) -> None:
    import polyline as reference

    lats = np.array([p[0] for p in points])
    lons = np.array([p[1] for p in points])
    assert polyline.encode(lats, lons, precision) == reference.encode(points, precision)
