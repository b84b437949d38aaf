"""Golden itineraries of the built-in engine on the real shared feeds, as one line of text.

Each golden was derived from the GTFS files (stop_times, trips, calendar, frequencies),
not copied from the engine; the docstring of each test says how. On top of the line,
every itinerary a test plans is checked against an independent reading of the feeds
(:mod:`tests.routing.golden_text`): legs in order without overlap, rides on real trips
at exactly their stop times (plus the frequency offset) on a day they run, and no walk
faster than 2.5 m/s in a straight line.

Times in the lines are local wall-clock ``HH:MM`` (seconds are checked by the feed
check). The tests named "...does_not_walk_to_a_later_stop..." and the like pin a fixed
defect: the search re-boarded a trip it already rode at a later stop the rider could also
walk to, leaving earlier or walking more for the same arrival.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from routing.build import build_graph
from routing.engines import get_planner
from routing.errors import BadRequest
from routing.graph import Graph
from routing.plan import JourneyPlanner, Place, PlanRequest, PlanResult
from routing.raptor_planner import DETOUR, EngineOptions
from tests.routing.golden_text import (
    GtfsTimetable,
    golden_text,
    golden_texts,
    haversine_m,
    itinerary_problems,
)
from tests.routing.text_timetable import parse

pytestmark = pytest.mark.shared_data



@dataclass(frozen=True)
class City:
    planner: JourneyPlanner
    feeds: dict[str, GtfsTimetable]
    zone: ZoneInfo

    def at(self, text: str) -> dt.datetime:
        """Local wall-clock time 'YYYY-MM-DD HH:MM[:SS]' in the city's zone."""
        return dt.datetime.fromisoformat(text).replace(tzinfo=self.zone)

    def plan(self, origin: str, destination: str, when: str, **kw: object) -> PlanResult:
        """Plan and check every itinerary against the feeds before anything else is asserted."""
        request = PlanRequest(Place.parse(origin), Place.parse(destination), self.at(when), **kw)  # type: ignore[arg-type]
        result = self.planner.plan(request)
        for it in result.itineraries:
            assert itinerary_problems(it, self.feeds) == [], golden_text(it)
        return result


def _city(
    tmp_path_factory: pytest.TempPathFactory, data: Path, name: str, feeds: dict[str, str], osm: str, tz: str
) -> City:
    paths = {fid: data / rel for fid, rel in feeds.items()}
    report = build_graph(list(paths.items()), osm=data / osm, out=tmp_path_factory.mktemp(name) / "graph")
    planner = get_planner(Graph.load(report.path))
    return City(planner, {fid: GtfsTimetable(p, fid) for fid, p in paths.items()}, ZoneInfo(tz))


