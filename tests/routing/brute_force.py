"""Independent reference for transit searches, written plainly (shares nothing with the
engine): every trip is expanded on the service days date - 1, date, date + 1 into a
*run* with absolute times, and a Dijkstra runs over time-dependent states

    ("walked", stop, rides, w)  at a stop on foot (or from the origin), having walked w
                                seconds since the last ride (or the origin): may board at once
    ("alighted", stop, rides)   at a stop off a ride: may board after the change time
    ("on", run, pos, rides)     aboard a run, at position pos (key: departure there)
    ("dest", rides)             at the destination

with waiting allowed everywhere, so the first run leaving after a time is as good as
any later one (FIFO per stop). Keeping the ride count in the state makes it layered:
the best arrival with at most k rides is the minimum over the "dest" states with
rides <= k. Walking edges are the footpaths with transfers.txt applied (type 2 from a
stop to itself = change time, type 2 between stops = walk time, type 3 = no walk).

Walking limits (routing.raptor.TransitQuery): ``max_walk`` bounds each walk of
footpaths between two rides, after the last ride, and from the origin *with* the access
walk counted (the access alone is never cut; the egress is not counted); a ride starts
it afresh. Keeping the seconds walked in the state (w) makes this exact: two arrivals at
a stop with different walks behind them are different states. ``walk_only_max`` bounds
the journey that never rides (access + footpaths + egress), which is not a journey the
engine returns but dominates the transit journeys arriving later.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from feeds.model import TransitData

INFINITY = float("inf")


@dataclass(frozen=True)
class Run:
    trip: int  # row of TransitData.trips
    day: int  # 0: date - 1, 1: date, 2: date + 1
    mode: str
    wheelchair: int
    stops: tuple[int, ...]
    arr: tuple[int, ...]  # seconds rel. ref_utc
    dep: tuple[int, ...]
    board: tuple[bool, ...]
    alight: tuple[bool, ...]


class BruteForce:
    def __init__(
        self,
        data: TransitData,
        walk_from: np.ndarray,
        walk_to: np.ndarray,
        walk_s: np.ndarray,
        date: dt.date,
        ref_utc: int,
    ) -> None:
        self.data = data
        self.runs: list[Run] = []
        self.run_of: dict[tuple[int, int], Run] = {}
        services = data.services
        trips = data.trips
        st = data.stop_times
        for day in range(3):
            d = date + dt.timedelta(days=day - 1)
            col = (d - services.base_date).days
            if not 0 <= col < services.active.shape[1]:
                continue
            for t in range(len(trips)):
                if not services.active[trips.service[t], col]:
                    continue
                route = data.routes[trips.route[t]]
                zone = ZoneInfo(data.agencies[route.agency].timezone)
                noon = dt.datetime.combine(d, dt.time(12), tzinfo=zone)
                start = int(noon.timestamp()) - 12 * 3600 - ref_utc
                rows = range(int(trips.st_offset[t]), int(trips.st_offset[t + 1]))
                run = Run(
                    trip=t,
                    day=day,
                    mode=route.mode,
                    wheelchair=int(trips.wheelchair[t]),
                    stops=tuple(int(st.stop[i]) for i in rows),
                    arr=tuple(start + int(st.arrival[i]) for i in rows),
                    dep=tuple(start + int(st.departure[i]) for i in rows),
                    board=tuple(int(st.pickup[i]) != 1 for i in rows),
                    alight=tuple(int(st.drop_off[i]) != 1 for i in rows),
                )
                self.runs.append(run)
                self.run_of[(t, day)] = run
        self.calls: dict[int, list[tuple[Run, int]]] = defaultdict(list)
        for run in self.runs:
            for pos, s in enumerate(run.stops):
                self.calls[s].append((run, pos))

        walk: dict[tuple[int, int], int] = {}
        for a, b, s in zip(walk_from.tolist(), walk_to.tolist(), walk_s.tolist(), strict=True):
            if a != b:
                walk[(a, b)] = min(s, walk.get((a, b), s))
        self.change: dict[int, int] = defaultdict(int)
        given: dict[tuple[int, int], int] = {}
        removed: set[tuple[int, int]] = set()
        tr = data.transfers
        rows = zip(
            tr.from_stop.tolist(),
            tr.to_stop.tolist(),
            tr.transfer_type.tolist(),
            tr.min_time.tolist(),
            strict=True,
        )
        for a, b, kind, m in rows:
            if kind == 2 and m >= 0 and a == b:
                self.change[a] = max(self.change[a], m)
            elif kind == 2 and m >= 0:
                given[(a, b)] = max(m, given.get((a, b), m))
            elif kind == 3 and a != b:
                removed.add((a, b))
        walk.update(given)
        for pair in removed:
            walk.pop(pair, None)
        self.walk_time = walk
        self.walks: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for (a, b), s in walk.items():
            self.walks[a].append((b, s))

    def search(
        self,
        access: dict[int, int],
        egress: dict[int, int],
        t0: int,
        max_rides: int,
        wheelchair: bool = False,
        modes: set[str] | None = None,
        max_walk: int = -1,
        walk_only_max: int = -1,
    ) -> list[float]:
        """Best arrival at the destination with at most k rides, for k = 0..max_rides
        (k = 0: walking only); inf when unreachable. Limits of -1 are no limits."""
        stop_wc = self.data.stops.wheelchair

        def run_ok(run: Run) -> bool:
            return (modes is None or run.mode in modes) and (not wheelchair or run.wheelchair == 1)

        def stop_ok(s: int) -> bool:
            return not wheelchair or int(stop_wc[s]) != 2

        dist: dict[tuple[object, ...], int] = {}
        heap: list[tuple[int, int, tuple[object, ...]]] = []
        counter = 0

        def reach(state: tuple[object, ...], t: int) -> None:
            nonlocal counter
            if t < dist.get(state, INFINITY):
                dist[state] = t
                counter += 1
                heapq.heappush(heap, (t, counter, state))

        limited = max_walk >= 0  # else the seconds walked stay 0: no limit to track
        for s, a in access.items():
            reach(("walked", s, 0, a if limited else 0), t0 + a)
        while heap:
            t, _, state = heapq.heappop(heap)
            if t > dist[state]:
                continue
            kind = state[0]
            if kind in ("walked", "alighted"):
                s, rides = int(state[1]), int(state[2])  # type: ignore[call-overload]
                walked = int(state[3]) if kind == "walked" else 0  # type: ignore[call-overload]
                if s in egress:
                    arrival = t + egress[s]
                    if rides > 0 or walk_only_max < 0 or arrival - t0 <= walk_only_max:
                        reach(("dest", rides), arrival)
                for s2, w in self.walks[s]:
                    if not limited:
                        reach(("walked", s2, rides, 0), t + w)
                    elif walked + w <= max_walk:
                        reach(("walked", s2, rides, walked + w), t + w)
                ready = t + (self.change[s] if kind == "alighted" else 0)
                if rides < max_rides and stop_ok(s):
                    for run, pos in self.calls[s]:
                        if (
                            run.board[pos]
                            and run.dep[pos] >= ready
                            and pos + 1 < len(run.stops)
                            and run_ok(run)
                        ):
                            reach(("on", run, pos, rides + 1), run.dep[pos])
            elif kind == "on":
                run, pos, rides = state[1], int(state[2]), int(state[3])  # type: ignore[call-overload]
                assert isinstance(run, Run)
                nxt = pos + 1
                if nxt < len(run.stops):
                    if run.alight[nxt] and stop_ok(run.stops[nxt]):
                        reach(("alighted", run.stops[nxt], rides), run.arr[nxt])
                    reach(("on", run, nxt, rides), run.dep[nxt])
        best = [dist.get(("dest", r), INFINITY) for r in range(max_rides + 1)]
        for r in range(1, max_rides + 1):
            best[r] = min(best[r], best[r - 1])
        return best

    def walk_only(
        self, access: dict[int, int], egress: dict[int, int], max_walk: int = -1, walk_only_max: int = -1
    ) -> float:
        """Seconds from the origin to the destination on foot through stops (inf if none)."""
        return self.search(access, egress, 0, 0, max_walk=max_walk, walk_only_max=walk_only_max)[0]

    def problems(
        self,
        segments: list[tuple[str, int, int, int, int, int, int, int, int]],
        access: dict[int, int],
        egress: dict[int, int],
        wheelchair: bool = False,
        modes: set[str] | None = None,
        max_walk: int = -1,
    ) -> list[str]:
        """What is wrong with a journey given as (kind, from, to, dep, arr, data trip row,
        board_pos, alight_pos, day) tuples; empty when it can be travelled as told."""
        out: list[str] = []
        walked = 0  # seconds on foot since the last ride (or the origin, access included)
        stop_wc = self.data.stops.wheelchair
        if not segments or segments[0][0] != "access" or segments[-1][0] != "egress":
            return ["a journey starts with an access and ends with an egress"]
        prev: tuple[str, int, int, int, int, int, int, int, int] | None = None
        for seg in segments:
            kind, a, b, dep, arr, trip, bp, ap, day = seg
            if prev is not None:
                if prev[2] != a:
                    out.append(f"{kind} starts at {a}, the previous segment ended at {prev[2]}")
                ready = prev[4] + (self.change[a] if prev[0] == "ride" and kind == "ride" else 0)
                if dep < ready:
                    out.append(f"{kind} leaves {a} at {dep}, before {ready}")
            walked = 0 if kind == "ride" else walked + (arr - dep)
            if kind == "transfer" and max_walk >= 0 and walked > max_walk:
                out.append(f"walk to {b} makes {walked}s on foot, the limit is {max_walk}s")
            if kind == "access":
                if a != -1 or access.get(b) != arr - dep:
                    out.append(f"access to {b} takes {arr - dep}s, the query says {access.get(b)}")
            elif kind == "egress":
                if b != -1 or egress.get(a) != arr - dep:
                    out.append(f"egress from {a} takes {arr - dep}s, the query says {egress.get(a)}")
            elif kind == "transfer":
                if self.walk_time.get((a, b)) != arr - dep:
                    out.append(f"walk {a}->{b} takes {arr - dep}s, footpath is {self.walk_time.get((a, b))}")
            else:
                run = self.run_of.get((trip, day))
                if run is None:
                    out.append(f"trip {trip} does not run on service day {day}")
                elif not (0 <= bp < ap < len(run.stops)):
                    out.append(f"ride positions {bp}->{ap} invalid")
                else:
                    if (run.stops[bp], run.stops[ap]) != (a, b):
                        out.append(f"trip {trip} goes {run.stops[bp]}->{run.stops[ap]}, ride says {a}->{b}")
                    if (run.dep[bp], run.arr[ap]) != (dep, arr):
                        out.append(f"trip {trip} times {run.dep[bp]}->{run.arr[ap]}, ride says {dep}->{arr}")
                    if not run.board[bp] or not run.alight[ap]:
                        out.append(f"trip {trip} does not allow boarding at {bp} / alighting at {ap}")
                    if modes is not None and run.mode not in modes:
                        out.append(f"trip {trip} is a {run.mode}, not allowed")
                    if wheelchair and (run.wheelchair != 1 or int(stop_wc[a]) == 2 or int(stop_wc[b]) == 2):
                        out.append(f"ride on trip {trip} is not wheelchair accessible")
            if arr < dep:
                out.append(f"{kind} ends before it starts")
            prev = seg
        return out
