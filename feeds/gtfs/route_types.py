"""GTFS ``route_type`` -> the project's mode names.

Basic types come from the GTFS reference; extended types are the Hierarchical Vehicle
Type codes (100-1700) Google Transit accepts, each mapped to the nearest basic mode
(coach kept apart from bus: it is a different product for a traveller).
"""

from __future__ import annotations

BASIC: dict[int, str] = {
    0: "tram",
    1: "subway",
    2: "rail",
    3: "bus",
    4: "ferry",
    5: "cable_car",
    6: "gondola",
    7: "funicular",
    11: "trolleybus",
    12: "monorail",
}

# Single extended codes that differ from their hundred.
_EXTENDED_EXACT: dict[int, str] = {
    405: "monorail",  # Urban Railway: Monorail
    1701: "cable_car",  # Miscellaneous: Cable Car (street cable tram, like basic 5)
}

# Extended hundreds: 100 Railway, 200 Coach, 300 Suburban Railway, 400 Urban Railway,
# 500 Metro, 600 Underground, 700 Bus, 800 Trolleybus, 900 Tram, 1000 Water Transport,
# 1200 Ferry, 1300 Aerial Lift, 1400 Funicular. 1100 Air, 1500 Taxi, 1600 Self Drive and
# 1700 Miscellaneous have no transit mode here.
_EXTENDED_HUNDREDS: dict[int, str] = {
    1: "rail",
    2: "coach",
    3: "rail",
    4: "subway",
    5: "subway",
    6: "subway",
    7: "bus",
    8: "trolleybus",
    9: "tram",
    10: "ferry",
    12: "ferry",
    13: "gondola",
    14: "funicular",
}

MODES: frozenset[str] = frozenset({*BASIC.values(), *_EXTENDED_HUNDREDS.values(), *_EXTENDED_EXACT.values()})


def route_mode(route_type: int) -> str | None:
    """The mode of a basic or extended route type; None when the type is unknown."""
    if route_type in BASIC:
        return BASIC[route_type]
    if route_type in _EXTENDED_EXACT:
        return _EXTENDED_EXACT[route_type]
    if route_type >= 100:
        return _EXTENDED_HUNDREDS.get(route_type // 100)
    return None
