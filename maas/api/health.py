"""Liveness and readiness: ``/v1/health`` answers while the process runs, ``/v1/ready`` once a
graph is loaded (load balancers and compose health checks route on it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from maas.api.deps import GraphDep, RuntimeDep
from maas.api.models import Health, Readiness

router = APIRouter(prefix="/v1", tags=["operations"])


@router.get("/health", summary="Liveness", response_model=Health,
            responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}})
async def health() -> dict[str, Any]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: a graph is loaded",
    response_model=Readiness,
    responses={
        200: {"content": {"application/json": {"example": {
            "status": "ready", "graph_version": "3f2a9c0d1b7e4a55", "realtime_epoch": 0, "engine": "raptor",
            "stops": 1234, "cache": "redis", "cache_available": True}}}},
        503: {"description": "Problem details (RFC 9457): no graph is loaded yet."},
    },
)
async def ready(runtime: RuntimeDep, loaded: GraphDep) -> dict[str, Any]:
    return {
        "status": "ready",
        "graph_version": loaded.version,
        "realtime_epoch": runtime.realtime_epoch,
        "engine": loaded.engine,
        "stops": loaded.graph.n_stops,
        "cache": runtime.cache.backend.name,
        "cache_available": runtime.cache.available,
    }
