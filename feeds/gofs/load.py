"""GOFS v1.0 loader: a directory of spec files -> :class:`GofsFeed` + notices.

Files are read by name (``zones.json``...; the split example files ``fares-1.json``...
of the reference are merged). The dynamic ``wait_time`` query has no file in the
specification; a recorded answer named ``wait_time.json``, ``wait_times.json`` or
``wait_time_response.json`` is read into ``GofsFeed.wait_times``, and
:func:`parse_wait_time` / :func:`fetch_wait_time` handle live answers.

Like the GBFS loader, a bad feed never raises: invalid JSON, an unknown version, a
missing required file or a dangling reference become notices. Only a directory that
does not exist raises :class:`feeds.errors.FeedNotFound`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import httpx

from feeds.errors import FeedNotFound
from feeds.gbfs.documents import (
    DirectoryReader,
    Document,
    JsonObject,
    MemoryReader,
    NoticeLog,
    RawFiles,
    RecordingReader,
    as_float,
    as_int,
    as_str,
    as_str_list,
    fetch_url,
    parse_document,
    parse_polygons,
    records,
)
from feeds.gofs.model import (
    BookingRule,
    Fare,
    FareSegment,
    GofsCalendar,
    GofsFeed,
    GofsSystem,
    GofsVehicleType,
    OperatingRule,
    RealtimeBooking,
    ServiceBrand,
    Zone,
)
from feeds.model import ns
from feeds.quality import Notice, Severity
from feeds.sources import check_feed_id, default_feed_id

KNOWN_VERSIONS = frozenset({"1.0"})
REQUIRED_FILES = ("system_information", "service_brands", "zones", "operating_rules", "calendars")
OPTIONAL_FILES = ("vehicle_types", "fares", "booking_rules")
WAIT_TIME_FILES = ("wait_time", "wait_times", "wait_time_response")
_TIME = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
T = TypeVar("T")


def load_gofs(
    path: str | Path,
    *,
    feed_id: str | None = None,
    language: str = "en",
    files: RawFiles | None = None,
    record: RawFiles | None = None,
) -> tuple[GofsFeed, tuple[Notice, ...]]:
    """Load a GOFS directory. ``feed_id`` (default: the directory's name) namespaces ids.

    ``files`` (name -> bodies, as ``record`` collects them) are read instead of the
    directory (a graph artifact keeps what its build read); ``record`` receives every
    body read."""
    root = Path(path)
    if files is None and not root.is_dir():
        raise FeedNotFound(f"GOFS directory not found: {root}")
    fid = check_feed_id(feed_id) if feed_id else default_feed_id(root).replace(":", "_")
    log = NoticeLog(fid)
    reader: DirectoryReader | MemoryReader | RecordingReader = (
        MemoryReader(files, str(root)) if files is not None else DirectoryReader(root)
    )
    if record is not None:
        reader = RecordingReader(reader, record)
    docs: dict[str, list[Document]] = {}
    for name in ("gofs", *REQUIRED_FILES, *OPTIONAL_FILES, *WAIT_TIME_FILES):
        fetched = reader.read(name)
        if fetched.error:
            log.add(Severity.ERROR, "unreachable_feed", f"{name}: {fetched.error}", file=f"{name}.json")
        docs[name] = [
            d for loc, raw in fetched.bodies if (d := parse_document(name, loc, raw, log, f"{name}.json"))
        ]
        if len(fetched.bodies) > 1:
            log.add(
                Severity.INFO,
                "split_example_files",
                f"{name}: merged {len(fetched.bodies)} example files",
                file=f"{name}.json",
            )
    _check_files(docs, log)
    version = next((d.version for found in docs.values() for d in found if d.version), "")
    feed = _build(fid, str(root), version, docs, log)
    _check_references(feed, log)
    return feed, log.notices()


def _check_files(docs: dict[str, list[Document]], log: NoticeLog) -> None:
    for name in ("gofs", *REQUIRED_FILES):
        if not docs[name]:
            log.add(
                Severity.ERROR,
                "missing_required_gofs_file",
                f"{name}.json is missing or unreadable (required by GOFS v1.0)",
                file=f"{name}.json",
            )
    versions = sorted({d.version or "(none)" for found in docs.values() for d in found})
    for v in versions:
        if v not in KNOWN_VERSIONS:
            log.add(
                Severity.WARNING,
                "unknown_gofs_version",
                f"GOFS version {v!r} is not one of {', '.join(sorted(KNOWN_VERSIONS))}; read as v1.0",
                field="version",
            )


def _each(found: list[Document], key: str) -> Iterator[tuple[int, JsonObject, str]]:
    for doc in found:
        for i, rec in enumerate(records(doc.data, key), 1):
            yield i, rec, f"{doc.name}.json"


def parse_time(value: object) -> int | None:
    """``HH:MM:SS`` (hours may pass 24) as seconds; None when absent or malformed."""
    m = _TIME.match(as_str(value))
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) if m else None


def _date(value: object) -> dt.date | None:
    m = _DATE.match(as_str(value))
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _build(fid: str, source: str, version: str, docs: dict[str, list[Document]], log: NoticeLog) -> GofsFeed:
    def nid(local: object) -> str:
        return ns(fid, as_str(local))

    info = docs["system_information"][0].data if docs["system_information"] else {}
    system = GofsSystem(
        name=as_str(info.get("name")),
        timezone=as_str(info.get("timezone")),
        language=as_str(info.get("language")),
        short_name=as_str(info.get("short_name")),
        operator=as_str(info.get("operator")),
        url=as_str(info.get("url")),
        phone_number=as_str(info.get("phone_number")),
        email=as_str(info.get("email")),
        version=version,
    )
    brands = _unique(
        (
            (
                row,
                file,
                as_str(b.get("brand_id")),
                ServiceBrand(
                    nid(b.get("brand_id")),
                    as_str(b.get("brand_name")),
                    as_str(b.get("brand_color")),
                    as_str(b.get("brand_text_color")),
                ),
            )
            for row, b, file in _each(docs["service_brands"], "service_brands")
        ),
        log,
    )
    vehicle_types = _unique(
        (
            (
                row,
                file,
                as_str(v.get("vehicle_type_id")),
                GofsVehicleType(
                    nid(v.get("vehicle_type_id")),
                    as_int(v.get("max_capacity")),
                    as_str(v.get("wheelchair_boarding")),
                ),
            )
            for row, v, file in _each(docs["vehicle_types"], "vehicle_types")
        ),
        log,
    )
    return GofsFeed(
        id=fid,
        source=source,
        system=system,
        brands=brands,
        vehicle_types=vehicle_types,
        zones=_zones(fid, docs["zones"], log),
        operating_rules=_operating_rules(fid, docs["operating_rules"], log),
        calendars=_calendars(fid, docs["calendars"], log),
        fares=_fares(fid, docs["fares"], log),
        booking_rules=_booking_rules(fid, docs["booking_rules"], log),
        wait_times=next(
            (_wait_times(fid, found[0].data) for found in (docs[n] for n in WAIT_TIME_FILES) if found), ()
        ),
    )


def _unique(items: Iterator[tuple[int, str, str, T]], log: NoticeLog) -> tuple[T, ...]:
    """Items with a local id, first of each id kept, others noted."""
    seen: set[str] = set()
    out: list[T] = []
    for row, file, local, item in items:
        if not local:
            log.record(
                Severity.WARNING,
                "missing_required_field",
                "records without their id (dropped)",
                file=file,
                row=row,
            )
            continue
        if local in seen:
            log.record(
                Severity.WARNING,
                "duplicate_id",
                "duplicate ids (first kept)",
                file=file,
                row=row,
                example=local,
            )
            continue
        seen.add(local)
        out.append(item)
    return tuple(out)


def _zones(fid: str, found: list[Document], log: NoticeLog) -> tuple[Zone, ...]:
    items = []
    for doc in found:
        collection = doc.data.get("zones")
        features = collection.get("features") if isinstance(collection, dict) else None
        if not isinstance(features, list):
            log.add(
                Severity.ERROR, "invalid_json", "zones is not a GeoJSON FeatureCollection", file="zones.json"
            )
            continue
        for row, feature in enumerate(features, 1):
            if not isinstance(feature, dict):
                continue
            props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
            assert isinstance(props, dict)
            # the reference puts zone_id beside geometry; some producers put it in properties
            local = as_str(feature.get("zone_id")) or as_str(props.get("zone_id"))
            polygons = parse_polygons(feature.get("geometry"))
            if polygons is None:
                log.record(
                    Severity.WARNING,
                    "invalid_geometry",
                    "zones without a valid (Multi)Polygon geometry (dropped)",
                    file="zones.json",
                    row=row,
                    example=local,
                )
                continue
            items.append(
                (row, "zones.json", local, Zone(ns(fid, local), as_str(props.get("name")), polygons))
            )
    return _unique(iter(items), log)


def _operating_rules(fid: str, found: list[Document], log: NoticeLog) -> tuple[OperatingRule, ...]:
    out = []
    for row, r, file in _each(found, "operating_rules"):
        start, end_pickup, end_dropoff = (
            parse_time(r.get(k)) for k in ("start_pickup_window", "end_pickup_window", "end_dropoff_window")
        )
        bad_time = any(
            r.get(k) is not None and v is None
            for k, v in (
                ("start_pickup_window", start),
                ("end_pickup_window", end_pickup),
                ("end_dropoff_window", end_dropoff),
            )
        )
        if (
            not (as_str(r.get("from_zone_id")) and as_str(r.get("to_zone_id")))
            or bad_time
            or (start is not None and end_pickup is None and end_dropoff is None)
        ):
            log.record(
                Severity.WARNING,
                "invalid_operating_rule",
                "operating rules without zones or with unusable windows (dropped)",
                file=file,
                row=row,
            )
            continue
        brand = as_str(r.get("brand_id"))
        fare = as_str(r.get("fare_id"))
        out.append(
            OperatingRule(
                from_zone_id=ns(fid, as_str(r.get("from_zone_id"))),
                to_zone_id=ns(fid, as_str(r.get("to_zone_id"))),
                calendar_ids=tuple(ns(fid, c) for c in as_str_list(r.get("calendars"))),
                vehicle_type_ids=tuple(ns(fid, v) for v in as_str_list(r.get("vehicle_type_id"))),
                brand_id=ns(fid, brand) if brand else None,
                fare_id=ns(fid, fare) if fare else None,
                start_pickup_s=start,
                end_pickup_s=end_pickup,
                end_dropoff_s=end_dropoff,
            )
        )
    return tuple(out)


def _calendars(fid: str, found: list[Document], log: NoticeLog) -> tuple[GofsCalendar, ...]:
    items = []
    for row, c, file in _each(found, "calendars"):
        local = as_str(c.get("calendar_id"))
        start, end = _date(c.get("start_date")), _date(c.get("end_date"))
        if start is None or end is None or end < start:
            log.record(
                Severity.WARNING,
                "invalid_calendar",
                "calendars without a valid start_date..end_date (dropped)",
                file=file,
                row=row,
                example=local,
            )
            continue
        days = as_str_list(c.get("days"))
        excepted = frozenset(
            d for d in (_date(x) for x in as_str_list(c.get("excepted_dates"))) if d is not None
        )
        calendar = GofsCalendar(
            ns(fid, local),
            start,
            end,
            GofsCalendar.day_numbers(days) if days else frozenset(range(7)),
            excepted,
        )
        items.append((row, file, local, calendar))
    return _unique(iter(items), log)


def _segments(raw: object) -> tuple[FareSegment, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for seg in raw:
        amount = as_float(seg.get("amount")) if isinstance(seg, dict) else None
        if isinstance(seg, dict) and amount is not None:
            out.append(
                FareSegment(
                    amount,
                    as_float(seg.get("start")),
                    as_float(seg.get("end")),
                    as_float(seg.get("interval")),
                )
            )
    return tuple(out)


def _fares(fid: str, found: list[Document], log: NoticeLog) -> tuple[Fare, ...]:
    items = []
    for row, f, file in _each(found, "fares"):
        local = as_str(f.get("fare_id"))
        fare = Fare(
            id=ns(fid, local),
            currency=as_str(f.get("currency")),
            kilometer=_segments(f.get("kilometer")),
            minute=_segments(f.get("minute")),
            active_minute=_segments(f.get("active_minute")),
            idle_minute=_segments(f.get("idle_minute")),
            rider=_segments(f.get("rider")),
            luggage=_segments(f.get("luggage")),
        )
        items.append((row, file, local, fare))
    return _unique(iter(items), log)


def _booking_rules(fid: str, found: list[Document], log: NoticeLog) -> tuple[BookingRule, ...]:
    out = []
    for row, b, file in _each(found, "booking_rules"):
        kind = as_int(b.get("booking_type"))
        from_zones = as_str_list(b.get("from_zone_ids"))
        if kind not in (0, 1, 2) or not from_zones:
            log.record(
                Severity.WARNING,
                "invalid_booking_rule",
                "booking rules without from_zone_ids or a booking_type of 0, 1, 2 (dropped)",
                file=file,
                row=row,
            )
            continue
        to_zones = b.get("to_zone_ids")
        out.append(
            BookingRule(
                from_zone_ids=tuple(ns(fid, z) for z in from_zones),
                to_zone_ids=None if to_zones is None else tuple(ns(fid, z) for z in as_str_list(to_zones)),
                booking_type=kind,
                prior_notice_duration_min=as_int(b.get("prior_notice_duration_min")),
                prior_notice_duration_max=as_int(b.get("prior_notice_duration_max")),
                prior_notice_last_day=as_int(b.get("prior_notice_last_day")),
                prior_notice_last_time_s=parse_time(b.get("prior_notice_last_time")),
                prior_notice_start_day=as_int(b.get("prior_notice_start_day")),
                prior_notice_start_time_s=parse_time(b.get("prior_notice_start_time")),
                message=as_str(b.get("message")),
                phone_number=as_str(b.get("phone_number")),
                info_url=as_str(b.get("info_url")),
                booking_url=as_str(b.get("booking_url")),
            )
        )
    return tuple(out)


def _check_references(feed: GofsFeed, log: NoticeLog) -> None:
    zones = {z.id for z in feed.zones}
    vehicle_types = {v.id for v in feed.vehicle_types}

    def check(file: str, row: int, kind: str, ref: str | None, known: set[str] | dict[str, object]) -> None:
        if ref is not None and ref not in known:
            log.record(
                Severity.WARNING,
                "unknown_reference",
                f"references to undefined {kind}",
                file=file,
                row=row,
                example=ref,
            )

    for row, r in enumerate(feed.operating_rules, 1):
        for zone in (r.from_zone_id, r.to_zone_id):
            check("operating_rules.json", row, "zones", zone, zones)
        for cal in r.calendar_ids:
            check("operating_rules.json", row, "calendars", cal, dict(feed.calendars_by_id))
        check("operating_rules.json", row, "service brands", r.brand_id, dict(feed.brands_by_id))
        check("operating_rules.json", row, "fares", r.fare_id, dict(feed.fares_by_id))
        for vt in r.vehicle_type_ids:
            check("operating_rules.json", row, "vehicle types", vt, vehicle_types)
    for row, b in enumerate(feed.booking_rules, 1):
        for zone in (*b.from_zone_ids, *(b.to_zone_ids or ())):
            check("booking_rules.json", row, "zones", zone, zones)


# -- the dynamic queries --------------------------------------------------------------------


def _wait_times(fid: str, data: JsonObject) -> tuple[tuple[str, int], ...]:
    out = []
    for w in records(data, "wait_times"):
        brand, seconds = as_str(w.get("brand_id")), as_int(w.get("wait_time"))
        if brand and seconds is not None and seconds >= 0:
            out.append((ns(fid, brand), seconds))
    return tuple(out)


def _response_data(response: bytes | str | JsonObject) -> JsonObject:
    doc = json.loads(response) if isinstance(response, bytes | str) else response
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise ValueError("a GOFS response is an object with a 'data' object")
    return data


def parse_wait_time(response: bytes | str | JsonObject, feed_id: str) -> dict[str, int]:
    """A ``wait_time`` answer as {namespaced brand id: wait in seconds}.

    Raises ValueError when the answer is not JSON or not shaped like one.
    """
    return dict(_wait_times(feed_id, _response_data(response)))


def parse_realtime_booking(response: bytes | str | JsonObject, feed_id: str) -> tuple[RealtimeBooking, ...]:
    """A ``realtime_booking`` answer, one entry per brand. Raises ValueError when malformed."""
    out = []
    for r in records(_response_data(response), "realtime_booking"):
        brand, wait = as_str(r.get("brand_id")), as_int(r.get("wait_time"))
        if not brand or wait is None:
            continue
        detail = r.get("booking_detail") if isinstance(r.get("booking_detail"), dict) else {}
        assert isinstance(detail, dict)
        out.append(
            RealtimeBooking(
                brand_id=ns(feed_id, brand),
                wait_s=wait,
                travel_time_s=as_int(r.get("travel_time")),
                travel_cost=as_float(r.get("travel_cost")),
                currency=as_str(r.get("travel_cost_currency")),
                service_name=as_str(detail.get("service_name")),
                android_uri=as_str(detail.get("android_uri")),
                ios_uri=as_str(detail.get("ios_uri")),
                web_uri=as_str(detail.get("web_uri")),
                phone_number=as_str(detail.get("phone_number")),
            )
        )
    return tuple(out)


def wait_time_url(
    endpoint: str,
    pickup: tuple[float, float],
    drop_off: tuple[float, float] | None = None,
    brand_ids: Sequence[str] = (),
) -> str:
    """The query URL of a ``wait_time`` endpoint; points are (lat, lon), brand ids local."""
    params: dict[str, str] = {"pickup_lat": f"{pickup[0]:.6f}", "pickup_lon": f"{pickup[1]:.6f}"}
    if drop_off is not None:
        params |= {"drop_off_lat": f"{drop_off[0]:.6f}", "drop_off_lon": f"{drop_off[1]:.6f}"}
    if brand_ids:
        params["brand_id"] = ",".join(brand_ids)
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params, safe=',')}"


def fetch_wait_time(
    client: httpx.Client,
    endpoint: str,
    feed_id: str,
    pickup: tuple[float, float],
    drop_off: tuple[float, float] | None = None,
    brand_ids: Sequence[str] = (),
) -> dict[str, int] | None:
    """Ask a live ``wait_time`` endpoint; None when it cannot be reached or answers garbage."""
    fetched = fetch_url(client, wait_time_url(endpoint, pickup, drop_off, brand_ids))
    if not fetched.found:
        return None
    try:
        return parse_wait_time(fetched.bodies[0][1], feed_id)
    except ValueError:
        return None
