"""Analysis on a real feed: São Paulo (frequency-based metro, rail and bus, central OSM)
matrices equal plan()'s earliest arrivals per departure minute."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from routing.analysis import AnalysisOptions, TravelTimeComputer
from routing.graph import Graph
from routing.raptor_kernels import INF
from tests.routing.test_analysis import _points_near_stops, plan_envelope


@pytest.fixture(scope="module")
def sao_paulo(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Graph:
    from routing.build import build_graph

    report = build_graph(
        [("spo", shared_data / "sao_paulo" / "spo_gtfs.zip")],
        osm=shared_data / "sao_paulo" / "spo_osm.pbf",
        out=tmp_path_factory.mktemp("spo") / "graph",
    )
    return Graph.load(report.path)


def test_sao_paulo_matrix_equals_plan(sao_paulo: Graph) -> None:
    # a Tuesday inside the calendar (2008-01-01 .. 2020-05-01), morning frequencies
    when = dt.datetime(2019, 5, 7, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    options = AnalysisOptions(departure=when, window_s=300, max_walk_m=1000)
    computer = TravelTimeComputer(sao_paulo, options)
    pts = _points_near_stops(sao_paulo, 6, seed=1)
    dests = computer.destinations(pts)
    rides = False
    reached = 0
    for i in range(4):
        origin = (float(pts.lat[i]), float(pts.lon[i]))
        want, used = plan_envelope(sao_paulo, options, origin, pts)
        rides |= used
        reached += int((want < INF).sum())
        np.testing.assert_array_equal(computer.origin_seconds(*origin, dests).seconds, want, err_msg=f"origin {i}")
    assert rides and reached > 0
