"""Every GTFS set in ../shared/data loads, and matches the figures of its README.

The expected numbers below are copied from shared/data/README.md (stops, trips.txt rows,
service date range, busiest day); cross-checks against the raw files are computed here
from the zip with ``csv``, independently of the loader.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from feeds.gtfs import load_gtfs
from feeds.model import TransitData
from feeds.quality import Severity

pytestmark = pytest.mark.shared_data

D = dt.date


@dataclass(frozen=True)
class Readme:
    path: str
    stops: int
    trips: int  # trips.txt rows that load (frequency templates counted once)
    first: dt.date  # first / last day with an active service
    last: dt.date
    busiest: tuple[dt.date, int] | None  # day with most trips, and how many


SETS: dict[str, tuple[Readme, ...]] = {
    "sao_paulo": (
        Readme("sao_paulo/spo_gtfs.zip", 654, 36, D(2008, 1, 1), D(2020, 5, 1), (D(2008, 1, 1), 36)),
    ),
    "porto_alegre": (
        Readme(
            "porto_alegre/poa_eptc.zip", 3986, 2374, D(2019, 4, 15), D(2019, 7, 15), (D(2019, 4, 15), 2374)
        ),
        Readme(
            "porto_alegre/poa_trensurb.zip", 24, 1248, D(2019, 3, 1), D(2019, 12, 31), (D(2019, 3, 1), 529)
        ),
    ),
    "portland": (
        Readme(
            "portland/trimet-2routes.zip", 103, 2341, D(2021, 10, 17), D(2022, 1, 8), (D(2021, 12, 31), 315)
        ),
    ),
    "atlanta_cobb": (
        Readme(
            "atlanta_cobb/cobblinc-bus-30-only.gtfs.zip",
            187,
            317,
            D(2021, 7, 6),
            D(2022, 1, 31),
            (D(2021, 7, 6), 115),
        ),
        Readme(
            "atlanta_cobb/marta-bus-856-only.gtfs.zip",
            166,
            468,
            D(2021, 8, 14),
            D(2021, 12, 17),
            (D(2021, 8, 14), 78),
        ),
    ),
    "bart": (
        Readme("bay_area/gtfs/bart_rt.zip", 48, 2641, D(2019, 2, 11), D(2020, 2, 10), (D(2019, 2, 11), 1112)),
    ),
    "caltrain": (
        Readme(
            "bay_area/gtfs/caltrain_ct.zip", 109, 176, D(2023, 9, 23), D(2024, 6, 1), (D(2023, 9, 25), 104)
        ),
    ),
    "kcm": (
        Readme("gtfs_features/kcm_gtfs.zip", 56, 282, D(2016, 4, 13), D(2016, 9, 9), (D(2016, 4, 13), 114)),
    ),
    "wmata": (
        Readme("gtfs_features/wmata.zip", 2175, 16514, D(2026, 4, 29), D(2026, 9, 6), (D(2026, 5, 9), 2003)),
    ),
    "cdmx": (
        Readme("gtfs_features/cdmx.zip", 6021, 1741, D(2018, 1, 1), D(2019, 12, 31), (D(2018, 1, 1), 691)),
    ),
    # README: 1389 trips, but every stop time is GTFS-Flex (windows, no times): none can be routed.
    "ctran_flex": (Readme("gtfs_features/ctran-flex.zip", 293, 0, D(2025, 10, 1), D(2045, 12, 31), None),),
    "cobb_flex_dir": (
        Readme(
            "atlanta_cobb/cobblinc-scheduled-deviated-flex.gtfs",
            4,
            72,
            D(2021, 10, 19),
            D(2022, 1, 19),
            (D(2021, 10, 19), 72),
        ),
    ),
}


@pytest.fixture(scope="module")
def loaded(shared_data: Path) -> Callable[[str], TransitData]:
    cache: dict[str, TransitData] = {}

    def get(name: str) -> TransitData:
        if name not in cache:
            cache[name] = load_gtfs([shared_data / r.path for r in SETS[name]])
        return cache[name]

    return get


def feed_of(namespaced: str) -> str:
    return namespaced.split(":", 1)[0]


def templates_of(td: TransitData, feed: str) -> np.ndarray:
    """Index of the first trip row of each distinct trip id of ``feed`` (an expanded
    frequency template counts once, as in trips.txt)."""
    ids = np.array(td.trips.ids, dtype=object)
    _, first = np.unique(ids, return_index=True)
    return np.array([k for k in first if feed_of(ids[k]) == feed], dtype=np.int64)


@pytest.mark.parametrize("name", list(SETS))
def test_feed_set_matches_readme(loaded: Callable[[str], TransitData], name: str) -> None:
    td = loaded(name)
    assert [s.kind for s in td.sources] == ["gtfs"] * len(SETS[name])
    for source, readme in zip(td.sources, SETS[name], strict=True):
        fid = source.id
        assert sum(feed_of(i) == fid for i in td.stops.ids) == readme.stops
        templates = templates_of(td, fid)
        assert len(templates) == readme.trips
        assert (source.valid_from, source.valid_to) == (readme.first, readme.last)
        if readme.busiest is not None:
            per_day = td.services.active[td.trips.service[templates]].sum(axis=0)
            day = int(per_day.argmax())
            assert (td.services.base_date + dt.timedelta(days=day), int(per_day[day])) == readme.busiest
    assert td.services.dates() == (min(r.first for r in SETS[name]), max(r.last for r in SETS[name]))


@pytest.mark.parametrize("name", list(SETS))
def test_loaded_columns_are_consistent(loaded: Callable[[str], TransitData], name: str) -> None:
    td = loaded(name)
    assert not [n for n in td.notices if n.severity is Severity.ERROR]
    trips, st = td.trips, td.stop_times
    offsets = trips.st_offset
    assert offsets[0] == 0 and offsets[-1] == len(st.stop) and np.all(np.diff(offsets) >= 2)
    assert st.stop.min(initial=0) >= 0 and st.stop.max(initial=-1) < len(td.stops)
    assert np.all(st.arrival <= st.departure)
    # times never go back within a trip
    same_trip = np.repeat(np.arange(len(trips)), np.diff(offsets))
    inner = same_trip[1:] == same_trip[:-1]
    assert np.all(st.arrival[1:][inner] >= st.departure[:-1][inner])
    assert np.all((trips.route >= 0) & (trips.route < len(td.routes)))
    assert np.all((trips.service >= 0) & (trips.service < len(td.services.ids)))
    assert all(0 <= r.agency < len(td.agencies) for r in td.routes)
    assert len(set(td.stops.ids)) == len(td.stops)
    assert len(set(td.services.ids)) == len(td.services.ids)
    assert len({r.id for r in td.routes}) == len(td.routes)


def raw_rows(path: Path, name: str) -> Iterator[dict[str, str]]:
    with zipfile.ZipFile(path) as zf:
        yield from csv.DictReader(io.StringIO(zf.read(name).decode("utf-8-sig")))


def seconds(text: str) -> int:
    h, m, s = (int(x) for x in text.strip().split(":"))
    return h * 3600 + m * 60 + s


@pytest.mark.parametrize("name", ["sao_paulo", "cdmx"])
def test_frequency_templates_expand_to_every_departure(
    loaded: Callable[[str], TransitData], shared_data: Path, name: str
) -> None:
    td = loaded(name)
    [readme] = SETS[name]
    expected: dict[str, list[int]] = {}
    for row in raw_rows(shared_data / readme.path, "frequencies.txt"):
        start, end, step = seconds(row["start_time"]), seconds(row["end_time"]), int(row["headway_secs"])
        expected.setdefault(row["trip_id"].strip(), []).extend(range(start, end, step))
    fid = td.sources[0].id
    got: dict[str, list[int]] = {}
    for trip_id, start in zip(td.trips.ids, td.trips.freq_start.tolist(), strict=True):
        got.setdefault(trip_id.removeprefix(f"{fid}:"), []).append(start)
    assert got == {k: sorted(v) for k, v in expected.items()}
    # each expanded trip starts at its frequency start
    first_departure = td.stop_times.departure[td.trips.st_offset[:-1]]
    assert np.array_equal(first_departure, td.trips.freq_start)


def test_portland_overnight_trip_and_busiest_day(
    loaded: Callable[[str], TransitData], shared_data: Path
) -> None:
    td = loaded("portland")
    zip_path = shared_data / SETS["portland"][0].path
    latest = max(raw_rows(zip_path, "stop_times.txt"), key=lambda r: seconds(r["departure_time"]))
    trip_id, latest_s = latest["trip_id"], seconds(latest["departure_time"])
    assert latest_s > 86_400  # README: times span 03:20-28:33
    service_id = next(r["service_id"] for r in raw_rows(zip_path, "trips.txt") if r["trip_id"] == trip_id)
    expected = _service_dates(zip_path, service_id)
    assert expected

    fid = td.sources[0].id
    k = td.trips.ids.index(f"{fid}:{trip_id}")
    a, b = td.trips.st_offset[k], td.trips.st_offset[k + 1]
    assert int(td.stop_times.departure[a:b].max()) == latest_s
    s = td.trips.service[k]
    active = {
        td.services.base_date + dt.timedelta(days=int(d)) for d in np.flatnonzero(td.services.active[s])
    }
    assert active == expected  # the service day the trip starts on, not the next calendar day

    day = (D(2021, 12, 31) - td.services.base_date).days
    per_day = td.services.active[td.trips.service].sum(axis=0)  # no frequencies: one row per trip
    assert int(per_day[day]) == 315 == int(per_day.max())


def _service_dates(zip_path: Path, service_id: str) -> set[dt.date]:
    """Dates of one service straight from calendar.txt + calendar_dates.txt, day by day."""

    def date(text: str) -> dt.date:
        return dt.datetime.strptime(text.strip(), "%Y%m%d").date()

    days: set[dt.date] = set()
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    for row in raw_rows(zip_path, "calendar.txt"):
        if row["service_id"] == service_id:
            d = date(row["start_date"])
            while d <= date(row["end_date"]):
                if row[weekdays[d.weekday()]].strip() == "1":
                    days.add(d)
                d += dt.timedelta(days=1)
    for row in raw_rows(zip_path, "calendar_dates.txt"):
        if row["service_id"] == service_id:
            (days.add if row["exception_type"].strip() == "1" else days.discard)(date(row["date"]))
    return days


@pytest.mark.parametrize("name", ["porto_alegre", "atlanta_cobb"])
def test_two_feeds_keep_their_ids_apart(loaded: Callable[[str], TransitData], name: str) -> None:
    td = loaded(name)
    feeds = [s.id for s in td.sources]
    assert len(set(feeds)) == 2
    # every reference stays inside its own feed
    for k in range(len(td.trips)):
        fid = feed_of(td.trips.ids[k])
        assert feed_of(td.routes[td.trips.route[k]].id) == fid
        assert feed_of(td.services.ids[td.trips.service[k]]) == fid
        stops = td.stop_times.stop[td.trips.st_offset[k] : td.trips.st_offset[k + 1]]
        assert {feed_of(td.stops.ids[i]) for i in stops} == {fid}
    for route in td.routes:
        assert td.agencies[route.agency].feed_id == feed_of(route.id)
    assert len({feed_of(i) for i in td.stops.ids}) == 2


def test_atlanta_same_local_service_ids_stay_distinct(loaded: Callable[[str], TransitData]) -> None:
    td = loaded("atlanta_cobb")
    cobb, marta = (s.id for s in td.sources)
    assert marta == "MARTA"  # from feed_info.feed_id
    local = {fid: {i.split(":", 1)[1] for i in td.services.ids if feed_of(i) == fid} for fid in (cobb, marta)}
    shared = local[cobb] & local[marta]
    assert shared  # both feeds use generic service ids such as "3"
    for sid in shared:
        a, b = td.services.ids.index(f"{cobb}:{sid}"), td.services.ids.index(f"{marta}:{sid}")
        assert not np.array_equal(td.services.active[a], td.services.active[b])


def test_flex_feeds_skip_flex_rows_with_one_notice(loaded: Callable[[str], TransitData]) -> None:
    ctran = loaded("ctran_flex")
    [notice] = [n for n in ctran.notices if n.code == "flex_stop_times_skipped"]
    assert notice.message.startswith("2778 ") and notice.feed_id == "ctran-flex"
    assert len(ctran.trips) == 0 and ctran.services.n_days == 7397  # 2025-10-01 .. 2045-12-31

    cobb = loaded("cobb_flex_dir")
    [notice] = [n for n in cobb.notices if n.code == "flex_stop_times_skipped"]
    assert notice.message.startswith("144 ")
    assert len(cobb.stop_times.stop) == 2 * len(cobb.trips)  # the fixed first and last stop of each trip
