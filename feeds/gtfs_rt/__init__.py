"""GTFS-Realtime: service alerts, trip updates and vehicle positions (feeds side, no routing).

``load_gtfs_rt(source, feed_id)`` reads a file or URL into a :class:`RealtimeFeed`;
``propagate_delays`` turns a TripUpdate and the trip's schedule into per-stop delays;
``check_against_static`` lists ids the static feed does not know. Bad input becomes
notices (:mod:`feeds.quality`), never an exception.
"""

from feeds.gtfs_rt.check import check_against_static
from feeds.gtfs_rt.delays import ScheduledStop, StopDelay, TripDelays, propagate_delays
from feeds.gtfs_rt.load import load_gtfs_rt, read_source
from feeds.gtfs_rt.model import (
    Alert,
    InformedEntity,
    RealtimeFeed,
    StopTimeEvent,
    StopTimeUpdate,
    TimeRange,
    TranslatedText,
    Translation,
    TripUpdate,
    VehiclePosition,
)
from feeds.gtfs_rt.parse import DEFAULT_MAX_AGE_S, parse_feed_message

__all__ = [
    "DEFAULT_MAX_AGE_S",
    "Alert",
    "InformedEntity",
    "RealtimeFeed",
    "ScheduledStop",
    "StopDelay",
    "StopTimeEvent",
    "StopTimeUpdate",
    "TimeRange",
    "TranslatedText",
    "Translation",
    "TripDelays",
    "TripUpdate",
    "VehiclePosition",
    "check_against_static",
    "load_gtfs_rt",
    "parse_feed_message",
    "propagate_delays",
    "read_source",
]
