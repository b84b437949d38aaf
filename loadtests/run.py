"""Headless load test of the API against DESIGN section 5's budgets, on 127.0.0.1 only.

    python -m loadtests.run --graph DIR [--users 20] [--duration 30s] [--workers 1] [--out DIR]

Starts (and always stops) what it needs: redis-server on a free loopback port (unless
``--no-redis``), the API (``python -m maas.cli serve``) and a bare FastAPI endpoint returning the
same bytes as a cached plan. Then, each bounded in users and time:

1. locust (FastHttpUser) per scenario: ``hit`` (popular pairs), ``miss`` (random pairs), ``mixed``;
2. the cache-hit throughput ratio: wrk with 16 connections (locust when wrk is absent) against a
   cached /v1/plan URL and against the bare endpoint, alternately, best of two each.

Writes the locust CSVs, the server logs, ``summary.json`` and ``summary.md`` to ``--out`` and
prints the summary table.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCENARIOS = {"hit": "CacheHitUser", "miss": "CacheMissUser", "miss_max": "CacheMissUser", "mixed": "MixedUser"}
BUDGETS = {
    "miss_p95_ms": 100.0,
    "hit_p99_ms": 10.0,
    "hit_throughput_ratio": 0.70,
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse_duration(text: str) -> int:
    m = re.fullmatch(r"(\d+)\s*([smh]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"duration like 30s, 2m: {text!r}")
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


# -- processes ----------------------------------------------------------------------------------------


@dataclass
class Processes:
    """Every process this run starts, stopped in reverse order whatever happens."""

    started: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], *, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        fh = log.open("wb")
        proc = subprocess.Popen(list(argv), stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                start_new_session=True)
        fh.close()
        self.started.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for _name, proc in reversed(self.started):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # its own session: uvicorn workers go too
        for _name, proc in reversed(self.started):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.started.clear()


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready within {timeout_s} s")


def wait_redis(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return
        time.sleep(0.05)
    raise RuntimeError(f"redis-server on {port} did not answer")


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        body: bytes = r.read()
        return body


# -- scenario data ------------------------------------------------------------------------------------


def scenario_data(graph_dir: Path, *, hot_pairs: int = 20, seed: int = 7) -> dict[str, Any]:
    """Popular pairs, random points (served stops) and departure times on a service day."""
    import numpy as np

    from routing.graph import Graph

    g = Graph.load(graph_dir, verify=False)
    served = np.zeros(g.n_stops, dtype=bool)
    served[np.asarray(g.timetable.pattern_stops)] = True
    idx = np.flatnonzero(served)
    lat, lon = np.asarray(g.stop_lat)[idx], np.asarray(g.stop_lon)[idx]
    points = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lat, lon, strict=True)]
    start = g.meta.base_date
    day = start + dt.timedelta(days=(7 - start.weekday()) % 7 + 1)  # a Tuesday of service
    zone = ZoneInfo(g.timezone)
    rng = random.Random(seed)
    times = [
        dt.datetime.combine(day, dt.time(rng.randrange(6, 20), rng.randrange(60)), zone).isoformat()
        for _ in range(500)
    ]
    peak = dt.datetime.combine(day, dt.time(8, 0), zone).isoformat()
    hot = []
    for _ in range(hot_pairs):
        a, b = rng.sample(points, 2)
        hot.append([f"{a[0]:.6f},{a[1]:.6f}", f"{b[0]:.6f},{b[1]:.6f}", peak])
    return {"graph_version": g.version, "hot": hot, "points": points, "times": times}


def plan_url(base: str, pair: Sequence[str]) -> str:
    return f"{base}/v1/plan?" + urllib.parse.urlencode({"from": pair[0], "to": pair[1], "time": pair[2]})


# -- measuring ---------------------------------------------------------------------------------------


def read_locust_csv(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_stats.csv")
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def counters(base: str) -> dict[str, float]:
    """Cache events, and engine time (sum, count) from /metrics."""
    text = get(f"{base}/metrics").decode()
    out: dict[str, float] = {}
    for m in re.finditer(r'^maas_cache_events_total\{backend="(\w+)",event="(\w+)"\} ([0-9.e+]+)$', text, re.M):
        out[m.group(2)] = out.get(m.group(2), 0.0) + float(m.group(3))
    for m in re.finditer(r'^maas_engine_duration_seconds_(sum|count)\{engine="raptor"\} ([0-9.e+]+)$', text, re.M):
        out[f"engine_{m.group(1)}"] = float(m.group(2))
    return out


def run_locust(user_class: str, host: str, users: int, seconds: int, prefix: Path, env: dict[str, str],
               procs: Processes) -> None:
    argv = [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless", "-u", str(users),
            "-r", str(users), "--run-time", f"{seconds}s", "--stop-timeout", "5", "--host", host,
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", user_class]
    proc = procs.start(f"locust-{user_class}", argv, log=Path(f"{prefix}.log"), env=env)
    try:
        proc.wait(timeout=seconds + 90)  # locust exits 1 when a request failed: the CSV says which
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def run_wrk(url: str, seconds: int, connections: int = 16, threads: int = 2) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout
    result: dict[str, float] = {"rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([0-9.]+)(us|ms|s|m)\s*$", out, re.M):
        result[f"p{pct}_ms"] = float(value) * _WRK_UNITS[unit]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = float(errors.group(1)) if errors else 0.0
    if socket_errors:
        result["errors"] += sum(float(x) for x in socket_errors.groups())
    return result


def ratio_with_locust(api_url: str, bare_base: str, api_base: str, users: int, seconds: int, out: Path,
                      env: dict[str, str], procs: Processes) -> dict[str, Any]:
    """Without wrk: locust drives both (FastHttpUser), the ratio of their request rates."""
    run_locust("BareUser", bare_base, users, seconds, out / "ratio_bare", env, procs)
    run_locust("CacheHitUser", api_base, users, seconds, out / "ratio_api", env, procs)
    bare = next(r for r in read_locust_csv(out / "ratio_bare") if r["Name"] == "Aggregated")
    api = next(r for r in read_locust_csv(out / "ratio_api") if r["Name"] == "Aggregated")
    return {"tool": "locust", "api": {"rps": float(api["Requests/s"]), "p99_ms": float(api["99%"])},
            "bare": {"rps": float(bare["Requests/s"]), "p99_ms": float(bare["99%"])}, "url": api_url}


# -- summary ------------------------------------------------------------------------------------------


def summarize(results: dict[str, Any]) -> str:
    rows = ["| scenario | requests | failures | req/s | p50 ms | p95 ms | p99 ms | budget | verdict |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for name, r in results["scenarios"].items():
        agg = r["aggregated"]
        if name == "miss":
            budget = f"p95 <= {BUDGETS['miss_p95_ms']:.0f} ms, 0 errors"
            ok = agg["p95_ms"] <= BUDGETS["miss_p95_ms"] and agg["failures"] == 0
        elif name == "miss_max":
            budget = "0 errors (capacity: latency is queueing)"
            ok = agg["failures"] == 0
        elif name == "hit":
            budget = "0 errors (latency and throughput: see wrk row)"
            ok = agg["failures"] == 0
        else:
            budget = "0 errors"
            ok = agg["failures"] == 0
        load = f"{r['users']} users" + (f", {r['offered_rps']:.0f} req/s offered" if r.get("offered_rps") else "")
        engine = f", engine {r['engine_mean_ms']:.1f} ms" if r.get("engine_mean_ms") else ""
        rows.append(f"| {name} ({load}{engine}) | {agg['requests']} | {agg['failures']} | {agg['rps']:.0f} | "
                    f"{agg['p50_ms']:.0f} | {agg['p95_ms']:.0f} | {agg['p99_ms']:.0f} | {budget} | "
                    f"{'PASS' if ok else 'FAIL'} |")
    ratio = results.get("ratio")
    if ratio:
        api, bare = ratio["api"], ratio["bare"]
        rows.append(
            f"| cache hit vs bare ({ratio['tool']}, 16 conn) | | {int(api.get('errors', 0))} | {api['rps']:.0f} vs "
            f"{bare['rps']:.0f} = {ratio['ratio']:.0%} | {api.get('p50_ms', float('nan')):.2f} | | "
            f"{api.get('p99_ms', float('nan')):.2f} | >= {BUDGETS['hit_throughput_ratio']:.0%} of bare, "
            f"p99 <= {BUDGETS['hit_p99_ms']:.0f} ms | "
            f"{'PASS' if ratio['ratio'] >= BUDGETS['hit_throughput_ratio'] and api.get('p99_ms', 1e9) <= BUDGETS['hit_p99_ms'] else 'FAIL'} |"
        )
    return "\n".join(rows)


def _aggregate(rows: list[dict[str, str]]) -> dict[str, Any]:
    agg = next((r for r in rows if r["Name"] == "Aggregated"), None)
    if agg is None:
        return {"requests": 0, "failures": 0, "rps": 0.0, "p50_ms": float("nan"), "p95_ms": float("nan"),
                "p99_ms": float("nan")}

    def num(key: str) -> float:
        value = agg.get(key) or "nan"
        return float("nan") if value == "N/A" else float(value)

    return {"requests": int(num("Request Count")), "failures": int(num("Failure Count")), "rps": num("Requests/s"),
            "p50_ms": num("50%"), "p95_ms": num("95%"), "p99_ms": num("99%")}


# -- main ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loadtests.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--graph", type=Path, required=True, help="graph artifact directory")
    ap.add_argument("--users", type=int, default=20, help="locust users per scenario (bounded: 1..200)")
    ap.add_argument("--duration", type=parse_duration, default=parse_duration("30s"), help="per scenario (<= 10m)")
    ap.add_argument("--ratio-duration", type=parse_duration, default=parse_duration("10s"))
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers of the API (and of the bare app)")
    ap.add_argument("--scenarios", default="hit,miss,miss_max,mixed",
                    help="hit, miss (paced at --miss-rps), miss_max (no pacing: capacity), mixed")
    ap.add_argument("--miss-rps", type=float, default=40.0,
                    help="offered load of the miss scenario, requests/s over all users (0: unpaced)")
    ap.add_argument("--no-redis", action="store_true", help="in-process LRU instead of Redis")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    if not 1 <= args.users <= 200 or not 1 <= args.duration <= 600 or not 1 <= args.ratio_duration <= 120:
        ap.error("keep the run bounded: 1..200 users, at most 10 minutes per scenario, 2 minutes per ratio run")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if unknown := set(scenarios) - set(SCENARIOS):
        ap.error(f"unknown scenario(s) {sorted(unknown)}; known: {sorted(SCENARIOS)}")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = (args.out or Path(tempfile.gettempdir()) / "maas-loadtests" / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)

    data = scenario_data(args.graph)
    (out / "data.json").write_text(json.dumps(data))
    env = {**os.environ, "MAAS_LOADTEST_DATA": str(out / "data.json"), "PYTHONPATH": str(REPO)}
    env = {k: v for k, v in env.items() if not k.startswith("MAAS_") or k == "MAAS_LOADTEST_DATA"}
    results: dict[str, Any] = {"graph": str(args.graph), "graph_version": data["graph_version"],
                               "workers": args.workers, "users": args.users, "duration_s": args.duration,
                               "cache": "lru" if args.no_redis else "redis", "scenarios": {},
                               "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                               "budgets": BUDGETS, "cpus": os.cpu_count(),
                               "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    procs = Processes()
    try:
        api_env = dict(env, MAAS_LOG_LEVEL="INFO")
        if not args.no_redis:
            redis_bin = shutil.which("redis-server")
            if redis_bin is None:
                raise SystemExit("redis-server not found: install it or pass --no-redis")
            redis_port = free_port()
            procs.start("redis", [redis_bin, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no"], log=out / "redis.log")
            wait_redis(redis_port, 10)
            api_env["MAAS_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        api_port = free_port()
        api = procs.start("api", [sys.executable, "-m", "maas.cli", "serve", "--graph", str(args.graph),
                                  "--host", "127.0.0.1", "--port", str(api_port), "--workers", str(args.workers)],
                          log=out / "api.log", env=api_env)
        base = f"http://127.0.0.1:{api_port}"
        t0 = time.monotonic()
        wait_http(f"{base}/v1/ready", 120, api)
        results["ready_s"] = round(time.monotonic() - t0, 2)
        for pair in data["hot"]:  # warm the popular pairs (and the JIT) before measuring
            get(plan_url(base, pair))
        hot_url = plan_url(base, data["hot"][0])
        body = get(hot_url)
        (out / "cached_body.json").write_bytes(body)

        for name in scenarios:
            before = counters(base)
            paced = name == "miss" and args.miss_rps > 0
            scenario_env = dict(env, MAAS_LOADTEST_USER_RPS=str(args.miss_rps / args.users)) if paced else env
            run_locust(SCENARIOS[name], base, args.users, args.duration, out / name, scenario_env, procs)
            after = counters(base)
            delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
            engine_n = delta.pop("engine_count", 0)
            engine_s = delta.pop("engine_sum", 0)
            results["scenarios"][name] = {
                "users": args.users,
                "offered_rps": args.miss_rps if paced else None,
                "aggregated": _aggregate(read_locust_csv(out / name)),
                "cache_events": delta,
                "engine_mean_ms": round(engine_s / engine_n * 1e3, 2) if engine_n else None,
            }

        bare_port = free_port()
        bare = procs.start("bare", [sys.executable, "-m", "uvicorn", "loadtests.bare_app:app", "--host", "127.0.0.1",
                                    "--port", str(bare_port), "--workers", str(args.workers), "--no-access-log",
                                    "--log-level", "warning"],
                           log=out / "bare.log", env=dict(env, MAAS_BARE_BODY=str(out / "cached_body.json")))
        bare_base = f"http://127.0.0.1:{bare_port}"
        wait_http(f"{bare_base}/bare", 60, bare)
        assert get(f"{bare_base}/bare") == body
        if shutil.which("wrk"):
            runs: dict[str, list[dict[str, float]]] = {"api": [], "bare": []}
            for _ in range(2):  # alternate, best of two: other load on the machine hits both alike
                runs["api"].append(run_wrk(hot_url, args.ratio_duration))
                runs["bare"].append(run_wrk(f"{bare_base}/bare", args.ratio_duration))
            ratio: dict[str, Any] = {"tool": "wrk", "url": hot_url,
                                     "api": max(runs["api"], key=lambda r: r["rps"]),
                                     "bare": max(runs["bare"], key=lambda r: r["rps"]), "runs": runs}
        else:
            ratio = ratio_with_locust(hot_url, bare_base, base, args.users, args.ratio_duration, out, env, procs)
        ratio["ratio"] = ratio["api"]["rps"] / ratio["bare"]["rps"]
        results["ratio"] = ratio
    finally:
        procs.stop_all()

    table = summarize(results)
    results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    (out / "summary.json").write_text(json.dumps(results, indent=2))
    header = (f"graph {results['graph_version']}, cache {results['cache']}, {args.workers} worker(s), "
              f"{args.users} users x {args.duration} s per scenario, ready in {results.get('ready_s')} s, "
              f"{os.cpu_count()} CPUs shared by load generator and server; load average (1/5/15 min) "
              f"{results['load_average_before']} before, {results['load_average_after']} after")
    (out / "summary.md").write_text(f"{header}\n\n{table}\n")
    print(header)
    print(table)
    print(f"\nCSVs, logs and summary in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
