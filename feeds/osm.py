"""OpenStreetMap (.osm.pbf / .osm) -> :class:`feeds.model.StreetNetwork`.

One pass with pyosmium keeps node locations and hands every ``highway=*`` way to
:func:`way_access`, which decides per direction who may use it (walk, bike, car) from
the usual OSM tags. The graph itself is built with numpy from flat arrays: every OSM
node of a usable way is a graph node, consecutive nodes of a way give one edge per
direction that anybody may use, nodes sorted by OSM id, edges sorted by source (CSR).

Access rules, most specific tag first (values like ``yes``/``designated`` allow,
``no``/``private`` forbid, anything else falls through to the next tag):
walk ``foot > access``; bike ``bicycle > vehicle > access``;
car ``motorcar > motor_vehicle > vehicle > access``; then the highway class default.
``oneway`` (and roundabouts, motorways) binds cars and bikes, never pedestrians.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import osmium
import osmium.filter

from feeds.errors import FeedFormatError, FeedNotFound
from feeds.geo import haversine_m
from feeds.model import StreetNetwork

WALK = StreetNetwork.WALK
BIKE = StreetNetwork.BIKE
CAR = StreetNetwork.CAR
ALL = WALK | BIKE | CAR

# Who may use a highway class when no access tag says otherwise. Classes not listed
# (construction, proposed, platform, busway, raceway, ...) are not part of the graph.
DEFAULT_ACCESS: dict[str, int] = {
    "motorway": CAR,
    "motorway_link": CAR,
    "trunk": CAR,
    "trunk_link": CAR,
    "primary": ALL,
    "primary_link": ALL,
    "secondary": ALL,
    "secondary_link": ALL,
    "tertiary": ALL,
    "tertiary_link": ALL,
    "unclassified": ALL,
    "residential": ALL,
    "living_street": ALL,
    "service": ALL,
    "road": ALL,
    "track": WALK | BIKE,
    "path": WALK | BIKE,
    "cycleway": WALK | BIKE,
    "footway": WALK,
    "pedestrian": WALK,
    "steps": WALK,
    "corridor": WALK,
    "bridleway": WALK,
}

# km/h when maxspeed is absent or unreadable.
DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 35.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 30.0,
    "track": 15.0,
}
FALLBACK_SPEED_KMH = 20.0

# Highway classes that imply oneway=yes for vehicles (OSM wiki conventions).
IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link"})

_ALLOW = frozenset({"yes", "designated", "permissive", "destination", "customers", "official", "discouraged"})
_DENY = frozenset(
    {
        "no",
        "private",
        "agricultural",
        "forestry",
        "military",
        "emergency",
        "delivery",
        "use_sidepath",
        "dismount",
        "restricted",
        "disabled",
        "psv",
        "bus",
    }
)

_WALK_KEYS = ("foot", "access")
_BIKE_KEYS = ("bicycle", "vehicle", "access")
_CAR_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")
# Every tag the loader looks at; copied out of osmium's TagList once per way.
_TAG_KEYS = (
    "highway", "area", "access", "foot", "bicycle", "vehicle", "motor_vehicle", "motorcar", "motorroad",
    "oneway", "oneway:bicycle", "cycleway", "junction", "maxspeed", "name",
)  # fmt: skip

_TRUE = frozenset({"yes", "1", "true"})
_FALSE = frozenset({"no", "0", "false"})
_REVERSE = frozenset({"-1", "reverse"})



def _permission(tags: Mapping[str, str], keys: tuple[str, ...], default: bool) -> bool:
    for key in keys:
        value = tags.get(key)
        if value is None:
            continue
        value = value.split(";")[0].strip().lower()
        if value in _ALLOW:
            return True
        if value in _DENY:
            return False
    return default


def _oneway(tags: Mapping[str, str], highway: str) -> int:
    """+1 forward only, -1 backward only, 0 both ways, 2 neither (reversible)."""
    value = tags.get("oneway", "").strip().lower()
    if value in _TRUE:
        return 1
    if value in _REVERSE:
        return -1
    if value in ("reversible", "alternating"):
        return 2
    if value in _FALSE:
        return 0
    if highway in IMPLIED_ONEWAY or tags.get("junction") in ("roundabout", "circular"):
        return 1
    return 0


def way_access(tags: Mapping[str, str]) -> tuple[int, int] | None:
    """Flags (forward, backward) of a way from its tags; None when nobody may use it
    (or it is not a street: an area, a road under construction, an unknown class)."""
    highway = tags.get("highway")
    if highway is None or highway not in DEFAULT_ACCESS or tags.get("area") == "yes":
        return None
    default = DEFAULT_ACCESS[highway]
    motorroad = tags.get("motorroad") == "yes"
    walk = _permission(tags, _WALK_KEYS, bool(default & WALK) and not motorroad)
    bike = _permission(tags, _BIKE_KEYS, bool(default & BIKE) and not motorroad)
    car = _permission(tags, _CAR_KEYS, bool(default & CAR))
    if not (walk or bike or car):
        return None

    oneway = _oneway(tags, highway)
    bike_oneway = oneway
    bike_rule = tags.get("oneway:bicycle", "").strip().lower()
    if bike_rule in _FALSE or tags.get("cycleway", "").startswith("opposite"):
        bike_oneway = 0
    elif bike_rule in _TRUE:
        bike_oneway = 1
    elif bike_rule in _REVERSE:
        bike_oneway = -1

    forward = backward = WALK if walk else 0
    if car:
        forward |= CAR if oneway in (0, 1) else 0
        backward |= CAR if oneway in (0, -1) else 0
    if bike:
        forward |= BIKE if bike_oneway in (0, 1) else 0
        backward |= BIKE if bike_oneway in (0, -1) else 0
    if forward == 0 and backward == 0:
        return None
    return forward, backward


_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?$")
_ZONE = re.compile(r"zone:?(\d+)$")
_COUNTRY_DEFAULT_KMH = {"urban": 50.0, "rural": 90.0, "motorway": 130.0, "trunk": 110.0,
                        "living_street": 10.0, "bicycle_road": 30.0, "walk": 5.0}  # fmt: skip
_UNIT_KMH = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}


def parse_maxspeed(value: str) -> float | None:
    """A ``maxspeed`` value in km/h ("50", "30 mph", "IT:urban", "DE:zone30", "walk");
    None when it says nothing usable ("signals", "variable", garbage)."""
    text = value.split(";")[0].strip().lower()
    match = _NUMBER.match(text)
    if match:
        speed = float(match.group(1)) * _UNIT_KMH[match.group(2)]
        return speed if speed > 0 else None
    if text == "walk":
        return 5.0
    if text == "none":
        return 130.0
    if ":" in text:
        zone = _ZONE.search(text)
        if zone:
            return float(zone.group(1))
        return _COUNTRY_DEFAULT_KMH.get(text.split(":", 1)[1])
    return None


def car_speed_kmh(tags: Mapping[str, str]) -> float:
    highway = tags.get("highway", "")
    raw = tags.get("maxspeed")
    parsed = parse_maxspeed(raw) if raw else None
    return parsed if parsed is not None else DEFAULT_SPEED_KMH.get(highway, FALLBACK_SPEED_KMH)


_INVALID = -(2**31)  # x/y of a node missing from the extract


class _WayCollector:
    """Flat per-node and per-way columns of the usable ways, in file order."""

    def __init__(self) -> None:
        self.refs: list[int] = []
        self.x: list[int] = []  # lon * 1e7; osmium's fixed-point location
        self.y: list[int] = []
        self.way_of_node: list[int] = []
        self.forward: list[int] = []
        self.backward: list[int] = []
        self.speed_mps: list[float] = []
        self.name: list[int] = []
        self.names: dict[str, int] = {}

    def add(self, way: osmium.osm.Way) -> None:
        tags_obj = way.tags
        tags = {k: v for k in _TAG_KEYS if (v := tags_obj.get(k)) is not None}
        access = way_access(tags)
        if access is None:
            return
        index = len(self.forward)
        self.forward.append(access[0])
        self.backward.append(access[1])
        self.speed_mps.append(car_speed_kmh(tags) / 3.6)
        name = tags.get("name", "").strip()
        self.name.append(self.names.setdefault(name, len(self.names)) if name else -1)
        refs, xs, ys = self.refs, self.x, self.y
        count = 0
        for node in way.nodes:
            location = node.location
            refs.append(node.ref)
            if location.valid():
                xs.append(location.x)
                ys.append(location.y)
            else:  # node missing from the extract: the way is cut there
                xs.append(_INVALID)
                ys.append(_INVALID)
            count += 1
        self.way_of_node.extend([index] * count)


def _read_ways(path: Path) -> _WayCollector:
    collector = _WayCollector()
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for way in processor:
            if isinstance(way, osmium.osm.Way):
                collector.add(way)
    except (RuntimeError, ValueError) as exc:  # libosmium reports read/parse failures as RuntimeError
        raise FeedFormatError(f"cannot read OSM file {path}: {exc}") from exc
    return collector


def _build_network(collector: _WayCollector) -> StreetNetwork:
    """The CSR street graph of the collected ways (vectorized)."""
    refs = np.asarray(collector.refs, dtype=np.int64)
    x = np.asarray(collector.x, dtype=np.int64)
    y = np.asarray(collector.y, dtype=np.int64)
    way = np.asarray(collector.way_of_node, dtype=np.int64)
    forward = np.asarray(collector.forward, dtype=np.uint8)
    backward = np.asarray(collector.backward, dtype=np.uint8)
    speed = np.asarray(collector.speed_mps, dtype=np.float32)
    name = np.asarray(collector.name, dtype=np.int32)

    valid = x != _INVALID
    segment = (
        np.flatnonzero((way[:-1] == way[1:]) & valid[:-1] & valid[1:] & (refs[:-1] != refs[1:]))
        if refs.size > 1
        else np.empty(0, dtype=np.int64)
    )
    a, b = segment, segment + 1

    ends = np.concatenate([a, b])
    node_ids, first, inverse = np.unique(refs[ends], return_index=True, return_inverse=True)
    u = inverse[: a.size].astype(np.int32)
    v = inverse[a.size :].astype(np.int32)
    lat = y[ends[first]].astype(np.float64) * 1e-7
    lon = x[ends[first]].astype(np.float64) * 1e-7

    seg_way = way[a]
    length = haversine_m(lat[u], lon[u], lat[v], lon[v]).astype(np.float32)
    fwd_flags = forward[seg_way]
    bwd_flags = backward[seg_way]
    has_fwd = fwd_flags != 0
    has_bwd = bwd_flags != 0

    source = np.concatenate([u[has_fwd], v[has_bwd]])
    target = np.concatenate([v[has_fwd], u[has_bwd]])
    flags = np.concatenate([fwd_flags[has_fwd], bwd_flags[has_bwd]])
    edge_way = np.concatenate([seg_way[has_fwd], seg_way[has_bwd]])
    edge_length = np.concatenate([length[has_fwd], length[has_bwd]])

    order = np.argsort(source, kind="stable")
    source = source[order]
    flags = flags[order]
    edge_way = edge_way[order]
    car_speed = np.where((flags & CAR) != 0, speed[edge_way], np.float32(0)).astype(np.float32)

    n_nodes = node_ids.size
    offset = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=n_nodes), out=offset[1:])
    return StreetNetwork(
        node_osm_id=node_ids.astype(np.int64),
        lat=lat,
        lon=lon,
        offset=offset,
        target=target[order].astype(np.int32),
        length_m=edge_length[order],
        flags=flags.astype(np.uint8),
        car_speed_mps=car_speed,
        name=name[edge_way].astype(np.int32),
        names=tuple(collector.names),
    )


def load_osm(path: str | Path, *, progress: Callable[[str], None] | None = None) -> StreetNetwork:
    """Read an OSM file (.osm.pbf, .osm, .osm.bz2 ...) into a street network.

    Raises :class:`FeedNotFound` when ``path`` is not a file and :class:`FeedFormatError`
    when osmium cannot read it.
    """
    path = Path(path)
    if not path.exists():
        raise FeedNotFound(f"OSM file not found: {path}")
    if not path.is_file():
        raise FeedFormatError(f"not an OSM file: {path}")
    report = progress or (lambda _message: None)
    report(f"reading {path.name}")
    collector = _read_ways(path)
    report(f"{len(collector.forward):,} usable ways, {len(collector.refs):,} way nodes")
    network = _build_network(collector)
    report(f"street network: {network.n_nodes:,} nodes, {network.n_edges:,} edges")
    return network
