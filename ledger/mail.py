"""Mail: the one place the application sends a message from.

Every message (invitations, password resets, notifications) goes through `send`, which writes
it to the outbox (`ledger.background.models.OutboundMail`) in the caller's transaction and asks
the background worker to deliver it once that transaction commits. So a rolled-back change
sends nothing, a committed one is never lost (the row is the promise, whatever happens to the
queue), and no request ever talks to the mail server: one that is down, refuses or hangs
neither fails nor slows the request whose change the message reports. The worker hands the
message to Django's email backend through `deliver`, and retries with growing delays for about
a day (`ledger/background/outbox.py`, docs/OPERATIONS.md).

The backend is the console in development and SMTP when `EMAIL_HOST` is set (settings.py).
Links in messages start with `LEDGER_SITE_URL`, never the request's Host header.
"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

logger = logging.getLogger("ledger.mail")


class NotSent(Exception):
    """The mail server did not take the message (down, refusing, timed out); the text says why,
    never what the message held."""


def site_url(path: str) -> str:
    """The absolute address of a path of this site, for links in mail."""
    return settings.LEDGER_SITE_URL + path


def render(template_name: str, context: dict) -> tuple[str, str]:
    """(subject, body) from a text template whose first line is the subject."""
    text = render_to_string(template_name, context)
    subject, _, body = text.lstrip().partition("\n")
    # One line whatever the context held (a header with a newline is refused by Django).
    return " ".join(subject.split()), body.strip() + "\n"


def send(*, to: str, subject: str, body: str) -> None:
    """Send a plain-text message to `to` once the current transaction commits (at once when
    none is open), through the outbox and the background worker. The single place mail is
    sent from: keep it so."""
    from ledger.background import outbox  # the outbox's models load after this module

    outbox.queue(to=to, subject=subject, body=body)


def deliver(*, to: str, subject: str, body: str) -> None:
    """Hand one message to the email backend now; `NotSent` (logged) when the server failed.

    Called by the background worker (`ledger.background.outbox.deliver`), never by a request.
    A dead, refusing or hanging SMTP server (at most `EMAIL_TIMEOUT` seconds per step) is an
    expected outcome here: the worker retries later.
    """
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        # The body holds single-use links: never logged.
        logger.warning("Mail %r to %s was not sent: %s", subject, to, error)
        raise NotSent(f"{type(error).__name__}: {error}") from error
