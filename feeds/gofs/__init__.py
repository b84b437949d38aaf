"""GOFS v1.0: on-demand services (taxi, microtransit) as zones, operating rules,
calendars, fares, booking rules and wait times.

``load_gofs(dir)`` -> (:class:`GofsFeed`, notices); :func:`fare_price` prices a trip;
:class:`ServiceIndex` answers which rules serve a trip at a time.
"""

from feeds.gofs.fares import fare_price
from feeds.gofs.load import (
    fetch_wait_time,
    load_gofs,
    parse_realtime_booking,
    parse_time,
    parse_wait_time,
    wait_time_url,
)
from feeds.gofs.model import (
    BookingRule,
    Fare,
    FareSegment,
    GofsCalendar,
    GofsFeed,
    GofsSystem,
    GofsVehicleType,
    OperatingRule,
    RealtimeBooking,
    ServiceBrand,
    Zone,
)
from feeds.gofs.service import ServiceIndex

__all__ = [
    "BookingRule",
    "Fare",
    "FareSegment",
    "GofsCalendar",
    "GofsFeed",
    "GofsSystem",
    "GofsVehicleType",
    "OperatingRule",
    "RealtimeBooking",
    "ServiceBrand",
    "ServiceIndex",
    "Zone",
    "fare_price",
    "fetch_wait_time",
    "load_gofs",
    "parse_realtime_booking",
    "parse_time",
    "parse_wait_time",
    "wait_time_url",
]
