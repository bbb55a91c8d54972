"""The job center: every upload and IMS job of the project, paged; the list's one poll that
refreshes its running rows and adds new jobs; the detail page and the status badge, which
poll while a job runs and stop with 286 when it ends; the retry and cancel actions.

Every fragment here reads the portal's database only: a poll never calls the cloud.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from imsportal.accounts.roles import OPERATOR
from imsportal.audit.models import AuditEntry
from imsportal.audit.record import audited, record
from imsportal.cloud import cloudapi_for
from imsportal.cloudapi import ApiError
from imsportal.projects.access import project_view
from jobs import tasks
from jobs.models import Job


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *Job.Status.choices])
    kind = forms.ChoiceField(
        required=False, label="Type", choices=[("", "any type"), *Job.Kind.choices]
    )
    user = forms.ChoiceField(required=False)

    def __init__(self, data, project, **kwargs):
        super().__init__(data, **kwargs)
        names = (
            get_user_model()
            .objects.filter(pk__in=Job.objects.filter(project=project).values("created_by"))
            .order_by("username")
            .values_list("username", flat=True)
        )
        self.fields["user"].choices = [("", "any user")] + [(n, n) for n in names]

    def filter(self, jobs):
        if not self.is_valid():
            return jobs
        d = self.cleaned_data
        if d["status"]:
            jobs = jobs.filter(status=d["status"])
        if d["kind"]:
            jobs = jobs.filter(kind=d["kind"])
        if d["user"]:
            jobs = jobs.filter(created_by__username=d["user"])
        return jobs


def _jobs(project):
    return Job.objects.filter(project=project).select_related("created_by", "project")


def _get_job(project, pk: int) -> Job:
    # A job of another project is a 404 here, even for a user with a role there.
    return get_object_or_404(_jobs(project), pk=pk)


def _polled(request: HttpRequest, template: str, job: Job, **context) -> HttpResponse:
    response = render(request, template, {"job": job, **context})
    if job.is_done:
        # 286 tells htmx to stop polling; the final fragment has no hx-trigger either.
        return HttpResponseStopPolling(response.content)
    return response


PAGE_SIZE = 25
POLLED_ROWS_MAX = 2 * PAGE_SIZE  # running rows one poll refreshes; the rest take turns
PK_MAX = 2**63 - 1  # the largest id a database column holds; larger is no job


def _pk(value: str | None) -> int | None:
    """A job id from the query string, or None (not a plain number, or beyond any id)."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    pk = int(value)
    return pk if pk <= PK_MAX else None


def _list_filters(request: HttpRequest) -> str:
    """The filters of the list, without its paging and polling parameters."""
    filters = request.GET.copy()
    for name in ("after", "before", "running"):
        filters.pop(name, None)
    return filters.urlencode()


def _running(jobs) -> list[int]:
    """The ids the list's next poll refreshes (the template joins them)."""
    return [j.pk for j in jobs if not j.is_done]


@project_view()
@vary_on_headers("HX-Request")
def job_list(request: HttpRequest, project) -> HttpResponse:
    """Newest first, PAGE_SIZE a page (``?before=<pk>`` for older ones). One poll every 2 s
    refreshes the page's running rows and, on the first page, adds new jobs on top."""
    form = JobFilterForm(request.GET, project)
    jobs = form.filter(_jobs(project)).order_by("-pk")
    before = _pk(request.GET.get("before"))
    if before is not None:
        jobs = jobs.filter(pk__lt=before)
    page = list(jobs[: PAGE_SIZE + 1])
    older = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    page = page[:PAGE_SIZE]
    context = {
        "jobs": page,
        "form": form,
        "first_page": before is None,
        "newest": max((j.pk for j in page), default=_newest_pk(project)),
        "running": _running(page),
        "older": older,
        "filters": _list_filters(request),
    }
    return render(request, "jobs/job_list.html", context)


def _newest_pk(project) -> int:
    return (
        Job.objects.filter(project=project).order_by("-pk").values_list("pk", flat=True).first()
        or 0
    )


@project_view()
def job_list_poll(request: HttpRequest, project) -> HttpResponse:
    """The job list's one poll: its running rows as they are now (swapped in place, out of
    band) and, with ``after``, the jobs started since (matching the filters) for the top."""
    after = _pk(request.GET.get("after"))
    fresh: list[Job] = []
    if after is not None:
        # The next PAGE_SIZE after the last one shown, oldest first (so none is skipped when
        # many start at once; the rest come with the next poll), newest on top.
        form = JobFilterForm(request.GET, project)
        newer = form.filter(_jobs(project)).filter(pk__gt=after).order_by("pk")
        fresh = list(newer[:PAGE_SIZE])[::-1]
    wanted = [pk for pk in map(_pk, request.GET.get("running", "").split(",")) if pk]
    asked, waiting = wanted[:POLLED_ROWS_MAX], wanted[POLLED_ROWS_MAX:]
    updated = list(_jobs(project).filter(pk__in=asked))
    context = {
        "jobs": fresh,
        "updated": updated,
        "first_page": after is not None,
        "newest": max((j.pk for j in fresh), default=after or 0),
        # More than POLLED_ROWS_MAX running rows take turns: the waiting ones go first.
        "running": waiting + _running(fresh + updated),
        "filters": _list_filters(request),
    }
    return render(request, "jobs/job_list.html#polled-rows", context)


