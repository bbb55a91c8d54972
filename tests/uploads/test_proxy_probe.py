"""/healthz's upload probe: streamed straight to the portal it is ok; through a proxy that
buffers request bodies it says so."""

from __future__ import annotations

import socket
import threading

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


class BufferingProxy:
    """Reads each whole request (headers and Content-Length body) before forwarding it, as
    nginx does with proxy_request_buffering on."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with client:
            data = b""
            while b"\r\n\r\n" not in data:
                data += client.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += client.recv(65536)
            head = head.replace(b"Connection: keep-alive", b"Connection: close")
            with socket.create_connection(self.upstream) as up:
                up.sendall(head + b"\r\n\r\n" + body)
                while chunk := up.recv(65536):
                    client.sendall(chunk)

    def close(self) -> None:
        self.sock.close()


def test_no_probe_url_no_uploads_check(client, settings):
    settings.UPLOAD_PROBE_URL = ""
    assert "uploads" not in client.get("/healthz").json()["checks"]


def test_uploads_stream_straight_to_the_portal(client, live_server, settings):
    settings.UPLOAD_PROBE_URL = live_server.url
    settings.HEALTH_TIMEOUT = 5
    body = client.get("/healthz").json()
    assert body["checks"]["uploads"] == {"ok": True}


def test_a_buffering_proxy_is_reported(client, live_server, settings):
    proxy = BufferingProxy((live_server.thread.host, live_server.thread.port))
    settings.UPLOAD_PROBE_URL = proxy.url
    settings.UPLOAD_PROBE_WAIT = 0.5
    settings.HEALTH_TIMEOUT = 5
    try:
        body = client.get("/healthz").json()
    finally:
        proxy.close()
    assert body["checks"]["uploads"]["ok"] is False
    assert "buffers uploads" in body["checks"]["uploads"]["reason"]


def test_the_probe_serves_only_registered_tokens(client):
    assert client.post("/p/_probe/images/uploads/probe/" + "0" * 32).status_code == 404
    assert client.post("/p/_probe/images/uploads/probe/../etc").status_code == 404
