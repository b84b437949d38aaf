"""Google's Encoded Polyline Algorithm Format for leg geometry (``{polyline, precision}``).

Encoding is vectorised with numpy: it runs for every leg of every itinerary, and the
``polyline`` package's per-point Python loop was the largest cost of a plan request.
Decoding (tests, clients) uses the package; a test checks both agree.
"""

from __future__ import annotations

import numpy as np
import polyline as _polyline
from numpy.typing import ArrayLike

from feeds.model import F64


def encode(lats: ArrayLike, lons: ArrayLike, precision: int = 5) -> str:
    """Encode coordinates (degrees) at ``precision`` decimal digits (5: Google, 6: OSRM/Valhalla)."""
    lat = np.asarray(lats, dtype=np.float64).reshape(-1)
    lon = np.asarray(lons, dtype=np.float64).reshape(-1)
    if lat.shape != lon.shape:
        raise ValueError("polyline.encode: lats and lons differ in length")
    if lat.size == 0:
        return ""
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        raise ValueError("polyline.encode: coordinates must be finite")
    scale = 10.0**precision
    # round half away from zero, as the reference implementation does
    q = np.empty(2 * lat.size, dtype=np.int64)
    q[0::2] = np.sign(lat) * np.floor(np.abs(lat) * scale + 0.5)
    q[1::2] = np.sign(lon) * np.floor(np.abs(lon) * scale + 0.5)
    d = q.copy()
    d[2:] -= q[:-2]
    v = (d << 1) ^ (d >> 63)  # zigzag: negatives become odd, as ~(d << 1)
    shifts = np.arange(0, 40, 5, dtype=np.int64)
    chunks = (v[:, None] >> shifts[None, :]) & 0x1F
    # number of 5-bit chunks each value needs (at least one); frexp's exponent is the
    # bit length of a positive integer (exact: values stay far below 2**53)
    bitlen = np.frexp(v.astype(np.float64))[1].astype(np.int64)
    n = np.maximum(1, (bitlen + 4) // 5)
    col = np.arange(shifts.size)[None, :]
    keep = col < n[:, None]
    more = col < (n[:, None] - 1)
    out = (chunks | (more * 0x20)) + 63
    encoded: bytes = out[keep].astype(np.uint8).tobytes()
    return encoded.decode("ascii")


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
