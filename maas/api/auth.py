"""API keys on routes: ``Authorization: Bearer KEY`` (or ``X-API-Key: KEY``), as ``Annotated`` dependencies.

- :data:`OptionalKey`: the caller's key or None; a key that is sent must be valid (401), within
  its rate limit (429 with Retry-After) and, for a widget key, used read-only from its origin (403).
- :data:`RequiredKey`: 401 without a key. :data:`AdminKey`: 403 without the ``admin`` scope.
- :func:`require_widget_origin` / :data:`WidgetKey`: for the public read-only routes a widget
  embeds (plan, stops, isochrone): optional key, and a widget key only from its own origin.
- ``GET /v1/audit`` (admin): the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from maas.api.problems import ProblemException
from maas.catalog.audit import event_to_dict, recent
from maas.catalog.errors import CatalogError
from maas.identity.ratelimit import retry_after_header
from maas.identity.scopes import Principal
from maas.publish.operations import Operations

TYPE_UNAUTHORIZED = "urn:maas:problem:unauthorized"
TYPE_FORBIDDEN = "urn:maas:problem:forbidden"
TYPE_RATE_LIMITED = "urn:maas:problem:rate-limited"
TYPE_UNAVAILABLE = "urn:maas:problem:catalog-unavailable"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def operations(request: Request) -> Operations:
    ops: Operations = request.app.state.operations
    return ops


async def catalog_call(fn: Any, *args: Any) -> Any:
    """Run a blocking catalog call on a thread; a database outage is a 503 problem, not a 500."""
    try:
        return await run_in_threadpool(fn, *args)
    except CatalogError as e:
        raise ProblemException(503, str(e), type_=TYPE_UNAVAILABLE, title="Catalog unavailable",
                               headers={"Retry-After": "5"}) from None


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        raise unauthorized("the Authorization header must be 'Bearer KEY'")
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def unauthorized(detail: str) -> ProblemException:
    return ProblemException(401, detail, type_=TYPE_UNAUTHORIZED, title="Unauthorized",
                            headers={"WWW-Authenticate": 'Bearer realm="maas"'})


def forbidden(detail: str) -> ProblemException:
    return ProblemException(403, detail, type_=TYPE_FORBIDDEN, title="Forbidden")


async def check_key(request: Request, *, read_route: bool) -> Principal | None:
    """The request's key, or None without one. A key that is sent must be known and not revoked
    (401) and within its rate (429 with Retry-After); a widget key only on a read route and from
    one of its origins (403). ``read_route``: the route only reads, whatever its method (a POST
    of a plan is a read)."""
    token = bearer_token(request)
    if token is None:
        return None
    ops = operations(request)
    principal: Principal | None = await catalog_call(ops.principal, token)
    if principal is None:
        raise unauthorized("unknown or revoked API key")
    rate = principal.rate_per_s or ops.settings.key_rate_per_s
    wait = await ops.limiter.take(principal.key_id, rate, float(ops.settings.key_burst))
    if wait > 0:
        raise ProblemException(429, f"rate limit of key {principal.key_id} exceeded ({rate:g}/s)",
                               type_=TYPE_RATE_LIMITED, title="Too many requests",
                               headers={"Retry-After": retry_after_header(wait)})
    if principal.widget_only:
        if not read_route:
            raise forbidden(f"key {principal.key_id} is a widget key: read-only")
        if not principal.origin_allowed(request.headers.get("origin")):
            raise forbidden(f"key {principal.key_id} is valid only from {', '.join(principal.widget_origins)}")
    request.state.principal = principal
    return principal


async def optional_key(request: Request) -> Principal | None:
    return await check_key(request, read_route=request.method in _READ_METHODS)


async def required_key(key: Annotated[Principal | None, Depends(optional_key)]) -> Principal:
    if key is None:
        raise unauthorized("an API key is required (Authorization: Bearer KEY or X-API-Key: KEY)")
    return key


async def admin_key(key: Annotated[Principal, Depends(required_key)]) -> Principal:
    if not key.is_admin:
        raise forbidden(f"key {key.key_id} lacks the admin scope")
    return key


async def require_widget_origin(request: Request) -> Principal | None:
    """For the read-only public routes a widget calls (plan, stops, isochrone): no key is fine (the
    open API); a key is checked as by :func:`check_key`, a widget key from its origin only. Their
    POSTs (``POST /v1/plan``) are reads too, so a widget key may make them."""
    return await check_key(request, read_route=True)


def _doc(description: str) -> dict[str, Any]:
    return {"description": description}


# documented on every route that takes a key (the app adds problem+json as their content type)
KEY_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("No API key, or an unknown/revoked one (WWW-Authenticate: Bearer)."),
    403: _doc("The key lacks the scope, or is a widget key used off its origin or for writing."),
    429: _doc("The key's rate limit is exceeded (Retry-After says when to retry)."),
    503: _doc("The catalog database is unavailable."),
}
# on the public read routes a widget calls: a key is optional there, but checked when sent
WIDGET_KEY_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("An unknown or revoked key was sent (no key at all is fine)."),
    403: _doc("A widget key used from a page not on its origin (or without Origin)."),
    429: _doc("The key's rate limit is exceeded (Retry-After says when to retry)."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _doc("No such feed (internal feeds: not without a key that may see them).")}

def ok_example(example: Any, media_type: str = "application/json") -> dict[int | str, dict[str, Any]]:
    """A documented 200 with an example body."""
    return {200: {"content": {media_type: {"example": example}}}}


AUDIT_EXAMPLE = {"events": [{"id": 12, "at": "2026-11-26T12:00:03+00:00", "actor": "k3f2a9c0d1b", "action": "publish.live",
                             "target": "trimet", "detail": {"version_id": 7, "graph_version": "9c1d0a4e2b7f3355"}}]}

OptionalKey = Annotated[Principal | None, Depends(optional_key)]
RequiredKey = Annotated[Principal, Depends(required_key)]
AdminKey = Annotated[Principal, Depends(admin_key)]
WidgetKey = Annotated[Principal | None, Depends(require_widget_origin)]

router = APIRouter(prefix="/v1", tags=["operators"])


@router.get("/audit", summary="Audit log (admin): publishes, rollbacks, key changes; newest first",
            responses={**KEY_RESPONSES, **ok_example(AUDIT_EXAMPLE)})
async def audit_log(
    request: Request,
    _key: AdminKey,
    limit: Annotated[int, Query(ge=1, le=1000, openapi_examples={"example": {"value": 100}})] = 100,
    before_id: Annotated[int | None, Query(ge=1, description="Page: events older than this id.", openapi_examples={"example": {"value": 500}})] = None,
    action: Annotated[str | None, Query(max_length=32, openapi_examples={"example": {"value": "publish"}})] = None,
) -> dict[str, Any]:
    ops = operations(request)
    events = await catalog_call(lambda: recent(ops.db, limit=limit, before_id=before_id, action=action))
    return {"events": [event_to_dict(e) for e in events]}
