"""GTFS times (``HH:MM:SS``, hours may pass 24) and dates (``YYYYMMDD``) as integers.

Columns repeat the same few thousand values, so each distinct string is parsed once
(``pandas.factorize``) and the results are spread back with the codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from feeds.model import I64, Bool

BLANK = -1
_INVALID = -2


def _parse_time(text: str) -> int:
    parts = text.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[1]) != 2 or len(parts[2]) != 2:
        return _INVALID
    h, m, s = (int(p) for p in parts)
    if m > 59 or s > 59:
        return _INVALID
    return h * 3600 + m * 60 + s


def _parse_date(text: str) -> int:
    t = text.strip()
    if len(t) != 8 or not t.isdigit():
        return _INVALID
    try:
        return dt.date(int(t[:4]), int(t[4:6]), int(t[6:])).toordinal()
    except ValueError:
        return _INVALID


def _parse_column(values: pd.Series, parse: Callable[[str], int]) -> tuple[I64, Bool]:
    codes, uniques = pd.factorize(values)
    parsed = np.fromiter(
        (parse(str(u)) for u in np.asarray(uniques, dtype=object)), dtype=np.int64, count=len(uniques)
    )
    out = np.full(len(codes), BLANK, dtype=np.int64)
    present = codes >= 0
    out[present] = parsed[codes[present]]
    invalid = out == _INVALID
    out[invalid] = BLANK
    return out, invalid


def parse_times(values: pd.Series) -> tuple[I64, Bool]:
    """Seconds after noon minus 12 h; ``BLANK`` (-1) where blank or invalid, and the
    mask of the invalid ones (to report)."""
    return _parse_column(values, _parse_time)


def parse_dates(values: pd.Series) -> tuple[I64, Bool]:
    """Proleptic Gregorian ordinals (``date.toordinal()``); ``BLANK`` where blank or
    invalid, and the mask of the invalid ones."""
    return _parse_column(values, _parse_date)


def weekday_of(ordinal: I64) -> I64:
    """Monday 0 .. Sunday 6, as ``date.weekday()`` (ordinal 1 is a Monday)."""
    return (ordinal - 1) % 7
