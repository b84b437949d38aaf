"""Widget keys on the read routes a widget calls, over HTTP (in process).

Without a key those routes stay the open API; a key that is sent must be valid (401), a widget key
is honoured only from its own ``Origin`` (403) and every keyed request spends that key's rate (429
with Retry-After) -- also for a cached ``GET /v1/plan``, which the cache-hit fast path would
otherwise answer before any dependency runs. CORS allows the settings' origins plus those of the
active widget keys, read through a short cache: a preflight from a key's origin passes, and is
refused again shortly after the key is revoked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from maas.api.cors import KEY_ORIGINS_TTL_S, KeyOrigins
from maas.app import create_app
from maas.catalog.errors import CatalogError
from maas.identity.keys import active_widget_origins, create_key, revoke_key
from routing.graph import Graph
from tests.maas.conftest import City, settings
from tests.maas.test_publish import bearer, operator_app, plan_params, running

pytestmark = pytest.mark.anyio

MUSEUM = "https://museum.example"
EVIL = "https://evil.example"
UNKNOWN_KEY = {"X-API-Key": "maas_k0000000000_" + "x" * 43}


def read_routes(city: City) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, request options) of every read route the widget may call."""
    stop = city.stop_id
    return [
        ("GET", "/v1/plan", {"params": plan_params(city)}),
        ("POST", "/v1/plan", {"json": plan_params(city)}),
        ("GET", "/v1/stops", {"params": {"q": city.graph.stop(0).name.split()[0]}}),
        ("GET", "/v1/stops", {"params": {"near": city.origin}}),
        ("GET", f"/v1/stops/{stop}", {}),
        ("GET", f"/v1/stops/{stop}/departures", {"params": {"time": city.time}}),
        ("GET", "/v1/isochrone", {"params": {"from": city.origin, "time": city.time, "minutes": "10",
                                              "window_s": "0"}}),
    ]


async def call(c: httpx.AsyncClient, route: tuple[str, str, dict[str, Any]], headers: dict[str, str]) -> httpx.Response:
    method, path, options = route
    return await c.request(method, path, headers=headers, **options)


def x_api_key(app: Any, *scopes: str, rate_per_s: float | None = None) -> dict[str, str]:
    """A new key sent the way the widget sends it."""
    token = bearer(app, *scopes, rate_per_s=rate_per_s)["Authorization"].split(" ", 1)[1]
    return {"X-API-Key": token}


