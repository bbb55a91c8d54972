"""Uploads against the real local cloud: streaming, verification, interruption, memory."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from imsportal import cloudapi

BASE_DIR = Path(__file__).resolve().parents[2]


def payload(size: int) -> bytes:
    return (hashlib.sha512(b"seed").digest() * (size // 64 + 1))[:size]


@pytest.mark.parametrize("cpus", [1, 2], ids=["hashed-in-line", "hashed-alongside"])
@pytest.mark.parametrize("kind", ["path", "file", "bytes", "iterable"])
def test_upload_streams_and_verifies_the_hashes(
    owner, scratch_images, tmp_path, kind, cpus, monkeypatch
):
    """On one CPU the client hashes in line, on more in two helper threads: same result."""
    from imsportal.cloudapi import upload

    monkeypatch.setattr(upload, "_usable_cpus", lambda: cpus)
    data = payload(3 * 1024 * 1024 + 17)
    path = tmp_path / "disk.raw"
    path.write_bytes(data)
    source = {
        "path": str(path),
        "file": path.open("rb"),
        "bytes": data,
        "iterable": iter([data[:1000], data[1000:]]),
    }[kind]
    progress: list[int] = []
    image = owner.image.upload_image(
        "bare", "raw", data=source, name=f"up-{kind}", progress=progress.append, os_distro="x"
    )
    scratch_images.append(image.id)
    assert image.status == "active"
    assert image.size == len(data)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert image.os_hash_value == hashlib.sha512(data).hexdigest()
    assert image.properties["os_distro"] == "x"
    assert progress[-1] == len(data)
    assert progress == sorted(progress)
    assert owner.image.download_image(image) == data
    out = tmp_path / "back.raw"
    assert owner.image.download_image(image, out) == len(data)
    assert out.read_bytes() == data


def test_upload_without_data_only_creates_the_record(owner, scratch_images):
    image = owner.image.upload_image("bare", "raw", name="record-only")
    scratch_images.append(image.id)
    assert image.status == "queued"


def test_an_upload_dropped_mid_body_leaves_no_image(owner, faults):
    before = {i.id for i in owner.image.images()}
    faults.set(drop_upload_after_bytes=2 * 1024 * 1024)
    with pytest.raises(cloudapi.ApiError):
        owner.image.upload_image("bare", "raw", data=payload(8 * 1024 * 1024), name="dropped")
    faults.clear()
    assert {i.id for i in owner.image.images()} == before


def test_keep_on_failure_leaves_the_queued_image_for_a_retry(owner, faults, scratch_images):
    faults.set(drop_upload_after_bytes=1024 * 1024)
    with pytest.raises(cloudapi.ApiError):
        owner.image.upload_image(
            "bare", "raw", data=payload(4 * 1024 * 1024), name="kept", keep_on_failure=True
        )
    faults.clear()
    kept = [i for i in owner.image.images(name="kept")]
    scratch_images.extend(i.id for i in kept)
    assert len(kept) == 1
    assert kept[0].status == "queued"


def test_a_source_that_fails_mid_read_leaves_no_image(owner):
    before = {i.id for i in owner.image.images()}

    def broken():
        yield b"x" * (1024 * 1024)
        raise OSError("disk read error")

    with pytest.raises(OSError, match="disk read error"):  # not "cannot reach the cloud"
        owner.image.upload_image("bare", "raw", data=broken(), name="broken-source")
    assert {i.id for i in owner.image.images()} == before


def test_upload_errors_from_the_server_raise(owner):
    before = {i.id for i in owner.image.images()}
    with pytest.raises(cloudapi.UnsupportedMediaTypeError):
        # random bytes declared qcow2 fail the format check (Glance 30+)
        owner.image.upload_image("bare", "qcow2", data=os.urandom(64 * 1024), name="not-qcow2")
    assert {i.id for i in owner.image.images()} == before


MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, sys, tracemalloc
    from imsportal.cloudapi import Connection

    def vm(key):
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1]) * 1024

    config = json.loads(sys.argv[1])
    conn = Connection.from_config(config)
    list(conn.image.images(limit=1))
    base_hwm = vm("VmHWM:")
    tracemalloc.start()
    image = conn.image.upload_image("bare", "raw", data=sys.argv[2], name="memory-test")
    _, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"id": image.id, "size": image.size, "hwm_growth": vm("VmHWM:") - base_hwm,
                      "py_peak": peak}))
    """
)


def test_uploading_200_mb_keeps_memory_flat(owner, localcloud, tmp_path):
    import json

    size = 200 * 1024 * 1024
    path = tmp_path / "big.raw"
    with path.open("wb") as f:
        block = os.urandom(1024 * 1024)
        for _ in range(size // len(block)):
            f.write(block)
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, json.dumps(localcloud.cloud_config()), str(path)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    owner.image.delete_image(result["id"])
    assert result["size"] == size
    assert result["hwm_growth"] < 30 * 1024 * 1024, result
    assert result["py_peak"] < 10 * 1024 * 1024, result
