"""The run command brings everything up, reuses its state on a second run, and Ctrl-C stops
every process it started."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.localcloud_server import free_port

BASE_DIR = Path(__file__).resolve().parent.parent


def start(data_dir: Path, web_port: int, cloud_port: int, **extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUD_", "DATABASE_URL"))}
    env.update(extra)
    env.update(
        IMSPORTAL_DATA_DIR=str(data_dir),
        PORTAL_PORT=str(web_port),
        LOCALCLOUD_PORT=str(cloud_port),
        CELERY_BROKER_URL="filesystem://",
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_RESULT_BACKEND", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "imsportal.embedded"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(proc: subprocess.Popen, pattern: str, timeout: float = 120) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if re.search(pattern, line):
            return "".join(seen)
    raise AssertionError(f"never saw {pattern!r}:\n{''.join(seen)}")


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def admin_sees_both_demo_projects(base: str, password: str) -> None:
    """The first admin is operator and approver in owner-project and partner-project."""
    session = requests.Session()
    session.get(f"{base}/login/", timeout=10)
    resp = session.post(
        f"{base}/login/",
        data={"username": "admin", "password": password},
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{base}/login/"},
        timeout=30,
    )
    assert resp.url == f"{base}/p/owner/images/", resp.url
    switcher = resp.text.split('<details class="switcher">')[1].split("</details>")[0]
    assert 'href="/p/owner/images/"' in switcher
    assert 'href="/p/partner/images/"' in switcher
    partner = session.get(f"{base}/p/partner/images/shared/", timeout=30)
    assert partner.status_code == 200
    assert 'role="alert"' not in partner.text  # the partner's credentials work


def run_once(data_dir: Path, password: str | None = None, **extra: str) -> str:
    web, cloud = free_port(), free_port()
    proc = start(data_dir, web, cloud, **extra)
    try:
        out = read_until(proc, r"IMS Portal is running at http://127\.0\.0\.1:\d+/")
        children = children_of(proc.pid)
        assert len(children) == 3, out  # local cloud, worker, web server
        health = {}
        for _ in range(60):
            health = requests.get(f"http://127.0.0.1:{web}/healthz", timeout=10).json()
            if health["ok"]:
                break
            time.sleep(1)
        assert health["ok"], health
        login = requests.get(f"http://127.0.0.1:{web}/login/", timeout=10)
        assert login.status_code == 200
        if password is None:
            password = re.search(r"password:\s+(\S+)", out).group(1)
        admin_sees_both_demo_projects(f"http://127.0.0.1:{web}", password)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        time.sleep(0.5)
        assert [pid for pid in children if alive(pid)] == []
        return out
    finally:
        if proc.poll() is None:
            proc.kill()


def test_run_twice(tmp_path):
    first = run_once(tmp_path)
    assert "user name: admin" in first
    password = re.search(r"password:\s+(\S+)", first).group(1)
    assert "12 new demo images" in first

    second = run_once(tmp_path, password)
    assert "exists already" in second
    assert password not in second
    assert "0 new demo images" in second


def test_the_admin_password_from_a_file_is_never_printed(tmp_path):
    secret = tmp_path / "admin-password"
    secret.write_text("Chosen-Admin-Pass-42\n")
    out = run_once(tmp_path / "data", "Chosen-Admin-Pass-42", ADMIN_PASSWORD_FILE=str(secret))
    assert "Created 'admin'" in out
    assert "Chosen-Admin-Pass-42" not in out
    assert "password:" not in out


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_a_killed_child_is_restarted(tmp_path):
    """SIGKILL the worker, then the web server: each comes back, the console says so, and
    Ctrl-C still stops everything."""
    web, cloud = free_port(), free_port()
    proc = start(tmp_path, web, cloud)
    try:
        read_until(proc, r"IMS Portal is running at")
        for name, marker in (("worker", "celery"), ("web server", "gunicorn")):
            (victim,) = [p for p in children_of(proc.pid) if marker in cmdline(p)]
            os.kill(victim, signal.SIGKILL)
            read_until(proc, rf"The {name} exited with code -9; restarting it in 1 s", 30)
            read_until(proc, rf"Restarted the {name}", 30)
            (successor,) = [p for p in children_of(proc.pid) if marker in cmdline(p)]
            assert successor != victim
        assert proc.poll() is None
        deadline, health = time.monotonic() + 60, {}
        while True:  # the restarted web server answers, and sees the restarted worker
            try:
                health = requests.get(f"http://127.0.0.1:{web}/healthz", timeout=5).json()
                if health["ok"]:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, health
            time.sleep(1)
        children = children_of(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        time.sleep(0.5)
        assert [pid for pid in children if alive(pid)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
