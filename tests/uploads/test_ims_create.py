"""The IMS create page and ``poll_ims_job_task``: invalid combinations refused before the
call; IMS jobs followed to SUCCESS (linked image) and FAIL (IMS's code and reason)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from unittest import mock

import pytest

from images.upload_forms import CloudImageCreateForm
from images.views.create import server_choices
from imsportal.audit.models import AuditEntry
from imsportal.cloud import cloudapi_for_project
from jobs.models import Job
from tests.uploads.conftest import wait_for

SEED_NAMESPACE = uuid.UUID("6b0e5c8e-3f7c-4c41-9a57-5e2d3f8c2a10")
WEB_01 = str(uuid.uuid5(SEED_NAMESPACE, "server:owner-project:ecs-web-01"))
URL = "/p/owner/images/create/"


def file_source(**extra):
    return {
        "source": "file",
        "name": "wt11-ims-file",
        "image_url": "owner-images:cirros-mini.qcow2",
        "min_disk": "1",
        **extra,
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"source": "server", "name": "x"}, "instance_id"),
        ({"source": "server", "name": "x", "instance_id": WEB_01, "min_disk": "2"}, "min_disk"),
        (
            {"source": "server", "name": "x", "instance_id": WEB_01, "image_url": "b:o"},
            "image_url",
        ),
        (file_source(min_disk=""), "min_disk"),
        (file_source(image_url="no-colon"), "image_url"),
        (file_source(type="IsoImage"), "os_version"),
        (file_source(instance_id=WEB_01), "instance_id"),
        (file_source(name="a/b"), "name"),
        (file_source(description="<b>"), "description"),
        (file_source(tags="nodot"), "tags"),
        (file_source(min_ram="2048", max_ram="1024"), "max_ram"),
    ],
)
def test_invalid_combinations_are_refused(data, field):
    form = CloudImageCreateForm(data)
    assert not form.is_valid()
    assert field in form.errors


def test_the_request_body_has_only_the_source_s_fields():
    form = CloudImageCreateForm(
        {
            "source": "server",
            "name": "web",
            "instance_id": WEB_01,
            "tags": "env.prod",
            "min_ram": "",
        }
    )
    assert form.is_valid(), form.errors
    assert form.request_body() == {"name": "web", "instance_id": WEB_01, "tags": ["env.prod"]}
    form = CloudImageCreateForm(file_source(os_version="CirrOS 0.6", is_config="on"))
    assert form.is_valid(), form.errors
    assert form.request_body() == {
        "name": "wt11-ims-file",
        "image_url": "owner-images:cirros-mini.qcow2",
        "min_disk": 1,
        "os_version": "CirrOS 0.6",
        "is_config": True,
    }


def test_the_server_picker_uses_a_compute_api_when_there_is_one():
    assert server_choices(SimpleNamespace(image=None)) is None
    servers = [{"id": "s1", "name": "web", "status": "ACTIVE"}]
    conn = SimpleNamespace(compute=SimpleNamespace(servers=lambda: servers))
    assert server_choices(conn) == [("s1", "web (active)")]
    form = CloudImageCreateForm(
        {"source": "server", "name": "x", "instance_id": "s2"}, servers=[("s1", "web")]
    )
    assert not form.is_valid()
    assert "instance_id" in form.errors


@pytest.mark.django_db
def test_the_page_lists_the_project_s_servers(operator_client):
    resp = operator_client.get(URL)
    assert resp.status_code == 200
    assert f'<option value="{WEB_01}">ecs-web-01 (active)</option>'.encode() in resp.content
    assert b"ecs-app-01" not in resp.content  # the partner project's server
    assert b'id="server-note"' not in resp.content


@pytest.mark.django_db
def test_without_a_compute_api_the_page_asks_for_the_id(operator_client):
    with mock.patch("images.views.create.server_choices", return_value=None):
        resp = operator_client.get(URL)
    assert b'id="server-note"' in resp.content
    assert b'<input type="text" name="instance_id"' in resp.content


@pytest.mark.django_db
def test_a_server_outside_the_list_is_refused(operator_client):
    with mock.patch("imsportal.cloudapi.ims.ImsProxy.create_cloudimage") as create:
        resp = operator_client.post(URL, {"source": "server", "name": "x", "instance_id": "nope"})
    assert resp.status_code == 200
    create.assert_not_called()


@pytest.mark.django_db
def test_an_invalid_form_makes_no_cloud_call(operator_client):
    with mock.patch("imsportal.cloudapi.ims.ImsProxy.create_cloudimage") as create:
        resp = operator_client.post(URL, file_source(min_disk=""))
    assert resp.status_code == 200
    assert b"minimum disk size" in resp.content
    create.assert_not_called()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_viewer_cannot_create(viewer_client):
    assert viewer_client.post(URL, file_source()).status_code == 403


@pytest.mark.django_db
def test_the_cloud_s_refusal_is_shown_on_the_form(operator_client, localcloud):
    localcloud.set_faults(error_status=503, error_count=1, path_prefix="/image/v2/cloudimages")
    try:
        resp = operator_client.post(URL, file_source())
    finally:
        localcloud.clear_faults()
    assert resp.status_code == 200
    assert b"HTTP 503" in resp.content
    assert not Job.objects.exists()
    assert AuditEntry.objects.get(action="cloudimage.create").outcome == "failure"


def _image_cleanup(owner_project, job: Job):
    if job.image_id:
        cloudapi_for_project(owner_project.pk).image.delete_image(job.image_id)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_ims_job_from_a_file_reaches_success(jobs_queue, operator_client, owner_project):
    resp = operator_client.post(URL, file_source())
    job = Job.objects.get()
    assert resp.status_code == 302
    assert resp["Location"] == f"/p/owner/jobs/{job.pk}/"
    assert job.kind == Job.Kind.CREATE
    assert job.cloud_job_id
    job = wait_for(lambda: Job.objects.filter(pk=job.pk, status__in=Job.DONE).first())
    try:
        assert job.status == Job.Status.SUCCESS, job.last_error
        assert job.image_id
        image = cloudapi_for_project(owner_project.pk).image.get_image(job.image_id)
        assert image.name == "wt11-ims-file"
        page = operator_client.get(f"/p/owner/jobs/{job.pk}/")
        assert f"/p/owner/images/{job.image_id}/".encode() in page.content
        finish = AuditEntry.objects.get(action="job.finish")
        assert finish.target_id == job.image_id
    finally:
        _image_cleanup(owner_project, job)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_ims_job_from_a_server_reaches_success(jobs_queue, operator_client, owner_project):
    resp = operator_client.post(
        URL, {"source": "server", "name": "wt11-ims-server", "instance_id": WEB_01}
    )
    assert resp.status_code == 302
    job = wait_for(lambda: Job.objects.filter(status__in=Job.DONE).first())
    try:
        assert job.status == Job.Status.SUCCESS, job.last_error
        assert job.image_id
    finally:
        _image_cleanup(owner_project, job)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_empty_file_fails_with_ims_s_code_and_reason(jobs_queue, operator_client):
    operator_client.post(URL, file_source(image_url="owner-images:empty.qcow2"))
    job = wait_for(lambda: Job.objects.filter(status__in=Job.DONE).first())
    assert job.status == Job.Status.FAILED
    assert job.error_code.startswith("IMG.")
    assert job.last_error
    page = operator_client.get(f"/p/owner/jobs/{job.pk}/")
    assert job.error_code.encode() in page.content
    # Retry submits the same request again as a new IMS job.
    first_cloud_job = job.cloud_job_id
    operator_client.post(f"/p/owner/jobs/{job.pk}/retry", {"confirm": "yes"})
    job.refresh_from_db()
    assert job.cloud_job_id != first_cloud_job
    assert AuditEntry.objects.filter(action="job.retry").exists()
    job = wait_for(lambda: Job.objects.filter(pk=job.pk, status__in=Job.DONE).first())
    assert job.status == Job.Status.FAILED


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_job_past_its_deadline_times_out(jobs_queue, operator_client, owner_project):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.tasks import poll_ims_job_task

    job = Job.objects.create(
        project=owner_project,
        kind=Job.Kind.CREATE,
        status=Job.Status.RUNNING,
        title="late",
        cloud_job_id="0" * 32,
        deadline=timezone.now() - timedelta(seconds=1),
    )
    assert poll_ims_job_task.apply(args=(job.pk,)).get() == "timed out"
    job.refresh_from_db()
    assert job.status == Job.Status.TIMED_OUT
    entry = AuditEntry.objects.get(action="job.finish")
    assert (entry.outcome, entry.target_id) == ("failure", f"job:{job.pk}")
