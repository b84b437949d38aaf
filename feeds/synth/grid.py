"""Geometry of the synthetic city: a square street grid on a local flat projection.

Street nodes sit at integer grid coordinates ``(gx, gy)`` (east, north), ``BLOCK_M``
apart, inside a disk of ``radius`` blocks around the centre. Transit stops sit on the
*stop lattice*: every second street, so neighbouring stops are ``2 * BLOCK_M`` apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from feeds.model import F64, I64

BLOCK_M = 175.0  # street spacing; stops on every second street: ~350 m apart
EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0
CENTER = (45.062, 7.678)  # a plain in Piedmont: any place works, the time zone is Europe/Rome
TIMEZONE = "Europe/Rome"


@dataclass(frozen=True)
class Grid:
    radius: int  # street nodes satisfy gx**2 + gy**2 <= radius**2
    lat0: float = CENTER[0]
    lon0: float = CENTER[1]

    @property
    def side(self) -> int:
        return 2 * self.radius + 1

    def lat(self, gy: F64 | float) -> F64:
        return np.asarray(self.lat0 + np.asarray(gy, dtype=np.float64) * BLOCK_M / M_PER_DEG_LAT)

    def lon(self, gx: F64 | float) -> F64:
        scale = M_PER_DEG_LAT * math.cos(math.radians(self.lat0))
        return np.asarray(self.lon0 + np.asarray(gx, dtype=np.float64) * BLOCK_M / scale)

    def shift(self, lat: F64, lon: F64, east_m: F64 | float, north_m: F64 | float) -> tuple[F64, F64]:
        """Points moved a few meters (stops stand beside the intersection, not on it)."""
        scale = M_PER_DEG_LAT * math.cos(math.radians(self.lat0))
        return lat + north_m / M_PER_DEG_LAT, lon + east_m / scale

    def node_id(self, gx: I64 | int, gy: I64 | int) -> I64:
        """OSM id of the street node at (gx, gy): row-major over the bounding square."""
        return np.asarray((np.asarray(gy) + self.radius) * self.side + np.asarray(gx) + self.radius + 1)

    @property
    def max_node_id(self) -> int:
        return self.side * self.side

    def half_width(self, g: int) -> int:
        """Street nodes of line ``gy = g`` (or ``gx = g``) run from ``-w`` to ``w``."""
        rest = self.radius * self.radius - g * g
        return math.isqrt(rest) if rest >= 0 else -1

    def nodes(self) -> tuple[I64, I64]:
        """All street-node grid coordinates inside the disk, row-major (sorted by id)."""
        axis = np.arange(-self.radius, self.radius + 1, dtype=np.int64)
        gy, gx = np.meshgrid(axis, axis, indexing="ij")
        inside = gx * gx + gy * gy <= self.radius * self.radius
        return gx[inside], gy[inside]


def stop_lattice(count: int) -> tuple[I64, I64]:
    """``count`` lattice points (a, b) filling a disk from the centre outwards.

    Taken in order of distance, then angle, so every lattice row and column of the
    result is a contiguous run of points (a bus can drive along it stop after stop).
    """
    r = math.ceil(math.sqrt(count / math.pi)) + 2
    axis = np.arange(-r, r + 1, dtype=np.int64)
    row, column = np.meshgrid(axis, axis, indexing="ij")
    a, b = column.ravel(), row.ravel()
    angle = np.arctan2(b, a)
    order = np.lexsort((angle, a * a + b * b))[:count]
    return a[order], b[order]
