"""Mail: the one place the application sends a message from.

Every message (invitations, password resets) goes through `send`, which hands it to Django's
email backend after the transaction that caused it commits: a rolled-back change sends
nothing, and a mail server that is down, refuses or times out is logged and never fails the
request whose change it reports. When background tasks arrive, `send` enqueues the delivery
for the worker instead; callers do not change.

The backend is the console in development and SMTP when `EMAIL_HOST` is set (settings.py).
Links in messages start with `LEDGER_SITE_URL`, never the request's Host header.
"""

import functools
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger("ledger.mail")


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
    none is open). The single place mail is sent from: keep it so."""
    transaction.on_commit(
        functools.partial(deliver, to=to, subject=subject, body=body), robust=True
    )


def deliver(*, to: str, subject: str, body: str) -> bool:
    """Hand one message to the email backend now; False (logged) when the server failed.

    Called by `send` after commit. A dead or refusing SMTP server is an expected outcome
    here, not an error of the request that caused the message.
    """
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        # The body holds single-use links: never logged.
        logger.warning("Mail %r to %s was not sent: %s", subject, to, error)
        return False
    return True
