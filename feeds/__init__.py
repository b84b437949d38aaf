"""Sources -> validated, normalized model. No routing, no HTTP.

Loaders per format (GTFS, OSM, GBFS, GOFS) produce the columnar model in
:mod:`feeds.model`; :mod:`feeds.quality` holds the notices they report.
"""
