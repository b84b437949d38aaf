"""Pydantic models of the HTTP API (the only place pydantic models live, DESIGN section 3).

The plan response models mirror :func:`routing.plan.result_to_dict` key for key: the gateway
sends the engine's dict serialised with orjson (and caches those bytes); these models give
the OpenAPI schema, and tests check that every response validates against them and dumps
back to the same JSON (``model_dump(mode="json", by_alias=True, exclude_unset=True)``).
Keys that ``result_to_dict`` writes only for some legs (``route``, ``provider``, ...) are
optional here; keys it always writes are required, even when their value may be null.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

DateTimeText = Annotated[str, Field(json_schema_extra={"format": "date-time"}, examples=["2021-12-02T08:04:00-08:00"])]
DateText = Annotated[str, Field(json_schema_extra={"format": "date"}, examples=["2021-12-02"])]

ModeName = Literal[
    "walk", "bike", "bikeshare", "scooter", "ridehail", "car", "transit",
    "bus", "tram", "subway", "rail", "ferry", "cable_car", "gondola", "funicular", "trolleybus", "monorail", "coach",
]
NoRouteReason = Literal["outside_coverage", "no_service_on_date", "no_connection", "unknown_stop"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# -- plan -------------------------------------------------------------------------------------------


class Money(_Out):
    amount: float
    currency: str = Field(examples=["USD"])


class PlaceOut(_Out):
    name: str
    lat: float
    lon: float
    stop_id: str | None = Field(None, description="Present when the place is a stop (FEED:ID).")


class Geometry(_Out):
    polyline: str = Field(description="Google encoded polyline.")
    precision: int = Field(5, description="Decimal digits of the encoding (5: Google's default).")


class RouteOut(_Out):
    id: str
    short_name: str
    long_name: str
    type: int = Field(description="GTFS route_type.")
    color: str
    agency: str


class Realtime(_Out):
    delay_s: int | None
    cancelled: bool


class LegAlertOut(_Out):
    id: str = Field(examples=["bart_rt:BSA_187874"])
    header: str
    effect: str = Field(description="GTFS-RT Effect, lower-case.", examples=["significant_delays", "no_service"])
    url: str | None


class ProviderOut(_Out):
    id: str
    name: str
    deep_link: str | None


class VehicleTypeOut(_Out):
    id: str
    name: str
    form_factor: str = Field(examples=["bicycle", "scooter_standing"])
    propulsion: str = Field(examples=["human", "electric"])


class LegOut(_Out):
    mode: str = Field(description="walk, bike, car, bikeshare, scooter, ridehail, or a transit mode (bus, rail, ...).")
    from_: PlaceOut = Field(alias="from")
    to: PlaceOut
    start_time: DateTimeText
    end_time: DateTimeText
    distance_m: float
    geometry: Geometry
    price: Money | None
    # transit legs only
    route: RouteOut | None = None
    trip_id: str | None = None
    service_date: DateText | None = None
    headsign: str | None = None
    intermediate_stops: list[PlaceOut] | None = None
    realtime: Realtime | None = None
    # legs run by a provider (sharing, ride-hail)
    provider: ProviderOut | None = None
    vehicle_type: VehicleTypeOut | None = Field(None, description="Rental legs: the GBFS vehicle type.")
    availability_known: bool | None = Field(
        None, description="Rental legs: false when the live availability feed is down (vehicles may not be there)."
    )
    pickup_wait_s: int | None = Field(None, description="Ride-hail legs: seconds between request and pickup.")
    alerts: list[LegAlertOut] | None = Field(
        None, description="Transit legs: GTFS-RT service alerts in force during the leg (present when any)."
    )


class ItineraryOut(_Out):
    start_time: DateTimeText
    end_time: DateTimeText
    duration_s: int
    transfers: int
    walk_distance_m: float
    price: Money | None
    co2_g: float | None
    legs: list[LegOut]


class PlanResponse(_Out):
    itineraries: list[ItineraryOut]
    reason: NoRouteReason | None = Field(
        description="Why the list is empty (null when it is not): outside_coverage, no_service_on_date, no_connection."
    )
    graph_version: str
    realtime_epoch: int


PLAN_RESPONSE_EXAMPLE = {
    "itineraries": [
        {
            "start_time": "2021-12-02T08:01:00-08:00",
            "end_time": "2021-12-02T08:19:30-08:00",
            "duration_s": 1110,
            "transfers": 0,
            "walk_distance_m": 420.0,
            "price": None,
            "co2_g": 95.2,
            "legs": [
                {
                    "mode": "walk",
                    "from": {"name": "Origin", "lat": 45.5231, "lon": -122.6765},
                    "to": {"name": "Pioneer Square South", "lat": 45.5185, "lon": -122.6792, "stop_id": "trimet:8370"},
                    "start_time": "2021-12-02T08:01:00-08:00",
                    "end_time": "2021-12-02T08:06:00-08:00",
                    "distance_m": 310.5,
                    "geometry": {"polyline": "_p~iF~ps|U_ulLnnqC", "precision": 5},
                    "price": None,
                },
                {
                    "mode": "tram",
                    "from": {"name": "Pioneer Square South", "lat": 45.5185, "lon": -122.6792, "stop_id": "trimet:8370"},
                    "to": {"name": "SE Main St", "lat": 45.5122, "lon": -122.5652, "stop_id": "trimet:13132"},
                    "start_time": "2021-12-02T08:07:00-08:00",
                    "end_time": "2021-12-02T08:18:00-08:00",
                    "distance_m": 5600.0,
                    "geometry": {"polyline": "_p~iF~ps|U", "precision": 5},
                    "price": None,
                    "route": {"id": "trimet:200", "short_name": "Green", "long_name": "MAX Green Line",
                              "type": 0, "color": "008852", "agency": "TriMet"},
                    "trip_id": "trimet:11112345",
                    "service_date": "2021-12-02",
                    "headsign": "City Center",
                    "intermediate_stops": [],
                    "realtime": {"delay_s": None, "cancelled": False},
                },
            ],
        }
    ],
    "reason": None,
    "graph_version": "3f2a9c0d1b7e4a55",
    "realtime_epoch": 0,
}

NO_ROUTE_EXAMPLE = {"itineraries": [], "reason": "no_connection", "graph_version": "3f2a9c0d1b7e4a55", "realtime_epoch": 0}


class PlanQuery(BaseModel):
    """GET /v1/plan query parameters (one model: validated in one pass, the hot path)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: str = Field(alias="from", max_length=200, description="LAT,LON or stop:FEED:STOP_ID.",
                       examples=["45.5231,-122.6765", "stop:trimet:8370"])
    to: str = Field(max_length=200, description="LAT,LON or stop:FEED:STOP_ID.",
                    examples=["45.5122,-122.6587", "stop:trimet:13132"])
    time: str | None = Field(None, max_length=64, description="ISO 8601 with UTC offset; default now.",
                             examples=["2021-12-02T08:00:00-08:00"])
    arrive_by: bool = Field(False, description="`time` is the latest arrival.", examples=[False])
    modes: str | None = Field(None, max_length=200, description="Comma-separated: walk, bike, transit, bus, tram, "
                              "rail, ... (default walk,transit).", examples=["walk,transit", "bike"])
    max_walk_m: float = Field(2000.0, ge=0, le=50_000, description="Longest walk per access, egress or transfer.",
                              examples=[2000])
    num_itineraries: int | None = Field(None, ge=1, le=20, description="Default: the server's setting (5).",
                                        examples=[3])
    wheelchair: bool = Field(False, description="Only wheelchair-accessible trips and stops.", examples=[False])
    window_s: int = Field(0, ge=0, le=21_600, description="Range query: departures within this many seconds "
                          "after `time`.", examples=[1800])


