"""Google's Encoded Polyline Algorithm Format for leg geometry (``{polyline, precision}``).

A thin numpy-facing wrapper over the ``polyline`` package (which takes and gives lists
of ``(lat, lon)`` tuples), so routing code hands it coordinate arrays.
"""

from __future__ import annotations

import numpy as np
import polyline as _polyline

from feeds.model import F64


def encode(lats: np.ndarray, lons: np.ndarray, precision: int = 5) -> str:
    """Encode coordinates (degrees) at ``precision`` decimal digits (5: Google, 6: OSRM/Valhalla)."""
    lat = np.asarray(lats, dtype=np.float64).reshape(-1)
    lon = np.asarray(lons, dtype=np.float64).reshape(-1)
    if lat.shape != lon.shape:
        raise ValueError("polyline.encode: lats and lons differ in length")
    if lat.size == 0:
        return ""
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        raise ValueError("polyline.encode: coordinates must be finite")
    return _polyline.encode(list(zip(lat.tolist(), lon.tolist(), strict=True)), precision)


def decode(s: str, precision: int = 5) -> tuple[F64, F64]:
    """Coordinates of an encoded polyline as ``(lats, lons)``; ValueError when malformed."""
    if not all(63 <= ord(c) <= 126 for c in s):
        raise ValueError("not an encoded polyline: characters must lie in '?'..'~'")
    try:
        pts = _polyline.decode(s, precision)
    except (IndexError, TypeError, ValueError):
        raise ValueError("not an encoded polyline (truncated or bad characters)") from None
    arr = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    return np.ascontiguousarray(arr[:, 0]), np.ascontiguousarray(arr[:, 1])
