"""Exceptions raised by :mod:`feeds`.

FeedError
 +-- FeedNotFound       the path does not exist
 +-- FeedFormatError    not a zip / directory / pbf we can read, or a required file is missing
 +-- FeedDataError      the content makes routing wrong (names file, row and field where known)

Errors of foreign libraries (zipfile, csv, pandas, osmium) are translated into these
at the loader boundary, so callers never see a traceback from a dependency.
"""

from __future__ import annotations


class FeedError(Exception):
    """Base of every error a feed loader raises."""


class FeedNotFound(FeedError):
    pass


class FeedFormatError(FeedError):
    pass


class FeedDataError(FeedError):
    pass
