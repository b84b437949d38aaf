"""GTFS loader: one or several static GTFS feeds -> :class:`feeds.model.TransitData`."""

from feeds.gtfs.load import FeedArg, load_gtfs

__all__ = ["FeedArg", "load_gtfs"]
