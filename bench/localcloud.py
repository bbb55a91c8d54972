"""Benchmark the local cloud's Glance v2 against the physical limit and a real Glance.

    .venv/bin/python bench/localcloud.py [--images 10000] [--size-mib 1024] [--runs 3]

Measured in one run, on one disk (everything lives under one work directory):
- ``GET /v2/images?limit=25`` p50/p95 with 10,000 images in the local cloud's database
  (rows created through its Django ORM, in a subprocess against the bench's own data dir),
  and, where the real-Glance harness is installed, the same list on a real Glance holding
  10,000 rows inserted into its SQLite;
- 1 GiB upload and download throughput through the local cloud, next to a plain ``cp`` of the
  same file on the same disk (the physical limit) and next to a real Glance given the same
  upload (tests/realglance.py; installed on first use, skipped with --no-glance);
- peak server RSS during the 1 GiB upload: /proc/<pid>/status VmRSS of the server processes
  (gunicorn master and worker), sampled every 20 ms, plus the worker's VmHWM afterwards.

Uploads and downloads go through ``curl`` (a separate process: the benchmark's own Python does
not compete for the CPU), with Content-Length and without ``Expect: 100-continue``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from imsportal.cloudapi import Connection  # noqa: E402
from tests.localcloud_server import start_localcloud  # noqa: E402
from tests.realglance import GlanceUnavailable, start_glance  # noqa: E402

MIB = 1024 * 1024
OCTET = {"Content-Type": "application/octet-stream"}

# Runs inside the local cloud's Django (``python -m imsportal.localcloud shell -c``).
SEED_CODE = """
import hashlib, os
from datetime import datetime, timedelta, UTC
from imsportal.localcloud.models import Image
owner, count = {owner!r}, {count}
start = datetime(2025, 1, 1, tzinfo=UTC)
rows = []
for i in range(count):
    at = start + timedelta(seconds=i)
    rows.append(Image(
        name=f"bench-{{i:05d}}", status="active", visibility=("private", "shared")[i % 2],
        owner=owner, container_format="bare", disk_format=("qcow2", "raw")[i % 2],
        size=1024 * (i + 1), virtual_size=1024 * (i + 1),
        checksum=hashlib.md5(str(i).encode()).hexdigest(), os_hash_algo="sha512",
        os_hash_value=hashlib.sha512(str(i).encode()).hexdigest(),
        tags=["bench", f"t{{i % 10}}"], properties={{"os_distro": "ubuntu", "n": str(i)}},
        created_at=at, updated_at=at,
    ))
