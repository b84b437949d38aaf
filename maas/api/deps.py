"""What routes depend on: the runtime (graph, planner, cache, engine threads) as ``Annotated`` types.

The graph and its planner live together in one immutable :class:`LoadedGraph`; a route takes
the current one once, so swapping in a new graph (:meth:`Runtime.install`) is one assignment
and requests in flight finish on the graph they started with.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from maas.api.metrics import Metrics
from maas.api.problems import TYPE_NOT_READY, ProblemException
from maas.cache import ResponseCache
from maas.settings import Settings
from routing.engines import get_planner
from routing.graph import Graph
from routing.plan import JourneyPlanner, PlanResult
from routing.realtime import RealtimeOverlay, overlay_from_specs

T = TypeVar("T")
log = logging.getLogger("maas.app")


@dataclass(frozen=True)
class LoadedGraph:
    graph: Graph
    planner: JourneyPlanner
    engine: str

    @property
    def version(self) -> str:
        return self.graph.version


class Runtime:
    """Per-app state shared by every request of one worker process."""

    def __init__(self, settings: Settings, metrics: Metrics, cache: ResponseCache) -> None:
        self.settings = settings
        self.metrics = metrics
        self.cache = cache
        self.loaded: LoadedGraph | None = None
        self.realtime_epoch = 0  # bumped by a realtime overlay; part of every cache key
        self._executor: ThreadPoolExecutor | None = None
        # GTFS-RT alerts and trip updates (MAAS_GTFS_RT); bound to each graph installed
        self.realtime: RealtimeOverlay | None = (
            overlay_from_specs(settings.gtfs_rt, max_age_s=settings.gtfs_rt_max_age_s) if settings.gtfs_rt else None
        )

    # -- graph ----------------------------------------------------------------------------

    def planner_options(self) -> dict[str, Any]:
        if self.settings.engine == "raptor":
            return {"walk_mps": self.settings.walk_speed_mps, "bike_mps": self.settings.bike_speed_mps}
        return {}

    def install(self, graph: Graph) -> LoadedGraph:
        """Serve ``graph`` from now on (a new graph_version: old cache entries stop matching)."""
        planner = get_planner(graph, self.settings.engine, **self.planner_options())
        graph.stop_name_index  # noqa: B018 -- built now (~0.1 s at 20k stops), not by the first name search
        loaded = LoadedGraph(graph=graph, planner=planner, engine=self.settings.engine)
        previous, self.loaded = self.loaded, loaded
        if previous is not None:
            self.metrics.graph_info.remove(previous.version)
        self.metrics.graph_info.labels(loaded.version).set(1)
        if self.realtime is not None:
            self.realtime.bind(graph)
        return loaded

    async def warm_up(self) -> None:
        """Compile the engine's kernels (or load them from numba's cache) off the event loop."""
        if self.settings.engine != "raptor":
            return
        t0 = time.perf_counter()
        try:
            from routing.raptor import warm_up

            await self.run_engine("warm_up", warm_up)
        except Exception:  # a failed warm-up only costs the first request its compile time
            log.warning("engine warm-up failed", exc_info=True)
            return
        log.info("engine warm in %.2f s", time.perf_counter() - t0)

    # -- engine threads -------------------------------------------------------------------

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.settings.engine_threads, thread_name_prefix="maas-engine")
        return self._executor

    async def run_engine(self, engine: str, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on an engine thread (off the event loop), timing it."""

        def timed() -> T:
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self.metrics.engine_seconds.labels(engine).observe(time.perf_counter() - t0)

        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the request id follows the work into the thread
        return await loop.run_in_executor(self.executor, functools.partial(context.run, timed))

    # -- shared mobility availability ------------------------------------------------------

    def sharing_overlay(self) -> Any:
        """The live GBFS overlay of the served planner (None when it has none)."""
        loaded = self.loaded
        overlay = getattr(loaded.planner, "sharing", None) if loaded is not None else None
        return overlay if overlay is not None and getattr(overlay, "systems", None) else None

    async def refresh_sharing_once(self) -> bool:
        """Refresh availability off the event loop; a change bumps ``realtime_epoch``, so no
        cached itinerary outlives the availability it was planned on. Never raises."""
        overlay = self.sharing_overlay()
        if overlay is None:
            return False
        before = overlay.token
        try:
            # the default pool: a slow feed (HTTP, 5 s timeout) must not hold an engine thread
            await asyncio.get_running_loop().run_in_executor(None, overlay.refresh)
        except Exception:  # the overlay keeps its last good snapshot
            log.warning("sharing refresh failed", exc_info=True)
        if overlay.token != before:  # a new snapshot, or availability turned unknown
            self.realtime_epoch += 1
            return True
        return False

    async def refresh_sharing_forever(self) -> None:
        """The background task: refresh at the feeds' ttl until cancelled."""
        while True:
            await self.refresh_sharing_once()  # at once: the artifact's snapshot is as old as its build
            overlay = self.sharing_overlay()
            await asyncio.sleep(overlay.refresh_interval_s if overlay is not None else 60.0)

    # -- GTFS-RT alerts and trip updates ----------------------------------------------------

    async def refresh_realtime_once(self) -> bool:
        """Re-read the GTFS-RT sources off the event loop; a new message bumps ``realtime_epoch``
        (no cached itinerary outlives the delays it was annotated with). Never raises: a source
        that fails keeps its last good message."""
        overlay = self.realtime
        if overlay is None:
            return False
        try:
            changed = await asyncio.get_running_loop().run_in_executor(None, overlay.refresh)
        except Exception:
            log.warning("GTFS-RT refresh failed", exc_info=True)
            return False
        for notice in overlay.notices:
            if notice.severity == "error":
                log.warning("GTFS-RT %s: %s", notice.code, notice.message)
        if changed:
            self.realtime_epoch += 1
        return bool(changed)

    async def refresh_realtime_forever(self) -> None:
        """The background task: re-read the sources every ``gtfs_rt_refresh_s`` until cancelled."""
        interval = max(5.0, self.settings.gtfs_rt_refresh_s)
        while True:
            await asyncio.sleep(interval)
            await self.refresh_realtime_once()

    def annotate_realtime(self, result: PlanResult) -> PlanResult:
        """Delays, cancellations and alerts on the transit legs (the plan itself is on the schedule)."""
        overlay = self.realtime
        return overlay.annotate(result) if overlay is not None else result

    async def aclose(self) -> None:
        await self.cache.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# async, though they do not await: FastAPI runs a plain ``def`` dependency on a worker thread,
# two thread hops per request that would halve the cache-hit throughput.


async def get_settings(request: Request) -> Settings:
    runtime: Runtime = request.app.state.runtime
    return runtime.settings


async def get_loaded_graph(request: Request) -> LoadedGraph:
    runtime: Runtime = request.app.state.runtime
    loaded = runtime.loaded
    if loaded is None:
        raise ProblemException(
            503, "no graph is loaded yet", type_=TYPE_NOT_READY, title="Not ready", headers={"Retry-After": "5"}
        )
    return loaded


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
GraphDep = Annotated[LoadedGraph, Depends(get_loaded_graph)]
