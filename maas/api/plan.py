"""``GET/POST /v1/plan``: itineraries from A to B, through the response cache.

The request is validated, normalized (places snapped to ~10 m, time floored to the minute),
looked up in the cache by a key that includes the graph version and realtime epoch, and on a
miss planned on an engine thread -- once per key however many identical requests arrive
together (single-flight). The response body is the engine's ``result_to_dict`` as orjson
bytes, exactly what is cached, so a hit is returned without any serialisation.

This is the hot path. A cached GET is answered by :class:`PlanHitFastPath`, an ASGI middleware
in front of FastAPI's router; the routes themselves avoid FastAPI's per-parameter and
per-dependency machinery, which costs more than a whole cache lookup: GET validates its query in
one pydantic pass (:class:`PlanQuery`, whose fields also generate the documented parameters), and
both take the runtime from the app state directly instead of through ``Depends``.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from maas.api.auth import WIDGET_KEY_RESPONSES, WidgetKey
from maas.api.deps import LoadedGraph, Runtime, get_loaded_graph
from maas.api.models import NO_ROUTE_EXAMPLE, PLAN_RESPONSE_EXAMPLE, PlanBody, PlanQuery, PlanResponse
from maas.cache import normalize_plan_request, plan_cache_key
from routing.errors import BadRequest
from routing.plan import Place, PlanRequest, parse_modes, result_to_dict

router = APIRouter(prefix="/v1", tags=["plan"])

MIN_YEAR, MAX_YEAR = 1970, 2200


def parse_time(text: str | None, field: str = "time") -> dt.datetime:
    """ISO 8601 with a UTC offset; None means now."""
    if text is None or not text.strip():
        return dt.datetime.now(dt.UTC)
    try:
        t = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest(field, f"expected ISO 8601 date-time with offset, e.g. 2021-12-02T08:00:00-08:00; got {text!r}") from None
    if t.tzinfo is None or t.utcoffset() is None:
        raise BadRequest(field, "needs a UTC offset (ISO 8601, e.g. 2021-12-02T08:00:00-08:00)")
    try:
        year = t.astimezone(dt.UTC).year
    except (OverflowError, ValueError):
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadRequest(field, f"must be between {MIN_YEAR} and {MAX_YEAR}")
    return t


def _place(text: str, field: str, loaded: LoadedGraph) -> Place:
    place = Place.parse(text, field)
    if place.stop_id is not None and loaded.graph.stop_index(place.stop_id) is None:
        raise BadRequest(field, f"unknown stop {place.stop_id!r}")
    return place


def build_plan_request(
    loaded: LoadedGraph,
    *,
    frm: str,
    to: str,
    time: str | None,
    arrive_by: bool,
    modes: str | list[str] | None,
    max_walk_m: float,
    num_itineraries: int,
    wheelchair: bool,
    window_s: int,
) -> PlanRequest:
    mode_text = ",".join(modes) if isinstance(modes, list) else modes
    return PlanRequest(
        origin=_place(frm, "from", loaded),
        destination=_place(to, "to", loaded),
        time=parse_time(time),
        arrive_by=arrive_by,
        modes=parse_modes(mode_text),
        window_s=window_s,
        max_walk_m=max_walk_m,
        num_itineraries=num_itineraries,
        wheelchair=wheelchair,
    )


@dataclass(frozen=True)
class KeyedPlan:
    """A validated request, as the engine will see it, and its cache key."""

    loaded: LoadedGraph
    request: PlanRequest  # normalized
    key: str
    realtime_epoch: int = 0  # the epoch the key was made with (the response says it)


def keyed_plan(runtime: Runtime, loaded: LoadedGraph, request: PlanRequest) -> KeyedPlan:
    norm = normalize_plan_request(request)
    key = plan_cache_key(norm, graph_version=loaded.version, realtime_epoch=runtime.realtime_epoch,
                         engine=loaded.engine)
    return KeyedPlan(loaded, norm, key, runtime.realtime_epoch)


def keyed_query(runtime: Runtime, loaded: LoadedGraph, params: Mapping[str, str]) -> KeyedPlan:
    """Validate GET query parameters (422 errors name the field) and key the request."""
    try:
        q = PlanQuery.model_validate(params)
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("query", *err["loc"])} for err in e.errors()]) from None
    request = build_plan_request(
        loaded, frm=q.from_, to=q.to, time=q.time, arrive_by=q.arrive_by, modes=q.modes, max_walk_m=q.max_walk_m,
        num_itineraries=q.num_itineraries or runtime.settings.default_num_itineraries,
        wheelchair=q.wheelchair, window_s=q.window_s,
    )
    return keyed_plan(runtime, loaded, request)


async def answer(runtime: Runtime, plan: KeyedPlan, looked_up: tuple[bytes | None, bool] | None = None) -> Response:
    loaded = plan.loaded

    async def compute() -> bytes:
        result = await runtime.run_engine(loaded.engine, loaded.planner.plan, plan.request)
        result = runtime.annotate_realtime(result)  # GTFS-RT delays, cancellations, alerts on transit legs
        body = result_to_dict(result)
        body["realtime_epoch"] = max(body["realtime_epoch"], plan.realtime_epoch)
        return orjson.dumps(body)

    body, status = await runtime.cache.get_or_compute(plan.key, compute, looked_up=looked_up)
    return Response(body, media_type="application/json", headers={"X-Cache": status})


# -- the cache-hit fast path --------------------------------------------------------------------------

_FAST_PATH_SCOPE_KEY = "maas.plan_fast_path"
_HIT_HEADERS = [(b"content-type", b"application/json"), (b"x-cache", b"hit")]
_KEY_HEADERS = frozenset({b"authorization", b"x-api-key"})


def _carries_key(scope: Scope) -> bool:
    return any(name in _KEY_HEADERS for name, _ in scope["headers"])


class PlanHitFastPath:
    """ASGI middleware answering cached ``GET /v1/plan`` hits before FastAPI's routing.

    A hit needs only the query validated, the key computed and one cache lookup; FastAPI's
    router, exception middleware and endpoint machinery would cost several times that. Anything
    else -- a miss, an invalid query, another route -- goes on to the app unchanged, with the
    work already done (validated request, key, lookup) left in the scope for the route, so the
    route stays the single authority on errors and a miss is not looked up twice. Sits inside
    the request-context middleware: hits get request ids, metrics and access logs like any
    request, and compression when the client asks for it.

    Only keyless requests take it: a request carrying a key (``Authorization`` or ``X-API-Key``)
    goes to the route untouched, whose key dependency checks it (valid, rate, widget origin)
    before anything is answered, from the cache or not.
    """

    MEMO_SIZE = 4096

    def __init__(self, app: ASGIApp, runtime: Runtime, route: object) -> None:
        self.app = app
        self.runtime = runtime
        self.route = route
        # query string -> keyed request, for queries with an explicit time (a pure function of
        # the string, the graph and the epoch, all in the memo key): a popular URL is parsed once
        self._memo: OrderedDict[tuple[bytes, str, int], KeyedPlan] = OrderedDict()

    def _keyed(self, query: bytes, loaded: LoadedGraph) -> KeyedPlan:
        if self._memo and next(reversed(self._memo))[1] != loaded.version:
            self._memo.clear()  # a new graph: let the old one go
        memo_key = (query, loaded.version, self.runtime.realtime_epoch)
        plan = self._memo.get(memo_key)
        if plan is not None:
            self._memo.move_to_end(memo_key)
            return plan
        params = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
        plan = keyed_query(self.runtime, loaded, params)
        if params.get("time"):
            self._memo[memo_key] = plan
            if len(self._memo) > self.MEMO_SIZE:
                self._memo.popitem(last=False)
        return plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loaded = self.runtime.loaded
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != "/v1/plan" or loaded is None \
                or _carries_key(scope):
            await self.app(scope, receive, send)
            return
        try:
            plan = self._keyed(scope["query_string"], loaded)
        except Exception:  # invalid: the route answers with the right problem
            await self.app(scope, receive, send)
            return
        looked_up = await self.runtime.cache.lookup(plan.key)
        body = looked_up[0]
        if body is None:
            scope[_FAST_PATH_SCOPE_KEY] = (plan, looked_up)
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # for the metrics' route label
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_HIT_HEADERS, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


_PROBLEM = {"description": "Problem details (RFC 9457)."}
PLAN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Itineraries, best first; an empty list with a `reason` when there is no route.",
        "headers": {"X-Cache": {"description": "hit, miss, shared (single-flight) or bypass (cache down)",
                                "schema": {"type": "string"}}},
        "content": {
            "application/json": {
                "examples": {
                    "itineraries": {"summary": "A walk and a tram", "value": PLAN_RESPONSE_EXAMPLE},
                    "no_route": {"summary": "No route: 200 with a reason", "value": NO_ROUTE_EXAMPLE},
                }
            }
        },
    },
    422: {**_PROBLEM, "description": "A field is invalid (named in `errors`), e.g. an unknown stop."},
    503: {**_PROBLEM, "description": "No graph is loaded yet."},
}

def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI query parameters described by a model's fields (with their examples)."""
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        if prop.get("examples"):
            param["examples"] = {f"example{i + 1}": {"value": v} for i, v in enumerate(prop["examples"])}
        params.append(param)
    return params


