"""Structured logs: one JSON object per line, the request id on every line of a request.

Privacy (DESIGN section 6): logs never hold a raw origin or destination. Anything that may
carry coordinates goes through :func:`coarsen`, which rounds every decimal number with more
than three decimals to three (about 100 m), and the access log records the route template
(``/v1/stops/{stop_id}``), never the raw query string.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import re
import sys
import threading
import uuid
from typing import Any

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("maas_request_id", default=None)

_PRECISE_NUMBER = re.compile(r"-?\d+\.\d{4,}")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# attributes every LogRecord has; anything else was passed through ``extra=`` and is logged
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "color_message"}


def coarsen(text: str) -> str:
    """Round every number with more than 3 decimals to 3: ``45.523064`` -> ``45.523``."""
    return _PRECISE_NUMBER.sub(lambda m: f"{float(m.group()):.3f}", text)


def coarsen_value(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, str):
        return coarsen(value)
    if isinstance(value, dict):
        return {k: coarsen_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [coarsen_value(v) for v in value]
    return value


def new_request_id(incoming: str | None = None) -> str:
    """The client's ``X-Request-ID`` when it is short and plain, else a fresh one."""
    if incoming and _SAFE_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": coarsen(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key != "request_id":
                entry[key] = coarsen_value(value)
        if record.exc_info:
            entry["exc"] = coarsen(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = coarsen(super().format(record))
        rid = getattr(record, "request_id", None) or request_id_var.get()
        return f"{text} [request_id={rid}]" if rid else text


class RequestIdFilter(logging.Filter):
    """Stamp the current request id on every record when it is made, not when it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class BatchingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes lines in batches: one ``write`` per ``capacity`` lines or ``interval_s`` seconds,
    at once for WARNING and above. A write and flush per line cost more than formatting the
    line; an access log line per request must not halve the throughput of cache hits.
    A daemon thread flushes a quiet server's lines within ``interval_s``."""

    def __init__(self, stream: Any = None, *, capacity: int = 128, interval_s: float = 0.5) -> None:
        super().__init__(stream)
        self.capacity = capacity
        self.interval_s = interval_s
        self._lines: list[str] = []
        self._stop_flushing = threading.Event()
        threading.Thread(target=self._flush_periodically, name="maas-log-flush", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self.lock:  # type: ignore[union-attr]
            self._lines.append(line)
            if record.levelno >= logging.WARNING or len(self._lines) >= self.capacity:
                self._write_locked()

    def _write_locked(self) -> None:
        if self._lines:
            text = "\n".join(self._lines) + "\n"
            self._lines.clear()
            try:
                self.stream.write(text)
                self.stream.flush()
            except Exception:  # a broken stderr must not break requests
                pass

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write_locked()

    def _flush_periodically(self) -> None:
        while not self._stop_flushing.wait(self.interval_s):
            self.flush()

    def close(self) -> None:
        self._stop_flushing.set()
        self.flush()
        super().close()


def flush_logs() -> None:
    """Write out batched lines now (worker shutdown: multiprocessing skips atexit)."""
    for h in logging.getLogger().handlers:
        h.flush()


_HANDLER_MARK = "_maas_handler"


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Route the root logger (and uvicorn's) to one stderr handler; idempotent."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _HANDLER_MARK, False):
            root.removeHandler(h)
            h.close()
    handler = BatchingStreamHandler(sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(JsonFormatter() if json_lines else PlainFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # uvicorn's access log prints raw query strings (coordinates): the gateway logs its own.
    logging.getLogger("uvicorn.access").disabled = True
