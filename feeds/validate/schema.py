"""What the GTFS Schedule reference says about each file, as plain data for the rules.

Only what the validator checks is written down: which files exist and are required,
their columns (for ``unknown_column``), which columns must be present and filled, primary
keys, value kinds and references between files.
"""

from __future__ import annotations

from dataclasses import dataclass

# Without any of these there is no timetable to route on.
REQUIRED_FILES: tuple[str, ...] = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
# At least one of these must define service days.
CALENDAR_FILES: tuple[str, ...] = ("calendar.txt", "calendar_dates.txt")
# Files whose structural defects (missing column, unparsable csv) leave nothing to route on.
ROUTING_FILES: frozenset[str] = frozenset(REQUIRED_FILES + CALENDAR_FILES)

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class FileSpec:
    """One GTFS file: its known columns (None: not checked), required ones and key."""

    name: str
    columns: frozenset[str] | None
    required_columns: tuple[str, ...] = ()
    # Columns that must be present *and* non-empty on every row.
    required_values: tuple[str, ...] = ()
    key: tuple[str, ...] = ()


def _spec(
    name: str,
    columns: str | None,
    required: str = "",
    key: str = "",
    *,
    may_be_empty: str = "",
) -> FileSpec:
    req = tuple(required.split())
    empty_ok = set(may_be_empty.split())
    return FileSpec(
        name=name,
        columns=frozenset(columns.split()) if columns is not None else None,
        required_columns=req,
        required_values=tuple(c for c in req if c not in empty_ok),
        key=tuple(key.split()),
    )


SPECS: dict[str, FileSpec] = {
    s.name: s
    for s in (
        _spec(
            "agency.txt",
            "agency_id agency_name agency_url agency_timezone agency_lang agency_phone agency_fare_url "
            "agency_email cemv_support",
            "agency_name agency_url agency_timezone",
            "agency_id",
        ),
        _spec(
            "stops.txt",
            "stop_id stop_code stop_name tts_stop_name stop_desc stop_lat stop_lon zone_id stop_url "
            "location_type parent_station stop_timezone wheelchair_boarding level_id platform_code stop_access",
            "stop_id",
            "stop_id",
        ),
        _spec(
            "routes.txt",
            "route_id agency_id route_short_name route_long_name route_desc route_type route_url route_color "
            "route_text_color route_sort_order continuous_pickup continuous_drop_off network_id cemv_support",
            "route_id route_type",
            "route_id",
        ),
        _spec(
            "trips.txt",
            "route_id service_id trip_id trip_headsign trip_short_name direction_id block_id shape_id "
            "wheelchair_accessible bikes_allowed cars_allowed",
            "route_id service_id trip_id",
            "trip_id",
        ),
        _spec(
            "stop_times.txt",
            "trip_id arrival_time departure_time stop_id location_group_id location_id stop_sequence "
            "stop_headsign start_pickup_drop_off_window end_pickup_drop_off_window pickup_type drop_off_type "
            "continuous_pickup continuous_drop_off shape_dist_traveled timepoint pickup_booking_rule_id "
            "drop_off_booking_rule_id",
            "trip_id stop_sequence",
            "trip_id stop_sequence",
        ),
        _spec(
            "calendar.txt",
            "service_id monday tuesday wednesday thursday friday saturday sunday start_date end_date",
            "service_id monday tuesday wednesday thursday friday saturday sunday start_date end_date",
            "service_id",
        ),
        _spec(
            "calendar_dates.txt",
            "service_id date exception_type",
            "service_id date exception_type",
            "service_id date",
        ),
        _spec(
            "shapes.txt",
            "shape_id shape_pt_lat shape_pt_lon shape_pt_sequence shape_dist_traveled",
            "shape_id shape_pt_lat shape_pt_lon shape_pt_sequence",
            "shape_id shape_pt_sequence",
        ),
        _spec(
            "frequencies.txt",
            "trip_id start_time end_time headway_secs exact_times",
            "trip_id start_time end_time headway_secs",
            "trip_id start_time",
        ),
        _spec(
            "transfers.txt",
            "from_stop_id to_stop_id from_route_id to_route_id from_trip_id to_trip_id transfer_type "
            "min_transfer_time",
            "transfer_type",
            "from_stop_id to_stop_id from_trip_id to_trip_id from_route_id to_route_id",
            may_be_empty="transfer_type",
        ),
        _spec(
            "pathways.txt",
            "pathway_id from_stop_id to_stop_id pathway_mode is_bidirectional length traversal_time "
            "stair_count max_slope min_width signposted_as reversed_signposted_as",
            "pathway_id from_stop_id to_stop_id pathway_mode is_bidirectional",
            "pathway_id",
        ),
        _spec("levels.txt", "level_id level_index level_name", "level_id level_index", "level_id"),
        _spec(
            "feed_info.txt",
            # feed_id is not in the reference but widely published (and used for namespacing).
            "feed_publisher_name feed_publisher_url feed_lang default_lang feed_start_date feed_end_date "
            "feed_version feed_contact_email feed_contact_url feed_id",
            "feed_publisher_name feed_publisher_url feed_lang",
        ),
        _spec(
            "fare_attributes.txt",
            "fare_id price currency_type payment_method transfers agency_id transfer_duration",
            "fare_id price currency_type payment_method transfers",
            "fare_id",
            may_be_empty="transfers",
        ),
        _spec("fare_rules.txt", "fare_id route_id origin_id destination_id contains_id", "fare_id"),
        _spec("location_groups.txt", None, "location_group_id", "location_group_id"),
        _spec("location_group_stops.txt", None, "location_group_id stop_id", "location_group_id stop_id"),
        _spec("booking_rules.txt", None, "booking_rule_id booking_type", "booking_rule_id"),
        _spec("timeframes.txt", None, "timeframe_group_id service_id"),
        _spec("rider_categories.txt", None, "rider_category_id rider_category_name", "rider_category_id"),
        _spec("fare_media.txt", None, "fare_media_id fare_media_type", "fare_media_id"),
        _spec("fare_products.txt", None, "fare_product_id amount currency"),
        _spec("fare_leg_rules.txt", None, "fare_product_id"),
        _spec("fare_leg_join_rules.txt", None, "from_network_id to_network_id"),
        _spec("fare_transfer_rules.txt", None, "fare_transfer_type"),
        _spec("areas.txt", None, "area_id", "area_id"),
        _spec("stop_areas.txt", None, "area_id stop_id", "area_id stop_id"),
        _spec("networks.txt", None, "network_id", "network_id"),
        _spec("route_networks.txt", None, "network_id route_id", "route_id"),
        _spec("translations.txt", None, "table_name field_name language translation"),
        _spec("attributions.txt", None, "organization_name", "attribution_id"),
    )
}

