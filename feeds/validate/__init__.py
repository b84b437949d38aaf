"""GTFS quality validation in the spirit of the canonical MobilityData validator.

``validate_gtfs(path)`` reads a zip or directory (never raising for a bad feed) and
returns a :class:`QualityReport`: notices naming severity, code, file, row and field, row
counts per file, and a grade A..E (rule in docs/quality.md). Files are read by a compiled
scanner into columns of distinct values plus codes, with the csv module's result, and the
rules work per distinct value and over numpy arrays, so time and memory grow linearly
with the feed (7 million stop times: seconds, about 1 GB).
"""

from feeds.validate.gtfs import validate_gtfs
from feeds.validate.report import QualityReport, grade, is_fatal, merge_notices, warning_budget

__all__ = ["QualityReport", "grade", "is_fatal", "merge_notices", "validate_gtfs", "warning_budget"]
