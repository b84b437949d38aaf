"""``synth_city``: a whole synthetic city (GTFS + OSM + GBFS + GOFS) of any size.

Deterministic per seed and sizes: the same arguments give byte-identical files. Stop
count is exact (rows of stops.txt, parent stations included); the street grid grows
with it so stops stay ~350 m apart and every stop is ~15-35 m from a street node.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from feeds.synth.gbfs import write_gbfs
from feeds.synth.gofs import write_gofs
from feeds.synth.grid import Grid, stop_lattice
from feeds.synth.gtfs import write_gtfs
from feeds.synth.streets import plan_streets, write_osm
from feeds.synth.transit import plan_transit, service_calendar, subway_size

FEED_ID = "synth"
MIN_STOPS = 5


@dataclass(frozen=True)
class SynthCity:
    """Where the generated city was written and what it covers."""

    gtfs: Path  # synth.zip (feed_info.feed_id "synth")
    osm: Path  # streets.osm.pbf
    gbfs: Path  # directory of GBFS 2.3 JSON files (gbfs.json first)
    gofs: Path  # directory of GOFS 1.0 JSON files (gofs.json first)
    center: tuple[float, float]  # (lat, lon)
    bbox: tuple[float, float, float, float]  # (west, south, east, north) of the streets
    start_date: dt.date = dt.date(2026, 1, 5)  # first and last service day
    end_date: dt.date = dt.date(2026, 2, 1)
    timezone: str = "Europe/Rome"
    feed_id: str = FEED_ID


def synth_city(
    out_dir: str | Path,
    *,
    stops: int = 200,
    routes: int | None = None,
    seed: int = 1,
    start_date: dt.date = dt.date(2026, 1, 5),
    days: int = 28,
    progress: Callable[[str], None] | None = None,
) -> SynthCity:
    """Generate a city into ``out_dir`` (created if needed, files overwritten).

    ``stops`` is the exact number of rows of stops.txt (>= 5); ``routes`` defaults to
    about ``stops / 25``. Raises ValueError on impossible sizes.
    """
    if stops < MIN_STOPS:
        raise ValueError(f"stops must be at least {MIN_STOPS}, got {stops}")
    if routes is None:
        routes = max(1, round(stops / 25))
    if routes < 1:
        raise ValueError(f"routes must be at least 1, got {routes}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    report = progress or (lambda _message: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(seed))

    # stop budget: the metro's stations take three rows each (station + two platforms)
    stations = subway_size(stops, routes)
    lattice = stop_lattice(stops - 3 * stations)
    while stations:
        on_diagonal = int(np.count_nonzero(lattice[0] == lattice[1]))
        if on_diagonal >= stations:
            break
        stations = on_diagonal if on_diagonal >= 3 else 0
        lattice = stop_lattice(stops - 3 * stations)
    a, b = lattice
    lattice_radius = float(np.sqrt((a * a + b * b).max()))
    grid = Grid(radius=math.ceil(2 * lattice_radius) + 2)

    report(f"planning streets (grid radius {grid.radius} blocks)")
    streets = plan_streets(grid, rng)
    calendar = service_calendar(start_date, days)
    report(f"planning transit ({stops} stops, {routes} routes, {stations} metro stations)")
    transit = plan_transit(grid, streets, lattice, stations, routes, calendar, rng)
    assert len(transit.stops) == stops, (len(transit.stops), stops)

    gtfs_path = out / "synth.zip"
    report("writing GTFS")
    write_gtfs(
        transit,
        gtfs_path,
        feed_id=FEED_ID,
        version=f"seed{seed}-stops{stops}-routes{routes}",
        progress=report,
    )
    osm_path = out / "streets.osm.pbf"
    report("writing OSM")
    write_osm(streets, osm_path)

    west, east = float(grid.lon(-grid.radius)), float(grid.lon(grid.radius))
    south, north = float(grid.lat(-grid.radius)), float(grid.lat(grid.radius))
    bbox = (round(west, 6), round(south, 6), round(east, 6), round(north, 6))
    # feeds carry a fixed "last updated": 08:00 UTC of the first service day
    stamp = int(dt.datetime.combine(start_date, dt.time(8), tzinfo=dt.UTC).timestamp())
    report("writing GBFS and GOFS")
    write_gbfs(out / "gbfs", grid, transit.stops, rng, stamp)
    write_gofs(out / "gofs", bbox, calendar, stamp)
    return SynthCity(
        gtfs=gtfs_path,
        osm=osm_path,
        gbfs=out / "gbfs",
        gofs=out / "gofs",
        center=(grid.lat0, grid.lon0),
        bbox=bbox,
        start_date=calendar.start,
        end_date=calendar.end,
    )
