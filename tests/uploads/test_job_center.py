"""The job center: the paged list with filters, its one poll (running rows in place, new jobs
on top), the detail page polled until done (286), all from the database only; audit entries
on the detail page, cancel and retry with role checks."""

from __future__ import annotations

from unittest import mock

import pytest
from django.utils import timezone

from images import staging
from imsportal.audit.record import record
from jobs.models import Job

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def jobs(owner_project, make_user, partner_project):
    alice = make_user("alice", "operator")
    bob = make_user("bob", "operator")
    running = Job.objects.create(
        project=owner_project,
        kind=Job.Kind.UPLOAD,
        title="big-disk",
        status=Job.Status.RUNNING,
        phase=Job.Phase.UPLOADING,
        bytes_total=1000,
        bytes_done=250,
        rate=100,
        eta_seconds=7,
        created_by=alice,
        started_at=timezone.now(),
    )
    failed = Job.objects.create(
        project=owner_project,
        kind=Job.Kind.CREATE,
        title="from-server",
        status=Job.Status.FAILED,
        error_code="IMG.0057",
        last_error="The file is empty.",
        created_by=bob,
    )
    done = Job.objects.create(
        project=owner_project,
        kind=Job.Kind.UPLOAD,
        title="small-disk",
        status=Job.Status.SUCCESS,
        image_id="11111111-2222-3333-4444-555555555555",
        checksum_md5="a" * 32,
        checksum_sha512="b" * 128,
        created_by=alice,
        timeline=[{"phase": "staged", "at": "2026-12-02T21:00:00+00:00"}],
    )
    other = Job.objects.create(project=partner_project, kind=Job.Kind.UPLOAD, title="not-ours")
    return {"running": running, "failed": failed, "done": done, "other": other}


def test_the_list_shows_the_columns_and_only_this_project(viewer_client, jobs):
    html = viewer_client.get("/p/owner/jobs/").content.decode()
    for text in ("big-disk", "from-server", "small-disk", "alice", "bob", "IMG.0057"):
        assert text in html
    assert "not-ours" not in html
    assert '<progress max="100" value="25"' in html
    assert "/p/owner/images/11111111-2222-3333-4444-555555555555/" in html
    assert "verified" in html
    assert 'aria-live="polite"' in html
    # One poll for the table, which names the running rows only; no row polls by itself.
    polls = [p.split('"')[1] for p in html.split("hx-get=")[1:] if "/jobs/" in p.split('"')[1]]
    newest = jobs["done"].pk
    assert polls == [f"/p/owner/jobs/poll?after={newest}&amp;running={jobs['running'].pk}"]


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("status=failed", "from-server", "big-disk"),
        ("kind=upload", "big-disk", "from-server"),
        ("user=bob", "from-server", "small-disk"),
    ],
)
def test_filters(viewer_client, jobs, query, shown, hidden):
    html = viewer_client.get(f"/p/owner/jobs/?{query}").content.decode()
    assert shown in html
    assert hidden not in html


def test_new_jobs_appear_without_a_reload(viewer_client, jobs, owner_project):
    newest = max(j.pk for j in jobs.values() if j.project == owner_project)
    resp = viewer_client.get(f"/p/owner/jobs/poll?after={newest}", headers=HX)
    assert resp.status_code == 200
    assert b"job-newest" in resp.content
    assert b'class="job-row"' not in resp.content
    fresh = Job.objects.create(project=owner_project, kind=Job.Kind.UPLOAD, title="fresh-one")
    html = viewer_client.get(f"/p/owner/jobs/poll?after={newest}", headers=HX).content.decode()
    assert "fresh-one" in html
    assert "big-disk" not in html
    assert "not-ours" not in html  # newer, but another project's
    assert f"after={fresh.pk}" in html  # the next poll asks for newer ones only


def test_the_list_poll_refreshes_its_running_rows_in_place(viewer_client, jobs):
    running, done = jobs["running"], jobs["done"]
    Job.objects.filter(pk=running.pk).update(bytes_done=750)
    # done was running when the page was drawn: this poll brings its final row, once.
    html = viewer_client.get(
        f"/p/owner/jobs/poll?running={running.pk},{done.pk}", headers=HX
    ).content.decode()
    rows = {row.split('"')[0]: row for row in html.split('<tr id="job-')[1:]}
    assert set(rows) == {"newest", str(running.pk), str(done.pk)}
    assert 'hx-swap-oob="true"' in rows[str(running.pk)]
    assert '<progress max="100" value="75"' in rows[str(running.pk)]
    assert 'hx-swap-oob="true"' in rows[str(done.pk)]
    assert "data-announce" in rows[str(done.pk)]
    # The next poll asks for the running one only, and for no new jobs on an older page.
    assert f'/p/owner/jobs/poll?running={running.pk}"' in rows["newest"]
    # Nothing left running on an older page: the table stops polling.
    html = viewer_client.get(f"/p/owner/jobs/poll?running={done.pk}", headers=HX).content.decode()
    assert "hx-get" not in html.split('<tr id="job-newest"')[1].split(">")[0]


