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


# -- name search: accent- and case-insensitive, prefix and token matching, ranked ----------------------


async def _names(client: httpx.AsyncClient, q: str, limit: int = 20) -> list[StopOut]:
    r = await client.get("/v1/stops", params={"q": q, "limit": limit})
    assert r.status_code == 200, r.text
    return list(StopList.model_validate(r.json()).stops)


async def test_stop_search_exact_name_first_one_entry_per_station(client: httpx.AsyncClient, city: City) -> None:
    station = next(city.graph.stop(i) for i in range(city.graph.n_stops) if city.graph.stop(i).location_type == 1)
    found = await _names(client, station.name)
    assert found[0].name == station.name and found[0].id == station.id and found[0].parent_id is None
    assert [s.name for s in found].count(station.name) == 1  # its platforms are not listed again


async def test_stop_search_ignores_case_accents_and_token_order(client: httpx.AsyncClient, city: City) -> None:
    station = next(city.graph.stop(i) for i in range(city.graph.n_stops) if city.graph.stop(i).location_type == 1)
    first, second = station.name.split()[:2]
    plain = [s.id for s in await _names(client, f"{first} {second}")]
    shouted = [s.id for s in await _names(client, f"{first.upper()} {second.upper()}")]
    accented = [s.id for s in await _names(client, f"{first[0]}\u0301{first[1:]} {second}")]  # combining acute
    reordered = {s.id for s in await _names(client, f"{second} {first}")}
    assert plain and plain == shouted == accented
    assert station.id in reordered and set(plain) == reordered


async def test_stop_search_prefixes_of_every_token(client: httpx.AsyncClient, city: City) -> None:
    names = sorted({city.graph.stop(i).name for i in range(city.graph.n_stops)})
    two_street = next(n for n in names if "/" in n)
    a, b = (part.split()[-1] for part in two_street.split("/"))
    query = f"{a[:3]} {b[:4]}"
    found = await _names(client, query, limit=100)
    assert two_street in {s.name for s in found}
    for s in found:
        words = s.name.lower().replace("/", " ").split()
        assert any(w.startswith(a[:3].lower()) for w in words) and any(w.startswith(b[:4].lower()) for w in words)
    expected = {n for n in names if all(any(w.startswith(t) for w in n.lower().replace("/", " ").split())
                                        for t in query.lower().split())}
    assert {s.name for s in found} == expected


async def test_stop_search_ranks_shorter_names_first_within_a_class(client: httpx.AsyncClient, city: City) -> None:
    word = city.graph.stop(0).name.split()[-1][:4]
    found = await _names(client, word, limit=100)
    starts = [s for s in found if s.name.lower().startswith(word.lower())]
    rest = [s for s in found if not s.name.lower().startswith(word.lower())]
    assert found == starts + rest  # names starting with the query come first
    lengths = [len(s.name) for s in rest if s.parent_id is None]
    assert lengths == sorted(lengths)


async def test_stop_search_without_match_is_empty(client: httpx.AsyncClient) -> None:
    assert await _names(client, "zzzqx") == []
