"""Load on the portal: operators browsing, job-status pollers and tus uploads, all at once.

    .venv/bin/python bench/load.py            # 50 operators, 200 pollers, 5 uploads, 60 s
    .venv/bin/python bench/load.py --quick    # 5 operators, 20 pollers, 1 upload, 10 s

Targets (issue 9): poll fragment p95 < 100 ms with 200 pollers; list pages p95 < 1 s at 50
operators against the local cloud; zero errors; portal RSS flat (end of the measured phase
within 10 % of its start). A threaded server's RSS first steps up while the load makes it start
threads, each with its own database connection and caches (in the printed series, by a quarter
over the first 50 s of load, then level), so the default warm-up of 60 s lets that step pass
before the measured phase starts. The exit status is 0 whenever the run completed and printed its
table, met or not (this machine is shared and noisy); ``--strict`` makes a missed target exit 1.

One process run, loopback only, bounded in count and time, and it stops by itself:

- Starts its own local cloud (tests/localcloud_server.py) and its own portal in a temporary
  data folder, served exactly as ``make run`` serves it (gunicorn ``imsportal.wsgi`` with
  imsportal/embedded.py's ``web_server_args``: the same worker class, threads and workers,
  and its children's MALLOC_ARENA_MAX; ``--web-workers N`` changes only the worker count).
  No Celery worker: nothing here queues a task (the pollers read Job rows, the uploads never
  complete). The folder is prepared, migrated, ``sync_cloud_project`` registers the local
  cloud's ``owner`` and ``partner``, one user gets operator+approver in both, and
  ``--jobs`` running Job rows are created in ``owner`` for the pollers.
- Logs ``--sessions`` browsers in through the real login form (CSRF token, session cookie).
  Each operator is one browser; pollers and uploads are further tabs of those browsers
  (round robin), each with its own keep-alive connection.
- Baseline, before any load: one client fetches every page ``--baseline-requests`` times
  in turn (after two uncounted fetches of each), no think time.
- Loaded phase: after ``--warmup`` seconds, ``--duration`` seconds are measured.
  - Operators GET every page of this list, each operator in its own random order, again
    and again: ``/p/owner/images/``, ``/p/owner/images/?name=<seeded name>``,
    ``/p/owner/images/cloud/``, ``/p/owner/images/shared/``, ``/p/owner/jobs/`` and
    ``/p/owner/images/<seeded id>/`` (skipped, and said so, when it answers 404 at start),
    as full pages, each followed by a think time, uniform random in 1-3 s (``--think``).
  - Pollers GET ``/p/owner/jobs/<pk>/status`` with ``HX-Request: true`` every 2 s
    (``--poll-interval``; fixed rate from a random phase, one request in flight per poller,
    as htmx's ``every 2s``).
  - Uploads go through the portal's tus endpoint (POST ``/p/owner/images/uploads/``, then
    PATCHes of ``--chunk-mib`` to the Location), each paced to ``--upload-mibps`` like a
    browser on a network, all but the last chunk of ``--upload-mib``, then DELETE (tus
    termination) and again: always in flight, never handed to a worker, no disk growth.
    Skipped, and said so, when the endpoint answers 404 at start.
- Prints per page p50/p95/p99 under load, the unloaded p50/p95, the ratio of loaded to
  unloaded p95, 4xx counts and errors (status >= 500, connection errors, timeouts), and the
  portal's RSS (gunicorn master + workers, psutil) at start, middle and end of the loaded
  phase, and every 5 s from the first request with the thread count, and the load average
  of the machine (other work on it shows there).

The clients are a small HTTP/1.1 keep-alive client over asyncio streams (Content-Length and
chunked bodies); a request on a reused connection that the server closed while idle
(gunicorn's keep-alive is 2 s) is sent again once on a new connection, as browsers do.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.procs import cpu_seconds, tree_sum  # noqa: E402
from imsportal.cloudapi import Connection  # noqa: E402
from imsportal.embedded import child_env_defaults, wait_for_port, web_server_args  # noqa: E402
from tests.localcloud_server import free_port, start_localcloud  # noqa: E402

MIB = 1024 * 1024
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0
LIST_PAGES = ("images", "images?name", "cloud", "shared", "jobs")
POLL_TARGET_MS = 100.0
LIST_TARGET_MS = 1000.0
RSS_FLAT = 0.10  # end of the measured phase within 10 % of its start
RSS_EVERY = 5.0  # seconds between RSS samples in the printed series

# Runs in the portal's Django (manage.py shell -c; one process start instead of three): what
# `make run` does after migrating, for a bench user, then the pollers' running jobs.
SETUP_CODE = """
from django.core.management import call_command
from jobs.models import Job
from imsportal.projects.models import CloudProject
call_command("sync_cloud_project")
call_command(
    "create_user", {username!r}, "--project", "owner", "--project", "partner",
    "--role", "operator", "--role", "approver", "--password-file", {password_file!r},
)
project = CloudProject.objects.get(slug="owner")
Job.objects.bulk_create(
    Job(project=project, kind="upload", status="running", title=f"bench-load-{{i}}",
        progress=i % 100)
    for i in range({count})
)
print(" ".join(str(pk) for pk in Job.objects.filter(
    project=project, title__startswith="bench-load-").values_list("pk", flat=True)))