def test_the_list_pages_older_jobs(viewer_client, owner_project):
    made = [
        Job.objects.create(project=owner_project, kind=Job.Kind.UPLOAD, title=f"job-{i:02}")
        for i in range(30)
    ]
    html = viewer_client.get("/p/owner/jobs/").content.decode()
    assert html.count('class="job-row"') == 25
    assert "job-29" in html
    assert "job-05" in html
    assert "job-04" not in html
    assert f'href="?before={made[5].pk}"' in html
    html = viewer_client.get(f"/p/owner/jobs/?before={made[5].pk}").content.decode()
    assert html.count('class="job-row"') == 5
    assert "job-04" in html
    assert "job-05" not in html
    assert "Newest jobs" in html
    assert "Older jobs" not in html
    assert "after=" not in html  # new jobs go on the first page only


def test_detail_polls_while_running_and_stops_with_286(viewer_client, jobs):
    running, done = jobs["running"], jobs["done"]
    resp = viewer_client.get(f"/p/owner/jobs/{running.pk}/", headers=HX)
    assert resp.status_code == 200
    assert b'id="job-panel"' in resp.content
    assert b"<html" not in resp.content
    resp = viewer_client.get(f"/p/owner/jobs/{done.pk}/", headers=HX)
    assert resp.status_code == 286


def test_status_fragments_read_the_database_only(viewer_client, jobs):
    with mock.patch("imsportal.cloud.connection_for", side_effect=AssertionError("cloud call")):
        for job in (jobs["running"], jobs["done"]):
            for path in ("status", ""):
                resp = viewer_client.get(f"/p/owner/jobs/{job.pk}/{path}", headers=HX)
                assert resp.status_code in (200, 286)
        poll = f"/p/owner/jobs/poll?after=0&running={jobs['running'].pk},{jobs['done'].pk}"
        assert viewer_client.get(poll, headers=HX).status_code == 200
        assert viewer_client.get("/p/owner/jobs/").status_code == 200


def test_another_project_s_job_is_neither_shown_nor_polled(viewer_client, jobs):
    assert viewer_client.get(f"/p/owner/jobs/{jobs['other'].pk}/").status_code == 404
    assert viewer_client.get(f"/p/owner/jobs/{jobs['other'].pk}/status").status_code == 404
    html = viewer_client.get(f"/p/owner/jobs/poll?running={jobs['other'].pk}", headers=HX)
    assert "not-ours" not in html.content.decode()


@pytest.mark.parametrize("value", ["²", "-1", "1e3", "99999999999999999999", "9" * 400])
def test_odd_numbers_in_the_list_urls_are_ignored(viewer_client, jobs, value):
    for url in (
        f"/p/owner/jobs/?before={value}",
        f"/p/owner/jobs/poll?after={value}&running={value},{jobs['running'].pk}",
    ):
        assert viewer_client.get(url, headers=HX).status_code == 200, url
    assert viewer_client.get("/p/owner/jobs/99999999999999999999/status").status_code == 404


def test_before_zero_is_an_empty_older_page(viewer_client, jobs):
    html = viewer_client.get("/p/owner/jobs/?before=0").content.decode()
    assert 'class="job-row"' not in html
    assert "No older jobs." in html


def test_more_running_rows_than_one_poll_refreshes_take_turns(viewer_client, owner_project):
    from jobs import views

    made = Job.objects.bulk_create(
        Job(project=owner_project, kind=Job.Kind.UPLOAD, title=f"r{i}", status="running")
        for i in range(views.POLLED_ROWS_MAX + 10)
    )
    ids = [j.pk for j in made]
    html = viewer_client.get(
        f"/p/owner/jobs/poll?running={','.join(map(str, ids))}", headers=HX
    ).content.decode()
    assert html.count('hx-swap-oob="true"') == views.POLLED_ROWS_MAX
    following = html.split("running=")[1].split('"')[0].split(",")
    # The ten not refreshed this time come first in the next poll; none is dropped.
    assert following[:10] == [str(pk) for pk in ids[views.POLLED_ROWS_MAX :]]
    assert sorted(map(int, following)) == ids


