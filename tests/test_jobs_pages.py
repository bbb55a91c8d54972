"""The Jobs page and the status fragment that htmx polls (portal database only)."""

import pytest

from jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_job(owner_project):
    def make(**kw) -> Job:
        kw.setdefault("project", owner_project)
        kw.setdefault("kind", Job.Kind.UPLOAD)
        kw.setdefault("title", "ubuntu.qcow2")
        return Job.objects.create(**kw)

    return make


def test_job_list_shows_jobs_newest_first(viewer_client, make_job):
    make_job(status=Job.Status.SUCCESS)
    make_job(kind=Job.Kind.CREATE, title="from ecs-web-01", status=Job.Status.RUNNING)
    body = viewer_client.get("/p/owner/jobs/").content.decode()
    assert body.index("from ecs-web-01") < body.index("ubuntu.qcow2")
    assert "Create cloud image" in body


def test_empty_job_list_says_so(viewer_client):
    assert "No jobs yet" in viewer_client.get("/p/owner/jobs/").content.decode()


def test_running_job_keeps_polling(viewer_client, make_job):
    job = make_job(status=Job.Status.RUNNING, progress=40)
    resp = viewer_client.get(f"/p/owner/jobs/{job.pk}/status", headers={"HX-Request": "true"})
    body = resp.content.decode()
    assert resp.status_code == 200
    assert 'hx-trigger="every 2s"' in body
    assert "40%" in body


@pytest.mark.parametrize("status", [Job.Status.SUCCESS, Job.Status.FAILED, Job.Status.TIMED_OUT])
def test_finished_job_stops_polling_with_286(viewer_client, make_job, status):
    job = make_job(status=status, last_error="IMG.0057: the file is empty [request id req-1]")
    resp = viewer_client.get(f"/p/owner/jobs/{job.pk}/status", headers={"HX-Request": "true"})
    body = resp.content.decode()
    assert resp.status_code == 286
    assert "hx-trigger" not in body
    assert "req-1" in body


def test_unknown_job_is_404(viewer_client):
    assert viewer_client.get("/p/owner/jobs/999999/status").status_code == 404


def test_jobs_of_other_projects_are_neither_listed_nor_readable(
    viewer_client, make_job, partner_project
):
    """The viewer has a role in the owner project only."""
    theirs = make_job(project=partner_project, title="partner-secret-upload")
    assert "partner-secret-upload" not in viewer_client.get("/p/owner/jobs/").content.decode()
    assert viewer_client.get(f"/p/owner/jobs/{theirs.pk}/status").status_code == 404
    assert viewer_client.get(f"/p/partner/jobs/{theirs.pk}/status").status_code == 404
    assert viewer_client.get("/p/partner/jobs/").status_code == 404


def test_a_job_is_only_read_through_its_own_project(client, make_user, make_job, partner_project):
    """Even a user with roles in both projects reads a job only under its project's URL."""
    user = make_user("both", "viewer")
    make_user_role = user.project_roles.create
    make_user_role(project=partner_project, role="viewer")
    client.force_login(user)
    theirs = make_job(project=partner_project, status=Job.Status.RUNNING)
    assert client.get(f"/p/owner/jobs/{theirs.pk}/status").status_code == 404
    assert client.get(f"/p/partner/jobs/{theirs.pk}/status").status_code == 200


def test_a_status_poll_reads_only_what_it_shows(viewer_client, make_job):
    """200 pollers at once: the fragment has no header, so no switcher queries either."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    job = make_job(status=Job.Status.RUNNING)
    url = f"/p/owner/jobs/{job.pk}/status"
    viewer_client.get(url, headers={"HX-Request": "true"})  # the session's first write
    with CaptureQueriesContext(connection) as queries:
        assert viewer_client.get(url, headers={"HX-Request": "true"}).status_code == 200
    # user, the project with the user's roles there (one query), the job; the session is
    # read from the cache
    assert len(queries) == 3, [q["sql"] for q in queries]
    assert not any("django_session" in q["sql"] for q in queries)
    project_query = queries[1]["sql"]
    assert "JOIN" in project_query
    for secret in ("password", "token", "secret_key"):
        assert f'"{secret}"' not in project_query
