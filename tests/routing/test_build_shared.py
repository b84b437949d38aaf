"""Every GTFS (+ OSM) set of ../shared/data builds into an artifact that loads and plans."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from routing.build import build_graph
from routing.engines import get_planner
from routing.graph import Graph
from routing.plan import Place, PlanRequest

# (feeds, osm, a date with service, expected stops, expected trips.txt rows) from data/README.md
SETS = {
    "sao_paulo": (["sao_paulo/spo_gtfs.zip"], "sao_paulo/spo_osm.pbf", "2019-05-13", 654, 36),
    "porto_alegre": (["porto_alegre/poa_eptc.zip", "porto_alegre/poa_trensurb.zip"], "porto_alegre/poa_osm.pbf",
                     "2019-05-13", 3986 + 24, 2374 + 1248),
    "portland": (["portland/trimet-2routes.zip"], "portland/portland-central-filtered.osm.pbf", "2021-12-02", 103, 2341),
    "atlanta_cobb": (["atlanta_cobb/cobblinc-bus-30-only.gtfs.zip", "atlanta_cobb/marta-bus-856-only.gtfs.zip"],
                     "atlanta_cobb/cobb-county.filtered.osm.pbf", "2021-12-02", None, None),
    "bay_area": (["bay_area/gtfs/bart_rt.zip", "bay_area/gtfs/caltrain_ct.zip"], None, "2023-11-07", None, None),
    "kcm": (["gtfs_features/kcm_gtfs.zip"], None, "2016-05-04", 56, 282),
    "cdmx": (["gtfs_features/cdmx.zip"], None, "2019-05-13", 6021, 1741),
    "wmata": (["gtfs_features/wmata.zip"], None, "2026-05-12", 2175, 16514),
}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(SETS))
def test_shared_set_builds_loads_and_plans(name: str, shared_data: Path, tmp_path: Path) -> None:
    feeds, osm, day, n_stops, n_trips = SETS[name]
    report = build_graph([shared_data / f for f in feeds], osm=shared_data / osm if osm else None, out=tmp_path / "g")
    manifest = json.loads((report.path / "manifest.json").read_text())
    assert manifest["graph_version"] == report.graph_version
    assert [f["kind"] for f in manifest["feeds"]] == ["gtfs"] * len(feeds) + (["osm"] if osm else [])
    if n_stops is not None:
        assert report.counts["stops"] == n_stops
    g = Graph.load(report.path)
    if n_trips is not None:
        assert len(set(g.trip_ids)) == n_trips  # frequency templates expand, ids stay
    if osm is not None:
        assert report.counts["street_nodes"] > 0
        # stops off the OSM extract are reported by id, never dropped
        linked = np.asarray(g.stop_node) >= 0
        assert len(report.unlinked_stops) == int(((~linked) & (np.asarray(g.stop_location_type) == 0)).sum())
    # two served stops far apart get an answer (an itinerary or a machine-readable reason)
    served = np.unique(np.asarray(g.timetable.pattern_stops))
    a, b = int(served[0]), int(served[-1])
    when = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12, 0), tzinfo=ZoneInfo(g.timezone))
    result = get_planner(g).plan(PlanRequest(Place(stop_id=g.stop_ids[a]), Place(stop_id=g.stop_ids[b]), when))
    assert result.itineraries or result.reason in {"no_connection", "no_service_on_date"}
    assert result.graph_version == report.graph_version
