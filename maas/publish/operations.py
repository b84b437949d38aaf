"""The operator side of one app (one worker process): catalog, keys, publish jobs, graph swaps.

- The catalog is opened on first use (an app that only plans never creates a database) and then
  seeded from the served artifact when nothing was deployed through it yet.
- Publish jobs run on a small thread pool of this process, one at a time per catalog (graph lock).
- :meth:`watch` polls the ``current`` pointer (one ``stat`` per interval) and installs the graph
  it names: every worker, and every replica sharing the data dir, follows a deployment within
  ``swap_poll_s``; the worker that built it installs it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from maas.catalog import audit
from maas.catalog.database import Database
from maas.catalog.feeds import seed_from_manifest
from maas.catalog.tables import FeedVersion, Job
from maas.identity.keys import authenticate, hash_token
from maas.identity.ratelimit import RateLimiter
from maas.identity.scopes import Principal
from maas.publish.deploy import Deployed, publish_version, rollback_feed
from maas.publish.pointer import pointer_stamp, read_pointer

if TYPE_CHECKING:
    from maas.api.deps import Runtime
    from maas.settings import Settings

log = logging.getLogger("maas.publish")
KEY_CACHE_S = 2.0  # a revoked key stops working within this long


INTERRUPTED = "interrupted: the worker running it stopped before it finished; publish the version again"


def fail_interrupted_jobs(db: Database) -> int:
    """Mark failed the publish jobs left "running" by a worker that died mid-build; returns how
    many. A running job holds the graph lock for its whole run, so when the lock is free no job
    can be running: any that says so is an orphan. When it is taken, a live job has it, and
    nothing is touched."""
    with db.lock("graph", wait=False) as free:
        if not free:
            return 0
        now = dt.datetime.now(dt.UTC)
        with db.write() as s:
            jobs = list(s.scalars(select(Job).where(Job.status == "running")))
            for job in jobs:
                job.status, job.errors, job.progress, job.finished_at = "failed", [INTERRUPTED], "failed", now
                v = s.get(FeedVersion, job.feed_version_id) if job.feed_version_id is not None else None
                if v is not None and v.status == "pending":
                    v.status = "failed"
                audit.record(s, "system", "publish.failed", job.feed_id, version_id=job.feed_version_id,
                             job_id=job.id, error=INTERRUPTED)
        if jobs:
            log.warning("%d publish job(s) interrupted by a stopped worker marked failed", len(jobs))
        return len(jobs)


class Operations:
    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        self.settings = settings
        self.runtime = runtime
        self.data_dir = Path(settings.data_dir)
        self.limiter = RateLimiter(settings.redis_url, timeout_s=settings.redis_timeout_s,
                                   retry_after_s=settings.redis_retry_after_s)
        self._db: Database | None = None
        self._db_lock = threading.Lock()
        self._jobs: ThreadPoolExecutor | None = None
        self._keys: dict[str, tuple[float, Principal | None]] = {}
        self._stamp = pointer_stamp(self.data_dir)
        self._watcher: asyncio.Task[None] | None = None
        self._install_lock = threading.Lock()
        self.swaps: list[tuple[str, float]] = []  # (graph_version, seconds to load+install) of this worker

    # -- catalog ------------------------------------------------------------------------------------

    @property
    def db(self) -> Database:
        """The catalog, opened (migrated, seeded) on first use. Blocking: call off the event loop."""
        with self._db_lock:
            if self._db is None:
                db = Database.open(self.data_dir, self.settings.database_url)
                fail_interrupted_jobs(db)
                loaded = self.runtime.loaded
                if loaded is not None:
                    with db.lock("graph"):
                        seed_from_manifest(db, Path(loaded.graph.path), dict(loaded.graph.manifest))
                    self._stamp = pointer_stamp(self.data_dir)  # seeding points at what is served
                self._db = db
            return self._db

    def principal(self, token: str) -> Principal | None:
        """The key of ``token`` (cached briefly by its hash). Blocking."""
        h = hash_token(token.strip())
        now = time.monotonic()
        hit = self._keys.get(h)
        if hit is not None and hit[0] > now:
            return hit[1]
        p = authenticate(self.db, token)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[h] = (now + KEY_CACHE_S, p)
        return p

    # -- jobs ---------------------------------------------------------------------------------------

    def start_publish(self, version_id: int, feed_id: str, actor: str) -> str:
        """Record a queued publish job for an accepted upload and start it; returns the job id."""
        job_id = uuid.uuid4().hex
        with self.db.write() as s:
            s.add(Job(id=job_id, kind="publish", feed_id=feed_id, feed_version_id=version_id, created_by=actor,
                      progress="queued"))
        if self._jobs is None:
            self._jobs = ThreadPoolExecutor(4, thread_name_prefix="maas-publish")
        self._jobs.submit(self._run_publish, job_id, version_id, feed_id, actor)
        return job_id

    def _job_update(self, job_id: str, **fields: Any) -> None:
        with self.db.write() as s:
            job = s.get(Job, job_id)
            if job is not None:
                for k, v in fields.items():
                    setattr(job, k, v)

    def _run_publish(self, job_id: str, version_id: int, feed_id: str, actor: str) -> None:
        db = self.db
        try:
            self._job_update(job_id, progress="waiting for the graph lock")
            with db.lock("graph"):
                self._job_update(job_id, status="running", started_at=dt.datetime.now(dt.UTC), progress="building")
                deployed = publish_version(
                    db, version_id, actor=actor, progress=lambda m: self._job_update(job_id, progress=m)
                )
                self._job_update(job_id, progress="installing")
                self.install(deployed)
                self._job_update(job_id, status="succeeded", graph_version=deployed.graph_version,
                                 finished_at=dt.datetime.now(dt.UTC), progress="live")
        except Exception as e:  # the job's outcome is what the operator reads: the reason, not a trace
            from feeds.errors import FeedError
            from routing.errors import RoutingError

            known = isinstance(e, FeedError | RoutingError)
            if not known:
                log.error("publish job %s failed", job_id, exc_info=True)
            message = str(e) if known or isinstance(e, OSError) else f"internal error ({type(e).__name__})"
            with db.write() as s:
                v = s.get(FeedVersion, version_id)
                if v is not None and v.status == "pending":
                    v.status = "failed"
                job = s.get(Job, job_id)
                if job is not None:
                    job.status, job.errors = "failed", [message]
                    job.finished_at, job.progress = dt.datetime.now(dt.UTC), "failed"
                audit.record(s, actor, "publish.failed", feed_id, version_id=version_id, job_id=job_id, error=message)

    def rollback(self, feed_id: str, actor: str) -> Deployed:
        db = self.db
        with db.lock("graph"):
            deployed = rollback_feed(db, feed_id, actor=actor)
            self.install(deployed)
        return deployed

    # -- graph swaps --------------------------------------------------------------------------------

    def install(self, deployed: Deployed | None = None) -> bool:
        """Load the graph the pointer names (or ``deployed``) and serve it, unless already served.
        Blocking (loads arrays); returns whether it swapped."""
        with self._install_lock:
            if deployed is None:
                p = read_pointer(self.data_dir)
                if p is None:
                    return False
                version, artifact = p.graph_version, p.artifact
            else:
                version, artifact = deployed.graph_version, deployed.artifact
            self._stamp = pointer_stamp(self.data_dir)
            loaded = self.runtime.loaded
            if loaded is not None and loaded.version == version:
                return False
            from routing.graph import Graph

            t0 = time.perf_counter()
            graph = Graph.load(artifact, verify=self.settings.verify_graph)
            self.runtime.install(graph)
            seconds = time.perf_counter() - t0
            self.swaps.append((version, seconds))
            log.info("now serving graph %s (loaded in %.2f s)", version, seconds)
            return True

    async def watch(self) -> None:
        """Follow the pointer until cancelled."""
        while True:
            await asyncio.sleep(self.settings.swap_poll_s)
            stamp = pointer_stamp(self.data_dir)
            if stamp is None or stamp == self._stamp:
                continue
            try:
                await asyncio.to_thread(self.install)
            except Exception:  # a bad artifact is refused; keep serving the old one, try again on change
                log.error("could not switch to the deployed graph", exc_info=True)
                self._stamp = stamp

    async def start(self) -> None:
        if self.settings.swap_poll_s > 0:
            self._watcher = asyncio.create_task(self.watch(), name="maas-graph-watch")

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self.limiter.close()
        if self._jobs is not None:
            await asyncio.to_thread(self._jobs.shutdown, True)  # a build in progress finishes
            self._jobs = None
        if self._db is not None:
            self._db.dispose()
            self._db = None
