"""Nearest-point lookups on the sphere: which street node is closest to a place or stop.

:class:`NodeIndex` bins points into a uniform grid of about ``cell_m`` metres (cells in
degrees, the longitude step scaled by the cosine of the data's mean latitude) and keeps
them sorted by cell, so the points of one grid column between two rows are one
contiguous slice. A query takes the exact latitude/longitude bounding box of its radius
on the sphere, scans the slices of the columns it crosses, and measures candidates by
haversine: results equal a brute-force scan. A boolean ``mask`` restricts a query to
some points (e.g. nodes a mode may use, see :func:`routing.streets.usable_nodes`).
The antimeridian is not handled (a city never straddles it).
"""

from __future__ import annotations

import math

import numpy as np

from feeds.geo import EARTH_RADIUS_M
from feeds.model import F64, I32, I64, Bool
from routing.streets import jit

EARTH_R = EARTH_RADIUS_M
M_PER_DEG = EARTH_R * math.pi / 180.0


@jit
def _hav(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2) - math.radians(lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_R * math.asin(math.sqrt(min(a, 1.0)))


@jit
def _box(
    qlat: float, qlon: float, r: float, lat_min: float, lon_min: float, cell_lat: float, cell_lon: float,
    nx: int, ny: int,
) -> tuple[int, int, int, int]:  # fmt: skip
    """Grid columns and rows covering every point within ``r`` metres (empty: ix0 > ix1)."""
    delta = r / EARTH_R * (1 + 1e-9) + 1e-12  # angular radius, a hair wide against rounding
    dlat = math.degrees(delta)
    c = math.cos(math.radians(qlat))
    if delta >= math.pi / 2 or c <= 0 or math.sin(delta) >= c:
        dlon = 360.0  # the circle reaches a pole: every longitude
    else:
        dlon = math.degrees(math.asin(math.sin(delta) / c))
    ix0 = max(math.floor((qlon - dlon - lon_min) / cell_lon), 0)
    ix1 = min(math.floor((qlon + dlon - lon_min) / cell_lon), nx - 1)
    iy0 = max(math.floor((qlat - dlat - lat_min) / cell_lat), 0)
    iy1 = min(math.floor((qlat + dlat - lat_min) / cell_lat), ny - 1)
    if iy0 > iy1:
        ix0, ix1 = 1, 0
    return ix0, ix1, iy0, iy1


@jit
def _best_in_box(
    qlat: float, qlon: float, r: float, keys: I64, ids: I32, plat: F64, plon: F64,
    lat_min: float, lon_min: float, cell_lat: float, cell_lon: float, nx: int, ny: int,
    mask: Bool, use_mask: bool,
) -> tuple[int, float]:  # fmt: skip
    ix0, ix1, iy0, iy1 = _box(qlat, qlon, r, lat_min, lon_min, cell_lat, cell_lon, nx, ny)
    best, best_d = -1, np.inf
    for ix in range(ix0, ix1 + 1):
        a = np.searchsorted(keys, ix * ny + iy0, side="left")
        b = np.searchsorted(keys, ix * ny + iy1, side="right")
        for j in range(a, b):
            node = ids[j]
            if use_mask and not mask[node]:
                continue
            d = _hav(qlat, qlon, plat[j], plon[j])
            if d < best_d or (d == best_d and node < best):
                best, best_d = node, d
    return best, best_d


@jit
def _nearest_many(
    qlat: F64, qlon: F64, max_m: float, start_m: float, keys: I64, ids: I32, plat: F64, plon: F64,
    lat_min: float, lon_min: float, cell_lat: float, cell_lon: float, nx: int, ny: int,
    mask: Bool, use_mask: bool,
) -> tuple[I32, F64]:  # fmt: skip
    out = np.full(qlat.shape[0], -1, dtype=np.int32)
    out_d = np.full(qlat.shape[0], np.inf)
    for q in range(qlat.shape[0]):
        if not (np.isfinite(qlat[q]) and np.isfinite(qlon[q])):
            continue
        # widen the box until the best point found lies inside the radius searched:
        # nothing nearer can then be outside it
        r = min(start_m, max_m)
        while True:
            best, d = _best_in_box(
                qlat[q], qlon[q], r, keys, ids, plat, plon, lat_min, lon_min, cell_lat, cell_lon, nx, ny,
                mask, use_mask,
            )  # fmt: skip
            if best >= 0 and d <= r:
                out[q], out_d[q] = best, d
                break
            if r >= max_m:
                break
            r = min(2 * r, max_m)
    return out, out_d


@jit
def _within_many(
    qlat: F64, qlon: F64, r: float, keys: I64, ids: I32, plat: F64, plon: F64,
    lat_min: float, lon_min: float, cell_lat: float, cell_lon: float, nx: int, ny: int,
    mask: Bool, use_mask: bool,
) -> tuple[I32, I32, F64]:  # fmt: skip
    cap = 64
    out_q = np.empty(cap, dtype=np.int32)
    out_n = np.empty(cap, dtype=np.int32)
    out_d = np.empty(cap, dtype=np.float64)
    n = 0
    for q in range(qlat.shape[0]):
        if not (np.isfinite(qlat[q]) and np.isfinite(qlon[q])):
            continue
        ix0, ix1, iy0, iy1 = _box(qlat[q], qlon[q], r, lat_min, lon_min, cell_lat, cell_lon, nx, ny)
        for ix in range(ix0, ix1 + 1):
            a = np.searchsorted(keys, ix * ny + iy0, side="left")
            b = np.searchsorted(keys, ix * ny + iy1, side="right")
            for j in range(a, b):
                node = ids[j]
                if use_mask and not mask[node]:
                    continue
                d = _hav(qlat[q], qlon[q], plat[j], plon[j])
                if d > r:
                    continue
                if n == cap:
                    cap *= 2
                    gq = np.empty(cap, dtype=np.int32)
                    gn = np.empty(cap, dtype=np.int32)
                    gd = np.empty(cap, dtype=np.float64)
                    gq[:n], gn[:n], gd[:n] = out_q[:n], out_n[:n], out_d[:n]
                    out_q, out_n, out_d = gq, gn, gd
                out_q[n], out_n[n], out_d[n] = q, node, d
                n += 1
    return out_q[:n].copy(), out_n[:n].copy(), out_d[:n].copy()


class NodeIndex:
    """Grid index over points (street nodes, stops) given by latitude and longitude.

    Points are numbered as given. Points with a NaN coordinate, or False in ``mask``
    (bool, one per point), are left out of the index for good; every query may also pass
    a ``mask`` of its own to consider only the points where it is True.
    """

    def __init__(
        self, lat: np.ndarray, lon: np.ndarray, cell_m: float = 100.0, mask: np.ndarray | None = None
    ) -> None:
        lat = np.asarray(lat, dtype=np.float64).reshape(-1)
        lon = np.asarray(lon, dtype=np.float64).reshape(-1)
        if lat.shape != lon.shape:
            raise ValueError("NodeIndex: lat and lon differ in length")
        if not cell_m > 0:
            raise ValueError("NodeIndex: cell_m must be > 0")
        self.n = int(lat.shape[0])
        self.cell_m = float(cell_m)
        keep = np.isfinite(lat) & np.isfinite(lon)
        if mask is not None:
            m = np.asarray(mask, dtype=np.bool_).reshape(-1)
            if m.shape != lat.shape:
                raise ValueError(f"NodeIndex: mask must have one entry per point ({lat.shape[0]})")
            keep &= m
        ids = np.flatnonzero(keep).astype(np.int32)
        la, lo = lat[ids], lon[ids]
        lat0 = float(la.mean()) if ids.size else 0.0
        self._cell_lat = cell_m / M_PER_DEG
        self._cell_lon = cell_m / (M_PER_DEG * max(math.cos(math.radians(lat0)), 0.01))
        self._lat_min = float(la.min()) if ids.size else 0.0
        self._lon_min = float(lo.min()) if ids.size else 0.0
        ix = np.floor((lo - self._lon_min) / self._cell_lon).astype(np.int64)
        iy = np.floor((la - self._lat_min) / self._cell_lat).astype(np.int64)
        self._nx = int(ix.max()) + 1 if ids.size else 0
        self._ny = int(iy.max()) + 1 if ids.size else 0
        key = ix * self._ny + iy
        order = np.argsort(key, kind="stable")
        self._keys = np.ascontiguousarray(key[order])
        self._ids = np.ascontiguousarray(ids[order])
        self._lat = np.ascontiguousarray(la[order])
        self._lon = np.ascontiguousarray(lo[order])

    def __len__(self) -> int:
        return self.n

    def _mask(self, mask: np.ndarray | None) -> tuple[Bool, bool]:
        if mask is None:
            return np.zeros(0, dtype=np.bool_), False
        m = np.ascontiguousarray(mask, dtype=np.bool_)
        if m.shape != (self.n,):
            raise ValueError(f"NodeIndex: mask must have one entry per point ({self.n})")
        return m, True

    def _grid(self) -> tuple[I64, I32, F64, F64, float, float, float, float, int, int]:
        return (
            self._keys, self._ids, self._lat, self._lon,
            self._lat_min, self._lon_min, self._cell_lat, self._cell_lon, self._nx, self._ny,
        )  # fmt: skip

    def nearest_many(
        self, lat: np.ndarray, lon: np.ndarray, max_m: float, mask: np.ndarray | None = None
    ) -> tuple[I32, F64]:
        """For each query point, the nearest point within ``max_m`` and its distance
        (-1 and inf when none; ties go to the lowest point index)."""
        qlat = np.ascontiguousarray(lat, dtype=np.float64).reshape(-1)
        qlon = np.ascontiguousarray(lon, dtype=np.float64).reshape(-1)
        if qlat.shape != qlon.shape:
            raise ValueError("nearest: lat and lon differ in length")
        m, use = self._mask(mask)
        nodes, dists = _nearest_many(qlat, qlon, float(max_m), 2.0 * self.cell_m, *self._grid(), m, use)
        return nodes, dists

    def nearest(
        self, lat: float, lon: float, max_m: float, mask: np.ndarray | None = None
    ) -> tuple[int, float]:
        """The nearest point within ``max_m`` metres, and its distance; ``(-1, inf)`` when none."""
        nodes, dists = self.nearest_many(np.array([lat]), np.array([lon]), max_m, mask)
        return int(nodes[0]), float(dists[0])

    def within_many(
        self, lat: np.ndarray, lon: np.ndarray, radius_m: float, mask: np.ndarray | None = None
    ) -> tuple[I32, I32, F64]:
        """Every (query index, point, distance) with distance <= ``radius_m``, grouped by
        query in input order (unordered within a query)."""
        qlat = np.ascontiguousarray(lat, dtype=np.float64).reshape(-1)
        qlon = np.ascontiguousarray(lon, dtype=np.float64).reshape(-1)
        if qlat.shape != qlon.shape:
            raise ValueError("within: lat and lon differ in length")
        m, use = self._mask(mask)
        q, nodes, dists = _within_many(qlat, qlon, float(radius_m), *self._grid(), m, use)
        return q, nodes, dists

    def within(
        self, lat: float, lon: float, radius_m: float, mask: np.ndarray | None = None
    ) -> tuple[I32, F64]:
        """Points within ``radius_m`` metres, nearest first (ties by index)."""
        _, nodes, dists = self.within_many(np.array([lat]), np.array([lon]), radius_m, mask)
        order = np.lexsort((nodes, dists))
        return nodes[order], dists[order]