"""


# ---------------------------------------------------------------------------------------
# A small HTTP/1.1 keep-alive client


class HttpError(Exception):
    """A connection error, a timeout or a malformed answer (counted as an error)."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; Set-Cookie values joined by "\n"
    body: bytes


class Browser:
    """One logged-in browser: its cookies (shared by its tabs)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def take_cookies(self, headers: dict[str, str]) -> None:
        for line in headers.get("set-cookie", "").split("\n"):
            if "=" in line:
                name, _, rest = line.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0].strip()

    @property
    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")


class Client:
    """One tab: one keep-alive connection, the browser's cookies."""

    def __init__(self, port: int, browser: Browser):
        self.port = port
        self.browser = browser
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        pace: float = 0.0,
    ) -> Response:
        """Send one request; ``pace`` (bytes/s) sends the body as a network of that speed."""
        try:
            return await asyncio.wait_for(
                self._request(method, path, headers or {}, body, pace), REQUEST_TIMEOUT
            )
        except TimeoutError:
            await self.close()
            raise HttpError(f"{method} {path}: no answer in {REQUEST_TIMEOUT:.0f} s") from None

    async def _request(self, method, path, headers, body, pace) -> Response:
        reused = self.writer is not None
        if reused and self.reader.at_eof():
            await self.close()
            reused = False
        try:
            return await self._exchange(method, path, headers, body, pace)
        except (OSError, asyncio.IncompleteReadError, HttpError) as e:
            await self.close()
            # The server may close an idle keep-alive connection just as we send: a fresh
            # connection gets one more try, as a browser does. A fresh one failing counts.
            if reused and getattr(e, "before_answer", False):
                try:
                    return await self._exchange(method, path, headers, body, pace)
                except (OSError, asyncio.IncompleteReadError, HttpError) as e2:
                    await self.close()
                    raise HttpError(f"{method} {path}: {e2!r}") from None
            raise HttpError(f"{method} {path}: {e!r}") from None

    async def _exchange(self, method, path, headers, body, pace) -> Response:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        cookie = "; ".join(f"{k}={v}" for k, v in self.browser.cookies.items())
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        all_headers = {"Content-Length": str(len(body)), **headers}
        if cookie:
            all_headers["Cookie"] = cookie
        lines += [f"{k}: {v}" for k, v in all_headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.writer.write(head)
            await self._send_body(body, pace)
            status_line = await self.reader.readline()
        except (OSError, asyncio.IncompleteReadError) as e:
            e.before_answer = True
            raise
        if not status_line:
            err = HttpError("connection closed before an answer")
            err.before_answer = True
            raise err
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise HttpError(f"bad status line {status_line!r}")
        status = int(parts[1])
        resp_headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            resp_headers[name] = f"{resp_headers[name]}\n{value}" if name in resp_headers else value
        data = await self._read_body(method, status, resp_headers)
        self.browser.take_cookies(resp_headers)
        if resp_headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, resp_headers, data)

    async def _send_body(self, body: bytes, pace: float) -> None:
        if not pace:
            self.writer.write(body)
            await self.writer.drain()
            return
        piece = 256 * 1024
        started = time.monotonic()
        for at in range(0, len(body), piece):
            self.writer.write(body[at : at + piece])
            await self.writer.drain()
            ahead = (at + piece) / pace - (time.monotonic() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)

    async def _read_body(self, method: str, status: int, headers: dict[str, str]) -> bytes:
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size_line = await self.reader.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
        if "content-length" in headers:
            return await self.reader.readexactly(int(headers["content-length"]))
        data = await self.reader.read()  # no length: the body ends with the connection
        await self.close()
        return data


# ---------------------------------------------------------------------------------------
# Figures


@dataclass
class Stats:
    times: list[float] = field(default_factory=list)  # seconds, answered with 2xx/3xx
    client_errors: int = 0  # 4xx
    errors: int = 0  # >= 500, connection errors, timeouts
    examples: list[str] = field(default_factory=list)

    def add(self, seconds: float, status: int | None, what: str = "") -> None:
        if status is None or status >= 500:
            self.errors += 1
            if len(self.examples) < 3:
                self.examples.append(what or str(status))
        elif status >= 400:
            self.client_errors += 1
            if len(self.examples) < 3:
                self.examples.append(f"{status} {what}")
        else:
            self.times.append(seconds)

    def pct(self, p: int) -> float | None:
        if not self.times:
            return None
        if len(self.times) == 1:
            return self.times[0] * 1000
        return statistics.quantiles(self.times, n=100, method="inclusive")[p - 1] * 1000


class Recorder:
    """Per-page figures; only requests started inside the measured window count."""

    def __init__(self) -> None:
        self.pages: dict[str, Stats] = {}
        self.window: tuple[float, float] | None = None

    def counts(self, started: float) -> bool:
        if self.window is None:
            return False
        return self.window[0] <= started < self.window[1]

    def add(self, page: str, started: float, status: int | None, what: str = "") -> None:
        if self.counts(started):
            self.pages.setdefault(page, Stats()).add(time.monotonic() - started, status, what)


async def timed(
    rec: Recorder, page: str, client: Client, method: str, path: str, **kw
) -> Response | None:
    started = time.monotonic()
    try:
        resp = await client.request(method, path, **kw)
    except HttpError as e:
        rec.add(page, started, None, str(e))
        return None
    rec.add(page, started, resp.status, f"{method} {path}")
    return resp


# ---------------------------------------------------------------------------------------
# The portal under test


