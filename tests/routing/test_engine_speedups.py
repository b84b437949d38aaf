"""The engine's shortcuts change no answer: range rounds that scan only the candidates'
patterns, journeys built from plain lists, the first cheapest rental spot."""

from __future__ import annotations

import numpy as np

from routing.raptor import Journey, pareto
from routing.sharing.rental import _first_smallest
from tests.routing.text_timetable import TextFeed, parse

# three patterns through A and B (one of them a loop back through A), a slow and a fast
# way on from C, footpaths between the access stops: each departure of one pattern
# marks stops where the other patterns have trips too
SHARED_STOPS = """
    route R1 bus: A 10:00 B 10:06 C 10:15
    route R1 bus: A 10:10 B 10:16 C 10:25
    route R1 bus: A 10:20 B 10:26 C 10:35
    route R1 bus: A 10:40 B 10:46 C 10:55
    route R2 tram: B 10:03 C 10:09 D 10:30
    route R2 tram: B 10:23 C 10:29 D 10:50
    route R2 tram: B 10:43 C 10:49 D 11:10
    route R3 bus: A 10:05 E 10:09 B 10:12 A 10:20
    route R3 bus: A 10:35 E 10:39 B 10:42 A 10:50
    route R4 rail: C 10:18 D 10:24
    route R4 rail: C 10:38 D 10:44
    route R4 rail: C 10:58 D 11:04
    walk A E 200
    walk E B 240
"""


def _range_equals_pareto_of_single_departures(
    feed: TextFeed, acc: dict[str, int], egr: str, start: str, window_s: int
) -> list[Journey]:
    """The range query against the Pareto set of single-departure searches (whose one
    iteration scans every pattern at every stop) at each 10 s of the window: every walk
    and clock time of these feeds is a multiple of 10 s, so no departure is missed."""
    ranged = feed.search(acc, egr, start, window_s=window_s)
    h, m = (int(x) for x in start.split(":"))
    singles: list[Journey] = []
    for step in range(0, window_s + 1, 10):
        mm, ss = divmod(h * 3600 + m * 60 + step, 60)
        singles.extend(feed.search(acc, egr, f"{mm // 60:02d}:{mm % 60:02d}:{ss:02d}"))
    expected = sorted({(j.dep, j.arr, j.transfers) for j in pareto(singles)})
    assert sorted((j.dep, j.arr, j.transfers) for j in ranged) == expected
    return ranged


def test_range_query_over_shared_stops_is_the_pareto_set_of_single_departures() -> None:
    feed = parse(SHARED_STOPS)
    for acc in ({"A": 0}, {"A": 120, "B": 300}, {"A": 60, "E": 30, "B": 420}):
        for egr in ("C", "D"):
            journeys = _range_equals_pareto_of_single_departures(feed, acc, egr, "09:50", 3600)
            assert journeys, (acc, egr)


def test_range_query_keeps_the_later_departure_on_the_same_trip() -> None:
    # R1's 10:10 trip passes B at 10:16: from B (walk 5 min) one leaves at 10:11, later
    # than from A (10:10 - 2 min = 10:08); the range query must report the later start
    feed = parse(SHARED_STOPS)
    journeys = feed.search({"A": 120, "B": 300}, "C", "10:05", window_s=600)
    deps = {feed.text(j) for j in journeys}
    assert any("B ~ BUS R1 10:16 10:25 ~ C" in d for d in deps), deps
    assert not any("A ~ BUS R1 10:10 10:25 ~ C" in d for d in deps), deps


def test_first_smallest_takes_the_first_of_equal_spots() -> None:
    nodes = np.array([4, 7, 4, 4, 9], dtype=np.int32)
    secs = np.array([5.0, 1.0, 3.0, 3.0, 0.0])
    assert _first_smallest(nodes, 4, secs) == 2
    assert _first_smallest(nodes, 9, secs) == 4
    secs[0] = 3.0
    assert _first_smallest(nodes, 4, secs) == 0
