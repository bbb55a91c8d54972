"""A hung cloud: a page answers within its total budget, whatever the timeouts and retries,
with the usual error banner (issue 7, "Hung cloud")."""

from __future__ import annotations

import time

import pytest
import responses

from imsportal import cloudapi
from imsportal.cloudapi import Connection, StaticTokenAuth

pytestmark = pytest.mark.django_db

# Glance answers after 1.5 s, longer than the 1 s read timeout: without a budget, 4 tries
# and the backoff between them take 5.75 s or more.
SLOW_GLANCE = {"latency_ms": 1500, "path_prefix": "/image"}
BUDGET = 2.5
SLACK = 1.0


@pytest.fixture
def slow_glance(localcloud):
    localcloud.set_faults(**SLOW_GLANCE)
    yield localcloud
    localcloud.clear_faults()


@pytest.fixture
def budget_settings(settings, localcloud):
    settings.CLOUD_HTTP = {"connect_timeout": 5.0, "read_timeout": 1.0, "retries": 3}
    settings.CLOUD_REQUEST_BUDGET = BUDGET
    return settings


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_a_call_stops_retrying_at_its_total_timeout(localcloud):
    conn = Connection.from_config(
        localcloud.cloud_config(read_timeout=1.0, retries=3), total_timeout=BUDGET
    )
    conn.auth.get_token()  # log in before Glance turns slow
    localcloud.set_faults(**SLOW_GLANCE)
    try:
        started = time.monotonic()
        with pytest.raises(cloudapi.DeadlineExceededError, match="did not answer in time"):
            conn.image.get_image("11111111-2222-3333-4444-555555555555")
        elapsed = time.monotonic() - started
    finally:
        localcloud.clear_faults()
    assert elapsed < BUDGET + SLACK


def test_the_login_counts_against_the_deadline(localcloud):
    conn = Connection.from_config(localcloud.cloud_config(read_timeout=30.0))
    localcloud.set_faults(latency_ms=3000, path_prefix="/identity")
    try:
        started = time.monotonic()
        with cloudapi.deadline(1.0), pytest.raises(cloudapi.DeadlineExceededError):
            conn.auth.get_token()
        elapsed = time.monotonic() - started
    finally:
        localcloud.clear_faults()
    assert elapsed < 1.0 + SLACK


def test_the_images_page_answers_within_the_budget_with_the_banner(
    operator_client, budget_settings, slow_glance
):
    resp, elapsed = timed(lambda: operator_client.get("/p/owner/images/"))
    assert resp.status_code == 200
    assert elapsed < BUDGET + SLACK
    assert 'class="message error"' in resp.content.decode()
    assert "did not answer in time" in resp.content.decode()


def test_several_calls_of_one_page_share_the_budget(operator_client, settings, localcloud):
    """Shared with me makes three calls; each would fit a 5 s read timeout, not all three
    the page's budget."""
    settings.CLOUD_HTTP = {"connect_timeout": 5.0, "read_timeout": 5.0, "retries": 0}
    settings.CLOUD_REQUEST_BUDGET = BUDGET
    localcloud.set_faults(**SLOW_GLANCE)
    try:
        resp, elapsed = timed(lambda: operator_client.get("/p/owner/images/shared/"))
    finally:
        localcloud.clear_faults()
    assert resp.status_code == 200
    assert elapsed < BUDGET + SLACK
    assert "did not answer in time" in resp.content.decode()


@responses.activate
def test_no_retry_sleeps_past_the_deadline():
    """A Retry-After longer than the time left ends the call now, with the cloud's error."""
    glance = "http://glance.test:9292"
    url = f"{glance}/v2/images/11111111-2222-3333-4444-555555555555"
    responses.get(url, status=503, json={"message": "busy"}, headers={"Retry-After": "5"})
    sleeps: list[float] = []
    conn = Connection(
        StaticTokenAuth("tok", {"image": glance}), retries=3, total_timeout=2, sleep=sleeps.append
    )
    with pytest.raises(cloudapi.ServiceUnavailableError):
        conn.image.get_image("11111111-2222-3333-4444-555555555555")
    assert sleeps == []
    assert len(responses.calls) == 1
