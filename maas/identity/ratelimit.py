"""Per-key rate limits: a token bucket per key (``rate`` tokens a second, up to ``burst``).

With Redis the bucket lives there and one Lua script reads, refills, takes and writes it
atomically, using the server's clock, so every worker and replica shares one budget per key.
Without Redis -- or while Redis fails -- each process keeps its own buckets: limits still hold
per worker, and the API never fails because the limiter's store does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import OrderedDict
from typing import Any

log = logging.getLogger("maas.ratelimit")

# KEYS[1] bucket; ARGV rate/s, burst. Returns {allowed (0/1), seconds to wait (string)}.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""


class LocalBuckets:
    """In-process token buckets (bounded LRU of keys)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_keys = max_keys

    def take(self, key: str, rate: float, burst: float) -> float:
        """0.0 when allowed, else the seconds until a token is available."""
        now = time.monotonic()
        with self._lock:
            tokens, ts = self._buckets.pop(key, (burst, now))
            tokens = min(burst, tokens + max(0.0, now - ts) * rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait


class RateLimiter:
    """``await limiter.take(key_id, rate, burst)``: 0.0 if allowed, else seconds to wait (Retry-After)."""

    def __init__(self, redis_url: str | None = None, *, timeout_s: float = 0.1, retry_after_s: float = 1.0) -> None:
        self.redis_url = redis_url
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.local = LocalBuckets()
        self._client: Any = None
        self._script: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_until = 0.0

    @property
    def backend(self) -> str:
        return "redis" if self.redis_url else "local"

    def _redis_script(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            from redis.asyncio import Redis

            self._client = Redis.from_url(self.redis_url, socket_connect_timeout=self.timeout_s)  # type: ignore[arg-type]
            self._script = self._client.register_script(TOKEN_BUCKET_LUA)
            self._loop = loop
        return self._script

    async def take(self, key: str, rate: float, burst: float) -> float:
        rate = max(rate, 1e-6)
        burst = max(burst, 1.0)
        if self.redis_url and time.monotonic() >= self._down_until:
            from redis.exceptions import RedisError

            try:
                async with asyncio.timeout(self.timeout_s):
                    allowed, wait = await self._redis_script()(keys=[f"maas:rl:{key}"], args=[rate, burst])
                return 0.0 if int(allowed) else float(wait)
            except (RedisError, OSError, TimeoutError) as e:
                log.warning("rate limiter: redis unavailable (%s); limiting in process", type(e).__name__)
                self._down_until = time.monotonic() + self.retry_after_s
        return self.local.take(key, rate, burst)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            with contextlib.suppress(Exception):
                await client.aclose()


def retry_after_header(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))