STATUS_FIELDS = ("id", "status", "progress", "last_error")  # what _job_status.html shows


@functools.cache
def _status_sql() -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(name) for name in STATUS_FIELDS)
    # Identifiers from the model only; the job and the project are parameters.
    return (
        f"SELECT {columns} FROM {qn(Job._meta.db_table)}"  # noqa: S608
        f" WHERE {qn('id')} = %s AND {qn('project_id')} = %s"
    )


@project_view()
def job_status(request: HttpRequest, project, pk: int) -> HttpResponse:
    """The status fragment; reads the portal's database only, never the cloud. The most
    frequent request of all (every running job's badge on an image's page polls it every
    2 s): one plain SQL query of the columns shown, a fifth of what the ORM spent on the
    whole row."""
    found = list(Job.objects.raw(_status_sql(), [pk, project.pk])) if pk <= PK_MAX else []
    if not found:
        raise Http404("No such job")
    job = found[0]
    job.project = project
    return _polled(request, "includes/_job_status.html", job)


def _audit_entries(job: Job):
    targets = [job.reference] + ([job.image_id] if job.image_id else [])
    return AuditEntry.objects.filter(project=job.project).filter(
        Q(target_id__in=targets) | Q(params__job=job.pk)
    )[:50]


@project_view()
@vary_on_headers("HX-Request")
def job_detail(request: HttpRequest, project, pk: int) -> HttpResponse:
    job = _get_job(project, pk)
    if request.htmx and not request.htmx.history_restore_request:
        return _polled(request, "jobs/job_detail.html#job-panel", job)
    return render(
        request, "jobs/job_detail.html", {"job": job, "audit_entries": _audit_entries(job)}
    )


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirm") == "yes"


@project_view(OPERATOR, methods=("POST",))
def job_cancel(request: HttpRequest, project, pk: int) -> HttpResponse:
    job = _get_job(project, pk)
    if not _confirmed(request) or job.is_done or job.kind != Job.Kind.UPLOAD:
        messages.warning(request, "Nothing to cancel.")
        return redirect("jobs:detail", project.slug, job.pk)
    # Not started yet: cancel it here. Running: the worker sees the flag within a second,
    # stops the stream, deletes the queued image and the staging file.
    if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, worker="cancel", lease_until=timezone.now()
    ):
        job.refresh_from_db()
        tasks._finish_cancel(job, "cancel")
        messages.success(request, f"Cancelled {job.title}.")
    else:
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        record(
            "job.cancel",
            request=request,
            target_id=job.reference,
            target_name=job.title,
            params={"kind": job.kind, "outcome": "requested"},
        )
        messages.success(request, f"Cancelling {job.title}…")
    return redirect("jobs:detail", project.slug, job.pk)


@project_view(OPERATOR, methods=("POST",))
def job_retry(request: HttpRequest, project, pk: int) -> HttpResponse:
    job = _get_job(project, pk)
    if not _confirmed(request) or job.status not in (Job.Status.FAILED, Job.Status.TIMED_OUT):
        messages.warning(request, "Only a failed job can be retried.")
        return redirect("jobs:detail", project.slug, job.pk)
    if job.kind == Job.Kind.UPLOAD:
        error = _retry_upload(job)
    else:
        error = _retry_create(request, job)
    if error:
        messages.warning(request, error)
    else:
        record(
            "job.retry",
            request=request,
            target_id=job.reference,
            target_name=job.title,
            params={"kind": job.kind},
        )
        messages.success(request, f"Started {job.title} again.")
    return redirect("jobs:detail", project.slug, job.pk)


def _reset_fields(job: Job) -> dict:
    return {
        "last_error": "",
        "error_code": "",
        "request_id": "",
        "finished_at": None,
        "cancel_requested": False,
        "timeline": job.timeline + [{"phase": "retry", "at": timezone.now().isoformat()}],
    }


def _retry_upload(job: Job) -> str:
    from images import staging

    if not job.upload_id or not staging.data_path(job.upload_id).exists():
        return "The staged file is gone; upload the image again."
    with transaction.atomic():
        if Job.objects.filter(
            pk=job.pk, status__in=(Job.Status.FAILED, Job.Status.TIMED_OUT)
        ).update(
            status=Job.Status.QUEUED, attempts=0, phase=Job.Phase.STAGED, **_reset_fields(job)
        ):
            tasks._enqueue(tasks.upload_image_task, job.pk)
    return ""


def _retry_create(request: HttpRequest, job: Job) -> str:
    """IMS cannot restart a failed job: submit the same request again, as a new IMS job."""
    conn = cloudapi_for(request)
    try:
        with audited(
            "cloudimage.create", conn, request=request, target_name=job.title, params=job.params
        ):
            cloud_job = conn.ims.create_cloudimage(**job.params)
    except ApiError as e:
        return str(e)
    now = timezone.now()
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.RUNNING,
            cloud_job_id=cloud_job.job_id,
            phase=Job.Phase.SUBMITTED,
            image_id="",
            progress=0,
            started_at=now,
            deadline=now + timedelta(seconds=settings.IMS_JOB_DEADLINE_SECONDS),
            **_reset_fields(job),
        )
        tasks._enqueue(tasks.poll_ims_job_task, job.pk)
    return ""
