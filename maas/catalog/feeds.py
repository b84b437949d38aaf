"""Feeds, their versions and the deployments made from them: queries, seeding, JSON views."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maas.catalog import audit
from maas.catalog.database import Database
from maas.catalog.errors import NotFound
from maas.catalog.tables import CLASSIFICATIONS, FEED_KINDS, Deployment, Feed, FeedVersion
from maas.publish.pointer import resolve_path, stored_path

log = logging.getLogger("maas.catalog")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# -- queries ----------------------------------------------------------------------------------------


def current_deployment(s: Session) -> Deployment | None:
    return s.scalars(select(Deployment).order_by(Deployment.id.desc()).limit(1)).first()


def live_version(s: Session, feed_id: str) -> FeedVersion | None:
    return s.scalars(
        select(FeedVersion).where(FeedVersion.feed_id == feed_id, FeedVersion.status == "live")
        .order_by(FeedVersion.id.desc()).limit(1)
    ).first()


def live_versions(s: Session) -> list[FeedVersion]:
    return list(s.scalars(select(FeedVersion).where(FeedVersion.status == "live").order_by(FeedVersion.feed_id)))


def get_feed(s: Session, feed_id: str) -> Feed:
    feed = s.get(Feed, feed_id)
    if feed is None:
        raise NotFound(f"no feed {feed_id!r}")
    return feed


def list_feeds(db: Database) -> list[tuple[Feed, FeedVersion | None]]:
    with db.read() as s:
        feeds = list(s.scalars(select(Feed).order_by(Feed.id)))
        live = {v.feed_id: v for v in live_versions(s)}
        return [(f, live.get(f.id)) for f in feeds]


def check_feed_meta(kind: str | None = None, classification: str | None = None) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if kind is not None and kind not in FEED_KINDS:
        errors.append(("kind", f"one of {', '.join(FEED_KINDS)}"))
    if classification is not None and classification not in CLASSIFICATIONS:
        errors.append(("classification", f"one of {', '.join(CLASSIFICATIONS)}"))
    return errors


# -- JSON views -------------------------------------------------------------------------------------


def version_to_dict(v: FeedVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "sha256": v.sha256,
        "size_bytes": v.size_bytes,
        "valid_from": v.valid_from.isoformat() if v.valid_from else None,
        "valid_to": v.valid_to.isoformat() if v.valid_to else None,
        "quality_grade": v.quality_grade,
        "published_at": v.published_at.isoformat(),
        "published_by": v.published_by,
        "graph_version": v.artifact_version,
        "status": v.status,
    }


def feed_to_dict(f: Feed, live: FeedVersion | None, versions: list[FeedVersion] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": f.id,
        "kind": f.kind,
        "publisher": f.publisher,
        "licence": f.licence,
        "source_url": f.source_url,
        "classification": f.classification,
        "current_version": version_to_dict(live) if live is not None else None,
    }
    if versions is not None:
        doc["versions"] = [version_to_dict(v) for v in reversed(versions)]  # newest first
    return doc


# -- seeding from the served artifact ---------------------------------------------------------------


def link_or_copy_tree(src: Path, dst: Path) -> None:
    """Copy a directory, hard-linking files where the file system allows (artifacts are read-only)."""
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    tmp = dst.with_name(f".{dst.name}.copy")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp, copy_function=link)
    tmp.rename(dst)


def seed_from_manifest(db: Database, artifact: Path, manifest: dict[str, Any]) -> bool:
    """When nothing was deployed through the catalog yet: record the feeds the served artifact was
    built from (each with its live version) and copy the artifact into the data dir (so rollback
    and backups need nothing outside it). Returns whether it seeded. Call under the graph lock."""
    from feeds.validate import validate_gtfs

    with db.read() as s:
        if current_deployment(s) is not None:
            return False
    version = str(manifest["graph_version"])
    target = db.data_dir / "artifacts" / version
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy_tree(Path(artifact), target)
    reports: dict[str, dict[str, Any]] = {}
    for doc in manifest.get("feeds", []):
        source = Path(str(doc.get("source_path") or ""))
        if doc.get("kind") == "gtfs" and source.exists():
            try:
                reports[str(doc["id"])] = validate_gtfs(source, str(doc["id"])).to_dict()
            except Exception:  # a report is a bonus here; the feed built, so it is served
                log.warning("could not grade feed %s at %s", doc.get("id"), source, exc_info=True)
    with db.write() as s:
        if current_deployment(s) is not None:
            return False
        for doc in manifest.get("feeds", []):
            fid = str(doc["id"])
            if s.get(Feed, fid) is None:
                s.add(Feed(id=fid, kind=str(doc.get("kind") or "gtfs"), publisher=str(doc.get("publisher") or "")))
            source = Path(str(doc.get("source_path") or doc.get("path") or ""))
            report = reports.get(fid)
            s.add(FeedVersion(
                feed_id=fid,
                sha256=str(doc.get("sha256") or ""),
                size_bytes=source.stat().st_size if source.is_file() else 0,
                valid_from=_date(doc.get("valid_from")),
                valid_to=_date(doc.get("valid_to")),
                quality_grade=report["grade"] if report else None,
                quality_report=report,
                published_by="seed",
                file_path=stored_path(db.data_dir, source) if str(source) else "",
                artifact_version=version,
                status="live",
            ))
        s.flush()
        dep = Deployment(graph_version=version, artifact_path=stored_path(db.data_dir, target), reason="seed",
                         created_by="seed")
        s.add(dep)
        s.flush()
        audit.record(s, "seed", "seed", version, feeds=[str(d["id"]) for d in manifest.get("feeds", [])])
        dep_id = dep.id
    # no pointer yet: workers already serve this graph; the first publish (or a restore) writes it
    log.info("catalog seeded from artifact %s (%d feeds, deployment %d)", version, len(manifest.get("feeds", [])), dep_id)
    return True


def _date(text: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text else None


def version_file(db: Database, v: FeedVersion) -> Path | None:
    if not v.file_path:
        return None
    p = resolve_path(db.data_dir, v.file_path)
    return p if p.exists() else None
