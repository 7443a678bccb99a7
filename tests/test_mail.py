"""Mail through a real SMTP server (aiosmtpd, in-process): an invitation and a password reset
end to end, from the request that causes the message to the link in the delivered message.
And a mail server that is down never fails the request.

Here background tasks run at once in the test's process (tests/conftest.py); the worker as a
real process, retries and a killed worker: tests/background/."""

import datetime as dt
import email
import email.policy
import logging
import re

import pytest
from aiosmtpd.controller import Controller

from accounts.models import User
from ledger import mail, services
from ledger.background.models import OutboundMail
from ledger.models import Invitation, Membership
from tests.api.conftest import client_for
from tests.factories import UserFactory
from tests.ops.helpers import production_env, settings_of
from tests.ops.servers import free_port

NEW_PASSWORD = "a-much-longer-passphrase-2026"
SITE = "https://ledger.example.org"


class Inbox:
    """An aiosmtpd handler keeping every delivered message."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"

    def only(self):
        assert len(self.messages) == 1, self.messages
        return self.messages[0]


def smtp_settings(settings, port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.LEDGER_SITE_URL = SITE


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free local port; the app's email settings point at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    smtp_settings(settings, port)
    yield inbox
    controller.stop()


@pytest.fixture
def dead_smtp(settings):
    """Email settings pointing at a port where nothing listens."""
    smtp_settings(settings, free_port())


def link_in(message) -> str:
    """The path of the site link in a delivered message's text."""
    match = re.search(re.escape(SITE) + r"(/\S+/)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


@pytest.mark.django_db
def test_invitation_through_a_real_smtp_server(
    smtp, client, admin, program, django_capture_on_commit_callbacks
):
    manager = UserFactory(username="manager1")
    services.grant_role(actor=admin, program=program, user=manager, role="manager")
    api = client_for(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/programs/{program.pk}/invitations/",
            {"email": "nia@example.org", "display_name": "Nia", "role": "reviewer"},
            format="json",
        )
    assert response.status_code == 201, response.content

    recipients, message = smtp.only()
    assert recipients == ["nia@example.org"]
    assert message["To"] == "nia@example.org"
    assert program.name in message["Subject"]
    assert "reviewer" in message.get_content()
    path = link_in(message)
    assert path.startswith("/invitations/")

    # The invitee opens the link, creates a login and joins as a reviewer.
    page = client.get(path)
    assert page.status_code == 200 and program.name in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        joined = client.post(
            path,
            {
                "step": "sign_up",
                "new-username": "nia",
                "new-email": "nia@example.org",
                "new-display_name": "Nia",
                "new-password1": NEW_PASSWORD,
                "new-password2": NEW_PASSWORD,
            },
        )
    assert joined.status_code == 302, joined.content.decode()[:2000]
    nia = User.objects.get(username="nia")
    assert program.staff_roles.filter(user=nia, role="reviewer").exists()
    assert Invitation.objects.get().accepted_by == nia
    assert client.get(path).status_code == 410  # used once
    # One more message: the manager is told the invitation was accepted (ledger.notifications).
    assert len(smtp.messages) == 2
    recipients, told = smtp.messages[1]
    assert recipients == [manager.email]
    assert "accepted your invitation" in told["Subject"]


@pytest.mark.django_db
def test_password_reset_through_a_real_smtp_server(
    smtp, client, artist, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/password/reset/", {"email": artist.email})
    assert response.status_code == 302 and response.url == "/password/reset/sent/"
    recipients, message = smtp.only()
    assert recipients == [artist.email]
    path = link_in(message)

    form = client.get(path, follow=True)  # Django moves the token out of the address
    assert b"Choose a new password" in form.content
    set_password = form.redirect_chain[-1][0]
    done = client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == "/password/reset/done/"
    artist.refresh_from_db()
    assert artist.check_password(NEW_PASSWORD)
    assert client.get(path, follow=True).context["validlink"] is False  # used once


@pytest.mark.django_db
def test_a_dead_mail_server_does_not_fail_the_request(
    dead_smtp, client, admin, program, caplog, django_capture_on_commit_callbacks
):
    api = client_for(admin)
    with caplog.at_level(logging.WARNING, logger="ledger.mail"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = api.post(
                f"/api/v1/programs/{program.pk}/invitations/",
                {"email": "nia@example.org"},
                format="json",
            )
        assert response.status_code == 201, response.content
        assert len(callbacks) == 1  # the delivery ran, and failed
        assert Invitation.objects.filter(email="nia@example.org", status="pending").exists()

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/password/reset/", {"email": program.created_by.email})
        assert response.status_code == 302

        client.force_login(admin)  # the invitations page, too
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/programs/{program.pk}/invitations/", {"email": "bo@example.org"}
            )
        assert response.status_code == 302
        assert Invitation.objects.filter(email="bo@example.org").exists()
    failures = [r for r in caplog.records if r.name == "ledger.mail"]
    assert len(failures) == 3
    assert all("was not sent" in r.getMessage() for r in failures)
    assert not any("/invitations/" in r.getMessage() for r in failures)  # no secret logged
    # Each message waits in the outbox for its next attempt, a minute later.
    waiting = OutboundMail.objects.order_by("id")
    assert [(m.recipient, m.status, m.attempts) for m in waiting] == [
        ("nia@example.org", "pending", 1),
        (program.created_by.email, "pending", 1),
        ("bo@example.org", "pending", 1),
    ]
    assert all(m.next_attempt_at - m.created_at >= dt.timedelta(minutes=1) for m in waiting)
    assert all("Connection refused" in m.last_error for m in waiting)


@pytest.mark.django_db(transaction=True)
def test_committed_for_real_then_mailed(smtp, admin, program, artist2):
    """Without the test's wrapping transaction: the message goes out when the service's own
    transaction commits, and the link in it works."""
    invitation = services.invite(actor=admin, program=program, email="real@example.org")
    _, message = smtp.only()
    assert invitation.secret in link_in(message)
    person = UserFactory(username="real")
    services.accept_invitation(token=invitation.secret, user=person)
    assert Membership.objects.filter(program=program, artist=person).exists()


def test_deliver_reports_failure(dead_smtp, caplog):
    with (
        caplog.at_level(logging.WARNING, logger="ledger.mail"),
        pytest.raises(mail.NotSent) as raised,
    ):
        mail.deliver(to="x@example.org", subject="s", body="secret link")
    assert "Connection refused" in str(raised.value)
    assert "secret link" not in caplog.text and "secret link" not in str(raised.value)


def test_email_settings_come_from_the_environment():
    names = [
        "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS", "EMAIL_USE_SSL", "DEFAULT_FROM_EMAIL", "LEDGER_SITE_URL",
    ]  # fmt: skip
    default = settings_of(production_env(), names)
    assert default["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert (default["EMAIL_PORT"], default["EMAIL_USE_TLS"], default["EMAIL_USE_SSL"]) == (
        25,
        False,
        False,
    )
    assert default["LEDGER_SITE_URL"] == "http://127.0.0.1:8000"
    smtp = settings_of(
        production_env(
            EMAIL_HOST="smtp.example.org",
            EMAIL_PORT="587",
            EMAIL_HOST_USER="ledger",
            EMAIL_HOST_PASSWORD="pw",
            EMAIL_USE_TLS="true",
            DEFAULT_FROM_EMAIL="Ledger <ledger@example.org>",
            LEDGER_SITE_URL="https://ledger.example.org/",
        ),
        names,
    )
    assert smtp == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "ledger",
        "EMAIL_HOST_PASSWORD": "pw",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "DEFAULT_FROM_EMAIL": "Ledger <ledger@example.org>",
        "LEDGER_SITE_URL": "https://ledger.example.org",
    }
