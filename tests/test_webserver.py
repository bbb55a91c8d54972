"""The embedded web server drops clients that never finish their headers, so a handful of
idle connections cannot block the portal (issue 9, small things)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from imsportal.embedded import web_server_args
from tests.localcloud_server import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
STALLED = 24  # more than the server's threads


@pytest.fixture
def web(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CLOUD_"))}
    env.update(
        IMSPORTAL_DATA_DIR=str(tmp_path),
        SECRET_KEY="web-server-test-" + "k" * 40,
        PORTAL_CLIENT_TIMEOUT="2",
        DJANGO_SETTINGS_MODULE="imsportal.settings",
    )
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, *web_server_args("127.0.0.1", port)],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/login/", timeout=2)
                break
            except requests.ConnectionError:
                log_text = (tmp_path / "web.log").read_text()
                assert proc.poll() is None, log_text
                assert time.monotonic() < deadline, log_text
                time.sleep(0.2)
        yield url, port
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def test_clients_stuck_in_their_headers_do_not_block_the_portal(web):
    url, port = web
    stalled = []
    for _ in range(STALLED):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never the blank line
        stalled.append(s)
    try:
        time.sleep(0.5)  # let the server hand them to its threads
        started = time.monotonic()
        resp = requests.get(f"{url}/login/", timeout=15)
        assert resp.status_code == 200
        assert time.monotonic() - started < 8
    finally:
        for s in stalled:
            s.close()


def test_web_workers_default_to_the_cpus_and_follow_web_workers(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    def workers() -> str:
        args = web_server_args("127.0.0.1", 8000)
        return args[args.index("--workers") + 1]

    monkeypatch.delenv("WEB_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert workers() == "2"
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    assert workers() == "4"  # at most 4 by default
    monkeypatch.setenv("WEB_WORKERS", "6")
    assert workers() == "6"
    monkeypatch.setenv("WEB_WORKERS", "0")
    with pytest.raises(ImproperlyConfigured, match="WEB_WORKERS"):
        workers()


def test_web_threads_default_to_16_and_follow_web_threads(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    def threads() -> str:
        args = web_server_args("127.0.0.1", 8000)
        return args[args.index("--threads") + 1]

    monkeypatch.delenv("WEB_THREADS", raising=False)
    assert threads() == "16"
    monkeypatch.setenv("WEB_THREADS", "8")
    assert threads() == "8"
    monkeypatch.setenv("WEB_THREADS", "0")
    with pytest.raises(ImproperlyConfigured, match="WEB_THREADS"):
        threads()


def test_make_run_children_get_two_malloc_arenas_unless_told(monkeypatch):
    from imsportal import embedded

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert embedded._env()["MALLOC_ARENA_MAX"] == "2"
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert embedded._env()["MALLOC_ARENA_MAX"] == "8"
