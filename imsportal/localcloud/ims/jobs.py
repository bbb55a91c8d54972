"""IMS ``GET /v1/{project_id}/jobs/{job_id}`` (reference ims.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from imsportal.localcloud.errors import ims_error
from imsportal.localcloud.ims.engine import refresh, state
from imsportal.localcloud.models import Job, Token


def _job_ts(value: datetime | None) -> str | None:
    return (
        value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
        if value
        else None
    )


def job_body(job: Job) -> dict[str, Any]:
    current = state(job)
    entities: dict[str, Any] = {"image_name": job.params.get("name", "")}
    if current.status == "SUCCESS":
        entities["image_id"] = job.image_id
    if current.status != "FAIL":
        entities["process_percent"] = current.percent
    return {
        "job_id": job.id,
        "job_type": job.job_type,
        "status": current.status,
        "begin_time": _job_ts(job.begin_time),
        "end_time": _job_ts(job.end_time),
        "error_code": job.error_code,
        "fail_reason": job.fail_reason,
        "entities": entities,
    }


def show_job(request: HttpRequest, caller: Token, project_id: str, job_id: str) -> HttpResponse:
    if project_id != caller.project_id:
        return ims_error(
            403, "IMG.0026", "The project in the URL is not the project of the credentials."
        )
    job = Job.objects.filter(id=job_id, project_id=project_id).first()
    if job is None:
        return ims_error(404, "IMG.0017", f"The job {job_id} does not exist.")
    return JsonResponse(job_body(refresh(job)))
