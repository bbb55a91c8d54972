"""The local cloud's data (a database of live tokens and AK/SK secrets, image files) is its
owner's alone: files 0600, folders 0700, also when an older run left them open (issue 9)."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.localcloud_server import start_localcloud


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_files_are_private(tmp_path):
    data = tmp_path / "cloud"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # as an older run, or a default umask, would leave it
    cloud = start_localcloud(data)
    try:
        from imsportal.cloudapi import Connection

        conn = Connection.from_config(cloud.cloud_config())
        image = conn.image.upload_image("bare", "raw", b"x" * 1024, name="modes")
        db_files = sorted(data.glob("localcloud.sqlite3*"))
        assert db_files
        assert {p.name: mode(p) for p in db_files} == {p.name: 0o600 for p in db_files}
        assert mode(data) == 0o700
        assert mode(data / "images") == 0o700
        assert mode(data / "secret_key") == 0o600
        image_files = [p for p in (data / "images").rglob("*") if p.is_file()]
        assert image_files
        assert all(mode(p) == 0o600 for p in image_files)
        conn.image.delete_image(image)
    finally:
        cloud.stop()
