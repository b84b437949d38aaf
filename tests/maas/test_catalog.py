"""The feed catalog: migrations and seeding on SQLite and PostgreSQL, the /v1/feeds routes."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from maas.catalog import Database
from maas.catalog.feeds import list_feeds, seed_from_manifest
from maas.catalog.tables import AuditEvent, Job
from maas.identity.keys import authenticate, create_key, revoke_key
from maas.publish.operations import INTERRUPTED, fail_interrupted_jobs
from maas.publish.pointer import read_pointer
from tests.maas import pg
from tests.maas.conftest import City
from tests.maas.test_publish import bearer, feed_id_of, gtfs_source, operator_app, running

postgres = pg.postgres  # fixtures of tests/maas/pg.py
pg_url = pg.pg_url

TABLES = {"feeds", "feed_versions", "deployments", "api_keys", "audit_events", "jobs", "alembic_version"}


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    db = Database.open(tmp_path / "data", url)
    request.addfinalizer(db.dispose)
    return db


def test_migrations_create_every_table_once(catalog: Database, tmp_path: Path) -> None:
    assert set(inspect(catalog.engine).get_table_names()) >= TABLES
    with catalog.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    again = Database.open(catalog.data_dir, None if catalog.is_sqlite else catalog.url)  # idempotent
    again.dispose()
    assert catalog.is_sqlite == (catalog.engine.dialect.name == "sqlite")


def test_seeding_records_the_served_artifacts_feeds_once(catalog: Database, city: City) -> None:
    manifest = dict(city.graph.manifest)
    assert seed_from_manifest(catalog, city.path, manifest)
    assert not seed_from_manifest(catalog, city.path, manifest)
    rows = {f.id: (f, v) for f, v in list_feeds(catalog)}
    assert set(rows) == {str(f["id"]) for f in manifest["feeds"]}
    gtfs_feed, gtfs_live = rows[feed_id_of(city)]
    assert gtfs_feed.kind == "gtfs" and gtfs_live is not None
    assert gtfs_live.sha256 == hashlib.sha256(gtfs_source(city).read_bytes()).hexdigest()
    assert gtfs_live.quality_grade in {"A", "B", "C", "D", "E"}
    assert gtfs_live.artifact_version == city.graph.version and gtfs_live.status == "live"
    assert gtfs_live.valid_from is not None and gtfs_live.published_at.tzinfo is not None
    copy = catalog.data_dir / "artifacts" / city.graph.version  # rollback and backups need nothing outside
    assert (copy / "manifest.json").read_bytes() == (city.path / "manifest.json").read_bytes()
    assert read_pointer(catalog.data_dir) is None  # workers already serve it; a publish writes the pointer


def test_keys_are_stored_hashed_and_revocable(catalog: Database) -> None:
    principal, token = create_key(catalog, ["feeds:write:a", "admin"], name="ops")
    with catalog.engine.connect() as conn:
        stored = conn.execute(text("SELECT secret_sha256 FROM api_keys")).scalar()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in str(stored)
    found = authenticate(catalog, token)
    assert found is not None and found.key_id == principal.key_id and found.is_admin
    assert authenticate(catalog, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    revoke_key(catalog, principal.key_id)
    assert authenticate(catalog, token) is None


def test_the_graph_lock_excludes_other_holders(catalog: Database) -> None:
    held: list[tuple[float, float]] = []

    def hold() -> None:
        with catalog.lock("graph"):
            t0 = time.monotonic()
            time.sleep(0.2)
            held.append((t0, time.monotonic()))

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    (_, first_end), (second_start, _) = sorted(held)
    assert first_end <= second_start, "two holders of the graph lock overlapped"


def test_a_job_left_running_by_a_dead_worker_is_failed_only_when_no_one_holds_the_lock(catalog: Database) -> None:
    with catalog.write() as s:
        s.add(Job(id="j-orphan", kind="publish", feed_id="f", status="running", progress="building"))
        s.add(Job(id="j-queued", kind="publish", feed_id="f", status="queued"))
    entered, release = threading.Event(), threading.Event()

    def live_job() -> None:  # a live publish holds the graph lock for its whole run
        with catalog.lock("graph"):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=live_job)
    holder.start()
    try:
        assert entered.wait(10)
        with catalog.lock("graph", wait=False) as free:
            assert not free
        assert fail_interrupted_jobs(catalog) == 0  # a job may be running: nothing is touched
        with catalog.read() as s:
            assert s.get(Job, "j-orphan").status == "running"  # type: ignore[union-attr]
    finally:
        release.set()
        holder.join(10)
    assert fail_interrupted_jobs(catalog) == 1
    with catalog.read() as s:
        orphan, queued = s.get(Job, "j-orphan"), s.get(Job, "j-queued")
        assert orphan is not None and orphan.status == "failed" and orphan.errors == [INTERRUPTED]
        assert orphan.finished_at is not None
        assert queued is not None and queued.status == "queued"  # waits for the lock, alive
        actions = [e.action for e in s.scalars(select(AuditEvent))]
    assert actions.count("publish.failed") == 1
    assert fail_interrupted_jobs(catalog) == 0



@pytest.mark.anyio
async def test_feeds_routes_list_show_grade_and_download(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data")
    fid = feed_id_of(city)
    async with running(app) as c:
        listing = (await c.get("/v1/feeds")).json()["feeds"]
        ids = {f["id"]: f for f in listing}
        assert fid in ids and ids[fid]["kind"] == "gtfs" and ids[fid]["classification"] == "public"
        assert ids[fid]["current_version"]["graph_version"] == city.graph.version
        assert any(f["kind"] == "osm" for f in listing)
        quality = (await c.get(f"/v1/feeds/{fid}/quality")).json()
        assert quality["grade"] == quality["report"]["grade"] and quality["report"]["feed_id"] == fid
        r = await c.get(f"/v1/feeds/{fid}/download")
        assert r.status_code == 200
        assert hashlib.sha256(r.content).hexdigest() == ids[fid]["current_version"]["sha256"]
        assert (await c.get("/v1/feeds/nope")).status_code == 404

        writer = bearer(app, f"feeds:write:{fid}")
        r = await c.patch(f"/v1/feeds/{fid}", json={"classification": "restricted", "licence": "ODbL"}, headers=writer)
        assert r.status_code == 200 and r.json()["classification"] == "restricted"
        assert (await c.get(f"/v1/feeds/{fid}/download")).status_code == 401
        reader = bearer(app, "feeds:write:other")  # any operator key reads restricted feeds
        assert (await c.get(f"/v1/feeds/{fid}/download", headers=reader)).status_code == 200
        widget = bearer(app, "widget:https://site.example")
        r = await c.get(f"/v1/feeds/{fid}/download", headers={**widget, "Origin": "https://site.example"})
        assert r.status_code == 403

        await c.patch(f"/v1/feeds/{fid}", json={"classification": "internal"}, headers=writer)
        assert fid not in {f["id"] for f in (await c.get("/v1/feeds")).json()["feeds"]}
        assert (await c.get(f"/v1/feeds/{fid}")).status_code == 404
        assert (await c.get(f"/v1/feeds/{fid}", headers=reader)).status_code == 404
        admin = bearer(app, "admin")
        assert fid in {f["id"] for f in (await c.get("/v1/feeds", headers=admin)).json()["feeds"]}
        assert (await c.get(f"/v1/feeds/{fid}", headers=writer)).json()["licence"] == "ODbL"
        r = await c.patch(f"/v1/feeds/{fid}", json={"classification": "secret"}, headers=writer)
        assert r.status_code == 422


@pytest.mark.anyio
async def test_the_api_runs_on_a_postgresql_catalog(city: City, tmp_path: Path, pg_url: str) -> None:
    app = operator_app(city, tmp_path / "data", database_url=pg_url)
    fid = feed_id_of(city)
    async with running(app) as c:
        assert fid in {f["id"] for f in (await c.get("/v1/feeds")).json()["feeds"]}
        admin = bearer(app, "admin")
        events = (await c.get("/v1/audit", headers=admin)).json()["events"]
        assert [e["action"] for e in events][:2] == ["key.create", "seed"]
    assert not (tmp_path / "data" / "catalog.sqlite").exists()
