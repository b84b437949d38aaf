"""Bike and scooter rentals on the street graph: where to pick up, ride and drop off.

A :class:`RentalService` is one way of renting within one GBFS system: the docked
vehicles of a mode (pick up at a station with vehicles, return to a station with free
docks) or the free-floating vehicles of one vehicle type (pick up where the vehicle
stands, park where geofencing allows ``ride_end``). Round-trip-only vehicle types are
left out: they cannot take anyone from A to B.

A :class:`RentalChain` is three bounded Dijkstras on the street graph, the rental
counterpart of a walk search: walk -> ride -> walk, each seeded with the arrival times
of the one before (multi-source), so one chain gives the best rental time from a place
to *every* street node (forward) or from every node to a place (reverse). The kernel's
access/egress lists take those times per stop; legs are rebuilt from the predecessor
trees only for the itineraries kept. No-ride zones (``ride_through_allowed`` false)
are removed from the ride's street graph, so rides go around them when they can;
no-parking zones are never a drop-off. Availability comes from the live overlay; when it
is unknown (a failed feed past its ttl) every installed station counts and the legs say so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from feeds.gbfs import (
    FormFactor,
    FreeVehicle,
    GbfsFeed,
    GbfsStatus,
    PricingPlan,
    RentalUris,
    VehicleType,
    ZoneIndex,
    rental_price,
    rules_at_points,
)
from feeds.model import F64, I32, Bool
from routing.plan import Leg, LegPlace, Money, Provider, VehicleInfo
from routing.polyline import encode
from routing.spatial import NodeIndex
from routing.streets import (
    BIKE,
    WALK,
    StreetGraph,
    edge_source,
    path_edges,
    path_geometry,
    path_length_m,
    shortest_times,
)

MODE_FORM_FACTORS: dict[str, frozenset[FormFactor]] = {
    "bikeshare": frozenset({FormFactor.BICYCLE, FormFactor.CARGO_BICYCLE}),
    "scooter": frozenset({FormFactor.SCOOTER_STANDING, FormFactor.SCOOTER_SEATED}),
}
RENTAL_MODES = frozenset(MODE_FORM_FACTORS)
_ROUND_TRIP = "roundtrip_station"


@dataclass(frozen=True)
class SharingOptions:
    walk_mps: float = 1.33
    bike_mps: float = 4.5
    scooter_mps: float = 5.0  # ~18 km/h: e-scooters are capped at 20-25 km/h
    unlock_s: int = 60  # finding, unlocking and adjusting the vehicle
    return_s: int = 60  # docking or parking and ending the rental in the app
    snap_m: float = 150.0  # a station or vehicle farther from a walkable street is ignored
    max_chain_s: float = 2700.0  # longest rental chain (walk + ride + walk) searched, direct trips
    max_access_s: float = 900.0  # longest chain to or from a stop (first/last mile)
    max_pickups: int = 8  # nearest pickups seeded into a ride search


@dataclass(frozen=True)
class Spot:
    """A place a rental starts or ends: a station, a vehicle, or (free-floating) a node."""

    lat: float
    lon: float
    node: int
    snap_m: float
    name: str
    vehicle_type: VehicleType | None = None
    plan: PricingPlan | None = None
    deep_link: str | None = None
    station_id: str | None = None
    vehicle_id: str | None = None


def _link(uris: RentalUris) -> str | None:
    return uris.web or uris.android or uris.ios or None


def vehicle_info(vt: VehicleType) -> VehicleInfo:
    return VehicleInfo(id=vt.id, name=vt.name, form_factor=vt.form_factor.value, propulsion=vt.propulsion.value)


@dataclass
class RentalService:
    """One way of renting in one system, with the availability of one snapshot."""

    feed: GbfsFeed
    mode: str  # bikeshare | scooter
    free_floating: bool
    availability_known: bool
    pickups: list[Spot]
    docks: list[Spot]  # station services: where the vehicle may be returned
    park_ok: Bool | None  # free-floating: may the ride end at this street node
    streets: StreetGraph  # the street graph of the ride (no-ride zones removed)
    speed_mps: float

    @cached_property
    def pickup_nodes(self) -> I32:
        return np.array([p.node for p in self.pickups], dtype=np.int32)

    @cached_property
    def dock_nodes(self) -> I32:
        return np.array([d.node for d in self.docks], dtype=np.int32)

    @cached_property
    def pickup_snap_m(self) -> F64:
        return np.array([p.snap_m for p in self.pickups], dtype=np.float64)

    @cached_property
    def dock_snap_m(self) -> F64:
        return np.array([d.snap_m for d in self.docks], dtype=np.float64)

    def provider(self, spot: Spot) -> Provider:
        return Provider(id=self.feed.id, name=self.feed.system.name, deep_link=spot.deep_link or self.feed.system.url or None)


# -- building services from a snapshot -------------------------------------------------


class ServiceBuilder:
    """Turns a system's static feed and a status snapshot into :class:`RentalService` s.

    What depends on the static feed only (station positions snapped to the street graph,
    geofencing masks per vehicle type) is computed once and kept."""

    def __init__(self, streets: StreetGraph, index: NodeIndex, options: SharingOptions) -> None:
        self.streets = streets
        self.index = index
        self.options = options
        self._zones: dict[str, ZoneIndex] = {}
        self._masks: dict[tuple[str, str | None], tuple[Bool, Bool, StreetGraph]] = {}
        self._stations: dict[str, tuple[I32, F64]] = {}

    def services(self, feed: GbfsFeed, status: GbfsStatus, modes: frozenset[str]) -> list[RentalService]:
        out: list[RentalService] = []
        for mode in sorted(modes & RENTAL_MODES):
            station = self._station_service(feed, status, mode)
            if station is not None:
                out.append(station)
            out.extend(self._free_services(feed, status, mode))
        return out

    # geofencing: (park allowed per node, start allowed per node, ride street graph)
    def _rules(self, feed: GbfsFeed, vt: VehicleType | None) -> tuple[Bool, Bool, StreetGraph]:
        key = (feed.id, vt.id if vt else None)
        found = self._masks.get(key)
        if found is not None:
            return found
        g = self.streets
        fencing = feed.geofencing
        n = g.n_nodes
        if not fencing.zones and not fencing.global_rules:
            found = (np.ones(n, dtype=np.bool_), np.ones(n, dtype=np.bool_), g)
        else:
            zones = self._zones.get(feed.id)
            if zones is None:
                zones = self._zones[feed.id] = ZoneIndex(fencing)
            rules = rules_at_points(zones, np.asarray(g.lat), np.asarray(g.lon), vt.id if vt else None)
            ride = g
            blocked = ~rules.ride_through_allowed
            if blocked.any():
                tail = edge_source(g, np.arange(g.n_edges))
                bad = blocked[np.asarray(g.target)] | blocked[tail]
                flags = np.asarray(g.flags).copy()
                flags[bad] &= np.uint8(0xFF ^ BIKE)
                ride = dataclasses.replace(g, flags=flags)
            found = (rules.ride_end_allowed.copy(), rules.ride_start_allowed.copy(), ride)
        self._masks[key] = found
        return found

    def _snap(self, lat: Sequence[float], lon: Sequence[float]) -> tuple[I32, F64]:
        if not len(lat):
            return np.zeros(0, np.int32), np.zeros(0)
        return self.index.nearest_many(np.asarray(lat, float), np.asarray(lon, float), self.options.snap_m)

    def _mode_types(self, feed: GbfsFeed, mode: str) -> list[VehicleType]:
        forms = MODE_FORM_FACTORS[mode]
        types = feed.vehicle_types or (feed.vehicle_type(None),)
        return [t for t in types if t.form_factor in forms and t.return_constraint != _ROUND_TRIP]

    def _plan(self, feed: GbfsFeed, vt: VehicleType) -> PricingPlan | None:
        plans = feed.pricing_plans_by_id
        if vt.default_pricing_plan_id and vt.default_pricing_plan_id in plans:
            return plans[vt.default_pricing_plan_id]
        usable = [plans[p] for p in vt.pricing_plan_ids if p in plans]
        if len(usable) == 1:
            return usable[0]
        return feed.pricing_plans[0] if len(feed.pricing_plans) == 1 else None

    def _station_service(self, feed: GbfsFeed, status: GbfsStatus, mode: str) -> RentalService | None:
        if not feed.stations:
            return None
        types = self._mode_types(feed, mode)
        if not types:
            return None
        by_id = {t.id: t for t in types}
        nodes = self._stations.get(feed.id)
        if nodes is None:
            nodes = self._stations[feed.id] = self._snap([s.lat for s in feed.stations], [s.lon for s in feed.stations])
        known = status.availability_known
        pickups: list[Spot] = []
        docks: list[Spot] = []
        live = status.stations_by_id
        for k, st in enumerate(feed.stations):
            node = int(nodes[0][k])
            if node < 0:
                continue
            ss = live.get(st.id)
            if ss is not None and not ss.is_installed:
                continue
            if ss is not None and ss.vehicles_available_by_type:
                counts = [(by_id[t], c) for t, c in ss.vehicles_available_by_type if t in by_id]
                if not counts:
                    continue  # the station holds no vehicle of this mode
                vt = next((t for t, c in counts if c > 0), counts[0][0])
                n_mode = sum(c for _, c in counts)
            else:
                vt = types[0]
                n_mode = ss.num_vehicles_available if ss is not None else 0
            spot = Spot(st.lat, st.lon, node, float(nodes[1][k]), st.name, vt, self._plan(feed, vt),
                        _link(st.rental_uris), station_id=st.id)
            if not known:  # unknown availability: every installed station may serve
                pickups.append(spot)
                docks.append(spot)
                continue
            if ss is None:
                continue  # the live feed does not list the station: nothing known to rent
            if ss.is_renting and n_mode > 0:
                pickups.append(spot)
            free_docks = ss.num_docks_available
            if ss.is_returning and ((free_docks is not None and free_docks > 0) or (free_docks is None and st.is_virtual)):
                docks.append(spot)
        if not pickups or not docks:
            return None
        _, _, ride = self._rules(feed, None)
        return RentalService(feed, mode, False, known, pickups, docks, None, ride, self._speed(mode, types[0]))

    def _free_services(self, feed: GbfsFeed, status: GbfsStatus, mode: str) -> list[RentalService]:
        vehicles = [v for v in status.vehicles if v.station_id is None and v.rentable]
        if not vehicles:
            return []
        out = []
        for vt in self._mode_types(feed, mode):
            mine = [v for v in vehicles if feed.vehicle_type(v.vehicle_type_id).id == vt.id]
            if not mine:
                continue
            park_ok, start_ok, ride = self._rules(feed, vt)
            nodes, dist = self._snap([v.lat for v in mine], [v.lon for v in mine])
            pickups = [
                self._vehicle_spot(feed, vt, v, int(nodes[k]), float(dist[k]))
                for k, v in enumerate(mine)
                if nodes[k] >= 0 and start_ok[nodes[k]]
            ]
            if pickups:
                out.append(RentalService(feed, mode, True, status.availability_known, pickups, [], park_ok, ride,
                                         self._speed(mode, vt)))
        return out

    def _vehicle_spot(self, feed: GbfsFeed, vt: VehicleType, v: FreeVehicle, node: int, snap: float) -> Spot:
        name = f"{vt.name or vt.form_factor.value} {v.id.split(':', 1)[-1]}"
        return Spot(v.lat, v.lon, node, snap, name, vt, feed.pricing_plan_for(v), _link(v.rental_uris), vehicle_id=v.id)

    def _speed(self, mode: str, vt: VehicleType) -> float:
        base = self.options.bike_mps if mode == "bikeshare" else self.options.scooter_mps
        if vt.max_permitted_speed_kph:
            return min(base, vt.max_permitted_speed_kph / 3.6)
        return base


# -- chains -------------------------------------------------------------------------------


@dataclass
class Piece:
    """One leg of a rebuilt chain, in seconds relative to the chain's start."""

    mode: str  # walk or the rental mode
    start: float
    end: float
    lats: list[float]
    lons: list[float]
    length_m: float
    frm: LegPlace
    to: LegPlace
    spot: Spot | None = None  # the pickup, on the ride


