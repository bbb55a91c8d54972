"""Loaded with ``-p tests.testenv`` before Django starts: keep the tests' data (broker
folders, SQLite files, secret key) apart from a running portal's ``var/``."""

import os
from pathlib import Path

os.environ.setdefault(
    "IMSPORTAL_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)