def test_a_burst_of_new_jobs_arrives_oldest_first_over_several_polls(viewer_client, jobs):
    from jobs import views

    after = jobs["done"].pk
    made = Job.objects.bulk_create(
        Job(project=jobs["done"].project, kind=Job.Kind.UPLOAD, title=f"burst-{i:02}")
        for i in range(views.PAGE_SIZE + 5)
    )
    html = viewer_client.get(f"/p/owner/jobs/poll?after={after}", headers=HX).content.decode()
    assert html.count('class="job-row"') == views.PAGE_SIZE
    assert html.index("burst-24") < html.index("burst-00")  # newest on top
    assert f"after={made[views.PAGE_SIZE - 1].pk}" in html  # the next poll brings the rest
    html = viewer_client.get(
        f"/p/owner/jobs/poll?after={made[views.PAGE_SIZE - 1].pk}", headers=HX
    ).content.decode()
    assert html.count('class="job-row"') == 5


def test_the_detail_page_shows_timeline_checksums_and_audit_entries(viewer_client, jobs):
    done = jobs["done"]
    record("job.start", username="alice", project=done.project, target_id=f"job:{done.pk}")
    record("image.upload", username="alice", project=done.project, target_id=done.image_id)
    record("image.delete", username="x", project=done.project, target_id="someone-else")
    html = viewer_client.get(f"/p/owner/jobs/{done.pk}/").content.decode()
    assert "staged" in html
    assert "verified" in html
    assert "a" * 32 in html
    assert "job.start" in html
    assert "image.upload" in html
    assert "image.delete" not in html


def test_a_viewer_may_neither_cancel_nor_retry(viewer_client, jobs):
    assert (
        viewer_client.post(
            f"/p/owner/jobs/{jobs['running'].pk}/cancel", {"confirm": "yes"}
        ).status_code
        == 403
    )
    assert (
        viewer_client.post(
            f"/p/owner/jobs/{jobs['failed'].pk}/retry", {"confirm": "yes"}
        ).status_code
        == 403
    )
    assert not Job.objects.filter(cancel_requested=True).exists()


def test_an_unconfirmed_post_changes_nothing(operator_client, jobs):
    operator_client.post(f"/p/owner/jobs/{jobs['running'].pk}/cancel")
    operator_client.post(f"/p/owner/jobs/{jobs['failed'].pk}/retry")
    assert not Job.objects.filter(cancel_requested=True).exists()
    assert Job.objects.get(pk=jobs["failed"].pk).status == Job.Status.FAILED


def test_cancelling_a_running_upload_asks_its_worker(operator_client, jobs):
    resp = operator_client.post(f"/p/owner/jobs/{jobs['running'].pk}/cancel", {"confirm": "yes"})
    assert resp.status_code == 302
    assert Job.objects.get(pk=jobs["running"].pk).cancel_requested


def test_cancelling_a_queued_upload_ends_it_at_once(
    operator_client, owner_project, make_user, settings, tmp_path
):
    settings.UPLOAD_STAGING_DIR = tmp_path
    upload = staging.create(owner_project, make_user("u1", "operator"), 10, {}, {"name": "q"})
    job = Job.objects.create(project=owner_project, kind=Job.Kind.UPLOAD, title="q", upload=upload)
    with mock.patch("jobs.tasks._remove_stamped") as remove:
        operator_client.post(f"/p/owner/jobs/{job.pk}/cancel", {"confirm": "yes"})
    remove.assert_called_once()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert not staging.data_path(upload.id).exists()


def test_retrying_a_failed_upload_queues_it_again(
    operator_client,
    owner_project,
    make_user,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    settings.UPLOAD_STAGING_DIR = tmp_path
    upload = staging.create(owner_project, make_user("u2", "operator"), 10, {}, {"name": "r"})
    job = Job.objects.create(
        project=owner_project,
        kind=Job.Kind.UPLOAD,
        title="r",
        upload=upload,
        status=Job.Status.FAILED,
        last_error="boom",
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        operator_client.post(f"/p/owner/jobs/{job.pk}/retry", {"confirm": "yes"})
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert job.last_error == ""
    assert len(callbacks) == 1
    # Without its staged file there is nothing to retry.
    staging.remove_files(upload.id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    resp = operator_client.post(f"/p/owner/jobs/{job.pk}/retry", {"confirm": "yes"}, follow=True)
    assert b"staged file is gone" in resp.content
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED
