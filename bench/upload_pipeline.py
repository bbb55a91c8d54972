"""The upload pipeline's two legs and its memory, against baselines measured in the same run.

- Browser leg: a file sent into the portal's tus server as PATCHes of the page's chunk size
  (UPLOAD_CHUNK_SIZE, by a plain HTTP client, as the browser does), next to ``curl`` sending
  the same file as one single tus PATCH into the same server (the protocol's upper bound).
- Cloud leg: ``upload_image_task`` in a real Celery worker streaming the staged file to the
  local cloud (create, stream with MD5 + SHA-512, verify), next to ``curl -T`` of the same
  file to the same Glance endpoint.
- Peak RSS (VmHWM) of the web process (gunicorn) and the worker after each size.

    .venv/bin/python bench/upload_pipeline.py --sizes 1G,4G

Each size runs ``--rounds`` rounds of the four transfers (after the file is on disk), every
other round in reverse order, each after ``settle`` (a ``sync``, then waiting until the VM
has handed the memory freed before it back to its host), and compares the best of each and
the median of each; every run's figure is printed too, and how much memory the VM handed
back during a timed transfer.

Targets: cloud leg >= 0.9 x curl; browser leg >= 0.8 x the single PATCH; each process's
peak RSS grows < 100 MB from the 1 GiB to the 4 GiB round. Loopback only; everything runs
in a temporary directory that is removed at the end. Like bench/upload.py, servers are
pinned to one half of the CPUs and uploaders (the client, curl, the worker) to the other.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psutil
import requests

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.procs import cpu_seconds, tree_sum  # noqa: E402
from bench.upload import (  # noqa: E402
    UPLOADER_CPUS,
    make_file,
    on_uploader_cpus,
    parse_size,
    split_cpus,
)
from imsportal.cloudapi import Connection  # noqa: E402
from tests.localcloud_server import free_port, start_localcloud  # noqa: E402

MiB = 1024 * 1024
CHUNK = 64 * MiB  # the page's default UPLOAD_CHUNK_SIZE; --chunk-mib changes it
KEY = "V8AHt1_s0va2mIDv_RYYH9jf0N1rGOJsp8b3VAKX12c="

SETUP = r"""
import os
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from imsportal.projects.models import CloudProject, ProjectRole
auth_url = os.environ["BENCH_AUTH_URL"]
user = get_user_model().objects.create_user("bench", password="Bench-pass-1")
project = CloudProject.objects.create(slug="bench", name="bench", auth_url=auth_url,
    username="owner", password="owner-demo-password", project_name="owner-project")
