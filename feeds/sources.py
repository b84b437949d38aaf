"""Feed arguments: ``PATH`` or ``ID=PATH`` (DESIGN.md section 4), and default feed ids.

An explicit id wins; otherwise a loader takes the id the feed declares (GTFS
``feed_info.feed_id``) and falls back to :func:`default_feed_id`, the file's stem.
Ids are joined to local ids with ``:`` (:func:`feeds.model.ns`), so a feed id never
contains one.
"""

from __future__ import annotations

import re
from pathlib import Path

from feeds.errors import FeedFormatError

# What may stand before the "=" of ID=PATH: a plain token, so that a path which merely
# contains "=" (``/data/run=3/feed.zip``) is not split.
_ID_PREFIX = re.compile(r"^[A-Za-z0-9_.\-]+$")


def parse_feed_arg(arg: str) -> tuple[str | None, Path]:
    """Split a CLI FEED argument into ``(explicit id or None, path)``.

    ``ID=PATH`` gives an explicit id; a bare ``PATH`` gives ``None`` (the loader picks
    the id). When the text before the first ``=`` is not a plain id token, or when only
    the whole argument names an existing file, the argument is taken as a path.
    """
    text = arg.strip()
    if not text:
        raise FeedFormatError("empty feed argument: expected PATH or ID=PATH")
    head, sep, tail = text.partition("=")
    if not sep:
        return None, Path(text)
    if not head:
        raise FeedFormatError(f"feed argument {arg!r} has an empty id before '=': expected ID=PATH")
    if not _ID_PREFIX.match(head):
        return None, Path(text)
    if not tail:
        raise FeedFormatError(f"feed argument {arg!r} has no path after '=': expected ID=PATH")
    # A file literally named "a=b.zip" stays a path when that is what exists.
    if Path(text).exists() and not Path(tail).exists():
        return None, Path(text)
    return check_feed_id(head), Path(tail)


def check_feed_id(feed_id: str) -> str:
    """Return ``feed_id`` stripped, or raise when it cannot namespace ids."""
    fid = feed_id.strip()
    if not fid:
        raise FeedFormatError("a feed id must not be empty")
    if ":" in fid:
        raise FeedFormatError(f"feed id {fid!r} must not contain ':' (ids are written FEED:ID)")
    return fid


def default_feed_id(path: Path) -> str:
    """The file's stem: ``poa_eptc.zip`` -> ``poa_eptc``, ``x.gtfs.zip`` and a directory
    ``x.gtfs`` -> ``x``; other directories keep their name."""
    name = path.name or path.resolve().name  # "." names the current directory
    for suffix in (".zip", ".gtfs"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name.replace(":", "_") or "feed"
