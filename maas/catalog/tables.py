"""The catalog's tables (SQLAlchemy 2, typed ``Mapped[]``): feeds and their versions, the graph
deployments made from them, API keys, the audit log and publish jobs.

Times are stored in UTC and come back timezone-aware (SQLite keeps no offset, hence
:class:`UTCDateTime`). Paths of stored files are relative to ``MAAS_DATA_DIR`` so that a
backup restored elsewhere still finds them; a path outside the data dir (a feed the served
artifact was built from before the catalog existed) stays absolute.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

FEED_KINDS = ("gtfs", "gtfs-rt", "gbfs", "gofs", "osm")
CLASSIFICATIONS = ("public", "restricted", "internal")
# a version's life: pending (uploaded, building) -> live -> superseded; failed builds stay failed;
# rolled_back: was live, then replaced by the version before it.
VERSION_STATUSES = ("pending", "live", "superseded", "failed", "rolled_back")
JOB_STATUSES = ("queued", "running", "succeeded", "failed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always returned with ``tzinfo=UTC``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    publisher: Mapped[str] = mapped_column(String(200), default="")
    licence: Mapped[str] = mapped_column(String(200), default="")
    source_url: Mapped[str] = mapped_column(String(2000), default="")
    classification: Mapped[str] = mapped_column(String(16), default="public")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[FeedVersion]] = relationship(
        back_populates="feed", order_by="FeedVersion.id", cascade="all, delete-orphan"
    )


class FeedVersion(Base):
    __tablename__ = "feed_versions"
    __table_args__ = (Index("ix_feed_versions_feed_status", "feed_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed_id: Mapped[str] = mapped_column(ForeignKey("feeds.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    valid_from: Mapped[dt.date | None] = mapped_column(Date, default=None)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, default=None)
    quality_grade: Mapped[str | None] = mapped_column(String(2), default=None)
    quality_report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(64), default="")  # key id, "cli" or "seed"
    file_path: Mapped[str] = mapped_column(String(2000), default="")  # the uploaded file
    artifact_version: Mapped[str | None] = mapped_column(String(64), default=None)  # graph it went live in
    status: Mapped[str] = mapped_column(String(16), default="pending")

    feed: Mapped[Feed] = relationship(back_populates="versions")


class Deployment(Base):
    """One graph that went live; the last row is what every worker serves."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    graph_version: Mapped[str] = mapped_column(String(64))
    artifact_path: Mapped[str] = mapped_column(String(2000))
    reason: Mapped[str] = mapped_column(String(16))  # seed, publish, rollback
    feed_id: Mapped[str | None] = mapped_column(String(64), default=None)
    feed_version_id: Mapped[int | None] = mapped_column(Integer, default=None)
    previous_deployment_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the visible prefix of the token
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    rate_per_s: Mapped[float | None] = mapped_column(default=None)  # None: the settings' default
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # key id, "cli"
    action: Mapped[str] = mapped_column(String(32))  # publish, rollback, key.create, key.revoke, restore
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # publish
    feed_id: Mapped[str] = mapped_column(String(64))
    feed_version_id: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[str] = mapped_column(Text, default="")
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    graph_version: Mapped[str | None] = mapped_column(String(64), default=None)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)  # the graph lock was taken
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
