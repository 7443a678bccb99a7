"""gunicorn's sync worker, answering the requests gunicorn itself refuses with short plain text.

A request line or headers that are oversized or malformed (400, 414, 431, ...) never reach
the app: gunicorn answers them itself, as a small HTML page that quotes part of the refused
request. It has no setting or hook for that answer; its one writer is `gunicorn.util.write_error`,
so this worker puts a plain-text writer in its place, in its own process only. gunicorn still
picks the status and logs the reason (with the request's detail) as before.
"""

from gunicorn import util
from gunicorn.workers.sync import SyncWorker


def write_plain_error(sock, status_int, reason, mesg):
    """`util.write_error`'s signature; `mesg` (which may quote the request) is only logged."""
    body = f"{status_int} {reason}\n".encode("latin-1")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    util.write_nonblock(sock, head + body)


class PlainErrorWorker(SyncWorker):
    def init_process(self):
        util.write_error = write_plain_error  # in this forked worker process only
        super().init_process()  # last: it runs the worker's loop
