"""The quality report of one feed: notices, row counts, a grade, JSON and a rich table.

The grade is a pure function of counts (see :func:`grade` and docs/quality.md):

- **E** unusable: at least one *fatal* error (unreadable archive, a required file or
  column missing, a required file empty): nothing can be routed, a build must refuse.
- **D** errors: rows that break the reference (bad times, dangling references, ...);
  routing over those rows would be wrong, the loader has to drop them.
- **C** many warnings: more than ``max(10, rows / 100)`` warnings.
- **B** some warnings.
- **A** no errors, no warnings (infos are fine).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table as RichTable
from rich.text import Text

from feeds.quality import Notice, Severity
from feeds.validate.schema import REQUIRED_FILES, ROUTING_FILES

# Codes that always make a feed unusable, and codes that do so when they hit a file
# routing cannot do without.
FATAL_CODES: frozenset[str] = frozenset(
    {
        "corrupt_zip",
        "missing_required_file",
        "missing_calendar_and_calendar_date_files",
        "invalid_input_files_in_subfolder",
    }
)
_FATAL_IN_ROUTING_FILES: frozenset[str] = frozenset(
    {"missing_required_column", "csv_parsing_failed", "file_too_large", "i_o_error"}
)
_FATAL_IN_REQUIRED_FILES: frozenset[str] = frozenset({"empty_file"})

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def is_fatal(notice: Notice) -> bool:
    """Whether ``notice`` leaves nothing to route on (grade E, a build refuses)."""
    if notice.severity is not Severity.ERROR:
        return False
    if notice.code in FATAL_CODES:
        return True
    if notice.code in _FATAL_IN_ROUTING_FILES:
        return notice.file in ROUTING_FILES
    if notice.code in _FATAL_IN_REQUIRED_FILES:
        return notice.file in REQUIRED_FILES
    return False


def warning_budget(rows: int) -> int:
    """Most warnings a feed of ``rows`` data rows may have and still be graded B."""
    return max(10, rows // 100)


def grade(*, errors: int, warnings: int, rows: int, fatal: int = 0) -> str:
    """The letter grade of a feed from its notice counts (``errors`` includes ``fatal``)."""
    if fatal > 0:
        return "E"
    if errors > 0:
        return "D"
    if warnings > warning_budget(rows):
        return "C"
    if warnings > 0:
        return "B"
    return "A"


@dataclass(frozen=True)
class QualityReport:
    feed_id: str
    path: str
    notices: tuple[Notice, ...]
    counts: dict[str, int]  # file -> data rows read
    # Notices past the per-code cap: counted here, not kept (code -> count).
    dropped: dict[str, int] = field(default_factory=dict)

    def _total(self, severity: Severity) -> int:
        kept = [n for n in self.notices if n.severity is severity]
        codes = {n.code for n in kept}
        return len(kept) + sum(c for code, c in self.dropped.items() if code in codes)

    @property
    def errors(self) -> int:
        return self._total(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self._total(Severity.WARNING)

    @property
    def infos(self) -> int:
        return self._total(Severity.INFO)

    @property
    def fatal(self) -> tuple[Notice, ...]:
        """The notices that make the feed unusable."""
        return tuple(n for n in self.notices if is_fatal(n))

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def grade(self) -> str:
        return grade(errors=self.errors, warnings=self.warnings, rows=self.rows, fatal=len(self.fatal))

    def by_code(self) -> list[tuple[str, Severity, int, list[Notice]]]:
        """(code, severity, total, notices) per code: errors first, then warnings, infos; by code."""
        groups: dict[str, list[Notice]] = {}
        for n in self.notices:
            groups.setdefault(n.code, []).append(n)
        out = [(code, ns[0].severity, len(ns) + self.dropped.get(code, 0), ns) for code, ns in groups.items()]
        out.sort(key=lambda g: (_SEVERITY_ORDER[g[1]], g[0]))
        return out

    def to_dict(self, max_samples_per_code: int = 20) -> dict[str, Any]:
        """JSON-ready, stable key order; per code the total and the first samples only."""
        return {
            "feed_id": self.feed_id,
            "path": self.path,
            "grade": self.grade,
            "summary": {
                "errors": self.errors,
                "warnings": self.warnings,
                "infos": self.infos,
                "fatal": len(self.fatal),
                "rows": self.rows,
            },
            "counts": dict(sorted(self.counts.items())),
            "notices": [
                {
                    "code": code,
                    "severity": severity.value,
                    "fatal": any(is_fatal(n) for n in ns),
                    "total": total,
                    "samples": [
                        {"file": n.file, "row": n.row, "field": n.field, "message": n.message}
                        for n in ns[:max_samples_per_code]
                    ],
                }
                for code, severity, total, ns in self.by_code()
            ],
        }

    def render_table(self, max_rows_per_code: int = 5) -> RichTable:
        """A table for the terminal: one line per sample notice, grouped by code."""
        table = RichTable(
            title=Text(
                f"{self.feed_id}: grade {self.grade} — {self.errors} errors, {self.warnings} warnings, "
                f"{self.infos} infos ({self.rows} rows)"
            ),
            title_justify="left",
        )
        for name in ("severity", "code", "count", "file", "row", "field", "message"):
            table.add_column(name, justify="right" if name in ("count", "row") else "left")
        for code, severity, total, ns in self.by_code():
            for i, n in enumerate(ns[:max_rows_per_code]):
                first = i == 0
                table.add_row(
                    Text(severity.value, style=_STYLE[severity]) if first else Text(""),
                    Text(code) if first else Text(""),
                    Text(str(total)) if first else Text(""),
                    Text(n.file),
                    Text("" if n.row is None else str(n.row)),
                    Text(n.field),
                    Text(n.message),  # Text: a message with [brackets] is not rich markup
                )
            if total > max_rows_per_code:
                table.add_row(
                    "", "", "", "", "", "", Text(f"… and {total - max_rows_per_code} more", style="dim")
                )
        return table


def merge_notices(report: QualityReport, notices: Iterable[Notice]) -> QualityReport:
    """``report`` with ``notices`` (e.g. from a loader) added; their feed_id defaults to the report's."""
    extra = tuple(n if n.feed_id else dataclasses.replace(n, feed_id=report.feed_id) for n in notices)
    return dataclasses.replace(report, notices=report.notices + extra)
