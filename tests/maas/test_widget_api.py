"""/widget.js, /widget and /widget/demo over HTTP (in process), and CORS on the routes the widget calls."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from maas.api.widget import element_html, widget_bundle
from maas.app import create_app
from tests.maas.conftest import City, client_for, settings

pytestmark = pytest.mark.anyio

STATIC = Path(__file__).resolve().parents[2] / "maas" / "static"


def test_the_served_bundle_is_the_committed_build() -> None:
    bundle = widget_bundle()
    assert bundle is not None, "maas/static/widget.js is missing: npm run build in maas/widget"
    manifest = json.loads((STATIC / "widget.json").read_text())
    assert bundle.body == (STATIC / "widget.js").read_bytes()
    assert bundle.hash == manifest["hash"] == hashlib.sha256(bundle.body).hexdigest()[:16]
    assert manifest["gzip_bytes"] <= 30 * 1024, "over the 30 kB gzip budget"
    assert b"maas-trip-planner" in bundle.body


async def test_widget_js_short_cache_with_etag_and_revalidation(client: httpx.AsyncClient) -> None:
    bundle = widget_bundle()
    assert bundle is not None
    r = await client.get("/widget.js", headers={"Origin": "https://museum.example"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["etag"] == f'"{bundle.hash}"'
    # a module script is fetched with CORS: any site may load the (public) script itself
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.content == bundle.body
    again = await client.get("/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == r.headers["etag"]
    other = await client.get("/widget.js", headers={"If-None-Match": '"0000000000000000"'})
    assert other.status_code == 200 and other.content == bundle.body


async def test_hashed_widget_url_is_immutable_and_old_hashes_redirect(client: httpx.AsyncClient) -> None:
    bundle = widget_bundle()
    assert bundle is not None
    r = await client.get(f"/widget.{bundle.hash}.js")
    assert r.status_code == 200 and r.content == bundle.body
    assert "immutable" in r.headers["cache-control"] and "max-age=31536000" in r.headers["cache-control"]
    old = await client.get("/widget.0123456789abcdef.js")
    assert old.status_code == 307 and old.headers["location"] == "/widget.js"
    assert old.headers["cache-control"] == "no-store"


async def test_iframe_page_escapes_every_value_and_sets_a_csp(client: httpx.AsyncClient, city: City) -> None:
    evil = '"><script>alert(1)</script><x y="'
    r = await client.get("/widget", params={"to": city.destination, "to-name": evil, "lang": "zh-CN",
                                            "accent": "#c00", "key": "pk_<b>"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<script>alert(1)" not in page and "<b>" not in page
    assert 'to-name="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;x y=&quot;"' in page
    assert f'to="{city.destination}"' in page and 'lang="zh-CN"' in page and 'key="pk_&lt;b&gt;"' in page
    assert f'tz="{city.graph.timezone}"' in page  # the graph's zone when the URL gives none
    bundle = widget_bundle()
    assert bundle is not None and f'src="/widget.{bundle.hash}.js"' in page
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert page.count("<script") == 1


async def test_iframe_page_rejects_overlong_values(client: httpx.AsyncClient) -> None:
    r = await client.get("/widget", params={"to-name": "x" * 500})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_element_html_quotes_attributes() -> None:
    assert element_html({"to-name": "A & B's \"café\""}) == (
        '<maas-trip-planner to-name="A &amp; B&#x27;s &quot;café&quot;"></maas-trip-planner>'
    )


async def test_demo_page_hosts_the_widget_on_a_stop_of_the_graph(client: httpx.AsyncClient, city: City) -> None:
    r = await client.get("/widget/demo")
    assert r.status_code == 200
    page = r.text
    assert page.count("<maas-trip-planner") == 2  # English and Chinese
    to = page.split('to="stop:', 1)[1].split('"', 1)[0]
    assert city.graph.stop_index(to) is not None
    assert "&lt;script src=" in page and "/widget.js" in page  # the snippet to copy, as text
    assert '<iframe src="/widget?' in page
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


async def test_demo_page_needs_a_graph(tmp_path: Path) -> None:
    async with client_for(create_app(settings(data_dir=tmp_path))) as c:  # an empty data dir: no graph
        r = await c.get("/widget/demo")
        assert r.status_code == 503
        assert (await c.get("/widget.js")).status_code == 200  # the script does not need one


# -- CORS: only allowed origins may call the API from a browser -------------------------------------

ALLOWED = "https://museum.example"
OTHER = "https://elsewhere.example"


@pytest.fixture
async def cors_client(city: City) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(settings(cors_origins=[ALLOWED]), graph=city.graph)) as c:
        yield c


async def test_preflight_from_an_allowed_origin_is_accepted(cors_client: httpx.AsyncClient) -> None:
    r = await cors_client.options("/v1/plan", headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-api-key"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert "x-api-key" in r.headers["access-control-allow-headers"].lower()


async def test_preflight_from_another_origin_is_refused(cors_client: httpx.AsyncClient) -> None:
    r = await cors_client.options("/v1/plan", headers={
        "Origin": OTHER, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-api-key"})
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers


async def test_responses_carry_the_origin_only_when_allowed(cors_client: httpx.AsyncClient, city: City) -> None:
    word = city.graph.stop(0).name.split()[0]
    ok = await cors_client.get("/v1/stops", params={"q": word}, headers={"Origin": ALLOWED})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
    refused = await cors_client.get("/v1/stops", params={"q": word}, headers={"Origin": OTHER})
    # the server answers, but without the header the browser keeps the body from the page
    assert "access-control-allow-origin" not in refused.headers
