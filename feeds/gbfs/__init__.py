"""GBFS 1.x-3.0: station-based and free-floating bike, scooter, moped and car sharing.

``load_gbfs(dir_or_url)`` -> (static :class:`GbfsFeed`, live :class:`GbfsStatus`,
notices); :class:`LiveGbfs` keeps the live part fresh; :func:`rental_price` prices a
rental under a plan; :func:`rules_at` / :func:`rules_at_points` look up geofencing rules.
"""

from feeds.gbfs.geofencing import EffectiveRule, RuleArrays, ZoneIndex, rules_at, rules_at_points
from feeds.gbfs.live import LiveGbfs
from feeds.gbfs.load import load_gbfs, load_gbfs_status
from feeds.gbfs.model import (
    Alert,
    FormFactor,
    FreeVehicle,
    GbfsFeed,
    GbfsStatus,
    Geofencing,
    GeofencingRule,
    GeofencingZone,
    Price,
    PricingPlan,
    PricingSegment,
    Propulsion,
    RentalUris,
    Station,
    StationStatus,
    System,
    SystemHours,
    VehicleType,
)
from feeds.gbfs.pricing import rental_price

__all__ = [
    "Alert",
    "EffectiveRule",
    "FormFactor",
    "FreeVehicle",
    "GbfsFeed",
    "GbfsStatus",
    "Geofencing",
    "GeofencingRule",
    "GeofencingZone",
    "LiveGbfs",
    "Price",
    "PricingPlan",
    "PricingSegment",
    "Propulsion",
    "RentalUris",
    "RuleArrays",
    "Station",
    "StationStatus",
    "System",
    "SystemHours",
    "VehicleType",
    "ZoneIndex",
    "load_gbfs",
    "load_gbfs_status",
    "rental_price",
    "rules_at",
    "rules_at_points",
]
