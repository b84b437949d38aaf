"""Scopes an API key can carry.

- ``admin``: everything, including internal feeds, the audit log and any feed's publishing;
- ``feeds:write:{feed_id}``: publish and roll back that feed (and read it when restricted/internal);
- ``widget:{origin}``: read-only use of the public trip-planning routes (plan, stops, isochrone GETs)
  from a page on ``origin`` (``https://example.org``); the request's ``Origin`` must match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

ADMIN = "admin"
FEED_WRITE = "feeds:write:"
WIDGET = "widget:"
_FEED_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class ScopeError(ValueError):
    pass


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports dropped; raises :class:`ScopeError`."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        raise ScopeError(f"not an origin (scheme://host[:port]): {origin!r}")
    try:
        port = parts.port
    except ValueError:
        raise ScopeError(f"bad port in origin {origin!r}") from None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def parse_scope(scope: str) -> str:
    """The canonical form of ``scope``; raises :class:`ScopeError` naming what is wrong."""
    s = scope.strip()
    if s == ADMIN:
        return s
    if s.startswith(FEED_WRITE):
        fid = s[len(FEED_WRITE):]
        if not _FEED_ID.match(fid):
            raise ScopeError(f"bad feed id in scope {scope!r} (letters, digits, _ . -)")
        return s
    if s.startswith(WIDGET):
        return WIDGET + normalize_origin(s[len(WIDGET):])
    raise ScopeError(f"unknown scope {scope!r}: admin, feeds:write:FEED_ID or widget:ORIGIN")


@dataclass(frozen=True)
class Principal:
    """An authenticated key as routes see it (never the secret)."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    rate_per_s: float | None = None

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    @property
    def widget_origins(self) -> tuple[str, ...]:
        return tuple(s[len(WIDGET):] for s in self.scopes if s.startswith(WIDGET))

    @property
    def widget_only(self) -> bool:
        """Only widget scopes: a read-only key for browsers."""
        return bool(self.scopes) and all(s.startswith(WIDGET) for s in self.scopes)

    def can_write_feed(self, feed_id: str) -> bool:
        return self.is_admin or f"{FEED_WRITE}{feed_id}" in self.scopes

    def can_read_feed(self, feed_id: str, classification: str) -> bool:
        if classification == "public":
            return True
        if self.can_write_feed(feed_id):
            return True
        return classification == "restricted" and not self.widget_only

    def origin_allowed(self, origin: str | None) -> bool:
        if origin is None:
            return False
        try:
            return normalize_origin(origin) in self.widget_origins
        except ScopeError:
            return False
