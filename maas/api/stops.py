"""``/v1/stops``: stops near a place or by name, one stop by id, its next departures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from maas.api.auth import WIDGET_KEY_RESPONSES, WidgetKey
from maas.api.deps import GraphDep, RuntimeDep
from maas.api.models import STOP_EXAMPLE, DepartureList, StopList, StopOut
from maas.api.plan import parse_time
from maas.api.problems import TYPE_NOT_FOUND, ProblemException
from routing.errors import BadRequest
from routing.graph import Departure, StopView
from routing.plan import Place

router = APIRouter(prefix="/v1/stops", tags=["stops"])

_PROBLEM: dict[str, Any] = {"description": "Problem details (RFC 9457)."}
_NOT_READY: dict[int | str, dict[str, Any]] = {503: {**_PROBLEM, "description": "No graph is loaded yet."}}
_UNKNOWN: dict[int | str, dict[str, Any]] = {404: {**_PROBLEM, "description": "No stop has this id."}}
DEPARTURE_EXAMPLE = {
    "stop_id": "trimet:8370", "time": "2021-12-02T08:07:00-08:00",
    "route": {"id": "trimet:200", "short_name": "Green", "long_name": "MAX Green Line", "type": 0,
              "color": "008852", "agency": "TriMet"},
    "trip_id": "trimet:11112345", "headsign": "City Center", "service_date": "2021-12-02",
}
STOP_ID_EXAMPLES = {"stop": {"summary": "FEED:STOP_ID", "value": "trimet:8370"}}


def stop_dict(s: StopView) -> dict[str, Any]:
    return {
        "id": s.id, "name": s.name, "lat": round(s.lat, 6), "lon": round(s.lon, 6),
        "parent_id": s.parent_id, "wheelchair": s.wheelchair, "location_type": s.location_type,
    }


def departure_dict(d: Departure) -> dict[str, Any]:
    r = d.route
    return {
        "stop_id": d.stop_id,
        "time": d.time.isoformat(),
        "route": {"id": r.id, "short_name": r.short_name, "long_name": r.long_name, "type": r.type,
                  "color": r.color, "agency": r.agency},
        "trip_id": d.trip_id,
        "headsign": d.headsign,
        "service_date": d.service_date.isoformat(),
    }


@router.get(
    "",
    summary="Find stops near a place or by name",
    response_model=StopList,
    response_model_exclude_unset=True,  # distance_m only for near queries
    responses={
        200: {"content": {"application/json": {"examples": {
            "near": {"summary": "?near=45.5185,-122.6792", "value": {"stops": [{**STOP_EXAMPLE, "distance_m": 12.4}]}},
            "q": {"summary": "?q=pioneer", "value": {"stops": [STOP_EXAMPLE]}},
        }}}},
        422: {**_PROBLEM, "description": "Neither `near` nor `q`, or a bad value."},
        **_NOT_READY,
        **WIDGET_KEY_RESPONSES,
    },
    description="Give `near=LAT,LON` (stops within `radius_m`, nearest first) or `q=TEXT` (name search, ranked). "
    "Name search ignores case and accents; every word of `TEXT` must start a word of the name (in Chinese, "
    "Japanese or Korean, appear in it). Ranked: the exact name, then names starting with `TEXT`, then the "
    "rest; within each, stations and lone stops before platforms, shorter names first. A station's platforms "
    "are not listed again under its name.",
)
async def find_stops(
    _key: WidgetKey,
    runtime: RuntimeDep,
    loaded: GraphDep,
    near: Annotated[str | None, Query(max_length=100, description="LAT,LON.",
                                      openapi_examples={"downtown": {"value": "45.5185,-122.6792"}})] = None,
    radius_m: Annotated[float, Query(gt=0, le=5000, openapi_examples={"default": {"value": 500}})] = 500.0,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Name search (words or their starts).",
                                   openapi_examples={"name": {"value": "pioneer"}})] = None,
    limit: Annotated[int, Query(ge=1, le=100, openapi_examples={"ten": {"value": 10}})] = 20,
) -> dict[str, Any]:
    graph = loaded.graph
    if near is not None and q is not None:
        raise BadRequest("q", "give either near or q, not both")
    if near is not None:
        place = Place.parse(near, "near")
        if place.lat is None or place.lon is None:
            raise BadRequest("near", "expected LAT,LON")
        found = await runtime.run_engine("stops", graph.stops_near, place.lat, place.lon, radius_m, limit)
        return {"stops": [{**stop_dict(s), "distance_m": round(d, 1)} for s, d in found]}
    if q is not None:
        if not q.strip():
            raise BadRequest("q", "must not be blank")
        views = await runtime.run_engine("stops", graph.search_stops, q, limit)
        return {"stops": [stop_dict(s) for s in views]}
    raise BadRequest("near", "give near=LAT,LON or q=TEXT")


def _stop_index(loaded: Any, stop_id: str) -> int:
    i = loaded.graph.stop_index(stop_id)
    if i is None:
        raise ProblemException(404, f"no stop {stop_id!r} in graph {loaded.version}", type_=TYPE_NOT_FOUND,
                               title="Unknown stop")
    return int(i)


@router.get(
    "/{stop_id:path}/departures",
    summary="Next departures from a stop (or a station's platforms)",
    response_model=DepartureList,
    responses={
        200: {"content": {"application/json": {"example": {"stop": STOP_EXAMPLE, "departures": [DEPARTURE_EXAMPLE]}}}},
        422: {**_PROBLEM, "description": "A bad parameter."},
        **_UNKNOWN,
        **_NOT_READY,
        **WIDGET_KEY_RESPONSES,
    },
)
async def stop_departures(
    _key: WidgetKey,
    runtime: RuntimeDep,
    loaded: GraphDep,
    stop_id: Annotated[str, Path(max_length=200, description="FEED:STOP_ID.", openapi_examples=STOP_ID_EXAMPLES)],
    time: Annotated[str | None, Query(max_length=64, description="ISO 8601 with offset; default now.",
                                      openapi_examples={"morning": {"value": "2021-12-02T08:00:00-08:00"}})] = None,
    limit: Annotated[int, Query(ge=1, le=50, openapi_examples={"five": {"value": 5}})] = 10,
) -> dict[str, Any]:
    i = _stop_index(loaded, stop_id)
    after = parse_time(time)
    deps = await runtime.run_engine("departures", loaded.graph.departures, i, after, limit)
    return {"stop": stop_dict(loaded.graph.stop(i)), "departures": [departure_dict(d) for d in deps]}


@router.get(
    "/{stop_id:path}",
    summary="One stop by id",
    response_model=StopOut,
    responses={200: {"content": {"application/json": {"example": STOP_EXAMPLE}}}, **_UNKNOWN, **_NOT_READY,
               **WIDGET_KEY_RESPONSES},
)
async def get_stop(
    _key: WidgetKey,
    loaded: GraphDep,
    stop_id: Annotated[str, Path(max_length=200, description="FEED:STOP_ID.", openapi_examples=STOP_ID_EXAMPLES)],
) -> dict[str, Any]:
    return stop_dict(loaded.graph.stop(_stop_index(loaded, stop_id)))
