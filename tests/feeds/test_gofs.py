"""feeds.gofs: the GOFS v1.0 reference examples and the synthetic city load; zones,
calendars, pickup windows and fares behave as the reference defines; wait_time answers
parse; bad feeds become notices."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from feeds.gbfs.model import Price
from feeds.gofs import (
    Fare,
    FareSegment,
    ServiceIndex,
    fare_price,
    fetch_wait_time,
    load_gofs,
    parse_realtime_booking,
    parse_time,
    parse_wait_time,
)
from feeds.quality import Severity
from feeds.synth import synth_city

MONTREAL = dt.timezone(dt.timedelta(hours=-4))  # EDT, America/Toronto in September


def _raw(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)["data"]
    return data


@pytest.fixture(scope="module")
def spec_dir(shared_data: Path) -> Path:
    return shared_data / "gofs" / "spec_examples"


def test_spec_examples_load(spec_dir: Path) -> None:
    feed, notices = load_gofs(spec_dir)
    assert feed.id == "spec_examples"
    assert (feed.system.name, feed.system.timezone, feed.system.version) == (
        "Example MicroTransit",
        "America/Toronto",
        "1.0",
    )
    assert len(feed.brands) == len(_raw(spec_dir / "service_brands.json")["service_brands"]) == 3
    assert len(feed.vehicle_types) == len(_raw(spec_dir / "vehicle_types.json")["vehicle_types"]) == 1
    assert len(feed.zones) == len(_raw(spec_dir / "zones.json")["zones"]["features"]) == 1
    assert len(feed.operating_rules) == len(_raw(spec_dir / "operating_rules.json")["operating_rules"]) == 1
    assert len(feed.calendars) == len(_raw(spec_dir / "calendars.json")["calendars"]) == 3
    assert len(feed.booking_rules) == len(_raw(spec_dir / "booking_rules.json")["booking_rules"]) == 2
    # fares-1/2/3.json are three alternative examples, all with fare_id RegularPrice:
    # merged, the first kept, the others reported as duplicates
    assert [f.id for f in feed.fares] == ["spec_examples:RegularPrice"]
    codes = {n.code: n for n in notices}
    assert codes["duplicate_id"].message.startswith("2 ")
    # booking_rules.json names zoneB, which zones.json does not define
    assert "zoneB" in codes["unknown_reference"].message
    assert not [n for n in notices if n.severity is Severity.ERROR]

    rule = feed.operating_rules[0]
    assert (rule.start_pickup_s, rule.end_pickup_s, rule.end_dropoff_s) == (
        6 * 3600,
        9 * 3600,
        9 * 3600 + 1800,
    )
    assert rule.brand_id == "spec_examples:large_ride" and rule.fare_id == "spec_examples:RegularPrice"
    notice_rule = feed.booking_rules[0]
    assert (notice_rule.booking_type, notice_rule.to_zone_ids, notice_rule.prior_notice_duration_min) == (
        1,
        None,
        30,
    )
    assert feed.booking_rules[1].prior_notice_last_time_s == 17 * 3600


def test_wait_time_response_is_parsed(spec_dir: Path) -> None:
    raw = (spec_dir / "wait_time_response.json").read_bytes()
    assert parse_wait_time(raw, "taxi") == {"taxi:regular_ride": 300, "taxi:large_ride": 600}
    # the loader reads a recorded answer into the feed
    feed, _ = load_gofs(spec_dir)
    assert feed.wait_time_by_brand == {"spec_examples:regular_ride": 300, "spec_examples:large_ride": 600}
    with pytest.raises(ValueError):
        parse_wait_time(b"not json", "taxi")


def test_realtime_booking_response_is_parsed(spec_dir: Path) -> None:
    bookings = parse_realtime_booking((spec_dir / "realtime_booking_response.json").read_bytes(), "t")
    assert [(b.brand_id, b.wait_s, b.travel_time_s, b.travel_cost, b.currency) for b in bookings] == [
        ("t:regular_ride", 300, 300, 30.0, "CAD"),
        ("t:large_ride", 450, 300, 45.0, "CAD"),
    ]
    assert bookings[1].service_name == "Taxi Van" and bookings[1].phone_number == "+18005551234"


def test_fetch_wait_time_queries_the_endpoint(spec_dir: Path) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, content=(spec_dir / "wait_time_response.json").read_bytes())

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        waits = fetch_wait_time(
            client,
            "https://www.example.com/gofs/1/en/wait_time",
            "t",
            (45.60, -73.30),
            None,
            ["regular_ride", "large_ride"],
        )
    assert waits == {"t:regular_ride": 300, "t:large_ride": 600}
    params = seen[0].params
    assert (params["pickup_lat"], params["pickup_lon"], params["brand_id"]) == (
        "45.600000",
        "-73.300000",
        "regular_ride,large_ride",
    )
    assert "drop_off_lat" not in params

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("simulated outage", request=request)

    with httpx.Client(transport=httpx.MockTransport(down)) as client:
        assert fetch_wait_time(client, "https://www.example.com/wait_time", "t", (45.6, -73.3)) is None


def test_zone_with_a_hole(spec_dir: Path) -> None:
    feed, _ = load_gofs(spec_dir)
    index = ServiceIndex(feed)
    # zoneA: -74.10..-73.30 x 45.35..45.75 minus the hole -73.60..-73.50 x 45.55..45.65
    assert index.zones_at(45.40, -74.00) == ("spec_examples:zoneA",)
    assert index.zones_at(45.60, -73.55) == ()  # in the hole
    assert index.zones_at(46.00, -73.55) == ()  # north of the zone


def test_calendars_and_pickup_windows(spec_dir: Path) -> None:
    feed, _ = load_gofs(spec_dir)
    cal = feed.calendars_by_id
    labor_day = dt.date(2021, 9, 6)  # a Monday, excepted from "weekday"
    assert not cal["spec_examples:weekday"].active_on(labor_day)
    assert cal["spec_examples:labor_day"].active_on(labor_day)
    assert cal["spec_examples:weekday"].active_on(dt.date(2021, 9, 7))
    assert not cal["spec_examples:weekend"].active_on(dt.date(2021, 11, 6))  # after end_date

    index = ServiceIndex(feed)
    a, b = (45.40, -74.00), (45.70, -73.40)

    def served(when: dt.datetime, duration_s: float = 0) -> int:
        return len(index.rules_between(a, b, when, duration_s))

    # the rule runs 06:00-09:00 (drop-off until 09:30) on weekends and labor day
    assert served(dt.datetime(2021, 9, 4, 7, 0, tzinfo=MONTREAL)) == 1  # Saturday
    assert served(dt.datetime(2021, 9, 3, 7, 0, tzinfo=MONTREAL)) == 0  # Friday
    assert served(dt.datetime(2021, 9, 6, 7, 0, tzinfo=MONTREAL)) == 1  # labor day
    assert served(dt.datetime(2021, 9, 4, 9, 0, tzinfo=MONTREAL)) == 0  # end_pickup_window is exclusive
    assert served(dt.datetime(2021, 9, 4, 5, 59, tzinfo=MONTREAL)) == 0
    assert served(dt.datetime(2021, 9, 4, 8, 50, tzinfo=MONTREAL), duration_s=1800) == 1  # drop-off 09:20
    assert served(dt.datetime(2021, 9, 4, 8, 50, tzinfo=MONTREAL), duration_s=3000) == 0  # drop-off 09:40
    # the same instant written in UTC
    assert served(dt.datetime(2021, 9, 4, 11, 0, tzinfo=dt.UTC)) == 1


def test_times_past_midnight_belong_to_the_previous_service_day(tmp_path: Path) -> None:
    city = synth_city(tmp_path, stops=60, seed=1)
    feed, _ = load_gofs(city.gofs)
    index = ServiceIndex(feed)
    center = city.center
    rome = dt.timezone(dt.timedelta(hours=1))  # Europe/Rome in January
    # Friday 2026-01-09: the weekday taxi runs 05:00-25:00 (until 01:00 Saturday)
    friday_late = dt.datetime(2026, 1, 10, 0, 30, tzinfo=rome)  # Saturday 00:30 = Friday 24:30
    brands = {r.brand_id for r in index.rules_between(center, center, friday_late)}
    assert "gofs:taxi" in brands
    # Tuesday 03:00: neither Monday's 25:00 nor Tuesday's 05:00 window is open
    assert index.rules_between(center, center, dt.datetime(2026, 1, 6, 3, 0, tzinfo=rome)) == []


def test_parse_time() -> None:
    assert parse_time("06:00:00") == 21600
    assert parse_time("25:30:00") == 91800
    assert parse_time("6:05:09") == 21909
    assert parse_time("6:60:00") is None and parse_time(None) is None


def test_fares_spec_examples(spec_dir: Path) -> None:
    def fare(name: str) -> Fare:
        data = _raw(spec_dir / name)["fares"][0]
        return Fare(
            "t:f",
            data["currency"],
            **{
                key: tuple(
                    FareSegment(s["amount"], s.get("start"), s.get("end"), s.get("interval"))
                    for s in data[key]
                )
                for key in ("kilometer", "minute", "rider", "luggage")
                if key in data
            },
        )

    # fares-1: 3.30/km billed per 0.25 km up to 10 km, then 4.30/km billed per 0.5 km.
    # 12 km: 40 quarters x 0.825 = 33.00, + 4 halves x 2.15 = 8.60 -> 41.60 CAD
    assert fare_price(fare("fares-1.json"), km=12, minutes=20) == Price(41.6, "CAD")
    # 10.1 km: 33.00 + 1 started half km x 2.15 = 35.15
    assert fare_price(fare("fares-1.json"), km=10.1, minutes=20).amount == 35.15
    # fares-2: 1.00/min per minute for 20 min, then 1.50/min per 30 s.
    # 25 min: 20 x 1.00 + 10 x 0.75 = 27.50 CAD
    assert fare_price(fare("fares-2.json"), km=5, minutes=25).amount == 27.5
    # fares-3: base 2.50 per rider; 1.00/km from km 10; luggage 5 from the 3rd piece.
    # 5 km, 1 rider: 2.50; 12 km, 2 riders, 3 pieces: 2 x 2.50 + 2 x 1.00 + 1 x 5 = 12.00
    assert fare_price(fare("fares-3.json"), km=5, minutes=10).amount == 2.5
    assert fare_price(fare("fares-3.json"), km=12, minutes=10, riders=2, luggage=3).amount == 12.0
    with pytest.raises(ValueError):
        fare_price(fare("fares-3.json"), km=-1, minutes=0)


def test_synthetic_city_gofs_loads(tmp_path: Path) -> None:
    city = synth_city(tmp_path, stops=60, seed=1)
    feed, notices = load_gofs(city.gofs)
    raw = {
        name: _raw(city.gofs / f"{name}.json") for name in ("zones", "operating_rules", "calendars", "fares")
    }
    assert len(feed.zones) == len(raw["zones"]["zones"]["features"])
    assert len(feed.operating_rules) == len(raw["operating_rules"]["operating_rules"])
    assert len(feed.calendars) == len(raw["calendars"]["calendars"])
    assert len(feed.fares) == len(raw["fares"]["fares"])
    assert feed.system.timezone == "Europe/Rome"
    assert feed.wait_time_by_brand == {"gofs:taxi": 300, "gofs:van": 600}
    assert not [n for n in notices if n.severity is not Severity.INFO]
    index = ServiceIndex(feed)
    assert index.zones_at(*city.center) == ("gofs:city",)
    wednesday_10 = dt.datetime(2026, 1, 7, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert {r.brand_id for r in index.rules_between(city.center, city.center, wednesday_10)} == {
        "gofs:taxi",
        "gofs:van",
    }


def test_bad_gofs_feeds_are_notices(spec_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(spec_dir, folder)
    (folder / "zones.json").write_text("{", encoding="utf-8")
    (folder / "calendars.json").unlink()
    doc = json.loads((folder / "service_brands.json").read_text(encoding="utf-8"))
    doc["version"] = "2.7"
    (folder / "service_brands.json").write_text(json.dumps(doc), encoding="utf-8")

    feed, notices = load_gofs(folder)
    codes = {(n.code, n.file) for n in notices}
    assert ("invalid_json", "zones.json") in codes
    assert ("missing_required_gofs_file", "calendars.json") in codes
    assert ("missing_required_gofs_file", "zones.json") in codes
    assert any(n.code == "unknown_gofs_version" and "'2.7'" in n.message for n in notices)
    assert feed.zones == () and len(feed.brands) == 3
    # with no zones and no calendars nothing is served, and nothing raises
    assert (
        ServiceIndex(feed).rules_between(
            (45.4, -74.0), (45.4, -74.0), dt.datetime(2021, 9, 4, 11, tzinfo=dt.UTC)
        )
        == []
    )