@dataclass
class RentalChain:
    """Walk -> ride -> walk from a place (forward) or to a place (``reverse``).

    ``times[n]``: seconds from the place to street node ``n`` (forward) or from ``n`` to
    the place (reverse), through a rental; inf when not reachable so."""

    service: RentalService
    reverse: bool
    streets: StreetGraph
    walk_mps: float
    place: LegPlace
    place_node: int
    place_snap_m: float
    walk_pred: I32  # the place's own walk search
    spot_s: F64  # per pickup (forward) / per drop-off spot (reverse): seconds at that spot
    ride_times: np.ndarray  # float32 seconds per node
    ride_pred: I32
    times: np.ndarray
    pred: I32
    end_s: dict[int, tuple[float, int]] = field(default_factory=dict)  # drop/pick node -> (seconds, spot)
    options: SharingOptions = field(default_factory=SharingOptions)
    place_times: F64 | None = None  # reverse: the place's own walk times (parked -> place)
    drop_at: F64 | None = None  # forward, free-floating: seconds when parked at each node (inf: not)

    @property
    def mode(self) -> str:
        return self.service.mode

    def seconds_at(self, node: int, link_m: float) -> float:
        return float(self.times[node]) + link_m / self.walk_mps

    def stop_seconds(self, nodes: np.ndarray, link_m: np.ndarray) -> F64:
        """Seconds to (from) many stops at ``nodes``, ``link_m`` off them."""
        out: F64 = self.times[nodes].astype(np.float64) + np.asarray(link_m, dtype=np.float64) / self.walk_mps
        return out

    def quote(self, node: int, link_m: float) -> tuple[Money | None, float]:
        """Price and walking seconds of the chain to (from) ``node``, without building legs."""
        pieces = self.pieces(node, link_m, self.place)
        ride = next(p for p in pieces if p.spot is not None)
        return rental_leg_price(ride), sum(p.end - p.start for p in pieces if p.mode == "walk")

    # rebuilding -----------------------------------------------------------------------

    def pieces(self, node: int, link_m: float, end_place: LegPlace) -> list[Piece]:
        """Legs from the place to ``node`` (forward) or from ``node`` to the place; the
        far end is ``end_place`` (a stop or the other place), ``link_m`` from ``node``."""
        g, svc = self.streets, self.service
        if not self.reverse:
            e2 = path_edges(self.pred, g, node)
            dn = int(edge_source(g, e2[:1])[0]) if e2.size else node
            drop_s, j = self.end_s[dn] if self.drop_at is None else (float(self.drop_at[dn]), -1)
            e1 = path_edges(self.ride_pred, svc.streets, dn)
            pn = int(edge_source(svc.streets, e1[:1])[0]) if e1.size else dn
            i = self._best_pickup(pn)
            pick = svc.pickups[i]
            e0 = path_edges(self.walk_pred, g, pn)
            t_at_vehicle = float(self.spot_s[i])
            drop_spot = svc.docks[j] if j >= 0 else None
            drop_place = _spot_place(drop_spot, g, dn)
            pick_place = _spot_place(pick, g, pn)
            walk0 = Piece("walk", 0.0, t_at_vehicle, *_line(g, e0, self.place_node, self.place, pick_place),
                          path_length_m(g, e0) + self.place_snap_m + pick.snap_m, self.place, pick_place)
            ride_len = path_length_m(svc.streets, e1) + pick.snap_m + (drop_spot.snap_m if drop_spot else 0.0)
            ride = Piece(svc.mode, t_at_vehicle, drop_s, *_line(svc.streets, e1, pn, pick_place, drop_place),
                         ride_len, pick_place, drop_place, pick)
            end = self.seconds_at(node, link_m)
            walk2 = Piece("walk", drop_s, end, *_line(g, e2, dn, drop_place, end_place),
                          path_length_m(g, e2) + (drop_spot.snap_m if drop_spot else 0.0) + link_m, drop_place, end_place)
            return [p for p in (walk0, ride, walk2) if p.end - p.start > 0.5 or p is ride]
        # reverse: node -> pickup -> drop-off -> place
        e0 = path_edges(self.pred, g, node, reverse=True)
        pn = int(g.target[e0[-1]]) if e0.size else node
        need_s, i = self.end_s[pn]  # seconds from standing at the vehicle to the place
        pick = svc.pickups[i]
        e1 = path_edges(self.ride_pred, svc.streets, pn, reverse=True)
        dn = int(svc.streets.target[e1[-1]]) if e1.size else pn
        j = self._best_drop(dn)
        drop_spot = svc.docks[j] if j >= 0 else None
        if j >= 0:
            after_drop = float(self.spot_s[j])
        else:
            assert self.place_times is not None
            after_drop = float(self.place_times[dn])
        e2 = path_edges(self.walk_pred, g, dn, reverse=True)
        total = self.seconds_at(node, link_m)
        t_vehicle = total - need_s
        t_dropped = total - after_drop
        pick_place = _spot_place(pick, g, pn)
        drop_place = _spot_place(drop_spot, g, dn)
        walk0 = Piece("walk", 0.0, t_vehicle, *_line(g, e0, node, end_place, pick_place),
                      path_length_m(g, e0) + link_m + pick.snap_m, end_place, pick_place)
        ride_len = path_length_m(svc.streets, e1) + pick.snap_m + (drop_spot.snap_m if drop_spot else 0.0)
        ride = Piece(svc.mode, t_vehicle, t_dropped, *_line(svc.streets, e1, pn, pick_place, drop_place),
                     ride_len, pick_place, drop_place, pick)
        walk2 = Piece("walk", t_dropped, total, *_line(g, e2, dn, drop_place, self.place),
                      path_length_m(g, e2) + (drop_spot.snap_m if drop_spot else 0.0) + self.place_snap_m,
                      drop_place, self.place)
        return [p for p in (walk0, ride, walk2) if p.end - p.start > 0.5 or p is ride]

    def _best_pickup(self, node: int) -> int:
        return _first_smallest(self.service.pickup_nodes, node, self.spot_s)

    def _best_drop(self, node: int) -> int:
        if self.service.free_floating:
            return -1
        return _first_smallest(self.service.dock_nodes, node, self.spot_s)


