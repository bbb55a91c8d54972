"""Smoke test of the upload pipeline bench: ``bench/upload_pipeline.py`` with small files runs
end to end (its own local cloud, gunicorn portal and Celery worker; the page-sized tus PATCHes
from its plain HTTP client, one curl PATCH, the worker's cloud leg and ``curl -T``) and prints
its table, best and median rows for each size, each leg's round-by-round ratios, the CPU per
GiB of the cloud legs and, on a VM with free page reporting, what it handed back meanwhile.

No throughput is asserted (the figures belong to the bench and the README). The bench exits
with an error when a transfer fails (a PATCH not answered 204, curl's upload not 204, the
worker's job not ``success``); here it must exit 0 and print a positive rate for each of the
four transfers in both rows of both sizes, positive ratios and CPU figures, and no transfer
whose settle timed out. About 30 s (a short ``--settle-quiet``).

``settle``, which starts every transfer once the VM's free page reporting is done, is tested
on its own against a counter file that a thread moves in bursts.
"""

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench import upload_pipeline

BASE_DIR = Path(__file__).resolve().parent.parent


def test_upload_pipeline_bench_runs_every_transfer_and_prints_the_table():
    out = subprocess.run(
        [sys.executable, "bench/upload_pipeline.py", "--sizes", "16M,32M", "--rounds", "2"]
        + ["--settle-quiet", "0.5"],
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
    number = r"(\d+\.\d+)"
    for size in ("16 MiB", "32 MiB"):
        lines = [
            rf"^{leg}, {size}, round by round: {number}, {number} \(median {number}\)$"
            for leg in ("browser leg / one PATCH", "cloud leg / curl -T")
        ]
        lines.append(
            rf"^CPU seconds per GiB sent \(median\), {size}: cloud leg, worker {number} and "
            rf"local cloud {number}; curl -T, local cloud {number}$"
        )
        for pattern in lines:
            found = re.search(pattern, out.stdout, re.M)
            assert found, f"no line {pattern}:\n{out.stdout[-3000:]}"
            assert all(float(v) > 0 for v in found.groups()), found.group(0)
    if upload_pipeline.REPORTED_KIB.exists():
        for size in ("16 MiB", "32 MiB"):
            handed_back = (
                rf"^- {size}: browser leg \d+, one PATCH \d+, cloud leg \d+, curl -T \d+ MiB; "
                r"transfers whose settle timed out: 0$"
            )
            assert re.search(handed_back, out.stdout, re.M), out.stdout[-3000:]


@pytest.fixture
def counter(tmp_path, monkeypatch):
    path = tmp_path / "reported_kib"
    path.write_text("0\n")
    monkeypatch.setattr(upload_pipeline, "REPORTED_KIB", path)
    return path


def test_settle_returns_only_once_the_reporting_counter_has_been_quiet(counter):
    def report_in_bursts():
        # 2 s of 128 KiB blocks (this VM's reporting order), 0.1 s apart: shorter than the
        # quiet period, and each one a move even when it stays within the same MiB.
        for n in range(1, 21):
            time.sleep(0.1)
            counter.write_text(f"{n * 128}\n")

    reporter = threading.Thread(target=report_in_bursts)
    reporter.start()
    assert upload_pipeline.settle(quiet=0.6)
    seen_last = upload_pipeline.reported_kib()
    reporter.join()
    assert seen_last == 20 * 128  # it did not return while the counter still moved


def test_settle_without_the_counter_only_syncs(tmp_path, monkeypatch):
    monkeypatch.setattr(upload_pipeline, "REPORTED_KIB", tmp_path / "absent")
    synced = []
    monkeypatch.setattr(upload_pipeline.os, "sync", lambda: synced.append(True))

    def no_waiting(seconds):
        raise AssertionError("settle waited with no counter to watch")

    monkeypatch.setattr(upload_pipeline.time, "sleep", no_waiting)
    assert upload_pipeline.settle(quiet=60)
    assert synced == [True]
    assert upload_pipeline.reported_kib() == 0


def test_settle_gives_up_after_its_timeout(counter):
    stop = threading.Event()

    def report_for_ten_seconds():
        for n in range(200):
            if stop.wait(0.05):
                return
            counter.write_text(f"{(n + 1) * 128}\n")  # a 128 KiB block at a time

    reporter = threading.Thread(target=report_for_ten_seconds)
    reporter.start()
    try:
        assert not upload_pipeline.settle(quiet=5.0, timeout=0.6)
        # Returned on its timeout, the counter still moving (else: after 10 s + 5 s quiet).
        assert reporter.is_alive()
    finally:
        stop.set()
        reporter.join()
