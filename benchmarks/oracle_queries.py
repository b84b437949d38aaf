"""Random stop-to-stop queries for the shared oracle (``../shared/tools/oracle_check.py``).

    .venv/bin/python -m benchmarks.oracle_queries ../shared/data/portland/trimet-2routes.zip \\
        --feed trimet --date 2021-12-02 --offset=-08:00 --n 200 --seed 1 > q.csv

Pairs of distinct platforms (``location_type`` 0 or empty) and a departure minute between
05:00 and 22:59, written as ``from,to,time`` with ``stop:FEED:ID`` places: the input of
``maas plan --batch`` and of the oracle.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import zipfile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gtfs")
    ap.add_argument("--feed", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--offset", required=True, help="UTC offset of the times, e.g. -08:00")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with zipfile.ZipFile(a.gtfs) as z, z.open("stops.txt") as fh:
        rows = csv.DictReader(io.TextIOWrapper(fh, "utf-8-sig"))
        stops = [r["stop_id"] for r in rows if r.get("location_type", "0") in ("", "0")]
    rng = random.Random(a.seed)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["from", "to", "time"])
    for _ in range(a.n):
        o, d = rng.sample(stops, 2)
        h, m = rng.randint(5, 22), rng.randint(0, 59)
        w.writerow([f"stop:{a.feed}:{o}", f"stop:{a.feed}:{d}", f"{a.date}T{h:02d}:{m:02d}:00{a.offset}"])


if __name__ == "__main__":
    main()
