"""Publish new feed versions while clients plan: failed requests, swap time, no mixed graph versions.

    python -m loadtests.publish [--stops 300] [--workers 2] [--users 8] [--duration 30s] [--publishes 2]

Everything on 127.0.0.1, bounded in users, requests and time, and every process started here is
stopped (its own process group) whatever happens:

1. synthesizes a city, builds its graph, creates an admin key (``maas keys create``) and starts
   ``maas serve --workers N`` on a fresh data dir (``MAAS_SWAP_POLL_S=0.5``);
2. ``--users`` async clients (httpx) loop over fixed queries on ``/v1/plan`` for ``--duration``,
   recording for each response its status, its ``graph_version`` and when it was sent;
3. meanwhile, ``--publishes`` times, uploads the GTFS with every stop time shifted by some minutes
   (``PUT /v1/feeds/{id}``) and follows the job to its end;
4. afterwards, for every graph version seen, plans each query in process on that version's
   artifact and checks that every response carrying that ``graph_version`` has exactly those
   itineraries: a response mixing two graphs would not match the one it names.

Reports failed requests (target 0), per publish the build time and the swap time (from the
pointer being written until no worker answers with the old graph: the last request *sent* after
the deployment that got the old version), and the mismatches (target 0). ``--out`` gets
``publish_summary.json`` and the server log.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from loadtests.run import REPO, Processes, free_port, parse_duration, wait_http


@dataclass
class Sample:
    query: int
    sent: float  # epoch seconds
    status: int
    graph_version: str | None
    itineraries: Any


def shift_feed(src: Path, minutes: int) -> bytes:
    """The GTFS zip with every stop time ``minutes`` later (another graph, same geography)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "stop_times.txt":
                rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
                cols = [rows[0].index(c) for c in ("arrival_time", "departure_time") if c in rows[0]]
                for row in rows[1:]:
                    for c in cols:
                        if row[c]:
                            h, m, s = (int(x) for x in row[c].split(":"))
                            t = h * 3600 + m * 60 + s + minutes * 60
                            row[c] = f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"
                out = io.StringIO()
                csv.writer(out, lineterminator="\n").writerows(rows)
                data = out.getvalue().encode()
            zout.writestr(name, data)
    return buf.getvalue()


def queries(graph_path: Path, n: int) -> list[dict[str, str]]:
    """``n`` stop-to-stop-ish queries across the city at 07:30..08:30 on a service day."""
    import numpy as np

    from routing.graph import Graph

    g = Graph.load(graph_path)
    served = np.zeros(g.n_stops, dtype=bool)
    served[np.asarray(g.timetable.pattern_stops)] = True
    idx = np.flatnonzero(served)
    rng = np.random.default_rng(7)
    start = g.meta.base_date
    day = start + dt.timedelta(days=(7 - start.weekday()) % 7 + 1)
    from zoneinfo import ZoneInfo

    out = []
    for k in range(n):
        a, b = rng.choice(idx, 2, replace=False)
        when = dt.datetime.combine(day, dt.time(7, 30), tzinfo=ZoneInfo(g.timezone)) + dt.timedelta(minutes=3 * k)
        out.append({"from": f"{float(g.stop_lat[a]):.6f},{float(g.stop_lon[a]):.6f}",
                    "to": f"{float(g.stop_lat[b]):.6f},{float(g.stop_lon[b]):.6f}", "time": when.isoformat()})
    return out


