"""An itinerary's price from its legs.

Rule: walking is free; every other leg (rental, ride-hail, transit) must have a known
price, all in one currency, for the itinerary to have one; then it is their sum. Transit
fares are not modelled yet, so an itinerary with a transit leg has no price (null), while
its rental and ride-hail legs still show theirs. An itinerary of walking only has no
price either: nothing is charged, but there is no currency to say 0 in.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from routing.plan import Leg, Money


def itinerary_price(legs: Sequence[Leg]) -> Money | None:
    paid = [leg for leg in legs if leg.mode != "walk"]
    if not paid or any(leg.price is None for leg in paid):
        return None
    currencies = {leg.price.currency for leg in paid if leg.price is not None}
    if len(currencies) != 1:
        return None
    total = sum((Decimal(str(leg.price.amount)) for leg in paid if leg.price is not None), start=Decimal(0))
    return Money(float(total), currencies.pop())


def known_cost(legs: Sequence[Leg]) -> float:
    """The sum of the prices that are known (what ranking compares)."""
    return sum(leg.price.amount for leg in legs if leg.price is not None)
