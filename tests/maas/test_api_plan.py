"""/v1/plan against the real app and a real (small) artifact."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
from typing import Any

import httpx
import pytest

from maas.api.models import PlanResponse
from maas.app import create_app
from routing.plan import (
    Itinerary,
    Leg,
    LegPlace,
    Money,
    PlanRequest,
    PlanResult,
    Provider,
    RouteInfo,
    result_to_dict,
)
from tests.maas.conftest import City, client_for, settings

pytestmark = pytest.mark.anyio


def _params(city: City, **kw: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"from": city.origin, "to": city.destination, "time": city.time}
    p.update(kw)
    return p


def assert_mirrors_contract(body: dict[str, Any]) -> PlanResponse:
    """The body validates against the response model and dumps back to itself, key for key."""
    model = PlanResponse.model_validate(body)
    assert model.model_dump(mode="json", by_alias=True, exclude_unset=True) == body
    return model


# -- the response contract --------------------------------------------------------------------------


def test_models_mirror_result_to_dict_for_every_kind_of_leg() -> None:
    tz = dt.timezone(dt.timedelta(hours=-8))
    t = dt.datetime(2021, 12, 2, 8, 0, tzinfo=tz)
    a, b = LegPlace("Origin", 45.5, -122.6), LegPlace("Main St", 45.51, -122.61, "f:3")
    c = LegPlace("Dock", 45.52, -122.62, "f:9")
    route = RouteInfo("f:r1", "1", "Line 1", 3, "FF0000", "Agency")
    legs = (
        Leg("walk", a, b, t, t + dt.timedelta(minutes=4), 300.0, "_p~iF~ps|U"),
        Leg("bus", b, c, t + dt.timedelta(minutes=5), t + dt.timedelta(minutes=15), 4000.0, "abc", 6, route=route,
            trip_id="f:t1", service_date=t.date(), headsign="Dock", intermediate_stops=(b,), delay_s=60),
        Leg("bikeshare", c, a, t + dt.timedelta(minutes=16), t + dt.timedelta(minutes=30), 3000.0, "xyz",
            provider=Provider("bs", "Bikes", "app://bike"), price=Money(1.5, "USD")),
    )
    result = PlanResult((Itinerary(legs, 0, 300.0, Money(4.0, "USD"), 120.0),), "v1", 3, None)
    body = result_to_dict(result)
    model = assert_mirrors_contract(body)
    assert model.itineraries[0].legs[2].provider is not None
    empty = result_to_dict(PlanResult((), "v1", 0, "no_connection"))
    assert assert_mirrors_contract(empty).reason == "no_connection"
    broken = dict(body)
    del broken["graph_version"]
    with pytest.raises(ValueError):
        PlanResponse.model_validate(broken)


# -- planning ---------------------------------------------------------------------------------------


async def test_get_plan_finds_itineraries_and_matches_the_engine(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get("/v1/plan", params=_params(city))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    model = assert_mirrors_contract(body)
    assert model.graph_version == city.graph.version and model.reason is None
    assert model.itineraries, "the synthetic city has a connection between its corners"
    requested = dt.datetime.fromisoformat(city.time)
    for it in model.itineraries:
        start, end = dt.datetime.fromisoformat(it.start_time), dt.datetime.fromisoformat(it.end_time)
        assert requested <= start < end and it.duration_s == int((end - start).total_seconds())
    # what the gateway sent is what the engine answers for the normalized request
    from maas.cache import normalize_plan_request
    from routing.engines import get_planner
    from routing.plan import Place

    req = normalize_plan_request(PlanRequest(Place.parse(city.origin), Place.parse(city.destination), requested))
    assert body == result_to_dict(get_planner(city.graph).plan(req))


async def test_post_equals_get_and_shares_its_cache_entry(client: httpx.AsyncClient, city: City) -> None:
    got = await client.get("/v1/plan", params=_params(city, modes="walk,transit", num_itineraries=3))
    assert got.headers["x-cache"] == "miss"
    posted = await client.post("/v1/plan", json=_params(city, modes=["transit", "walk"], num_itineraries=3))
    assert posted.status_code == 200 and posted.headers["x-cache"] == "hit"
    assert posted.content == got.content


async def test_nearby_identical_request_is_a_byte_identical_hit(client: httpx.AsyncClient, city: City) -> None:
    from maas.cache import snap_coordinate

    lat, lon = snap_coordinate(*(float(x) for x in city.origin.split(",")))
    # two points ~1.5 m apart inside one ~10 m cell of the cache grid
    first = await client.get("/v1/plan", params=_params(city, **{"from": f"{lat - 1e-5:.6f},{lon - 1e-5:.6f}"}))
    second = await client.get("/v1/plan", params=_params(city, **{"from": f"{lat + 1e-5:.6f},{lon + 1e-5:.6f}"}))
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert first.content == second.content
    later = await client.get("/v1/plan", params=_params(city, time=city.time.replace("T08:00", "T08:10")))
    assert later.headers["x-cache"] == "miss"


async def test_stop_places_and_arrive_by(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get("/v1/plan", params=_params(city, **{"from": f"stop:{city.stop_id}",
                                                             "to": f"stop:{city.other_stop_id}"}))
    assert r.status_code == 200
    model = assert_mirrors_contract(r.json())
    assert model.itineraries
    first_transit = next(leg for leg in model.itineraries[0].legs if leg.route is not None)
    assert first_transit.from_.stop_id is not None

    deadline = dt.datetime.fromisoformat(city.time) + dt.timedelta(hours=1)
    r = await client.get("/v1/plan", params=_params(city, time=deadline.isoformat(), arrive_by="true"))
    assert r.status_code == 200
    model = assert_mirrors_contract(r.json())
    assert model.itineraries
    assert all(dt.datetime.fromisoformat(it.end_time) <= deadline for it in model.itineraries)


async def test_no_route_is_a_200_with_a_reason(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get("/v1/plan", params={"from": "0.5,0.5", "to": "0.51,0.51", "time": city.time})
    assert r.status_code == 200
    body = r.json()
    assert body["itineraries"] == [] and body["reason"] == "outside_coverage"
    assert_mirrors_contract(body)


async def test_unknown_stop_is_a_422_naming_the_field(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get("/v1/plan", params=_params(city, to="stop:nofeed:nostop"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"field": "to", "message": "unknown stop 'nofeed:nostop'"}]


async def test_concurrent_identical_requests_plan_once(city: City) -> None:
    app = create_app(settings(), graph=city.graph)
    runtime = app.state.runtime
    calls = 0
    lock = threading.Lock()
    inner = runtime.loaded.planner

    class Counting:
        name = inner.name

        def plan(self, request: PlanRequest) -> PlanResult:
            nonlocal calls
            with lock:
                calls += 1
            result: PlanResult = inner.plan(request)
            return result

    runtime.loaded = dataclasses.replace(runtime.loaded, planner=Counting())
    async with client_for(app) as c:
        responses = await asyncio.gather(*(c.get("/v1/plan", params=_params(city, window_s=900)) for _ in range(12)))
    assert {r.status_code for r in responses} == {200}
    assert calls == 1
    statuses = [r.headers["x-cache"] for r in responses]
    assert statuses.count("miss") == 1 and set(statuses) <= {"miss", "shared", "hit"}
    assert len({r.content for r in responses}) == 1
