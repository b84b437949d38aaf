"""Recorded r5py frames for the r5 engine's tests: the CSVs under fixtures/r5/ back in r5py's dtypes.

The CSVs are r5py result frames as ``DataFrame.to_csv`` writes them; the schema and the way the
frames were made are described in test_r5_convert.py.
"""

from __future__ import annotations

import enum
from pathlib import Path

import pandas as pd
import shapely

FIXTURES = Path(__file__).parent / "fixtures" / "r5"


class TransportMode(enum.Enum):
    """Stand-in for r5py.TransportMode (importing r5py starts a JVM); same names and values."""

    WALK = "WALK"
    BICYCLE = "BICYCLE"
    CAR = "CAR"
    TRANSIT = "TRANSIT"
    BUS = "BUS"
    TRAM = "TRAM"
    RAIL = "RAIL"
    SUBWAY = "SUBWAY"
    FERRY = "FERRY"


def load_itineraries(name: str = "portland_detailed_itineraries.csv") -> pd.DataFrame:
    ids = {c: str for c in ("feed", "agency_id", "route_id", "start_stop_id", "end_stop_id")}
    df = pd.read_csv(FIXTURES / name, dtype=ids)
    df["transport_mode"] = pd.Series([TransportMode[s.split(".")[-1]] for s in df["transport_mode"]], dtype=object)
    df["departure_time"] = pd.to_datetime(df["departure_time"])
    df["travel_time"] = pd.to_timedelta(df["travel_time"])
    df["wait_time"] = pd.to_timedelta(df["wait_time"])
    df["geometry"] = [shapely.from_wkt(w) for w in df["geometry"]]
    for c in ids:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df
