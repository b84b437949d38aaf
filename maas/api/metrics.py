"""Prometheus metrics and the ``/metrics`` route.

Each app owns a registry (tests build many apps in one process). Under several uvicorn
workers, ``PROMETHEUS_MULTIPROC_DIR`` is set by :func:`maas.serve.run_server` and ``/metrics``
aggregates every worker's values from that directory.
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.responses import Response

from maas.cache import CacheEvent

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ENGINE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram(
            "maas_http_request_duration_seconds", "HTTP request latency by route template.",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.requests = Counter(
            "maas_http_requests", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=r,
        )
        self.in_flight = Gauge(
            "maas_http_requests_in_flight", "HTTP requests being served.", registry=r, multiprocess_mode="livesum",
        )
        self.cache_events = Counter(
            "maas_cache_events", "Plan cache lookups: hit, local_hit (the in-process near cache in front "
            "of Redis), miss, shared (single-flight), bypass (served uncached because the cache backend "
            "failed) and error (a failed backend call).",
            ["backend", "event"], registry=r,
        )
        self.engine_seconds = Histogram(
            "maas_engine_duration_seconds", "Time inside the journey planner, by engine.",
            ["engine"], buckets=ENGINE_BUCKETS, registry=r,
        )
        self.graph_info = Gauge(
            "maas_graph_info", "The graph being served (value 1).", ["graph_version"], registry=r,
            multiprocess_mode="liveall",
        )

    def cache_event_counter(self, backend: str) -> dict[CacheEvent, Counter]:
        events: tuple[CacheEvent, ...] = ("hit", "local_hit", "miss", "shared", "bypass", "error")
        return {e: self.cache_events.labels(backend, e) for e in events}

    def exposition(self) -> bytes:
        mp_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if mp_dir and os.path.isdir(mp_dir):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=mp_dir)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Request latency histograms per route, cache hits/misses/errors, engine time, in-flight "
    "requests, in the Prometheus text format. Never cached.",
    response_class=Response,
    responses={
        200: {
            "content": {
                CONTENT_TYPE_LATEST: {
                    "schema": {"type": "string"},
                    "example": '# TYPE maas_cache_events_total counter\n'
                    'maas_cache_events_total{backend="redis",event="hit"} 42.0\n',
                }
            },
            "description": "Prometheus text exposition format.",
        }
    },
)
async def metrics_endpoint(metrics: Annotated[Metrics, Depends(get_metrics)]) -> Response:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
