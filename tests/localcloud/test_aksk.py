"""AK/SK (SDK-HMAC-SHA256) requests to the image host, signed by a signer written here from
the description in reference ims.md §5.2, independently of the server's verifier."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest
import requests

from tests.localcloud.conftest import Api

OWNER_AK, OWNER_SK = "OWNERDEMOACCESSKEY01", "ownerDemoSecretKey0000000000000000000001"
PARTNER_AK, PARTNER_SK = "PARTNERDEMOACCESSK01", "partnerDemoSecretKey00000000000000000001"


def _enc(text: str) -> str:
    return quote(text, safe="~")  # RFC 3986 unreserved stay as they are


def sign(
    method: str,
    url: str,
    ak: str,
    sk: str,
    project_id: str | None,
    *,
    params: dict[str, str] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
    unsigned_payload: bool = False,
    when: datetime | None = None,
    extra_headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """The headers of a signed request: X-Sdk-Date, Host, X-Project-Id, Authorization."""
    parts = urlsplit(url)
    headers = {"Host": parts.netloc, **(extra_headers or {})}
    headers["X-Sdk-Date"] = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    if project_id is not None:
        headers["X-Project-Id"] = project_id
    if content_type:
        headers["Content-Type"] = content_type
    if unsigned_payload:
        headers["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
    path = "/".join(_enc(seg) for seg in parts.path.split("/"))
    if not path.endswith("/"):
        path += "/"
    query = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted((params or {}).items()))
    names = sorted(h.lower() for h in headers)
    lower = {k.lower(): v for k, v in headers.items()}
    canonical_headers = "".join(f"{n}:{lower[n].strip()}\n" for n in names)
    payload = "UNSIGNED-PAYLOAD" if unsigned_payload else hashlib.sha256(body).hexdigest()
    canonical = "\n".join([method, path, query, canonical_headers, ";".join(names), payload])
    to_sign = "SDK-HMAC-SHA256\n{}\n{}".format(
        headers["X-Sdk-Date"], hashlib.sha256(canonical.encode()).hexdigest()
    )
    sig = hmac.new(sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders={';'.join(names)}, Signature={sig}"
    )
    return headers


def sign_owner(method: str, url: str, owner: Api, **kwargs) -> dict[str, str]:
    """``sign`` with the owner's demo key, for the owner's project."""
    return sign(method, url, OWNER_AK, OWNER_SK, owner.project_id, **kwargs)


def assert_apigw_401(resp: requests.Response) -> None:
    assert resp.status_code == 401, resp.text
    body = resp.json()
    assert body["error_code"] == "APIGW.0301"
    assert body["error_msg"].startswith("Incorrect IAM authentication information")
    assert body["request_id"] == resp.headers["x-openstack-request-id"]


def test_a_good_signature_lists_the_key_users_project_images(cloud, owner: Api):
    url = f"{cloud.image_url}/v2/cloudimages"
    params = {"__imagetype": "private", "limit": "3", "name": "debian-12-generic"}
    headers = sign_owner("GET", url, owner, params=params)
    resp = requests.get(url, params=params, headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    images = resp.json()["images"]
    assert [i["name"] for i in images] == ["debian-12-generic"]
    assert images[0]["owner"] == owner.project_id

    # Same answer as with the user's token.
    by_token = owner.get("/v2/cloudimages", params=params).json()["images"]
    assert [i["id"] for i in by_token] == [i["id"] for i in images]


def test_query_values_are_encoded_as_the_signer_does(cloud, owner: Api):
    url = f"{cloud.image_url}/v2/cloudimages"
    params = {"name": "no such/image ~ä", "created_at": "gt:2000-01-01T00:00:00Z"}
    headers = sign_owner("GET", url, owner, params=params)
    resp = requests.get(url, params=params, headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"images": []}


def test_a_signed_json_body_is_accepted_and_a_tampered_one_is_not(cloud, owner: Api):
    image = owner.create(disk_format="raw", container_format="bare")
    assert owner.upload(image["id"], b"x" * 4096).status_code == 204
    url = f"{cloud.image_url}/v2/cloudimages/{image['id']}"
    body = json.dumps([{"op": "add", "path": "/aksk_checked", "value": "yes"}]).encode()
    headers = sign_owner("PATCH", url, owner, body=body, content_type="application/json")
    resp = requests.patch(url, data=body, headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json()["aksk_checked"] == "yes"

    tampered = body.replace(b"yes", b"no!")
    assert_apigw_401(requests.patch(url, data=tampered, headers=headers, timeout=30))
    assert owner.image(image["id"])["aksk_checked"] == "yes"


def test_a_json_body_may_not_skip_signing(cloud, owner: Api):
    url = f"{cloud.image_url}/v2/cloudimages/action"
    body = json.dumps({"name": "x", "instance_id": "y"}).encode()
    headers = sign_owner(
        "POST", url, owner, body=body, content_type="application/json", unsigned_payload=True
    )
    assert_apigw_401(requests.post(url, data=body, headers=headers, timeout=30))


def test_tampered_path_query_and_header_are_refused(cloud, owner: Api):
    url = f"{cloud.image_url}/v2/cloudimages"
    params = {"limit": "1"}
    headers = sign_owner("GET", url, owner, params=params, extra_headers={"X-Trace": "a"})
    assert requests.get(url, params=params, headers=headers, timeout=30).status_code == 200
    # Another query, another path, another value of a signed header.
    assert_apigw_401(requests.get(url, params={"limit": "2"}, headers=headers, timeout=30))
    assert_apigw_401(
        requests.get(f"{cloud.image_url}/v2/images", params=params, headers=headers, timeout=30)
    )
    assert_apigw_401(
        requests.get(url, params=params, headers={**headers, "X-Trace": "b"}, timeout=30)
    )
    # A signature that leaves out the host (or the date) is not accepted.
    unsigned_host = dict(headers)
    unsigned_host["Authorization"] = headers["Authorization"].replace("host;", "")
    assert_apigw_401(requests.get(url, params=params, headers=unsigned_host, timeout=30))


@pytest.mark.parametrize("minutes", [-16, 16])
def test_a_date_more_than_15_minutes_off_is_refused(cloud, owner: Api, minutes):
    url = f"{cloud.image_url}/v2/cloudimages"
    when = datetime.now(UTC) + timedelta(minutes=minutes)
    headers = sign_owner("GET", url, owner, when=when)
    resp = requests.get(url, headers=headers, timeout=30)
    assert_apigw_401(resp)
    assert "X-Sdk-Date" in resp.json()["error_msg"]


def test_a_date_14_minutes_off_is_fine(cloud, owner: Api):
    url = f"{cloud.image_url}/v2/cloudimages"
    when = datetime.now(UTC) - timedelta(minutes=14)
    headers = sign_owner("GET", url, owner, when=when)
    assert requests.get(url, headers=headers, timeout=30).status_code == 200


def test_unknown_key_wrong_secret_and_wrong_project_are_refused(cloud, owner: Api, partner: Api):
    url = f"{cloud.image_url}/v2/cloudimages"
    for ak, sk, project in [
        ("NOSUCHACCESSKEY00000", OWNER_SK, owner.project_id),
        (OWNER_AK, PARTNER_SK, owner.project_id),
        (OWNER_AK, OWNER_SK, partner.project_id),  # no role there
        (OWNER_AK, OWNER_SK, "0" * 32),  # no such project
        (OWNER_AK, OWNER_SK, None),  # no X-Project-Id at all
    ]:
        assert_apigw_401(requests.get(url, headers=sign("GET", url, ak, sk, project), timeout=30))
    # The partner's own key works in the partner's project.
    headers = sign("GET", url, PARTNER_AK, PARTNER_SK, partner.project_id)
    assert requests.get(url, headers=headers, timeout=30).status_code == 200


def test_a_malformed_authorization_header_is_refused(cloud, owner: Api):
    url = f"{cloud.image_url}/v2/cloudimages"
    headers = sign_owner("GET", url, owner)
    headers["Authorization"] = "SDK-HMAC-SHA256 Credential=x/y, SignedHeaders=host, Signature=00"
    assert_apigw_401(requests.get(url, headers=headers, timeout=30))


def test_signed_requests_reach_glance_and_the_jobs_api(cloud, owner: Api):
    url = f"{cloud.image_url}/v2/images"
    params = {"limit": "2"}
    headers = sign_owner("GET", url, owner, params=params)
    resp = requests.get(url, params=params, headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["images"]) == 2

    # A Glance upload with an unsigned (octet-stream) payload, as the SDK sends files.
    image = owner.create(disk_format="raw", container_format="bare")
    file_url = f"{cloud.image_url}/v2/images/{image['id']}/file"
    data = b"signed upload " * 1000
    headers = sign_owner(
        "PUT", file_url, owner, content_type="application/octet-stream", unsigned_payload=True
    )
    resp = requests.put(file_url, data=data, headers=headers, timeout=30)
    assert resp.status_code == 204, resp.text
    shown = owner.image(image["id"])
    assert shown["status"] == "active"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()

    jobs_url = f"{cloud.image_url}/v1/{owner.project_id}/jobs/{'0' * 32}"
    resp = requests.get(jobs_url, headers=sign_owner("GET", jobs_url, owner), timeout=30)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"].startswith("IMG.")


def test_a_key_added_by_the_user_command_signs_for_that_user(cloud):
    out = cloud.manage(
        "localcloud_user",
        "aksk-user",
        "--project",
        "aksk-project",
        "--role",
        "reader",
        "--password",
        "pw-aksk-1",
        "--access-key",
        "AKSKUSERKEY000000001",
        "--secret-key",
        "aksk-user-secret",
    )
    project_id = out.split("project aksk-project (")[1].split(")")[0]
    url = f"{cloud.image_url}/v2/cloudimages"
    headers = sign("GET", url, "AKSKUSERKEY000000001", "aksk-user-secret", project_id)
    resp = requests.get(url, headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    # Nothing is owned by the new project; what it sees is public at most.
    assert all(i["owner"] != project_id for i in resp.json()["images"])
