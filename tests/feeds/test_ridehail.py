"""feeds.ridehail: the recorded Uber answers replay as estimates; GOFS services become
estimates with fare, wait and booking notice; both sit behind one protocol."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from feeds.errors import FeedFormatError, FeedNotFound
from feeds.gofs import load_gofs
from feeds.ridehail import METERS_PER_MILE, EstimateProvider, GofsEstimates, RecordedEstimates, RideEstimate
from feeds.synth import synth_city

WHEN = dt.datetime(2026, 1, 7, 9, 0, tzinfo=dt.UTC)
SF_ORIGIN = (37.7749, -122.4194)
SF_DESTINATION = (37.8044, -122.2712)


@pytest.fixture(scope="module")
def recorded(shared_data: Path) -> RecordedEstimates:
    folder = shared_data / "ridehail"
    return RecordedEstimates(folder / "uber-price-estimates.json", folder / "uber-arrival-estimates.json")


def test_recorded_estimates_replay_prices_and_waits(recorded: RecordedEstimates, shared_data: Path) -> None:
    provider: EstimateProvider = recorded
    estimates = provider.estimate(SF_ORIGIN, SF_DESTINATION, WHEN)
    by_name = {e.display_name: e for e in estimates}

    # uber-price-estimates.json: uberX "$13-17", 6.17 mi, 1080 s; arrival: 60 s
    ux = by_name["uberX"]
    assert (ux.product_id, ux.price_low, ux.price_high, ux.currency) == (
        "a1111c8c-c720-46c3-8534-2fcdd730040d",
        13.0,
        17.0,
        "USD",
    )
    assert (ux.pickup_wait_s, ux.duration_s) == (60, 1080)
    assert ux.distance_m == pytest.approx(6.17 * 1609.344)  # Uber reports miles
    assert (by_name["BLACK"].price_low, by_name["BLACK"].price_high, by_name["BLACK"].pickup_wait_s) == (
        43.0,
        43.0,
        240,
    )
    # WAV is priced but has no arrival estimate; TAXI has an arrival estimate but no price
    assert by_name["WAV"].pickup_wait_s is None and by_name["WAV"].price_low == 25.0
    taxi = by_name["TAXI"]
    assert (taxi.pickup_wait_s, taxi.price_low, taxi.currency, taxi.duration_s) == (480, None, "", None)


def test_recorded_estimates_cover_every_recorded_product(
    recorded: RecordedEstimates, shared_data: Path
) -> None:
    with (shared_data / "ridehail/uber-price-estimates.json").open(encoding="utf-8") as fh:
        prices = json.load(fh)["prices"]
    with (shared_data / "ridehail/uber-arrival-estimates.json").open(encoding="utf-8") as fh:
        times = {t["product_id"]: t["estimate"] for t in json.load(fh)["times"]}
    estimates = recorded.estimate(SF_ORIGIN, SF_DESTINATION, WHEN)
    assert [e.product_id for e in estimates] == [p["product_id"] for p in prices] + [
        pid for pid in times if pid not in {p["product_id"] for p in prices}
    ]
    for e, p in zip(estimates, prices, strict=False):
        assert (e.price_low, e.price_high, e.duration_s) == (
            p["low_estimate"],
            p["high_estimate"],
            p["duration"],
        )
        assert e.distance_m == pytest.approx(p["distance"] * METERS_PER_MILE)
        assert e.pickup_wait_s == times.get(p["product_id"])
        assert e.provider_id == "uber"


def test_recorded_deep_links_carry_the_trip(recorded: RecordedEstimates) -> None:
    estimate = recorded.estimate(SF_ORIGIN, SF_DESTINATION, WHEN)[0]
    query = parse_qs(urlparse(estimate.deep_link).query)
    assert query["product_id"] == [estimate.product_id]
    assert query["pickup[latitude]"] == ["37.774900"] and query["dropoff[longitude]"] == ["-122.271200"]


def test_recorded_estimates_reject_unreadable_files(tmp_path: Path) -> None:
    good = tmp_path / "times.json"
    good.write_text('{"times": []}', encoding="utf-8")
    with pytest.raises(FeedNotFound):
        RecordedEstimates(tmp_path / "missing.json", good)
    bad = tmp_path / "prices.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(FeedFormatError):
        RecordedEstimates(bad, good)


# -- GOFS ------------------------------------------------------------------------------------


def _fares1_price(km: float) -> float:
    """fares-1 by hand: 3.30/km per started 0.25 km up to 10 km, then 4.30/km per started 0.5 km."""
    first = math.ceil(min(km, 10) / 0.25) * 0.25 * 3.30
    rest = math.ceil(max(km - 10, 0) / 0.5) * 0.5 * 4.30
    return first + rest


def test_gofs_estimates_from_the_spec_examples(shared_data: Path) -> None:
    feed, _ = load_gofs(shared_data / "gofs/spec_examples")
    provider: EstimateProvider = GofsEstimates(feed)
    saturday_7 = dt.datetime(2021, 9, 4, 11, 0, tzinfo=dt.UTC)  # 07:00 in Montréal
    origin, destination = (45.40, -74.00), (45.45, -73.90)

    estimates = provider.estimate(origin, destination, saturday_7)

    # one operating rule: brand large_ride, fare RegularPrice (fares-1.json, the first of the examples)
    assert [e.product_id for e in estimates] == ["spec_examples:large_ride"]
    e = estimates[0]
    assert e.display_name == "Large Ride" and e.provider_id == "spec_examples"
    # booking_rules: zoneA -> anywhere is same-day booking with 30 min notice, longer than
    # the recorded 600 s wait_time
    assert e.pickup_wait_s == 1800
    assert e.distance_m is not None and e.duration_s is not None
    assert e.duration_s == round(e.distance_m / (30 / 3.6))
    expected = _fares1_price(e.distance_m / 1000)
    assert e.price_low == pytest.approx(expected) and e.price_high == pytest.approx(expected)
    assert e.currency == "CAD"

    # no service from the hole of zoneA, nor on a Friday morning
    assert provider.estimate((45.60, -73.55), destination, saturday_7) == []
    assert provider.estimate(origin, destination, dt.datetime(2021, 9, 3, 11, 0, tzinfo=dt.UTC)) == []


def test_gofs_estimates_synthetic_city_with_live_waits(tmp_path: Path) -> None:
    city = synth_city(tmp_path, stops=60, seed=1)
    feed, _ = load_gofs(city.gofs)
    lat, lon = city.center
    origin, destination = (lat, lon), (lat + 0.01, lon + 0.01)
    wednesday_10 = dt.datetime(2026, 1, 7, 9, 0, tzinfo=dt.UTC)  # 10:00 in Rome

    recorded_waits = {
        e.product_id: e for e in GofsEstimates(feed).estimate(origin, destination, wednesday_10)
    }
    assert set(recorded_waits) == {"gofs:taxi", "gofs:van"}
    taxi = recorded_waits["gofs:taxi"]
    assert (taxi.pickup_wait_s, recorded_waits["gofs:van"].pickup_wait_s) == (300, 600)
    assert taxi.distance_m is not None and taxi.duration_s is not None
    # taxi_meter: 3.50 per rider + 1.20 per started km + 0.40 per started minute
    km, minutes = taxi.distance_m / 1000, taxi.duration_s / 60
    assert taxi.price_low == pytest.approx(3.5 + math.ceil(km) * 1.2 + math.ceil(minutes) * 0.4)
    assert taxi.currency == "EUR"

    asked: list[Sequence[str]] = []

    def live(o: tuple[float, float], d: tuple[float, float], brands: Sequence[str]) -> dict[str, int]:
        asked.append(brands)
        return {"gofs:taxi": 120}

    live_estimates = GofsEstimates(feed, wait_times=live).estimate(origin, destination, wednesday_10)
    assert {e.product_id: e.pickup_wait_s for e in live_estimates} == {"gofs:taxi": 120, "gofs:van": None}
    assert asked == [["taxi", "van"]]  # one query, local brand ids

    def broken(o: tuple[float, float], d: tuple[float, float], brands: Sequence[str]) -> dict[str, int]:
        raise ConnectionError("provider down")

    fallback = GofsEstimates(feed, wait_times=broken).estimate(origin, destination, wednesday_10)
    assert {e.product_id: e.pickup_wait_s for e in fallback} == {"gofs:taxi": 300, "gofs:van": 600}

    # Wednesday 23:00 in Rome: the van stops at 22:00, the weekday taxi runs to 25:00
    late = GofsEstimates(feed).estimate(origin, destination, dt.datetime(2026, 1, 7, 22, 0, tzinfo=dt.UTC))
    assert [e.product_id for e in late] == ["gofs:taxi"]


def test_estimate_is_a_frozen_record() -> None:
    e = RideEstimate("p", "x", "X", 60, 600, 1000.0, 5.0, 7.0, "EUR")
    with pytest.raises(AttributeError):
        e.price_low = 1.0  # type: ignore[misc]
