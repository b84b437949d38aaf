"""``maas matrix``, ``maas accessibility`` and ``maas isochrone`` end to end on the analysis city."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from maas.cli import app
from routing.analysis import UNREACHED, AnalysisOptions, TravelTimeComputer
from tests.routing.test_analysis import City, build_city

runner = CliRunner()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return build_city(tmp_path_factory)


def _write(path: Path, city: City, n: int) -> Path:
    p = city.points
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "lat", "lon", "jobs"])
        for i in range(n):
            w.writerow([p.ids[i], repr(float(p.lat[i])), repr(float(p.lon[i])), int(p.weights["jobs"][i])])
    return path


def test_matrix_cli_equals_library(city: City, tmp_path: Path) -> None:
    o, d = _write(tmp_path / "o.csv", city, 4), _write(tmp_path / "d.csv", city, 6)
    out = tmp_path / "m.csv"
    res = runner.invoke(app, ["matrix", "--graph", str(city.path), "--origins", str(o), "--destinations", str(d),
                              "--time", city.departure.isoformat(), "--percentiles", "25,75", "--out", str(out),
                              "--threads", "2"])
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == ["from_id", "to_id", "travel_time_p25", "travel_time_p75"]
    assert len(rows) == 1 + 4 * 6
    options = AnalysisOptions(departure=city.departure, percentiles=(25, 75))
    want = TravelTimeComputer(city.graph, options).matrix(city.points.take(slice(0, 4)), city.points.take(slice(0, 6)))
    got = np.array([[int(v) if v else UNREACHED for v in r[2:]] for r in rows[1:]]).T.reshape(2, 4, 6)
    np.testing.assert_array_equal(got, want.minutes)


def test_accessibility_and_isochrone_cli(city: City, tmp_path: Path) -> None:
    o, d = _write(tmp_path / "o.csv", city, 3), _write(tmp_path / "d.csv", city, 10)
    res = runner.invoke(app, ["accessibility", "--graph", str(city.path), "--origins", str(o), "--destinations",
                              str(d), "--time", city.departure.isoformat(), "--cutoffs", "20,40"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["id"], r["cutoff"]) for r in rows[:2]] == [("p0", "20"), ("p0", "40")]
    assert all(r["opportunity"] == "jobs" for r in rows)
    assert float(rows[1]["accessibility"]) >= float(rows[0]["accessibility"]) > 0
    lat, lon = float(city.points.lat[0]), float(city.points.lon[0])
    res = runner.invoke(app, ["isochrone", "--graph", str(city.path), "--from", f"{lat},{lon}", "--time",
                              city.departure.isoformat(), "--minutes", "10,20"])
    assert res.exit_code == 0, res.output
    fc = json.loads(res.stdout)
    assert [f["properties"]["travel_time"] for f in fc["features"]] == [10, 20]


def test_cli_errors_name_the_option(city: City, tmp_path: Path) -> None:
    o = _write(tmp_path / "o.csv", city, 2)
    res = runner.invoke(app, ["matrix", "--graph", str(city.path), "--origins", str(o), "--destinations", str(o),
                              "--time", city.departure.isoformat(), "--percentiles", "50,abc"])
    assert res.exit_code == 2 and "--percentiles" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lat\na,1\n", encoding="utf-8")
    res = runner.invoke(app, ["matrix", "--graph", str(city.path), "--origins", str(bad), "--destinations", str(o),
                              "--time", city.departure.isoformat()])
    assert res.exit_code == 2 and "--origins" in res.output and "lon" in res.output
