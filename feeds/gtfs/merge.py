"""Several feeds' :class:`TransitData` -> one, indices shifted, calendars on one day axis.

Ids are already namespaced per feed, so merging is concatenation: each index column
(route -> agency, trip -> route/service/shape, stop_time -> stop, ...) is offset by the
sizes of the feeds before it, and each service calendar is placed on a common axis
from the earliest first day to the latest last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from feeds.model import (
    Services,
    Shapes,
    Stops,
    StopTimes,
    Transfers,
    TransitData,
    Trips,
)


def merge_transit(parts: Sequence[TransitData]) -> TransitData:
    if not parts:
        raise ValueError("merge_transit needs at least one part")
    if len(parts) == 1:
        return parts[0]

    def starts(sizes: Sequence[int]) -> list[int]:
        return [int(x) for x in np.concatenate(([0], np.cumsum(sizes)[:-1]))]

    agency0 = starts([len(p.agencies) for p in parts])
    route0 = starts([len(p.routes) for p in parts])
    stop0 = starts([len(p.stops) for p in parts])
    service0 = starts([len(p.services.ids) for p in parts])
    shape0 = starts([len(p.shapes.ids) for p in parts])
    st0 = starts([len(p.stop_times.stop) for p in parts])
    point0 = starts([len(p.shapes.lat) for p in parts])

    def cat(arrays: Sequence[NDArray[np.generic]]) -> NDArray[np.generic]:
        return np.concatenate(arrays)

    def index(col: Sequence[NDArray[np.integer]], base: Sequence[int]) -> NDArray[np.int32]:
        """Concatenate index columns, shifting all but the -1 'none' value."""
        return np.concatenate([np.where(c >= 0, c + b, -1) for c, b in zip(col, base, strict=True)]).astype(
            np.int32
        )

    routes = tuple(replace(r, agency=r.agency + agency0[i]) for i, p in enumerate(parts) for r in p.routes)
    stops = Stops(
        ids=tuple(x for p in parts for x in p.stops.ids),
        names=tuple(x for p in parts for x in p.stops.names),
        lat=cat([p.stops.lat for p in parts]).astype(np.float64),
        lon=cat([p.stops.lon for p in parts]).astype(np.float64),
        location_type=cat([p.stops.location_type for p in parts]).astype(np.int8),
        parent=index([p.stops.parent for p in parts], stop0),
        wheelchair=cat([p.stops.wheelchair for p in parts]).astype(np.int8),
    )
    trips = Trips(
        ids=tuple(x for p in parts for x in p.trips.ids),
        route=index([p.trips.route for p in parts], route0),
        service=index([p.trips.service for p in parts], service0),
        headsign=tuple(x for p in parts for x in p.trips.headsign),
        direction=cat([p.trips.direction for p in parts]).astype(np.int8),
        shape=index([p.trips.shape for p in parts], shape0),
        wheelchair=cat([p.trips.wheelchair for p in parts]).astype(np.int8),
        freq_start=cat([p.trips.freq_start for p in parts]).astype(np.int32),
        st_offset=np.concatenate(
            [p.trips.st_offset[:-1] + st0[i] for i, p in enumerate(parts)]
            + [np.array([sum(len(p.stop_times.stop) for p in parts)])]
        ).astype(np.int64),
    )
    stop_times = StopTimes(
        stop=index([p.stop_times.stop for p in parts], stop0),
        arrival=cat([p.stop_times.arrival for p in parts]).astype(np.int32),
        departure=cat([p.stop_times.departure for p in parts]).astype(np.int32),
        pickup=cat([p.stop_times.pickup for p in parts]).astype(np.int8),
        drop_off=cat([p.stop_times.drop_off for p in parts]).astype(np.int8),
        shape_dist=cat([p.stop_times.shape_dist for p in parts]).astype(np.float32),
    )
    shapes = Shapes(
        ids=tuple(x for p in parts for x in p.shapes.ids),
        offset=np.concatenate(
            [p.shapes.offset[:-1] + point0[i] for i, p in enumerate(parts)]
            + [np.array([sum(len(p.shapes.lat) for p in parts)])]
        ).astype(np.int64),
        lat=cat([p.shapes.lat for p in parts]).astype(np.float64),
        lon=cat([p.shapes.lon for p in parts]).astype(np.float64),
        dist=cat([p.shapes.dist for p in parts]).astype(np.float32),
    )
    transfers = Transfers(
        from_stop=index([p.transfers.from_stop for p in parts], stop0),
        to_stop=index([p.transfers.to_stop for p in parts], stop0),
        transfer_type=cat([p.transfers.transfer_type for p in parts]).astype(np.int8),
        min_time=cat([p.transfers.min_time for p in parts]).astype(np.int32),
    )
    return TransitData(
        sources=tuple(s for p in parts for s in p.sources),
        agencies=tuple(a for p in parts for a in p.agencies),
        routes=routes,
        stops=stops,
        trips=trips,
        stop_times=stop_times,
        services=_merge_services([p.services for p in parts], service0),
        shapes=shapes,
        transfers=transfers,
        notices=tuple(n for p in parts for n in p.notices),
    )


def _merge_services(parts: Sequence[Services], base: Sequence[int]) -> Services:
    first = min(s.base_date for s in parts)
    last = max(s.base_date + dt.timedelta(days=s.n_days - 1) for s in parts)
    n_days = (last - first).days + 1
    active = np.zeros((sum(len(s.ids) for s in parts), n_days), dtype=np.bool_)
    for s, row in zip(parts, base, strict=True):
        col = (s.base_date - first).days
        active[row : row + len(s.ids), col : col + s.n_days] = s.active
    return Services(ids=tuple(x for s in parts for x in s.ids), base_date=first, active=active)
