"""Cached ``GET /v1/plan`` through the whole app in process: is a keyless hit slowed by key checks?

    .venv/bin/python -m benchmarks.plan_fast_path [--graph DIR] [--repeat 20000] [--rounds 5]

Builds the 60-stop synthetic city (seed 1) unless ``--graph`` names an artifact, creates the app
(``cors_origins=[https://museum.example]``, or none with ``--no-cors-settings``; in-process cache), plans one query once (a miss), then
calls the ASGI app directly -- every middleware, no HTTP client or socket -- ``--repeat`` times per
scenario and round, and reports the median and the best of the rounds' mean microseconds per request:

- ``keyless``: no ``Origin`` (an API client);
- ``keyless, settings origin``: ``Origin`` in ``MAAS_CORS_ORIGINS`` (a browser on an allowed site);
- ``keyless, key origin``: ``Origin`` allowed by a widget key only (read through the origins cache);
- ``widget key``: ``X-API-Key`` from its origin: the route's key check (cached lookup, rate limit).

The last two exist only where widget keys open CORS (skipped on older code), so the same script run
against an export of an older commit (``PYTHONPATH=that_tree``) gives the before numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

MUSEUM = "https://museum.example"
HOTEL = "https://hotel.example"


def _build_city(root: Path) -> Path:
    from feeds.synth import synth_city
    from routing.build import build_graph

    city = synth_city(root / "city", stops=60, seed=1)
    return Path(build_graph([city.gtfs], osm=city.osm, out=root / "graph").path)


def _query(graph: Any) -> bytes:
    """A plan between the first and the last stop at 08:00 on the graph's first Tuesday."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    a, b = graph.stop(0), graph.stop(graph.n_stops - 1)
    start = graph.meta.base_date
    day = start + dt.timedelta(days=(7 - start.weekday()) % 7 + 1)
    when = dt.datetime(day.year, day.month, day.day, 8, tzinfo=ZoneInfo(graph.timezone))
    return urlencode({"from": f"{a.lat:.6f},{a.lon:.6f}", "to": f"{b.lat:.6f},{b.lon:.6f}",
                      "time": when.isoformat()}).encode()


def _scope(query: bytes, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/v1/plan", "raw_path": b"/v1/plan", "root_path": "", "query_string": query,
            "headers": [(b"host", b"maas.test"), (b"accept", b"application/json"), *headers],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def _call(app: Any, scope: dict[str, Any]) -> tuple[int, dict[bytes, bytes]]:
    status = 0
    headers: dict[bytes, bytes] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.update(message.get("headers", []))

    await app(dict(scope), receive, send)
    return status, headers


async def _time_us(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        await call()
    return (time.perf_counter() - t0) / repeat * 1e6


async def run(graph_dir: Path, repeat: int, rounds: int, data_dir: Path, cors_origins: list[str]) -> dict[str, list[float]]:
    import logging

    from maas.app import create_app
    from maas.settings import Settings
    from routing.graph import Graph

    logging.disable(logging.WARNING)
    graph = Graph.load(graph_dir)
    settings = Settings(graph=None, redis_url=None, cors_origins=cors_origins, data_dir=data_dir, access_log=False,
                        warm_up=False, key_rate_per_s=1e9, key_burst=10**9)
    app = create_app(settings, graph=graph)
    query = _query(graph)
    scenarios: dict[str, dict[str, Any]] = {
        "keyless": _scope(query, []),
    }
    if cors_origins:
        scenarios["keyless, settings origin"] = _scope(query, [(b"origin", MUSEUM.encode())])
    try:
        from maas.identity.keys import active_widget_origins, create_key  # noqa: F401 -- only where keys open CORS
    except ImportError:
        pass
    else:
        _, token = create_key(app.state.operations.db, [f"widget:{HOTEL}"], rate_per_s=1e9)
        scenarios["keyless, key origin"] = _scope(query, [(b"origin", HOTEL.encode())])
        scenarios["widget key"] = _scope(query, [(b"origin", HOTEL.encode()), (b"x-api-key", token.encode())])
    status, headers = await _call(app, scenarios["keyless"])  # the miss that fills the cache
    assert status == 200, status
    results: dict[str, list[float]] = {name: [] for name in scenarios}
    for name, scope in scenarios.items():  # every scenario answers a hit
        status, headers = await _call(app, scope)
        assert status == 200 and headers.get(b"x-cache") == b"hit", (name, status, headers)
        await _time_us(functools.partial(_call, app, scope), min(repeat, 2000))  # warm
    for _ in range(rounds):  # interleaved rounds: drift on a shared machine hits every scenario alike
        for name, scope in scenarios.items():
            results[name].append(await _time_us(functools.partial(_call, app, scope), repeat))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graph", type=Path, help="a built artifact (default: build the 60-stop synthetic city)")
    parser.add_argument("--repeat", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-cors-settings", action="store_true", help="MAAS_CORS_ORIGINS empty")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maas-fastpath-") as tmp:
        graph_dir = args.graph or _build_city(Path(tmp))
        origins = [] if args.no_cors_settings else [MUSEUM]
        out = asyncio.run(run(graph_dir, args.repeat, args.rounds, Path(tmp) / "data", origins))
    print(f"cached GET /v1/plan in process, cors_origins={origins}, {args.rounds} rounds x {args.repeat} requests")
    print("| scenario | median us/request | best round |\n|---|---:|---:|")
    for name, samples in out.items():
        print(f"| {name} | {statistics.median(samples):.1f} | {min(samples):.1f} |")


if __name__ == "__main__":
    main()
