"""The audit log: who published, rolled back, created or revoked a key, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maas.catalog.database import Database
from maas.catalog.tables import AuditEvent


def record(session: Session, actor: str, action: str, target: str, **detail: Any) -> AuditEvent:
    """Add an event to ``session``'s transaction: it is logged exactly when the change commits."""
    event = AuditEvent(actor=actor, action=action, target=target, detail=detail)
    session.add(event)
    return event


def recent(db: Database, *, limit: int = 100, before_id: int | None = None, action: str | None = None) -> list[AuditEvent]:
    """Newest first; ``before_id`` pages further back."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    with db.read() as s:
        return list(s.scalars(query))


def event_to_dict(e: AuditEvent) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target,
            "detail": e.detail}
