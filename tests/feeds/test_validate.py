"""feeds.validate: broken feeds written inline, each asserting the exact notices it causes."""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from rich.console import Console

from feeds.errors import FeedNotFound
from feeds.quality import Notice, Severity
from feeds.validate import QualityReport, grade, merge_notices, validate_gtfs, warning_budget
from feeds.validate.collector import NoticeCollector

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