class PlanBody(BaseModel):
    """POST /v1/plan: the same fields as the GET query."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": "45.5231,-122.6765",
                    "to": "stop:trimet:13132",
                    "time": "2021-12-02T08:00:00-08:00",
                    "modes": ["walk", "transit"],
                    "num_itineraries": 3,
                }
            ]
        },
    )

    from_: str = Field(alias="from", max_length=200, description="LAT,LON or stop:FEED:STOP_ID.")
    to: str = Field(max_length=200, description="LAT,LON or stop:FEED:STOP_ID.")
    time: str | None = Field(None, max_length=64, description="ISO 8601 with offset; default now.")
    arrive_by: bool = False
    modes: list[ModeName] | str | None = Field(
        None, description="A list, or a comma-separated string; default walk,transit."
    )
    max_walk_m: float = Field(2000.0, ge=0, le=50_000)
    num_itineraries: int | None = Field(None, ge=1, le=20)
    wheelchair: bool = False
    window_s: int = Field(0, ge=0, le=21_600)


# -- stops ------------------------------------------------------------------------------------------


class StopOut(_Out):
    id: str = Field(examples=["trimet:8370"])
    name: str = Field(examples=["Pioneer Square South"])
    lat: float
    lon: float
    parent_id: str | None = Field(description="The station this stop belongs to, if any.")
    wheelchair: int = Field(description="GTFS wheelchair_boarding: 0 unknown, 1 possible, 2 not possible.")
    location_type: int = Field(description="GTFS location_type: 0 stop/platform, 1 station, ...")


class StopHit(StopOut):
    distance_m: float | None = Field(None, description="Metres from `near` (only for near queries).")


class StopList(_Out):
    stops: list[StopHit]


class DepartureOut(_Out):
    stop_id: str
    time: DateTimeText
    route: RouteOut
    trip_id: str
    headsign: str
    service_date: DateText


class DepartureList(_Out):
    stop: StopOut
    departures: list[DepartureOut]


STOP_EXAMPLE = {
    "id": "trimet:8370", "name": "Pioneer Square South", "lat": 45.518507, "lon": -122.679207,
    "parent_id": None, "wheelchair": 1, "location_type": 0,
}


# -- operations -------------------------------------------------------------------------------------


class Health(_Out):
    status: Literal["ok"] = "ok"


class Readiness(_Out):
    status: Literal["ready"] = "ready"
    graph_version: str
    realtime_epoch: int
    engine: str
    stops: int
    cache: Literal["lru", "redis"]
    cache_available: bool
