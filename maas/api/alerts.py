"""``GET /v1/alerts``: service alerts and closures in force (GTFS-Realtime, ``MAAS_GTFS_RT``).

Filters combine with AND: ``feed``, ``route``, ``stop`` (its station and platforms too) and
``trip`` are namespaced ids; ``time`` (default now) picks the alerts whose active period holds
then; ``lang`` picks the translation. With no realtime source configured the list is empty.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from maas.api.deps import RuntimeDep
from maas.api.models import DateTimeText, _Out
from maas.api.plan import parse_time
from routing.errors import BadRequest
from routing.realtime import AlertQuery

router = APIRouter(prefix="/v1", tags=["alerts"])


class ActivePeriodOut(_Out):
    start: DateTimeText | None = Field(description="Open (null) when the feed gives none.")
    end: DateTimeText | None


class InformedEntityOut(_Out):
    agency_id: str | None
    route_id: str | None
    route_type: int | None
    direction_id: int | None
    trip_id: str | None
    stop_id: str | None


class AlertOut(_Out):
    id: str = Field(description="FEED:ALERT_ID.")
    feed: str
    cause: str = Field(description="GTFS-RT Cause, lower-case.", examples=["construction", "medical_emergency"])
    effect: str = Field(description="GTFS-RT Effect, lower-case.", examples=["no_service", "significant_delays"])
    severity: str = Field(examples=["unknown_severity", "warning", "severe"])
    header: str
    description: str
    url: str | None
    language: str | None = Field(description="Language of header and description, when the feed says.")
    active_periods: list[ActivePeriodOut] = Field(description="Empty: in force as long as the feed carries it.")
    informed_entities: list[InformedEntityOut] = Field(description="Empty: the whole feed.")


class AlertList(_Out):
    alerts: list[AlertOut]
    time: DateTimeText
    realtime_epoch: int


ALERT_EXAMPLE: dict[str, Any] = {
    "id": "bart_rt:BSA_187874",
    "feed": "bart_rt",
    "cause": "medical_emergency",
    "effect": "significant_delays",
    "severity": "unknown_severity",
    "header": "There is a major delay at Montgomery St. on the San Francisco Line ... Montgomery station is "
    "currently closed.",
    "description": "",
    "url": "http://www.bart.gov/schedules/advisories",
    "language": "en-US",
    "active_periods": [],
    "informed_entities": [
        {"agency_id": "bart_rt:BART", "route_id": None, "route_type": None, "direction_id": None,
         "trip_id": None, "stop_id": None}
    ],
}

_PROBLEM: dict[str, Any] = {"description": "Problem details (RFC 9457)."}


def _iso(t: int | None, tz: dt.tzinfo | None) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t, tz).isoformat()


def _id(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if ":" not in value or value.startswith(":") or value.endswith(":"):
        raise BadRequest(field, f"expected a namespaced id FEED:ID, got {value!r}")
    return value


def _language(alert: Any, lang: str | None) -> str | None:
    text = alert.header.text(lang)
    for t in alert.header.translations:
        if t.text == text:
            return str(t.language) or None
    return None


@router.get(
    "/alerts",
    summary="Service alerts and closures in force",
    response_model=AlertList,
    responses={
        200: {"content": {"application/json": {"examples": {
            "in_force": {"summary": "One alert for a whole agency",
                         "value": {"alerts": [ALERT_EXAMPLE], "time": "2019-08-07T10:46:00-07:00", "realtime_epoch": 3}},
            "none": {"summary": "Nothing in force (or no realtime source)",
                     "value": {"alerts": [], "time": "2019-08-07T10:46:00-07:00", "realtime_epoch": 0}},
        }}}},
        422: {**_PROBLEM, "description": "A bad parameter (named in `errors`)."},
    },
    description="GTFS-Realtime service alerts whose active period holds at `time` (default now). `route`, "
    "`stop`, `trip` and `feed` narrow the list (AND): a route matches alerts naming it, one of its trips, or its "
    "whole agency or route type; a stop matches alerts naming it, its station or platforms, or a whole agency. "
    "`lang` picks the translation (`en` also matches `en-US`).",
)
async def list_alerts(
    runtime: RuntimeDep,
    time: Annotated[str | None, Query(max_length=64, description="ISO 8601 with offset; default now.",
                                      openapi_examples={"morning": {"value": "2019-08-07T10:46:00-07:00"}})] = None,
    route: Annotated[str | None, Query(max_length=200, description="FEED:ROUTE_ID.",
                                       openapi_examples={"route": {"value": "bart_rt:01"}})] = None,
    stop: Annotated[str | None, Query(max_length=200, description="FEED:STOP_ID.",
                                      openapi_examples={"stop": {"value": "bart_rt:MONT"}})] = None,
    trip: Annotated[str | None, Query(max_length=200, description="FEED:TRIP_ID.",
                                      openapi_examples={"trip": {"value": "bart_rt:1011112WKDY"}})] = None,
    feed: Annotated[str | None, Query(max_length=100, description="Static feed id.",
                                      openapi_examples={"feed": {"value": "bart_rt"}})] = None,
    lang: Annotated[str | None, Query(max_length=35, description="BCP-47 language of the texts.",
                                      openapi_examples={"en": {"value": "en"}})] = None,
) -> dict[str, Any]:
    at = parse_time(time)
    query = AlertQuery(feed=feed.strip() if feed else None, route=_id(route, "route"), stop=_id(stop, "stop"),
                       trip=_id(trip, "trip"))
    overlay = runtime.realtime
    found = overlay.alerts(at, query) if overlay is not None else []
    tz = at.tzinfo
    return {
        "alerts": [
            {
                "id": a.id,
                "feed": a.feed_id,
                "cause": a.cause,
                "effect": a.effect,
                "severity": a.severity,
                "header": a.header.text(lang),
                "description": a.description.text(lang),
                "url": a.url.text(lang) or None,
                "language": _language(a, lang),
                "active_periods": [{"start": _iso(p.start, tz), "end": _iso(p.end, tz)} for p in a.active_periods],
                "informed_entities": [
                    {"agency_id": s.agency_id, "route_id": s.route_id, "route_type": s.route_type,
                     "direction_id": s.direction_id, "trip_id": s.trip_id, "stop_id": s.stop_id}
                    for s in a.informed
                ],
            }
            for a in found
        ],
        "time": at.isoformat(),
        "realtime_epoch": runtime.realtime_epoch,
    }
