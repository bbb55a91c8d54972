"""/healthz reports each part ok or failing with a reason, and never shows secrets."""

from pathlib import Path

import pytest

from tests.localcloud_server import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def healthz(client):
    def get():
        resp = client.get("/healthz")
        return resp.status_code, resp.json(), resp.content.decode()

    return get


def test_all_ok_with_a_worker(healthz, owner_project, celery_worker):
    status, body, _ = healthz()
    assert status == 200, body
    assert body == {
        "ok": True,
        "checks": {name: {"ok": True} for name in ("database", "broker", "worker", "cloud")},
    }


def test_cloud_down_is_reported_without_the_password(healthz, owner_project, partner_project):
    owner_project.auth_url = f"http://127.0.0.1:{free_port()}/identity/v3"
    owner_project.password = "hunter2-very-secret"
    owner_project.save()
    status, body, raw = healthz()
    assert status == 503
    assert body["ok"] is False
    assert body["checks"]["cloud"] == {"ok": False, "reason": "1 of 2 cloud projects unreachable"}
    assert "hunter2" not in raw
    assert "127.0.0.1" not in raw


def test_cloud_refusing_credentials(healthz, owner_project):
    owner_project.password = "wrong-password"
    owner_project.save()
    status, body, _ = healthz()
    assert status == 503
    assert body["checks"]["cloud"]["reason"] == "1 of 1 cloud projects unreachable"


def test_no_worker_is_reported(healthz, settings, owner_project, tmp_path, monkeypatch):
    """Ping on a broker no worker listens to (even if the session's worker is running)."""
    from imsportal.celery import app

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery lets it win over conf

    settings.HEALTH_WORKER_TIMEOUT = 0.3
    folders = {
        name: str(tmp_path / name)
        for name in ("data_folder_in", "processed_folder", "control_folder")
    }
    for folder in folders.values():
        Path(folder).mkdir()
    saved = (app.conf.broker_url, app.conf.broker_transport_options, app._pool)
    app.conf.broker_url = "filesystem://"
    app.conf.broker_transport_options = {**folders, "data_folder_out": folders["data_folder_in"]}
    app._pool = None
    try:
        status, body, _ = healthz()
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url, app.conf.broker_transport_options, app._pool = saved
    assert status == 503
    assert body["checks"]["worker"] == {"ok": False, "reason": "no worker answered a ping"}


def test_broker_down_is_reported_without_its_url(healthz, owner_project, monkeypatch):
    from imsportal.celery import app

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery lets it win over conf

    saved = app.conf.broker_url
    port = free_port()
    app.conf.broker_url = f"redis://:broker-secret@127.0.0.1:{port}/0"
    try:
        status, body, raw = healthz()
    finally:
        app.conf.broker_url = saved
    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["reason"]
    assert "broker-secret" not in raw


def test_database_down_is_reported(healthz, owner_project, monkeypatch):
    from django.db import OperationalError

    import imsportal.health

    class Broken:
        def cursor(self):
            raise OperationalError("connection to server at 127.0.0.1 port 1 failed")

    monkeypatch.setattr(imsportal.health, "connection", Broken())
    status, body, _ = healthz()
    assert status == 503
    assert body["checks"]["database"] == {
        "ok": False,
        "reason": "OperationalError: connection to server at 127.0.0.1 port 1 failed",
    }
