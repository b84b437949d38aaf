"""Gateway settings, read from the environment with the ``MAAS_`` prefix (DESIGN section 4).

``Settings()`` reads ``MAAS_GRAPH``, ``MAAS_REDIS_URL``, ... ; tests and the CLI pass values
directly (``Settings(graph=path)``). :meth:`Settings.to_env` turns a settings object back into
environment variables so that uvicorn worker processes, which build the app through a factory,
see the same values as the process that started them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAAS_", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("./maas-data"), description="Catalog database, artifacts, keys, jobs.")
    graph: Path | None = Field(default=None, description="Graph artifact directory to serve.")
    verify_graph: bool = Field(default=True, description="Check the artifact's checksums on load.")
    engine: str = Field(default="raptor", description="Journey planner engine (routing.engines).")
    warm_up: bool = Field(default=True, description="Compile the engine at startup, before serving.")
    redis_url: str | None = Field(default=None, description="redis://... ; unset: an in-process LRU cache.")
    database_url: str | None = Field(default=None, description="Catalog database; unset: SQLite in data_dir.")
    r5_classpath: str | None = Field(default=None, description="R5 jar for the r5 engine.")
    dask_scheduler: str | None = Field(
        default=None, description="Dask scheduler address for large analysis jobs (unset: a LocalCluster)."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Allowed CORS origins: comma-separated or a JSON list; '*' for any."
    )
    cache_ttl_s: int = Field(default=300, ge=1, le=86_400, description="Lifetime of a cached itinerary response.")
    cache_max_entries: int = Field(default=10_000, ge=1, description="Size of the in-process LRU cache.")
    cache_local_entries: int = Field(
        default=1024, ge=0, description="With Redis: a near cache of this many entries per worker (0: none)."
    )
    redis_timeout_s: float = Field(default=0.1, ge=0.005, le=2.0, description="Timeout of every Redis call.")
    redis_retry_after_s: float = Field(
        default=1.0, ge=0.0, le=60.0, description="After a Redis failure, serve uncached this long before trying again."
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="Larger request bodies get 413.")
    max_upload_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1024, description="Largest feed upload (PUT /v1/feeds/{id}); larger: 413."
    )
    swap_poll_s: float = Field(
        default=1.0, ge=0.0, le=60.0, description="How often a worker checks for a newly deployed graph (0: never)."
    )
    key_rate_per_s: float = Field(default=10.0, gt=0.0, description="Requests a second per API key (token bucket).")
    key_burst: int = Field(default=20, ge=1, description="Burst size of each API key's token bucket.")
    walk_speed_mps: float = Field(default=1.33, gt=0.1, lt=5.0)
    bike_speed_mps: float = Field(default=4.5, gt=0.5, lt=15.0)
    default_num_itineraries: int = Field(default=5, ge=1, le=20)
    sharing_refresh: bool = Field(
        default=True, description="Refresh GBFS availability in the background at the feeds' ttl."
    )
    gtfs_rt: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="GTFS-Realtime sources as FEED=PATH_OR_URL (FEED: the static feed id; several per feed "
        "allowed, e.g. trip updates and alerts): comma-separated or a JSON list.",
    )
    gtfs_rt_refresh_s: float = Field(
        default=30.0, ge=0.0, le=3600.0, description="How often to re-read the GTFS-RT sources (0: only at start)."
    )
    gtfs_rt_max_age_s: float = Field(
        default=300.0, gt=0.0, description="A GTFS-RT header older than this is reported stale (still applied)."
    )
    engine_threads: int = Field(
        default_factory=lambda: max(2, os.cpu_count() or 2),
        ge=1,
        le=256,
        description="Threads running engine calls (numba releases the GIL, so they run in parallel).",
    )
    switch_interval_s: float = Field(
        default=0.0005, ge=0.0001, le=0.1,
        description="GIL switch interval of server workers (Python's default 0.005 delays the event loop).",
    )
    log_level: LogLevel = "INFO"
    log_json: bool = Field(default=True, description="One JSON object per log line (off: plain text).")
    access_log: bool = Field(default=True, description="One log line per request (off when a proxy logs them).")

    @field_validator("cors_origins", "gtfs_rt", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [o.strip() for o in text.split(",") if o.strip()]
        return value

    @field_validator("gtfs_rt")
    @classmethod
    def _check_gtfs_rt(cls, value: list[str]) -> list[str]:
        for spec in value:
            feed, sep, location = spec.partition("=")
            if not sep or not feed.strip() or not location.strip() or ":" in feed:
                raise ValueError(f"expected FEED=PATH_OR_URL, got {spec!r}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def to_env(self) -> dict[str, str]:
        """``MAAS_*`` variables that reproduce these settings in another process."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            key = f"MAAS_{name.upper()}"
            if isinstance(value, list):
                env[key] = json.dumps(value)
            elif isinstance(value, bool):
                env[key] = "true" if value else "false"
            else:
                env[key] = str(value)
        return env
