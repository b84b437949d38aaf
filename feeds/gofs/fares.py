"""The price of an on-demand trip under a GOFS v1.0 fare (fares.json).

Read from the field definitions of the reference: a Fare object's ``amount`` is the cost
*per unit* of its key, charged every ``interval`` units (each interval as soon as it
begins) from ``start`` (inclusive, default 0) to ``end`` (exclusive, default: the whole
trip). So ``{"interval": 0.25, "end": 10, "amount": 3.30}`` is 3.30/km billed per
250 m: 0.825 per started quarter kilometre, as the reference's example 1 says. Without
an ``interval`` the amount is pro rata. The total is the sum of every key.

``rider`` and ``luggage`` count whole things, numbered from 1: ``{"start": 3,
"amount": 5}`` charges the third piece of luggage and every one after it.

Two limits, said plainly: ``idle_minute`` needs the stopped time of a trip, which a
planner does not know, so it is charged as 0 and ``active_minute`` over the whole
duration; and the reference's example 3 describes ``{"interval": 5, "amount": 3.0}`` as
"3.00 per 5 km", against its own field definition; this module follows the definition.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from feeds.gbfs.model import Price
from feeds.gofs.model import Fare, FareSegment


def _continuous(segment: FareSegment, used: float) -> Decimal:
    lo = segment.start or 0.0
    hi = used if segment.end is None else min(used, segment.end)
    if hi <= lo:
        return Decimal(0)
    amount = Decimal(str(segment.amount))
    if segment.interval is None or segment.interval <= 0:
        return amount * Decimal(str(hi - lo))
    chunks = math.ceil(round((hi - lo) / segment.interval, 9))
    return amount * Decimal(str(segment.interval)) * chunks


def _counted(segment: FareSegment, count: int) -> Decimal:
    first = int(segment.start) if segment.start is not None else 1
    last = count if segment.end is None else min(count, int(segment.end) - 1)
    return Decimal(str(segment.amount)) * max(0, last - first + 1)


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, start=Decimal(0))


def fare_price(fare: Fare, *, km: float, minutes: float, riders: int = 1, luggage: int = 0) -> Price:
    """What a trip of ``km`` and ``minutes`` for ``riders`` with ``luggage`` pieces costs.

    Raises ValueError for negative quantities.
    """
    if km < 0 or minutes < 0 or riders < 0 or luggage < 0:
        raise ValueError(
            f"negative trip quantities: {km} km, {minutes} min, {riders} riders, {luggage} luggage"
        )
    total = (
        _sum(_continuous(s, km) for s in fare.kilometer)
        + _sum(_continuous(s, minutes) for s in (*fare.minute, *fare.active_minute))
        + _sum(_counted(s, riders) for s in fare.rider)
        + _sum(_counted(s, luggage) for s in fare.luggage)
    )
    return Price(float(total), fare.currency)
