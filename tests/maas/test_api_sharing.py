"""/v1/plan with shared mobility: an artifact built with GBFS + GOFS, every mode in one search."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from maas.api.models import PlanResponse
from maas.app import create_app
from tests.maas.conftest import client_for, settings

pytestmark = pytest.mark.anyio

MODES = "walk,transit,bikeshare,scooter,ridehail"


@pytest.fixture(scope="module")
def shared_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from feeds.synth import synth_city
    from routing.build import build_graph
    from routing.graph import Graph

    root = tmp_path_factory.mktemp("api_sharing")
    c = synth_city(root / "city", stops=60, seed=1)
    report = build_graph([c.gtfs], osm=c.osm, out=root / "graph", gbfs=[c.gbfs], gofs=[c.gofs])
    g = Graph.load(report.path)
    lat, lon = np.asarray(g.stop_lat), np.asarray(g.stop_lon)
    a, b = int(np.argmin(lat + lon)), int(np.argmax(lat + lon))
    day = g.meta.base_date + dt.timedelta(days=(7 - g.meta.base_date.weekday()) % 7 + 1)
    yield {
        "graph": g,
        "city": c,
        "gbfs": Path(c.gbfs),
        "params": {
            "from": f"{lat[a] + 0.0004:.6f},{lon[a]:.6f}",
            "to": f"{lat[b] - 0.0004:.6f},{lon[b]:.6f}",
            "time": dt.datetime(day.year, day.month, day.day, 8, tzinfo=ZoneInfo(g.timezone)).isoformat(),
            "modes": MODES,
            "num_itineraries": 10,
        },
    }


async def test_plan_returns_priced_options_of_several_modes(shared_city: dict[str, Any]) -> None:
    app = create_app(settings(sharing_refresh=False), graph=shared_city["graph"])
    async with client_for(app) as client:
        r = await client.get("/v1/plan", params=shared_city["params"])
    assert r.status_code == 200, r.text
    body = r.json()
    model = PlanResponse.model_validate(body)
    assert model.model_dump(mode="json", by_alias=True, exclude_unset=True) == body  # the contract, key for key
    modes = {leg["mode"] for it in body["itineraries"] for leg in it["legs"]}
    assert {"bikeshare", "scooter", "ridehail"} <= modes and modes & {"bus", "tram", "subway"}
    for it in body["itineraries"]:
        for leg in it["legs"]:
            if leg["mode"] in ("bikeshare", "scooter", "ridehail"):
                assert leg["price"]["currency"] == "EUR" and leg["price"]["amount"] > 0
                assert leg["provider"]["id"] and leg["provider"]["name"]
        only_shared = all(leg["mode"] in ("walk", "scooter", "bikeshare", "ridehail") for leg in it["legs"])
        if only_shared:  # no transit leg: every leg is priced, so is the itinerary
            assert it["price"]["amount"] == pytest.approx(sum(l_["price"]["amount"] for l_ in it["legs"] if l_["price"]))
    hail = next(leg for it in body["itineraries"] for leg in it["legs"] if leg["mode"] == "ridehail")
    assert hail["pickup_wait_s"] > 0
    scooter = next(leg for it in body["itineraries"] for leg in it["legs"] if leg["mode"] == "scooter")
    assert scooter["vehicle_type"]["form_factor"] == "scooter_standing" and scooter["availability_known"] is True


async def test_availability_change_moves_the_realtime_epoch_and_the_cache_key(shared_city: dict[str, Any]) -> None:
    app = create_app(settings(sharing_refresh=False), graph=shared_city["graph"])
    runtime = app.state.runtime
    async with client_for(app) as client:
        first = await client.get("/v1/plan", params=shared_city["params"])
        again = await client.get("/v1/plan", params=shared_city["params"])
        assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
        epoch = runtime.realtime_epoch
        # the build's snapshot is older than its ttl: a refresh re-reads the status files
        assert await runtime.refresh_sharing_once() is True
        assert runtime.realtime_epoch == epoch + 1
        after = await client.get("/v1/plan", params=shared_city["params"])
        assert after.headers["x-cache"] == "miss"
        assert after.json()["realtime_epoch"] == epoch + 1
        # nothing new within the ttl: the epoch stays
        assert await runtime.refresh_sharing_once() is False
        assert runtime.realtime_epoch == epoch + 1


async def test_background_refresh_task_runs_and_stops_with_the_app(shared_city: dict[str, Any]) -> None:
    app = create_app(settings(sharing_refresh=True), graph=shared_city["graph"])
    async with client_for(app) as client:
        r = await client.get("/v1/ready")
        assert r.status_code == 200
        names = {t.get_name() for t in asyncio.all_tasks()}
        assert "maas-sharing-refresh" in names
    names = {t.get_name() for t in asyncio.all_tasks() if not t.done()}
    assert "maas-sharing-refresh" not in names


def test_cli_builds_with_gbfs_and_gofs_and_plans_priced_options(shared_city: dict[str, Any], tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from maas.cli import app

    c = shared_city["city"]
    runner = CliRunner()
    res = runner.invoke(app, ["build", str(c.gtfs), "--osm", str(c.osm), "--gbfs", str(c.gbfs), "--gofs", str(c.gofs),
                              "--out", str(tmp_path / "graph")])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "graph" / "manifest.json").read_text())
    assert {f["kind"] for f in manifest["feeds"]} == {"gtfs", "osm", "gbfs", "gofs"}
    assert "stale_feed" in res.output  # the recorded GBFS is old: the quality summary says so
    p = shared_city["params"]
    res = runner.invoke(app, ["plan", "--graph", str(tmp_path / "graph"), "--from", p["from"], "--to", p["to"],
                              "--time", p["time"], "--modes", MODES, "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    priced = [leg for it in body["itineraries"] for leg in it["legs"] if leg["mode"] in ("scooter", "ridehail")]
    assert priced and all(leg["price"]["amount"] > 0 for leg in priced)


async def test_feed_outage_keeps_answers_coming_with_availability_unknown(shared_city: dict[str, Any]) -> None:
    app = create_app(settings(sharing_refresh=False), graph=shared_city["graph"])
    runtime = app.state.runtime
    source: Path = shared_city["gbfs"]
    hidden = source.with_name(source.name + ".down")
    source.rename(hidden)  # the operator's feed goes away
    try:
        async with client_for(app) as client:
            epoch = runtime.realtime_epoch
            # the stored snapshot is long past its ttl: with the source gone it is not trusted
            assert await runtime.refresh_sharing_once() is True
            assert runtime.realtime_epoch == epoch + 1
            r = await client.get("/v1/plan", params=shared_city["params"])
    finally:
        hidden.rename(source)
    assert r.status_code == 200
    rentals = [leg for it in r.json()["itineraries"] for leg in it["legs"] if leg["mode"] in ("bikeshare", "scooter")]
    assert rentals and all(leg["availability_known"] is False for leg in rentals)
