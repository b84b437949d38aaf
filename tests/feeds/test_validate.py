"""feeds.validate: broken feeds written inline, each asserting the exact notices it causes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from rich.console import Console

from feeds.errors import FeedNotFound
from feeds.quality import Notice, Severity
from feeds.synth import synth_city
from feeds.validate import QualityReport, grade, merge_notices, validate_gtfs, warning_budget
from feeds.validate import reader as csv_reader
from feeds.validate.collector import NoticeCollector
from feeds.validate.columns import Column

TODAY = dt.date(2026, 6, 1)

# Three stops 1.11 km apart on the meridian 2.35 E (Paris), one bus trip along them,
# a shape through the stops, weekday service for 2026.
CLEAN: dict[str, str] = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Agency,https://example.org,Europe/Paris\n",
    "stops.txt": (
        "stop_id,stop_name,stop_lat,stop_lon\nS1,One,48.85,2.35\nS2,Two,48.86,2.35\nS3,Three,48.87,2.35\n"
    ),
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\nR1,A,1,,3\n",
    "trips.txt": "route_id,service_id,trip_id,shape_id\nR1,WK,T1,SH1\n",
    "stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,08:00:00,08:00:00,S1,1\n"
        "T1,08:03:00,08:03:30,S2,2\n"
        "T1,08:06:00,08:06:00,S3,3\n"
    ),
    "calendar.txt": (
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WK,1,1,1,1,1,0,0,20260101,20261231\n"
    ),
    "shapes.txt": (
        "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
        "SH1,48.85,2.35,1\nSH1,48.86,2.35,2\nSH1,48.87,2.35,3\n"
    ),
}


def write_feed(
    tmp_path: Path, files: dict[str, str | bytes], *, as_zip: bool = False, name: str = "feed"
) -> Path:
    """Write ``files`` (name -> csv text or raw bytes) as a directory or a zip."""
    if as_zip:
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for fname, content in files.items():
                zf.writestr(fname, content.encode() if isinstance(content, str) else content)
        return path
    path = tmp_path / name
    path.mkdir()
    for fname, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (path / fname).write_bytes(data)
    return path


def feed(**changes: str | bytes | None) -> dict[str, str | bytes]:
    """CLEAN with files replaced (``stops_txt="..."``) or removed (``=None``)."""
    files: dict[str, str | bytes] = dict(CLEAN)
    for key, content in changes.items():
        fname = key[: -len("_txt")] + ".txt" if key.endswith("_txt") else key
        if content is None:
            files.pop(fname, None)
        else:
            files[fname] = content
    return files


def validate(tmp_path: Path, files: dict[str, str | bytes]) -> QualityReport:
    return validate_gtfs(write_feed(tmp_path, files), today=TODAY)


def codes(report: QualityReport, severity: Severity | None = None) -> set[str]:
    return {n.code for n in report.notices if severity is None or n.severity is severity}


def only(report: QualityReport, code: str) -> Notice:
    found = [n for n in report.notices if n.code == code]
    assert len(found) == 1, found
    return found[0]


def where(n: Notice) -> tuple[str, int | None, str]:
    return (n.file, n.row, n.field)


# --- clean feeds ------------------------------------------------------------------------------


@pytest.mark.parametrize("as_zip", [False, True])
def test_clean_feed_gets_grade_a_and_no_notice(tmp_path: Path, as_zip: bool) -> None:
    report = validate_gtfs(write_feed(tmp_path, feed(), as_zip=as_zip), today=TODAY)
    assert report.notices == ()
    assert report.grade == "A"
    assert (report.errors, report.warnings, report.infos) == (0, 0, 0)
    assert report.counts == {
        "agency.txt": 1,
        "calendar.txt": 1,
        "routes.txt": 1,
        "shapes.txt": 3,
        "stop_times.txt": 3,
        "stops.txt": 3,
        "trips.txt": 1,
    }
    assert report.feed_id == "feed"


def test_feed_id_comes_from_argument_then_feed_info(tmp_path: Path) -> None:
    info = "feed_publisher_name,feed_publisher_url,feed_lang,feed_id\nP,https://p.org,en,paris\n"
    path = write_feed(tmp_path, feed(feed_info_txt=info))
    assert validate_gtfs(path, today=TODAY).feed_id == "paris"
    report = validate_gtfs(path, "mine", today=TODAY)
    assert report.feed_id == "mine"


def test_utf8_bom_is_fine(tmp_path: Path) -> None:
    report = validate(tmp_path, feed(stops_txt=b"\xef\xbb\xbf" + str(CLEAN["stops.txt"]).encode()))
    assert report.notices == ()
    assert report.counts["stops.txt"] == 3


def test_times_past_midnight_are_valid(tmp_path: Path) -> None:
    late = str(CLEAN["stop_times.txt"]).replace("08:", "25:")
    assert validate(tmp_path, feed(stop_times_txt=late)).notices == ()


def test_missing_path_raises_feed_not_found(tmp_path: Path) -> None:
    with pytest.raises(FeedNotFound):
        validate_gtfs(tmp_path / "nope.zip")


# --- files ----------------------------------------------------------------------------------


def test_missing_stops_file(tmp_path: Path) -> None:
    report = validate(tmp_path, feed(stops_txt=None))
    n = only(report, "missing_required_file")
    assert (n.severity, n.file) == (Severity.ERROR, "stops.txt")
    assert codes(report, Severity.ERROR) == {"missing_required_file"}  # no flood of dangling stop_ids
    assert report.grade == "E"


def test_missing_calendar_and_calendar_dates(tmp_path: Path) -> None:
    report = validate(tmp_path, feed(calendar_txt=None))
    assert codes(report, Severity.ERROR) == {"missing_calendar_and_calendar_date_files"}
    assert report.grade == "E"


def test_corrupt_zip_is_a_notice_not_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(bytes(range(256)) * 8)
    report = validate_gtfs(path, today=TODAY)
    assert codes(report) == {"corrupt_zip"}
    assert report.grade == "E"
    assert report.feed_id == "broken"


def test_damaged_member_of_a_zip(tmp_path: Path) -> None:
    path = write_feed(tmp_path, feed(), as_zip=True)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("stops.txt")
    body = info.header_offset + 30 + len(info.filename) + len(info.extra)  # local header, then data
    data[body + 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = validate_gtfs(path, today=TODAY)
    n = only(report, "corrupt_zip")
    assert n.file == "stops.txt"
    assert report.grade == "E"


def test_oversized_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = 120
    monkeypatch.setattr("feeds.validate.reader.MAX_FILE_BYTES", limit)
    too_large = {name for name, text in CLEAN.items() if len(text.encode()) > limit}
    assert "stop_times.txt" in too_large
    for as_zip in (False, True):
        report = validate_gtfs(write_feed(tmp_path, feed(), as_zip=as_zip, name=f"z{as_zip}"), today=TODAY)
        assert {n.file for n in report.notices if n.code == "file_too_large"} == too_large
        assert report.grade == "E"


@pytest.mark.parametrize(
    "content", ["", "stop_id,stop_name,stop_lat,stop_lon\n"], ids=["zero-bytes", "header-only"]
)
def test_empty_stops_file(tmp_path: Path, content: str) -> None:
    report = validate(tmp_path, feed(stops_txt=content))
    n = only(report, "empty_file")
    assert (n.severity, n.file) == (Severity.ERROR, "stops.txt")
    assert report.grade == "E"


def test_latin1_stops_file_is_reported_and_still_read(tmp_path: Path) -> None:
    text = "stop_id,stop_name,stop_lat,stop_lon\nS1,Café,48.85,2.35\nS2,Two,48.86,2.35\nS3,Three,48.87,2.35\n"
    report = validate(tmp_path, feed(stops_txt=text.encode("latin-1")))
    n = only(report, "invalid_encoding")
    assert (n.severity, n.file, n.row) == (Severity.ERROR, "stops.txt", 1)
    assert codes(report) == {"invalid_encoding"}  # decoded as Latin-1: every stop is there
    assert report.counts["stops.txt"] == 3
    assert report.grade == "D"


def test_unknown_file_is_info_only(tmp_path: Path) -> None:
    report = validate(tmp_path, feed(**{"notes.txt": "a,b\n1,2\n"}))
    n = only(report, "unknown_file")
    assert (n.severity, n.file) == (Severity.INFO, "notes.txt")
    assert report.grade == "A"


def test_files_in_a_subfolder_of_the_zip(tmp_path: Path) -> None:
    path = write_feed(tmp_path, {f"gtfs/{k}": v for k, v in CLEAN.items()}, as_zip=True)
    report = validate_gtfs(path, today=TODAY)
    assert codes(report, Severity.ERROR) == {"invalid_input_files_in_subfolder"}
    assert report.grade == "E"


# --- columns and values ----------------------------------------------------------------------


def test_missing_required_field(tmp_path: Path) -> None:
    stops = str(CLEAN["stops.txt"]).replace("S2,Two,", "S2,,")
    n = only(validate(tmp_path, feed(stops_txt=stops)), "missing_required_field")
    assert (n.severity, *where(n)) == (Severity.ERROR, "stops.txt", 2, "stop_name")


def test_missing_required_column_is_fatal_in_a_routing_file(tmp_path: Path) -> None:
    report = validate(tmp_path, feed(trips_txt="route_id,trip_id,shape_id\nR1,T1,SH1\n"))
    n = only(report, "missing_required_column")
    assert where(n) == ("trips.txt", 0, "service_id")
    assert report.grade == "E"


def test_bad_time(tmp_path: Path) -> None:
    st = str(CLEAN["stop_times.txt"]).replace("08:03:00", "25:61:00")
    report = validate(tmp_path, feed(stop_times_txt=st))
    n = only(report, "invalid_time")
    assert (n.severity, *where(n)) == (Severity.ERROR, "stop_times.txt", 2, "arrival_time")
    assert codes(report) == {"invalid_time"}  # not also "only a departure" or "decreasing"


def test_bad_date(tmp_path: Path) -> None:
    cal = str(CLEAN["calendar.txt"]).replace("20260101", "2026-01-01")
    n = only(validate(tmp_path, feed(calendar_txt=cal)), "invalid_date")
    assert (n.severity, *where(n)) == (Severity.ERROR, "calendar.txt", 1, "start_date")


def test_latitude_out_of_range(tmp_path: Path) -> None:
    stops = str(CLEAN["stops.txt"]).replace("S2,Two,48.86", "S2,Two,95")
    report = validate(tmp_path, feed(stops_txt=stops))
    n = only(report, "number_out_of_range")
    assert (n.severity, *where(n)) == (Severity.ERROR, "stops.txt", 2, "stop_lat")
    assert codes(report) == {"number_out_of_range"}  # the bad stop is left out of speed and shape checks


def test_point_near_origin(tmp_path: Path) -> None:
    stops = str(CLEAN["stops.txt"]).replace("S3,Three,48.87,2.35", "S3,Three,0,0")
    trips = "route_id,service_id,trip_id\nR1,WK,T1\n"
    report = validate(tmp_path, feed(stops_txt=stops, shapes_txt=None, trips_txt=trips))
    n = only(report, "point_near_origin")
    assert (n.severity, *where(n)) == (Severity.ERROR, "stops.txt", 3, "stop_lat")


def test_invalid_row_length(tmp_path: Path) -> None:
    routes = str(CLEAN["routes.txt"]) + "R2,A,2\n"
    n = only(validate(tmp_path, feed(routes_txt=routes)), "invalid_row_length")
    assert (n.file, n.row) == ("routes.txt", 2)


@pytest.mark.parametrize("chunk_rows", [2, 50_000])
def test_rows_keep_their_numbers_after_skipped_and_blank_rows(
    tmp_path: Path, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("feeds.validate.reader._CHUNK_ROWS", chunk_rows)
    routes = str(CLEAN["routes.txt"]) + "\nR2,A,2\nR3,A,3,,3\nR4,A,,,3\n"
    report = validate(tmp_path, feed(routes_txt=routes))
    assert where(only(report, "invalid_row_length")) == ("routes.txt", 3, "")
    assert where(only(report, "route_both_short_and_long_name_missing")) == (
        "routes.txt",
        5,
        "route_short_name",
    )
    assert report.counts["routes.txt"] == 3


def test_duplicate_stop_id(tmp_path: Path) -> None:
    stops = str(CLEAN["stops.txt"]) + "S1,Again,48.85,2.35\n"
    report = validate(tmp_path, feed(stops_txt=stops))
    n = only(report, "duplicate_key")
    assert (n.severity, *where(n)) == (Severity.ERROR, "stops.txt", 4, "stop_id")
    assert "row 1" in n.message


# --- references -----------------------------------------------------------------------------


def test_trip_pointing_to_unknown_route(tmp_path: Path) -> None:
    report = validate(tmp_path, feed(trips_txt="route_id,service_id,trip_id,shape_id\nR9,WK,T1,SH1\n"))
    n = only(report, "foreign_key_violation")
    assert (n.severity, *where(n)) == (Severity.ERROR, "trips.txt", 1, "route_id")
    assert report.grade == "D"


def test_dangling_service_shape_stop_and_parent(tmp_path: Path) -> None:
    trips = "route_id,service_id,trip_id,shape_id\nR1,XX,T1,SHX\n"
    stops = "stop_id,stop_name,stop_lat,stop_lon,parent_station\nS1,One,48.85,2.35,P\nS2,Two,48.86,2.35,\nS3,Three,48.87,2.35,\n"
    st = str(CLEAN["stop_times.txt"]).replace(",S3,", ",S9,")
    report = validate(tmp_path, feed(trips_txt=trips, stops_txt=stops, stop_times_txt=st))
    dangling = {where(n) for n in report.notices if n.code == "foreign_key_violation"}
    assert dangling == {
        ("trips.txt", 1, "service_id"),
        ("trips.txt", 1, "shape_id"),
        ("stops.txt", 1, "parent_station"),
        ("stop_times.txt", 3, "stop_id"),
    }


# --- timetable ------------------------------------------------------------------------------


def test_decreasing_stop_times(tmp_path: Path) -> None:
    st = str(CLEAN["stop_times.txt"]).replace("T1,08:06:00,08:06:00", "T1,08:02:00,08:06:00")
    report = validate(tmp_path, feed(stop_times_txt=st))
    n = only(report, "stop_time_with_arrival_before_previous_departure_time")
    assert (n.severity, *where(n)) == (Severity.ERROR, "stop_times.txt", 3, "arrival_time")
    assert codes(report, Severity.ERROR) == {"stop_time_with_arrival_before_previous_departure_time"}


def test_stop_times_are_ordered_by_stop_sequence_not_by_file_order(tmp_path: Path) -> None:
    header, *rows = str(CLEAN["stop_times.txt"]).splitlines()
    st = "\n".join([header, rows[2], rows[0], rows[1]]) + "\n"
    assert validate(tmp_path, feed(stop_times_txt=st)).notices == ()


def test_departure_before_arrival_at_one_stop(tmp_path: Path) -> None:
    st = str(CLEAN["stop_times.txt"]).replace("T1,08:03:00,08:03:30", "T1,08:03:30,08:03:00")
    n = only(validate(tmp_path, feed(stop_times_txt=st)), "start_and_end_range_out_of_order")
    assert (n.severity, *where(n)) == (Severity.ERROR, "stop_times.txt", 2, "departure_time")


def test_agency_time_zone_and_route_colour(tmp_path: Path) -> None:
    agency = "agency_id,agency_name,agency_url,agency_timezone\nA,Agency,https://example.org,Mars/Olympus\n"
    routes = "route_id,agency_id,route_short_name,route_long_name,route_type,route_color\nR1,A,1,,3,red\n"
    report = validate(tmp_path, feed(agency_txt=agency, routes_txt=routes))
    assert where(only(report, "invalid_timezone")) == ("agency.txt", 1, "agency_timezone")
    assert where(only(report, "invalid_color")) == ("routes.txt", 1, "route_color")


def test_missing_times_at_trip_edge(tmp_path: Path) -> None:
    st = str(CLEAN["stop_times.txt"]).replace("T1,08:06:00,08:06:00", "T1,,")
    n = only(validate(tmp_path, feed(stop_times_txt=st)), "missing_trip_edge")
    assert where(n) == ("stop_times.txt", 3, "arrival_time")


def test_too_fast_between_stops(tmp_path: Path) -> None:
    # S3 70 km north of S2, reached in 2.5 minutes by bus.
    stops = str(CLEAN["stops.txt"]).replace("S3,Three,48.87", "S3,Three,49.50")
    report = validate(
        tmp_path,
        feed(stops_txt=stops, shapes_txt=None, trips_txt="route_id,service_id,trip_id\nR1,WK,T1\n"),
    )
    n = only(report, "fast_travel_between_consecutive_stops")
    assert (n.severity, *where(n)) == (Severity.WARNING, "stop_times.txt", 3, "arrival_time")
    assert "route_type 3" in n.message
    assert report.grade == "B"


def test_rail_may_go_faster_than_a_bus(tmp_path: Path) -> None:
    # 11 km in 2.5 min (+1 min for whole-minute times) = 190 km/h: too fast for a bus, fine for rail.
    stops = str(CLEAN["stops.txt"]).replace("S3,Three,48.87", "S3,Three,48.96")
    files = feed(stops_txt=stops, shapes_txt=None, trips_txt="route_id,service_id,trip_id\nR1,WK,T1\n")
    assert "fast_travel_between_consecutive_stops" in codes(validate(tmp_path, files))
    files["routes.txt"] = "route_id,agency_id,route_short_name,route_long_name,route_type\nR1,A,1,,2\n"
    assert validate_gtfs(write_feed(tmp_path, files, name="rail"), today=TODAY).notices == ()


def test_stop_far_from_shape_is_reported_once_per_shape_and_stop(tmp_path: Path) -> None:
    # S2 moved 0.005 deg east (~366 m) off the shape; two trips share the shape.
    stops = str(CLEAN["stops.txt"]).replace("S2,Two,48.86,2.35", "S2,Two,48.86,2.355")
    trips = str(CLEAN["trips.txt"]) + "R1,WK,T2,SH1\n"
    st = str(CLEAN["stop_times.txt"]) + str(CLEAN["stop_times.txt"]).split("\n", 1)[1].replace("T1,", "T2,")
    report = validate(tmp_path, feed(stops_txt=stops, trips_txt=trips, stop_times_txt=st))
    n = only(report, "stop_too_far_from_shape")
    assert (n.severity, *where(n)) == (Severity.WARNING, "stop_times.txt", 2, "stop_id")
    m = re.search(r"is (\d+) m from shape SH1", n.message)
    assert m is not None, n.message
    assert 350 <= int(m[1]) <= 380


def test_unused_and_unusable_trips(tmp_path: Path) -> None:
    trips = str(CLEAN["trips.txt"]) + "R1,WK,T2,SH1\nR1,WK,T3,SH1\n"
    st = str(CLEAN["stop_times.txt"]) + "T2,09:00:00,09:00:00,S1,1\n"
    report = validate(tmp_path, feed(trips_txt=trips, stop_times_txt=st))
    assert where(only(report, "unusable_trip")) == ("trips.txt", 2, "trip_id")
    assert where(only(report, "unused_trip")) == ("trips.txt", 3, "trip_id")


# --- service dates --------------------------------------------------------------------------


def test_expired_calendar(tmp_path: Path) -> None:
    cal = str(CLEAN["calendar.txt"]).replace("20261231", "20250104").replace("20260101", "20240101")
    report = validate(tmp_path, feed(calendar_txt=cal))
    n = only(report, "expired_calendar")
    assert (n.severity, *where(n)) == (Severity.WARNING, "calendar.txt", 1, "end_date")
    assert "2025-01-03" in n.message  # the last weekday in force, not end_date itself (a Saturday)
    assert only(report, "feed_expired").severity is Severity.WARNING
    assert report.grade == "B"


def test_calendar_dates_extend_and_remove_service(tmp_path: Path) -> None:
    cal = str(CLEAN["calendar.txt"]).replace("20261231", "20250101").replace("20260101", "20240101")
    added = "service_id,date,exception_type\nWK,20260615,1\n"
    assert validate(tmp_path, feed(calendar_txt=cal, calendar_dates_txt=added)).notices == ()


def test_future_only_feed(tmp_path: Path) -> None:
    report = validate_gtfs(write_feed(tmp_path, feed()), today=dt.date(2025, 6, 1))
    n = only(report, "feed_not_yet_valid")
    assert n.severity is Severity.WARNING
    assert "2026-01-01" in n.message


@settings(max_examples=60, deadline=None)
@given(
    name=hs.sampled_from(sorted(CLEAN)),
    position=hs.integers(min_value=0, max_value=10_000),
    junk=hs.binary(max_size=12) | hs.sampled_from([b'"', b"\x00", b",,,", b"\n\n", b"\xff", b"99:99:99"]),
    as_zip=hs.booleans(),
)
def test_mangled_feeds_never_raise(name: str, position: int, junk: bytes, as_zip: bool) -> None:
    files: dict[str, str | bytes] = dict(CLEAN)
    data = str(files[name]).encode()
    at = position % (len(data) + 1)
    files[name] = data[:at] + junk + data[at + len(junk) // 2 :]
    with tempfile.TemporaryDirectory() as tmp:
        report = validate_gtfs(write_feed(Path(tmp), files, as_zip=as_zip), today=TODAY)
    assert report.grade in set("ABCDE")
    assert "runtime_exception_in_validator_error" not in codes(report)
    json.dumps(report.to_dict())


# --- report -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errors", "warnings", "rows", "fatal", "expected"),
    [
        (0, 0, 0, 0, "A"),
        (0, 0, 1_000_000, 0, "A"),
        (0, 1, 100, 0, "B"),
        (0, 10, 100, 0, "B"),  # the floor of 10 warnings
        (0, 11, 100, 0, "C"),
        (0, 3_000, 300_000, 0, "B"),  # 1 per 100 rows
        (0, 3_001, 300_000, 0, "C"),
        (1, 0, 100, 0, "D"),
        (5, 10_000, 100, 0, "D"),
        (1, 0, 100, 1, "E"),
    ],
)
def test_grade(errors: int, warnings: int, rows: int, fatal: int, expected: str) -> None:
    assert grade(errors=errors, warnings=warnings, rows=rows, fatal=fatal) == expected


def test_warning_budget() -> None:
    assert warning_budget(0) == 10
    assert warning_budget(352_668) == 3_526


def test_to_dict_groups_by_code_with_samples(tmp_path: Path) -> None:
    rows = "".join(f"S{i},,48.85,2.35\n" for i in range(10, 60))
    report = validate(tmp_path, feed(stops_txt=str(CLEAN["stops.txt"]) + rows))
    out = report.to_dict(max_samples_per_code=3)
    json.dumps(out)  # JSON-ready
    assert list(out) == ["feed_id", "path", "grade", "summary", "counts", "notices"]
    [group] = out["notices"]
    assert (group["code"], group["severity"], group["total"], group["fatal"]) == (
        "missing_required_field",
        "error",
        50,
        False,
    )
    assert [s["row"] for s in group["samples"]] == [4, 5, 6]
    assert out["summary"] == {"errors": 50, "warnings": 0, "infos": 0, "fatal": 0, "rows": 63}


def test_notices_past_the_cap_are_counted(tmp_path: Path) -> None:
    sink = NoticeCollector("f", cap_per_code=2)
    for i in range(5):
        sink.error("invalid_time", "bad", "stop_times.txt", i + 1, "arrival_time")
    sink.warning("expired_calendar", "old", "calendar.txt", 1, "end_date")
    report = QualityReport("f", "p", tuple(sink.notices), {"stop_times.txt": 5}, dict(sink.dropped))
    assert len(report.notices) == 3
    assert (report.errors, report.warnings) == (5, 1)
    assert report.to_dict()["notices"][0]["total"] == 5


def test_render_table_shows_codes_and_literal_brackets(tmp_path: Path) -> None:
    stops = str(CLEAN["stops.txt"]).replace("S2,Two,48.86", "S2,Two,[95]")
    report = validate(tmp_path, feed(stops_txt=stops))
    console = Console(record=True, width=200)
    console.print(report.render_table(max_rows_per_code=5))
    text = console.export_text()
    assert "invalid_float" in text
    assert "'[95]'" in text  # not swallowed as rich markup
    assert "grade D" in text


def test_merge_notices_adds_loader_notices(tmp_path: Path) -> None:
    report = validate(tmp_path, feed())
    merged = merge_notices(
        report, [Notice(Severity.WARNING, "loader_dropped_trip", "x", "trips.txt", 1, "trip_id")]
    )
    assert merged.grade == "B"
    assert merged.notices[-1].feed_id == report.feed_id
    assert report.notices == ()  # the original is unchanged


# --- shared data ----------------------------------------------------------------------------

_GTFS_HEADING = re.compile(r"^\*\*(?P<name>[^*]+?)/?\*\* \((?:unzipped directory\) \()?GTFS\)", re.M)
_reports: dict[str, QualityReport] = {}


def _shared_feeds(shared: Path) -> dict[str, Path]:
    names = _GTFS_HEADING.findall((shared / "README.md").read_text())
    found: dict[str, Path] = {}
    for name in names:
        matches = [p for p in shared.rglob(name) if "gtfs_rt" not in p.parts]
        assert matches, f"{name} is listed in README.md but not found"
        found[name] = matches[0]
    return found


def _report(shared: Path, name: str) -> QualityReport:
    if name not in _reports:
        _reports[name] = validate_gtfs(_shared_feeds(shared)[name], today=dt.date(2026, 11, 26))
    return _reports[name]


@pytest.mark.shared_data
@pytest.mark.slow
def test_every_shared_gtfs_feed_validates_and_gets_a_grade(shared_data: Path) -> None:
    feeds = _shared_feeds(shared_data)
    assert len(feeds) >= 10
    for name in feeds:
        report = _report(shared_data, name)
        assert report.grade in {"A", "B", "C", "D"}, (
            name,
            [n for n in report.notices if n.severity is Severity.ERROR][:3],
        )
        assert "runtime_exception_in_validator_error" not in codes(report), name
        assert report.counts.get("stop_times.txt", 0) > 0, name


@pytest.mark.shared_data
def test_portland_and_sao_paulo_are_expired_in_late_2026(shared_data: Path) -> None:
    for name, last_day in (("trimet-2routes.zip", "2022-01-08"), ("spo_gtfs.zip", "2020-05-01")):
        report = _report(shared_data, name)
        assert "expired_calendar" in codes(report, Severity.WARNING), name
        assert last_day in only(report, "feed_expired").message


@pytest.mark.shared_data
def test_real_feed_quirks(shared_data: Path) -> None:
    # WMATA defines service only in calendar_dates.txt: expiry is judged from there.
    wmata = _report(shared_data, "wmata.zip")
    assert {n.file for n in wmata.notices if n.code == "expired_calendar"} == {"calendar_dates.txt"}
    assert wmata.counts["stop_times.txt"] == 352_668
    # C-TRAN Flex stop times carry pickup windows instead of times: not a missing trip edge.
    assert "missing_trip_edge" not in codes(_report(shared_data, "ctran-flex.zip"))
    # cdmx.zip ships a stray desktop.ini.
    assert where(only(_report(shared_data, "cdmx.zip"), "unknown_file")) == ("desktop.ini", None, "")


# --- reading large files: the compiled scanner, the csv module fallback, columns ------------------


def _table_view(table: csv_reader.Table | None) -> object:
    if table is None:
        return None
    numbers = None if table.row_numbers is None else table.row_numbers.tolist()
    return (table.header, {c: list(v) for c, v in table.columns.items()}, table.size, numbers)


def _by_csv_module(name: str, data: bytes) -> tuple[object, list[Notice]]:
    sink = NoticeCollector("f")
    text = data.decode(csv_reader.text_encoding(name, data, sink))
    return _table_view(csv_reader.parse_csv(name, text, sink)), sink.notices


def _by_scanner(name: str, data: bytes) -> tuple[object, list[Notice]] | None:
    sink = NoticeCollector("f")
    table = csv_reader._scan_table(name, data, csv_reader.text_encoding(name, data, sink), sink)
    return None if table is None else (_table_view(table), sink.notices)


_CSV_PIECES = ["a", "b", "é", " ", ",", "\n", "\r\n", "\r", '"', '""', '"x,y"', '"q""q"', "\x00", "\ufeff"]


@settings(max_examples=300, deadline=None)
@given(
    header=hs.sampled_from(["a,b,c\n", "a\n", '"a","b"\r\n', "\n\na,,a\n", "\ufeffa,b\n"]),
    body=hs.lists(hs.sampled_from(_CSV_PIECES), max_size=40).map("".join),
    latin1=hs.booleans(),
)
def test_scanner_reads_exactly_what_the_csv_module_reads(header: str, body: str, latin1: bool) -> None:
    data = (header + body).encode("utf-8")
    if latin1:
        data += b"\xff"  # not UTF-8: both read it as Latin-1
    scanned = _by_scanner("x.txt", data)
    if scanned is not None:  # None: the scanner leaves this file to the csv module
        assert scanned == _by_csv_module("x.txt", data)


@pytest.mark.parametrize(
    "text",
    [
        "a,b\n1,2\n3,4",  # no final line end
        "a,b\r\n1,2\r\n\r\n3,4\r\n",  # CRLF and a blank line
        'a,b\n"1,5","say ""hi"""\n1,"2"\n3,2\n',  # quoted fields, doubled quotes, "2" equal to 2
        "a,b\n1,2,3\n\n 4\n5,6,\n",  # rows of the wrong width
        'a,b\nx"y,z\n',  # a quote inside an unquoted field is a character
        'a,b\n"x"y,"2" \n',  # text after a closing quote is kept
    ],
)
def test_scanner_reads_plain_csv_itself(text: str) -> None:
    data = text.encode()
    scanned = _by_scanner("x.txt", data)
    assert scanned is not None
    assert scanned == _by_csv_module("x.txt", data)


