"""Analysis on the built-in engine: matrices against plan(), percentiles, isochrones,
accessibility, outputs and the Dask path, on a synthetic city built with the real pipeline."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
import shapely.geometry

from routing.analysis import UNREACHED, AnalysisOptions, Points, TravelTimeComputer, percentile_minutes
from routing.analysis.accessibility import accessibility, opportunity_weights
from routing.analysis.isochrones import isochrones, place_seconds
from routing.errors import BadRequest
from routing.graph import Graph
from routing.plan import Place, PlanRequest
from routing.raptor_kernels import INF
from routing.raptor_planner import EngineOptions, RaptorPlanner


@dataclass(frozen=True)
class City:
    graph: Graph
    path: Path
    departure: dt.datetime
    points: Points  # near served stops, a little off them


def _points_near_stops(graph: Graph, n: int, seed: int) -> Points:
    rng = np.random.default_rng(seed)
    served = np.zeros(graph.n_stops, dtype=bool)
    served[np.asarray(graph.timetable.pattern_stops)] = True
    cand = np.flatnonzero(served & (np.asarray(graph.stop_node) >= 0))
    pick = rng.choice(cand, n, replace=False)
    lat = np.asarray(graph.stop_lat)[pick] + rng.uniform(-0.003, 0.003, n)
    lon = np.asarray(graph.stop_lon)[pick] + rng.uniform(-0.003, 0.003, n)
    return Points(tuple(f"p{i}" for i in range(n)), lat, lon, {"jobs": rng.integers(1, 100, n).astype(float)})


def build_city(tmp_path_factory: pytest.TempPathFactory) -> City:
    """A 120-stop synthetic city built with the real pipeline, 08:00 on a Tuesday of service."""
    from feeds.synth import synth_city
    from routing.build import build_graph

    root = tmp_path_factory.mktemp("analysis_city")
    synth = synth_city(root / "city", stops=120, seed=3)
    report = build_graph([synth.gtfs], osm=synth.osm, out=root / "graph")
    graph = Graph.load(report.path)
    start = graph.meta.base_date
    day = start + dt.timedelta(days=(7 - start.weekday()) % 7 + 1)  # a Tuesday of service
    when = dt.datetime(day.year, day.month, day.day, 8, tzinfo=ZoneInfo(graph.timezone))
    return City(graph, Path(report.path), when, _points_near_stops(graph, 10, seed=4))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return build_city(tmp_path_factory)


def plan_envelope(
    graph: Graph, options: AnalysisOptions, origin: tuple[float, float], dests: Points
) -> tuple[np.ndarray, bool]:
    """Per departure minute and destination: seconds from that minute to the earliest
    arrival plan() gives for that minute, INF beyond max_time (exact per minute: plan() is
    monotone, a later departure never arrives earlier). Also whether some best itinerary
    rides transit."""
    planner = RaptorPlanner(graph, EngineOptions(walk_mps=options.walk_mps, max_transfers=options.max_transfers))
    offsets = [int(o) for o in options.departure_offsets]
    arrive = np.full((len(offsets), len(dests)), INF, np.int64)  # seconds after the first minute
    rides = False
    for m, off in enumerate(offsets):
        when = options.departure + dt.timedelta(seconds=off)
        for j in range(len(dests)):
            result = planner.plan(
                PlanRequest(Place(*origin), Place(float(dests.lat[j]), float(dests.lon[j])), when,
                            modes=options.modes, max_walk_m=options.max_walk_m, num_itineraries=20)
            )  # fmt: skip
            if result.itineraries:
                best = min(result.itineraries, key=lambda it: it.end_time)
                arrive[m, j] = int((best.end_time - options.departure).total_seconds())
                rides |= any(leg.route is not None for leg in best.legs)
    out = np.full_like(arrive, INF)
    for m, off in enumerate(offsets):
        secs = arrive[m] - off
        out[m] = np.where((arrive[m] < INF) & (secs <= options.max_time_s), secs, INF)
    return out, rides


@pytest.mark.parametrize(("window_s", "max_walk_m"), [(300, 1000.0), (180, 2500.0)])
def test_matrix_equals_plan_per_departure_minute(city: City, window_s: int, max_walk_m: float) -> None:
    options = AnalysisOptions(departure=city.departure, window_s=window_s, max_walk_m=max_walk_m)
    computer = TravelTimeComputer(city.graph, options)
    pts = city.points.take(slice(0, 6))
    dests = computer.destinations(pts)
    any_rides = False
    reached = 0
    for i in range(len(pts)):
        origin = (float(pts.lat[i]), float(pts.lon[i]))
        got = computer.origin_seconds(*origin, dests).seconds
        want, rides = plan_envelope(city.graph, options, origin, pts)
        any_rides |= rides
        reached += int((want < INF).sum())
        np.testing.assert_array_equal(got, want, err_msg=f"origin {i}")
    assert any_rides, "no best itinerary used transit: the comparison would not test the kernel"
    assert reached > 0


def test_walk_only_matrix_equals_plan(city: City) -> None:
    options = AnalysisOptions(departure=city.departure, window_s=120, modes=frozenset({"walk"}), max_walk_m=1500)
    computer = TravelTimeComputer(city.graph, options)
    pts = city.points.take(slice(0, 5))
    dests = computer.destinations(pts)
    for i in range(len(pts)):
        origin = (float(pts.lat[i]), float(pts.lon[i]))
        want, rides = plan_envelope(city.graph, options, origin, pts)
        assert not rides
        np.testing.assert_array_equal(computer.origin_seconds(*origin, dests).seconds, want)
        # walking does not depend on the departure minute
        assert (want == want[0]).all()


def test_minutes_follow_r5_reduction(city: City) -> None:
    options = AnalysisOptions(departure=city.departure, window_s=600, percentiles=(25, 50, 75))
    computer = TravelTimeComputer(city.graph, options)
    dests = computer.destinations(city.points)
    o = (float(city.points.lat[0]), float(city.points.lon[0]))
    secs = computer.origin_seconds(*o, dests).seconds
    got = computer.origin_minutes(*o, dests)
    assert secs.shape == (10, len(city.points))
    for k, p in enumerate(options.percentiles):
        for j in range(len(city.points)):
            per_minute = sorted(s // 60 if s < INF else math.inf for s in secs[:, j])
            value = per_minute[math.ceil(p / 100 * len(per_minute)) - 1]
            assert got[k, j] == (value if value < options.max_time_s // 60 else UNREACHED)


def test_percentile_minutes_known_values() -> None:
    # R5: truncate to minutes, index ceil(p/100 n) - 1, max_time and beyond unreachable
    secs = np.array([[59, 7199, 10], [60, 7200, 20], [119, 30, 30], [INF, 40, 40]], np.int64)
    out = percentile_minutes(secs, (25, 50, 75, 99), 7200)
    assert out[:, 0].tolist() == [0, 1, 1, UNREACHED]
    assert out[:, 1].tolist() == [0, 0, 119, UNREACHED]
    assert out[:, 2].tolist() == [0, 0, 0, 0]


def test_percentiles_are_monotone(city: City) -> None:
    options = AnalysisOptions(departure=city.departure, window_s=900, percentiles=(5, 25, 50, 75, 95))
    m = TravelTimeComputer(city.graph, options).matrix(city.points, city.points, threads=2).minutes
    assert (m[2] >= 0).mean() > 0.5
    spread = False
    for lo, hi in itertools.pairwise(m):
        both = (lo >= 0) & (hi >= 0)
        assert (lo[both] <= hi[both]).all()
        assert not ((lo < 0) & (hi >= 0)).any(), "a lower percentile unreachable but a higher one not"
        spread |= bool((lo[both] < hi[both]).any())
    assert spread, "no cell varies over the window: the percentiles are not exercised"


def test_matrix_threads_equal_one_thread(city: City) -> None:
    options = AnalysisOptions(departure=city.departure, percentiles=(25, 75))
    computer = TravelTimeComputer(city.graph, options)
    calls: list[tuple[int, int]] = []
    a = computer.matrix(city.points, city.points, threads=1, progress=lambda d, n: calls.append((d, n)))
    b = computer.matrix(city.points, city.points, threads=3)
    np.testing.assert_array_equal(a.minutes, b.minutes)
    assert calls[-1] == (len(city.points), len(city.points))


def test_csv_and_records(city: City) -> None:
    pts = city.points.take(slice(0, 3))
    one = TravelTimeComputer(city.graph, AnalysisOptions(departure=city.departure)).matrix(pts, pts)
    buf = io.StringIO()
    assert one.write_csv(buf) == 9
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0] == ["from_id", "to_id", "travel_time"]
    assert [r[:2] for r in rows[1:4]] == [["p0", "p0"], ["p0", "p1"], ["p0", "p2"]]
    assert [int(r[2]) if r[2] else UNREACHED for r in rows[1:]] == one.minutes[0].ravel().tolist()
    many = TravelTimeComputer(city.graph, AnalysisOptions(departure=city.departure, percentiles=(25, 50))).matrix(
        pts, pts
    )
    assert many.columns == ["from_id", "to_id", "travel_time_p25", "travel_time_p50"]
    rec = many.records()
    assert rec[1] == {"from_id": "p0", "to_id": "p1", "travel_time_p25": int(many.minutes[0, 0, 1]),
                      "travel_time_p50": int(many.minutes[1, 0, 1])}


def test_unreachable_is_null_and_empty(city: City) -> None:
    # a destination far outside the city: no street, no stop within walking distance
    pts = city.points.take(slice(0, 2))
    far = Points(("far",), np.array([float(pts.lat[0]) + 1.0]), np.array([float(pts.lon[0])]))
    m = TravelTimeComputer(city.graph, AnalysisOptions(departure=city.departure)).matrix(pts, far)
    assert (m.minutes == UNREACHED).all()
    assert all(r["travel_time"] is None for r in m.records())
    buf = io.StringIO()
    m.write_csv(buf)
    assert buf.getvalue().splitlines()[1] == "p0,far,"


def test_isochrone_contains_every_stop_reached_within_its_limit(city: City) -> None:
    options = AnalysisOptions(departure=city.departure, window_s=300)
    computer = TravelTimeComputer(city.graph, options)
    lat, lon = float(city.points.lat[0]), float(city.points.lon[0])
    limits = [10, 20, 30]
    fc = isochrones(computer, lat, lon, limits)
    stop_s, node_s = place_seconds(computer, lat, lon)
    assert fc["type"] == "FeatureCollection"
    assert [f["properties"]["travel_time"] for f in fc["features"]] == limits
    stops = shapely.points(np.asarray(city.graph.stop_lon), np.asarray(city.graph.stop_lat))
    areas = []
    for f, limit in zip(fc["features"], limits, strict=True):
        shape = shapely.geometry.shape(f["geometry"])
        assert shape.geom_type in ("Polygon", "MultiPolygon") and shape.is_valid
        inside = stop_s <= limit * 60
        assert inside.any()
        assert shapely.covers(shape, stops[inside]).all(), f"a stop reached within {limit} min is outside"
        # a street node reached within the limit is inside too
        if node_s.size:
            streets = city.graph.streets
            assert streets is not None
            near = np.flatnonzero(node_s <= limit * 60)
            nodes = shapely.points(np.asarray(streets.lon)[near], np.asarray(streets.lat)[near])
            assert shapely.covers(shape, nodes).all()
        areas.append(shape.area)
    assert areas == sorted(areas) and areas[0] < areas[-1]
    # the smallest isochrone leaves out stops reached much later
    small = shapely.geometry.shape(fc["features"][0]["geometry"])
    late = np.flatnonzero(np.isfinite(stop_s) & (stop_s > 20 * 60))
    assert late.size and not shapely.covers(small, stops[late]).all()


def test_isochrone_rejects_bad_limits(city: City) -> None:
    computer = TravelTimeComputer(city.graph, AnalysisOptions(departure=city.departure))
    with pytest.raises(BadRequest) as e:
        isochrones(computer, float(city.points.lat[0]), float(city.points.lon[0]), [0, 500])
    assert e.value.field == "minutes"


def test_accessibility_sums_weights_below_each_cutoff(city: City) -> None:
    options = AnalysisOptions(departure=city.departure, percentiles=(50, 75))
    m = TravelTimeComputer(city.graph, options).matrix(city.points, city.points)
    name, weights = opportunity_weights(city.points, None)
    assert name == "jobs"
    acc = accessibility(m, weights, [30, 10, 20], name)
    assert acc.cutoffs == (10, 20, 30)
    for k in range(2):
        for i in range(len(city.points)):
            for c, cut in enumerate(acc.cutoffs):
                want = sum(w for t, w in zip(m.minutes[k, i].tolist(), weights.tolist(), strict=True) if 0 <= t < cut)
                assert acc.values[k, i, c] == pytest.approx(want)
            assert list(acc.values[k, i]) == sorted(acc.values[k, i])
    assert acc.values[0, :, -1].sum() > acc.values[0, :, 0].sum()
    rows = list(acc.rows())
    assert rows[0] == ("p0", "jobs", 50, 10, float(acc.values[0, 0, 0]))
    with pytest.raises(BadRequest) as e:
        opportunity_weights(city.points, "population")
    assert e.value.field == "opportunities"


def test_points_from_csv(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("id,lat,lon,jobs,name\na,45.0,7.6,10,x\nb,45.1,7.7,2.5,y\n", encoding="utf-8")
    pts = Points.from_csv(f)
    assert pts.ids == ("a", "b")
    assert list(pts.weights) == ["jobs"]  # text columns are not weights
    assert pts.weights["jobs"].tolist() == [10.0, 2.5]
    f.write_text("id,lat,lon\na,95,7.6\n", encoding="utf-8")
    with pytest.raises(BadRequest) as e:
        Points.from_csv(f, "destinations")
    assert e.value.field == "destinations[0].lat"
    f.write_text("id,lon\na,7.6\n", encoding="utf-8")
    with pytest.raises(BadRequest) as e:
        Points.from_csv(f, "origins")
    assert e.value.field == "origins" and "lat" in e.value.message
    with pytest.raises(BadRequest) as e:
        Points.from_records([{"id": "a", "lat": 1, "lon": 2}, {"id": "a", "lat": 1, "lon": 2}], "origins")
    assert e.value.field == "origins.id"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"percentiles": (50, 25)}, "percentiles"),
        ({"percentiles": (0,)}, "percentiles"),
        ({"window_s": -1}, "window_s"),
        ({"max_time_s": 30}, "max_time_min"),
        ({"modes": frozenset({"car"})}, "modes"),
    ],
)
def test_options_name_the_bad_field(kwargs: dict[str, object], field: str) -> None:
    when = dt.datetime(2026, 1, 6, 8, tzinfo=dt.UTC)
    with pytest.raises(BadRequest) as e:
        AnalysisOptions(departure=when, **kwargs)  # type: ignore[arg-type]
    assert e.value.field == field
    with pytest.raises(BadRequest) as e:
        AnalysisOptions(departure=dt.datetime(2026, 1, 6, 8))
    assert e.value.field == "time"


def test_dask_equals_in_process(city: City) -> None:
    distributed = pytest.importorskip("distributed")
    from routing.analysis.distributed import dask_matrix

    options = AnalysisOptions(departure=city.departure, percentiles=(25, 50, 75))
    local = TravelTimeComputer(city.graph, options).matrix(city.points, city.points, threads=2)
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        done: list[int] = []
        remote = dask_matrix(city.path, city.points, city.points, options, client=client, batch_size=3,
                             progress=lambda d, n: done.append(d))
        # by scheduler address (what MAAS_DASK_SCHEDULER gives), the client opened and closed here
        by_address = dask_matrix(city.path, city.points.take(slice(0, 4)), city.points, options,
                                 address=cluster.scheduler_address, batch_size=2)
    assert remote.origins == local.origins and remote.destinations == local.destinations
    np.testing.assert_array_equal(remote.minutes, local.minutes)
    assert done[-1] == len(city.points) and len(done) == 4  # four batches of at most 3
    np.testing.assert_array_equal(by_address.minutes, local.minutes[:, :4, :])
