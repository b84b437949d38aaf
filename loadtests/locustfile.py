"""Locust scenarios for the HTTP API (FastHttpUser: geventhttpclient, the fastest locust client).

- ``CacheHitUser``: a few popular origin-destination pairs, asked over and over (cache hits).
- ``CacheMissUser``: random pairs at random minutes across the city (nearly every request misses),
  paced by ``MAAS_LOADTEST_USER_RPS`` when set (requests per second per user).
- ``MixedUser``: 80 % popular pairs, 15 % random pairs, 5 % stops near a place.
- ``BareUser``: the bare FastAPI endpoint of ``bare_app.py`` (the throughput yardstick).

The places come from a JSON file named by ``MAAS_LOADTEST_DATA`` (written by ``run.py`` from the
graph): ``{"hot": [[from, to, time], ...], "points": [[lat, lon], ...], "times": [iso, ...]}``.
Run through ``python -m loadtests.run``; by hand::

    MAAS_LOADTEST_DATA=data.json locust -f loadtests/locustfile.py --headless -u 10 -r 10 \\
        --run-time 20s --host http://127.0.0.1:8000 CacheHitUser
"""

from __future__ import annotations

import json
import os
import random
from functools import cache
from typing import Any

from locust import constant, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

JITTER_DEG = 0.003  # ~300 m: random places around stops, so random pairs rarely repeat


@cache
def data() -> dict[str, Any]:
    path = os.environ.get("MAAS_LOADTEST_DATA")
    if not path:
        raise RuntimeError("set MAAS_LOADTEST_DATA to the JSON file written by loadtests/run.py")
    with open(path, encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


def _random_place(rng: random.Random) -> str:
    lat, lon = rng.choice(data()["points"])
    return f"{lat + rng.uniform(-JITTER_DEG, JITTER_DEG):.6f},{lon + rng.uniform(-JITTER_DEG, JITTER_DEG):.6f}"


class _PlanUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        self.rng = random.Random()

    def plan_hot(self) -> None:
        frm, to, when = self.rng.choice(data()["hot"])
        self._plan({"from": frm, "to": to, "time": when}, "/v1/plan [hot pair]")

    def plan_random(self) -> None:
        params = {"from": _random_place(self.rng), "to": _random_place(self.rng), "time": self.rng.choice(data()["times"])}
        self._plan(params, "/v1/plan [random pair]")

    def _plan(self, params: dict[str, str], name: str) -> None:
        with self.client.get("/v1/plan", params=params, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}: {r.text[:200] if r.text else ''}")
            elif b'"itineraries"' not in (r.content or b""):
                r.failure("not a plan response")


class CacheHitUser(_PlanUser):
    @task
    def hot(self) -> None:
        self.plan_hot()


def _paced() -> Any:
    """``MAAS_LOADTEST_USER_RPS`` paces each user (an offered load, not a saturating one)."""
    rate = float(os.environ.get("MAAS_LOADTEST_USER_RPS") or 0)
    return constant_throughput(rate) if rate > 0 else constant(0)


class CacheMissUser(_PlanUser):
    wait_time = _paced()

    @task
    def random_pair(self) -> None:
        self.plan_random()


class MixedUser(_PlanUser):
    @task(80)
    def hot(self) -> None:
        self.plan_hot()

    @task(15)
    def random_pair(self) -> None:
        self.plan_random()

    @task(5)
    def stops_near(self) -> None:
        lat, lon = self.rng.choice(data()["points"])
        self.client.get("/v1/stops", params={"near": f"{lat:.5f},{lon:.5f}", "radius_m": "500"}, name="/v1/stops [near]")


class BareUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def bare(self) -> None:
        self.client.get("/bare", name="/bare")
