"""r5py result frames -> itineraries and travel-time arrays (routing.r5.convert), on recorded frames.

Schema source: r5py 1.1.7 (the wheel's source; no R5 can run here, see routing/r5/config.py):
- DetailedItineraries.COLUMNS = ["from_id", "to_id", "option"] + Trip.COLUMNS
  (r5py/r5/detailed_itineraries.py), Trip.COLUMNS = ["segment"] + TripLeg.COLUMNS
  (r5py/r5/trip.py), TripLeg.COLUMNS = transport_mode, departure_time, distance, travel_time,
  wait_time, feed, agency_id, route_id, start_stop_id, end_stop_id, geometry
  (r5py/r5/trip_leg.py); value semantics from TripPlanner.transit_paths
  (r5py/r5/trip_planner.py): naive local departure times (midnight of the request date +
  R5 seconds), NaT on street-only trips, egress leaving one minute after alighting, stop
  and route ids of the feed, ``feed`` = R5's feed id; and the user manual's column table
  (docs/user-guide/user-manual/detailed-itineraries.md).
- TravelTimeMatrix: from_id, to_id, travel_time (minutes, NaN unreachable) or
  travel_time_p{N} per percentile (r5py/r5/travel_time_matrix.py, _parse_results).

The fixtures under fixtures/r5/ are these frames as ``DataFrame.to_csv`` writes them
(``TransportMode.WALK``, ``0 days 00:03:23``, WKT geometry). They were not produced by an R5
run (impossible on this machine); they were constructed with r5py's schema and semantics
from real rows of the Portland feed (shared/data/portland/trimet-2routes.zip, service day
2021-12-02): MAX Green Line trips 11134236 and 11134238, Portland Streetcar NS trip 11133396,
their real stop ids and times. ``load_itineraries`` turns the CSV back into r5py's dtypes.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import shapely

from routing.errors import BadRequest, EngineUnavailable
from routing.plan import Itinerary, LegPlace, RouteInfo
from routing.polyline import decode
from routing.r5.convert import (
    ITINERARY_COLUMNS,
    ConvertContext,
    itineraries,
    leg_mode,
    pareto,
    percentile_columns,
    travel_time_matrix,
)
from routing.r5.engine import as_zip, r5_feed_name, r5_modes
from tests.routing.r5_frames import FIXTURES, TransportMode, load_itineraries

ZONE = ZoneInfo("America/Los_Angeles")
ANCHOR = dt.datetime(2021, 12, 2, 7, 55, tzinfo=ZONE)
ORIGIN = LegPlace("Origin", 45.5125, -122.6850)
DEST = LegPlace("Destination", 45.5312, -122.6530)


# Stops and routes of trimet-2routes.zip (stops.txt, routes.txt, agency.txt), under feed id "trimet"
STOPS = {
    "7774": ("PSU Urban Center/SW 6th & Montgomery MAX Stn", 45.511597, -122.68255),
    "8343": ("Lloyd Center/NE 11th Ave MAX Station", 45.530067, -122.653638),
    "10764": ("PSU Urban Center", 45.51222, -122.682078),
    "10772": ("NW 10th & Glisan", 45.526446, -122.68118),
    "7763": ("Union Station/NW 6th & Hoyt MAX Stn", 45.527222, -122.676517),
}
ROUTES = {
    "200": RouteInfo("trimet:200", "", "MAX Green Line", 0, "008852", "TriMet"),
    "193": RouteInfo("trimet:193", "", "Portland Streetcar - NS Line", 0, "84BD00", "Portland Streetcar"),
}


def stub_context(feed_ids: dict[str, str] | None = None) -> ConvertContext:
    def stop(sid: str) -> LegPlace | None:
        feed, _, local = sid.partition(":")
        if feed != "trimet" or local not in STOPS:
            return None
        name, lat, lon = STOPS[local]
        return LegPlace(name, lat, lon, sid)

    def route(rid: str) -> tuple[RouteInfo, str] | None:
        feed, _, local = rid.partition(":")
        return (ROUTES[local], "tram") if feed == "trimet" and local in ROUTES else None

    return ConvertContext("America/Los_Angeles", feed_ids or {"trimet-2routes": "trimet"}, stop, route)


def path_string(it: Itinerary) -> str:
    """OTP-style golden path: ``Walk 3m ~ STOP ~ TRAM 200 08:02 08:20 ~ STOP ~ Walk 2m``."""
    parts: list[str] = []
    for leg in it.legs:
        if leg.route is None:
            minutes = round((leg.end_time - leg.start_time).total_seconds() / 60)
            parts.append(f"Walk {minutes}m" if leg.mode == "walk" else f"{leg.mode} {minutes}m")
        else:
            parts.append(f"{leg.from_place.stop_id} ~ {leg.mode.upper()} {leg.route.id} "
                         f"{leg.start_time:%H:%M:%S} {leg.end_time:%H:%M:%S} ~ {leg.to_place.stop_id}")
    return " ~ ".join(parts)


# -- the recorded frame --------------------------------------------------------------------------


def test_fixture_has_exactly_r5py_detailed_itineraries_columns() -> None:
    assert tuple(load_itineraries().columns) == ITINERARY_COLUMNS


def test_options_become_itineraries_in_option_order() -> None:
    its = itineraries(load_itineraries(), stub_context(), origin=ORIGIN, destination=DEST, anchor=ANCHOR)
    assert [path_string(it) for it in its] == [
        "Walk 51m",
        "Walk 3m ~ trimet:7774 ~ TRAM trimet:200 08:02:35 08:20:30 ~ trimet:8343 ~ Walk 2m",
        "Walk 4m ~ trimet:10764 ~ TRAM trimet:193 08:15:00 08:28:00 ~ trimet:10772 ~ Walk 6m"
        " ~ trimet:7763 ~ TRAM trimet:200 08:41:35 08:50:30 ~ trimet:8343 ~ Walk 2m",
        "Walk 3m ~ trimet:7774 ~ TRAM trimet:200 08:02:35 08:20:30 ~ trimet:8343 ~ Walk 2m",
    ]
    assert [it.transfers for it in its] == [0, 0, 1, 0]


def test_times_are_local_to_the_graph_and_follow_r5py_semantics() -> None:
    frame = load_itineraries()
    walk_only, max_green = itineraries(frame, stub_context(), origin=ORIGIN, destination=DEST, anchor=ANCHOR)[:2]
    # a street-only option (departure_time NaT) starts at the request's time
    assert walk_only.start_time == ANCHOR
    assert walk_only.duration_s == int(pd.Timedelta(frame["travel_time"].iloc[0]).total_seconds())
    access, ride, egress = max_green.legs
    assert ride.start_time == dt.datetime(2021, 12, 2, 8, 2, 35, tzinfo=ZONE)
    assert ride.start_time.utcoffset() == dt.timedelta(hours=-8)  # PST on 2021-12-02
    # the access walk arrives before boarding (r5py's wait_time is the gap), egress leaves a minute after alighting
    wait = pd.Timedelta(frame["wait_time"].iloc[2]).total_seconds()
    assert (ride.start_time - access.end_time).total_seconds() == wait
    assert egress.start_time - ride.end_time == dt.timedelta(minutes=1)
    assert ride.service_date == dt.date(2021, 12, 2)
    assert access.service_date is None


def test_stops_routes_and_places_are_resolved_and_namespaced() -> None:
    its = itineraries(load_itineraries(), stub_context(), origin=ORIGIN, destination=DEST, anchor=ANCHOR)
    access, ride, egress = its[1].legs
    assert access.from_place == ORIGIN
    assert access.to_place == ride.from_place
    assert ride.from_place.stop_id == "trimet:7774"
    assert ride.from_place.name == STOPS["7774"][0]
    assert ride.to_place.stop_id == "trimet:8343"
    assert egress.from_place == ride.to_place
    assert egress.to_place == DEST
    assert ride.route == ROUTES["200"]
    assert ride.mode == "tram"
    # a transfer walk joins the two stops
    transfer = its[2].legs[2]
    assert (transfer.from_place.stop_id, transfer.to_place.stop_id) == ("trimet:10772", "trimet:7763")


def test_distances_and_geometry_come_from_the_frame() -> None:
    frame = load_itineraries()
    its = itineraries(frame, stub_context(), origin=ORIGIN, destination=DEST, anchor=ANCHOR)
    rows = frame[frame["option"] == 1].sort_values("segment")
    for leg, (_, row) in zip(its[1].legs, rows.iterrows(), strict=True):
        assert leg.distance_m == pytest.approx(row["distance"])
        lats, lons = decode(leg.polyline, leg.precision)
        xs, ys = row["geometry"].xy
        np.testing.assert_allclose(lats, ys, atol=1e-5)
        np.testing.assert_allclose(lons, xs, atol=1e-5)
    walks = rows[[m.name == "WALK" for m in rows["transport_mode"]]]
    assert its[1].walk_distance_m == pytest.approx(walks["distance"].sum())


def test_missing_distance_is_measured_on_the_geometry() -> None:
    frame = load_itineraries()
    frame = frame[frame["option"] == 1].copy()
    frame["distance"] = np.nan
    ride = itineraries(frame, stub_context(), origin=ORIGIN, destination=DEST, anchor=ANCHOR)[0].legs[1]
    # 9 hops along SW 6th Ave and across the river: the straight hops measure ~ 3.6 km
    lats, _ = decode(ride.polyline)
    assert lats.size == 10
    assert 3000.0 < ride.distance_m < 4500.0


def test_pareto_keeps_the_set_a_rider_wants() -> None:
    its = itineraries(load_itineraries(), stub_context(), origin=ORIGIN, destination=DEST, anchor=ANCHOR)
    kept = pareto(its)
    # option 3 (same ride, left a minute earlier) and the 51-minute walk are dominated by option 1
    assert kept == [its[1], its[2]]
    assert kept == sorted(kept, key=lambda it: it.end_time)
    by_departure = pareto(its, arrive_by=True)
    assert by_departure == [its[2], its[1]]
    assert pareto(its + its) == kept  # duplicates collapse


def test_arrive_by_street_trip_ends_at_the_anchor() -> None:
    frame = load_itineraries()
    frame = frame[frame["option"] == 0]
    (walk,) = itineraries(frame, stub_context(), origin=ORIGIN, destination=DEST, anchor=ANCHOR, arrive_by=True)
    assert walk.end_time == ANCHOR
    assert walk.start_time == ANCHOR - frame["travel_time"].iloc[0]


def test_untimed_leading_legs_end_where_the_first_timed_leg_starts() -> None:
    frame = load_itineraries()
    frame = frame[frame["option"] == 1].copy()
    frame["departure_time"] = frame["departure_time"].where(frame["segment"] == 1)  # only the ride keeps its time
    access, ride, egress = itineraries(frame, stub_context(), origin=ORIGIN, destination=DEST, anchor=ANCHOR)[0].legs
    assert access.end_time == ride.start_time
    assert egress.start_time == ride.end_time


def test_feed_names_map_to_artifact_feed_ids() -> None:
    frame = load_itineraries()
    frame = frame[frame["option"] == 1]
    two_feeds = stub_context({"trimet-2routes": "trimet", "other": "other"})
    ride = itineraries(frame, two_feeds, origin=ORIGIN, destination=DEST, anchor=ANCHOR)[0].legs[1]
    assert ride.route is not None and ride.route.id == "trimet:200"
    # R5 named the feed differently and several feeds exist: the name is kept, nothing resolves
    unknown = stub_context({"a": "a", "b": "b"})
    ride = itineraries(frame, unknown, origin=ORIGIN, destination=DEST, anchor=ANCHOR)[0].legs[1]
    assert ride.route is not None and ride.route.id == "trimet-2routes:200"
    assert ride.route.agency == "TRIMET"
    # the stop is unknown to the graph: its place comes from the geometry's end points
    assert ride.from_place.stop_id == "trimet-2routes:7774"
    assert (ride.from_place.lat, ride.from_place.lon) == pytest.approx(STOPS["7774"][1:])
    # a single feed cannot be anything else
    single = stub_context({"whatever": "trimet"})
    ride = itineraries(frame, single, origin=ORIGIN, destination=DEST, anchor=ANCHOR)[0].legs[1]
    assert ride.route == ROUTES["200"]


def test_origin_equal_to_destination_placeholder_is_no_itinerary() -> None:
    # r5py's TripPlanner answers identical points with a zero TransitLeg(TRANSIT) without route
    frame = pd.DataFrame([{
        "from_id": "o0", "to_id": "d0", "option": 0, "segment": 0, "transport_mode": TransportMode.TRANSIT,
        "departure_time": pd.NaT, "distance": 0.0, "travel_time": dt.timedelta(0), "wait_time": dt.timedelta(0),
        "feed": None, "agency_id": None, "route_id": None, "start_stop_id": None, "end_stop_id": None,
        "geometry": shapely.LineString([(-122.68, 45.51), (-122.68, 45.51)]),
    }])
    assert itineraries(frame, stub_context(), origin=ORIGIN, destination=ORIGIN, anchor=ANCHOR) == []


def test_empty_frame_and_schema_drift() -> None:
    empty = pd.DataFrame({c: [] for c in ITINERARY_COLUMNS})
    assert itineraries(empty, stub_context(), origin=ORIGIN, destination=DEST, anchor=ANCHOR) == []
    with pytest.raises(EngineUnavailable, match="start_stop_id"):
        itineraries(load_itineraries().drop(columns=["start_stop_id"]), stub_context(),
                    origin=ORIGIN, destination=DEST, anchor=ANCHOR)


@pytest.mark.parametrize(
    ("value", "mode"),
    [(TransportMode.WALK, "walk"), (TransportMode.BICYCLE, "bike"), ("TransportMode.CAR", "car"),
     ("BUS", "bus"), (TransportMode.SUBWAY, "subway"), (TransportMode.RAIL, "rail"),
     (TransportMode.FERRY, "ferry"), ("tram", "tram")],
)
def test_r5_modes_map_to_leg_modes(value: object, mode: str) -> None:
    assert leg_mode(value) == mode


def test_unknown_r5_mode_is_reported() -> None:
    with pytest.raises(EngineUnavailable, match="HOVERCRAFT"):
        leg_mode("HOVERCRAFT")


# -- request modes -> r5py ---------------------------------------------------------------------------


def test_request_modes_become_r5py_modes() -> None:
    assert r5_modes(frozenset({"walk", "transit"})) == (["TRANSIT", "WALK"], ["WALK"])
    assert r5_modes(frozenset({"walk", "tram", "bus"})) == (["BUS", "TRAM", "WALK"], ["WALK"])
    assert r5_modes(frozenset({"bike", "transit"})) == (["TRANSIT", "BICYCLE"], ["WALK", "BICYCLE"])
    assert r5_modes(frozenset({"car"})) == (["CAR"], [])
    with pytest.raises(BadRequest, match="bikeshare") as e:
        r5_modes(frozenset({"walk", "bikeshare"}))
    assert e.value.field == "modes"


# -- travel-time matrices ------------------------------------------------------------------------------


def test_median_matrix_in_seconds_with_nan_for_unreachable() -> None:
    frame = pd.read_csv(FIXTURES / "travel_time_matrix.csv")
    m = travel_time_matrix(frame, ["o0", "o1"], ["d0", "d1", "d2"])
    assert m.shape == (1, 2, 3)
    for row in frame.itertuples():
        i, j = int(str(row.from_id)[1:]), int(str(row.to_id)[1:])
        expected = float(row.travel_time) * 60.0  # type: ignore[arg-type]
        if np.isnan(expected):
            assert np.isnan(m[0, i, j])
        else:
            assert m[0, i, j] == expected


def test_percentile_matrix_order_independent() -> None:
    frame = pd.read_csv(FIXTURES / "travel_time_matrix_percentiles.csv")
    m = travel_time_matrix(frame, ["o0", "o1"], ["d0", "d1", "d2"], (25, 50, 75))
    shuffled = travel_time_matrix(frame.sample(frac=1.0, random_state=3), ["o0", "o1"], ["d0", "d1", "d2"],
                                  (25, 50, 75))
    np.testing.assert_array_equal(m, shuffled)
    assert m.shape == (3, 2, 3)
    assert m[1, 0, 1] == 41.0 * 60.0
    assert np.isnan(m[2, 0, 1]) and not np.isnan(m[0, 0, 1])
    assert np.all(np.isnan(m[:, 0, 2]))
    finite = np.isfinite(m).all(axis=0)
    assert np.all(np.diff(m[:, finite], axis=0) >= 0)  # percentiles are ordered
    # an origin/destination the caller did not ask about is left out, a missing row stays NaN
    partial = travel_time_matrix(frame[frame["to_id"] != "d1"], ["o1"], ["d1", "d2"], (25, 50, 75))
    assert np.all(np.isnan(partial[:, 0, 0])) and partial[0, 0, 1] == 52.0 * 60.0


def test_percentile_column_names() -> None:
    frame = pd.DataFrame(columns=["from_id", "to_id", "travel_time_p05", "travel_time_p50"])
    assert percentile_columns(frame, (5, 50)) == ["travel_time_p05", "travel_time_p50"]
    with pytest.raises(EngineUnavailable, match="travel_time_p75"):
        percentile_columns(frame, (75,))
    median_only = pd.DataFrame(columns=["from_id", "to_id", "travel_time"])
    assert percentile_columns(median_only, (50,)) == ["travel_time"]


# -- against a real artifact ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portland_graph(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], object]:
    from routing.build import build_graph
    from routing.graph import Graph

    out = tmp_path_factory.mktemp("r5") / "portland"
    build_graph([shared_data / "portland" / "trimet-2routes.zip"],
                osm=shared_data / "portland" / "portland-central-filtered.osm.pbf", out=out)
    graph = Graph.load(out)
    return lambda: graph


@pytest.mark.shared_data
def test_frame_resolved_against_the_portland_artifact(portland_graph: Callable[[], object],
                                                      shared_data: Path) -> None:
    from routing.graph import Graph
    from routing.r5.engine import context_for, sources_for

    graph = portland_graph()
    assert isinstance(graph, Graph)
    sources = sources_for(graph)
    assert sources.osm == (shared_data / "portland" / "portland-central-filtered.osm.pbf").resolve()
    ((feed_id, zip_path),) = sources.gtfs
    assert zip_path == (shared_data / "portland" / "trimet-2routes.zip").resolve()
    # no feed_info.feed_id: R5 names the feed after the file, as the artifact does
    ctx = context_for(graph, {r5_feed_name(zip_path): feed_id})
    its = itineraries(load_itineraries(), ctx, origin=ORIGIN, destination=DEST, anchor=ANCHOR)
    ride = its[1].legs[1]
    assert ride.route is not None
    assert (ride.route.id, ride.route.long_name, ride.route.agency, ride.route.color) == (
        f"{feed_id}:200", "MAX Green Line", "TriMet", "008852")
    assert ride.mode == graph.route_mode([r["id"] for r in graph.routes].index(f"{feed_id}:200"))
    assert ride.from_place.name == "PSU Urban Center/SW 6th & Montgomery MAX Stn"
    streetcar = its[2].legs[1]
    assert streetcar.route is not None and streetcar.route.agency == "Portland Streetcar"
    assert streetcar.to_place.name == "NW 10th & Glisan"


@pytest.mark.shared_data
def test_sources_must_match_what_the_artifact_was_built_from(shared_data: Path, tmp_path: Path) -> None:
    from routing.build import build_graph
    from routing.graph import Graph
    from routing.r5.engine import sources_for

    gtfs = tmp_path / "trimet-2routes.zip"
    shutil.copy(shared_data / "portland" / "trimet-2routes.zip", gtfs)
    build_graph([("tm", gtfs)], out=tmp_path / "g")  # no OSM
    graph = Graph.load(tmp_path / "g")
    with pytest.raises(EngineUnavailable, match="OSM"):
        sources_for(graph)
    osm = shared_data / "portland" / "portland-central-filtered.osm.pbf"
    assert sources_for(graph, osm=osm).gtfs == (("tm", gtfs),)
    with gtfs.open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(EngineUnavailable, match="changed since"):
        sources_for(graph, osm=osm)
    gtfs.unlink()
    with pytest.raises(EngineUnavailable, match="gone"):
        sources_for(graph, osm=osm)


def test_r5_feed_name_follows_gtfsfeed_rules(tmp_path: Path) -> None:
    feed_dir = tmp_path / "city"
    feed_dir.mkdir()
    (feed_dir / "agency.txt").write_text("agency_name,agency_url,agency_timezone\nA,http://a,UTC\n")
    plain = as_zip("city", feed_dir, tmp_path)
    assert plain.name == "city.zip"
    assert r5_feed_name(plain) == "city"  # no feed_info: the file name without .zip
    (feed_dir / "feed_info.txt").write_text(
        "feed_publisher_name,feed_publisher_url,feed_lang,feed_id\nP,http://p,en,metro\n")
    assert r5_feed_name(as_zip("city", feed_dir, tmp_path)) == "metro"  # declared feed_id wins
