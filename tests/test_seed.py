"""The local cloud's seed command is idempotent and gives the demo data the README promises."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def run(data_dir: Path, *args: str) -> str:
    env = dict(os.environ, LOCALCLOUD_DATA_DIR=str(data_dir))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "imsportal.localcloud", *args],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def counts(data_dir: Path) -> dict[str, int]:
    db = sqlite3.connect(data_dir / "localcloud.sqlite3")
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]  # noqa: S608
            for t in tables
            if t.startswith("localcloud_")
        }
    finally:
        db.close()


def test_seed_twice_changes_nothing(tmp_path):
    run(tmp_path, "migrate", "-v", "0")
    first = run(tmp_path, "seed")
    after_first = counts(tmp_path)
    files_first = sorted(p.name for p in (tmp_path / "images").iterdir())
    second = run(tmp_path, "seed")
    assert "12 new demo images" in first
    assert "0 new demo images" in second
    assert counts(tmp_path) == after_first
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == files_first
    assert after_first["localcloud_image"] >= 12
    assert after_first["localcloud_project"] >= 2
    assert after_first["localcloud_user"] >= 2
