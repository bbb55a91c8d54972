"""In Chromium: upload a 50 MB qcow2 through the form (progress bar, a reload in the middle,
resume from the server's offset), follow the job to done with verified checksums; create an
image with IMS from a bucket file and follow its job to SUCCESS."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imsportal.cloud import cloudapi_for_project
from jobs.models import Job, StagedUpload
from tests.uploads.conftest import (  # noqa: F401 - fixtures
    jobs_queue,
    jobs_worker,
    jobs_worker_factory,
    md5_sha512,
    qcow2_file,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MB = 1000 * 1000


def throttle_uploads(page, bytes_per_second: int) -> None:
    """Chromium's own network throttling, so a loopback upload lasts long enough to reload."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


@pytest.mark.usefixtures("jobs_queue")
def test_upload_reload_resume_and_done(
    page,
    live_server,
    login,
    owner_project,
    settings,
    tmp_path,
):
    settings.UPLOAD_CHUNK_SIZE = 4 * 1024 * 1024
    path = qcow2_file(tmp_path / "browser-disk.qcow2", 50 * MB)
    md5, sha512 = md5_sha512(path)
    login("operator", "uploader")
    throttle_uploads(page, 8 * MB)
    page.goto(f"{live_server.url}/p/owner/images/upload/")
    page.get_by_label("Image file").set_input_files(str(path))
    page.get_by_label("Name", exact=True).fill("wt11-browser-upload")
    page.get_by_role("button", name="Upload").click()

    bar = page.locator("#upload-bar")
    expect(page.locator("#upload-status")).to_contain_text("stored on the server", timeout=30_000)
    expect(bar).not_to_have_attribute("value", "0")
    expect(page.locator("#upload-figures")).to_contain_text("of 47.7 MiB")
    upload = StagedUpload.objects.get()
    assert 0 < upload.offset < upload.length

    page.reload()  # mid-way: the browser forgets the file, the server does not
    expect(page.get_by_role("heading", name="Your unfinished uploads")).to_be_visible()
    page.get_by_label("Image file").set_input_files(str(path))
    resume = page.locator("#upload-resume")
    expect(resume).to_be_visible()
    expect(resume).to_contain_text("are stored on the server")
    page.get_by_role("button", name="Continue this upload").click()
    expect(page.locator("#upload-job-link")).to_be_visible(timeout=60_000)
    assert StagedUpload.objects.get().pk == upload.pk  # continued, not started again
    assert bar.get_attribute("value") == "100"

    page.locator("#upload-job-link").click()
    expect(page).to_have_url(re.compile(r"/p/owner/jobs/\d+/$"))
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=90_000)
    expect(page.locator("#job-checksums")).to_contain_text("verified")
    expect(page.locator("#job-checksums")).to_contain_text(md5)
    job = Job.objects.get()
    assert (job.checksum_md5, job.checksum_sha512) == (md5, sha512)
    conn = cloudapi_for_project(owner_project.pk)
    try:
        image = conn.image.get_image(job.image_id)
        assert image.status == "active"
        assert image.checksum == md5
        expect(page.locator("#job-image")).to_have_text(job.image_id)
    finally:
        conn.image.delete_image(job.image_id)


@pytest.mark.usefixtures("jobs_queue")
def test_create_from_a_bucket_file_and_follow_the_job(
    page,
    live_server,
    login,
    owner_project,
):
    login("operator", "creator")
    page.goto(f"{live_server.url}/p/owner/images/create/")
    page.get_by_label("From an object-storage file").check()
    page.get_by_label("Name", exact=True).fill("wt11-browser-ims")
    page.get_by_label("File (bucket:object)").fill("owner-images:cirros-mini.qcow2")
    page.get_by_label("Min disk (GB)").fill("1")
    page.get_by_role("button", name="Create image").click()
    expect(page).to_have_url(re.compile(r"/p/owner/jobs/\d+/$"))
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=60_000)
    job = Job.objects.get()
    try:
        expect(page.locator("#job-image")).to_have_text(job.image_id)
        expect(page.locator("#job-announcer")).to_contain_text("wt11-browser-ims: succeeded")
    finally:
        cloudapi_for_project(owner_project.pk).image.delete_image(job.image_id)


