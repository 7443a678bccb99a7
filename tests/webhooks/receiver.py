"""A real local webhook receiver for tests: an HTTP server in a thread that records every
request (headers and body) and answers with the status it is told, or is not there at all."""

import http.server
import threading
from dataclasses import dataclass

from tests.ops.servers import free_port


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class Receiver:
    """`Receiver()` listens on 127.0.0.1 at a free port until `stop()`; `start()` listens
    again on the same port (a receiver that was down and came back). `status` is what it
    answers; every request is appended to `received`, answered or not."""

    def __init__(self):
        self.status = 204
        self.received: list[Received] = []
        self.port = free_port()
        self._server = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