async def test_read_routes_check_a_key_only_when_one_is_sent(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data")
    async with running(app) as c:
        widget = x_api_key(app, f"widget:{MUSEUM}", rate_per_s=1000.0)  # rates: the next test
        admin = bearer(app, "admin", rate_per_s=1000.0)
        for route in read_routes(city):
            name = f"{route[0]} {route[1]}"
            assert (await call(c, route, {})).status_code == 200, name  # no key: the open API
            r = await call(c, route, UNKNOWN_KEY)
            assert r.status_code == 401, name
            assert r.headers["content-type"] == "application/problem+json"
            assert (await call(c, route, {**widget, "Origin": MUSEUM})).status_code == 200, name
            r = await call(c, route, {**widget, "Origin": EVIL})
            assert r.status_code == 403 and MUSEUM in r.json()["detail"], name
            assert (await call(c, route, widget)).status_code == 403, name  # no Origin: not a page of the museum
            assert (await call(c, route, admin)).status_code == 200, name  # other keys: no origin binding
        # a widget key stays read-only elsewhere: it cannot write, nor read what operators read
        r = await c.get("/v1/audit", headers={**widget, "Origin": MUSEUM})
        assert r.status_code == 403


async def test_keyed_reads_spend_the_keys_rate(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data", key_rate_per_s=0.5, key_burst=3, cors_origins=[MUSEUM])
    async with running(app) as c:
        widget = {**x_api_key(app, f"widget:{MUSEUM}"), "Origin": MUSEUM}
        routes = read_routes(city)
        stops, stop = routes[2], routes[4]
        codes = [(await call(c, route, widget)).status_code for route in (stops, stop, stops, stop)]
        assert codes == [200, 200, 200, 429]  # one bucket per key, across routes
        r = await call(c, stops, widget)
        assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
        assert 1 <= int(r.headers["retry-after"]) <= 2
        # the widget may read the refusal: CORS headers are on it, Retry-After exposed
        assert r.headers["access-control-allow-origin"] == MUSEUM
        assert "retry-after" in r.headers["access-control-expose-headers"].lower()
        assert (await call(c, stops, {"Origin": MUSEUM})).status_code == 200  # keyless: not that key's budget
        other = {**x_api_key(app, f"widget:{MUSEUM}"), "Origin": MUSEUM}
        assert (await call(c, stops, other)).status_code == 200  # another key, another bucket


async def test_a_cached_plan_is_not_served_to_a_key_before_its_check(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data", key_rate_per_s=0.5, key_burst=2)
    async with running(app) as c:
        params = plan_params(city)
        first = await c.get("/v1/plan", params=params)
        assert first.status_code == 200 and first.headers["x-cache"] == "miss"
        hit = await c.get("/v1/plan", params=params)
        assert hit.headers["x-cache"] == "hit" and hit.content == first.content  # keyless: the fast path
        assert "origin" in hit.headers["vary"].lower()  # a shared cache must not give it to a page elsewhere
        widget = x_api_key(app, f"widget:{MUSEUM}")
        for headers in (UNKNOWN_KEY, {"Authorization": UNKNOWN_KEY["X-API-Key"]},
                        {"Authorization": f"Bearer {UNKNOWN_KEY['X-API-Key']}"}):
            assert (await c.get("/v1/plan", params=params, headers=headers)).status_code == 401
        r = await c.get("/v1/plan", params=params, headers={**widget, "Origin": EVIL})
        assert r.status_code == 403  # (this spent a token: checks come after the rate)
        r = await c.get("/v1/plan", params=params, headers={**widget, "Origin": MUSEUM})
        assert r.status_code == 200 and r.headers["x-cache"] == "hit" and r.content == first.content
        r = await c.get("/v1/plan", params=params, headers={**widget, "Origin": MUSEUM})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1  # cached, yet limited
        assert (await c.get("/v1/plan", params=params)).headers["x-cache"] == "hit"


def preflight_headers(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-api-key"}


async def wait_for(check: Callable[[], Any], timeout_s: float) -> float:
    """Seconds until ``await check()`` is true; fails after ``timeout_s``."""
    t0 = time.monotonic()
    while not await check():
        assert time.monotonic() - t0 < timeout_s, f"not within {timeout_s} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - t0


async def test_a_widget_keys_origin_passes_cors_until_the_key_is_revoked(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data", cors_origins=["https://settings.example"])
    async with running(app) as c:
        r = await c.options("/v1/plan", headers=preflight_headers(MUSEUM))
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers  # no key yet
        key, token = create_key(app.state.operations.db, [f"widget:{MUSEUM}"], name="museum")
        create_key(app.state.operations.db, [f"widget:{EVIL}:8443"], name="another site")

        async def museum_allowed() -> bool:
            return (await c.options("/v1/plan", headers=preflight_headers(MUSEUM))).status_code == 200

        assert await wait_for(museum_allowed, KEY_ORIGINS_TTL_S + 1.0) <= KEY_ORIGINS_TTL_S + 0.5
        r = await c.options("/v1/stops", headers=preflight_headers(MUSEUM))
        assert r.headers["access-control-allow-origin"] == MUSEUM
        assert "x-api-key" in r.headers["access-control-allow-headers"].lower()
        # the widget's requests: the key's origin is mirrored back, with or without the key
        r = await c.get("/v1/stops", params={"q": city.graph.stop(0).name}, headers={"X-API-Key": token, "Origin": MUSEUM})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == MUSEUM
        # a browser's spelling of the origin is matched as the key stores it (lower case, no default port)
        r = await c.options("/v1/plan", headers=preflight_headers("https://Museum.Example:443"))
        assert r.status_code == 200
        # other origins: a key for another port of evil.example does not open evil.example
        assert (await c.options("/v1/plan", headers=preflight_headers(EVIL))).status_code == 400
        assert (await c.options("/v1/plan", headers=preflight_headers(EVIL + ":8443"))).status_code == 200
        assert (await c.options("/v1/plan", headers=preflight_headers("null"))).status_code == 400
        settings_origin = await c.options("/v1/plan", headers=preflight_headers("https://settings.example"))
        assert settings_origin.status_code == 200  # the settings' list still holds

        revoke_key(app.state.operations.db, key.key_id)

        async def museum_refused() -> bool:
            return (await c.options("/v1/plan", headers=preflight_headers(MUSEUM))).status_code == 400

        assert await wait_for(museum_refused, KEY_ORIGINS_TTL_S + 1.0) <= KEY_ORIGINS_TTL_S + 0.5
        r = await c.get("/v1/stops", params={"q": "x"}, headers={"Origin": MUSEUM})
        assert "access-control-allow-origin" not in r.headers


async def test_a_star_in_settings_still_allows_any_origin(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data", cors_origins=["*"])
    async with running(app) as c:
        r = await c.options("/v1/plan", headers=preflight_headers("https://anywhere.example"))
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
        r = await c.get("/v1/stops", params={"q": "x"}, headers={"Origin": "https://anywhere.example"})
        assert r.headers["access-control-allow-origin"] == "*"
        widget = x_api_key(app, f"widget:{MUSEUM}")  # CORS is open, the key still binds to its origin
        r = await c.get("/v1/stops", params={"q": "x"}, headers={**widget, "Origin": "https://anywhere.example"})
        assert r.status_code == 403


async def test_key_origins_are_read_once_per_period_and_survive_a_catalog_outage() -> None:
    reads: list[float] = []
    state: dict[str, Any] = {"origins": frozenset({MUSEUM}), "fail": False}

    def load() -> frozenset[str]:
        reads.append(time.monotonic())
        time.sleep(0.02)  # a database round trip: concurrent requests must share it
        if state["fail"]:
            raise CatalogError("catalog down")
        return frozenset(state["origins"])

    cache = KeyOrigins(load, ttl_s=0.2)
    results = await asyncio.gather(*(cache.current() for _ in range(20)))
    assert results == [frozenset({MUSEUM})] * 20 and len(reads) == 1
    state["origins"] = frozenset({MUSEUM, EVIL})
    assert await cache.current() == frozenset({MUSEUM}) and len(reads) == 1  # within the period: cached
    await asyncio.sleep(0.25)
    assert await cache.current() == frozenset({MUSEUM, EVIL}) and len(reads) == 2
    state["fail"] = True
    await asyncio.sleep(0.25)
    assert await cache.current() == frozenset({MUSEUM, EVIL}) and len(reads) == 3  # the last known origins
    assert await cache.current() == frozenset({MUSEUM, EVIL}) and len(reads) == 3  # no retry storm


async def test_active_widget_origins_come_from_keys_not_revoked(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data")
    db = app.state.operations.db
    museum, _ = create_key(db, ["widget:HTTPS://Museum.Example:443", "widget:http://localhost:8080"])
    create_key(db, ["admin", "feeds:write:bus"])
    gone, _ = create_key(db, [f"widget:{EVIL}"])
    revoke_key(db, gone.key_id)
    assert active_widget_origins(db) == {MUSEUM, "http://localhost:8080"}
    revoke_key(db, museum.key_id)
    assert active_widget_origins(db) == frozenset()


def test_the_stop_name_index_is_built_when_a_graph_is_installed(city: City) -> None:
    graph = Graph.load(city.path)  # a fresh object: nothing searched on it yet
    assert "stop_name_index" not in vars(graph)
    app = create_app(settings(), graph=graph)
    assert app.state.runtime.loaded.graph is graph
    assert "stop_name_index" in vars(graph)  # the cached_property was computed at install
