"""The embeddable trip widget: its script, an iframe page hosting it, and a demo page.

- ``GET /widget.js``: the ``<maas-trip-planner>`` module (built from ``maas/widget`` into
  ``maas/static/widget.js``), revalidated with an ETag every few minutes, so sites that link it
  get new versions; ``GET /widget.{hash}.js`` is the same bytes under their content hash,
  cacheable forever (a stale hash is redirected to the current script).
- ``GET /widget?to=LAT,LON&to-name=...``: a page holding only the component, for sites that
  cannot add scripts (``<iframe src=...>``); every value is escaped and a strict CSP applies.
- ``GET /widget/demo``: the component and both embedding snippets on the loaded graph.

The script is public and loaded as a module from other origins, so its responses carry
``Access-Control-Allow-Origin: *``; the API routes it calls stay behind the CORS allowlist.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from maas.api.deps import GraphDep, Runtime
from maas.api.problems import TYPE_NOT_FOUND, ProblemException

router = APIRouter(tags=["widget"])

SHORT_CACHE = "public, max-age=300"
IMMUTABLE = "public, max-age=31536000, immutable"
JS_TYPE = "text/javascript; charset=utf-8"
# The iframe page: its own script and API only; inline styles and scripts are not needed (the
# component styles its shadow root with a constructed stylesheet and the CSSOM).
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors *"
)
DEMO_CSP = PAGE_CSP.replace("frame-ancestors *", "frame-src 'self'; frame-ancestors 'none'")
# the component's attributes that a page URL may set (DESIGN section 4, "Widget")
ATTRIBUTES = ("to", "to-name", "lang", "modes", "key", "accent", "background", "text", "tz", "results")


@dataclass(frozen=True)
class WidgetBundle:
    body: bytes
    hash: str  # sha256 of the body, first 16 hex digits (as maas/widget/build.mjs writes it)

    @property
    def etag(self) -> str:
        return f'"{self.hash}"'

    @property
    def path(self) -> str:
        return f"/widget.{self.hash}.js"


@cache
def widget_bundle() -> WidgetBundle | None:
    """The built script shipped in the package, or None when it was not built."""
    try:
        body = resources.files("maas").joinpath("static", "widget.js").read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return WidgetBundle(body, hashlib.sha256(body).hexdigest()[:16])


def _bundle() -> WidgetBundle:
    bundle = widget_bundle()
    if bundle is None:
        raise ProblemException(404, "the widget is not built (npm run build in maas/widget)", type_=TYPE_NOT_FOUND,
                               title="Widget not built")
    return bundle


def _script_headers(bundle: WidgetBundle, cache_control: str) -> dict[str, str]:
    return {
        "Cache-Control": cache_control,
        "ETag": bundle.etag,
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }


def _etag_matches(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if not given:
        return False
    tags = {t.strip().removeprefix("W/") for t in given.split(",")}
    return etag in tags or "*" in tags


def _script(request: Request, bundle: WidgetBundle, cache_control: str) -> Response:
    headers = _script_headers(bundle, cache_control)
    if _etag_matches(request, bundle.etag):
        return Response(status_code=304, headers=headers)
    return Response(bundle.body, media_type=JS_TYPE, headers=headers)


_SCRIPT_OK: dict[int | str, dict[str, Any]] = {
    200: {"description": "The ES module.", "content": {"text/javascript": {"example": 'class TripPlanner extends HTMLElement{...}customElements.define("maas-trip-planner",TripPlanner);'}}},
}
_PAGE_OK: dict[int | str, dict[str, Any]] = {
    200: {"description": "An HTML page.", "content": {"text/html": {"example": '<!doctype html>...<maas-trip-planner to="45.0620,7.6781" to-name="Museo"></maas-trip-planner>...'}}},
}


@router.get("/widget.js", summary="The <maas-trip-planner> web component (ES module)",
            response_class=Response, responses={**_SCRIPT_OK, 304: {"description": "Not modified (ETag)."}})
async def widget_js(request: Request) -> Response:
    return _script(request, _bundle(), SHORT_CACHE)


@router.get("/widget.{version}.js", summary="The web component under its content hash (cacheable forever)",
            response_class=Response,
            responses={**_SCRIPT_OK, 307: {"description": "An older hash: redirected to /widget.js."}})
async def widget_js_hashed(
    request: Request,
    version: Annotated[str, Path(max_length=64, description="The content hash (widget.json).",
                                 openapi_examples={"hash": {"value": "c631fcd503b78789"}})],
) -> Response:
    bundle = _bundle()
    if version != bundle.hash:  # a page pinned to an older build: send it the current one
        return RedirectResponse("/widget.js", status_code=307, headers={"Cache-Control": "no-store"})
    return _script(request, bundle, IMMUTABLE)


def _page(title: str, lang: str, body: str, script: str, csp: str) -> Response:
    text = (
        "<!doctype html>\n"
        f'<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<script type="module" src="{html.escape(script)}"></script>\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
    return Response(text, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": csp,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    })


def element_html(attributes: dict[str, str]) -> str:
    """``<maas-trip-planner ...>`` with every value escaped for a quoted attribute."""
    attrs = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in attributes.items())
    return f"<maas-trip-planner{attrs}></maas-trip-planner>"


def _timezone(request: Request) -> str | None:
    runtime: Runtime = request.app.state.runtime
    return runtime.loaded.graph.timezone if runtime.loaded is not None else None



def _value(example: str, description: str, alias: str | None = None) -> Any:
    return Query(alias=alias, max_length=200, description=description, openapi_examples={"example": {"value": example}})


@router.get("/widget", summary="A page holding only the widget, for an <iframe>", response_class=Response,
            responses=_PAGE_OK)
async def widget_page(
    request: Request,
    to: Annotated[str | None, _value("45.0620,7.6781", "The destination: LAT,LON or stop:FEED:STOP_ID.")] = None,
    to_name: Annotated[str | None, _value("Museo del Cinema", "Its name.", alias="to-name")] = None,
    lang: Annotated[str | None, _value("zh-CN", "en or zh-CN.")] = None,
    modes: Annotated[str | None, _value("walk,transit,bikeshare", "The modes offered.")] = None,
    key: Annotated[str | None, _value("pk_widget_example", "The public widget key.")] = None,
    accent: Annotated[str | None, _value("#8a1c7c", "Accent colour.")] = None,
    background: Annotated[str | None, _value("#ffffff", "Background colour.")] = None,
    text: Annotated[str | None, _value("#1b1b1f", "Text colour.")] = None,
    tz: Annotated[str | None, _value("Europe/Rome", "The attraction's time zone (default: the graph's).")] = None,
    results: Annotated[str | None, _value("3", "Number of itineraries.")] = None,
) -> Response:
    given = {"to": to, "to-name": to_name, "lang": lang, "modes": modes, "key": key, "accent": accent,
             "background": background, "text": text, "tz": tz or _timezone(request), "results": results}
    attributes = {k: v for k, v in given.items() if v}
    bundle = _bundle()
    return _page(to_name or "Trip planner", lang or "en", element_html(attributes), bundle.path, PAGE_CSP)


def _demo_destination(graph: Any) -> tuple[str, str]:
    """A served stop near the middle of the city, as the demo's attraction (id, name)."""
    served = np.zeros(graph.n_stops, dtype=bool)
    served[np.asarray(graph.timetable.pattern_stops)] = True
    idx = np.flatnonzero(served)
    if idx.size == 0:
        idx = np.arange(graph.n_stops)
    lat, lon = np.asarray(graph.stop_lat)[idx], np.asarray(graph.stop_lon)[idx]
    k = int(idx[np.argmin((lat - lat.mean()) ** 2 + (lon - lon.mean()) ** 2)])
    return graph.stop_ids[k], graph.stop_names[k]


