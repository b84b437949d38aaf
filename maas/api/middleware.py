"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs throughput on the cache-hit path).

- :class:`RequestContextMiddleware`: request id (``X-Request-ID`` in and out), in-flight gauge,
  latency histogram and counter per route template, one access-log line per request, and the
  last line of defence: an exception that escaped everything else becomes a problem+json 500.
- :class:`BodyLimitMiddleware`: request bodies over the limit get 413 problem+json, whether
  announced by Content-Length or streamed in chunks.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maas.api.metrics import Metrics
from maas.api.problems import TYPE_TOO_LARGE, internal_error_response, problem_response
from maas.logging import new_request_id, request_id_var

access_log = logging.getLogger("maas.access")
error_log = logging.getLogger("maas.api")

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return str(v.decode("latin-1"))
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, *, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:  # labels() is a locked dict lookup: done once per route and status
            children = (self.metrics.request_seconds.labels(method, route),
                        self.metrics.requests.labels(method, route, str(status)))
            if len(self._children) < 1000:
                self._children[key] = children
        children[0].observe(seconds)
        children[1].inc()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id(_header(scope, b"x-request-id"))
        token = request_id_var.set(rid)
        rid_header = (b"x-request-id", rid.encode())
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        t0 = time.perf_counter()
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            error_log.error("unhandled error on %s", scope.get("path"), exc_info=(type(exc), exc, exc.__traceback__))
            if not started:
                await internal_error_response(scope.get("path"))(scope, receive, send_with_id)
            status = 500
        finally:
            elapsed = time.perf_counter() - t0
            self.metrics.in_flight.dec()
            method = scope.get("method", "GET")
            method = method if method in _METHODS else "OTHER"
            matched = scope.get("route")
            route = getattr(matched, "path_format", None) or getattr(matched, "path", None) or "unmatched"
            self._observe(method, route, status, elapsed)
            if self.access_log and access_log.isEnabledFor(logging.INFO):
                # the route template, never the raw path or query string: no coordinates in logs.
                # makeRecord + handle: skips the caller lookup that logger.info() would do.
                access_log.handle(access_log.makeRecord(
                    access_log.name, logging.INFO, __file__, 0, "%s %s %d", (method, route, status), None,
                    extra={"request_id": rid, "method": method, "route": route, "status": status,
                           "duration_ms": round(elapsed * 1e3, 2)},
                ))
            request_id_var.reset(token)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await problem_response(400, detail="invalid Content-Length", instance=scope.get("path"))(
                    scope, receive, send)
                return
            if int(length) > self.limit:
                await problem_response(
                    413, detail=f"request body larger than {self.limit} bytes", type_=TYPE_TOO_LARGE,
                    instance=scope.get("path"),
                )(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited_receive, send)


class GZipWhenAccepted:
    """Starlette's GZipMiddleware, entered only by requests that accept gzip: the others (wrk,
    most server-to-server clients) skip its per-request responder and header parsing."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1000) -> None:
        from starlette.middleware.gzip import GZipMiddleware

        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            accept = _header(scope, b"accept-encoding")
            if accept is not None and "gzip" in accept:
                await self.gzip(scope, receive, send)
                return
        await self.app(scope, receive, send)
