"""Loaded with ``-p tests.testenv`` before Django starts: keep the tests' data (broker
folders, SQLite files, secret key) apart from a running portal's ``var/``, and prepare that
folder as the start commands do (settings only read)."""

import os
from pathlib import Path

os.environ.setdefault(
    "IMSPORTAL_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)
# A fixed test key, so that worker processes the tests start decrypt what the tests stored.
os.environ.setdefault("ENCRYPTION_KEYS", "V8AHt1_s0va2mIDv_RYYH9jf0N1rGOJsp8b3VAKX12c=")
if os.environ.get("DATABASE_URL"):
    # Off the embedded defaults the settings require a key (CI's PostgreSQL run).
    os.environ.setdefault("SECRET_KEY", "imsportal-tests-only-not-a-secret")

from imsportal.prepare import prepare  # noqa: E402 - after the data folder is chosen

prepare()
