"""Alembic environment: run with the connection :func:`maas.catalog.database.migrate` passes in
(``config.attributes["connection"]``); there is no alembic.ini, the package carries its scripts."""

from __future__ import annotations

from alembic import context

from maas.catalog.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running the alembic CLI by hand
    raise RuntimeError("run migrations through maas.catalog.database.migrate()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