@router.get("/widget/demo", summary="Demo: the widget and how to embed it", response_class=Response,
            responses={**_PAGE_OK, 503: {"description": "No graph is loaded yet."}})
async def widget_demo(request: Request, loaded: GraphDep) -> Response:
    bundle = _bundle()
    stop_id, name = _demo_destination(loaded.graph)
    attributes = {"to": f"stop:{stop_id}", "to-name": name, "lang": "en", "tz": loaded.graph.timezone,
                  "modes": "walk,transit,bikeshare"}
    base = str(request.base_url).rstrip("/")
    snippet = (f'<script src="{base}/widget.js" type="module"></script>\n'
               + element_html({"api": base, "key": "WIDGET_KEY", **attributes}))
    iframe_src = "/widget?" + urlencode({k: v for k, v in attributes.items() if k != "modes"})
    iframe = f'<iframe src="{base}{iframe_src}" title="Trip planner" width="400" height="640"></iframe>'
    zh = {**attributes, "lang": "zh-CN"}
    body = "\n".join([
        "<h1>Trip widget demo</h1>",
        f"<p>Plan a trip to {html.escape(name)} (graph {html.escape(loaded.version)}).</p>",
        element_html(attributes),
        "<h2>Add it to a page</h2>",
        f"<pre><code>{html.escape(snippet)}</code></pre>",
        "<h2>Or as an iframe</h2>",
        f"<pre><code>{html.escape(iframe)}</code></pre>",
        f'<iframe src="{html.escape(iframe_src)}" title="Trip planner (iframe)" width="400" height="640"></iframe>',
        "<h2>简体中文</h2>",
        element_html(zh),
    ])
    return _page("Trip widget demo", "en", body, bundle.path, DEMO_CSP)
