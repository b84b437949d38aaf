"""A synthetic city of any size: GTFS, OSM, GBFS and GOFS that fit together.

Used by ``maas synth`` / ``maas demo``, by tests and by scale benchmarks::

    from feeds.synth import synth_city
    city = synth_city("out/", stops=5000, seed=7)
    city.gtfs, city.osm, city.gbfs, city.gofs
"""

from feeds.synth.city import SynthCity, synth_city

__all__ = ["SynthCity", "synth_city"]
