"""The price of a rental under a GBFS pricing plan (system_pricing_plans.json, v2.2+).

The specification's semantics, exactly:

- ``price`` is charged once per trip (the unlock fee); the total is ``price`` plus every
  segment of ``per_min_pricing`` and ``per_km_pricing``, all added together (segments do
  not replace one another; overlapping ones both apply).
- a segment charges ``rate`` once per ``interval`` units, starting at ``start``
  (inclusive) and up to ``end`` (exclusive; none = until the trip ends). Each interval is
  charged as soon as it begins: with ``start=0, interval=1`` a 12.5-minute ride pays 13
  minutes, with ``start=10, interval=1`` a 10.0 km ride pays no km and a 10.1 km ride one.
  So the charge points are ``start + k * interval`` below ``min(used, end)``:
  ``ceil((min(used, end) - start) / interval)`` of them when that is positive.
- ``interval = 0`` charges ``rate`` once, when ``start`` is passed.
- ``rate`` may be negative (a discount).

Arithmetic is decimal (rates are decimal amounts), so 1 + 13 x 0.55 is 8.15, not
8.150000000000002.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from feeds.gbfs.model import Price, PricingPlan, PricingSegment


def segment_charges(segment: PricingSegment, used: float) -> int:
    """How many times ``segment.rate`` is charged when ``used`` minutes (or km) are used."""
    upper = used if segment.end is None else min(used, segment.end)
    if upper <= segment.start:
        return 0
    if segment.interval <= 0:
        return 1
    # round before ceil so 0.3 / 0.1 (2.9999999999999996 in floats) counts 3 charges
    return math.ceil(round((upper - segment.start) / segment.interval, 9))


def segments_cost(segments: Iterable[PricingSegment], used: float) -> Decimal:
    return sum(
        (Decimal(str(s.rate)) * segment_charges(s, used) for s in segments),
        start=Decimal(0),
    )


def rental_price(plan: PricingPlan, minutes: float, km: float) -> Price:
    """What a rental of ``minutes`` and ``km`` costs under ``plan``.

    Raises ValueError for a negative duration or distance.
    """
    if minutes < 0 or km < 0 or not (math.isfinite(minutes) and math.isfinite(km)):
        raise ValueError(f"a rental needs non-negative minutes and km, got {minutes} min, {km} km")
    total = (
        Decimal(str(plan.price))
        + segments_cost(plan.per_min_pricing, minutes)
        + segments_cost(plan.per_km_pricing, km)
    )
    return Price(float(total), plan.currency)
