"""/v1/stops: near a place, by name, by id, next departures."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from maas.api.models import DepartureList, StopList, StopOut
from tests.maas.conftest import City

pytestmark = pytest.mark.anyio


async def test_stops_near_a_stop_start_with_it_nearest_first(client: httpx.AsyncClient, city: City) -> None:
    s = city.graph.stop(city.graph.stop_index(city.stop_id))
    r = await client.get("/v1/stops", params={"near": f"{s.lat},{s.lon}", "radius_m": 800, "limit": 5})
    assert r.status_code == 200
    stops = StopList.model_validate(r.json()).stops
    assert stops and stops[0].id == s.id
    distances = [x.distance_m for x in stops if x.distance_m is not None]
    assert len(distances) == len(stops)
    assert distances == sorted(distances) and distances[0] < 1.0 and distances[-1] <= 800
    assert len(stops) <= 5


async def test_stops_far_from_the_city_is_an_empty_list(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/stops", params={"near": "-45.0,100.0"})
    assert r.status_code == 200 and r.json() == {"stops": []}


async def test_stop_search_by_name(client: httpx.AsyncClient, city: City) -> None:
    s = city.graph.stop(city.graph.stop_index(city.stop_id))
    word = s.name.split()[0]
    r = await client.get("/v1/stops", params={"q": word, "limit": 50})
    assert r.status_code == 200
    found = StopList.model_validate(r.json()).stops
    assert found and all(word.casefold() in x.name.casefold() and x.distance_m is None for x in found)
    assert s.name in {x.name for x in found}


async def test_stop_by_id_and_unknown_stop(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get(f"/v1/stops/{city.stop_id}")
    assert r.status_code == 200
    stop = StopOut.model_validate(r.json())
    assert stop.id == city.stop_id
    r = await client.get("/v1/stops/nofeed:nostop")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404 and "nofeed:nostop" in r.json()["detail"]


async def test_next_departures_are_after_the_time_and_ordered(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get(f"/v1/stops/{city.stop_id}/departures", params={"time": city.time, "limit": 4})
    assert r.status_code == 200, r.text
    body = DepartureList.model_validate(r.json())
    assert body.stop.id == city.stop_id
    times = [dt.datetime.fromisoformat(d.time) for d in body.departures]
    assert 1 <= len(times) <= 4
    assert times == sorted(times) and times[0] >= dt.datetime.fromisoformat(city.time)
    for d in body.departures:
        assert d.route.id and d.trip_id and dt.date.fromisoformat(d.service_date)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "near"),
        ({"near": "45.5,-122.6", "q": "x"}, "q"),
        ({"near": "stop:f:1"}, "near"),
        ({"near": "95,10"}, "near"),
        ({"near": "45.5,-122.6", "radius_m": "0"}, "radius_m"),
        ({"q": "main", "limit": "500"}, "limit"),
        ({"q": "   "}, "q"),
    ],
)
async def test_bad_stop_queries_name_the_field(client: httpx.AsyncClient, query: dict[str, str], field: str) -> None:
    r = await client.get("/v1/stops", params=query)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_departures_bad_time_and_unknown_stop(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get(f"/v1/stops/{city.stop_id}/departures", params={"time": "2021-12-02T08:00:00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "time"
    r = await client.get("/v1/stops/nofeed:nostop/departures")
    assert r.status_code == 404
