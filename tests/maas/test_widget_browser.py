"""The widget in a real Chromium (Debian's package, driven by playwright), embedded in a host page
served from another origin than the API, as a museum's site would embed it.

The API runs in uvicorn on a free port with the small synthetic city and a CORS allowlist that
holds the host page's origin only; the host pages come from tiny static servers on other ports.
The tests use the accessible names of the contract (DESIGN.md section 4): a text field "From",
a button "Plan trip", a list "Itineraries". Screenshots go to test-output/widget/.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from maas.app import create_app
from tests.maas.conftest import City, free_port, settings

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-output" / "widget"
CHROMIUM = os.environ.get("MAAS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.slow

TILES = "https://tiles.test/{z}/{x}/{y}.png"
# a 1x1 PNG, the tile every request gets
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cf0000000301010018dd8db00000000049454e44ae426082")
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}


# -- servers ----------------------------------------------------------------------------------------


class ApiServer:
    """uvicorn serving the app in a thread of this process."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", ws="none",
                                lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="widget-api", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ApiServer:
        self.thread.start()
        deadline = time.monotonic() + 120  # the engine compiles at start-up when numba's cache is cold
        while not self.server.started:
            assert self.thread.is_alive(), "the API server stopped at start-up"
            assert time.monotonic() < deadline, "the API server did not start within 120 s"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


