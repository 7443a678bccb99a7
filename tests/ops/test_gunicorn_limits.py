"""What gunicorn (with gunicorn.conf.py) answers to requests it or the app will not read:
oversized or malformed headers get a short plain-text answer; a chunked body gets 411."""

import json
import socket

import pytest

from tests.ops.helpers import manage, production_env
from tests.ops.servers import gunicorn


def raw(base, data: bytes) -> tuple[int, dict[str, str], str]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        decoded = b""
        while True:
            size, _, body = body.partition(b"\r\n")
            if not int(size, 16):
                break
            decoded, body = decoded + body[: int(size, 16)], body[int(size, 16) + 2 :]
        body = decoded
    return int(lines[0].split()[1]), headers, body.decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("limits") / "db.sqlite3"
    env = production_env(DATABASE_URL=f"sqlite:///{database}", DJANGO_SECURE_SSL_REDIRECT="false")
    migrated = manage("migrate", "--noinput", env=env, timeout=180)
    assert migrated.returncode == 0, migrated.stderr
    with gunicorn(env) as base:
        yield base


def assert_plain(headers, body):
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert "<" not in body and len(body) < 200, body


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-%d: 1\r\n" % n for n in range(120))
            + b"\r\n",
            431,
        ),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: <script>\r\n\r\n", 400),
        (b"<script>alert(1)</script>\r\n\r\n", 400),
    ],
    ids=["long-header", "too-many-headers", "long-line", "bad-header-name", "bad-line"],
)
def test_refused_headers_get_a_short_plain_answer(server, request_bytes, expected):
    status, headers, body = raw(server, request_bytes)
    assert status == expected
    assert_plain(headers, body)
    assert body.startswith(str(expected))
    assert "script" not in body  # nothing of the request is echoed


CHUNKED = (
    "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    '1a\r\n{{"username": "a", "pass\r\n0\r\n\r\n'
)


def test_a_chunked_api_body_is_refused_with_411_problem(server):
    status, headers, body = raw(server, CHUNKED.format(path="/api/v1/auth/tokens/").encode())
    assert status == 411
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 411 and problem["code"] == "length_required"
    assert "Content-Length" in problem["detail"]


def test_a_chunked_page_body_is_refused_with_411(server):
    status, headers, body = raw(server, CHUNKED.format(path="/login/").encode())
    assert status == 411
    assert_plain(headers, body)


def test_a_body_with_a_length_still_reaches_the_app(server):
    body = b'{"username": "nobody", "password": "wrong"}'
    status, _, answer = raw(
        server,
        b"POST /api/v1/auth/tokens/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
    )
    assert status == 401 and json.loads(answer)["code"] == "authentication_failed"
