"""feeds.osm: OSM -> StreetNetwork (access rules, oneway, CSR, lengths, errors)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import osmium
import pytest
from osmium.osm.mutable import Node, Way

from feeds.errors import FeedFormatError, FeedNotFound
from feeds.model import StreetNetwork
from feeds.osm import load_osm, parse_maxspeed, way_access

W, B, C = StreetNetwork.WALK, StreetNetwork.BIKE, StreetNetwork.CAR


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Reference great-circle distance, written independently of feeds.osm."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(a))


def _edges(net: StreetNetwork) -> dict[tuple[int, int], tuple[int, float, float, str]]:
    """(from osm id, to osm id) -> (flags, length, car speed, name)."""
    out = {}
    for u in range(net.n_nodes):
        for e in range(net.offset[u], net.offset[u + 1]):
            v = int(net.target[e])
            name = net.names[net.name[e]] if net.name[e] >= 0 else ""
            key = (int(net.node_osm_id[u]), int(net.node_osm_id[v]))
            assert key not in out, f"duplicate edge {key}"
            out[key] = (int(net.flags[e]), float(net.length_m[e]), float(net.car_speed_mps[e]), name)
    return out


# node id -> (lat, lon): a small street corner near Turin
COORDS = {
    1: (45.0000, 7.0000),
    2: (45.0000, 7.0010),
    3: (45.0010, 7.0010),
    4: (45.0010, 7.0020),
    5: (45.0030, 7.0020),
    6: (45.0030, 7.0030),
    7: (44.9990, 7.0000),
    8: (44.9990, 7.0010),
    9: (45.0000, 6.9990),
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> StreetNetwork:
    path = tmp_path_factory.mktemp("osm") / "tiny.osm.pbf"
    writer = osmium.SimpleWriter(str(path))
    for node_id, (lat, lon) in COORDS.items():
        writer.add_node(Node(id=node_id, location=(lon, lat)))
    ways: list[tuple[list[int], dict[str, str]]] = [
        ([1, 2], {"highway": "residential", "name": "Via Roma"}),
        ([2, 3], {"highway": "residential", "name": "Via del Senso Unico", "oneway": "yes"}),
        ([3, 4], {"highway": "footway"}),
        ([4, 5], {"highway": "motorway", "maxspeed": "130", "name": "A5"}),
        ([5, 6], {"highway": "service", "access": "private"}),
        ([1, 7], {"highway": "construction"}),
        ([7, 8], {"building": "yes"}),
        (
            [9, 1],
            {
                "highway": "residential",
                "oneway": "-1",
                "oneway:bicycle": "no",
                "maxspeed": "20 mph",
                "name": "Vicolo Stretto",
            },
        ),
        ([2, 99, 3], {"highway": "path"}),  # node 99 is missing from the extract
    ]
    for way_id, (nodes, tags) in enumerate(ways, start=1):
        writer.add_way(Way(id=way_id, nodes=nodes, tags=tags))
    writer.close()
    return load_osm(path)


def test_tiny_network_edges_flags_and_speeds(tiny: StreetNetwork) -> None:
    edges = _edges(tiny)
    res = 30 / 3.6
    expected = {
        (1, 2): (W | B | C, res, "Via Roma"),
        (2, 1): (W | B | C, res, "Via Roma"),
        (2, 3): (W | B | C, res, "Via del Senso Unico"),
        (3, 2): (W, 0.0, "Via del Senso Unico"),  # pedestrians ignore oneway
        (3, 4): (W, 0.0, ""),
        (4, 3): (W, 0.0, ""),
        (4, 5): (C, 130 / 3.6, "A5"),  # motorways: cars only, implied oneway
        # way drawn 9 -> 1 with oneway=-1: cars go 1 -> 9 only, bikes allowed contraflow
        (1, 9): (W | B | C, 20 * 1.609344 / 3.6, "Vicolo Stretto"),
        (9, 1): (W | B, 0.0, "Vicolo Stretto"),
    }
    assert set(edges) == set(expected)
    for key, (flags, speed, name) in expected.items():
        got_flags, length, got_speed, got_name = edges[key]
        assert (got_flags, got_name) == (flags, name), key
        assert got_speed == pytest.approx(speed, rel=1e-5), key
        reference = _haversine(*COORDS[key[0]], *COORDS[key[1]])
        assert length == pytest.approx(reference, rel=1e-5), key


def test_tiny_network_drops_unusable_nodes_and_builds_csr(tiny: StreetNetwork) -> None:
    # 6 (private), 7, 8 (construction, building) and the missing 99 are not graph nodes
    assert tiny.node_osm_id.tolist() == [1, 2, 3, 4, 5, 9]
    assert tiny.offset.tolist() == [0, 2, 4, 6, 8, 8, 9]
    assert tiny.lat.tolist() == pytest.approx([COORDS[n][0] for n in (1, 2, 3, 4, 5, 9)], abs=1e-7)
    assert tiny.lon.tolist() == pytest.approx([COORDS[n][1] for n in (1, 2, 3, 4, 5, 9)], abs=1e-7)
    assert tiny.length_m.dtype == np.float32 and tiny.flags.dtype == np.uint8
    assert tiny.target.dtype == np.int32 and tiny.offset.dtype == np.int64
    assert sorted(tiny.names) == ["A5", "Via Roma", "Via del Senso Unico", "Vicolo Stretto"]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"highway": "residential"}, (W | B | C, W | B | C)),
        ({"highway": "trunk"}, (C, C)),
        ({"highway": "trunk", "foot": "yes", "bicycle": "designated"}, (W | B | C, W | B | C)),
        ({"highway": "motorway_link"}, (C, 0)),
        ({"highway": "cycleway"}, (W | B, W | B)),
        ({"highway": "cycleway", "oneway": "yes"}, (W | B, W)),
        ({"highway": "steps"}, (W, W)),
        ({"highway": "pedestrian", "bicycle": "yes"}, (W | B, W | B)),
        ({"highway": "pedestrian", "area": "yes"}, None),
        ({"highway": "proposed"}, None),
        ({"highway": "footway", "access": "no"}, None),
        ({"highway": "service", "access": "private", "foot": "yes"}, (W, W)),
        ({"highway": "primary", "motor_vehicle": "no"}, (W | B, W | B)),
        ({"highway": "primary", "vehicle": "no"}, (W, W)),
        ({"highway": "primary", "bicycle": "use_sidepath"}, (W | C, W | C)),
        ({"highway": "primary", "motorroad": "yes"}, (C, C)),
        ({"highway": "secondary", "junction": "roundabout"}, (W | B | C, W)),
        ({"highway": "secondary", "junction": "roundabout", "oneway": "no"}, (W | B | C, W | B | C)),
        ({"highway": "residential", "oneway": "true", "cycleway": "opposite_lane"}, (W | B | C, W | B)),
        ({"highway": "residential", "oneway": "reversible"}, (W, W)),  # cars and bikes: unknowable direction
        ({"highway": "track", "motor_vehicle": "yes"}, (W | B | C, W | B | C)),
    ],
)
def test_way_access_rules(tags: dict[str, str], expected: tuple[int, int] | None) -> None:
    assert way_access(tags) == expected


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("50", 50.0),
        ("30 mph", 48.28032),
        ("80 km/h", 80.0),
        ("IT:urban", 50.0),
        ("DE:zone30", 30.0),
        ("walk", 5.0),
        ("50;30", 50.0),
        ("signals", None),
        ("0", None),
        ("fast", None),
    ],
)
def test_parse_maxspeed(value: str, kmh: float | None) -> None:
    got = parse_maxspeed(value)
    assert got == (pytest.approx(kmh) if kmh is not None else None)


SHARED_OSM = {
    # file: node count of the whole file, from shared/data/README.md
    "portland/portland-central-filtered.osm.pbf": 42_293,
    "porto_alegre/poa_osm.pbf": 43_264,
    "sao_paulo/spo_osm.pbf": 24_648,
    "atlanta_cobb/cobb-county.filtered.osm.pbf": 14_796,
}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(SHARED_OSM))
def test_shared_osm_files_load_consistently(shared_data: Path, name: str) -> None:
    net = load_osm(shared_data / name)
    n, m = net.n_nodes, net.n_edges
    assert 0.3 * SHARED_OSM[name] < n <= SHARED_OSM[name]
    assert m >= n  # streets are mostly two-way
    # CSR
    assert net.offset.shape == (n + 1,) and net.offset[0] == 0 and net.offset[-1] == m
    assert np.all(np.diff(net.offset) >= 0)
    assert net.target.min() >= 0 and net.target.max() < n
    assert np.all(np.diff(net.node_osm_id) > 0)
    for column in (net.length_m, net.flags, net.car_speed_mps, net.name):
        assert column.shape == (m,)
    # every edge is usable by somebody; car speed exactly where cars may go
    assert np.all(net.flags != 0) and np.all(net.flags <= 7)
    car = (net.flags & C) != 0
    assert np.all(net.car_speed_mps[car] > 0) and np.all(net.car_speed_mps[~car] == 0)
    assert net.name.min() >= -1 and net.name.max() < len(net.names)
    # lengths agree with the great-circle distance between the endpoints
    source = np.repeat(np.arange(n), np.diff(net.offset))
    lat1, lon1 = np.radians(net.lat[source]), np.radians(net.lon[source])
    lat2, lon2 = np.radians(net.lat[net.target]), np.radians(net.lon[net.target])
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    reference = 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))
    assert np.all(np.abs(net.length_m - reference) <= 0.05 * reference + 0.01)
    assert np.all(net.length_m > 0)


def test_missing_file_is_feed_not_found(tmp_path: Path) -> None:
    with pytest.raises(FeedNotFound):
        load_osm(tmp_path / "nowhere.osm.pbf")


def test_corrupt_files_are_format_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.osm.pbf"
    garbage.write_bytes(b"this is not a protocol buffer" * 20)
    with pytest.raises(FeedFormatError):
        load_osm(garbage)
    with pytest.raises(FeedFormatError):
        load_osm(tmp_path)  # a directory


def test_truncated_pbf_is_format_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.osm.pbf"
    writer = osmium.SimpleWriter(str(path))
    for k in range(2000):
        writer.add_node(Node(id=k + 1, location=(7.0 + k * 1e-4, 45.0 + (k % 7) * 1e-4)))
    writer.add_way(Way(id=1, nodes=list(range(1, 2001)), tags={"highway": "residential"}))
    writer.close()
    assert load_osm(path).n_nodes == 2000
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(FeedFormatError):
        load_osm(path)