def _first_smallest(nodes: I32, node: int, secs: F64) -> int:
    """The spot at ``node`` with the fewest seconds (the first one on ties)."""
    cands = np.flatnonzero(nodes == node)
    return int(cands[np.argmin(secs[cands])])


def _spot_place(spot: Spot | None, g: StreetGraph, node: int) -> LegPlace:
    if spot is None:
        return LegPlace("Parking spot", float(g.lat[node]), float(g.lon[node]))
    return LegPlace(spot.name, spot.lat, spot.lon)


def _line(g: StreetGraph, edges: np.ndarray, start: int, a: LegPlace, b: LegPlace) -> tuple[list[float], list[float]]:
    lat, lon = path_geometry(g, edges, start)
    return [a.lat, *lat.tolist(), b.lat], [a.lon, *lon.tolist(), b.lon]


def forward_chain(
    service: RentalService,
    streets: StreetGraph,
    walk_times: np.ndarray,
    walk_pred: np.ndarray,
    place: LegPlace,
    place_node: int,
    place_snap_m: float,
    options: SharingOptions,
    bound: float | None = None,
) -> RentalChain | None:
    """Rental times from a place (whose walk search gave ``walk_times``) to every node
    within ``bound`` seconds (default ``options.max_chain_s``)."""
    walk = options.walk_mps
    nodes = service.pickup_nodes
    at_vehicle = walk_times[nodes].astype(np.float64) + service.pickup_snap_m / walk
    ok = np.flatnonzero(np.isfinite(at_vehicle))
    if not ok.size:
        return None
    ok = ok[np.argsort(at_vehicle[ok], kind="stable")][: options.max_pickups]
    snap = service.pickup_snap_m[ok] / service.speed_mps
    bound = options.max_chain_s if bound is None else bound
    ride, ride_pred = shortest_times(service.streets, nodes[ok], at_vehicle[ok] + options.unlock_s + snap, BIKE,
                                     service.speed_mps, bound)
    spot_s = np.full(len(service.pickups), np.inf)
    spot_s[ok] = at_vehicle[ok]
    end_s: dict[int, tuple[float, int]] = {}
    drop_at = None
    if service.free_floating:
        assert service.park_ok is not None
        reached = np.isfinite(ride)
        drop_at = np.where(reached & service.park_ok, ride.astype(np.float64) + options.return_s, np.inf)
        if bool(service.park_ok[reached].all()):  # park anywhere the ride reaches: no walk after it
            return RentalChain(service, False, streets, walk, place, place_node, place_snap_m, walk_pred, spot_s,
                               ride, ride_pred, drop_at, np.full(streets.n_nodes, -1, dtype=np.int32), end_s, options,
                               None, drop_at)
        src = np.flatnonzero(np.isfinite(drop_at)).astype(np.int32)
        src_s = drop_at[src]
    else:
        dn = service.dock_nodes
        reach = np.isfinite(ride[dn])
        snaps = service.dock_snap_m
        done = ride[dn].astype(np.float64) + snaps / service.speed_mps + options.return_s
        for k in np.flatnonzero(reach).tolist():
            n = int(dn[k])
            start_walk = float(done[k]) + service.docks[k].snap_m / walk
            if n not in end_s or start_walk < end_s[n][0]:
                end_s[n] = (start_walk, k)
        src = np.array(list(end_s), dtype=np.int32)
        src_s = np.array([end_s[n][0] for n in end_s], dtype=np.float64)
    if not src.size:
        return None
    times, pred = shortest_times(streets, src, src_s, WALK, walk, bound)
    return RentalChain(service, False, streets, walk, place, place_node, place_snap_m, walk_pred, spot_s,
                       ride, ride_pred, times, pred, end_s, options, None, drop_at)


