"""Property-based fuzzing of the local cloud over HTTP: any JSON body and any query string on
its JSON endpoints is answered with a status below 500, within a bounded time (issue 9)."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TIMEOUT = 20  # a hang fails the example instead of the whole run

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
IMAGE_KEYS = [
    "name", "id", "disk_format", "container_format", "visibility", "min_disk", "min_ram",
    "protected", "os_hidden", "tags", "owner", "status", "size", "checksum", "__os_version",
    "__platform", "__imagetype", "os_distro", "locations", "member", "image_id", "instance_id",
    "file", "description", "max_ram", "min_ram", "data_images", "is_config", "cmk_id",
]  # fmt: skip
image_like = st.dictionaries(
    st.sampled_from(IMAGE_KEYS) | st.text(max_size=12), json_values, max_size=6
)
bodies = image_like | json_values
QUERY_KEYS = [
    "name", "status", "visibility", "owner", "tag", "limit", "marker", "sort", "sort_key",
    "sort_dir", "size_min", "size_max", "created_at", "updated_at", "member_status",
    "os_hidden", "protected", "disk_format", "container_format", "__imagetype", "__platform",
    "__os_type", "__os_bit", "__support_kvm", "id", "page",
]  # fmt: skip
queries = st.dictionaries(
    st.sampled_from(QUERY_KEYS) | st.text(max_size=10),
    st.text(max_size=40) | st.integers().map(str),
    max_size=5,
)


@pytest.fixture(scope="module")
def owner(localcloud):
    """A session with the owner's token, and a scratch image the fuzzing may patch."""
    from imsportal.cloudapi import Connection

    conn = Connection.from_config(localcloud.cloud_config())
    session = requests.Session()
    session.headers["X-Auth-Token"] = conn.auth.get_token()
    scratch = conn.image.create_image(
        name="fuzz-scratch", disk_format="raw", container_format="bare"
    )
    session.scratch_id = scratch.id
    session.project_id = conn.auth.project_id
    yield session
    conn.image.delete_image(scratch)


def send(session, method: str, url: str, body=None, **kwargs) -> requests.Response:
    data = None if body is None else json.dumps(body, allow_nan=False)
    headers = kwargs.pop("headers", {})
    if data is not None:
        headers.setdefault("Content-Type", "application/json")
    return session.request(method, url, data=data, headers=headers, timeout=TIMEOUT, **kwargs)


def below_500(resp: requests.Response) -> None:
    assert resp.status_code < 500, (
        resp.request.method,
        resp.request.url,
        resp.status_code,
        resp.text[:500],
    )


@FUZZ
@given(body=bodies)
def test_glance_create(owner, localcloud, body):
    resp = send(owner, "POST", f"{localcloud.url}/v2/images", body)
    below_500(resp)
    if resp.status_code == 201:
        owner.delete(f"{localcloud.url}/v2/images/{resp.json()['id']}", timeout=TIMEOUT)


patch_ops = st.lists(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(["add", "replace", "remove", "move", "x"]),
            "path": st.sampled_from(
                ["/name", "/tags", "/min_disk", "/protected", "/visibility", "/os_hidden"]
                + ["/x", "/__os_version", "/id", "/tags/-"]
            )
            | st.text(max_size=20),
        },
        optional={"value": json_values},
    ),
    max_size=4,
)


@FUZZ
@given(ops=patch_ops | json_values)
def test_glance_patch(owner, localcloud, ops):
    url = f"{localcloud.url}/v2/images/{owner.scratch_id}"
    headers = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
    resp = send(owner, "PATCH", url, ops, headers=headers)
    below_500(resp)
    if resp.status_code == 200 and resp.json().get("protected"):
        send(
            owner,
            "PATCH",
            url,
            [{"op": "replace", "path": "/protected", "value": False}],
            headers=headers,
        )


@FUZZ
@given(body=bodies)
def test_glance_members_and_tags(owner, localcloud, body):
    base = f"{localcloud.url}/v2/images/{owner.scratch_id}"
    below_500(send(owner, "POST", f"{base}/members", body))
    below_500(send(owner, "PUT", f"{base}/members/{owner.project_id}", body))


@FUZZ
@given(query=queries)
def test_list_queries(owner, localcloud, query):
    for path in ("/v2/images", "/v2/cloudimages", "/image/v2/images"):
        below_500(owner.get(f"{localcloud.url}{path}", params=query, timeout=TIMEOUT))


@FUZZ
@given(body=bodies)
def test_ims_patch_and_create(owner, localcloud, body):
    below_500(send(owner, "PATCH", f"{localcloud.url}/v2/cloudimages/{owner.scratch_id}", body))
    resp = send(owner, "POST", f"{localcloud.url}/v2/cloudimages/action", body)
    below_500(resp)


@FUZZ
@given(body=bodies)
def test_keystone_tokens(localcloud, body):
    resp = send(requests.Session(), "POST", f"{localcloud.auth_url}/auth/tokens", body)
    below_500(resp)
