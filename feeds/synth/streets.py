"""The synthetic city's streets: a named grid with avenues, diagonal arterials,
one-way side streets, a pedestrian street and park footways, written as OSM PBF.

Lines on the stop lattice (even coordinates) are two-way bus streets; odd lines are
residential side streets, some of them one-way (a few open to contraflow cycling).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
from osmium.osm.mutable import Node, Way

from feeds.synth.grid import Grid
from feeds.synth.names import base_names


@dataclass(frozen=True)
class OsmWay:
    id: int
    nodes: tuple[int, ...]
    tags: dict[str, str]


@dataclass
class StreetPlan:
    grid: Grid
    horizontal: dict[int, str]  # gy -> street name
    vertical: dict[int, str]  # gx -> street name
    diagonal: str  # name of the arterial along gx == gy (the metro runs beneath it)
    ways: list[OsmWay] = field(default_factory=list)
    extra_nodes: dict[int, tuple[float, float]] = field(default_factory=dict)  # id -> (lat, lon)


def _line_class(g: int) -> str:
    if g == 0:
        return "primary"
    if g % 8 == 0:
        return "secondary"
    if g % 2 == 0:
        return "tertiary"
    return "residential"


_PREFIX = {"primary": "Corso", "secondary": "Corso", "tertiary": "Via", "residential": "Via"}


def plan_streets(grid: Grid, rng: np.random.Generator) -> StreetPlan:
    """Ways of the city (deterministic for a given rng state)."""
    radius = grid.radius
    lines = [g for g in range(-radius, radius + 1) if grid.half_width(g) > 0]
    diagonal_offsets = [0] if radius < 24 else [-(radius // 2), 0, radius // 2]
    people = base_names(rng, 2 * len(lines) + 2 * len(diagonal_offsets))
    horizontal = {g: f"{_PREFIX[_line_class(g)]} {people[i]}" for i, g in enumerate(lines)}
    vertical = {g: f"{_PREFIX[_line_class(g)]} {people[len(lines) + i]}" for i, g in enumerate(lines)}
    diagonal_names = [f"Viale {name}" for name in people[2 * len(lines) :]]
    plan = StreetPlan(grid, horizontal, vertical, diagonal_names[2 * diagonal_offsets.index(0)])

    def add(nodes: list[int], tags: dict[str, str]) -> None:
        plan.ways.append(OsmWay(len(plan.ways) + 1, tuple(nodes), tags))

    for orientation, names in (("h", horizontal), ("v", vertical)):
        for g in lines:
            w = grid.half_width(g)
            along = np.arange(-w, w + 1, dtype=np.int64)
            ids = grid.node_id(along, g) if orientation == "h" else grid.node_id(g, along)
            tags = _street_tags(_line_class(g), names[g], rng)
            if orientation == "h" and g == 1 and w >= 4:
                # the old town's shopping street: pedestrian in the middle
                start, stop = w - 2, w + 2  # indices of gx = -2 and gx = 2
                add([int(i) for i in ids[: start + 1]], tags)
                add([int(i) for i in ids[start : stop + 1]], {"highway": "pedestrian", "name": names[g]})
                add([int(i) for i in ids[stop:]], tags)
            else:
                add([int(i) for i in ids], tags)

    for k, c in enumerate(diagonal_offsets):
        for sign, name in ((1, diagonal_names[2 * k]), (-1, diagonal_names[2 * k + 1])):
            # gx = sign * gy + c, inside the disk
            gy = np.arange(-radius, radius + 1, dtype=np.int64)
            gx = sign * gy + c
            inside = gx * gx + gy * gy <= radius * radius
            if inside.sum() < 2:
                continue
            ids = grid.node_id(gx[inside], gy[inside])
            add([int(i) for i in ids], {"highway": "primary", "name": name, "maxspeed": "50", "lanes": "4"})

    if radius >= 6:
        # a park block crossed by two footways meeting at a fountain
        mid = grid.max_node_id + 1
        plan.extra_nodes[mid] = (float(grid.lat(-3.5)), float(grid.lon(-3.5)))
        for (x0, y0), (x1, y1) in (((-4, -4), (-3, -3)), ((-3, -4), (-4, -3))):
            add([int(grid.node_id(x0, y0)), mid, int(grid.node_id(x1, y1))], {"highway": "footway"})
    return plan


def _street_tags(highway: str, name: str, rng: np.random.Generator) -> dict[str, str]:
    tags = {"highway": highway, "name": name}
    if highway in ("primary", "secondary"):
        tags["maxspeed"] = "50"
        tags["lanes"] = "4" if highway == "primary" else "2"
    elif highway == "residential":
        draw = rng.random(3)
        if draw[0] < 0.5:
            tags["maxspeed"] = "30"
        if draw[1] < 0.3:
            tags["oneway"] = "yes" if draw[2] < 0.5 else "-1"
            if draw[2] < 0.2:
                tags["oneway:bicycle"] = "no"
    return tags


def write_osm(plan: StreetPlan, path: Path) -> tuple[int, int]:
    """Write the plan as OSM PBF (nodes then ways, ascending ids); returns the counts."""
    grid = plan.grid
    gx, gy = grid.nodes()
    ids = grid.node_id(gx, gy).tolist()
    lats = np.round(grid.lat(gy.astype(np.float64)), 7).tolist()
    lons = np.round(grid.lon(gx.astype(np.float64)), 7).tolist()
    if path.exists():
        path.unlink()
    writer = osmium.SimpleWriter(str(path))
    try:
        for node_id, lat, lon in zip(ids, lats, lons, strict=True):
            writer.add_node(Node(id=node_id, location=(lon, lat)))
        for node_id, (lat, lon) in sorted(plan.extra_nodes.items()):
            writer.add_node(Node(id=node_id, location=(lon, lat)))
        for way in plan.ways:
            writer.add_way(Way(id=way.id, nodes=list(way.nodes), tags=way.tags))
    finally:
        writer.close()
    return len(ids) + len(plan.extra_nodes), len(plan.ways)
