"""Quality notices and reports, in the spirit of the canonical GTFS validator.

A :class:`Notice` names severity, code, file, row and field; a :class:`QualityReport`
groups them per feed and derives a grade (rule in docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Notice:
    severity: Severity
    code: str  # snake_case, e.g. "missing_required_file"
    message: str
    file: str = ""
    row: int | None = None  # 1-based data row (header is row 0), None when not row-bound
    field: str = ""
    feed_id: str = ""
