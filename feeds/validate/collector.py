"""Collects notices while the rules run, bounded so a systematically broken feed stays small."""

from __future__ import annotations

from collections import Counter

import numpy as np
from numpy.typing import NDArray

from feeds.quality import Notice, Severity

# Past this many notices of one code only the count is kept: a 10-million-row feed with
# one broken column must not hold 10 million Notice objects.
DEFAULT_CAP_PER_CODE = 10_000


class NoticeCollector:
    def __init__(self, feed_id: str, cap_per_code: int = DEFAULT_CAP_PER_CODE) -> None:
        self.feed_id = feed_id
        self.cap_per_code = cap_per_code
        self.notices: list[Notice] = []
        self.kept: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        file: str = "",
        row: int | None = None,
        field: str = "",
    ) -> None:
        if self.kept[code] >= self.cap_per_code:
            self.dropped[code] += 1
            return
        self.kept[code] += 1
        self.notices.append(Notice(severity, code, message, file, row, field, self.feed_id))

    def capped(self, code: str, hits: NDArray[np.int64]) -> list[int]:
        """The leading ``hits`` that still fit under the cap of ``code``, the rest counted
        as dropped: for a rule that adds one ``code`` notice per hit, in order, so a
        million hits do not make a million calls."""
        room = max(0, self.cap_per_code - self.kept[code])
        if len(hits) > room:
            self.dropped[code] += len(hits) - room
        return [int(h) for h in hits[:room].tolist()]

    def error(self, code: str, message: str, file: str = "", row: int | None = None, field: str = "") -> None:
        self.add(Severity.ERROR, code, message, file, row, field)

    def warning(
        self, code: str, message: str, file: str = "", row: int | None = None, field: str = ""
    ) -> None:
        self.add(Severity.WARNING, code, message, file, row, field)

    def info(self, code: str, message: str, file: str = "", row: int | None = None, field: str = "") -> None:
        self.add(Severity.INFO, code, message, file, row, field)

    def has(self, code: str, file: str | None = None) -> bool:
        return any(n.code == code and (file is None or n.file == file) for n in self.notices)
