"""Analysis on the built-in engine: travel-time matrices, isochrones, accessibility.

Semantics follow r5py (``TravelTimeMatrix``, ``Isochrones``) and R5's reducer: one
departure per minute of a window, percentiles over the per-minute travel times, whole
minutes truncated, ``max_time`` and beyond unreachable. :mod:`routing.analysis.distributed`
fans large matrices out on Dask.
"""

from routing.analysis.matrix import (
    UNREACHED,
    AnalysisOptions,
    Destinations,
    TravelTimeComputer,
    TravelTimeMatrix,
    percentile_minutes,
)
from routing.analysis.points import Points

__all__ = [
    "UNREACHED",
    "AnalysisOptions",
    "Destinations",
    "Points",
    "TravelTimeComputer",
    "TravelTimeMatrix",
    "percentile_minutes",
]
