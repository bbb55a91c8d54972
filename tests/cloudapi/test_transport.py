"""Transport unit tests on mocked HTTP (``responses``): retries, backoff, error mapping,
re-authentication. The same behaviour is proven against the real local cloud in
test_localcloud_*.py; these pin the exact edge cases a server cannot be made to produce on
demand."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses

from imsportal import cloudapi
from imsportal.cloudapi import Connection, StaticTokenAuth
from imsportal.cloudapi.http import HttpClient

G = "http://glance.test:9292"
IMAGE_ID = "11111111-2222-3333-4444-555555555555"
AKSK_FAIL = "verify aksk signature fail"


class CountingAuth:
    """A token plugin that records re-authentications."""

    can_reauthenticate = True

    def __init__(self):
        self.generation = 0
        self.project_id = "p1"

    def headers_for(self, prepared):
        return {"X-Auth-Token": f"token-{self.generation}"}

    def invalidate(self):
        self.generation += 1

    def endpoint(self, service_type):
        return G


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def conn(sleeps):
    return Connection(
        StaticTokenAuth("tok", {"image": G, "ims": G}, project_id="p1"),
        retries=3,
        sleep=sleeps.append,
    )


def glance_error(status, message, request_id="req-abc"):
    return {
        "status": status,
        "json": {"message": f"{message}<br /><br />\n\n\n", "code": f"{status} X", "title": "X"},
        "headers": {"x-openstack-request-id": request_id},
    }


@responses.activate
def test_it_retries_a_get_on_503_with_backoff_then_succeeds(conn, sleeps):
    url = f"{G}/v2/images/{IMAGE_ID}"
    responses.get(url, **glance_error(503, "busy"))
    responses.get(url, **glance_error(503, "busy"))
    responses.get(url, json={"id": IMAGE_ID, "name": "a"})
    image = conn.image.get_image(IMAGE_ID)
    assert image.name == "a"
    assert len(responses.calls) == 3
    assert len(sleeps) == 2
    # equal jitter: attempt n waits within [b*2^(n-1)/2, b*2^(n-1)] with b = 0.5
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


@responses.activate
def test_it_gives_up_after_the_configured_retries_with_a_transient_error(conn, sleeps):
    url = f"{G}/v2/images/{IMAGE_ID}"
    responses.get(url, **glance_error(503, "Service busy"))
    with pytest.raises(cloudapi.ServiceUnavailableError) as info:
        conn.image.get_image(IMAGE_ID)
    assert len(responses.calls) == 4  # 1 + 3 retries
    assert len(sleeps) == 3
    err = info.value
    assert isinstance(err, cloudapi.TransientError)
    assert err.status_code == 503
    assert err.request_id == "req-abc"
    assert str(err) == "Service busy (HTTP 503) [request id req-abc]"


@pytest.mark.parametrize("status", [502, 503, 504, 429])
@responses.activate
def test_it_never_retries_a_post_create(conn, sleeps, status):
    responses.post(f"{G}/v2/images", **glance_error(status, "nope"))
    with pytest.raises(cloudapi.TransientError):
        conn.image.create_image(name="x")
    assert len(responses.calls) == 1
    assert sleeps == []


@responses.activate
def test_it_never_retries_an_ims_create_action(conn, sleeps):
    responses.post(f"{G}/v2/cloudimages/action", status=503, json={})
    with pytest.raises(cloudapi.ServiceUnavailableError):
        conn.ims.create_cloudimage(name="x", instance_id="i-1")
    assert len(responses.calls) == 1


@responses.activate
def test_it_honours_retry_after_seconds_on_429(conn, sleeps):
    url = f"{G}/v2/images"
    responses.get(url, status=429, headers={"Retry-After": "7"}, json={})
    responses.get(url, json={"images": []})
    assert list(conn.image.images()) == []
    assert sleeps == [7.0]


@responses.activate
def test_it_honours_retry_after_as_an_http_date(conn, sleeps):
    url = f"{G}/v2/images"
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    responses.get(url, status=503, headers={"Retry-After": when}, json={})
    responses.get(url, json={"images": []})
    list(conn.image.images())
    assert 3.0 <= sleeps[0] <= 5.0


@responses.activate
def test_retry_after_is_capped_at_max_backoff(conn, sleeps):
    url = f"{G}/v2/images"
    responses.get(url, status=429, headers={"Retry-After": "3600"}, json={})
    responses.get(url, json={"images": []})
    list(conn.image.images())
    assert sleeps == [20.0]


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    http = HttpClient(StaticTokenAuth("t", {}), backoff=0.5, max_backoff=4.0)
    random.seed(1)
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (9, 4.0)]:
        delays = {http._delay(attempt, None) for _ in range(50)}
        assert all(base / 2 <= d <= base for d in delays)
        assert len(delays) > 1  # jittered, not constant
    assert http._delay(1, "not-a-date") <= 0.5


@responses.activate
def test_it_retries_connection_errors_on_idempotent_requests(conn, sleeps):
    url = f"{G}/v2/images/{IMAGE_ID}"
    responses.get(url, body=requests.ConnectionError("Connection refused"))
    responses.get(url, json={"id": IMAGE_ID})
    assert conn.image.get_image(IMAGE_ID).id == IMAGE_ID
    assert len(sleeps) == 1


@responses.activate
def test_a_connection_error_on_post_is_not_retried_and_is_transient(conn, sleeps):
    responses.post(f"{G}/v2/images", body=requests.ConnectionError("Connection refused"))
    with pytest.raises(cloudapi.ConnectionFailed) as info:
        conn.image.create_image(name="x")
    assert info.value.transient
    assert "glance.test" not in str(info.value)  # shown to users: no internal address
    assert "glance.test:9292" in info.value.url
    assert sleeps == []


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, cloudapi.BadRequestError),
        (401, cloudapi.UnauthorizedError),
        (403, cloudapi.ForbiddenError),
        (404, cloudapi.NotFoundError),
        (409, cloudapi.ConflictError),
        (410, cloudapi.GoneError),
        (413, cloudapi.PayloadTooLargeError),
        (415, cloudapi.UnsupportedMediaTypeError),
        (429, cloudapi.TooManyRequestsError),
        (500, cloudapi.ServerError),
        (502, cloudapi.ServiceUnavailableError),
        (503, cloudapi.ServiceUnavailableError),
        (504, cloudapi.ServiceUnavailableError),
        (418, cloudapi.ApiError),
    ],
)
@responses.activate
def test_each_status_maps_to_its_exception(status, cls):
    conn = Connection(StaticTokenAuth("t", {"image": G}), retries=0)
    responses.get(f"{G}/v2/images/{IMAGE_ID}", **glance_error(status, f"Problem {status}"))
    with pytest.raises(cls) as info:
        conn.image.get_image(IMAGE_ID)
    assert type(info.value) is cls
    assert info.value.message == f"Problem {status}"
    assert info.value.status_code == status
    assert info.value.method == "GET"
    assert info.value.transient == (status in (429, 502, 503, 504))


@responses.activate
def test_a_300_means_the_endpoint_is_wrong():
    conn = Connection(StaticTokenAuth("t", {"image": G}), retries=0)
    responses.get(f"{G}/v2/images", status=300, json={"versions": []})
    with pytest.raises(cloudapi.ApiError, match="endpoint URL is wrong"):
        list(conn.image.images())


@pytest.mark.parametrize(
    ("body", "content_type", "headers", "message", "code", "request_id"),
    [
        # Glance HTML (webob, Accept not honoured by a proxy)
        (
            "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1>"
            "No image found with ID x<br /><br />\n</body></html>",
            "text/html; charset=UTF-8",
            {"x-openstack-request-id": "req-1"},
            "No image found with ID x",
            None,
            "req-1",
        ),
        # Glance plain text
        (
            "404 Not Found\n\nNo image found with ID y\n\n",
            "text/plain",
            {},
            "No image found with ID y",
            None,
            None,
        ),
        # Keystone
        (
            json.dumps(
                {"error": {"code": 404, "title": "Not Found", "message": "Could not find token."}}
            ),
            "application/json",
            {"x-openstack-request-id": "req-ks"},
            "Could not find token.",
            None,
            "req-ks",
        ),
        # IMS
        (
            json.dumps({"error": {"code": "IMG.0027", "message": "The image does not exist."}}),
            "application/json",
            {"X-Request-Id": "ims-77"},
            "IMG.0027: The image does not exist.",
            "IMG.0027",
            "ims-77",
        ),
        # API gateway, request id in the body only
        (
            json.dumps(
                {
                    "error_code": "APIGW.0301",
                    "error_msg": "Incorrect IAM authentication information: " + AKSK_FAIL,
                    "request_id": "gw-9",
                }
            ),
            "application/json",
            {},
            "APIGW.0301: Incorrect IAM authentication information: " + AKSK_FAIL,
            "APIGW.0301",
            "gw-9",
        ),
    ],
)
@responses.activate
def test_error_messages_are_readable_for_each_service(
    body, content_type, headers, message, code, request_id
):
    conn = Connection(StaticTokenAuth("t", {"image": G}), retries=0)
    responses.get(
        f"{G}/v2/images/{IMAGE_ID}",
        status=404,
        body=body,
        content_type=content_type,
        headers=headers,
    )
    with pytest.raises(cloudapi.NotFoundError) as info:
        conn.image.get_image(IMAGE_ID)
    assert info.value.message == message
    assert info.value.code == code
    assert info.value.request_id == request_id
    assert info.value.details  # the raw body is kept for logs


@responses.activate
def test_a_401_reauthenticates_once_and_retries_once():
    auth = CountingAuth()
    conn = Connection(auth, retries=0)
    url = f"{G}/v2/images/{IMAGE_ID}"
    responses.get(url, status=401, json={"message": "expired"})
    responses.get(url, json={"id": IMAGE_ID})
    assert conn.image.get_image(IMAGE_ID).id == IMAGE_ID
    assert auth.generation == 1
    assert [c.request.headers["X-Auth-Token"] for c in responses.calls] == ["token-0", "token-1"]


@responses.activate
def test_a_second_401_is_raised_not_looped():
    auth = CountingAuth()
    conn = Connection(auth, retries=3)
    responses.get(f"{G}/v2/images/{IMAGE_ID}", status=401, json={"message": "denied"})
    with pytest.raises(cloudapi.UnauthorizedError):
        conn.image.get_image(IMAGE_ID)
    assert len(responses.calls) == 2
    assert auth.generation == 1


@responses.activate
def test_a_streamed_upload_is_not_replayed_after_a_401_or_a_503():
    auth = CountingAuth()
    sleeps = []
    conn = Connection(auth, retries=3, sleep=sleeps.append)
    responses.post(f"{G}/v2/images", status=201, json={"id": IMAGE_ID, "status": "queued"})
    responses.add_callback(
        responses.PUT,
        f"{G}/v2/images/{IMAGE_ID}/file",
        callback=lambda req: (503, {}, b"".join(req.body) and b'{"message": "busy"}'),
    )
    responses.delete(f"{G}/v2/images/{IMAGE_ID}", status=204)
    with pytest.raises(cloudapi.ServiceUnavailableError):
        conn.image.upload_image("bare", "raw", data=iter([b"abc"]))
    methods = [c.request.method for c in responses.calls]
    assert methods == ["POST", "PUT", "DELETE"]  # one PUT, then the queued image is deleted
    assert sleeps == []


@responses.activate
def test_static_token_auth_does_not_reauthenticate():
    conn = Connection(StaticTokenAuth("t", {"image": G}), retries=0)
    responses.get(f"{G}/v2/images/{IMAGE_ID}", status=401, json={"message": "expired"})
    with pytest.raises(cloudapi.UnauthorizedError):
        conn.image.get_image(IMAGE_ID)
    assert len(responses.calls) == 1


@responses.activate
def test_every_request_has_a_timeout_and_asks_for_json(monkeypatch):
    seen = []
    original = requests.Session.send

    def spy(self, request, **kwargs):
        seen.append(kwargs.get("timeout"))
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    conn = Connection(StaticTokenAuth("t", {"image": G}), connect_timeout=2, read_timeout=9)
    responses.get(f"{G}/v2/images", json={"images": []})
    list(conn.image.images())
    assert seen == [(2, 9)]
    assert responses.calls[0].request.headers["Accept"] == "application/json"


@responses.activate
def test_from_config_keywords_override_the_config_dict(sleeps):
    config = {"auth_type": "token", "token": "t", "image_endpoint": G, "retries": 3}
    conn = Connection.from_config(config, retries=0, read_timeout=9, sleep=sleeps.append)
    assert conn.http.retries == 0
    assert conn.http.timeout == (5.0, 9)
    responses.get(f"{G}/v2/images/{IMAGE_ID}", **glance_error(503, "busy"))
    with pytest.raises(cloudapi.ServiceUnavailableError):
        conn.image.get_image(IMAGE_ID)
    assert len(responses.calls) == 1
    assert sleeps == []
