"""feeds.gbfs: every recorded system loads with the right counts, prices follow the
specification's segment rules, geofencing follows its precedence, bad feeds become
notices and the live overlay survives an unreachable source. No network: URLs are
served by httpx.MockTransport from the shared files."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from feeds.gbfs import (
    FormFactor,
    GbfsFeed,
    Geofencing,
    GeofencingRule,
    GeofencingZone,
    LiveGbfs,
    PricingPlan,
    PricingSegment,
    Propulsion,
    ZoneIndex,
    load_gbfs,
    rental_price,
    rules_at,
    rules_at_points,
)
from feeds.gbfs.load import STALE_GRACE_S
from feeds.gbfs.pricing import segment_charges
from feeds.quality import Notice, Severity
from feeds.synth import synth_city

GBFS_SYSTEMS = (
    "gbfs/v2.2_lillestrom_bysykkel",
    "gbfs/v2.3_callabike_darmstadt_trimmed",
    "gbfs/v2.3_carsharing_renningen",
    "gbfs/v2.3_tier_oslo",
    "gbfs/v3.0_check_almere",
    "gbfs/v3.0_dublinbikes",
    "gbfs/v3.0_flamingo_tauranga",
    "gbfs/v3.0_spec_examples",
    "bay_area/gbfs_baywheels",
)

# Array sizes the data README states ("GBFS file summary"), per system and file key.
README_COUNTS: dict[str, dict[str, int]] = {
    "gbfs/v2.2_lillestrom_bysykkel": {"stations": 6, "vehicle_types": 1, "plans": 2},
    "gbfs/v2.3_callabike_darmstadt_trimmed": {"stations": 1, "vehicles": 1, "vehicle_types": 1, "zones": 0},
    "gbfs/v2.3_carsharing_renningen": {"stations": 33, "vehicles": 40, "vehicle_types": 13, "plans": 10},
    "gbfs/v2.3_tier_oslo": {"zones": 2},
    "gbfs/v3.0_check_almere": {"vehicles": 6, "vehicle_types": 1, "zones": 16},
    "gbfs/v3.0_dublinbikes": {"stations": 115, "vehicle_types": 2},
    "gbfs/v3.0_flamingo_tauranga": {
        "stations": 13,
        "vehicles": 295,
        "vehicle_types": 2,
        "plans": 1,
        "zones": 126,
    },
    "gbfs/v3.0_spec_examples": {"stations": 3, "vehicles": 4, "vehicle_types": 4, "plans": 2, "zones": 1},
    "bay_area/gbfs_baywheels": {"stations": 496, "vehicles": 720},
}


def _raw_docs(folder: Path, name: str) -> list[dict[str, Any]]:
    """The file's JSON documents, read with json.load (split example files included)."""
    exact = folder / f"{name}.json"
    paths = [exact] if exact.exists() else sorted(folder.glob(f"{name}-*.json"))
    docs = []
    for p in paths:
        with p.open(encoding="utf-8") as fh:
            docs.append(json.load(fh))
    return docs


def _raw_counts(folder: Path) -> dict[str, int]:
    """Counts computed straight from the JSON, independently of the loader."""
    stations = [s for d in _raw_docs(folder, "station_information") for s in d["data"]["stations"]]
    station_ids = {s["station_id"] for s in stations}
    statuses = [s for d in _raw_docs(folder, "station_status") for s in d["data"]["stations"]]
    vehicles = [v for d in _raw_docs(folder, "free_bike_status") for v in d["data"]["bikes"]]
    vehicles += [v for d in _raw_docs(folder, "vehicle_status") for v in d["data"]["vehicles"]]
    features = [
        f for d in _raw_docs(folder, "geofencing_zones") for f in d["data"]["geofencing_zones"]["features"]
    ]
    return {
        "stations": len(station_ids),
        "statuses": sum(1 for s in statuses if s["station_id"] in station_ids),
        "vehicles_raw": len(vehicles),
        # a vehicle is placed by its own lat/lon or by the station it is parked at
        "vehicles": sum(1 for v in vehicles if "lat" in v or v.get("station_id") in station_ids),
        "vehicle_types": sum(len(d["data"]["vehicle_types"]) for d in _raw_docs(folder, "vehicle_types")),
        "plans": sum(len(d["data"]["plans"]) for d in _raw_docs(folder, "system_pricing_plans")),
        "zones_raw": len(features),
        "zones": sum(1 for f in features if f.get("geometry")),
    }