Image.objects.bulk_create(rows, batch_size=2000)
print(Image.objects.filter(owner=owner).count())
"""


@dataclass
class Server:
    name: str
    images_url: str  # .../v2/images
    headers: dict[str, str]
    pid: int
    timings: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Process memory


def tree_pids(root: int) -> list[int]:
    """root and its descendants (gunicorn: the master and its worker)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes, in seconds (less sensitive to a busy machine than wall)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    """Samples VmRSS of a process tree until stopped; keeps per-process and total peaks."""

    def __init__(self, root: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.pids = tree_pids(root)
        self.interval = interval
        self.before = {pid: status_kib(pid, "VmRSS") for pid in self.pids}
        self.peak = dict(self.before)
        self.peak_total = sum(self.before.values())
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            values = {pid: status_kib(pid, "VmRSS") for pid in self.pids}
            for pid, kib in values.items():
                self.peak[pid] = max(self.peak[pid], kib)
            self.peak_total = max(self.peak_total, sum(values.values()))
            self.samples += 1
            self._done.wait(self.interval)

    def stop(self) -> dict[str, float]:
        self._done.set()
        self.join()
        worker = max(self.pids, key=lambda p: self.peak[p])  # the process serving the request
        return {
            "rss_before_mib": sum(self.before.values()) / 1024,
            "rss_peak_total_mib": self.peak_total / 1024,
            "rss_peak_worker_mib": self.peak[worker] / 1024,
            "rss_worker_before_mib": self.before[worker] / 1024,
            "hwm_worker_mib": status_kib(worker, "VmHWM") / 1024,
            "samples": self.samples,
        }


# ---------------------------------------------------------------------------------------
# Data transfer


def curl(*args: str, output: str = "/dev/null") -> tuple[int, float]:
    """Runs curl; returns (HTTP status, seconds)."""
    out = subprocess.run(
        ["curl", "-sS", "-o", output, "-w", "%{http_code} %{time_total}", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    code, seconds = out.stdout.split()
    return int(code), float(seconds)


def header_args(headers: dict[str, str]) -> list[str]:
    return [a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]


def create_image(server: Server, name: str) -> str:
    body = {"name": name, "disk_format": "raw", "container_format": "bare"}
    r = requests.post(server.images_url, json=body, headers=server.headers, timeout=30)
    r.raise_for_status()
    return r.json()["id"]


def upload(server: Server, image_id: str, source: Path) -> tuple[float, dict[str, float]]:
    sampler = RssSampler(server.pid)
    cpu_before = cpu_seconds(sampler.pids)
    sampler.start()
    try:
        code, seconds = curl(
            "-X",
            "PUT",
            "-T",
            str(source),
            "-H",
            "Expect:",
            "-H",
            "Content-Type: application/octet-stream",
            *header_args(server.headers),
            f"{server.images_url}/{image_id}/file",
        )
    finally:
        memory = sampler.stop()
    memory["cpu_s"] = cpu_seconds(sampler.pids) - cpu_before
    if code != 204:
        raise RuntimeError(f"{server.name}: upload answered {code}")
    return seconds, memory


def download(server: Server, image_id: str, target: Path) -> tuple[float, float]:
    """Returns (seconds, server CPU-seconds)."""
    pids = tree_pids(server.pid)
    cpu_before = cpu_seconds(pids)
    code, seconds = curl(
        *header_args(server.headers), f"{server.images_url}/{image_id}/file", output=str(target)
    )
    if code != 200:
        raise RuntimeError(f"{server.name}: download answered {code}")
    return seconds, cpu_seconds(pids) - cpu_before


def file_md5(path: Path) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(8 * MIB):
            md5.update(chunk)
    return md5.hexdigest()


def make_source(path: Path, size: int) -> tuple[str, float]:
    """Random data (incompressible); returns its md5 and the seconds md5+sha512 take."""
    with open(path, "wb") as f:
        for _ in range(size // (16 * MIB)):
            f.write(os.urandom(16 * MIB))
        f.write(os.urandom(size % (16 * MIB)))
    started = time.perf_counter()
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha512()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MIB):
            md5.update(chunk)
            sha.update(chunk)
    return md5.hexdigest(), time.perf_counter() - started


def plain_copy(source: Path, target: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds


def transfer_once(server: Server, source: Path, md5: str, run: int, scratch: Path, into) -> None:
    """Create, upload, check, download, check, delete; appends the figures to ``into``."""
    image_id = create_image(server, f"bench-upload-{run}")
    seconds, memory = upload(server, image_id, source)
    into["upload"].append(seconds)
    into["memory"].append(memory)
    shown = requests.get(f"{server.images_url}/{image_id}", headers=server.headers, timeout=30)
    shown.raise_for_status()
    if shown.json()["status"] != "active" or shown.json()["checksum"] != md5:
        raise RuntimeError(f"{server.name}: uploaded image is not active with the md5: {shown}")
    target = scratch / f"download-{server.name}"
    seconds, cpu = download(server, image_id, target)
    into["download"].append(seconds)
    into["download_cpu_s"].append(cpu)
    if run == 0 and file_md5(target) != md5:
        raise RuntimeError(f"{server.name}: downloaded bytes differ")
    target.unlink()
    r = requests.delete(f"{server.images_url}/{image_id}", headers=server.headers, timeout=60)
    r.raise_for_status()


# ---------------------------------------------------------------------------------------
# List latency


def list_latency(server: Server, requests_count: int) -> dict[str, float]:
    url = f"{server.images_url}?limit=25"
    with requests.Session() as session:
        session.headers.update(server.headers)
        for _ in range(10):  # warm up: imports, caches, connection
            session.get(url, timeout=30).raise_for_status()
        times = []
        for _ in range(requests_count):
            started = time.perf_counter()
            r = session.get(url, timeout=30)
            times.append(time.perf_counter() - started)
            r.raise_for_status()
        body = r.json()
    if len(body["images"]) != 25 or "next" not in body:
        raise RuntimeError(f"{server.name}: list returned {len(body['images'])} images, no next")
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000, "n": requests_count}


def seed_glance_sqlite(db: Path, owner: str, count: int) -> None:
    """Rows straight into Glance's SQLite (what the API would create, without the files)."""
    start = datetime(2025, 1, 1)  # naive UTC, as Glance stores it
    rows = []
    for i in range(count):
        at = (start + timedelta(seconds=i)).isoformat(" ", "microseconds")
        rows.append(
            (
                str(uuid.uuid4()),
                f"bench-{i:05d}",
                1024 * (i + 1),
                "active",
                at,
                at,
                False,
                ("qcow2", "raw")[i % 2],
                "bare",
                hashlib.md5(str(i).encode(), usedforsecurity=False).hexdigest(),
                owner,
                0,
                0,
                False,
                1024 * (i + 1),
                ("private", "shared")[i % 2],
                False,
                "sha512",
                hashlib.sha512(str(i).encode()).hexdigest(),
            )
        )
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO images (id, name, size, status, created_at, updated_at, deleted,"
            " disk_format, container_format, checksum, owner, min_disk, min_ram, protected,"
            " virtual_size, visibility, os_hidden, os_hash_algo, os_hash_value)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO image_tags (image_id, value, created_at, updated_at, deleted)"
            " VALUES (?,?,?,?,?)",
            [
                (r[0], tag, r[4], r[4], False)
                for i, r in enumerate(rows)
                for tag in ("bench", f"t{i % 10}")
            ],
        )
    conn.close()


# ---------------------------------------------------------------------------------------
# Servers


def localcloud_server(work: Path, images: int) -> tuple[Server, object]:
    started = time.perf_counter()
    cloud = start_localcloud(work / "localcloud")
    startup = time.perf_counter() - started
    auth = Connection.from_config(cloud.cloud_config()).auth  # owner, as the portal logs in
    project_id = auth.project_id
    headers = {"X-Auth-Token": auth.get_token()}
    started = time.perf_counter()
    out = cloud.manage("shell", "-c", SEED_CODE.format(owner=project_id, count=images))
    count = out.strip().splitlines()[-1]
    seeded = time.perf_counter() - started
    print(f"local cloud: {count} images owned by owner-project ({seeded:.1f} s to create)")
    server = Server("localcloud", f"{cloud.image_url}/v2/images", headers, cloud.process.pid)
    server.timings = {"startup": startup, "seed": seeded}
    return server, cloud


def glance_server(work: Path, images: int) -> tuple[Server, object]:
    glance = start_glance(work / "glance")
    started = time.perf_counter()
    seed_glance_sqlite(glance.work_dir / "glance.sqlite", "benchproj", images)
    seeded = time.perf_counter() - started
    print(f"real Glance: {images} images inserted into its SQLite ({seeded:.1f} s)")
    headers = {"X-Auth-Token": glance.token("bench", "benchproj")}
    server = Server("glance", f"{glance.endpoint}/v2/images", headers, glance.pid)
    server.timings = dict(glance.timings, seed=seeded)
    return server, glance


# ---------------------------------------------------------------------------------------
# Report


def mib_s(size: int, seconds: float) -> float:
    return size / MIB / seconds


def report(args, size: int, hash_s: float, copies: list[float], results: dict) -> None:
    gib = size / 1024**3
    copy = statistics.median(copies)
    print()
    print(f"== GET /v2/images?limit=25 with {args.images:,} images ({args.requests} requests)")
    for name, r in results.items():
        if "list" in r:
            lst = r["list"]
            print(f"  {name:<11} p50 {lst['p50_ms']:7.1f} ms   p95 {lst['p95_ms']:7.1f} ms")
    print(
        f"\n== {gib:g} GiB transfer (median of {args.runs} interleaved rounds; curl to/from disk)"
    )
    print(f"  {'plain cp':<11} {mib_s(size, copy):7.0f} MiB/s  ({copy:.2f} s)  = physical limit")
    print(f"  {'md5+sha512':<11} {mib_s(size, hash_s):7.0f} MiB/s  (one core, for reference)")
    for name, r in results.items():
        if "transfer" not in r:
            continue
        cpu = {
            "upload": [m["cpu_s"] for m in r["transfer"]["memory"]],
            "download": r["transfer"]["download_cpu_s"],
        }
        for what in ("upload", "download"):
            t = statistics.median(r["transfer"][what])
            label, share = f"{name} {what}", 100 * copy / t
            all_runs = ", ".join(f"{s:.2f}" for s in r["transfer"][what])
            print(
                f"  {label:<20} {mib_s(size, t):7.0f} MiB/s {share:4.1f}% of cp"
                f"  ({t:.2f} s; runs {all_runs}; server CPU {statistics.median(cpu[what]):.1f} s)"
            )
    if "localcloud" in results and "glance" in results:
        lc, gl = results["localcloud"]["transfer"], results["glance"]["transfer"]
        for what in ("upload", "download"):
            ratio = statistics.median(gl[what]) / statistics.median(lc[what])
            print(f"  local cloud {what} throughput = {ratio:.2f} x real Glance's")
    print(f"\n== server RSS during the {gib:g} GiB upload (MiB; worker = the process serving it)")
    for name, r in results.items():
        if "transfer" not in r:
            continue
        m = max(r["transfer"]["memory"], key=lambda m: m["rss_peak_worker_mib"])
        print(
            f"  {name:<11} worker before {m['rss_worker_before_mib']:.0f}, peak"
            f" {m['rss_peak_worker_mib']:.0f} (VmHWM {m['hwm_worker_mib']:.0f});"
            f" master+worker before {m['rss_before_mib']:.0f}, peak {m['rss_peak_total_mib']:.0f}"
            f"  [{m['samples']} samples]"
        )
    for name, r in results.items():
        timings = ", ".join(f"{k} {v:.2f} s" for k, v in r["timings"].items())
        print(f"  ({name} timings: {timings})")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  (load average at the end: {load} on {os.cpu_count()} CPUs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="list requests to time")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3, help="uploads/downloads per server")
    parser.add_argument("--no-glance", action="store_true", help="skip the real Glance")
    parser.add_argument("--work-dir", type=Path, help="default: a temporary dir under var/")
    args = parser.parse_args()

    if shutil.which("curl") is None:
        sys.exit("bench: needs curl")
    (BASE_DIR / "var").mkdir(exist_ok=True)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-", dir=BASE_DIR / "var"))
    work.mkdir(parents=True, exist_ok=True)
    size = args.size_mib * MIB
    print(f"work dir {work} (one disk for the source, the copies and both servers' data)")
    results: dict[str, dict] = {}
    running = []
    try:
        source = work / "source.img"
        md5, hash_s = make_source(source, size)

        servers = {}
        factories = [("localcloud", localcloud_server)]
        if not args.no_glance:
            factories.append(("glance", glance_server))
        for name, factory in factories:
            try:
                servers[name], handle = factory(work, args.images)
            except GlanceUnavailable as e:
                print(f"real Glance skipped: {e}")
                continue
            running.append(handle)
            results[name] = {"timings": servers[name].timings}
        for name, server in servers.items():
            results[name]["list"] = list_latency(server, args.requests)
        # Interleaved rounds (cp, local cloud, Glance), so that load from elsewhere on the
        # machine hits every contender alike.
        copies = []
        for name in servers:
            keys = ("upload", "download", "memory", "download_cpu_s")
            results[name]["transfer"] = {k: [] for k in keys}
        for run in range(args.runs):
            copies.append(plain_copy(source, work / "copy.img"))
            for name, server in servers.items():
                transfer_once(server, source, md5, run, work, results[name]["transfer"])
        report(args, size, hash_s, copies, results)
    finally:
        for handle in running:
            handle.stop()
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
