"""Publishing feeds through the API: validation, background build, atomic swap, rollback.

Also home of the helpers the other operator tests use (an app on a data dir of its own, keys,
feed variants); the city is the session's 60-stop synthetic one.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from maas.app import create_app
from maas.identity.keys import create_key
from tests.maas.conftest import City, client_for, settings

pytestmark = pytest.mark.anyio


# -- helpers ----------------------------------------------------------------------------------------


def gtfs_source(city: City) -> Path:
    """The GTFS zip the city's artifact was built from (its manifest names it)."""
    feed = next(f for f in city.graph.manifest["feeds"] if f["kind"] == "gtfs")
    return Path(feed["source_path"])


def shifted_feed(city: City, out: Path, minutes: int) -> bytes:
    """The city's GTFS with every stop time ``minutes`` later: a valid new version, another graph."""
    buf = io.BytesIO()
    with zipfile.ZipFile(gtfs_source(city)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "stop_times.txt":
                rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
                header = rows[0]
                cols = [header.index(c) for c in ("arrival_time", "departure_time") if c in header]
                for row in rows[1:]:
                    for c in cols:
                        if row[c]:
                            h, m, s = (int(x) for x in row[c].split(":"))
                            total = h * 3600 + m * 60 + s + minutes * 60
                            row[c] = f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
                out_buf = io.StringIO()
                csv.writer(out_buf, lineterminator="\n").writerows(rows)
                data = out_buf.getvalue().encode()
            zout.writestr(name, data)
    out.write_bytes(buf.getvalue())
    return buf.getvalue()


def feed_id_of(city: City) -> str:
    return str(next(f for f in city.graph.manifest["feeds"] if f["kind"] == "gtfs")["id"])


def operator_app(city: City, data_dir: Path, **overrides: Any) -> Any:
    s = settings(data_dir=data_dir, graph=city.path, swap_poll_s=0.1, **overrides)
    return create_app(s)


def bearer(app: Any, *scopes: str, name: str = "test", rate_per_s: float | None = None) -> dict[str, str]:
    _, token = create_key(app.state.operations.db, scopes, name=name, rate_per_s=rate_per_s)
    return {"Authorization": f"Bearer {token}"}


def plan_params(city: City) -> dict[str, str]:
    return {"from": city.origin, "to": city.destination, "time": city.time}


async def wait_job(c: httpx.AsyncClient, href: str, headers: dict[str, str], timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        r = await c.get(href, headers=headers)
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["status"] in ("succeeded", "failed"):
            return job
        assert asyncio.get_running_loop().time() < deadline, f"job still {job['status']}: {job}"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


# -- tests ------------------------------------------------------------------------------------------


async def test_publishing_needs_a_key_with_the_feed_scope(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data")
    fid = feed_id_of(city)
    body = shifted_feed(city, tmp_path / "v2.zip", 2)
    async with running(app) as c:
        r = await c.put(f"/v1/feeds/{fid}", content=body)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
        r = await c.put(f"/v1/feeds/{fid}", content=body, headers={"Authorization": "Bearer maas_k0000000000_" + "x" * 43})
        assert r.status_code == 401
        other = bearer(app, "feeds:write:someone-else")
        r = await c.put(f"/v1/feeds/{fid}", content=body, headers=other)
        assert r.status_code == 403
        assert "feeds:write:" + fid in r.json()["detail"]
        widget = bearer(app, "widget:https://museum.example")
        r = await c.put(f"/v1/feeds/{fid}", content=body, headers={**widget, "Origin": "https://museum.example"})
        assert r.status_code == 403
        r = await c.post(f"/v1/feeds/{fid}/rollback", headers=other)
        assert r.status_code == 403
        r = await c.get("/v1/audit", headers=other)
        assert r.status_code == 403
        r = await c.get("/v1/audit")
        assert r.status_code == 401
        # nothing was published: still the seeded version only
        versions = (await c.get(f"/v1/feeds/{fid}")).json()["versions"]
        assert [v["status"] for v in versions] == ["live"]


async def test_a_bad_upload_is_rejected_with_its_report_and_changes_nothing(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data")
    fid = feed_id_of(city)
    async with running(app) as c:
        headers = bearer(app, f"feeds:write:{fid}")
        before = await c.get("/v1/plan", params=plan_params(city))
        assert before.status_code == 200 and before.json()["itineraries"]
        feed_before = (await c.get(f"/v1/feeds/{fid}")).json()
        for bad in (b"this is not a zip", _without(gtfs_source(city), "stops.txt")):
            r = await c.put(f"/v1/feeds/{fid}", content=bad, headers=headers)
            assert r.status_code == 422, r.text
            problem = r.json()
            assert r.headers["content-type"] == "application/problem+json"
            assert problem["report"]["summary"]["errors"] >= 1
            assert problem["report"]["notices"][0]["severity"] == "error"
        after = await c.get("/v1/plan", params=plan_params(city))
        assert after.content == before.content
        assert after.json()["graph_version"] == city.graph.version
        assert (await c.get(f"/v1/feeds/{fid}")).json() == feed_before
        assert not list((tmp_path / "data" / "artifacts").glob(".build-*"))


def _without(zip_path: Path, member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(zip_path) as zin, zipfile.ZipFile(buf, "w") as zout:
        for name in zin.namelist():
            if name != member:
                zout.writestr(name, zin.read(name))
    return buf.getvalue()


async def test_an_upload_over_the_size_limit_gets_413(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data", max_upload_bytes=4096)
    fid = feed_id_of(city)
    async with running(app) as c:
        headers = bearer(app, "admin")
        r = await c.put(f"/v1/feeds/{fid}", content=b"x" * 5000, headers=headers)
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"


async def test_publish_swaps_the_graph_for_every_worker_and_rollback_restores_it(city: City, tmp_path: Path) -> None:
    data = tmp_path / "data"
    app, other_worker = operator_app(city, data), operator_app(city, data)
    fid = feed_id_of(city)
    body = shifted_feed(city, tmp_path / "v2.zip", 3)
    async with running(app) as c, running(other_worker) as c2:
        headers = bearer(app, f"feeds:write:{fid}", name="operator")
        old = city.graph.version
        r = await c.put(f"/v1/feeds/{fid}", content=body, headers=headers, params={"licence": "CC-BY-4.0"})
        assert r.status_code == 202, r.text
        assert r.headers["location"] == r.json()["href"]
        job = await wait_job(c, r.headers["location"], headers)
        assert job["status"] == "succeeded", job
        new = job["graph_version"]
        assert new != old
        ready = (await c.get("/v1/ready")).json()
        assert ready["graph_version"] == new
        plan = (await c.get("/v1/plan", params=plan_params(city))).json()
        assert plan["graph_version"] == new
        # the other worker follows the pointer within its poll interval
        for _ in range(100):
            if (await c2.get("/v1/ready")).json()["graph_version"] == new:
                break
            await asyncio.sleep(0.05)
        assert (await c2.get("/v1/ready")).json()["graph_version"] == new
        feed = (await c.get(f"/v1/feeds/{fid}")).json()
        assert feed["licence"] == "CC-BY-4.0"
        assert [(v["status"], v["graph_version"]) for v in feed["versions"]] == [("live", new), ("superseded", old)]
        assert feed["current_version"]["published_by"] == headers["Authorization"].split("_")[1]

        r = await c.post(f"/v1/feeds/{fid}/rollback", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["graph_version"] == old
        assert (await c.get("/v1/ready")).json()["graph_version"] == old
        assert (await c.get("/v1/plan", params=plan_params(city))).json()["graph_version"] == old
        feed = (await c.get(f"/v1/feeds/{fid}")).json()
        assert [v["status"] for v in feed["versions"]] == ["rolled_back", "live"]
        # a second rollback has nothing left to undo
        r = await c.post(f"/v1/feeds/{fid}/rollback", headers=headers)
        assert r.status_code == 409

        admin = bearer(app, "admin")
        events = (await c.get("/v1/audit", headers=admin)).json()["events"]
        actions = [e["action"] for e in events]
        for expected in ("publish", "publish.live", "rollback", "key.create", "seed"):
            assert expected in actions
        rb = next(e for e in events if e["action"] == "rollback")
        assert rb["detail"]["from_graph_version"] == new and rb["detail"]["to_graph_version"] == old


async def test_concurrent_publishes_of_one_feed_are_serialized(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data")
    fid = feed_id_of(city)
    bodies = [shifted_feed(city, tmp_path / f"v{m}.zip", m) for m in (5, 7)]
    async with running(app) as c:
        headers = bearer(app, f"feeds:write:{fid}")
        puts = await asyncio.gather(*(c.put(f"/v1/feeds/{fid}", content=b, headers=headers) for b in bodies))
        assert [p.status_code for p in puts] == [202, 202]
        jobs = await asyncio.gather(*(wait_job(c, p.headers["location"], headers) for p in puts))
        assert [j["status"] for j in jobs] == ["succeeded", "succeeded"]
        first, second = sorted(jobs, key=lambda j: j["started_at"])
        assert first["finished_at"] <= second["started_at"], "two builds of one feed overlapped"
        assert first["graph_version"] != second["graph_version"]
        feed = (await c.get(f"/v1/feeds/{fid}")).json()
        live = [v for v in feed["versions"] if v["status"] == "live"]
        assert len(live) == 1 and live[0]["id"] == second["version_id"]
        assert (await c.get("/v1/ready")).json()["graph_version"] == second["graph_version"]


async def test_a_failed_build_leaves_the_live_graph_and_marks_the_job(
    city: City, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import routing.build
    from feeds.errors import FeedDataError

    def broken_build(*_a: Any, **_k: Any) -> Any:
        raise FeedDataError("refusing to build, the feed cannot be routed on: synthetic failure")

    monkeypatch.setattr(routing.build, "build_graph", broken_build)
    app = operator_app(city, tmp_path / "data")
    fid = feed_id_of(city)
    async with running(app) as c:
        headers = bearer(app, f"feeds:write:{fid}")
        before = await c.get("/v1/plan", params=plan_params(city))
        r = await c.put(f"/v1/feeds/{fid}", content=shifted_feed(city, tmp_path / "v2.zip", 6), headers=headers)
        assert r.status_code == 202
        job = await wait_job(c, r.headers["location"], headers)
        assert job["status"] == "failed" and "synthetic failure" in job["errors"][0]
        assert (await c.get("/v1/plan", params=plan_params(city))).content == before.content
        feed = (await c.get(f"/v1/feeds/{fid}")).json()
        assert [v["status"] for v in feed["versions"]] == ["failed", "live"]
        assert feed["current_version"]["graph_version"] == city.graph.version
        # someone else's key learns nothing about the job
        other = bearer(app, "feeds:write:elsewhere")
        assert (await c.get(r.headers["location"], headers=other)).status_code == 404
    assert not (tmp_path / "data" / "current.json").exists()
