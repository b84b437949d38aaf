"""GTFS loader on tiny inline feeds: calendars, times, frequencies, interpolation,
multi-feed namespacing and every way a feed file can be broken."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from feeds.errors import FeedDataError, FeedFormatError, FeedNotFound
from feeds.gtfs import load_gtfs
from feeds.model import TransitData
from feeds.quality import Notice, Severity
from feeds.sources import parse_feed_arg
from tests.feeds.gtfs_inline import FileContent, minimal_feed, table, write_gtfs

JAN = dt.date(2024, 1, 1)  # a Monday


def load(tmp_path: Path, name: str = "f.zip", **tables: FileContent) -> TransitData:
    return load_gtfs([write_gtfs(tmp_path / name, minimal_feed(**tables))])


def hms(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def notices(td: TransitData, code: str) -> list[Notice]:
    return [n for n in td.notices if n.code == code]


def active_dates(td: TransitData, service_id: str) -> list[dt.date]:
    s = td.services.ids.index(service_id)
    return [td.services.base_date + dt.timedelta(days=int(d)) for d in np.flatnonzero(td.services.active[s])]


def trip_times(td: TransitData, k: int) -> tuple[list[int], list[int]]:
    a, b = td.trips.st_offset[k], td.trips.st_offset[k + 1]
    return td.stop_times.arrival[a:b].tolist(), td.stop_times.departure[a:b].tolist()


# --- service calendars -------------------------------------------------------------


def test_calendar_weekdays_with_added_and_removed_dates(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        calendar="""
            service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
            S1,1,1,1,1,1,0,0,20240101,20240114
        """,
        calendar_dates="""
            service_id,date,exception_type
            S1,20240106,1
            S1,20240103,2
            S2,20240120,1
        """,
    )

    def day(d: int) -> dt.date:
        return dt.date(2024, 1, d)

    assert active_dates(td, "f:S1") == [day(d) for d in (1, 2, 4, 5, 6, 8, 9, 10, 11, 12)]
    assert active_dates(td, "f:S2") == [day(20)]  # defined by calendar_dates alone
    assert td.services.base_date == JAN
    assert td.services.n_days == 20  # first to last declared date
    assert (td.sources[0].valid_from, td.sources[0].valid_to) == (day(1), day(20))


def test_calendar_dates_only_feed(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        calendar=None,
        calendar_dates="""
            service_id,date,exception_type
            S1,20240305,1
            S1,20240307,1
        """,
    )
    assert active_dates(td, "f:S1") == [dt.date(2024, 3, 5), dt.date(2024, 3, 7)]
    assert len(td.trips) == 1
    assert td.services.dates() == (dt.date(2024, 3, 5), dt.date(2024, 3, 7))


def test_trip_past_midnight_keeps_its_service_day(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        calendar="""
            service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
            S1,0,0,0,0,1,0,0,20240101,20240107
        """,
        stop_times="""
            trip_id,arrival_time,departure_time,stop_id,stop_sequence
            T1,23:50:00,23:50:00,A,1
            T1,24:10:00,25:05:30,B,2
        """,
    )
    arrival, departure = trip_times(td, 0)
    assert arrival == [hms("23:50:00"), hms("24:10:00")]
    assert departure[1] == hms("25:05:30") > 86_400
    # Runs on the Friday's service day only, although it ends on Saturday morning.
    assert active_dates(td, td.services.ids[td.trips.service[0]]) == [dt.date(2024, 1, 5)]


# --- stop times ----------------------------------------------------------------------


def test_stop_times_sorted_by_sequence_and_blanks_interpolated(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        stops="""
            stop_id,stop_name,stop_lat,stop_lon
            A,A,0,0
            B,B,0,0.01
            C,C,0,0.02
            D,D,0,0.03
        """,
        trips="""
            route_id,service_id,trip_id
            R1,S1,BYPOS
            R1,S1,BYDIST
        """,
        stop_times="""
            trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled
            BYPOS,08:30:00,08:30:00,D,40,
            BYPOS,,,C,30,
            BYPOS,08:00:00,08:00:00,A,10,
            BYPOS,,,B,20,
            BYDIST,09:00:00,09:01:00,A,1,0
            BYDIST,,,B,2,1
            BYDIST,,09:21:00,C,3,4
            BYDIST,,,D,4,5
            BYDIST,09:31:00,,A,5,6
        """,
    )
    stop = td.stop_times.stop
    a, b = td.trips.st_offset[0], td.trips.st_offset[1]
    assert [td.stops.ids[i] for i in stop[a:b]] == ["f:A", "f:B", "f:C", "f:D"]
    arrival, departure = trip_times(td, 0)
    assert arrival == departure == [hms(t) for t in ("08:00:00", "08:10:00", "08:20:00", "08:30:00")]

    arrival, departure = trip_times(td, 1)
    # C: departure given, arrival copied from it; B by distance between A (dep 09:01, d=0)
    # and C (09:21, d=4): 1/4 of 20 min; D between C (d=4) and the last stop (09:31, d=6).
    assert arrival == [hms(t) for t in ("09:00:00", "09:06:00", "09:21:00", "09:26:00", "09:31:00")]
    assert departure == [hms(t) for t in ("09:01:00", "09:06:00", "09:21:00", "09:26:00", "09:31:00")]


def test_trips_with_fewer_than_two_stop_times_are_dropped_with_notices(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        trips="""
            route_id,service_id,trip_id
            R1,S1,T1
            R1,S1,ONE
            R1,S1,NONE
        """,
        stop_times="""
            trip_id,arrival_time,departure_time,stop_id,stop_sequence
            T1,08:00:00,08:00:00,A,1
            T1,08:10:00,08:10:00,B,2
            ONE,09:00:00,09:00:00,A,1
        """,
    )
    assert td.trips.ids == ("f:T1",)
    [one] = notices(td, "trip_with_one_stop")
    [none] = notices(td, "trip_without_stop_times")
    assert (one.severity, none.severity) == (Severity.WARNING, Severity.WARNING)
    assert "ONE" in one.message and "NONE" in none.message
    assert one.feed_id == "f" and one.row == 2  # trips.txt data row of ONE


def test_flex_stop_times_are_skipped_with_one_notice(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        trips="""
            route_id,service_id,trip_id
            R1,S1,T1
            R1,S1,FLEX
        """,
        stop_times="""
            trip_id,arrival_time,departure_time,stop_id,stop_sequence,start_pickup_drop_off_window,end_pickup_drop_off_window
            T1,08:00:00,08:00:00,A,1,,
            T1,,,zone_1,2,08:00:00,09:00:00
            T1,08:30:00,08:30:00,B,3,,
            FLEX,,,zone_1,1,08:00:00,18:00:00
            FLEX,,,zone_1,2,08:00:00,18:00:00
        """,
    )
    assert td.trips.ids == ("f:T1",)  # the fixed part of T1 survives; FLEX has no fixed part
    assert len(td.stop_times.stop) == 2
    [flex] = notices(td, "flex_stop_times_skipped")
    assert flex.message.startswith("3 ") and "1 trips" in flex.message
    assert not notices(td, "trip_without_stop_times")  # FLEX is accounted for by the flex notice


def test_pickup_drop_off_types_default_to_regular(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        stop_times="""
            trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type
            T1,08:00:00,08:00:00,A,1,,1
            T1,08:10:00,08:10:00,B,2,1,
        """,
    )
    assert td.stop_times.pickup.tolist() == [0, 1]
    assert td.stop_times.drop_off.tolist() == [1, 0]


# --- frequencies ---------------------------------------------------------------------


def test_frequencies_expand_for_exact_times_0_and_1(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        trips="""
            route_id,service_id,trip_id
            R1,S1,HEADWAY
            R1,S1,EXACT
            R1,S1,PLAIN
        """,
        stop_times="""
            trip_id,arrival_time,departure_time,stop_id,stop_sequence
            HEADWAY,00:00:00,00:00:00,A,1
            HEADWAY,00:10:00,00:11:00,B,2
            EXACT,06:00:00,06:00:00,A,1
            EXACT,06:05:00,06:05:00,B,2
            PLAIN,12:00:00,12:00:00,A,1
            PLAIN,12:10:00,12:10:00,B,2
        """,
        frequencies="""
            trip_id,start_time,end_time,headway_secs,exact_times
            HEADWAY,07:00:00,08:00:00,900,0
            HEADWAY,23:30:00,24:30:00,1800,0
            EXACT,07:00:00,07:30:00,600,1
        """,
    )
    ids = np.array(td.trips.ids)
    headway = np.flatnonzero(ids == "f:HEADWAY")
    exact = np.flatnonzero(ids == "f:EXACT")
    plain = np.flatnonzero(ids == "f:PLAIN")
    # end_time is exclusive: 07:00..07:45 and 23:30, 24:00
    assert td.trips.freq_start[headway].tolist() == [
        hms(t) for t in ("07:00:00", "07:15:00", "07:30:00", "07:45:00", "23:30:00", "24:00:00")
    ]
    assert td.trips.freq_start[exact].tolist() == [hms(t) for t in ("07:00:00", "07:10:00", "07:20:00")]
    assert td.trips.freq_start[plain].tolist() == [-1]
    for k in headway:
        start = int(td.trips.freq_start[k])
        assert trip_times(td, int(k)) == ([start, start + 600], [start, start + 660])
    for k in exact:  # template starts at 06:00: shifted so that it starts at the frequency start
        start = int(td.trips.freq_start[k])
        assert trip_times(td, int(k)) == ([start, start + 300], [start, start + 300])
    assert trip_times(td, int(plain[0])) == ([hms("12:00:00"), hms("12:10:00")],) * 2
    assert len(td.stop_times.stop) == 2 * len(td.trips)


def test_frequency_with_too_large_headway_for_gtfs_kit_types_still_loads(tmp_path: Path) -> None:
    # gtfs-kit types headway_secs as Int16; 40000 s overflows it, the fallback reader copes.
    td = load(
        tmp_path,
        frequencies="""
            trip_id,start_time,end_time,headway_secs
            T1,06:00:00,23:00:00,40000
        """,
    )
    assert td.trips.freq_start.tolist() == [hms("06:00:00"), hms("06:00:00") + 40000]


# --- several feeds -------------------------------------------------------------------


def test_two_feeds_with_the_same_local_ids_do_not_collide(tmp_path: Path) -> None:
    one = write_gtfs(tmp_path / "one.zip", minimal_feed())
    two = write_gtfs(
        tmp_path / "two",
        minimal_feed(
            agency="""
                agency_id,agency_name,agency_url,agency_timezone
                AG,Other,https://example.com,America/New_York
            """,
            calendar="""
                service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
                S1,1,1,1,1,1,1,1,20240301,20240302
            """,
        ),
    )
    messages: list[str] = []
    td = load_gtfs([one, two], progress=messages.append)
    assert any(str(one) in m for m in messages) and any(str(two) in m for m in messages)
    assert td.stops.ids == ("one:A", "one:B", "two:A", "two:B")
    assert td.trips.ids == ("one:T1", "two:T1")
    assert [r.id for r in td.routes] == ["one:R1", "two:R1"]
    assert [td.agencies[r.agency].timezone for r in td.routes] == ["Europe/Berlin", "America/New_York"]
    assert [td.stops.ids[i] for i in td.stop_times.stop] == ["one:A", "one:B", "two:A", "two:B"]
    assert td.trips.st_offset.tolist() == [0, 2, 4]
    assert [td.services.ids[s] for s in td.trips.service] == ["one:S1", "two:S1"]
    assert active_dates(td, "one:S1")[-1] == dt.date(2024, 1, 31)
    assert active_dates(td, "two:S1") == [dt.date(2024, 3, 1), dt.date(2024, 3, 2)]
    assert td.services.base_date == JAN
    assert [s.id for s in td.sources] == ["one", "two"]


def test_feed_id_from_argument_then_feed_info_then_stem(tmp_path: Path) -> None:
    info = """
        feed_publisher_name,feed_publisher_url,feed_lang,feed_id,feed_version
        Pub,https://example.org,en,007,v9
    """
    declared = write_gtfs(tmp_path / "declared.zip", minimal_feed(feed_info=info))
    plain = write_gtfs(tmp_path / "plain.zip", minimal_feed())
    td = load_gtfs([declared, ("mine", plain)])
    assert [s.id for s in td.sources] == ["007", "mine"]  # leading zero kept
    assert (td.sources[0].publisher, td.sources[0].version) == ("Pub", "v9")
    assert td.stops.ids[0] == "007:A" and td.stops.ids[2] == "mine:A"


def test_duplicate_feed_id_names_both_paths(tmp_path: Path) -> None:
    first = write_gtfs(tmp_path / "a" / "city.zip", minimal_feed())
    second = write_gtfs(tmp_path / "b" / "city.zip", minimal_feed())
    with pytest.raises(FeedFormatError, match="'city'") as err:
        load_gtfs([first, second])
    assert str(first) in str(err.value) and str(second) in str(err.value)
    with pytest.raises(FeedFormatError, match="'x'"):
        load_gtfs([("x", first), ("x", tmp_path / "b" / "city.zip")])
    assert len(load_gtfs([first, ("other", second)]).sources) == 2


def test_parse_feed_arg() -> None:
    assert parse_feed_arg("data/poa_eptc.zip") == (None, Path("data/poa_eptc.zip"))
    assert parse_feed_arg("poa=data/poa_eptc.zip") == ("poa", Path("data/poa_eptc.zip"))
    assert parse_feed_arg("/data/run=3/feed.zip") == (None, Path("/data/run=3/feed.zip"))
    for bad in ("=x.zip", "id=", ""):
        with pytest.raises(FeedFormatError):
            parse_feed_arg(bad)


# --- broken feeds --------------------------------------------------------------------


def test_a_lone_path_is_one_feed(tmp_path: Path) -> None:
    path = write_gtfs(tmp_path / "solo.zip", minimal_feed())
    assert load_gtfs(str(path)).sources[0].id == "solo"  # a str is one path, not characters


def test_missing_path_is_feed_not_found(tmp_path: Path) -> None:
    with pytest.raises(FeedNotFound, match=r"nowhere\.zip"):
        load_gtfs([tmp_path / "nowhere.zip"])


def test_missing_required_file(tmp_path: Path) -> None:
    with pytest.raises(FeedFormatError, match=r"stops\.txt is missing"):
        load(tmp_path, stops=None)
    with pytest.raises(FeedFormatError, match="calendar"):
        load(tmp_path, name="g.zip", calendar=None)


def test_corrupt_zip(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(FeedFormatError, match=r"bad\.zip"):
        load_gtfs([bad])

    # A readable archive whose stops.txt member is damaged (CRC mismatch).
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_STORED) as zf:
        for name, content in minimal_feed().items():
            zf.writestr(name, table(content) if isinstance(content, str) else b"")
    data = damaged.read_bytes()
    at = data.index(b"Alpha")
    damaged.write_bytes(data[:at] + b"Omega" + data[at + 5 :])
    with pytest.raises(FeedFormatError, match=r"damaged\.zip.*stops\.txt"):
        load_gtfs([damaged])


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    with pytest.raises(FeedFormatError, match=r"stops\.txt is empty"):
        load(tmp_path, stops=b"")
    with pytest.raises(FeedFormatError, match=r"trips\.txt has a header but no rows"):
        load(tmp_path, name="g.zip", trips="route_id,service_id,trip_id")
    with pytest.raises(FeedFormatError, match=r"routes\.txt"):
        load(tmp_path, name="h.zip", routes=b"\n\n")


def test_latin1_bytes_are_a_format_error_naming_the_file(tmp_path: Path) -> None:
    latin1 = "stop_id,stop_name,stop_lat,stop_lon\nA,São Paulo,0,0\nB,Beta,0,0\n".encode("latin-1")
    with pytest.raises(FeedFormatError, match=r"stops\.txt is not UTF-8.*line 2"):
        load(tmp_path, stops=latin1)


def test_malformed_csv_and_missing_column(tmp_path: Path) -> None:
    with pytest.raises(FeedFormatError, match=r"stops\.txt is not valid CSV"):
        load(tmp_path, stops='stop_id,stop_name,stop_lat,stop_lon\nA,"Alpha,0,0\nB,Beta,0,0')
    with pytest.raises(FeedFormatError, match=r"trips\.txt lacks the required column\(s\) service_id"):
        load(tmp_path, name="g.zip", trips="route_id,trip_id\nR1,T1")


def test_bom_loads(tmp_path: Path) -> None:
    with_bom = "\ufeffstop_id,stop_name,stop_lat,stop_lon\nA,Alpha,0,0\nB,Beta,0,0\n".encode()
    td = load(tmp_path, stops=with_bom)
    assert td.stops.ids == ("f:A", "f:B")
    assert len(td.trips) == 1


def test_non_numeric_cell_is_reported_not_fatal(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        stops="""
            stop_id,stop_name,stop_lat,stop_lon,location_type
            A,Alpha,0,0,zero
            B,Beta,0,0,0
        """,
    )
    assert td.stops.location_type.tolist() == [0, 0]
    [bad] = notices(td, "invalid_number")
    assert (bad.file, bad.field, bad.row) == ("stops.txt", "location_type", 1)


def test_invalid_time_zone_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(FeedDataError, match="Mars/Olympus"):
        load(
            tmp_path,
            agency="""
                agency_id,agency_name,agency_url,agency_timezone
                AG,Agency,https://example.org,Mars/Olympus
            """,
        )


# --- routes, stops, shapes, transfers ------------------------------------------------

_MODES = {
    0: "tram", 1: "subway", 2: "rail", 3: "bus", 4: "ferry", 5: "cable_car", 6: "gondola",
    7: "funicular", 11: "trolleybus", 12: "monorail", 101: "rail", 109: "rail", 202: "coach",
    401: "subway", 405: "monorail", 702: "bus", 800: "trolleybus", 900: "tram", 1000: "ferry",
    1200: "ferry", 1300: "gondola", 1400: "funicular",
}  # fmt: skip


def test_route_types_map_to_modes(tmp_path: Path) -> None:
    unknown = (99, 1100, 1500)
    rows = "\n".join(f"RT{t},AG,{t},,{t}" for t in [*_MODES, *unknown])
    td = load(
        tmp_path, routes=f"route_id,agency_id,route_short_name,route_long_name,route_type\n{rows}\nR1,AG,1,,3"
    )
    modes = {r.route_type: r.mode for r in td.routes}
    assert {t: modes[t] for t in _MODES} == _MODES
    assert [modes[t] for t in unknown] == ["bus"] * 3
    [notice] = notices(td, "unknown_route_type")
    assert notice.severity is Severity.WARNING and notice.message.startswith("3 ")


def test_route_without_agency_id_uses_the_single_agency(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        agency="""
            agency_name,agency_url,agency_timezone
            Solo,https://example.org,America/Sao_Paulo
        """,
        routes="""
            route_id,route_short_name,route_long_name,route_type,route_color
            R1,1,One,3,#00ff7f
        """,
    )
    assert td.agencies[td.routes[0].agency].timezone == "America/Sao_Paulo"
    assert td.routes[0].color == "00FF7F"
    assert not td.notices


def test_parent_station_wheelchair_inheritance(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        stops="""
            stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,wheelchair_boarding
            P,Station,0,0,1,,1
            A,Platform 1,0,0,0,P,
            B,Platform 2,0,0,0,P,2
            E,Entrance,0,0,2,P,0
            N,Node,,,3,P,
            C,Lone stop,0,0,,,
            Q,Other,0,0,1,,2
            X,Orphan,0,0,0,NOPE,
        """,
        stop_times="""
            trip_id,arrival_time,departure_time,stop_id,stop_sequence
            T1,08:00:00,08:00:00,A,1
            T1,08:10:00,08:10:00,C,2
        """,
    )
    ids = [i.removeprefix("f:") for i in td.stops.ids]
    assert dict(zip(ids, td.stops.wheelchair.tolist(), strict=True)) == {
        "P": 1, "A": 1, "B": 2, "E": 1, "N": 1, "C": 0, "Q": 2, "X": 0
    }  # fmt: skip
    assert td.stops.parent.tolist() == [-1, 0, 0, 0, 0, -1, -1, -1]
    assert td.stops.location_type.tolist() == [1, 0, 0, 2, 3, 0, 1, 0]
    assert np.isnan(td.stops.lat[4])
    assert [n.code for n in td.notices] == ["unknown_parent_station"]


def test_shapes_sorted_and_linked_to_trips(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        trips="""
            route_id,service_id,trip_id,shape_id,direction_id,trip_headsign
            R1,S1,T1,SH2,1,Beta
        """,
        shapes="""
            shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence,shape_dist_traveled
            SH1,1,1,1,
            SH2,2,2,20,1.5
            SH2,3,3,10,0
            SH1,4,4,0,
        """,
    )
    assert td.shapes.ids == ("f:SH1", "f:SH2")
    assert td.shapes.offset.tolist() == [0, 2, 4]
    assert td.shapes.lat.tolist() == [4, 1, 3, 2]
    assert td.shapes.dist[2:].tolist() == [0.0, 1.5]
    assert td.shapes.ids[td.trips.shape[0]] == "f:SH2"
    assert (td.trips.direction[0], td.trips.headsign[0]) == (1, "Beta")


def test_transfers_to_unknown_stops_are_dropped(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        transfers="""
            from_stop_id,to_stop_id,transfer_type,min_transfer_time
            A,B,2,120
            B,A,,
            A,GHOST,0,
        """,
    )
    assert td.transfers.from_stop.tolist() == [0, 1]
    assert td.transfers.to_stop.tolist() == [1, 0]
    assert td.transfers.transfer_type.tolist() == [2, 0]
    assert td.transfers.min_time.tolist() == [120, -1]
    [dropped] = notices(td, "transfer_unknown_stop")
    assert dropped.row == 3


def test_unknown_references_drop_rows_with_notices(tmp_path: Path) -> None:
    td = load(
        tmp_path,
        trips="""
            route_id,service_id,trip_id
            R1,S1,T1
            NOROUTE,S1,T2
            R1,NOSERVICE,T3
        """,
        stop_times="""
            trip_id,arrival_time,departure_time,stop_id,stop_sequence
            T1,08:00:00,08:00:00,A,1
            T1,08:05:00,08:05:00,GHOST,2
            T1,08:10:00,08:10:00,B,3
            T2,08:00:00,08:00:00,A,1
            T2,08:10:00,08:10:00,B,2
            T3,08:00:00,08:00:00,A,1
            T3,08:10:00,08:10:00,B,2
            T9,08:00:00,08:00:00,A,1
        """,
    )
    assert td.trips.ids == ("f:T1",)
    assert len(td.stop_times.stop) == 2
    codes = {n.code for n in td.notices}
    assert {"unknown_route_id", "unknown_service_id", "unknown_stop_id", "unknown_trip_id"} <= codes


# --- feed source ---------------------------------------------------------------------


def test_feed_source_hashes(tmp_path: Path) -> None:
    zipped = write_gtfs(tmp_path / "z.zip", minimal_feed())
    td = load_gtfs([zipped])
    assert td.sources[0].sha256 == hashlib.sha256(zipped.read_bytes()).hexdigest()
    assert td.sources[0].kind == "gtfs"

    folder = write_gtfs(tmp_path / "d", minimal_feed())
    first = load_gtfs([folder]).sources[0].sha256
    assert load_gtfs([folder]).sources[0].sha256 == first
    (folder / "stops.txt").write_text("stop_id,stop_name,stop_lat,stop_lon\nA,Alpha,1,1\nB,Beta,0,0\n")
    assert load_gtfs([folder]).sources[0].sha256 != first
