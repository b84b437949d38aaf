"""Build time and peak memory per data set (issue: Foundation; budget: 5k stops + city OSM <= 60 s).

    .venv/bin/python -m benchmarks.build [--sizes 5000,20000] [--only NAME] [--out docs/bench-build.json]

Each build runs in a fresh subprocess so peak RSS is that build's alone. The synthetic
cities are generated first (not timed as build). A baseline measured in the same run,
reading every input file once (sha256), puts the numbers in proportion on a noisy machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

SETS: dict[str, tuple[list[str], str | None]] = {
    "sao_paulo": (["sao_paulo/spo_gtfs.zip"], "sao_paulo/spo_osm.pbf"),
    "porto_alegre": (["porto_alegre/poa_eptc.zip", "porto_alegre/poa_trensurb.zip"], "porto_alegre/poa_osm.pbf"),
    "portland": (["portland/trimet-2routes.zip"], "portland/portland-central-filtered.osm.pbf"),
    "atlanta_cobb": (
        ["atlanta_cobb/cobblinc-bus-30-only.gtfs.zip", "atlanta_cobb/marta-bus-856-only.gtfs.zip"],
        "atlanta_cobb/cobb-county.filtered.osm.pbf",
    ),
    "bay_area": (["bay_area/gtfs/bart_rt.zip", "bay_area/gtfs/caltrain_ct.zip"], None),
    "wmata": (["gtfs_features/wmata.zip"], None),
    "cdmx": (["gtfs_features/cdmx.zip"], None),
    "kcm": (["gtfs_features/kcm_gtfs.zip"], None),
}

CHILD = """
import json, sys
from routing.build import build_graph
r = build_graph(json.loads(sys.argv[1]), osm=sys.argv[2] or None, out=sys.argv[3])
print(json.dumps({"seconds": r.seconds, "peak_rss_mb": r.peak_rss_mb, "counts": r.counts, "steps": r.step_seconds}))
"""


def _baseline(paths: list[Path]) -> float:
    t = time.perf_counter()
    for p in paths:
        hashlib.sha256(p.read_bytes()).hexdigest()
    return time.perf_counter() - t


def run_one(name: str, feeds: list[Path], osm: Path | None, out: Path) -> dict[str, object]:
    cmd = [sys.executable, "-c", CHILD, json.dumps([str(f) for f in feeds]), str(osm or ""), str(out)]
    wall = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - wall
    if proc.returncode != 0:
        return {"name": name, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(name=name, wall_s=round(wall, 2), baseline_read_s=round(_baseline([*feeds, *([osm] if osm else [])]), 4))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5000,20000")
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        for name, (feeds, osm) in SETS.items():
            if a.only and a.only != name:
                continue
            if not SHARED.is_dir():
                break
            r = run_one(name, [SHARED / f for f in feeds], SHARED / osm if osm else None, tmpd / name)
            results.append(r)
            print(json.dumps(r), flush=True)
        from feeds.synth import synth_city

        for size in [int(s) for s in a.sizes.split(",") if s]:
            name = f"synth_{size}"
            if a.only and a.only != name:
                continue
            t = time.perf_counter()
            city = synth_city(tmpd / name, stops=size, seed=1)
            gen = time.perf_counter() - t
            r = run_one(name, [Path(city.gtfs)], Path(city.osm), tmpd / f"{name}.graph")
            r["synth_s"] = round(gen, 2)
            results.append(r)
            print(json.dumps(r), flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
