"""A Web Push service on 127.0.0.1 for tests: it records each request (headers and the encrypted body) and answers
what the test chose per subscription path (201 by default), optionally after a delay. And a browser's side of a
subscription: a P-256 key pair and an auth secret, to decrypt what the service received (RFC 8291)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


class BrowserKeys:
    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)
        self.p256dh = b64(self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                                     serialization.PublicFormat.UncompressedPoint))
        self.auth = b64(self.auth_secret)

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret,
                                           version="aes128gcm"))


class PushService:
    def __init__(self, delay: float = 0.0):
        self.received: list[dict] = []
        self.answers: dict[str, int] = {}  # path -> status
        self.delay = delay
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if service.delay:
                    time.sleep(service.delay)
                with service.lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    service.received.append({"path": self.path, "headers": headers, "body": body})
                    status = service.answers.get(self.path, 201)
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "120")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 drops connections under many senders (SYN retried in 1 s, 3 s …)

            def handle_error(self, request, client_address):
                pass  # a killed client's dropped keep-alive connection is expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def endpoint(self, name: str) -> str:
        return f"{self.base}/push/{name}"

    def bodies_for(self, name: str) -> list[dict]:
        with self.lock:
            return [r for r in self.received if r["path"] == f"/push/{name}"]
