"""The live availability overlay of one GBFS system.

:class:`LiveGbfs` holds the static :class:`GbfsFeed` (from the artifact) and the last good
:class:`GbfsStatus`. :meth:`LiveGbfs.refresh` re-reads only the status files, no sooner
than their ``ttl`` allows; when the source is unreachable or returns garbage it keeps
the last good snapshot, so nothing already live breaks, and once that snapshot has
outlived its ttl (plus grace) :attr:`LiveGbfs.status` reports ``availability_known=False``.

Thread-safe: readers take the current snapshot without waiting for I/O; one refresh
runs at a time; the snapshot is an immutable object swapped in one assignment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from feeds.gbfs.load import STALE_GRACE_S, load_gbfs, load_gbfs_status
from feeds.gbfs.model import GbfsFeed, GbfsStatus
from feeds.quality import Notice, Severity

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LiveGbfs:
    """Last good availability of ``feed``, refreshed from where the feed was loaded."""

    def __init__(
        self,
        feed: GbfsFeed,
        status: GbfsStatus | None = None,
        *,
        client: httpx.Client | None = None,
        clock: Clock = _utc_now,
        stale_grace_s: float = STALE_GRACE_S,
        min_interval_s: float = 5.0,
    ) -> None:
        self.feed = feed
        self._client = client
        self._clock = clock
        self._grace = stale_grace_s
        self._min_interval = min_interval_s
        self._lock = threading.Lock()  # guards the fields below
        self._refreshing = threading.Lock()  # one fetch in flight
        self._snapshot = status or GbfsStatus(feed.id, fetched_at=clock(), availability_known=False)
        self._failing = status is None
        self._next_due = clock() if status is None else self._due_after(status)
        self._notices: tuple[Notice, ...] = ()

    @classmethod
    def open(
        cls,
        source: str | Path,
        *,
        system_id: str | None = None,
        client: httpx.Client | None = None,
        clock: Clock = _utc_now,
        stale_grace_s: float = STALE_GRACE_S,
        min_interval_s: float = 5.0,
    ) -> tuple[LiveGbfs, tuple[Notice, ...]]:
        """Load ``source`` now (see :func:`load_gbfs`) and start from what it gave."""
        feed, status, notices = load_gbfs(
            source, system_id=system_id, client=client, now=clock(), stale_grace_s=stale_grace_s
        )
        live = cls(
            feed,
            status,
            client=client,
            clock=clock,
            stale_grace_s=stale_grace_s,
            min_interval_s=min_interval_s,
        )
        return live, notices

    @property
    def status(self) -> GbfsStatus:
        """The last good snapshot; ``availability_known`` is False once a refresh has
        failed and the snapshot has outlived its ttl."""
        with self._lock:
            snapshot, failing = self._snapshot, self._failing
        if snapshot.availability_known and failing and self._clock() > snapshot.expires_at(self._grace):
            return dataclasses.replace(snapshot, availability_known=False)
        return snapshot

    @property
    def availability_known(self) -> bool:
        return self.status.availability_known

    @property
    def notices(self) -> tuple[Notice, ...]:
        """What the last refresh reported."""
        with self._lock:
            return self._notices

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read the status files if their ttl has passed (or ``force``); True when a new
        snapshot was taken. Never raises for a bad or unreachable source."""
        with self._refreshing:
            now = self._clock()
            with self._lock:
                if not force and now < self._next_due:
                    return False
            try:
                status, notices = load_gbfs_status(
                    self.feed, client=self._client, now=now, stale_grace_s=self._grace
                )
            except Exception as exc:  # a live overlay must survive any failure of its source
                status = None
                notices = (
                    Notice(
                        Severity.ERROR,
                        "unreachable_feed",
                        f"refresh failed: {type(exc).__name__}: {exc}",
                        feed_id=self.feed.id,
                    ),
                )
            with self._lock:
                self._notices = notices
                if status is None:
                    self._failing = True
                    self._next_due = now + dt.timedelta(seconds=self._min_interval)
                    return False
                self._snapshot = status
                self._failing = False
                self._next_due = self._due_after(status)
                return True

    def _due_after(self, status: GbfsStatus) -> dt.datetime:
        return status.fetched_at + dt.timedelta(seconds=max(status.ttl, self._min_interval))