@pytest.fixture(scope="module")
def portland(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> City:
    return _city(
        tmp_path_factory,
        shared_data,
        "portland",
        {"trimet": "portland/trimet-2routes.zip"},
        "portland/portland-central-filtered.osm.pbf",
        "America/Los_Angeles",
    )


@pytest.fixture(scope="module")
def porto_alegre(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> City:
    return _city(
        tmp_path_factory,
        shared_data,
        "porto_alegre",
        {"eptc": "porto_alegre/poa_eptc.zip", "trensurb": "porto_alegre/poa_trensurb.zip"},
        "porto_alegre/poa_osm.pbf",
        "America/Sao_Paulo",
    )


@pytest.fixture(scope="module")
def atlanta(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> City:
    return _city(
        tmp_path_factory,
        shared_data,
        "atlanta_cobb",
        {
            "marta": "atlanta_cobb/marta-bus-856-only.gtfs.zip",
            "cobb": "atlanta_cobb/cobblinc-bus-30-only.gtfs.zip",
        },
        "atlanta_cobb/cobb-county.filtered.osm.pbf",
        "America/New_York",
    )


@pytest.fixture(scope="module")
def sao_paulo(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> City:
    return _city(
        tmp_path_factory,
        shared_data,
        "sao_paulo",
        {"spo": "sao_paulo/spo_gtfs.zip"},
        "sao_paulo/spo_osm.pbf",
        "America/Sao_Paulo",
    )


def rides(result: PlanResult, n: int = 0) -> list[tuple[str | None, dt.date | None]]:
    return [(leg.trip_id, leg.service_date) for leg in result.itineraries[n].legs if leg.route is not None]


# -- Portland: TriMet MAX Green Line + Portland Streetcar NS Line (one feed, two agencies) --

HOLLYWOOD_TO_LENTS_AFTER_MIDNIGHT = (
    "Hollywood/NE 42nd Ave TC MAX Station (trimet:8344) ~ TRAM MAX Green Line 00:10 00:27"
    " ~ Lents/SE Foster Rd MAX Station (trimet:13128) [00:10 00:27 0tx]"
)

HOLLYWOOD_TO_SOUTH_WATERFRONT = (
    "Hollywood/NE 42nd Ave TC MAX Station (trimet:8373) ~ TRAM MAX Green Line 13:26 13:47"
    " ~ PSU Urban Center/SW 5th & Mill MAX Station (trimet:7618) ~ Walk 1m ~ SW 5th & Montgomery (trimet:10763)"
    " ~ TRAM Portland Streetcar - NS Line 13:48 14:00 ~ S Lowell & Bond (trimet:12881) [13:26 14:00 1tx]"
)


def test_portland_after_midnight_rides_the_previous_service_day(portland: City) -> None:
    """Thu 2021-11-11 00:08, Hollywood MAX (8344) -> Lents/SE Foster Rd (13128).

    calendar_dates.txt: 20211110 activates A.607 (MAX) and D.607; 20211111 the same, but no
    trip of 2021-11-11 calls at 8344 before 07:09:45. Trip 11134295 (route 200, A.607)
    has stop_times 8344 arr 24:09:50 dep 24:10:15 (seq 13) and 13128 arr 24:27:40 (seq 21):
    the service day 2021-11-10 at 24:10:15 is 00:10:15 on the 11th. The oracle lists every
    direct ride of both service days and finds that one first.
    """
    r = portland.plan("stop:trimet:8344", "stop:trimet:13128", "2021-11-11 00:08")
    assert golden_texts(r) == [HOLLYWOOD_TO_LENTS_AFTER_MIDNIGHT]
    assert rides(r) == [("trimet:11134295", dt.date(2021, 11, 10))]
    first = portland.feeds["trimet"].first_ride("8344", "13128", portland.at("2021-11-11 00:08"))
    leg = r.itineraries[0].legs[0]
    assert (leg.trip_id, leg.service_date, leg.start_time, leg.end_time) == (
        first.trip_id,
        first.service_date,
        first.departure,
        first.arrival,
    )
    assert leg.start_time == portland.at("2021-11-11 00:10:15")
    assert leg.end_time == portland.at("2021-11-11 00:27:40")


def test_portland_max_to_streetcar_across_agencies(portland: City) -> None:
    """Wed 2021-11-10 13:20, Hollywood MAX (8373) -> S Lowell & Bond (12881, streetcar only).

    MAX (TriMet, route 200, A.607): first dir-1 departure from 8373 after 13:20 is trip
    11134612 at 13:26:05 (seq 12), arriving 7618 PSU Urban Center/SW 5th & Mill 13:47:20
    (seq 22). Streetcar (Portland Streetcar, route 193, D.607): trip 11133647 leaves 10763
    SW 5th & Montgomery 13:48:00 (seq 15) and reaches 12881 at 14:00:00 (seq 22). The
    footpath 7618 -> 10763 (a transfers.txt pair) is 47 m / 36 s: 13:47:56 <= 13:48. No
    other stop of 11133647 can be reached in time (10762 at 13:46 only from City Hall 7608,
    MAX 13:45:15 + >= 212 s; 12375 at 13:49 needs 228 s from 7618), and the streetcar
    before (11133646, at 12881 13:39) leaves every stop before the MAX could get there even
    walking 2.5 m/s in a straight line, so 14:00 is the earliest arrival.
    """
    r = portland.plan("stop:trimet:8373", "stop:trimet:12881", "2021-11-10 13:20")
    assert golden_texts(r) == [HOLLYWOOD_TO_SOUTH_WATERFRONT]
    assert rides(r) == [
        ("trimet:11134612", dt.date(2021, 11, 10)),
        ("trimet:11133647", dt.date(2021, 11, 10)),
    ]
    agencies = [leg.route.agency for leg in r.itineraries[0].legs if leg.route is not None]
    assert agencies == ["TriMet", "Portland Streetcar"]


def test_portland_arrive_by_matches_the_forward_search(portland: City) -> None:
    """Arrive by 14:00 at 12881 (the forward search's arrival): latest departure is the same
    13:26:05 MAX (the next one, 11134613 at 13:41:05, reaches 7618 at 14:02:20 > 14:00), so
    the same two trips and the same line. Arrive by 00:30 at Lents: the 00:10:15 ride of the
    2021-11-10 service day (the next one from 8344 is 07:09:45)."""
    forward = portland.plan("stop:trimet:8373", "stop:trimet:12881", "2021-11-10 13:20")
    backward = portland.plan("stop:trimet:8373", "stop:trimet:12881", "2021-11-10 14:00", arrive_by=True)
    assert golden_texts(backward) == golden_texts(forward) == [HOLLYWOOD_TO_SOUTH_WATERFRONT]
    assert rides(backward) == rides(forward)
    for a, b in zip(backward.itineraries[0].legs, forward.itineraries[0].legs, strict=True):
        if a.route is not None:
            assert (a.start_time, a.end_time) == (b.start_time, b.end_time)
    night = portland.plan("stop:trimet:8344", "stop:trimet:13128", "2021-11-11 00:30", arrive_by=True)
    assert golden_texts(night) == [HOLLYWOOD_TO_LENTS_AFTER_MIDNIGHT]
    assert rides(night) == [("trimet:11134295", dt.date(2021, 11, 10))]


def test_portland_transfer_takes_the_short_footpath_to_the_same_streetcar(portland: City) -> None:
    """Wed 2021-11-10 10:00, 8373 -> 12881: MAX 11134599 10:11:05 -> 7618 10:32:20, streetcar
    11133635 10:52 at 12881. That streetcar leaves 10763 at 10:41 (footpath 36 s from 7618).
    The engine walks 962 m / 724 s to 12378 S River Pkwy & Moody and boards the same trip
    there at 10:46. Any fix may board at 10763 (36 s) or 10762 (129 s); never 12 minutes."""
    r = portland.plan("stop:trimet:8373", "stop:trimet:12881", "2021-11-10 10:00")
    it = r.itineraries[0]
    assert rides(r) == [
        ("trimet:11134599", dt.date(2021, 11, 10)),
        ("trimet:11133635", dt.date(2021, 11, 10)),
    ]
    assert it.end_time == portland.at("2021-11-10 10:52")
    walks = [leg for leg in it.legs if leg.mode == "walk"]
    assert all((w.end_time - w.start_time).total_seconds() <= 129 for w in walks), golden_text(it)


def test_portland_arrive_by_rides_to_the_destination_stop(portland: City) -> None:
    """Arrive by 14:05 at 12881: the latest departure is still the 13:26:05 MAX and streetcar
    11133647 reaches 12881 itself at 14:00. The engine alights one stop early (12880 S Moody &
    Gaines 13:58) and walks 326 m, arriving 14:02:05: same departure, later arrival, more walking."""
    r = portland.plan("stop:trimet:8373", "stop:trimet:12881", "2021-11-10 14:05", arrive_by=True)
    assert golden_texts(r) == [HOLLYWOOD_TO_SOUTH_WATERFRONT]


# -- Porto Alegre: EPTC buses + TRENSURB rail, two feeds ------------------------------------

INDUSTRIAS_TO_NOVO_HAMBURGO = (
    "INDUSTRIAS (eptc:3967) ~ BUS B02 12:38 12:44 ~ DOIS TREVO CARRION JUNIOR (eptc:3830)"
    " ~ Walk 2m ~ ESTACAO AEROPORTO (trensurb:AP) ~ RAIL LINHA1 12:51 13:33"
    " ~ ESTACAO NOVO HAMBURGO (trensurb:NH) [12:38 13:33 1tx]"
)


def test_porto_alegre_eptc_bus_to_trensurb_rail(porto_alegre: City) -> None:
    """Mon 2019-05-13 12:38, EPTC stop 3967 INDUSTRIAS -> TRENSURB NH Novo Hamburgo.

    EPTC (calendar B02@1 Mon-Fri, no removal that day): only route B02 calls at 3967. Trip
    B02-1@1#1155 has 136 stops timed only at the first (4698, 11:55:00) and the last (6601,
    13:25:00): 40 s per stop by position, so 3967 (index 65) 12:38:20 and 3830 DOIS TREVO
    CARRION JUNIOR (index 74) 12:44:20. Walk 3830 -> AP (AP lies off the street extract:
    straight line) 118 s, at AP 12:46:18. TRENSURB (FULLW Mon-Fri): FULLW_MR_NH_12:31:00
    left AP at 12:41 and is out of reach (Anchieta 12:42 is 2.3 km away); the next,
    FULLW_MR_NH_12:41:00, leaves AP 12:51:00 and reaches NH 13:33:35.
    """
    r = porto_alegre.plan("stop:eptc:3967", "stop:trensurb:NH", "2019-05-13 12:38")
    assert golden_texts(r) == [INDUSTRIAS_TO_NOVO_HAMBURGO]
    day = dt.date(2019, 5, 13)
    assert rides(r) == [("eptc:B02-1@1#1155", day), ("trensurb:FULLW_MR_NH_12:41:00", day)]
    legs = r.itineraries[0].legs
    assert [leg.route.agency for leg in legs if leg.route is not None] == [
        "Empresa Publica de Transportes e Circulação",
        "TRENSURB",
    ]
    assert legs[0].start_time == porto_alegre.at("2019-05-13 12:38:20")
    assert legs[-1].end_time == porto_alegre.at("2019-05-13 13:33:35")


# -- Atlanta / Cobb: MARTA 856 + CobbLinc 30 (OTP FlexIntegrationTest, fixed-route part) -----

ALEX_DR_TO_AUSTELL_RD = (
    "ALEX DR@ALEX WAY (marta:97266) ~ BUS 856 {a} {b} ~ BURTON RD NW@HAMILTON E HOLMES DR N (marta:78002)"
    " ~ Walk 1m ~ HAMILTON E. HOLMES DR + BURTON RD NW (cobb:706) ~ BUS 30 {c} {d}"
    " ~ AUSTELL RD + HOSPITAL SOUTH DR (cobb:231) [{a} {d} 1tx]"
)


def test_atlanta_marta_856_then_cobblinc_30_as_in_otp_flex_integration_test(atlanta: City) -> None:
    """OTP's FlexIntegrationTest.shouldReturnARouteWithTwoTransfers: from MARTA stop 97266
    ALEX DR@ALEX WAY, Thu 2021-12-02 12:00, 2 h search window, bus 856 -> walk -> bus 30
    (then flex, not supported here: the destination is the route 30 timepoint 231 AUSTELL RD +
    HOSPITAL SOUTH DR, next to OTP's flex pick-up; OTP's flex leg leaves at 15:00).

    MARTA service 5 (Mon-Fri) runs 856 from 97266 hourly at xx:34: trip 6546533 12:34:00
    -> 78002 12:53:03 (seq 39), trip 6546532 13:34:00 -> 13:53:03. Footpath 78002 -> cobb 706
    84 s. CobbLinc service 1: route 30 dir 1 leaves 706 at 12:40:29 (6020, missed),
    13:10:29 (344020; 231 at 13:53:00), 13:40:29 (990020), 14:04:29 (944020; 231 at 14:51:00).
    So 12:34 -> 13:53 and 13:34 -> 14:51 (the one OTP continues by flex at 15:00). Boarding at
    cobb 720 (13:09, 146 s from 98900) arrives as early but walks more.
    """
    r = atlanta.plan("stop:marta:97266", "stop:cobb:231", "2021-12-02 12:00", window_s=7200)
    assert golden_texts(r)[:2] == [
        ALEX_DR_TO_AUSTELL_RD.format(a="12:34", b="12:53", c="13:10", d="13:53"),
        ALEX_DR_TO_AUSTELL_RD.format(a="13:34", b="13:53", c="14:04", d="14:51"),
    ]
    day = dt.date(2021, 12, 2)
    assert rides(r, 0) == [("marta:6546533", day), ("cobb:344020", day)]
    assert rides(r, 1) == [("marta:6546532", day), ("cobb:944020", day)]
    assert [leg.route.short_name for leg in r.itineraries[1].legs if leg.route] == ["856", "30"]


def test_atlanta_waits_for_the_856_at_the_origin_instead_of_walking_to_a_later_stop(atlanta: City) -> None:
    """The same query without a window (12:00): the 12:34 trip 6546533 from 97266 is the one to
    take. The engine walks 1955 m (25 min, from 12:15:56) to 77104 BAKERS FERRY RD SW @ KENNER
    DR to board that same trip at 12:40:27: it leaves 18 min earlier for the same arrival.
    (Checked as properties, not as a line: a fix may still walk a few metres to the next
    stop of the trip if that lets the rider leave later.)"""
    r = atlanta.plan("stop:marta:97266", "stop:cobb:231", "2021-12-02 12:00")
    it = r.itineraries[0]
    day = dt.date(2021, 12, 2)
    assert rides(r) == [("marta:6546533", day), ("cobb:344020", day)]
    assert it.end_time == atlanta.at("2021-12-02 13:53")
    assert it.start_time >= atlanta.at("2021-12-02 12:34"), golden_text(it)


# -- São Paulo: frequency-based feed, half of the stops outside the OSM extract ------------


def test_sao_paulo_frequency_route_departs_on_the_headway(sao_paulo: City) -> None:
    """Mon 2019-05-13 14:10, Santa Cruz (18856) -> Sé (19000), both METRÔ L1.

    Template METRÔ L1-0 (service USD, every day) starts 04:00:00 at Jabaquara, Santa Cruz
    04:09:20 (seq 6), Sé 04:22:24 (seq 13); frequencies.txt 14:00:00-14:59:00 every 120 s.
    Runs leave Santa Cruz at 14:00 + n*120 + 9:20: n=0 14:09:20 (too early), n=1 14:11:20,
    reaching Sé 14:00 + 120 + 22:24 = 14:24:24. Santa Cruz is outside the OSM extract
    (south of -23.5954), so the origin stop is not linked to any street.
    """
    r = sao_paulo.plan("stop:spo:18856", "stop:spo:19000", "2019-05-13 14:10")
    assert golden_texts(r) == [
        "Santa Cruz (spo:18856) ~ SUBWAY METRÔ L1 14:11 14:24 ~ Sé (spo:19000) [14:11 14:24 0tx]"
    ]
    leg = r.itineraries[0].legs[0]
    window_start, n, headway = sao_paulo.at("2019-05-13 14:00"), 1, 120
    santa_cruz, se = 9 * 60 + 20, 22 * 60 + 24  # template offsets from its first stop (04:00:00)
    assert leg.trip_id == "spo:METRÔ L1-0"
    assert leg.start_time == window_start + dt.timedelta(seconds=n * headway + santa_cruz)
    assert leg.end_time == window_start + dt.timedelta(seconds=n * headway + se)
    first = sao_paulo.feeds["spo"].first_ride("18856", "19000", sao_paulo.at("2019-05-13 14:10"))
    assert (leg.start_time, leg.end_time) == (first.departure, first.arrival)


def test_sao_paulo_place_outside_the_street_extract_walks_a_straight_line(sao_paulo: City) -> None:
    """From (-23.6460, -46.6420), 99 m from Jabaquara (18852), both south of the OSM extract:
    no street to snap to, so the access walk is the straight line x the engine's detour factor
    (99.1 m x 1.3 = 128.8 m, 97 s at 1.33 m/s). Query 14:05:30: at Jabaquara >= 14:07:07;
    L1-0 runs leave Jabaquara (template offset 0) at 14:00 + n*120: n=4, 14:08:00, Sé
    +22:24 = 14:30:24. The walk then ends at the boarding time (leaves 14:06:23)."""
    r = sao_paulo.plan("-23.6460,-46.6420", "stop:spo:19000", "2019-05-13 14:05:30")
    assert golden_texts(r) == [
        "Origin ~ Walk 2m ~ Jabaquara (spo:18852) ~ SUBWAY METRÔ L1 14:08 14:30 ~ Sé (spo:19000) [14:06 14:30 0tx]"
    ]
    walk, ride = r.itineraries[0].legs
    straight = haversine_m(-23.6460, -46.6420, walk.to_place.lat, walk.to_place.lon)
    assert walk.distance_m == pytest.approx(straight * DETOUR, rel=1e-3)
    assert (walk.end_time - walk.start_time).total_seconds() == pytest.approx(
        straight * DETOUR / EngineOptions().walk_mps, abs=1.0
    )
    assert ride.start_time == sao_paulo.at("2019-05-13 14:08")
    assert ride.end_time == sao_paulo.at("2019-05-13 14:30:24")


def test_sao_paulo_boards_the_frequency_bus_at_the_origin(sao_paulo: City) -> None:
    """14:10 from 270016954 (Av. Prof. Abraão De Morais, 2173; 4491-10-0 seq 10, template
    07:14:24) to 330016883 (seq 27, 07:41:36); 14:00-14:59 every 1200 s: the 14:00 run passes
    at 14:14:24 and arrives 14:41:36. The engine walks 589 m from 14:10:12 to seq 12 to
    board the same run at 14:17:36 instead of waiting at the origin."""
    r = sao_paulo.plan("stop:spo:270016954", "stop:spo:330016883", "2019-05-13 14:10")
    assert golden_texts(r) == [
        "Av. Prof. Abraão De Morais, 2173 (spo:270016954) ~ BUS 4491-10 14:14 14:41"
        " ~ Av. Ricardo Jafet, 99 (spo:330016883) [14:14 14:41 0tx]"
    ]


# -- the defect on two-line text timetables (no shared data needed) ---------------------------


def test_text_access_does_not_walk_to_a_later_stop_of_the_same_trip() -> None:
    feed = parse("route R1 bus: A 10:00 B 10:10 C 10:20")
    journeys = feed.search({"A": 0, "B": 1500}, "C", "09:30")  # at A at once, or 25 min walk to B
    assert feed.texts(journeys) == ["A ~ BUS R1 10:00 10:20 ~ C [10:00 10:20 0tx]"]


def test_text_transfer_does_not_walk_to_a_later_stop_of_the_same_trip() -> None:
    feed = parse("""
        route R1 bus: X 09:00 A 09:50
        route R2 bus: B 10:00 C 10:10 D 10:20
        walk A B 60
        walk A C 500
    """)
    assert feed.texts(feed.search("X", "D", "08:50")) == [
        "X ~ BUS R1 09:00 09:50 ~ A ~ Walk 1m ~ B ~ BUS R2 10:00 10:20 ~ D [09:00 10:20 1tx]"
    ]


# -- the feed check itself -------------------------------------------------------------------


def test_the_feed_check_catches_legs_off_the_timetable(portland: City) -> None:
    """The check every test above relies on flags a ride a minute late, a ride on a day its
    trip does not run, another trip's id, overlapping legs and a walk at 40 m/s."""
    it = portland.plan("stop:trimet:8373", "stop:trimet:12881", "2021-11-10 13:20").itineraries[0]
    first, walk, last = it.legs
    minute = dt.timedelta(minutes=1)
    broken = [
        replace(it, legs=(replace(first, end_time=first.end_time + minute), walk, last)),
        replace(it, legs=(replace(first, service_date=dt.date(2021, 11, 13)), walk, last)),
        replace(it, legs=(replace(first, trip_id="trimet:11134613"), walk, last)),
        replace(it, legs=(first, replace(walk, start_time=first.end_time - minute), last)),
        replace(it, legs=(first, replace(walk, end_time=walk.start_time + dt.timedelta(seconds=1)), last)),
    ]
    assert itinerary_problems(it, portland.feeds) == []
    for bad in broken:
        assert itinerary_problems(bad, portland.feeds) != [], golden_text(bad)


# -- bad requests: a reason, not an exception ---------------------------------------------


def test_unknown_stop_gives_reason_unknown_stop(portland: City) -> None:
    for origin, destination in [
        ("stop:trimet:no-such-stop", "stop:trimet:8373"),
        ("stop:trimet:8373", "stop:nofeed:8373"),
    ]:
        r = portland.plan(origin, destination, "2021-11-10 10:00")
        assert (r.itineraries, r.reason) == ((), "unknown_stop")


@pytest.mark.parametrize("city_name", ["portland", "sao_paulo"])
def test_coordinates_far_outside_coverage(city_name: str, request: pytest.FixtureRequest) -> None:
    city: City = request.getfixturevalue(city_name)
    day = "2021-11-10 10:00" if city_name == "portland" else "2019-05-13 14:00"
    for origin, destination in [
        ("0,0", "stop:trimet:8373" if city_name == "portland" else "stop:spo:19000"),
        ("stop:trimet:8373" if city_name == "portland" else "stop:spo:19000", "0,0"),
    ]:
        r = city.plan(origin, destination, day)
        assert (r.itineraries, r.reason) == ((), "outside_coverage")


def test_date_without_service_gives_reason_no_service_on_date(portland: City) -> None:
    """trimet-2routes has service 2021-10-17 .. 2022-01-08 only (calendar_dates.txt)."""
    assert not any(
        portland.feeds["trimet"].runs_on(t, dt.date(2023, 6, 1)) for t in portland.feeds["trimet"].trips
    )
    r = portland.plan("stop:trimet:8373", "stop:trimet:12881", "2023-06-01 10:00")
    assert (r.itineraries, r.reason) == ((), "no_service_on_date")
    r = portland.plan(
        "45.5189,-122.6785", "45.5300,-122.6570", "2023-06-01 10:00", modes=frozenset({"transit"})
    )
    assert (r.itineraries, r.reason) == ((), "no_service_on_date")


def test_a_time_without_offset_is_the_one_bad_request_that_raises() -> None:
    with pytest.raises(BadRequest) as e:
        PlanRequest(
            Place(stop_id="trimet:8373"), Place(stop_id="trimet:12881"), dt.datetime(2021, 11, 10, 10)
        )
    assert e.value.field == "time"
