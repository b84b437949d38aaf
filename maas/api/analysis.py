"""``POST /v1/travel-times`` and ``GET /v1/isochrone``: analysis on the built-in engine.

Semantics are r5py's (see :mod:`routing.analysis`). A request is bounded: at most
:data:`MAX_PAIRS` origin x destination pairs (larger jobs belong to ``maas matrix``,
which fans out on Dask), and the body limit of the gateway applies. The work runs on the
runtime's engine threads, one request per thread, so the event loop stays free.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from maas.api.auth import WIDGET_KEY_RESPONSES, WidgetKey
from maas.api.deps import GraphDep, LoadedGraph, RuntimeDep
from maas.api.plan import parse_time
from maas.api.problems import TYPE_INVALID, ProblemException
from routing.analysis import AnalysisOptions, Points, TravelTimeComputer, TravelTimeMatrix
from routing.analysis.isochrones import isochrones
from routing.errors import BadRequest
from routing.plan import Place, parse_modes
from routing.raptor_planner import RaptorPlanner

router = APIRouter(prefix="/v1", tags=["analysis"])

MAX_PAIRS = 100_000
GEOJSON = "application/geo+json"
_PROBLEM: dict[str, Any] = {"description": "Problem details (RFC 9457)."}


class PointIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # no true -> 1.0

    id: str | int = Field(description="Unique within its list; echoed as from_id / to_id.")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class TravelTimesBody(BaseModel):
    """r5py's TravelTimeMatrix parameters."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,  # a boolean is not a number here
        json_schema_extra={
            "examples": [
                {
                    "origins": [{"id": "home", "lat": 45.0612, "lon": 7.6778}],
                    "destinations": [{"id": "work", "lat": 45.0702, "lon": 7.6861}],
                    "time": "2026-01-06T08:00:00+01:00",
                    "window_s": 600,
                    "percentiles": [25, 50, 75],
                }
            ]
        },
    )

    # sizes are checked by the route (origins x destinations <= MAX_PAIRS, a 422) and by
    # the body limit (a 413), not in the schema: a long list is a size problem, not bad data
    origins: list[PointIn] = Field(min_length=1)
    destinations: list[PointIn] = Field(min_length=1)
    time: str = Field(max_length=64, description="Departure, ISO 8601 with offset.")
    window_s: int = Field(600, ge=0, le=21_600, description="One departure per minute in this window.")
    percentiles: list[int] = Field([50], min_length=1, max_length=10, description="Of the per-minute times, 1..99.")
    modes: list[str] | str | None = Field(None, description="walk,transit (default), walk, or transit sub-modes.")
    max_time_min: int = Field(120, ge=1, le=360, description="Longer trips are unreachable (null).")
    max_walk_m: float = Field(2000.0, ge=0, le=50_000)


class TravelTimeRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    from_id: str
    to_id: str
    travel_time: int | None = Field(None, description="Minutes (one percentile); else travel_time_p{N} each.")


class TravelTimesOut(BaseModel):
    graph_version: str
    percentiles: list[int]
    columns: list[str]
    travel_times: list[TravelTimeRow]


def _options(loaded: LoadedGraph, runtime: RuntimeDep, time: str | None, window_s: int, percentiles: list[int],
             modes: list[str] | str | None, max_time_min: int, max_walk_m: float) -> AnalysisOptions:
    text = ",".join(modes) if isinstance(modes, list) else modes
    return AnalysisOptions(
        departure=parse_time(time), window_s=window_s, percentiles=tuple(percentiles),
        max_time_s=max_time_min * 60, modes=parse_modes(text), max_walk_m=max_walk_m,
        walk_mps=runtime.settings.walk_speed_mps,
    )  # fmt: skip


def _computer(loaded: LoadedGraph, options: AnalysisOptions) -> TravelTimeComputer:
    planner = loaded.planner if isinstance(loaded.planner, RaptorPlanner) else None
    return TravelTimeComputer(loaded.graph, options, planner)


def _points(rows: list[PointIn], name: str) -> Points:
    return Points.from_records(({"id": str(p.id), "lat": p.lat, "lon": p.lon} for p in rows), name)


def _wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept.split(",")[0]


