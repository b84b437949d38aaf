"""Which services run around a date, and where each service day starts in UTC.

A search looks at three service days, the date before, the date and the date after
(index ``k`` = 0, 1, 2): trips of the day before that run past 24:00 and trips after
midnight of the next day are boardable. GTFS times count from the service day's local
*noon minus 12 h*, which is midnight except on DST days; that instant is computed per
time zone with :mod:`zoneinfo`, so feeds in several zones share one UTC time line.

Times handed to the kernels are seconds relative to a reference instant ``ref_utc``
(chosen by the caller, e.g. the query date's midnight UTC) so they fit int32.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray

from routing.errors import ArtifactError
from routing.timetable import Timetable, TimetableMeta

N_DAYS = 3  # date - 1, date, date + 1
_HALF_DAY = 12 * 3600


@dataclass(frozen=True, eq=False)
class ServiceDayContext:
    """Service days of one search.

    ``day_active[k, s]``: service ``s`` runs on ``dates[k]`` (False outside the calendar).
    ``day_offset[k, z]``: UTC instant of ``dates[k]``'s local noon minus 12 h in zone
    ``z``, in seconds relative to ``ref_utc``. A stop event's UTC instant is
    ``ref_utc + day_offset[k, tz] + time``.
    """

    day_active: NDArray[np.uint8]  # [3, n_services]
    day_offset: NDArray[np.int32]  # [3, n_tz]
    dates: tuple[dt.date, ...]
    ref_utc: int

    def __iter__(self) -> Iterator[np.ndarray]:
        # lets callers write ``day_active, day_offset = service_day_context(...)``
        return iter((self.day_active, self.day_offset))

    def service_date(self, k: int) -> dt.date:
        return self.dates[k]


def service_day_start_utc(date: dt.date, tz_name: str) -> int:
    """POSIX seconds of ``date``'s local noon minus 12 h in ``tz_name``."""
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ArtifactError(f"unknown time zone {tz_name!r} in the timetable") from None
    noon = dt.datetime.combine(date, dt.time(12), tzinfo=tz)
    return int(noon.timestamp()) - _HALF_DAY


def service_day_context(tt: Timetable, meta: TimetableMeta, date: dt.date, ref_utc: int) -> ServiceDayContext:
    """Active services and day starts for ``date - 1``, ``date``, ``date + 1``."""
    dates = tuple(date + dt.timedelta(days=k - 1) for k in range(N_DAYS))
    n_services, n_days = tt.service_active.shape
    day_active = np.zeros((N_DAYS, n_services), np.uint8)
    for k, d in enumerate(dates):
        i = (d - meta.base_date).days
        if 0 <= i < n_days:
            day_active[k] = tt.service_active[:, i]
    day_offset = np.empty((N_DAYS, max(len(meta.tz_names), 1)), np.int32)
    for z, name in enumerate(meta.tz_names or ("UTC",)):
        for k, d in enumerate(dates):
            day_offset[k, z] = service_day_start_utc(d, name) - ref_utc
    return ServiceDayContext(day_active=day_active, day_offset=day_offset, dates=dates, ref_utc=int(ref_utc))