def reverse_chain(
    service: RentalService,
    streets: StreetGraph,
    walk_times: np.ndarray,
    walk_pred: np.ndarray,
    place: LegPlace,
    place_node: int,
    place_snap_m: float,
    options: SharingOptions,
    bound: float | None = None,
) -> RentalChain | None:
    """Rental times from every node to a place (whose reverse walk search gave ``walk_times``)."""
    walk = options.walk_mps
    bound = options.max_chain_s if bound is None else bound
    spot_s = np.zeros(0)
    if service.free_floating:
        assert service.park_ok is not None
        drop = np.flatnonzero(np.isfinite(walk_times) & service.park_ok).astype(np.int32)
        drop_s = walk_times[drop].astype(np.float64) + options.return_s
    else:
        dn = service.dock_nodes
        snaps = service.dock_snap_m
        # seconds from having docked at each station to the place
        spot_s = walk_times[dn].astype(np.float64) + snaps / walk
        keep = np.flatnonzero(np.isfinite(spot_s))
        best: dict[int, float] = {}
        for k in keep.tolist():
            n = int(dn[k])
            t = float(spot_s[k]) + options.return_s + service.docks[k].snap_m / service.speed_mps
            best[n] = min(best.get(n, np.inf), t)
        drop = np.array(list(best), dtype=np.int32)
        drop_s = np.array(list(best.values()), dtype=np.float64)
    if not drop.size:
        return None
    ride, ride_pred = shortest_times(service.streets, drop, drop_s, BIKE, service.speed_mps, bound, reverse=True)
    nodes = service.pickup_nodes
    snaps_p = service.pickup_snap_m
    need = ride[nodes].astype(np.float64) + snaps_p / service.speed_mps + options.unlock_s
    ok = np.flatnonzero(np.isfinite(need))
    if not ok.size:
        return None
    end_s: dict[int, tuple[float, int]] = {}
    for k in ok.tolist():
        n = int(nodes[k])
        if n not in end_s or need[k] < end_s[n][0]:
            end_s[n] = (float(need[k]), k)
    src = np.array(list(end_s), dtype=np.int32)
    src_s = np.array([end_s[n][0] + service.pickups[end_s[n][1]].snap_m / walk for n in end_s], dtype=np.float64)
    times, pred = shortest_times(streets, src, src_s, WALK, walk, bound, reverse=True)
    place_times = np.asarray(walk_times, dtype=np.float64) if service.free_floating else None
    return RentalChain(service, True, streets, walk, place, place_node, place_snap_m, walk_pred, spot_s,
                       ride, ride_pred, times, pred, end_s, options, place_times)


