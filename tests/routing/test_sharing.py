"""Shared mobility in routing: artifact, rentals, geofencing, prices, ride-hail, outages.

One synthetic city (GTFS + OSM + GBFS + GOFS from ``feeds.synth``) built once with the
real pipeline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from feeds.gbfs import GbfsStatus, Geofencing, GeofencingRule, GeofencingZone, LiveGbfs, rules_at
from feeds.ridehail import GofsEstimates, RecordedEstimates
from routing.artifact import read_manifest
from routing.build import build_graph
from routing.graph import Graph
from routing.plan import Itinerary, Leg, Place, PlanRequest, result_to_dict
from routing.polyline import decode
from routing.raptor_planner import RaptorPlanner
from routing.sharing import SharingOverlay, load_stored_sharing, rank, read_sharing_inputs
from routing.sharing.store import DOCUMENT

ALL = frozenset({"walk", "transit", "bikeshare", "scooter", "ridehail"})


@dataclasses.dataclass(frozen=True)
class City:
    graph: Graph
    gbfs: Path
    gofs: Path
    notices: tuple[Any, ...]
    origin: Place
    destination: Place
    when: dt.datetime


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    from feeds.synth import synth_city

    root = tmp_path_factory.mktemp("sharing")
    c = synth_city(root / "city", stops=60, seed=1)
    report = build_graph([c.gtfs], osm=c.osm, out=root / "graph", gbfs=[c.gbfs], gofs=[c.gofs])
    g = Graph.load(report.path)
    lat, lon = np.asarray(g.stop_lat), np.asarray(g.stop_lon)
    a, b = int(np.argmin(lat + lon)), int(np.argmax(lat + lon))
    day = g.meta.base_date + dt.timedelta(days=(7 - g.meta.base_date.weekday()) % 7 + 1)  # a Tuesday
    when = dt.datetime(day.year, day.month, day.day, 8, tzinfo=ZoneInfo(g.timezone))
    return City(g, c.gbfs, c.gofs, report.notices, Place(lat=float(lat[a]) + 0.0004, lon=float(lon[a])),
                Place(lat=float(lat[b]) - 0.0004, lon=float(lon[b])), when)


def request(city: City, modes: frozenset[str] = ALL, **kw: Any) -> PlanRequest:
    return PlanRequest(kw.pop("origin", city.origin), kw.pop("destination", city.destination), city.when,
                       modes=modes, num_itineraries=kw.pop("num", 10), **kw)


def overlay(city: City, status: GbfsStatus | None = None, feed: Any = None, **kw: Any) -> SharingOverlay:
    stored = load_stored_sharing(city.graph.artifact.documents[DOCUMENT])
    (f0, s0), = stored.gbfs
    return SharingOverlay([LiveGbfs(feed or f0, status or s0, **kw)], stored.gofs)


def legs(its: tuple[Itinerary, ...] | list[Itinerary], mode: str) -> list[Leg]:
    return [leg for it in its for leg in it.legs if leg.mode == mode]


def near(leg_place: Any, lat: float, lon: float) -> bool:
    return abs(leg_place.lat - lat) < 1e-6 and abs(leg_place.lon - lon) < 1e-6


# -- artifact ----------------------------------------------------------------------------------


def test_artifact_keeps_gbfs_and_gofs_with_sources_and_notices(city: City) -> None:
    manifest = read_manifest(city.graph.path)
    kinds = {f["kind"]: f for f in manifest["feeds"]}
    assert {"gtfs", "osm", "gbfs", "gofs"} <= set(kinds)
    assert kinds["gbfs"]["id"] == "synth_mobility" and len(kinds["gbfs"]["sha256"]) == 64
    assert Path(kinds["gbfs"]["source_path"]) == city.gbfs.resolve()
    assert Path(kinds["gofs"]["source_path"]) == city.gofs.resolve()
    stored = load_stored_sharing(city.graph.artifact.documents[DOCUMENT])
    (feed, status), = stored.gbfs
    on_disk = json.loads((city.gbfs / "station_information.json").read_text())["data"]["stations"]
    assert len(feed.stations) == len(on_disk) == manifest["counts"]["gbfs_stations"]
    assert [s.capacity for s in feed.stations] == [s["capacity"] for s in on_disk]
    assert {p.id for p in feed.pricing_plans} == {"synth_mobility:bike_minute", "synth_mobility:scooter_minute"}
    assert len(status.vehicles) == manifest["counts"]["gbfs_vehicles"] > 0
    assert stored.gofs[0].zones and stored.gofs[0].fares
    # recorded feeds are old: the build says so in its quality notices
    assert any(n.code == "stale_feed" and n.feed_id == "synth_mobility" for n in city.notices)


def test_bad_gbfs_files_become_notices_not_failures(city: City, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(city.gbfs, bad)
    (bad / "station_status.json").write_text("{not json")
    (bad / "system_information.json").unlink()
    doc = json.loads((bad / "vehicle_types.json").read_text())
    doc["version"] = "9.9"
    (bad / "vehicle_types.json").write_text(json.dumps(doc))
    found = read_sharing_inputs([bad])
    codes = {n.code for n in found.notices}
    assert "invalid_json" in codes
    assert any("system_information" in (n.file or "") + n.message for n in found.notices)
    assert any("9.9" in n.message for n in found.notices)
    assert found.sources[0].kind == "gbfs"


def test_same_recorded_feeds_store_the_same_document_whenever_built(city: City) -> None:
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    first = read_sharing_inputs([city.gbfs], [city.gofs], now=now)
    later = read_sharing_inputs([city.gbfs], [city.gofs], now=now + dt.timedelta(hours=5, seconds=7))
    assert first.document == later.document  # the artifact's graph_version stays
    assert first.notices == later.notices
    assert [s.sha256 for s in first.sources] == [s.sha256 for s in later.sources]


# -- rentals -------------------------------------------------------------------------------------


def test_multimodal_request_ranks_several_modes_each_priced(city: City) -> None:
    result = RaptorPlanner(city.graph).plan(request(city))
    mixes = {tuple(sorted({"transit" if x.route else x.mode for x in it.legs} - {"walk"})) for it in result.itineraries}
    assert ("scooter",) in mixes and ("ridehail",) in mixes
    assert any("transit" in m for m in mixes)
    assert any("bikeshare" in m for m in mixes)
    for leg in legs(result.itineraries, "scooter") + legs(result.itineraries, "bikeshare"):
        assert leg.price is not None and leg.price.currency == "EUR" and leg.price.amount > 0
        assert leg.provider is not None and leg.provider.id == "synth_mobility"
        assert leg.vehicle_type is not None and leg.availability_known is True
    for it in result.itineraries:  # price: sum when every non-walking leg is priced, else null
        paid = [x for x in it.legs if x.mode != "walk"]
        if all(x.price is not None for x in paid):
            total = sum(x.price.amount for x in paid if x.price is not None)
            assert it.price is not None and it.price.amount == pytest.approx(total)
        else:
            assert it.price is None
    arrivals = [it.end_time for it in result.itineraries]
    assert arrivals == sorted(arrivals)
    json.dumps(result_to_dict(result))  # renders


def test_scooter_price_is_unlock_plus_started_minutes(city: City) -> None:
    result = RaptorPlanner(city.graph).plan(request(city, frozenset({"scooter"})))
    (leg,) = legs(result.itineraries, "scooter")[:1]
    minutes = (leg.end_time - leg.start_time).total_seconds() / 60
    # synth scooter_minute: 1.00 EUR to unlock, 0.25 EUR per started minute
    assert leg.price is not None and leg.price.amount == pytest.approx(1.00 + 0.25 * math.ceil(minutes))
    assert leg.provider is not None and leg.provider.deep_link and leg.provider.deep_link.startswith("https://synth.example/scooter/")


def _station_at(status: GbfsStatus, feed: Any, place: Any) -> str:
    return next(s.id for s in feed.stations if near(place, s.lat, s.lon))


def test_empty_station_is_never_a_pickup_and_full_one_never_a_dropoff(city: City) -> None:
    base = overlay(city)
    feed, status = base.systems[0].feed, base.systems[0].status
    modes = frozenset({"bikeshare", "walk", "transit"})
    before = legs(RaptorPlanner(city.graph, sharing=base).plan(request(city, modes)).itineraries, "bikeshare")
    assert before, "the city should have a bikeshare option"
    picked = {_station_at(status, feed, leg.from_place) for leg in before}
    docked = {_station_at(status, feed, leg.to_place) for leg in before}

    def changed(s: Any) -> Any:
        if s.station_id in picked:  # no vehicle left where the rides started
            s = dataclasses.replace(s, num_vehicles_available=0,
                                    vehicles_available_by_type=tuple((t, 0) for t, _ in s.vehicles_available_by_type))
        if s.station_id in docked:  # no free dock where they ended
            s = dataclasses.replace(s, num_docks_available=0)
        return s

    emptied = tuple(changed(s) for s in status.stations)
    after_status = dataclasses.replace(status, stations=emptied)
    after = legs(RaptorPlanner(city.graph, sharing=overlay(city, after_status)).plan(request(city, modes)).itineraries,
                 "bikeshare")
    live = after_status.stations_by_id
    for leg in after:
        pick = _station_at(after_status, feed, leg.from_place)
        drop = _station_at(after_status, feed, leg.to_place)
        assert pick not in picked and live[pick].num_vehicles_available > 0
        assert drop not in docked and (live[drop].num_docks_available or 0) > 0


def test_no_parking_zone_is_never_a_drop_off(city: City) -> None:
    base = overlay(city)
    feed = base.systems[0].feed
    d = city.destination
    assert d.lat is not None and d.lon is not None
    half = 0.004  # ~400 m around the destination
    ring = ((d.lon - half, d.lat - half), (d.lon + half, d.lat - half), (d.lon + half, d.lat + half),
            (d.lon - half, d.lat + half), (d.lon - half, d.lat - half))
    zone = GeofencingZone("no parking here", ((ring,),), (GeofencingRule(ride_end_allowed=False),))
    fenced = dataclasses.replace(feed, geofencing=Geofencing(zones=(zone,)))
    planner = RaptorPlanner(city.graph, sharing=overlay(city, feed=fenced))
    result = planner.plan(request(city, frozenset({"scooter"})))
    rides = legs(result.itineraries, "scooter")
    assert rides
    for leg in rides:
        rule = rules_at(fenced.geofencing, leg.to_place.lat, leg.to_place.lon, "synth_mobility:scooter")
        assert rule.ride_end_allowed, f"parked in the no-parking zone at {leg.to_place}"
    free = RaptorPlanner(city.graph).plan(request(city, frozenset({"scooter"})))
    (unfenced,) = legs(free.itineraries, "scooter")[:1]
    assert not rules_at(fenced.geofencing, unfenced.to_place.lat, unfenced.to_place.lon).ride_end_allowed, \
        "without the zone the scooter is parked inside it (so the test shows the zone matters)"


def _square(lat: float, lon: float, half: float) -> tuple[tuple[float, float], ...]:
    return ((lon - half, lat - half), (lon + half, lat - half), (lon + half, lat + half),
            (lon - half, lat + half), (lon - half, lat - half))


def test_no_ride_zone_is_ridden_around(city: City) -> None:
    free = RaptorPlanner(city.graph).plan(request(city, frozenset({"scooter"})))
    (leg,) = legs(free.itineraries, "scooter")[:1]
    lats, lons = decode(leg.polyline)
    mid = len(lats) // 2
    zone = GeofencingZone("no riding here", ((_square(float(lats[mid]), float(lons[mid]), 0.0012),),),
                          (GeofencingRule(ride_through_allowed=False),))
    feed = overlay(city).systems[0].feed
    fenced = dataclasses.replace(feed, geofencing=Geofencing(zones=(zone,)))
    inside = [not rules_at(fenced.geofencing, float(a), float(b)).ride_through_allowed for a, b in zip(lats, lons, strict=True)]
    assert any(inside), "without the zone the ride crosses it (so the test shows the zone matters)"
    result = RaptorPlanner(city.graph, sharing=overlay(city, feed=fenced)).plan(request(city, frozenset({"scooter"})))
    (around,) = legs(result.itineraries, "scooter")[:1]
    la, lo = decode(around.polyline)
    assert not any(not rules_at(fenced.geofencing, float(a), float(b)).ride_through_allowed for a, b in zip(la, lo, strict=True))
    assert around.end_time >= leg.end_time  # the way around is no shorter


# -- ride-hail ---------------------------------------------------------------------------------


def _hail(city: City, wait_s: int) -> Leg:
    base = overlay(city)
    gofs = base.gofs[0]
    brand = gofs.brands[0].id
    shared = SharingOverlay(base.systems, (), [GofsEstimates(gofs, wait_times={brand: wait_s})])
    result = RaptorPlanner(city.graph, sharing=shared).plan(request(city, frozenset({"ridehail"})))
    (leg,) = legs(result.itineraries, "ridehail")[:1]
    return leg


def test_gofs_wait_time_shifts_the_ride_hail_leg(city: City) -> None:
    short, long = _hail(city, 60), _hail(city, 900)
    assert (short.pickup_wait_s, long.pickup_wait_s) == (60, 900)
    assert short.start_time == city.when + dt.timedelta(seconds=60)
    assert (long.start_time - short.start_time) == dt.timedelta(seconds=840)
    assert (long.end_time - short.end_time) == dt.timedelta(seconds=840)
    assert short.price is not None and short.price == long.price and short.price.currency == "EUR"


def test_recorded_provider_estimate_prices_the_ride(city: City, shared_data: Path) -> None:
    folder = shared_data / "ridehail"
    uber = RecordedEstimates(folder / "uber-price-estimates.json", folder / "uber-arrival-estimates.json")
    shared = SharingOverlay(overlay(city).systems, (), [uber])
    result = RaptorPlanner(city.graph, sharing=shared).plan(request(city, frozenset({"ridehail"})))
    (leg,) = legs(result.itineraries, "ridehail")[:1]
    o, d = city.origin, city.destination
    chosen = next(e for e in uber.estimate((o.lat, o.lon), (d.lat, d.lon), city.when)  # type: ignore[arg-type]
                  if leg.provider is not None and leg.provider.id.endswith(e.product_id))
    assert leg.pickup_wait_s == chosen.pickup_wait_s
    assert leg.price is not None and leg.price.amount == chosen.price_high and leg.price.currency == chosen.currency
    assert leg.provider is not None and leg.provider.deep_link and "uber.com" in leg.provider.deep_link


# -- outages -------------------------------------------------------------------------------------


def test_live_feed_outage_keeps_answers_and_marks_availability_unknown(city: City, tmp_path: Path) -> None:
    source = tmp_path / "gbfs"
    shutil.copytree(city.gbfs, source)
    now = [dt.datetime(2026, 1, 6, 8, 0, tzinfo=dt.UTC)]
    live, _ = LiveGbfs.open(source, clock=lambda: now[0])
    shared = SharingOverlay([live])
    planner = RaptorPlanner(city.graph, sharing=shared)
    token = shared.token
    shutil.rmtree(source)  # the operator's server goes away
    now[0] += dt.timedelta(hours=1)  # long past ttl + grace
    assert shared.refresh(force=True) is True and shared.token != token
    assert not shared.systems[0].availability_known
    result = planner.plan(request(city, frozenset({"walk", "transit", "bikeshare", "scooter"})))
    rentals = legs(result.itineraries, "bikeshare") + legs(result.itineraries, "scooter")
    assert rentals, "answers keep coming during an outage"
    assert all(leg.availability_known is False for leg in rentals)
    rendered = [leg for it in result_to_dict(result)["itineraries"] for leg in it["legs"] if "provider" in leg]
    assert rendered and all(leg["availability_known"] is False for leg in rendered)


# -- ranking ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Opt:
    dep: int
    arr: int
    transfers: int
    walk_s: int
    cost: float
    mix: str


def test_ranking_keeps_cheaper_slower_options_and_one_of_each_mix() -> None:
    taxi = _Opt(0, 600, 0, 0, 12.0, "ridehail")
    taxi2 = _Opt(0, 650, 0, 0, 11.0, "ridehail")
    bus = _Opt(0, 1500, 0, 300, 0.0, "transit")
    bus_late = _Opt(0, 1600, 0, 400, 0.0, "transit")  # dominated by bus
    scooter = _Opt(0, 900, 0, 100, 4.0, "scooter")
    assert rank([bus_late, bus, taxi2, scooter, taxi], False, 10) == [taxi, taxi2, scooter, bus]
    assert rank([bus, taxi2, scooter, taxi], False, 3) == [taxi, scooter, bus]


# -- every shared GBFS system survives the artifact -------------------------------------------


SHARED_GBFS = [
    "gbfs/v2.2_lillestrom_bysykkel", "gbfs/v2.3_callabike_darmstadt_trimmed", "gbfs/v2.3_carsharing_renningen",
    "gbfs/v2.3_tier_oslo", "gbfs/v3.0_check_almere", "gbfs/v3.0_dublinbikes", "gbfs/v3.0_flamingo_tauranga",
    "gbfs/v3.0_spec_examples", "bay_area/gbfs_baywheels",
]


@pytest.mark.parametrize("folder", SHARED_GBFS)
def test_stored_system_loads_back_as_read(shared_data: Path, folder: str) -> None:
    from feeds.gbfs import load_gbfs

    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    feed, status, _ = load_gbfs(shared_data / folder, now=when)
    stored = load_stored_sharing(read_sharing_inputs([shared_data / folder], now=when).document, now=when)
    (feed2, status2), = stored.gbfs
    assert feed2 == feed  # stations, types, plans, zones, alerts, system info, where each file was
    assert (status2.stations, status2.vehicles, status2.last_updated) == (status.stations, status.vehicles,
                                                                          status.last_updated)


def test_stored_gofs_loads_back_as_read(shared_data: Path) -> None:
    from feeds.gofs import load_gofs

    folder = shared_data / "gofs/spec_examples"
    stored = load_stored_sharing(read_sharing_inputs([], [folder]).document)
    assert stored.gofs == (load_gofs(folder)[0],)
