"""IMS: marker paging, IMG.0035 fallback, jobs. Mocked HTTP for the exact shapes, then one
round trip against the local cloud's IMS."""

from __future__ import annotations

import json

import pytest
import responses

from imsportal import cloudapi
from imsportal.cloudapi import Connection, ImsJob, StaticTokenAuth

IMS = "http://ims.test/image"
PROJECT = "p" * 32


@pytest.fixture
def conn():
    return Connection(StaticTokenAuth("t", {"image": IMS}, project_id=PROJECT), retries=0)


def page(ids):
    return {
        "images": [
            {
                "id": i,
                "name": i,
                "__imagetype": "private",
                "__isregistered": "True",
                "max_ram": "2048",
                "__os_bit": "64",
            }
            for i in ids
        ]
    }


@responses.activate
def test_cloudimages_pages_by_marker_and_stops_on_a_short_page(conn):
    responses.get(
        f"{IMS}/v2/cloudimages",
        json=page(["a", "b"]),
        match=[responses.matchers.query_param_matcher({"limit": "2", "__imagetype": "private"})],
    )
    responses.get(
        f"{IMS}/v2/cloudimages",
        json=page(["c", "d"]),
        match=[
            responses.matchers.query_param_matcher(
                {"limit": "2", "marker": "b", "__imagetype": "private"}
            )
        ],
    )
    responses.get(
        f"{IMS}/v2/cloudimages",
        json=page(["e"]),
        match=[
            responses.matchers.query_param_matcher(
                {"limit": "2", "marker": "d", "__imagetype": "private"}
            )
        ],
    )
    images = list(conn.ims.cloudimages(__imagetype="private", page_size=2))
    assert [i.id for i in images] == ["a", "b", "c", "d", "e"]
    assert images[0].is_registered is True
    assert images[0].max_ram == 2048
    assert images[0].image_type == "private"
    assert images[0].os_bit == "64"
    assert len(responses.calls) == 3


@responses.activate
def test_cloudimages_limit_caps_the_total(conn):
    responses.get(f"{IMS}/v2/cloudimages", json=page(["a", "b", "c"]))
    assert [i.id for i in conn.ims.cloudimages(limit=3)] == ["a", "b", "c"]
    assert len(responses.calls) == 1
    assert "limit=3" in responses.calls[0].request.url


@responses.activate
def test_an_empty_full_page_ends_paging(conn):
    responses.get(f"{IMS}/v2/cloudimages", json=page(["a", "b"]))
    responses.get(f"{IMS}/v2/cloudimages", json={"images": []})
    assert len(list(conn.ims.cloudimages(page_size=2))) == 2


@responses.activate
def test_update_cloudimage_falls_back_to_add_on_img_0035(conn):
    url = f"{IMS}/v2/cloudimages/i1"
    responses.patch(url, status=400, json={"error": {"code": "IMG.0035", "message": "conflict"}})
    responses.patch(url, json={"id": "i1", "__description": "d", "name": "n"})
    image = conn.ims.update_cloudimage("i1", __description="d")
    assert image.description == "d"
    bodies = [json.loads(c.request.body) for c in responses.calls]
    assert bodies == [
        [{"op": "replace", "path": "/__description", "value": "d"}],
        [{"op": "add", "path": "/__description", "value": "d"}],
    ]
    assert responses.calls[0].request.headers["Content-Type"] == "application/json"


@responses.activate
def test_update_cloudimage_accepts_the_sdk_single_op_style(conn):
    responses.patch(f"{IMS}/v2/cloudimages/i1", json={"id": "i1", "name": "x"})
    conn.ims.update_cloudimage("i1", op="replace", path="/name", value="x")
    assert json.loads(responses.calls[0].request.body) == [
        {"op": "replace", "path": "/name", "value": "x"}
    ]


@responses.activate
def test_other_ims_errors_raise_with_their_code(conn):
    responses.patch(
        f"{IMS}/v2/cloudimages/i1",
        status=400,
        json={"error": {"code": "IMG.0002", "message": "Name too long."}},
    )
    with pytest.raises(cloudapi.BadRequestError) as info:
        conn.ims.update_cloudimage("i1", name="x" * 200)
    assert info.value.code == "IMG.0002"
    assert str(info.value).startswith("IMG.0002: Name too long.")


@responses.activate
def test_create_returns_a_job_and_get_job_uses_the_project(conn):
    responses.post(f"{IMS}/v2/cloudimages/action", json={"job_id": "j1"})
    responses.get(
        f"{IMS}/v1/{PROJECT}/jobs/j1",
        json={
            "job_id": "j1",
            "job_type": "imsCreateImageByInstance",
            "status": "SUCCESS",
            "entities": {"image_id": "new-image", "image_name": "n"},
        },
    )
    job = conn.ims.create_cloudimage(name="n", instance_id="vm-1", is_quick_import=True)
    assert job.job_id == "j1"
    assert json.loads(responses.calls[0].request.body)["is_quick_import"] is True  # not dropped
    done = conn.ims.get_job(job.job_id)
    assert done.is_done
    assert done.is_success
    assert done.image_id == "new-image"


@pytest.mark.parametrize(
    ("body", "done", "success", "image_ids"),
    [
        ({"status": "RUNNING", "entities": {}}, False, False, []),
        ({"status": "init"}, False, False, []),
        (
            {"status": "Fail", "error_code": "IMG.0008", "fail_reason": "not stopped"},
            True,
            False,
            [],
        ),
        (
            {
                "status": "success",
                "job_type": "imsVolumesToSysDataImagesJob",
                "entities": {
                    "sub_jobs_result": [
                        {"entities": {"image_id": "d1"}},
                        {"entities": {"image_id": "d2"}},
                    ]
                },
            },
            True,
            True,
            ["d1", "d2"],
        ),
        (
            {
                "status": "SUCCESS",
                "job_type": "imsAddImageMembersJob",
                "entities": {
                    "results": [{"image_id": "m1", "project_id": "x", "status": "success"}]
                },
            },
            True,
            True,
            ["m1"],
        ),
    ],
)
def test_jobs_compare_status_case_insensitively_and_find_image_ids(body, done, success, image_ids):
    job = ImsJob.from_api({"job_id": "j", **body})
    assert job.is_done is done
    assert job.is_success is success
    assert job.image_ids == image_ids
    if body.get("error_code"):
        assert job.message == "IMG.0008: not stopped"


@responses.activate
def test_wait_for_job_times_out(conn):
    responses.get(f"{IMS}/v1/{PROJECT}/jobs/j1", json={"job_id": "j1", "status": "RUNNING"})
    conn.ims._sleep = lambda s: None
    with pytest.raises(cloudapi.WaitTimeoutError, match="RUNNING"):
        conn.ims.wait_for_job("j1", timeout=0, interval=1)


def test_ims_against_the_local_cloud(owner):
    assert len(list(owner.ims.cloudimages(limit=3))) == 3
    every = list(owner.ims.cloudimages(page_size=5))
    assert len({i.id for i in every}) == len(every) >= 12
    target = next(i for i in every if i.owner == owner.auth.project_id and i.status == "active")
    updated = owner.ims.update_cloudimage(target.id, __description="from the client test")
    assert updated.description == "from the client test"
