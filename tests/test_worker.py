"""A round trip through the real broker and a real worker process."""

import pytest

from jobs.tasks import ping_task

pytestmark = pytest.mark.services


def test_task_round_trip_through_the_broker(celery_worker):
    result = ping_task.delay()
    assert result.get(timeout=30) == "pong"


def test_worker_answers_a_ping(celery_worker):
    from imsportal.celery import app

    replies = app.control.ping(timeout=2)
    assert replies, "no worker answered"
    assert all(r.get("ok") == "pong" for reply in replies for r in reply.values())
