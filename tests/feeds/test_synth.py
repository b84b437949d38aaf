"""feeds.synth: the synthetic city is deterministic and its four feeds fit together."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import gtfs_kit as gk
import numpy as np
import pandas as pd
import pytest

from feeds.model import StreetNetwork
from feeds.osm import load_osm
from feeds.synth import SynthCity, synth_city

STOPS = 60
ROUTES = 6


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SynthCity:
    return synth_city(tmp_path_factory.mktemp("city"), stops=STOPS, routes=ROUTES, seed=7)


@pytest.fixture(scope="module")
def feed(city: SynthCity) -> gk.Feed:
    return gk.read_feed(city.gtfs, dist_units="m")


@pytest.fixture(scope="module")
def streets(city: SynthCity) -> StreetNetwork:
    return load_osm(city.osm)


def _seconds(values: pd.Series) -> np.ndarray:
    parts = values.str.split(":", expand=True).astype(int)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()


def test_same_seed_gives_identical_files(city: SynthCity, tmp_path: Path) -> None:
    again = synth_city(tmp_path / "again", stops=STOPS, routes=ROUTES, seed=7)
    first, second = _digests(city.gtfs.parent), _digests(again.gtfs.parent)
    assert len(first) >= 20 and first == second
    other = synth_city(tmp_path / "other", stops=STOPS, routes=ROUTES, seed=8)
    assert _digests(other.gtfs.parent)["synth.zip"] != first["synth.zip"]


def test_layout_of_outputs(city: SynthCity) -> None:
    root = city.gtfs.parent
    assert (city.gtfs.name, city.osm.name) == ("synth.zip", "streets.osm.pbf")
    assert city.gbfs == root / "gbfs" and city.gofs == root / "gofs"
    west, south, east, north = city.bbox
    assert west < city.center[1] < east and south < city.center[0] < north
    assert (city.start_date, city.end_date) == (dt.date(2026, 1, 5), dt.date(2026, 2, 1))


def test_gtfs_reads_with_gtfs_kit_and_has_the_requested_size(city: SynthCity, feed: gk.Feed) -> None:
    assert len(feed.stops) == STOPS
    assert len(feed.routes) == ROUTES
    assert feed.feed_info["feed_id"].tolist() == ["synth"]
    assert feed.agency["agency_timezone"].unique().tolist() == ["Europe/Rome"]
    assert set(feed.routes["route_type"]) == {0, 1, 3}  # tram, metro, bus
    assert feed.stops["stop_name"][feed.stops["location_type"].fillna(0) == 0].str.contains(" / ").any()


def test_stops_parent_stations_and_wheelchair_flags(feed: gk.Feed) -> None:
    stops = feed.stops
    stations = stops[stops["location_type"] == 1]
    assert len(stations) >= 3
    platforms = stops[stops["parent_station"].notna()]
    assert set(platforms["parent_station"]) == set(stations["stop_id"])
    assert (platforms["location_type"].fillna(0) == 0).all()
    assert set(stops["wheelchair_boarding"].dropna().astype(int)) >= {1, 2}
    # the metro calls only at platforms
    metro_trips = feed.trips[feed.trips["route_id"] == "M1"]["trip_id"]
    called = feed.stop_times[feed.stop_times["trip_id"].isin(metro_trips)]["stop_id"]
    assert set(called) == set(platforms["stop_id"])
    bus_stops = stops[stops["location_type"].fillna(0) == 0]["stop_name"]
    assert bus_stops[~bus_stops.str.startswith("Piazza")].is_unique


def test_frequencies_calendars_and_times_past_midnight(feed: gk.Feed) -> None:
    assert set(feed.frequencies["exact_times"]) == {0, 1}
    assert feed.frequencies["headway_secs"].between(300, 1200).all()
    dates = feed.calendar_dates
    assert set(dates["exception_type"]) == {1, 2}
    holiday = dates[dates["exception_type"] == 2]["date"].iloc[0]
    assert set(dates[dates["date"] == holiday]["service_id"]) == {"WD", "WE"}
    assert "EV" not in set(feed.calendar["service_id"])  # calendar_dates-only service
    departures = _seconds(feed.stop_times["departure_time"])
    assert departures.max() > 25 * 3600
    assert departures.min() < 6 * 3600


def test_timetables_are_consistent(feed: gk.Feed) -> None:
    st = feed.stop_times.sort_values(["trip_id", "stop_sequence"])
    arrival, departure = _seconds(st["arrival_time"]), _seconds(st["departure_time"])
    same_trip = st["trip_id"].to_numpy()[1:] == st["trip_id"].to_numpy()[:-1]
    assert (arrival <= departure).all()
    assert (departure[:-1][same_trip] < arrival[1:][same_trip]).all()
    dist = st["shape_dist_traveled"].to_numpy()
    assert (dist[1:][same_trip] > dist[:-1][same_trip]).all()
    assert set(feed.trips["shape_id"]) <= set(feed.shapes["shape_id"])

    # scheduled headways of the regular trips stay within 5-20 minutes
    first = st.groupby("trip_id").first().join(feed.trips.set_index("trip_id"))
    regular = first[~first.index.str.contains(r"X\.|\.EV\.|\.F$", regex=True)]
    for _, group in regular.groupby(["route_id", "service_id", "direction_id"]):
        gaps = np.diff(np.sort(_seconds(group["departure_time"])))
        assert gaps.size > 20 and gaps.min() >= 300 and gaps.max() <= 1200


def test_express_variant_skips_stops(feed: gk.Feed) -> None:
    counts = feed.stop_times.groupby("trip_id").size()
    trips = feed.trips.set_index("trip_id")
    express = trips[trips["trip_headsign"].str.endswith("(Express)")]
    assert len(express) > 0
    route = express["route_id"].iloc[0]
    local = trips[(trips["route_id"] == route) & ~trips.index.isin(express.index)]
    assert counts[express.index].max() < counts[local.index].min()


def test_osm_loads_and_has_one_way_and_foot_only_streets(streets: StreetNetwork) -> None:
    assert streets.n_nodes > 100
    flags = streets.flags
    assert ((flags & StreetNetwork.CAR) != 0).any()
    assert (flags == StreetNetwork.WALK).any()  # footways, pedestrian street, oneway backwards
    assert any(name.startswith("Viale ") for name in streets.names)
    # oneway: some edge's reverse edge lacks the car flag
    source = np.repeat(np.arange(streets.n_nodes), np.diff(streets.offset))
    car = {
        (int(u), int(v))
        for u, v, f in zip(source, streets.target, flags, strict=True)
        if f & StreetNetwork.CAR
    }
    assert any((v, u) not in car for u, v in car)


def test_every_stop_and_shape_point_is_near_a_street_node(
    city: SynthCity, feed: gk.Feed, streets: StreetNetwork
) -> None:
    def nearest_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        dy = (lat[:, None] - streets.lat[None, :]) * 111_195.0
        dx = (lon[:, None] - streets.lon[None, :]) * 111_195.0 * math.cos(math.radians(city.center[0]))
        return np.sqrt(dx * dx + dy * dy).min(axis=1)

    assert nearest_m(feed.stops["stop_lat"].to_numpy(), feed.stops["stop_lon"].to_numpy()).max() <= 150.0
    shapes = feed.shapes
    assert nearest_m(shapes["shape_pt_lat"].to_numpy(), shapes["shape_pt_lon"].to_numpy()).max() <= 1.0


def test_gbfs_files(city: SynthCity) -> None:
    docs = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in city.gbfs.glob("*.json")}
    assert set(docs) == {
        "gbfs",
        "system_information",
        "station_information",
        "station_status",
        "free_bike_status",
        "vehicle_types",
        "system_pricing_plans",
    }
    assert {doc["version"] for doc in docs.values()} == {"2.3"}
    listed = {feed["name"] for feed in docs["gbfs"]["data"]["en"]["feeds"]}
    assert listed == set(docs) - {"gbfs"}
    west, south, east, north = city.bbox
    stations = docs["station_information"]["data"]["stations"]
    assert stations and all(south < s["lat"] < north and west < s["lon"] < east for s in stations)
    status = docs["station_status"]["data"]["stations"]
    assert [s["station_id"] for s in status] == [s["station_id"] for s in stations]
    for info, state in zip(stations, status, strict=True):
        assert state["num_bikes_available"] + state["num_docks_available"] == info["capacity"]
    types = {t["vehicle_type_id"]: t for t in docs["vehicle_types"]["data"]["vehicle_types"]}
    assert {t["form_factor"] for t in types.values()} == {"bicycle", "scooter_standing"}
    plans = {p["plan_id"]: p for p in docs["system_pricing_plans"]["data"]["plans"]}
    assert all(p["price"] > 0 and p["per_min_pricing"] for p in plans.values())
    bikes = docs["free_bike_status"]["data"]["bikes"]
    assert bikes and all(b["vehicle_type_id"] in types and b["pricing_plan_id"] in plans for b in bikes)


def test_gofs_files(city: SynthCity) -> None:
    docs = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in city.gofs.glob("*.json")}
    assert {"gofs", "system_information", "zones", "operating_rules", "calendars", "fares"} <= set(docs)
    assert {doc["version"] for doc in docs.values()} == {"1.0"}
    assert docs["system_information"]["data"]["timezone"] == "Europe/Rome"
    (zone,) = docs["zones"]["data"]["zones"]["features"]
    ring = zone["geometry"]["coordinates"][0]
    assert zone["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) >= 4
    calendars = {c["calendar_id"] for c in docs["calendars"]["data"]["calendars"]}
    fares = {f["fare_id"] for f in docs["fares"]["data"]["fares"]}
    for rule in docs["operating_rules"]["data"]["operating_rules"]:
        assert rule["from_zone_id"] == zone["zone_id"] == rule["to_zone_id"]
        assert set(rule["calendars"]) <= calendars and rule["fare_id"] in fares


@pytest.mark.parametrize("stops", [5, 31, 140])
def test_other_sizes_have_exactly_the_requested_stops(tmp_path: Path, stops: int) -> None:
    small = synth_city(tmp_path, stops=stops, seed=3, days=3)
    feed = gk.read_feed(small.gtfs, dist_units="m")
    assert len(feed.stops) == stops
    assert len(feed.routes) == max(1, round(stops / 25))
    assert set(feed.stop_times["stop_id"]) == set(
        feed.stops["stop_id"][feed.stops["location_type"].fillna(0) == 0]
    )
    assert set(feed.frequencies["exact_times"]) == {0, 1}
    assert load_osm(small.osm).n_nodes > 0


def test_rejects_impossible_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stops"):
        synth_city(tmp_path, stops=4)
    with pytest.raises(ValueError, match="routes"):
        synth_city(tmp_path, stops=50, routes=0)
    with pytest.raises(ValueError, match="days"):
        synth_city(tmp_path, stops=50, days=0)
