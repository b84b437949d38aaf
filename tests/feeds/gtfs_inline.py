"""Tiny inline GTFS feeds for tests (nigiri style): tables written as CSV text in the test.

    files = minimal_feed(stop_times='''
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,08:00:00,08:00:00,A,1
        T1,08:10:00,08:10:00,B,2
    ''')
    path = write_gtfs(tmp_path / "city.zip", files)      # or a directory: tmp_path / "city"

Text is dedented and stripped, so tables can be indented with the test code; ``bytes``
are written as given (for BOM / encoding tests). A ``None`` value leaves the file out.
"""

from __future__ import annotations

import textwrap
import zipfile
from collections.abc import Mapping
from pathlib import Path

FileContent = str | bytes | None

# One agency, two stops, one route, one trip A -> B every day of January 2024.
MINIMAL: dict[str, str] = {
    "agency.txt": """
        agency_id,agency_name,agency_url,agency_timezone
        AG,Agency,https://example.org,Europe/Berlin
    """,
    "stops.txt": """
        stop_id,stop_name,stop_lat,stop_lon
        A,Alpha,52.50,13.40
        B,Beta,52.51,13.41
    """,
    "routes.txt": """
        route_id,agency_id,route_short_name,route_long_name,route_type
        R1,AG,1,One,3
    """,
    "trips.txt": """
        route_id,service_id,trip_id
        R1,S1,T1
    """,
    "stop_times.txt": """
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,08:00:00,08:00:00,A,1
        T1,08:10:00,08:10:00,B,2
    """,
    "calendar.txt": """
        service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
        S1,1,1,1,1,1,1,1,20240101,20240131
    """,
}


def table(text: str) -> str:
    """CSV text as written in a test -> file content (dedented, stripped, final newline)."""
    return textwrap.dedent(text).strip() + "\n"


def minimal_feed(**overrides: FileContent) -> dict[str, FileContent]:
    """:data:`MINIMAL` with files replaced by keyword (``stop_times=...`` for
    stop_times.txt); ``None`` removes a file."""
    files: dict[str, FileContent] = dict(MINIMAL)
    for stem, content in overrides.items():
        files[f"{stem}.txt"] = content
    return files


def write_gtfs(dest: Path, files: Mapping[str, FileContent]) -> Path:
    """Write ``files`` (name -> content) as a zip when ``dest`` ends in ``.zip``, else as a
    directory. Returns ``dest``."""
    contents = {
        name: data if isinstance(data, bytes) else table(data).encode()
        for name, data in files.items()
        if data is not None
    }
    if dest.suffix == ".zip":
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in contents.items():
                zf.writestr(name, data)
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for name, data in contents.items():
            (dest / name).write_bytes(data)
    return dest