async def client_loop(base: str, qs: list[dict[str, str]], stop_at: float, user: int, out: list[Sample],
                      max_requests: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as c:
        k = user
        while time.time() < stop_at and len(out) < max_requests:
            q = k % len(qs)
            k += 1
            sent = time.time()
            try:
                r = await c.get("/v1/plan", params=qs[q])
                body = r.json() if r.status_code == 200 else {}
                out.append(Sample(q, sent, r.status_code, body.get("graph_version"), body.get("itineraries")))
            except (httpx.HTTPError, ValueError):
                out.append(Sample(q, sent, 0, None, None))


async def publisher(base: str, token: str, feed_id: str, gtfs: Path, shifts: list[int], start_after: float,
                    gap_s: float) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    headers = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(start_after)
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as c:
        for minutes in shifts:
            body = shift_feed(gtfs, minutes)
            t0 = time.time()
            r = await c.put(f"/v1/feeds/{feed_id}", content=body, headers=headers)
            if r.status_code != 202:
                results.append({"shift_min": minutes, "error": f"{r.status_code}: {r.text[:300]}"})
                continue
            while True:
                job = (await c.get(r.headers["location"], headers=headers)).json()
                if job["status"] in ("succeeded", "failed"):
                    break
                await asyncio.sleep(0.1)
            results.append({"shift_min": minutes, "uploaded_at": t0, "job": job})
            await asyncio.sleep(gap_s)
    return results


async def expected_answers(artifact: Path, qs: list[dict[str, str]]) -> list[Any]:
    """The itineraries each query gets on ``artifact``, planned in process through the same app code."""
    from maas.app import create_app
    from maas.settings import Settings

    app = create_app(Settings(graph=artifact, redis_url=None, data_dir=artifact.parent / ".expect",
                              swap_poll_s=0, access_log=False))
    transport = httpx.ASGITransport(app=app)
    out = []
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://x") as c:
        for q in qs:
            out.append((await c.get("/v1/plan", params=q)).json()["itineraries"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stops", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--duration", default="30s")
    ap.add_argument("--publishes", type=int, default=2)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--max-requests", type=int, default=50_000)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="Keep the work dir (city, graph, data dir).")
    args = ap.parse_args(argv)
    duration = parse_duration(args.duration)
    out = args.out or Path(tempfile.gettempdir()) / "maas-loadtests" / f"publish-{dt.datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="maas-publish-"))
    py = sys.executable
    cli = [py, "-m", "maas.cli"]

    def run(*a: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run([*cli, *a], cwd=REPO, check=True, capture_output=True, text=True, env=env).stdout

    print(f"work dir {work}; results in {out}")
    run("synth", "--out", str(work / "city"), "--stops", str(args.stops), "--seed", "3")
    run("build", str(work / "city" / "synth.zip"), "--osm", str(work / "city" / "streets.osm.pbf"),
        "--out", str(work / "graph"))
    data = work / "data"
    env = {**os.environ, "MAAS_DATA_DIR": str(data), "MAAS_SWAP_POLL_S": "0.5", "MAAS_KEY_RATE_PER_S": "1000",
           "MAAS_KEY_BURST": "1000", "MAAS_ACCESS_LOG": "false", "MAAS_LOG_LEVEL": "INFO"}
    env.pop("MAAS_REDIS_URL", None)
    token = run("keys", "create", "--scope", "admin", "--name", "loadtest", env=env).strip()
    qs = queries(work / "graph", args.queries)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = Processes()
    summary: dict[str, Any] = {}
    try:
        api = procs.start("api", [*cli, "serve", "--graph", str(work / "graph"), "--port", str(port),
                                  "--workers", str(args.workers)], log=out / "api.log", env=env)
        wait_http(f"{base}/v1/ready", 120, api)
        feed_id = next(f["id"] for f in httpx.get(f"{base}/v1/feeds").json()["feeds"] if f["kind"] == "gtfs")

        async def scenario() -> tuple[list[Sample], list[dict[str, Any]]]:
            samples: list[Sample] = []
            stop_at = time.time() + duration
            gap = max(1.0, duration / (args.publishes + 1))
            users = [client_loop(base, qs, stop_at, u, samples, args.max_requests) for u in range(args.users)]
            shifts = [2 * (k + 1) for k in range(args.publishes)]
            pub = publisher(base, token, feed_id, work / "city" / "synth.zip", shifts, gap / 2, gap)
            results = await asyncio.gather(pub, *users)
            return samples, results[0]

        t0 = time.time()
        samples, publishes = asyncio.run(scenario())
        wall = time.time() - t0
    finally:
        procs.stop_all()

    # -- verification: every response against the answers of the graph it names ---------------------
    versions = sorted({s.graph_version for s in samples if s.graph_version})
    expected: dict[str, list[Any]] = {}
    for v in versions:
        artifact = data / "artifacts" / v
        if not artifact.is_dir():
            artifact = work / "graph"  # the original build, before the catalog copied it
        expected[v] = asyncio.run(expected_answers(artifact, qs))
    failed = [s for s in samples if s.status != 200]
    mismatched = [s for s in samples if s.status == 200 and (s.graph_version not in expected
                                                             or expected[s.graph_version][s.query] != s.itineraries)]
    swaps = []
    previous = next((s.graph_version for s in sorted(samples, key=lambda s: s.sent) if s.graph_version), None)
    for p in publishes:
        job = p.get("job") or {}
        if job.get("status") != "succeeded":
            swaps.append({"shift_min": p["shift_min"], "error": p.get("error") or job.get("errors")})
            continue
        deployed = dt.datetime.fromisoformat(job["finished_at"]).timestamp()
        started = dt.datetime.fromisoformat(job["started_at"]).timestamp()
        stale = [s.sent for s in samples if s.graph_version == previous and s.sent >= deployed]
        swaps.append({"shift_min": p["shift_min"], "graph_version": job["graph_version"],
                      "build_s": round(deployed - started, 3), "upload_to_live_s": round(deployed - p["uploaded_at"], 3),
                      "swap_s": round(max(stale) - deployed, 3) if stale else 0.0,
                      "old_version_answers_after_deploy": len(stale)})
        previous = job["graph_version"]
    ok = [s for s in samples if s.status == 200]
    summary = {
        "stops": args.stops, "workers": args.workers, "users": args.users, "duration_s": round(wall, 1),
        "requests": len(samples), "rps": round(len(samples) / wall, 1), "failed": len(failed),
        "failed_statuses": sorted({s.status for s in failed}), "graph_versions_seen": versions,
        "responses_per_version": {v: sum(1 for s in ok if s.graph_version == v) for v in versions},
        "mismatched": len(mismatched),
        # the check can tell versions apart: queries whose answers differ between the first two versions
        "queries_distinguishing_versions": (
            sum(1 for q in range(len(qs)) if expected[versions[0]][q] != expected[versions[1]][q])
            if len(versions) >= 2 else None),
        "publishes": swaps,
    }
    (out / "publish_summary.json").write_text(json.dumps(summary, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary, indent=2))
    good = not failed and not mismatched and all("error" not in s for s in swaps)
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
