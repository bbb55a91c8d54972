"""The portal's data folder: where each file lives (``layout``, read by the settings) and an
explicit, idempotent ``prepare`` that creates what the settings expect.

Settings only read; the start commands (``manage.py``, ``python -m imsportal.embedded``, the
tests' ``tests.testenv``) call ``prepare()`` before Django loads them. It makes folders 0700
and data files 0600 (the SQLite database holds session keys and password hashes), and
tightens them when an older run left them open. Plain Python plus ``imsportal.env``: no
Django settings here, since they are not loadable before this has run.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from imsportal.env import envsecret, envstr, persistent_secret

BASE_DIR = Path(__file__).resolve().parent.parent
FOLDER_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class Layout:
    data_dir: Path
    static_root: Path
    broker_dir: Path | None  # Celery's filesystem broker, when it is the broker
    results_dir: Path | None  # Celery's file result backend, when it is the backend
    sqlite_file: Path | None  # the portal's own SQLite database (no DATABASE_URL)
    secret_key_file: Path | None  # the generated SECRET_KEY (embedded defaults only)
    encryption_key_file: Path | None  # the generated ENCRYPTION_KEYS (embedded defaults only)
    cache_dir: Path | None  # the file cache the web processes of one host share (no CACHE_URL)

    @property
    def embedded(self) -> bool:
        """On the embedded defaults: one host, SQLite in the data folder (no DATABASE_URL)."""
        return self.sqlite_file is not None


def layout() -> Layout:
    """Where the portal keeps its data, from the environment (see README, Configuration)."""
    data_dir = Path(envstr("IMSPORTAL_DATA_DIR") or BASE_DIR / "var").resolve()
    broker_url = envstr("CELERY_BROKER_URL", "filesystem://")
    results = envstr("CELERY_RESULT_BACKEND")
    if not results and broker_url.startswith("filesystem"):
        results = "file://" + str(data_dir / "celery-results")
    embedded = not envstr("DATABASE_URL")
    return Layout(
        data_dir=data_dir,
        static_root=Path(envstr("STATIC_ROOT") or data_dir / "staticfiles"),
        broker_dir=data_dir / "broker" if broker_url.startswith("filesystem") else None,
        results_dir=Path(results.removeprefix("file://"))
        if results.startswith("file://")
        else None,
        sqlite_file=data_dir / "portal.sqlite3" if embedded else None,
        # A generated key is only right where one host uses it; elsewhere SECRET_KEY is required.
        secret_key_file=data_dir / "secret_key" if embedded else None,
        encryption_key_file=data_dir / "encryption_key" if embedded else None,
        cache_dir=None if envstr("CACHE_URL") else data_dir / "cache",
    )


def prepare() -> Layout:
    """Create the folders and files the settings expect; safe to run any number of times."""
    paths = layout()
    _folder(paths.data_dir)
    _folder(paths.static_root, private=False)
    if paths.broker_dir:
        for sub in ("queue", "processed", "control"):
            _folder(paths.broker_dir / sub)
        tighten(paths.broker_dir, FOLDER_MODE)
    if paths.results_dir:
        _folder(paths.results_dir)
    if paths.cache_dir:
        _folder(paths.cache_dir)
    if paths.secret_key_file and not envsecret("SECRET_KEY"):
        persistent_secret(paths.secret_key_file)  # created 0600 on first use
        tighten(paths.secret_key_file, FILE_MODE)
    if paths.encryption_key_file and not envsecret("ENCRYPTION_KEYS"):
        persistent_secret(paths.encryption_key_file, fernet=True)
        tighten(paths.encryption_key_file, FILE_MODE)
    if paths.sqlite_file:
        # Created empty (SQLite takes an empty file as a new database) so it is 0600 from the
        # start; its -wal and -shm files take the database file's mode.
        fd = os.open(paths.sqlite_file, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        os.close(fd)
        for suffix in ("", "-wal", "-shm", "-journal"):
            tighten(paths.sqlite_file.with_name(paths.sqlite_file.name + suffix), FILE_MODE)
    return paths


def _folder(path: Path, private: bool = True) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE if private else 0o755)
    if private:
        tighten(path, FOLDER_MODE)


def tighten(path: Path, mode: int) -> None:
    """Tighten ``path`` to ``mode`` if it exists and is more open (never loosen it)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(st.st_mode)
    # A shared folder such as /tmp (sticky bit) or someone else's is left alone.
    if current & stat.S_ISVTX or st.st_uid != os.getuid() or not current & ~mode:
        return
    path.chmod(current & mode)


if __name__ == "__main__":
    print(prepare().data_dir)
