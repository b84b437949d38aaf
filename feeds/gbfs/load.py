"""GBFS 1.x-3.0 loader: a directory of spec files or the URL of a ``gbfs.json``.

:func:`load_gbfs` reads everything once and returns the static :class:`GbfsFeed`, the
live :class:`GbfsStatus` and the notices; :func:`load_gbfs_status` re-reads only the
status files of an already loaded feed (what :class:`feeds.gbfs.live.LiveGbfs` polls).

A bad feed never raises: invalid JSON, an unknown version, a missing required file, a
stale ``last_updated`` or an unreachable URL become notices (codes in docs/quality.md
style) and the loader keeps whatever parts it could read. Only a local directory that
does not exist raises :class:`feeds.errors.FeedNotFound`.

In a directory, files are found by name (``station_status.json``; the split example
files ``NAME-1.json``, ``NAME-2.json``... of the specification are merged), never by the
URLs inside ``gbfs.json``, which in recorded feeds point at the original web servers.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import httpx

from feeds.errors import FeedNotFound
from feeds.gbfs.documents import (
    HTTP_TIMEOUT,
    DirectoryReader,
    Document,
    Fetched,
    HttpReader,
    JsonObject,
    MemoryReader,
    NoticeLog,
    RawFiles,
    RecordingReader,
    as_bool,
    as_float,
    as_int,
    as_str,
    as_str_list,
    fetch_url,
    is_stale,
    localized,
    parse_document,
    parse_polygons,
    parse_timestamp,
    records,
)
from feeds.gbfs.model import (
    Alert,
    AlertTime,
    FormFactor,
    FreeVehicle,
    GbfsFeed,
    GbfsStatus,
    Geofencing,
    GeofencingRule,
    GeofencingZone,
    PricingPlan,
    PricingSegment,
    Propulsion,
    RentalUris,
    Station,
    StationStatus,
    System,
    SystemHours,
    VehicleType,
)
from feeds.model import ns
from feeds.quality import Notice, Severity
from feeds.sources import check_feed_id

KNOWN_VERSIONS = frozenset({"1.0", "1.1", "2.0", "2.1", "2.2", "2.3", "3.0"})
STATIC_FILES = (
    "system_information",
    "vehicle_types",
    "station_information",
    "system_pricing_plans",
    "geofencing_zones",
    "system_alerts",
    "system_hours",
)
STATUS_FILES = ("station_status", "free_bike_status", "vehicle_status")
# Publishing slack on top of ttl before data counts as stale (feeds update a little late).
STALE_GRACE_S = 300.0
_VEHICLE_ARRAY = {"free_bike_status": ("bikes", "bike_id"), "vehicle_status": ("vehicles", "vehicle_id")}
_FORM_FACTOR_ALIASES = {"scooter": FormFactor.SCOOTER_STANDING}
_VERSION = re.compile(r"^(\d+)\.(\d+)")


class _Reader(Protocol):
    def read(self, name: str) -> Fetched: ...


def load_gbfs(
    source: str | Path,
    *,
    system_id: str | None = None,
    client: httpx.Client | None = None,
    now: dt.datetime | None = None,
    language: str = "en",
    stale_grace_s: float = STALE_GRACE_S,
    files: RawFiles | None = None,
    record: RawFiles | None = None,
) -> tuple[GbfsFeed, GbfsStatus, tuple[Notice, ...]]:
    """Load one GBFS system from a directory or an ``http(s)`` URL of its ``gbfs.json``.

    ``system_id`` overrides the id used as namespace (default: ``system_information.
    system_id``). ``language`` picks the v2.x discovery language and the v3.0 localized
    texts ('en' preferred, else the first). ``now`` is what staleness is judged against.
    ``files`` (name -> bodies, as ``record`` collects them) are read instead of
    ``source``, which stays the place live refreshes go to: a graph artifact keeps the
    bodies its build read and loads the system from them. ``record``, when given,
    receives every body read.
    """
    now = now or dt.datetime.now(dt.UTC)
    log = NoticeLog(system_id or "")
    text = str(source)
    with _http_client(client, needed=files is None and _is_url(text)) as http:
        reader: _Reader
        if files is not None:
            reader = MemoryReader(files, text)
            found = _parse_all("gbfs", reader.read("gbfs"), log)
            gbfs_doc = found[0] if found else None
        else:
            reader, gbfs_doc = _open(text, http, log, language)
        if record is not None:
            if gbfs_doc is not None:
                record["gbfs"] = [(gbfs_doc.location, json.dumps(_envelope(gbfs_doc)).encode())]
            reader = RecordingReader(reader, record)
        docs = {name: _read(reader, name, log) for name in (*STATIC_FILES, *STATUS_FILES)}
    version = _check_versions(gbfs_doc, docs, log)
    sid = _system_id(system_id, docs.get("system_information", []), text)
    log.feed_id = sid
    feed = _build_feed(sid, text, version, gbfs_doc, docs, language, log)
    _check_required(feed, gbfs_doc, docs, version, log)
    _note_stale([d for found in docs.values() for d in found], now, stale_grace_s, log)
    status = _build_status(feed, docs, now, stale_grace_s, log)
    return feed, status, log.notices()


def load_gbfs_status(
    feed: GbfsFeed,
    *,
    client: httpx.Client | None = None,
    now: dt.datetime | None = None,
    stale_grace_s: float = STALE_GRACE_S,
) -> tuple[GbfsStatus | None, tuple[Notice, ...]]:
    """Re-read the status files of ``feed`` from where they were first found.

    Returns None for the status when any of them cannot be read or parsed (the caller
    keeps its last good snapshot); the notices say why.
    """
    now = now or dt.datetime.now(dt.UTC)
    log = NoticeLog(feed.id)
    names = [name for name in STATUS_FILES if feed.location(name)]
    docs: dict[str, list[Document]] = {}
    failed = False
    with _http_client(client, needed=_is_url(feed.source)) as http:
        reader: _Reader
        if _is_url(feed.source) and http is not None:
            reader = HttpReader({name: feed.location(name)[0] for name in names}, http)
        else:
            reader = DirectoryReader(Path(feed.source))
        for name in names:
            fetched = reader.read(name)
            if not fetched.found:
                why = fetched.error or "file is gone"
                log.add(Severity.ERROR, "unreachable_feed", f"{name}: {why}", file=f"{name}.json")
                failed = True
                continue
            parsed = _parse_all(name, fetched, log)
            if len(parsed) != len(fetched.bodies):
                failed = True
            docs[name] = parsed
    if failed:
        return None, log.notices()
    _note_stale([d for found in docs.values() for d in found], now, stale_grace_s, log)
    return _build_status(feed, docs, now, stale_grace_s, log), log.notices()


# -- sources ---------------------------------------------------------------------------


def _envelope(doc: Document) -> dict[str, object]:
    """A parsed discovery document written back (its raw bytes are not kept by _open)."""
    out: dict[str, object] = {"data": doc.data}
    if doc.version is not None:
        out["version"] = doc.version
    if doc.ttl is not None:
        out["ttl"] = doc.ttl
    if doc.last_updated is not None:
        out["last_updated"] = int(doc.last_updated.timestamp())
    return out


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


@contextmanager
def _http_client(client: httpx.Client | None, *, needed: bool) -> Iterator[httpx.Client | None]:
    if client is not None or not needed:
        yield client
        return
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=True) as own:
        yield own


class _Nothing:
    """The reader of a source that could not be opened: every file is absent."""

    def read(self, name: str) -> Fetched:
        return Fetched()


def _open(
    source: str, http: httpx.Client | None, log: NoticeLog, language: str
) -> tuple[_Reader, Document | None]:
    """The reader for ``source`` and its parsed gbfs.json (None when absent)."""
    if _is_url(source):
        assert http is not None
        fetched = fetch_url(http, source)
        if not fetched.found:
            why = fetched.error or "HTTP 404"
            log.add(Severity.ERROR, "unreachable_feed", f"{source}: {why}", file="gbfs.json")
            return _Nothing(), None
        docs = _parse_all("gbfs", fetched, log)
        if not docs:
            return _Nothing(), None
        urls = _discovered(docs[0], language, log)
        return HttpReader(urls, http), docs[0]
    root = Path(source)
    if not root.is_dir():
        raise FeedNotFound(f"GBFS directory not found: {root}")
    reader = DirectoryReader(root)
    found = _parse_all("gbfs", reader.read("gbfs"), log)
    return reader, (found[0] if found else None)


def _discovered(doc: Document, language: str, log: NoticeLog) -> dict[str, str]:
    """name -> URL from gbfs.json: v3.0 lists feeds flat, v2.x per language."""
    data = doc.data
    feeds: object = data.get("feeds")
    if not isinstance(feeds, list):
        languages = [k for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("feeds"), list)]
        if not languages:
            log.add(Severity.ERROR, "invalid_json", "gbfs.json lists no feeds", file="gbfs.json")
            return {}
        chosen = language if language in languages else languages[0]
        feeds = data[chosen]["feeds"]
    assert isinstance(feeds, list)
    urls: dict[str, str] = {}
    for entry in feeds:
        if isinstance(entry, dict) and as_str(entry.get("name")) and as_str(entry.get("url")):
            urls.setdefault(as_str(entry["name"]), as_str(entry["url"]))
    return urls


def _listed_names(doc: Document | None) -> set[str]:
    if doc is None:
        return set()
    data = doc.data
    lists = (
        [data["feeds"]]
        if isinstance(data.get("feeds"), list)
        else [v["feeds"] for v in data.values() if isinstance(v, dict) and isinstance(v.get("feeds"), list)]
    )
    return {as_str(e.get("name")) for feeds in lists[:1] for e in feeds if isinstance(e, dict)}


def _read(reader: _Reader, name: str, log: NoticeLog) -> list[Document]:
    fetched = reader.read(name)
    if fetched.error:
        log.add(Severity.ERROR, "unreachable_feed", f"{name}: {fetched.error}", file=f"{name}.json")
    return _parse_all(name, fetched, log)


def _parse_all(name: str, fetched: Fetched, log: NoticeLog) -> list[Document]:
    docs = []
    for location, raw in fetched.bodies:
        doc = parse_document(name, location, raw, log, f"{name}.json")
        if doc is not None:
            docs.append(doc)
    if len(fetched.bodies) > 1:
        log.add(
            Severity.INFO,
            "split_example_files",
            f"{name}: merged {len(fetched.bodies)} example files "
            f"({', '.join(Path(loc).name for loc, _ in fetched.bodies)})",
            file=f"{name}.json",
        )
    return docs


# -- versions, ids, required files --------------------------------------------------------


def _major(version: str) -> int | None:
    m = _VERSION.match(version)
    return int(m.group(1)) if m else None


def _check_versions(gbfs_doc: Document | None, docs: Mapping[str, list[Document]], log: NoticeLog) -> str:
    """The declared version ('' for v1.x feeds without one), with notices for unknown,
    missing and inconsistent versions."""
    every = ([gbfs_doc] if gbfs_doc else []) + [d for found in docs.values() for d in found]
    declared = [d for d in every if d.version]
    if not every:
        return ""
    if not declared:
        log.add(
            Severity.INFO,
            "missing_gbfs_version",
            "no file declares a GBFS version; read as v1.x (booleans as 0/1, POSIX times)",
        )
        return ""
    version = declared[0].version or ""
    for v in sorted({d.version or "" for d in declared}):
        if v not in KNOWN_VERSIONS:
            log.add(
                Severity.WARNING,
                "unknown_gbfs_version",
                f"GBFS version {v!r} is not one of {', '.join(sorted(KNOWN_VERSIONS))}; "
                "read with the closest known rules",
                field="version",
            )
    others = sorted({f"{d.name}.json={d.version}" for d in declared if d.version != version})
    if others:
        log.add(
            Severity.WARNING,
            "inconsistent_gbfs_version",
            f"files declare different versions than {version}: {', '.join(others[:5])}",
            field="version",
        )
    return version


def _system_id(explicit: str | None, info: list[Document], source: str) -> str:
    if explicit:
        return check_feed_id(explicit)
    declared = as_str(info[0].data.get("system_id")) if info else ""
    if not declared:
        parsed = urlparse(source)
        declared = parsed.netloc if parsed.scheme in ("http", "https") else Path(source).name
    return declared.replace(":", "_") or "gbfs"


def _check_required(
    feed: GbfsFeed,
    gbfs_doc: Document | None,
    docs: Mapping[str, list[Document]],
    version: str,
    log: NoticeLog,
) -> None:
    def missing(severity: Severity, name: str, why: str) -> None:
        log.add(severity, "missing_required_gbfs_file", f"{name}.json is missing: {why}", file=f"{name}.json")

    major = _major(version)
    if gbfs_doc is None and major is not None and major >= 2:
        missing(
            Severity.WARNING, "gbfs", f"the discovery file is required since v2.0 (feed declares {version})"
        )
    if not docs["system_information"]:
        missing(Severity.ERROR, "system_information", "required in every version")
    has_info, has_status = bool(docs["station_information"]), bool(docs["station_status"])
    if has_info and not has_status:
        missing(Severity.ERROR, "station_status", "required when station_information.json is published")
    if has_status and not has_info:
        missing(Severity.ERROR, "station_information", "required when station_status.json is published")
    vehicles = "vehicle_status" if major is not None and major >= 3 else "free_bike_status"
    if not (has_info or has_status or docs["free_bike_status"] or docs["vehicle_status"]):
        missing(Severity.WARNING, vehicles, "a system publishes stations or free-floating vehicles")
    if not feed.vehicle_types and _references_vehicle_types(docs):
        missing(Severity.WARNING, "vehicle_types", "status files name vehicle_type_id values")
    for name in sorted(_listed_names(gbfs_doc) - {"gbfs", "gbfs_versions", "manifest"}):
        if name in docs and not docs[name]:
            log.add(
                Severity.WARNING,
                "missing_listed_file",
                f"gbfs.json lists {name} but it could not be read",
                file=f"{name}.json",
            )


def _references_vehicle_types(docs: Mapping[str, list[Document]]) -> bool:
    for name, (key, _) in _VEHICLE_ARRAY.items():
        for doc in docs.get(name, []):
            if any("vehicle_type_id" in v for v in records(doc.data, key)):
                return True
    for doc in docs.get("station_status", []):
        if any(s.get("vehicle_types_available") for s in records(doc.data, "stations")):
            return True
    return False


def _note_stale(docs: list[Document], now: dt.datetime, grace_s: float, log: NoticeLog) -> None:
    """A warning per stale status file (availability is old); one info for the static
    files (publishers often leave their last_updated alone between real changes)."""
    static: set[str] = set()
    for doc in docs:
        if not is_stale(doc, now, grace_s):
            continue
        if doc.name not in STATUS_FILES:
            static.add(f"{doc.name}.json")
            continue
        assert doc.last_updated is not None
        # no age in the text: a build of the same recorded files must give the same notices
        log.add(
            Severity.WARNING,
            "stale_feed",
            f"{doc.name}: last_updated {doc.last_updated.isoformat()} is older than its ttl "
            f"({doc.ttl or 0} s) allows",
            file=f"{doc.name}.json",
            field="last_updated",
        )
    if static:
        log.add(
            Severity.INFO,
            "stale_feed",
            f"static files older than their ttl: {', '.join(sorted(static))}",
            field="last_updated",
        )


# -- static part ------------------------------------------------------------------------------


def _build_feed(
    sid: str,
    source: str,
    version: str,
    gbfs_doc: Document | None,
    docs: Mapping[str, list[Document]],
    language: str,
    log: NoticeLog,
) -> GbfsFeed:
    def text(value: object) -> str:
        return localized(value, language)

    vehicle_types = _vehicle_types(sid, docs["vehicle_types"], text, log)
    stations = _stations(sid, docs["station_information"], text, log)
    major = _major(version)
    locations: list[tuple[str, tuple[str, ...]]] = [("gbfs", (gbfs_doc.location,))] if gbfs_doc else []
    locations += [(name, tuple(d.location for d in found)) for name, found in docs.items() if found]
    return GbfsFeed(
        system=_system(sid, version, docs["system_information"], text),
        source=source,
        vehicle_types=vehicle_types,
        stations=stations,
        pricing_plans=_pricing_plans(sid, docs["system_pricing_plans"], text, log),
        geofencing=_geofencing(sid, docs["geofencing_zones"], text, major, log),
        alerts=_alerts(sid, docs["system_alerts"], text),
        system_hours=_system_hours(docs["system_hours"]),
        locations=tuple(locations),
    )


def _system(sid: str, version: str, found: list[Document], text: Callable[[object], str]) -> System:
    if not found:
        return System(id=sid, name="", timezone="", version=version)
    d = found[0].data
    languages = as_str_list(d.get("languages")) or as_str_list(d.get("language"))
    return System(
        id=sid,
        name=text(d.get("name")),
        timezone=as_str(d.get("timezone")),
        version=version,
        short_name=text(d.get("short_name")),
        operator=text(d.get("operator")),
        url=as_str(d.get("url")),
        languages=languages,
        license_url=as_str(d.get("license_url")),
        opening_hours=as_str(d.get("opening_hours")),
        feed_contact_email=as_str(d.get("feed_contact_email")),
    )


def _each(found: list[Document], key: str) -> Iterator[tuple[int, JsonObject, str]]:
    """(1-based position in the file's array, record, file name) over merged documents."""
    for doc in found:
        for i, rec in enumerate(records(doc.data, key), 1):
            yield i, rec, f"{doc.name}.json"


def _uris(value: object) -> RentalUris:
    if not isinstance(value, dict):
        return RentalUris()
    return RentalUris(as_str(value.get("android")), as_str(value.get("ios")), as_str(value.get("web")))


def _vehicle_types(
    sid: str, found: list[Document], text: Callable[[object], str], log: NoticeLog
) -> tuple[VehicleType, ...]:
    out: dict[str, VehicleType] = {}
    for row, vt, file in _each(found, "vehicle_types"):
        local = as_str(vt.get("vehicle_type_id"))
        if not local:
            log.record(
                Severity.WARNING,
                "missing_required_field",
                "vehicle types without vehicle_type_id",
                file=file,
                row=row,
            )
            continue
        raw_form = as_str(vt.get("form_factor"))
        form = _form_factor(raw_form)
        if form.value != raw_form and raw_form not in _FORM_FACTOR_ALIASES:
            log.record(
                Severity.WARNING,
                "unknown_form_factor",
                "vehicle types with an unknown form_factor (read as other)",
                file=file,
                row=row,
                example=raw_form or "(none)",
            )
        propulsion = _propulsion(vt)
        if propulsion is Propulsion.UNKNOWN:
            log.record(
                Severity.WARNING,
                "unknown_propulsion_type",
                "vehicle types with an unknown propulsion_type",
                file=file,
                row=row,
                example=local,
            )
        vid = ns(sid, local)
        if vid in out:
            log.record(
                Severity.WARNING,
                "duplicate_id",
                "duplicate vehicle_type_id values (first kept)",
                file=file,
                row=row,
                example=local,
            )
            continue
        default_plan = as_str(vt.get("default_pricing_plan_id"))
        out[vid] = VehicleType(
            id=vid,
            form_factor=form,
            propulsion=propulsion,
            max_range_m=as_float(vt.get("max_range_meters")),
            name=text(vt.get("name")),
            max_permitted_speed_kph=as_float(vt.get("max_permitted_speed")),
            return_constraint=as_str(vt.get("return_constraint")),
            default_pricing_plan_id=ns(sid, default_plan) if default_plan else None,
            pricing_plan_ids=tuple(ns(sid, p) for p in as_str_list(vt.get("pricing_plan_ids"))),
        )
    return tuple(out.values())


def _form_factor(value: str) -> FormFactor:
    if value in _FORM_FACTOR_ALIASES:
        return _FORM_FACTOR_ALIASES[value]
    try:
        return FormFactor(value)
    except ValueError:
        return FormFactor.OTHER


def _propulsion(vt: JsonObject) -> Propulsion:
    # v2.1+ writes one propulsion_type; early drafts an array of propulsion_types
    raw = vt.get("propulsion_type", vt.get("propulsion_types"))
    values = as_str_list(raw)
    motorised = [v for v in values if v != Propulsion.HUMAN.value]
    chosen = motorised[0] if motorised else (values[0] if values else "")
    try:
        return Propulsion(chosen)
    except ValueError:
        return Propulsion.UNKNOWN


def _valid_position(lat: float | None, lon: float | None) -> bool:
    return lat is not None and lon is not None and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def _stations(
    sid: str, found: list[Document], text: Callable[[object], str], log: NoticeLog
) -> tuple[Station, ...]:
    out: dict[str, Station] = {}
    for row, s, file in _each(found, "stations"):
        local = as_str(s.get("station_id"))
        lat, lon = as_float(s.get("lat")), as_float(s.get("lon"))
        if not local or not _valid_position(lat, lon):
            log.record(
                Severity.WARNING,
                "missing_required_field",
                "stations without station_id or a valid lat/lon (dropped)",
                file=file,
                row=row,
                example=local,
            )
            continue
        assert lat is not None and lon is not None
        station_id = ns(sid, local)
        if station_id in out:
            log.record(
                Severity.WARNING,
                "duplicate_id",
                "duplicate station_id values (first kept)",
                file=file,
                row=row,
                example=local,
            )
            continue
        out[station_id] = Station(
            id=station_id,
            name=text(s.get("name")),
            lat=lat,
            lon=lon,
            capacity=as_int(s.get("capacity")),
            is_virtual=as_bool(s.get("is_virtual_station")) or False,
            short_name=text(s.get("short_name")),
            address=as_str(s.get("address")),
            region_id=as_str(s.get("region_id")),
            rental_uris=_uris(s.get("rental_uris")),
        )
    return tuple(out.values())


def _segments(raw: object, file: str, row: int, log: NoticeLog) -> tuple[PricingSegment, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for seg in raw:
        rate = as_float(seg.get("rate")) if isinstance(seg, dict) else None
        interval = as_float(seg.get("interval")) if isinstance(seg, dict) else None
        if not isinstance(seg, dict) or rate is None or interval is None or interval < 0:
            log.record(
                Severity.WARNING,
                "invalid_pricing_segment",
                "pricing segments without a rate or a non-negative interval (ignored)",
                file=file,
                row=row,
            )
            continue
        out.append(
            PricingSegment(as_float(seg.get("start")) or 0.0, rate, interval, as_float(seg.get("end")))
        )
    return tuple(out)


def _pricing_plans(
    sid: str, found: list[Document], text: Callable[[object], str], log: NoticeLog
) -> tuple[PricingPlan, ...]:
    out: dict[str, PricingPlan] = {}
    for row, p, file in _each(found, "plans"):
        local = as_str(p.get("plan_id"))
        price = as_float(p.get("price"))
        currency = as_str(p.get("currency"))
        if not local or price is None or not currency:
            log.record(
                Severity.WARNING,
                "missing_required_field",
                "pricing plans without plan_id, price or currency (dropped)",
                file=file,
                row=row,
                example=local,
            )
            continue
        plan_id = ns(sid, local)
        if plan_id in out:
            log.record(
                Severity.WARNING,
                "duplicate_id",
                "duplicate plan_id values (first kept)",
                file=file,
                row=row,
                example=local,
            )
            continue
        out[plan_id] = PricingPlan(
            id=plan_id,
            name=text(p.get("name")),
            currency=currency,
            price=price,
            is_taxable=as_bool(p.get("is_taxable")) or False,
            description=text(p.get("description")),
            per_min_pricing=_segments(p.get("per_min_pricing"), file, row, log),
            per_km_pricing=_segments(p.get("per_km_pricing"), file, row, log),
            surge_pricing=as_bool(p.get("surge_pricing")) or False,
            url=as_str(p.get("url")),
        )
    return tuple(out.values())


def _rule(sid: str, raw: JsonObject) -> GeofencingRule:
    # v3.0 names the list vehicle_type_ids; v2.x (and the v3.0 text) vehicle_type_id
    types = as_str_list(raw.get("vehicle_type_ids", raw.get("vehicle_type_id")))
    ride_allowed = as_bool(raw.get("ride_allowed"))  # v2.x: start and end
    start = as_bool(raw.get("ride_start_allowed"))
    end = as_bool(raw.get("ride_end_allowed"))
    return GeofencingRule(
        vehicle_type_ids=tuple(ns(sid, t) for t in types),
        ride_start_allowed=start if start is not None else ride_allowed,
        ride_end_allowed=end if end is not None else ride_allowed,
        ride_through_allowed=as_bool(raw.get("ride_through_allowed")),
        maximum_speed_kph=as_float(raw.get("maximum_speed_kph")),
        station_parking=as_bool(raw.get("station_parking")),
    )


def _geofencing(
    sid: str, found: list[Document], text: Callable[[object], str], major: int | None, log: NoticeLog
) -> Geofencing:
    zones: list[GeofencingZone] = []
    global_rules: list[GeofencingRule] = []
    for doc in found:
        collection = doc.data.get("geofencing_zones")
        features = collection.get("features") if isinstance(collection, dict) else None
        if not isinstance(features, list):
            log.add(
                Severity.ERROR,
                "invalid_json",
                "geofencing_zones is not a GeoJSON FeatureCollection",
                file="geofencing_zones.json",
            )
            continue
        for row, feature in enumerate(features, 1):
            props = feature.get("properties") if isinstance(feature, dict) else None
            polygons = parse_polygons(feature.get("geometry")) if isinstance(feature, dict) else None
            props = props if isinstance(props, dict) else {}
            name = text(props.get("name"))
            if polygons is None:
                log.record(
                    Severity.WARNING,
                    "invalid_geometry",
                    "geofencing zones without a valid (Multi)Polygon geometry (ignored)",
                    file="geofencing_zones.json",
                    row=row,
                    example=name,
                )
                continue
            rules = tuple(_rule(sid, r) for r in records(props, "rules"))
            zones.append(
                GeofencingZone(
                    name,
                    polygons,
                    rules,
                    parse_timestamp(props.get("start")),
                    parse_timestamp(props.get("end")),
                )
            )
        global_rules.extend(_rule(sid, r) for r in records(doc.data, "global_rules"))
    return Geofencing(tuple(zones), tuple(global_rules), first_zone_wins=major is None or major >= 3)


def _alerts(sid: str, found: list[Document], text: Callable[[object], str]) -> tuple[Alert, ...]:
    out = []
    for _, a, _ in _each(found, "alerts"):
        local = as_str(a.get("alert_id"))
        if not local:
            continue
        times = []
        for t in a.get("times") or []:
            start = parse_timestamp(t.get("start")) if isinstance(t, dict) else None
            if isinstance(t, dict) and start is not None:
                times.append(AlertTime(start, parse_timestamp(t.get("end"))))
        out.append(
            Alert(
                id=ns(sid, local),
                type=as_str(a.get("type")),
                summary=text(a.get("summary")),
                description=text(a.get("description")),
                url=text(a.get("url")),
                station_ids=tuple(ns(sid, s) for s in as_str_list(a.get("station_ids"))),
                region_ids=as_str_list(a.get("region_ids")),
                times=tuple(times),
                last_updated=parse_timestamp(a.get("last_updated")),
            )
        )
    return tuple(out)


def _system_hours(found: list[Document]) -> tuple[SystemHours, ...]:
    return tuple(
        SystemHours(
            as_str_list(h.get("user_types")),
            as_str_list(h.get("days")),
            as_str(h.get("start_time")),
            as_str(h.get("end_time")),
        )
        for _, h, _ in _each(found, "rental_hours")
    )


# -- live part -----------------------------------------------------------------------------


def _build_status(
    feed: GbfsFeed,
    docs: Mapping[str, list[Document]],
    now: dt.datetime,
    grace_s: float,
    log: NoticeLog,
) -> GbfsStatus:
    status_docs = [d for name in STATUS_FILES for d in docs.get(name, [])]
    stamps = [d.last_updated for d in status_docs if d.last_updated is not None]
    ttls = [d.ttl for d in status_docs if d.ttl is not None]
    return GbfsStatus(
        system_id=feed.id,
        stations=_station_statuses(feed, docs.get("station_status", []), log),
        vehicles=_vehicles(feed, docs, log),
        last_updated=min(stamps) if stamps else None,
        ttl=min(ttls) if ttls else 0,
        fetched_at=now,
        stale=any(is_stale(d, now, grace_s) for d in status_docs),
        availability_known=bool(status_docs),
    )


def _type_id(feed: GbfsFeed, local: str, file: str, row: int, log: NoticeLog) -> str:
    type_id = ns(feed.id, local)
    if type_id not in feed.vehicle_types_by_id and feed.vehicle_types:
        log.record(
            Severity.WARNING,
            "unknown_vehicle_type_id",
            "references to vehicle types not in vehicle_types.json",
            file=file,
            row=row,
            example=local,
        )
    return type_id


def _station_statuses(feed: GbfsFeed, found: list[Document], log: NoticeLog) -> tuple[StationStatus, ...]:
    out: dict[str, StationStatus] = {}
    for row, s, file in _each(found, "stations"):
        local = as_str(s.get("station_id"))
        station_id = ns(feed.id, local)
        if station_id not in feed.stations_by_id:
            log.record(
                Severity.WARNING,
                "unknown_station_id",
                "statuses of stations not in station_information.json (dropped)",
                file=file,
                row=row,
                example=local,
            )
            continue
        available = as_int(s.get("num_vehicles_available", s.get("num_bikes_available")))
        if available is None:
            log.record(
                Severity.WARNING,
                "missing_required_field",
                "statuses without num_vehicles_available (read as 0)",
                file=file,
                row=row,
                example=local,
            )
        by_type = []
        for entry in s.get("vehicle_types_available") or []:
            count = as_int(entry.get("count")) if isinstance(entry, dict) else None
            type_local = as_str(entry.get("vehicle_type_id")) if isinstance(entry, dict) else ""
            if type_local and count is not None:
                by_type.append((_type_id(feed, type_local, file, row, log), count))
        out[station_id] = StationStatus(
            station_id=station_id,
            num_vehicles_available=max(available or 0, 0),
            num_docks_available=as_int(s.get("num_docks_available")),
            is_installed=_flag(s, "is_installed"),
            is_renting=_flag(s, "is_renting"),
            is_returning=_flag(s, "is_returning"),
            vehicles_available_by_type=tuple(by_type),
            last_reported=parse_timestamp(s.get("last_reported")),
        )
    return tuple(out.values())


def _flag(record: JsonObject, key: str) -> bool:
    value = as_bool(record.get(key))
    return True if value is None else value  # required fields; absent is read as the usual value


def _vehicles(feed: GbfsFeed, docs: Mapping[str, list[Document]], log: NoticeLog) -> tuple[FreeVehicle, ...]:
    out: dict[str, FreeVehicle] = {}
    for name, (key, id_key) in _VEHICLE_ARRAY.items():
        for row, v, file in _each(docs.get(name, []), key):
            vehicle = _vehicle(feed, v, id_key, file, row, log)
            if vehicle is None:
                continue
            if vehicle.id in out:
                log.record(
                    Severity.WARNING,
                    "duplicate_id",
                    f"duplicate {id_key} values (first kept)",
                    file=file,
                    row=row,
                    example=vehicle.id,
                )
                continue
            out[vehicle.id] = vehicle
    return tuple(out.values())


def _vehicle(
    feed: GbfsFeed, v: JsonObject, id_key: str, file: str, row: int, log: NoticeLog
) -> FreeVehicle | None:
    local = as_str(v.get(id_key))
    if not local:
        log.record(
            Severity.WARNING,
            "missing_required_field",
            f"vehicles without {id_key} (dropped)",
            file=file,
            row=row,
        )
        return None
    station_local = as_str(v.get("station_id"))
    station = feed.stations_by_id.get(ns(feed.id, station_local)) if station_local else None
    lat, lon = as_float(v.get("lat")), as_float(v.get("lon"))
    if not _valid_position(lat, lon):
        if station is None:
            log.record(
                Severity.WARNING,
                "vehicle_without_position",
                "vehicles with neither lat/lon nor a known station_id (dropped)",
                file=file,
                row=row,
                example=local,
            )
            return None
        lat, lon = station.lat, station.lon  # parked at a station: the station's position
    assert lat is not None and lon is not None
    type_local = as_str(v.get("vehicle_type_id"))
    plan_local = as_str(v.get("pricing_plan_id"))
    return FreeVehicle(
        id=ns(feed.id, local),
        lat=lat,
        lon=lon,
        vehicle_type_id=_type_id(feed, type_local, file, row, log) if type_local else None,
        is_reserved=as_bool(v.get("is_reserved")) or False,
        is_disabled=as_bool(v.get("is_disabled")) or False,
        range_m=as_float(v.get("current_range_meters")),
        station_id=station.id if station else None,
        pricing_plan_id=ns(feed.id, plan_local) if plan_local else None,
        rental_uris=_uris(v.get("rental_uris")),
    )
