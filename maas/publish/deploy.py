"""Build a graph from the catalog's live feed versions and make it current; roll back.

Both run under the catalog's graph lock (callers take it): the inputs are read after the lock
is taken, so a publish waiting for another one builds on top of its result instead of losing it.
The artifact is built beside the others (``artifacts/.build-*``) and renamed to
``artifacts/<graph_version>``; then one catalog transaction marks the versions and records the
deployment, and the ``current`` pointer is replaced -- the step every worker follows.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from maas.catalog import audit
from maas.catalog.database import Database
from maas.catalog.errors import Conflict, NotFound
from maas.catalog.feeds import current_deployment, live_versions, version_file
from maas.catalog.tables import Deployment, FeedVersion
from maas.publish.pointer import resolve_path, stored_path, write_pointer

log = logging.getLogger("maas.publish")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Deployed:
    deployment_id: int
    graph_version: str
    artifact: Path


def _build_options(artifact: Path | None) -> object:
    """The options the current artifact was built with, so a rebuild changes only the feed."""
    from routing.build import BuildOptions

    if artifact is None:
        return BuildOptions()
    try:
        saved = json.loads((artifact / "manifest.json").read_text()).get("options") or {}
    except (OSError, ValueError):
        saved = {}
    known = {f.name for f in dataclasses.fields(BuildOptions)}
    return BuildOptions(**{k: v for k, v in saved.items() if k in known})


def publish_version(db: Database, version_id: int, *, actor: str, progress: Progress | None = None) -> Deployed:
    """Build the graph with version ``version_id`` in place of its feed's live version and deploy it.

    Raises :class:`feeds.errors.FeedError` / :class:`routing.errors.RoutingError` when the build
    fails; the catalog and the current graph are then untouched."""
    from routing.build import BuildOptions, build_graph

    say = progress or (lambda _m: None)
    with db.read() as s:
        new = s.get(FeedVersion, version_id)
        if new is None:
            raise NotFound(f"no feed version {version_id}")
        current = current_deployment(s)
        inputs = [v for v in live_versions(s) if v.feed_id != new.feed_id] + [new]
        kinds = {v.feed_id: v.feed.kind for v in inputs}
    gtfs: list[tuple[str | None, str | Path]] = []
    osm: Path | None = None
    sharing: dict[str, list[str | Path]] = {"gbfs": [], "gofs": []}
    for v in sorted(inputs, key=lambda v: v.feed_id):
        kind = kinds[v.feed_id]
        if kind in sharing and v.file_path.startswith(("http://", "https://")):
            sharing[kind].append(v.file_path)  # a live GBFS feed: the build reads it again
            continue
        path = version_file(db, v)
        if kind == "gtfs":
            if path is None:
                raise Conflict(f"feed {v.feed_id}: the file of version {v.id} is missing ({v.file_path})")
            gtfs.append((v.feed_id, path))
        elif kind == "osm" and path is not None and osm is None:
            osm = path
        elif kind in sharing and path is not None:
            sharing[kind].append(path)
    current_artifact = resolve_path(db.data_dir, current.artifact_path) if current else None
    options = _build_options(current_artifact)
    assert isinstance(options, BuildOptions)
    artifacts = db.data_dir / "artifacts"
    tmp = artifacts / f".build-{uuid.uuid4().hex[:12]}"
    try:
        extra = {k: tuple(v) for k, v in sharing.items() if v}  # GBFS/GOFS the current graph was built with
        report = build_graph(gtfs, osm=osm, out=tmp, options=options, progress=say, **extra)
        target = artifacts / report.graph_version
        if target.exists():  # the same inputs were built before: same content, keep the old copy
            shutil.rmtree(tmp)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(tmp.with_name(tmp.name + ".prev"), ignore_errors=True)
        raise
    say("deploying")
    with db.write() as s:
        new = s.get(FeedVersion, version_id)
        assert new is not None
        for old in live_versions(s):
            if old.feed_id == new.feed_id and old.id != new.id:
                old.status = "superseded"
        new.status = "live"
        new.artifact_version = report.graph_version
        src = next((f for f in report.feeds if f.id == new.feed_id), None)
        if src is not None:
            new.valid_from, new.valid_to = src.valid_from, src.valid_to
        previous = current_deployment(s)
        dep = Deployment(graph_version=report.graph_version, artifact_path=stored_path(db.data_dir, target),
                         reason="publish", feed_id=new.feed_id, feed_version_id=new.id,
                         previous_deployment_id=previous.id if previous else None, created_by=actor)
        s.add(dep)
        s.flush()
        audit.record(s, actor, "publish.live", new.feed_id, version_id=new.id, graph_version=report.graph_version,
                     previous_graph_version=previous.graph_version if previous else None)
        deployed = Deployed(dep.id, report.graph_version, target)
    write_pointer(db.data_dir, deployed.graph_version, deployed.artifact, deployed.deployment_id)
    log.info("feed %s version %d live in graph %s", new.feed_id, version_id, deployed.graph_version)
    return deployed


def rollback_feed(db: Database, feed_id: str, *, actor: str) -> Deployed:
    """Serve again the graph that was live before ``feed_id``'s latest publish; that publish's
    version becomes ``rolled_back`` and the one it replaced ``live``. Only the latest deployment
    can be undone: rolling back under a later publish of another feed would drop that feed's change.
    """
    with db.write() as s:
        cur = current_deployment(s)
        if cur is None or cur.reason != "publish" or cur.feed_id != feed_id:
            what = "nothing was deployed" if cur is None else (
                f"the current graph {cur.graph_version} comes from a {cur.reason}"
                + (f" of feed {cur.feed_id}" if cur.feed_id else ""))
            raise Conflict(f"cannot roll back feed {feed_id}: {what}; only the latest publish can be rolled back")
        prev = s.get(Deployment, cur.previous_deployment_id) if cur.previous_deployment_id else None
        if prev is None:
            raise Conflict(f"feed {feed_id}: no earlier graph to roll back to")
        artifact = resolve_path(db.data_dir, prev.artifact_path)
        if not (artifact / "manifest.json").is_file():
            raise Conflict(f"feed {feed_id}: the earlier graph {prev.graph_version} is no longer on disk ({artifact})")
        bad = s.get(FeedVersion, cur.feed_version_id) if cur.feed_version_id else None
        if bad is not None:
            bad.status = "rolled_back"
        restored = s.scalars(
            select(FeedVersion)
            .where(FeedVersion.feed_id == feed_id, FeedVersion.status == "superseded",
                   FeedVersion.artifact_version == prev.graph_version)
            .order_by(FeedVersion.id.desc()).limit(1)
        ).first()
        if restored is None and bad is not None:  # superseded in a graph built before: the newest older one
            restored = s.scalars(
                select(FeedVersion)
                .where(FeedVersion.feed_id == feed_id, FeedVersion.status == "superseded", FeedVersion.id < bad.id)
                .order_by(FeedVersion.id.desc()).limit(1)
            ).first()
        if restored is not None:
            restored.status = "live"
        dep = Deployment(graph_version=prev.graph_version, artifact_path=prev.artifact_path, reason="rollback",
                         feed_id=feed_id, feed_version_id=restored.id if restored else None,
                         previous_deployment_id=cur.id, created_by=actor)
        s.add(dep)
        s.flush()
        audit.record(s, actor, "rollback", feed_id, from_graph_version=cur.graph_version,
                     to_graph_version=prev.graph_version, rolled_back_version_id=bad.id if bad else None,
                     live_version_id=restored.id if restored else None)
        deployed = Deployed(dep.id, prev.graph_version, artifact)
    write_pointer(db.data_dir, deployed.graph_version, deployed.artifact, deployed.deployment_id)
    log.info("feed %s rolled back: graph %s", feed_id, deployed.graph_version)
    return deployed
