"""``GET /v1/jobs/{id}``: a publish job's status, progress and errors (the feed's writers and admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from maas.api.auth import KEY_RESPONSES, RequiredKey, catalog_call, ok_example, operations
from maas.api.problems import TYPE_NOT_FOUND, ProblemException
from maas.catalog.tables import Job

router = APIRouter(prefix="/v1", tags=["feeds"])


def job_to_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "kind": job.kind, "feed_id": job.feed_id, "version_id": job.feed_version_id,
        "status": job.status, "progress": job.progress, "errors": job.errors, "graph_version": job.graph_version,
        "created_by": job.created_by, "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


@router.get("/jobs/{job_id}", summary="A publish job: queued, running, succeeded or failed",
            responses={**KEY_RESPONSES, 404: {"description": "No such job (or not one this key may see)."},
                       **ok_example({"id": "0f3c9a2b4d5e6f708192a3b4c5d6e7f8", "kind": "publish", "feed_id": "trimet",
                                     "version_id": 7, "status": "succeeded", "progress": "live", "errors": [],
                                     "graph_version": "9c1d0a4e2b7f3355", "created_by": "k3f2a9c0d1b",
                                     "created_at": "2026-11-26T12:00:00+00:00",
                                     "started_at": "2026-11-26T12:00:00+00:00",
                                     "finished_at": "2026-11-26T12:00:04+00:00"})})
async def job_show(request: Request, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", openapi_examples={"example": {"value": "0f3c9a2b4d5e6f708192a3b4c5d6e7f8"}})],
                   key: RequiredKey) -> dict[str, Any]:
    ops = operations(request)

    def load() -> Job | None:
        with ops.db.read() as s:
            return s.get(Job, job_id)

    job = await catalog_call(load)
    if job is None or not key.can_write_feed(job.feed_id):  # others learn nothing, not even that it exists
        raise ProblemException(404, f"no job {job_id}", type_=TYPE_NOT_FOUND, title="Not found")
    return job_to_dict(job)
