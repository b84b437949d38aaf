"""Origins and destinations of an analysis: ``id, lat, lon`` plus numeric weight columns.

The CSV layout is r5py's (a frame with ``id`` and a point geometry, here ``lat``/``lon``
columns); any other column of a destinations file whose every value is a number is kept
as an opportunity weight for :mod:`routing.analysis.accessibility`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routing.errors import BadRequest

REQUIRED = ("id", "lat", "lon")


@dataclass(frozen=True, eq=False)
class Points:
    """Named points; ``weights`` maps a column name to one float per point."""

    ids: tuple[str, ...]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    weights: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: slice | NDArray[np.intp]) -> Points:
        """A subset (a batch of origins), weights included."""
        ids = np.asarray(self.ids, dtype=object)[index]
        return Points(
            tuple(str(i) for i in ids),
            self.lat[index],
            self.lon[index],
            {k: v[index] for k, v in self.weights.items()},
        )

    @classmethod
    def from_records(cls, rows: Iterable[Mapping[str, Any]], field_name: str = "points") -> Points:
        """From dicts with ``id, lat, lon`` (and numeric extras); names the bad field."""
        ids: list[str] = []
        lat: list[float] = []
        lon: list[float] = []
        extras: dict[str, list[float]] = {}
        skipped: set[str] = set()
        for n, row in enumerate(rows):
            where = f"{field_name}[{n}]"
            missing = [c for c in REQUIRED if row.get(c) in (None, "")]
            if missing:
                raise BadRequest(f"{where}.{missing[0]}", "is required (columns id, lat, lon)")
            la, lo = _number(row["lat"], f"{where}.lat"), _number(row["lon"], f"{where}.lon")
            if not (-90.0 <= la <= 90.0 and -180.0 <= lo <= 180.0):
                raise BadRequest(f"{where}.lat", f"coordinates out of range: {la},{lo}")
            ids.append(str(row["id"]))
            lat.append(la)
            lon.append(lo)
            for key, value in row.items():
                if key in REQUIRED or key in skipped:
                    continue
                number = _maybe_number(value)
                if number is None:  # not a weight column: text, or a value missing
                    skipped.add(key)
                    extras.pop(key, None)
                    continue
                col = extras.setdefault(key, [])
                if len(col) != n:  # the column was absent from an earlier row
                    skipped.add(key)
                    extras.pop(key, None)
                    continue
                col.append(number)
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise BadRequest(f"{field_name}.id", f"ids must be unique ({dup!r} repeats)")
        weights = {k: np.asarray(v, dtype=np.float64) for k, v in extras.items() if len(v) == len(ids)}
        return cls(tuple(ids), np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64), weights)

    @classmethod
    def from_csv(cls, path: str | Path, field_name: str | None = None) -> Points:
        """Read a CSV with a header ``id,lat,lon[,weight...]`` (UTF-8, BOM allowed)."""
        name = field_name or Path(path).name
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                reader = csv.DictReader(fh)
                header = reader.fieldnames or []
                lacking = [c for c in REQUIRED if c not in header]
                if lacking:
                    raise BadRequest(name, f"needs columns id,lat,lon (missing {', '.join(lacking)})")
                return cls.from_records(list(reader), name)
        except OSError as e:
            raise BadRequest(name, f"cannot read {path}: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise BadRequest(name, "is not UTF-8 text") from None


def _number(value: Any, where: str) -> float:
    number = _maybe_number(value)
    if number is None:
        raise BadRequest(where, f"must be a number, got {value!r}")
    return number


def _maybe_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
