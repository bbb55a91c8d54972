"""A real OpenStack Glance on loopback, for contract tests and the benchmark.

Glance (PyPI ``glance``, pinned in tests/realglance/requirements.txt) lives in its own venv,
``.cache/glance-venv``, built by scripts/install-glance and reused until the pins change. Each
run writes glance-api.conf and api-paste.ini into a temporary directory, creates the SQLite
schema (db_sync once per venv; later runs copy that empty database) and serves
``glance.wsgi.api:application`` under gunicorn on a free loopback port: SQLite, the filesystem
store, one process with one thread (SQLite takes one writer).

Identity comes from tests/realglance/fakeauth.py: the token ``user:project:role,role`` becomes the
headers keystonemiddleware would set, so several projects can act; the secure-RBAC policy
defaults stay on.

Use the session fixture ``realglance`` (registered in tests/conftest.py) or, from plain Python,
``start_glance(work_dir)`` / ``.stop()``. ``python -m tests.realglance`` runs one by hand.
When Glance cannot be installed the fixture skips, except with ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import pytest
import requests

from tests.localcloud_server import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
HERE = BASE_DIR / "tests" / "realglance"
INSTALL_SCRIPT = BASE_DIR / "scripts" / "install-glance"
DEFAULT_ROLES = ("member", "reader")


class GlanceUnavailable(RuntimeError):
    """Glance could not be installed (typically: no access to PyPI)."""


def make_token(user: str, project: str, roles=DEFAULT_ROLES) -> str:
    """The X-Auth-Token the loopback Glance accepts (see tests/realglance/fakeauth.py)."""
    return f"{user}:{project}:{','.join(roles)}"


def install_glance() -> tuple[Path, float]:
    """Create or refresh the Glance venv; returns its path and the seconds it took."""
    started = time.monotonic()
    try:
        out = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)], cwd=BASE_DIR, capture_output=True, text=True
        )
    except OSError as e:
        raise GlanceUnavailable(f"cannot run {INSTALL_SCRIPT}: {e}") from e
    if out.returncode != 0:
        raise GlanceUnavailable(out.stderr.strip()[-2000:] or "install-glance failed")
    return Path(out.stdout.strip().splitlines()[-1]), time.monotonic() - started


@dataclass
class RealGlance:
    endpoint: str  # unversioned, e.g. http://127.0.0.1:PORT
    work_dir: Path
    venv: Path
    process: subprocess.Popen
    log_path: Path
    timings: dict[str, float] = field(default_factory=dict)

    def token(self, user: str, project: str, roles=DEFAULT_ROLES) -> str:
        return make_token(user, project, roles)

    def headers(self, user: str, project: str, roles=DEFAULT_ROLES) -> dict[str, str]:
        return {"X-Auth-Token": self.token(user, project, roles)}

    @property
    def pid(self) -> int:
        return self.process.pid

    def server_pids(self) -> list[int]:
        """The gunicorn master and its worker (the worker is what serves requests)."""
        pids = [self.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                pids.append(int(stat.parent.name))
        return pids

    def log_tail(self, chars: int = 3000) -> str:
        text = ""
        for path in (self.log_path, self.work_dir / "log" / "glance-api.log"):
            if path.exists():
                text += f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}\n"
        return text

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def write_config(work_dir: Path) -> Path:
    """Fill the templates into work_dir/etc; returns that directory (OS_GLANCE_CONFIG_DIR)."""
    etc = work_dir / "etc"
    for sub in ("etc", "log", "images", "staging", "tasks", "locks"):
        (work_dir / sub).mkdir(parents=True, exist_ok=True)
    values = {"work_dir": str(work_dir.resolve())}
    for name in ("glance-api.conf", "api-paste.ini"):
        text = Template((HERE / name).read_text()).substitute(values)
        (etc / name).write_text(text)
    return etc


def _glance_env(etc: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(OS_GLANCE_CONFIG_DIR=str(etc), PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1")
    return env


def _create_schema(venv: Path, etc: Path, work_dir: Path, env: dict[str, str]) -> None:
    """db_sync once per venv, then copy that empty database (milliseconds instead of seconds)."""
    pristine = venv / "glance-empty.sqlite"
    target = work_dir / "glance.sqlite"
    if pristine.exists():
        shutil.copyfile(pristine, target)
        return
    sync = subprocess.run(
        [str(venv / "bin" / "glance-manage"), "--config-file", str(etc / "glance-api.conf")]
        + ["db_sync"],
        env=env,
        cwd=work_dir,
        capture_output=True,
        text=True,
    )
    if sync.returncode != 0:
        raise RuntimeError(f"glance-manage db_sync failed:\n{sync.stdout}\n{sync.stderr}"[-4000:])
    partial = pristine.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(target, partial)
    partial.replace(pristine)


def start_glance(
    work_dir: Path, *, venv: Path | None = None, timeout: float = 60.0, attempts: int = 3
) -> RealGlance:
    """Install if needed, configure, create the schema, start Glance, wait for /healthcheck."""
    timings: dict[str, float] = {}
    if venv is None:
        venv, timings["install"] = install_glance()
    work_dir = Path(work_dir)
    etc = write_config(work_dir)
    env = _glance_env(etc)

    started = time.monotonic()
    _create_schema(venv, etc, work_dir, env)
    timings["db_sync"] = time.monotonic() - started

    log_path = work_dir / "log" / "gunicorn.log"
    for attempt in range(attempts):  # the free port can be taken before gunicorn binds it
        port = free_port()
        started = time.monotonic()
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [str(venv / "bin" / "gunicorn"), "--workers", "1", "--threads", "1"]
                + ["--bind", f"127.0.0.1:{port}", "--timeout", "600", "--graceful-timeout", "5"]
                + ["glance.wsgi.api:application"],
                env=env,
                cwd=work_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        glance = RealGlance(f"http://127.0.0.1:{port}", work_dir, venv, proc, log_path, timings)
        if _wait_healthy(glance, timeout):
            timings["startup"] = time.monotonic() - started
            return glance
        glance.stop()
        if attempt == attempts - 1 or "Address already in use" not in glance.log_tail():
            raise RuntimeError(f"Glance did not start on {glance.endpoint}:\n{glance.log_tail()}")
    raise AssertionError("unreachable")


def _wait_healthy(glance: RealGlance, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if glance.process.poll() is not None:
            return False
        try:
            if requests.get(f"{glance.endpoint}/healthcheck", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def realglance(tmp_path_factory) -> RealGlance:
    """A real Glance for the whole session: ``.endpoint`` (unversioned) and ``.token()``."""
    try:
        glance = start_glance(tmp_path_factory.mktemp("realglance"))
    except GlanceUnavailable as e:
        reason = f"real Glance not available: {e}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "\n(CI=true: the contract tests must not be skipped)")
        pytest.skip(reason)
    yield glance
    glance.stop()


def main() -> None:
    work_dir = Path(tempfile.mkdtemp(prefix="realglance-"))
    glance = start_glance(work_dir)
    print(f"Glance at {glance.endpoint} (data in {work_dir}); Ctrl-C stops it.")
    print("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in glance.timings.items()))
    token = make_token("alice", "projA")
    print(f"try: curl -H 'X-Auth-Token: {token}' {glance.endpoint}/v2/images")
    try:
        glance.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        glance.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
