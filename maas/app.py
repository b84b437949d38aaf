"""The FastAPI application: ``create_app(settings)``.

``create_app`` loads the graph named by the settings (memory-mapped, so several workers share
its pages), picks the cache backend (Redis when ``MAAS_REDIS_URL`` is set, else an in-process
LRU) and wires routers, problem handlers and middleware. :func:`factory` is what uvicorn
workers call (``uvicorn --factory maas.app:factory``): settings from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from maas.api import alerts, analysis, auth, feeds, health, jobs, metrics, plan, stops, widget
from maas.api.cors import KeyCORSMiddleware, KeyOrigins
from maas.api.deps import Runtime
from maas.api.metrics import Metrics
from maas.api.middleware import GZipWhenAccepted, RequestContextMiddleware
from maas.api.problems import PROBLEM_MEDIA_TYPE, FieldError, Problem, install_problem_handlers
from maas.cache import LRUCache, ResponseCache, make_backend
from maas.identity.keys import active_widget_origins
from maas.logging import configure_logging, flush_logs
from maas.publish.operations import Operations
from maas.publish.pointer import current_artifact
from maas.settings import Settings
from routing.graph import Graph

log = logging.getLogger("maas.app")

API_VERSION = "1.0.0"
DESCRIPTION = """Multimodal trip planning over GTFS and OpenStreetMap.

Places are `LAT,LON` or `stop:FEED:STOP_ID`; times are ISO 8601 with a UTC offset; every id is
`FEED:ID`. Errors are RFC 9457 `application/problem+json`; a trip with no route is a 200 with an
empty list and a `reason`.
"""


def create_app(settings: Settings | None = None, *, graph: Graph | None = None) -> FastAPI:
    """Build the app. ``graph`` overrides ``settings.graph`` (tests share one loaded graph)."""
    settings = settings or Settings()
    app_metrics = Metrics()
    backend = make_backend(settings.redis_url, max_entries=settings.cache_max_entries,
                           timeout_s=settings.redis_timeout_s)
    counters = app_metrics.cache_event_counter(backend.name)
    near = LRUCache(settings.cache_local_entries) if settings.redis_url and settings.cache_local_entries else None
    cache = ResponseCache(
        backend,
        local=near,
        ttl_s=settings.cache_ttl_s,
        retry_after_s=settings.redis_retry_after_s,
        on_event=lambda event: counters[event].inc(),
    )
    runtime = Runtime(settings, app_metrics, cache)
    deployed = current_artifact(settings.data_dir) if graph is None else None  # a publish outlives restarts
    if deployed is not None:
        if settings.graph is not None and Path(settings.graph).resolve() != Path(deployed).resolve():
            log.warning("serving %s, the graph last published into %s, instead of %s",
                        deployed, settings.data_dir, settings.graph)
        graph = Graph.load(deployed, verify=settings.verify_graph)
    if graph is None and settings.graph is not None:
        graph = Graph.load(settings.graph, verify=settings.verify_graph)
    operations = Operations(settings, runtime)
    if graph is not None:
        runtime.install(graph)
        log.info("serving graph %s from %s (cache: %s)", graph.version, graph.path, backend.name)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.warm_up and runtime.loaded is not None:
            await runtime.warm_up()  # before the first request is accepted: ready means fast
        await operations.start()
        refresher = (  # GBFS availability at the feeds' ttl; changes bump the realtime epoch
            asyncio.create_task(runtime.refresh_sharing_forever(), name="maas-sharing-refresh")
            if settings.sharing_refresh else None
        )
        await runtime.refresh_realtime_once()  # GTFS-RT: the first message before the first request
        rt_refresher = (  # then every gtfs_rt_refresh_s; a new message bumps the realtime epoch
            asyncio.create_task(runtime.refresh_realtime_forever(), name="maas-gtfs-rt-refresh")
            if runtime.realtime is not None and settings.gtfs_rt_refresh_s > 0 else None
        )
        try:
            yield
        finally:
            if rt_refresher is not None:
                rt_refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await rt_refresher
            if refresher is not None:
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
            await operations.close()
            await runtime.aclose()
            flush_logs()

    app = FastAPI(
        title="MaaS trip planner",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.metrics = app_metrics
    app.state.runtime = runtime
    app.state.operations = operations

    install_problem_handlers(app)
    for r in (plan.router, stops.router, health.router, metrics.router, feeds.router, jobs.router, auth.router,
              widget.router, analysis.router, alerts.router):
        app.include_router(r)

    # innermost first: cache-hit fast path, body limit, compression, request context (ids,
    # metrics, logs), CORS outermost
    plan_route = next(r for r in plan.router.routes if getattr(r, "path", None) == "/v1/plan"
                      and "GET" in getattr(r, "methods", ()))
    app.add_middleware(plan.PlanHitFastPath, runtime=runtime, route=plan_route)
    app.add_middleware(feeds.UploadBodyLimit, max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(GZipWhenAccepted, minimum_size=1000)
    app.add_middleware(RequestContextMiddleware, metrics=app_metrics, access_log=settings.access_log)
    # the settings' origins plus those of active widget keys (read through a cache of ~2 s)
    app.add_middleware(
        KeyCORSMiddleware,
        key_origins=KeyOrigins(lambda: active_widget_origins(operations.db)),
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "X-Cache", "Retry-After"],
        max_age=600,
    )

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every error response documented as problem+json."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components["Problem"].pop("$defs", None)
    components["FieldError"] = FieldError.model_json_schema()
    for path_item in schema.get("paths", {}).values():
        for op in path_item.values():
            responses = op.setdefault("responses", {})
            responses.setdefault("422", {"description": "Invalid request (the fields are named in `errors`)."})
            responses.setdefault("500", {"description": "Unexpected error (no details are disclosed)."})
            if "requestBody" in op:
                responses.setdefault("413", {"description": "Request body too large."})
            for code, resp in responses.items():
                if str(code)[0] in "45":
                    resp["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema


def factory() -> FastAPI:
    """App factory for uvicorn workers: settings from ``MAAS_*`` environment variables."""
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    # Engine threads run Python between their numba kernels; with the default 5 ms switch
    # interval, every step of the event loop may wait that long for the GIL while one runs.
    sys.setswitchinterval(settings.switch_interval_s)
    return create_app(settings)
