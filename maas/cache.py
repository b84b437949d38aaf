"""The response cache: keys, backends (in-process LRU, Redis), single-flight, fault tolerance.

Keys (DESIGN section 4): a hash of the *normalized* request -- coordinates snapped to a grid
of about 10 m, time floored to the minute, modes sorted -- plus the graph version, the
realtime epoch and the engine name. A new graph or a realtime update changes the key, so a
stale itinerary is never served; the TTL only bounds memory.

Values are the final JSON bytes of the response, so a hit is answered without serialising.

The cache never fails a request: :class:`ResponseCache` turns every backend error or
timeout into a miss, counts it, logs one warning per outage, stops calling a failing backend
for ``retry_after_s`` (so a dead Redis costs nothing per request) and then probes it again,
so caching resumes by itself when the backend comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol, TypeVar

import orjson

from routing.plan import Place, PlanRequest

log = logging.getLogger("maas.cache")

CacheStatus = Literal["hit", "miss", "shared", "bypass"]
CacheEvent = Literal["hit", "local_hit", "miss", "shared", "bypass", "error"]
T = TypeVar("T")

KEY_PREFIX = "maas:plan:v1"
LAT_STEP_DEG = 1e-4  # ~11 m north-south
_M_PER_DEG = 111_195.0


class CacheUnavailable(Exception):
    """A backend call failed or timed out (the message says which and why)."""


# -- keys -----------------------------------------------------------------------------------------


def snap_coordinate(lat: float, lon: float) -> tuple[float, float]:
    """Snap to a grid of ~11 m cells: 1e-4 deg of latitude, and the same ground distance in
    longitude (the step grows as 1/cos(lat) toward the poles)."""
    slat = round(round(lat / LAT_STEP_DEG) * LAT_STEP_DEG, 6)
    lon_step = LAT_STEP_DEG / max(math.cos(math.radians(slat)), 1e-3)
    slon = round(round(lon / lon_step) * lon_step, 6)
    slon = min(180.0, max(-180.0, slon))
    return slat, slon


def normalize_place(place: Place) -> Place:
    if place.stop_id is not None or place.lat is None or place.lon is None:
        return place
    lat, lon = snap_coordinate(place.lat, place.lon)
    return Place(lat=lat, lon=lon)


def normalize_plan_request(req: PlanRequest) -> PlanRequest:
    """The request the engine actually answers: snapped places, time floored to the minute.

    Planning with the normalized request (not the raw one) makes the answer a function of the
    cache key alone: whoever comes first, everyone with the same key sees the same itineraries.
    """
    return dataclasses.replace(
        req,
        origin=normalize_place(req.origin),
        destination=normalize_place(req.destination),
        time=req.time.replace(second=0, microsecond=0),
        max_walk_m=float(round(req.max_walk_m)),
    )


def _place_key(p: Place) -> str:
    return f"stop:{p.stop_id}" if p.stop_id is not None else f"{p.lat:.6f},{p.lon:.6f}"


def plan_cache_key(req: PlanRequest, *, graph_version: str, realtime_epoch: int, engine: str) -> str:
    """Cache key of a plan request; ``req`` should already be normalized."""
    offset = req.time.utcoffset() or dt.timedelta(0)
    canonical = orjson.dumps(
        [
            _place_key(req.origin),
            _place_key(req.destination),
            int(req.time.timestamp()) // 60,
            int(offset.total_seconds()),
            req.arrive_by,
            sorted(req.modes),
            req.window_s,
            round(req.max_walk_m),
            req.num_itineraries,
            req.wheelchair,
            engine,
        ]
    )
    digest = hashlib.blake2b(canonical, digest_size=16).hexdigest()
    return f"{KEY_PREFIX}:{graph_version}:{realtime_epoch}:{digest}"


# -- backends -------------------------------------------------------------------------------------


class CacheBackend(Protocol):
    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def close(self) -> None: ...


class LRUCache:
    """In-process LRU with per-entry expiry: the embedded default when no Redis is configured."""

    name = "lru"

    def __init__(self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get_now(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    def put(self, key: str, value: bytes, ttl_s: float) -> None:
        self._data[key] = (self._clock() + ttl_s, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        return self.get_now(key)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self.put(key, value, ttl_s)

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    """Redis through redis.asyncio (hiredis parser when installed), every call bounded by
    ``timeout_s`` and never retried: a slow Redis must not slow the API down.

    The client is bound to the event loop it was made on; a call from another loop (a test
    client that runs each request on a fresh loop) makes a new client rather than failing.
    """

    name = "redis"

    def __init__(self, url: str, *, timeout_s: float = 0.1) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _redis(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._client = Redis.from_url(
                self.url,
                socket_timeout=None,  # bounded by asyncio.timeout in _call: one timer per call, not three
                socket_connect_timeout=self.timeout_s,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                health_check_interval=0,
            )
            self._loop = loop
        return self._client

    async def _call(self, op: str, fn: Callable[[Any], Awaitable[T]]) -> T:
        from redis.exceptions import RedisError

        try:
            async with asyncio.timeout(self.timeout_s):
                return await fn(self._redis())
        except (RedisError, OSError, TimeoutError) as e:
            raise CacheUnavailable(f"redis {op}: {type(e).__name__}: {e}") from None

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self._call("GET", lambda r: r.get(key))
        return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._call("SET", lambda r: r.set(key, value, px=max(1, int(ttl_s * 1000))))

    async def ping(self) -> bool:
        return bool(await self._call("PING", lambda r: r.ping()))

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            with contextlib.suppress(Exception):  # closing a client to a dead server: nothing to do
                await client.aclose()


# -- single-flight --------------------------------------------------------------------------------


class SingleFlight:
    """Concurrent calls with the same key share one computation (per process and event loop).

    The computation runs in its own task, so a caller that goes away (client disconnect)
    neither cancels it for the others nor leaves them waiting forever.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self.computations = 0  # how many computations started (tests count these)

    def __len__(self) -> int:
        return len(self._tasks)

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """Return ``(value, shared)``; ``shared`` is True when another call computed it."""
        task = self._tasks.get(key)
        shared = task is not None and task.get_loop() is asyncio.get_running_loop() and not task.done()
        if not shared:
            task = asyncio.ensure_future(compute())
            self.computations += 1
            self._tasks[key] = task
            task.add_done_callback(lambda t: self._done(key, t))
        assert task is not None
        return await asyncio.shield(task), shared

    def _done(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: a failure is re-raised in the callers


# -- the cache as the gateway uses it ----------------------------------------------------------------


class ResponseCache:
    """A backend made safe: errors become misses, a failing backend is skipped for a while.

    With a remote backend (Redis), ``local`` is a small in-process LRU in front of it (a near
    cache): a popular itinerary is answered from memory without a network round trip. That is
    safe because an entry never changes: its key holds everything the answer depends on
    (normalized request, graph version, realtime epoch), and both tiers expire it by TTL.
    """

    def __init__(
        self,
        backend: CacheBackend,
        *,
        ttl_s: float = 300.0,
        local: LRUCache | None = None,
        retry_after_s: float = 1.0,
        failures_to_open: int = 3,
        on_event: Callable[[CacheEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self.local = local
        self.ttl_s = ttl_s
        self.retry_after_s = retry_after_s
        self.failures_to_open = failures_to_open
        self.flights = SingleFlight()
        self._on_event = on_event or (lambda _e: None)
        self._clock = clock
        self._failures = 0
        self._down_until = 0.0
        self._outage = False  # a warning was logged for the current outage

    @property
    def available(self) -> bool:
        return self._down_until <= self._clock()

    def _failed(self, err: CacheUnavailable) -> None:
        self._on_event("error")
        self._failures += 1
        if self._failures >= self.failures_to_open:
            self._down_until = self._clock() + self.retry_after_s
        if not self._outage:
            self._outage = True
            log.warning("cache backend %s unavailable, serving uncached until it answers: %s",
                        self.backend.name, err)

    def _succeeded(self) -> None:
        if self._outage:
            log.info("cache backend %s answers again, caching resumed", self.backend.name)
            self._outage = False
        self._failures = 0
        self._down_until = 0.0

    async def get(self, key: str) -> tuple[bytes | None, bool]:
        """The backend alone: ``(value or None, backend usable)``; never raises."""
        if not self.available:
            return None, False
        try:
            value = await self.backend.get(key)
        except CacheUnavailable as e:
            self._failed(e)
            return None, False
        self._succeeded()
        return value, True

    async def set(self, key: str, value: bytes) -> bool:
        if self.local is not None:
            self.local.put(key, value, self.ttl_s)
        if not self.available:
            return False
        try:
            await self.backend.set(key, value, self.ttl_s)
        except CacheUnavailable as e:
            self._failed(e)
            return False
        self._succeeded()
        return True

    async def lookup(self, key: str) -> tuple[bytes | None, bool]:
        """Near cache, then backend: ``(value or None, backend usable)``; counts a hit."""
        if self.local is not None:
            value = self.local.get_now(key)
            if value is not None:
                self._on_event("local_hit")
                return value, True
        value, usable = await self.get(key)
        if value is not None:
            if self.local is not None:
                self.local.put(key, value, self.ttl_s)
            self._on_event("hit")
        return value, usable

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[bytes]],
        *,
        looked_up: tuple[bytes | None, bool] | None = None,
    ) -> tuple[bytes, CacheStatus]:
        """The cached value, or ``compute()`` once for all concurrent callers, then stored.

        ``looked_up`` is the result of a :meth:`lookup` the caller already made (the fast path
        did), so a miss is not looked up twice.
        """
        value, usable = looked_up if looked_up is not None else await self.lookup(key)
        if value is not None:
            return value, "hit"

        async def compute_and_store() -> bytes:
            fresh = await compute()
            await self.set(key, fresh)
            return fresh

        fresh, shared = await self.flights.run(key, compute_and_store)
        status: CacheStatus = "shared" if shared else "miss" if usable else "bypass"
        self._on_event(status)
        return fresh, status

    async def close(self) -> None:
        await self.backend.close()
        if self.local is not None:
            await self.local.close()


def make_backend(redis_url: str | None, *, max_entries: int, timeout_s: float) -> CacheBackend:
    if redis_url:
        return RedisCache(redis_url, timeout_s=timeout_s)
    return LRUCache(max_entries)
