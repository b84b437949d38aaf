"""Read a GTFS-realtime feed from a file or an http(s) URL.

Every failure of the source (missing file, HTTP error, timeout) becomes a
``RealtimeFeed(ok=False)`` with an ``unreachable_feed`` notice: a live overlay polls
these sources and must survive any of them going away.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx

from feeds.gtfs_rt.model import RealtimeFeed
from feeds.gtfs_rt.parse import DEFAULT_MAX_AGE_S, parse_feed_message
from feeds.quality import Notice, Severity

HTTP_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
MAX_BYTES = 64 * 1024 * 1024  # a realtime feed of a whole country is a few MiB


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_source(source: str | Path, *, client: httpx.Client | None = None) -> bytes:
    """The raw bytes of ``source``; raises :class:`OSError` or :class:`httpx.HTTPError`."""
    text = str(source)
    if not is_url(text):
        path = Path(text)
        if path.stat().st_size > MAX_BYTES:
            raise OSError(f"{path}: larger than {MAX_BYTES} bytes")
        return path.read_bytes()
    if client is None:
        with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=True) as own:
            return _get(own, text)
    return _get(client, text)


def _get(client: httpx.Client, url: str) -> bytes:
    response = client.get(url, timeout=HTTP_TIMEOUT, follow_redirects=True)
    response.raise_for_status()
    if len(response.content) > MAX_BYTES:
        raise OSError(f"{url}: larger than {MAX_BYTES} bytes")
    return response.content


def load_gtfs_rt(
    source: str | Path,
    feed_id: str,
    *,
    client: httpx.Client | None = None,
    now: dt.datetime | None = None,
    max_age_s: float = DEFAULT_MAX_AGE_S,
) -> RealtimeFeed:
    """Read and parse ``source`` (a path or URL) as the realtime feed of static feed ``feed_id``.
    Never raises for a bad or unreachable source (``ok`` is False then)."""
    name = str(source)
    try:
        data = read_source(source, client=client)
    except (OSError, httpx.HTTPError) as exc:
        notice = Notice(Severity.ERROR, "unreachable_feed", f"{name}: {type(exc).__name__}: {exc}",
                        file=name, feed_id=feed_id)
        return RealtimeFeed(feed_id, name, ok=False, notices=(notice,))
    return parse_feed_message(data, feed_id, source=name, now=now, max_age_s=max_age_s)