def test_every_shared_system_is_listed(shared_data: Path) -> None:
    on_disk = {f"gbfs/{p.name}" for p in (shared_data / "gbfs").iterdir() if p.is_dir()}
    assert on_disk | {"bay_area/gbfs_baywheels"} == set(GBFS_SYSTEMS)


@pytest.mark.parametrize("system", GBFS_SYSTEMS)
def test_counts_match_the_raw_json(shared_data: Path, system: str) -> None:
    folder = shared_data / system
    raw = _raw_counts(folder)
    readme = README_COUNTS[system]
    for key, value in readme.items():
        raw_key = {"vehicles": "vehicles_raw", "zones": "zones_raw"}.get(key, key)
        assert raw[raw_key] == value, f"{system}: README says {value} {key}, the JSON has {raw[raw_key]}"

    feed, status, notices = load_gbfs(folder)

    assert len(feed.stations) == raw["stations"]
    assert len(status.stations) == raw["statuses"]
    assert len(status.vehicles) == raw["vehicles"]
    assert len(feed.vehicle_types) == raw["vehicle_types"]
    assert len(feed.pricing_plans) == raw["plans"]
    assert len(feed.geofencing.zones) == raw["zones"]
    # every id is namespaced by the system
    prefix = f"{feed.id}:"
    assert all(s.id.startswith(prefix) for s in feed.stations)
    assert all(v.id.startswith(prefix) for v in status.vehicles)
    assert not [n for n in notices if n.severity is Severity.ERROR]


def test_dropped_records_are_explained(shared_data: Path) -> None:
    _, _, almere = load_gbfs(shared_data / "gbfs/v3.0_check_almere")
    assert _codes(almere)["invalid_geometry"].message.startswith("2 ")  # two features with geometry null
    _, _, spec = load_gbfs(shared_data / "gbfs/v3.0_spec_examples")
    codes = _codes(spec)
    assert codes["vehicle_without_position"].message.startswith("2 ")  # parked at station "86", not defined
    assert codes["unknown_station_id"].message.startswith("2 ")  # station1/station2 have no information
    assert "split_example_files" in codes


def _codes(notices: tuple[Notice, ...]) -> dict[str, Notice]:
    return {n.code: n for n in notices}


def test_v3_localized_texts_are_resolved(shared_data: Path) -> None:
    dublin, _, _ = load_gbfs(shared_data / "gbfs/v3.0_dublinbikes")
    assert dublin.system.name == "dublinbikes"
    assert dublin.stations_by_id["dublin:1"].name == "CLARENDON ROW"
    assert dublin.version == "3.0"

    almere_en, _, _ = load_gbfs(shared_data / "gbfs/v3.0_check_almere")
    almere_nl, _, _ = load_gbfs(shared_data / "gbfs/v3.0_check_almere", language="nl")
    assert almere_en.system.name == "Check Technologies"
    assert almere_nl.system.name == "Check Technologies (nl)"
    assert almere_en.system.languages == ("en", "nl")
    zone_names = [z.name for z in almere_en.geofencing.zones]
    assert "Almere Stad" in zone_names
    assert "Almere Stad (nl)" in [z.name for z in almere_nl.geofencing.zones]

    flamingo, _, _ = load_gbfs(shared_data / "gbfs/v3.0_flamingo_tauranga")
    plan = flamingo.pricing_plans[0]
    assert (plan.name, plan.description) == ("STANDARD", "$1 NZD to unlock, 55c per min")
    scooter = flamingo.vehicle_types_by_id["flamingo_tauranga:flamingo-scooter"]
    assert scooter.name == "Flamingo Electric Scooter"
    assert (scooter.form_factor, scooter.propulsion, scooter.max_range_m) == (
        FormFactor.SCOOTER_STANDING,
        Propulsion.ELECTRIC,
        22000.0,
    )


def test_v3_timestamps_are_rfc3339(shared_data: Path) -> None:
    _, status, _ = load_gbfs(shared_data / "gbfs/v3.0_dublinbikes")
    # station_status.json: "last_updated": "2025-10-21T04:13:19.619Z", nanosecond-free
    assert status.last_updated == dt.datetime(2025, 10, 21, 4, 13, 19, 619000, tzinfo=dt.UTC)
    clarendon = status.stations_by_id["dublin:1"]
    assert clarendon.last_reported == dt.datetime(2025, 9, 25, 15, 59, 49, tzinfo=dt.UTC)
    assert dict(clarendon.vehicles_available_by_type) == {"dublin:mechanical": 2, "dublin:electrical": 0}
    assert (clarendon.num_vehicles_available, clarendon.num_docks_available) == (2, 29)


