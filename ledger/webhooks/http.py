"""One POST to a webhook receiver, with the standard library only (no redirects followed).

The connection goes to the address `guard.check_url` checked, with the URL's host name in the
`Host` header and in TLS (SNI and certificate verification), so a second DNS answer can never
redirect it. The whole exchange is bounded by one deadline (`LEDGER_WEBHOOKS_TIMEOUT_SECONDS`):
each step waits at most what is left of it, and at most `MAX_BODY` bytes of the answer are read.
"""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from django.conf import settings

from .guard import Target

USER_AGENT = "artist-ledger-webhooks/1.1"
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    status_code: int | None  # None: no answer
    error: str  # empty on a 2xx
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, deadline: _Deadline):
        super().__init__(target.host, target.port, timeout=deadline.left())
        self._address, self._deadline = target.address, deadline

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self._deadline.left())


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, deadline: _Deadline):
        super().__init__(
            target.host, target.port, timeout=deadline.left(), context=ssl.create_default_context()
        )
        self._address, self._deadline = target.address, deadline

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self._deadline.left())
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to `target`; what the receiver answered, or why it did not."""
    timeout = settings.LEDGER_WEBHOOKS_TIMEOUT_SECONDS
    deadline = _Deadline(timeout)
    started = time.monotonic()
    status, error = None, ""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = None
    try:
        connection = kind(target, deadline)
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        # Kept: the connection lets go of its socket once an answer says it will close.
        sock = connection.sock
        sock.settimeout(deadline.left())
        response = connection.getresponse()
        status = response.status
        remaining = MAX_BODY
        while remaining > 0:  # drain a little of the answer, then hang up
            sock.settimeout(deadline.left())
            chunk = response.read(min(remaining, 8192))
            if not chunk:
                break
            remaining -= len(chunk)
    except TimeoutError:
        if status is None:
            error = f"No answer within {timeout} s."
    except ssl.SSLError as failure:
        error = f"TLS failed: {failure}"
    except (OSError, http.client.HTTPException) as failure:
        if status is None:
            error = (
                f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
            )
    finally:
        if connection is not None:
            connection.close()
    duration_ms = int((time.monotonic() - started) * 1000)
    if status is not None and not 200 <= status < 300:
        error = (
            f"HTTP {status} (redirects are not followed)"
            if 300 <= status < 400
            else f"HTTP {status}"
        )
    return Outcome(status_code=status, error=error, duration_ms=duration_ms)
