"""GBFS 2.3 documents of the synthetic city: docked bikes at stations beside every
fourth stop, free-floating e-scooters around the others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from feeds.synth.grid import TIMEZONE, Grid
from feeds.synth.transit import StopTable

VERSION = "2.3"
BASE_URL = "https://synth.example/gbfs/en"
FEEDS = (
    "system_information",
    "station_information",
    "station_status",
    "free_bike_status",
    "vehicle_types",
    "system_pricing_plans",
)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _envelope(data: dict[str, Any], last_updated: int, ttl: int = 60) -> dict[str, Any]:
    return {"last_updated": last_updated, "ttl": ttl, "version": VERSION, "data": data}


def write_gbfs(
    out: Path, grid: Grid, stops: StopTable, rng: np.random.Generator, last_updated: int
) -> dict[str, int]:
    """Write the GBFS files into directory ``out``; returns station and vehicle counts."""
    out.mkdir(parents=True, exist_ok=True)
    bus_stops = [i for i in range(len(stops)) if stops.location_type[i] == 0 and not stops.parent[i]]
    docked = bus_stops[::4]
    floating = [i for k, i in enumerate(bus_stops) if k % 4 != 0][::2]

    lat = np.asarray(stops.lat)
    lon = np.asarray(stops.lon)
    st_lat, st_lon = grid.shift(lat[docked], lon[docked], -20.0, -15.0)
    capacity = rng.integers(10, 25, len(docked))
    bikes = rng.integers(0, capacity + 1)
    stations = [
        {
            "station_id": f"bs{k + 1}",
            "name": stops.names[i],
            "lat": round(float(st_lat[k]), 6),
            "lon": round(float(st_lon[k]), 6),
            "capacity": int(capacity[k]),
            "rental_uris": {"web": f"https://synth.example/bike/station/bs{k + 1}"},
        }
        for k, i in enumerate(docked)
    ]
    status = [
        {
            "station_id": f"bs{k + 1}",
            "num_bikes_available": int(bikes[k]),
            "vehicle_types_available": [{"vehicle_type_id": "bike", "count": int(bikes[k])}],
            "num_docks_available": int(capacity[k] - bikes[k]),
            "is_installed": True,
            "is_renting": True,
            "is_returning": True,
            "last_reported": last_updated,
        }
        for k in range(len(docked))
    ]
    east = rng.uniform(-60.0, 60.0, len(floating))
    north = rng.uniform(-60.0, 60.0, len(floating))
    sc_lat, sc_lon = grid.shift(lat[floating], lon[floating], east, north)
    charge = rng.uniform(0.15, 1.0, len(floating))
    scooters = [
        {
            "bike_id": f"sc{k + 1}",
            "lat": round(float(sc_lat[k]), 6),
            "lon": round(float(sc_lon[k]), 6),
            "is_reserved": False,
            "is_disabled": False,
            "vehicle_type_id": "scooter",
            "current_range_meters": round(float(charge[k]) * 30_000.0, 1),
            "current_fuel_percent": round(float(charge[k]), 2),
            "pricing_plan_id": "scooter_minute",
            "rental_uris": {"web": f"https://synth.example/scooter/sc{k + 1}"},
        }
        for k in range(len(floating))
    ]

    documents: dict[str, dict[str, Any]] = {
        "gbfs": {
            "en": {"feeds": [{"name": name, "url": f"{BASE_URL}/{name}.json"} for name in FEEDS]},
        },
        "system_information": {
            "system_id": "synth_mobility",
            "language": "en",
            "name": "Synth Bike & Scooter",
            "operator": "Synth Mobility S.p.A.",
            "url": "https://synth.example/mobility",
            "timezone": TIMEZONE,
            "license_url": "https://creativecommons.org/publicdomain/zero/1.0/",
            "feed_contact_email": "opendata@synth.example",
        },
        "station_information": {"stations": stations},
        "station_status": {"stations": status},
        "free_bike_status": {"bikes": scooters},
        "vehicle_types": {
            "vehicle_types": [
                {
                    "vehicle_type_id": "bike",
                    "form_factor": "bicycle",
                    "propulsion_type": "human",
                    "name": "City bike",
                    "default_pricing_plan_id": "bike_minute",
                    "pricing_plan_ids": ["bike_minute"],
                    "return_constraint": "any_station",
                },
                {
                    "vehicle_type_id": "scooter",
                    "form_factor": "scooter_standing",
                    "propulsion_type": "electric",
                    "max_range_meters": 30_000.0,
                    "max_permitted_speed": 20,
                    "name": "E-scooter",
                    "default_pricing_plan_id": "scooter_minute",
                    "pricing_plan_ids": ["scooter_minute"],
                    "return_constraint": "free_floating",
                },
            ]
        },
        "system_pricing_plans": {
            "plans": [
                {
                    "plan_id": "bike_minute",
                    "name": "Bike: unlock + per minute",
                    "currency": "EUR",
                    "price": 1.0,
                    "is_taxable": False,
                    "description": "1.00 EUR to unlock, then 0.05 EUR per minute.",
                    "per_min_pricing": [{"start": 0, "rate": 0.05, "interval": 1}],
                },
                {
                    "plan_id": "scooter_minute",
                    "name": "Scooter: unlock + per minute",
                    "currency": "EUR",
                    "price": 1.0,
                    "is_taxable": False,
                    "description": "1.00 EUR to unlock, then 0.25 EUR per minute.",
                    "per_min_pricing": [{"start": 0, "rate": 0.25, "interval": 1}],
                },
            ]
        },
    }
    for name, data in documents.items():
        ttl = 0 if name == "gbfs" else 60
        write_json(out / f"{name}.json", _envelope(data, last_updated, ttl))
    return {"stations": len(stations), "vehicles": len(scooters)}
