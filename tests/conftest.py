"""Shared fixtures: a real local-cloud server, portal users with roles, settings."""

from __future__ import annotations

import pytest

from tests.localcloud_server import LocalCloud, start_localcloud
from tests.realglance import realglance  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache is shared by processes (files, or Redis under CACHE_URL): each test starts
    with an empty one, as it starts with an empty database."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are made by the hundred here; PBKDF2's deliberate slowness buys nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def localcloud(tmp_path_factory) -> LocalCloud:
    """One seeded local-cloud server process for the whole test session."""
    cloud = start_localcloud(tmp_path_factory.mktemp("localcloud"))
    yield cloud
    cloud.stop()


def make_project(localcloud: LocalCloud, slug: str, **overrides):
    """A cloud project row for one of the local cloud's seeded users (``owner``, ``partner``)."""
    from imsportal.projects.models import CloudProject

    fields = {
        "name": f"{slug}-project",
        "auth_url": localcloud.auth_url,
        "username": slug,
        "password": f"{slug}-demo-password",
        "project_name": f"{slug}-project",
        **overrides,
    }
    project, _ = CloudProject.objects.update_or_create(slug=slug, defaults=fields)
    return project


@pytest.fixture
def owner_project(db, localcloud):
    return make_project(localcloud, "owner")


@pytest.fixture
def partner_project(db, localcloud):
    return make_project(localcloud, "partner")


@pytest.fixture
def make_user(db, django_user_model, owner_project):
    """A user with ``role`` (one role or a tuple) in ``project`` (default: the owner's)."""
    from imsportal.projects.models import ProjectRole

    def make(
        username: str = "alice",
        role: str | tuple[str, ...] | None = "operator",
        password: str = "pw-Secret-123",
        project=None,
    ):
        user = django_user_model.objects.create_user(username, password=password)
        roles = (role,) if isinstance(role, str) else role or ()
        for r in roles:
            ProjectRole.objects.create(user=user, project=project or owner_project, role=r)
        return user

    return make


@pytest.fixture
def operator_client(client, make_user):
    client.force_login(make_user("op", "operator"))
    return client


@pytest.fixture
def viewer_client(client, make_user):
    client.force_login(make_user("viewer", "viewer"))
    return client


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real worker process on the test database and the configured broker.

    Tests that need it to see their rows use ``@pytest.mark.django_db(transaction=True)``.
    """
    from django.db import connection

    from imsportal.celery import app
    from tests.worker import database_url, start_worker, stop_worker, wait_until_ready

    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    proc = start_worker(url, log_path)
    try:
        wait_until_ready(app, proc, log_path)
        yield proc
    finally:
        stop_worker(proc)


SERVICE_FIXTURES = {"db", "transactional_db", "django_db_setup", "celery_worker"}


def pytest_collection_modifyitems(config, items):
    """Mark every test that touches the database or the broker as ``services``, so CI can
    run exactly those again on PostgreSQL and Redis."""
    for item in items:
        uses = SERVICE_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses or item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.services)