# -- legs and prices -------------------------------------------------------------------------


def rental_leg_price(piece: Piece) -> Money | None:
    """The rental's price under the vehicle's pricing plan; None when no plan is known."""
    spot = piece.spot
    if spot is None or spot.plan is None:
        return None
    price = rental_price(spot.plan, max(0.0, (piece.end - piece.start)) / 60.0, piece.length_m / 1000.0)
    return Money(price.amount, price.currency)


def to_legs(
    pieces: Sequence[Piece], service: RentalService, offset: int, to_time: Callable[[float], dt.datetime]
) -> list[Leg]:
    """Legs of a rebuilt chain starting ``offset`` seconds after the query's reference."""
    legs = []
    for p in pieces:
        start, end = to_time(offset + p.start), to_time(offset + p.end)
        if p.mode == "walk":
            legs.append(Leg(mode="walk", from_place=p.frm, to_place=p.to, start_time=start, end_time=end,
                            distance_m=p.length_m, polyline=encode(p.lats, p.lons)))
            continue
        assert p.spot is not None
        legs.append(
            Leg(
                mode=p.mode, from_place=p.frm, to_place=p.to, start_time=start, end_time=end,
                distance_m=p.length_m, polyline=encode(p.lats, p.lons),
                provider=service.provider(p.spot), price=rental_leg_price(p),
                vehicle_type=vehicle_info(p.spot.vehicle_type) if p.spot.vehicle_type else None,
                availability_known=service.availability_known,
            )
        )
    return legs
