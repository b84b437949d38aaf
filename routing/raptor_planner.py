"""The built-in engine: street access/egress + compiled RAPTOR + itinerary legs.

Places become sets of access (egress) stops with walking times from a bounded street
Dijkstra; the transit search (:mod:`routing.raptor`) returns Pareto-optimal journeys as
segments, which become legs here with names, geometry and local times.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import time
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

from feeds.geo import haversine_m
from routing.graph import Graph
from routing.plan import (
    Itinerary,
    Leg,
    LegPlace,
    Money,
    Place,
    PlanRequest,
    PlanResult,
    Reason,
)
from routing.polyline import encode
from routing.raptor import Journey, Segment, TransitQuery, search
from routing.service_days import ServiceDayContext, service_day_context
from routing.sharing import SHARED_MODES, SharingOptions, SharingOverlay, itinerary_price, known_cost, rank
from routing.sharing.rental import (
    RentalChain,
    RentalService,
    ServiceBuilder,
    forward_chain,
    reverse_chain,
    to_legs,
)
from routing.sharing.ridehail import (
    MAX_HAIL_ACCESS_S,
    HailChain,
    best_product,
    direct_hail,
    estimates,
    hail_chain,
)
from routing.sharing.store import DOCUMENT as SHARING_DOCUMENT
from routing.sharing.store import load_stored_sharing
from routing.streets import (
    BIKE,
    CAR,
    WALK,
    StreetGraph,
    path_between,
    path_edges,
    path_geometry,
    path_length_m,
    shortest_times,
)

DETOUR = 1.3  # straight-line distance x this ~ street distance, where no street path is known
SNAP_MAX_M = 500.0  # a coordinate farther than this from any street is outside coverage
CAR_CO2_G_PER_KM = 170.0
TRANSIT_CO2_G_PER_KM = {"bus": 80.0, "trolleybus": 30.0, "tram": 30.0, "subway": 30.0, "rail": 35.0, "ferry": 120.0}


@dataclass(frozen=True)
class EngineOptions:
    walk_mps: float = 1.33
    bike_mps: float = 4.5
    max_transfers: int = 6
    # long enough to reach the first morning service from a query in the night
    max_duration_s: int = 12 * 3600


@dataclass
class Reach:
    """Result of one street search around a place: what :meth:`RaptorPlanner.reach` gives
    the planner's access and egress (and the analysis matrices, so that both walk alike)."""

    node: int  # snapped street node, -1 when none
    snap_m: float
    times: np.ndarray | None  # seconds per street node
    pred: np.ndarray | None
    stops: np.ndarray  # int32 stop indices
    stop_s: np.ndarray  # int32 seconds
    place: LegPlace
    stop_place: int = -1  # the stop itself, when the place is a stop


Via = RentalChain | HailChain  # how an access or egress stop is reached, when not on foot


