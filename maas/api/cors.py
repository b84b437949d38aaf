"""CORS whose allowed origins are the settings' list plus the origins of the active widget keys.

starlette's :class:`~starlette.middleware.cors.CORSMiddleware` still speaks the protocol
(preflights, ``Access-Control-Allow-Origin`` on responses, ``Vary``); :class:`KeyCORSMiddleware`
only widens its ``is_allowed_origin`` with the ``widget:{origin}`` scopes of keys not revoked.
Those are read from the catalog through :class:`KeyOrigins`, a cache of a few seconds: a key
created or revoked takes effect within that time, and a worker reads the keys at most once per
period, only for a request whose ``Origin`` the settings do not already allow (API clients that
send no ``Origin`` never wait for it). ``*`` in the settings still allows any origin.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection

from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maas.catalog.errors import CatalogError
from maas.identity.scopes import ScopeError, normalize_origin
from maas.publish.operations import KEY_CACHE_S

log = logging.getLogger("maas.cors")

# as long as a worker caches a key lookup: a revoked key stops opening CORS when it stops authenticating
KEY_ORIGINS_TTL_S = KEY_CACHE_S


class KeyOrigins:
    """The widget keys' origins, re-read with ``load`` (blocking, run on a thread) at most every
    ``ttl_s`` seconds; concurrent requests share one read. When the catalog cannot be read, the
    origins last read stay in force until the next try."""

    def __init__(self, load: Callable[[], frozenset[str]], ttl_s: float = KEY_ORIGINS_TTL_S) -> None:
        self._load = load
        self.ttl_s = ttl_s
        self.origins: frozenset[str] = frozenset()
        self._expires = 0.0  # time.monotonic(); 0: never read
        self._reading: asyncio.Task[frozenset[str]] | None = None

    async def current(self) -> frozenset[str]:
        if time.monotonic() < self._expires:
            return self.origins
        loop = asyncio.get_running_loop()
        task = self._reading
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._reading = loop.create_task(self._read(), name="maas-cors-key-origins")
        return await asyncio.shield(task)  # a client hanging up does not cancel the shared read

    async def _read(self) -> frozenset[str]:
        try:
            self.origins = await run_in_threadpool(self._load)
        except CatalogError as e:
            log.warning("CORS: cannot read the widget keys' origins (%s); keeping the %d known", e, len(self.origins))
        self._expires = time.monotonic() + self.ttl_s
        return self.origins


def _request_origin(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"origin":
            return str(value.decode("latin-1"))
    return None


def _vary_origin(send: Send) -> Send:
    """``send`` adding ``Origin`` to the response's ``Vary`` -- all starlette's CORS does to an
    answer to a request without ``Origin`` (so that a shared cache does not hand it to a page)."""

    async def send_varying(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            for i, (name, value) in enumerate(headers):
                if name.lower() == b"vary":
                    headers[i] = (name, value + b", Origin")
                    break
            else:
                headers.append((b"vary", b"Origin"))
            message = {**message, "headers": headers}
        await send(message)

    return send_varying


class KeyCORSMiddleware(CORSMiddleware):
    """starlette's CORS with ``allow_origins`` plus the origins of ``key_origins``."""

    def __init__(self, app: ASGIApp, key_origins: KeyOrigins | None = None, allow_origins: Collection[str] = (),
                 allow_methods: Collection[str] = ("GET",), allow_headers: Collection[str] = (),
                 expose_headers: Collection[str] = (), max_age: int = 600) -> None:
        super().__init__(app, allow_origins=allow_origins, allow_methods=allow_methods, allow_headers=allow_headers,
                         expose_headers=expose_headers, max_age=max_age)  # no credentials: keys travel in headers
        self.key_origins = key_origins
        self._static_origins = frozenset(allow_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = _request_origin(scope)
        if origin is None:  # not from a browser's fetch: the hot path of API clients, kept lean
            await self.app(scope, receive, _vary_origin(send))
            return
        if self.key_origins is not None and not self.allow_all_origins and origin not in self._static_origins:
            await self.key_origins.current()  # fresh enough for is_allowed_origin below
        await super().__call__(scope, receive, send)

    def is_allowed_origin(self, origin: str) -> bool:
        if super().is_allowed_origin(origin):
            return True
        if self.key_origins is None or not self.key_origins.origins:
            return False
        try:  # keys store origins normalized (lower case, no default port); browsers send them so too
            return normalize_origin(origin) in self.key_origins.origins
        except ScopeError:  # "null" (sandboxed frames, file://) and other non-origins
            return False
