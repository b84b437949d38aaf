"""Errors (RFC 9457 everywhere, never a trace), request ids, logs, CORS, compression, metrics, OpenAPI."""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from maas.app import create_app
from maas.logging import JsonFormatter, coarsen
from routing.plan import PlanRequest, PlanResult
from tests.maas.conftest import City, client_for, settings

pytestmark = pytest.mark.anyio


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["type"]
    assert body["request_id"] == r.headers["x-request-id"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "45.5,-122.6"}, "from"),
        ({"from": "nowhere", "to": "45.5,-122.6"}, "from"),
        ({"from": "45.5,-122.6", "to": "91,0"}, "to"),
        ({"from": "45.5,-122.6", "to": "nan,nan"}, "to"),
        ({"from": "45.5,-122.6", "to": "stop:nocolon"}, "to"),
        ({"from": "45.5,-122.6", "to": "45.6,-122.6", "time": "tomorrow"}, "time"),
        ({"from": "45.5,-122.6", "to": "45.6,-122.6", "time": "2021-12-02T08:00:00"}, "time"),
        ({"from": "45.5,-122.6", "to": "45.6,-122.6", "time": "0001-01-01T00:00:00+00:00"}, "time"),
        ({"from": "45.5,-122.6", "to": "45.6,-122.6", "modes": "walk,teleport"}, "modes"),
        ({"from": "45.5,-122.6", "to": "45.6,-122.6", "num_itineraries": "0"}, "num_itineraries"),
        ({"from": "45.5,-122.6", "to": "45.6,-122.6", "window_s": "99999"}, "window_s"),
        ({"from": "45.5,-122.6", "to": "45.6,-122.6", "max_walk_m": "-1"}, "max_walk_m"),
        ({"from": "45.5,-122.6", "to": "45.6,-122.6", "max_walk_m": "nan"}, "max_walk_m"),
        ({"from": "45.5,-122.6", "to": "45.6,-122.6", "arrive_by": "maybe"}, "arrive_by"),
    ],
)
async def test_bad_plan_requests_are_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    body = assert_problem(await client.get("/v1/plan", params=params), 422)
    assert field in [e["field"] for e in body["errors"]]
    assert body["type"] == "urn:maas:problem:invalid-request"