# Non-CSV members the reference defines.
JSON_FILES: frozenset[str] = frozenset({"locations.geojson"})
KNOWN_FILES: frozenset[str] = frozenset(SPECS) | JSON_FILES

# Value kinds, by column name (GTFS column names mean the same in every file).
TIME_COLUMNS: frozenset[str] = frozenset(
    {
        "arrival_time",
        "departure_time",
        "start_time",
        "end_time",
        "start_pickup_drop_off_window",
        "end_pickup_drop_off_window",
        "prior_notice_last_time",
        "prior_notice_start_time",
    }
)
DATE_COLUMNS: frozenset[str] = frozenset(
    {"date", "start_date", "end_date", "feed_start_date", "feed_end_date"}
)
LATITUDE_COLUMNS: frozenset[str] = frozenset({"stop_lat", "shape_pt_lat"})
LONGITUDE_COLUMNS: frozenset[str] = frozenset({"stop_lon", "shape_pt_lon"})
NON_NEGATIVE_INT_COLUMNS: frozenset[str] = frozenset(
    {"stop_sequence", "shape_pt_sequence", "headway_secs", "min_transfer_time"}
)
# Signed: a negative stair_count means the pathway goes down.
INT_COLUMNS: frozenset[str] = frozenset({"stair_count"})
NON_NEGATIVE_FLOAT_COLUMNS: frozenset[str] = frozenset({"shape_dist_traveled", "price", "length"})
COLOR_COLUMNS: frozenset[str] = frozenset({"route_color", "route_text_color"})
TIMEZONE_COLUMNS: frozenset[str] = frozenset({"agency_timezone", "stop_timezone"})
# Allowed values of enumerations (route_type is special-cased: extended types 100..1799).
ENUMS: dict[str, frozenset[str]] = {
    "location_type": frozenset("01234"),
    "wheelchair_boarding": frozenset("012"),
    "wheelchair_accessible": frozenset("012"),
    "bikes_allowed": frozenset("012"),
    "direction_id": frozenset("01"),
    "exception_type": frozenset("12"),
    "pickup_type": frozenset("0123"),
    "drop_off_type": frozenset("0123"),
    "continuous_pickup": frozenset("0123"),
    "continuous_drop_off": frozenset("0123"),
    "timepoint": frozenset("01"),
    "exact_times": frozenset("01"),
    "transfer_type": frozenset("012345"),
    "pathway_mode": frozenset("1234567"),
    "is_bidirectional": frozenset("01"),
    **{day: frozenset("01") for day in WEEKDAYS},
}
# Files where the enum columns above have that meaning (transfers in fare_attributes is not transfer_type).
ENUM_FILES: frozenset[str] = frozenset(
    {
        "stops.txt",
        "routes.txt",
        "trips.txt",
        "stop_times.txt",
        "calendar.txt",
        "calendar_dates.txt",
        "frequencies.txt",
        "transfers.txt",
        "pathways.txt",
    }
)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    file: str
    column: str
    parent_file: str
    parent_column: str


