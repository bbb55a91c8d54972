"""Upload throughput and memory: ``conn.image.upload_image`` against ``curl -T``.

Uploads the same generated file to the same endpoint, alternating client and curl (after
one uncounted warm-up upload, and swapping who goes first each run), several runs in one
process run; each client upload runs in a fresh subprocess that reports its own
peak RSS growth (VmHWM after the upload minus VmHWM after authenticating).

    .venv/bin/python bench/upload.py --size 1G --runs 4
    .venv/bin/python bench/upload.py --size 4G --runs 2 --glance

Targets: client/curl throughput ratio >= 0.9, RSS growth < 50 MB (also for 4 GiB).

Client and server share this machine. Both hash every byte (MD5 + SHA-512), so on a small
machine they fight for the same cores while curl hashes nothing: that measures the machine,
not the client. By default the server is pinned to the first half of the CPUs and the
uploader (client or curl alike) to the other half, as if they were separate hosts;
``--no-pin`` lets them share.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from imsportal.cloudapi import Connection, StaticTokenAuth  # noqa: E402

MiB = 1024 * 1024

CLIENT_SCRIPT = r"""
import json, sys, time
from imsportal.cloudapi import Connection, StaticTokenAuth

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

spec = json.loads(sys.argv[1])
if spec["kind"] == "config":
    conn = Connection.from_config(spec["config"])
else:
    conn = Connection(StaticTokenAuth(spec["token"], {"image": spec["endpoint"]},
                                      project_id=spec["project"]), read_timeout=600)
list(conn.image.images(limit=1))  # authenticate and warm the pool before measuring
base = hwm()
started = time.perf_counter()
image = conn.image.upload_image("bare", "raw", data=spec["path"], name="bench-client")
elapsed = time.perf_counter() - started
print(json.dumps({"id": image.id, "seconds": elapsed, "size": image.size,
                  "status": image.status, "rss_growth": hwm() - base}))
"""


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": MiB, "G": 1024 * MiB}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


SERVER_CPUS: set[int] = set()
UPLOADER_CPUS: set[int] = set()


def split_cpus(pin: bool) -> None:
    """Give the server (started after this) and the uploaders disjoint CPU sets."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return
    half = len(cpus) // 2
    SERVER_CPUS.update(cpus[:half])
    UPLOADER_CPUS.update(cpus[half:])
    os.sched_setaffinity(0, SERVER_CPUS)  # servers started from here inherit it


def on_uploader_cpus() -> None:
    if UPLOADER_CPUS:
        os.sched_setaffinity(0, UPLOADER_CPUS)


def make_file(path: Path, size: int) -> None:
    block = os.urandom(4 * MiB)
    with path.open("wb") as f:
        left = size
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)
        # On disk before anything is measured: else its writeback slows the first upload.
        f.flush()
        os.fsync(f.fileno())