def test_v1_style_bay_wheels(shared_data: Path) -> None:
    feed, status, notices = load_gbfs(shared_data / "bay_area/gbfs_baywheels")
    assert feed.id == "fgb"
    assert feed.system.name == "Bay Wheels"
    assert feed.system.timezone == "America/Los_Angeles"
    assert "missing_gbfs_version" in _codes(notices)
    # 0/1 integers read as booleans
    raw = _raw_docs(shared_data / "bay_area/gbfs_baywheels", "station_status")[0]["data"]["stations"]
    first = status.stations_by_id[f"fgb:{raw[0]['station_id']}"]
    assert (
        first.is_renting is bool(raw[0]["is_renting"])
        and first.num_vehicles_available == raw[0]["num_bikes_available"]
    )
    # POSIX last_updated: the oldest of station_status (1663292849) and free_bike_status (1663292851)
    assert status.last_updated == dt.datetime.fromtimestamp(1663292849, dt.UTC)
    assert status.ttl == 5
    # no vehicle_types.json: every vehicle is the specification's default, a plain bicycle
    assert all(v.vehicle_type_id is None for v in status.vehicles)
    default = feed.vehicle_type(None)
    assert (default.form_factor, default.propulsion) == (FormFactor.BICYCLE, Propulsion.HUMAN)


def test_vehicles_parked_at_stations_take_the_station_position(shared_data: Path) -> None:
    folder = shared_data / "gbfs/v2.3_carsharing_renningen"
    feed, status, _ = load_gbfs(folder)
    raw_bike = _raw_docs(folder, "free_bike_status")[0]["data"]["bikes"][0]
    vehicle = next(v for v in status.vehicles if v.id == f"oekostadt_renningen:{raw_bike['bike_id']}")
    station = feed.stations_by_id[f"oekostadt_renningen:{raw_bike['station_id']}"]
    assert (vehicle.lat, vehicle.lon, vehicle.station_id) == (station.lat, station.lon, station.id)
    assert vehicle.range_m == raw_bike["current_range_meters"]
    assert vehicle.rental_uris.web == raw_bike["rental_uris"]["web"]
    assert feed.vehicle_type(vehicle.vehicle_type_id).form_factor is FormFactor.CAR


# -- pricing --------------------------------------------------------------------------------


def test_rental_price_flamingo_unlock_plus_minutes(shared_data: Path) -> None:
    feed, status, _ = load_gbfs(shared_data / "gbfs/v3.0_flamingo_tauranga")
    plan = feed.pricing_plan_for(status.vehicles[0])
    assert plan is not None and plan.id == "flamingo_tauranga:14-standard"
    # plan: price 1 NZD (unlock), per_min_pricing [{start 0, rate 0.55, interval 1}]
    # a 12.5-minute ride starts 13 one-minute intervals (minutes 0..12), each charged when
    # it begins: 1.00 + 13 x 0.55 = 1.00 + 7.15 = 8.15 NZD
    price = rental_price(plan, minutes=12.5, km=3.0)
    assert (price.amount, price.currency) == (8.15, "NZD")
    # exactly 10 minutes: intervals 0..9 only: 1.00 + 10 x 0.55 = 6.50
    assert rental_price(plan, minutes=10.0, km=0.0).amount == 6.5


def test_rental_price_renningen_per_hour_and_per_km(shared_data: Path) -> None:
    feed, _, _ = load_gbfs(shared_data / "gbfs/v2.3_carsharing_renningen")
    plan = feed.pricing_plans_by_id["oekostadt_renningen:ORE:PricingPlan:mini_hour_daytime"]
    # price 1.00 EUR; per_min [{start 0, rate 1.64, interval 60}]; per_km [{start 4, rate 0.41, interval 1}]
    # 90 min: hours starting at minute 0 and 60 -> 2 x 1.64 = 3.28
    # 10 km: km 4,5,6,7,8,9 charged -> 6 x 0.41 = 2.46
    # total 1.00 + 3.28 + 2.46 = 6.74 EUR
    price = rental_price(plan, minutes=90, km=10)
    assert (price.amount, price.currency) == (6.74, "EUR")
    # 3 km stays inside the 4 free km: 1.00 + 1.64 (one started hour) = 2.64
    assert rental_price(plan, minutes=5, km=3).amount == 2.64