class RaptorPlanner:
    name = "raptor"

    def __init__(self, graph: Graph, options: EngineOptions | None = None, sharing: SharingOverlay | None = None) -> None:
        self.graph = graph
        self.options = options or EngineOptions()
        # the live overlay: given, or built from the GBFS/GOFS the artifact holds
        self.sharing = sharing if sharing is not None else SharingOverlay.from_stored(
            load_stored_sharing(graph.artifact.documents.get(SHARING_DOCUMENT))
        )
        self.sharing_options = SharingOptions(walk_mps=self.options.walk_mps, bike_mps=self.options.bike_mps)
        self._services_cache: tuple[object, frozenset[str], list[RentalService]] | None = None
        self._stop_places: dict[int, LegPlace] = {}  # legs name every stop they pass
        self._builder: ServiceBuilder | None = None
        self.zone = ZoneInfo(graph.timezone)
        tt = graph.timetable
        # stops that some pattern serves: the only useful access/egress stops
        self._served = np.zeros(graph.n_stops, dtype=np.bool_)
        self._served[np.asarray(tt.pattern_stops)] = True
        node = np.asarray(graph.stop_node)
        self._linked_stops = np.flatnonzero((node >= 0) & self._served).astype(np.int32)
        self._linked_nodes = node[self._linked_stops]
        self._linked_link_m = np.asarray(graph.stop_link_m, dtype=np.float64)[self._linked_stops]
        self._unlinked_stops = np.flatnonzero((node < 0) & self._served).astype(np.int32)
        # node -> linked stops (a node may carry several stops)
        order = np.argsort(self._linked_nodes, kind="stable")
        self._by_node_nodes = self._linked_nodes[order]
        self._by_node_stops = self._linked_stops[order]

    # -- public -------------------------------------------------------------------------

    def plan(self, request: PlanRequest) -> PlanResult:
        t0 = time.perf_counter()
        g = self.graph
        walk = self.options.walk_mps
        max_walk_s = request.max_walk_m / walk
        origin = self.reach(request.origin, max_walk_s, reverse=False)
        if isinstance(origin, str):
            return self._empty(origin)
        dest = self.reach(request.destination, max_walk_s, reverse=True)
        if isinstance(dest, str):
            return self._empty(dest)
        t_access = time.perf_counter()

        ref = int(request.time.timestamp())
        local_date = request.time.astimezone(self.zone).date()
        ctx = service_day_context(g.timetable, g.meta, local_date, ref)
        candidates: list[_Candidate] = []
        reason: Reason | None = None
        transit_modes = request.transit_modes
        if transit_modes and origin.stops.size and dest.stops.size:
            mask = 0
            for bit, name in enumerate(g.meta.mode_names):
                if name in transit_modes:
                    mask |= 1 << bit
            query = TransitQuery(
                access_stops=origin.stops,
                access_s=origin.stop_s,
                egress_stops=dest.stops,
                egress_s=dest.stop_s,
                time=0,
                window_s=request.window_s,
                arrive_by=request.arrive_by,
                max_transfers=self.options.max_transfers,
                wheelchair=request.wheelchair,
                allowed_modes=mask,
                walk_only_max_s=int(max_walk_s) if "walk" in request.modes else 0,
                max_walk_s=int(max_walk_s),
                max_duration_s=self.options.max_duration_s,
            )
            for j in search(g.timetable, ctx, query):
                walk_s = sum(s.arr - s.dep for s in j.segments if s.kind != "ride")
                candidates.append(_Candidate(j.dep, j.arr, j.transfers, walk_s, j, None))
        base_query = query if transit_modes and origin.stops.size and dest.stops.size else None
        # paid options never make the free walk pointless: kept apart until the ranking
        shared = self._shared(request, origin, dest, ctx, base_query, ref, local_date)
        t_transit = time.perf_counter()

        walk_dominated = self._walk_dominated(request, origin, dest, candidates)
        direct = self._direct(request, origin, dest, walk_dominated)
        if (
            "walk" in request.modes
            and not walk_dominated
            and not any(c.direct and c.direct.mode == "walk" for c in direct)
        ):
            # no street path (a place off the street extract): walk through stops instead,
            # on the same footpaths the transit search uses
            # a one-ride journey arriving earlier with less walking beats any longer walk
            bound = min([max_walk_s] + [float(c.arr - c.dep) for c in candidates if c.transfers == 0])
            via_stops = self._walk_via_stops(origin, dest, bound, request.arrive_by)
            if via_stops is not None:
                direct.append(via_stops)
        candidates.extend(direct)
        candidates.extend(shared)
        # legs (names, geometry) only for the itineraries that are kept
        kept = rank(candidates, request.arrive_by, request.num_itineraries)
        itineraries = [
            c.built
            if c.built is not None
            else self._itinerary(c.journey, origin, dest, ref, local_date, c.vias or (None, None))
            if c.journey is not None
            else self._direct_itinerary(c, origin, dest, ref)
            for c in kept
        ]
        if not itineraries:
            if not bool(ctx.day_active[1].any()) and not bool(ctx.day_active[0].any()):
                reason = "no_service_on_date"
            else:
                reason = "no_connection"
        return PlanResult(
            itineraries=tuple(itineraries),
            graph_version=g.version,
            reason=reason,
            timing_ms={
                "access": round((t_access - t0) * 1e3, 3),
                "transit": round((t_transit - t_access) * 1e3, 3),
                "total": round((time.perf_counter() - t0) * 1e3, 3),
            },
        )

    @cached_property
    def _footpaths(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """The footpath graph as plain lists, for the walk-through-stops search."""
        tt = self.graph.timetable
        return (
            np.asarray(tt.transfer_offset).tolist(),
            np.asarray(tt.transfer_target).tolist(),
            np.asarray(tt.transfer_s).tolist(),
            np.asarray(tt.transfer_source).tolist(),
        )

    # -- places -------------------------------------------------------------------------

    def _empty(self, reason: Reason) -> PlanResult:
        return PlanResult(itineraries=(), graph_version=self.graph.version, reason=reason)

    def reach(self, place: Place, max_s: float, *, reverse: bool) -> Reach | Reason:
        """The stops reachable on foot from ``place`` (``reverse``: to it) within ``max_s``
        seconds, with the street search behind them, or why there are none."""
        g = self.graph
        walk = self.options.walk_mps
        if place.stop_id is not None:
            i = g.stop_index(place.stop_id)
            if i is None:
                return "unknown_stop"
            stops = np.array([s for s in g.members(i) if self._served[s]], dtype=np.int32)
            view = g.stop(i)
            lp = LegPlace(view.name, view.lat, view.lon, view.id)
            node = int(g.stop_node[i])
            return Reach(node, float(g.stop_link_m[i]) if node >= 0 else 0.0, None, None,
                          stops, np.zeros(stops.size, dtype=np.int32), lp, stop_place=i)
        assert place.lat is not None and place.lon is not None
        lat, lon = place.lat, place.lon
        lp = LegPlace("Origin" if not reverse else "Destination", lat, lon)
        node, snap_m = -1, np.inf
        if g.streets is not None and g.street_index is not None:
            node, snap_m = g.street_index.nearest(lat, lon, SNAP_MAX_M)
        stops_parts: list[np.ndarray] = []
        secs_parts: list[np.ndarray] = []
        times = pred = None
        if node >= 0 and g.streets is not None:
            times, pred = shortest_times(
                g.streets, np.array([node], dtype=np.int32), np.array([snap_m / walk], dtype=np.float64),
                WALK, walk, max_s, reverse=reverse,
            )
            t_at = times[self._linked_nodes] + np.asarray(g.stop_link_m)[self._linked_stops] / walk
            ok = np.isfinite(t_at) & (t_at <= max_s)
            stops_parts.append(self._linked_stops[ok])
            secs_parts.append(np.ceil(t_at[ok]).astype(np.int32))
        # stops off the street network (or no streets at all): straight line with a detour factor
        cand = self._unlinked_stops if node >= 0 else np.flatnonzero(self._served).astype(np.int32)
        if cand.size:
            d = haversine_m(lat, lon, np.asarray(g.stop_lat)[cand], np.asarray(g.stop_lon)[cand]) * DETOUR
            ok = d / walk <= max_s
            stops_parts.append(cand[ok])
            secs_parts.append(np.ceil(d[ok] / walk).astype(np.int32))
        stops = np.concatenate(stops_parts) if stops_parts else np.zeros(0, np.int32)
        secs = np.concatenate(secs_parts) if secs_parts else np.zeros(0, np.int32)
        if node < 0 and stops.size == 0:
            return "outside_coverage"
        return Reach(int(node), float(snap_m), times, pred, stops.astype(np.int32), secs.astype(np.int32), lp)

    # -- legs ---------------------------------------------------------------------------

    def _t(self, ref: int, rel: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ref + rel, self.zone)

    def _stop_place(self, s: int) -> LegPlace:
        place = self._stop_places.get(s)
        if place is None:
            v = self.graph.stop(s)
            place = self._stop_places[s] = LegPlace(v.name, v.lat, v.lon, v.id)
        return place

    def _street_path(self, reach: Reach, stop: int, *, reverse: bool) -> tuple[list[float], list[float], float]:
        """Geometry and length of the walk between a place and a stop of its reach."""
        g = self.graph
        s_lat, s_lon = float(g.stop_lat[stop]), float(g.stop_lon[stop])
        p_lat, p_lon = reach.place.lat, reach.place.lon
        node = int(g.stop_node[stop])
        if reach.pred is None or g.streets is None or node < 0 or not np.isfinite(reach.times[node]):  # type: ignore[index]
            d = float(haversine_m(p_lat, p_lon, np.array([s_lat]), np.array([s_lon]))[0]) * DETOUR
            lats, lons = [p_lat, s_lat], [p_lon, s_lon]
            return (lats[::-1], lons[::-1], d) if reverse else (lats, lons, d)
        edges = path_edges(reach.pred, g.streets, node, reverse=reverse)
        length = path_length_m(g.streets, edges) + reach.snap_m + float(g.stop_link_m[stop])
        if reverse:  # edges run from the stop's node towards the place's node
            return (*_framed(g.streets, edges, node, (s_lat, s_lon), (p_lat, p_lon)), length)
        return (*_framed(g.streets, edges, reach.node, (p_lat, p_lon), (s_lat, s_lon)), length)

    def _walk_between(self, a: int, b: int, seconds: int) -> tuple[list[float], list[float], float]:
        g = self.graph
        na, nb = int(g.stop_node[a]), int(g.stop_node[b])
        la, oa, lb, ob = float(g.stop_lat[a]), float(g.stop_lon[a]), float(g.stop_lat[b]), float(g.stop_lon[b])
        if g.streets is not None and na >= 0 and nb >= 0:
            secs, edges = path_between(g.streets, na, nb, WALK, self.options.walk_mps, float(seconds) + 60.0)
            if np.isfinite(secs):
                length = path_length_m(g.streets, edges) + float(g.stop_link_m[a]) + float(g.stop_link_m[b])
                return (*_framed(g.streets, edges, na, (la, oa), (lb, ob)), length)
        d = float(haversine_m(la, oa, np.array([lb]), np.array([ob]))[0]) * DETOUR
        return [la, lb], [oa, ob], d

    def _ride_leg(self, seg: Segment, ref: int, local_date: dt.date) -> Leg:
        g = self.graph
        tt = g.timetable
        t = seg.trip
        src = int(tt.trip_source[t])
        p = seg.pattern
        pstops = np.asarray(tt.pattern_stops[tt.pattern_stop_offset[p] : tt.pattern_stop_offset[p + 1]])
        route = int(g.trip_route[src])
        stops_on = [int(s) for s in pstops[seg.board_pos : seg.alight_pos + 1]]
        lats = [float(g.stop_lat[s]) for s in stops_on]
        lons = [float(g.stop_lon[s]) for s in stops_on]
        shape = int(g.trip_shape[src])
        if shape >= 0:
            lats, lons = self._shape_slice(shape, lats, lons)
        la, lo = np.array(lats), np.array(lons)
        dist = float(np.sum(haversine_m(la[:-1], lo[:-1], la[1:], lo[1:])))
        day_offset = int(seg.day) - 1
        inter = tuple(self._stop_place(s) for s in stops_on[1:-1])
        return Leg(
            mode=g.route_mode(route),
            from_place=self._stop_place(stops_on[0]),
            to_place=self._stop_place(stops_on[-1]),
            start_time=self._t(ref, seg.dep),
            end_time=self._t(ref, seg.arr),
            distance_m=dist,
            polyline=encode(lats, lons),
            route=g.route_info(route),
            trip_id=g.trip_ids[src],
            service_date=local_date + dt.timedelta(days=day_offset),
            # feeds without trip_headsign (TriMet's) still tell the rider where it goes
            headsign=g.trip_headsigns[src] or g.stop_names[int(pstops[-1])],
            intermediate_stops=inter,
        )

    def _shape_slice(self, shape: int, lats: list[float], lons: list[float]) -> tuple[list[float], list[float]]:
        """The part of a shape between the boarding and alighting stops (nearest points)."""
        g = self.graph
        a, b = int(g.shape_offset[shape]), int(g.shape_offset[shape + 1])
        slat, slon = np.asarray(g.shape_lat[a:b]), np.asarray(g.shape_lon[a:b])
        if slat.size < 2:
            return lats, lons
        i = int(np.argmin(haversine_m(lats[0], lons[0], slat, slon)))
        j_rel = int(np.argmin(haversine_m(lats[-1], lons[-1], slat[i:], slon[i:])))
        j = i + j_rel
        if j <= i:
            return lats, lons
        return ([lats[0], *slat[i : j + 1].tolist(), lats[-1]], [lons[0], *slon[i : j + 1].tolist(), lons[-1]])

    def _itinerary(
        self, j: Journey, origin: Reach, dest: Reach, ref: int, local_date: dt.date,
        vias: tuple[Via | None, Via | None] = (None, None),
    ) -> Itinerary:
        legs: list[Leg] = []
        walk_m = 0.0
        segs = list(j.segments)
        i = 0
        while i < len(segs):
            seg = segs[i]
            if seg.kind == "ride":
                legs.append(self._ride_leg(seg, ref, local_date))
                i += 1
                continue
            if seg.kind in ("access", "egress") and vias[seg.kind == "egress"] is not None:
                via = vias[seg.kind == "egress"]
                assert via is not None
                stop = seg.to_stop if seg.kind == "access" else seg.from_stop
                shared = self._via_legs(via, stop, seg, ref)
                walk_m += sum(leg.distance_m for leg in shared if leg.mode == "walk")
                legs.extend(shared)
                i += 1
                continue
            if seg.kind == "access":
                if origin.stop_place >= 0 and seg.arr == seg.dep:
                    i += 1
                    continue
                lats, lons, d = self._street_path(origin, seg.to_stop, reverse=False)
                frm, to = origin.place, self._stop_place(seg.to_stop)
                start, end = seg.dep, seg.arr
                i += 1
            elif seg.kind == "egress":
                if dest.stop_place >= 0 and seg.arr == seg.dep:
                    i += 1
                    continue
                lats, lons, d = self._street_path(dest, seg.from_stop, reverse=True)
                frm, to = self._stop_place(seg.from_stop), dest.place
                start, end = seg.dep, seg.arr
                i += 1
            else:  # one or several chained transfers become one walk leg
                first = seg
                lats, lons, d = [], [], 0.0
                while i < len(segs) and segs[i].kind == "transfer":
                    s = segs[i]
                    la, lo, dd = self._walk_between(s.from_stop, s.to_stop, s.arr - s.dep)
                    lats += la
                    lons += lo
                    d += dd
                    i += 1
                last = segs[i - 1]
                frm, to = self._stop_place(first.from_stop), self._stop_place(last.to_stop)
                start, end = first.dep, last.arr
            walk_m += d
            legs.append(
                Leg(mode="walk", from_place=frm, to_place=to, start_time=self._t(ref, start),
                    end_time=self._t(ref, end), distance_m=d, polyline=encode(lats, lons))
            )
        co2 = sum(TRANSIT_CO2_G_PER_KM.get(leg.mode, 50.0) * leg.distance_m / 1000 for leg in legs if leg.route)
        co2 += sum(CAR_CO2_G_PER_KM * leg.distance_m / 1000 for leg in legs if leg.mode == "ridehail")
        return Itinerary(legs=tuple(legs), transfers=j.transfers, walk_distance_m=walk_m, co2_g=co2,
                         price=itinerary_price(legs))

    # -- shared mobility ------------------------------------------------------------------

    def _services(self, modes: frozenset[str]) -> list[RentalService]:
        """Rental services of the current availability snapshot (rebuilt when it changes)."""
        g = self.graph
        if g.streets is None or g.street_index is None or not self.sharing.systems:
            return []
        token = self.sharing.token
        cached = self._services_cache
        if cached is not None and cached[0] == token and cached[1] == modes:
            return cached[2]
        if self._builder is None:
            self._builder = ServiceBuilder(g.streets, g.street_index, self.sharing_options)
        services: list[RentalService] = []
        for live, status in zip(self.sharing.systems, self.sharing.statuses(), strict=True):
            services.extend(self._builder.services(live.feed, status, modes))
        self._services_cache = (token, modes, services)
        return services

    def _shared(
        self, request: PlanRequest, origin: Reach, dest: Reach, ctx: ServiceDayContext, base: TransitQuery | None,
        ref: int, local_date: dt.date,
    ) -> list[_Candidate]:
        """Bike/scooter rentals and ride-hail: direct, and as first/last mile to transit."""
        g = self.graph
        modes = request.modes & SHARED_MODES
        streets = g.streets
        if (not modes or not self.sharing or streets is None or origin.times is None or dest.times is None
                or origin.pred is None or dest.pred is None or origin.node < 0 or dest.node < 0):
            return []  # shared modes start and end at coordinates on the street network
        opts = self.sharing_options
        out: list[_Candidate] = []

        def to_time(rel: float) -> dt.datetime:
            return self._t(ref, round(rel))

        straight = float(haversine_m(origin.place.lat, origin.place.lon, np.array([dest.place.lat]),
                                     np.array([dest.place.lon]))[0])
        # search only as far as the direct trip or a first/last mile can need
        access = opts.max_access_s if base is not None else 0.0
        rentals: dict[str, tuple[list[Via], list[Via]]] = {}
        for svc in self._services(modes):
            # riding the straight line with a detour, plus up to 10 minutes' walk at each end
            need = straight * DETOUR / svc.speed_mps + opts.unlock_s + opts.return_s + 1200
            fc = forward_chain(svc, streets, origin.times, origin.pred, origin.place, origin.node, origin.snap_m, opts,
                               min(opts.max_chain_s, max(access, need)))
            if fc is not None and np.isfinite(fc.times[dest.node]):
                secs = int(np.ceil(fc.seconds_at(dest.node, dest.snap_m)))
                start = -secs if request.arrive_by else 0
                out.append(self._built(to_legs(fc.pieces(dest.node, dest.snap_m, dest.place), svc, start, to_time), 0, ref))
            if base is None:
                continue
            rc = reverse_chain(svc, streets, dest.times, dest.pred, dest.place, dest.node, dest.snap_m, opts, access)
            accs, egrs = rentals.setdefault(svc.mode, ([], []))
            if fc is not None:
                accs.append(fc)
            if rc is not None:
                egrs.append(rc)
        hails: tuple[list[Via], list[Via]] = ([], [])
        if "ridehail" in modes and self.sharing.providers:
            product = best_product(estimates(self.sharing.providers, origin.place, dest.place, request.time))
            if product is not None:
                leg = direct_hail(product, streets, origin.place, origin.node, dest.place, dest.node, request.time,
                                  arrive_by=request.arrive_by)
                if leg is not None:
                    out.append(self._built([leg], 0, ref))
                if base is not None:
                    hails[0].append(hail_chain(product, streets, origin.place, origin.node, opts.walk_mps,
                                               reverse=False, bound=MAX_HAIL_ACCESS_S))
                    hails[1].append(hail_chain(product, streets, dest.place, dest.node, opts.walk_mps, reverse=True,
                                               bound=MAX_HAIL_ACCESS_S))
        if base is not None:
            # one transit search per shared mode (its services merged: the fastest per stop),
            # so bike+train is ranked beside taxi+train instead of hidden by it
            for accs, egrs in (*rentals.values(), hails):
                if accs or egrs:
                    out.extend(self._via_search(base, ctx, origin, dest, accs, egrs, ref, local_date))
        return out

    def _built(self, legs: list[Leg], transfers: int, ref: int) -> _Candidate:
        it = Itinerary(legs=tuple(legs), transfers=transfers,
                       walk_distance_m=sum(leg.distance_m for leg in legs if leg.mode == "walk"),
                       price=itinerary_price(legs),
                       co2_g=sum(CAR_CO2_G_PER_KM * leg.distance_m / 1000 for leg in legs if leg.mode == "ridehail"))
        return self._candidate_of(it, ref)

    def _candidate_of(self, it: Itinerary, ref: int) -> _Candidate:
        """A direct shared option, ranked like kernel journeys (seconds relative to ``ref``);
        a ride-hail trip departs when it is requested, not at pickup."""
        dep = round(it.start_time.timestamp()) - ref - (it.legs[0].pickup_wait_s or 0)
        arr = round(it.end_time.timestamp()) - ref
        walk_s = int(sum((leg.end_time - leg.start_time).total_seconds() for leg in it.legs if leg.mode == "walk"))
        modes = sorted({"transit" if leg.route is not None else leg.mode for leg in it.legs} - {"walk"})
        return _Candidate(dep, arr, it.transfers, walk_s, None, None, cost=known_cost(it.legs),
                          mix="+".join(modes) or "walk", built=it)

    def _combined(self, reach: Reach, vias: list[Via]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Access (egress) stops on foot, or through one of ``vias`` where that is faster:
        the arrays for the kernel and, per stop, the index of the via used (-1: on foot)."""
        n = self.graph.n_stops
        used = np.full(n, -1, dtype=np.int32)
        if not vias:
            return reach.stops, reach.stop_s, used
        none = np.iinfo(np.int64).max
        best = np.full(n, none, dtype=np.int64)
        np.minimum.at(best, reach.stops, reach.stop_s.astype(np.int64))
        for k, via in enumerate(vias):
            secs = via.stop_seconds(self._linked_nodes, self._linked_link_m)
            ok = np.isfinite(secs)
            cand = self._linked_stops[ok]
            t = np.ceil(secs[ok]).astype(np.int64)
            better = t < best[cand]
            used[cand[better]] = k
            best[cand[better]] = t[better]
        stops = np.flatnonzero(best < none).astype(np.int32)
        return stops, best[stops].astype(np.int32), used

    def _via_search(
        self, base: TransitQuery, ctx: ServiceDayContext, origin: Reach, dest: Reach, accs: list[Via], egrs: list[Via],
        ref: int, local_date: dt.date,
    ) -> list[_Candidate]:
        a_stops, a_s, a_used = self._combined(origin, accs)
        e_stops, e_s, e_used = self._combined(dest, egrs)
        if not (a_used >= 0).any() and not (e_used >= 0).any():
            return []
        # vehicles are where the live feed says they are now: one departure, not a range
        q = dataclasses.replace(base, access_stops=a_stops, access_s=a_s, egress_stops=e_stops, egress_s=e_s,
                                window_s=0)
        out = []
        for j in search(self.graph.timetable, ctx, q):
            first, last = j.segments[0], j.segments[-1]
            ka = int(a_used[first.to_stop]) if first.kind == "access" else -1
            ke = int(e_used[last.from_stop]) if last.kind == "egress" else -1
            if ka < 0 and ke < 0:
                continue  # the same journey the walking search found
            vias = (accs[ka] if ka >= 0 else None, egrs[ke] if ke >= 0 else None)
            # rank on price and walking first; legs only for the options kept
            cost, walk_s = 0.0, 0.0
            for via, seg in ((vias[0], first), (vias[1], last)):
                if via is None:
                    walk_s += seg.arr - seg.dep if seg.kind in ("access", "egress") else 0
                    continue
                stop = seg.to_stop if seg.kind == "access" else seg.from_stop
                price, walked = self._quote(via, stop, ref + seg.dep)
                cost += price.amount if price is not None else 0.0
                walk_s += walked
            walk_s += sum(s.arr - s.dep for s in j.segments if s.kind == "transfer")
            mix = "+".join(sorted({"transit", *(v.mode for v in vias if v is not None)}))
            out.append(_Candidate(j.dep, j.arr, j.transfers, int(walk_s), j, None, cost=cost, mix=mix, vias=vias))
        return out

    def _quote(self, via: Via, stop: int, when: int) -> tuple[Money | None, float]:
        g = self.graph
        node, link_m = int(g.stop_node[stop]), float(g.stop_link_m[stop])
        if isinstance(via, HailChain):
            return via.quote(self._stop_place(stop), self._t(when, 0), self.sharing.providers), 0.0
        return via.quote(node, link_m)

    def _via_legs(self, via: Via, stop: int, seg: Segment, ref: int) -> list[Leg]:
        g = self.graph
        node, link_m = int(g.stop_node[stop]), float(g.stop_link_m[stop])
        place = self._stop_place(stop)
        if isinstance(via, HailChain):
            return [via.leg(node, link_m, place, self._t(ref, seg.dep), self._t(ref, seg.arr), self.sharing.providers)]
        pieces = via.pieces(node, link_m, place)
        if via.reverse:
            return to_legs(pieces, via.service, seg.dep, lambda s: self._t(ref, round(s)))
        # the kernel leaves as late as the first ride allows: end the chain at the boarding time
        total = pieces[-1].end
        return to_legs(pieces, via.service, seg.arr - round(total), lambda s: self._t(ref, round(s)))

    def _direct(self, request: PlanRequest, origin: Reach, dest: Reach, walk_dominated: bool) -> list[_Candidate]:
        """Walk, bike and car without transit, when the modes allow them."""
        g = self.graph
        out: list[_Candidate] = []
        if g.streets is None or origin.node < 0 or dest.node < 0:
            return out
        walk = self.options.walk_mps
        modes = []
        if "walk" in request.modes and not walk_dominated:
            modes.append(("walk", WALK, walk, request.max_walk_m / walk))
        if "bike" in request.modes:
            modes.append(("bike", BIKE, self.options.bike_mps, 3 * 3600.0))
        if "car" in request.modes:
            modes.append(("car", CAR, 0.0, 3 * 3600.0))
        for mode, flag, speed, limit in modes:
            if mode == "walk" and origin.times is not None and origin.pred is not None and not request.arrive_by:
                # the access search from the origin already holds every walk within the limit
                tn = float(origin.times[dest.node])
                if not np.isfinite(tn):
                    continue
                edges = path_edges(origin.pred, g.streets, dest.node)
            else:
                tn, edges = path_between(g.streets, origin.node, dest.node, flag, speed, limit, origin.snap_m / walk)
                if not np.isfinite(tn):
                    continue
            length = path_length_m(g.streets, edges) + origin.snap_m + dest.snap_m
            if mode == "walk" and length > request.max_walk_m:
                continue
            secs = int(np.ceil(tn + dest.snap_m / walk))
            start, end = (-secs, 0) if request.arrive_by else (0, secs)
            walk_s = secs if mode == "walk" else int(np.ceil((origin.snap_m + dest.snap_m) / walk))
            out.append(_Candidate(start, end, 0, walk_s, None, _Direct(mode, edges, length)))
        return out

    def _walk_dominated(self, request: PlanRequest, origin: Reach, dest: Reach, transit: list[_Candidate]) -> bool:
        """True when a one-ride journey beats even the straight-line walk: skip the search."""
        if origin.place.lat is None or dest.place.lat is None:
            return False
        lb = float(haversine_m(origin.place.lat, origin.place.lon, np.array([dest.place.lat]),
                               np.array([dest.place.lon]))[0]) / self.options.walk_mps

        def beats(c: _Candidate) -> bool:
            return c.dep >= -lb if request.arrive_by else c.dep >= 0 and c.arr <= lb

        return any(c.transfers == 0 and c.walk_s <= lb and beats(c) for c in transit)

    def _walk_via_stops(self, origin: Reach, dest: Reach, max_s: float, arrive_by: bool) -> _Candidate | None:
        """Shortest walk origin -> access stop -> footpaths -> egress stop -> destination."""
        t_offset, t_target, t_secs, t_source = self._footpaths
        egress = dict(zip(dest.stops.tolist(), dest.stop_s.tolist(), strict=True))
        best: dict[int, int] = {}
        parent: dict[int, int] = {}  # stop -> footpath edge it was reached by (-1: access)
        heap: list[tuple[int, int]] = []
        for s, a in zip(origin.stops.tolist(), origin.stop_s.tolist(), strict=True):
            if a <= max_s and a < best.get(s, 1 << 62):
                best[s], parent[s] = a, -1
                heapq.heappush(heap, (a, s))
        goal, goal_s = -1, 1 << 62
        while heap:
            d, u = heapq.heappop(heap)
            if d > best[u] or d >= goal_s:
                continue
            if u in egress and d + egress[u] < goal_s and d + egress[u] <= max_s:
                goal, goal_s = u, d + egress[u]
            for e in range(t_offset[u], t_offset[u + 1]):
                v, nd = t_target[e], d + t_secs[e]
                if nd <= max_s and nd < best.get(v, 1 << 62):
                    best[v], parent[v] = nd, e
                    heapq.heappush(heap, (nd, v))
        if goal < 0:
            return None
        chain: list[Segment] = [Segment("egress", goal, -1, best[goal], goal_s)]
        s = goal
        while parent[s] >= 0:
            e = parent[s]
            src = t_source[e]
            chain.append(Segment("transfer", src, s, best[src], best[s]))
            s = src
        chain.append(Segment("access", -1, s, 0, best[s]))
        shift = -goal_s if arrive_by else 0
        segs = tuple(
            Segment(c.kind, c.from_stop, c.to_stop, c.dep + shift, c.arr + shift) for c in reversed(chain)
        )
        j = Journey(dep=shift, arr=goal_s + shift, transfers=0, segments=segs)
        return _Candidate(j.dep, j.arr, 0, goal_s, j, None)

    def _direct_itinerary(self, c: _Candidate, origin: Reach, dest: Reach, ref: int) -> Itinerary:
        g = self.graph
        assert c.direct is not None and g.streets is not None
        d = c.direct
        lats, lons = _framed(g.streets, d.edges, origin.node, (origin.place.lat, origin.place.lon),
                             (dest.place.lat, dest.place.lon))
        leg = Leg(mode=d.mode, from_place=origin.place, to_place=dest.place, start_time=self._t(ref, c.dep),
                  end_time=self._t(ref, c.arr), distance_m=d.length_m, polyline=encode(lats, lons))
        co2 = CAR_CO2_G_PER_KM * d.length_m / 1000 if d.mode == "car" else 0.0
        return Itinerary(legs=(leg,), transfers=0, walk_distance_m=d.length_m if d.mode == "walk" else 0.0, co2_g=co2)


def _framed(
    streets: StreetGraph, edges: np.ndarray, start_node: int, first: tuple[float, float], last: tuple[float, float]
) -> tuple[list[float], list[float]]:
    """A street path's coordinates between the two places it connects."""
    lat, lon = path_geometry(streets, edges, start_node)
    return [first[0], *lat.tolist(), last[0]], [first[1], *lon.tolist(), last[1]]


@dataclass(frozen=True)
class _Direct:
    mode: str
    edges: np.ndarray
    length_m: float


@dataclass(frozen=True)
class _Candidate:
    """An option before its legs are built: enough to rank it."""

    dep: int
    arr: int
    transfers: int
    walk_s: int
    journey: Journey | None
    direct: _Direct | None
    cost: float = 0.0  # known price (ranking); sharing options only
    mix: str = ""  # modes beside walking, for ranking's diversity; "" for walk/bike/car/transit
    built: Itinerary | None = None  # legs already built (direct sharing options)
    vias: tuple[Via | None, Via | None] | None = None  # shared first/last mile of a transit journey
