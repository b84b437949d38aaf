"""``maas backup`` / ``maas restore``: a restored data dir serves the same graph and answers;
a tampered or incomplete backup is refused, naming the file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from maas.app import create_app
from maas.cli import app as cli
from tests.maas import pg
from tests.maas.conftest import City, client_for, settings
from tests.maas.pg import PgServer
from tests.maas.test_publish import (
    bearer,
    feed_id_of,
    operator_app,
    plan_params,
    running,
    shifted_feed,
    wait_job,
)

postgres = pg.postgres  # fixtures of tests/maas/pg.py
pg_url = pg.pg_url

pytestmark = pytest.mark.anyio
runner = CliRunner()


def checksums(root: Path, part: str) -> dict[str, str]:
    base = root / part
    return {str(p.relative_to(base)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(base.rglob("*")) if p.is_file() and not p.name.startswith(".")}


async def _published(city: City, data: Path, tmp_path: Path, **overrides: object) -> tuple[str, bytes]:
    """Publish a second version into ``data``; the graph_version and a /v1/plan answer on it."""
    app = operator_app(city, data, **overrides)
    fid = feed_id_of(city)
    async with running(app) as c:
        headers = bearer(app, f"feeds:write:{fid}")
        r = await c.put(f"/v1/feeds/{fid}", content=shifted_feed(city, tmp_path / "v2.zip", 4), headers=headers)
        assert r.status_code == 202, r.text
        job = await wait_job(c, r.headers["location"], headers)
        assert job["status"] == "succeeded", job
        answer = await c.get("/v1/plan", params=plan_params(city))
        assert answer.json()["graph_version"] == job["graph_version"]
        return str(job["graph_version"]), answer.content


async def _answer(data: Path, city: City, **overrides: object) -> tuple[str, bytes]:
    app = create_app(settings(data_dir=data, graph=None, swap_poll_s=0, **overrides))
    async with client_for(app) as c:
        ready = (await c.get("/v1/ready")).json()
        return ready["graph_version"], (await c.get("/v1/plan", params=plan_params(city))).content


async def test_backup_then_restore_serves_the_same_answers(city: City, tmp_path: Path) -> None:
    data, restored, bk = tmp_path / "data", tmp_path / "restored", tmp_path / "backup"
    version, answer = await _published(city, data, tmp_path)
    res = runner.invoke(cli, ["backup", "--to", str(bk), "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    manifest = json.loads((bk / "backup.json").read_text())
    assert manifest["graph_version"] == version and manifest["database"] == "sqlite"
    for name, meta in manifest["files"].items():
        assert hashlib.sha256((bk / name).read_bytes()).hexdigest() == meta["sha256"]

    res = runner.invoke(cli, ["restore", "--from", str(bk), "--data-dir", str(restored)])
    assert res.exit_code == 0, res.output
    assert checksums(restored, "artifacts") == checksums(data, "artifacts")
    assert checksums(restored, "feeds") == checksums(data, "feeds")
    assert await _answer(restored, city) == (version, answer)
    # the catalog came along: versions, keys and the audit log, plus the restore itself
    app = create_app(settings(data_dir=restored, graph=None, swap_poll_s=0))
    async with client_for(app) as c:
        feed = (await c.get(f"/v1/feeds/{feed_id_of(city)}")).json()
        assert [v["status"] for v in feed["versions"]] == ["live", "superseded"]
        events = (await c.get("/v1/audit", headers=bearer(app, "admin"))).json()["events"]
        assert {"restore", "publish.live", "seed"} <= {e["action"] for e in events}

    # restoring over a data dir in use is refused
    res = runner.invoke(cli, ["restore", "--from", str(bk), "--data-dir", str(restored)])
    assert res.exit_code == 1 and "not empty" in res.output


async def test_a_tampered_or_incomplete_backup_is_refused_naming_the_file(city: City, tmp_path: Path) -> None:
    data, bk = tmp_path / "data", tmp_path / "backup"
    await _published(city, data, tmp_path)
    assert runner.invoke(cli, ["backup", "--to", str(bk), "--data-dir", str(data)]).exit_code == 0
    victim = next((bk / "data" / "artifacts").rglob("tt.*.npy"))
    original = victim.read_bytes()
    victim.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    res = runner.invoke(cli, ["restore", "--from", str(bk), "--data-dir", str(tmp_path / "r1")])
    assert res.exit_code == 1 and victim.name in res.output and "checksum" in res.output
    assert not (tmp_path / "r1" / "catalog.sqlite").exists()
    victim.write_bytes(original)
    (bk / "catalog.sqlite").unlink()
    res = runner.invoke(cli, ["restore", "--from", str(bk), "--data-dir", str(tmp_path / "r2")])
    assert res.exit_code == 1 and "catalog.sqlite" in res.output and "missing" in res.output
    assert runner.invoke(cli, ["backup", "--to", str(bk), "--data-dir", str(data)]).exit_code == 1  # not empty


async def test_a_postgresql_catalog_backs_up_as_json_and_restores(city: City, tmp_path: Path, postgres: PgServer) -> None:
    data, bk, restored = tmp_path / "data", tmp_path / "backup", tmp_path / "restored"
    source_url = postgres.create_database("maas_backup_src")
    version, answer = await _published(city, data, tmp_path, database_url=source_url)
    from maas.backup import backup, restore
    from maas.catalog import Database

    db = Database.open(data, source_url)
    try:
        summary = backup(db, bk)
    finally:
        db.dispose()
    assert summary.database == "json" and summary.graph_version == version
    target_url = postgres.create_database("maas_backup_dst")
    restore(bk, restored, target_url)
    assert await _answer(restored, city, database_url=target_url) == (version, answer)
    app = create_app(settings(data_dir=restored, graph=None, swap_poll_s=0, database_url=target_url))
    async with client_for(app) as c:  # ids continue after the restored rows
        assert (await c.get("/v1/audit", headers=bearer(app, "admin"))).status_code == 200