@pytest.mark.parametrize(
    "text",
    [
        'a,b\n"multi\nline",2\n',  # a quoted field over two lines
        "a,b\n1,2\r3,4\n",  # a lone CR ends a line for the csv module
        'a,b\n"open,2\n',  # a quote never closed
    ],
)
def test_scanner_leaves_unusual_csv_to_the_csv_module(text: str) -> None:
    assert _by_scanner("x.txt", text.encode()) is None
    sink = NoticeCollector("f")
    table = csv_reader.read_table("x.txt", text.encode(), sink)
    assert _table_view(table) == _by_csv_module("x.txt", text.encode())[0]


def test_scanner_keeps_the_csv_modules_field_size_limit() -> None:
    before = csv.field_size_limit(5)
    try:
        at_limit, past_limit = b"a,b\n12345,1\n", b"a,b\n123456,1\n"
        assert _by_scanner("x.txt", at_limit) == _by_csv_module("x.txt", at_limit)
        assert _by_scanner("x.txt", past_limit) is None
        sink = NoticeCollector("f")
        assert csv_reader.read_table("x.txt", past_limit, sink) is None
        assert [(n.code, n.row) for n in sink.notices] == [("csv_parsing_failed", 1)]
    finally:
        csv.field_size_limit(before)


def test_rows_after_a_multiline_field_are_numbered_by_record(tmp_path: Path) -> None:
    stops = (
        'stop_id,stop_name,stop_lat,stop_lon\nS1,One,48.85,2.35\nS2,"Two\nlines",48.86,2.35\n'
        "S3,Three,48.87,2.35\nS4,Four\n"
    )
    report = validate(tmp_path, feed(stops_txt=stops))
    assert where(only(report, "invalid_row_length")) == ("stops.txt", 4, "")
    assert report.counts["stops.txt"] == 3


