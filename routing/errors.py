"""Exceptions raised by :mod:`routing`.

RoutingError
 +-- ArtifactError          an artifact is missing, corrupt, partial or of another schema
 +-- BadRequest             a plan request that cannot be understood (names the field)
 +-- EngineUnavailable      an engine cannot run here (missing package, Java, jar)

"No route found" is *not* an error: it is a PlanResult with a ``reason``.
"""

from __future__ import annotations


class RoutingError(Exception):
    """Base of every error :mod:`routing` raises."""


class ArtifactError(RoutingError):
    pass


class BadRequest(RoutingError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class EngineUnavailable(RoutingError):
    pass
