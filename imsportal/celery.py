"""The Celery app. Tasks live in each app's tasks.py and take primary keys only."""

import os

from celery import Celery

from imsportal.health.heartbeat import HeartbeatStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsportal.settings")

app = Celery("imsportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    result_expires=3600,
)

# Each worker records a heartbeat in the portal's database for /healthz.
app.steps["worker"].add(HeartbeatStep)

app.autodiscover_tasks()