@settings(max_examples=100, deadline=None)
@given(
    text=hs.lists(hs.sampled_from(["a", "b", ",", "\n", "\r", "\r\n", "\u2028"]), max_size=60).map("".join)
)
def test_lines_are_cut_like_stringio_lines(text: str) -> None:
    for block in (1, 2, 3, 7):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(csv_reader, "_LINE_BLOCK", block)
            assert list(csv_reader._lines(text)) == list(io.StringIO(text, newline=""))


def test_column_holds_distinct_values_and_codes() -> None:
    col = Column.of(["b", "a", "b", "", "a"])
    assert col.values == ["b", "a", ""]
    assert col.codes.tolist() == [0, 1, 0, 2, 1]
    assert list(col) == ["b", "a", "b", "", "a"]
    assert (len(col), col[3], col[1:3]) == (5, "", ["a", "b"])
    assert "a" in col and "z" not in col
    assert col.rows_where({"a"}).tolist() == [1, 4]
    assert col.rows_where(np.array([False, False, True])).tolist() == [3]
    assert col.rows_where(set()).tolist() == []
    assert col.first_rows().tolist() == [0, 1, 3]
    assert list(Column.constant("", 3)) == ["", "", ""]
    assert Column.constant("", 0).values == []


def test_many_equal_defects_keep_the_cap_and_count_the_rest(tmp_path: Path) -> None:
    rows = "".join(f"T1,25:61:00,25:61:00,S1,{i}\n" for i in range(4, 10_054))
    report = validate(tmp_path, feed(stop_times_txt=str(CLEAN["stop_times.txt"]) + rows))
    kept = [n for n in report.notices if n.code == "invalid_time"]
    assert len(kept) == 10_000
    # Column by column, in row order: the first 10,000 bad arrival times are kept.
    assert [n.row for n in kept] == list(range(4, 10_004))
    assert {n.field for n in kept} == {"arrival_time"}
    assert report.dropped["invalid_time"] == 2 * 10_050 - 10_000
    assert report.errors >= 2 * 10_050