class Portal:
    """A local cloud and a portal (gunicorn as ``make run`` serves it) in a data folder."""

    def __init__(self, work: Path):
        self.work = work
        self.cloud = None
        self.web: subprocess.Popen | None = None
        self.port = free_port()
        self.env: dict[str, str] = {}

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed: {out.stderr[-3000:]}")
        return out.stdout

    def start(
        self, username: str, password: str, jobs: int, workers: int | None, serve: bool = True
    ) -> list[int]:
        """Local cloud, data folder, user and ``jobs`` running jobs; with ``serve``, gunicorn."""
        self.cloud = start_localcloud(self.work / "localcloud")
        env = dict(os.environ)
        # The embedded defaults, as `make run` on a fresh machine (nothing from a test run).
        for name in (
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "CELERY_RESULT_BACKEND",
            "CLOUD_AUTH_URL",
            "CLOUD_IMAGE_ENDPOINT",
            "SECRET_KEY",
            "ENCRYPTION_KEYS",
            "LOCALCLOUD_DATA_DIR",
            "LOCALCLOUD_ADMIN_TOKEN",
            "STATIC_ROOT",
        ):
            env.pop(name, None)
        cloud_host, cloud_port = self.cloud.url.removeprefix("http://").split(":")
        env.update(child_env_defaults(env))  # as make run starts its children
        env.update(
            DJANGO_SETTINGS_MODULE="imsportal.settings",
            IMSPORTAL_DATA_DIR=str(self.work / "portal"),
            LOCALCLOUD_HOST=cloud_host,
            LOCALCLOUD_PORT=cloud_port,
            PORTAL_HOST=HOST,
            PORTAL_PORT=str(self.port),
        )
        self.env = env
        subprocess.run(
            [sys.executable, "-m", "imsportal.prepare"],
            cwd=BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
        )
        self.manage("migrate", "--noinput", "-v", "0")
        secret = self.work / "password"
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(password)
        code = SETUP_CODE.format(username=username, password_file=str(secret), count=jobs)
        out = self.manage("shell", "-c", code)
        job_ids = [int(pk) for pk in out.strip().splitlines()[-1].split()]
        if not serve:
            return job_ids
        log = open(self.work / "portal.log", "ab")  # noqa: SIM115 - closed with the process
        self.web = subprocess.Popen(
            [sys.executable, *web_args(self.port, workers)],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if not wait_for_port(HOST, self.port, 60, self.web):
            raise RuntimeError(f"the portal did not start: {self.log_tail()}")
        return job_ids

    def log_tail(self) -> str:
        try:
            return (self.work / "portal.log").read_text()[-3000:]
        except OSError:
            return ""

    def rss_mib(self) -> float:
        """RSS of the gunicorn master and its workers."""
        return tree_sum(self.web.pid, lambda p: p.memory_info().rss) / MIB

    def thread_count(self) -> int:
        return int(tree_sum(self.web.pid, lambda p: p.num_threads()))

    def cpu_seconds(self) -> float:
        return tree_sum(self.web.pid, cpu_seconds)

    def cloud_cpu_seconds(self) -> float:
        return tree_sum(self.cloud.process.pid, cpu_seconds)

    def stop(self) -> None:
        if self.web is not None and self.web.poll() is None:
            self.web.terminate()
            try:
                self.web.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.web.kill()
        if self.cloud is not None:
            self.cloud.stop()


def web_args(port: int, workers: int | None) -> list[str]:
    """``make run``'s gunicorn command line; ``workers`` overrides its worker count."""
    args = web_server_args(HOST, port)
    if workers:
        args[args.index("--workers") + 1] = str(workers)
    return args


def seeded_images(portal: Portal) -> list[tuple[str, str]]:
    """(id, name) of the owner's images in the local cloud, read with the shared client."""
    conn = Connection.from_config(portal.cloud.cloud_config())
    return [(image.id, image.name) for image in conn.image.images(limit=100)]


# ---------------------------------------------------------------------------------------
# Virtual users


async def login(port: int, username: str, password: str) -> Browser:
    browser = Browser()
    client = Client(port, browser)
    try:
        form = await client.request("GET", "/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        if form.status != 200 or not match:
            raise RuntimeError(f"login form: {form.status}")
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": match.group(1).decode(),
                "username": username,
                "password": password,
                "next": "/",
            }
        ).encode()
        resp = await client.request(
            "POST",
            "/login/",
            {"Content-Type": "application/x-www-form-urlencoded"},
            body,
        )
        if resp.status != 302 or "sessionid" not in browser.cookies:
            raise RuntimeError(f"login answered {resp.status} without a session")
    finally:
        await client.close()
    return browser


@dataclass
class Plan:
    pages: dict[str, list[str]]  # page label -> paths to pick from
    poll_paths: list[str]
    upload: bool
    notes: list[str]


async def operator(port, browser, plan: Plan, rec: Recorder, think, stop_at) -> None:
    client = Client(port, browser)
    labels = list(plan.pages)
    await asyncio.sleep(random.uniform(0, think[1]))  # arrivals spread over one think time
    tour: list[str] = []
    try:
        while time.monotonic() < stop_at:
            if not tour:  # every page once, in a random order, then again
                tour = random.sample(labels, len(labels))
            label = tour.pop()
            await timed(rec, label, client, "GET", random.choice(plan.pages[label]))
            await asyncio.sleep(random.uniform(*think))
    finally:
        await client.close()


