"""stop_times.txt -> times per trip in stop_sequence order, blanks interpolated.

Everything is flat numpy over all rows (352k for WMATA), trips as CSR ranges:
sort once by (trip, stop_sequence), fill arrival from departure and back, then for the
rows still blank find the previous and next timed row with a running max / min and
interpolate between them, by ``shape_dist_traveled`` where the three rows have it, by
position otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feeds.gtfs.columns import floats, ints, positions, row_numbers, text
from feeds.gtfs.notices import NoticeLog
from feeds.gtfs.times import BLANK, parse_times
from feeds.model import F32, I64, Bool, StopTimes
from feeds.quality import Severity

FILE = "stop_times.txt"
# GTFS-Flex columns: a row with a pickup/drop-off window, or a location instead of a stop,
# is demand-responsive service, which this loader does not route.
_FLEX_WINDOWS = ("start_pickup_drop_off_window", "end_pickup_drop_off_window")
_FLEX_PLACES = ("location_id", "location_group_id")


@dataclass(frozen=True)
class TripStopTimes:
    """Stop times of the trips of trips.txt (by position): rows of trip ``t`` are
    ``offset[t]:offset[t + 1]``. ``usable[t]`` is False for trips that cannot run
    (fewer than two stop times, or no time at the first or last stop)."""

    offset: I64
    stop: I64
    arrival: I64
    departure: I64
    pickup: I64
    drop_off: I64
    shape_dist: F32
    usable: Bool

    def first_departure(self) -> I64:
        """Departure at the first stop per trip (BLANK where the trip has no rows)."""
        has = self.offset[1:] > self.offset[:-1]
        first = np.full(len(has), BLANK, dtype=np.int64)
        first[has] = self.departure[self.offset[:-1][has]]
        return first


def read_stop_times(
    df: pd.DataFrame, trip_ids: pd.Index, trip_rows: I64, stop_ids: pd.Index, log: NoticeLog
) -> TripStopTimes:
    """Stop times of trips ``trip_ids`` (``trip_rows``: their rows in trips.txt, for notices)
    and stops ``stop_ids``."""
    n_trips = len(trip_ids)
    rows = row_numbers(df)
    trip_text = text(df, "trip_id")
    trip = positions(trip_ids, trip_text)
    stop_text = text(df, "stop_id")
    stop = positions(stop_ids, stop_text)
    seq = floats(df, "stop_sequence")

    flex = _flex_rows(df, stop_text)
    flex_trips = np.zeros(n_trips, dtype=np.bool_)
    flex_trips[trip[flex & (trip >= 0)]] = True
    unknown_trip = ~flex & (trip < 0)
    unknown_stop = ~flex & ~unknown_trip & (stop < 0)
    no_seq = ~flex & ~unknown_trip & ~unknown_stop & np.isnan(seq)
    log.rows(
        Severity.ERROR,
        "unknown_trip_id",
        "stop_times rows name a trip_id missing from trips.txt and were dropped",
        file=FILE,
        field="trip_id",
        rows=rows[unknown_trip],
        examples=list(trip_text[unknown_trip][:3]),
    )
    log.rows(
        Severity.ERROR,
        "unknown_stop_id",
        "stop_times rows name a stop_id missing from stops.txt and were dropped",
        file=FILE,
        field="stop_id",
        rows=rows[unknown_stop],
        examples=list(stop_text[unknown_stop][:3]),
    )
    log.rows(
        Severity.ERROR,
        "missing_stop_sequence",
        "stop_times rows have no valid stop_sequence and were dropped",
        file=FILE,
        field="stop_sequence",
        rows=rows[no_seq],
    )

    keep = ~(flex | unknown_trip | unknown_stop | no_seq)
    order = np.flatnonzero(keep)
    order = order[np.lexsort((seq[order], trip[order]))]
    trip, stop, rows = trip[order], stop[order], rows[order]
    arrival, bad_arr = parse_times(df["arrival_time"]) if "arrival_time" in df.columns else _blank(len(df))
    departure, bad_dep = (
        parse_times(df["departure_time"]) if "departure_time" in df.columns else _blank(len(df))
    )
    bad = (bad_arr | bad_dep)[order]
    log.rows(
        Severity.ERROR,
        "invalid_time",
        "stop_times rows have an arrival or departure time not in H:MM:SS form, treated as blank",
        file=FILE,
        field="arrival_time" if bool(bad_arr.any()) else "departure_time",
        rows=rows[bad],
    )
    arrival, departure = arrival[order], departure[order]
    arrival = np.where(arrival == BLANK, departure, arrival)
    departure = np.where(departure == BLANK, arrival, departure)

    counts = np.bincount(trip, minlength=n_trips)
    offset = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    n_flex = int(flex.sum())
    if n_flex:
        only_flex = flex_trips & (counts == 0)
        dropped = (
            f"; {int(only_flex.sum())} trips had only flex stop times and were dropped"
            if only_flex.any()
            else ""
        )
        log.add(
            Severity.WARNING,
            "flex_stop_times_skipped",
            f"{n_flex} GTFS-Flex stop_times rows (pickup/drop-off windows or locations) were skipped: "
            f"flex routing is not supported{dropped}",
            file=FILE,
            row=int(row_numbers(df)[flex][0]) + 1,
        )
    usable = counts >= 2
    none = (counts == 0) & ~flex_trips
    one = counts == 1
    log.rows(
        Severity.WARNING,
        "trip_without_stop_times",
        "trips have no stop times and were dropped",
        file="trips.txt",
        field="trip_id",
        rows=trip_rows[none],
        examples=list(trip_ids[none][:3]),
    )
    log.rows(
        Severity.WARNING,
        "trip_with_one_stop",
        "trips have a single stop time and were dropped",
        file="trips.txt",
        field="trip_id",
        rows=trip_rows[one],
        examples=list(trip_ids[one][:3]),
    )

    first, last = offset[:-1][usable], offset[1:][usable] - 1
    no_edge = np.zeros(n_trips, dtype=np.bool_)
    no_edge[usable] = (arrival[first] == BLANK) | (arrival[last] == BLANK)
    log.rows(
        Severity.ERROR,
        "missing_trip_edge",
        "trips have no time at their first or last stop and were dropped",
        file=FILE,
        field="arrival_time",
        rows=rows[offset[:-1][no_edge]],
        examples=list(trip_ids[no_edge][:3]),
    )
    usable &= ~no_edge

    shape_dist = floats(df, "shape_dist_traveled")[order]
    row_trip = np.repeat(np.arange(n_trips), counts)
    _interpolate(arrival, departure, shape_dist, usable[row_trip])
    _report_decreasing(arrival, departure, row_trip, usable, trip_ids, rows, log)

    pickup = ints(df, "pickup_type", 0)[order]
    drop_off = ints(df, "drop_off_type", 0)[order]
    return TripStopTimes(
        offset, stop, arrival, departure, pickup, drop_off, shape_dist.astype(np.float32), usable
    )


def gather(st: TripStopTimes, src: I64, shift: I64) -> tuple[StopTimes, I64]:
    """Stop times of output trips ``k``: the rows of trip ``src[k]`` with times + ``shift[k]``.

    Returns the flat :class:`StopTimes` and the CSR offsets (``len(src) + 1``).
    """
    lengths = (st.offset[1:] - st.offset[:-1])[src]
    out_offset = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    total = int(out_offset[-1])
    rows = np.repeat(st.offset[:-1][src] - out_offset[:-1], lengths) + np.arange(total, dtype=np.int64)
    row_shift = np.repeat(shift, lengths)
    stop_times = StopTimes(
        stop=st.stop[rows].astype(np.int32),
        arrival=(st.arrival[rows] + row_shift).astype(np.int32),
        departure=(st.departure[rows] + row_shift).astype(np.int32),
        pickup=st.pickup[rows].astype(np.int8),
        drop_off=st.drop_off[rows].astype(np.int8),
        shape_dist=st.shape_dist[rows],
    )
    return stop_times, out_offset


def _flex_rows(df: pd.DataFrame, stop_text: np.ndarray) -> Bool:
    flex = np.zeros(len(df), dtype=np.bool_)
    for col in _FLEX_WINDOWS:
        if col in df.columns:
            flex |= df[col].notna().to_numpy(dtype=np.bool_)
    for col in _FLEX_PLACES:
        if col in df.columns:
            flex |= df[col].notna().to_numpy(dtype=np.bool_) & (stop_text == "")
    return flex


def _blank(n: int) -> tuple[I64, Bool]:
    return np.full(n, BLANK, dtype=np.int64), np.zeros(n, dtype=np.bool_)


def _interpolate(arrival: I64, departure: I64, shape_dist: np.ndarray, in_usable_trip: Bool) -> None:
    """Fill blank times in place (only rows of usable trips, whose edges are timed)."""
    n = len(arrival)
    known = arrival != BLANK
    gap = np.flatnonzero(~known & in_usable_trip)
    if gap.size == 0:
        return
    idx = np.arange(n, dtype=np.int64)
    prev = np.maximum.accumulate(np.where(known, idx, -1))[gap]
    nxt = np.minimum.accumulate(np.where(known, idx, n)[::-1])[::-1][gap]
    frac = (gap - prev) / (nxt - prev)
    d_prev, d_next, d_here = shape_dist[prev], shape_dist[nxt], shape_dist[gap]
    with np.errstate(invalid="ignore", divide="ignore"):
        by_dist = np.isfinite(d_prev) & np.isfinite(d_next) & np.isfinite(d_here) & (d_next > d_prev)
        frac = np.where(by_dist, np.clip((d_here - d_prev) / (d_next - d_prev), 0.0, 1.0), frac)
    start = departure[prev]
    times = start + np.rint(frac * (arrival[nxt] - start)).astype(np.int64)
    arrival[gap] = times
    departure[gap] = times


def _report_decreasing(
    arrival: I64,
    departure: I64,
    row_trip: I64,
    usable: Bool,
    trip_ids: pd.Index,
    rows: I64,
    log: NoticeLog,
) -> None:
    same_trip = np.zeros(len(arrival), dtype=np.bool_)
    same_trip[1:] = row_trip[1:] == row_trip[:-1]
    back = (same_trip & (arrival < np.roll(departure, 1))) | (departure < arrival)
    back &= usable[row_trip]
    log.rows(
        Severity.ERROR,
        "stop_time_decreasing",
        "stop times go back in time (kept as given)",
        file=FILE,
        field="arrival_time",
        rows=rows[back],
        examples=list(pd.unique(np.asarray(trip_ids)[row_trip[back]])[:3]),
    )
