"""The SSRF guard: https only, no user info, and no host resolving to anything but public
addresses, at subscription (400 naming `url`) and again at every delivery (a refused attempt
in the log); the delivery connects to the address checked, never resolving the name again."""

import socket

import pytest

from ledger import services
from ledger.errors import ValidationFailed
from ledger.webhooks import delivery, guard, http
from ledger.webhooks.models import WebhookAttempt
from tests.conftest import log_feedback

pytestmark = pytest.mark.django_db

REFUSED_ADDRESSES = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "metadata",
    "169.254.1.1": "link-local",
    "100.64.0.1": "shared",
    "100.100.100.200": "metadata",
    "0.0.0.0": "unspecified",  # noqa: S104 (a URL refused, not a socket bound)
    "224.0.0.1": "multicast",
    "240.0.0.1": "reserved",
    "192.0.2.10": "private",  # documentation (TEST-NET-1)
    "[::1]": "loopback",
    "[::]": "unspecified",
    "[fe80::1]": "link-local",
    "[fc00::1]": "private",
    "[fd00:ec2::254]": "metadata",
    "[ff02::1]": "multicast",
    "[::ffff:127.0.0.1]": "loopback",  # IPv4-mapped
    "[::ffff:10.0.0.1]": "private",
    "[::ffff:169.254.169.254]": "metadata",
    "[64:ff9b::a00:1]": "private",  # NAT64 of 10.0.0.1
    "[2002:a00:1::1]": "private",  # 6to4 of 10.0.0.1
}


@pytest.mark.parametrize(("host", "kind"), REFUSED_ADDRESSES.items())
def test_every_non_public_address_is_refused(settings, host, kind):
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = False
    with pytest.raises(guard.Refused, match=kind.split("-")[0]):
        guard.check_url(f"https://{host}/hook")


def test_public_addresses_pass_and_the_target_is_the_checked_address(settings):
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = False
    target = guard.check_url("https://93.184.215.14:8443/hook?x=1#frag")
    assert target == guard.Target("https", "93.184.215.14", 8443, "/hook?x=1", "93.184.215.14")
    assert guard.check_url("https://[2606:4700::1111]/").address == "2606:4700::1111"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://93.184.215.14/hook", "https"),
        ("ftp://93.184.215.14/hook", "https"),
        ("https://user:pass@93.184.215.14/hook", "user name"),
        ("https://user@93.184.215.14/hook", "user name"),
        ("https:///hook", "host"),
        ("https://93.184.215.14:99999/", "valid"),
        ("https://localhost/hook", "loopback"),
        ("https://no-such-host.invalid/hook", "cannot be resolved"),
    ],
)
def test_urls_refused_without_the_insecure_setting(settings, url, why):
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = False
    with pytest.raises(guard.Refused, match=why):
        guard.check_url(url)


def test_the_insecure_setting_allows_http_and_local_addresses_but_never_user_info(settings):
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = True
    assert guard.check_url("http://127.0.0.1:8080/x").address == "127.0.0.1"
    assert guard.check_url("https://10.0.0.1/x").address == "10.0.0.1"
    with pytest.raises(guard.Refused, match="user name"):
        guard.check_url("http://a:b@127.0.0.1/x")
    with pytest.raises(guard.Refused):
        guard.check_url("file:///etc/passwd")


def fake_dns(monkeypatch, answers: dict):
    """Name resolution answering `answers` (host → addresses); IP literals as usual. DNS is
    the outside world here, not the database: replaced so a test decides what a name says."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(guard.socket, "getaddrinfo", getaddrinfo)


def test_a_host_with_any_private_address_is_refused(settings, monkeypatch):
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = False
    fake_dns(monkeypatch, {"mixed.example": ["93.184.215.14", "10.0.0.7"]})
    with pytest.raises(guard.Refused, match=r"10\.0\.0\.7, a private address"):
        guard.check_url("https://mixed.example/hook")


def test_subscribing_a_private_host_is_a_400_naming_url(settings, monkeypatch, admin, program):
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = False
    fake_dns(monkeypatch, {"internal.example": ["192.168.0.5"]})
    with pytest.raises(ValidationFailed) as refused:
        services.create_subscription(
            actor=admin, program=program, url="https://internal.example/h", events=["payout.paid"]
        )
    assert refused.value.field == "url" and "private" in refused.value.message


def test_dns_rebinding_after_subscribing_is_refused_at_delivery(
    settings, monkeypatch, admin, artist, program, receiver
):
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = False
    answers = {"rebind.example": ["93.184.215.14"]}
    fake_dns(monkeypatch, answers)
    subscription = services.create_subscription(
        actor=admin,
        program=program,
        url=f"https://rebind.example:{receiver.port}/hooks",
        events=["contribution.submitted"],
    )
    answers["rebind.example"] = ["127.0.0.1"]  # the name now points inside
    log_feedback(program, artist)
    assert delivery.deliver_subscription(subscription.pk) == "waiting"
    (attempt,) = WebhookAttempt.objects.all()
    assert attempt.status_code is None
    assert attempt.error == (
        "Refused: The host rebind.example resolves to 127.0.0.1, a loopback address."
    )
    assert receiver.received == []


def test_the_connection_goes_to_the_checked_address_with_the_original_host(receiver):
    """No second lookup: the name need not resolve at all once checked, and is still the
    Host the receiver sees."""
    target = guard.Target("http", "hooks.example", receiver.port, "/hooks", "127.0.0.1")
    outcome = http.post(target, b"{}", {"webhook-id": "msg_x"})
    assert (outcome.status_code, outcome.error) == (204, "")
    (request,) = receiver.received
    assert request.headers["host"] == f"hooks.example:{receiver.port}"
    assert request.headers["webhook-id"] == "msg_x"


def test_redirects_are_failures_and_slow_receivers_time_out(settings, receiver):
    target = guard.Target("http", "127.0.0.1", receiver.port, "/hooks", "127.0.0.1")
    receiver.status = 302
    outcome = http.post(target, b"{}", {})
    assert not outcome.ok and outcome.error == "HTTP 302 (redirects are not followed)"
    settings.LEDGER_WEBHOOKS_TIMEOUT_SECONDS = 0.5
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        outcome = http.post(guard.Target("http", "127.0.0.1", port, "/", "127.0.0.1"), b"{}", {})
    assert outcome.status_code is None and outcome.error == "No answer within 0.5 s."
    assert 400 <= outcome.duration_ms < 2000
