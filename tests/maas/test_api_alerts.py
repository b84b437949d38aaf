"""GTFS-Realtime in the gateway: /v1/alerts, delays and cancellations on legs, the realtime epoch.

One graph of the bay_area GTFS (BART 2019 + Caltrain 2023, no OSM: stop-to-stop queries) is
built per module; queries run on the days the recorded realtime messages were taken. The
hand-made messages are written with the bindings to a file the app polls, so every test goes
through the real refresh path (file -> overlay -> epoch -> cache key).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from google.transit import gtfs_realtime_pb2 as pb

from maas.app import create_app
from maas.settings import Settings
from routing.build import build_graph
from routing.graph import Graph
from routing.realtime import RealtimeOverlay, RealtimeSource
from tests.maas.conftest import client_for, settings

pytestmark = pytest.mark.anyio

LA = ZoneInfo("America/Los_Angeles")
# Caltrain, 2023-11-07 (the day of ct-trip-updates.pb): San Francisco -> San Jose Diridon
CT_FROM, CT_TO, CT_TIME = "stop:caltrain_ct:70011", "stop:caltrain_ct:70261", "2023-11-07T17:00:00-08:00"
# BART, 2019-08-07 (the day of bart-alerts.pb): Daly City -> Embarcadero
BART_FROM, BART_TO, BART_TIME = "stop:bart_rt:DALY", "stop:bart_rt:EMBR", "2019-08-07T10:40:00-07:00"


@pytest.fixture(scope="module")
def bay_graph(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    from tests.conftest import SHARED_DATA

    gtfs = SHARED_DATA / "bay_area" / "gtfs"
    if not gtfs.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    report = build_graph([gtfs / "bart_rt.zip", gtfs / "caltrain_ct.zip"], osm=None,
                         out=tmp_path_factory.mktemp("bay") / "graph")
    return Graph.load(report.path)


def _message(*, timestamp: int = 1_699_405_534) -> pb.FeedMessage:
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.timestamp = timestamp
    return m


def _write(path: Path, m: pb.FeedMessage) -> None:
    path.write_bytes(m.SerializeToString())


def _app_settings(*specs: str) -> Settings:
    return settings(gtfs_rt=list(specs), gtfs_rt_refresh_s=0, warm_up=False)


@pytest.fixture
async def rt_client(bay_graph: Graph, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any, Path]]:
    """The app on the bay graph, polling one hand-made realtime file of Caltrain (empty at first)."""
    path = tmp_path / "ct.pb"
    _write(path, _message())
    app = create_app(_app_settings(f"caltrain_ct={path}"), graph=bay_graph)
    async with client_for(app) as c:
        yield c, app.state.runtime, path


def _transit_leg(body: dict[str, Any]) -> dict[str, Any]:
    return next(leg for leg in body["itineraries"][0]["legs"] if "route" in leg)


async def _plan(c: httpx.AsyncClient, frm: str = CT_FROM, to: str = CT_TO, time: str = CT_TIME) -> httpx.Response:
    r = await c.get("/v1/plan", params={"from": frm, "to": to, "time": time, "num_itineraries": 1})
    assert r.status_code == 200, r.text
    return r


# -- legs ---------------------------------------------------------------------------------------------


async def test_a_cancelled_trip_and_a_route_alert_show_on_the_leg_and_move_the_epoch(
    rt_client: tuple[httpx.AsyncClient, Any, Path],
) -> None:
    c, runtime, path = rt_client
    before = await _plan(c)
    leg = _transit_leg(before.json())
    assert leg["realtime"] == {"delay_s": None, "cancelled": False} and "alerts" not in leg
    epoch = before.json()["realtime_epoch"]
    assert (await _plan(c)).headers["x-cache"] == "hit"

    trip, route = leg["trip_id"].split(":", 1)[1], leg["route"]["id"].split(":", 1)[1]
    start = int(dt.datetime.fromisoformat(leg["start_time"]).timestamp())
    m = _message()
    tu = m.entity.add(id="cancel").trip_update
    tu.trip.trip_id = trip
    tu.trip.start_date = leg["service_date"].replace("-", "")
    tu.trip.schedule_relationship = pb.TripDescriptor.CANCELED
    a = m.entity.add(id="works").alert
    a.effect = pb.Alert.REDUCED_SERVICE
    a.active_period.add(start=start - 600, end=start + 600)
    a.header_text.translation.add(text="Single tracking", language="en")
    a.url.translation.add(text="https://www.caltrain.com/alerts")
    a.informed_entity.add(route_id=route)
    _write(path, m)
    assert await runtime.refresh_realtime_once() is True
    assert runtime.realtime_epoch == epoch + 1

    after = await _plan(c)
    assert after.headers["x-cache"] == "miss"  # the epoch is part of the key: nothing stale is served
    body = after.json()
    assert body["realtime_epoch"] == epoch + 1
    leg = _transit_leg(body)
    assert leg["realtime"]["cancelled"] is True
    assert leg["alerts"] == [{"id": "caltrain_ct:works", "header": "Single tracking", "effect": "reduced_service",
                              "url": "https://www.caltrain.com/alerts"}]
    # the same message again is no news: the epoch stays
    assert await runtime.refresh_realtime_once() is False and runtime.realtime_epoch == epoch + 1

    # outside its active period the alert applies neither to a leg nor in /v1/alerts
    later = await _plan(c, time="2023-11-07T20:00:00-08:00")
    assert "alerts" not in _transit_leg(later.json())
    at = dt.datetime.fromtimestamp(start, LA).isoformat()
    r = await c.get("/v1/alerts", params={"route": f"caltrain_ct:{route}", "time": at})
    assert [x["id"] for x in r.json()["alerts"]] == ["caltrain_ct:works"]
    assert r.json()["alerts"][0]["informed_entities"][0]["route_id"] == f"caltrain_ct:{route}"
    r = await c.get("/v1/alerts", params={"route": f"caltrain_ct:{route}", "time": "2023-11-07T20:00:00-08:00"})
    assert r.json()["alerts"] == []
    other_route = next(x["id"] for x in Graph.load(runtime.loaded.graph.path).routes
                       if x["id"].startswith("caltrain_ct:") and x["id"] != f"caltrain_ct:{route}")
    r = await c.get("/v1/alerts", params={"route": other_route, "time": at})
    assert r.json()["alerts"] == []


async def test_a_delay_at_the_boarding_stop_shows_on_the_leg(rt_client: tuple[httpx.AsyncClient, Any, Path]) -> None:
    c, runtime, path = rt_client
    leg = _transit_leg((await _plan(c)).json())
    m = _message()
    tu = m.entity.add(id="late").trip_update
    tu.trip.trip_id = leg["trip_id"].split(":", 1)[1]  # no start_date: inferred from the times
    stu = tu.stop_time_update.add(stop_id=leg["from"]["stop_id"].split(":", 1)[1])
    stu.departure.time = int(dt.datetime.fromisoformat(leg["start_time"]).timestamp()) + 240
    _write(path, m)
    assert await runtime.refresh_realtime_once()
    leg = _transit_leg((await _plan(c)).json())
    assert leg["realtime"] == {"delay_s": 240, "cancelled": False}


async def test_an_outage_or_a_bad_message_keeps_the_last_good_snapshot(
    rt_client: tuple[httpx.AsyncClient, Any, Path],
) -> None:
    c, runtime, path = rt_client
    m = _message()
    m.entity.add(id="all").alert.informed_entity.add(agency_id="CT")
    _write(path, m)
    assert await runtime.refresh_realtime_once()
    epoch = runtime.realtime_epoch

    async def alert_ids() -> list[str]:
        r = await c.get("/v1/alerts", params={"feed": "caltrain_ct", "time": CT_TIME})
        return [a["id"] for a in r.json()["alerts"]]

    assert await alert_ids() == ["caltrain_ct:all"]
    path.unlink()  # the source goes away
    assert await runtime.refresh_realtime_once() is False
    assert [n.code for n in runtime.realtime.notices] == ["unreachable_feed"]
    assert await alert_ids() == ["caltrain_ct:all"] and runtime.realtime_epoch == epoch
    path.write_bytes(b"<html>502 Bad Gateway</html>")  # garbage
    assert await runtime.refresh_realtime_once() is False
    assert "invalid_protobuf" in [n.code for n in runtime.realtime.notices]
    assert await alert_ids() == ["caltrain_ct:all"] and runtime.realtime_epoch == epoch
    assert "caltrain_ct:all" in [a["id"] for a in _transit_leg((await _plan(c)).json())["alerts"]]  # agency-wide


# -- the recorded messages -------------------------------------------------------------------------------


def _ct_schedule(shared: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """(trip, stop) -> scheduled (arrival, departure) POSIX seconds on 2023-11-07, from stop_times.txt."""
    noon = dt.datetime(2023, 11, 7, 12, tzinfo=LA)
    day0 = int(noon.timestamp()) - 12 * 3600

    def secs(text: str) -> int:
        h, m, s = (int(x) for x in text.split(":"))
        return day0 + h * 3600 + m * 60 + s

    out = {}
    with zipfile.ZipFile(shared / "bay_area" / "gtfs" / "caltrain_ct.zip") as z:
        for row in csv.DictReader(io.TextIOWrapper(z.open("stop_times.txt"), "utf-8-sig")):
            out[(row["trip_id"], row["stop_id"])] = (secs(row["arrival_time"]), secs(row["departure_time"]))
    return out


@pytest.mark.shared_data
def test_caltrain_delays_are_the_recorded_times_minus_stop_times_txt(bay_graph: Graph, shared_data: Path) -> None:
    rt = shared_data / "bay_area" / "gtfs_rt" / "ct-trip-updates.pb"
    overlay = RealtimeOverlay([RealtimeSource("caltrain_ct", str(rt))], graph=bay_graph)
    assert overlay.refresh()
    assert {n.code for n in overlay.notices} == {"stale_feed"}  # 19/19 trips and 51/51 stops known
    schedule = _ct_schedule(shared_data)
    raw = pb.FeedMessage()
    raw.ParseFromString(rt.read_bytes())
    checked = 0
    for e in raw.entity:
        trip = e.trip_update.trip
        for stu in e.trip_update.stop_time_update:
            if not stu.departure.time:
                continue
            got = overlay.delay_at(f"caltrain_ct:{trip.trip_id}", dt.date(2023, 11, 7), f"caltrain_ct:{stu.stop_id}")
            assert got is not None
            assert got.departure_delay == stu.departure.time - schedule[(trip.trip_id, stu.stop_id)][1]
            checked += 1
    assert checked >= 200  # data/README.md: 220 stop time updates


@pytest.mark.shared_data
async def test_recorded_bart_alert_in_the_api_and_on_bart_legs_only(bay_graph: Graph, shared_data: Path) -> None:
    rt = shared_data / "bay_area" / "gtfs_rt"
    app = create_app(_app_settings(f"bart_rt={rt / 'bart-alerts.pb'}", f"bart_rt={rt / 'bart-trip-updates.pb'}",
                                   f"caltrain_ct={rt / 'ct-trip-updates.pb'}"), graph=bay_graph)
    async with client_for(app) as c:
        r = await c.get("/v1/alerts", params={"time": BART_TIME, "lang": "en"})
        assert r.status_code == 200
        (alert,) = r.json()["alerts"]
        assert alert["id"] == "bart_rt:BSA_187874" and alert["language"] == "en-US"
        assert alert["effect"] == "significant_delays" and "Montgomery" in alert["header"]
        for params in ({"stop": "bart_rt:MONT"}, {"route": "bart_rt:1"}, {"feed": "bart_rt"}):
            assert len((await c.get("/v1/alerts", params={**params, "time": BART_TIME})).json()["alerts"]) == 1
        for params in ({"feed": "caltrain_ct"}, {"stop": "caltrain_ct:70011"}):
            assert (await c.get("/v1/alerts", params={**params, "time": BART_TIME})).json()["alerts"] == []

        bart = _transit_leg((await _plan(c, BART_FROM, BART_TO, BART_TIME)).json())
        assert [a["id"] for a in bart["alerts"]] == ["bart_rt:BSA_187874"]
        caltrain = _transit_leg((await _plan(c)).json())
        assert "alerts" not in caltrain
        # trip 710 is in the recorded Caltrain updates: the leg carries its delay at the boarding stop
        overlay = app.state.runtime.realtime
        expected = overlay.delay_at(caltrain["trip_id"], dt.date(2023, 11, 7), caltrain["from"]["stop_id"])
        assert expected is not None and caltrain["realtime"]["delay_s"] == expected.departure_delay


async def test_alerts_without_a_source_and_bad_parameters(bay_graph: Graph) -> None:
    async with client_for(create_app(settings(warm_up=False), graph=bay_graph)) as c:
        r = await c.get("/v1/alerts")
        assert r.status_code == 200 and r.json()["alerts"] == []
        for params, field in (({"route": "no-feed"}, "route"), ({"time": "yesterday"}, "time"),
                              ({"stop": ":x"}, "stop")):
            r = await c.get("/v1/alerts", params=params)
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
            assert field in [e["field"] for e in r.json()["errors"]]


def test_gtfs_rt_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAAS_GTFS_RT", "ct=/data/ct.pb, bart=https://api.bart.gov/gtfsrt/tripupdate.aspx")
    assert Settings().gtfs_rt == ["ct=/data/ct.pb", "bart=https://api.bart.gov/gtfsrt/tripupdate.aspx"]
    monkeypatch.setenv("MAAS_GTFS_RT", "just-a-path.pb")
    with pytest.raises(ValueError, match="FEED=PATH_OR_URL"):
        Settings()


@pytest.mark.shared_data
def test_maas_plan_annotates_legs_with_gtfs_rt(bay_graph: Graph, shared_data: Path) -> None:
    import json

    from typer.testing import CliRunner

    from maas.cli import app as cli

    rt = shared_data / "bay_area" / "gtfs_rt"
    args = ["plan", "--graph", str(bay_graph.path), "--from", BART_FROM, "--to", BART_TO, "--time", BART_TIME,
            "--num", "1", "--json"]
    res = CliRunner().invoke(cli, [*args, "--gtfs-rt", f"bart_rt={rt / 'bart-alerts.pb'}"])
    assert res.exit_code == 0, res.output
    leg = _transit_leg(json.loads(res.stdout))
    assert [a["id"] for a in leg["alerts"]] == ["bart_rt:BSA_187874"]
    plain = CliRunner().invoke(cli, args)
    assert "alerts" not in _transit_leg(json.loads(plain.stdout))
    bad = CliRunner().invoke(cli, [*args, "--gtfs-rt", "no-equals-sign"])
    assert bad.exit_code == 2 and "FEED=PATH_OR_URL" in bad.output
