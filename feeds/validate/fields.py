"""Strict parsers for GTFS values, and column-at-a-time conversion to numpy.

A GTFS column repeats few distinct values (352k stop times share ~2k clock times), so
columns are parsed once per distinct value and mapped back onto the rows through the
column's codes, which is what keeps the validator fast on large feeds.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from feeds.validate.columns import Column

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


def is_blank(value: str) -> bool:
    return not value.strip()


def _mapped(
    column: Column, parse: Callable[[str], T | None], missing: T, dtype: type, invalid: T | None = None
) -> NDArray[Any]:
    """``parse`` of each value as a numpy array: ``missing`` where blank, ``invalid``
    (default: ``missing``) where unparsable. Each distinct value is parsed once."""
    bad = missing if invalid is None else invalid
    per_value = [missing if is_blank(v) else _or(parse(v), bad) for v in column.values]
    return column.mapped(np.array(per_value, dtype=dtype))


def _or(value: T | None, default: T) -> T:
    return default if value is None else value


BLANK_TIME = -1
INVALID_TIME = -2


def time_array(values: Column) -> NDArray[np.int32]:
    """Seconds per value; BLANK_TIME where blank, INVALID_TIME where unparsable."""
    return _mapped(values, parse_time, BLANK_TIME, np.int32, INVALID_TIME)


def int_array(values: Column, missing: int = -1) -> NDArray[np.int64]:
    """Integers per value; ``missing`` where blank or unparsable."""
    return _mapped(values, parse_int, missing, np.int64)


def float_array(values: Column) -> NDArray[np.float64]:
    """Floats per value; NaN where blank or unparsable."""
    return _mapped(values, parse_float, math.nan, np.float64)


def codes(values: Column, index: dict[str, int]) -> NDArray[np.int64]:
    """Index of each value in ``index``; -1 for values it does not hold."""
    return values.mapped(np.array([index.get(v, -1) for v in values.values], dtype=np.int64))


def first_index(values: Column) -> dict[str, int]:
    """Value -> index of its first occurrence (later duplicates are ignored)."""
    return dict(zip(values.values, values.first_rows().tolist(), strict=True))
