"""The live side of shared mobility: availability of every GBFS system, and ride-hail.

:class:`SharingOverlay` holds one :class:`feeds.gbfs.LiveGbfs` per system (first
snapshot: the status files the build stored), the GOFS services of the artifact as
estimate providers, and any other :class:`feeds.ridehail.EstimateProvider` given.
:meth:`SharingOverlay.refresh` re-reads the status files (each no sooner than its ttl)
and never raises; :attr:`SharingOverlay.token` changes whenever what a planner would see
changes (a new snapshot, or availability turning unknown), which is when the gateway
bumps its realtime epoch so no cached itinerary outlives the availability it was built on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from feeds.gbfs import GbfsStatus, LiveGbfs
from feeds.gofs import GofsFeed
from feeds.ridehail import EstimateProvider, GofsEstimates
from routing.sharing.store import StoredSharing

MIN_REFRESH_S = 5.0
MAX_REFRESH_S = 300.0


class SharingOverlay:
    """Availability and ride-hail estimates a planner consults on every query."""

    def __init__(
        self,
        systems: Sequence[LiveGbfs] = (),
        gofs: Sequence[GofsFeed] = (),
        estimates: Sequence[EstimateProvider] = (),
    ) -> None:
        self.systems = tuple(systems)
        self.gofs = tuple(gofs)
        self.providers: tuple[EstimateProvider, ...] = (
            *(GofsEstimates(feed) for feed in self.gofs),
            *estimates,
        )

    @classmethod
    def from_stored(
        cls,
        stored: StoredSharing,
        *,
        estimates: Sequence[EstimateProvider] = (),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> SharingOverlay:
        if clock is None:
            live = [LiveGbfs(feed, status) for feed, status in stored.gbfs]
        else:
            live = [LiveGbfs(feed, status, clock=clock) for feed, status in stored.gbfs]
        return cls(live, stored.gofs, estimates)

    def __bool__(self) -> bool:
        return bool(self.systems or self.providers)

    def statuses(self) -> tuple[GbfsStatus, ...]:
        """The current snapshot of every system (``availability_known`` says if it holds)."""
        return tuple(s.status for s in self.systems)

    @property
    def token(self) -> tuple[tuple[str, float, bool], ...]:
        """Changes exactly when a planner would see different availability."""
        return tuple(
            (st.system_id, st.fetched_at.timestamp(), st.availability_known) for st in self.statuses()
        )

    def refresh(self, *, force: bool = False) -> bool:
        """Refresh every system whose ttl has passed; True when the token changed."""
        before = self.token
        for live in self.systems:
            live.refresh(force=force)
        return self.token != before

    @property
    def refresh_interval_s(self) -> float:
        """How often to call :meth:`refresh`: the smallest ttl, within sane bounds."""
        ttls = [st.ttl for st in self.statuses() if st.ttl > 0]
        return min(MAX_REFRESH_S, max(MIN_REFRESH_S, float(min(ttls)) if ttls else 60.0))
