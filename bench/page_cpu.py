"""CPU per page, in process: what one request of each page costs the portal, without load.

    .venv/bin/python bench/page_cpu.py               # 100 requests a page
    .venv/bin/python bench/page_cpu.py --profile images   # and cProfile's top of one page

The load bench (bench/load.py) shows what operators feel; this shows where the portal's own
CPU goes, page by page, with less noise: no network client, no other process competing.

- Sets up what bench/load.py sets up (its own local cloud, a data folder, the bench user with
  operator and approver roles, running jobs), without starting gunicorn.
- In this process, Django's test client (signed in through the session, as a browser) sends
  each page ``--requests`` times after three uncounted ones, in five batches, and reports
  the fastest batch's CPU per request (``time.process_time``: the portal's work, not the local
  cloud's, which runs in its own process) and the median batch.
- Counts what does not depend on the machine: Python function calls per request (cProfile
  over ten requests), SQL queries, and URL reversals.
- Prints each page's CPU as a ratio to the status poll's in the same run, the cheapest
  authenticated request, so runs on different machines compare.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(BASE_DIR), str(BASE_DIR / "bench")]

import load  # noqa: E402 - bench/load.py: the same setup as the load bench


def pages(job_id: int, image_id: str) -> dict[str, tuple[str, dict]]:
    htmx = {"HTTP_HX_REQUEST": "true"}
    return {
        "poll": (f"/p/owner/jobs/{job_id}/status", htmx),
        "images": ("/p/owner/images/", {}),
        "images rows (htmx)": ("/p/owner/images/", htmx),
        "images?name": ("/p/owner/images/?name=no-such-image", {}),
        "cloud": ("/p/owner/images/cloud/", {}),
        "shared": ("/p/owner/images/shared/", {}),
        "jobs": ("/p/owner/jobs/", {}),
        "detail": (f"/p/owner/images/{image_id}/", {}),
    }


def measure(client, path: str, headers: dict, requests: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        resp = client.get(path, **headers)
        if resp.status_code not in (200, 286):
            raise RuntimeError(f"{path} answered {resp.status_code}")
    batches = []
    per_batch = max(1, requests // 5)
    for _ in range(5):
        started = time.process_time()
        for _ in range(per_batch):
            client.get(path, **headers)
        batches.append((time.process_time() - started) / per_batch * 1000)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(10):
        client.get(path, **headers)
    profile.disable()
    stats = pstats.Stats(profile).stats
    calls = sum(s[1] for s in stats.values()) // 10
    reverses = sum(
        s[1] for (file, _, name), s in stats.items() if name == "reverse" and "urls/base" in file
    )
    with CaptureQueriesContext(connection) as queries:
        client.get(path, **headers)
    return {
        "best": min(batches),
        "median": statistics.median(batches),
        "calls": calls,
        "reverses": reverses // 10,
        "queries": len(queries),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="counted requests a page")
    parser.add_argument("--profile", metavar="PAGE", help="print cProfile's top for this page")
    args = parser.parse_args()

    (BASE_DIR / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-page-cpu-", dir=BASE_DIR / "var"))
    portal = load.Portal(work)
    username, password = "bench-operator", base64.urlsafe_b64encode(os.urandom(18)).decode()
    try:
        job_ids = portal.start(username, password, jobs=20, workers=None, serve=False)
        images = load.seeded_images(portal)
        os.environ.clear()  # exactly the portal's environment, as its server would have
        os.environ.update(portal.env)
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(get_user_model().objects.get(username=username))
        table = pages(job_ids[0], images[0][0])
        if args.profile and args.profile not in table:
            parser.error(f"--profile: one of {', '.join(table)}")
        print(f"{args.requests} requests a page, in process; load average {os.getloadavg()[0]:.1f}")
        results = {
            name: measure(client, path, hdr, args.requests) for name, (path, hdr) in table.items()
        }
        poll = results["poll"]["best"]
        print(
            f"\n  {'page':<19} {'CPU ms':>7} {'median':>7} {'x poll':>7}"
            f" {'calls':>7} {'queries':>7} {'reverse()':>9}"
        )
        for name, r in results.items():
            print(
                f"  {name:<19} {r['best']:7.2f} {r['median']:7.2f} {r['best'] / poll:7.1f}"
                f" {r['calls']:7d} {r['queries']:7d} {r['reverses']:9d}"
            )
        if args.profile:
            path, hdr = table[args.profile]
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(20):
                client.get(path, **hdr)
            profile.disable()
            print(f"\n== cProfile, 20 requests of {args.profile}")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    finally:
        portal.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
