"""The Jobs page and the status fragment that htmx polls (portal database only)."""

import pytest

from jobs.models import Job

pytestmark = pytest.mark.django_db


def make_job(**kw) -> Job:
    return Job.objects.create(kind=Job.Kind.UPLOAD, title="ubuntu.qcow2", **kw)


def test_job_list_shows_jobs_newest_first(viewer_client):
    make_job(status=Job.Status.SUCCESS)
    Job.objects.create(kind=Job.Kind.CREATE, title="from ecs-web-01", status=Job.Status.RUNNING)
    body = viewer_client.get("/jobs/").content.decode()
    assert body.index("from ecs-web-01") < body.index("ubuntu.qcow2")
    assert "Create cloud image" in body


def test_empty_job_list_says_so(viewer_client):
    assert "No jobs yet" in viewer_client.get("/jobs/").content.decode()


def test_running_job_keeps_polling(viewer_client):
    job = make_job(status=Job.Status.RUNNING, progress=40)
    resp = viewer_client.get(f"/jobs/{job.pk}/status", headers={"HX-Request": "true"})
    body = resp.content.decode()
    assert resp.status_code == 200
    assert 'hx-trigger="every 2s"' in body
    assert "40%" in body


@pytest.mark.parametrize("status", [Job.Status.SUCCESS, Job.Status.FAILED, Job.Status.TIMED_OUT])
def test_finished_job_stops_polling_with_286(viewer_client, status):
    job = make_job(status=status, last_error="IMG.0057: the file is empty [request id req-1]")
    resp = viewer_client.get(f"/jobs/{job.pk}/status", headers={"HX-Request": "true"})
    body = resp.content.decode()
    assert resp.status_code == 286
    assert "hx-trigger" not in body
    assert "req-1" in body


def test_unknown_job_is_404(viewer_client):
    assert viewer_client.get("/jobs/999999/status").status_code == 404