class PageServer:
    """A static server of in-memory pages: the tourism site, on its own origin."""

    def __init__(self, pages: dict[str, str]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?", 1)[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="widget-host", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> PageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def host_page(api: str, attributes: dict[str, str]) -> str:
    attrs = "".join(f' {k}="{html.escape(v)}"' for k, v in attributes.items())
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Museum</title>"
        "<link rel='icon' href='data:,'>"
        f"<script type='module' src='{api}/widget.js'></script></head>"
        "<body style='margin:0;padding:8px;font-family:serif'><h1>Riverside Museum</h1>"
        f"<maas-trip-planner{attrs}></maas-trip-planner></body></html>"
    )


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium; CI installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def site(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The API (allowing the museum's origin only), the museum's site and another site."""
    museum_pages: dict[str, str] = {}
    other_pages: dict[str, str] = {}
    with PageServer(museum_pages) as museum, PageServer(other_pages) as other:
        app = create_app(settings(cors_origins=[museum.origin], data_dir=tmp_path_factory.mktemp("widget-data")),
                         graph=city.graph)
        with ApiServer(app) as api:
            dest = city.graph.stop(city.graph.stop_index(city.other_stop_id))
            base = {"api": api.origin, "to": city.destination, "to-name": "Riverside Museum",
                    "tz": city.graph.timezone, "modes": "walk,transit,bikeshare", "accent": "#8a1c7c"}
            museum_pages["/"] = host_page(api.origin, {**base, "lang": "en"})
            museum_pages["/zh"] = host_page(api.origin, {**base, "lang": "zh-CN"})
            museum_pages["/tiles"] = host_page(api.origin, {**base, "tiles": TILES, "tiles-attribution": "© Tiles Test",
                                                             "key": "pk_widget_test"})
            museum_pages["/iframe"] = (
                "<!doctype html><title>Museum</title><link rel='icon' href='data:,'><iframe title='Trip planner' width='420' height='900' "
                f"src='{api.origin}/widget?to={city.destination}&amp;to-name=Riverside+Museum&amp;accent=%238a1c7c'>"
                "</iframe>"
            )
            other_pages["/"] = host_page(api.origin, {**base, "lang": "en"})
            yield {"api": api, "museum": museum, "other": other, "destination": dest, "app": app, "base": base}


def _origin_stop(city: City) -> Any:
    return city.graph.stop(city.graph.stop_index(city.stop_id))


def _wall_time(city: City) -> str:
    return dt.datetime.fromisoformat(city.time).strftime("%Y-%m-%dT%H:%M")


def _watch(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    return problems


def _plan_from_typed_stop(page: Any, city: City, *, keyboard: bool, plan_name: str = "Plan trip") -> Any:
    from playwright.sync_api import expect

    stop = _origin_stop(city)
    field = page.get_by_role("combobox", name="From", exact=True)
    expect(field).to_be_visible()
    first, second = stop.name.split()[:2]
    field.press_sequentially(f"{first} {second[:3]}".lower(), delay=20)
    option = page.get_by_role("option", name=stop.name, exact=True).first
    expect(option).to_be_visible(timeout=10_000)
    expect(field).to_have_attribute("aria-expanded", "true")
    if keyboard:
        options = page.get_by_role("listbox").get_by_role("option")
        index = [t.strip() for t in options.all_inner_texts()].index(stop.name)
        for _ in range(index + 1):
            field.press("ArrowDown")
        expect(field).to_have_attribute("aria-activedescendant", re.compile(r"from-option-\d+"))
        field.press("Enter")
    else:
        option.click()
    expect(field).to_have_value(stop.name)
    expect(field).to_have_attribute("aria-expanded", "false")
    # the synthetic city runs in January 2026: depart at its 08:00, typed in the museum's zone
    page.locator("maas-trip-planner select").select_option("depart")
    page.locator("maas-trip-planner input[type=datetime-local]").fill(_wall_time(city))
    page.get_by_role("button", name=plan_name, exact=True).click()
    results = page.get_by_role("list", name="Itineraries", exact=True)
    expect(results).to_be_visible(timeout=30_000)
    itineraries = results.locator(":scope > li")
    expect(itineraries.first).to_be_visible()
    return itineraries


# -- tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_plan_a_trip_from_a_typed_stop(browser: Any, site: dict[str, Any], city: City, viewport: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-US", timezone_id="Asia/Tokyo",
                                  is_mobile=viewport == "phone", has_touch=viewport == "phone")
    page = context.new_page()
    problems = _watch(page)
    try:
        page.goto(site["museum"].origin + "/")
        itineraries = _plan_from_typed_stop(page, city, keyboard=viewport == "desktop")
        first = itineraries.first
        text = first.inner_text()
        # times in the museum's zone (Europe/Rome), not the visitor's (Tokyo): departs 08:xx
        depart = first.locator("time").first
        assert depart.get_attribute("datetime", timeout=5_000).startswith(_wall_time(city)[:11])
        assert re.match(r"^0[89]:\d\d", depart.inner_text()), depart.inner_text()
        assert re.search(r"\d+ min", text) and ("transfer" in text) and " walk" in text
        assert "price unknown" in text or re.search(r"Total [€$£]", text), text
        assert first.locator("svg[role=img]").count() == 1
        assert first.locator("ol > li").count() >= 1  # its legs
        assert page.get_by_role("status").inner_text().endswith("found.")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px wider than the {viewport} viewport"
        if viewport == "phone":  # the narrowest phones
            page.set_viewport_size({"width": 320, "height": 740})
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{overflow} px wider than 320 px"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"widget-{viewport}.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def test_chinese_widget_keeps_the_contract_names(browser: Any, site: dict[str, Any], city: City) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = context.new_page()
    problems = _watch(page)
    try:
        page.goto(site["museum"].origin + "/zh")
        button = page.get_by_role("button", name="Plan trip", exact=True)
        expect(button).to_have_text("规划行程")
        expect(page.get_by_text("出发地", exact=True)).to_be_visible()
        itineraries = _plan_from_typed_stop(page, city, keyboard=True)
        text = itineraries.first.inner_text()
        assert "分钟" in text and ("换乘" in text) and "步行" in text
        assert "价格未知" in text or "合计" in text
        expect(page.get_by_role("status")).to_contain_text("行程方案")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-phone-zh-CN.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def test_use_my_location(browser: Any, site: dict[str, Any], city: City) -> None:
    from playwright.sync_api import expect

    lat, lon = (float(x) for x in city.origin.split(","))
    context = browser.new_context(viewport=VIEWPORTS["desktop"], geolocation={"latitude": lat, "longitude": lon},
                                  permissions=["geolocation"])
    page = context.new_page()
    try:
        page.goto(site["museum"].origin + "/")
        page.get_by_role("button", name="Use my location").click()
        expect(page.get_by_role("combobox", name="From", exact=True)).to_have_value("My location")
        page.locator("maas-trip-planner select").select_option("depart")
        page.locator("maas-trip-planner input[type=datetime-local]").fill(_wall_time(city))
        with page.expect_request(lambda r: "/v1/plan?" in r.url) as planned:
            page.get_by_role("button", name="Plan trip", exact=True).click()
        assert f"from={lat:.6f}%2C{lon:.6f}" in planned.value.url
        assert "x-api-key" not in planned.value.headers  # no key attribute: no key sent
        expect(page.get_by_role("list", name="Itineraries", exact=True).locator(":scope > li").first).to_be_visible()
    finally:
        context.close()


def test_a_site_outside_the_allowlist_is_refused(browser: Any, site: dict[str, Any], city: City) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    try:
        stop = _origin_stop(city)
        # the server itself answers that site's origin without Access-Control-Allow-Origin ...
        r = httpx.get(f"{site['api'].origin}/v1/stops", params={"q": stop.name}, headers={"Origin": site["other"].origin})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        # ... so the browser keeps the answer from the page: no suggestion, an error instead
        page.goto(site["other"].origin + "/")
        page.get_by_role("combobox", name="From", exact=True).press_sequentially(stop.name.split()[0], delay=20)
        expect(page.get_by_role("status")).to_have_text("The trip planner cannot be reached.", timeout=10_000)
        assert page.locator("maas-trip-planner li[role=option]").count() == 0
        failed = page.evaluate(
            """async (url) => { try { await fetch(url); return "fetched"; } catch (e) { return e.name; } }""",
            f"{site['api'].origin}/v1/stops?q=x",
        )
        assert failed == "TypeError"
    finally:
        context.close()


def test_a_widget_key_opens_its_origin_only(browser: Any, site: dict[str, Any], city: City) -> None:
    """A hotel's site on an origin the settings do not allow: a widget key for that origin (made with
    maas.identity, as `maas keys create --scope widget:ORIGIN` does) lets its widget plan; the same
    page with a key for another origin is refused by the API (403, shown in the status line)."""
    from playwright.sync_api import expect

    from maas.identity.keys import create_key

    api = site["api"].origin
    hotel_pages: dict[str, str] = {}
    with PageServer(hotel_pages) as hotel:
        db = site["app"].state.operations.db
        _, token = create_key(db, [f"widget:{hotel.origin}"], name="hotel", rate_per_s=100.0)
        _, elsewhere = create_key(db, ["widget:https://elsewhere.example"], name="another site")
        hotel_pages["/"] = host_page(api, {**site["base"], "lang": "en", "key": token})
        hotel_pages["/wrong-key"] = host_page(api, {**site["base"], "lang": "en", "key": elsewhere})
        preflight = {"Origin": hotel.origin, "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "x-api-key"}
        deadline = time.monotonic() + 5  # the API re-reads the keys' origins every ~2 s
        while httpx.options(f"{api}/v1/plan", headers=preflight).status_code != 200:
            assert time.monotonic() < deadline, "the new key's origin was not allowed by CORS within 5 s"
            time.sleep(0.1)

        context = browser.new_context(viewport=VIEWPORTS["desktop"], timezone_id="Asia/Tokyo")
        page = context.new_page()
        problems = _watch(page)
        sent: list[str | None] = []
        page.on("request", lambda r: sent.append(r.headers.get("x-api-key")) if "/v1/" in r.url else None)
        try:
            page.goto(hotel.origin + "/")
            itineraries = _plan_from_typed_stop(page, city, keyboard=True)
            assert "transfer" in itineraries.first.inner_text()
            assert sent and set(sent) == {token}  # every call carried the hotel's key
            assert problems == []
            page.goto(hotel.origin + "/wrong-key")
            status = page.get_by_role("status")
            # the stop search is refused too, and says so (not "cannot be reached")
            page.get_by_role("combobox", name="From", exact=True).press_sequentially(
                _origin_stop(city).name.split()[0].lower(), delay=20)
            expect(status).to_contain_text("(403)", timeout=10_000)
            page.get_by_role("combobox", name="From", exact=True).fill(city.origin)
            page.get_by_role("button", name="Plan trip", exact=True).click()
            expect(status).to_contain_text("(403)", timeout=10_000)
            expect(status).to_contain_text("https://elsewhere.example")
            assert page.get_by_role("list", name="Itineraries", exact=True).locator(":scope > li").count() == 0
        finally:
            context.close()


def test_the_iframe_page_works_under_its_csp(browser: Any, site: dict[str, Any], city: City) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    csp_violations: list[str] = []
    page.on("console", lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(site["museum"].origin + "/iframe")
        frame = page.frame_locator("iframe")
        button = frame.get_by_role("button", name="Plan trip", exact=True)
        expect(button).to_be_visible(timeout=10_000)
        # the accent from the URL styles the button: the stylesheet and the theme survived the CSP
        expect(button).to_have_css("background-color", "rgb(138, 28, 124)")
        frame.get_by_role("combobox", name="From", exact=True).fill(city.origin)  # a typed LAT,LON works too
        frame.locator("select").select_option("depart")
        frame.locator("input[type=datetime-local]").fill(_wall_time(city))
        button.click()
        expect(frame.get_by_role("list", name="Itineraries", exact=True).locator(":scope > li").first).to_be_visible(
            timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-iframe.png"), full_page=True)
        assert csp_violations == []
    finally:
        context.close()


def _priced_response() -> dict[str, Any]:
    """A schema-valid plan response with prices, a ride-hail leg with a deep link, and hostile text."""
    import copy

    from maas.api.models import PLAN_RESPONSE_EXAMPLE, PlanResponse

    body = copy.deepcopy(PLAN_RESPONSE_EXAMPLE)
    it = body["itineraries"][0]
    walk, tram = it["legs"]
    tram["price"] = {"amount": 2.5, "currency": "EUR"}
    tram["to"]["name"] = "<img src=x onerror=alert(1)>"
    ride = {
        **copy.deepcopy(walk), "mode": "ridehail", "price": {"amount": 12.0, "currency": "EUR"},
        "provider": {"id": "synth:taxi", "name": "Synth Taxi", "deep_link": "https://taxi.example/book?ride=1"},
        "start_time": "2021-12-02T08:19:00-08:00", "end_time": "2021-12-02T08:30:00-08:00",
    }
    bad = {**copy.deepcopy(ride), "provider": {"id": "x", "name": "Evil", "deep_link": "javascript:alert(1)"}}
    it["legs"] = [walk, tram, ride, bad]
    it["price"] = {"amount": 26.5, "currency": "EUR"}
    second = copy.deepcopy(it)
    second["price"] = None
    body["itineraries"].append(second)
    PlanResponse.model_validate(body)  # the fake is what the API could send
    return body


def test_prices_deep_links_and_hostile_text(browser: Any, site: dict[str, Any]) -> None:
    """Rendering of what the synthetic city does not produce (fares, ride-hail), from a canned answer."""
    import json

    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORTS["phone"])
    page = context.new_page()
    problems = _watch(page)
    museum = site["museum"].origin
    page.route("**/v1/plan?*", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(_priced_response()),
        headers={"Access-Control-Allow-Origin": museum}))
    try:
        page.goto(museum + "/")
        page.get_by_role("combobox", name="From", exact=True).fill("45.5231,-122.6765")
        page.get_by_role("button", name="Plan trip", exact=True).click()
        items = page.get_by_role("list", name="Itineraries", exact=True).locator(":scope > li")
        expect(items).to_have_count(2)
        first, second = items.nth(0), items.nth(1)
        expect(first).to_contain_text("Total €26.50")
        expect(first).to_contain_text("€2.50")
        expect(first).to_contain_text("€12.00")
        expect(second).to_contain_text("price unknown")
        expect(first).to_contain_text("<img src=x onerror=alert(1)>")  # shown as text, never parsed
        assert first.locator("img").count() == 0
        link = first.get_by_role("link", name="Open in Synth Taxi")
        expect(link).to_have_attribute("href", "https://taxi.example/book?ride=1")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        assert first.get_by_role("link", name="Open in Evil").count() == 0
        # the canned times are Portland's (08:01-08:00) and the page says the museum is in Rome: 17:01
        expect(first.locator("time").first).to_have_text(re.compile(r"^05:01\sPM$"))
        assert problems == []
    finally:
        context.close()


def test_a_tile_source_turns_the_sketch_into_a_map(browser: Any, site: dict[str, Any]) -> None:
    import json

    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    problems = _watch(page)
    museum = site["museum"].origin
    tiles: list[str] = []

    def tile(route: Any) -> None:
        tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=PNG)

    page.route("https://tiles.test/**", tile)
    keys: list[str | None] = []

    def plan(route: Any) -> None:
        keys.append(route.request.headers.get("x-api-key"))
        route.fulfill(status=200, content_type="application/json", body=json.dumps(_priced_response()),
                      headers={"Access-Control-Allow-Origin": museum})

    page.route("**/v1/plan?*", plan)
    try:
        page.goto(museum + "/tiles")
        page.get_by_role("combobox", name="From", exact=True).fill("45.5231,-122.6765")
        page.get_by_role("button", name="Plan trip", exact=True).click()
        first = page.get_by_role("list", name="Itineraries", exact=True).locator(":scope > li").first
        expect(first.get_by_role("img", name="Map of the route")).to_be_visible()
        expect(first.locator("figcaption")).to_have_text("© Tiles Test")
        images = first.locator("svg image")
        assert images.count() >= 1
        deadline = time.monotonic() + 10
        while len(tiles) < images.count() and time.monotonic() < deadline:
            page.wait_for_timeout(50)  # the route handler runs while playwright waits
        assert len(tiles) >= images.count(), "the browser did not fetch every tile"
        assert keys == ["pk_widget_test"]  # the page's public widget key, as X-API-Key
        assert all(re.fullmatch(r"https://tiles\.test/\d+/\d+/\d+\.png", url) for url in tiles), tiles
        assert problems == []
    finally:
        context.close()