async def test_bad_post_bodies(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/plan", content=b'{"from": ', headers={"content-type": "application/json"})
    assert assert_problem(r, 422)["errors"][0]["field"] == "body"
    r = await client.post("/v1/plan", json={"from": "45.5,-122.6", "to": "45.6,-122.6", "hops": 3})
    assert "hops" in [e["field"] for e in assert_problem(r, 422)["errors"]]
    r = await client.post("/v1/plan", json={"from": "45.5,-122.6", "to": "45.6,-122.6", "modes": ["warp"]})
    assert any(e["field"].startswith("modes") for e in assert_problem(r, 422)["errors"])


async def test_oversized_bodies_are_413(client: httpx.AsyncClient) -> None:
    big = {"from": "45.5,-122.6", "to": "45.6,-122.6", "time": "x" * 70_000}
    assert_problem(await client.post("/v1/plan", json=big), 413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(20):
            yield b" " * 8192

    r = await client.post("/v1/plan", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(r, 413)


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v2/plan"), 404)
    r = await client.put("/v1/plan")
    assert_problem(r, 405)
    assert "GET" in r.headers["allow"]


async def test_an_engine_crash_is_a_bare_500(city: City, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(settings(), graph=city.graph)

    class Broken:
        name = "broken"

        def plan(self, request: PlanRequest) -> PlanResult:
            raise RuntimeError("secret internal detail /srv/maas/engine.py")

    runtime = app.state.runtime
    runtime.loaded = dataclasses.replace(runtime.loaded, planner=Broken())
    with caplog.at_level(logging.ERROR):
        async with client_for(app) as c:
            r = await c.get("/v1/plan", params={"from": "45.5,-122.6", "to": "45.6,-122.6"},
                            headers={"x-request-id": "req-123"})
    body = assert_problem(r, 500)
    assert "secret" not in r.text and "engine.py" not in r.text
    assert body["request_id"] == "req-123" and "req-123" in body["detail"]
    assert any(rec.exc_info for rec in caplog.records), "the trace is logged on the server side"


async def test_without_a_graph_only_liveness_answers() -> None:
    async with client_for(create_app(settings())) as c:
        assert (await c.get("/v1/health")).json() == {"status": "ok"}
        r = await c.get("/v1/ready")
        assert_problem(r, 503)
        assert r.headers["retry-after"]
        assert_problem(await c.get("/v1/plan", params={"from": "1,1", "to": "2,2"}), 503)
        assert_problem(await c.get("/v1/stops/x:y"), 503)


async def test_ready_reports_the_graph(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get("/v1/ready")
    assert r.status_code == 200
    assert r.json()["graph_version"] == city.graph.version and r.json()["cache"] == "lru"


# -- request ids and logs ---------------------------------------------------------------------------


async def test_request_ids_are_echoed_or_made(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/health", headers={"x-request-id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/v1/health", headers={"x-request-id": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


def test_coarsen_rounds_coordinates_to_three_decimals() -> None:
    assert coarsen("from 45.523064,-122.676483 at 08:00") == "from 45.523,-122.676 at 08:00"
    assert coarsen("radius 500.5 m, 12.25") == "radius 500.5 m, 12.25"


async def test_logs_hold_no_precise_coordinates(
    client: httpx.AsyncClient, city: City, caplog: pytest.LogCaptureFixture
) -> None:
    precise = "91.123456,-122.654321"
    with caplog.at_level(logging.DEBUG):
        await client.get("/v1/plan", params={"from": city.origin, "to": city.destination, "time": city.time},
                         headers={"x-request-id": "log-test"})
        await client.get("/v1/plan", params={"from": precise, "to": city.destination})
        logging.getLogger("maas.test").warning("user asked for %s", precise, extra={"place": precise, "lat": 45.523064})
    formatter = JsonFormatter()
    lines = [formatter.format(rec) for rec in caplog.records]
    access = [json.loads(line) for line in lines if '"maas.access"' in line]
    assert any(a["request_id"] == "log-test" and a["route"] == "/v1/plan" and a["status"] == 200 for a in access)
    joined = "\n".join(lines)
    for raw in (precise, city.origin, city.destination, "45.523064"):
        assert raw not in joined
    assert "91.123,-122.654" in joined


def test_log_lines_are_batched_but_warnings_go_out_at_once() -> None:
    import io

    from maas.logging import BatchingStreamHandler

    stream = io.StringIO()
    handler = BatchingStreamHandler(stream, capacity=3, interval_s=60)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("maas.test.batching")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        logger.info("one")
        logger.info("two")
        assert stream.getvalue() == ""  # batched
        logger.warning("trouble at 45.523064,-122.676483")
        lines = [json.loads(x) for x in stream.getvalue().splitlines()]
        assert [x["msg"] for x in lines] == ["one", "two", "trouble at 45.523,-122.676"]
        logger.info("three")
        handler.flush()
        assert json.loads(stream.getvalue().splitlines()[-1])["msg"] == "three"
    finally:
        logger.removeHandler(handler)
        handler.close()


# -- CORS, compression ------------------------------------------------------------------------------


async def test_cors_allowlist(city: City) -> None:
    app = create_app(settings(cors_origins=["https://museum.example"]), graph=city.graph)
    async with client_for(app) as c:
        pre = await c.options("/v1/plan", headers={"origin": "https://museum.example",
                                                   "access-control-request-method": "GET"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://museum.example"
        r = await c.get("/v1/health", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        r = await c.get("/v1/health", headers={"origin": "https://museum.example"})
        assert r.headers["access-control-allow-origin"] == "https://museum.example"


def test_cors_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from maas.settings import Settings

    monkeypatch.setenv("MAAS_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("MAAS_CORS_ORIGINS", '["https://c.example"]')
    assert Settings().cors_origins == ["https://c.example"]


async def test_large_responses_are_gzipped(client: httpx.AsyncClient, city: City) -> None:
    params: dict[str, str | int] = {"from": city.origin, "to": city.destination, "time": city.time, "window_s": 3600}
    plain = await client.get("/v1/plan", params=params, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and len(plain.content) > 1000
    raw = await client.get("/v1/plan", params=params, headers={"accept-encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.json() == plain.json()  # httpx decodes; the bytes on the wire were smaller
    assert int(raw.headers["content-length"]) < len(plain.content)
    assert gzip.decompress(gzip.compress(plain.content)) == plain.content


# -- metrics and OpenAPI ----------------------------------------------------------------------------


async def test_metrics_count_routes_cache_and_engine(client: httpx.AsyncClient, city: City) -> None:
    params = {"from": city.origin, "to": city.destination, "time": city.time}
    await client.get("/v1/plan", params=params)
    await client.get("/v1/plan", params=params)
    await client.get(f"/v1/stops/{city.stop_id}")
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "x-cache" not in r.headers and r.headers["cache-control"] == "no-store"
    text = r.text

    def value(line_start: str) -> float:
        return float(next(line for line in text.splitlines() if line.startswith(line_start)).rsplit(" ", 1)[1])

    assert value('maas_http_request_duration_seconds_count{method="GET",route="/v1/plan"}') == 2
    assert value('maas_http_requests_total{method="GET",route="/v1/stops/{stop_id}",status="200"}') == 1
    assert value('maas_cache_events_total{backend="lru",event="hit"}') == 1
    assert value('maas_cache_events_total{backend="lru",event="miss"}') == 1
    assert value('maas_engine_duration_seconds_count{engine="raptor"}') == 1
    assert value("maas_http_requests_in_flight") == 1  # this very request
    assert f'maas_graph_info{{graph_version="{city.graph.version}"}} 1.0' in text


async def test_openapi_documents_problems_and_examples(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "Problem" in schema["components"]["schemas"]
    ops = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert {p for p, _, _ in ops} >= {"/v1/plan", "/v1/stops", "/v1/stops/{stop_id}", "/v1/stops/{stop_id}/departures",
                                      "/v1/health", "/v1/ready", "/metrics"}
    for path, method, op in ops:
        for code, resp in op["responses"].items():
            if code[0] in "45":
                assert list(resp["content"]) == ["application/problem+json"], (path, method, code)
        ok = next(r for c, r in sorted(op["responses"].items()) if c.startswith("2"))["content"]  # 200, 202...
        assert any("example" in media or "examples" in media for media in ok.values()), (path, method)
        for param in op.get("parameters", []):
            assert "examples" in param or "example" in param or param["schema"].get("type") == "boolean", (
                path, method, param["name"])
        if "requestBody" in op and "application/json" in op["requestBody"]["content"]:  # not uploads
            body_schema = op["requestBody"]["content"]["application/json"]["schema"]
            ref = body_schema["$ref"].rsplit("/", 1)[1]
            assert schema["components"]["schemas"][ref]["examples"]
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