def test_stop_far_from_shape_names_the_first_row_in_the_file_when_unsorted(tmp_path: Path) -> None:
    # As test_stop_far_from_shape_is_reported_once_per_shape_and_stop, but T2 comes first
    # in the file, in reverse stop_sequence order: the notice names T2's row of S2.
    stops = str(CLEAN["stops.txt"]).replace("S2,Two,48.86,2.35", "S2,Two,48.86,2.355")
    trips = str(CLEAN["trips.txt"]) + "R1,WK,T2,SH1\n"
    header, *rows = str(CLEAN["stop_times.txt"]).splitlines()
    t2 = [r.replace("T1,", "T2,") for r in reversed(rows)]
    st = "\n".join([header, *t2, *rows]) + "\n"
    report = validate(tmp_path, feed(stops_txt=stops, trips_txt=trips, stop_times_txt=st))
    n = only(report, "stop_too_far_from_shape")
    assert where(n) == ("stop_times.txt", 2, "stop_id")
    assert "of trip T2" in n.message


def test_duplicate_trip_and_stop_sequence(tmp_path: Path) -> None:
    st = str(CLEAN["stop_times.txt"]) + "T1,08:09:00,08:09:00,S3,2\n"
    n = only(validate(tmp_path, feed(stop_times_txt=st)), "duplicate_key")
    assert where(n) == ("stop_times.txt", 4, "trip_id,stop_sequence")
    assert "trip_id=T1, stop_sequence=2 is already defined in row 2" in n.message


def test_synth_city_is_read_by_the_scanner_with_the_csv_modules_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = synth_city(tmp_path / "city", stops=120, seed=5)
    with zipfile.ZipFile(city.gtfs) as zf:
        for name in zf.namelist():
            assert _by_scanner(name, zf.read(name)) is not None, name
    fast = validate_gtfs(city.gtfs, today=TODAY)
    monkeypatch.setattr(csv_reader, "scan_body", lambda *args: None)  # every file by the csv module
    slow = validate_gtfs(city.gtfs, today=TODAY)
    assert fast.counts["stop_times.txt"] > 10_000
    assert (fast.notices, fast.dropped, fast.counts) == (slow.notices, slow.dropped, slow.counts)