async def poller(port, browser, path: str, rec: Recorder, interval: float, stop_at) -> None:
    client = Client(port, browser)
    headers = {"HX-Request": "true", "HX-Current-URL": f"http://{HOST}:{port}/p/owner/jobs/"}
    next_at = time.monotonic() + random.uniform(0, interval)
    try:
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= stop_at:
                return
            next_at += interval
            await timed(rec, "poll", client, "GET", path, headers=headers)
            next_at = max(next_at, time.monotonic())  # one in flight, no burst to catch up
    finally:
        await client.close()


def tus_metadata(name: str) -> str:
    form = urllib.parse.urlencode(
        {
            "name": name,
            "disk_format": "raw",
            "container_format": "bare",
            "min_disk": "0",
            "min_ram": "0",
            "visibility": "private",
        }
    )
    pairs = {"filename": f"{name}.raw", "filetype": "application/octet-stream", "form": form}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


async def tus_create(client: Client, slug: str, length: int, name: str) -> Response:
    return await client.request(
        "POST",
        f"/p/{slug}/images/uploads/",
        {
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(length),
            "Upload-Metadata": tus_metadata(name),
            "X-CSRFToken": client.browser.csrf,
        },
    )


async def uploader(
    port, browser, n: int, rec: Recorder, size: int, chunk: bytes, pace: float, stop_at, moved
) -> None:
    client = Client(port, browser)
    tus = {"Tus-Resumable": "1.0.0"}
    await asyncio.sleep(random.uniform(0, 1))
    try:
        while time.monotonic() < stop_at:
            tus["X-CSRFToken"] = browser.csrf
            resp = await timed(
                rec, "tus POST", client, "POST", "/p/owner/images/uploads/",
                headers={**tus, "Upload-Length": str(size),
                         "Upload-Metadata": tus_metadata(f"bench-load-{n}")},
            )  # fmt: skip
            if resp is None or resp.status != 201:
                await asyncio.sleep(1)
                continue
            location = resp.headers["location"]
            offset = 0
            # All but the last chunk: the upload never completes, so no job and no worker.
            while offset + len(chunk) < size and time.monotonic() < stop_at:
                started = time.monotonic()
                resp = await timed(
                    rec, "tus PATCH", client, "PATCH", location, body=chunk, pace=pace,
                    headers={**tus, "Upload-Offset": str(offset),
                             "Content-Type": "application/offset+octet-stream"},
                )  # fmt: skip
                if resp is None or resp.status != 204:
                    break
                offset = int(resp.headers.get("upload-offset", offset + len(chunk)))
                if rec.counts(started):
                    moved[0] += len(chunk)
            await timed(rec, "tus DELETE", client, "DELETE", location, headers=tus)
    finally:
        await client.close()


# ---------------------------------------------------------------------------------------
# The run


async def probe(port: int, browser: Browser, images: list[tuple[str, str]], notes) -> Plan:
    """Which pages exist here: the detail page and tus may not be merged yet."""
    client = Client(port, browser)
    name = images[0][1] if images else "ubuntu"
    pages = {
        "images": ["/p/owner/images/"],
        "images?name": [
            f"/p/owner/images/?name={urllib.parse.quote(n)}" for _, n in images[:5]
        ] or [f"/p/owner/images/?name={urllib.parse.quote(name)}"],
        "cloud": ["/p/owner/images/cloud/"],
        "shared": ["/p/owner/images/shared/"],
        "jobs": ["/p/owner/jobs/"],
    }  # fmt: skip
    try:
        for paths in pages.values():
            resp = await client.request("GET", paths[0])
            if resp.status != 200:
                raise RuntimeError(f"GET {paths[0]} answered {resp.status} at start")
        details = [f"/p/owner/images/{image_id}/" for image_id, _ in images]
        if details:
            resp = await client.request("GET", details[0])
            if resp.status == 200:
                pages["detail"] = details
            else:
                notes.append(f"image detail pages skipped: GET {details[0]} answered {resp.status}")
        resp = await tus_create(client, "owner", 1, "bench-load-probe")
        upload = resp.status == 201
        if upload:
            await client.request(
                "DELETE",
                resp.headers["location"],
                {"Tus-Resumable": "1.0.0", "X-CSRFToken": browser.csrf},
            )
        else:
            notes.append(
                f"upload load skipped: tus POST /p/owner/images/uploads/ answered {resp.status}"
            )
    finally:
        await client.close()
    return Plan(pages, [], upload, notes)