ProjectRole.objects.create(user=user, project=project, role="operator")
s = SessionStore()
s["_auth_user_id"] = str(user.pk)
s["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
s["_auth_user_hash"] = user.get_session_auth_hash()
s.create()
print(s.session_key)
"""


def hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class _Browser:
    """A keep-alive HTTP/1.1 connection that sends tus PATCHes of a file's slices the way a
    browser sends a Blob slice: read from disk in 1 MiB pieces as they go out, never the whole
    slice in memory. (``requests`` sends a file body in 16 KiB pieces, which made this Python
    client, not the server, the bottleneck: 0.5 s of its CPU per GiB.)"""

    PIECE = MiB

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.path = parts.netloc, parts.path
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=600)
        self.reader = self.sock.makefile("rb")
        self.buf = memoryview(bytearray(self.PIECE))

    def patch(self, f, offset: int, length: int, headers: dict[str, str]) -> dict[str, str]:
        """PATCH ``length`` bytes of ``f`` from ``offset``; returns the 204's headers."""
        lines = [f"PATCH {self.path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += [f"Upload-Offset: {offset}", f"Content-Length: {length}"]
        lines += ["Content-Type: application/offset+octet-stream"]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        f.seek(offset)
        left = length
        while left:
            n = f.readinto(self.buf[: min(left, self.PIECE)])
            if not n:
                raise RuntimeError("the file ended early")
            self.sock.sendall(self.buf[:n])
            left -= n
        status = self.reader.readline().decode()
        if not status:
            raise RuntimeError("the portal closed the connection without answering the PATCH")
        answer: dict[str, str] = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            answer[name.strip().lower()] = value.strip()
        body = self.reader.read(int(answer.get("content-length", 0)))
        if status.split()[1:2] != ["204"]:
            raise RuntimeError(f"PATCH answered {status.strip()}: {body[:500]!r}")
        return answer

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class Portal:
    """A portal (gunicorn, one process) and a Celery worker on a throw-away data dir."""

    def __init__(self, work: Path, auth_url: str, chunk: int = CHUNK):
        self.chunk = chunk
        self.data = work / "portal"
        self.env = {
            **os.environ,
            "IMSPORTAL_DATA_DIR": str(self.data),
            "ENCRYPTION_KEYS": KEY,
            "CELERY_TASK_DEFAULT_QUEUE": "bench",
            "UPLOAD_MAX_SIZE": str(64 * 1024**3),
            "UPLOAD_MIN_FREE_SPACE": str(512 * MiB),
            "LOG_LEVEL": "WARNING",
        }
        py = sys.executable
        subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=self.env, check=True)
        out = subprocess.run(
            [py, "manage.py", "shell", "-c", SETUP],
            cwd=BASE_DIR,
            env={**self.env, "BENCH_AUTH_URL": auth_url},
            check=True,
            capture_output=True,
            text=True,
        )
        self.session = out.stdout.strip().splitlines()[-1]
        self.csrf = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web = subprocess.Popen(
            [py, "-m", "gunicorn", "imsportal.wsgi", "-b", f"127.0.0.1:{self.port}"]
            + ["-w", "1", "--threads", "4", "--timeout", "900"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                if requests.get(f"{self.url}/login/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        self.web_pid = psutil.Process(self.web.pid).children()[0].pid
        self.worker = subprocess.Popen(
            [py, "-m", "celery", "-A", "imsportal", "worker", "--pool", "threads"]
            + ["--concurrency", "1", "-Q", "bench", "--without-gossip", "--without-mingle"]
            + ["--loglevel", "WARNING"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=on_uploader_cpus,  # noqa: PLW1509 - no threads in this process yet
        )
        self.headers = {
            "Tus-Resumable": "1.0.0",
            "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
        }

    def stop(self) -> None:
        for proc in (self.worker, self.web):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def create(self, size: int, disk_format: str) -> str:
        fields = urlencode(
            {
                "name": "bench-upload",
                "disk_format": disk_format,
                "container_format": "bare",
                "min_disk": 0,
                "min_ram": 0,
                "visibility": "private",
            }
        )
        metadata = f"filename {base64.b64encode(b'bench.raw').decode()},form " + (
            base64.b64encode(fields.encode()).decode()
        )
        resp = requests.post(
            f"{self.url}/p/bench/images/uploads/",
            headers={**self.headers, "Upload-Length": str(size), "Upload-Metadata": metadata},
            timeout=30,
        )
        resp.raise_for_status()
        return self.url + resp.headers["Location"]

    def chunked(self, path: Path, size: int, meter: Meter, disk_format: str = "qcow2") -> float:
        """PATCHes of ``self.chunk`` bytes on one connection, as the page's tus client sends
        them (``_Browser``). By default the file is declared qcow2 and refused at the end
        (no job is queued)."""
        url = self.create(size, disk_format)
        meter.start()  # settling can outlast gunicorn's keep-alive: connect after it
        browser = _Browser(url)
        started = time.perf_counter()
        try:
            with path.open("rb") as f:
                offset = 0
                while offset < size:
                    length = min(self.chunk, size - offset)
                    answer = browser.patch(f, offset, length, self.headers)
                    offset = int(answer["upload-offset"])
            elapsed = time.perf_counter() - started
            meter.stop()
        finally:
            browser.close()
        return elapsed

    def single_patch(
        self, path: Path, size: int, meter: Meter | None, disk_format: str = "qcow2"
    ) -> tuple[float, dict]:
        """curl sends the whole file as one PATCH (streamed from disk); ``meter`` None: not a
        timed transfer (the cloud leg's staging)."""
        url = self.create(size, disk_format)
        cmd = ["curl", "-sS", "-T", str(path), "-X", "PATCH", "-H", "Expect:"]
        for name, value in {
            **self.headers,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        }.items():
            cmd += ["-H", f"{name}: {value}"]
        cmd += ["-D", "-", "-o", "/dev/null", url]
        if meter:
            meter.start()
        started = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=on_uploader_cpus)  # noqa: PLW1509
        elapsed = time.perf_counter() - started
        if meter:
            meter.stop()
        headers = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
        if " 204" not in out.stdout.splitlines()[0]:
            raise RuntimeError(f"curl PATCH failed: {out.stdout} {out.stderr}")
        return elapsed, headers

    def job(self, job_id: int) -> dict:
        with sqlite3.connect(self.data / "portal.sqlite3", timeout=30) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM jobs_job WHERE id = ?", (job_id,)).fetchone()
        return dict(row)


def iso_seconds(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace(" ", "T")).timestamp()


# Free page reporting (virtio-balloon): the kernel hands free memory back to the host, which
# has to fault it in again on the next write. Its counter, where the VM has one.
REPORTED_KIB = Path("/sys/module/page_reporting/parameters/reported_kib")
QUIET = {"seconds": 3.0}  # --settle-quiet


def reported_kib() -> int:
    """KiB of free memory handed back to the host so far (0 where the VM does not)."""
    try:
        return int(REPORTED_KIB.read_text())
    except (OSError, ValueError):
        return 0


def settle(quiet: float | None = None, timeout: float = 120.0) -> bool:
    """Before a timed transfer: put earlier writes on disk, and let the VM hand the memory
    they freed back to its host; False when the counter still moved after ``timeout``.

    On this project's VMs, free memory is reported to the host in bursts about 2 s apart
    (a 2 GiB delete takes about 8 s), and writing 1 GiB into memory not yet reported took
    the kernel 0.15-0.20 s, against 1.5-2.6 s once it was (``dd``). A transfer started
    right after a delete (of the image before it, or of the staged file) ran fast while that
    memory lasted, so which transfer won depended on the one before it: the worker, which
    starts after its file is staged, lost to curl, which started after the worker's deletes.
    So every transfer starts in the VM's steady state: the counter unchanged for ``quiet``
    seconds (longer than the gap between bursts). Without the counter (no such VM), only
    the sync."""
    quiet = QUIET["seconds"] if quiet is None else quiet
    os.sync()
    if not REPORTED_KIB.exists():
        return True
    started = time.monotonic()
    last, since = reported_kib(), started
    while time.monotonic() - started < timeout:
        time.sleep(0.25)
        if (now := reported_kib()) != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return True
    return False


class Meter:
    """What one timed transfer cost: ``start`` settles (``settle``) then reads the counters,
    ``stop`` reads them again. Each transfer calls both right around its timed part."""

    def __init__(self, cpus: dict[str, int]):
        self.cpus = cpus
        self.settled = False
        self.handed_back_mib = 0.0  # memory the VM handed back to its host meanwhile
        self.cpu: dict[str, float] = {}  # CPU seconds of each of ``cpus`` (pids) meanwhile

    def start(self) -> None:
        self.settled = settle()
        self._kib = reported_kib()
        self._cpu = self._cpu_now()

    def stop(self) -> None:
        self.handed_back_mib = (reported_kib() - self._kib) / 1024
        self.cpu = {who: seconds - self._cpu[who] for who, seconds in self._cpu_now().items()}

    def _cpu_now(self) -> dict[str, float]:
        return {who: tree_sum(pid, cpu_seconds) for who, pid in self.cpus.items()}


def cloud_leg(portal: Portal, conn: Connection, path: Path, size: int, meter: Meter) -> float:
    """Stage the file (one PATCH), let the worker send it; seconds from claim to done (the
    worker's create, send and verify: curl's image is created before its clock starts).

    The worker is stopped (SIGSTOP) while the file is staged and until ``meter`` has started
    (settled), so its transfer starts in the same state of disk and memory as the others."""
    portal.worker.send_signal(signal.SIGSTOP)
    try:
        _, headers = portal.single_patch(path, size, None, disk_format="raw")
        meter.start()
    finally:
        portal.worker.send_signal(signal.SIGCONT)
    job_id = int(headers["Imsportal-Job"].rstrip("/").rsplit("/", 1)[1])
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        job = portal.job(job_id)
        if job["status"] in ("success", "failed", "cancelled", "timed_out"):
            break
        time.sleep(0.2)
    meter.stop()
    if job["status"] != "success":
        raise RuntimeError(f"upload job {job_id} ended {job['status']}: {job['last_error']}")
    conn.image.delete_image(job["image_id"])
    return iso_seconds(job["finished_at"]) - iso_seconds(job["started_at"])


def curl_cloud(conn: Connection, token: str, path: Path, meter: Meter) -> float:
    image = conn.image.create_image(name="bench-curl", disk_format="raw", container_format="bare")
    url = f"{conn.image.root}/v2/images/{image.id}/file"
    cmd = ["curl", "-sS", "-T", str(path), "-X", "PUT", "-H", "Expect:"]
    cmd += ["-H", "Content-Type: application/octet-stream", "-H", f"X-Auth-Token: {token}"]
    cmd += ["-o", "/dev/null", "-w", "%{http_code}", url]
    meter.start()
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=on_uploader_cpus)  # noqa: PLW1509
    elapsed = time.perf_counter() - started
    meter.stop()
    conn.image.delete_image(image.id)
    if out.stdout.strip() != "204":
        raise RuntimeError(f"curl upload answered {out.stdout}: {out.stderr[-500:]}")
    return elapsed


def one_round(
    portal: Portal,
    conn: Connection,
    path: Path,
    size: int,
    reverse: bool,
    cpus: dict[str, int],
) -> dict[str, tuple[float, Meter]]:
    """Each of the four transfers of ``path``, one after the other: its seconds and its
    ``Meter``; ``reverse`` runs them in the opposite order, so that none always follows the
    same one."""
    token = conn.auth.get_token()
    transfers: dict[str, Callable[[Meter], float]] = {
        "browser_chunked": lambda m: portal.chunked(path, size, m),
        "browser_single_patch": lambda m: portal.single_patch(path, size, m)[0],
        "cloud_worker": lambda m: cloud_leg(portal, conn, path, size, m),
        "cloud_curl": lambda m: curl_cloud(conn, token, path, m),
    }
    done = {}
    for name in reversed(transfers) if reverse else transfers:
        meter = Meter(cpus)
        done[name] = (transfers[name](meter), meter)
    return done


LEGS = {  # each leg, and its baseline
    "browser leg / one PATCH": ("browser_chunked", "browser_single_patch"),
    "cloud leg / curl -T": ("cloud_worker", "cloud_curl"),
}


def _label(size: int) -> str:
    return f"{size / 1024**3:g} GiB" if size >= 1024**3 else f"{size / MiB:g} MiB"


def _table_row(label: str, rates: dict, rss: str) -> str:
    """One Markdown row: each leg and its baseline (MiB/s) and their ratio, then ``rss``."""
    cells = []
    for one, base in LEGS.values():
        cells += [f"{rates[one]:.1f} MiB/s", f"{rates[base]:.1f} MiB/s"]
        cells.append(f"{rates[one] / rates[base]:.2f}")
    return f"| {label} | {' | '.join(cells)} | {rss} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1G,4G")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, alternating order")
    parser.add_argument("--chunk-mib", type=int, default=CHUNK // MiB, help="tus PATCH size")
    parser.add_argument("--work", default=None, help="directory for the temporary files")
    parser.add_argument(
        "--settle-quiet",
        type=float,
        default=QUIET["seconds"],
        help="seconds the VM's free page reporting must be quiet before each transfer",
    )
    args = parser.parse_args()
    QUIET["seconds"] = args.settle_quiet
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    split_cpus(not args.no_pin)
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-", dir=args.work))
    cloud = portal = None
    try:
        cloud = start_localcloud(work / "localcloud", LOCALCLOUD_MAX_IMAGE_SIZE=str(64 * 1024**3))
        conn = Connection.from_config(cloud.cloud_config(read_timeout=600.0))
        portal = Portal(work, cloud.auth_url, args.chunk_mib * MiB)
        cpus = {"worker": portal.worker.pid, "cloud": cloud.process.pid}
        if UPLOADER_CPUS:
            os.sched_setaffinity(0, UPLOADER_CPUS)  # this process is the browser now
        rows = []
        for size in sizes:
            path = work / "file.raw"
            make_file(path, size)
            mib = size / MiB
            runs: dict[str, list[float]] = {}
            handed_back: dict[str, list[float]] = {}
            cpu: dict[str, dict[str, list[float]]] = {}
            unsettled = 0
            # Rounds alternate the order of the four transfers; the best of each is compared
            # (the noise of a shared machine only ever slows a transfer down).
            for n in range(args.rounds):
                done = one_round(portal, conn, path, size, n % 2, cpus)
                for name, (seconds, meter) in done.items():
                    runs.setdefault(name, []).append(mib / seconds)
                    handed_back.setdefault(name, []).append(round(meter.handed_back_mib))
                    unsettled += not meter.settled
                    for who, cpu_s in meter.cpu.items():
                        cpu.setdefault(name, {}).setdefault(who, []).append(cpu_s / (mib / 1024))
            rows.append(
                {
                    "size": size,
                    **{name: max(rates) for name, rates in runs.items()},
                    "median": {name: statistics.median(rates) for name, rates in runs.items()},
                    "all_runs_mib_s": {k: [round(r, 1) for r in v] for k, v in runs.items()},
                    # A leg's two transfers in one round run back to back, in the same state of
                    # the machine: their ratio, round by round, cancels what drifts in a run.
                    "round_by_round": {
                        leg: [a / b for a, b in zip(runs[one], runs[base], strict=True)]
                        for leg, (one, base) in LEGS.items()
                    },
                    "handed_back_mib": handed_back,
                    "unsettled_starts": unsettled,
                    "cpu_s_per_gib": {
                        name: {who: round(statistics.median(v), 2) for who, v in by.items()}
                        for name, by in cpu.items()
                    },
                    "web_hwm": hwm(portal.web_pid),
                    "worker_hwm": hwm(portal.worker.pid),
                }
            )
            path.unlink()
        print(json.dumps(rows, indent=1))
        print()
        print(
            f"| file | browser leg, {args.chunk_mib} MiB PATCHes | one curl PATCH | ratio "
            "| cloud leg, worker | curl -T | ratio | web peak RSS | worker peak RSS |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            label = _label(r["size"])
            rss = f"{r['web_hwm'] / MiB:.0f} MiB | {r['worker_hwm'] / MiB:.0f} MiB"
            print(_table_row(f"{label}, best", r, rss))
            print(_table_row(f"{label}, median", r["median"], " |"))
        print()
        for r in rows:
            for leg, paired in r["round_by_round"].items():
                print(
                    f"{leg}, {_label(r['size'])}, round by round: "
                    f"{', '.join(f'{x:.2f}' for x in paired)} "
                    f"(median {statistics.median(paired):.2f})"
                )
        for r in rows:
            worker, curl = r["cpu_s_per_gib"]["cloud_worker"], r["cpu_s_per_gib"]["cloud_curl"]
            print(
                f"CPU seconds per GiB sent (median), {_label(r['size'])}: cloud leg, worker "
                f"{worker['worker']:.2f} and local cloud {worker['cloud']:.2f}; curl -T, local "
                f"cloud {curl['cloud']:.2f}"
            )
        if len(rows) > 1:
            print(
                f"\npeak RSS growth from the first to the last size: web "
                f"{(rows[-1]['web_hwm'] - rows[0]['web_hwm']) / MiB:.1f} MiB, worker "
                f"{(rows[-1]['worker_hwm'] - rows[0]['worker_hwm']) / MiB:.1f} MiB"
            )
        if REPORTED_KIB.exists():
            print("\nmemory handed back to the host during a timed transfer, most in a round:")
            for r in rows:
                most = {name: max(v) for name, v in r["handed_back_mib"].items()}
                print(
                    f"- {_label(r['size'])}: browser leg {most['browser_chunked']}, one PATCH "
                    f"{most['browser_single_patch']}, cloud leg {most['cloud_worker']}, curl -T "
                    f"{most['cloud_curl']} MiB; transfers whose settle timed out: "
                    f"{r['unsettled_starts']}"
                )
    finally:
        if portal:
            portal.stop()
        if cloud:
            cloud.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
