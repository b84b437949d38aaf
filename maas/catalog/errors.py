"""Errors of the operator side (catalog, keys, publishing, backup).

``OperatorError``
 ├── ``CatalogError``      the catalog database cannot be opened or used
 ├── ``NotFound``          no such feed, version, job or key
 ├── ``Conflict``          the request contradicts the catalog's state (nothing to roll back to, ...)
 └── ``BackupError``       a backup cannot be written, or is incomplete/tampered (names the file)
"""

from __future__ import annotations


class OperatorError(Exception):
    """Base of every error this part of the gateway raises on purpose."""


class CatalogError(OperatorError):
    pass


class NotFound(OperatorError):
    pass


class Conflict(OperatorError):
    pass


class BackupError(OperatorError):
    pass
