"""Workers of their own for the upload and IMS job tests: on a queue of their own (so the
session's shared worker never takes these jobs), with short leases, retries and polls, and a
rate cap that makes an upload last long enough to cancel or kill it."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import time
from pathlib import Path

import pytest

from tests.worker import database_url, start_worker, stop_worker

RATE = 4 * 1024 * 1024  # bytes/s the test workers send to the cloud


def qcow2_header(virtual_size: int = 1024**3) -> bytes:
    """A qcow2 v3 header: magic, version, no backing file, 64 KiB clusters, virtual size."""
    fields = struct.pack(">4sIQII", b"QFI\xfb", 3, 0, 0, 16) + struct.pack(">Q", virtual_size)
    return fields.ljust(512, b"\0")


def qcow2_file(path: Path, size: int) -> Path:
    header = qcow2_header()
    path.write_bytes(header + os.urandom(size - len(header)))
    return path


def md5_sha512(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    return hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest()


def start_jobs_worker(
    db_url: str, log_path: Path, queue: str, name: str, **env
) -> subprocess.Popen:
    jobs_env = {
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "JOB_LEASE_SECONDS": "3",
        "UPLOAD_RETRY_BACKOFF": "0.5",
        "IMS_JOB_POLL_SECONDS": "0.5",
        "UPLOAD_CLOUD_MAX_RATE": str(RATE),
        "JOBS_SWEEP_SECONDS": "0",  # the tests sweep when they mean to
        **env,
    }
    proc = start_worker(
        db_url,
        log_path,
        jobs_env,
        name=name,
        concurrency=2,
        extra_args=("--without-heartbeat", "-Q", queue),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited: {log_path.read_text()[-3000:]}")
        if b"ready." in log_path.read_bytes():
            return proc
        time.sleep(0.2)
    stop_worker(proc)
    raise RuntimeError(f"worker not ready: {log_path.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def jobs_worker_factory(django_db_setup, django_db_blocker, tmp_path_factory):
    """``start(queue, name)`` -> a worker process; all are stopped at the end."""
    from django.db import connection

    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    procs: list[subprocess.Popen] = []

    def start(queue: str, name: str, **env) -> subprocess.Popen:
        log_path = tmp_path_factory.mktemp(name) / "worker.log"
        proc = start_jobs_worker(url, log_path, queue, name, **env)
        proc.log_path = log_path  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        stop_worker(proc)


@pytest.fixture(scope="session")
def jobs_worker(jobs_worker_factory):
    queue = f"jobs-test-{os.getpid()}"
    proc = jobs_worker_factory(queue, "jobs")
    proc.queue = queue  # type: ignore[attr-defined]
    return proc


@pytest.fixture
def jobs_queue(jobs_worker, settings):
    """Send this test's jobs to the test worker's queue."""
    settings.CELERY_TASK_DEFAULT_QUEUE = jobs_worker.queue
    return jobs_worker.queue


def wait_for(predicate, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")
