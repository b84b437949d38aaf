"""RFC 9457 problem details: every error the gateway sends is ``application/problem+json``.

Handlers translate FastAPI's validation errors, HTTP exceptions, :class:`routing.errors.BadRequest`
and anything unexpected. An unexpected error is logged with its traceback on the server and
reaches the client as a bare 500 naming the request id, never with a trace.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from maas.logging import request_id_var
from routing.errors import BadRequest, EngineUnavailable

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("maas.api")

# ``type`` URIs of the problems this API defines; plain HTTP errors use about:blank (RFC 9457 4.2.1).
TYPE_INVALID = "urn:maas:problem:invalid-request"
TYPE_NOT_FOUND = "urn:maas:problem:not-found"
TYPE_TOO_LARGE = "urn:maas:problem:body-too-large"
TYPE_NOT_READY = "urn:maas:problem:not-ready"
TYPE_INTERNAL = "urn:maas:problem:internal-error"


class FieldError(BaseModel):
    field: str = Field(description="The request field at fault: a parameter name, or a dotted path in the body.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": TYPE_INVALID,
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "from: expected LAT,LON or stop:FEED:STOP_ID, got 'nowhere'",
                    "instance": "/v1/plan",
                    "request_id": "8f14e45fceea167a5a36dedd4bea2543",
                    "errors": [{"field": "from", "message": "expected LAT,LON or stop:FEED:STOP_ID, got 'nowhere'"}],
                }
            ]
        },
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class ProblemException(Exception):
    """Raise from a route to answer with a problem; ``errors`` name the fields at fault."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        type_: str = "about:blank",
        title: str | None = None,
        errors: Sequence[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title or str(status))
        self.status = status
        self.detail = detail
        self.type = type_
        self.title = title
        self.errors = list(errors)
        self.headers = headers


def _title(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    status: int,
    *,
    detail: str | None = None,
    type_: str = "about:blank",
    title: str | None = None,
    instance: str | None = None,
    errors: Sequence[tuple[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": type_, "title": title or _title(status), "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    rid = request_id_var.get()
    if rid is not None:
        body["request_id"] = rid
    if errors:
        body["errors"] = [{"field": f, "message": m} for f, m in errors]
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _loc_to_field(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("query", "path", "header", "cookie", "body"):
        parts = parts[1:] or parts[:1]
    return ".".join(parts) or "request"


def validation_errors(exc: RequestValidationError) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = err.get("loc", ())
        if err.get("type") == "json_invalid":
            out.append(("body", "invalid JSON: " + str(err.get("ctx", {}).get("error", err.get("msg", "")))))
        else:
            out.append((_loc_to_field(loc), str(err.get("msg", "invalid value"))))
    return out


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc)
    detail = "; ".join(f"{f}: {m}" for f, m in errors)
    return problem_response(
        422, detail=detail, type_=TYPE_INVALID, title="Invalid request", instance=request.url.path, errors=errors
    )


async def _on_bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return problem_response(
        422,
        detail=f"{exc.field}: {exc.message}",
        type_=TYPE_INVALID,
        title="Invalid request",
        instance=request.url.path,
        errors=[(exc.field, exc.message)],
    )


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemException)
    return problem_response(
        exc.status,
        detail=exc.detail,
        type_=exc.type,
        title=exc.title,
        instance=request.url.path,
        errors=exc.errors,
        headers=exc.headers,
    )


# FastAPI answers a body it cannot decode (not UTF-8, ...) with this 400; clients get the same
# 422 naming the body as for invalid JSON.
_FASTAPI_BODY_ERROR = "There was an error parsing the body"


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_ERROR:
        message = "the body is not valid UTF-8 JSON"
        return problem_response(422, detail=f"body: {message}", type_=TYPE_INVALID, title="Invalid request",
                                instance=request.url.path, errors=[("body", message)])
    type_ = TYPE_TOO_LARGE if exc.status_code == 413 else "about:blank"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != _title(exc.status_code) else None
    return problem_response(
        exc.status_code, detail=detail, type_=type_, instance=request.url.path, headers=dict(exc.headers or {})
    )


async def _on_engine_unavailable(request: Request, exc: Exception) -> Response:
    log.error("engine unavailable: %s", exc)
    return problem_response(503, detail="the journey planner is not available", type_=TYPE_NOT_READY,
                            instance=request.url.path)


def internal_error_response(path: str | None = None) -> Response:
    rid = request_id_var.get()
    detail = "an unexpected error occurred" + (f"; quote request id {rid}" if rid else "")
    return problem_response(500, detail=detail, type_=TYPE_INTERNAL, instance=path)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s", request.url.path, exc_info=(type(exc), exc, exc.__traceback__))
    return internal_error_response(request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(BadRequest, _on_bad_request)
    app.add_exception_handler(ProblemException, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(EngineUnavailable, _on_engine_unavailable)
    app.add_exception_handler(Exception, _on_unexpected)