class Target:
    """One endpoint to upload to, and how to authenticate there."""

    def __init__(self, name: str, conn: Connection, spec: dict, token: str):
        self.name = name
        self.conn = conn
        self.spec = spec
        self.token = token

    def client_upload(self, path: Path) -> dict:
        spec = {**self.spec, "path": str(path)}
        out = subprocess.run(
            [sys.executable, "-c", CLIENT_SCRIPT, json.dumps(spec)],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            preexec_fn=on_uploader_cpus,  # noqa: PLW1509 - no threads in this process yet
        )
        if out.returncode != 0:
            raise RuntimeError(f"client upload failed: {out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        self.conn.image.delete_image(result["id"])
        return result

    def curl_upload(self, path: Path) -> dict:
        image = self.conn.image.create_image(
            name="bench-curl", disk_format="raw", container_format="bare"
        )
        url = f"{self.conn.image.root}/v2/images/{image.id}/file"
        started = time.perf_counter()
        out = subprocess.run(
            [
                "curl",
                "-sS",
                "-T",
                str(path),
                "-X",
                "PUT",
                "-H",
                "Expect:",
                "-H",
                "Content-Type: application/octet-stream",
                "-H",
                f"X-Auth-Token: {self.token}",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                url,
            ],
            capture_output=True,
            text=True,
            preexec_fn=on_uploader_cpus,  # noqa: PLW1509 - no threads in this process yet
        )
        elapsed = time.perf_counter() - started
        status = out.stdout.strip()
        self.conn.image.delete_image(image.id)
        if status != "204":
            raise RuntimeError(f"curl upload answered {status}: {out.stderr[-500:]}")
        return {"seconds": elapsed}


def localcloud_target(work: Path) -> tuple[Target, object]:
    from tests.localcloud_server import start_localcloud

    cloud = start_localcloud(work / "localcloud", LOCALCLOUD_MAX_IMAGE_SIZE=str(64 * 1024**3))
    config = cloud.cloud_config(read_timeout=600.0)
    conn = Connection.from_config(config)
    token = conn.auth.get_token()
    return Target("local cloud", conn, {"kind": "config", "config": config}, token), cloud


def glance_target(work: Path) -> tuple[Target, object]:
    from tests.realglance import make_token, start_glance

    glance = start_glance(work / "glance")
    token = make_token("bench", "bench-project")
    conn = Connection(
        StaticTokenAuth(token, {"image": glance.endpoint}, project_id="bench-project"),
        read_timeout=600,
    )
    spec = {
        "kind": "token",
        "token": token,
        "endpoint": glance.endpoint,
        "project": "bench-project",
    }
    return Target("real Glance", conn, spec, token), glance


def run(target: Target, path: Path, size: int, runs: int) -> dict:
    client, curl, growth = [], [], []
    target.curl_upload(path)  # warm-up, not counted: the first upload of a run is slower
    for n in range(runs):
        # Alternate who goes first, so drift in the machine's load hits both alike.
        order = ("client", "curl") if n % 2 == 0 else ("curl", "client")
        for who in order:
            if who == "client":
                c = target.client_upload(path)
                if c["size"] != size:
                    raise RuntimeError(f"client upload stored {c['size']} bytes, expected {size}")
            else:
                k = target.curl_upload(path)
        client.append(size / MiB / c["seconds"])
        curl.append(size / MiB / k["seconds"])
        growth.append(c["rss_growth"] / MiB)
        print(
            f"  run {n + 1}: client {client[-1]:7.1f} MiB/s   curl {curl[-1]:7.1f} MiB/s"
            f"   client RSS growth {growth[-1]:5.1f} MiB",
            flush=True,
        )
    result = {
        "client_mib_s": statistics.median(client),
        "curl_mib_s": statistics.median(curl),
        "ratio": statistics.median(client) / statistics.median(curl),
        "max_rss_growth_mib": max(growth),
    }
    print(
        f"  {target.name}: client {result['client_mib_s']:.1f} MiB/s, "
        f"curl {result['curl_mib_s']:.1f} MiB/s (medians), ratio client/curl "
        f"{result['ratio']:.2f}, peak RSS growth {result['max_rss_growth_mib']:.1f} MiB",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="file size, e.g. 200M, 1G, 4G")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--glance", action="store_true", help="also against a real Glance")
    parser.add_argument("--no-localcloud", action="store_true")
    parser.add_argument("--no-pin", action="store_true", help="let server and uploader share CPUs")
    args = parser.parse_args()
    size = parse_size(args.size)
    split_cpus(not args.no_pin)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        work = Path(tmp)
        path = work / "disk.raw"
        make_file(path, size)
        print(f"file: {size / MiB:.0f} MiB, {args.runs} runs, client and curl alternating")
        if SERVER_CPUS:
            print(f"CPUs: server {sorted(SERVER_CPUS)}, uploader {sorted(UPLOADER_CPUS)}")
        factories = [] if args.no_localcloud else [localcloud_target]
        if args.glance:
            factories.append(glance_target)
        for factory in factories:
            target, server = factory(work)
            try:
                print(f"{target.name} at {target.conn.image.root}")
                results[target.name] = run(target, path, size, args.runs)
            finally:
                server.stop()
    ok = all(r["ratio"] >= 0.9 and r["max_rss_growth_mib"] < 50 for r in results.values())
    print("targets (ratio >= 0.9, RSS growth < 50 MiB):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