def test_rental_price_spec_example_with_end_and_overlapping_segments(shared_data: Path) -> None:
    feed, _, _ = load_gbfs(shared_data / "gbfs/v3.0_spec_examples")
    plan = feed.pricing_plans_by_id["example_cityname:plan2"]
    # price 2.00 USD; per_km: {10..25, 1.00/1 km}, {25.., 0.50/1 km}, {25.., 3.00/5 km}
    # 30 km: 15 x 1.00 (km 10..24) + 5 x 0.50 (km 25..29) + 1 x 3.00 (km 25) = 20.50, + 2.00 = 22.50
    assert rental_price(plan, minutes=45, km=30).amount == 22.5
    # 10 km exactly: nothing past the included 10 km: 2.00
    assert rental_price(plan, minutes=45, km=10).amount == 2.0
    # 25.5 km: 15 x 1.00 + 1 x 0.50 + 1 x 3.00 = 18.50, + 2.00 = 20.50
    assert rental_price(plan, minutes=45, km=25.5).amount == 20.5


def test_segment_charges_edges() -> None:
    every_minute = PricingSegment(start=0, rate=0.25, interval=1)
    assert [segment_charges(every_minute, m) for m in (0, 0.01, 1, 1.01, 59.99)] == [0, 1, 1, 2, 60]
    bounded = PricingSegment(start=0, rate=1, interval=60, end=90)
    assert [segment_charges(bounded, m) for m in (30, 61, 120)] == [1, 2, 2]
    once = PricingSegment(start=20, rate=5, interval=0)
    assert [segment_charges(once, m) for m in (19, 20, 20.5, 500)] == [0, 0, 1, 1]
    discount = PricingPlan("x:p", "p", "EUR", 2.0, False, per_min_pricing=(PricingSegment(0, -0.5, 1, 2),))
    assert rental_price(discount, minutes=10, km=0).amount == 1.0  # 2.00 - 2 x 0.50
    with pytest.raises(ValueError):
        rental_price(discount, minutes=-1, km=0)


# -- geofencing -------------------------------------------------------------------------------


def _inside(ring: list[list[float]], lon: float, lat: float) -> bool:
    """Independent ray casting over one GeoJSON ring (for checking the test points)."""
    crossings = 0
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


def test_geofencing_check_almere_no_parking_hub(shared_data: Path) -> None:
    folder = shared_data / "gbfs/v3.0_check_almere"
    feed, _, _ = load_gbfs(folder)
    raw = _raw_docs(folder, "geofencing_zones")[0]["data"]["geofencing_zones"]["features"][0]
    assert raw["properties"]["name"][0]["text"] == "Hub Bergnet"
    ring = raw["geometry"]["coordinates"][0][0]
    # the mean of the hub's five distinct vertices lies inside this small convex polygon
    lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    assert _inside(ring, lon, lat)
    moped = "check_almere:check_moped_almere_60"

    hub = rules_at(feed.geofencing, lat, lon, moped)
    # Hub Bergnet rule: ride_start_allowed true, ride_end_allowed false (no parking)
    assert (hub.zone, hub.ride_start_allowed, hub.ride_end_allowed, hub.ride_through_allowed) == (
        "Hub Bergnet",
        True,
        False,
        True,
    )
    assert not hub.ride_allowed

    # Amsterdam is in no zone: the global rule (no start, no end, through allowed) holds
    outside = rules_at(feed.geofencing, 52.3731, 4.8922, moped)
    assert not any(_inside(f["geometry"]["coordinates"][0][0], 4.8922, 52.3731) for f in [raw])
    assert (
        outside.zone,
        outside.ride_start_allowed,
        outside.ride_end_allowed,
        outside.ride_through_allowed,
    ) == (
        None,
        False,
        False,
        True,
    )
    # the zone rules name the moped type only; another type falls back to the global rule
    other = rules_at(feed.geofencing, lat, lon, "check_almere:bike")
    assert (other.zone, other.ride_start_allowed, other.ride_end_allowed) == (None, False, False)


