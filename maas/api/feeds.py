"""The feed catalog over HTTP, and publishing.

- ``GET /v1/feeds``, ``/v1/feeds/{id}``, ``/v1/feeds/{id}/quality``: open data (internal feeds
  only to admin or the feed's writers); ``GET /v1/feeds/{id}/download``: public feeds to anyone,
  restricted ones with a key.
- ``PUT /v1/feeds/{id}``: the raw body is the GTFS zip (at most ``MAAS_MAX_UPLOAD_BYTES``, else
  413). It is validated first: with errors, 422 problem+json carrying the quality report, and
  nothing changes. Otherwise 202 and a job (``/v1/jobs/{id}``) builds and deploys the new graph.
- ``POST /v1/feeds/{id}/rollback``: serve the graph from before the feed's latest publish again.

:class:`UploadBodyLimit` replaces the app-wide body limit so uploads get their own, larger one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from maas.api.auth import (
    KEY_RESPONSES,
    NOT_FOUND,
    OptionalKey,
    RequiredKey,
    catalog_call,
    forbidden,
    ok_example,
    operations,
    unauthorized,
)
from maas.api.middleware import BodyLimitMiddleware, BodyTooLarge
from maas.api.problems import PROBLEM_MEDIA_TYPE, TYPE_INVALID, TYPE_NOT_FOUND, ProblemException
from maas.catalog import audit
from maas.catalog.errors import Conflict, NotFound
from maas.catalog.feeds import (
    check_feed_meta,
    feed_to_dict,
    get_feed,
    list_feeds,
    live_version,
    version_file,
    version_to_dict,
)
from maas.catalog.tables import Feed, FeedVersion
from maas.identity.scopes import Principal
from maas.logging import request_id_var
from maas.publish.operations import Operations
from maas.publish.pointer import stored_path

router = APIRouter(prefix="/v1", tags=["feeds"])

FeedId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.\-]{1,64}$", description="Feed id (FEED in FEED:ID).",
                                  openapi_examples={"example": {"value": "trimet"}})]
VERSION_EXAMPLE = {"id": 7, "sha256": "5f0c...e1", "size_bytes": 1843221, "valid_from": "2026-11-01",
                   "valid_to": "2027-02-28", "quality_grade": "B", "published_at": "2026-11-26T12:00:00+00:00",
                   "published_by": "k3f2a9c0d1b", "graph_version": "9c1d0a4e2b7f3355", "status": "live"}
FEED_EXAMPLE = {"id": "trimet", "kind": "gtfs", "publisher": "TriMet", "licence": "CC-BY-4.0",
                "source_url": "https://developer.trimet.org/schedule/gtfs.zip", "classification": "public",
                "current_version": VERSION_EXAMPLE}
TYPE_CONFLICT = "urn:maas:problem:conflict"
TYPE_BAD_FEED = "urn:maas:problem:invalid-feed"


def _not_found(feed_id: str) -> ProblemException:
    return ProblemException(404, f"no feed {feed_id!r}", type_=TYPE_NOT_FOUND, title="Not found")


def _visible(feed: Feed, key: Principal | None) -> bool:
    if feed.classification != "internal":
        return True
    return key is not None and key.can_read_feed(feed.id, feed.classification)


@router.get("/feeds", summary="The feed catalog", responses={**KEY_RESPONSES, **ok_example({"feeds": [FEED_EXAMPLE]})})
async def feeds_index(request: Request, key: OptionalKey) -> dict[str, Any]:
    ops = operations(request)
    rows = await catalog_call(lambda: list_feeds(ops.db))
    return {"feeds": [feed_to_dict(f, live) for f, live in rows if _visible(f, key)]}


def _feed_detail(request: Request, feed_id: str) -> tuple[Feed, FeedVersion | None, list[FeedVersion]]:
    ops = operations(request)
    with ops.db.read() as s:
        try:
            feed = get_feed(s, feed_id)
        except NotFound:
            raise _not_found(feed_id) from None
        return feed, live_version(s, feed_id), list(feed.versions)


@router.get("/feeds/{feed_id}", summary="One feed: metadata and versions (newest first)",
            responses={**KEY_RESPONSES, **NOT_FOUND, **ok_example({**FEED_EXAMPLE, "versions": [VERSION_EXAMPLE]})})
async def feed_show(request: Request, feed_id: FeedId, key: OptionalKey) -> dict[str, Any]:
    feed, live, versions = await catalog_call(_feed_detail, request, feed_id)
    if not _visible(feed, key):
        raise _not_found(feed_id)
    return feed_to_dict(feed, live, versions)


@router.get("/feeds/{feed_id}/quality", summary="Quality report of the live version (or ?version=ID)",
            responses={**KEY_RESPONSES, **NOT_FOUND, **ok_example({
                "feed_id": "trimet", "version": VERSION_EXAMPLE, "grade": "B",
                "report": {"feed_id": "trimet", "grade": "B", "summary": {"errors": 0, "warnings": 3, "infos": 1,
                                                                          "fatal": 0, "rows": 120345},
                           "counts": {"stops.txt": 6543}, "notices": []}})})
async def feed_quality(request: Request, feed_id: FeedId, key: OptionalKey,
                       version: Annotated[int | None, Query(ge=1, openapi_examples={"example": {"value": 7}})] = None) -> dict[str, Any]:
    feed, live, versions = await catalog_call(_feed_detail, request, feed_id)
    if not _visible(feed, key):
        raise _not_found(feed_id)
    chosen = live if version is None else next((v for v in versions if v.id == version), None)
    if chosen is None:
        raise ProblemException(404, f"feed {feed_id!r} has no {'live version' if version is None else f'version {version}'}",
                               type_=TYPE_NOT_FOUND, title="Not found")
    return {"feed_id": feed_id, "version": version_to_dict(chosen), "grade": chosen.quality_grade,
            "report": chosen.quality_report}


@router.get("/feeds/{feed_id}/download", summary="The live version's file (public feeds: open data)",
            response_class=FileResponse, responses={
                **KEY_RESPONSES, **NOT_FOUND,
                200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"},
                                                      "example": "(the GTFS zip)"}}}})
async def feed_download(request: Request, feed_id: FeedId, key: OptionalKey) -> Response:
    feed, live, _ = await catalog_call(_feed_detail, request, feed_id)
    if not _visible(feed, key):
        raise _not_found(feed_id)
    if feed.classification != "public":
        if key is None:
            raise unauthorized(f"feed {feed_id} is {feed.classification}: an API key is required")
        if not key.can_read_feed(feed_id, feed.classification):
            raise forbidden(f"key {key.key_id} may not download feed {feed_id}")
    path = version_file(operations(request).db, live) if live is not None else None
    if path is None or not path.is_file():
        raise ProblemException(404, f"feed {feed_id!r} has no downloadable file", type_=TYPE_NOT_FOUND,
                               title="Not found")
    return FileResponse(path, filename=f"{feed_id}-{live.sha256[:12]}{path.suffix or '.zip'}" if live else None,
                        media_type="application/zip" if path.suffix == ".zip" else "application/octet-stream")


# -- publishing -------------------------------------------------------------------------------------


def _writer(key: Principal, feed_id: str) -> None:
    if not key.can_write_feed(feed_id):
        raise forbidden(f"key {key.key_id} lacks scope feeds:write:{feed_id}")


async def _receive_upload(request: Request, into: Path, limit: int) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with into.open("wb") as fh:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            h.update(chunk)
            fh.write(chunk)
    return h.hexdigest(), size


def _bad_feed(report: dict[str, Any], instance: str) -> Response:
    summary = report.get("summary", {})
    body: dict[str, Any] = {
        "type": TYPE_BAD_FEED, "title": "Invalid feed", "status": 422,
        "detail": f"the feed has {summary.get('errors', '?')} errors; nothing was changed",
        "instance": instance, "report": report,
    }
    rid = request_id_var.get()
    if rid is not None:
        body["request_id"] = rid
    return Response(orjson.dumps(body), status_code=422, media_type=PROBLEM_MEDIA_TYPE)


@router.put(
    "/feeds/{feed_id}",
    status_code=202,
    responses={**KEY_RESPONSES, 202: {
        "description": "Accepted: a job builds and deploys the new graph (Location: /v1/jobs/{id}).",
        "content": {"application/json": {"example": {
            "job_id": "0f3c9a2b4d5e6f708192a3b4c5d6e7f8", "status": "queued", "feed_id": "trimet", "version_id": 7,
            "sha256": "5f0c...e1", "quality_grade": "B", "href": "/v1/jobs/0f3c9a2b4d5e6f708192a3b4c5d6e7f8"}}}}},
    summary="Publish a new version (raw body: the GTFS zip); 202 with a job, or 422 with the quality report",
    openapi_extra={"requestBody": {"required": True, "description": "The GTFS zip, as the raw body.",
                                   "content": {"application/octet-stream": {
                                       "schema": {"type": "string", "format": "binary"}}}}},
)
async def feed_publish(
    request: Request,
    feed_id: FeedId,
    key: RequiredKey,
    kind: Annotated[str | None, Query(description="For a new feed (default gtfs).", openapi_examples={"example": {"value": "gtfs"}})] = None,
    publisher: Annotated[str | None, Query(max_length=200, openapi_examples={"example": {"value": "TriMet"}})] = None,
    licence: Annotated[str | None, Query(max_length=200, openapi_examples={"example": {"value": "CC-BY-4.0"}})] = None,
    source_url: Annotated[str | None, Query(max_length=2000, openapi_examples={"example": {"value": "https://example.org/gtfs.zip"}})] = None,
    classification: Annotated[str | None, Query(description="public, restricted or internal.",
                                                 openapi_examples={"example": {"value": "public"}})] = None,
) -> Response:
    _writer(key, feed_id)
    errors = check_feed_meta(kind, classification)
    if errors:
        raise ProblemException(422, "; ".join(f"{f}: {m}" for f, m in errors), type_=TYPE_INVALID,
                               title="Invalid request", errors=errors)
    ops = operations(request)
    existing: Feed | None = await catalog_call(lambda: _get(ops, feed_id))
    feed_kind = kind or (existing.kind if existing else "gtfs")
    if existing is not None and kind is not None and kind != existing.kind:
        raise ProblemException(422, f"kind: feed {feed_id} is {existing.kind}", type_=TYPE_INVALID,
                               title="Invalid request", errors=[("kind", f"feed {feed_id} is {existing.kind}")])
    if feed_kind != "gtfs":
        raise ProblemException(422, f"kind: only GTFS uploads are built into the graph, not {feed_kind}",
                               type_=TYPE_INVALID, title="Invalid request",
                               errors=[("kind", "only gtfs can be published here")])
    uploads = ops.data_dir / "uploads"
    await catalog_call(lambda: uploads.mkdir(parents=True, exist_ok=True))
    part = uploads / f"{uuid.uuid4().hex}.zip"
    try:
        sha, size = await _receive_upload(request, part, ops.settings.max_upload_bytes)
        if size == 0:
            raise ProblemException(422, "body: empty; send the GTFS zip as the request body", type_=TYPE_INVALID,
                                   title="Invalid request", errors=[("body", "empty")])
        report = await catalog_call(_validate, part, feed_id)
        if report["summary"]["errors"] > 0:
            return _bad_feed(report, request.url.path)
        target = ops.data_dir / "feeds" / feed_id / f"{sha}.zip"
        version_id, job_id = await catalog_call(
            _accept, ops, part, target, feed_id, existing is None, feed_kind, sha, size, report, key,
            {"publisher": publisher, "licence": licence, "source_url": source_url, "classification": classification},
        )
    finally:
        part.unlink(missing_ok=True)
    location = f"/v1/jobs/{job_id}"
    body = {"job_id": job_id, "status": "queued", "feed_id": feed_id, "version_id": version_id, "sha256": sha,
            "quality_grade": report["grade"], "href": location}
    return Response(orjson.dumps(body), status_code=202, media_type="application/json",
                    headers={"Location": location})


def _get(ops: Operations, feed_id: str) -> Feed | None:
    with ops.db.read() as s:
        return s.get(Feed, feed_id)


def _validate(path: Path, feed_id: str) -> dict[str, Any]:
    from feeds.validate import validate_gtfs

    report: dict[str, Any] = validate_gtfs(path, feed_id).to_dict()
    return report


def _accept(ops: Operations, part: Path, target: Path, feed_id: str, new_feed: bool, kind: str, sha: str, size: int,
            report: dict[str, Any], key: Principal, meta: dict[str, str | None]) -> tuple[int, str]:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload.")
        os.close(fd)
        shutil.copyfile(part, tmp)
        os.replace(tmp, target)
    with ops.db.write() as s:
        feed = s.get(Feed, feed_id)
        if feed is None:
            feed = Feed(id=feed_id, kind=kind)
            s.add(feed)
        for name, value in meta.items():
            if value is not None:
                setattr(feed, name, value)
        version = FeedVersion(feed_id=feed_id, sha256=sha, size_bytes=size, quality_grade=report["grade"],
                              quality_report=report, published_by=key.key_id,
                              file_path=stored_path(ops.data_dir, target), status="pending")
        s.add(version)
        s.flush()
        audit.record(s, key.key_id, "publish", feed_id, version_id=version.id, sha256=sha, size_bytes=size,
                     grade=report["grade"], new_feed=new_feed)
        version_id = version.id
    return version_id, ops.start_publish(version_id, feed_id, key.key_id)


class FeedMeta(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"licence": "CC-BY-4.0", "classification": "restricted"}]})

    publisher: str | None = Field(default=None, max_length=200)
    licence: str | None = Field(default=None, max_length=200)
    source_url: str | None = Field(default=None, max_length=2000)
    classification: Literal["public", "restricted", "internal"] | None = None


@router.patch("/feeds/{feed_id}", summary="Change a feed's metadata (publisher, licence, source URL, classification)",
              responses={**KEY_RESPONSES, **NOT_FOUND, **ok_example(FEED_EXAMPLE)})
async def feed_update(request: Request, feed_id: FeedId, key: RequiredKey, meta: FeedMeta) -> dict[str, Any]:
    _writer(key, feed_id)
    ops = operations(request)
    changes = meta.model_dump(exclude_none=True)

    def update() -> dict[str, Any]:
        with ops.db.write() as s:
            feed = s.get(Feed, feed_id)
            if feed is None:
                raise _not_found(feed_id)
            for name, value in changes.items():
                setattr(feed, name, value)
            audit.record(s, key.key_id, "feed.update", feed_id, **changes)
            return feed_to_dict(feed, live_version(s, feed_id))

    result: dict[str, Any] = await catalog_call(update)
    return result


@router.post("/feeds/{feed_id}/rollback", summary="Serve again the graph from before the feed's latest publish",
             responses={**KEY_RESPONSES, 409: {"description": "Nothing to roll back to (only the latest publish can be "
                                                              "rolled back)."},
                        **ok_example({"feed_id": "trimet", "graph_version": "3f2a9c0d1b7e4a55", "deployment_id": 4})})
async def feed_rollback(request: Request, feed_id: FeedId, key: RequiredKey) -> dict[str, Any]:
    _writer(key, feed_id)
    ops = operations(request)
    try:
        deployed = await catalog_call(ops.rollback, feed_id, key.key_id)
    except Conflict as e:
        raise ProblemException(409, str(e), type_=TYPE_CONFLICT, title="Conflict") from None
    return {"feed_id": feed_id, "graph_version": deployed.graph_version, "deployment_id": deployed.deployment_id}


class UploadBodyLimit:
    """The app's body limit, with ``max_upload_bytes`` instead for ``PUT /v1/feeds/...``."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.default = BodyLimitMiddleware(app, max_body_bytes)
        self.upload = BodyLimitMiddleware(app, max_upload_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "PUT" and str(scope.get("path", "")).startswith("/v1/feeds/"):
            await self.upload(scope, receive, send)
        else:
            await self.default(scope, receive, send)
