"""When and where a GOFS service runs: zones at a point, operating rules in force.

An operating rule serves a trip when the origin lies in its ``from_zone_id``, the
destination in its ``to_zone_id``, one of its calendars is active on the service day and
the pickup time falls in its pickup window (times past 24:00 belong to the previous
service day, so both today's and yesterday's service day are tried).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from feeds.gbfs.geofencing import RegionIndex
from feeds.gofs.model import BookingRule, GofsFeed, OperatingRule

_NOON = dt.time(12)


class ServiceIndex:
    """A :class:`GofsFeed` prepared for repeated questions (zone polygons as arrays)."""

    def __init__(self, feed: GofsFeed) -> None:
        self.feed = feed
        self._regions = RegionIndex([z.polygons for z in feed.zones])
        try:
            self.tz: dt.tzinfo = ZoneInfo(feed.system.timezone) if feed.system.timezone else dt.UTC
        except (ZoneInfoNotFoundError, ValueError):
            self.tz = dt.UTC

    def zones_at(self, lat: float, lon: float) -> tuple[str, ...]:
        """Ids of the zones containing the point, in file order."""
        inside = self._regions.contains([lat], [lon])[0]
        return tuple(self.feed.zones[i].id for i in np.flatnonzero(inside))

    def rules_between(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        when: dt.datetime,
        duration_s: float = 0.0,
    ) -> list[OperatingRule]:
        """Operating rules that serve a pickup at ``origin`` at ``when`` and a
        drop-off at ``destination`` ``duration_s`` later; points are (lat, lon)."""
        from_zones = set(self.zones_at(*origin))
        to_zones = set(self.zones_at(*destination))
        candidates = [
            r for r in self.feed.operating_rules if r.from_zone_id in from_zones and r.to_zone_id in to_zones
        ]
        if not candidates:
            return []
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.tz)  # a naive time is the service's local time
        today = when.astimezone(self.tz).date()
        out = []
        for rule in candidates:
            for day in (today, today - dt.timedelta(days=1)):
                seconds = (when - _service_day_start(day, self.tz)).total_seconds()
                if (
                    self._calendar_active(rule, day)
                    and rule.pickup_open(seconds)
                    and rule.dropoff_open(seconds + duration_s)
                ):
                    out.append(rule)
                    break
        return out

    def booking_rules_for(self, from_zone_id: str, to_zone_id: str) -> list[BookingRule]:
        return [b for b in self.feed.booking_rules if b.covers(from_zone_id, to_zone_id)]

    def _calendar_active(self, rule: OperatingRule, day: dt.date) -> bool:
        calendars = self.feed.calendars_by_id
        return any(c in calendars and calendars[c].active_on(day) for c in rule.calendar_ids)


def _service_day_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """'Noon minus 12 h' of a service day, in UTC: midnight, except across a DST change.
    (In UTC because arithmetic on two datetimes of one zone ignores DST.)"""
    return dt.datetime.combine(day, _NOON, tzinfo=tz).astimezone(dt.UTC) - dt.timedelta(hours=12)
