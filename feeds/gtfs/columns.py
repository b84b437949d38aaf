"""Typed numpy views of GTFS table columns, with the GTFS default where a value is blank
or the column is absent (gtfs-kit hands back pandas nullable columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from feeds.model import F64, I64

Obj = NDArray[np.object_]


def text(df: pd.DataFrame, col: str, default: str = "") -> Obj:
    """Column as an object array of ``str`` (blank -> ``default``)."""
    if col not in df.columns:
        return np.full(len(df), default, dtype=object)
    # Id columns repeat a few values many times: strip each distinct value once.
    codes, uniques = pd.factorize(df[col])
    distinct = np.array([*(str(u).strip() for u in np.asarray(uniques, dtype=object)), default], dtype=object)
    values: Obj = distinct[codes]  # code -1 (blank) picks the trailing default
    return values


def ints(df: pd.DataFrame, col: str, default: int) -> I64:
    """Column as int64 (blank or not a number -> ``default``; decimals truncated)."""
    vals = floats(df, col)
    return np.where(np.isnan(vals), default, vals).astype(np.int64)


def floats(df: pd.DataFrame, col: str) -> F64:
    """Column as float64 (blank or not a number -> NaN)."""
    if col not in df.columns:
        return np.full(len(df), np.nan)
    s = df[col]
    if not pd.api.types.is_numeric_dtype(s.dtype):
        s = pd.to_numeric(s, errors="coerce")
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def positions(index: pd.Index, values: Obj) -> I64:
    """Position of each value in ``index`` (unique), -1 where absent."""
    found: I64 = index.get_indexer(pd.Index(values)).astype(np.int64)
    return found


def row_numbers(df: pd.DataFrame) -> I64:
    """0-based data positions in the file (pandas keeps read_csv's index through filters)."""
    return df.index.to_numpy(dtype=np.int64)