async def baseline(port: int, browser: Browser, plan: Plan, requests: int) -> dict[str, Stats]:
    """Every page alone, one client, no think time: the same run's unloaded figures."""
    rec = Recorder()
    client = Client(port, browser)
    targets = {label: paths for label, paths in plan.pages.items()}
    targets["poll"] = plan.poll_paths
    hx = {"HX-Request": "true"}
    try:
        for label, paths in targets.items():  # warm-up, not counted
            for path in paths[:2]:
                await client.request("GET", path, hx if label == "poll" else None)
        rec.window = (time.monotonic(), float("inf"))
        for n in range(requests):
            for label, paths in targets.items():  # in turn: drift hits every page alike
                path = paths[n % len(paths)]
                await timed(
                    rec, label, client, "GET", path, headers=hx if label == "poll" else None
                )
    finally:
        await client.close()
    return rec.pages


async def loaded(args, portal: Portal, browsers: list[Browser], plan: Plan) -> dict:
    rec = Recorder()
    start = time.monotonic()
    window_start = start + args.warmup
    stop_at = window_start + args.duration
    rec.window = (window_start, stop_at)
    moved = [0]
    chunk = os.urandom(args.chunk_mib * MIB)
    tasks = []
    for n in range(args.operators):
        browser = browsers[n % len(browsers)]
        tasks.append(operator(portal.port, browser, plan, rec, args.think, stop_at))
    for n in range(args.pollers):
        browser = browsers[n % len(browsers)]
        path = plan.poll_paths[n % len(plan.poll_paths)]
        tasks.append(poller(portal.port, browser, path, rec, args.poll_interval, stop_at))
    if plan.upload:
        for n in range(args.uploads):
            browser = browsers[n % len(browsers)]
            tasks.append(
                uploader(portal.port, browser, n, rec, args.upload_mib * MIB, chunk,
                         args.upload_mibps * MIB, stop_at, moved)
            )  # fmt: skip
    running = [asyncio.ensure_future(t) for t in tasks]
    rss, cpu, load = {}, {}, {}

    async def sample(label: str, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        rss[label] = portal.rss_mib()
        cpu[label] = (
            portal.cpu_seconds(),
            time.process_time(),
            time.monotonic(),
            portal.cloud_cpu_seconds(),
        )
        load[label] = os.getloadavg()[0]

    async def series(every: float) -> None:
        while (now := time.monotonic()) < stop_at:
            rss_series.append((now - start, portal.rss_mib(), portal.thread_count()))
            await asyncio.sleep(every)

    rss_series: list[tuple[float, float, int]] = []
    samplers = [
        series(RSS_EVERY),
        sample("start", window_start),
        sample("middle", window_start + args.duration / 2),
        sample("end", stop_at),
    ]
    await asyncio.gather(*samplers)
    # Users finish the request in flight (bounded by the request timeout), then stop.
    done, pending = await asyncio.wait(running, timeout=REQUEST_TIMEOUT + 5)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            raise task.exception()
    span = cpu["end"][2] - cpu["start"][2]
    return {
        "pages": rec.pages,
        "rss": rss,
        "rss_series": rss_series,
        "load": load,
        "portal_cpu": (cpu["end"][0] - cpu["start"][0]) / span,
        "bench_cpu": (cpu["end"][1] - cpu["start"][1]) / span,
        "cloud_cpu": (cpu["end"][3] - cpu["start"][3]) / span,
        "upload_mibps": moved[0] / MIB / args.duration,
    }


def fmt(ms: float | None) -> str:
    return "     -" if ms is None else f"{ms:6.0f}" if ms >= 100 else f"{ms:6.1f}"


def report(args, plan: Plan, base: dict[str, Stats], result: dict, load_before) -> list[bool]:
    pages = result["pages"]
    order = [*plan.pages, "poll", "tus POST", "tus PATCH", "tus DELETE"]
    print()
    print(
        f"== {args.operators} operators, {args.pollers} pollers, "
        f"{args.uploads if plan.upload else 0} uploads; {args.duration:g} s measured after "
        f"{args.warmup:g} s warm-up (ms)"
    )
    print(
        f"  {'page':<11} {'n':>5} {'p50':>6} {'p95':>6} {'p99':>6} |"
        f" {'alone n':>7} {'p50':>6} {'p95':>6} | {'p95 x':>6} | {'4xx':>4} {'errors':>6}"
    )
    total_errors = 0
    for label in order:
        s = pages.get(label, Stats())
        b = base.get(label)
        if label not in pages and b is None:
            continue
        total_errors += s.errors
        ratio = "     -"
        if b is not None and s.pct(95) is not None and b.pct(95):
            ratio = f"{s.pct(95) / b.pct(95):6.1f}"
        print(
            f"  {label:<11} {len(s.times):>5} {fmt(s.pct(50))} {fmt(s.pct(95))} {fmt(s.pct(99))} |"
            f" {len(b.times) if b else 0:>7} {fmt(b.pct(50) if b else None)}"
            f" {fmt(b.pct(95) if b else None)} | {ratio} | {s.client_errors:>4} {s.errors:>6}"
        )
    examples = [e for s in pages.values() for e in s.examples]
    for example in examples[:5]:
        print(f"    e.g. {example}")
    if plan.upload:
        print(f"  uploads moved {result['upload_mibps']:.1f} MiB/s in all through tus PATCH")
    rss = result["rss"]
    print(
        f"  portal RSS (gunicorn master + workers): start {rss['start']:.0f} MiB,"
        f" middle {rss['middle']:.0f} MiB, end {rss['end']:.0f} MiB"
    )
    print(
        f"  portal RSS every {RSS_EVERY:.0f} s from the first request (s: MiB/threads): "
        + ", ".join(f"{t:.0f}: {m:.0f}/{n}" for t, m, n in result["rss_series"])
    )
    load = result["load"]
    print(
        f"  CPU during the loaded phase: portal {result['portal_cpu']:.2f} cores,"
        f" local cloud {result['cloud_cpu']:.2f}, this bench's clients"
        f" {result['bench_cpu']:.2f}, of {os.cpu_count()}"
    )
    print(
        f"  load average (1 min): {load_before:.1f} before the run; {load['start']:.1f},"
        f" {load['middle']:.1f}, {load['end']:.1f} at start/middle/end of the loaded phase"
    )
    for note in plan.notes:
        print(f"  note: {note}")

    poll95 = pages.get("poll", Stats()).pct(95)
    list95 = [pages.get(label, Stats()).pct(95) for label in LIST_PAGES]
    worst = max((p for p in list95 if p is not None), default=None)
    flat = rss["end"] <= rss["start"] * (1 + RSS_FLAT)
    checks = [
        (f"poll fragment p95 < {POLL_TARGET_MS:.0f} ms with {args.pollers} pollers",
         poll95 is not None and poll95 < POLL_TARGET_MS, f"{fmt(poll95).strip()} ms"),
        (f"list pages p95 < {LIST_TARGET_MS / 1000:.0f} s at {args.operators} operators",
         worst is not None and worst < LIST_TARGET_MS and None not in list95,
         f"worst {fmt(worst).strip()} ms"),
        ("zero errors", total_errors == 0, f"{total_errors}"),
        (f"portal RSS flat (end within {RSS_FLAT:.0%} of start)", flat,
         f"{rss['start']:.0f} -> {rss['middle']:.0f} -> {rss['end']:.0f} MiB"),
    ]  # fmt: skip
    print("\n== targets (issue 9)")
    for text, met, figure in checks:
        print(f"  {'met    ' if met else 'NOT met'}  {text}: {figure}")
    return [met for _, met, _ in checks]


async def run(args, portal: Portal, username: str, password: str, job_ids, images) -> list[bool]:
    load_before = os.getloadavg()[0]
    notes: list[str] = []
    sem = asyncio.Semaphore(4)  # password hashing is the cost of a login: a few at a time

    async def one_login() -> Browser:
        async with sem:
            return await login(portal.port, username, password)

    started = time.monotonic()
    browsers = await asyncio.gather(*(one_login() for _ in range(args.sessions)))
    print(f"{len(browsers)} sessions logged in ({time.monotonic() - started:.1f} s)", flush=True)
    plan = await probe(portal.port, browsers[0], images, notes)
    plan.poll_paths = [f"/p/owner/jobs/{pk}/status" for pk in job_ids]
    print(f"baseline: {args.baseline_requests} requests per page, one client", flush=True)
    base = await baseline(portal.port, browsers[0], plan, args.baseline_requests)
    print(f"loaded phase: {args.warmup:g} s warm-up, {args.duration:g} s measured", flush=True)
    result = await loaded(args, portal, browsers, plan)
    return report(args, plan, base, result, load_before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="5 operators, 20 pollers, 1 upload, 10 s"
    )
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=5)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before measuring")
    parser.add_argument("--sessions", type=int, help="browsers logged in (default: operators)")
    parser.add_argument("--jobs", type=int, help="running jobs polled (default: pollers)")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--poll-interval", type=float, default=2.0)
    parser.add_argument("--upload-mib", type=int, default=256, help="size of each tus upload")
    parser.add_argument("--chunk-mib", type=int, default=64, help="tus PATCH size (the page's)")
    parser.add_argument("--upload-mibps", type=float, default=10.0, help="pace of each upload")
    parser.add_argument("--baseline-requests", type=int, default=20, help="per page, alone")
    parser.add_argument(
        "--web-workers",
        type=int,
        help="gunicorn workers (default: make run's, WEB_WORKERS or one per CPU)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--work-dir", type=Path, help="default: a temporary dir under var/")
    args = parser.parse_args()
    if args.quick:
        args.operators, args.pollers, args.uploads = 5, 20, 1
        args.duration, args.warmup, args.baseline_requests = 10.0, 3.0, 5
        args.upload_mib, args.chunk_mib = 16, 4
    args.sessions = max(1, args.sessions or args.operators)
    args.jobs = max(1, args.jobs or args.pollers)
    if args.chunk_mib >= args.upload_mib:
        parser.error("--chunk-mib must be smaller than --upload-mib")

    (BASE_DIR / "var").mkdir(exist_ok=True)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-load-", dir=BASE_DIR / "var"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work dir {work}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    portal = Portal(work)
    username, password = "bench-operator", base64.urlsafe_b64encode(os.urandom(18)).decode()
    try:
        started = time.monotonic()
        job_ids = portal.start(username, password, args.jobs, args.web_workers)
        images = seeded_images(portal)
        gunicorn = " ".join(web_args(portal.port, args.web_workers)[3:])
        print(
            f"portal on http://{HOST}:{portal.port}/ (gunicorn {gunicorn}),"
            f" local cloud at {portal.cloud.url}; {len(job_ids)} running jobs,"
            f" {len(images)} seeded images ({time.monotonic() - started:.1f} s to set up)",
            flush=True,
        )
        met = asyncio.run(run(args, portal, username, password, job_ids, images))
    finally:
        portal.stop()
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if args.strict and not all(met) else 0


if __name__ == "__main__":
    sys.exit(main())
