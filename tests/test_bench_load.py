"""Smoke test of the load bench: ``bench/load.py --quick`` runs end to end and prints its table.

No timing is asserted here (the figures belong to the bench and the README); this only keeps
the bench working: its own local cloud and portal start, the virtual users log in through the
form, the pages answer, and the report comes out. About 35 s on a busy 2-core machine.
"""

import re
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def test_load_bench_quick_runs_and_prints_the_table():
    out = subprocess.run(
        [sys.executable, "bench/load.py", "--quick"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    assert "5 sessions logged in" in text
    assert re.search(r"page\s+n\s+p50\s+p95\s+p99 \|\s+alone n\s+p50\s+p95", text)
    # Every list page and the poll fragment have a row: figures alone (the baseline fetches
    # each page), and the pollers' figures under load (operators pick pages at random, so a
    # 10 s run may leave a page with few samples).
    rows = {}
    for line in text.splitlines():
        cells = [c.split() for c in line.split("|")]
        if len(cells) == 4 and cells[0] and cells[0][0] != "page":
            rows[cells[0][0]] = cells
    for page in ("images", "images?name", "cloud", "shared", "jobs", "poll"):
        assert page in rows, f"no row for {page}:\n{text}"
        assert int(rows[page][1][0]) > 0, rows[page]  # requests measured alone
    assert int(rows["poll"][0][1]) > 0, rows["poll"]  # polls measured under load
    assert re.search(r"portal RSS .*start \d+ MiB, middle \d+ MiB, end \d+ MiB", text)
    # The RSS series: a sample every 5 s from the first request, with the thread count.
    series = re.search(r"portal RSS every 5 s from the first request \(s: MiB/threads\): (.*)",
                       text).group(1)  # fmt: skip
    samples = re.findall(r"(\d+): (\d+)/(\d+)", series)
    assert len(samples) >= 3, series  # 13 s of load (3 s warm-up, 10 s measured), 5 s apart
    assert all(int(mib) > 0 and int(threads) > 0 for _, mib, threads in samples), series
    assert "load average" in text
    targets = text.split("== targets (issue 9)")[1]
    assert len(re.findall(r"^  (met    |NOT met)  ", targets, re.M)) == 4
