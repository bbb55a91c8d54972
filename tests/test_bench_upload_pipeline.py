"""Smoke test of the upload pipeline bench: ``bench/upload_pipeline.py`` with small files runs
end to end (its own local cloud, gunicorn portal and Celery worker; the page-sized tus PATCHes
from its plain HTTP client, one curl PATCH, the worker's cloud leg and ``curl -T``) and prints
its table, best and median rows for each size.

No throughput is asserted (the figures belong to the bench and the README). The bench exits
with an error when a transfer fails (a PATCH not answered 204, curl's upload not 204, the
worker's job not ``success``); here it must exit 0 and print a positive rate for each of the
four transfers in both rows of both sizes. About 20 s.
"""

import re
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def test_upload_pipeline_bench_runs_every_transfer_and_prints_the_table():
    out = subprocess.run(
        [sys.executable, "bench/upload_pipeline.py", "--sizes", "16M,32M", "--rounds", "2"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rate = r"(\d+\.\d) MiB/s"
    for size in ("16 MiB", "32 MiB"):
        for row in ("best", "median"):
            line = re.search(rf"^\| {size}, {row} \| .*$", out.stdout, re.M)
            assert line, f"no {row} row for {size}:\n{out.stdout[-3000:]}"
            rates = [float(r) for r in re.findall(rate, line.group(0))]
            assert len(rates) == 4, line.group(0)
            assert all(r > 0 for r in rates), line.group(0)
    assert re.search(r"peak RSS growth from the first to the last size: web -?\d", out.stdout)
