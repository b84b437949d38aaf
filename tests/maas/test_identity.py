"""API keys: the CLI, 401/403, widget keys bound to their origin, revocation, per-key rate limits
(Redis token bucket shared by workers; in-process buckets without Redis)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from maas.catalog import Database
from maas.cli import app as cli
from maas.identity.keys import authenticate
from maas.identity.ratelimit import LocalBuckets
from maas.identity.scopes import ScopeError, normalize_origin, parse_scope
from tests.maas.conftest import City, RedisServer
from tests.maas.test_publish import bearer, operator_app, running

runner = CliRunner()


def test_keys_cli_prints_the_secret_once_and_revokes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    res = runner.invoke(cli, ["keys", "create", "--scope", "feeds:write:bus", "--scope", "admin", "--name", "ops",
                              "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    token = res.stdout.strip()
    assert token.startswith("maas_k") and "\n" not in token
    db = Database.open(data)
    try:
        key = authenticate(db, token)
        assert key is not None and key.scopes == ("feeds:write:bus", "admin") and key.name == "ops"
        listing = runner.invoke(cli, ["keys", "list", "--data-dir", str(data)])
        assert key.key_id in listing.stdout and token.split("_")[2] not in listing.stdout
        assert runner.invoke(cli, ["keys", "revoke", key.key_id, "--data-dir", str(data)]).exit_code == 0
        assert authenticate(db, token) is None
        assert runner.invoke(cli, ["keys", "revoke", "knotakey000", "--data-dir", str(data)]).exit_code == 1
    finally:
        db.dispose()
    bad = runner.invoke(cli, ["keys", "create", "--scope", "feeds:write:a:b", "--data-dir", str(data)])
    assert bad.exit_code == 2 and "bad feed id" in bad.output


def test_scopes_are_checked_and_origins_normalized() -> None:
    assert parse_scope("widget:HTTPS://Museum.Example:443/") == "widget:https://museum.example"
    assert normalize_origin("http://localhost:8080") == "http://localhost:8080"
    for bad in ("root", "feeds:write:", "widget:museum.example", "widget:https://m.example/path"):
        with pytest.raises(ScopeError):
            parse_scope(bad)


def test_local_token_bucket_refills_at_its_rate() -> None:
    buckets = LocalBuckets()
    assert [buckets.take("k", rate=100.0, burst=2) for _ in range(2)] == [0.0, 0.0]
    wait = buckets.take("k", rate=100.0, burst=2)
    assert 0 < wait <= 0.011
    assert buckets.take("other", rate=100.0, burst=2) == 0.0  # buckets are per key


@pytest.mark.anyio
async def test_keys_by_header_widget_origin_and_revocation(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data")
    async with running(app) as c:
        admin = bearer(app, "admin")
        token = admin["Authorization"].split(" ", 1)[1]
        assert (await c.get("/v1/audit", headers={"X-API-Key": token})).status_code == 200
        assert (await c.get("/v1/audit", headers={"Authorization": f"Basic {token}"})).status_code == 401
        widget = bearer(app, "widget:https://museum.example")
        feeds = "/v1/feeds"
        assert (await c.get(feeds, headers={**widget, "Origin": "https://museum.example"})).status_code == 200
        r = await c.get(feeds, headers={**widget, "Origin": "https://evil.example"})
        assert r.status_code == 403 and "museum.example" in r.json()["detail"]
        assert (await c.get(feeds, headers=widget)).status_code == 403  # no Origin: not a browser on the site
        assert (await c.get("/v1/audit", headers={**widget, "Origin": "https://museum.example"})).status_code == 403
        # revoked keys stop working (after the short per-worker key cache)
        key_id = token.split("_")[1]
        r = runner.invoke(cli, ["keys", "revoke", key_id, "--data-dir", str(tmp_path / "data")])
        assert r.exit_code == 0
        await asyncio.sleep(2.1)
        assert (await c.get("/v1/audit", headers=admin)).status_code == 401


@pytest.mark.anyio
async def test_rate_limit_in_process_gives_429_with_retry_after(city: City, tmp_path: Path) -> None:
    app = operator_app(city, tmp_path / "data", key_rate_per_s=0.5, key_burst=3)
    async with running(app) as c:
        headers = bearer(app, "admin")
        codes = [(await c.get("/v1/feeds", headers=headers)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = await c.get("/v1/feeds", headers=headers)
        assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
        assert 1 <= int(r.headers["retry-after"]) <= 2
        assert (await c.get("/v1/feeds")).status_code == 200  # anonymous reads are not that key's budget
        fast = bearer(app, "admin", rate_per_s=1000.0)  # a per-key rate overrides the default
        assert [(await c.get("/v1/feeds", headers=fast)).status_code for _ in range(6)] == [200] * 6


@pytest.mark.anyio
@pytest.mark.redis
async def test_rate_limit_in_redis_is_shared_by_workers(city: City, tmp_path: Path, redis_server: RedisServer) -> None:
    data = tmp_path / "data"
    a = operator_app(city, data, key_rate_per_s=0.5, key_burst=3, redis_url=redis_server.url)
    b = operator_app(city, data, key_rate_per_s=0.5, key_burst=3, redis_url=redis_server.url)
    async with running(a) as ca, running(b) as cb:
        headers = bearer(a, "admin")
        assert [(await ca.get("/v1/feeds", headers=headers)).status_code for _ in range(3)] == [200, 200, 200]
        r = await cb.get("/v1/feeds", headers=headers)  # the other worker sees the same bucket
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert redis_server.keys("maas:rl:*") == 1


@pytest.mark.anyio
@pytest.mark.redis
async def test_rate_limit_falls_back_in_process_when_redis_is_down(
    city: City, tmp_path: Path, own_redis: RedisServer
) -> None:
    app = operator_app(city, tmp_path / "data", key_rate_per_s=0.5, key_burst=2, redis_url=own_redis.url,
                       redis_timeout_s=0.2)
    async with running(app) as c:
        headers = bearer(app, "admin")
        assert (await c.get("/v1/feeds", headers=headers)).status_code == 200
        own_redis.stop()
        codes = [(await c.get("/v1/feeds", headers=headers)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]  # a fresh local bucket of 2, then limited: never a 5xx
