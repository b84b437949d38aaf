"""API keys: ``maas_<id>_<secret>`` tokens, the secret shown once, the SHA-256 of the whole token stored.

The secret is 256 random bits, so a plain SHA-256 (no slow KDF) is enough to make the stored
hash useless to a thief; the id before it is visible in lists and logs. Comparison is constant
time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from maas.catalog import audit
from maas.catalog.database import Database
from maas.catalog.errors import CatalogError, NotFound
from maas.catalog.tables import ApiKey
from maas.identity.scopes import WIDGET, Principal, ScopeError, parse_scope

PREFIX = "maas"
_TOKEN = re.compile(r"^maas_(k[0-9a-f]{10})_([A-Za-z0-9_\-]{32,128})$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_id_of(token: str) -> str | None:
    m = _TOKEN.match(token.strip())
    return m.group(1) if m else None


def create_key(db: Database, scopes: Sequence[str], *, name: str = "", actor: str = "cli",
               rate_per_s: float | None = None) -> tuple[Principal, str]:
    """A new key; returns it and its token (the only time the token exists in clear)."""
    if not scopes:
        raise ScopeError("a key needs at least one scope")
    canonical = tuple(dict.fromkeys(parse_scope(s) for s in scopes))
    key_id = "k" + secrets.token_hex(5)
    token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    with db.write() as s:
        s.add(ApiKey(id=key_id, name=name, secret_sha256=hash_token(token), scopes=list(canonical),
                     rate_per_s=rate_per_s))
        audit.record(s, actor, "key.create", key_id, name=name, scopes=list(canonical))
    return Principal(key_id, name, canonical, rate_per_s), token


def revoke_key(db: Database, key_id: str, *, actor: str = "cli") -> None:
    with db.write() as s:
        key = s.get(ApiKey, key_id)
        if key is None:
            raise NotFound(f"no key {key_id!r}")
        if key.revoked_at is None:
            key.revoked_at = dt.datetime.now(dt.UTC)
            audit.record(s, actor, "key.revoke", key_id, name=key.name)


def list_keys(db: Database) -> list[ApiKey]:
    with db.read() as s:
        return list(s.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def authenticate(db: Database, token: str) -> Principal | None:
    """The key ``token`` belongs to, or None when unknown, revoked or malformed."""
    key_id = key_id_of(token)
    if key_id is None:
        return None
    with db.read() as s:
        key = s.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_sha256, hash_token(token.strip())):
        return None
    return Principal(key.id, key.name, tuple(key.scopes), key.rate_per_s)


def active_widget_origins(db: Database) -> frozenset[str]:
    """The origins of every key not revoked that has a ``widget:{origin}`` scope (normalized, as
    stored): the pages allowed to call the API from a browser besides the settings' list.
    Raises :class:`CatalogError` when the database cannot be read."""
    try:
        with db.read() as s:
            rows = s.execute(select(ApiKey.scopes).where(ApiKey.revoked_at.is_(None))).scalars().all()
    except SQLAlchemyError as e:
        raise CatalogError(f"cannot read the API keys: {type(e).__name__}") from None
    return frozenset(scope[len(WIDGET):] for scopes in rows for scope in scopes if scope.startswith(WIDGET))