def test_geofencing_tier_oslo_v2_no_ride_park(shared_data: Path) -> None:
    folder = shared_data / "gbfs/v2.3_tier_oslo"
    feed, _, _ = load_gbfs(folder)
    features = _raw_docs(folder, "geofencing_zones")[0]["data"]["geofencing_zones"]["features"]
    area, park = (f["geometry"]["coordinates"][0][0] for f in features)
    scooter = "tieroslo:YTI:VehicleType:escooter_oslo"
    assert not feed.geofencing.first_zone_wins  # v2.x: most restrictive overlapping rule

    # Vigelandsparken (inside the park polygon, which lies inside the operating area)
    lat, lon = 59.9270, 10.7005
    assert _inside(park, lon, lat) and _inside(area, lon, lat)
    in_park = rules_at(feed.geofencing, lat, lon, scooter)
    assert not in_park.ride_allowed and in_park.ride_through_allowed

    # Oslo S: in the operating area, not in the park
    lat, lon = 59.9111, 10.7528
    assert _inside(area, lon, lat) and not _inside(park, lon, lat)
    assert rules_at(feed.geofencing, lat, lon, scooter).ride_allowed


def test_geofencing_speed_limit_and_batch_equals_single(shared_data: Path) -> None:
    feed, status, _ = load_gbfs(shared_data / "gbfs/v3.0_flamingo_tauranga")
    index = ZoneIndex(feed.geofencing)
    lats = np.array([v.lat for v in status.vehicles])
    lons = np.array([v.lon for v in status.vehicles])
    scooter = "flamingo_tauranga:flamingo-scooter"
    started = time.perf_counter()
    batch = rules_at_points(index, lats, lons, scooter)
    elapsed = time.perf_counter() - started
    assert len(batch) == len(status.vehicles) == 295
    assert elapsed < 2.0  # measured ~6 ms for 295 points x 126 zones
    for i in range(0, len(lats), 7):
        one = rules_at(index, float(lats[i]), float(lons[i]), scooter)
        assert one.ride_end_allowed == batch.ride_end_allowed[i]
        assert one.ride_through_allowed == batch.ride_through_allowed[i]
        speed = np.nan if one.maximum_speed_kph is None else one.maximum_speed_kph
        assert speed == pytest.approx(batch.maximum_speed_kph[i], nan_ok=True)
    # Mount Maunganui Slow Zone (first feature) limits to 15 km/h
    ring = _raw_docs(shared_data / "gbfs/v3.0_flamingo_tauranga", "geofencing_zones")[0]["data"][
        "geofencing_zones"
    ]["features"][0]["geometry"]["coordinates"][0][0]
    inside = [(p[1], p[0]) for p in _sample_points(ring) if _inside(ring, p[0], p[1])]
    assert inside
    rule = rules_at(index, *inside[0], scooter)
    assert (rule.zone, rule.maximum_speed_kph) == ("Mount Maunganui Slow Zone", 15.0)


def _sample_points(ring: list[list[float]]) -> list[tuple[float, float]]:
    """A grid over the ring's bounding box, to find an interior point independently."""
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    return [
        (min(xs) + (max(xs) - min(xs)) * i / 10, min(ys) + (max(ys) - min(ys)) * j / 10)
        for i in range(1, 10)
        for j in range(1, 10)
    ]


def _square(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[tuple[float, float], ...], ...]:
    return (((x0, y0), (x1, y0), (x1, y1), (x0, y1)),)


def test_geofencing_precedence_follows_the_spec_example() -> None:
    # "Partially Overlapping Polygons with Same Vehicle Types" (GBFS v3.0 reference):
    # A: bike ride_through true; B: bike ride_through false, 20 km/h; global: bike false, 10 km/h
    a = GeofencingZone("A", (_square(0, 0, 2, 2),), (GeofencingRule(("s:bike",), ride_through_allowed=True),))
    b = GeofencingZone(
        "B",
        (_square(1, 0, 3, 2),),
        (GeofencingRule(("s:bike",), ride_through_allowed=False, maximum_speed_kph=20),),
    )
    fencing = Geofencing(
        (a, b), (GeofencingRule(("s:bike",), ride_through_allowed=False, maximum_speed_kph=10),)
    )
    # points (lat, lon) in areas a, ab, b, g; the reference's table: true/10, true/20, false/20, false/10
    points = {"a": (1.0, 0.5), "ab": (1.0, 1.5), "b": (1.0, 2.5), "g": (5.0, 5.0)}
    got = {k: rules_at(fencing, lat, lon, "s:bike") for k, (lat, lon) in points.items()}
    assert {k: (r.ride_through_allowed, r.maximum_speed_kph) for k, r in got.items()} == {
        "a": (True, 10.0),
        "ab": (True, 20.0),
        "b": (False, 20.0),
        "g": (False, 10.0),
    }


