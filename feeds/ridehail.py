"""Ride-hail and on-demand estimates behind one small interface.

An :class:`EstimateProvider` answers one question — what rides could take me from A to B
at T — with :class:`RideEstimate` s (wait, duration, distance, price range, deep link).
Two implementations:

- :class:`RecordedEstimates` replays a recorded pair of Uber API answers
  (``/v1.2/estimates/price`` and ``/v1.2/estimates/time``); it is the test fixture and
  the shape a live Uber/Lyft adapter would fill.
- :class:`GofsEstimates` derives estimates from a GOFS feed: the trip must start and end
  in zones an operating rule in force connects; duration and distance come from the
  straight line times a detour factor at an assumed speed; price from the rule's fare;
  wait from the ``wait_time`` answer (live source, or the recorded one in the feed).

Points are ``(lat, lon)``; times aware datetimes; money in the provider's currency.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import numpy as np

from feeds.errors import FeedFormatError, FeedNotFound
from feeds.geo import haversine_m
from feeds.gofs.fares import fare_price
from feeds.gofs.model import BookingRule, GofsFeed
from feeds.gofs.service import ServiceIndex

Point = tuple[float, float]  # (lat, lon)
METERS_PER_MILE = 1609.344  # Uber reports distance in miles


@dataclass(frozen=True, slots=True)
class RideEstimate:
    provider_id: str  # "uber", or the GOFS feed id
    product_id: str  # provider's product (Uber product_id, GOFS brand id)
    display_name: str
    pickup_wait_s: int | None  # None: the provider gave no wait for this product
    duration_s: int | None
    distance_m: float | None
    price_low: float | None  # None: no price known
    price_high: float | None
    currency: str  # ISO 4217, "" when no price
    deep_link: str = ""


class EstimateProvider(Protocol):
    def estimate(self, origin: Point, destination: Point, when: dt.datetime) -> list[RideEstimate]:
        """Estimates for a ride from ``origin`` to ``destination`` requested for ``when``;
        an empty list when the provider does not serve the trip. Never raises for a trip
        it cannot serve."""
        ...


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise FeedNotFound(f"ride-hail estimate file not found: {path}") from exc
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FeedFormatError(f"{path}: not a readable JSON estimate ({exc})") from exc
    if not isinstance(doc, dict):
        raise FeedFormatError(f"{path}: expected a JSON object")
    return doc


def uber_deep_link(origin: Point, destination: Point, product_id: str) -> str:
    """Uber's universal link that opens the app with pickup, drop-off and product set."""
    params = {
        "action": "setPickup",
        "pickup[latitude]": f"{origin[0]:.6f}",
        "pickup[longitude]": f"{origin[1]:.6f}",
        "dropoff[latitude]": f"{destination[0]:.6f}",
        "dropoff[longitude]": f"{destination[1]:.6f}",
        "product_id": product_id,
    }
    return f"https://m.uber.com/ul/?{urlencode(params)}"


class RecordedEstimates:
    """Replays recorded Uber price and arrival estimates for any trip.

    Products are those of the price answer (in its order) followed by those only in the
    arrival answer (no price); a product missing from the arrival answer has no wait.
    Raises FeedNotFound / FeedFormatError at construction for unreadable files.
    """

    def __init__(
        self, price_json_path: str | Path, arrival_json_path: str | Path, *, provider_id: str = "uber"
    ) -> None:
        self.provider_id = provider_id
        prices = _read_json(Path(price_json_path)).get("prices")
        times = _read_json(Path(arrival_json_path)).get("times")
        if not isinstance(prices, list) or not isinstance(times, list):
            raise FeedFormatError("expected Uber answers with a 'prices' and a 'times' array")
        self._waits = {
            str(t["product_id"]): int(t["estimate"])
            for t in times
            if isinstance(t, dict) and "product_id" in t and isinstance(t.get("estimate"), int | float)
        }
        self._names = {
            str(p["product_id"]): str(p.get("localized_display_name") or p.get("display_name") or "")
            for p in (*prices, *times)
            if isinstance(p, dict) and "product_id" in p
        }
        self._prices = [p for p in prices if isinstance(p, dict) and "product_id" in p]

    def estimate(self, origin: Point, destination: Point, when: dt.datetime) -> list[RideEstimate]:
        out = []
        priced = set()
        for p in self._prices:
            product = str(p["product_id"])
            priced.add(product)
            distance = _number(p.get("distance"))
            duration = _number(p.get("duration"))
            out.append(
                RideEstimate(
                    provider_id=self.provider_id,
                    product_id=product,
                    display_name=self._names[product],
                    pickup_wait_s=self._waits.get(product),
                    duration_s=int(duration) if duration is not None else None,
                    distance_m=distance * METERS_PER_MILE if distance is not None else None,
                    price_low=_number(p.get("low_estimate")),
                    price_high=_number(p.get("high_estimate")),
                    currency=str(p.get("currency_code") or ""),
                    deep_link=uber_deep_link(origin, destination, product),
                )
            )
        for product, wait in self._waits.items():
            if product not in priced:
                out.append(
                    RideEstimate(
                        self.provider_id,
                        product,
                        self._names[product],
                        wait,
                        None,
                        None,
                        None,
                        None,
                        "",
                        uber_deep_link(origin, destination, product),
                    )
                )
        return out


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


