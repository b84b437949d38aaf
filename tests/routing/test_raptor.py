"""Golden tests of the transit core: text timetables in, OTP-style path strings out."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from routing import raptor_kernels as K
from routing.errors import ArtifactError, BadRequest
from routing.raptor import TransitQuery, mirrored, search, warm_up
from routing.raptor_kernels import footpath_closure, raptor_search
from routing.service_days import service_day_context
from routing.timetable import MODE_NAMES, Timetable, mirror_timetable
from tests.routing.text_timetable import DEFAULT_DATE, TextFeed, parse

TRANSFER = """
    route R1 bus: A 10:00 B 10:10 C 10:20
    route R2 tram: C 10:25 D 10:35
    route R2 tram: C 10:55 D 11:05
"""


def texts(feed: TextFeed, *args: object, date: dt.date = DEFAULT_DATE, **kw: object) -> list[str]:
    return feed.texts(feed.search(*args, date=date, **kw), date)  # type: ignore[arg-type]


def test_simple_ride_leaves_as_late_as_the_access_walk_allows() -> None:
    feed = parse("""
        route R1 bus: A 10:00 B 10:10 C 10:20
        route R1 bus: A 10:30 B 10:40 C 10:50
    """)
    assert texts(feed, {"A": 120}, "C", "09:50") == ["Walk 2m ~ A ~ BUS R1 10:00 10:20 ~ C [09:58 10:20 0tx]"]
    assert texts(feed, "A", {"C": 90}, "10:01") == [
        "A ~ BUS R1 10:30 10:50 ~ C ~ Walk 1m30s [10:30 10:51:30 0tx]"
    ]
    assert texts(feed, "C", "A", "09:00") == []  # the route runs one way


def test_transfer_and_walking_make_a_pareto_set() -> None:
    feed = parse(TRANSFER + "walk C D 1200")
    assert texts(feed, "A", "D", "10:00") == [
        "A ~ BUS R1 10:00 10:20 ~ C ~ TRAM R2 10:25 10:35 ~ D [10:00 10:35 1tx]",
        "A ~ BUS R1 10:00 10:20 ~ C ~ Walk 20m ~ D [10:00 10:40 0tx]",
    ]


def test_min_change_time_at_a_stop() -> None:
    assert texts(parse(TRANSFER + "change C 300"), "A", "D", "10:00") == [
        "A ~ BUS R1 10:00 10:20 ~ C ~ TRAM R2 10:25 10:35 ~ D [10:00 10:35 1tx]"  # exactly 5 min: made
    ]
    assert texts(parse(TRANSFER + "change C 301"), "A", "D", "10:00") == [
        "A ~ BUS R1 10:00 10:20 ~ C ~ TRAM R2 10:55 11:05 ~ D [10:00 11:05 1tx]"
    ]


def test_chained_footpaths_between_rides() -> None:
    lines = """
        route R1 bus: A 10:00 B 10:10
        route R2 bus: E 10:20 F 10:30
        walk B X 120
        walk X Y 180
    """
    assert texts(parse(lines + "walk Y E 300"), "A", "F", "10:00") == [
        "A ~ BUS R1 10:00 10:10 ~ B ~ Walk 2m ~ X ~ Walk 3m ~ Y ~ Walk 5m ~ E ~ BUS R2 10:20 10:30 ~ F [10:00 10:30 1tx]"
    ]
    assert texts(parse(lines + "walk Y E 301"), "A", "F", "10:00") == []  # one second late


def test_chain_of_footpaths_beats_a_slower_direct_one_and_loses_to_a_faster_one() -> None:
    # the search skips footpath chains that a direct footpath of their first stop covers
    # (footpath_closure); a direct footpath slower than the chain must not be among them
    lines = """
        route R1 bus: A 10:00 B 10:10
        route R2 bus: E 10:20 F 10:30
        walk B X 240
        walk X E 300
    """
    chained = (
        "A ~ BUS R1 10:00 10:10 ~ B ~ Walk 4m ~ X ~ Walk 5m ~ E ~ BUS R2 10:20 10:30 ~ F [10:00 10:30 1tx]"
    )
    direct = "A ~ BUS R1 10:00 10:10 ~ B ~ Walk 8m ~ E ~ BUS R2 10:20 10:30 ~ F [10:00 10:30 1tx]"
    for walk_b_e, want in (("walk B E 601", chained), ("walk B E 480", direct)):
        feed = parse(lines + walk_b_e)
        assert texts(feed, "A", "F", "10:00") == [want]
        assert texts(feed, "A", "F", "10:30", arrive_by=True) == [want]
    # only the chain makes the connection, arriving by the deadline and departing at the time
    feed = parse(lines + "walk B E 700")
    assert texts(feed, "A", "F", "10:00") == [chained]
    assert texts(feed, "A", "F", "10:30", arrive_by=True) == [chained]
    # the walk between the rides is limited as a whole (chain 540 s, direct 700 s)
    assert texts(feed, "A", "F", "10:00", max_walk_s=540) == [chained]
    assert texts(feed, "A", "F", "10:00", max_walk_s=539) == []


def test_footpath_closure_is_the_shortest_chain_that_beats_the_direct_footpaths() -> None:
    # 0 -> 1 -> 2 -> 3 in 100 s steps; 0 -> 2 direct in 200 s; nothing direct 0 -> 3
    src = np.array([0, 0, 1, 2], np.int64)
    tgt = np.array([1, 2, 2, 3], np.int32)
    secs = np.array([100, 200, 100, 100], np.int32)
    off = np.r_[0, np.cumsum(np.bincount(src, minlength=4))].astype(np.int64)
    assert footpath_closure(off, tgt, secs).tolist() == [300, 200, K.INF, K.INF]
    secs[1] = 201  # the chain 0 -> 1 -> 2 now beats the direct footpath
    assert footpath_closure(off, tgt, secs).tolist() == [200, 200, K.INF, K.INF]


def test_footpaths_after_access_and_before_egress() -> None:
    feed = parse("""
        route R1 bus: B 10:10 C 10:20
        walk A -> B 240
        walk C -> D 60
    """)
    assert texts(feed, {"A": 60}, {"D": 30}, "10:00") == [
        "Walk 1m ~ A ~ Walk 4m ~ B ~ BUS R1 10:10 10:20 ~ C ~ Walk 1m ~ D ~ Walk 30s [10:05 10:21:30 0tx]"
    ]


def test_transfers_txt_sets_and_forbids_walks() -> None:
    lines = """
        route R1 bus: A 10:00 B 10:10
        route R2 bus: C 10:15 D 10:25
    """
    assert texts(parse(lines + "walk B C 600"), "A", "D", "10:00") == []
    assert texts(parse(lines + "walk B C 600\ntransfer B C 2 240"), "A", "D", "10:00") == [
        "A ~ BUS R1 10:00 10:10 ~ B ~ Walk 4m ~ C ~ BUS R2 10:15 10:25 ~ D [10:00 10:25 1tx]"
    ]
    assert texts(parse(lines + "transfer B C 2 300"), "A", "D", "10:00") != []  # adds the walk
    assert texts(parse(lines + "walk B C 60\ntransfer B C 3"), "A", "D", "10:00") == []


def test_boarding_and_alighting_flags() -> None:
    feed = parse("""
        route R1 bus: A/nb 10:00 B 10:10 C/na 10:20
        route R1 bus: A 10:30 B 10:40 C 10:50
        route R1 bus: A 11:00 B/na 11:10 C 11:20
    """)
    assert texts(feed, "A", "C", "09:55") == ["A ~ BUS R1 10:30 10:50 ~ C [10:30 10:50 0tx]"]
    assert texts(feed, "A", "B", "10:50") == []  # the 11:00 trip does not let anyone off at B
    assert texts(feed, "B", "C", "10:05") == ["B ~ BUS R1 10:40 10:50 ~ C [10:40 10:50 0tx]"]


def test_overtaking_trip_gets_its_own_pattern() -> None:
    feed = parse("""
        route R1 bus: A 10:00 B 10:20 C 10:40
        route R1 bus: A 10:05 B 10:15 C 10:25
    """)
    assert feed.timetable.n_patterns == 2
    assert texts(feed, "A", "C", "10:00") == ["A ~ BUS R1 10:05 10:25 ~ C [10:05 10:25 0tx]"]
    assert texts(feed, "B", "C", "10:16") == ["B ~ BUS R1 10:20 10:40 ~ C [10:20 10:40 0tx]"]
    fifo = parse("""
        route R1 bus: A 10:00 B 10:20 C 10:40
        route R1 bus: A 10:05 B 10:25 C 10:45
    """)
    assert fifo.timetable.n_patterns == 1


def test_trips_of_the_previous_and_next_service_day() -> None:
    feed = parse("""
        days 2024-03-04 2024-03-06
        service MON 2024-03-04
        service WED 2024-03-06
        route N1 bus service=MON: A 24:30 B 24:50
        route N2 bus service=WED: A 00:20 B 00:40
        route D1 bus service=MON: A 10:00 B 10:20
    """)
    day = dt.date(2024, 3, 5)
    journeys = feed.search("A", "B", "00:10", date=day)
    assert feed.texts(journeys, day) == ["A ~ BUS N1 00:30 00:50 ~ B [00:30 00:50 0tx]"]
    assert journeys[0].rides[0].day == 0
    journeys = feed.search("A", "B", "23:50", date=day)
    assert feed.texts(journeys, day) == ["A ~ BUS N2 00:20+1d 00:40+1d ~ B [00:20+1d 00:40+1d 0tx]"]
    assert journeys[0].rides[0].day == 2
    # D1 runs on Monday only: nothing on Tuesday morning
    assert feed.search("A", "B", "09:00", date=day, max_duration_s=3 * 3600) == []


def test_no_service_on_the_date_gives_no_journey() -> None:
    feed = parse("""
        service SAT 2024-03-09
        days 2024-03-04 2024-03-10
        route R1 bus service=SAT: A 10:00 B 10:20
    """)
    assert texts(feed, "A", "B", "09:00") == []
    assert texts(feed, "A", "B", "09:00", date=dt.date(2024, 3, 9)) == [
        "A ~ BUS R1 10:00 10:20 ~ B [10:00 10:20 0tx]"
    ]
    assert texts(feed, "A", "B", "09:00", date=dt.date(2030, 1, 1)) == []  # outside the calendar


def test_arrive_by_is_consistent_with_forward() -> None:
    feed = parse(
        TRANSFER
        + """
        route R1 bus: A 10:10 B 10:20 C 10:30
        walk C D 1200
    """
    )
    deadline = "10:50"
    journeys = feed.search("A", "D", deadline, arrive_by=True)
    assert feed.texts(journeys) == ["A ~ BUS R1 10:10 10:30 ~ C ~ Walk 20m ~ D [10:10 10:50 0tx]"]
    for j in journeys:  # leaving at its departure, the forward search makes the deadline
        fwd = search(
            feed.timetable,
            feed.context(),
            TransitQuery(
                np.array([feed.stop("A")]),
                np.zeros(1, np.int32),
                np.array([feed.stop("D")]),
                np.zeros(1, np.int32),
                j.dep,
            ),
        )
        assert min(f.arr for f in fwd) <= feed.local(deadline)
    assert texts(feed, "A", "D", "10:36", arrive_by=True) == [
        "A ~ BUS R1 10:00 10:20 ~ C ~ TRAM R2 10:25 10:35 ~ D [10:00 10:35 1tx]"
    ]
    assert texts(feed, "A", "D", "10:34", arrive_by=True) == []


def test_range_query_returns_the_pareto_set_over_the_window() -> None:
    feed = parse("""
        route R1 bus: A 10:00 B 10:20
        route R1 bus: A 10:30 B 10:50
        route R1 bus: A 11:00 B 11:20
        route R1 bus: A 11:30 B 11:50
        route R2 rail: A 10:40 B 10:45
    """)
    assert texts(feed, "A", "B", "10:00", window_s=3600) == [
        "A ~ BUS R1 10:00 10:20 ~ B [10:00 10:20 0tx]",
        "A ~ RAIL R2 10:40 10:45 ~ B [10:40 10:45 0tx]",
        "A ~ BUS R1 11:00 11:20 ~ B [11:00 11:20 0tx]",
    ]
    assert texts(feed, "A", "B", "11:20", window_s=3600, arrive_by=True) == [
        "A ~ BUS R1 10:00 10:20 ~ B [10:00 10:20 0tx]",
        "A ~ RAIL R2 10:40 10:45 ~ B [10:40 10:45 0tx]",
        "A ~ BUS R1 11:00 11:20 ~ B [11:00 11:20 0tx]",
    ]


def test_range_query_boards_at_every_access_stop_of_a_departure_time() -> None:
    # both access stops make 09:55 a candidate departure: each must be tried
    feed = parse("""
        route R1 bus: A 10:00 D 10:30
        route R2 bus: B 10:02 C 10:10
        route R3 bus: C 10:12 D 10:20
    """)
    assert texts(feed, {"A": 300, "B": 420}, "D", "09:50", window_s=1200) == [
        "Walk 7m ~ B ~ BUS R2 10:02 10:10 ~ C ~ BUS R3 10:12 10:20 ~ D [09:55 10:20 1tx]",
        "Walk 5m ~ A ~ BUS R1 10:00 10:30 ~ D [09:55 10:30 0tx]",
    ]


def test_range_query_keeps_fewer_transfers_when_slower() -> None:
    feed = parse("""
        route R1 bus: A 10:00 B 10:40
        route R2 tram: A 10:05 C 10:10
        route R3 tram: C 10:12 B 10:20
    """)
    assert texts(feed, "A", "B", "09:50", window_s=1800) == [
        "A ~ BUS R1 10:00 10:40 ~ B [10:00 10:40 0tx]",
        "A ~ TRAM R2 10:05 10:10 ~ C ~ TRAM R3 10:12 10:20 ~ B [10:05 10:20 1tx]",
    ]
    assert len(feed.search("A", "B", "09:50", window_s=1800, max_transfers=0)) == 1


def test_wheelchair_filter() -> None:
    feed = parse("""
        stop C wheelchair=2
        route R1 bus wheelchair=2: A 10:00 B 10:20 C 10:30
        route R1 bus wheelchair=1: A 10:10 B 10:30 C 10:40
    """)
    assert texts(feed, "A", "B", "10:00") == ["A ~ BUS R1 10:00 10:20 ~ B [10:00 10:20 0tx]"]
    assert texts(feed, "A", "B", "10:00", wheelchair=True) == ["A ~ BUS R1 10:10 10:30 ~ B [10:10 10:30 0tx]"]
    assert texts(feed, "A", "C", "10:00", wheelchair=True) == []


def test_mode_filter() -> None:
    feed = parse("""
        route R1 bus: A 10:00 B 10:30
        route T1 tram: A 10:05 B 10:15
    """)
    bus = 1 << MODE_NAMES.index("bus")
    assert texts(feed, "A", "B", "10:00") == ["A ~ TRAM T1 10:05 10:15 ~ B [10:05 10:15 0tx]"]
    assert texts(feed, "A", "B", "10:00", allowed_modes=bus) == [
        "A ~ BUS R1 10:00 10:30 ~ B [10:00 10:30 0tx]"
    ]


def test_dst_day_uses_noon_minus_twelve_hours() -> None:
    feed = parse("""
        feed T tz=America/Los_Angeles
        days 2021-11-06 2021-11-08
        route R1 bus: A 00:30 B 03:00
        route R1 bus: A 10:00 B 10:20
    """)
    day = dt.date(2021, 11, 7)  # clocks fall back at 02:00; noon - 12 h is 01:00 PDT
    la = ZoneInfo("America/Los_Angeles")
    [night] = feed.search("A", "B", "00:00", date=day)
    ride = night.rides[0]
    assert feed.ref_utc(day) + ride.dep == int(dt.datetime(2021, 11, 7, 8, 30, tzinfo=dt.UTC).timestamp())
    assert ride.arr - ride.dep == 2 * 3600 + 1800  # 2 h 30 of GTFS time is 2 h 30 elapsed
    [day_trip] = feed.search("A", "B", "09:00", date=day)
    assert feed.ref_utc(day) + day_trip.arr == int(dt.datetime(2021, 11, 7, 10, 20, tzinfo=la).timestamp())
    assert feed.text(day_trip, day) == "A ~ BUS R1 10:00 10:20 ~ B [10:00 10:20 0tx]"


def test_service_day_context_on_a_dst_day() -> None:
    feed = parse("""
        feed T tz=America/Los_Angeles
        days 2021-11-06 2021-11-07
        route R1 bus: A 10:00 B 10:20
    """)
    ref = 1_636_000_000
    day_active, day_offset = service_day_context(feed.timetable, feed.meta, dt.date(2021, 11, 7), ref)
    utc = [
        int(dt.datetime(2021, 11, d, h, tzinfo=dt.UTC).timestamp()) - ref for d, h in ((6, 7), (7, 8), (8, 8))
    ]
    assert day_offset[:, 0].tolist() == utc  # noon - 12 h: 00:00 PDT, 01:00 PDT, 00:00 PST
    assert day_active[:, 0].tolist() == [1, 1, 0]  # the calendar ends on the 7th


def test_two_feeds_in_two_time_zones() -> None:
    feed = parse("""
        feed NY tz=America/New_York
        route N bus: P 10:00 Q 10:30
        feed ZB tz=Europe/Berlin
        route B tram: Q2 16:40 R 17:00
        walk Q Q2 60
    """)
    assert feed.meta.tz_names == ("America/New_York", "Europe/Berlin")
    assert texts(feed, "P", "R", "09:00") == [
        "P ~ BUS N 10:00 10:30 ~ Q ~ Walk 1m ~ Q2 ~ TRAM B 10:40 11:00 ~ R [10:00 11:00 1tx]"
    ]


def test_a_ride_arriving_after_the_access_walk_still_walks_on() -> None:
    # Walking from the origin reaches S at 10:09, before the bus (10:20); but the walk on
    # to the destination (8 min) fits the rider's limit only after a ride, not added to the
    # 9 min already walked. Pruning the ride's arrival at S against the walk lost this
    # journey (and made a later departure arrive earlier).
    feed = parse("""
        route R1 bus: A 10:05 S 10:20
    """)
    assert texts(feed, {"A": 60, "S": 540}, {"S": 480}, "10:00", walk_only_max_s=600) == [
        "Walk 1m ~ A ~ BUS R1 10:05 10:20 ~ S ~ Walk 8m [10:04 10:28 0tx]"
    ]


def test_walking_only_through_stops_dominates_slower_transit() -> None:
    feed = parse("""
        route R1 bus: A 10:00 B 10:30
        walk A B 600
    """)
    assert texts(feed, "A", "B", "10:00") == []
    assert texts(feed, "A", "B", "09:50") == []


def test_timetable_round_trips_through_arrays() -> None:
    feed = parse(TRANSFER + "walk C D 1200")
    tt = feed.timetable
    again = Timetable.from_arrays({k: np.array(v) for k, v in tt.arrays().items()})
    q = TransitQuery(
        np.array([feed.stop("A")]),
        np.zeros(1, np.int32),
        np.array([feed.stop("D")]),
        np.zeros(1, np.int32),
        feed.local("10:00"),
    )
    ctx = service_day_context(again, feed.meta, DEFAULT_DATE, feed.ref_utc())
    assert search(again, ctx, q) == search(tt, feed.context(), q)
    assert all(not a.flags.writeable for a in again.arrays().values())
    bad = dict(tt.arrays(), arr=tt.arr.astype(np.int64))
    with pytest.raises(ArtifactError, match="arr"):
        Timetable.from_arrays(bad)
    with pytest.raises(ArtifactError, match="dep"):
        Timetable.from_arrays({k: v for k, v in tt.arrays().items() if k != "dep"})


def test_mirror_twice_is_the_timetable() -> None:
    feed = parse(
        TRANSFER
        + """
        route R1 bus: A 10:05 B/nb 10:15 C 10:25
        walk C D 1200
        walk A -> B 100
    """
    )
    tt = feed.timetable
    back = mirror_timetable(mirror_timetable(tt))
    for name, a in tt.arrays().items():
        np.testing.assert_array_equal(back.arrays()[name], a, err_msg=name)
    assert mirrored(tt) is mirrored(tt)


def test_searches_from_several_threads_agree() -> None:
    feed = parse(TRANSFER + "walk C D 1200\nroute R1 bus: A 10:30 B 10:40 C 10:50")
    stops = list(feed.stop_index)
    cases = [(a, b, t) for a in stops for b in stops if a != b for t in ("09:30", "10:00", "10:20")]

    def one(case: tuple[str, str, str]) -> list[str]:
        a, b, t = case
        return texts(feed, a, b, t, window_s=1800) + texts(feed, a, b, t, arrive_by=True)

    expected = [one(c) for c in cases]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(one, cases * 3)) == expected * 3
    assert any(expected)


def test_loop_route_boards_at_either_visit() -> None:
    feed = parse("""
        route L1 bus: A 10:00 B 10:10 C 10:20 A 10:30 D 10:40
    """)
    assert feed.timetable.n_patterns == 1
    assert texts(feed, "B", "D", "10:00") == ["B ~ BUS L1 10:10 10:40 ~ D [10:10 10:40 0tx]"]
    assert texts(feed, "A", "D", "10:05") == ["A ~ BUS L1 10:30 10:40 ~ D [10:30 10:40 0tx]"]
    assert texts(feed, "C", "A", "10:00", arrive_by=False) == ["C ~ BUS L1 10:20 10:30 ~ A [10:20 10:30 0tx]"]


def test_warm_up_compiles_the_kernel() -> None:
    warm_up()
    assert raptor_search.signatures  # compiled (or loaded from the cache) for real arrays


def test_bad_queries_are_refused() -> None:
    feed = parse(TRANSFER)
    with pytest.raises(BadRequest, match="access_stops"):
        search(
            feed.timetable,
            feed.context(),
            TransitQuery(np.array([99]), np.zeros(1, np.int32), np.array([0]), np.zeros(1, np.int32), 0),
        )
    with pytest.raises(BadRequest, match="egress_s"):
        search(
            feed.timetable,
            feed.context(),
            TransitQuery(np.array([0]), np.zeros(1, np.int32), np.array([0]), np.zeros(2, np.int32), 0),
        )
