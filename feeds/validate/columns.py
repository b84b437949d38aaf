"""One csv column held as its distinct values plus one small integer per row.

GTFS columns repeat few distinct values (7 million stop times share a few hundred
thousand trip ids and at most 86,400 clock times), so a rule decides once per distinct
value and maps the answer onto the rows with numpy, instead of looping over the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

Codes = NDArray[np.int32]
Rows = NDArray[np.int64]


class Column(Sequence[str]):
    """The raw strings of one column (no stripping: ids compare exactly).

    ``values`` are the distinct strings in order of first appearance, ``codes[i]`` is the
    index into ``values`` of row ``i``; every value occurs in at least one row.
    """

    __slots__ = ("codes", "values")

    def __init__(self, values: list[str], codes: Codes) -> None:
        self.values = values
        self.codes = codes

    @classmethod
    def of(cls, strings: Collection[str]) -> Column:
        """A column of ``strings`` (slow: one dictionary look-up per row)."""
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(s, len(index)) for s in strings), np.int32, len(strings))
        return cls(list(index), codes)

    @classmethod
    def constant(cls, value: str, size: int) -> Column:
        return cls([value] if size else [], np.zeros(size, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self.values[c] for c in self.codes[index].tolist()]
        return self.values[int(self.codes[index])]

    def __iter__(self) -> Iterator[str]:
        return map(self.values.__getitem__, self.codes.tolist())

    def __contains__(self, value: object) -> bool:
        return value in self.values

    def per_value(self, test: Callable[[str], bool]) -> NDArray[np.bool_]:
        """``test`` of each distinct value (index it with ``codes`` for the rows)."""
        return np.fromiter(map(test, self.values), dtype=bool, count=len(self.values))

    def rows_where(self, hit: NDArray[np.bool_] | Collection[str]) -> Rows:
        """Ascending indices of the rows whose value is hit: ``hit`` is one flag per
        distinct value, or a set of values."""
        if not isinstance(hit, np.ndarray):
            if not hit:
                return np.empty(0, dtype=np.int64)
            hit = self.per_value(hit.__contains__)
        if not hit.any():
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(hit[self.codes])

    def mapped(self, per_value: NDArray[Any]) -> NDArray[Any]:
        """``per_value[codes]``: a per-distinct-value answer spread onto the rows."""
        return per_value[self.codes]

    def first_rows(self) -> Rows:
        """Index of the first row holding each distinct value."""
        _, first = np.unique(self.codes, return_index=True)
        return first.astype(np.int64)


def strings_at(column: Column, rows: Sequence[int] | Rows) -> list[str]:
    """The values of ``column`` at ``rows``."""
    return [column.values[c] for c in column.codes[np.asarray(rows, dtype=np.int64)].tolist()]