def test_geofencing_holes_and_active_window(shared_data: Path) -> None:
    ring = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0))
    hole = ((1.0, 1.0), (1.0, 3.0), (3.0, 3.0), (3.0, 1.0))
    zone = GeofencingZone("donut", ((ring, hole),), (GeofencingRule(ride_end_allowed=False),))
    fencing = Geofencing((zone,))
    assert not rules_at(fencing, 0.5, 0.5).ride_end_allowed
    assert rules_at(fencing, 2.0, 2.0).ride_end_allowed  # in the hole

    feed, _, _ = load_gbfs(shared_data / "gbfs/v3.0_spec_examples")
    # NE 24th/NE Knott, active 2023-07-17T13:34:13+02:00 .. 2024-07-18; moped1: no start there
    lat, lon = 45.53, -122.60
    during = rules_at(
        feed.geofencing, lat, lon, "example_cityname:moped1", when=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    )
    assert (during.zone, during.maximum_speed_kph, during.station_parking) == ("NE 24th/NE Knott", 10.0, True)
    after = rules_at(
        feed.geofencing, lat, lon, "example_cityname:moped1", when=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    assert (after.zone, after.maximum_speed_kph) == (None, None)


# -- bad feeds ----------------------------------------------------------------------------------


def _copy(shared_data: Path, system: str, tmp_path: Path) -> Path:
    target = tmp_path / Path(system).name
    shutil.copytree(shared_data / system, target)
    return target


def _rewrite(path: Path, **changes: Any) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.update(changes)
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_bad_feeds_are_notices_not_exceptions(shared_data: Path, tmp_path: Path) -> None:
    folder = _copy(shared_data, "gbfs/v2.2_lillestrom_bysykkel", tmp_path)
    (folder / "station_status.json").write_text('{"data": {"stations": [', encoding="utf-8")
    _rewrite(folder / "vehicle_types.json", version="9.9")
    (folder / "system_information.json").unlink()

    feed, status, notices = load_gbfs(folder)

    codes = _codes(notices)
    assert codes["invalid_json"].file == "station_status.json"
    assert codes["invalid_json"].severity is Severity.ERROR
    assert "'9.9'" in codes["unknown_gbfs_version"].message
    missing = [n for n in notices if n.code == "missing_required_gbfs_file"]
    assert {n.file for n in missing} == {"system_information.json", "station_status.json"}
    assert all(n.feed_id == feed.id for n in notices)
    # what could be read is still there
    assert len(feed.stations) == 6 and len(feed.pricing_plans) == 2
    assert status.stations == () and not status.availability_known


def test_stale_last_updated_is_a_notice(shared_data: Path) -> None:
    folder = shared_data / "gbfs/v2.2_lillestrom_bysykkel"
    # station_status.json: last_updated 1631258631, ttl 61
    updated = dt.datetime.fromtimestamp(1631258631, dt.UTC)
    _, fresh, fresh_notices = load_gbfs(folder, now=updated + dt.timedelta(seconds=30))
    assert not fresh.stale
    assert not [n for n in fresh_notices if n.code == "stale_feed" and n.file == "station_status.json"]

    late = updated + dt.timedelta(seconds=61 + STALE_GRACE_S + 1)
    _, stale, notices = load_gbfs(folder, now=late)
    assert stale.stale
    warning = next(n for n in notices if n.code == "stale_feed" and n.file == "station_status.json")
    assert warning.severity is Severity.WARNING


def test_missing_directory_raises_feed_not_found(tmp_path: Path) -> None:
    from feeds.errors import FeedNotFound

    with pytest.raises(FeedNotFound):
        load_gbfs(tmp_path / "nope")


# -- URL discovery (httpx.MockTransport serving the shared files) -----------------------------


def _serving(folder: Path, requested: list[str], fail: threading.Event | None = None) -> httpx.MockTransport:
    """Answers any URL whose last path segment (without .json) names a file in ``folder``."""

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        if fail is not None and fail.is_set():
            raise httpx.ConnectError("simulated outage", request=request)
        name = request.url.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
        path = folder / f"{name}.json"
        if not path.exists():
            return httpx.Response(404)
        return httpx.Response(200, content=path.read_bytes(), headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("system", "gbfs_url"),
    [
        ("gbfs/v3.0_flamingo_tauranga", "https://data.rideflamingo.com/gbfs/3/tauranga/gbfs.json"),
        (
            "gbfs/v2.3_carsharing_renningen",
            "https://api.mobidata-bw.de/sharing/gbfs/v2/oekostadt_renningen/gbfs",
        ),
    ],
)
def test_url_discovery_through_gbfs_json(shared_data: Path, system: str, gbfs_url: str) -> None:
    folder = shared_data / system
    requested: list[str] = []
    with httpx.Client(transport=_serving(folder, requested)) as client:
        feed, status, notices = load_gbfs(gbfs_url, client=client)
    from_dir, dir_status, _ = load_gbfs(folder)

    # every file came from the URL gbfs.json lists (v3.0 flat list; v2.3 the only language "de")
    data = json.loads((folder / "gbfs.json").read_text(encoding="utf-8"))["data"]
    listed = data["feeds"] if "feeds" in data else data["de"]["feeds"]
    assert set(requested) == {gbfs_url} | {f["url"] for f in listed if f["name"] != "gbfs_versions"}
    assert feed.source == gbfs_url
    assert (len(feed.stations), len(status.vehicles), len(feed.pricing_plans)) == (
        len(from_dir.stations),
        len(dir_status.vehicles),
        len(from_dir.pricing_plans),
    )
    assert feed.location("station_status") == (
        next(f["url"] for f in listed if f["name"] == "station_status"),
    )
    assert not [n for n in notices if n.severity is Severity.ERROR]


def test_url_discovery_prefers_english(tmp_path: Path) -> None:
    discovery = {
        "last_updated": 1,
        "ttl": 0,
        "version": "2.3",
        "data": {
            lang: {
                "feeds": [{"name": "system_information", "url": f"https://x.test/{lang}/system_information"}]
            }
            for lang in ("fr", "en")
        },
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("gbfs.json"):
            return httpx.Response(200, json=discovery)
        # the system's name is the language directory it was served from
        name = request.url.path.split("/")[1]
        data = {"system_id": "x", "name": name, "timezone": "UTC"}
        return httpx.Response(200, json={"last_updated": 1, "ttl": 0, "version": "2.3", "data": data})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        feed, _, _ = load_gbfs("https://x.test/gbfs.json", client=client)
        french, _, _ = load_gbfs("https://x.test/gbfs.json", client=client, language="fr")
    assert (feed.system.name, french.system.name) == ("en", "fr")


def test_unreachable_url_is_a_notice() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("simulated timeout", request=request)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        feed, status, notices = load_gbfs("https://down.test/gbfs.json", client=client)
    assert _codes(notices)["unreachable_feed"].severity is Severity.ERROR
    assert feed.stations == () and not status.availability_known


# -- the live overlay ---------------------------------------------------------------------------


class _Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_live_keeps_last_good_snapshot_when_the_directory_disappears(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = _copy(shared_data, "gbfs/v2.2_lillestrom_bysykkel", tmp_path)
    # station_status.json: last_updated 1631258631, ttl 61
    clock = _Clock(dt.datetime.fromtimestamp(1631258631, dt.UTC))
    live, _ = LiveGbfs.open(folder, clock=clock, min_interval_s=5)
    first = live.status
    assert first.availability_known and not first.stale
    assert live.refresh() is False  # ttl 61 s not over yet: nothing re-read

    # the publisher updates availability
    status_path = folder / "station_status.json"
    doc = json.loads(status_path.read_text(encoding="utf-8"))
    doc["last_updated"] = 1631258631 + 61
    doc["data"]["stations"][0]["num_bikes_available"] = 0
    status_path.write_text(json.dumps(doc), encoding="utf-8")
    clock.advance(61)
    assert live.refresh() is True
    refreshed = live.status
    assert refreshed.stations[0].num_vehicles_available == 0
    assert refreshed.last_updated == dt.datetime.fromtimestamp(1631258631 + 61, dt.UTC)

    # the source goes away: the last good snapshot stays, availability still trusted for its ttl
    shutil.rmtree(folder)
    clock.advance(61)
    assert live.refresh() is False
    assert live.status is refreshed
    assert "unreachable_feed" in {n.code for n in live.notices}
    # once the snapshot outlives last_updated + ttl + grace, availability is unknown
    # (the counts stay for display)
    clock.advance(STALE_GRACE_S + 1)
    assert live.status.availability_known is False
    assert live.status.stations == refreshed.stations
    assert live.feed.stations  # the static part is untouched


def test_live_over_http_survives_an_outage(shared_data: Path) -> None:
    folder = shared_data / "gbfs/v3.0_flamingo_tauranga"
    requested: list[str] = []
    outage = threading.Event()
    # vehicle_status.json: last_updated 2025-10-21T04:08:44+00:00, ttl 60 (station_status ttl 3600)
    clock = _Clock(dt.datetime(2025, 10, 21, 4, 8, 44, tzinfo=dt.UTC))
    with httpx.Client(transport=_serving(folder, requested, outage)) as client:
        live, _ = LiveGbfs.open(
            "https://data.rideflamingo.com/gbfs/3/tauranga/gbfs.json", client=client, clock=clock
        )
        assert len(live.status.vehicles) == 295
        requested.clear()
        clock.advance(60)
        assert live.refresh() is True
        # only the status files are polled, never the static ones
        assert {u.rsplit("/", 1)[-1] for u in requested} == {"station_status.json", "vehicle_status.json"}

        outage.set()
        clock.advance(60)
        assert live.refresh() is False
        assert len(live.status.vehicles) == 295 and live.availability_known
        clock.advance(STALE_GRACE_S + 1)
        assert not live.availability_known

        outage.clear()
        assert live.refresh() is True
        # recorded data is old but was read: known, flagged stale
        assert live.availability_known and live.status.stale


def test_live_is_safe_under_concurrent_refresh_and_reads(shared_data: Path, tmp_path: Path) -> None:
    folder = _copy(shared_data, "gbfs/v3.0_dublinbikes", tmp_path)
    live, _ = LiveGbfs.open(folder)
    errors: list[BaseException] = []
    counts: list[int] = []

    def refresher() -> None:
        try:
            for _ in range(5):
                live.refresh(force=True)
        except BaseException as exc:  # pragma: no cover - failure path
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(200):
                counts.append(len(live.status.stations))
        except BaseException as exc:  # pragma: no cover - failure path
            errors.append(exc)

    threads = [threading.Thread(target=refresher) for _ in range(2)] + [
        threading.Thread(target=reader) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert set(counts) == {115}


# -- the synthetic city ---------------------------------------------------------------------------


def test_synthetic_city_gbfs_loads(tmp_path: Path) -> None:
    city = synth_city(tmp_path, stops=60, seed=1)
    raw = _raw_counts(city.gbfs)
    feed, status, notices = load_gbfs(city.gbfs)
    assert feed.id == "synth_mobility" and feed.version == "2.3"
    assert (len(feed.stations), len(status.stations), len(status.vehicles)) == (
        raw["stations"],
        raw["statuses"],
        raw["vehicles"],
    )
    assert raw["stations"] > 0 and raw["vehicles"] > 0
    assert len(feed.vehicle_types) == 2 and len(feed.pricing_plans) == 2
    assert not [n for n in notices if n.severity is Severity.ERROR]
    scooter = status.vehicles[0]
    plan = feed.pricing_plan_for(scooter)
    assert plan is not None and plan.id == "synth_mobility:scooter_minute"
    # 1.00 EUR unlock + 8 started minutes x 0.25 = 3.00 EUR
    assert rental_price(plan, minutes=7.5, km=2).amount == 3.0


def test_feed_type_is_the_static_part(shared_data: Path) -> None:
    feed, _, _ = load_gbfs(shared_data / "gbfs/v2.2_lillestrom_bysykkel")
    assert isinstance(feed, GbfsFeed)
    assert feed.location("station_status")[0].endswith("station_status.json")
    assert feed.system.languages == ("nb",)


def test_localized_text_picks_the_exact_language_first() -> None:
    from feeds.gbfs.documents import localized

    texts = [
        {"text": "colour", "language": "en-GB"},
        {"text": "color", "language": "en"},
        {"text": "kleur", "language": "nl"},
    ]
    assert localized(texts, "en") == "color"  # exact tag before a regional variant
    assert localized(texts, "en-GB") == "colour"
    assert localized(texts, "en-US") == "colour"  # same primary language, first of them
    assert localized(texts, "fr") == "colour"  # unknown language: the first text
    assert localized("plain v2 string", "fr") == "plain v2 string"