# (origin, destination, local brand ids) -> {namespaced brand id: seconds}, None on failure
WaitTimeSource = Callable[[Point, Point, Sequence[str]], Mapping[str, int] | None]


class GofsEstimates:
    """Estimates for the brands of a GOFS service that serve a trip.

    ``wait_times`` is a live source (e.g. a closure over
    :func:`feeds.gofs.fetch_wait_time`) or a fixed {brand id: seconds}; without it, the
    feed's recorded ``wait_time`` answer is used. Brands bookable only a day ahead are
    left out; same-day bookings with notice wait at least that notice.
    """

    def __init__(
        self,
        feed: GofsFeed,
        *,
        wait_times: WaitTimeSource | Mapping[str, int] | None = None,
        speed_kmh: float = 30.0,
        detour_factor: float = 1.3,
        riders: int = 1,
    ) -> None:
        if speed_kmh <= 0 or detour_factor < 1.0 or riders < 1:
            raise ValueError("speed_kmh must be > 0, detour_factor >= 1 and riders >= 1")
        self.feed = feed
        self.index = ServiceIndex(feed)
        self._wait_times = wait_times
        self._speed_ms = speed_kmh / 3.6
        self._detour = detour_factor
        self._riders = riders

    def estimate(self, origin: Point, destination: Point, when: dt.datetime) -> list[RideEstimate]:
        straight = float(
            haversine_m(
                np.array([origin[0]]),
                np.array([origin[1]]),
                np.array([destination[0]]),
                np.array([destination[1]]),
            )[0]
        )
        distance_m = straight * self._detour
        duration_s = round(distance_m / self._speed_ms)
        rules = self.index.rules_between(origin, destination, when, duration_s)
        waits: Mapping[str, int] | None = None
        out: list[RideEstimate] = []
        seen: set[str] = set()
        for rule in rules:
            brands = [rule.brand_id] if rule.brand_id else [b.id for b in self.feed.brands]
            for brand_id in brands:
                if brand_id in seen:
                    continue
                booking = self.index.booking_rules_for(rule.from_zone_id, rule.to_zone_id)
                notice_s = _notice_s(booking)
                if notice_s is None:
                    continue  # only bookable on an earlier day
                seen.add(brand_id)
                if waits is None:
                    waits = self._waits(origin, destination)
                wait = waits.get(brand_id)
                if notice_s:
                    wait = max(wait or 0, notice_s)
                fare = self.feed.fares_by_id.get(rule.fare_id or "")
                price = (
                    fare_price(fare, km=distance_m / 1000.0, minutes=duration_s / 60.0, riders=self._riders)
                    if fare
                    else None
                )
                brand = self.feed.brands_by_id.get(brand_id)
                out.append(
                    RideEstimate(
                        provider_id=self.feed.id,
                        product_id=brand_id,
                        display_name=brand.name if brand else brand_id,
                        pickup_wait_s=wait,
                        duration_s=duration_s,
                        distance_m=distance_m,
                        price_low=price.amount if price else None,
                        price_high=price.amount if price else None,
                        currency=price.currency if price else "",
                        deep_link=_booking_link(booking, origin, destination, when) or self.feed.system.url,
                    )
                )
        return out

    def _waits(self, origin: Point, destination: Point) -> Mapping[str, int]:
        source = self._wait_times
        if source is None:
            return self.feed.wait_time_by_brand
        if isinstance(source, Mapping):
            return source
        prefix = f"{self.feed.id}:"
        local_ids = [b.id.removeprefix(prefix) for b in self.feed.brands]
        try:
            answer = source(origin, destination, local_ids)
        except Exception:  # a failing live source must not fail the plan; fall back
            answer = None
        return answer if answer is not None else self.feed.wait_time_by_brand


def _notice_s(booking: list[BookingRule]) -> int | None:
    """Minimum notice in seconds for booking now: 0 for real time (or no rules at all),
    the prior notice for same-day booking, None when only earlier days are bookable."""
    if not booking or any(b.booking_type == 0 for b in booking):
        return 0
    same_day = [b.prior_notice_duration_min or 0 for b in booking if b.booking_type == 1]
    return min(same_day) * 60 if same_day else None


def _booking_link(booking: list[BookingRule], origin: Point, destination: Point, when: dt.datetime) -> str:
    """The booking URL with the query parameters the GOFS reference defines."""
    url = next((b.booking_url for b in booking if b.booking_url), "")
    if not url:
        return ""
    params = {
        "pickup_lat": f"{origin[0]:.6f}",
        "pickup_lon": f"{origin[1]:.6f}",
        "drop_off_lat": f"{destination[0]:.6f}",
        "drop_off_lon": f"{destination[1]:.6f}",
        "pickup_time": str(int(when.timestamp())),
    }
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
