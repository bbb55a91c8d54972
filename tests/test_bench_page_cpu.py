"""Smoke test of ``bench/page_cpu.py``: it sets up, measures every page and prints its table.

No timing is asserted (the figures belong to the bench and the README); the counts that do
not depend on the machine are: a status poll stays within three SQL queries and one URL
reversal, and no page reads the database more than six times."""

import re
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def test_page_cpu_bench_runs_and_prints_the_table():
    out = subprocess.run(
        [sys.executable, "bench/page_cpu.py", "--requests", "5"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rows = {}
    for line in out.stdout.splitlines():
        m = re.match(r"\s+(\S.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
        if m:
            rows[m.group(1)] = [float(g) for g in m.groups()[1:]]
    for page in ("poll", "images", "images?name", "cloud", "shared", "jobs", "detail"):
        assert page in rows, f"no row for {page}:\n{out.stdout}"
    cpu, _median, ratio, calls, queries, reverses = rows["poll"]
    assert ratio == 1.0
    assert (queries, reverses) == (3, 1)
    assert all(r[4] <= 6 for r in rows.values()), rows
