"""Reading request bodies as JSON, safely."""

from __future__ import annotations

import json
from typing import Any


def loads(raw: bytes | str) -> Any:
    """``json.loads``, with too deeply nested JSON (``[`` x 100000) refused as a
    ``ValueError`` like any other malformed body, instead of a RecursionError (a 500)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("The JSON body is nested too deeply.") from None