@router.post(
    "/travel-times",
    summary="Travel-time matrix",
    response_model=TravelTimesOut,
    responses={
        200: {"content": {
            "application/json": {"example": {
                "graph_version": "3f2a9c0d1e2b4a5c", "percentiles": [50], "columns": ["from_id", "to_id", "travel_time"],
                "travel_times": [{"from_id": "home", "to_id": "work", "travel_time": 14}]}},
            "text/csv": {"schema": {"type": "string"}, "example": "from_id,to_id,travel_time\nhome,work,14\n"},
        }},
        413: {**_PROBLEM, "description": "The body is too large."},
        503: {**_PROBLEM, "description": "No graph is loaded yet."},
    },
    description=(
        "Minutes from every origin to every destination, r5py's TravelTimeMatrix: one departure per minute "
        f"of the window, the given percentiles of those times; null when not within max_time_min. At most "
        f"{MAX_PAIRS:,} pairs per request. `Accept: text/csv` answers CSV (empty cells for unreachable)."
    ),
)
async def travel_times(request: Request, body: TravelTimesBody, runtime: RuntimeDep, loaded: GraphDep) -> Response:
    pairs = len(body.origins) * len(body.destinations)
    if pairs > MAX_PAIRS:
        message = f"at most {MAX_PAIRS:,} origin x destination pairs per request, got {pairs:,} (use `maas matrix`)"
        raise ProblemException(422, f"destinations: {message}", type_=TYPE_INVALID, title="Invalid request",
                               errors=[("destinations", message)])
    options = _options(loaded, runtime, body.time, body.window_s, body.percentiles, body.modes,
                       body.max_time_min, body.max_walk_m)
    origins, dests = _points(body.origins, "origins"), _points(body.destinations, "destinations")

    def compute() -> TravelTimeMatrix:
        return _computer(loaded, options).matrix(origins, dests, threads=1)

    matrix = await runtime.run_engine("analysis", compute)
    if _wants_csv(request):
        buf = io.StringIO()
        matrix.write_csv(buf)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8")
    body_out = {
        "graph_version": loaded.version,
        "percentiles": list(matrix.percentiles),
        "columns": matrix.columns,
        "travel_times": matrix.records(),
    }
    return Response(orjson.dumps(body_out), media_type="application/json")


@router.get(
    "/isochrone",
    summary="Isochrones",
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {"schema": {"type": "object"}, "example": {
            "type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"travel_time": 15},
            "geometry": {"type": "Polygon", "coordinates": [[[7.67, 45.06], [7.69, 45.06], [7.68, 45.07], [7.67, 45.06]]]}}],
        }}}, "description": "A GeoJSON FeatureCollection."},
        503: {**_PROBLEM, "description": "No graph is loaded yet."},
        **WIDGET_KEY_RESPONSES,
    },
    description=(
        "Where one leaves `from` at `time` (over the window, at the given percentile) and arrives within each "
        "limit: a GeoJSON FeatureCollection with one (Multi)Polygon per limit, property `travel_time` (minutes)."
    ),
)
async def isochrone(
    _key: WidgetKey,
    runtime: RuntimeDep,
    loaded: GraphDep,
    frm: Annotated[str, Query(alias="from", max_length=200, description="Origin LAT,LON.",
                              openapi_examples={"turin": {"value": "45.0612,7.6778"}})],
    time: Annotated[str | None, Query(max_length=64, description="ISO 8601 with offset; default now.",
                                      openapi_examples={"morning": {"value": "2026-01-06T08:00:00+01:00"}})] = None,
    minutes: Annotated[str, Query(max_length=200, description="Limits in minutes, comma-separated.",
                                  openapi_examples={"three": {"value": "15,30,45"}})] = "15,30",
    window_s: Annotated[int, Query(ge=0, le=21_600, description="One departure per minute in this window.",
                                   openapi_examples={"ten_minutes": {"value": 600}})] = 600,
    percentile: Annotated[int, Query(ge=1, le=99, description="Of the per-minute travel times.",
                                     openapi_examples={"median": {"value": 50}})] = 50,
    modes: Annotated[str | None, Query(max_length=200, description="walk,transit (default), walk, or sub-modes.",
                                       openapi_examples={"default": {"value": "walk,transit"}})] = None,
    max_walk_m: Annotated[float, Query(ge=0, le=50_000, openapi_examples={"default": {"value": 2000}})] = 2000.0,
) -> Response:
    place = Place.parse(frm, "from")
    if place.lat is None or place.lon is None:
        raise BadRequest("from", "expected LAT,LON")
    try:
        limits = [int(m) for m in minutes.split(",") if m.strip()]
    except ValueError:
        raise BadRequest("minutes", f"expected whole minutes like 15,30,45, got {minutes!r}") from None
    if not limits or len(limits) > 12:
        raise BadRequest("minutes", "give 1 to 12 limits")
    if any(not 1 <= m <= 360 for m in limits):
        raise BadRequest("minutes", "each must be between 1 and 360")
    options = _options(loaded, runtime, time, window_s, [percentile], modes, max(120, *limits), max_walk_m)
    lat, lon = place.lat, place.lon

    def compute() -> dict[str, Any]:
        return isochrones(_computer(loaded, options), lat, lon, limits, percentile)

    collection = await runtime.run_engine("analysis", compute)
    return Response(orjson.dumps(collection), media_type=GEOJSON)
