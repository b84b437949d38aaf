"""Collects the :class:`~feeds.quality.Notice` s of one feed while it loads.

Problems that repeat over many rows become one notice per code (count, first row,
a few example ids), the way a validator summary reads, instead of thousands of lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from feeds.quality import Notice, Severity

_EXAMPLES = 3


class NoticeLog:
    def __init__(self) -> None:
        self.feed_id = ""  # known only once feed_info is read; stamped in notices()
        self._items: list[Notice] = []

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        *,
        file: str = "",
        row: int | None = None,
        field: str = "",
    ) -> None:
        self._items.append(Notice(severity, code, message, file, row, field))

    def rows(
        self,
        severity: Severity,
        code: str,
        what: str,
        *,
        file: str,
        rows: NDArray[np.int64] | Sequence[int],
        field: str = "",
        examples: Sequence[str] = (),
    ) -> None:
        """One notice for ``len(rows)`` offending rows (0-based data positions)."""
        n = len(rows)
        if n == 0:
            return
        shown = [str(x) for x in examples[:_EXAMPLES]]
        more = f" (e.g. {', '.join(shown)})" if shown else ""
        self.add(severity, code, f"{n} {what}{more}", file=file, row=int(rows[0]) + 1, field=field)

    def notices(self) -> tuple[Notice, ...]:
        return tuple(replace(n, feed_id=self.feed_id) for n in self._items)
