"""The CLI end to end on a tiny synthetic city: synth, validate, build, plan, export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from maas.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    res = runner.invoke(app, ["synth", "--out", str(out), "--stops", "80", "--seed", "2"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def graph(city: Path) -> Path:
    out = city / "graph"
    res = runner.invoke(app, ["build", str(city / "synth.zip"), "--osm", str(city / "streets.osm.pbf"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "manifest.json").is_file()
    return out


def test_validate_clean_feed_exits_zero_and_reports_json(city: Path) -> None:
    res = runner.invoke(app, ["validate", str(city / "synth.zip"), "--json", "--today", "2026-01-10"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)[0]
    assert report["feed_id"] == "synth"
    assert report["grade"] in {"A", "B"}


def test_validate_broken_feed_exits_nonzero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"this is not a zip file")
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 1
    assert "corrupt_zip" in res.stdout


def test_build_prints_counts_and_manifest_keys(graph: Path) -> None:
    manifest = json.loads((graph / "manifest.json").read_text())
    for key in ("schema_version", "graph_version", "built_at", "feeds", "counts", "arrays"):
        assert key in manifest
    assert {"stops", "trips", "patterns", "street_nodes", "street_edges", "transfers"} <= set(manifest["counts"])
    assert manifest["counts"]["stops"] == 80
    kinds = {f["kind"] for f in manifest["feeds"]}
    assert kinds == {"gtfs", "osm"}


def test_build_refuses_a_missing_feed_with_a_clear_message(tmp_path: Path) -> None:
    res = runner.invoke(app, ["build", str(tmp_path / "nope.zip"), "--out", str(tmp_path / "g")])
    assert res.exit_code != 0
    assert "nope.zip" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "g").exists()


def _two_stops(graph: Path) -> tuple[str, str]:
    from routing.graph import Graph

    g = Graph.load(graph)
    served = sorted({int(s) for s in g.timetable.pattern_stops})
    return g.stop_ids[served[0]], g.stop_ids[served[-1]]


def test_plan_json_and_batch_in_input_order(graph: Path, tmp_path: Path) -> None:
    a, b = _two_stops(graph)
    res = runner.invoke(
        app, ["plan", "--graph", str(graph), "--from", f"stop:{a}", "--to", f"stop:{b}", "--time",
              "2026-01-06T08:00:00+01:00", "--json"],
    )
    assert res.exit_code == 0, res.output
    one = json.loads(res.stdout)
    assert one["graph_version"] and one["itineraries"], one
    it = one["itineraries"][0]
    assert it["legs"][0]["from"]["stop_id"] == a or it["legs"][0]["mode"] == "walk"
    assert it["start_time"].startswith("2026-01-06T")

    q = tmp_path / "q.csv"
    rows = [
        {"from": f"stop:{a}", "to": f"stop:{b}", "time": "2026-01-06T08:00:00+01:00"},
        {"from": "stop:synth:NOPE", "to": f"stop:{b}", "time": "2026-01-06T08:00:00+01:00"},
        {"from": "not a place", "to": f"stop:{b}", "time": "2026-01-06T08:00:00+01:00"},
        {"from": f"stop:{b}", "to": f"stop:{a}", "time": "2026-01-06T09:00:00+01:00", "arrive_by": "true"},
    ]
    with q.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["from", "to", "time", "arrive_by"])
        w.writeheader()
        w.writerows(rows)
    res = runner.invoke(app, ["plan", "--graph", str(graph), "--batch", str(q)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
    assert len(lines) == 4
    assert lines[0]["itineraries"] == one["itineraries"]
    assert lines[1]["reason"] == "unknown_stop" and lines[1]["itineraries"] == []
    assert lines[2]["error"]["field"] == "from" and lines[2]["error"]["row"] == 3
    for it in lines[3]["itineraries"]:
        assert it["end_time"] <= "2026-01-06T09:00:00+01:00"


def test_plan_table_and_bad_input(graph: Path) -> None:
    a, b = _two_stops(graph)
    res = runner.invoke(app, ["plan", "--graph", str(graph), "--from", f"stop:{a}", "--to", f"stop:{b}",
                              "--time", "2026-01-06T08:00"])
    assert res.exit_code == 0, res.output
    assert "depart" in res.stdout
    res = runner.invoke(app, ["plan", "--graph", str(graph), "--from", "91,0", "--to", f"stop:{b}"])
    assert res.exit_code != 0 and "out of range" in res.output
    res = runner.invoke(app, ["plan", "--graph", str(graph.parent / "missing"), "--from", "1,1", "--to", "1,1"])
    assert res.exit_code != 0 and "maas build" in res.output


def test_export_transfers_matches_artifact(graph: Path) -> None:
    res = runner.invoke(app, ["export", "transfers", "--graph", str(graph)])
    assert res.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    manifest = json.loads((graph / "manifest.json").read_text())
    assert rows and len(rows) >= 1
    assert all(r["from_stop_id"].startswith("synth:") and int(r["seconds"]) >= 0 for r in rows)
    assert all(r["from_stop_id"] != r["to_stop_id"] for r in rows)
    assert manifest["counts"]["transfers"] >= len(rows) // 2


def test_build_is_deterministic(city: Path, graph: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    res = runner.invoke(app, ["build", str(city / "synth.zip"), "--osm", str(city / "streets.osm.pbf"), "--out", str(again)])
    assert res.exit_code == 0, res.output
    first = json.loads((graph / "manifest.json").read_text())
    second = json.loads((again / "manifest.json").read_text())
    assert first["graph_version"] == second["graph_version"]
    assert first["arrays"] == second["arrays"] and first["documents"] == second["documents"]
