"""The embedded web server's gunicorn worker: gthread, plus a read timeout per connection.

gunicorn's gthread worker hands a connection to a thread as soon as bytes arrive and then
reads the request headers with a blocking socket and no timeout: a client that sends half
its headers and stops holds that thread for good, and as many such clients as threads
block the portal. This worker gives each connection's socket a timeout while a thread
serves it, so a stalled client is dropped after ``PORTAL_CLIENT_TIMEOUT`` seconds of
silence. (Production belongs behind a reverse proxy, which buffers requests anyway.)
"""

from __future__ import annotations

import logging

from gunicorn.workers.gthread import ThreadWorker

from imsportal.env import envfloat


class _TimeoutsAsOneLine(logging.Filter):
    """gunicorn logs a read that timed out as a socket error with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], TimeoutError):
            record.msg, record.args = "Dropped a client that stopped sending", ()
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class ReadTimeoutThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.client_timeout = envfloat("PORTAL_CLIENT_TIMEOUT", 30.0, minimum=1.0)

    def init_process(self):
        self.log.error_log.addFilter(_TimeoutsAsOneLine())
        super().init_process()

    def handle(self, conn):
        if not getattr(conn, "_read_timeout_hooked", False):
            # handle() makes the socket blocking (no timeout), then calls conn.init(), on
            # every request of the connection: the timeout goes on right after.
            init = conn.init

            def init_with_timeout():
                init()
                conn.sock.settimeout(self.client_timeout)

            conn.init = init_with_timeout
            conn._read_timeout_hooked = True
        return super().handle(conn)
