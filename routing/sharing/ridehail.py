"""Ride-hail legs: a car from the door (after the pickup wait) to a stop or the destination.

Estimates come from the overlay's providers (GOFS services of the artifact, provider
APIs): one call for the trip decides whether ride-hail serves it at all, which product
(shortest pickup wait, then lowest price) and how long the wait is. The drive itself is
timed on the street graph (car speeds per edge) when the places are on it, else taken
from the estimate. The leg starts at pickup, ``pickup_wait_s`` after it was requested;
its price is the provider's estimate for exactly that leg (the upper bound of a range,
so a price is never understated), None when the provider gives none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from feeds.model import F64, I32
from feeds.ridehail import EstimateProvider, RideEstimate
from routing.plan import Leg, LegPlace, Money, Provider
from routing.polyline import encode
from routing.streets import (
    CAR,
    StreetGraph,
    path_between,
    path_edges,
    path_geometry,
    path_length_m,
    shortest_times,
)

MAX_HAIL_ACCESS_S = 600.0  # longest drive to or from a stop searched (longer: ride all the way)
MAX_HAIL_DIRECT_S = 3 * 3600.0  # longest direct ride-hail trip


def estimates(providers: Sequence[EstimateProvider], a: LegPlace, b: LegPlace, when: dt.datetime) -> list[RideEstimate]:
    out: list[RideEstimate] = []
    for p in providers:
        try:
            out.extend(p.estimate((a.lat, a.lon), (b.lat, b.lon), when))
        except Exception:  # a failing provider must not fail the plan
            continue
    return out


def best_product(found: Sequence[RideEstimate]) -> RideEstimate | None:
    """Shortest known wait, then lowest price."""
    if not found:
        return None
    return min(found, key=lambda e: (e.pickup_wait_s if e.pickup_wait_s is not None else 1 << 30,
                                     e.price_high if e.price_high is not None else float("inf")))


def price_of(e: RideEstimate | None) -> Money | None:
    if e is None or not e.currency:
        return None
    amount = e.price_high if e.price_high is not None else e.price_low
    return None if amount is None else Money(amount, e.currency)


def provider_of(e: RideEstimate) -> Provider:
    """``PROVIDER:PRODUCT`` (GOFS brand ids are namespaced by their feed already)."""
    if not e.product_id:
        pid = e.provider_id
    elif e.product_id.startswith(f"{e.provider_id}:"):
        pid = e.product_id
    else:
        pid = f"{e.provider_id}:{e.product_id}"
    return Provider(id=pid, name=e.display_name or e.provider_id, deep_link=e.deep_link or None)


def wait_s(e: RideEstimate) -> int:
    """Seconds to plan the pickup with: 0 when the provider gives no wait (the leg's
    ``pickup_wait_s`` then says null rather than a made-up 0)."""
    return int(e.pickup_wait_s or 0)


@dataclass
class HailChain:
    """Driving times from a place to every node (forward) or from every node to it."""

    product: RideEstimate
    reverse: bool
    streets: StreetGraph
    walk_mps: float
    place: LegPlace
    place_node: int
    times: F64
    pred: I32

    mode = "ridehail"

    @property
    def wait(self) -> int:
        return wait_s(self.product)

    def seconds_at(self, node: int, link_m: float) -> float:
        return self.wait + float(self.times[node]) + link_m / self.walk_mps

    def stop_seconds(self, nodes: np.ndarray, link_m: np.ndarray) -> F64:
        out: F64 = self.wait + self.times[nodes] + np.asarray(link_m, dtype=np.float64) / self.walk_mps
        return out

    def leg(self, node: int, link_m: float, other: LegPlace, requested: dt.datetime, end: dt.datetime,
            providers: Sequence[EstimateProvider]) -> Leg:
        """The ride between the place and ``node`` (``other`` is the stop or place there),
        requested at ``requested`` and arriving at ``end``; it starts at pickup."""
        g = self.streets
        edges = path_edges(self.pred, g, node, reverse=self.reverse)
        if self.reverse:
            lat, lon = path_geometry(g, edges, node)
            a, b = other, self.place
        else:
            lat, lon = path_geometry(g, edges, self.place_node)
            a, b = self.place, other
        lats, lons = [a.lat, *lat.tolist(), b.lat], [a.lon, *lon.tolist(), b.lon]
        return Leg(
            mode="ridehail", from_place=a, to_place=b, start_time=requested + dt.timedelta(seconds=self.wait),
            end_time=end, distance_m=path_length_m(g, edges) + link_m, polyline=encode(lats, lons),
            provider=provider_of(self.product), price=self.quote(other, requested, providers),
            pickup_wait_s=self.product.pickup_wait_s,  # None: the provider gave no wait
        )

    def quote(self, other: LegPlace, when: dt.datetime, providers: Sequence[EstimateProvider]) -> Money | None:
        """The provider's price for this product between the place and ``other``."""
        a, b = (other, self.place) if self.reverse else (self.place, other)
        found = [e for e in estimates(providers, a, b, when) if e.product_id == self.product.product_id]
        return price_of(found[0] if found else None)


def hail_chain(
    product: RideEstimate, streets: StreetGraph, place: LegPlace, node: int, walk_mps: float, *, reverse: bool,
    bound: float = MAX_HAIL_ACCESS_S,
) -> HailChain:
    times, pred = shortest_times(streets, np.array([node], dtype=np.int32), np.zeros(1), CAR, 0.0,
                                 bound, reverse=reverse)
    return HailChain(product, reverse, streets, walk_mps, place, node, times.astype(np.float64), pred)


def direct_hail(
    product: RideEstimate, streets: StreetGraph, a: LegPlace, a_node: int, b: LegPlace, b_node: int,
    requested: dt.datetime, *, arrive_by: bool = False,
) -> Leg | None:
    """The whole trip by ride-hail (point to point on the street graph), requested at
    ``requested`` (``arrive_by``: arriving then); None when no car can drive it."""
    secs, edges = path_between(streets, a_node, b_node, CAR, 0.0, MAX_HAIL_DIRECT_S)
    if not np.isfinite(secs):
        return None
    drive = dt.timedelta(seconds=int(np.ceil(secs)))
    wait = dt.timedelta(seconds=wait_s(product))
    if arrive_by:
        requested = requested - drive - wait
    lat, lon = path_geometry(streets, edges, a_node)
    return Leg(
        mode="ridehail", from_place=a, to_place=b, start_time=requested + wait, end_time=requested + wait + drive,
        distance_m=path_length_m(streets, edges), polyline=encode([a.lat, *lat.tolist(), b.lat], [a.lon, *lon.tolist(), b.lon]),
        provider=provider_of(product), price=price_of(product), pickup_wait_s=product.pickup_wait_s,
    )
