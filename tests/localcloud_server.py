"""Start a real local-cloud server process for tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalCloud:
    url: str
    data_dir: Path
    admin_token: str
    process: subprocess.Popen
    log_path: Path

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    @property
    def image_url(self) -> str:
        return f"{self.url}/image"

    def cloud_config(self, user: str = "owner", project: str = "owner-project", **extra) -> dict:
        """A settings.CLOUD-style dict for one of the seeded users."""
        return {
            "auth_type": "password",
            "auth_url": self.auth_url,
            "username": user,
            "password": f"{user}-demo-password",
            "user_domain_name": "Default",
            "project_name": project,
            "project_domain_name": "Default",
            "region_name": "",
            "interface": "public",
            "image_endpoint": "",
            "ims_endpoint": "",
            "token": "",
            "ak": "",
            "sk": "",
            "connect_timeout": 5.0,
            "read_timeout": 30.0,
            "retries": 2,
            **extra,
        }

    def manage(self, *args: str) -> str:
        """Run a local-cloud management command against this server's data."""
        out = subprocess.run(
            [sys.executable, "-m", "imsportal.localcloud", *args],
            cwd=BASE_DIR,
            env=_env(self.data_dir, self.url, self.admin_token),
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    def faults(self) -> dict:
        """The faults the server injects now (see imsportal/localcloud/faults.py)."""
        resp = requests.get(self._faults_url, headers=self._admin_headers, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def set_faults(self, **faults) -> dict:
        """Merge faults into the running server's: latency_ms, error_rate, error_count,
        error_status, retry_after, path_prefix, drop_upload_after_bytes; or the action
        expire_tokens=True. Takes effect with the next request, no restart."""
        resp = requests.post(self._faults_url, json=faults, headers=self._admin_headers, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def clear_faults(self) -> None:
        resp = requests.delete(self._faults_url, headers=self._admin_headers, timeout=10)
        resp.raise_for_status()

    @property
    def _faults_url(self) -> str:
        return f"{self.url}/_admin/faults"

    @property
    def _admin_headers(self) -> dict[str, str]:
        return {"X-Admin-Token": self.admin_token}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _env(data_dir: Path, url: str, admin_token: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    host, port = url.removeprefix("http://").split(":")
    env.update(
        LOCALCLOUD_DATA_DIR=str(data_dir),
        LOCALCLOUD_HOST=host,
        LOCALCLOUD_PORT=port,
        LOCALCLOUD_ADMIN_TOKEN=admin_token,
        **extra,
    )
    return env


def start_localcloud(data_dir: Path, *, seed: bool = True, **env_extra: str) -> LocalCloud:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    admin_token = "test-admin-" + os.urandom(8).hex()
    log_path = data_dir / "server.log"
    args = [sys.executable, "-m", "imsportal.localcloud", "serve"] + (["--seed"] if seed else [])
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env=_env(data_dir, url, admin_token, **env_extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    cloud = LocalCloud(url, data_dir, admin_token, proc, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"local cloud exited: {log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{cloud.auth_url}", timeout=1).status_code == 200:
                return cloud
        except requests.RequestException:
            time.sleep(0.2)
    cloud.stop()
    raise RuntimeError(f"local cloud did not start in time: {log_path.read_text()[-3000:]}")
