"""Strict parsers for GTFS values, and column-at-a-time conversion to numpy.

A GTFS column repeats few distinct values (352k stop times share ~2k clock times), so
columns are parsed once per distinct value and mapped back, which is what keeps the
validator fast on large feeds.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T")

_TIME = re.compile(r"\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*\Z")
_DATE = re.compile(r"\s*(\d{4})(\d{2})(\d{2})\s*\Z")
_INT = re.compile(r"\s*-?\d+\s*\Z")
_COLOR = re.compile(r"\s*[0-9A-Fa-f]{6}\s*\Z")


def parse_time(value: str) -> int | None:
    """Seconds after noon-minus-12h of ``H:MM:SS`` / ``HH:MM:SS`` (hours may pass 24)."""
    m = _TIME.match(value)
    if m is None:
        return None
    return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])


def parse_date(value: str) -> dt.date | None:
    """A ``YYYYMMDD`` service date that exists in the calendar."""
    m = _DATE.match(value)
    if m is None:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_int(value: str) -> int | None:
    return int(value) if _INT.match(value) else None


def parse_float(value: str) -> float | None:
    try:
        f = float(value)
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def is_color(value: str) -> bool:
    return _COLOR.match(value) is not None


def parse_distinct(values: Collection[str], parse: Callable[[str], T | None]) -> dict[str, T | None]:
    """``parse`` applied once to every distinct non-blank value."""
    return {v: parse(v) for v in set(values) if v.strip()}


def _mapped(
    values: Sequence[str], parse: Callable[[str], T | None], missing: T, dtype: type, invalid: T | None = None
) -> NDArray[Any]:
    """``parse`` of each value as a numpy array: ``missing`` where blank, ``invalid``
    (default: ``missing``) where unparsable."""
    bad = missing if invalid is None else invalid
    lookup = {v: missing for v in set(values)}
    for v, parsed in parse_distinct(lookup, parse).items():
        lookup[v] = bad if parsed is None else parsed
    return np.fromiter(map(lookup.__getitem__, values), dtype=dtype, count=len(values))


BLANK_TIME = -1
INVALID_TIME = -2


def time_array(values: Sequence[str]) -> NDArray[np.int32]:
    """Seconds per value; BLANK_TIME where blank, INVALID_TIME where unparsable."""
    return _mapped(values, parse_time, BLANK_TIME, np.int32, INVALID_TIME)


def int_array(values: Sequence[str], missing: int = -1) -> NDArray[np.int64]:
    """Integers per value; ``missing`` where blank or unparsable."""
    return _mapped(values, parse_int, missing, np.int64)


def float_array(values: Sequence[str]) -> NDArray[np.float64]:
    """Floats per value; NaN where blank or unparsable."""
    return _mapped(values, parse_float, math.nan, np.float64)


def codes(values: Sequence[str], index: dict[str, int]) -> NDArray[np.int64]:
    """Index of each value in ``index``; -1 for values it does not hold."""
    lookup = {v: index.get(v, -1) for v in set(values)}
    return np.fromiter(map(lookup.__getitem__, values), dtype=np.int64, count=len(values))


def first_index(values: Sequence[str]) -> dict[str, int]:
    """Value -> index of its first occurrence (later duplicates are ignored)."""
    index: dict[str, int] = {}
    for i, v in enumerate(values):
        index.setdefault(v, i)
    return index