@router.get(
    "/plan",
    summary="Plan a trip",
    response_model=PlanResponse,
    responses={**WIDGET_KEY_RESPONSES, **PLAN_RESPONSES},
    description="Itineraries from `from` to `to` leaving at (or, with `arrive_by`, arriving by) `time`.",
    openapi_extra={"parameters": query_parameters(PlanQuery)},
)
async def plan_get(http_request: Request, _key: WidgetKey) -> Response:
    runtime: Runtime = http_request.app.state.runtime
    done = http_request.scope.get(_FAST_PATH_SCOPE_KEY)
    if done is not None:  # validated, keyed and looked up (a miss) by PlanHitFastPath
        plan, looked_up = done
        return await answer(runtime, plan, looked_up)
    loaded = await get_loaded_graph(http_request)
    return await answer(runtime, keyed_query(runtime, loaded, dict(http_request.query_params)))


@router.post(
    "/plan",
    summary="Plan a trip (JSON body)",
    response_model=PlanResponse,
    responses={**WIDGET_KEY_RESPONSES, **PLAN_RESPONSES, 413: {**_PROBLEM, "description": "The body is too large."}},
    description="The same as GET, with the parameters in a JSON body.",
)
async def plan_post(http_request: Request, body: PlanBody, _key: WidgetKey) -> Response:
    runtime: Runtime = http_request.app.state.runtime
    loaded = await get_loaded_graph(http_request)
    request = build_plan_request(
        loaded, frm=body.from_, to=body.to, time=body.time, arrive_by=body.arrive_by,
        modes=[str(m) for m in body.modes] if isinstance(body.modes, list) else body.modes,
        max_walk_m=body.max_walk_m,
        num_itineraries=body.num_itineraries or runtime.settings.default_num_itineraries,
        wheelchair=body.wheelchair, window_s=body.window_s,
    )
    return await answer(runtime, keyed_plan(runtime, loaded, request))
