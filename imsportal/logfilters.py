"""Logging filters for the portal's handlers (see LOGGING in settings)."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx answer (403 for a missing role, 404, 405) is the client's doing: log its one
    line, not the traceback of the PermissionDenied or Http404 behind it. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
