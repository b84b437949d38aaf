"""Reading the GTFS tables of one feed with gtfs-kit, every failure named by file.

gtfs-kit's ``read_feed`` reads all tables in one call and, when a file is broken, raises
a pandas error that names no file. So: check the listing first (missing / empty
required files), let gtfs-kit read, and only if it fails re-read table by table with
the same pandas options to say which file is broken and how. A value that does not fit
gtfs-kit's column type (``headway_secs`` is Int16, say) is not fatal: that table is
read as text, coerced, and the bad cells reported.
"""

from __future__ import annotations

import io
import warnings
from typing import Any, cast

import gtfs_kit
import pandas as pd
from gtfs_kit import cleaners as gk_cleaners
from gtfs_kit import constants as gk_constants

from feeds.errors import FeedFormatError
from feeds.gtfs.columns import row_numbers
from feeds.gtfs.notices import NoticeLog
from feeds.gtfs.source import ZIP_ERRORS, FeedFiles
from feeds.quality import Severity

# The tables this loader uses (all are in gtfs-kit's schema).
TABLES = (
    "agency",
    "stops",
    "routes",
    "trips",
    "stop_times",
    "calendar",
    "calendar_dates",
    "frequencies",
    "shapes",
    "transfers",
    "feed_info",
)
REQUIRED = ("agency", "stops", "routes", "trips", "stop_times")
WEEKDAYS: tuple[str, ...] = tuple(gk_constants.WEEKDAYS)

# Columns without which a present table means nothing.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_timezone",),
    "stops": ("stop_id",),
    "routes": ("route_id", "route_type"),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "stop_sequence"),
    "calendar": ("service_id", *WEEKDAYS, "start_date", "end_date"),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs"),
    "shapes": ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
    "transfers": ("from_stop_id", "to_stop_id"),
}

# As gtfs-kit's reader, so the fallback reads exactly what gtfs-kit would have.
_CSV_OPTIONS: dict[str, Any] = {
    "na_values": ["", " ", "nan", "NaN", "null"],
    "keep_default_na": True,
    "dtype_backend": "numpy_nullable",
    "encoding": "utf-8-sig",
}
_DTYPES = cast(dict[str, dict[str, str]], gk_constants.DTYPES)

# What pandas / zipfile raise on unreadable input (UnicodeDecodeError and the pandas
# parser errors are ValueErrors).
_READ_ERRORS = (ValueError, TypeError, OverflowError, KeyError, *ZIP_ERRORS)


Tables = dict[str, pd.DataFrame]


def read_tables(files: FeedFiles, log: NoticeLog) -> Tables:
    """The non-empty tables of :data:`TABLES` present in the feed.

    Raises FeedFormatError naming the feed and the file when a required file is
    missing, empty, not UTF-8, not CSV, or lacks a required column.
    """
    where = files.path
    for table in REQUIRED:
        name = f"{table}.txt"
        if not files.has(name):
            raise FeedFormatError(f"{where}: required file {name} is missing")
        if files.sizes[name] == 0:
            raise FeedFormatError(f"{where}: required file {name} is empty")
    if not files.has("calendar.txt") and not files.has("calendar_dates.txt"):
        raise FeedFormatError(f"{where}: neither calendar.txt nor calendar_dates.txt is present")

    tables = _read_with_gtfs_kit(files)
    if tables is None:
        tables = {}
        for table in TABLES:
            df = _read_one(files, table, log)
            if df is not None:
                tables[table] = df

    for table in REQUIRED:
        if table not in tables:
            raise FeedFormatError(f"{where}: required file {table}.txt has a header but no rows")
    if "calendar" not in tables and "calendar_dates" not in tables:
        raise FeedFormatError(f"{where}: calendar.txt and calendar_dates.txt hold no rows")
    for table, df in tables.items():
        missing = [c for c in REQUIRED_COLUMNS.get(table, ()) if c not in df.columns]
        if missing:
            raise FeedFormatError(f"{where}: {table}.txt lacks the required column(s) {', '.join(missing)}")
    return tables


def _read_with_gtfs_kit(files: FeedFiles) -> Tables | None:
    try:
        with warnings.catch_warnings():
            # mixed-type inference on columns outside gtfs-kit's schema, which we do not use
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            feed = gtfs_kit.read_feed(files.path, dist_units="km")
    except _READ_ERRORS:
        return None
    tables: Tables = {}
    for table in TABLES:
        df = getattr(feed, table, None)
        if isinstance(df, pd.DataFrame) and not df.empty:
            tables[table] = df
    return tables


def _read_one(files: FeedFiles, table: str, log: NoticeLog) -> pd.DataFrame | None:
    name = f"{table}.txt"
    if not files.has(name) or files.sizes[name] == 0:
        return None
    data = files.read_bytes(name)
    where = f"{files.path}: {name}"
    try:
        df = _csv(data, _DTYPES[table])
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FeedFormatError(
            f"{where} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "GTFS files must be encoded in UTF-8"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise FeedFormatError(f"{where} is empty (no header row)") from exc
    except pd.errors.ParserError as exc:
        raise FeedFormatError(f"{where} is not valid CSV: {exc}") from exc
    except (ValueError, TypeError, OverflowError):
        # A cell does not fit gtfs-kit's column type: read as text and coerce below.
        try:
            df = _csv(data, str)
        except _READ_ERRORS as exc:  # pragma: no cover - the typed read would have failed first
            raise FeedFormatError(f"{where} cannot be read: {exc}") from exc
        _coerce_numbers(df, table, name, log)
    if df.empty:
        return None
    cleaned: pd.DataFrame = gk_cleaners.clean_column_names(df)
    return cleaned


def _csv(data: bytes, dtype: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        df: pd.DataFrame = pd.read_csv(io.BytesIO(data), dtype=dtype, **_CSV_OPTIONS)
        return df


def _coerce_numbers(df: pd.DataFrame, table: str, name: str, log: NoticeLog) -> None:
    for col, dtype in _DTYPES[table].items():
        if col not in df.columns or dtype in ("string", "str"):
            continue
        raw = df[col]
        num = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & num.isna()
        if bool(bad.any()):
            log.rows(
                Severity.ERROR,
                "invalid_number",
                f"values of {col} are not numbers and were treated as blank",
                file=name,
                field=col,
                rows=row_numbers(df[bad]),
                examples=[str(v) for v in raw[bad].head(3)],
            )
        df[col] = num.astype("Float64")