def test_pause_resume_cancel_and_a_format_mismatch(page, live_server, login, settings, tmp_path):
    settings.UPLOAD_CHUNK_SIZE = 1024 * 1024
    path = qcow2_file(tmp_path / "paused.qcow2", 12 * MB)
    login("operator", "pauser")
    throttle_uploads(page, 2 * MB)
    page.goto(f"{live_server.url}/p/owner/images/upload/")
    page.get_by_label("Image file").set_input_files(str(path))
    page.get_by_label("Name", exact=True).fill("wt11-paused")
    # The form says raw, the file is qcow2: refused once the bytes are there.
    page.get_by_label("Disk format").select_option("raw")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-status")).to_contain_text("stored on the server", timeout=20_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#upload-status")).to_contain_text("Paused")
    # A PATCH already on the wire when Pause was pressed may still land: let it settle first.
    paused_at, settled = StagedUpload.objects.get().offset, False
    for _ in range(20):
        page.wait_for_timeout(500)
        offset = StagedUpload.objects.get().offset
        settled, paused_at = offset == paused_at, offset
        if settled:
            break
    assert settled
    page.wait_for_timeout(1500)
    assert StagedUpload.objects.get().offset == paused_at  # nothing moves while paused
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#upload-status")).to_contain_text(
        "The file is a qcow2 image, but the form says raw", timeout=60_000
    )
    assert StagedUpload.objects.get().status == StagedUpload.Status.REJECTED
    assert not Job.objects.exists()

    # Cancel: tus termination deletes the partial upload on the server.
    page.goto(f"{live_server.url}/p/owner/images/upload/")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Image file").set_input_files(str(path))
    page.get_by_label("Name", exact=True).fill("wt11-cancelled")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-status")).to_contain_text("stored on the server", timeout=20_000)
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#upload-status")).to_contain_text("Cancelled")
    assert not StagedUpload.objects.filter(status=StagedUpload.Status.RECEIVING).exists()


def test_the_job_list_shows_new_jobs_and_announces_endings(page, live_server, login, owner_project):
    login("viewer", "watcher")
    page.goto(f"{live_server.url}/p/owner/jobs/")
    expect(page.locator("#no-jobs")).to_be_visible()
    job = Job.objects.create(
        project=owner_project,
        kind=Job.Kind.UPLOAD,
        title="wt11-appears",
        status=Job.Status.RUNNING,
        phase=Job.Phase.UPLOADING,
        bytes_total=100,
        bytes_done=40,
    )
    row = page.locator(f"#job-{job.pk}")
    expect(row).to_contain_text("wt11-appears", timeout=10_000)  # no reload
    expect(row.locator("progress")).to_have_attribute("value", "40")
    Job.objects.filter(pk=job.pk).update(bytes_done=80)
    expect(row.locator("progress")).to_have_attribute("value", "80")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCESS, phase=Job.Phase.DONE)
    expect(row).to_contain_text("Succeeded")
    expect(page.locator("#job-announcer")).to_have_text("wt11-appears: succeeded")
    assert page.locator(f"#job-{job.pk}").count() == 1  # swapped in place, not duplicated


@pytest.mark.usefixtures("jobs_queue")
def test_create_from_a_listed_server_and_follow_the_job(page, live_server, login, owner_project):
    login("operator", "server-creator")
    page.goto(f"{live_server.url}/p/owner/images/create/")
    page.get_by_label("From a server").check()
    page.get_by_label("Server", exact=True).select_option(label="ecs-web-01 (active)")
    page.get_by_label("Name", exact=True).fill("wt11-browser-from-server")
    page.get_by_role("button", name="Create image").click()
    expect(page).to_have_url(re.compile(r"/p/owner/jobs/\d+/$"))
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=60_000)
    job = Job.objects.get()
    try:
        expect(page.locator("#job-image")).to_have_text(job.image_id)
    finally:
        cloudapi_for_project(owner_project.pk).image.delete_image(job.image_id)
