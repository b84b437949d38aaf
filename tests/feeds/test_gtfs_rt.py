"""GTFS-Realtime parsing, delay propagation and checks against the static feed.

The real messages of ../shared/data/bay_area are counted twice: by :mod:`feeds.gtfs_rt` and,
independently, by walking the protobuf with the bindings directly. Propagation is checked on
hand-made FeedMessages built with the bindings, one rule of the GTFS-RT reference at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import httpx
import pytest
from google.transit import gtfs_realtime_pb2 as pb

from feeds.gtfs_rt import (
    ScheduledStop,
    TripUpdate,
    check_against_static,
    load_gtfs_rt,
    parse_feed_message,
    propagate_delays,
)

RT_FILES = ["bart-alerts.pb", "bart-trip-updates.pb", "ct-service-alerts.pb", "ct-trip-updates.pb",
            "ct-vehicle-positions.pb", "example.pb"]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _message(timestamp: int = 1_700_000_000, version: str = "2.0") -> pb.FeedMessage:
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = version
    m.header.timestamp = timestamp
    return m


def _only_update(m: pb.FeedMessage) -> TripUpdate:
    feed = parse_feed_message(m.SerializeToString(), "f")
    assert feed.ok, feed.notices
    (tu,) = feed.trip_updates
    return tu


# -- the recorded bay_area messages ---------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize("name", RT_FILES)
def test_every_recorded_message_parses_with_the_counts_the_protobuf_holds(shared_data: Path, name: str) -> None:
    path = shared_data / "bay_area" / "gtfs_rt" / name
    raw = pb.FeedMessage()
    raw.ParseFromString(path.read_bytes())
    feed = load_gtfs_rt(path, "ba", now=NOW)
    assert feed.ok and feed.source == str(path)
    assert feed.entity_count == len(raw.entity)
    assert feed.timestamp == raw.header.timestamp
    assert len(feed.alerts) == sum(e.HasField("alert") for e in raw.entity)
    assert len(feed.trip_updates) == sum(e.HasField("trip_update") for e in raw.entity)
    assert len(feed.vehicles) == sum(e.HasField("vehicle") and e.vehicle.HasField("position") for e in raw.entity)
    assert sum(len(t.stop_time_updates) for t in feed.trip_updates) == sum(
        len(e.trip_update.stop_time_update) for e in raw.entity)
    raw_trips = sorted(f"ba:{e.trip_update.trip.trip_id}" for e in raw.entity if e.HasField("trip_update"))
    assert sorted(t.trip_id or "" for t in feed.trip_updates) == raw_trips
    # a recording of years ago is stale: reported, still applied
    assert [n.code for n in feed.notices] == ["stale_feed"]


@pytest.mark.shared_data
def test_the_bart_alert_reads_as_the_protobuf_says(shared_data: Path) -> None:
    feed = load_gtfs_rt(shared_data / "bay_area" / "gtfs_rt" / "bart-alerts.pb", "bart_rt")
    (alert,) = feed.alerts
    assert alert.id == "bart_rt:BSA_187874"
    assert alert.cause == "medical_emergency" and alert.effect == "significant_delays"
    assert "Montgomery" in alert.header.text("en")
    assert alert.header.text("en") == alert.header.text("en-US") == alert.header.text("fr")  # only one translation
    assert alert.url.text() == "http://www.bart.gov/schedules/advisories"
    assert [(s.agency_id, s.route_id, s.stop_id) for s in alert.informed] == [("bart_rt:BART", None, None)]
    assert alert.active_periods == () and alert.active_at(0)  # no period: in force while in the feed


@pytest.mark.shared_data
def test_unknown_trips_and_stops_against_the_static_feed(shared_data: Path) -> None:
    with zipfile.ZipFile(shared_data / "bay_area" / "gtfs" / "bart_rt.zip") as z:
        trips = {f"bart_rt:{r['trip_id']}" for r in csv.DictReader(io.TextIOWrapper(z.open("trips.txt"), "utf-8-sig"))}
        stops = {f"bart_rt:{r['stop_id']}" for r in csv.DictReader(io.TextIOWrapper(z.open("stops.txt"), "utf-8-sig"))}
    raw = pb.FeedMessage()
    raw.ParseFromString((shared_data / "bay_area" / "gtfs_rt" / "bart-trip-updates.pb").read_bytes())
    added = [e for e in raw.entity if e.trip_update.trip.schedule_relationship == pb.TripDescriptor.ADDED]
    unknown = {f"bart_rt:{e.trip_update.trip.trip_id}" for e in raw.entity if e not in added} - trips
    assert len(added) == 8 and len(unknown) == 18  # data/README.md: 65 of 91 trips known, 8 ADDED

    feed = load_gtfs_rt(shared_data / "bay_area" / "gtfs_rt" / "bart-trip-updates.pb", "bart_rt")
    notices = {n.code: n for n in check_against_static(feed, trip_ids=trips, stop_ids=stops)}
    assert set(notices) == {"unknown_trip", "added_trips"}
    assert notices["unknown_trip"].message.startswith(f"{len(unknown)} trip id(s)")
    assert sorted(unknown)[0] in notices["unknown_trip"].message
    assert notices["added_trips"].message.startswith(f"{len(added)} trip(s)")
    # every stop is known; one stranger is named
    strangers = check_against_static(feed, trip_ids=trips, stop_ids=stops - {"bart_rt:MONT"})
    assert [n.message for n in strangers if n.code == "unknown_stop"] == [
        "1 stop id(s) not in the static feed: bart_rt:MONT"]


# -- bad input: notices, never a traceback --------------------------------------------------------------


def test_bad_bytes_wrong_version_and_differential_are_refused_with_a_notice() -> None:
    bad = parse_feed_message(b"\x08\x96\x01garbage that is not a FeedMessage \xff\xff", "f", source="x.pb")
    assert not bad.ok and [n.code for n in bad.notices] == ["invalid_protobuf"]
    assert bad.notices[0].severity == "error" and bad.notices[0].file == "x.pb"

    future = parse_feed_message(_message(version="3.0").SerializeToString(), "f")
    assert not future.ok and [n.code for n in future.notices] == ["unsupported_version"]

    diff = _message()
    diff.header.incrementality = pb.FeedHeader.DIFFERENTIAL
    refused = parse_feed_message(diff.SerializeToString(), "f")
    assert not refused.ok and [n.code for n in refused.notices] == ["unsupported_incrementality"]


def test_stale_and_missing_timestamps_are_reported_but_applied() -> None:
    m = _message(timestamp=int(NOW.timestamp()) - 3600)
    m.entity.add(id="a").alert.header_text.translation.add(text="closed")
    stale = parse_feed_message(m.SerializeToString(), "f", now=NOW, max_age_s=300)
    assert stale.ok and len(stale.alerts) == 1 and [n.code for n in stale.notices] == ["stale_feed"]
    fresh = parse_feed_message(m.SerializeToString(), "f", now=NOW, max_age_s=7200)
    assert fresh.notices == ()
    m.header.ClearField("timestamp")
    assert [n.code for n in parse_feed_message(m.SerializeToString(), "f").notices] == ["missing_timestamp"]


def test_unreachable_sources_are_a_notice(tmp_path: Path) -> None:
    gone = load_gtfs_rt(tmp_path / "nothing.pb", "f")
    assert not gone.ok and [n.code for n in gone.notices] == ["unreachable_feed"]

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        down = load_gtfs_rt("https://rt.example/feed.pb", "f", client=client)
    assert not down.ok and down.notices[0].code == "unreachable_feed" and "503" in down.notices[0].message

    body = _message().SerializeToString()
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))) as client:
        assert load_gtfs_rt("https://rt.example/feed.pb", "f", client=client).ok


# -- propagation ---------------------------------------------------------------------------------------

DAY = dt.date(2023, 11, 7)
T0 = 1_699_400_000
SCHEDULE = [ScheduledStop(f"f:S{i}", T0 + 600 * i, T0 + 600 * i + 30, stop_sequence=i + 1) for i in range(6)]


def _trip(m: pb.FeedMessage, trip_id: str = "T1") -> pb.TripUpdate:
    tu = m.entity.add(id=trip_id).trip_update
    tu.trip.trip_id = trip_id
    tu.trip.start_date = DAY.strftime("%Y%m%d")
    return tu


def test_a_stop_without_an_update_takes_the_last_known_delay() -> None:
    m = _message()
    tu = _trip(m)
    s = tu.stop_time_update.add(stop_id="S1")  # stop 2: delay given
    s.departure.delay = 60
    s = tu.stop_time_update.add(stop_id="S3")  # stop 4: absolute time only (Caltrain style)
    s.arrival.time = SCHEDULE[3].arrival + 180
    s.departure.time = SCHEDULE[3].departure + 120
    update = _only_update(m)
    assert update.start_date == DAY and update.trip_id == "f:T1"
    delays, notices = propagate_delays(update, SCHEDULE, DAY)
    assert notices == () and not delays.cancelled
    assert [(d.arrival_delay, d.departure_delay) for d in delays.stops] == [
        (None, None),  # before the first update: unknown
        (60, 60),  # departure only: used for the arrival too
        (60, 60),  # propagated
        (180, 120),  # time minus schedule
        (120, 120),  # the departure delay propagates
        (120, 120),
    ]
    assert delays.at("f:S4") is not None and delays.at("f:S4").departure_delay == 120  # type: ignore[union-attr]


def test_skipped_stops_pass_the_delay_on_and_no_data_stops_it() -> None:
    m = _message()
    tu = _trip(m)
    tu.delay = 30  # trip level: where no stop update says otherwise
    s = tu.stop_time_update.add(stop_sequence=2)
    s.arrival.delay = 90
    tu.stop_time_update.add(stop_sequence=3).schedule_relationship = pb.TripUpdate.StopTimeUpdate.SKIPPED
    tu.stop_time_update.add(stop_sequence=5).schedule_relationship = pb.TripUpdate.StopTimeUpdate.NO_DATA
    delays, _ = propagate_delays(_only_update(m), SCHEDULE, DAY)
    assert [d.departure_delay for d in delays.stops] == [30, 90, 90, 90, None, None]
    assert [d.skipped for d in delays.stops] == [False, False, True, False, False, False]


def test_a_cancelled_trip_is_cancelled_everywhere_and_strangers_are_reported() -> None:
    m = _message()
    _trip(m).trip.schedule_relationship = pb.TripDescriptor.CANCELED
    delays, _ = propagate_delays(_only_update(m), SCHEDULE, DAY)
    assert delays.cancelled and all(d.skipped for d in delays.stops)

    m = _message()
    tu = _trip(m)
    tu.stop_time_update.add(stop_id="S9").departure.delay = 10  # not on this trip
    tu.stop_time_update.add(stop_id="S2").departure.delay = 20
    delays, notices = propagate_delays(_only_update(m), SCHEDULE, DAY)
    assert [n.code for n in notices] == ["unmatched_stop_time_update"] and "f:S9" in notices[0].message
    assert [d.departure_delay for d in delays.stops] == [None, None, 20, 20, 20, 20]


def test_alert_fields_time_ranges_and_translations() -> None:
    m = _message()
    a = m.entity.add(id="closure").alert
    a.cause = pb.Alert.CONSTRUCTION
    a.effect = pb.Alert.NO_SERVICE
    a.active_period.add(start=1000, end=2000)
    a.active_period.add(start=5000)
    a.header_text.translation.add(text="Station fermée", language="fr")
    a.header_text.translation.add(text="Station closed", language="en-US")
    sel = a.informed_entity.add(route_id="R1", stop_id="S1")
    sel.trip.trip_id = "T9"
    a.informed_entity.add(route_type=3)
    (alert,) = parse_feed_message(m.SerializeToString(), "f").alerts
    assert (alert.id, alert.cause, alert.effect) == ("f:closure", "construction", "no_service")
    assert alert.header.text("en") == "Station closed" and alert.header.text("fr-CA") == "Station fermée"
    assert alert.header.text() == "Station fermée"  # none without a language: the first
    assert [alert.active_at(t) for t in (999, 1000, 2000, 2001, 4999, 5000, 10**10)] == [
        False, True, True, False, False, True, True]
    assert alert.active_during(2500, 5500) and not alert.active_during(2100, 4900)
    assert [(s.route_id, s.stop_id, s.trip_id, s.route_type) for s in alert.informed] == [
        ("f:R1", "f:S1", "f:T9", None), (None, None, None, 3)]