def _fk(child: str, parent: str) -> ForeignKey:
    file, column = child.split(":")
    parent_file, parent_column = parent.split(":")
    return ForeignKey(file, column, parent_file, parent_column)


# trips.service_id (calendar or calendar_dates) and stop_times.location_id (GeoJSON) are
# checked by dedicated rules; everything else is a plain column -> column reference.
FOREIGN_KEYS: tuple[ForeignKey, ...] = (
    _fk("routes.txt:agency_id", "agency.txt:agency_id"),
    _fk("trips.txt:route_id", "routes.txt:route_id"),
    _fk("trips.txt:shape_id", "shapes.txt:shape_id"),
    _fk("stop_times.txt:trip_id", "trips.txt:trip_id"),
    _fk("stop_times.txt:stop_id", "stops.txt:stop_id"),
    _fk("stop_times.txt:location_group_id", "location_groups.txt:location_group_id"),
    _fk("stop_times.txt:pickup_booking_rule_id", "booking_rules.txt:booking_rule_id"),
    _fk("stop_times.txt:drop_off_booking_rule_id", "booking_rules.txt:booking_rule_id"),
    _fk("stops.txt:parent_station", "stops.txt:stop_id"),
    _fk("stops.txt:level_id", "levels.txt:level_id"),
    _fk("frequencies.txt:trip_id", "trips.txt:trip_id"),
    _fk("transfers.txt:from_stop_id", "stops.txt:stop_id"),
    _fk("transfers.txt:to_stop_id", "stops.txt:stop_id"),
    _fk("transfers.txt:from_route_id", "routes.txt:route_id"),
    _fk("transfers.txt:to_route_id", "routes.txt:route_id"),
    _fk("transfers.txt:from_trip_id", "trips.txt:trip_id"),
    _fk("transfers.txt:to_trip_id", "trips.txt:trip_id"),
    _fk("pathways.txt:from_stop_id", "stops.txt:stop_id"),
    _fk("pathways.txt:to_stop_id", "stops.txt:stop_id"),
    _fk("fare_attributes.txt:agency_id", "agency.txt:agency_id"),
    _fk("fare_rules.txt:fare_id", "fare_attributes.txt:fare_id"),
    _fk("fare_rules.txt:route_id", "routes.txt:route_id"),
    _fk("fare_rules.txt:origin_id", "stops.txt:zone_id"),
    _fk("fare_rules.txt:destination_id", "stops.txt:zone_id"),
    _fk("fare_rules.txt:contains_id", "stops.txt:zone_id"),
    _fk("location_group_stops.txt:location_group_id", "location_groups.txt:location_group_id"),
    _fk("location_group_stops.txt:stop_id", "stops.txt:stop_id"),
    _fk("stop_areas.txt:area_id", "areas.txt:area_id"),
    _fk("stop_areas.txt:stop_id", "stops.txt:stop_id"),
    _fk("route_networks.txt:network_id", "networks.txt:network_id"),
    _fk("route_networks.txt:route_id", "routes.txt:route_id"),
)

# Highest plausible speed between two consecutive stops, km/h, by basic route_type
# (the canonical validator's table); extended types map onto their basic family.
MAX_SPEED_KMH: dict[int, float] = {
    0: 100.0,  # tram, light rail
    1: 150.0,  # subway, metro
    2: 500.0,  # rail (up to maglev)
    3: 150.0,  # bus
    4: 80.0,  # ferry
    5: 30.0,  # cable tram
    6: 50.0,  # aerial lift
    7: 50.0,  # funicular
    11: 150.0,  # trolleybus
    12: 150.0,  # monorail
}
UNKNOWN_MODE_MAX_SPEED_KMH = 200.0


def basic_route_type(route_type: int) -> int:
    """The basic route_type of an extended one (Google's extended types 100..1799)."""
    if route_type < 100:
        return route_type
    family = route_type // 100
    return {1: 2, 2: 3, 4: 1, 5: 1, 6: 1, 7: 3, 8: 11, 9: 0, 10: 4, 12: 4, 13: 6, 14: 7}.get(family, -1)


def max_speed_kmh(route_type: int) -> float:
    return MAX_SPEED_KMH.get(basic_route_type(route_type), UNKNOWN_MODE_MAX_SPEED_KMH)


def is_valid_route_type(route_type: int) -> bool:
    return route_type in MAX_SPEED_KMH or 100 <= route_type <= 1799
