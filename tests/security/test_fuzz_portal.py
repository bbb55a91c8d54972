"""Property-based fuzzing of every project-scoped page and action of the portal, as a user
with every role: any query string on a GET, any form body on a POST, plain or htmx, is
answered without a 500 and within a bounded time (issue 9). The URLs are walked from the
URLconf, so new pages are fuzzed without being listed here."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_access import PROJECT_ROUTES, allowed_methods, sample_path

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What the pages' own forms name, so that examples reach past "field required".
FIELD_NAMES = [
    "name", "status", "visibility", "marker", "sort_key", "sort_dir", "limit", "page", "tag",
    "owner", "disk_format", "container_format", "min_disk", "min_ram", "protected", "os_hidden",
    "size_min", "size_max", "q", "member", "members", "projects", "image", "images", "confirm",
    "action", "tab", "imagetype", "platform", "os_type", "os_bit", "description", "key", "value",
    "properties", "os_distro", "os_version", "server", "instance_id", "file", "bucket", "kind",
    "user", "scope", "property", "created_since", "updated_before", "page_size",
]  # fmt: skip
values = (
    st.text(max_size=60)
    | st.sampled_from(["", "0", "-1", "true", "yes", "on", "99999999999999999999", "\x00", "‮x"])
    | st.uuids().map(str)
)
form_data = st.dictionaries(
    st.sampled_from(FIELD_NAMES) | st.text(min_size=1, max_size=12),
    values | st.lists(values, max_size=3),
    max_size=6,
)
BOUND = 30.0  # seconds; the page budget is 10 s, so a hang shows as a failure


@pytest.fixture
def fuzz_client(client, make_user, partner_project, owner_project, localcloud):
    """Every role in owner-project, and a scratch image of its own for the object pages."""
    from imsportal.cloud import connection_for

    user = make_user("fuzzer", ("operator", "approver"))
    client.force_login(user)
    conn = connection_for(owner_project)
    scratch = conn.image.create_image(
        name="fuzz-portal-scratch", disk_format="raw", container_format="bare"
    )
    client.values = {
        "project_slug": "owner",
        "image_id": scratch.id,
        "member_id": conn.auth.project_id,
        "pk": "1",
    }
    yield client
    conn.image.delete_image(scratch, ignore_missing=True)


ROUTES = [(route, pattern) for _name, route, pattern in PROJECT_ROUTES]


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=[r for r, _ in ROUTES])
def test_no_page_or_action_answers_500(fuzz_client, route, pattern):
    path = sample_path(route, **fuzz_client.values)
    methods = allowed_methods(pattern)

    @FUZZ
    @given(data=form_data, htmx=st.booleans())
    def one(data, htmx):
        headers = {"HX-Request": "true"} if htmx else {}
        for method in methods:
            started = time.monotonic()
            if method == "GET":
                resp = fuzz_client.get(path, data, headers=headers)
            elif method == "POST":
                resp = fuzz_client.post(path, data, headers=headers)
            else:
                continue
            assert resp.status_code < 500, (method, path, data, resp.status_code)
            assert time.monotonic() - started < BOUND, (method, path, data)

    one()
