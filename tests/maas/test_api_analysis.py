"""POST /v1/travel-times (JSON and CSV) and GET /v1/isochrone on the small synthetic city."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
import numpy as np
import pytest
import shapely.geometry

from routing.analysis import UNREACHED, AnalysisOptions, Points, TravelTimeComputer
from tests.maas.conftest import City

pytestmark = pytest.mark.anyio


def _points(city: City, n: int) -> list[dict[str, Any]]:
    """Served stops of the city, a little off them."""
    g = city.graph
    served = np.zeros(g.n_stops, dtype=bool)
    served[np.asarray(g.timetable.pattern_stops)] = True
    idx = np.flatnonzero(served)[:: max(1, int(served.sum()) // n)][:n]
    return [{"id": f"s{k}", "lat": round(float(g.stop_lat[i]) + 0.0005, 6), "lon": round(float(g.stop_lon[i]), 6)}
            for k, i in enumerate(idx)]


def _expected(city: City, pts: list[dict[str, Any]], percentiles: tuple[int, ...]) -> np.ndarray:
    p = Points.from_records(pts)
    options = AnalysisOptions(departure=dt.datetime.fromisoformat(city.time), percentiles=percentiles)
    return TravelTimeComputer(city.graph, options).matrix(p, p, threads=1).minutes


async def test_travel_times_json_equals_in_process(client: httpx.AsyncClient, city: City) -> None:
    pts = _points(city, 5)
    body = {"origins": pts, "destinations": pts, "time": city.time, "percentiles": [25, 50, 75]}
    r = await client.post("/v1/travel-times", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    out = r.json()
    assert out["graph_version"] == city.graph.version
    assert out["columns"] == ["from_id", "to_id", "travel_time_p25", "travel_time_p50", "travel_time_p75"]
    rows = out["travel_times"]
    assert len(rows) == 25 and rows[1]["from_id"] == "s0" and rows[1]["to_id"] == "s1"
    want = _expected(city, pts, (25, 50, 75))
    got = np.array([[row[f"travel_time_p{p}"] for row in rows] for p in (25, 50, 75)], dtype=object)
    expected = np.where(want.reshape(3, -1) == UNREACHED, None, want.reshape(3, -1)).astype(object)
    assert (got == expected).all()
    assert any(v is not None and v > 0 for v in got[1])


async def test_travel_times_csv(client: httpx.AsyncClient, city: City) -> None:
    pts = _points(city, 4)
    body = {"origins": pts, "destinations": pts, "time": city.time}
    r = await client.post("/v1/travel-times", json=body, headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["from_id", "to_id", "travel_time"]
    want = _expected(city, pts, (50,))[0].ravel().tolist()
    assert [int(x[2]) if x[2] else UNREACHED for x in rows[1:]] == want
    assert [x[:2] for x in rows[1:3]] == [["s0", "s0"], ["s0", "s1"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"origins": [{"id": "a", "lat": 200, "lon": 7.6}]}, "origins.0.lat"),
        ({"percentiles": [0]}, "percentiles"),
        ({"percentiles": [75, 25]}, "percentiles"),
        ({"time": "2026-01-06T08:00:00"}, "time"),
        ({"time": "tomorrow"}, "time"),
        ({"modes": ["car"]}, "modes"),
        ({"window_s": -5}, "window_s"),
        ({"max_time_min": 0}, "max_time_min"),
        ({"destinations": []}, "destinations"),
        ({"origins": [{"id": "a", "lat": 45, "lon": 7}, {"id": "a", "lat": 45, "lon": 7}]}, "origins.id"),
    ],
)
async def test_travel_times_bad_input_names_the_field(
    client: httpx.AsyncClient, city: City, change: dict[str, Any], field: str
) -> None:
    pts = _points(city, 2)
    body = {"origins": pts, "destinations": pts, "time": city.time, **change}
    r = await client.post("/v1/travel-times", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_travel_times_too_many_pairs(client: httpx.AsyncClient, city: City) -> None:
    # 400 x 300 = 120,000 pairs; compact points keep the body (~24 KB) under the 64 KiB limit
    o = [{"id": i, "lat": 45, "lon": 7} for i in range(400)]
    d = [{"id": i, "lat": 45, "lon": 7} for i in range(300)]
    r = await client.post("/v1/travel-times", json={"origins": o, "destinations": d, "time": city.time})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "destinations" and "100,000" in r.json()["detail"]


async def test_isochrone_geojson(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get("/v1/isochrone", params={"from": city.origin, "time": city.time, "minutes": "10,25"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    assert [f["properties"]["travel_time"] for f in fc["features"]] == [10, 25]
    small, large = (shapely.geometry.shape(f["geometry"]) for f in fc["features"])
    lat, lon = (float(x) for x in city.origin.split(","))
    assert small.buffer(1e-4).contains(shapely.geometry.Point(lon, lat))  # the origin itself
    assert large.area > small.area and large.buffer(1e-6).contains(small)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"minutes": "ten"}, "minutes"),
        ({"minutes": "0,30"}, "minutes"),
        ({"from": "stop:x:y"}, "from"),
        ({"from": "nowhere"}, "from"),
        ({"percentile": "100"}, "percentile"),
    ],
)
async def test_isochrone_bad_input(client: httpx.AsyncClient, city: City, params: dict[str, str], field: str) -> None:
    query = {"from": city.origin, "time": city.time, **params}
    r = await client.get("/v1/isochrone", params=query)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
