"""Stop name search: the token-prefix index against the linear scan it replaced.

    .venv/bin/python -m benchmarks.stop_search [--stops 20000] [--repeat 200]

Generates the synthetic city's GTFS (``feeds.synth``, seed 1) in a temporary directory, reads
stops.txt, and times, per query, the old ``Graph.search_stops`` scan (kept here verbatim as
:func:`linear_search`) and :class:`routing.stop_search.StopNameIndex` (index build timed apart).
Both return the same stops; the script checks it.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import statistics
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

from routing.stop_search import StopNameIndex

QUERIES = ("p", "piazza", "via ver", "garibaldi", "corso pietro einaudi", "giuseppe verdi 3", "zzz")


def _fold(text: str) -> str:
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c)).casefold()


def linear_search(folded: list[str], parent: list[int], q: str) -> list[int]:
    """The scan ``Graph.search_stops`` did before the index (ranking only, no dedup)."""
    tokens = _fold(q).split()
    if not tokens:
        return []
    hits: list[tuple[tuple[int, int, int, str], int]] = []
    for i, name in enumerate(folded):
        words = name.replace("-", " ").replace("/", " ").split()
        if all(any(w.startswith(t) for w in words) for t in tokens):
            joined = " ".join(tokens)
            rank = (0 if name == joined else 1 if name.startswith(joined) else 2, 0 if parent[i] < 0 else 1, len(name), name)
            hits.append((rank, i))
    hits.sort()
    return [i for _, i in hits]


def _time_ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def _stops(size: int, out: Path) -> tuple[list[str], list[int]]:
    from feeds.synth import synth_city

    city = synth_city(out, stops=size, seed=1)
    with zipfile.ZipFile(city.gtfs) as z:
        rows = list(csv.DictReader(io.TextIOWrapper(z.open("stops.txt"), "utf-8-sig")))
    ids = {r["stop_id"]: k for k, r in enumerate(rows)}
    return [r["stop_name"] for r in rows], [ids[r["parent_station"]] if r.get("parent_station") else -1 for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--stops", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        names, parent = _stops(args.stops, Path(tmp) / "city")
    t0 = time.perf_counter()
    folded = [_fold(n) for n in names]
    fold_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    index = StopNameIndex(names, [p >= 0 for p in parent])
    build_ms = (time.perf_counter() - t0) * 1000
    print(f"{len(names)} stops; linear scan setup (fold names) {fold_ms:.0f} ms; index build {build_ms:.0f} ms")
    print("| query | matches | linear scan (ms) | index (ms) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    slow_repeat = max(3, args.repeat // 20)
    for q in QUERIES:
        old = linear_search(folded, parent, q)
        new = index.search(q).tolist()
        assert set(old) <= set(new), f"{q!r}: the index lost matches"  # it may add some (apostrophes)
        old_ms = _time_ms(functools.partial(linear_search, folded, parent, q), slow_repeat)
        new_ms = _time_ms(functools.partial(index.search, q, 20), args.repeat)
        print(f"| `{q}` | {len(new)} | {old_ms:.2f} | {new_ms:.3f} | {old_ms / new_ms:.0f}x |")


if __name__ == "__main__":
    main()
