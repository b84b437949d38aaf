"""Shared mobility in routing: bike and scooter rentals (GBFS) and ride-hail (GOFS,
provider estimates) as direct trips and as first/last mile to transit.

- :mod:`routing.sharing.store`: what a build keeps of GBFS/GOFS in the artifact;
- :mod:`routing.sharing.overlay`: the live availability overlay and estimate providers;
- :mod:`routing.sharing.rental`: rental services and walk -> ride -> walk chains;
- :mod:`routing.sharing.ridehail`: ride-hail chains and legs;
- :mod:`routing.sharing.ranking`: one ranking of every option (Pareto, then sorted);
- :mod:`routing.sharing.prices`: an itinerary's price from its legs.
"""

from routing.sharing.overlay import SharingOverlay
from routing.sharing.prices import itinerary_price, known_cost
from routing.sharing.ranking import pareto, rank
from routing.sharing.rental import RENTAL_MODES, SharingOptions
from routing.sharing.store import StoredSharing, load_stored_sharing, read_sharing_inputs

SHARED_MODES = RENTAL_MODES | {"ridehail"}

__all__ = [
    "RENTAL_MODES",
    "SHARED_MODES",
    "SharingOptions",
    "SharingOverlay",
    "StoredSharing",
    "itinerary_price",
    "known_cost",
    "load_stored_sharing",
    "pareto",
    "rank",
    "read_sharing_inputs",
]
