"""GOFS 1.0 documents of the synthetic city: one on-demand taxi service over a zone
covering the whole city, shaped after the examples of the GOFS reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feeds.synth.gbfs import write_json
from feeds.synth.grid import TIMEZONE
from feeds.synth.transit import Calendar

VERSION = "1.0"
BASE_URL = "https://synth.example/gofs/en"
FEEDS = (
    "system_information",
    "service_brands",
    "vehicle_types",
    "zones",
    "operating_rules",
    "calendars",
    "fares",
    "booking_rules",
    "wait_times",
)


def write_gofs(
    out: Path,
    bbox: tuple[float, float, float, float],
    calendar: Calendar,
    last_updated: int,
) -> None:
    """Write the GOFS files into directory ``out``. ``bbox`` is (west, south, east, north)."""
    out.mkdir(parents=True, exist_ok=True)
    west, south, east, north = bbox
    # an octagon inside the bounding box: the city is round
    dx, dy = (east - west) * 0.29, (north - south) * 0.29
    ring = [
        [west + dx, south],
        [east - dx, south],
        [east, south + dy],
        [east, north - dy],
        [east - dx, north],
        [west + dx, north],
        [west, north - dy],
        [west, south + dy],
    ]
    ring = [[round(x, 6), round(y, 6)] for x, y in ring]
    ring.append(ring[0])
    start, end = f"{calendar.start:%Y%m%d}", f"{calendar.end:%Y%m%d}"
    weekday: dict[str, Any] = {
        "calendar_id": "weekday",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start_date": start,
        "end_date": end,
    }
    calendars: list[dict[str, Any]] = [
        weekday,
        {"calendar_id": "weekend", "days": ["sat", "sun"], "start_date": start, "end_date": end},
    ]
    rules_calendars = ["weekend"]
    if calendar.holiday is not None:
        day = f"{calendar.holiday:%Y%m%d}"
        weekday["excepted_dates"] = [day]
        calendars.append({"calendar_id": "holiday", "start_date": day, "end_date": day})
        rules_calendars.append("holiday")

    documents: dict[str, dict[str, Any]] = {
        "gofs": {"en": {"feeds": [{"name": name, "url": f"{BASE_URL}/{name}"} for name in FEEDS]}},
        "gofs_versions": {"versions": [{"version": VERSION, "url": f"{BASE_URL}/gofs"}]},
        "system_information": {
            "language": "en",
            "timezone": TIMEZONE,
            "name": "Synth Taxi on demand",
            "short_name": "SynthTaxi",
            "operator": "Synth Mobility S.p.A.",
            "url": "https://synth.example/taxi",
            "start_date": start,
            "phone_number": "+390110000000",
            "email": "taxi@synth.example",
            "feed_contact_email": "opendata@synth.example",
        },
        "service_brands": {
            "service_brands": [
                {
                    "brand_id": "taxi",
                    "brand_name": "Synth Taxi",
                    "brand_color": "FFD200",
                    "brand_text_color": "000000",
                },
                {
                    "brand_id": "van",
                    "brand_name": "Synth Van",
                    "brand_color": "1C7F49",
                    "brand_text_color": "FFFFFF",
                },
            ]
        },
        "vehicle_types": {
            "vehicle_types": [
                {
                    "vehicle_type_id": "sedan",
                    "max_capacity": 4,
                    "wheelchair_boarding": "boarding_inaccessible",
                },
                {"vehicle_type_id": "van", "max_capacity": 7, "wheelchair_boarding": "boarding_accessible"},
            ]
        },
        "zones": {
            "zones": {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "zone_id": "city",
                        "properties": {"name": "Synth city"},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        },
        "operating_rules": {
            "operating_rules": [
                {
                    "from_zone_id": "city",
                    "to_zone_id": "city",
                    "start_pickup_window": "05:00:00",
                    "end_pickup_window": "25:00:00",
                    "end_dropoff_window": "25:30:00",
                    "calendars": ["weekday"],
                    "brand_id": "taxi",
                    "vehicle_type_id": ["sedan"],
                    "fare_id": "taxi_meter",
                },
                {
                    "from_zone_id": "city",
                    "to_zone_id": "city",
                    "start_pickup_window": "07:00:00",
                    "end_pickup_window": "26:00:00",
                    "end_dropoff_window": "26:30:00",
                    "calendars": rules_calendars,
                    "brand_id": "taxi",
                    "vehicle_type_id": ["sedan"],
                    "fare_id": "taxi_meter",
                },
                {
                    "from_zone_id": "city",
                    "to_zone_id": "city",
                    "start_pickup_window": "06:00:00",
                    "end_pickup_window": "22:00:00",
                    "end_dropoff_window": "22:30:00",
                    "calendars": ["weekday", *rules_calendars],
                    "brand_id": "van",
                    "vehicle_type_id": ["van"],
                    "fare_id": "van_meter",
                },
            ]
        },
        "calendars": {"calendars": calendars},
        "fares": {
            "fares": [
                {
                    "fare_id": "taxi_meter",
                    "currency": "EUR",
                    "kilometer": [{"interval": 1, "amount": 1.2}],
                    "minute": [{"interval": 1, "amount": 0.4}],
                    "rider": [{"amount": 3.5}],
                },
                {
                    "fare_id": "van_meter",
                    "currency": "EUR",
                    "kilometer": [{"interval": 1, "amount": 1.6}],
                    "minute": [{"interval": 1, "amount": 0.5}],
                    "rider": [{"amount": 5.0}],
                },
            ]
        },
        "booking_rules": {
            "booking_rules": [
                {"from_zone_ids": ["city"], "to_zone_ids": ["city"], "booking_type": 0},
                {
                    "from_zone_ids": ["city"],
                    "to_zone_ids": None,
                    "booking_type": 1,
                    "prior_notice_duration_min": 15,
                    "prior_notice_duration_max": 1440,
                },
            ]
        },
        # GOFS serves wait times per request (realtime); this is the typical answer
        "wait_times": {
            "wait_times": [{"brand_id": "taxi", "wait_time": 300}, {"brand_id": "van", "wait_time": 600}]
        },
    }
    for name, data in documents.items():
        ttl = 0 if name in ("gofs", "gofs_versions") else 86_400
        if name == "wait_times":
            ttl = 60
        write_json(
            out / f"{name}.json", {"last_updated": last_updated, "ttl": ttl, "version": VERSION, "data": data}
        )
