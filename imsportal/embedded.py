"""``python -m imsportal.embedded``: set up and run the whole portal on one machine.

Migrates both databases, seeds the local cloud, creates the first operator account
(printing its password once), then runs the local cloud, a Celery worker and the web
server until Ctrl-C, which stops all three. A child that crashes is restarted after a
growing pause (imsportal/supervisor.py); one that keeps crashing stops the run.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from imsportal.supervisor import Supervisor

BASE_DIR = Path(__file__).resolve().parent.parent
PY = sys.executable


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "imsportal.settings")
    env.update(child_env_defaults(env))
    return env


def child_env_defaults(env: dict[str, str]) -> dict[str, str]:
    """glibc gives each busy thread its own malloc arena, which a threaded server grows and
    never gives back: 2 arenas kept the portal's RSS under load about half as high
    (bench/load.py). An explicit MALLOC_ARENA_MAX wins."""
    return {"MALLOC_ARENA_MAX": env.get("MALLOC_ARENA_MAX", "2")}


def _run(*args: str) -> None:
    subprocess.run([PY, *args], cwd=BASE_DIR, env=_env(), check=True)


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    from imsportal.env import envint, envstr

    web_host = envstr("PORTAL_HOST", "127.0.0.1")
    web_port = envint("PORTAL_PORT", 8000, minimum=1)
    cloud_host = envstr("LOCALCLOUD_HOST", "127.0.0.1")
    cloud_port = envint("LOCALCLOUD_PORT", 8775, minimum=1)
    embedded_cloud = not (
        os.environ.get("CLOUD_AUTH_URL") or os.environ.get("CLOUD_IMAGE_ENDPOINT")
    )

    from imsportal.prepare import prepare

    prepare()  # folders 0700, data files 0600, the generated key; settings only read them
    print("• Preparing the portal database", flush=True)
    _run("manage.py", "migrate", "--noinput", "-v", "0")
    _run("manage.py", "sync_cloud_project")
    # The first admin may act and approve in every project the environment registered.
    slugs = (
        ["owner", "partner"]
        if embedded_cloud
        else [os.environ.get("CLOUD_PROJECT_SLUG", "default")]
    )
    project_args = [arg for slug in slugs for arg in ("--project", slug)]
    # ADMIN_PASSWORD_FILE chooses the first admin's password, so that it is never printed
    # (into a terminal log or a CI transcript); otherwise one is generated and shown once.
    password_file = os.environ.get("ADMIN_PASSWORD_FILE")
    password_args = ["--password-file", password_file] if password_file else []
    _run(
        "manage.py", "create_user", "admin", "--superuser", "--if-missing",
        *project_args, "--role", "operator", "--role", "approver", *password_args,
    )  # fmt: skip

    supervisor = Supervisor(BASE_DIR, _env())
    start = supervisor.start

    signal.signal(signal.SIGTERM, lambda *a: (supervisor.stop_all(), sys.exit(0)))
    try:
        if embedded_cloud:
            print(f"• Starting the local cloud on http://{cloud_host}:{cloud_port}", flush=True)
            cloud = start("local cloud", "-m", "imsportal.localcloud", "serve", "--seed")
            if not wait_for_port(cloud_host, cloud_port, 60, cloud):
                print("The local cloud did not start; see the messages above.", file=sys.stderr)
                return 1
        print("• Starting a Celery worker", flush=True)
        start(
            "worker",
            "-m",
            "celery",
            "-A",
            "imsportal",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
        )
        print("• Starting the web server", flush=True)
        web = start("web server", *web_server_args(web_host, web_port))
        if not wait_for_port(web_host, web_port, 60, web):
            print("The web server did not start; see the messages above.", file=sys.stderr)
            return 1
        print(
            f"\nIMS Portal is running at http://{web_host}:{web_port}/  (Ctrl-C stops it)\n",
            flush=True,
        )
        # A crashed child is restarted after a pause; only one that keeps crashing ends the run.
        return supervisor.watch()
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        supervisor.stop_all()


def web_workers() -> int:
    """gunicorn processes: ``WEB_WORKERS``, by default one per CPU (at most 4). One Python
    process runs on one core at a time, however many threads it has."""
    from imsportal.env import envint

    try:
        cpus = len(os.sched_getaffinity(0))  # the CPUs this process may use (taskset, cgroups)
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return envint("WEB_WORKERS", min(cpus, 4), minimum=1)


def web_threads() -> int:
    """Threads per gunicorn process: ``WEB_THREADS``, by default 16. A thread is held for the
    whole of a request, slow uploads and cloud calls included."""
    from imsportal.env import envint

    return envint("WEB_THREADS", 16, minimum=1)


def web_server_args(host: str, port: int) -> list[str]:
    """gunicorn for the portal: threads with headroom, and a read timeout per connection
    (imsportal/webserver.py) so clients that never finish their headers cannot block it."""
    return [
        "-m",
        "gunicorn",
        "imsportal.wsgi",
        "--bind",
        f"{host}:{port}",
        "--worker-class",
        "imsportal.webserver.ReadTimeoutThreadWorker",
        "--threads",
        str(web_threads()),
        "--workers",
        str(web_workers()),
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]


if __name__ == "__main__":
    sys.exit(main())
