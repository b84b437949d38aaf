"""The feed catalog: feeds, their versions and quality, graph deployments, API keys, audit log, jobs
(SQLAlchemy 2 over SQLite or PostgreSQL, Alembic migrations shipped in ``migrations/``)."""

from maas.catalog.database import Database
from maas.catalog.errors import BackupError, CatalogError, Conflict, NotFound, OperatorError

__all__ = ["BackupError", "CatalogError", "Conflict", "Database", "NotFound", "OperatorError"]
